//! Cross-validation with pooled out-of-fold predictions.
//!
//! Every prediction scored as "held-out" comes from a model that did not see
//! that row. Leave-one-out pools the N single predictions; k-fold pools
//! the K folds (repeated with different shuffles, the spread over repeats is
//! reported); a fixed split trains on the given rows and scores the rest.
//! The in-sample score (train and score on all rows) is reported beside it,
//! labelled so, because it is what "LOOCV R^2 = 0.99" in the paper was.
//! With `log_target` the model learns ln(rate) and predictions are turned
//! back with exp; scores are on the rate itself.

use super::metrics::{Metrics, score};
use super::{Data, Regressor};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use rand::seq::SliceRandom;
use rand::{SeedableRng, rngs::StdRng};
use rayon::prelude::*;

/// How to validate.
#[derive(Debug, Clone, PartialEq)]
pub enum Scheme {
    Loo,
    KFold {
        k: usize,
        repeats: usize,
        seed: u64,
    },
    /// Train on the first `train` rows, test on the rest (the paper's 38 + 14).
    Split {
        train: usize,
    },
}

impl std::str::FromStr for Scheme {
    type Err = Error;
    /// `loo`, `kfold:5`, `kfold:5x10` (10 repeats), `split:38`.
    fn from_str(s: &str) -> Result<Scheme> {
        let bad = || {
            Error::setting(
                "cv",
                format!("`{s}`: expected loo, kfold:K, kfold:KxR or split:N"),
            )
        };
        if s == "loo" {
            return Ok(Scheme::Loo);
        }
        if let Some(r) = s.strip_prefix("kfold:") {
            let (k, rep) = r.split_once('x').map_or((r, "1"), |(a, b)| (a, b));
            let (k, repeats) = (
                k.parse().map_err(|_| bad())?,
                rep.parse().map_err(|_| bad())?,
            );
            if k < 2 || repeats < 1 {
                return Err(bad());
            }
            return Ok(Scheme::KFold {
                k,
                repeats,
                seed: 42,
            });
        }
        if let Some(n) = s.strip_prefix("split:") {
            return Ok(Scheme::Split {
                train: n.parse().map_err(|_| bad())?,
            });
        }
        Err(bad())
    }
}

/// Result of a validation.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CvResult {
    pub model: String,
    pub scheme: String,
    pub log_target: bool,
    /// Held-out scores of the pooled out-of-fold predictions (mean over repeats for k-fold).
    pub held_out: Metrics,
    /// Spread (standard deviation) of the held-out R^2 over repeats, if repeated.
    pub held_out_r2_sd: Option<f64>,
    /// Train and score on all rows: optimistic, reported for comparison only.
    pub in_sample: Metrics,
    /// Pooled out-of-fold predictions of the first repeat (NaN where a row was only trained on).
    pub predictions: Vec<f64>,
}

fn subset(d: &Data, rows: &[usize]) -> (DMatrix<f64>, DVector<f64>) {
    (
        DMatrix::from_fn(rows.len(), d.x.ncols(), |i, j| d.x[(rows[i], j)]),
        DVector::from_fn(rows.len(), |i, _| d.y[rows[i]]),
    )
}

fn train_predict(
    m: &dyn Regressor,
    d: &Data,
    train: &[usize],
    test: &[usize],
    log: bool,
) -> Result<Vec<f64>> {
    let (x, y) = subset(d, train);
    let y = if log { y.map(f64::ln) } else { y };
    let f = m.fit(&x, &y)?;
    let (xt, _) = subset(d, test);
    let p = f.predict(&xt);
    Ok(p.iter().map(|v| if log { v.exp() } else { *v }).collect())
}

/// Validate `m` on `d`.
pub fn validate(
    m: &dyn Regressor,
    d: &Data,
    scheme: &Scheme,
    log_target: bool,
) -> Result<CvResult> {
    let n = d.y.len();
    if log_target && d.y.iter().any(|v| *v <= 0.0) {
        return Err(Error::setting("log-target", "the target has values <= 0"));
    }
    let all: Vec<usize> = (0..n).collect();
    let in_sample = score(
        d.y.as_slice(),
        &train_predict(m, d, &all, &all, log_target)?,
    );
    let y: Vec<f64> = d.y.iter().copied().collect();
    let (held_out, sd, predictions, name) = match scheme {
        Scheme::Loo => {
            let pred = (0..n)
                .into_par_iter()
                .map(|i| {
                    let train: Vec<usize> = (0..n).filter(|&j| j != i).collect();
                    train_predict(m, d, &train, &[i], log_target).map(|p| p[0])
                })
                .collect::<Result<Vec<f64>>>()?;
            (
                score(&y, &pred),
                None,
                pred,
                "leave-one-out (pooled)".to_string(),
            )
        }
        Scheme::KFold { k, repeats, seed } => {
            if *k > n {
                return Err(Error::setting("cv", format!("{k} folds for {n} rows")));
            }
            let mut rng = StdRng::seed_from_u64(*seed);
            let mut scores = vec![];
            let mut first = vec![];
            for _ in 0..*repeats {
                let mut idx = all.clone();
                idx.shuffle(&mut rng);
                let mut pred = vec![f64::NAN; n];
                for f in 0..*k {
                    let test: Vec<usize> = idx
                        .iter()
                        .enumerate()
                        .filter(|(p, _)| p % k == f)
                        .map(|(_, &i)| i)
                        .collect();
                    let train: Vec<usize> = idx
                        .iter()
                        .enumerate()
                        .filter(|(p, _)| p % k != f)
                        .map(|(_, &i)| i)
                        .collect();
                    for (t, v) in test
                        .iter()
                        .zip(train_predict(m, d, &train, &test, log_target)?)
                    {
                        pred[*t] = v;
                    }
                }
                scores.push(score(&y, &pred));
                if first.is_empty() {
                    first = pred;
                }
            }
            let r = scores.len() as f64;
            let mean = |f: fn(&Metrics) -> f64| scores.iter().map(f).sum::<f64>() / r;
            let m_r2 = mean(|s| s.r2);
            let sd = (*repeats > 1).then(|| {
                (scores.iter().map(|s| (s.r2 - m_r2).powi(2)).sum::<f64>() / (r - 1.0)).sqrt()
            });
            let mse = mean(|s| s.mse);
            let avg = Metrics {
                r2: m_r2,
                mse,
                rmse: mean(|s| s.rmse),
                mae: mean(|s| s.mae),
                n,
            };
            (
                avg,
                sd,
                first,
                format!("{k}-fold x {repeats} (pooled per repeat, seed {seed})"),
            )
        }
        Scheme::Split { train } => {
            if *train < 2 || *train >= n {
                return Err(Error::setting(
                    "cv",
                    format!("split:{train} leaves no test rows of {n}"),
                ));
            }
            let (tr, te): (Vec<usize>, Vec<usize>) =
                (all[..*train].to_vec(), all[*train..].to_vec());
            let p = train_predict(m, d, &tr, &te, log_target)?;
            let mut pred = vec![f64::NAN; n];
            for (t, v) in te.iter().zip(&p) {
                pred[*t] = *v;
            }
            let yt: Vec<f64> = te.iter().map(|&i| y[i]).collect();
            (
                score(&yt, &p),
                None,
                pred,
                format!("fixed split: rows 1-{train} train, {}-{n} test", train + 1),
            )
        }
    };
    Ok(CvResult {
        model: m.name(),
        scheme: name,
        log_target,
        held_out,
        held_out_r2_sd: sd,
        in_sample,
        predictions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::ols::Ols;

    fn data(n: usize, noise: f64) -> Data {
        // different frequencies per column: linearly independent features
        let x = DMatrix::from_fn(n, 3, |i, j| {
            ((i * 7 + 1) as f64 * (0.37 + 0.21 * j as f64)).sin() + j as f64
        });
        let y = DVector::from_fn(n, |i, _| {
            1.0 + 2.0 * x[(i, 0)] - 0.5 * x[(i, 1)]
                + 0.25 * x[(i, 2)]
                + noise * ((i * 13) as f64).cos()
        });
        Data {
            features: vec!["a".into(), "b".into(), "c".into()],
            target: "y".into(),
            x,
            y,
            ids: (0..n).map(|i| i.to_string()).collect(),
            dropped: vec![],
        }
    }

    #[test]
    fn ols_loo_equals_the_press_closed_form() {
        // leave-one-out residuals of a linear model: e_i / (1 - h_ii), with
        // H = A (A^T A)^-1 A^T the hat matrix: an independent closed form
        let d = data(20, 0.3);
        let r = validate(&Ols, &d, &Scheme::Loo, false).unwrap();
        let a = DMatrix::from_fn(20, 4, |i, j| if j == 0 { 1.0 } else { d.x[(i, j - 1)] });
        let h = &a * (a.transpose() * &a).try_inverse().unwrap() * a.transpose();
        let beta = (a.transpose() * &a).try_inverse().unwrap() * a.transpose() * &d.y;
        let e = &d.y - &a * beta;
        for i in 0..20 {
            let press = d.y[i] - e[i] / (1.0 - h[(i, i)]);
            assert!(
                (r.predictions[i] - press).abs() < 1e-9,
                "row {i}: {} vs {press}",
                r.predictions[i]
            );
        }
        assert!(
            r.held_out.r2 < r.in_sample.r2,
            "held-out is worse than in-sample"
        );
    }

    #[test]
    fn learning_curve_of_exact_data_and_quantiles() {
        let d = data(30, 0.0);
        let c = learning_curve(&Ols, &d, &[6, 12, 24], 8, 3).unwrap();
        assert!(c.iter().all(|p| (p.held_out_r2_median - 1.0).abs() < 1e-9 && p.held_out_r2_half_iqr < 1e-9));
        let mut v = vec![4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&mut v, 0.5), 2.5);
        assert_eq!(quantile(&mut v, 0.25), 1.75);
        assert!(
            learning_curve(&Ols, &d, &[30], 2, 1).is_err(),
            "no test rows left"
        );
    }

    #[test]
    fn exact_linear_data_is_predicted_exactly_held_out() {
        let d = data(15, 0.0);
        for s in [
            Scheme::Loo,
            Scheme::KFold {
                k: 5,
                repeats: 3,
                seed: 1,
            },
            Scheme::Split { train: 10 },
        ] {
            let r = validate(&Ols, &d, &s, false).unwrap();
            assert!(
                (r.held_out.r2 - 1.0).abs() < 1e-9 && r.held_out.mae < 1e-9,
                "{s:?}: {:?}",
                r.held_out
            );
        }
    }
}

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
