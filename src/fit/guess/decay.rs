//! Start values for IRF-convolved exponential decays from the trace shape.

use super::median;
use crate::fit::decay::{ExpDecay, FWHM_PER_SIGMA, irf_exp};
use crate::fit::model::Model;
use crate::fit::params::Params;

/// Linear interpolation of the time where `f` crosses `level` between
/// samples `a` and `b`.
fn crossing(t: &[f64], f: &[f64], a: usize, b: usize, level: f64) -> f64 {
    let (fa, fb) = (f[a], f[b]);
    if (fb - fa).abs() < f64::MIN_POSITIVE {
        return t[a];
    }
    t[a] + (level - fa) / (fb - fa) * (t[b] - t[a])
}

/// Start values for `model` on data (t ascending, ps). `irf_fwhm` and `t0`
/// are used as given when known.
pub fn guess_decay(
    model: &ExpDecay,
    t: &[f64],
    y: &[f64],
    irf_fwhm: Option<f64>,
    t0: Option<f64>,
) -> Params {
    let n = t.len();
    let npre = (n / 20).max(3).min(n);
    let y0 = if model.baseline.offset {
        median(&mut y[..npre].to_vec())
    } else {
        0.0
    };
    let pk = (0..n)
        .max_by(|&a, &b| (y[a] - y0).abs().total_cmp(&(y[b] - y0).abs()))
        .unwrap_or(0);
    let apk = y[pk] - y0;
    let sgn = if apk < 0.0 { -1.0 } else { 1.0 };
    // normalised excess: rises from 0 to 1 at the peak
    let f: Vec<f64> = y
        .iter()
        .map(|v| sgn * (v - y0) / apk.abs().max(f64::MIN_POSITIVE))
        .collect();
    let ntail = (n / 10).max(3).min(n - pk.min(n - 1));
    let tail = if model.baseline.step {
        f[n - ntail..].iter().sum::<f64>() / ntail as f64
    } else {
        0.0
    };
    let tail = tail.clamp(0.0, 0.9);
    let last_below = |level: f64| (0..pk).rev().find(|&j| f[j] < level);
    let t_half = last_below(0.5).map_or(t[pk], |j| crossing(t, &f, j, j + 1, 0.5));
    let t10 = last_below(0.1).map_or(t[0], |j| crossing(t, &f, j, j + 1, 0.1));
    let t90 = last_below(0.9).map_or(t[pk], |j| crossing(t, &f, j, j + 1, 0.9));
    let dt = if pk > 0 {
        t[pk] - t[pk - 1]
    } else {
        t[1] - t[0]
    };
    // 10-90 % rise of an erf step is 2.563 sigma, i.e. 1.088 FWHM
    let fwhm = irf_fwhm.unwrap_or_else(|| ((t90 - t10) / 1.088).max(0.5 * dt));
    let t0v = t0.unwrap_or(t_half);
    let level = tail + (1.0 - tail) / std::f64::consts::E;
    let tau = (pk + 1..n)
        .find(|&j| f[j] <= level)
        .map_or((t[n - 1] - t0v) / 2.0, |j| {
            crossing(t, &f, j - 1, j, level) - t0v
        })
        .max(1e-3);
    let sigma = fwhm / FWHM_PER_SIGMA;
    let mut p = model.template();
    let taus: Vec<f64> = match model.n_exp {
        1 => vec![tau],
        2 => vec![tau / 3.0, tau * 3.0],
        k => (0..k)
            .map(|i| tau * 5f64.powf(i as f64 - (k as f64 - 1.0) / 2.0))
            .collect(),
    };
    for (k, &tk) in taus.iter().enumerate() {
        // peak of the unit response, so that short lifetimes under a broad IRF
        // get amplitudes large enough to reach the measured peak
        let peak = (0..200)
            .map(|i| {
                irf_exp(
                    -2.0 * sigma + i as f64 * (6.0 * sigma + 2.0 * tk) / 200.0,
                    tk,
                    sigma,
                )[0]
            })
            .fold(0.0f64, f64::max)
            .max(1e-6);
        let (a, tn) = model.names(k);
        p.get_mut(&a).expect("template").value =
            sgn * apk.abs() * (1.0 - tail) / peak / model.n_exp as f64;
        p.get_mut(&tn).expect("template").value = tk;
    }
    p.get_mut("t0").expect("template").value = t0v;
    p.get_mut("irf_fwhm").expect("template").value = fwhm.max(2e-4);
    if model.baseline.step {
        p.get_mut("step").expect("template").value = sgn * tail * apk.abs();
    }
    if model.baseline.offset {
        p.get_mut("offset").expect("template").value = y0;
    }
    p
}

/// Start points from a grid of lifetimes: for each set of `n_exp` lifetimes
/// from a log-spaced grid over [shortest step, window], the amplitudes,
/// step and offset are linear and solved by least squares (variable
/// projection), so rising components get their negative amplitudes. `t0`
/// and the IRF width come from `base`. Returns up to `max` best sets.
pub fn decay_grid_starts(
    model: &ExpDecay,
    base: &Params,
    t: &[f64],
    y: &[f64],
    max: usize,
) -> Vec<Params> {
    let (t0, fwhm) = (base.value("t0"), base.value("irf_fwhm"));
    lifetime_grid(model, t0, fwhm, t, &[y], max)
        .into_iter()
        .map(|(taus, sols)| {
            let sol = &sols[0];
            let mut p = base.clone();
            for (k, &tau) in taus.iter().enumerate() {
                let (a, tn) = model.names(k);
                p.get_mut(&a).expect("template").value = sol[k];
                p.get_mut(&tn).expect("template").value = tau;
            }
            let mut j = taus.len();
            if model.baseline.step {
                p.get_mut("step").expect("template").value = sol[j];
                j += 1;
            }
            if model.baseline.offset {
                p.get_mut("offset").expect("template").value = sol[j];
            }
            p
        })
        .collect()
}

/// The grid search behind [`decay_grid_starts`], for one trace or many
/// sharing their lifetimes (a map's wavelengths): every set of `n_exp`
/// distinct grid lifetimes (no two neighbours) is scored by the summed
/// least-squares chi^2 of all traces, sum_l (|y_l|^2 - b_l^T G^-1 b_l),
/// b_l = Phi^T y_l, with one Gram matrix G for all. Returns up to `max` best
/// sets, each with its lifetimes (ps) and every trace's coefficients
/// (exponentials, then step and offset as the model has them).
pub fn lifetime_grid(
    model: &ExpDecay,
    t0: f64,
    irf_fwhm: f64,
    t: &[f64],
    ys: &[&[f64]],
    max: usize,
) -> Vec<(Vec<f64>, Vec<Vec<f64>>)> {
    use nalgebra::{DMatrix, DVector};
    let sigma = irf_fwhm / FWHM_PER_SIGMA;
    let span = (t[t.len() - 1] - t0).max(1e-3);
    let dt = t
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|d| *d > 0.0)
        .fold(f64::INFINITY, f64::min);
    let lo = (0.5 * dt.min(sigma)).max(1e-3);
    let ng = 14;
    let taus: Vec<f64> = (0..ng)
        .map(|i| lo * (span / lo).powf(i as f64 / (ng - 1) as f64))
        .collect();
    let mut cols: Vec<Vec<f64>> = taus
        .iter()
        .map(|&tau| t.iter().map(|&x| irf_exp(x - t0, tau, sigma)[0]).collect())
        .collect();
    if model.baseline.step {
        cols.push(
            t.iter()
                .map(|&x| crate::fit::decay::irf_step(x - t0, sigma)[0])
                .collect(),
        );
    }
    if model.baseline.offset {
        cols.push(vec![1.0; t.len()]);
    }
    let n = cols.len();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let gram = DMatrix::from_fn(n, n, |a, b| dot(&cols[a], &cols[b]));
    let rhs: Vec<DVector<f64>> = ys
        .iter()
        .map(|y| DVector::from_fn(n, |a, _| dot(&cols[a], y)))
        .collect();
    let extra: Vec<usize> = (ng..n).collect();
    let mut combos: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..model.n_exp {
        combos = combos
            .into_iter()
            .flat_map(|c| {
                let from = c.last().map_or(0, |l| l + 2); // skip neighbours: distinct lifetimes
                (from..ng).map(move |k| [c.clone(), vec![k]].concat())
            })
            .collect();
    }
    let mut scored: Vec<(f64, Vec<usize>, Vec<Vec<f64>>)> = combos
        .into_iter()
        .filter_map(|c| {
            let idx: Vec<usize> = c.iter().chain(&extra).copied().collect();
            let k = idx.len();
            let g = DMatrix::from_fn(k, k, |a, b| gram[(idx[a], idx[b])]).cholesky()?;
            let mut gain = 0.0;
            let sols = rhs
                .iter()
                .map(|b| {
                    let r = DVector::from_fn(k, |a, _| b[idx[a]]);
                    let sol = g.solve(&r);
                    gain += sol.dot(&r);
                    sol.iter().copied().collect()
                })
                .collect();
            Some((-gain, c, sols))
        })
        .collect();
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    scored
        .into_iter()
        .take(max)
        .map(|(_, c, sols)| (c.iter().map(|&i| taus[i]).collect(), sols))
        .collect()
}
