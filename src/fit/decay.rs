//! Spin decay for transient reflection: exponentials convolved with a
//! Gaussian instrument response, plus a baseline.
//!
//! For a Gaussian IRF of FWHM w (sigma = w / 2.35482) centred at t0, one
//! exponential of amplitude A and lifetime tau gives, with u = t - t0,
//!
//! S(u) = A/2 exp(sigma^2/(2 tau^2) - u/tau) erfc((sigma^2/tau - u) / (sqrt2 sigma)).
//!
//! With z = (sigma/tau - u/sigma)/sqrt2 the exponent equals -u^2/(2 sigma^2) + z^2, so
//! S = A/2 exp(-u^2/(2 sigma^2)) erfcx(z) for z >= 0 (no overflow when tau << sigma)
//! and the direct form, whose exponent is then negative, for z < 0 (late delays).
//! A long-lived "step" (tau -> infinity) switched on at t0 is
//! B/2 erfc(-u / (sqrt2 sigma)); a constant offset c is added.
//! Derivatives used for the analytic Jacobian (G = exp(-u^2/(2 sigma^2))):
//! dS/du = -S/tau + A G/(sigma sqrt(2 pi)),
//! dS/dtau = S (u/tau^2 - sigma^2/tau^3) + A G sigma/(tau^2 sqrt(2 pi)),
//! dS/dsigma = S sigma/tau^2 - A G (1/tau + u/sigma^2)/sqrt(2 pi).
//!
//! The optional coherent artefact (cross-phase modulation while pump and
//! probe overlap) is a Gaussian of the IRF width and its first two
//! derivatives, with x = u / sigma:
//! C(u) = c0 G0 + c1 G1 + c2 G2, G0 = exp(-x^2/2), G1 = -x G0 (sigma dG0/du),
//! G2 = (x^2 - 1) G0 (sigma^2 d^2G0/du^2); dGk/du = Gk'(x)/sigma and
//! dGk/dsigma = -x Gk'(x)/sigma with G0' = -x G0, G1' = (x^2 - 1) G0,
//! G2' = (3x - x^3) G0.

use super::fastmath::{exp, exp_slice};
use super::model::{Model, Separable};
use super::params::{Param, Params};
use errorfunctions::RealErrorFunctions;

/// FWHM / sigma of a Gaussian.
pub const FWHM_PER_SIGMA: f64 = 2.354_820_045_030_949;
const INV_SQRT_2PI: f64 = 0.398_942_280_401_432_7;
const SQRT2: f64 = std::f64::consts::SQRT_2;

/// IRF-convolved unit exponential and its derivatives with respect to
/// (u, tau, sigma), evaluated without overflow for any tau/sigma and u.
pub fn irf_exp(u: f64, tau: f64, sigma: f64) -> [f64; 4] {
    let x = u / sigma;
    let z = (sigma / tau - x) / SQRT2;
    // exp(-x^2/2) underflows to 0 beyond |x| = 38.6
    let g = if x.abs() > 38.6 {
        0.0
    } else {
        exp(-0.5 * x * x)
    };
    let e = if z < 0.0 {
        exp(0.5 * (sigma / tau).powi(2) - u / tau)
    } else {
        0.0
    };
    irf_exp_with(u, tau, sigma, g, e)
}

/// [`irf_exp`] from its two exponentials, computed beforehand (in bulk by
/// [`ExpDecay`]): `g` = exp(-x^2/2) with x = u/sigma, and `e` =
/// exp((sigma/tau)^2/2 - u/tau), which is used only where z < 0.
#[inline(always)]
fn irf_exp_with(u: f64, tau: f64, sigma: f64, g: f64, e: f64) -> [f64; 4] {
    let x = u / sigma;
    let z = (sigma / tau - x) / SQRT2;
    let f = if z >= 0.0 {
        // erfcx(z) <= 1 here, so f = 0 exactly where g underflows
        if g == 0.0 { 0.0 } else { 0.5 * g * z.erfcx() }
    } else {
        // erfc(z) = 2 - erfc(-z) and erfc(6) = 2e-17: exactly 2 in f64 below -6
        let c = if z < -6.0 {
            2.0
        } else {
            RealErrorFunctions::erfc(z)
        };
        0.5 * e * c
    };
    let gn = g * INV_SQRT_2PI;
    [
        f,
        -f / tau + gn / sigma,
        f * (u / (tau * tau) - sigma * sigma / (tau * tau * tau)) + gn * sigma / (tau * tau),
        f * sigma / (tau * tau) - gn * (1.0 / tau + u / (sigma * sigma)),
    ]
}

/// IRF-convolved unit step and its derivatives with respect to (u, sigma).
pub fn irf_step(u: f64, sigma: f64) -> [f64; 3] {
    let x = u / sigma;
    irf_step_with(
        u,
        sigma,
        if x.abs() > 38.6 {
            0.0
        } else {
            exp(-0.5 * x * x)
        },
    )
}

/// [`irf_step`] from g = exp(-x^2/2), computed beforehand.
#[inline(always)]
fn irf_step_with(u: f64, sigma: f64, g: f64) -> [f64; 3] {
    let x = u / sigma;
    if x.abs() > 38.6 {
        // the Gaussian has underflowed and erfc(-x/sqrt2) is exactly 0 or 2
        return [if x > 0.0 { 1.0 } else { 0.0 }, 0.0, 0.0];
    }
    // erfc(-x/sqrt2) is exactly 2 in f64 once -x/sqrt2 < -6 (as in irf_exp)
    let h = if x > 8.5 {
        1.0
    } else {
        0.5 * RealErrorFunctions::erfc(-x / SQRT2)
    };
    let gn = g * INV_SQRT_2PI;
    [h, gn / sigma, -gn * u / (sigma * sigma)]
}

/// What is added to the exponentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Baseline {
    /// A constant offset (pinned by pre-time-zero points).
    pub offset: bool,
    /// A long-lived step switched on at t0 (a component that does not decay
    /// within the window), convolved with the IRF.
    pub step: bool,
}

impl Default for Baseline {
    fn default() -> Self {
        Baseline {
            offset: true,
            step: true,
        }
    }
}

/// Sum of `n_exp` IRF-convolved exponentials plus a baseline, and
/// optionally the coherent artefact at t0.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExpDecay {
    pub n_exp: usize,
    pub baseline: Baseline,
    /// Add the coherent artefact (three amplitudes `artefact_0..2`).
    pub artefact: bool,
}

/// The artefact's basis G0, G1, G2 at x = u/sigma from g = exp(-x^2/2),
/// and their x-derivatives.
#[inline(always)]
fn artefact_basis(x: f64, g: f64) -> ([f64; 3], [f64; 3]) {
    (
        [g, -x * g, (x * x - 1.0) * g],
        [-x * g, (x * x - 1.0) * g, (3.0 * x - x * x * x) * g],
    )
}

impl ExpDecay {
    /// Names of amplitude and lifetime of component `k` (0-based).
    pub fn names(&self, k: usize) -> (String, String) {
        if self.n_exp == 1 {
            ("amplitude".into(), "tau".into())
        } else {
            (format!("amplitude_{}", k + 1), format!("tau_{}", k + 1))
        }
    }
    fn idx_t0(&self) -> usize {
        2 * self.n_exp
    }
}

impl Model for ExpDecay {
    fn name(&self) -> String {
        let mut s = format!(
            "{} exponential{} convolved with a Gaussian IRF",
            self.n_exp,
            if self.n_exp > 1 { "s" } else { "" }
        );
        if self.baseline.step {
            s.push_str(" + long-lived step");
        }
        if self.baseline.offset {
            s.push_str(" + offset");
        }
        if self.artefact {
            s.push_str(" + coherent artefact");
        }
        s
    }

    fn template(&self) -> Params {
        let mut v = Vec::new();
        for k in 0..self.n_exp {
            let (a, t) = self.names(k);
            v.push(Param::new(a, 1.0, "signal"));
            v.push(Param::new(t, 1.0 + k as f64, "ps").bounds(1e-4, f64::INFINITY));
        }
        v.push(Param::new("t0", 0.0, "ps"));
        v.push(Param::new("irf_fwhm", 0.15, "ps").bounds(1e-4, f64::INFINITY));
        if self.baseline.step {
            v.push(Param::new("step", 0.0, "signal"));
        }
        if self.baseline.offset {
            v.push(Param::new("offset", 0.0, "signal"));
        }
        if self.artefact {
            for k in 0..3 {
                v.push(Param::new(format!("artefact_{k}"), 0.0, "signal"));
            }
        }
        Params(v)
    }

    fn eval(&self, p: &[f64], x: &[f64], out: &mut [f64]) {
        let i0 = self.idx_t0();
        let (t0, sigma) = (p[i0], p[i0 + 1] / FWHM_PER_SIGMA);
        let mut k = i0 + 2;
        let step = self.baseline.step.then(|| {
            k += 1;
            p[k - 1]
        });
        let offset = if self.baseline.offset { p[k] } else { 0.0 };
        let ia = k + self.baseline.offset as usize;
        for (o, &t) in out.iter_mut().zip(x) {
            let u = t - t0;
            let mut s = offset;
            if self.artefact {
                let xs = u / sigma;
                let (b, _) = artefact_basis(
                    xs,
                    if xs.abs() > 38.6 {
                        0.0
                    } else {
                        exp(-0.5 * xs * xs)
                    },
                );
                s += p[ia] * b[0] + p[ia + 1] * b[1] + p[ia + 2] * b[2];
            }
            for c in 0..self.n_exp {
                s += p[2 * c] * irf_exp(u, p[2 * c + 1], sigma)[0];
            }
            if let Some(b) = step {
                s += b * irf_step(u, sigma)[0];
            }
            *o = s;
        }
    }

    fn jacobian(&self, p: &[f64], x: &[f64], jac: &mut [f64]) {
        self.fill(p, x, None, jac);
    }

    fn eval_jacobian(&self, p: &[f64], x: &[f64], out: &mut [f64], jac: &mut [f64]) {
        self.fill(p, x, Some(out), jac);
    }

    fn separable(&self) -> Option<&dyn Separable> {
        Some(self)
    }
}

/// The basis: the IRF-convolved exponentials, the convolved step, 1 and the
/// artefact's G0, G1, G2. Nonlinear parameters in order: tau_k, then t0 and
/// irf_fwhm (every column but the offset depends on those two).
impl Separable for ExpDecay {
    fn nonlinear(&self) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.n_exp).map(|k| 2 * k + 1).collect();
        v.extend([self.idx_t0(), self.idx_t0() + 1]);
        v
    }
    fn linear(&self) -> Vec<usize> {
        let mut v: Vec<usize> = (0..self.n_exp).map(|k| 2 * k).collect();
        v.extend(self.idx_t0() + 2..self.idx_t0() + 2 + self.n_basis() - self.n_exp);
        v
    }
    fn n_basis(&self) -> usize {
        self.n_exp
            + self.baseline.step as usize
            + self.baseline.offset as usize
            + 3 * self.artefact as usize
    }
    fn structure(&self) -> Vec<(usize, usize)> {
        let (kt0, kw) = (self.n_exp, self.n_exp + 1);
        let mut v = vec![];
        for k in 0..self.n_exp {
            v.extend([(k, k), (k, kt0), (k, kw)]);
        }
        let mut col = self.n_exp;
        if self.baseline.step {
            v.extend([(col, kt0), (col, kw)]);
            col += 1;
        }
        col += self.baseline.offset as usize;
        if self.artefact {
            for q in 0..3 {
                v.extend([(col + q, kt0), (col + q, kw)]);
            }
        }
        v
    }
    fn basis(&self, a: &[f64], x: &[f64], phi: &mut [f64], mut dphi: Option<&mut [f64]>) {
        let m = x.len();
        let n = self.n_exp;
        let (t0, fwhm) = (a[n], a[n + 1]);
        let sigma = fwhm / FWHM_PER_SIGMA;
        let u: Vec<f64> = x.iter().map(|t| t - t0).collect();
        let mut arg: Vec<f64> = u.iter().map(|v| -0.5 * (v / sigma) * (v / sigma)).collect();
        let (mut g, mut e) = (vec![0.0; m], vec![0.0; m]);
        exp_slice(&arg, &mut g);
        // d/dt0 = -d/du; d/dfwhm = (d/dsigma) / FWHM_PER_SIGMA
        let mut s = 0;
        for k in 0..n {
            let tau = a[k];
            let shift = 0.5 * (sigma / tau).powi(2);
            for (g_, v) in arg.iter_mut().zip(&u) {
                *g_ = shift - v / tau;
            }
            exp_slice(&arg, &mut e);
            for i in 0..m {
                let [f, fu, ftau, fsig] = irf_exp_with(u[i], tau, sigma, g[i], e[i]);
                phi[k * m + i] = f;
                if let Some(d) = dphi.as_deref_mut() {
                    d[s * m + i] = ftau;
                    d[(s + 1) * m + i] = -fu;
                    d[(s + 2) * m + i] = fsig / FWHM_PER_SIGMA;
                }
            }
            s += 3;
        }
        let mut col = n;
        if self.baseline.step {
            for i in 0..m {
                let [h, hu, hsig] = irf_step_with(u[i], sigma, g[i]);
                phi[col * m + i] = h;
                if let Some(d) = dphi.as_deref_mut() {
                    d[s * m + i] = -hu;
                    d[(s + 1) * m + i] = hsig / FWHM_PER_SIGMA;
                }
            }
            s += 2;
            col += 1;
        }
        if self.baseline.offset {
            phi[col * m..(col + 1) * m].fill(1.0);
            col += 1;
        }
        if self.artefact {
            for i in 0..m {
                let xs = u[i] / sigma;
                let (b, db) = artefact_basis(xs, g[i]);
                for q in 0..3 {
                    phi[(col + q) * m + i] = b[q];
                    if let Some(d) = dphi.as_deref_mut() {
                        d[(s + 2 * q) * m + i] = -db[q] / sigma;
                        d[(s + 2 * q + 1) * m + i] = -db[q] * xs / sigma / FWHM_PER_SIGMA;
                    }
                }
            }
        }
    }
    fn assemble(&self, a: &[f64], c: &[f64], p: &mut [f64]) {
        for (&j, v) in self.nonlinear().iter().zip(a) {
            p[j] = *v;
        }
        for (&j, v) in self.linear().iter().zip(c) {
            p[j] = *v;
        }
    }
}

impl ExpDecay {
    /// Jacobian, and the values too when `out` is given, in one pass.
    fn fill(&self, p: &[f64], x: &[f64], out: Option<&mut [f64]>, jac: &mut [f64]) {
        let m = x.len();
        let i0 = self.idx_t0();
        let (t0, sigma) = (p[i0], p[i0 + 1] / FWHM_PER_SIGMA);
        let mut k = i0 + 2;
        let step_idx = self.baseline.step.then(|| {
            k += 1;
            k - 1
        });
        let offset_idx = self.baseline.offset.then_some(k);
        let art_idx = self.artefact.then_some(k + self.baseline.offset as usize);
        // the exponentials in bulk with the vectorised kernel (the same
        // values as the scalar one), the rest point by point
        let u: Vec<f64> = x.iter().map(|t| t - t0).collect();
        let mut arg: Vec<f64> = u.iter().map(|v| -0.5 * (v / sigma) * (v / sigma)).collect();
        let (mut g, mut e) = (vec![0.0; m], vec![0.0; m]);
        exp_slice(&arg, &mut g);
        let (mut f_sum, mut d_u, mut d_sigma) = (vec![0.0; m], vec![0.0; m], vec![0.0; m]);
        for c in 0..self.n_exp {
            let (a, tau) = (p[2 * c], p[2 * c + 1]);
            let shift = 0.5 * (sigma / tau).powi(2);
            for (g_, v) in arg.iter_mut().zip(&u) {
                *g_ = shift - v / tau;
            }
            exp_slice(&arg, &mut e);
            for i in 0..m {
                let [f, fu, ftau, fsig] = irf_exp_with(u[i], tau, sigma, g[i], e[i]);
                jac[2 * c * m + i] = f;
                f_sum[i] += a * f;
                jac[(2 * c + 1) * m + i] = a * ftau;
                d_u[i] += a * fu;
                d_sigma[i] += a * fsig;
            }
        }
        if let Some(j) = step_idx {
            for i in 0..m {
                let [h, hu, hsig] = irf_step_with(u[i], sigma, g[i]);
                jac[j * m + i] = h;
                f_sum[i] += p[j] * h;
                d_u[i] += p[j] * hu;
                d_sigma[i] += p[j] * hsig;
            }
        }
        if let Some(j) = offset_idx {
            for i in 0..m {
                jac[j * m + i] = 1.0;
                f_sum[i] += p[j];
            }
        }
        if let Some(j) = art_idx {
            for i in 0..m {
                let xs = u[i] / sigma;
                let (b, db) = artefact_basis(xs, g[i]);
                for q in 0..3 {
                    jac[(j + q) * m + i] = b[q];
                    f_sum[i] += p[j + q] * b[q];
                    d_u[i] += p[j + q] * db[q] / sigma;
                    d_sigma[i] -= p[j + q] * db[q] * xs / sigma;
                }
            }
        }
        for i in 0..m {
            jac[i0 * m + i] = -d_u[i];
            jac[(i0 + 1) * m + i] = d_sigma[i] / FWHM_PER_SIGMA;
        }
        if let Some(o) = out {
            o.copy_from_slice(&f_sum);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::model::jacobian_mismatch;

    /// Reference: direct numerical convolution of the Gaussian with the
    /// causal exponential, by the trapezoid rule on a fine grid.
    fn convolve_numerically(u: f64, tau: f64, sigma: f64) -> f64 {
        // integrand is smooth on [lo, u] and zero beyond u: Simpson's rule
        let n = 20_000;
        let lo = (-14.0 * sigma).min(u - 1e-9);
        let h = (u - lo) / n as f64;
        let mut s = 0.0;
        for k in 0..=n {
            let tp = lo + k as f64 * h; // tp = time of excitation
            let v = (-(u - tp) / tau).exp() * (-0.5 * (tp / sigma).powi(2)).exp() * INV_SQRT_2PI
                / sigma;
            let w = if k == 0 || k == n {
                1.0
            } else if k % 2 == 1 {
                4.0
            } else {
                2.0
            };
            s += w * v;
        }
        s * h / 3.0
    }

    #[test]
    fn closed_form_matches_numerical_convolution() {
        for &(tau, sigma) in &[(7.76, 0.1), (0.12, 0.0637), (0.01, 0.0637), (3.0, 1.0)] {
            for &u in &[-0.3, -0.05, 0.0, 0.05, 0.2, 1.0, 5.0] {
                let exact = convolve_numerically(u, tau, sigma);
                let f = irf_exp(u, tau, sigma)[0];
                assert!(
                    (f - exact).abs() < 1e-6 * exact.abs().max(1e-3),
                    "tau {tau} sigma {sigma} u {u}: {f} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn basis_derivatives_match_finite_differences_and_rebuild_the_model() {
        let x: Vec<f64> = (0..300).map(|i| -2.0 + i as f64 * 0.1).collect();
        for n_exp in 1..=3 {
            for (offset, step, artefact) in [
                (true, true, true),
                (false, false, false),
                (true, false, true),
            ] {
                let m = ExpDecay {
                    n_exp,
                    baseline: Baseline { offset, step },
                    artefact,
                };
                let mut a: Vec<f64> = [7.76, 0.12, 2.0][..n_exp].to_vec();
                a.extend([0.1, 0.15]);
                let c: Vec<f64> = (0..m.n_basis()).map(|j| 1.0 - 0.2 * j as f64).collect();
                let err = crate::fit::model::basis_mismatch(&m, &a, &c, &x);
                assert!(err < 1e-6, "{m:?}: mismatch {err}");
                assert_eq!(m.linear().len(), m.n_basis());
                assert_eq!(m.linear().len() + m.nonlinear().len(), m.template().0.len());
            }
        }
    }

    #[test]
    fn stable_at_extremes() {
        // tau much shorter than the IRF, far before and far after t0
        for &(u, tau, sigma) in &[
            (0.0, 1e-4, 1.0),
            (-50.0, 1e-4, 0.1),
            (5000.0, 1.0, 0.1),
            (5000.0, 1e5, 0.1),
            (-5.0, 1e5, 0.05),
        ] {
            let r = irf_exp(u, tau, sigma);
            assert!(r.iter().all(|v| v.is_finite()), "{u} {tau} {sigma}: {r:?}");
            assert!(r[0] >= 0.0 && r[0] <= 1.0);
        }
        // the long-tau limit approaches the step
        let (e, s) = (irf_exp(2.0, 1e9, 0.3)[0], irf_step(2.0, 0.3)[0]);
        assert!((e - s).abs() < 1e-8);
    }

    #[test]
    fn jacobian_matches_finite_differences() {
        let x: Vec<f64> = (0..300).map(|i| -2.0 + i as f64 * 0.1).collect();
        for n_exp in 1..=3 {
            for baseline in [
                Baseline {
                    offset: true,
                    step: true,
                },
                Baseline {
                    offset: false,
                    step: false,
                },
            ] {
                let m = ExpDecay {
                    n_exp,
                    baseline,
                    artefact: n_exp != 2,
                };
                let mut p = m.template().values();
                for k in 0..n_exp {
                    p[2 * k] = 1.0 - 0.4 * k as f64;
                    p[2 * k + 1] = [7.76, 0.12, 2.0][k];
                }
                let i0 = 2 * n_exp;
                p[i0] = 0.1;
                p[i0 + 1] = 0.15;
                for (j, v) in p.iter_mut().enumerate().skip(i0 + 2) {
                    *v = 0.05 * (1.0 + 0.3 * j as f64);
                }
                let err = jacobian_mismatch(&m, &p, &x);
                assert!(err < 1e-6, "n_exp {n_exp}, {baseline:?}: mismatch {err}");
            }
        }
    }
}
