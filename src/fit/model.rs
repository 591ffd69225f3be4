//! The `Model` trait: a function f(x; p) with its Jacobian d f / d p.
//!
//! Models evaluate in place into caller-owned buffers so that a fit performs
//! no allocation per evaluation beyond the optimiser's own.

use super::params::Params;

/// A parametric model y = f(x; p). Parameters are addressed by position; the
/// layout is given by [`Model::template`].
pub trait Model: Send + Sync {
    /// Short name for reports, e.g. "exp-decay (2 components) * Gaussian IRF".
    fn name(&self) -> String;
    /// Parameter names, units, default values and bounds, in order.
    fn template(&self) -> Params;
    /// Evaluate f(x_i; p) into `out` (same length as `x`).
    fn eval(&self, p: &[f64], x: &[f64], out: &mut [f64]);
    /// Column-major Jacobian: `jac[j * x.len() + i] = d f(x_i) / d p_j`.
    /// The default uses central differences; models override it with
    /// analytic derivatives.
    fn jacobian(&self, p: &[f64], x: &[f64], jac: &mut [f64]) {
        numeric_jacobian(self, p, x, jac);
    }
    /// Values and Jacobian together; models override it to share the
    /// transcendental functions between the two.
    fn eval_jacobian(&self, p: &[f64], x: &[f64], out: &mut [f64], jac: &mut [f64]) {
        self.eval(p, x, out);
        self.jacobian(p, x, jac);
    }
}

/// Central-difference Jacobian with a relative step h_j = cbrt(eps) |p_j|
/// (cbrt(eps) when p_j = 0), which balances truncation and rounding error.
pub fn numeric_jacobian<M: Model + ?Sized>(model: &M, p: &[f64], x: &[f64], jac: &mut [f64]) {
    let m = x.len();
    let mut q = p.to_vec();
    let mut fp = vec![0.0; m];
    let mut fm = vec![0.0; m];
    for j in 0..p.len() {
        let h = f64::EPSILON.cbrt() * if p[j] != 0.0 { p[j].abs() } else { 1.0 };
        q[j] = p[j] + h;
        model.eval(&q, x, &mut fp);
        q[j] = p[j] - h;
        model.eval(&q, x, &mut fm);
        q[j] = p[j];
        for i in 0..m {
            jac[j * m + i] = (fp[i] - fm[i]) / (2.0 * h);
        }
    }
}

/// A model given by a closure, with a numerical Jacobian. Useful for quick
/// one-off models such as the NIST reference problems.
pub struct FnModel<F: Fn(&[f64], f64) -> f64 + Send + Sync> {
    pub name: String,
    pub params: Params,
    pub f: F,
}

impl<F: Fn(&[f64], f64) -> f64 + Send + Sync> Model for FnModel<F> {
    fn name(&self) -> String {
        self.name.clone()
    }
    fn template(&self) -> Params {
        self.params.clone()
    }
    fn eval(&self, p: &[f64], x: &[f64], out: &mut [f64]) {
        for (o, &xi) in out.iter_mut().zip(x) {
            *o = (self.f)(p, xi);
        }
    }
}

/// Largest relative difference between the analytic and a central-difference
/// Jacobian of `model` at `p`, relative to the column's largest entry. Used by
/// the tests of every model.
pub fn jacobian_mismatch<M: Model + ?Sized>(model: &M, p: &[f64], x: &[f64]) -> f64 {
    let m = x.len();
    let mut a = vec![0.0; m * p.len()];
    let mut n = vec![0.0; m * p.len()];
    model.jacobian(p, x, &mut a);
    numeric_jacobian(model, p, x, &mut n);
    // the fused path must agree with the separate ones
    let mut f1 = vec![0.0; m];
    let mut f2 = vec![0.0; m];
    let mut a2 = vec![0.0; m * p.len()];
    model.eval(p, x, &mut f1);
    model.eval_jacobian(p, x, &mut f2, &mut a2);
    let fused = f1
        .iter()
        .zip(&f2)
        .chain(a.iter().zip(&a2))
        .fold(0.0f64, |w, (u, v)| {
            w.max((u - v).abs() / u.abs().max(1e-300))
        });
    assert!(
        fused < 1e-12,
        "eval_jacobian differs from eval/jacobian by {fused:e}"
    );
    let mut worst: f64 = 0.0;
    for j in 0..p.len() {
        let col = &n[j * m..(j + 1) * m];
        let scale = col.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1e-300);
        for i in 0..m {
            worst = worst.max((a[j * m + i] - n[j * m + i]).abs() / scale);
        }
    }
    worst
}
