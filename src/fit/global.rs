//! Global fit of a TRFE field series: every trace at once, sharing the
//! carriers' physics.
//!
//! Trace n at field B_n, carrier c:
//! A_n(t) = sum_c S_nc cos(kappa g_c B_n t) exp(-t Gamma_nc) + c_n,
//! Gamma_nc = 1/T2*_c(0) + kappa dg_c B_n   (eqs. 1 and 3),
//! kappa = mu_B/hbar = 0.0879410 rad ps^-1 T^-1, t in ps.
//! Shared: g_c, T2*_c(0), dg_c; per trace: amplitudes S_nc and offset c_n.
//! The data of all traces are concatenated; the model's x is the index of
//! a point in that concatenation.

use super::fastmath::{exp, sin_cos};
use super::model::Model;
use super::params::{Param, Params};
use crate::physics::MU_B_OVER_HBAR_RAD_PER_NS_T;

const KAPPA: f64 = MU_B_OVER_HBAR_RAD_PER_NS_T * 1e-3;

/// The concatenated series and its layout.
#[derive(Debug, Clone)]
pub struct GlobalSeries {
    /// Carrier names, e.g. ["electron", "hole"].
    pub carriers: Vec<String>,
    /// Field (T) of each trace.
    pub fields: Vec<f64>,
    /// Trace index of each point.
    pub trace: Vec<usize>,
    /// Delay (ps) of each point.
    pub t: Vec<f64>,
}

impl GlobalSeries {
    fn nc(&self) -> usize {
        self.carriers.len()
    }
    /// Index of trace n's first per-trace parameter.
    fn base(&self, n: usize) -> usize {
        3 * self.nc() + n * (self.nc() + 1)
    }
}

impl Model for GlobalSeries {
    fn name(&self) -> String {
        format!(
            "global field series: {} traces, {} with shared g, T2*(0), dg",
            self.fields.len(),
            self.carriers.join(" and ")
        )
    }

    fn template(&self) -> Params {
        let mut v = vec![];
        for c in &self.carriers {
            v.push(Param::new(format!("g_{c}"), 1.0, "").bounds(0.0, f64::INFINITY));
            v.push(
                Param::new(format!("t2_zero_field_{c}"), 200.0, "ps").bounds(1e-3, f64::INFINITY),
            );
            // unbounded: a spread consistent with zero may come out slightly negative
            v.push(Param::new(format!("dg_{c}"), 0.05, ""));
        }
        for n in 0..self.fields.len() {
            for c in &self.carriers {
                v.push(Param::new(
                    format!("amplitude_{}_{c}", n + 1),
                    1.0,
                    "signal",
                ));
            }
            v.push(Param::new(format!("offset_{}", n + 1), 0.0, "signal"));
        }
        Params(v)
    }

    fn eval(&self, p: &[f64], x: &[f64], out: &mut [f64]) {
        for (o, &xi) in out.iter_mut().zip(x) {
            let i = xi as usize;
            let (n, t) = (self.trace[i], self.t[i]);
            let b = self.fields[n];
            let base = self.base(n);
            let mut f = p[base + self.nc()];
            for c in 0..self.nc() {
                let (g, t20, dg) = (p[3 * c], p[3 * c + 1], p[3 * c + 2]);
                f += p[base + c]
                    * sin_cos(KAPPA * g * b * t).1
                    * exp(-t * (1.0 / t20 + KAPPA * dg * b));
            }
            *o = f;
        }
    }

    fn jacobian(&self, p: &[f64], x: &[f64], jac: &mut [f64]) {
        let m = x.len();
        jac.iter_mut().for_each(|v| *v = 0.0);
        for (i, &xi) in x.iter().enumerate() {
            let k = xi as usize;
            let (n, t) = (self.trace[k], self.t[k]);
            let b = self.fields[n];
            let base = self.base(n);
            for c in 0..self.nc() {
                let (g, t20, dg) = (p[3 * c], p[3 * c + 1], p[3 * c + 2]);
                let a = p[base + c];
                let (sn, cs) = sin_cos(KAPPA * g * b * t);
                let e = exp(-t * (1.0 / t20 + KAPPA * dg * b));
                jac[(3 * c) * m + i] = -a * sn * e * KAPPA * b * t;
                jac[(3 * c + 1) * m + i] = a * cs * e * t / (t20 * t20);
                jac[(3 * c + 2) * m + i] = -a * cs * e * t * KAPPA * b;
                jac[(base + c) * m + i] = cs * e;
            }
            jac[(base + self.nc()) * m + i] = 1.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::model::jacobian_mismatch;

    #[test]
    fn jacobian_matches_finite_differences() {
        let fields = vec![0.18, 0.3, 0.42];
        let (mut trace, mut t) = (vec![], vec![]);
        for n in 0..3 {
            for k in 0..60 {
                trace.push(n);
                t.push(k as f64 * 20.0);
            }
        }
        let s = GlobalSeries {
            carriers: vec!["electron".into(), "hole".into()],
            fields,
            trace,
            t,
        };
        let mut p = s.template().values();
        p[..6].copy_from_slice(&[1.41, 330.0, 0.22, 0.91, 260.0, 0.02]);
        for (j, v) in p.iter_mut().enumerate().skip(6) {
            *v = 0.3 + 0.1 * j as f64;
        }
        let x: Vec<f64> = (0..180).map(f64::from).collect();
        assert!(jacobian_mismatch(&s, &p, &x) < 1e-6);
    }
}
