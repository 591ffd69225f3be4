//! The ensemble trial family: single-carrier TRKR traces whose envelope is
//! what an ensemble with a spread of g gives, drawn as a lab records them
//! (the trial of the issue "An ensemble is one carrier").
//!
//! Per draw: |g| uniform in 0.40-0.50 at 200 mT; the homogeneous T2 uniform
//! in 1.5-6 ns; a Gaussian g spread from none to dominant, sigma_w = r / T2
//! with r uniform in 0-3 (r = 0 in one draw of eight: a purely Lorentzian
//! line), dg_inh = sigma_w / (mu_B B / hbar); a phase in -1..1 rad; in half
//! the draws a non-oscillating carrier background (amplitude 0.1-0.3, 0.3-1.5
//! ns), in half a slow drift (0.01-0.03 over the scan); the previous pulses
//! of a 13.2 ns laser summed; delays -100 to 6100 ps every 20 ps; SNR
//! 40-200. The fit window starts at 50 ps.

use super::{Grid, TrfeTruth};
use crate::physics::omega_from_g;
use rand::{Rng, SeedableRng, rngs::StdRng};

/// One draw of the family: its truth, grid and SNR.
#[derive(Debug, Clone)]
pub struct EnsembleCase {
    pub truth: TrfeTruth,
    pub grid: Grid,
    pub snr: f64,
    /// The Gaussian spread of Larmor frequencies (rad/ns).
    pub sigma_w: f64,
    /// Where the fit window starts (ps).
    pub from_ps: f64,
}

/// The draw of seed `seed`.
pub fn ensemble_case(seed: u64) -> EnsembleCase {
    let mut rng = StdRng::seed_from_u64(0x5eed_e75e ^ seed);
    let b = 0.2;
    let g = rng.random_range(0.40..0.50);
    let t2 = rng.random_range(1500.0..6000.0);
    let r = if seed.is_multiple_of(8) {
        0.0
    } else {
        rng.random_range(0.0..3.0)
    };
    let sigma_w = r * 1e3 / t2;
    let background = rng
        .random_bool(0.5)
        .then(|| (rng.random_range(0.1..0.3), rng.random_range(300.0..1500.0)));
    let drift = if rng.random_bool(0.5) {
        rng.random_range(0.01..0.03)
    } else {
        0.0
    };
    let truth = TrfeTruth {
        field_t: b,
        carriers: vec![(g, t2, 1.0)],
        phases: vec![rng.random_range(-1.0..1.0)],
        background,
        drift,
        repetition_ps: Some(13_200.0),
        g_spread: vec![sigma_w / omega_from_g(1.0, b)],
        ..Default::default()
    };
    let mut grid = Grid::uniform(-100.0, 6100.0, 311);
    grid.jitter = 0.0;
    EnsembleCase {
        truth,
        grid,
        snr: rng.random_range(40.0..200.0),
        sigma_w,
        from_ps: 50.0,
    }
}

/// How a fit of one draw came out against its truth.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsembleScore {
    /// Carriers reported (1 is right; 2 is a ghost).
    pub carriers: usize,
    /// The envelope of the chosen model.
    pub envelope: crate::fit::Envelope,
    /// (|g| - truth) / stderr of the first carrier.
    pub g_z: f64,
    /// (T2 - truth) / stderr, when the Voigt envelope reports the
    /// homogeneous T2.
    pub t2_z: Option<f64>,
    /// (sigma_w - truth) / stderr, when the Voigt envelope reports it.
    pub sigma_z: Option<f64>,
    /// The residual tests passed.
    pub adequate: bool,
    /// Converged with errors, off its bounds, no warning.
    pub success: bool,
}

impl EnsembleCase {
    /// Score the fit `out` of this draw.
    pub fn score(&self, out: &crate::fit::trfe::TrfeOutcome) -> EnsembleScore {
        let (g, t2, _) = self.truth.carriers[0];
        let z = |q: &crate::physics::Quantity, truth: f64| (q.value - truth) / q.stderr;
        let c = out.carriers.first();
        EnsembleScore {
            carriers: out.carriers.len(),
            envelope: out.model.envelope,
            g_z: c.and_then(|c| c.g).map_or(f64::NAN, |q| z(&q, g)),
            t2_z: c.filter(|_| out.model.voigt()).map(|c| z(&c.t2, t2)),
            sigma_z: c
                .and_then(|c| c.sigma_w.as_ref())
                .map(|q| z(q, self.sigma_w)),
            adequate: out.adequacy.adequate,
            success: out.fit.success(),
        }
    }
}
