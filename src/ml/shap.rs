//! Exact Shapley values (interventional), for any trained model.
//!
//! For features F (p = |F|), a row x and a background set B:
//! v(S) = (1/|B|) sum_{b in B} f(x_S, b_{F\S}),
//! phi_i = sum_{S subset of F\{i}} |S|! (p - |S| - 1)! / p! [v(S u {i}) - v(S)].
//! Every coalition is evaluated (2^p |B| model calls, batched into one
//! prediction), so the values are exact, not sampled: they sum to
//! f(x) - v(empty set) = f(x) - mean_b f(b) (efficiency).

use super::Predictor;
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use rayon::prelude::*;

/// Most features explained exactly (2^16 coalitions).
pub const MAX_FEATURES: usize = 16;

/// Shapley values of each row of `x` (rows x features) and the base value;
/// `tick` after each row.
pub fn shap(
    f: &dyn Predictor,
    x: &DMatrix<f64>,
    background: &DMatrix<f64>,
    tick: &(dyn Fn() + Sync),
) -> Result<(DMatrix<f64>, f64)> {
    let p = x.ncols();
    if p > MAX_FEATURES {
        return Err(Error::setting(
            "features",
            format!("{p} features: exact Shapley values are limited to {MAX_FEATURES}"),
        ));
    }
    let (nb, nc) = (background.nrows(), 1usize << p);
    let base = f.predict(background).mean();
    // weights w(s) = s! (p - s - 1)! / p!
    let fact = |k: usize| (1..=k).map(|v| v as f64).product::<f64>();
    let w: Vec<f64> = (0..p)
        .map(|s| fact(s) * fact(p - s - 1) / fact(p))
        .collect();
    // rows are independent: explain them in parallel
    let rows: Vec<Vec<f64>> = (0..x.nrows())
        .into_par_iter()
        .map(|r| {
            let batch = DMatrix::from_fn(nc * nb, p, |row, j| {
                let (mask, b) = (row / nb, row % nb);
                if mask >> j & 1 == 1 {
                    x[(r, j)]
                } else {
                    background[(b, j)]
                }
            });
            let out = f.predict(&batch);
            let v: Vec<f64> = (0..nc).map(|m| out.rows(m * nb, nb).mean()).collect();
            tick();
            (0..p)
                .map(|i| {
                    (0..nc)
                        .filter(|mask| mask >> i & 1 == 0)
                        .map(|mask| {
                            w[(mask as u32).count_ones() as usize] * (v[mask | 1 << i] - v[mask])
                        })
                        .sum()
                })
                .collect()
        })
        .collect();
    let phi = DMatrix::from_fn(x.nrows(), p, |r, i| rows[r][i]);
    Ok((phi, base))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::Regressor;
    use crate::ml::ols::Ols;
    use crate::ml::trees::Forest;
    use nalgebra::DVector;

    fn data() -> (DMatrix<f64>, DVector<f64>) {
        let x = DMatrix::from_fn(30, 4, |i, j| {
            ((i * 7 + 1) as f64 * (0.31 + 0.17 * j as f64)).sin()
        });
        let y = DVector::from_fn(30, |i, _| {
            1.0 + 2.0 * x[(i, 0)] - x[(i, 1)] + 0.5 * x[(i, 2)] * x[(i, 3)]
        });
        (x, y)
    }

    #[test]
    fn values_sum_to_prediction_minus_base() {
        let (x, y) = data();
        for m in [
            &Ols as &dyn Regressor,
            &Forest {
                n_trees: 30,
                seed: 1,
                ..Forest::default()
            },
        ] {
            let f = m.fit(&x, &y).unwrap();
            let (phi, base) = shap(f.as_ref(), &x.rows(0, 5).into_owned(), &x, &|| {}).unwrap();
            let pred = f.predict(&x.rows(0, 5).into_owned());
            for r in 0..5 {
                let s: f64 = phi.row(r).sum();
                assert!(
                    (s - (pred[r] - base)).abs() < 1e-9,
                    "{}: row {r}: {s} vs {}",
                    m.name(),
                    pred[r] - base
                );
            }
        }
    }

    #[test]
    fn linear_model_has_the_closed_form() {
        // for f = b0 + sum b_i x_i: phi_i = b_i (x_i - mean_B x_i)
        let (x, y) = data();
        let f = Ols.fit(&x, &y).unwrap();
        let (phi, _) = shap(f.as_ref(), &x, &x, &|| {}).unwrap();
        let probe = |j: usize| {
            let mut e = DMatrix::zeros(2, 4);
            e[(1, j)] = 1.0;
            let p = f.predict(&e);
            p[1] - p[0]
        };
        for j in 0..4 {
            let (b, m) = (probe(j), x.column(j).mean());
            for r in 0..30 {
                assert!((phi[(r, j)] - b * (x[(r, j)] - m)).abs() < 1e-9);
            }
        }
    }
}
