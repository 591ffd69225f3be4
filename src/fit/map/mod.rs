//! Global analysis of a 2-D pump-probe map (probe wavelength x delay):
//! lifetimes shared by every wavelength, amplitudes per wavelength.
//!
//! At wavelength lambda_l and delay t the model is the trace model of
//! [`crate::fit::decay`] with wavelength-dependent time zero:
//!
//! S(lambda_l, t) = sum_k A_k(lambda_l) E(t - t0(lambda_l); tau_k, sigma)
//!                  [+ B(lambda_l) step] [+ c(lambda_l)]
//!                  [+ sum_q a_q(lambda_l) G_q((t - t0(lambda_l)) / sigma)],
//!
//! E the exponential convolved with the Gaussian IRF (FWHM w = 2.35482
//! sigma), G_q the coherent artefact (the IRF and its first two
//! derivatives), and the chirp (pyglotaran's dispersion)
//!
//! t0(lambda) = t0 + sum_{k=1..K} d_k ((lambda - lambda_ref) / 100 nm)^k.
//!
//! Shared nonlinear parameters: tau_1..tau_N, t0, d_1..d_K, w. The
//! amplitudes A_k(lambda) (the decay-associated spectra, DAS), B, c and
//! a_q are linear and projected out wavelength by wavelength (variable
//! projection, Golub-Pereyra with Kaufman's Jacobian): the map fit is the
//! trace fit's own [`crate::fit::varpro`] engine, one projection per
//! wavelength, driven by the same Levenberg-Marquardt
//! ([`crate::fit::marquardt`]). Errors of every parameter come from the
//! full covariance ([`covariance`]). With `components` unset, 1 to
//! `max_components` exponentials are fitted and the lowest BIC,
//! BIC = m ln(chi^2 / m) + p ln m (p counting every amplitude), is chosen.
//!
//! Evolution-associated spectra of the sequential scheme (1 -> 2 -> ...,
//! lifetimes shortest first) follow from the DAS linearly ([`eas`]).

mod covariance;
mod eas;
mod projection;
mod result;
mod settings;
mod shared;
mod start;

use result::report;
pub use result::{Candidate, MapFit, MapStatistics};
pub use settings::{MAX_CHIRP_ORDER, MAX_COMPONENTS, MapData, MapSettings};
use shared::{Solved, bic, n_free, reduced_wavelengths, rows, trace_model, trace_params};

use crate::error::{Error, Result};
use crate::fit::decay::ExpDecay;
use crate::fit::marquardt::{self, Residuals, Settings};
use crate::fit::params::Params;
use ndarray::Array2;
use projection::MapProjection;

/// Starts fitted per number of components.
const STARTS: usize = 3;
/// Wavelengths the starts are fitted on before the whole map.
const SUBSAMPLE: usize = 48;
/// Coarse optima refined on the whole map: those within this relative
/// chi^2 of the best (on the measured map in fixtures/ two optima 0.3 %
/// apart on the coarse map swap places on the whole one).
const REFINE_WITHIN: f64 = 0.02;
/// IRF widths scanned for the starts.
const WIDTHS: usize = 10;
/// Shifts of t0 from its guess scanned for the starts (in IRF widths): with
/// the coherent artefact the map's chi^2 has minima about half a width
/// apart in t0.
const T0_SHIFTS: [f64; 5] = [-1.0, -0.5, 0.0, 0.5, 1.0];

/// Start points for `n_exp` exponentials, best first: for IRF widths on a
/// log grid from half the finest delay step to twice the guess, the grid's
/// best lifetimes at that width ([`start::lifetimes`]), with t0 moved by
/// [`T0_SHIFTS`] and the chirp at its start or flat (on the measured map
/// in fixtures/ the flat chirp leads to the lower of two minima), each
/// scored by the map's projected chi^2.
fn starts(
    data: &MapData<'_>,
    model: &ExpDecay,
    refs: &[&[f64]],
    xw: &[f64],
    chirp0: &[f64],
    fwhm: f64,
    chirp_order: usize,
) -> Vec<(f64, Params, Vec<f64>)> {
    let dt = data
        .delay_ps
        .windows(2)
        .map(|w| w[1] - w[0])
        .fold(f64::INFINITY, f64::min);
    let (lo, hi) = ((0.5 * dt).max(1e-3), (2.0 * fwhm).max(dt));
    let widths: Vec<f64> = (0..WIDTHS)
        .map(|i| lo * (hi / lo).powf(i as f64 / (WIDTHS - 1) as f64))
        .collect();
    let mut scored = vec![];
    let flat = vec![0.0; chirp0.len() - 1];
    let chirps: Vec<&[f64]> = if chirp_order > 0 {
        vec![&chirp0[1..], &flat]
    } else {
        vec![&chirp0[1..]]
    };
    for w in widths {
        // the grid's lifetimes depend on the width, not on the chirp
        let taus = start::lifetimes(model, data.delay_ps, refs, chirp0[0], w, 1);
        for (taus, shift, chirp) in taus
            .iter()
            .flat_map(|t| T0_SHIFTS.map(|s| (t, s)))
            .flat_map(|(t, s)| chirps.iter().map(move |c| (t, s, *c)))
        {
            let t0 = chirp0[0] + shift * w;
            let params = trace_params(model, taus, t0, w);
            let mut pr = MapProjection::new(
                model,
                data.delay_ps,
                refs,
                xw.to_vec(),
                chirp_order,
                &params,
            );
            let q0 = pr.start(chirp);
            let mut r = vec![0.0; pr.m()];
            if pr.residuals(&q0, &mut r) {
                scored.push((pr.dot(&r, &r), params, q0));
            }
        }
    }
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored.truncate(STARTS);
    scored
}

/// Levenberg-Marquardt on the stacked projection from `q0`; None when the
/// end point is not finite.
fn descend(
    model: &ExpDecay,
    data: &MapData<'_>,
    refs: &[&[f64]],
    xw: &[f64],
    s: &MapSettings,
    params: &Params,
    q0: &[f64],
) -> Option<Solved> {
    let mut pr = MapProjection::new(
        model,
        data.delay_ps,
        refs,
        xw.to_vec(),
        s.chirp_order,
        params,
    );
    let settings = Settings {
        ftol: 1e-9,
        xtol: 1e-10,
        gtol: 1e-10,
        max_nfev: s.patience * (q0.len() + 1),
        geodesic: false,
    };
    let (q, termination, nfev, _) = marquardt::minimize(&mut pr, q0, &settings);
    let mut r = vec![0.0; pr.m()];
    if !pr.residuals(&q, &mut r) {
        return None;
    }
    let chi2 = pr.dot(&r, &r);
    Some(Solved {
        q,
        chi2,
        nfev,
        termination,
    })
}

/// Every `k`-th wavelength (k such that at most [`SUBSAMPLE`] remain) as an
/// owned map, with its reduced wavelengths.
fn subsample(data: &MapData<'_>, xw: &[f64]) -> Option<(Vec<f64>, Array2<f64>, Vec<f64>)> {
    let nl = xw.len();
    let k = nl.div_ceil(SUBSAMPLE);
    if k <= 1 {
        return None;
    }
    let keep: Vec<usize> = (0..nl).step_by(k).collect();
    Some((
        keep.iter().map(|&l| data.wavelength_nm[l]).collect(),
        data.data.select(ndarray::Axis(0), &keep),
        keep.iter().map(|&l| xw[l]).collect(),
    ))
}

/// Fit `n_exp` exponentials from each of the best starts, the lowest chi^2
/// winning. On a map of more than [`SUBSAMPLE`] wavelengths the starts are
/// scanned and fitted on every k-th wavelength, and the distinct optima
/// within [`REFINE_WITHIN`] of the best are refined on the whole map (the
/// shared parameters carry over unchanged).
fn solve(
    data: &MapData<'_>,
    s: &MapSettings,
    n_exp: usize,
    xw: &[f64],
    chirp0: &[f64],
    fwhm: f64,
) -> Option<Solved> {
    let model = trace_model(s, n_exp);
    let sub = subsample(data, xw);
    let (coarse, cxw) = match &sub {
        Some((wl, d, x)) => (
            MapData {
                source: data.source,
                wavelength_nm: wl,
                delay_ps: data.delay_ps,
                data: d,
            },
            x.as_slice(),
        ),
        None => (*data, xw),
    };
    let ys = rows(&coarse);
    let refs: Vec<&[f64]> = ys.iter().map(|r| r.as_slice()).collect();
    let mut found: Vec<(Solved, Params)> = vec![];
    for (_, params, q0) in starts(&coarse, &model, &refs, cxw, chirp0, fwhm, s.chirp_order) {
        let Some(sol) = descend(&model, &coarse, &refs, cxw, s, &params, &q0) else {
            continue;
        };
        // one refinement per distinct coarse optimum
        if !found
            .iter()
            .any(|(f, _)| (f.chi2 - sol.chi2).abs() <= 1e-6 * sol.chi2)
        {
            found.push((sol, params));
        }
    }
    if sub.is_none() {
        return found
            .into_iter()
            .map(|f| f.0)
            .min_by(|a, b| a.chi2.total_cmp(&b.chi2));
    }
    let ys = rows(data);
    let refs: Vec<&[f64]> = ys.iter().map(|r| r.as_slice()).collect();
    let coarse_nfev: usize = found.iter().map(|f| f.0.nfev).sum();
    let best = found.iter().map(|f| f.0.chi2).fold(f64::INFINITY, f64::min);
    found
        .iter()
        .filter(|(sol, _)| sol.chi2 <= (1.0 + REFINE_WITHIN) * best)
        .filter_map(|(sol, params)| descend(&model, data, &refs, xw, s, params, &sol.q))
        .min_by(|a, b| a.chi2.total_cmp(&b.chi2))
        .map(|full| Solved {
            nfev: full.nfev + coarse_nfev,
            ..full
        })
}

/// Global fit of the map.
pub fn fit(data: &MapData<'_>, s: &MapSettings) -> Result<MapFit> {
    s.validate()?;
    let (nl, nt) = data.data.dim();
    let top = s.components.unwrap_or(s.max_components);
    data.validate(n_free(s, top, 1))?;
    let lambda_ref = s.lambda_ref_nm.unwrap_or_else(|| {
        let (lo, hi) = data
            .wavelength_nm
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        0.5 * (lo + hi)
    });
    let xw = reduced_wavelengths(data, lambda_ref);
    let base = trace_model(s, 1);
    let (t0, fwhm) = start::irf(&base, data);
    let mut chirp0 = match &s.chirp_start {
        Some(p) => start::recentred(p, lambda_ref, s.chirp_order),
        None if s.chirp_order > 0 => start::chirp(&base, data, &xw, s.chirp_order),
        None => vec![t0],
    };
    if !chirp0[0].is_finite() {
        chirp0[0] = t0;
    }
    let tried: Vec<usize> = match s.components {
        Some(n) => vec![n],
        None => (1..=s.max_components).collect(),
    };
    let m = nl * nt;
    let mut solved = vec![];
    for &n in &tried {
        if let Some(sol) = solve(data, s, n, &xw, &chirp0, fwhm) {
            let b = bic(m, n_free(s, n, nl), sol.chi2);
            solved.push((n, b, sol));
        }
    }
    let Some(pick) = (0..solved.len()).min_by(|&a, &b| solved[a].1.total_cmp(&solved[b].1)) else {
        return Err(Error::Fit(
            "global fit: the model is not finite at any start (check the delay axis and units)"
                .into(),
        ));
    };
    let candidates = solved
        .iter()
        .enumerate()
        .map(|(i, (n, b, sol))| Candidate {
            n_exp: *n,
            chisqr: sol.chi2,
            bic: *b,
            converged: sol.termination.success(),
            chosen: i == pick,
        })
        .collect();
    let (n, _, sol) = solved.swap_remove(pick);
    report(data, s, n, lambda_ref, &xw, sol, candidates)
}
