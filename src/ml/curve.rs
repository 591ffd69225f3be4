//! Learning curve: held-out and training R^2 against the number of
//! training rows, over random splits.

use super::cv::train_predict;
use super::metrics::score;
use super::{Data, Regressor};
use crate::error::{Error, Result};
use rand::seq::SliceRandom;
use rand::{SeedableRng, rngs::StdRng};
use rayon::prelude::*;

/// One point of a learning curve.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CurvePoint {
    pub train_rows: usize,
    /// Median over the random splits of the held-out R^2.
    pub held_out_r2_median: f64,
    /// Half the interquartile range of the held-out R^2 over the splits.
    pub held_out_r2_half_iqr: f64,
    pub in_sample_r2_median: f64,
}

fn quantile(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let x = q * (v.len() - 1) as f64;
    let (i, f) = (x.floor() as usize, x.fract());
    v[i] + f * (v[(i + 1).min(v.len() - 1)] - v[i])
}

/// Held-out and training R^2 against the number of training rows over
/// `repeats` random splits (the rest of the rows is the test set). Medians
/// and interquartile ranges, not means: on a small test set whose values
/// happen to be close together R^2 can be hugely negative, and one such
/// split would dominate a mean.
pub fn learning_curve(
    m: &dyn Regressor,
    d: &Data,
    sizes: &[usize],
    repeats: usize,
    seed: u64,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<CurvePoint>> {
    let n = d.y.len();
    if repeats < 1 {
        return Err(Error::setting("repeats", "at least one split per size"));
    }
    sizes
        .iter()
        .map(|&k| {
            if k < 3 || k >= n {
                return Err(Error::setting("sizes", format!("{k} training rows of {n}")));
            }
            let runs: Vec<(f64, f64)> = (0..repeats as u64)
                .into_par_iter()
                .map(|r| {
                    let mut idx: Vec<usize> = (0..n).collect();
                    idx.shuffle(&mut StdRng::seed_from_u64(seed + 1000 * k as u64 + r));
                    let (tr, te) = idx.split_at(k);
                    let yte: Vec<f64> = te.iter().map(|&i| d.y[i]).collect();
                    let ytr: Vec<f64> = tr.iter().map(|&i| d.y[i]).collect();
                    let held = score(&yte, &train_predict(m, d, tr, te, false)?).r2;
                    let ins = score(&ytr, &train_predict(m, d, tr, tr, false)?).r2;
                    tick();
                    Ok((held, ins))
                })
                .collect::<Result<_>>()?;
            let mut held: Vec<f64> = runs.iter().map(|r| r.0).collect();
            let mut ins: Vec<f64> = runs.iter().map(|r| r.1).collect();
            Ok(CurvePoint {
                train_rows: k,
                held_out_r2_median: quantile(&mut held, 0.5),
                held_out_r2_half_iqr: 0.5 * (quantile(&mut held, 0.75) - quantile(&mut held, 0.25)),
                in_sample_r2_median: quantile(&mut ins, 0.5),
            })
        })
        .collect()
}

/// Training-set sizes of a learning curve over `n` rows: 10 % to 80 % of
/// them in steps of 10 %, at least 4 rows, always fewer than `n`.
pub fn default_sizes(n: usize) -> Vec<usize> {
    (1..=8)
        .map(|k| (n * k / 10).max(4))
        .filter(|&k| k < n)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::cv::tests::data;
    use crate::ml::ols::Ols;

    #[test]
    fn learning_curve_of_exact_data_and_quantiles() {
        let d = data(30, 0.0);
        let c = learning_curve(&Ols, &d, &[6, 12, 24], 8, 3, &|| {}).unwrap();
        assert!(c.iter().all(|p| (p.held_out_r2_median - 1.0).abs() < 1e-9 && p.held_out_r2_half_iqr < 1e-9));
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&mut v, 0.5), 2.5);
        assert_eq!(quantile(&mut v, 0.25), 1.75);
        assert!(
            learning_curve(&Ols, &d, &[30], 2, 1, &|| {}).is_err(),
            "no test rows left"
        );
    }
}
