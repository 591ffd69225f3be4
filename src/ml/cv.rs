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

/// Which rows a fixed split trains on; the others are the test set.
#[derive(Debug, Clone, PartialEq)]
pub enum Train {
    /// The first N rows (after rows with missing values are left out).
    First(usize),
    /// Data rows A..=B of the file (1-based, after the header).
    Lines(usize, usize),
    /// Rows whose column equals the value (e.g. `source=literature`).
    Column(String, String),
}

/// How to validate.
#[derive(Debug, Clone, PartialEq)]
pub enum Scheme {
    Loo,
    KFold {
        k: usize,
        repeats: usize,
        seed: u64,
    },
    /// A fixed split (the paper's 38 literature + 14 synthesised).
    Split(Train),
    /// Rows grouped by a column's value, a group never split between
    /// training and test: GroupKFold with `k` folds (scikit-learn's
    /// assignment: largest group first, each to the fold with the fewest
    /// rows so far, ties to the lower fold), or LeaveOneGroupOut (None).
    Groups {
        column: String,
        k: Option<usize>,
    },
    /// ShuffleSplit: `splits` independent random splits, each testing
    /// ceil(test * n) rows (scikit-learn's rounding); scores are the mean
    /// over splits, with their spread.
    Shuffle {
        splits: usize,
        test: f64,
        seed: u64,
    },
}

impl std::str::FromStr for Scheme {
    type Err = Error;
    /// `loo`, `kfold:5`, `kfold:5x10` (10 repeats), `shuffle:10:0.2`, `split:38`,
    /// `split:rows=1-38`, `split:COLUMN=VALUE`, `groups:COLUMN`
    /// (LeaveOneGroupOut), `groupkfold:K:COLUMN`.
    fn from_str(s: &str) -> Result<Scheme> {
        let bad = || {
            Error::setting(
                "cv",
                format!(
                    "`{s}`: expected loo, kfold:K, kfold:KxR, shuffle:N:TEST_FRACTION, split:N, split:rows=A-B, split:COLUMN=VALUE, groups:COLUMN or groupkfold:K:COLUMN"
                ),
            )
        };
        if s == "loo" {
            return Ok(Scheme::Loo);
        }
        if let Some(r) = s.strip_prefix("shuffle:") {
            let (k, f) = r.split_once(':').ok_or_else(bad)?;
            let (splits, test): (usize, f64) =
                (k.parse().map_err(|_| bad())?, f.parse().map_err(|_| bad())?);
            if !((1..=10_000).contains(&splits) && test > 0.0 && test < 1.0) {
                return Err(Error::setting(
                    "cv",
                    format!(
                        "`{s}`: expected shuffle:N:F with 1 <= N <= 10000 splits and a test fraction 0 < F < 1"
                    ),
                ));
            }
            return Ok(Scheme::Shuffle {
                splits,
                test,
                seed: 42,
            });
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
        if let Some(c) = s.strip_prefix("groups:").filter(|c| !c.is_empty()) {
            return Ok(Scheme::Groups {
                column: c.into(),
                k: None,
            });
        }
        if let Some(r) = s.strip_prefix("groupkfold:") {
            let (k, c) = r.split_once(':').ok_or_else(bad)?;
            let k: usize = k.parse().map_err(|_| bad())?;
            if k < 2 || c.is_empty() {
                return Err(bad());
            }
            return Ok(Scheme::Groups {
                column: c.into(),
                k: Some(k),
            });
        }
        if let Some(r) = s.strip_prefix("split:") {
            if let Some(range) = r.strip_prefix("rows=") {
                let (a, b) = range.split_once('-').ok_or_else(bad)?;
                let (a, b): (usize, usize) =
                    (a.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?);
                if a < 1 || b < a {
                    return Err(bad());
                }
                return Ok(Scheme::Split(Train::Lines(a, b)));
            }
            if let Some((col, val)) = r.split_once('=') {
                return Ok(Scheme::Split(Train::Column(col.into(), val.into())));
            }
            return Ok(Scheme::Split(Train::First(r.parse().map_err(|_| bad())?)));
        }
        Err(bad())
    }
}

impl Scheme {
    /// The same scheme with another shuffle (k-fold and shuffle splits).
    pub fn with_seed(&self, seed: u64) -> Scheme {
        match self {
            Scheme::KFold { k, repeats, .. } => Scheme::KFold {
                k: *k,
                repeats: *repeats,
                seed,
            },
            Scheme::Shuffle { splits, test, .. } => Scheme::Shuffle {
                splits: *splits,
                test: *test,
                seed,
            },
            s => s.clone(),
        }
    }

    /// Model fits a validation of `n` rows makes (for progress), the
    /// in-sample fit included.
    pub fn fits(&self, n: usize) -> usize {
        1 + match self {
            Scheme::Loo => n,
            Scheme::KFold { k, repeats, .. } => k * repeats,
            Scheme::Split(_) => 1,
            Scheme::Shuffle { splits, .. } => *splits,
            Scheme::Groups { k: Some(k), .. } => *k,
            Scheme::Groups { k: None, .. } => n, // at most one group per row
        }
    }
}

/// Test rows of each fold when rows are grouped by `labels` (see
/// [`Scheme::Groups`]).
pub fn group_folds(labels: &[String], k: Option<usize>) -> Result<Vec<Vec<usize>>> {
    let mut groups: Vec<(String, Vec<usize>)> = vec![];
    for (i, l) in labels.iter().enumerate() {
        match groups.iter_mut().find(|g| g.0 == *l) {
            Some(g) => g.1.push(i),
            None => groups.push((l.clone(), vec![i])),
        }
    }
    let Some(k) = k else {
        if groups.len() < 2 {
            return Err(Error::setting(
                "cv",
                format!(
                    "{} group: leave-one-group-out needs at least 2",
                    groups.len()
                ),
            ));
        }
        return Ok(groups.into_iter().map(|g| g.1).collect());
    };
    if groups.len() < k {
        return Err(Error::setting(
            "cv",
            format!(
                "{k} folds for {} groups: at most one fold per group",
                groups.len()
            ),
        ));
    }
    // largest group first (stable for ties), to the lightest fold
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|&a, &b| groups[b].1.len().cmp(&groups[a].1.len()));
    let mut folds: Vec<Vec<usize>> = vec![vec![]; k];
    for g in order {
        let lightest = (0..k).min_by_key(|&f| (folds[f].len(), f)).unwrap_or(0);
        folds[lightest].extend(&groups[g].1);
    }
    for f in &mut folds {
        f.sort_unstable();
    }
    Ok(folds)
}

/// Resolve a fixed split to (train, test) row indices of `d`.
fn split_rows(d: &Data, t: &Train) -> Result<(Vec<usize>, Vec<usize>, String)> {
    let n = d.y.len();
    let (is_train, label): (Vec<bool>, String) = match t {
        Train::First(k) => (
            (0..n).map(|i| i < *k).collect(),
            format!("rows 1-{k} train, {}-{n} test", k + 1),
        ),
        Train::Lines(a, b) => (
            d.lines.iter().map(|l| (*a..=*b).contains(l)).collect(),
            format!("data rows {a}-{b} of the file train, the others test"),
        ),
        Train::Column(c, v) => (
            d.column_text(c)?.iter().map(|x| x == v).collect(),
            format!("rows with {c} = {v} train, the others test"),
        ),
    };
    let (tr, te): (Vec<usize>, Vec<usize>) = (0..n).partition(|&i| is_train[i]);
    if tr.len() < 2 || te.is_empty() {
        return Err(Error::setting(
            "cv",
            format!(
                "the split ({label}) gives {} training and {} test rows of {n}",
                tr.len(),
                te.len()
            ),
        ));
    }
    Ok((tr, te, format!("fixed split: {label}")))
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
    /// Train and score on all rows: optimistic, reported for comparison
    /// only (None when the all-rows fit was skipped).
    pub in_sample: Option<Metrics>,
    /// Pooled out-of-fold predictions of the first repeat (NaN where a row was only trained on).
    pub predictions: Vec<f64>,
    /// Held-out scores of each fold of the first repeat (k-fold, groups,
    /// a split; empty for leave-one-out, whose folds are single rows).
    pub per_fold: Vec<Metrics>,
    /// The fold (1-based) in which each row was held out, in the first
    /// repeat (leave-one-out: the row's own number; None: never held out).
    pub fold_of: Vec<Option<usize>>,
}

fn subset(d: &Data, rows: &[usize]) -> (DMatrix<f64>, DVector<f64>) {
    (
        DMatrix::from_fn(rows.len(), d.x.ncols(), |i, j| d.x[(rows[i], j)]),
        DVector::from_fn(rows.len(), |i, _| d.y[rows[i]]),
    )
}

/// Train on rows `train` (on ln y with `log`) and predict rows `test`.
pub(crate) fn train_predict(
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

/// Pooled out-of-fold predictions of one shuffled k-fold pass; folds are
/// trained in parallel and `tick` is called after each.
pub(crate) fn kfold_predictions(
    m: &dyn Regressor,
    d: &Data,
    k: usize,
    rng: &mut StdRng,
    log: bool,
    tick: &(dyn Fn() + Sync),
) -> Result<(Vec<f64>, Vec<Vec<usize>>)> {
    let n = d.y.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(rng);
    let folds: Vec<(Vec<usize>, Vec<usize>)> = (0..k)
        .map(|f| {
            let test: Vec<usize> = idx.iter().copied().skip(f).step_by(k).collect();
            let train: Vec<usize> = idx
                .iter()
                .enumerate()
                .filter(|(p, _)| p % k != f)
                .map(|(_, &i)| i)
                .collect();
            (train, test)
        })
        .collect();
    let pred = fold_predictions(m, d, &folds, log, tick)?;
    Ok((pred, folds.into_iter().map(|f| f.1).collect()))
}

/// Pooled predictions of (train, test) folds trained in parallel.
fn fold_predictions(
    m: &dyn Regressor,
    d: &Data,
    folds: &[(Vec<usize>, Vec<usize>)],
    log: bool,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<f64>> {
    let parts = folds
        .par_iter()
        .map(|(tr, te)| {
            let p = train_predict(m, d, tr, te, log);
            tick();
            p
        })
        .collect::<Result<Vec<Vec<f64>>>>()?;
    let mut pred = vec![f64::NAN; d.y.len()];
    for ((_, te), p) in folds.iter().zip(parts) {
        for (t, v) in te.iter().zip(p) {
            pred[*t] = v;
        }
    }
    Ok(pred)
}

/// Validate `m` on `d`.
pub fn validate(
    m: &dyn Regressor,
    d: &Data,
    scheme: &Scheme,
    log_target: bool,
) -> Result<CvResult> {
    validate_with(m, d, scheme, log_target, &|| {})
}

/// [`validate`], calling `tick` after each model fit ([`Scheme::fits`] in all).
pub fn validate_with(
    m: &dyn Regressor,
    d: &Data,
    scheme: &Scheme,
    log_target: bool,
    tick: &(dyn Fn() + Sync),
) -> Result<CvResult> {
    validate_full(m, d, scheme, log_target, true, tick)
}

/// [`validate_with`]; `refit` false skips the all-rows fit (and its
/// in-sample score: scikit-learn's `refit=False`).
pub fn validate_full(
    m: &dyn Regressor,
    d: &Data,
    scheme: &Scheme,
    log_target: bool,
    refit: bool,
    tick: &(dyn Fn() + Sync),
) -> Result<CvResult> {
    let n = d.y.len();
    if log_target && d.y.iter().any(|v| *v <= 0.0) {
        return Err(Error::setting("log-target", "the target has values <= 0"));
    }
    let all: Vec<usize> = (0..n).collect();
    let in_sample = if refit {
        let s = score(
            d.y.as_slice(),
            &train_predict(m, d, &all, &all, log_target)?,
        );
        tick();
        Some(s)
    } else {
        None
    };
    let y: Vec<f64> = d.y.iter().copied().collect();
    // test rows of each fold (first repeat), for the per-fold scores
    let mut fold_tests: Vec<Vec<usize>> = vec![];
    // scores per fold where a row may be tested more than once
    let mut split_scores: Option<Vec<Metrics>> = None;
    let (held_out, sd, predictions, name) = match scheme {
        Scheme::Loo => {
            let pred = (0..n)
                .into_par_iter()
                .map(|i| {
                    let train: Vec<usize> = (0..n).filter(|&j| j != i).collect();
                    let p = train_predict(m, d, &train, &[i], log_target).map(|p| p[0]);
                    tick();
                    p
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
                let (pred, tests) = kfold_predictions(m, d, *k, &mut rng, log_target, tick)?;
                scores.push(score(&y, &pred));
                if first.is_empty() {
                    first = pred;
                    fold_tests = tests;
                }
            }
            let (avg, sd) = mean_of(&scores, n);
            (
                avg,
                sd,
                first,
                format!("{k}-fold x {repeats} (pooled per repeat, seed {seed})"),
            )
        }
        Scheme::Groups { column, k } => {
            let tests = group_folds(d.column_text(column)?, *k)?;
            let folds: Vec<(Vec<usize>, Vec<usize>)> = tests
                .into_iter()
                .map(|te| ((0..n).filter(|i| !te.contains(i)).collect(), te))
                .collect();
            if folds.iter().any(|(tr, _)| tr.len() < 2) {
                return Err(Error::setting(
                    "cv",
                    format!("a group of `{column}` leaves fewer than 2 training rows"),
                ));
            }
            let pred = fold_predictions(m, d, &folds, log_target, tick)?;
            fold_tests = folds.iter().map(|f| f.1.clone()).collect();
            let label = match k {
                Some(k) => format!("group {k}-fold by `{column}` (pooled)"),
                None => format!(
                    "leave-one-group-out by `{column}`, {} groups (pooled)",
                    folds.len()
                ),
            };
            (score(&y, &pred), None, pred, label)
        }
        Scheme::Shuffle { splits, test, seed } => {
            let n_test = ((test * n as f64).ceil() as usize).min(n.saturating_sub(2));
            if n_test == 0 {
                return Err(Error::setting(
                    "cv",
                    format!(
                        "a test fraction {test} of {n} rows leaves no test or too few training rows"
                    ),
                ));
            }
            let mut rng = StdRng::seed_from_u64(*seed);
            let folds: Vec<(Vec<usize>, Vec<usize>)> = (0..*splits)
                .map(|_| {
                    let mut idx: Vec<usize> = (0..n).collect();
                    idx.shuffle(&mut rng);
                    let (te, tr) = idx.split_at(n_test);
                    (tr.to_vec(), te.to_vec())
                })
                .collect();
            let preds = folds
                .par_iter()
                .map(|(tr, te)| {
                    let p = train_predict(m, d, tr, te, log_target);
                    tick();
                    p
                })
                .collect::<Result<Vec<Vec<f64>>>>()?;
            let scores: Vec<Metrics> = folds
                .iter()
                .zip(&preds)
                .map(|((_, te), p)| score(&te.iter().map(|&i| y[i]).collect::<Vec<_>>(), p))
                .collect();
            let (avg, sd) = mean_of(&scores, n_test);
            let mut first = vec![f64::NAN; n];
            for (t, v) in folds[0].1.iter().zip(&preds[0]) {
                first[*t] = *v;
            }
            fold_tests = vec![folds[0].1.clone()];
            split_scores = Some(scores);
            (
                avg,
                sd,
                first,
                format!(
                    "shuffle split x {splits}, {n_test} test rows each (mean over splits, seed {seed})"
                ),
            )
        }
        Scheme::Split(t) => {
            let (tr, te, label) = split_rows(d, t)?;
            let p = train_predict(m, d, &tr, &te, log_target)?;
            fold_tests = vec![te.clone()];
            tick();
            let mut pred = vec![f64::NAN; n];
            for (t, v) in te.iter().zip(&p) {
                pred[*t] = *v;
            }
            let yt: Vec<f64> = te.iter().map(|&i| y[i]).collect();
            (score(&yt, &p), None, pred, label)
        }
    };
    let per_fold = split_scores.unwrap_or_else(|| {
        fold_tests
            .iter()
            .map(|te| {
                let yt: Vec<f64> = te.iter().map(|&i| y[i]).collect();
                let pt: Vec<f64> = te.iter().map(|&i| predictions[i]).collect();
                score(&yt, &pt)
            })
            .collect()
    });
    let mut fold_of = vec![None; n];
    if matches!(scheme, Scheme::Loo) {
        fold_of = (1..=n).map(Some).collect();
    }
    for (f, te) in fold_tests.iter().enumerate() {
        for &i in te {
            fold_of[i] = Some(f + 1);
        }
    }
    Ok(CvResult {
        per_fold,
        fold_of,
        model: m.name(),
        scheme: name,
        log_target,
        held_out,
        held_out_r2_sd: sd,
        in_sample,
        predictions,
    })
}

/// The mean of each metric over repeated validations (scored on `n` rows
/// each), and the sd of R^2 over them when there are several.
fn mean_of(scores: &[Metrics], n: usize) -> (Metrics, Option<f64>) {
    let r = scores.len() as f64;
    let mean = |f: fn(&Metrics) -> f64| scores.iter().map(f).sum::<f64>() / r;
    let m_r2 = mean(|s| s.r2);
    let sd = (scores.len() > 1)
        .then(|| (scores.iter().map(|s| (s.r2 - m_r2).powi(2)).sum::<f64>() / (r - 1.0)).sqrt());
    let avg = Metrics {
        r2: m_r2,
        mse: mean(|s| s.mse),
        rmse: mean(|s| s.rmse),
        mae: mean(|s| s.mae),
        n,
    };
    (avg, sd)
}

/// Held-out R^2 of the same validation repeated with different seeds (model
/// initialisation, bootstrap draws and k-fold shuffles): with ~50 rows the
/// spread over seeds is part of the answer.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SeedSpread {
    pub seeds: Vec<u64>,
    pub held_out_r2: Vec<f64>,
    pub mean: f64,
    pub sd: f64,
    pub min: f64,
    pub max: f64,
}

/// Validate the model made by `make(seed)` once per seed.
pub fn over_seeds(
    make: &(dyn Fn(u64) -> Result<Box<dyn Regressor>> + Sync),
    d: &Data,
    scheme: &Scheme,
    log_target: bool,
    seeds: &[u64],
    tick: &(dyn Fn() + Sync),
) -> Result<SeedSpread> {
    let r2 = seeds
        .iter()
        .map(|&s| {
            validate_with(make(s)?.as_ref(), d, &scheme.with_seed(s), log_target, tick)
                .map(|r| r.held_out.r2)
        })
        .collect::<Result<Vec<f64>>>()?;
    let n = r2.len() as f64;
    let mean = r2.iter().sum::<f64>() / n;
    let sd = if r2.len() > 1 {
        (r2.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
    } else {
        0.0
    };
    Ok(SeedSpread {
        seeds: seeds.to_vec(),
        min: r2.iter().copied().fold(f64::INFINITY, f64::min),
        max: r2.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        held_out_r2: r2,
        mean,
        sd,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ml::ols::Ols;

    pub(crate) fn data(n: usize, noise: f64) -> Data {
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
            lines: (1..=n).collect(),
            text: vec![(
                "set".into(),
                (0..n)
                    .map(|i| if i % 3 == 0 { "b" } else { "a" }.into())
                    .collect(),
            )],
        }
    }

    #[test]
    fn group_kfold_equals_the_hand_made_split() {
        // groups of 4, 3, 2, 1, 1 rows, interleaved; two folds by
        // scikit-learn's rule: a (4) -> fold 0, b (3) -> fold 1, c (2) ->
        // fold 1 (3 < 4), d (1) -> fold 0 (4 < 5), e (1) -> fold 0 (tie: lower)
        let labels: Vec<String> = "a b a c b a d b c a e"
            .split(' ')
            .map(String::from)
            .collect();
        let folds = group_folds(&labels, Some(2)).unwrap();
        assert_eq!(folds, vec![vec![0, 2, 5, 6, 9, 10], vec![1, 3, 4, 7, 8]]);
        // leave-one-group-out: one fold per group, in order of appearance
        let logo = group_folds(&labels, None).unwrap();
        assert_eq!(logo.len(), 5);
        assert_eq!(logo[0], vec![0, 2, 5, 9]);
        assert!(group_folds(&labels, Some(6)).is_err());
        // the CV's pooled predictions are those of the hand-made folds
        let mut d = data(11, 0.2);
        d.text = vec![("batch".into(), labels)];
        let scheme: Scheme = "groupkfold:2:batch".parse().unwrap();
        let r = validate(&Ols, &d, &scheme, false).unwrap();
        for test in &folds {
            let train: Vec<usize> = (0..11).filter(|i| !test.contains(i)).collect();
            let p = train_predict(&Ols, &d, &train, test, false).unwrap();
            for (i, v) in test.iter().zip(p) {
                assert!((r.predictions[*i] - v).abs() < 1e-12, "row {i}");
            }
        }
        // per-fold scores are each fold's own held-out rows
        assert_eq!(r.per_fold.len(), 2);
        for (m, test) in r.per_fold.iter().zip(&folds) {
            let yt: Vec<f64> = test.iter().map(|&i| d.y[i]).collect();
            let pt: Vec<f64> = test.iter().map(|&i| r.predictions[i]).collect();
            assert_eq!(m.n, test.len());
            assert!((m.mse - crate::ml::metrics::score(&yt, &pt).mse).abs() < 1e-15);
        }
        assert!(
            "groups:".parse::<Scheme>().is_err() && "groupkfold:1:batch".parse::<Scheme>().is_err()
        );
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
            r.held_out.r2 < r.in_sample.unwrap().r2,
            "held-out is worse than in-sample"
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
            Scheme::Split(Train::First(10)),
            Scheme::Split(Train::Lines(3, 12)),
            Scheme::Split(Train::Column("set".into(), "a".into())),
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
