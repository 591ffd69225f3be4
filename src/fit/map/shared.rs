//! What the search and the report share: the trace model every
//! wavelength is fitted with, its parameters, a solution, and the
//! counting of free parameters for BIC.

use super::settings::{MapData, MapSettings};
use crate::fit::decay::ExpDecay;
use crate::fit::model::Model;
use crate::fit::params::Params;

/// One converged solution for a number of components.
pub(super) struct Solved {
    pub(super) q: Vec<f64>,
    pub(super) chi2: f64,
    pub(super) nfev: usize,
    pub(super) termination: crate::fit::result::Termination,
}

/// The trace model every wavelength is fitted with.
pub(super) fn trace_model(s: &MapSettings, n_exp: usize) -> ExpDecay {
    ExpDecay {
        n_exp,
        baseline: s.baseline,
        artefact: s.artefact,
    }
}

/// x_l = (lambda_l - lambda_ref) / 100 nm.
pub(super) fn reduced_wavelengths(data: &MapData<'_>, lambda_ref: f64) -> Vec<f64> {
    data.wavelength_nm
        .iter()
        .map(|l| (l - lambda_ref) / 100.0)
        .collect()
}

/// The trace model's parameters at the given lifetimes, t0 and width.
pub(super) fn trace_params(model: &ExpDecay, taus: &[f64], t0: f64, fwhm: f64) -> Params {
    let mut p = model.template();
    for (k, &tau) in taus.iter().enumerate() {
        p.get_mut(&model.names(k).1).expect("template").value = tau;
    }
    p.get_mut("t0").expect("template").value = t0;
    p.get_mut("irf_fwhm").expect("template").value = fwhm;
    p
}

pub(super) fn rows(data: &MapData<'_>) -> Vec<Vec<f64>> {
    data.data.rows().into_iter().map(|r| r.to_vec()).collect()
}

/// BIC of a solution with every amplitude counted.
pub(super) fn bic(m: usize, p: usize, chi2: f64) -> f64 {
    let m = m as f64;
    m * (chi2 / m).ln() + p as f64 * m.ln()
}

/// Free parameters of an `n_exp` fit: shared plus every amplitude.
pub(super) fn n_free(s: &MapSettings, n_exp: usize, n_wl: usize) -> usize {
    let model = trace_model(s, n_exp);
    n_exp + 2 + s.chirp_order + n_wl * crate::fit::model::Separable::n_basis(&model)
}
