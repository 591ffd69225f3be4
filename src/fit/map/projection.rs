//! The whole map as one projected least-squares problem: one trace
//! [`Projection`] per wavelength (the engine of every trace fit), their
//! residuals stacked, their Kaufman Jacobians mapped onto the shared
//! nonlinear variables.
//!
//! Global internal variables q = (tau_1..tau_N, t0, chirp_1..chirp_K,
//! irf_fwhm) (the lifetimes and the width through their lower-bound
//! transforms, t0 and the chirp unbounded). Wavelength l sees its trace
//! model's variables
//!
//! q_l = (tau_1..tau_N, t0 + sum_k chirp_k x_l^k, irf_fwhm),
//! x_l = (lambda_l - lambda_ref) / 100 nm,
//!
//! so d r_l / d chirp_k = x_l^k d r_l / d t0 and the other columns are the
//! trace's own. Wavelengths are projected in parallel.

use crate::fit::decay::ExpDecay;
use crate::fit::marquardt::Residuals;
use crate::fit::params::Params;
use crate::fit::varpro::Projection;
use rayon::prelude::*;

/// The stacked problem over all wavelengths.
pub(crate) struct MapProjection<'a> {
    pub(crate) traces: Vec<Projection<'a, ExpDecay>>,
    /// x_l = (lambda_l - lambda_ref) / 100 nm.
    xw: Vec<f64>,
    n_exp: usize,
    chirp_order: usize,
    nt: usize,
    /// Per-wavelength Jacobian of its own variables (nt x (n_exp + 2)).
    local: Vec<Vec<f64>>,
}

impl<'a> MapProjection<'a> {
    /// `rows[l]` is the signal at wavelength l on the delays `t`; every
    /// wavelength starts from `params` (the trace model's parameters).
    pub(crate) fn new(
        model: &'a ExpDecay,
        t: &'a [f64],
        rows: &[&[f64]],
        xw: Vec<f64>,
        chirp_order: usize,
        params: &'a Params,
    ) -> Self {
        let traces: Vec<_> = rows
            .iter()
            .map(|y| Projection::new(model, t, y, None, params))
            .collect();
        let local = vec![vec![0.0; t.len() * (model.n_exp + 2)]; rows.len()];
        MapProjection {
            traces,
            xw,
            n_exp: model.n_exp,
            chirp_order,
            nt: t.len(),
            local,
        }
    }

    /// Number of global variables.
    pub(crate) fn n_vars(&self) -> usize {
        self.n_exp + 2 + self.chirp_order
    }

    /// The global variables from the trace model's internal start values
    /// (lifetimes, t0, width) and chirp coefficients (ps per (100 nm)^k).
    pub(crate) fn start(&self, chirp: &[f64]) -> Vec<f64> {
        let tq = self.traces[0].start();
        let mut q = tq[..self.n_exp + 1].to_vec();
        q.extend_from_slice(chirp);
        q.push(tq[self.n_exp + 1]);
        q
    }

    /// t0 at wavelength l from the global variables.
    pub(crate) fn t0_at(&self, l: usize, q: &[f64]) -> f64 {
        let n = self.n_exp;
        let mut p = 1.0;
        let mut t0 = q[n];
        for k in 0..self.chirp_order {
            p *= self.xw[l];
            t0 += q[n + 1 + k] * p;
        }
        t0
    }

    /// Wavelength l's own variables from the global ones.
    pub(crate) fn trace_q(&self, l: usize, q: &[f64]) -> Vec<f64> {
        let n = self.n_exp;
        let mut v = q[..n].to_vec();
        v.push(self.t0_at(l, q));
        v.push(q[n + 1 + self.chirp_order]);
        v
    }

    /// d (wavelength l's variables) / d (global variable g): which local
    /// column and with what factor.
    pub(crate) fn chain(&self, l: usize, g: usize) -> (usize, f64) {
        let n = self.n_exp;
        if g < n {
            (g, 1.0)
        } else if g == n {
            (n, 1.0)
        } else if g <= n + self.chirp_order {
            (n, self.xw[l].powi((g - n) as i32))
        } else {
            (n + 1, 1.0)
        }
    }
}

impl Residuals for MapProjection<'_> {
    fn m(&self) -> usize {
        self.nt * self.traces.len()
    }
    fn residuals(&mut self, q: &[f64], r: &mut [f64]) -> bool {
        let qs: Vec<Vec<f64>> = (0..self.traces.len()).map(|l| self.trace_q(l, q)).collect();
        self.traces
            .par_iter_mut()
            .zip(r.par_chunks_mut(self.nt))
            .zip(&qs)
            .map(|((p, r), q)| p.residuals(q, r))
            .reduce(|| true, |a, b| a & b)
    }
    fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
        crate::fit::fastmath::dot16(a, b)
    }
    fn jacobian(&mut self, q: &[f64], j: &mut [f64]) -> bool {
        let mut r = vec![0.0; self.m()];
        self.residuals_jacobian(q, &mut r, j)
    }
    fn residuals_jacobian(&mut self, q: &[f64], r: &mut [f64], j: &mut [f64]) -> bool {
        let qs: Vec<Vec<f64>> = (0..self.traces.len()).map(|l| self.trace_q(l, q)).collect();
        let ok = self
            .traces
            .par_iter_mut()
            .zip(r.par_chunks_mut(self.nt))
            .zip(self.local.par_iter_mut())
            .zip(&qs)
            .map(|(((p, r), jl), q)| p.residuals_jacobian(q, r, jl))
            .reduce(|| true, |a, b| a & b);
        if !ok {
            return false;
        }
        let (nt, m) = (self.nt, self.m());
        for g in 0..self.n_vars() {
            for l in 0..self.traces.len() {
                let (c, f) = self.chain(l, g);
                let src = &self.local[l][c * nt..(c + 1) * nt];
                let dst = &mut j[g * m + l * nt..g * m + (l + 1) * nt];
                for (d, s) in dst.iter_mut().zip(src) {
                    *d = s * f;
                }
            }
        }
        true
    }
}
