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
    delay_ps: &[f64],
    rows: &[&[f64]],
    t0: f64,
    fwhm: f64,
    max: usize,
) -> Vec<Vec<f64>> {
    lifetime_grid(model, t0, fwhm, delay_ps, rows, max)
        .into_iter()
        .map(|(t, _)| t)
        .collect()
}

/// t0 and chirp coefficients (ps per (100 nm)^k, k = 1..order) of a
/// polynomial in the wavelength (nm, coefficients highest power first):
/// p(lambda) re-expanded in x = (lambda - lambda_ref) / 100 nm by
/// substituting lambda = lambda_ref + 100 x (Horner's scheme on
/// polynomials in x).
pub(crate) fn recentred(p: &[f64], lambda_ref: f64, order: usize) -> Vec<f64> {
    let mut c = vec![0.0; order + 1];
    for &a in p {
        // c <- c * (lambda_ref + 100 x) + a
        let mut next = vec![0.0; order + 1];
        for k in 0..=order {
            next[k] += c[k] * lambda_ref;
            if k < order {
                next[k + 1] += c[k] * 100.0;
            }
        }
        next[0] += a;
        c = next;
    }
    c
}

#[cfg(test)]
mod tests {
    /// The re-centred polynomial gives the file's t0 at every wavelength.
    #[test]
    fn recentred_chirp_is_the_same_curve() {
        let p = [3e-8, 2e-6, -3e-3, 1.5]; // highest power first, lambda in nm
        let c = super::recentred(&p, 550.0, 3);
        for lambda in [400.0, 550.0, 612.5, 800.0] {
            let direct = p.iter().fold(0.0, |acc, a| acc * lambda + a);
            let x = (lambda - 550.0) / 100.0;
            let ours: f64 = c
                .iter()
                .enumerate()
                .map(|(k, d)| d * x.powi(k as i32))
                .sum();
            assert!(
                (direct - ours).abs() < 1e-12 * direct.abs().max(1.0),
                "{direct} vs {ours}"
            );
        }
    }
}
