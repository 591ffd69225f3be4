//! The `Model` trait: a function f(x; p) with its Jacobian d f / d p.
//!
//! Models evaluate in place into caller-owned buffers so that a fit performs
//! no allocation per evaluation beyond the optimiser's own.
//!
//! Separable models ([`Separable`]): f(t; a, c) = sum_j c_j phi_j(t; a), linear in the
//! coefficients c and nonlinear in a few parameters a.
//!
//! Every spinfit trace model is of this form (the `varpro` crate's basis
//! functions, pyglotaran's megacomplexes):
//! - precession: phi = cos(omega t) E(t; T2*), and sin(omega t) E(t; T2*)
//!   when the cosine carries a phase (S cos(omega t + phi) =
//!   S cos phi cos(omega t) - S sin phi sin(omega t)), exp(-t / tau_d), 1;
//! - spin decay: the IRF-convolved exponentials (a = tau_k, t0, IRF width),
//!   the convolved step, 1, and the artefact's Gaussian and its derivatives.
//!
//! A model states which of its parameters are nonlinear (a) and which are
//! the linear ones, gives the basis Phi(a) (m x n, column-major) with the
//! nonzero derivative columns d phi_j / d a_k listed in [`Separable::structure`],
//! and maps (a, c) back to its own parameters ([`Separable::assemble`]; the
//! phase pair becomes S = hypot(c_cos, c_sin), phi = atan2(-c_sin, c_cos)).
//! [`super::varpro`] fits any such model by variable projection.

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
    /// The model as linear coefficients on a nonlinear basis, when it is
    /// one ([`Separable`]): then [`super::lm::fit`] projects the
    /// coefficients out (variable projection, [`super::varpro`]).
    fn separable(&self) -> Option<&dyn Separable> {
        None
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

/// A model whose linear coefficients can be projected out.
pub trait Separable: Model {
    /// Positions in the model's parameter vector of the nonlinear
    /// parameters a, in the order `basis` takes them.
    fn nonlinear(&self) -> Vec<usize>;
    /// Positions of the parameters that `assemble` writes from c.
    fn linear(&self) -> Vec<usize>;
    /// Number of basis functions n (the length of c).
    fn n_basis(&self) -> usize;
    /// The nonzero derivatives: (basis column j, nonlinear index k) per
    /// column of `dphi`, in that order.
    fn structure(&self) -> Vec<(usize, usize)>;
    /// Phi(a) into `phi` (column-major, `x.len()` rows, `n_basis` columns)
    /// and, when given, d phi_j / d a_k into `dphi` in `structure` order.
    fn basis(&self, a: &[f64], x: &[f64], phi: &mut [f64], dphi: Option<&mut [f64]>);
    /// The model's full parameter vector from a and c: nonlinear values at
    /// their positions, linear ones mapped from the coefficients.
    fn assemble(&self, a: &[f64], c: &[f64], p: &mut [f64]);
}

/// Largest mismatch between the analytic basis derivatives and central
/// differences of the basis, relative to each column's largest entry; and
/// whether Phi(a) c reproduces the model's own evaluation. Used by the
/// tests of every separable model.
pub fn basis_mismatch<S: Separable + ?Sized>(model: &S, a: &[f64], c: &[f64], x: &[f64]) -> f64 {
    let (m, n) = (x.len(), model.n_basis());
    let st = model.structure();
    let mut phi = vec![0.0; m * n];
    let mut dphi = vec![0.0; m * st.len()];
    model.basis(a, x, &mut phi, Some(&mut dphi));
    // the basis without derivatives is the same basis
    let mut phi2 = vec![0.0; m * n];
    model.basis(a, x, &mut phi2, None);
    assert!(
        phi.iter().zip(&phi2).all(|(u, v)| u == v),
        "basis differs without derivatives"
    );
    // Phi c equals the model at the assembled parameters
    let mut p = model.template().values();
    model.assemble(a, c, &mut p);
    let mut f = vec![0.0; m];
    model.eval(&p, x, &mut f);
    let mut worst: f64 = 0.0;
    let fmax = f.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1e-300);
    for i in 0..m {
        let s: f64 = (0..n).map(|j| phi[j * m + i] * c[j]).sum();
        worst = worst.max((s - f[i]).abs() / fmax);
    }
    let (mut fp, mut fm) = (vec![0.0; m * n], vec![0.0; m * n]);
    for (s, &(j, k)) in st.iter().enumerate() {
        let h = f64::EPSILON.cbrt() * a[k].abs().max(1e-3);
        let mut q = a.to_vec();
        q[k] = a[k] + h;
        model.basis(&q, x, &mut fp, None);
        q[k] = a[k] - h;
        model.basis(&q, x, &mut fm, None);
        let col = &dphi[s * m..(s + 1) * m];
        let num: Vec<f64> = (0..m)
            .map(|i| (fp[j * m + i] - fm[j * m + i]) / (2.0 * h))
            .collect();
        let scale = num.iter().fold(0.0f64, |s, v| s.max(v.abs())).max(1e-300);
        for i in 0..m {
            worst = worst.max((col[i] - num[i]).abs() / scale);
        }
    }
    // every derivative column left out of the structure must be zero
    for k in 0..a.len() {
        let h = f64::EPSILON.cbrt() * a[k].abs().max(1e-3);
        let mut q = a.to_vec();
        q[k] = a[k] + h;
        model.basis(&q, x, &mut fp, None);
        for j in (0..n).filter(|j| !st.contains(&(*j, k))) {
            let moved = (0..m).any(|i| fp[j * m + i] != phi[j * m + i]);
            assert!(
                !moved,
                "basis column {j} depends on a[{k}] but the structure omits it"
            );
        }
    }
    worst
}
