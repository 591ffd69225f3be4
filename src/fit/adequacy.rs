//! Is the model adequate? Tests of the residuals for structure the model
//! left behind, run after every fit.
//!
//! The residuals r_i = f(t_i) - y_i (divided by sigma_i when per-point
//! errors are known), in delay order, should be white noise. Three tests:
//!
//! - Ljung-Box: Q = n (n + 2) sum_{k=1}^{h} rho_k^2 / (n - k) over the first
//!   h = min(20, n / 5) autocorrelations rho_k; under white noise Q follows
//!   chi^2 with h degrees of freedom.
//! - Wald-Wolfowitz runs test on the signs: R runs among n+ positive and n-
//!   negative residuals, E[R] = 2 n+ n- / n + 1,
//!   Var[R] = 2 n+ n- (2 n+ n- - n) / (n^2 (n - 1)); too few runs (a one-sided
//!   normal p-value) means the fit sits above or below the data in stretches.
//! - Residual periodogram (precession only): P(omega_k) = |sum r_i exp(-i
//!   omega_k t_i)|^2 / (n s^2) at the independent frequencies omega_k =
//!   2 pi k / span, k = 1..M, M = n / 2. Under white noise each P is
//!   exponential with mean 1, so the largest of M exceeds x with
//!   probability 1 - (1 - e^-x)^M (Schuster's / Fisher's test with known
//!   variance). A significant peak names what is left, e.g. "residual
//!   oscillation at 8.6 rad/ns".
//!
//! A fit fails when any test's p-value is below alpha (default 1e-3: real
//! scans are judged, not nitpicked).
//!
//! Beside the p-values, the size of what is left: a test on 2000 points
//! finds a 0.5 % systematic that changes no number. The noise variance
//! s_n^2 is the mean of sigma_i^2 when per-point errors are known (the
//! sweep-to-sweep scatter), else the lower of two estimates, each raised
//! by one kind of structure only: the noise floor of the residual
//! periodogram, mean P_k over the ordinates below their 90th percentile
//! divided by E[X | X < x_0.9] = 0.7442 for an exponential variable (a few
//! lines or a slow trend barely move it; broadband correlated residuals
//! do), and von Neumann's successive differences, sum (r_{i+1} - r_i)^2 /
//! (2 (n - 1)) (slow structure barely moves it; fast lines do). The systematic part is
//! s_sys = sqrt(max(0, var(r) - s_n^2)), its size s_sys / A with A = (max -
//! min) / 2 of the fitted model, and a residual line's amplitude
//! 2 |sum r_i exp(-i omega t_i)| / n at the periodogram peak. A failed test
//! whose size is below [`SMALL_SYSTEMATIC`] is "small but present": the
//! fit is adequate, and says what it left.

use super::fastmath::{dot, rotate, sin_cos_slice};
use super::spectrum::fft_forward;
use rustfft::num_complex::Complex;
use statrs::distribution::{ChiSquared, ContinuousCDF, Normal};

/// One residual test.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ResidualTest {
    pub name: &'static str,
    pub statistic: f64,
    pub p_value: f64,
    pub passed: bool,
}

/// Systematic residual RMS, as a fraction of the signal amplitude, below
/// which a failed residual test is "small but present" (1 %).
pub const SMALL_SYSTEMATIC: f64 = 0.01;

/// E[X | X < x_q] = (1 - (1 + x_q) e^{-x_q}) / q of a unit exponential
/// variable, x_q = -ln(1 - q): the mean of the periodogram ordinates below
/// their q-quantile under white noise, as a fraction of their mean.
fn trimmed_exp_mean(q: f64) -> f64 {
    let x = -(1.0 - q).ln();
    (1.0 - (1.0 + x) * (-x).exp()) / q
}

/// The verdict in one word: `adequate` (every test passed), `small` (a
/// test failed but what is left is below [`SMALL_SYSTEMATIC`] of the
/// signal) or `inadequate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Adequate,
    Small,
    Inadequate,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Adequate => "adequate",
            Level::Small => "small",
            Level::Inadequate => "inadequate",
        }
    }
}

/// The verdict on a fit's residuals.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Adequacy {
    /// No test failed, or what is left is small ([`Level`]).
    pub adequate: bool,
    pub level: Level,
    pub alpha: f64,
    pub tests: Vec<ResidualTest>,
    /// What is left in the residuals, in words ("" when every test passed).
    pub verdict: String,
    /// Angular frequency (rad/ns) of the largest residual periodogram peak.
    pub peak_omega: Option<f64>,
    /// Systematic residual RMS / signal amplitude (see the module docs),
    /// measured when a test failed.
    pub size: Option<f64>,
    /// Amplitude of the residual line at `peak_omega`, signal units.
    pub line_amplitude: Option<f64>,
    /// Where the noise level came from: "sweep scatter" (per-point errors),
    /// "periodogram floor" or "successive differences" ("" when not
    /// measured).
    pub noise_from: &'static str,
}

impl Adequacy {
    fn untested(alpha: f64, why: &str) -> Adequacy {
        Adequacy {
            adequate: true,
            level: Level::Adequate,
            alpha,
            tests: vec![],
            verdict: why.to_string(),
            peak_omega: None,
            size: None,
            line_amplitude: None,
            noise_from: "",
        }
    }
    /// The warning a failed fit carries (None when adequate).
    pub fn warning(&self) -> Option<String> {
        (!self.adequate).then(|| format!("model inadequate: {}", self.verdict))
    }
    /// What is left and how big, without the level: "" when every test
    /// passed.
    pub fn detail(&self) -> String {
        if self.level == Level::Adequate {
            return String::new();
        }
        let size = self.size.map_or(String::new(), |s| {
            format!(
                "; left: {:.2} % of the signal (noise from the {})",
                100.0 * s,
                self.noise_from
            )
        });
        format!("{}{size}", self.verdict)
    }
    /// The verdict with its size, for reports: "" when every test passed.
    pub fn summary(&self) -> String {
        match self.level {
            Level::Adequate => String::new(),
            Level::Small => format!("small but present: {}", self.detail()),
            Level::Inadequate => format!("model inadequate: {}", self.detail()),
        }
    }
}

/// Noise variance from the power spectrum of the residuals ([`power_spectrum`]):
/// the trimmed mean of its ordinates (module docs).
fn periodogram_floor(power: &[f64]) -> f64 {
    if power.is_empty() {
        return f64::NAN;
    }
    let mut p = power.to_vec();
    p.sort_by(f64::total_cmp);
    let q = 0.9;
    let k = ((p.len() as f64 * q).ceil() as usize).clamp(1, p.len());
    p[..k].iter().sum::<f64>() / k as f64 / trimmed_exp_mean(q)
}

/// The noise variance of `residual` and where it came from: the mean
/// sigma^2, or the lower of the periodogram floor (from `power`, the
/// residuals' spectrum) and the successive differences. Each of the two is
/// raised by one kind of structure (the floor by broadband, correlated
/// residuals; the differences by fast lines): the lower is the noise.
fn noise_level(residual: &[f64], sigma: Option<&[f64]>, power: &[f64]) -> (f64, &'static str) {
    if let Some(s) = sigma {
        return (
            s.iter().map(|v| v * v).sum::<f64>() / s.len() as f64,
            "sweep scatter",
        );
    }
    let floor = periodogram_floor(power);
    let diff = crate::preprocess::successive_difference_variance(residual);
    if diff < floor {
        (diff, "successive differences")
    } else {
        (floor, "periodogram floor")
    }
}

/// Size of what the fit left: systematic RMS over the model's half range
/// (with the noise variance `noise`), and the residual line's amplitude at
/// `omega` (rad/ns).
fn left_over(
    t: &[f64],
    residual: &[f64],
    model: &[f64],
    noise: f64,
    omega: Option<f64>,
) -> (Option<f64>, Option<f64>) {
    let n = residual.len() as f64;
    let mean = residual.iter().sum::<f64>() / n;
    let var = residual.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
    let (lo, hi) = model
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let amp = 0.5 * (hi - lo);
    let size = (amp > 0.0 && noise.is_finite())
        .then(|| (var - noise).max(0.0).sqrt() / amp)
        .filter(|v| v.is_finite());
    let line = omega.map(|w| {
        let (mut re, mut im) = (0.0, 0.0);
        for (v, x) in residual.iter().zip(t) {
            let (s, c) = (w * 1e-3 * x).sin_cos();
            re += (v - mean) * c;
            im += (v - mean) * s;
        }
        2.0 * (re * re + im * im).sqrt() / n
    });
    (size, line)
}

/// Default significance level of the residual tests.
pub const DEFAULT_ALPHA: f64 = 1e-3;

fn ljung_box(r: &[f64]) -> (f64, f64, usize) {
    let n = r.len();
    let h = (n / 5).clamp(1, 20);
    let mean = r.iter().sum::<f64>() / n as f64;
    let c0: f64 = r.iter().map(|v| (v - mean).powi(2)).sum();
    let mut q = 0.0;
    for k in 1..=h {
        let ck: f64 = (k..n).map(|i| (r[i] - mean) * (r[i - k] - mean)).sum();
        let rho = ck / c0;
        q += rho * rho / (n - k) as f64;
    }
    let q = q * (n * (n + 2)) as f64;
    let p = ChiSquared::new(h as f64).map_or(1.0, |d| 1.0 - d.cdf(q));
    (q, p, h)
}

fn runs(r: &[f64]) -> (f64, f64) {
    let signs: Vec<bool> = r.iter().filter(|v| **v != 0.0).map(|v| *v > 0.0).collect();
    let n = signs.len() as f64;
    let np = signs.iter().filter(|s| **s).count() as f64;
    let nm = n - np;
    if np < 2.0 || nm < 2.0 {
        return (f64::NAN, if n >= 20.0 { 0.0 } else { 1.0 });
    }
    let runs = 1.0 + signs.windows(2).filter(|w| w[0] != w[1]).count() as f64;
    let mean = 2.0 * np * nm / n + 1.0;
    let var = 2.0 * np * nm * (2.0 * np * nm - n) / (n * n * (n - 1.0));
    let z = (runs - mean) / var.sqrt();
    let p = Normal::standard().cdf(z);
    (z, p)
}

/// |sum (r_i - rbar) exp(-i omega_k t_i)|^2 / n at the independent
/// frequencies omega_k = 2 pi k / span, k = 1..n/2 (the mean of each is the
/// noise variance under white noise).
///
/// On an even grid, t_i = t_0 + i span / (n - 1), the sum is a DFT of
/// length N = n - 1 (the last point wraps onto the first: exp(-i k dw t)
/// has period N steps), |X_k|^2 the same up to rounding, done by FFT in
/// O(n log n); an uneven grid takes the direct O(n^2) sum.
fn power_spectrum(t: &[f64], r: &[f64]) -> Vec<f64> {
    let n = r.len();
    let mean = r.iter().sum::<f64>() / n as f64;
    let x: Vec<f64> = r.iter().map(|v| v - mean).collect();
    if n < 4 || !evenly_spaced(t) {
        return power_spectrum_direct(t, &x);
    }
    let mut buf: Vec<Complex<f64>> = x[..n - 1].iter().map(|&v| Complex::new(v, 0.0)).collect();
    buf[0].re += x[n - 1];
    fft_forward(&mut buf);
    buf[1..=n / 2]
        .iter()
        .map(|c| c.norm_sqr() / n as f64)
        .collect()
}

/// [`power_spectrum`] of the mean-free residuals `x` by the direct sum, on
/// any grid.
fn power_spectrum_direct(t: &[f64], x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let dw = 2.0 * std::f64::consts::PI / (t[n - 1] - t[0]); // rad/ps
    // exp(-i k dw t) by repeated rotation: no trigonometry inside the loop
    let (rot_c, rot_s): (Vec<f64>, Vec<f64>) =
        t.iter().map(|&x| ((dw * x).cos(), -(dw * x).sin())).unzip();
    let (mut c, mut s) = (rot_c.clone(), rot_s.clone());
    (1..=n / 2)
        .map(|k| {
            if k > 1 {
                rotate(&mut c, &mut s, &rot_c, &rot_s);
            }
            let (re, im) = (dot(x, &c), dot(x, &s));
            (re * re + im * im) / n as f64
        })
        .collect()
}

/// Delays on one even grid, each within 1e-9 span of t_0 + i span / (n - 1)
/// (a phase error of 2 pi k 1e-9 at frequency k: far below rounding of the
/// direct sum's rotations).
fn evenly_spaced(t: &[f64]) -> bool {
    let n = t.len();
    let span = t[n - 1] - t[0];
    let h = span / (n - 1) as f64;
    span > 0.0
        && t.iter()
            .enumerate()
            .all(|(i, &x)| (x - (t[0] + i as f64 * h)).abs() <= 1e-9 * span)
}

/// Largest normalised periodogram ordinate over the independent
/// frequencies (from `spectrum`, the [`power_spectrum`] of `r`), its
/// angular frequency in rad/ns (t in ps) and the number of frequencies.
fn periodogram_peak(t: &[f64], r: &[f64], spectrum: &[f64]) -> (f64, f64, usize) {
    let n = r.len();
    let span = t[n - 1] - t[0];
    let mean = r.iter().sum::<f64>() / n as f64;
    let s2 = r.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    let dw = 2.0 * std::f64::consts::PI / span; // rad/ps
    let power: Vec<f64> = spectrum.iter().map(|p| p / s2).collect();
    let m = power.len();
    let (k, &pmax) = power
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .unwrap_or((0, &0.0));
    // the peak's position, refined on a fine grid between its neighbours
    // (the test itself uses the independent frequencies only)
    let (mut arg, mut sn, mut cs) = (vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    let mut at = |w: f64| -> f64 {
        for (a, x) in arg.iter_mut().zip(t) {
            *a = w * x;
        }
        sin_cos_slice(&arg, &mut sn, &mut cs);
        let (mut re, mut im) = (0.0, 0.0);
        for ((v, c), s) in r.iter().zip(&cs).zip(&sn) {
            re += (v - mean) * c;
            im += (v - mean) * s;
        }
        re * re + im * im
    };
    let centre = (k + 1) as f64 * dw;
    // each candidate frequency's power once (not once per comparison)
    let fine = (0..=24)
        .map(|j| centre + (j as f64 / 12.0 - 1.0) * dw)
        .filter(|w| *w > 0.0)
        .map(|w| (w, at(w)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(centre, |(w, _)| w);
    (pmax, fine * 1e3, m)
}

/// Test the residuals `residual` (model - data) of the fitted `model` at
/// delays `t` (ps, ascending), weighted by `sigma` when given.
/// `periodogram` adds the residual-oscillation test (for precession traces).
pub fn assess(
    t: &[f64],
    residual: &[f64],
    model: &[f64],
    sigma: Option<&[f64]>,
    alpha: f64,
    periodogram: bool,
) -> Adequacy {
    let n = residual.len();
    if n < 20 {
        return Adequacy::untested(alpha, "too few points (< 20) to test the residuals");
    }
    let r: Vec<f64> = match sigma {
        Some(s) => residual.iter().zip(s).map(|(r, s)| r / s).collect(),
        None => residual.to_vec(),
    };
    let scale = r.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    if !(scale.is_finite() && scale > 0.0) {
        return Adequacy::untested(alpha, "residuals are zero or not finite: nothing to test");
    }
    let mut tests = vec![];
    let mut what = vec![];
    let mut peak_omega = None;
    // the spectrum of r, computed once: for the periodogram test and, when
    // a test fails without per-point errors, for the noise floor
    let mut spectrum: Option<Vec<f64>> = None;
    if periodogram {
        let power = spectrum.insert(power_spectrum(t, &r));
        let (pmax, w, m) = periodogram_peak(t, &r, power);
        let p = 1.0 - (1.0 - (-pmax).exp()).powi(m as i32);
        let passed = p >= alpha;
        let resolution = 2.0 * std::f64::consts::PI / (t[n - 1] - t[0]) * 1e3;
        if !passed {
            what.push(if w < 1.6 * resolution {
                format!(
                    "slow residual trend or drift (periodogram peak at {w:.2} rad/ns, the lowest frequency the window resolves; p = {p:.1e})"
                )
            } else {
                format!("residual oscillation at {w:.2} rad/ns (periodogram peak p = {p:.1e})")
            });
        }
        peak_omega = Some(w);
        tests.push(ResidualTest {
            name: "periodogram",
            statistic: pmax,
            p_value: p,
            passed,
        });
    }
    // each test: its row, and (the first failure only) what it found
    let mut record = |name: &'static str, statistic: f64, p: f64, found: String| {
        let passed = p >= alpha;
        if !passed && what.is_empty() {
            what.push(found);
        }
        tests.push(ResidualTest {
            name,
            statistic,
            p_value: p,
            passed,
        });
    };
    let (q, p, h) = ljung_box(&r);
    record(
        "ljung_box",
        q,
        p,
        format!("correlated residuals (Ljung-Box Q = {q:.1} over {h} lags, p = {p:.1e})"),
    );
    let (z, p) = runs(&r);
    record(
        "runs",
        z,
        p,
        format!(
            "the fit lies above or below the data in long stretches (runs test z = {z:.1}, p = {p:.1e})"
        ),
    );
    // what is left is measured only when a test found something
    let (size, line_amplitude, noise_from) = if what.is_empty() {
        (None, None, "")
    } else {
        let power = spectrum.get_or_insert_with(|| power_spectrum(t, &r));
        let (noise, from) = noise_level(residual, sigma, power);
        let (size, line) = left_over(t, residual, model, noise, peak_omega);
        (size, line, from)
    };
    let level = match (what.is_empty(), size) {
        (true, _) => Level::Adequate,
        (false, Some(s)) if s < SMALL_SYSTEMATIC => Level::Small,
        _ => Level::Inadequate,
    };
    Adequacy {
        adequate: level != Level::Inadequate,
        level,
        alpha,
        tests,
        verdict: what.join("; "),
        peak_omega,
        size,
        line_amplitude,
        noise_from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};
    use rand_distr::{Distribution, Normal as N};

    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = StdRng::seed_from_u64(seed);
        let d = N::new(0.0, 1.0).unwrap();
        (0..n).map(|_| d.sample(&mut rng)).collect()
    }

    #[test]
    fn the_fft_periodogram_of_an_even_grid_equals_the_direct_sum() {
        // odd and even lengths, a prime N = n - 1 (Bluestein), a start off zero
        for (n, t0, h) in [(387, 0.0, 2.0), (488, -3.5, 0.25), (12, 1.0, 7.0)] {
            let t: Vec<f64> = (0..n).map(|i| t0 + i as f64 * h).collect();
            let r: Vec<f64> = noise(n, n as u64)
                .iter()
                .zip(&t)
                .map(|(e, x)| e + (0.05 * x).sin())
                .collect();
            assert!(evenly_spaced(&t));
            let mean = r.iter().sum::<f64>() / n as f64;
            let x: Vec<f64> = r.iter().map(|v| v - mean).collect();
            let (fast, direct) = (power_spectrum(&t, &r), power_spectrum_direct(&t, &x));
            assert_eq!(fast.len(), n / 2);
            let top = direct.iter().copied().fold(0.0, f64::max);
            for (k, (a, b)) in fast.iter().zip(&direct).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-10 * top,
                    "n {n}, k {}: {a} vs {b}",
                    k + 1
                );
            }
        }
        // a jittered grid is not even: the direct sum is taken
        let t: Vec<f64> = (0..100)
            .map(|i| i as f64 + 0.01 * (i as f64).sin())
            .collect();
        assert!(!evenly_spaced(&t));
    }

    /// A model spanning -1..1 (amplitude 1), for the size of what is left.
    fn unit_model(n: usize) -> Vec<f64> {
        (0..n).map(|i| (i as f64 * 0.05).cos()).collect()
    }

    #[test]
    fn the_trimmed_exponential_mean_is_the_integral() {
        // (1/q) int_0^{x_q} x e^{-x} dx by the trapezoid rule
        for q in [0.5, 0.9, 0.99] {
            let xq = -(1.0f64 - q).ln();
            let n = 100_000;
            let h = xq / n as f64;
            let f = |x: f64| x * (-x).exp();
            let integral: f64 =
                h * ((1..n).map(|i| f(i as f64 * h)).sum::<f64>() + 0.5 * (f(0.0) + f(xq)));
            assert!((trimmed_exp_mean(q) - integral / q).abs() < 1e-9, "q = {q}");
        }
    }

    #[test]
    fn the_noise_floor_and_a_left_line_are_measured() {
        // white noise of sd 0.02 on a unit signal, plus a line of amplitude
        // 0.006: the floor gives the noise back, the line its amplitude, and
        // the size is the line's RMS 0.006/sqrt(2) = 0.42 % of the signal
        let n = 2000;
        let t: Vec<f64> = (0..n).map(|i| i as f64 * 2.0).collect();
        let (mut floors, mut lines, mut sizes) = (vec![], vec![], vec![]);
        for seed in 0..40 {
            let r: Vec<f64> = noise(n, 100 + seed)
                .iter()
                .zip(&t)
                .map(|(v, x)| 0.02 * v + 0.006 * (7.3e-3 * x + 0.4).cos())
                .collect();
            floors.push(periodogram_floor(&power_spectrum(&t, &r)).sqrt());
            let a = assess(&t, &r, &unit_model(n), None, DEFAULT_ALPHA, true);
            assert!(
                (a.peak_omega.unwrap() - 7.3).abs() < 0.3,
                "{:?}",
                a.peak_omega
            );
            lines.push(a.line_amplitude.unwrap());
            sizes.push(a.size.unwrap());
            // found (p < 1e-3 on 2000 points) and called small, not a failure
            assert_eq!(a.level, Level::Small, "{}", a.summary());
            assert!(a.adequate && a.summary().starts_with("small but present"));
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        assert!((mean(&floors) - 0.02).abs() < 0.0006, "{}", mean(&floors));
        assert!((mean(&lines) - 0.006).abs() < 0.0004, "{}", mean(&lines));
        let want = 0.006 / 2f64.sqrt();
        assert!((mean(&sizes) - want).abs() < 0.3 * want, "{}", mean(&sizes));
        // the same line at 5 % of the signal is a failure
        let r: Vec<f64> = noise(n, 9)
            .iter()
            .zip(&t)
            .map(|(v, x)| 0.02 * v + 0.05 * (7.3e-3 * x).cos())
            .collect();
        let a = assess(&t, &r, &unit_model(n), None, DEFAULT_ALPHA, true);
        assert_eq!(a.level, Level::Inadequate);
        assert!(!a.adequate && a.warning().is_some());
        // with per-point errors the noise is theirs (the sweep scatter)
        let s = vec![0.02; n];
        let a = assess(&t, &r, &unit_model(n), Some(&s), DEFAULT_ALPHA, true);
        assert_eq!(a.noise_from, "sweep scatter");
        let sz = a.size.unwrap();
        assert!((sz - 0.05 / 2f64.sqrt()).abs() < 0.005, "{sz}");
    }

    #[test]
    fn white_noise_passes_at_the_stated_rate() {
        // under white noise each test's p-value is uniform: at alpha = 0.05
        // about 5 % of draws fail each test
        let t: Vec<f64> = (0..300).map(|i| i as f64 * 4.0).collect();
        let mut fails = [0usize; 3];
        let draws = 400;
        for seed in 0..draws {
            let a = assess(&t, &noise(300, seed), &unit_model(300), None, 0.05, true);
            for (k, tst) in a.tests.iter().enumerate() {
                fails[k] += !tst.passed as usize;
            }
        }
        for (k, f) in fails.iter().enumerate() {
            let rate = *f as f64 / draws as f64;
            assert!(
                (0.015..=0.09).contains(&rate),
                "test {k}: {rate} of white-noise draws fail at alpha 0.05"
            );
        }
    }

    #[test]
    fn a_left_over_oscillation_is_named_with_its_frequency() {
        let t: Vec<f64> = (0..400).map(|i| i as f64 * 5.0).collect();
        let mut r = noise(400, 7);
        for (v, x) in r.iter_mut().zip(&t) {
            *v += 0.5 * (8.6e-3 * x).cos();
        }
        let a = assess(&t, &r, &unit_model(400), None, DEFAULT_ALPHA, true);
        assert!(!a.adequate);
        let w = a.peak_omega.unwrap();
        assert!((w - 8.6).abs() < 0.3, "peak at {w} rad/ns");
        assert!(
            a.verdict.contains("residual oscillation at 8."),
            "{}",
            a.verdict
        );
    }

    #[test]
    fn correlated_noise_and_a_trend_fail() {
        let t: Vec<f64> = (0..300).map(|i| i as f64).collect();
        // AR(1) with rho = 0.6
        let e = noise(300, 3);
        let mut r = vec![0.0; 300];
        for i in 1..300 {
            r[i] = 0.6 * r[i - 1] + e[i];
        }
        let a = assess(&t, &r, &unit_model(300), None, DEFAULT_ALPHA, false);
        assert!(
            !a.adequate && a.verdict.contains("Ljung-Box"),
            "{}",
            a.verdict
        );
        // a slow trend: the periodogram puts it at the lowest frequencies
        let r: Vec<f64> = noise(300, 4)
            .iter()
            .zip(&t)
            .map(|(v, x)| v + 1.5 * (x / 150.0 - 1.0))
            .collect();
        let a = assess(&t, &r, &unit_model(300), None, DEFAULT_ALPHA, true);
        assert!(!a.adequate && a.verdict.contains("trend"), "{}", a.verdict);
    }

    #[test]
    fn runs_statistic_matches_the_closed_form() {
        // + + - - + - : 4 runs, n+ = 3, n- = 3
        let (z, _) = runs(&[1.0, 2.0, -1.0, -3.0, 0.5, -0.2]);
        let (np, nm, n) = (3.0, 3.0, 6.0);
        let mean = 2.0 * np * nm / n + 1.0;
        let var: f64 = 2.0 * np * nm * (2.0 * np * nm - n) / (n * n * (n - 1.0));
        assert!((z - (4.0 - mean) / var.sqrt()).abs() < 1e-12);
    }
}
