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
mod start;

use crate::error::{Error, Result};
use crate::fit::decay::{Baseline, ExpDecay};
use crate::fit::marquardt::{self, Residuals, Settings};
use crate::fit::model::Model;
use crate::fit::params::Params;
use crate::physics::Quantity;
use ndarray::Array2;
use projection::MapProjection;

/// Most exponentials a map fit takes.
pub const MAX_COMPONENTS: usize = 6;
/// Highest chirp polynomial order.
pub const MAX_CHIRP_ORDER: usize = 4;
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

/// What to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct MapSettings {
    /// Number of exponentials, or None: 1..=`max_components` by BIC.
    pub components: Option<usize>,
    pub max_components: usize,
    pub baseline: Baseline,
    /// The coherent artefact (IRF and its first two derivatives).
    pub artefact: bool,
    /// Order K of the chirp polynomial (0: one t0 for all wavelengths).
    pub chirp_order: usize,
    /// Centre of the chirp polynomial (nm); None: the middle of the range.
    pub lambda_ref_nm: Option<f64>,
    /// Residual evaluations per free shared parameter (+1).
    pub patience: usize,
    /// A chirp to start from (KiMoPack's file): t0 (ps) as a polynomial in
    /// the wavelength (nm), coefficients highest power first, of degree at
    /// most `chirp_order`; refined by the fit.
    pub chirp_start: Option<Vec<f64>>,
}

impl Default for MapSettings {
    fn default() -> Self {
        MapSettings {
            components: None,
            max_components: 4,
            baseline: Baseline {
                offset: true,
                step: false,
            },
            artefact: false,
            chirp_order: 0,
            lambda_ref_nm: None,
            patience: 100,
            chirp_start: None,
        }
    }
}

impl MapSettings {
    /// Every setting in its range.
    pub fn validate(&self) -> Result<()> {
        let range = |name: &str, v: usize, hi: usize| {
            if (1..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Error::setting(name, format!("{v}, expected 1 to {hi}")))
            }
        };
        if let Some(n) = self.components {
            range("components", n, MAX_COMPONENTS)?;
        }
        range("max-components", self.max_components, MAX_COMPONENTS)?;
        if self.chirp_order > MAX_CHIRP_ORDER {
            return Err(Error::setting(
                "chirp-order",
                format!("{}, expected 0 to {MAX_CHIRP_ORDER}", self.chirp_order),
            ));
        }
        if let Some(l) = self.lambda_ref_nm
            && !(l.is_finite() && l > 0.0)
        {
            return Err(Error::setting(
                "lambda-ref",
                format!("{l} nm, expected a positive wavelength"),
            ));
        }
        if let Some(p) = &self.chirp_start
            && (p.is_empty() || p.len() > self.chirp_order + 1 || p.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::setting(
                "chirp",
                format!(
                    "{} coefficients, expected 1 to chirp-order + 1 = {} finite numbers",
                    p.len(),
                    self.chirp_order + 1
                ),
            ));
        }
        range("patience", self.patience, 1 << 20)
    }
}

/// A map as the fit takes it: `data[[l, j]]` at wavelength l, delay j.
#[derive(Debug, Clone, Copy)]
pub struct MapData<'a> {
    /// The file (for messages).
    pub source: &'a str,
    pub wavelength_nm: &'a [f64],
    pub delay_ps: &'a [f64],
    pub data: &'a Array2<f64>,
}

impl MapData<'_> {
    /// Axes that match the data, finite, delays increasing, enough points.
    fn validate(&self, n_params: usize) -> Result<()> {
        let (nl, nt) = self.data.dim();
        if nl != self.wavelength_nm.len() || nt != self.delay_ps.len() {
            return Err(Error::input(
                self.source,
                format!(
                    "map of {nl} x {nt} values with {} wavelengths and {} delays",
                    self.wavelength_nm.len(),
                    self.delay_ps.len()
                ),
            ));
        }
        if nl == 0 || nt < 2 * n_params.max(4) {
            return Err(Error::input(
                self.source,
                format!(
                    "map of {nl} wavelengths x {nt} delays is too small for a global fit \
                 (at least 1 wavelength and {} delays)",
                    2 * n_params.max(4)
                ),
            ));
        }
        if !self.delay_ps.windows(2).all(|w| w[1] > w[0]) {
            return Err(Error::input(
                self.source,
                "map delays must increase strictly for a global fit",
            ));
        }
        let first = self.data[[0, 0]];
        if first.is_finite() && self.data.iter().all(|v| *v == first) {
            return Err(Error::input(
                self.source,
                format!(
                    "every value of the map is {first}: it carries no signal to fit \
                     (a dead detector or an empty export?)"
                ),
            ));
        }
        if let Some(((l, j), _)) = self.data.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::input(
                self.source,
                format!(
                    "map value at {} nm, {} ps is not a number; crop it away with \
                 --wl-range/--t-range",
                    self.wavelength_nm[l], self.delay_ps[j]
                ),
            ));
        }
        Ok(())
    }
}

/// One number of components tried.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub n_exp: usize,
    pub chisqr: f64,
    pub bic: f64,
    pub converged: bool,
    pub chosen: bool,
}

/// Fit statistics (m data points, p free parameters, amplitudes included).
#[derive(Debug, Clone, serde::Serialize)]
pub struct MapStatistics {
    pub ndata: usize,
    pub nvarys: usize,
    pub nfev: usize,
    pub chisqr: f64,
    pub redchi: f64,
    pub bic: f64,
}

/// The result of a global fit.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MapFit {
    pub model: String,
    pub n_exp: usize,
    /// Lifetimes (ps), in the order fitted (sorted shortest first).
    pub lifetimes: Vec<Quantity>,
    /// 1/tau (ps^-1).
    pub rates: Vec<Quantity>,
    pub t0: Quantity,
    pub lambda_ref_nm: f64,
    /// d_k (ps per (100 nm)^k), k = 1..K.
    pub chirp: Vec<Quantity>,
    pub irf_fwhm: Quantity,
    pub converged: bool,
    pub termination: String,
    pub statistics: MapStatistics,
    pub wavelength_nm: Vec<f64>,
    /// Names of the amplitude columns: das_1..das_N, step, offset, artefact_0..2.
    pub columns: Vec<String>,
    /// amplitude[c][l]: column c at wavelength l, with its standard error.
    pub amplitude: Vec<Vec<f64>>,
    pub amplitude_stderr: Vec<Vec<f64>>,
    /// Evolution-associated spectra of the sequential scheme (species in
    /// the order of the lifetimes, [`eas`]), eas[i][l], with errors at
    /// fixed rates; empty when two lifetimes are equal.
    pub eas: Vec<Vec<f64>>,
    pub eas_stderr: Vec<Vec<f64>>,
    pub candidates: Vec<Candidate>,
    /// Leading singular values of the data and of the residual map.
    pub svd_data: Vec<f64>,
    pub svd_residual: Vec<f64>,
    pub notes: Vec<String>,
    #[serde(skip)]
    pub delay_ps: Vec<f64>,
    #[serde(skip)]
    pub fitted: Array2<f64>,
    #[serde(skip)]
    pub residual: Array2<f64>,
}

/// One converged solution for a number of components.
struct Solved {
    q: Vec<f64>,
    chi2: f64,
    nfev: usize,
    termination: crate::fit::result::Termination,
}

/// The trace model every wavelength is fitted with.
fn trace_model(s: &MapSettings, n_exp: usize) -> ExpDecay {
    ExpDecay {
        n_exp,
        baseline: s.baseline,
        artefact: s.artefact,
    }
}

/// x_l = (lambda_l - lambda_ref) / 100 nm.
fn reduced_wavelengths(data: &MapData<'_>, lambda_ref: f64) -> Vec<f64> {
    data.wavelength_nm
        .iter()
        .map(|l| (l - lambda_ref) / 100.0)
        .collect()
}

/// The trace model's parameters at the given lifetimes, t0 and width.
fn trace_params(model: &ExpDecay, taus: &[f64], t0: f64, fwhm: f64) -> Params {
    let mut p = model.template();
    for (k, &tau) in taus.iter().enumerate() {
        p.get_mut(&model.names(k).1).expect("template").value = tau;
    }
    p.get_mut("t0").expect("template").value = t0;
    p.get_mut("irf_fwhm").expect("template").value = fwhm;
    p
}

fn rows(data: &MapData<'_>) -> Vec<Vec<f64>> {
    data.data.rows().into_iter().map(|r| r.to_vec()).collect()
}

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
    for (w, chirp) in widths
        .iter()
        .flat_map(|w| chirps.iter().map(move |c| (*w, *c)))
    {
        let taus = start::lifetimes(model, data, chirp0[0], w, 1);
        for (taus, shift) in taus.iter().flat_map(|t| T0_SHIFTS.map(|s| (t, s))) {
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
    xw: &[f64],
    s: &MapSettings,
    params: &Params,
    q0: &[f64],
) -> Option<Solved> {
    let ys = rows(data);
    let refs: Vec<&[f64]> = ys.iter().map(|r| r.as_slice()).collect();
    let mut pr = MapProjection::new(
        model,
        data.delay_ps,
        &refs,
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
        let Some(sol) = descend(&model, &coarse, cxw, s, &params, &q0) else {
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
    let coarse_nfev: usize = found.iter().map(|f| f.0.nfev).sum();
    let best = found.iter().map(|f| f.0.chi2).fold(f64::INFINITY, f64::min);
    found
        .iter()
        .filter(|(sol, _)| sol.chi2 <= (1.0 + REFINE_WITHIN) * best)
        .filter_map(|(sol, params)| descend(&model, data, xw, s, params, &sol.q))
        .min_by(|a, b| a.chi2.total_cmp(&b.chi2))
        .map(|full| Solved {
            nfev: full.nfev + coarse_nfev,
            ..full
        })
}

/// BIC of a solution with every amplitude counted.
fn bic(m: usize, p: usize, chi2: f64) -> f64 {
    let m = m as f64;
    m * (chi2 / m).ln() + p as f64 * m.ln()
}

/// Free parameters of an `n_exp` fit: shared plus every amplitude.
fn n_free(s: &MapSettings, n_exp: usize, n_wl: usize) -> usize {
    let model = trace_model(s, n_exp);
    n_exp + 2 + s.chirp_order + n_wl * crate::fit::model::Separable::n_basis(&model)
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

/// Errors, spectra, SVD and notes of the chosen solution.
fn report(
    data: &MapData<'_>,
    s: &MapSettings,
    n_exp: usize,
    lambda_ref: f64,
    xw: &[f64],
    sol: Solved,
    candidates: Vec<Candidate>,
) -> Result<MapFit> {
    let model = trace_model(s, n_exp);
    let nb = crate::fit::model::Separable::n_basis(&model);
    let ys = rows(data);
    let refs: Vec<&[f64]> = ys.iter().map(|r| r.as_slice()).collect();
    let (nl, nt) = data.data.dim();
    // internal -> external through the trace model's own transforms
    let template = model.template();
    let ext = |name: &str, q: f64| {
        let p = template.get(name).expect("template");
        (p.to_external(q), p.d_external(q).abs())
    };
    let kc = n_exp + 1 + s.chirp_order;
    let taus: Vec<f64> = (0..n_exp)
        .map(|k| ext(&model.names(k).1, sol.q[k]).0)
        .collect();
    let fwhm = ext("irf_fwhm", sol.q[kc]).0;
    let params = trace_params(&model, &taus, sol.q[n_exp], fwhm);
    let mut pr = MapProjection::new(
        &model,
        data.delay_ps,
        &refs,
        xw.to_vec(),
        s.chirp_order,
        &params,
    );
    let err = covariance::errors(&mut pr, &sol.q, nb)
        .ok_or_else(|| Error::Fit("global fit: the model is not finite at the optimum".into()))?;
    let se = |i: usize, d: f64| {
        err.cov
            .as_ref()
            .map_or(f64::NAN, |c| c[(i, i)].max(0.0).sqrt() * d)
    };
    let q = |value, stderr, unit| Quantity {
        value,
        stderr,
        unit,
    };
    let lifetimes: Vec<Quantity> = (0..n_exp)
        .map(|k| {
            let (v, d) = ext(&model.names(k).1, sol.q[k]);
            q(v, se(k, d), "ps")
        })
        .collect();
    let rates: Vec<Quantity> = lifetimes
        .iter()
        .map(|t| q(1.0 / t.value, t.stderr / (t.value * t.value), "ps^-1"))
        .collect();
    let chirp = (0..s.chirp_order)
        .map(|k| q(sol.q[n_exp + 1 + k], se(n_exp + 1 + k, 1.0), "ps"))
        .collect();
    let (fv, fd) = ext("irf_fwhm", sol.q[kc]);
    let mut amplitude = vec![vec![0.0; nl]; nb];
    let mut amplitude_stderr = vec![vec![0.0; nl]; nb];
    let mut fitted = Array2::zeros((nl, nt));
    for l in 0..nl {
        for j in 0..nb {
            amplitude[j][l] = pr.traces[l].c[j];
            amplitude_stderr[j][l] = err.amplitude[l][j];
        }
        for i in 0..nt {
            fitted[[l, i]] = data.data[[l, i]] + err.residual[l * nt + i];
        }
    }
    let residual = &fitted - data.data;
    // shortest lifetime first, its spectrum with it
    let mut order: Vec<usize> = (0..n_exp).collect();
    order.sort_by(|&a, &b| lifetimes[a].value.total_cmp(&lifetimes[b].value));
    let lifetimes: Vec<Quantity> = order.iter().map(|&k| lifetimes[k]).collect();
    let rates = order.iter().map(|&k| rates[k]).collect();
    for v in [&mut amplitude, &mut amplitude_stderr] {
        let das: Vec<Vec<f64>> = order.iter().map(|&k| v[k].clone()).collect();
        v.splice(..n_exp, das);
    }
    let das_cov: Vec<nalgebra::DMatrix<f64>> = err
        .amplitude_cov
        .iter()
        .map(|c| nalgebra::DMatrix::from_fn(n_exp, n_exp, |a, b| c[(order[a], order[b])]))
        .collect();
    let kv: Vec<f64> = lifetimes.iter().map(|t| 1.0 / t.value).collect();
    let (eas, eas_stderr) =
        eas::evolution_associated(&kv, &amplitude[..n_exp], &das_cov).unwrap_or_default();
    let p = n_free(s, n_exp, nl);
    let m = nl * nt;
    let statistics = MapStatistics {
        ndata: m,
        nvarys: p,
        nfev: sol.nfev,
        chisqr: err.chi2,
        redchi: err.chi2 / (m as f64 - p as f64),
        bic: bic(m, p, err.chi2),
    };
    let svd_data = singular_values(data.data);
    let svd_residual = singular_values(&residual);
    let mut fit = MapFit {
        model: format!("{} (global, chirp order {})", model.name(), s.chirp_order),
        n_exp,
        lifetimes,
        rates,
        t0: q(sol.q[n_exp], se(n_exp, 1.0), "ps"),
        lambda_ref_nm: lambda_ref,
        chirp,
        irf_fwhm: q(fv, se(kc, fd), "ps"),
        converged: sol.termination.success(),
        termination: sol.termination.to_string(),
        statistics,
        wavelength_nm: data.wavelength_nm.to_vec(),
        columns: columns(&model),
        amplitude,
        amplitude_stderr,
        eas,
        eas_stderr,
        candidates,
        svd_data,
        svd_residual,
        notes: vec![],
        delay_ps: data.delay_ps.to_vec(),
        fitted,
        residual,
    };
    fit.notes = notes(&fit, s);
    Ok(fit)
}

/// Names of the amplitude columns in basis order.
fn columns(model: &ExpDecay) -> Vec<String> {
    let mut v: Vec<String> = (1..=model.n_exp).map(|k| format!("das_{k}")).collect();
    if model.baseline.step {
        v.push("step".into());
    }
    if model.baseline.offset {
        v.push("offset".into());
    }
    if model.artefact {
        v.extend((0..3).map(|k| format!("artefact_{k}")));
    }
    v
}

/// The first (up to 8) singular values of a map.
fn singular_values(a: &Array2<f64>) -> Vec<f64> {
    let (r, c) = a.dim();
    let m = nalgebra::DMatrix::from_fn(r, c, |i, j| a[[i, j]]);
    let mut s: Vec<f64> = m.singular_values().iter().copied().collect();
    s.sort_by(|a, b| b.total_cmp(a));
    s.truncate(8);
    s
}

/// What a physicist should know before trusting the numbers.
fn notes(f: &MapFit, s: &MapSettings) -> Vec<String> {
    let mut v = vec![];
    if !f.converged {
        v.push(format!("the fit did not converge: {}", f.termination));
    }
    if f.lifetimes
        .iter()
        .chain([&f.irf_fwhm])
        .any(|q| !q.stderr.is_finite())
    {
        v.push("standard errors undetermined: the shared parameters are degenerate".into());
    }
    if let Some(tau) = f.lifetimes.iter().find(|t| t.stderr > 0.5 * t.value) {
        v.push(format!(
            "a lifetime ({:.4} ps) is uncertain by more than half its value: fewer components?",
            tau.value
        ));
    }
    for w in f.lifetimes.windows(2) {
        let e = w[0].stderr.hypot(w[1].stderr);
        if w[1].value - w[0].value < (2.0 * e).max(0.01 * w[1].value) {
            v.push(format!(
                "lifetimes {:.4} and {:.4} ps coincide within their errors: two components \
                 describe one decay (fewer components?)",
                w[0].value, w[1].value
            ));
        }
    }
    let sigma = f.irf_fwhm.value / crate::fit::decay::FWHM_PER_SIGMA;
    if let Some(tau) = f.lifetimes.iter().find(|t| t.value < 0.5 * sigma) {
        v.push(format!(
            "a lifetime ({:.4} ps) is shorter than half the IRF's sigma ({sigma:.4} ps): an \
             unresolved spike at time zero{}",
            tau.value,
            if s.artefact {
                ", not a measured lifetime"
            } else {
                "; the coherent artefact (--artefact)?"
            }
        ));
    }
    let span = f.delay_ps.last().unwrap_or(&0.0) - f.delay_ps.first().unwrap_or(&0.0);
    if let Some(tau) = f.lifetimes.iter().find(|t| t.value > 3.0 * span) {
        v.push(format!(
            "a lifetime ({:.4} ps) is longer than 3x the delay window ({span:.4} ps): it is a \
             long-lived level, not a measured lifetime",
            tau.value
        ));
    }
    if let [a, b, ..] = f.svd_residual[..]
        && b > 0.0
        && a / b > 2.0
    {
        v.push(format!(
            "the residual map has structure: its first singular value is {:.2}x the second \
             (noise gives about 1x){}",
            a / b,
            if s.chirp_order == 0 {
                "; a chirp (--chirp-order) or another component?"
            } else {
                "; another component or the coherent artefact?"
            }
        ));
    }
    v
}
