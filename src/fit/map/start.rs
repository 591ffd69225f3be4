//! Start values of a map fit: IRF and t0 from the map's leading kinetic
//! singular vector, the chirp from each wavelength's half-rise time, and
//! the lifetimes from one grid search over all wavelengths at once
//! ([`lifetime_grid`]).

use super::MapData;
use crate::fit::decay::ExpDecay;
use crate::fit::guess::{guess_decay, lifetime_grid};
use nalgebra::{DMatrix, DVector};

/// t0 (ps) and IRF FWHM (ps) of the map's leading kinetics.
pub(crate) fn irf(model: &ExpDecay, data: &MapData<'_>) -> (f64, f64) {
    let kin = leading_kinetics(data);
    let one = ExpDecay { n_exp: 1, ..*model };
    let p = guess_decay(&one, data.delay_ps, &kin, None, None);
    (p.value("t0"), p.value("irf_fwhm"))
}

/// The first right singular vector of the map (the kinetics every
/// wavelength shares most), by power iteration on Y^T Y from the
/// wavelength-summed |signal|.
fn leading_kinetics(data: &MapData<'_>) -> Vec<f64> {
    let (nl, nt) = data.data.dim();
    let mut v: Vec<f64> = (0..nt)
        .map(|j| (0..nl).map(|l| data.data[[l, j]].abs()).sum())
        .collect();
    for _ in 0..30 {
        let u: Vec<f64> = (0..nl)
            .map(|l| (0..nt).map(|j| data.data[[l, j]] * v[j]).sum())
            .collect();
        let w: Vec<f64> = (0..nt)
            .map(|j| (0..nl).map(|l| data.data[[l, j]] * u[l]).sum())
            .collect();
        let norm = w.iter().map(|x| x * x).sum::<f64>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            break;
        }
        v = w.iter().map(|x| x / norm).collect();
    }
    v
}

/// Chirp coefficients (ps per (100 nm)^k, k = 1..order) from each
/// wavelength's half-rise time, weighted by its peak signal squared; t0 is
/// returned first (the constant term).
pub(crate) fn chirp(model: &ExpDecay, data: &MapData<'_>, xw: &[f64], order: usize) -> Vec<f64> {
    let one = ExpDecay { n_exp: 1, ..*model };
    let mut rows = vec![];
    for (l, row) in data.data.rows().into_iter().enumerate() {
        let y = row.to_vec();
        let peak = y.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let t0 = guess_decay(&one, data.delay_ps, &y, None, None).value("t0");
        if t0.is_finite() && peak > 0.0 {
            rows.push((xw[l], t0, peak * peak));
        }
    }
    let top = rows.iter().fold(0.0f64, |m, r| m.max(r.2));
    rows.retain(|r| r.2 >= 0.04 * top);
    if rows.len() <= order {
        return vec![0.0; order + 1];
    }
    let a = DMatrix::from_fn(rows.len(), order + 1, |i, k| {
        rows[i].0.powi(k as i32) * rows[i].2.sqrt()
    });
    let b = DVector::from_fn(rows.len(), |i, _| rows[i].1 * rows[i].2.sqrt());
    match a.svd(true, true).solve(&b, 1e-12) {
        Ok(c) if c.iter().all(|v| v.is_finite()) => c.iter().copied().collect(),
        _ => vec![0.0; order + 1],
    }
}

/// Up to `max` sets of lifetimes (ps), best first, for `model` at a common
/// t0 and IRF width.
pub(crate) fn lifetimes(
    model: &ExpDecay,
    data: &MapData<'_>,
    t0: f64,
    fwhm: f64,
    max: usize,
) -> Vec<Vec<f64>> {
    let rows: Vec<Vec<f64>> = data.data.rows().into_iter().map(|r| r.to_vec()).collect();
    let refs: Vec<&[f64]> = rows.iter().map(|r| r.as_slice()).collect();
    lifetime_grid(model, t0, fwhm, data.delay_ps, &refs, max)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}
