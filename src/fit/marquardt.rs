//! Levenberg-Marquardt on the normal equations, with Marquardt's scaling
//! and Nielsen's damping update (Madsen, Nielsen & Tingleff, "Methods for
//! non-linear least squares problems", 2004, algorithm 3.16).
//!
//! Written here rather than taken from the `levenberg-marquardt` crate
//! (a MINPACK port, kept as [`super::lm::Solver::Minpack`]) because its
//! pivoted QR of the full N x P Jacobian on every iteration dominated the
//! run time of the small, well-conditioned fits spinfit does by the
//! thousand; solving the P x P system (J^T J + mu D) delta = -J^T r costs a
//! few microseconds. Squaring the condition number is the price: the NIST
//! test runs both solvers.
//!
//! Step: (A + mu diag(D)) delta = -g, A = J^T J, g = J^T r, D_k the running
//! maximum of A_kk, solved in Jacobi-scaled form with mu starting at 1e-3.
//! Gain ratio rho = (F(q) - F(q + delta)) / (L(0) - L(delta))
//! with L(0) - L(delta) = delta^T (mu D delta - g) / 2. Accept if rho > 0
//! and set mu *= max(1/3, 1 - (2 rho - 1)^3); else mu *= nu, nu *= 2.
//! Stops: max_k |g_k| / sqrt(A_kk chi^2) <= gtol (gradient), relative chi^2
//! decrease <= ftol on two accepted steps in a row (one small decrease in a
//! long curved valley is not convergence), |D^1/2 delta| <= xtol
//! (|D^1/2 q| + xtol), or the evaluation budget.
//!
//! Geodesic acceleration (Transtrum & Sethna, arXiv:1201.5885), when asked
//! for: the second directional derivative along the step v,
//! r'' ~ (2/h) ((r(q + h v) - r(q)) / h - J v) with h = 0.1, gives the
//! acceleration a from (A + mu D) a = -J^T r'';
//! the step is v + a/2, refused (mu raised) when 2 |a| / |v| > 0.75 in the
//! scaled norm. It keeps parameters from running off along a plateau
//! ("evaporating"), at one extra residual evaluation per step, so
//! [`super::lm`] uses it only to restart a fit that ended degenerate.

use super::fastmath::dot;
use super::result::Termination;
use nalgebra::{DMatrix, DVector};

/// What the solver needs from a problem: residuals and their Jacobian at the
/// internal parameters `q`, written into caller buffers (column-major
/// Jacobian, m rows). Return false when not finite.
pub trait Residuals {
    fn m(&self) -> usize;
    fn residuals(&mut self, q: &[f64], r: &mut [f64]) -> bool;
    fn jacobian(&mut self, q: &[f64], j: &mut [f64]) -> bool;
    /// Both at once (models share their transcendental functions).
    fn residuals_jacobian(&mut self, q: &[f64], r: &mut [f64], j: &mut [f64]) -> bool {
        self.residuals(q, r) && self.jacobian(q, j)
    }
    /// The dot product the normal equations are formed with ([`dot`]; a
    /// problem may bring a faster one of the same accuracy).
    fn dot(&self, a: &[f64], b: &[f64]) -> f64 {
        dot(a, b)
    }
}

/// Tolerances and budget.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    pub ftol: f64,
    pub xtol: f64,
    pub gtol: f64,
    pub max_nfev: usize,
    /// Geodesic acceleration (see the module docs).
    pub geodesic: bool,
}

/// Geodesic step: h of the finite difference along v, and the largest
/// accepted acceleration ratio 2|a|/|v|.
const GEODESIC_H: f64 = 0.1;
const GEODESIC_ALPHA: f64 = 0.75;

/// Minimise |r(q)|^2 from `q`; returns the final q, the termination reason,
/// the number of residual evaluations, and whether a Jacobian column has
/// vanished at the end (a parameter run off onto a plateau), read from the
/// last Jacobian rather than evaluated again.
pub fn minimize(
    prob: &mut dyn Residuals,
    q0: &[f64],
    s: &Settings,
) -> (Vec<f64>, Termination, usize, bool) {
    let m = prob.m();
    let mut jac = vec![0.0; m * q0.len()];
    let (q, t, nfev) = descend(prob, q0, s, &mut jac);
    let norms: Vec<f64> = jac.chunks(m.max(1)).map(|c| dot(c, c).sqrt()).collect();
    let top = norms.iter().copied().fold(0.0, f64::max);
    let flat = !top.is_finite() || norms.iter().any(|&c| c <= 1e-8 * top);
    (q, t, nfev, flat)
}

/// [`minimize`] with the Jacobian at the final q left in `jac`.
fn descend(
    prob: &mut dyn Residuals,
    q0: &[f64],
    s: &Settings,
    jac: &mut Vec<f64>,
) -> (Vec<f64>, Termination, usize) {
    let n = q0.len();
    let m = prob.m();
    let mut q = q0.to_vec();
    let mut r = vec![0.0; m];
    let mut jt = vec![0.0; m * n];
    let mut rt = vec![0.0; m];
    let mut qt = vec![0.0; n];
    let mut nfev = 1;
    if !prob.residuals_jacobian(&q, &mut r, jac) {
        return (
            q,
            Termination::Numerical {
                detail: "residuals or Jacobian not finite at the start".into(),
            },
            nfev,
        );
    }
    let mut chi = dot(&r, &r);
    if chi == 0.0 {
        return (q, Termination::ResidualsZero, nfev);
    }
    let mut a = DMatrix::zeros(n, n);
    let mut g = DVector::zeros(n);
    let mut d = vec![0.0; n];
    let mut mu = -1.0;
    let mut nu = 2.0;
    let mut small_decreases = 0;
    let mut fresh = true; // A and g must be formed from the J of a new q
    loop {
        if fresh {
            normal_equations(&*prob, jac, &r, (m, n), &mut a, &mut g);
            for k in 0..n {
                d[k] = f64::max(d[k], a[(k, k)]);
                if d[k] == 0.0 {
                    d[k] = 1.0; // a parameter with no influence: damp it like a unit one
                }
            }
            if mu < 0.0 {
                mu = 1e-3; // relative to the unit diagonal of the scaled system
            }
            // scale-free gradient test: the largest cosine between r and a
            // Jacobian column (MINPACK's gtol)
            let cos = (0..n)
                .filter(|&k| a[(k, k)] > 0.0)
                .map(|k| g[k].abs() / (a[(k, k)] * chi).sqrt())
                .fold(0.0, f64::max);
            if cos <= s.gtol {
                return (q, Termination::Orthogonal, nfev);
            }
            fresh = false;
        }
        if nfev >= s.max_nfev {
            return (q, Termination::MaxEvaluations, nfev);
        }
        // solve in Jacobi-scaled variables (unit diagonal) so columns of very
        // different size do not ruin the Cholesky factorisation:
        // (D^-1/2 A D^-1/2 + mu I) (D^1/2 delta) = -D^-1/2 g
        let sd: Vec<f64> = d.iter().map(|v| v.sqrt()).collect();
        let damped = DMatrix::from_fn(n, n, |i, k| {
            a[(i, k)] / (sd[i] * sd[k]) + if i == k { mu } else { 0.0 }
        });
        let Some(ch) = damped.cholesky() else {
            if !raise(&mut mu, &mut nu) {
                return overflowed(q, nfev);
            }
            continue;
        };
        let rhs = DVector::from_fn(n, |k, _| -g[k] / sd[k]);
        let scaled = ch.solve(&rhs);
        let v = DVector::from_fn(n, |k, _| scaled[k] / sd[k]);
        let mut delta = v.clone();
        if s.geodesic {
            for k in 0..n {
                qt[k] = q[k] + GEODESIC_H * v[k];
            }
            nfev += 1;
            if !prob.residuals(&qt, &mut rt) {
                if !raise(&mut mu, &mut nu) {
                    return overflowed(q, nfev);
                }
                continue;
            }
            // r'' along v, then (A + mu D) a = -J^T r'' in the scaled form
            let rpp: Vec<f64> = (0..m)
                .map(|i| {
                    let jv: f64 = (0..n).map(|k| jac[k * m + i] * v[k]).sum();
                    2.0 / GEODESIC_H * ((rt[i] - r[i]) / GEODESIC_H - jv)
                })
                .collect();
            let rhs_a = DVector::from_fn(n, |k, _| -dot(&jac[k * m..(k + 1) * m], &rpp) / sd[k]);
            let a_scaled = ch.solve(&rhs_a);
            let (an, vn) = (a_scaled.norm(), scaled.norm());
            if !(an.is_finite() && 2.0 * an <= GEODESIC_ALPHA * vn) {
                if !raise(&mut mu, &mut nu) {
                    return overflowed(q, nfev);
                }
                continue;
            }
            for k in 0..n {
                delta[k] += 0.5 * a_scaled[k] / sd[k];
            }
        }
        // step and parameters in the scaled norm |D^(1/2) v| (MINPACK's xtol)
        let qn = (0..n).map(|k| d[k] * q[k] * q[k]).sum::<f64>().sqrt();
        let dn = (0..n)
            .map(|k| d[k] * delta[k] * delta[k])
            .sum::<f64>()
            .sqrt();
        if dn <= s.xtol * (qn + s.xtol) {
            return (
                q,
                Termination::Converged {
                    ftol: false,
                    xtol: true,
                },
                nfev,
            );
        }
        for k in 0..n {
            qt[k] = q[k] + delta[k];
        }
        nfev += 1;
        // the Jacobian is computed with the trial residuals: most steps are
        // accepted, and the model shares its exp/sin/cos between the two
        let ok = prob.residuals_jacobian(&qt, &mut rt, &mut jt);
        let chi_t = if ok { dot(&rt, &rt) } else { f64::INFINITY };
        // predicted decrease of chi^2 = 2 (L(0) - L(v)), of the linear model
        let pred: f64 = (0..n).map(|k| v[k] * (mu * d[k] * v[k] - g[k])).sum();
        let rho = (chi - chi_t) / pred.max(f64::MIN_POSITIVE);
        if ok && rho > 0.0 {
            let decrease = chi - chi_t;
            std::mem::swap(&mut q, &mut qt);
            std::mem::swap(&mut r, &mut rt);
            std::mem::swap(jac, &mut jt);
            chi = chi_t;
            mu *= f64::max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0).powi(3));
            nu = 2.0;
            fresh = true;
            if chi == 0.0 {
                return (q, Termination::ResidualsZero, nfev);
            }
            small_decreases = if decrease <= s.ftol * chi {
                small_decreases + 1
            } else {
                0
            };
            if small_decreases >= 2 {
                return (
                    q,
                    Termination::Converged {
                        ftol: true,
                        xtol: false,
                    },
                    nfev,
                );
            }
        } else {
            if !raise(&mut mu, &mut nu) {
                return overflowed(q, nfev);
            }
        }
    }
}

/// A refused step: raise the damping (mu *= nu, nu *= 2); false once it
/// has overflowed.
fn raise(mu: &mut f64, nu: &mut f64) -> bool {
    *mu *= *nu;
    *nu *= 2.0;
    mu.is_finite()
}

fn overflowed(q: Vec<f64>, nfev: usize) -> (Vec<f64>, Termination, usize) {
    (
        q,
        Termination::NoImprovementPossible {
            detail: "damping overflowed; no downhill step".into(),
        },
        nfev,
    )
}

/// A = J^T J and g = J^T r for a column-major m x n Jacobian.
fn normal_equations(
    prob: &dyn Residuals,
    j: &[f64],
    r: &[f64],
    (m, n): (usize, usize),
    a: &mut DMatrix<f64>,
    g: &mut DVector<f64>,
) {
    for p in 0..n {
        let cp = &j[p * m..(p + 1) * m];
        g[p] = prob.dot(cp, r);
        for q in 0..=p {
            let v = prob.dot(cp, &j[q * m..(q + 1) * m]);
            a[(p, q)] = v;
            a[(q, p)] = v;
        }
    }
}
