//! What a global fit gives: lifetimes, chirp and IRF with their errors,
//! the spectra (DAS, EAS) with theirs, statistics, the SVD of data and
//! residual, and the notes that say when not to trust them.

use super::projection::MapProjection;
use super::settings::{MapData, MapSettings};
use super::shared::{Solved, bic, n_free, rows, trace_model, trace_params};
use super::{covariance, eas};
use crate::error::{Error, Result};
use crate::fit::decay::ExpDecay;
use crate::fit::model::Model;
use crate::physics::Quantity;
use ndarray::Array2;

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

impl MapFit {
    /// Spectra held per component (`v[c][l]`, e.g. `amplitude`, `eas`) as
    /// one array, components x wavelengths.
    pub fn table(&self, v: &[Vec<f64>]) -> Array2<f64> {
        Array2::from_shape_fn((v.len(), self.wavelength_nm.len()), |(c, l)| v[c][l])
    }
}

/// Errors, spectra, SVD and notes of the chosen solution.
pub(super) fn report(
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
