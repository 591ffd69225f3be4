//! Shapley values (interventional) of a trained model's predictions:
//! for features F (p = |F|), a row x and a background set B,
//! v(S) = (1/|B|) sum_{b in B} f(x_S, b_{F\S}),
//! phi_i = sum_{S subset of F\{i}} |S|! (p - |S| - 1)! / p! [v(S u {i}) - v(S)].
//! They sum to f(x) - v(empty set) = f(x) - mean_b f(b) (efficiency).
//!
//! [`explain`] picks the exact method that suits the model:
//! - linear models: the closed form phi_i = b_i (x_i - mean_B x_i);
//! - tree ensembles: interventional TreeSHAP ([`tree`]), leaf by leaf
//!   for many rows at once: O((n + |B|) nodes) per tree plus the pairs of
//!   distinct failed-split sets at each leaf, instead of 2^p |B| model
//!   calls per row;
//! - RBF kernel expansions (the SVR): the product form ([`kernel`]),
//!   O(|B| n_sv p^2) per row;
//! - anything else: [`exact`] enumeration of every coalition (2^p |B|
//!   model calls, batched into one prediction per row).
//!
//! All three give the same numbers; the background may be a seeded sample
//! of the training rows ([`background`]) to bound the cost.

pub mod kernel;
pub mod tree;

use super::Predictor;
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use rayon::prelude::*;

/// Most features explained exactly (2^16 coalitions).
pub const MAX_FEATURES: usize = 16;

/// How the values were computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Linear,
    Tree,
    Kernel,
    Exact,
}

impl Method {
    pub fn describe(&self) -> &'static str {
        match self {
            Method::Linear => "closed form of a linear model",
            Method::Tree => "interventional TreeSHAP",
            Method::Kernel => "product form of an RBF kernel expansion",
            Method::Exact => "exact enumeration of coalitions",
        }
    }
}

/// Shapley values of every row, the base value (mean prediction on the
/// background) and the method.
pub struct Explanation {
    pub phi: DMatrix<f64>,
    pub base: f64,
    pub method: Method,
}

/// Shapley values of each row of `x` against `background`, by the fastest
/// exact method the model allows; `tick` after each row.
pub fn explain(
    f: &dyn Predictor,
    x: &DMatrix<f64>,
    background: &DMatrix<f64>,
    tick: &(dyn Fn() + Sync),
) -> Result<Explanation> {
    let p = x.ncols();
    if background.nrows() == 0 {
        return Err(Error::setting("background", "no rows"));
    }
    let base = f.predict(background).mean();
    if let Some((_, coef)) = f.linear() {
        let m: Vec<f64> = background.column_iter().map(|c| c.mean()).collect();
        let phi = DMatrix::from_fn(x.nrows(), p, |r, j| coef[j] * (x[(r, j)] - m[j]));
        (0..x.nrows()).for_each(|_| tick());
        return Ok(Explanation {
            phi,
            base,
            method: Method::Linear,
        });
    }
    let bg: Vec<Vec<f64>> = background
        .row_iter()
        .map(|r| r.iter().copied().collect())
        .collect();
    if let Some(e) = f.trees() {
        let phi = if p <= tree::MAX_LEAFWISE_FEATURES {
            in_chunks(x, tick, |rows| tree::rows(&e, rows, &bg))
        } else {
            per_row(x, tick, |xr| tree::row(&e, xr, &bg))
        };
        return Ok(Explanation {
            phi,
            base,
            method: Method::Tree,
        });
    }
    if let Some(m) = f.rbf() {
        let factors = m.background_factors(&bg);
        return Ok(Explanation {
            phi: per_row(x, tick, |xr| kernel::row(&m, xr, &factors)),
            base,
            method: Method::Kernel,
        });
    }
    let (phi, base) = exact(f, x, background, tick)?;
    Ok(Explanation {
        phi,
        base,
        method: Method::Exact,
    })
}

/// Every row's Shapley values as CSV: `row` (1-based), `id`, then one
/// column per feature, in the target's units.
pub fn to_csv(ids: &[String], features: &[String], phi: &DMatrix<f64>) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut head = vec!["row".to_string(), "id".to_string()];
    head.extend(features.iter().cloned());
    let _ = w.write_record(&head);
    for (r, id) in ids.iter().enumerate() {
        let mut rec = vec![(r + 1).to_string(), id.clone()];
        rec.extend(phi.row(r).iter().map(|v| v.to_string()));
        let _ = w.write_record(&rec);
    }
    w.into_inner().unwrap_or_default()
}

/// Shapley values of every row of `x` by `one` (a row in, its values out),
/// rows in parallel, `tick` after each.
fn per_row(
    x: &DMatrix<f64>,
    tick: &(dyn Fn() + Sync),
    one: impl Fn(&[f64]) -> Vec<f64> + Sync,
) -> DMatrix<f64> {
    let rows: Vec<Vec<f64>> = (0..x.nrows())
        .into_par_iter()
        .map(|r| {
            let xr: Vec<f64> = x.row(r).iter().copied().collect();
            let v = one(&xr);
            tick();
            v
        })
        .collect();
    DMatrix::from_fn(x.nrows(), x.ncols(), |r, i| rows[r][i])
}

/// Rows explained together by [`in_chunks`]: enough to share the work of
/// the background, few enough for progress to move.
const CHUNK: usize = 512;

/// Shapley values of every row of `x` by `many` (rows in, their values
/// out row-major), [`CHUNK`] rows at a time, `tick` per row after each.
fn in_chunks(
    x: &DMatrix<f64>,
    tick: &(dyn Fn() + Sync),
    many: impl Fn(&[Vec<f64>]) -> Vec<f64>,
) -> DMatrix<f64> {
    let (n, p) = (x.nrows(), x.ncols());
    let mut phi = DMatrix::zeros(n, p);
    for start in (0..n).step_by(CHUNK) {
        let end = (start + CHUNK).min(n);
        let rows: Vec<Vec<f64>> = (start..end)
            .map(|r| x.row(r).iter().copied().collect())
            .collect();
        let v = many(&rows);
        for r in start..end {
            for i in 0..p {
                phi[(r, i)] = v[(r - start) * p + i];
            }
            tick();
        }
    }
    phi
}

/// Background rows drawn when none is asked for (shap's own default for
/// its independent masker).
pub const DEFAULT_BACKGROUND: usize = 100;

/// Most background rows for `--background`.
pub const MAX_BACKGROUND: usize = 100_000;

/// `n` rows of `x` drawn without replacement with `seed` (all rows, in
/// order, when `n` is None or at least the number of rows).
pub fn background(x: &DMatrix<f64>, n: Option<usize>, seed: u64) -> Result<DMatrix<f64>> {
    use rand::{SeedableRng, seq::index::sample};
    match n {
        Some(0) => Err(Error::setting("background", "0 rows: expected at least 1")),
        Some(k) if k > MAX_BACKGROUND => Err(Error::setting(
            "background",
            format!("{k} rows: at most {MAX_BACKGROUND}"),
        )),
        Some(k) if k < x.nrows() => {
            let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
            let mut rows = sample(&mut rng, x.nrows(), k).into_vec();
            rows.sort_unstable();
            Ok(x.select_rows(&rows))
        }
        _ => Ok(x.clone()),
    }
}

/// Shapley values of each row of `x` (rows x features) and the base value
/// by enumerating every coalition; `tick` after each row.
pub fn exact(
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
    // w(|S|) at every coalition (read only where |S| <= p - 1)
    let w_of: Vec<f64> = (0..nc)
        .map(|mask: usize| w.get(mask.count_ones() as usize).copied().unwrap_or(0.0))
        .collect();
    // the coalitions S without feature i, in increasing order: runs of
    // 2^i, 2^(i+1) apart
    let phi_of = |v: &[f64]| -> Vec<f64> {
        (0..p)
            .map(|i| {
                let bit = 1 << i;
                let mut s = 0.0;
                for run in (0..nc).step_by(2 * bit) {
                    for mask in run..run + bit {
                        s += w_of[mask] * (v[mask | bit] - v[mask]);
                    }
                }
                s
            })
            .collect()
    };
    // v(S) shared between pairs when the rows are the background and the
    // model can; else row by row, in parallel, each v dropped once used
    let shared = if x == background {
        f.coalition_values_self(x, tick)
    } else {
        None
    };
    let rows: Vec<Vec<f64>> = match shared {
        Some(values) => values.par_iter().map(|v| phi_of(v)).collect(),
        None => (0..x.nrows())
            .into_par_iter()
            .map(|r| {
                let row: Vec<f64> = x.row(r).iter().copied().collect();
                let v = f.coalition_values(&row, background).unwrap_or_else(|| {
                    let batch = DMatrix::from_fn(nc * nb, p, |row, j| {
                        let (mask, b) = (row / nb, row % nb);
                        if mask >> j & 1 == 1 {
                            x[(r, j)]
                        } else {
                            background[(b, j)]
                        }
                    });
                    let out = f.predict(&batch);
                    (0..nc).map(|m| out.rows(m * nb, nb).mean()).collect()
                });
                tick();
                phi_of(&v)
            })
            .collect(),
    };
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
            let (phi, base) = exact(f.as_ref(), &x.rows(0, 5).into_owned(), &x, &|| {}).unwrap();
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

    /// TreeSHAP and the closed form give what enumerating every coalition
    /// gives, to 1e-9, on a small forest, boosted trees and OLS, with a
    /// sampled background.
    #[test]
    fn fast_methods_equal_exact_enumeration() {
        let (x, y) = data();
        let bg = background(&x, Some(12), 3).unwrap();
        assert_eq!(bg.nrows(), 12);
        let rows = x.rows(0, 8).into_owned();
        let models: Vec<(crate::ml::ModelSpec, Method)> = vec![
            ("rf:n_trees=20,seed=1".parse().unwrap(), Method::Tree),
            (
                "gbt:n_estimators=30,max_depth=4".parse().unwrap(),
                Method::Tree,
            ),
            ("ols".parse().unwrap(), Method::Linear),
            ("svr:c=10".parse().unwrap(), Method::Kernel),
        ];
        for (m, method) in models {
            let f = m.fit(&x, &y).unwrap();
            let fast = explain(f.as_ref(), &rows, &bg, &|| {}).unwrap();
            assert_eq!(fast.method, method, "{}", m.name());
            let (want, base) = exact(f.as_ref(), &rows, &bg, &|| {}).unwrap();
            assert!((fast.base - base).abs() < 1e-12);
            let err = (&fast.phi - &want).abs().max();
            assert!(err < 1e-9, "{}: max difference {err:e}", m.name());
            assert!(want.abs().max() > 1e-3, "{}: values all ~0", m.name());
        }
    }

    #[test]
    fn linear_model_has_the_closed_form() {
        // for f = b0 + sum b_i x_i: phi_i = b_i (x_i - mean_B x_i)
        let (x, y) = data();
        let f = Ols.fit(&x, &y).unwrap();
        let (phi, _) = exact(f.as_ref(), &x, &x, &|| {}).unwrap();
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
