//! The previous pulses (resonant spin amplification): with a laser of
//! repetition period T_rep the spins of every earlier pump pulse still
//! precess, so the signal at delay t is the sum over pulses
//!
//! C(t) = sum_{n >= n0(t)} cos(omega t_n) E(t_n),  S(t) likewise with sin,
//!
//! t_n = t + n T_rep, n0 = 0 for t >= 0 and ceil(-t / T_rep) before the pump
//! (negative delays see only the earlier pulses). For the exponential
//! envelope the series is geometric and summed in closed form: with
//! s = -1/T2 + i omega and q = exp(s T_rep),
//!
//! C + i S = exp(s t_n0) / (1 - q),
//! d(C + i S)/ds = (C + i S) (t_n0 + T_rep q / (1 - q)),
//!
//! and d/d omega = i d/ds (omega in rad/ns: times 1e-3), d/dT2 = d/ds / T2^2.
//! The Gaussian and Voigt envelopes fall faster than any exponential: their
//! sum is taken term by term until the envelope is below 1e-12 (at most
//! [`MAX_PULSES`] terms).

use crate::error::{Error, Result};

/// The envelope as the sum needs it: exponential (summed in closed form)
/// or not, and its T2 exponent with the derivative by T2 at a delay (the
/// Gaussian part of sigma_w is added here).
pub struct Shape<'a> {
    pub exponential: bool,
    pub arg: &'a dyn Fn(f64) -> (f64, f64),
}

/// Most earlier pulses summed for a Gaussian or Voigt envelope.
pub const MAX_PULSES: usize = 400;

/// A laser repetition period, stored in fs so that models stay `Eq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Period(u64);

impl Period {
    /// From ps; refused unless finite and between 10 ps and 1 s.
    pub fn from_ps(ps: f64) -> Result<Period> {
        if !(ps.is_finite() && (10.0..=1e12).contains(&ps)) {
            return Err(Error::setting(
                "repetition",
                format!(
                    "{ps} ps: expected a laser repetition period between 10 ps and 1 s, e.g. 13.2ns"
                ),
            ));
        }
        Ok(Period((ps * 1e3).round() as u64))
    }
    /// The period in ps.
    pub fn ps(self) -> f64 {
        self.0 as f64 / 1e3
    }
    /// t_n0 = t + n0 T_rep: the delay from the latest pulse before `t` (ps;
    /// `t` itself after the pump, the previous pulse's delay before it).
    pub fn since_last_pulse(self, t: f64) -> f64 {
        if t >= 0.0 {
            t
        } else {
            t + (-t / self.ps()).ceil() * self.ps()
        }
    }
    /// The period in ns (13.2, not 13.200000000000001).
    pub fn ns(self) -> f64 {
        self.0 as f64 / 1e6
    }
}

/// The columns of one cosine summed over pulses, and their derivatives by
/// (omega, T2, sigma_w): `out[0..2]` = C, S; `out[2..4]` = dC, dS by omega;
/// `out[4..6]` by T2; `out[6..8]` by sigma_w (Voigt only). Omega in rad/ns,
/// T2 in ps, sigma_w in rad/ns, delays `x` in ps.
pub fn columns(
    env: &Shape,
    w: f64,
    t2: f64,
    sig: f64,
    rep: Period,
    x: &[f64],
    out: &mut [Vec<f64>; 8],
) {
    let tr = rep.ps();
    for (i, &t) in x.iter().enumerate() {
        let t0 = rep.since_last_pulse(t);
        let v = if env.exponential {
            closed_form(w * 1e-3, t2, tr, t0)
        } else {
            term_by_term(env, w * 1e-3, sig, tr, t0)
        };
        for (o, vi) in out.iter_mut().zip(v) {
            o[i] = vi;
        }
    }
}

/// The non-oscillating exponential summed over the pulses, into `out`
/// (and its derivative by tau into `d`): a geometric series,
/// f = exp(-t_n0 / tau) / (1 - q), q = exp(-T_rep / tau),
/// df/dtau = f (t_n0 / tau^2 + (T_rep / tau^2) q / (1 - q)).
pub fn decay(tau: f64, rep: Period, x: &[f64], out: &mut [f64], d: Option<&mut [f64]>) {
    let tr = rep.ps();
    let q = (-tr / tau).exp();
    for (o, &t) in out.iter_mut().zip(x) {
        *o = (-rep.since_last_pulse(t) / tau).exp() / (1.0 - q);
    }
    if let Some(d) = d {
        let k = tr / (tau * tau) * q / (1.0 - q);
        for ((o, &f), &t) in d.iter_mut().zip(out.iter()).zip(x) {
            *o = f * (rep.since_last_pulse(t) / (tau * tau) + k);
        }
    }
}

/// The exponential envelope's geometric series (module docs); w in rad/ps.
fn closed_form(w: f64, t2: f64, tr: f64, t0: f64) -> [f64; 8] {
    let (sr, si) = (-1.0 / t2, w);
    let cexp = |a: f64, b: f64| {
        let e = a.exp();
        (e * b.cos(), e * b.sin())
    };
    let mul = |a: (f64, f64), b: (f64, f64)| (a.0 * b.0 - a.1 * b.1, a.0 * b.1 + a.1 * b.0);
    let div = |a: (f64, f64), b: (f64, f64)| {
        let d = b.0 * b.0 + b.1 * b.1;
        ((a.0 * b.0 + a.1 * b.1) / d, (a.1 * b.0 - a.0 * b.1) / d)
    };
    let q = cexp(sr * tr, si * tr);
    let one_q = (1.0 - q.0, -q.1);
    let z = div(cexp(sr * t0, si * t0), one_q);
    let k = div((tr * q.0, tr * q.1), one_q);
    let d = mul(z, (t0 + k.0, k.1));
    // d/d omega(rad/ns) = i 1e-3 d/ds; d/dT2 = d/ds / T2^2
    [
        z.0,
        z.1,
        -1e-3 * d.1,
        1e-3 * d.0,
        d.0 / (t2 * t2),
        d.1 / (t2 * t2),
        0.0,
        0.0,
    ]
}

/// The Gaussian or Voigt envelope summed term by term from t0 (w in rad/ps).
fn term_by_term(env: &Shape, w: f64, sig: f64, tr: f64, t0: f64) -> [f64; 8] {
    let mut v = [0.0; 8];
    for n in 0..MAX_PULSES {
        let t = t0 + n as f64 * tr;
        let u = sig * t * 1e-3;
        let (a, dt) = (env.arg)(t);
        let arg = a - 0.5 * u * u;
        if n > 0 && arg < -27.6 {
            break;
        }
        let e = arg.exp();
        let (s, c) = (w * t).sin_cos();
        let (ce, se) = (c * e, s * e);
        let ds = -sig * (t * 1e-3) * (t * 1e-3);
        let d = [
            ce,
            se,
            -se * t * 1e-3,
            ce * t * 1e-3,
            ce * dt,
            se * dt,
            ce * ds,
            se * ds,
        ];
        for (a, b) in v.iter_mut().zip(d) {
            *a += b;
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closed_form_is_the_sum_over_pulses() {
        // exponential envelope: the closed form against 200 explicit terms,
        // before and after the pump, with T2 a few periods long
        let (w, t2, tr) = (7.3, 2500.0, 1000.0);
        let rep = Period::from_ps(tr).unwrap();
        let x = [-2600.0, -900.0, -1.0, 0.0, 300.0, 1777.0];
        let mut out: [Vec<f64>; 8] = Default::default();
        out.iter_mut().for_each(|o| o.resize(x.len(), 0.0));
        let lorentz = |t: f64| (-t / t2, t / (t2 * t2));
        let exp = Shape {
            exponential: true,
            arg: &lorentz,
        };
        columns(&exp, w, t2, 0.0, rep, &x, &mut out);
        for (i, &t) in x.iter().enumerate() {
            let (mut c, mut s) = (0.0, 0.0);
            for n in 0..200 {
                let tn = t + n as f64 * tr;
                if tn >= 0.0 {
                    let e = (-tn / t2).exp();
                    c += (w * 1e-3 * tn).cos() * e;
                    s += (w * 1e-3 * tn).sin() * e;
                }
            }
            assert!(
                (out[0][i] - c).abs() < 1e-12 && (out[1][i] - s).abs() < 1e-12,
                "t = {t}"
            );
        }
        // and the term-by-term path agrees where both apply (sigma_w = 0)
        let mut v: [Vec<f64>; 8] = Default::default();
        v.iter_mut().for_each(|o| o.resize(x.len(), 0.0));
        let summed = Shape {
            exponential: false,
            arg: &lorentz,
        };
        columns(&summed, w, t2, 0.0, rep, &x, &mut v);
        for k in 0..6 {
            for i in 0..x.len() {
                assert!(
                    (v[k][i] - out[k][i]).abs() < 1e-9 * (1.0 + out[k][i].abs()),
                    "{k} {i}"
                );
            }
        }
    }

    #[test]
    fn periods_are_validated() {
        assert!(Period::from_ps(13_200.0).is_ok());
        assert_eq!(Period::from_ps(13_200.0).unwrap().ps(), 13_200.0);
        assert_eq!(Period::from_ps(13_200.0).unwrap().ns().to_string(), "13.2");
        for bad in [0.0, -5.0, f64::NAN, f64::INFINITY, 1.0] {
            assert!(Period::from_ps(bad).is_err(), "{bad}");
        }
    }
}
