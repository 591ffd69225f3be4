//! Standard errors of a map fit from the full covariance: shared nonlinear
//! variables and every wavelength's amplitudes together.
//!
//! The full Jacobian of the map is J = [J_a, blockdiag(Phi_l)] (J_a the
//! model's derivative by the shared variables, Phi_l wavelength l's basis).
//! Its inverse normal matrix has, by the Schur complement,
//!
//! nonlinear block:   C = (J_a^T P_perp J_a)^-1 = (K^T K)^-1,
//! wavelength l:      G_l^-1 + H_l C H_l^T,   H_l = G_l^-1 Phi_l^T J_a,l,
//!
//! with K the stacked Kaufman Jacobian (exactly P_perp J_a) and G_l =
//! Phi_l^T Phi_l. Every block is scaled by s^2 = chi^2 / (m - p), p the
//! number of all free parameters (shared ones plus every amplitude). The
//! (m x p) full Jacobian is never formed.

use super::projection::MapProjection;
use crate::fit::marquardt::Residuals;
use nalgebra::DMatrix;

/// Errors of the shared internal variables and of every amplitude.
pub(crate) struct Errors {
    /// C s^2 (internal variables), None when J^T J is singular.
    pub(crate) cov: Option<DMatrix<f64>>,
    /// amplitude_stderr[l][j]: wavelength l, basis column j.
    pub(crate) amplitude: Vec<Vec<f64>>,
    /// The amplitudes' covariance at each wavelength (n_basis x n_basis).
    pub(crate) amplitude_cov: Vec<DMatrix<f64>>,
    pub(crate) chi2: f64,
    pub(crate) residual: Vec<f64>,
}

/// Evaluate at `q` (the optimum) and compute the errors. `n_basis` is the
/// number of amplitudes per wavelength.
pub(crate) fn errors(pr: &mut MapProjection<'_>, q: &[f64], n_basis: usize) -> Option<Errors> {
    let (m, p) = (pr.m(), q.len());
    let mut r = vec![0.0; m];
    let mut j = vec![0.0; m * p];
    if !pr.residuals_jacobian(q, &mut r, &mut j) {
        return None;
    }
    let chi2 = pr.dot(&r, &r);
    let nl = pr.traces.len();
    let dof = m as f64 - (p + nl * n_basis) as f64;
    let s2 = if dof > 0.0 { chi2 / dof } else { f64::NAN };
    let jtj = DMatrix::from_fn(p, p, |a, b| {
        pr.dot(&j[a * m..(a + 1) * m], &j[b * m..(b + 1) * m])
    });
    let cov = jtj.clone().cholesky().map(|c| c.inverse());
    let mut amplitude = Vec::with_capacity(nl);
    let mut amplitude_cov = Vec::with_capacity(nl);
    for l in 0..nl {
        let tq = pr.trace_q(l, q);
        let (ginv, h) = pr.traces[l].linear_blocks(&tq);
        let mut hg = DMatrix::zeros(n_basis, p);
        for g in 0..p {
            let (c, f) = pr.chain(l, g);
            for i in 0..n_basis {
                hg[(i, g)] = h[c * n_basis + i] * f;
            }
        }
        let ginv = DMatrix::from_column_slice(n_basis, n_basis, &ginv);
        let full = match &cov {
            Some(c) => (ginv + &hg * c * hg.transpose()) * s2,
            None => DMatrix::from_element(n_basis, n_basis, f64::NAN),
        };
        let err = (0..n_basis).map(|i| full[(i, i)].max(0.0).sqrt()).collect();
        amplitude_cov.push(full);
        amplitude.push(err);
    }
    Some(Errors {
        cov: cov.map(|c| c * s2),
        amplitude,
        amplitude_cov,
        chi2,
        residual: r,
    })
}
