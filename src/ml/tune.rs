//! Hyper-parameter tuning by an inner cross-validation, packaged as a
//! [`Regressor`]: training a [`Tuned`] model on some rows runs a k-fold CV
//! of every setting in its grid on those rows only, keeps the setting with
//! the lowest pooled out-of-fold loss ([`Scoring`]: MSE by default, MAE or
//! -R2), and trains it on all of them.
//!
//! Validating a `Tuned` model is therefore nested CV: the outer test rows
//! never take part in choosing the settings. [`select_on_all_rows`] is the
//! other, optimistic, route (choose the settings by their CV score on all
//! rows and report that score), kept to show how large the selection bias is.

use super::cv::{CvResult, Scheme, kfold_predictions, validate_with};
use super::metrics::{Scoring, score};
use super::{Data, ModelSpec, Predictor, Regressor};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use rand::{SeedableRng, rngs::StdRng};
use rayon::prelude::*;
use std::sync::Mutex;

/// A grid of settings chosen from by inner k-fold CV at every training.
pub struct Tuned {
    pub grid: Vec<ModelSpec>,
    /// Inner folds (fewer when the training rows are fewer).
    pub folds: usize,
    pub seed: u64,
    /// What the inner CV minimises.
    pub scoring: Scoring,
    /// Index into `grid` chosen at each training, in order of completion.
    chosen: Mutex<Vec<usize>>,
}

impl Tuned {
    pub fn new(grid: Vec<ModelSpec>, folds: usize, seed: u64) -> Result<Tuned> {
        if grid.is_empty() || folds < 2 {
            return Err(Error::setting(
                "tune",
                "a non-empty grid and at least 2 inner folds",
            ));
        }
        Ok(Tuned {
            grid,
            folds,
            seed,
            scoring: Scoring::default(),
            chosen: Mutex::new(vec![]),
        })
    }

    /// The same grid scored by `scoring`.
    pub fn with_scoring(mut self, scoring: Scoring) -> Tuned {
        self.scoring = scoring;
        self
    }

    /// Inner-CV loss ([`Tuned::scoring`]) of every setting on rows `x`, `y`.
    pub fn inner_loss(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Vec<f64>> {
        let n = y.len();
        let d = Data {
            features: vec![],
            target: String::new(),
            x: x.clone(),
            y: y.clone(),
            ids: vec![],
            dropped: vec![],
            lines: (1..=n).collect(),
            text: vec![],
        };
        let k = self.folds.min(n);
        self.grid
            .par_iter()
            .map(|m| {
                // the same folds for every setting: differences are the settings'
                let mut rng = StdRng::seed_from_u64(self.seed);
                let (p, _) = kfold_predictions(m, &d, k, &mut rng, false, &|| {})?;
                Ok(self.scoring.loss(&score(y.as_slice(), &p)))
            })
            .collect()
    }
}

impl Tuned {
    /// The setting with the lowest inner-CV loss on `x`, `y` (first of
    /// equals), and every setting's loss.
    pub fn choose(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<(usize, Vec<f64>)> {
        let loss = self.inner_loss(x, y)?;
        Ok((argmin(&loss), loss))
    }
}

fn argmin(v: &[f64]) -> usize {
    // first of equal minima; NaN scores (a failed setting) never win
    v.iter()
        .enumerate()
        .filter(|(_, x)| x.is_finite())
        .min_by(|a, b| a.1.total_cmp(b.1))
        .map_or(0, |x| x.0)
}

impl Regressor for Tuned {
    fn name(&self) -> String {
        format!(
            "{} tuned over {} settings by inner {}-fold CV {}",
            self.grid[0].kind(),
            self.grid.len(),
            self.folds,
            self.scoring.name()
        )
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        let (best, _) = self.choose(x, y)?;
        if let Ok(mut c) = self.chosen.lock() {
            c.push(best);
        }
        self.grid[best].fit(x, y)
    }
    fn choices(&self) -> Vec<(String, usize)> {
        let c = self.chosen.lock().map(|c| c.clone()).unwrap_or_default();
        let mut out: Vec<(String, usize)> = self
            .grid
            .iter()
            .enumerate()
            .map(|(i, m)| (m.name(), c.iter().filter(|&&k| k == i).count()))
            .filter(|x| x.1 > 0)
            .collect();
        out.sort_by_key(|x| std::cmp::Reverse(x.1));
        out
    }
}

/// The optimistic route: every setting validated on all rows with `scheme`
/// and the best held-out R^2 kept. Returns (best setting, its result, all
/// results). Its score was used to choose the setting, so it is not a
/// held-out estimate of the chosen model's performance.
pub fn select_on_all_rows(
    grid: &[ModelSpec],
    d: &Data,
    scheme: &Scheme,
    log_target: bool,
    scoring: Scoring,
    tick: &(dyn Fn() + Sync),
) -> Result<(usize, Vec<CvResult>)> {
    let all = grid
        .iter()
        .map(|m| validate_with(m, d, scheme, log_target, tick))
        .collect::<Result<Vec<_>>>()?;
    let loss: Vec<f64> = all.iter().map(|r| scoring.loss(&r.held_out)).collect();
    Ok((argmin(&loss), all))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::cv::tests::data;
    use crate::ml::cv::validate;
    use crate::ml::svr::Svr;

    #[test]
    fn inner_cv_picks_the_setting_the_data_support_and_sees_only_training_rows() {
        // exact linear data: a near-zero-penalty SVR fits it, a heavily
        // restricted one (C tiny) cannot; tuning must pick the former
        let d = data(30, 0.0);
        let (good, bad) = (
            ModelSpec::Svr(Svr {
                c: 100.0,
                epsilon: 0.01,
                gamma: Some(0.05),
                ..Svr::default()
            }),
            ModelSpec::Svr(Svr {
                c: 0.01,
                epsilon: 0.01,
                gamma: Some(0.05),
                ..Svr::default()
            }),
        );
        let t = Tuned::new(vec![bad.clone(), good.clone()], 5, 1).unwrap();
        let mse = t.inner_loss(&d.x, &d.y).unwrap();
        assert!(mse[1] < mse[0] / 10.0, "{mse:?}");
        // nested: one choice per outer fit (5 folds + the in-sample fit)
        let outer = Scheme::KFold {
            k: 5,
            repeats: 1,
            seed: 3,
        };
        let r = validate(&t, &d, &outer, false).unwrap();
        let c = t.choices();
        assert_eq!(c.iter().map(|x| x.1).sum::<usize>(), 6);
        assert_eq!(c[0].0, good.name());
        // the nested estimate equals validating the chosen setting when every
        // outer fold chose it
        let direct = validate(&good, &d, &outer, false).unwrap();
        assert!((r.held_out.mse - direct.held_out.mse).abs() < 1e-12);
        let (best, all) =
            select_on_all_rows(&[bad, good], &d, &Scheme::Loo, false, Scoring::Mse, &|| {})
                .unwrap();
        assert_eq!((best, all.len()), (1, 2));
    }
}
