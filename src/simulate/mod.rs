//! Synthetic pump-probe scans with known parameters, for tests, examples
//! and benchmarks. Every file written says `synthetic = true` and records
//! the truth in its header.
//!
//! - TR: SC = N(t) + S(t)/2 and CC = N(t) - S(t)/2, where S is the spin
//!   signal (IRF-convolved exponentials + step, [`crate::fit::ExpDecay`])
//!   and N an IRF-convolved population decay; so SC - CC = S.
//! - TRFE: eq. (2), sum_i S_i cos(omega_i t + phi_i) E(t; T2*_i) with
//!   omega_i = |g_i| mu_B B / hbar, zero before the pump.
//!
//! What real scans carry, each optional and written to the header:
//! - TRFE: a phase per carrier, a Gaussian envelope, a Gaussian and a
//!   Lorentzian spread of g per carrier (the first multiplies the envelope
//!   by exp(-(sigma_w t)^2 / 2), the second adds dg mu_B B / hbar to
//!   1/T2; [`ensemble_case`] draws the family of the ensemble trial),
//!   a non-oscillating exponential background, and the earlier pulses'
//!   spins (repetition period T_rep: the signal at delay t also holds the
//!   pulses of t + n T_rep, n = 1, 2, ..., summed until 40 of the longest
//!   T2 or background lifetime; resonant spin amplification);
//! - TR: a coherent artefact at t0 (a Gaussian of the IRF width and its
//!   first derivative, on both channels with opposite signs of the second,
//!   as cross-phase modulation gives), a dead channel (zero, constant or
//!   pure noise);
//! - both: a slow baseline drift, linear in acquisition time (so repeated
//!   sweeps disagree), and interleaved back-and-forth sweeps.
//!
//! Noise is Gaussian with standard deviation (peak |signal|) / SNR on each
//! recorded channel; delays follow a stage-like grid, fine near time zero
//! and coarser later, with jitter and back-and-forth sweeps.

use crate::error::{Error, Result};
use crate::fit::decay::{Baseline, ExpDecay, FWHM_PER_SIGMA, irf_exp};
use crate::fit::model::Model;
use crate::fit::precession::Envelope;
use crate::physics::omega_from_g;
use crate::scan::Metadata;
use rand::{Rng, SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, Normal};
use std::fmt::Write as _;
use std::path::Path;

mod ensemble;
mod lab_day;
pub mod map;
pub use ensemble::{EnsembleCase, EnsembleScore, ensemble_case};
pub use lab_day::{DAY_FIELDS_MT, Day, DaySeries, lab_day};

/// Stage-like delay grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// First delay (ps).
    pub start: f64,
    /// End of the fine, uniform part (ps).
    pub fine_end: f64,
    /// Last delay (ps).
    pub end: f64,
    /// Points in the fine part.
    pub n_fine: usize,
    /// Points in the coarse, geometrically spaced part.
    pub n_coarse: usize,
    /// Relative jitter of each position, as a fraction of the local step.
    pub jitter: f64,
    /// Number of sweeps (alternately forward and backward, written in
    /// acquisition order, so delays repeat and are out of order).
    pub sweeps: usize,
}

impl Grid {
    /// Uniform grid of `n` points on [start, end] with 10 % jitter, one sweep.
    pub fn uniform(start: f64, end: f64, n: usize) -> Grid {
        Grid {
            start,
            fine_end: end,
            end,
            n_fine: n,
            n_coarse: 0,
            jitter: 0.1,
            sweeps: 1,
        }
    }
    /// The stage design of a TR scan of lifetimes `taus` (ps): `n` points
    /// from `from` (default -2 ps) to `to` (default 8 x the longest
    /// lifetime, at least 4 ps), 3/5 of them uniform up to
    /// t0 + 3 min(tau_max, 3 ps) + the IRF, the rest geometric, 20 % jitter.
    pub fn for_tr(
        taus: &[f64],
        t0: f64,
        irf_fwhm: f64,
        from: Option<f64>,
        to: Option<f64>,
        n: usize,
        sweeps: usize,
    ) -> Grid {
        let tmax = taus.iter().fold(0.0f64, |m, t| m.max(*t));
        let from = from.unwrap_or(-2.0);
        let to = to.unwrap_or(8.0 * tmax.max(0.5));
        Grid {
            start: from,
            fine_end: (t0 + 3.0 * tmax.min(3.0) + irf_fwhm).min(to),
            end: to,
            n_fine: n * 3 / 5,
            n_coarse: n - n * 3 / 5,
            jitter: 0.2,
            sweeps,
        }
    }
    /// Delays in acquisition order.
    pub fn delays(&self, rng: &mut StdRng) -> Vec<f64> {
        let mut base = vec![];
        let hf = (self.fine_end - self.start) / (self.n_fine.max(2) - 1) as f64;
        for i in 0..self.n_fine {
            base.push(self.start + i as f64 * hf);
        }
        if self.n_coarse > 0 {
            let a = (self.fine_end - self.start).max(hf);
            let r = ((self.end - self.start) / a).powf(1.0 / self.n_coarse as f64);
            for i in 1..=self.n_coarse {
                base.push(self.start + a * r.powi(i as i32));
            }
        }
        // jitter: fixed per stage position, so repeated sweeps revisit it
        let mut jittered = base.clone();
        for i in 0..base.len() {
            let step = if i + 1 < base.len() {
                base[i + 1] - base[i]
            } else {
                base[i] - base[i - 1]
            };
            jittered[i] += self.jitter * step * (rng.random::<f64>() - 0.5);
        }
        let mut out = vec![];
        for s in 0..self.sweeps.max(1) {
            if s % 2 == 0 {
                out.extend(jittered.iter());
            } else {
                out.extend(jittered.iter().rev());
            }
        }
        out
    }
}

/// How a dead channel looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadKind {
    /// Exactly zero (unplugged, or a digitiser that writes 0).
    Zero,
    /// One constant value (saturated, or a stuck lock-in).
    Constant,
    /// Noise with no signal (a detector that sees nothing).
    Noise,
}

impl std::str::FromStr for DeadKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "zero" => Ok(DeadKind::Zero),
            "constant" => Ok(DeadKind::Constant),
            "noise" => Ok(DeadKind::Noise),
            _ => Err(Error::setting(
                "dead",
                format!("`{s}`, expected zero, constant or noise"),
            )),
        }
    }
}

/// Truth of a simulated TR scan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrTruth {
    pub taus: Vec<f64>,
    pub amplitudes: Vec<f64>,
    pub t0: f64,
    pub irf_fwhm: f64,
    pub step: f64,
    pub offset: f64,
    /// Population lifetime (ps) and amplitude of SC + CC.
    pub population_tau: f64,
    pub population_amplitude: f64,
    /// Amplitude of the coherent artefact at t0 (0: none).
    pub artefact: f64,
    /// A dead channel: ("SC" or "CC", how it looks).
    pub dead: Option<(String, DeadKind)>,
    /// Baseline drift over the acquisition, first to last point (signal units).
    pub drift: f64,
}

impl TrTruth {
    /// Spin lifetimes `taus` (ps) with `amplitudes` under an IRF at `t0`,
    /// with the population a real scan carries (SC + CC decaying 10x more
    /// slowly than the longest spin lifetime, at least 10 ps, amplitude 2);
    /// no step, offset, artefact, dead channel or drift until set.
    pub fn preset(taus: Vec<f64>, amplitudes: Vec<f64>, t0: f64, irf_fwhm: f64) -> TrTruth {
        let tmax = taus.iter().fold(0.0f64, |m, t| m.max(*t));
        TrTruth {
            taus,
            amplitudes,
            t0,
            irf_fwhm,
            population_tau: 10.0 * tmax.max(1.0),
            population_amplitude: 2.0,
            ..TrTruth::default()
        }
    }
}

/// Truth of a simulated TRFE scan.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TrfeTruth {
    pub field_t: f64,
    /// (|g|, T2* in ps, amplitude) per carrier.
    pub carriers: Vec<(f64, f64, f64)>,
    pub offset: f64,
    /// Phase per carrier in rad (missing entries are 0).
    pub phases: Vec<f64>,
    pub envelope: Envelope,
    /// Non-oscillating exponential under the cosines: (amplitude, lifetime in ps).
    pub background: Option<(f64, f64)>,
    /// Baseline drift over the acquisition, first to last point (signal units).
    pub drift: f64,
    /// Laser repetition period (ps): the previous pulse's spins at negative delays.
    pub repetition_ps: Option<f64>,
    /// Gaussian spread of |g| per carrier (standard deviation; missing
    /// entries are 0): the envelope gains exp(-(sigma_w t)^2 / 2) with
    /// sigma_w = dg_inh mu_B B / hbar.
    pub g_spread: Vec<f64>,
    /// Lorentzian spread of |g| per carrier (half-width; missing entries
    /// are 0): the envelope gains exp(-dg mu_B B t / hbar), eq. 3's rate
    /// added to 1/T2 for the exponential envelope.
    pub g_lorentz: Vec<f64>,
}

impl TrfeTruth {
    /// The noise-free signal at delay `x` (ps) after one pump pulse at 0.
    fn pulse(&self, x: f64) -> f64 {
        if x < 0.0 {
            return 0.0;
        }
        let osc: f64 = self
            .carriers
            .iter()
            .enumerate()
            .map(|(k, &(g, t2, a))| {
                let phi = self.phases.get(k).copied().unwrap_or(0.0);
                let sw = omega_from_g(self.spread(k), self.field_t) * x * 1e-3;
                let lw = omega_from_g(self.lorentz(k), self.field_t) * x * 1e-3;
                a * (omega_from_g(g, self.field_t) * x * 1e-3 + phi).cos()
                    * (self.envelope.arg(x, t2) - lw - 0.5 * sw * sw).exp()
            })
            .sum();
        osc + self.background.map_or(0.0, |(a, tau)| a * (-x / tau).exp())
    }
    /// Carrier `k`'s Gaussian g spread (0 when not given).
    fn spread(&self, k: usize) -> f64 {
        self.g_spread.get(k).copied().unwrap_or(0.0)
    }
    /// Carrier `k`'s Lorentzian g spread (0 when not given).
    fn lorentz(&self, k: usize) -> f64 {
        self.g_lorentz.get(k).copied().unwrap_or(0.0)
    }
    /// Carrier `k`'s T2* of the exponential envelope from its T2 and
    /// Lorentzian g spread (eq. 3).
    pub fn t2_star(&self, k: usize, t2: f64) -> f64 {
        1.0 / (1.0 / t2 + omega_from_g(self.lorentz(k), self.field_t) * 1e-3)
    }
    /// The signal at delay `x`: this pulse, and the earlier ones when the
    /// repetition period is given.
    pub fn signal(&self, x: f64) -> f64 {
        let prev: f64 = self.repetition_ps.map_or(0.0, |t| {
            let longest = self
                .carriers
                .iter()
                .map(|c| c.1)
                .chain(self.background.map(|b| b.1))
                .fold(0.0f64, f64::max);
            let n = ((40.0 * longest / t).ceil() as usize).clamp(1, 400);
            (1..=n).map(|k| self.pulse(x + k as f64 * t)).sum()
        });
        self.pulse(x) + prev + self.offset
    }
}

/// Drift added to point `i` of `n` in acquisition order.
fn drift(total: f64, i: usize, n: usize) -> f64 {
    total * (i as f64 / (n.max(2) - 1) as f64 - 0.5)
}

/// A simulated scan ready to be written.
#[derive(Debug, Clone)]
pub struct Simulated {
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
    pub meta: Metadata,
}

fn noise(rng: &mut StdRng, sd: f64) -> Result<Normal<f64>> {
    let _ = rng;
    Normal::new(0.0, sd).map_err(|e| Error::setting("snr", e.to_string()))
}

/// Most delays a simulated scan may have (points x sweeps): far beyond any
/// stage scan, and small enough to allocate.
pub const MAX_DELAYS: usize = 10_000_000;

fn check_grid(g: &Grid) -> Result<()> {
    if g.sweeps == 0 {
        return Err(Error::setting("sweeps", "0: a scan has at least one sweep"));
    }
    let total = (g.n_fine.saturating_add(g.n_coarse)).saturating_mul(g.sweeps.max(1));
    if total > MAX_DELAYS {
        return Err(Error::setting(
            "points",
            format!("{total} delays (points x sweeps); a simulated scan has at most {MAX_DELAYS}"),
        ));
    }
    if g.n_fine + g.n_coarse < 4 || g.n_fine < 2 {
        return Err(Error::setting(
            "points",
            format!(
                "{} delays per sweep; a scan needs at least 4 (2 in the fine part)",
                g.n_fine + g.n_coarse
            ),
        ));
    }
    if g.end.is_nan() || g.start.is_nan() || g.end <= g.start {
        return Err(Error::setting(
            "from/to",
            format!("the window [{} ps, {} ps] is empty", g.start, g.end),
        ));
    }
    Ok(())
}

fn check_snr(snr: f64) -> Result<()> {
    if snr.is_finite() && snr > 0.0 || snr == f64::INFINITY {
        Ok(())
    } else {
        Err(Error::setting(
            "snr",
            format!("{snr}, expected a positive number"),
        ))
    }
}

/// Simulate a TR scan (SC and CC channels).
pub fn simulate_tr(truth: &TrTruth, grid: &Grid, snr: f64, seed: u64) -> Result<Simulated> {
    check_snr(snr)?;
    check_grid(grid)?;
    for (name, v) in truth.taus.iter().map(|t| ("tau", *t)).chain([
        ("irf_fwhm", truth.irf_fwhm),
        ("population_tau", truth.population_tau),
    ]) {
        if !(v.is_finite() && v > 0.0) {
            return Err(Error::setting(
                name,
                format!("{v} ps, expected a positive time"),
            ));
        }
    }
    if truth.taus.len() != truth.amplitudes.len() || truth.taus.is_empty() || truth.taus.len() > 3 {
        return Err(Error::setting(
            "taus",
            "1 to 3 lifetimes, one amplitude each",
        ));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let t = grid.delays(&mut rng);
    let model = ExpDecay {
        n_exp: truth.taus.len(),
        baseline: Baseline {
            offset: true,
            step: true,
        },
        artefact: false,
    };
    let mut p = vec![];
    for (a, tau) in truth.amplitudes.iter().zip(&truth.taus) {
        p.extend([*a, *tau]);
    }
    p.extend([truth.t0, truth.irf_fwhm, truth.step, truth.offset]);
    let mut s = vec![0.0; t.len()];
    model.eval(&p, &t, &mut s);
    let sigma = truth.irf_fwhm / FWHM_PER_SIGMA;
    let pop: Vec<f64> = t
        .iter()
        .map(|&x| {
            truth.population_amplitude * irf_exp(x - truth.t0, truth.population_tau, sigma)[0]
        })
        .collect();
    let peak = s.iter().chain(&pop).fold(0.0f64, |m, v| m.max(v.abs()));
    let sd = if snr.is_finite() { peak / snr } else { 0.0 };
    let nd = noise(&mut rng, sd.max(0.0))?;
    // coherent artefact: G(u) and its first derivative (sigma G'), the same
    // on both channels, so that SC - CC keeps only what differs (half of a
    // second-derivative term of opposite sign on each channel)
    let art: Vec<(f64, f64)> = t
        .iter()
        .map(|&x| {
            let u = (x - truth.t0) / sigma;
            let g = (-0.5 * u * u).exp();
            (
                truth.artefact * (g - 0.5 * u * g),
                truth.artefact * 0.25 * (u * u - 1.0) * g,
            )
        })
        .collect();
    let n = t.len();
    let mut sc: Vec<f64> = (0..n)
        .map(|i| {
            pop[i]
                + s[i] / 2.0
                + art[i].0
                + art[i].1
                + drift(truth.drift, i, n)
                + nd.sample(&mut rng)
        })
        .collect();
    let mut cc: Vec<f64> = (0..n)
        .map(|i| {
            pop[i] - s[i] / 2.0 + art[i].0 - art[i].1
                + drift(truth.drift, i, n)
                + nd.sample(&mut rng)
        })
        .collect();
    if let Some((ch, how)) = &truth.dead {
        let target = match ch.to_ascii_uppercase().as_str() {
            "SC" => &mut sc,
            "CC" => &mut cc,
            _ => {
                return Err(Error::setting(
                    "dead",
                    format!("channel `{ch}`, expected SC or CC"),
                ));
            }
        };
        for v in target.iter_mut() {
            *v = match how {
                DeadKind::Zero => 0.0,
                DeadKind::Constant => 0.37,
                DeadKind::Noise => nd.sample(&mut rng),
            };
        }
    }
    let mut meta = base_meta("tr", snr, seed, sd);
    if truth.artefact != 0.0 {
        meta.insert("truth.artefact", &format!("{}", truth.artefact));
    }
    if let Some((ch, how)) = &truth.dead {
        meta.insert(
            "truth.dead_channel",
            &format!("{ch} ({how:?})").to_lowercase(),
        );
    }
    if truth.drift != 0.0 {
        meta.insert("truth.drift", &format!("{}", truth.drift));
    }
    meta.insert("sweeps", &format!("{}", grid.sweeps.max(1)));
    for (k, (a, tau)) in truth.amplitudes.iter().zip(&truth.taus).enumerate() {
        let sfx = if truth.taus.len() == 1 {
            String::new()
        } else {
            format!("_{}", k + 1)
        };
        meta.insert(&format!("truth.tau{sfx}"), &format!("{tau} ps"));
        meta.insert(&format!("truth.amplitude{sfx}"), &format!("{a}"));
    }
    meta.insert("truth.t0", &format!("{} ps", truth.t0));
    meta.insert("truth.irf_fwhm", &format!("{} ps", truth.irf_fwhm));
    meta.insert("truth.step", &format!("{}", truth.step));
    meta.insert("truth.offset", &format!("{}", truth.offset));
    meta.insert(
        "truth.population_tau",
        &format!("{} ps", truth.population_tau),
    );
    Ok(Simulated {
        names: vec!["delay_ps".into(), "SC".into(), "CC".into()],
        columns: vec![t, sc, cc],
        meta,
    })
}

/// Simulate a TRFE scan at `truth.field_t`.
pub fn simulate_trfe(truth: &TrfeTruth, grid: &Grid, snr: f64, seed: u64) -> Result<Simulated> {
    check_snr(snr)?;
    check_grid(grid)?;
    // B = 0 is a zero-field decay; any other field must be one a g comes from
    if truth.field_t != 0.0 {
        crate::physics::check_field(truth.field_t)?;
    }
    if truth.carriers.is_empty() || truth.carriers.len() > 2 {
        return Err(Error::setting("carriers", "1 or 2 precessing carriers"));
    }
    for &(g, t2, a) in &truth.carriers {
        if !(g.is_finite() && t2.is_finite() && t2 > 0.0 && a.is_finite()) {
            return Err(Error::setting(
                "carrier",
                format!("|g| {g}, T2* {t2} ps, amplitude {a}: expected finite values and T2* > 0"),
            ));
        }
    }
    for (what, v) in [
        ("g_spread", &truth.g_spread),
        ("g_lorentz", &truth.g_lorentz),
    ] {
        if v.len() > truth.carriers.len() || v.iter().any(|d| !(d.is_finite() && *d >= 0.0)) {
            return Err(Error::setting(
                what,
                format!("{v:?}: expected at most one spread >= 0 per carrier"),
            ));
        }
    }
    if let Some(t) = truth.repetition_ps
        && !(t.is_finite() && t > 0.0)
    {
        return Err(Error::setting(
            "repetition",
            format!("{t} ps, expected a positive period"),
        ));
    }
    let mut rng = StdRng::seed_from_u64(seed);
    let t = grid.delays(&mut rng);
    let n = t.len();
    let y: Vec<f64> = t
        .iter()
        .enumerate()
        .map(|(i, &x)| truth.signal(x) + drift(truth.drift, i, n))
        .collect();
    let peak = truth.carriers.iter().map(|c| c.2.abs()).sum::<f64>();
    let sd = if snr.is_finite() { peak / snr } else { 0.0 };
    let nd = noise(&mut rng, sd)?;
    let y: Vec<f64> = y.into_iter().map(|v| v + nd.sample(&mut rng)).collect();
    let mut meta = base_meta("trfe", snr, seed, sd);
    meta.insert("field", &format!("{} mT", truth.field_t * 1e3));
    for (k, (g, t2, a)) in truth.carriers.iter().enumerate() {
        let sfx = format!("_{}", k + 1);
        meta.insert(&format!("truth.g{sfx}"), &format!("{g}"));
        meta.insert(
            &format!("truth.omega{sfx}"),
            &format!("{} rad/ns", omega_from_g(*g, truth.field_t)),
        );
        meta.insert(&format!("truth.t2{sfx}"), &format!("{t2} ps"));
        meta.insert(&format!("truth.amplitude{sfx}"), &format!("{a}"));
        let phi = truth.phases.get(k).copied().unwrap_or(0.0);
        if phi != 0.0 {
            meta.insert(&format!("truth.phase{sfx}"), &format!("{phi} rad"));
        }
        let dg = truth.spread(k);
        if dg > 0.0 {
            meta.insert(&format!("truth.g_spread{sfx}"), &format!("{dg}"));
            let sw = omega_from_g(dg, truth.field_t);
            meta.insert(&format!("truth.sigma_w{sfx}"), &format!("{sw} rad/ns"));
        }
        let dl = truth.lorentz(k);
        if dl > 0.0 {
            meta.insert(&format!("truth.g_lorentz{sfx}"), &format!("{dl}"));
            if truth.envelope == Envelope::Exponential {
                let ts = truth.t2_star(k, *t2);
                meta.insert(&format!("truth.t2_star{sfx}"), &format!("{ts} ps"));
            }
        }
    }
    meta.insert("truth.offset", &format!("{}", truth.offset));
    if truth.envelope != Envelope::Exponential {
        meta.insert("truth.envelope", &truth.envelope.to_string());
    }
    if let Some((a, tau)) = truth.background {
        meta.insert("truth.background_amplitude", &format!("{a}"));
        meta.insert("truth.background_tau", &format!("{tau} ps"));
    }
    if truth.drift != 0.0 {
        meta.insert("truth.drift", &format!("{}", truth.drift));
    }
    if let Some(rep) = truth.repetition_ps {
        meta.insert("truth.repetition_period", &format!("{rep} ps"));
    }
    meta.insert("sweeps", &format!("{}", grid.sweeps.max(1)));
    Ok(Simulated {
        names: vec!["delay_ps".into(), "signal".into()],
        columns: vec![t, y],
        meta,
    })
}

fn base_meta(kind: &str, snr: f64, seed: u64, sd: f64) -> Metadata {
    let mut m = Metadata::default();
    m.insert("synthetic", "true");
    m.insert(
        "generator",
        &format!("spinfit {} simulate {kind}", env!("CARGO_PKG_VERSION")),
    );
    m.insert("kind", kind);
    m.insert("snr", &format!("{snr}"));
    m.insert("seed", &format!("{seed}"));
    m.insert("noise_sd", &format!("{sd:e}"));
    m
}

impl Simulated {
    /// The scan as CSV text with `# key = value` metadata.
    pub fn to_csv(&self) -> String {
        let mut s = String::new();
        for (k, v) in &self.meta.0 {
            let _ = writeln!(s, "# {k} = {v}");
        }
        let _ = writeln!(s, "{}", self.names.join(","));
        for i in 0..self.columns[0].len() {
            let row: Vec<String> = self
                .columns
                .iter()
                .map(|c| format!("{:.9e}", c[i]))
                .collect();
            let _ = writeln!(s, "{}", row.join(","));
        }
        s
    }
    /// Add metadata (sample name, temperature, ...).
    pub fn with_meta(mut self, key: &str, value: &str) -> Simulated {
        self.meta.insert(key, value);
        self
    }
    /// Write as HDF5 (a `.h5`/`.hdf5` name: one scan group named after the
    /// file) or CSV, atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        use crate::scan::h5;
        match path.extension().and_then(|e| e.to_str()) {
            Some("h5") | Some("hdf5") => {
                let name = path
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or("scan".into());
                let chans = self.names[1..]
                    .iter()
                    .zip(&self.columns[1..])
                    .map(|(n, v)| (n.as_str(), v.as_slice(), "arb"))
                    .collect();
                h5::write(
                    path,
                    &[h5::ScanRecord {
                        name: &name,
                        delay_ps: &self.columns[0],
                        channels: chans,
                        meta: &self.meta,
                    }],
                )
            }
            _ => self.write_csv(path),
        }
    }
    /// Write as CSV atomically (a `.csv`, `.tsv`, `.txt` or `.dat` name).
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        if !matches!(ext.as_deref(), Some("csv" | "tsv" | "txt" | "dat")) {
            return Err(Error::input(
                path.display().to_string(),
                "unknown output format: name it .csv (text) or .h5 (HDF5)",
            ));
        }
        crate::io_util::write_atomic(path, self.to_csv().as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn noiseless_tr_difference_is_the_spin_model() {
        let truth = TrTruth {
            taus: vec![7.76],
            amplitudes: vec![1.0],
            t0: 0.0,
            irf_fwhm: 0.3,
            step: 0.05,
            offset: 0.0,
            population_tau: 50.0,
            population_amplitude: 2.0,
            ..Default::default()
        };
        let sim = simulate_tr(&truth, &Grid::uniform(-2.0, 40.0, 50), f64::INFINITY, 1).unwrap();
        let (t, sc, cc) = (&sim.columns[0], &sim.columns[1], &sim.columns[2]);
        let m = ExpDecay {
            n_exp: 1,
            baseline: Baseline {
                offset: true,
                step: true,
            },
            artefact: false,
        };
        let mut s = vec![0.0; t.len()];
        m.eval(&[1.0, 7.76, 0.0, 0.3, 0.05, 0.0], t, &mut s);
        for i in 0..t.len() {
            assert!((sc[i] - cc[i] - s[i]).abs() < 1e-12);
        }
        assert_eq!(sim.meta.0["synthetic"], "true");
    }
    #[test]
    fn sweeps_repeat_positions_in_acquisition_order() {
        let mut g = Grid::uniform(0.0, 9.0, 10);
        g.sweeps = 2;
        let d = g.delays(&mut StdRng::seed_from_u64(3));
        assert_eq!(d.len(), 20);
        assert_eq!(d[9], d[10]);
        assert_eq!(d[0], d[19]);
    }
}
