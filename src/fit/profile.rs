//! Profile-likelihood confidence intervals.
//!
//! For parameter p_j the profile is chi^2_min(v) = min over the other free
//! parameters with p_j = v fixed. The k-sigma interval is where
//! chi^2_min(v) - chi^2_best <= k^2 s, with s = 1 for absolute sigmas and
//! s = chi^2_red otherwise. Unlike stderr it follows the real, possibly
//! asymmetric, shape of chi^2 (e.g. a lifetime shorter than the IRF).

use super::lm::{LmOptions, fit};
use super::model::Model;
use super::result::FitResult;
use crate::error::{Error, Result};

/// A profile interval; `None` ends were not reached within the search
/// range (the parameter is not bounded on that side at this level).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Interval {
    pub name: String,
    pub sigma_level: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

#[allow(clippy::too_many_arguments)]
fn profile_chi(
    model: &dyn Model,
    x: &[f64],
    y: &[f64],
    sigma: Option<&[f64]>,
    best: &FitResult,
    j: usize,
    v: f64,
    lm: &LmOptions,
) -> Option<f64> {
    let mut p = best.params.clone();
    let q = &mut p.0[j];
    if v <= q.min || v >= q.max {
        return None;
    }
    q.value = v;
    q.vary = false;
    if !p.0.iter().any(|q| q.vary) {
        let mut f = vec![0.0; x.len()];
        model.eval(&p.values(), x, &mut f);
        return Some(
            f.iter()
                .zip(y)
                .enumerate()
                .map(|(i, (a, b))| ((a - b) / sigma.map_or(1.0, |s| s[i])).powi(2))
                .sum(),
        );
    }
    fit(model, x, y, sigma, &p, lm).ok().map(|r| r.chisqr)
}

/// k-sigma profile interval of parameter `name` around the fit `best`.
pub fn interval(
    model: &dyn Model,
    x: &[f64],
    y: &[f64],
    sigma: Option<&[f64]>,
    best: &FitResult,
    name: &str,
    k: f64,
) -> Result<Interval> {
    let j = best
        .params
        .0
        .iter()
        .position(|p| p.name == name)
        .ok_or_else(|| Error::setting(name, "no such parameter"))?;
    if !best.params.0[j].vary {
        return Err(Error::setting(name, "fixed parameters have no interval"));
    }
    let lm = LmOptions {
        patience: 200,
        ..LmOptions::default()
    };
    let scale = if best.absolute_sigma {
        1.0
    } else {
        best.redchi
    };
    let target = best.chisqr + k * k * scale;
    let v0 = best.params.0[j].value;
    let h0 = best.stderr[j]
        .filter(|e| e.is_finite() && *e > 0.0)
        .unwrap_or(0.1 * v0.abs().max(1e-6));
    let side = |dir: f64| -> Option<f64> {
        // expand until chi^2 exceeds the target, then bisect
        let (mut lo, mut h) = (v0, h0 * k);
        let mut hi = None;
        for _ in 0..30 {
            let v = v0 + dir * h;
            match profile_chi(model, x, y, sigma, best, j, v, &lm) {
                Some(c) if c >= target => {
                    hi = Some(v);
                    break;
                }
                Some(_) => {
                    lo = v;
                    h *= 1.6;
                }
                None => return None,
            }
        }
        let mut hi = hi?;
        for _ in 0..40 {
            let mid = 0.5 * (lo + hi);
            match profile_chi(model, x, y, sigma, best, j, mid, &lm) {
                Some(c) if c >= target => hi = mid,
                Some(_) => lo = mid,
                None => return None,
            }
            if (hi - lo).abs() <= 1e-6 * h0 {
                break;
            }
        }
        Some(0.5 * (lo + hi))
    };
    Ok(Interval {
        name: name.to_string(),
        sigma_level: k,
        lower: side(-1.0),
        upper: side(1.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::model::FnModel;
    use crate::fit::params::{Param, Params};

    #[test]
    fn linear_model_interval_equals_stderr() {
        // for a model linear in its parameters the profile is exactly
        // quadratic: the 1-sigma interval is value +/- stderr
        let x: Vec<f64> = (0..30).map(f64::from).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| 2.0 + 0.5 * v + 0.3 * (v * 1.7).sin())
            .collect();
        let m = FnModel {
            name: "line".into(),
            params: Params(vec![Param::new("a", 1.0, ""), Param::new("b", 1.0, "")]),
            f: |p: &[f64], x: f64| p[0] + p[1] * x,
        };
        let r = fit(&m, &x, &y, None, &m.params, &LmOptions::default()).unwrap();
        let iv = interval(&m, &x, &y, None, &r, "b", 1.0).unwrap();
        let (v, e) = (r.value("b"), r.err("b"));
        assert!(
            (iv.lower.unwrap() - (v - e)).abs() < 1e-4 * e,
            "{iv:?} vs {v} +/- {e}"
        );
        assert!((iv.upper.unwrap() - (v + e)).abs() < 1e-4 * e);
    }
}
