//! Progress of long work as plain lines, for where no progress bar can be
//! drawn (a log file, a batch job, a notebook): one line every [`EVERY_S`]
//! seconds with the count, the share done and the time left (elapsed
//! times the ratio of steps left to steps done), none for work shorter
//! than that. Thread-safe: steps may come from rayon's workers.

/// Seconds between progress lines.
pub const EVERY_S: f64 = 5.0;

/// Steps of one piece of work, and when the last line was given.
pub struct Lines {
    len: usize,
    what: String,
    done: std::sync::atomic::AtomicUsize,
    start: std::time::Instant,
    /// Seconds after `start` of the last line printed.
    last: std::sync::Mutex<f64>,
}

impl Lines {
    pub fn new(len: usize, what: &str) -> Lines {
        Lines {
            len,
            what: what.to_string(),
            done: 0.into(),
            start: std::time::Instant::now(),
            last: std::sync::Mutex::new(0.0),
        }
    }

    /// The line after `done` of `len` steps in `t` seconds, if one is due.
    pub fn line(&self, done: usize, t: f64) -> Option<String> {
        let mut last = self.last.lock().ok()?;
        if t - *last < EVERY_S {
            return None;
        }
        *last = t;
        let left = if done > 0 && done < self.len {
            format!(
                ", about {:.0} s left",
                t * (self.len - done) as f64 / done as f64
            )
        } else {
            String::new()
        };
        Some(format!(
            "spinfit: {done}/{} {} ({:.0} %) after {t:.0} s{left}",
            self.len,
            self.what,
            100.0 * done as f64 / self.len.max(1) as f64
        ))
    }
}

impl Lines {
    /// Count `n` more steps done; the line to print, if one is due.
    pub fn step(&self, n: usize) -> Option<String> {
        let done = self.done.fetch_add(n, std::sync::atomic::Ordering::Relaxed) + n;
        self.line(done, self.start.elapsed().as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_lines_come_every_few_seconds_with_counts_and_time_left() {
        let l = Lines::new(200, "scans");
        assert_eq!(l.line(10, 1.0), None, "short work prints nothing");
        let first = l.line(50, 5.6).unwrap();
        assert_eq!(
            first,
            "spinfit: 50/200 scans (25 %) after 6 s, about 17 s left"
        );
        assert_eq!(l.line(60, 7.0), None, "not again within 5 s");
        assert!(
            l.line(200, 11.0)
                .unwrap()
                .starts_with("spinfit: 200/200 scans (100 %)")
        );
    }
}
