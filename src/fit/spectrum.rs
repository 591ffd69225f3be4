//! Amplitude spectrum of a trace for precession start values.
//!
//! Stage scans are often uneven, so the trace is linearly interpolated onto
//! a uniform grid (step = the median delay step), its mean removed (no
//! taper: a damped signal lives at early delays, which a window would
//! suppress), zero-padded to 8x the next power of two, and transformed
//! with rustfft. Angular frequency of bin k: omega_k = 2 pi k / (N dt), in
//! rad/ns for dt in ps times 1000.

use rustfft::{FftPlanner, num_complex::Complex};
use std::cell::RefCell;

thread_local! {
    /// One planner per thread: rustfft keeps each length's plan (twiddles,
    /// Bluestein set-up for a prime length) so a session pays for it once.
    static PLANNER: RefCell<FftPlanner<f64>> = RefCell::new(FftPlanner::new());
}

/// The forward DFT of `buf` in place, X_k = sum_j x_j exp(-2 pi i j k / N).
pub fn fft_forward(buf: &mut [Complex<f64>]) {
    let plan = PLANNER.with(|p| p.borrow_mut().plan_fft_forward(buf.len()));
    plan.process(buf);
}

/// Amplitude spectrum |F(omega)| on a grid of angular frequencies (rad/ns).
#[derive(Debug, Clone, PartialEq)]
pub struct Spectrum {
    pub omega: Vec<f64>,
    pub amplitude: Vec<f64>,
    /// Frequency resolution of the data, 2 pi / span (rad/ns).
    pub resolution: f64,
}

fn median_step(t: &[f64]) -> f64 {
    let mut d: Vec<f64> = t
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .collect();
    d.sort_by(f64::total_cmp);
    d.get(d.len() / 2).copied().unwrap_or(1.0)
}

/// Linear interpolation of (t, y) at `x` (t sorted ascending).
pub fn interp(t: &[f64], y: &[f64], x: f64) -> f64 {
    let k = t.partition_point(|v| *v < x).clamp(1, t.len() - 1);
    let (t0, t1) = (t[k - 1], t[k]);
    let w = if t1 > t0 { (x - t0) / (t1 - t0) } else { 0.0 };
    y[k - 1] + w.clamp(0.0, 1.0) * (y[k] - y[k - 1])
}

/// Spectrum of `y(t)`, `t` in ps ascending (at least 4 points).
pub fn spectrum(t: &[f64], y: &[f64]) -> Spectrum {
    let dt = median_step(t);
    let span = t[t.len() - 1] - t[0];
    let n = ((span / dt).round() as usize + 1).clamp(4, 1 << 16);
    let dt = span / (n - 1) as f64;
    let grid: Vec<f64> = (0..n).map(|i| interp(t, y, t[0] + i as f64 * dt)).collect();
    let mean = grid.iter().sum::<f64>() / n as f64;
    let nfft = (n.next_power_of_two() * 8).min(1 << 20);
    let mut buf = vec![Complex::new(0.0, 0.0); nfft];
    for (b, v) in buf.iter_mut().zip(&grid) {
        b.re = v - mean;
    }
    fft_forward(&mut buf);
    let half = nfft / 2;
    let scale = 2.0 * std::f64::consts::PI / (nfft as f64 * dt) * 1000.0;
    Spectrum {
        omega: (0..half).map(|k| k as f64 * scale).collect(),
        amplitude: buf[..half]
            .iter()
            .map(|c| c.norm() * 2.0 / n as f64)
            .collect(),
        resolution: 2.0 * std::f64::consts::PI / span * 1000.0,
    }
}

impl Spectrum {
    /// Local maxima above `min_omega`, highest first, as (omega, amplitude).
    pub fn peaks(&self, min_omega: f64) -> Vec<(f64, f64)> {
        let a = &self.amplitude;
        let mut p: Vec<(f64, f64)> = (1..a.len().saturating_sub(1))
            .filter(|&k| self.omega[k] >= min_omega && a[k] > a[k - 1] && a[k] >= a[k + 1])
            .map(|k| (self.omega[k], a[k]))
            .collect();
        p.sort_by(|x, y| y.1.total_cmp(&x.1));
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_two_frequencies_on_an_uneven_grid() {
        // synthetic: uneven stage-like grid, omega 58.5 and 26.5 rad/ns
        let t: Vec<f64> = (0..500)
            .map(|i| i as f64 * 4.0 + 1.3 * ((i * 7) % 5) as f64 / 5.0)
            .collect();
        let y: Vec<f64> = t
            .iter()
            .map(|&t| {
                (58.5e-3 * t).cos() * (-t / 600.0).exp()
                    + 0.7 * (26.5e-3 * t).cos() * (-t / 800.0).exp()
            })
            .collect();
        let s = spectrum(&t, &y);
        let p = s.peaks(s.resolution);
        let mut top: Vec<f64> = p.iter().take(2).map(|x| x.0).collect();
        top.sort_by(f64::total_cmp);
        assert!(
            (top[0] - 26.5).abs() < 0.5 && (top[1] - 58.5).abs() < 0.5,
            "{top:?}"
        );
    }
}
