//! An exclusive advisory lock beside a file, `FILE.lock`, held with
//! `flock(2)`: the kernel releases it when the holder exits in any way
//! (kill -9 included), so a lock can never go stale. The lock file records
//! the holder's pid and host for the message a waiter sees, and is removed
//! on release; a waiter that finds it was removed or replaced under it
//! takes the new one instead (the inode is checked after locking).

use crate::error::{Error, Result};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A held lock; released (and its file removed) when dropped.
pub struct Lock {
    /// Held open for the lock's lifetime: closing it releases the flock.
    _file: std::fs::File,
    path: PathBuf,
}

impl Lock {
    /// Take the lock of `target` (symlinks followed), waiting at most `wait`.
    pub fn take(target: &Path, wait: Duration) -> Result<Lock> {
        let real = super::write::resolve_links(target)?;
        let path = PathBuf::from(format!("{}.lock", real.display()));
        let start = Instant::now();
        loop {
            let mut file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| Error::io(&path, e))?;
            if try_lock(&file).map_err(|e| Error::io(&path, e))? {
                if same_file(&file, &path) {
                    let _ = file.set_len(0);
                    let _ = writeln!(file, "pid {} host {}", std::process::id(), host());
                    return Ok(Lock { _file: file, path });
                }
                continue; // released and removed while we waited: retry
            }
            if start.elapsed() >= wait {
                let mut holder = String::new();
                let _ = file.rewind();
                let _ = (&file).take(200).read_to_string(&mut holder);
                return Err(Error::input(
                    path.display().to_string(),
                    format!(
                        "held by another running append ({}) for more than {wait:?}: try again when it has finished",
                        holder.trim()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        // remove while still holding it; closing `file` then releases it
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(unix)]
fn try_lock(f: &std::fs::File) -> std::io::Result<bool> {
    use std::os::fd::AsRawFd;
    // SAFETY: flock on a file descriptor this process owns.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r == 0 {
        return Ok(true);
    }
    let e = std::io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => Ok(false),
        _ => Err(e),
    }
}

#[cfg(not(unix))]
fn try_lock(f: &std::fs::File) -> std::io::Result<bool> {
    f.try_lock().map(|_| true).or_else(|e| match e {
        std::fs::TryLockError::WouldBlock => Ok(false),
        std::fs::TryLockError::Error(e) => Err(e),
    })
}

/// Whether the open file is still the one at `path`.
#[cfg(unix)]
fn same_file(f: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (f.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => (a.dev(), a.ino()) == (b.dev(), b.ino()),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_f: &std::fs::File, path: &Path) -> bool {
    path.exists()
}

fn host() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the buffer is valid for its length; the name is cut there.
        if unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0 {
            let n = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
            return String::from_utf8_lossy(&buf[..n]).to_string();
        }
    }
    "?".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_waits_then_names_the_holder() {
        let d = tempfile::tempdir().unwrap();
        let t = d.path().join("data.csv");
        let held = Lock::take(&t, Duration::ZERO).unwrap();
        let e = Lock::take(&t, Duration::from_millis(30)).err().unwrap();
        let msg = e.to_string();
        assert!(
            msg.contains("data.csv.lock") && msg.contains(&format!("pid {}", std::process::id())),
            "{msg}"
        );
        drop(held);
        assert!(!d.path().join("data.csv.lock").exists());
        // a lock file left behind by a killed holder does not block
        std::fs::write(d.path().join("data.csv.lock"), "pid 1 host gone\n").unwrap();
        assert!(Lock::take(&t, Duration::ZERO).is_ok());
    }
}
