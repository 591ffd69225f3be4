//! Levenberg-Marquardt driver: bounds through internal variables, optional
//! per-point sigma weights, covariance from the Jacobian at the optimum.
//!
//! Minimises chi^2 = sum_i ((f(x_i; p) - y_i) / sigma_i)^2 with the MINPACK
//! port of the `levenberg-marquardt` crate. Standard errors come from
//! C = (J^T J)^-1 of the weighted Jacobian with respect to the external
//! (user-facing) parameters; C is multiplied by chi^2_red = chi^2 / (N - P)
//! unless the sigmas are taken as absolute.

use super::fastmath::{axpy, dot};
use super::marquardt::{self, Residuals, Settings};
use super::model::Model;
use super::params::Params;
use super::result::{FitResult, Termination};
use super::varpro::{Projection, projectable};
use crate::error::{Error, Result};
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::{DMatrix, DVector, Dyn, Owned};

/// Which least-squares algorithm runs the fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Solver {
    /// spinfit's normal-equation Levenberg-Marquardt ([`super::marquardt`]):
    /// fast for the small, well-conditioned physics fits.
    #[default]
    Marquardt,
    /// The MINPACK port of the `levenberg-marquardt` crate (QR-based trust
    /// region): slower, more robust on badly conditioned problems.
    Minpack,
}

/// Optimiser settings.
#[derive(Debug, Clone, Copy)]
pub struct LmOptions {
    /// Relative reduction of chi^2 below which the fit stops.
    pub ftol: f64,
    /// Relative parameter change below which the fit stops.
    pub xtol: f64,
    /// Orthogonality of residuals and Jacobian columns below which it stops.
    pub gtol: f64,
    /// Maximum residual evaluations per (free parameter + 1), MINPACK's factor.
    pub patience: usize,
    /// Scale the covariance by reduced chi-square even when sigmas are given.
    pub scale_covar: bool,
    pub solver: Solver,
    /// Fit separable models by variable projection ([`super::varpro`]):
    /// only their nonlinear parameters are searched. Off: Levenberg-Marquardt
    /// on every parameter (the same optimum, for comparison).
    pub projection: bool,
}

impl Default for LmOptions {
    fn default() -> Self {
        LmOptions {
            ftol: 1e-14,
            xtol: 1e-14,
            gtol: 1e-14,
            patience: 400,
            scale_covar: false,
            solver: Solver::default(),
            projection: true,
        }
    }
}

impl LmOptions {
    /// Tolerances finite and in [0, 1); at least one evaluation per
    /// parameter. Every fit checks its options here first.
    pub fn validate(&self) -> Result<()> {
        for (name, v) in [
            ("ftol", self.ftol),
            ("xtol", self.xtol),
            ("gtol", self.gtol),
        ] {
            if !(v.is_finite() && (0.0..1.0).contains(&v)) {
                return Err(Error::setting(
                    name,
                    format!("{v}, expected a tolerance in [0, 1)"),
                ));
            }
        }
        if self.patience == 0 {
            return Err(Error::setting(
                "patience",
                "0, expected at least 1 evaluation per parameter",
            ));
        }
        Ok(())
    }
}

/// The fit seen by a solver: weighted residuals and their Jacobian with
/// respect to the internal (unbounded) variables of the free parameters.
struct Objective<'a, M: Model + ?Sized> {
    model: &'a M,
    x: &'a [f64],
    y: &'a [f64],
    w: Option<&'a [f64]>,
    params: &'a Params,
    free: Vec<usize>,
    /// External values of all parameters at the last `q` seen.
    p: Vec<f64>,
    full: Vec<f64>,
}

impl<M: Model + ?Sized> Objective<'_, M> {
    fn set(&mut self, q: &[f64]) {
        for (k, &j) in self.free.iter().enumerate() {
            self.p[j] = self.params.0[j].to_external(q[k]);
        }
    }
}

/// r = (model - y) w in place (w = 1 when None); false when not finite.
fn weighted_residuals(r: &mut [f64], y: &[f64], w: Option<&[f64]>) -> bool {
    match w {
        Some(w) => {
            for ((ri, yi), wi) in r.iter_mut().zip(y).zip(w) {
                *ri = (*ri - yi) * wi;
            }
        }
        None => {
            for (ri, yi) in r.iter_mut().zip(y) {
                *ri -= yi;
            }
        }
    }
    r.iter().fold(true, |ok, v| ok & v.is_finite())
}

impl<M: Model + ?Sized> Residuals for Objective<'_, M> {
    fn m(&self) -> usize {
        self.x.len()
    }
    fn residuals(&mut self, q: &[f64], r: &mut [f64]) -> bool {
        self.set(q);
        self.model.eval(&self.p, self.x, r);
        weighted_residuals(r, self.y, self.w)
    }
    fn residuals_jacobian(&mut self, q: &[f64], r: &mut [f64], j: &mut [f64]) -> bool {
        self.set(q);
        self.model.eval_jacobian(&self.p, self.x, r, &mut self.full);
        weighted_residuals(r, self.y, self.w) && self.transform_jacobian(q, j)
    }
    fn jacobian(&mut self, q: &[f64], j: &mut [f64]) -> bool {
        self.set(q);
        self.model.jacobian(&self.p, self.x, &mut self.full);
        self.transform_jacobian(q, j)
    }
}

impl<M: Model + ?Sized> Objective<'_, M> {
    /// Internal-variable, weighted Jacobian of the free parameters from the
    /// model's full Jacobian in `self.full`.
    fn transform_jacobian(&self, q: &[f64], j: &mut [f64]) -> bool {
        let m = self.x.len();
        for (k, &pj) in self.free.iter().enumerate() {
            let d = self.params.0[pj].d_external(q[k]);
            let col = &self.full[pj * m..(pj + 1) * m];
            let out = &mut j[k * m..(k + 1) * m];
            // plain zipped loops (no per-element Option or index checks) vectorise
            match self.w {
                Some(w) => {
                    for ((o, c), wi) in out.iter_mut().zip(col).zip(w) {
                        *o = c * d * wi;
                    }
                }
                None => {
                    for (o, c) in out.iter_mut().zip(col) {
                        *o = c * d;
                    }
                }
            }
        }
        // without an early exit, so that this loop vectorises too
        j.iter().fold(true, |ok, v| ok & v.is_finite())
    }
}

/// Adapter of [`Objective`] to the MINPACK port's trait.
struct Minpack<'a, 'b, M: Model + ?Sized> {
    obj: &'b mut Objective<'a, M>,
    q: DVector<f64>,
}

impl<M: Model + ?Sized> LeastSquaresProblem<f64, Dyn, Dyn> for Minpack<'_, '_, M> {
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, Dyn>;
    type ParameterStorage = Owned<f64, Dyn>;

    fn set_params(&mut self, q: &DVector<f64>) {
        self.q.copy_from(q);
    }
    fn params(&self) -> DVector<f64> {
        self.q.clone()
    }
    fn residuals(&self) -> Option<DVector<f64>> {
        // the trait takes &self; evaluate on a scratch copy of the objective
        let mut r = DVector::zeros(self.obj.x.len());
        let mut o = Objective {
            p: self.obj.p.clone(),
            full: vec![],
            free: self.obj.free.clone(),
            ..*self.obj
        };
        o.residuals(self.q.as_slice(), r.as_mut_slice())
            .then_some(r)
    }
    fn jacobian(&self) -> Option<DMatrix<f64>> {
        let m = self.obj.x.len();
        let mut j = DMatrix::zeros(m, self.q.len());
        let mut o = Objective {
            p: self.obj.p.clone(),
            full: vec![0.0; self.obj.full.len()],
            free: self.obj.free.clone(),
            ..*self.obj
        };
        o.jacobian(self.q.as_slice(), j.as_mut_slice()).then_some(j)
    }
}

/// Check that data are usable for a fit: equal lengths, finite, enough points.
fn check_data(x: &[f64], y: &[f64], sigma: Option<&[f64]>, nfree: usize) -> Result<()> {
    if x.len() != y.len() {
        return Err(Error::Fit(format!(
            "x has {} points but y has {}",
            x.len(),
            y.len()
        )));
    }
    if let Some((i, _)) = x
        .iter()
        .zip(y)
        .enumerate()
        .find(|(_, (a, b))| !(a.is_finite() && b.is_finite()))
    {
        return Err(Error::Fit(format!("data point {} is not finite", i + 1)));
    }
    if let Some(s) = sigma {
        if s.len() != x.len() {
            return Err(Error::Fit(format!(
                "{} sigmas given for {} points",
                s.len(),
                x.len()
            )));
        }
        if let Some(i) = s.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
            return Err(Error::Fit(format!(
                "sigma of point {} is {}, expected a positive finite number",
                i + 1,
                s[i]
            )));
        }
    }
    if x.len() <= nfree {
        return Err(Error::Fit(format!(
            "{} data points cannot determine {} free parameters",
            x.len(),
            nfree
        )));
    }
    Ok(())
}

/// Fit `model` to (x, y) starting from `params`.
///
/// Returns a [`FitResult`] whenever the optimiser ran, including fits that did
/// not converge (see [`FitResult::success`]); errors are reserved for input
/// that cannot be fitted at all.
pub fn fit<M: Model + ?Sized>(
    model: &M,
    x: &[f64],
    y: &[f64],
    sigma: Option<&[f64]>,
    params: &Params,
    opts: &LmOptions,
) -> Result<FitResult> {
    params.validate()?;
    opts.validate()?;
    let free: Vec<usize> = (0..params.0.len()).filter(|&j| params.0[j].vary).collect();
    check_data(x, y, sigma, free.len())?;
    let w: Option<Vec<f64>> = sigma.map(|s| s.iter().map(|v| 1.0 / v).collect());
    let max_nfev = opts.patience * (free.len() + 1);
    let settings = Settings {
        ftol: opts.ftol,
        xtol: opts.xtol,
        gtol: opts.gtol,
        max_nfev,
        geodesic: false,
    };
    if opts.solver == Solver::Marquardt && opts.projection {
        let absolute = sigma.is_some() && !opts.scale_covar;
        if let Some(r) = fit_projected(model, x, y, w.as_deref(), params, &settings, absolute) {
            return Ok(r);
        }
    }
    let q0: Vec<f64> = free
        .iter()
        .map(|&j| params.0[j].to_internal(params.0[j].value))
        .collect();
    let mut obj = Objective {
        model,
        x,
        y,
        w: w.as_deref(),
        params,
        free: free.clone(),
        p: params.values(),
        full: vec![0.0; x.len() * params.0.len()],
    };
    let (q, termination, nfev) = match opts.solver {
        Solver::Marquardt => marquardt_restarting(&mut obj, &q0, &settings),
        Solver::Minpack if !obj.residuals(&q0, &mut vec![0.0; x.len()]) => (
            q0.clone(),
            Termination::Numerical {
                detail: "residuals not finite at the start".into(),
            },
            1,
        ),
        Solver::Minpack => {
            let lm = LevenbergMarquardt::new()
                .with_ftol(opts.ftol)
                .with_xtol(opts.xtol)
                .with_gtol(opts.gtol)
                .with_patience(opts.patience);
            let problem = Minpack {
                q: DVector::from_vec(q0.clone()),
                obj: &mut obj,
            };
            let (problem, report) = lm.minimize(problem);
            let q = problem.q.as_slice().to_vec();
            (
                q,
                Termination::from(&report.termination),
                report.number_of_evaluations,
            )
        }
    };
    if matches!(termination, Termination::Numerical { .. }) && nfev <= 1 {
        return Err(Error::Fit(
            "the model is not finite at the start values".into(),
        ));
    }
    obj.set(&q);
    let mut fitted = params.clone();
    for (j, v) in obj.p.iter().enumerate() {
        fitted.0[j].value = *v;
    }
    Ok(finish(
        model,
        x,
        y,
        w.as_deref(),
        fitted,
        termination,
        nfev,
        sigma.is_some() && !opts.scale_covar,
    ))
}

/// Fit by variable projection when the model is separable and its linear
/// parameters are free ([`super::varpro`]); `None` sends the fit to the full
/// model (not separable, a fixed or bounded amplitude, or a start where the
/// basis is not of full rank).
fn fit_projected<M: Model + ?Sized>(
    model: &M,
    x: &[f64],
    y: &[f64],
    w: Option<&[f64]>,
    params: &Params,
    settings: &Settings,
    absolute_sigma: bool,
) -> Option<FitResult> {
    let sep = model.separable().filter(|s| projectable(*s, params))?;
    let mut pr = Projection::new(sep, x, y, w, params);
    let q0 = pr.start();
    let (q, termination, nfev) = marquardt_restarting(&mut pr, &q0, settings);
    if matches!(termination, Termination::Numerical { .. }) && nfev <= 1 {
        return None; // not finite or not of full rank at the start
    }
    // the last evaluation may have been a refused trial step: project at q
    if !pr.projected_at(&q) && !pr.residuals(&q, &mut vec![0.0; x.len()]) {
        return None;
    }
    let mut fitted = params.clone();
    for (p, v) in fitted.0.iter_mut().zip(pr.assembled()) {
        p.value = v;
    }
    Some(finish(
        model,
        x,
        y,
        w,
        fitted,
        termination,
        nfev,
        absolute_sigma,
    ))
}

/// [`marquardt::minimize`], restarted from the start with geodesic
/// acceleration (which keeps parameters off a plateau) when it ends flat or
/// degenerate; the better end is kept.
fn marquardt_restarting(
    obj: &mut dyn Residuals,
    q0: &[f64],
    s: &Settings,
) -> (Vec<f64>, Termination, usize) {
    let (q1, t1, n1, flat) = marquardt::minimize(obj, q0, s);
    if !(flat || degenerate(&t1)) {
        return (q1, t1, n1);
    }
    let geodesic = Settings {
        geodesic: true,
        ..*s
    };
    let (q2, t2, n2, _) = marquardt::minimize(obj, q0, &geodesic);
    if chi2(obj, &q2) < chi2(obj, &q1) {
        (q2, t2, n1 + n2)
    } else {
        (q1, t1, n1 + n2)
    }
}

/// chi^2 at internal parameters `q` (infinite where not finite).
fn chi2(obj: &mut dyn Residuals, q: &[f64]) -> f64 {
    let mut r = vec![0.0; obj.m()];
    if obj.residuals(q, &mut r) {
        r.iter().map(|v| v * v).sum()
    } else {
        f64::INFINITY
    }
}

/// Whether a fit ended where it cannot be trusted to have found the
/// minimum: out of budget or no downhill step (a vanished Jacobian column,
/// a parameter run off onto a plateau, is reported by the solver itself).
fn degenerate(t: &Termination) -> bool {
    matches!(
        t,
        Termination::MaxEvaluations | Termination::NoImprovementPossible { .. }
    )
}

/// `fit`'s statistics redone at `params` (the same optimum with its
/// parameters renumbered, e.g. the faster component first), on the data
/// and sigmas `fit` was made on; its termination, evaluations and warnings
/// kept.
pub(crate) fn refinish<M: Model + ?Sized>(
    model: &M,
    sigma: Option<&[f64]>,
    fit: FitResult,
    params: Params,
) -> FitResult {
    let w: Option<Vec<f64>> = sigma.map(|s| s.iter().map(|v| 1.0 / v).collect());
    let mut r = finish(
        model,
        &fit.x,
        &fit.y,
        w.as_deref(),
        params,
        fit.termination.clone(),
        fit.nfev,
        fit.absolute_sigma,
    );
    r.warnings = fit.warnings;
    r
}

/// Statistics and covariance at the final parameters.
#[allow(clippy::too_many_arguments)]
pub(crate) fn finish<M: Model + ?Sized>(
    model: &M,
    x: &[f64],
    y: &[f64],
    w: Option<&[f64]>,
    params: Params,
    termination: Termination,
    nfev: usize,
    absolute_sigma: bool,
) -> FitResult {
    let m = x.len();
    let p = params.values();
    let mut best = vec![0.0; m];
    let mut full = vec![0.0; m * p.len()];
    model.eval_jacobian(&p, x, &mut best, &mut full);
    if let Some(w) = w {
        for col in full.chunks_mut(m) {
            for (v, wi) in col.iter_mut().zip(w) {
                *v *= wi;
            }
        }
    }
    let residual: Vec<f64> = best.iter().zip(y).map(|(f, yi)| f - yi).collect();
    let chisqr: f64 = residual
        .iter()
        .enumerate()
        .map(|(i, r)| (r * w.map_or(1.0, |w| w[i])).powi(2))
        .sum();
    let free: Vec<usize> = (0..p.len()).filter(|&j| params.0[j].vary).collect();
    let nvarys = free.len();
    let dof = m.saturating_sub(nvarys).max(1);
    let redchi = chisqr / dof as f64;
    // Covariance over free parameters that are not stuck on a bound: a
    // parameter on a bound has no symmetric error.
    let active: Vec<usize> = free
        .iter()
        .copied()
        .filter(|&j| !params.0[j].at_bound())
        .collect();
    let mut jac = Vec::with_capacity(m * active.len());
    for &k in &active {
        jac.extend_from_slice(&full[k * m..(k + 1) * m]);
    }
    let scale = if absolute_sigma { 1.0 } else { redchi };
    let cov = covariance(jac, m).map(|c| c * scale);
    let mut stderr = vec![None; p.len()];
    let mut correl = vec![vec![f64::NAN; p.len()]; p.len()];
    if let Some(c) = &cov {
        for (a, &ja) in active.iter().enumerate() {
            stderr[ja] = Some(c[(a, a)].max(0.0).sqrt());
            for (b, &jb) in active.iter().enumerate() {
                correl[ja][jb] = c[(a, b)] / (c[(a, a)] * c[(b, b)]).sqrt();
            }
        }
    }
    let n = m as f64;
    let k = nvarys as f64;
    let ll = n * (chisqr / n).max(f64::MIN_POSITIVE).ln();
    FitResult {
        model: model.name(),
        params,
        stderr,
        correl,
        chisqr,
        redchi,
        aic: ll + 2.0 * k,
        bic: ll + n.ln() * k,
        ndata: m,
        nvarys,
        nfev,
        termination,
        covariance_ok: cov.is_some(),
        absolute_sigma,
        x: x.to_vec(),
        y: y.to_vec(),
        best_fit: best,
        residual,
        warnings: vec![],
    }
}

/// (J^T J)^-1 by SVD of the column-major m-row Jacobian `j`; `None` when
/// J is rank deficient (condition > 1e14).
fn covariance(mut j: Vec<f64>, m: usize) -> Option<DMatrix<f64>> {
    let n = j.len().checked_div(m).unwrap_or(0);
    if n == 0 {
        return Some(DMatrix::zeros(0, 0));
    }
    // Scale columns so the conditioning test is about the parameters'
    // independence, not their units.
    let mut norms = Vec::with_capacity(n);
    for col in j.chunks_mut(m) {
        let norm = dot(col, col).sqrt();
        if norm == 0.0 || !norm.is_finite() {
            return None;
        }
        col.iter_mut().for_each(|v| *v /= norm);
        norms.push(norm);
    }
    // J = Q R: the singular values and right vectors of J are those of the
    // small R, so decompose that instead of the tall N x P matrix
    let r = if m > n {
        householder_r(&mut j, m, n)
    } else {
        DMatrix::from_column_slice(m, n, &j)
    };
    let svd = r.svd(false, true);
    let smax = svd.singular_values.max();
    if svd.singular_values.iter().any(|s| *s <= smax * 1e-14) {
        return None;
    }
    let vt = svd.v_t?;
    let mut c = DMatrix::zeros(n, n);
    for a in 0..n {
        for b in 0..n {
            let mut s = 0.0;
            for k in 0..n {
                s += vt[(k, a)] * vt[(k, b)] / svd.singular_values[k].powi(2);
            }
            c[(a, b)] = s / (norms[a] * norms[b]);
        }
    }
    Some(c)
}

/// R of the Householder QR of the column-major m x n matrix `a` (m > n),
/// which is overwritten. Written here because nalgebra's generic QR of the
/// tall Jacobian took a tenth of a ladder's run time; this one runs on the
/// vectorised dot and axpy kernels and is checked against it below.
fn householder_r(a: &mut [f64], m: usize, n: usize) -> DMatrix<f64> {
    let mut r = DMatrix::zeros(n, n);
    for k in 0..n {
        let (done, rest) = a.split_at_mut((k + 1) * m);
        let v = &mut done[k * m + k..];
        let norm = dot(v, v).sqrt();
        if norm == 0.0 {
            // nothing to reflect: row k of R is the columns' row k as it is
            for (jj, col) in rest.chunks(m).enumerate() {
                r[(k, k + 1 + jj)] = col[k];
            }
            continue;
        }
        let alpha = if v[0] > 0.0 { -norm } else { norm };
        v[0] -= alpha;
        let vv = dot(v, v);
        r[(k, k)] = alpha;
        for (jj, col) in rest.chunks_mut(m).enumerate() {
            let c = &mut col[k..];
            let f = -2.0 * dot(v, c) / vv;
            axpy(f, v, c);
            r[(k, k + 1 + jj)] = c[0];
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn householder_r_gives_nalgebras_r_up_to_row_signs() {
        let (m, n) = (57, 6);
        let a: Vec<f64> = (0..m * n)
            .map(|i| ((i * 7919 % 101) as f64 / 50.0 - 1.0) + (i % n) as f64 * 0.01)
            .collect();
        let ours = householder_r(&mut a.clone(), m, n);
        let theirs = DMatrix::from_column_slice(m, n, &a).qr().r();
        for i in 0..n {
            let sign = (ours[(i, i)] * theirs[(i, i)]).signum();
            for k in 0..n {
                let d = ours[(i, k)] - sign * theirs[(i, k)];
                assert!(
                    d.abs() < 1e-12,
                    "R[{i},{k}]: {} vs {}",
                    ours[(i, k)],
                    theirs[(i, k)]
                );
            }
        }
    }

    #[test]
    fn nonsense_options_are_refused_by_name_before_any_fit() {
        let ok = LmOptions::default();
        assert!(ok.validate().is_ok());
        for (opts, name) in [
            (LmOptions { ftol: -1e-8, ..ok }, "ftol"),
            (
                LmOptions {
                    xtol: f64::NAN,
                    ..ok
                },
                "xtol",
            ),
            (LmOptions { gtol: 2.0, ..ok }, "gtol"),
            (LmOptions { patience: 0, ..ok }, "patience"),
        ] {
            let e = opts.validate().unwrap_err().to_string();
            assert!(e.contains(name), "{e}");
        }
    }
}
