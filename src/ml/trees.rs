//! Random forest, gradient-boosted trees (XGBoost-style) and RBF epsilon-SVR
//! from smartcore, wrapped as [`Regressor`]s. Checked against scikit-learn
//! and xgboost in scripts/compare_sklearn.py (statistically for the forests).

use super::scale::{Scaler, target_scale};
use super::{Predictor, Regressor};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use smartcore::linalg::basic::matrix::DenseMatrix;

fn dense(x: &DMatrix<f64>) -> Result<DenseMatrix<f64>> {
    let rows: Vec<Vec<f64>> = x.row_iter().map(|r| r.iter().copied().collect()).collect();
    DenseMatrix::from_2d_vec(&rows).map_err(|e| Error::Fit(format!("matrix: {e}")))
}

fn failed(what: &str) -> impl Fn(smartcore::error::Failed) -> Error + '_ {
    move |e| Error::Fit(format!("{what}: {e}"))
}

/// Random forest regressor.
#[derive(Debug, Clone, Copy)]
pub struct Forest {
    pub n_trees: usize,
    pub seed: u64,
}

impl Default for Forest {
    fn default() -> Self {
        Forest {
            n_trees: 300,
            seed: 7,
        }
    }
}

type Rf = smartcore::ensemble::random_forest_regressor::RandomForestRegressor<
    f64,
    f64,
    DenseMatrix<f64>,
    Vec<f64>,
>;

struct FittedForest(Rf);

impl Regressor for Forest {
    fn name(&self) -> String {
        format!("random forest ({} trees)", self.n_trees)
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        use smartcore::ensemble::random_forest_regressor::RandomForestRegressorParameters as P;
        let p = P::default().with_n_trees(self.n_trees).with_seed(self.seed);
        let m = Rf::fit(&dense(x)?, &y.iter().copied().collect(), p)
            .map_err(failed("random forest"))?;
        Ok(Box::new(FittedForest(m)))
    }
}

impl Predictor for FittedForest {
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
        let p = dense(x).and_then(|d| self.0.predict(&d).map_err(failed("random forest")));
        DVector::from_vec(p.unwrap_or_else(|_| vec![f64::NAN; x.nrows()]))
    }
}

/// Gradient-boosted trees (XGBoost-style second-order boosting).
#[derive(Debug, Clone, Copy)]
pub struct Boosted {
    pub n_estimators: usize,
    pub learning_rate: f64,
    pub max_depth: u16,
    pub seed: u64,
}

impl Default for Boosted {
    fn default() -> Self {
        Boosted {
            n_estimators: 200,
            learning_rate: 0.05,
            max_depth: 3,
            seed: 7,
        }
    }
}

type Xgb = smartcore::xgboost::xgb_regressor::XGRegressor<f64, f64, DenseMatrix<f64>, Vec<f64>>;

struct FittedBoosted(Xgb);

impl Regressor for Boosted {
    fn name(&self) -> String {
        format!(
            "gradient-boosted trees ({} x depth {}, rate {})",
            self.n_estimators, self.max_depth, self.learning_rate
        )
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        use smartcore::xgboost::xgb_regressor::XGRegressorParameters as P;
        let p = P::default()
            .with_n_estimators(self.n_estimators)
            .with_learning_rate(self.learning_rate)
            .with_max_depth(self.max_depth)
            .with_seed(self.seed);
        let m = Xgb::fit(&dense(x)?, &y.iter().copied().collect(), p)
            .map_err(failed("boosted trees"))?;
        Ok(Box::new(FittedBoosted(m)))
    }
}

impl Predictor for FittedBoosted {
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
        let p = dense(x).and_then(|d| self.0.predict(&d).map_err(failed("boosted trees")));
        DVector::from_vec(p.unwrap_or_else(|_| vec![f64::NAN; x.nrows()]))
    }
}

/// RBF epsilon-SVR on standardised inputs and target.
#[derive(Debug, Clone, Copy)]
pub struct Svr {
    pub c: f64,
    pub epsilon: f64,
    /// RBF gamma on standardised inputs; None = 1 / features.
    pub gamma: Option<f64>,
}

impl Default for Svr {
    fn default() -> Self {
        Svr {
            c: 10.0,
            epsilon: 0.1,
            gamma: None,
        }
    }
}

/// smartcore's SVR borrows its training data and parameters for as long as
/// it lives, so the trained model keeps them and solves the SVR again at
/// prediction time (once per batch of rows; deterministic).
struct FittedSvr {
    x: DenseMatrix<f64>,
    y: Vec<f64>,
    scaler: Scaler,
    ys: (f64, f64),
    params: smartcore::svm::svr::SVRParameters<f64>,
}

impl Regressor for Svr {
    fn name(&self) -> String {
        format!(
            "RBF epsilon-SVR (C = {}, epsilon = {} sd)",
            self.c, self.epsilon
        )
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        let scaler = Scaler::fit(x);
        let ys = target_scale(y);
        let gamma = self.gamma.unwrap_or(1.0 / x.ncols() as f64);
        let params = smartcore::svm::svr::SVRParameters::default()
            .with_c(self.c)
            .with_eps(self.epsilon)
            .with_kernel(smartcore::svm::Kernels::rbf().with_gamma(gamma));
        let f = FittedSvr {
            x: dense(&scaler.apply(x))?,
            y: y.iter().map(|v| (v - ys.0) / ys.1).collect(),
            scaler,
            ys,
            params,
        };
        // solve once now so that a problem shows up at fit time
        smartcore::svm::svr::SVR::fit(&f.x, &f.y, &f.params).map_err(failed("SVR"))?;
        Ok(Box::new(f))
    }
}

impl Predictor for FittedSvr {
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
        let p = dense(&self.scaler.apply(x)).and_then(|d| {
            let m = smartcore::svm::svr::SVR::fit(&self.x, &self.y, &self.params)
                .map_err(failed("SVR"))?;
            m.predict(&d).map_err(failed("SVR"))
        });
        DVector::from_vec(
            p.map(|v| v.into_iter().map(|z| z * self.ys.1 + self.ys.0).collect())
                .unwrap_or_else(|_| vec![f64::NAN; x.nrows()]),
        )
    }
}
