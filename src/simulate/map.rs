//! Synthetic transient maps with known lifetimes, spectra and chirp, for the
//! global fit's tests and its comparison with pyglotaran.
//!
//! S(lambda, t) = sum_k A_k(lambda) E(t - t0(lambda); tau_k, sigma) + c(lambda)
//!              + a(lambda) [G0 + G1 / 2]((t - t0(lambda)) / sigma) + noise,
//!
//! the spectra A_k Gaussian bands (centre, width, signed height), c a weak
//! sloping pre-time-zero background, the coherent artefact (when asked) a
//! Gaussian of the IRF width and its first derivative with a spectrum of
//! its own, t0(lambda) = t0 + sum_k d_k ((lambda - lambda_ref)/100 nm)^k
//! (the chirp a white-light probe carries), and Gaussian noise of standard
//! deviation (peak |signal|) / SNR. The delays are fine near time zero and
//! coarser later, as a stage program writes them.

use crate::fit::decay::{FWHM_PER_SIGMA, irf_exp};
use ndarray::Array2;
use rand::{SeedableRng, rngs::StdRng};
use rand_distr::{Distribution, Normal};

/// One decay component: lifetime (ps) and a Gaussian band of its spectrum.
#[derive(Debug, Clone, Copy)]
pub struct Band {
    pub tau_ps: f64,
    pub centre_nm: f64,
    pub width_nm: f64,
    pub height: f64,
}

/// The truth of a map.
#[derive(Debug, Clone)]
pub struct MapTruth {
    pub bands: Vec<Band>,
    pub t0_ps: f64,
    pub lambda_ref_nm: f64,
    /// d_k (ps per (100 nm)^k), k = 1..K.
    pub chirp_ps: Vec<f64>,
    pub irf_fwhm_ps: f64,
    /// Height of the coherent artefact (0: none).
    pub artefact: f64,
    /// Offset at the first wavelength; it falls linearly to zero at the last.
    pub offset: f64,
}

/// A simulated map: `data[[l, j]]` at wavelength l, delay j.
#[derive(Debug, Clone)]
pub struct SimulatedMap {
    pub wavelength_nm: Vec<f64>,
    pub delay_ps: Vec<f64>,
    pub data: Array2<f64>,
    /// The noise-free map.
    pub clean: Array2<f64>,
    pub noise_sd: f64,
}

/// Delays from `lo` to `hi` ps: a step of `fine` ps to 5 ps after time zero,
/// then growing by 8 % a point.
pub fn stage_delays(lo: f64, hi: f64, fine: f64) -> Vec<f64> {
    let mut t = vec![];
    let mut x = lo;
    while x <= hi {
        t.push(x);
        let step = if x < 5.0 { fine } else { (0.08 * x).max(fine) };
        x += step;
    }
    t
}

impl MapTruth {
    /// t0 at a wavelength.
    pub fn t0_at(&self, lambda: f64) -> f64 {
        let x = (lambda - self.lambda_ref_nm) / 100.0;
        self.t0_ps
            + self
                .chirp_ps
                .iter()
                .enumerate()
                .map(|(k, d)| d * x.powi(k as i32 + 1))
                .sum::<f64>()
    }

    /// Component k's amplitude at a wavelength.
    pub fn amplitude(&self, k: usize, lambda: f64) -> f64 {
        let b = &self.bands[k];
        b.height * (-0.5 * ((lambda - b.centre_nm) / b.width_nm).powi(2)).exp()
    }

    /// The noise-free signal.
    pub fn signal(&self, lambda: f64, t: f64, lambdas: (f64, f64)) -> f64 {
        let sigma = self.irf_fwhm_ps / FWHM_PER_SIGMA;
        let u = t - self.t0_at(lambda);
        let mut s = self.offset * (lambdas.1 - lambda) / (lambdas.1 - lambdas.0);
        for (k, b) in self.bands.iter().enumerate() {
            s += self.amplitude(k, lambda) * irf_exp(u, b.tau_ps, sigma)[0];
        }
        if self.artefact != 0.0 {
            let x = u / sigma;
            let g = (-0.5 * x * x).exp();
            let spec = (-0.5 * ((lambda - self.lambda_ref_nm) / 60.0).powi(2)).exp();
            s += self.artefact * spec * (g - 0.5 * x * g);
        }
        s
    }
}

/// Draw the map on the given axes.
pub fn simulate_map(
    truth: &MapTruth,
    wavelength_nm: &[f64],
    delay_ps: &[f64],
    snr: f64,
    seed: u64,
) -> SimulatedMap {
    let (nl, nt) = (wavelength_nm.len(), delay_ps.len());
    let lims = (wavelength_nm[0], wavelength_nm[nl - 1]);
    let clean = Array2::from_shape_fn((nl, nt), |(l, j)| {
        truth.signal(wavelength_nm[l], delay_ps[j], lims)
    });
    let peak = clean.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let noise_sd = peak / snr;
    let mut rng = StdRng::seed_from_u64(seed);
    let normal = Normal::new(0.0, noise_sd).expect("finite sd");
    let data = clean.mapv(|v| v + normal.sample(&mut rng));
    SimulatedMap {
        wavelength_nm: wavelength_nm.to_vec(),
        delay_ps: delay_ps.to_vec(),
        data,
        clean,
        noise_sd,
    }
}

impl SimulatedMap {
    /// The map as Glotaran "Time explicit" ASCII (line 2 records the
    /// truth and says synthetic), written atomically.
    pub fn write_glotaran(&self, path: &std::path::Path, truth: &MapTruth) -> crate::Result<()> {
        use std::fmt::Write as _;
        let mut s = String::from("Header\n");
        let taus: Vec<String> = truth
            .bands
            .iter()
            .map(|b| format!("{}", b.tau_ps))
            .collect();
        let _ = writeln!(
            s,
            "Original filename: spinfit simulate map (synthetic = true; tau_ps = {}; t0_ps = {}; \
             lambda_ref_nm = {}; chirp_ps = {:?}; irf_fwhm_ps = {}; artefact = {}; noise_sd = {:e})",
            taus.join(","),
            truth.t0_ps,
            truth.lambda_ref_nm,
            truth.chirp_ps,
            truth.irf_fwhm_ps,
            truth.artefact,
            self.noise_sd
        );
        let _ = writeln!(s, "Time explicit\nintervalnr {}", self.delay_ps.len());
        let axis: Vec<String> = self.delay_ps.iter().map(|t| format!("{t:.6}")).collect();
        let _ = writeln!(s, "{}", axis.join(" "));
        for (l, w) in self.wavelength_nm.iter().enumerate() {
            let _ = write!(s, "{w:.4}");
            for v in self.data.row(l) {
                let _ = write!(s, " {v:.8e}");
            }
            s.push('\n');
        }
        crate::io_util::write_atomic(path, s.as_bytes())
    }
}
