//! Variable projection (Golub & Pereyra 1973) with Kaufman's Jacobian
//! (Kaufman 1975): least squares for a [`Separable`] model over its
//! nonlinear parameters alone.
//!
//! With weights W = diag(1/sigma), basis Phi(a) and data y, the best
//! coefficients for given a are c(a) = argmin |W (Phi c - y)|, so the fit
//! minimises the projected residual
//!
//! r(a) = W Phi c(a) - W y = -P_perp W y,   P_perp = I - Phi_w Phi_w^+.
//!
//! Kaufman's approximation of its Jacobian keeps the first of the two terms
//! of d P_perp / d a_k:
//!
//! J_k = P_perp (d Phi_w / d a_k) c,
//!
//! which is exact at a zero residual and converges as Gauss-Newton does.
//! c(a) comes from the normal equations G c = Phi_w^T W y, G = Phi_w^T Phi_w,
//! by a Jacobi-scaled Cholesky factorisation (the n <= 12 basis functions
//! of a trace model are well conditioned; a basis that loses rank, two
//! cosines at one frequency, is refused as a non-finite point, which the
//! Levenberg-Marquardt driver treats as a rejected step). P_perp v =
//! v - Phi_w G^-1 Phi_w^T v. Written here rather than taken from the
//! `varpro` crate so that the projection runs on the driver spinfit's fits
//! already share ([`super::marquardt`]: bounds, geodesic restart, the same
//! stopping rules) and allocates nothing per step.
//!
//! At the optimum the linear parameters are assembled into the model's own
//! ([`Separable::assemble`]) and the statistics and covariance are those of
//! the full model (J of all free parameters, nonlinear and linear), so the
//! errors are the full-LM errors.

use super::fastmath::{axpy, dot16};
use super::marquardt::Residuals;
use super::model::Separable;
use super::params::Params;

/// The projected problem seen by the Levenberg-Marquardt driver.
pub(crate) struct Projection<'a, S: Separable + ?Sized> {
    model: &'a S,
    x: &'a [f64],
    w: Option<&'a [f64]>,
    /// W y.
    wy: Vec<f64>,
    params: &'a Params,
    /// Positions of the nonlinear parameters in the model's vector.
    nl: Vec<usize>,
    /// Indices into `nl` of those that vary (the optimiser's variables).
    free: Vec<usize>,
    structure: Vec<(usize, usize)>,
    /// Current nonlinear values (external).
    pub(crate) a: Vec<f64>,
    phi: Vec<f64>,
    dphi: Vec<f64>,
    /// Cholesky factor of the Jacobi-scaled Gram matrix, and the scales.
    chol: Vec<f64>,
    scale: Vec<f64>,
    /// Coefficients c(a) at the last evaluation.
    pub(crate) c: Vec<f64>,
    v: Vec<f64>,
    h: Vec<f64>,
    /// The internal variables of the last projection (`c` and the basis
    /// belong to them when `at_ok`: it succeeded).
    at: Vec<f64>,
    at_ok: bool,
}

impl<'a, S: Separable + ?Sized> Projection<'a, S> {
    pub(crate) fn new(
        model: &'a S,
        x: &'a [f64],
        y: &[f64],
        w: Option<&'a [f64]>,
        params: &'a Params,
    ) -> Self {
        let nl = model.nonlinear();
        let free = (0..nl.len()).filter(|&k| params.0[nl[k]].vary).collect();
        let a = nl.iter().map(|&j| params.0[j].value).collect();
        let (m, n) = (x.len(), model.n_basis());
        let structure = model.structure();
        let wy = match w {
            Some(w) => y.iter().zip(w).map(|(a, b)| a * b).collect(),
            None => y.to_vec(),
        };
        Projection {
            model,
            x,
            w,
            wy,
            params,
            nl,
            free,
            a,
            phi: vec![0.0; m * n],
            dphi: vec![0.0; m * structure.len()],
            structure,
            chol: vec![0.0; n * n],
            scale: vec![0.0; n],
            c: vec![0.0; n],
            v: vec![0.0; m],
            h: vec![0.0; n],
            at: vec![],
            at_ok: false,
        }
    }

    /// Internal variables of the free nonlinear parameters at their values.
    pub(crate) fn start(&self) -> Vec<f64> {
        self.free
            .iter()
            .map(|&k| {
                let p = &self.params.0[self.nl[k]];
                p.to_internal(p.value)
            })
            .collect()
    }

    fn set(&mut self, q: &[f64]) {
        for (i, &k) in self.free.iter().enumerate() {
            self.a[k] = self.params.0[self.nl[k]].to_external(q[i]);
        }
    }

    /// Basis (and derivatives) at the current a, weighted; factor G and
    /// solve for c. False when not finite or rank deficient.
    fn project(&mut self, derivatives: bool) -> bool {
        let (m, n) = (self.x.len(), self.model.n_basis());
        let d = derivatives.then_some(&mut self.dphi[..]);
        self.model.basis(&self.a, self.x, &mut self.phi, d);
        if let Some(w) = self.w {
            let nd = if derivatives { self.structure.len() } else { 0 };
            for col in self
                .phi
                .chunks_mut(m)
                .chain(self.dphi.chunks_mut(m).take(nd))
            {
                for (v, wi) in col.iter_mut().zip(w) {
                    *v *= wi;
                }
            }
        }
        if !self.factor(m, n) {
            return false;
        }
        for j in 0..n {
            self.h[j] = dot16(&self.phi[j * m..(j + 1) * m], &self.wy);
        }
        self.solve_h(n);
        self.c.copy_from_slice(&self.h);
        self.c.iter().all(|v| v.is_finite())
    }

    /// Cholesky of S G S with S = diag(1/sqrt(G_jj)) into `chol` (lower).
    fn factor(&mut self, m: usize, n: usize) -> bool {
        let phi = &self.phi;
        for j in 0..n {
            let gjj = dot16(&phi[j * m..(j + 1) * m], &phi[j * m..(j + 1) * m]);
            if !(gjj > 0.0 && gjj.is_finite()) {
                return false;
            }
            self.scale[j] = 1.0 / gjj.sqrt();
        }
        let l = &mut self.chol;
        for i in 0..n {
            for j in 0..=i {
                let g = if i == j {
                    1.0
                } else {
                    dot16(&phi[i * m..(i + 1) * m], &phi[j * m..(j + 1) * m])
                        * self.scale[i]
                        * self.scale[j]
                };
                let s = g - (0..j).map(|k| l[i * n + k] * l[j * n + k]).sum::<f64>();
                if i == j {
                    // a basis function within 1e-12 of the span of the others
                    if s.is_nan() || s <= 1e-12 {
                        return false;
                    }
                    l[i * n + i] = s.sqrt();
                } else {
                    l[i * n + j] = s / l[j * n + j];
                }
            }
        }
        true
    }

    /// h <- G^-1 h in place (G = S^-1 L L^T S^-1).
    fn solve_h(&mut self, n: usize) {
        let (l, s, h) = (&self.chol, &self.scale, &mut self.h);
        for i in 0..n {
            h[i] *= s[i];
        }
        for i in 0..n {
            let v = h[i] - (0..i).map(|k| l[i * n + k] * h[k]).sum::<f64>();
            h[i] = v / l[i * n + i];
        }
        for i in (0..n).rev() {
            let v = h[i] - (i + 1..n).map(|k| l[k * n + i] * h[k]).sum::<f64>();
            h[i] = v / l[i * n + i];
        }
        for i in 0..n {
            h[i] *= s[i];
        }
    }

    /// r = Phi_w c - W y.
    fn residual(&self, r: &mut [f64]) -> bool {
        let m = self.x.len();
        for (ri, yi) in r.iter_mut().zip(&self.wy) {
            *ri = -yi;
        }
        for (j, cj) in self.c.iter().enumerate() {
            axpy(*cj, &self.phi[j * m..(j + 1) * m], r);
        }
        r.iter().fold(true, |ok, v| ok & v.is_finite())
    }

    /// For free parameter i: v = (d Phi_w / d a_k) c, the model's
    /// derivative at fixed coefficients, and h = G^-1 Phi_w^T v.
    fn derivative(&mut self, i: usize) {
        let (m, n) = (self.x.len(), self.model.n_basis());
        let k = self.free[i];
        self.v.iter_mut().for_each(|v| *v = 0.0);
        for (s, &(j, kk)) in self.structure.iter().enumerate() {
            if kk == k {
                axpy(self.c[j], &self.dphi[s * m..(s + 1) * m], &mut self.v);
            }
        }
        for j in 0..n {
            self.h[j] = dot16(&self.phi[j * m..(j + 1) * m], &self.v);
        }
        self.solve_h(n);
    }

    /// Kaufman's Jacobian column of free parameter i (internal variable q_i):
    /// P_perp (d Phi_w / d a_k) c d a_k / d q_i.
    fn kaufman(&mut self, i: usize, q: f64, out: &mut [f64]) {
        let (m, n) = (self.x.len(), self.model.n_basis());
        let k = self.free[i];
        self.derivative(i);
        out.copy_from_slice(&self.v);
        for j in 0..n {
            axpy(-self.h[j], &self.phi[j * m..(j + 1) * m], out);
        }
        let dq = self.params.0[self.nl[k]].d_external(q);
        for o in out.iter_mut() {
            *o *= dq;
        }
    }

    /// The linear blocks of the full covariance, after a successful
    /// [`Residuals::residuals_jacobian`] at `q`: G^-1 (n x n, column-major)
    /// and H = G^-1 Phi_w^T J_a (n x free, column-major, per internal
    /// variable q_i), J_a the model's derivative by the nonlinear variables
    /// at fixed coefficients. With C the projected problem's (J^T J)^-1 the
    /// coefficients' covariance is s^2 (G^-1 + H C H^T) (the Schur
    /// complement of the full J = [J_a, Phi_w]).
    pub(crate) fn linear_blocks(&mut self, q: &[f64]) -> (Vec<f64>, Vec<f64>) {
        let n = self.model.n_basis();
        let mut ginv = vec![0.0; n * n];
        for j in 0..n {
            self.h.iter_mut().for_each(|v| *v = 0.0);
            self.h[j] = 1.0;
            self.solve_h(n);
            ginv[j * n..(j + 1) * n].copy_from_slice(&self.h);
        }
        let mut hm = vec![0.0; n * self.free.len()];
        for i in 0..self.free.len() {
            self.derivative(i);
            let dq = self.params.0[self.nl[self.free[i]]].d_external(q[i]);
            for (o, v) in hm[i * n..(i + 1) * n].iter_mut().zip(&self.h) {
                *o = v * dq;
            }
        }
        (ginv, hm)
    }

    /// Is the last successful projection at `q` (its coefficients current)?
    pub(crate) fn projected_at(&self, q: &[f64]) -> bool {
        self.at_ok && self.at == q
    }

    /// Note where the last projection was made and whether it succeeded
    /// (into the same buffer: no allocation per evaluation).
    fn remember(&mut self, q: &[f64], ok: bool) {
        self.at.clear();
        self.at.extend_from_slice(q);
        self.at_ok = ok;
    }

    /// The model's full parameter vector at the last projection.
    pub(crate) fn assembled(&self) -> Vec<f64> {
        let mut p = self.params.values();
        self.model.assemble(&self.a, &self.c, &mut p);
        p
    }
}

impl<S: Separable + ?Sized> Residuals for Projection<'_, S> {
    fn m(&self) -> usize {
        self.x.len()
    }
    fn residuals(&mut self, q: &[f64], r: &mut [f64]) -> bool {
        self.set(q);
        let ok = self.project(false) && self.residual(r);
        self.remember(q, ok);
        ok
    }
    fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
        dot16(a, b)
    }
    fn jacobian(&mut self, q: &[f64], j: &mut [f64]) -> bool {
        let mut r = vec![0.0; self.x.len()];
        self.residuals_jacobian(q, &mut r, j)
    }
    fn residuals_jacobian(&mut self, q: &[f64], r: &mut [f64], j: &mut [f64]) -> bool {
        self.set(q);
        let ok = self.project(true) && self.residual(r);
        self.remember(q, ok);
        if !ok {
            return false;
        }
        let m = self.x.len();
        for i in 0..self.free.len() {
            self.kaufman(i, q[i], &mut j[i * m..(i + 1) * m]);
        }
        j.iter().fold(true, |ok, v| ok & v.is_finite())
    }
}

/// The linear parameters of `params` set to their least-squares values at
/// its nonlinear ones (unweighted: start values, not a fit); returns chi^2,
/// or None where the basis is not finite or not of full rank.
pub fn solve_linear<S: Separable + ?Sized>(
    model: &S,
    params: &mut Params,
    x: &[f64],
    y: &[f64],
) -> Option<f64> {
    let at = params.clone();
    let mut pr = Projection::new(model, x, y, None, &at);
    let mut r = vec![0.0; x.len()];
    if !(pr.project(false) && pr.residual(&mut r)) {
        return None;
    }
    for (p, v) in params.0.iter_mut().zip(pr.assembled()) {
        p.value = v;
    }
    Some(dot16(&r, &r))
}

/// Can `params` be fitted by projection: every linear parameter free and
/// unbounded (a fixed or bounded amplitude is not a free linear coefficient).
pub(crate) fn projectable<S: Separable + ?Sized>(model: &S, params: &Params) -> bool {
    let linear = model.linear();
    linear.len() == model.n_basis()
        && linear.iter().all(|&j| {
            let p = &params.0[j];
            p.vary && p.min == f64::NEG_INFINITY && p.max == f64::INFINITY
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::model::Model;
    use crate::fit::precession::{Envelope, Precession};

    /// At a zero residual Kaufman's Jacobian is the exact derivative of the
    /// projected residual: compare with central differences there.
    #[test]
    fn kaufman_jacobian_is_exact_at_zero_residual() {
        let model = Precession {
            n_cos: 2,
            phase: true,
            decay: true,
            offset: true,
            envelope: Envelope::Exponential,
            repetition: None,
        };
        let x: Vec<f64> = (0..300).map(|i| i as f64 * 5.0).collect();
        let mut p = model.template();
        for (n, v) in [
            ("amplitude_1", 1.0),
            ("omega_1", 58.5),
            ("t2_1", 150.0),
            ("phase_1", 0.4),
            ("amplitude_2", 0.6),
            ("omega_2", 26.5),
            ("t2_2", 220.0),
            ("phase_2", -0.2),
            ("decay_amplitude", 0.3),
            ("decay_tau", 400.0),
            ("offset", 0.05),
        ] {
            p.get_mut(n).unwrap().value = v;
        }
        let mut y = vec![0.0; x.len()];
        model.eval(&p.values(), &x, &mut y);
        let mut pr = Projection::new(&model, &x, &y, None, &p);
        let q = pr.start();
        let m = x.len();
        let mut r = vec![0.0; m];
        let mut j = vec![0.0; m * q.len()];
        assert!(pr.residuals_jacobian(&q, &mut r, &mut j));
        assert!(r.iter().all(|v| v.abs() < 1e-10), "residual at the truth");
        let (mut rp, mut rm) = (vec![0.0; m], vec![0.0; m]);
        for i in 0..q.len() {
            let h = 1e-6 * q[i].abs().max(1.0);
            let mut qq = q.clone();
            qq[i] = q[i] + h;
            pr.residuals(&qq, &mut rp);
            qq[i] = q[i] - h;
            pr.residuals(&qq, &mut rm);
            let col = &j[i * m..(i + 1) * m];
            let scale = col.iter().fold(0.0f64, |s, v| s.max(v.abs()));
            for k in 0..m {
                let num = (rp[k] - rm[k]) / (2.0 * h);
                assert!(
                    (num - col[k]).abs() < 1e-5 * scale,
                    "column {i} row {k}: {} vs {num}",
                    col[k]
                );
            }
        }
        // the coefficients at the truth assemble back into the model's parameters
        assert!(pr.residuals(&q, &mut r));
        let back = pr.assembled();
        for (u, v) in back.iter().zip(p.values()) {
            assert!((u - v).abs() < 1e-9 * v.abs().max(1.0), "{u} vs {v}");
        }
    }

    #[test]
    fn a_basis_that_loses_rank_is_refused_not_solved() {
        let model = Precession {
            n_cos: 2,
            phase: false,
            decay: false,
            offset: false,
            envelope: Envelope::Exponential,
            repetition: None,
        };
        let x: Vec<f64> = (0..100).map(|i| i as f64 * 5.0).collect();
        let y: Vec<f64> = x.iter().map(|t| (0.03 * t).cos()).collect();
        let mut p = model.template();
        for (n, v) in [
            ("omega_1", 30.0),
            ("omega_2", 30.0),
            ("t2_1", 100.0),
            ("t2_2", 100.0),
        ] {
            p.get_mut(n).unwrap().value = v;
        }
        let mut pr = Projection::new(&model, &x, &y, None, &p);
        let q = pr.start();
        assert!(!pr.residuals(&q, &mut vec![0.0; x.len()]));
    }
}
