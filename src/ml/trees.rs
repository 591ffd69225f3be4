//! Random forest and RBF epsilon-SVR
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

/// Predictions of a smartcore model on the rows of `x` (NaN where it fails:
/// the [`Predictor`] contract has no error, and NaN cannot pass for a rate).
fn predict_rows(
    x: &DMatrix<f64>,
    what: &str,
    f: impl Fn(&DenseMatrix<f64>) -> std::result::Result<Vec<f64>, smartcore::error::Failed>,
) -> DVector<f64> {
    let p = dense(x).and_then(|d| f(&d).map_err(failed(what)));
    DVector::from_vec(p.unwrap_or_else(|_| vec![f64::NAN; x.nrows()]))
}

/// Random forest regressor.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forest {
    pub n_trees: usize,
    /// Smallest number of rows in a leaf.
    pub min_samples_leaf: usize,
    /// Fraction of the features tried at each split; None = smartcore's default (sqrt).
    pub max_features: Option<f64>,
    pub seed: u64,
}

impl Forest {
    /// Every setting in its range, named in the error.
    pub fn validate(&self) -> Result<()> {
        use super::checked::in_range;
        in_range("rf:n_trees", self.n_trees, 1, 100_000)?;
        in_range("rf:min_samples_leaf", self.min_samples_leaf, 1, 1_000_000)?;
        if let Some(f) = self.max_features
            && !(f > 0.0 && f <= 1.0)
        {
            return Err(Error::setting(
                "rf:max_features",
                format!("{f}: expected a fraction of the features in (0, 1]"),
            ));
        }
        Ok(())
    }
}

impl Default for Forest {
    fn default() -> Self {
        Forest {
            n_trees: 300,
            min_samples_leaf: 1,
            max_features: None,
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

#[derive(serde::Serialize, serde::Deserialize)]
pub struct FittedForest(Rf);

impl Regressor for Forest {
    fn name(&self) -> String {
        format!(
            "random forest ({} trees, leaf >= {}{})",
            self.n_trees,
            self.min_samples_leaf,
            self.max_features
                .map_or(String::new(), |f| format!(", {f} of features per split"))
        )
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        use smartcore::ensemble::random_forest_regressor::RandomForestRegressorParameters as P;
        let mut p = P::default()
            .with_n_trees(self.n_trees)
            .with_min_samples_leaf(self.min_samples_leaf)
            .with_seed(self.seed);
        if let Some(f) = self.max_features {
            p = p.with_m(((f * x.ncols() as f64).round() as usize).clamp(1, x.ncols()));
        }
        let m = Rf::fit(&dense(x)?, &y.iter().copied().collect(), p)
            .map_err(failed("random forest"))?;
        Ok(Box::new(FittedForest(m)))
    }
}

impl Predictor for FittedForest {
    fn state(&self) -> Result<serde_json::Value> {
        super::state_of(self)
    }
    fn check(&self, p: usize) -> std::result::Result<(), String> {
        super::checked::forest(&self.state().map_err(|e| e.to_string())?, p)
    }
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
        predict_rows(x, "random forest", |d| self.0.predict(d))
    }
    fn trees(&self) -> Option<super::tree::Ensemble> {
        forest_trees(&self.state().ok()?)
    }
}

/// RBF epsilon-SVR on standardised inputs and target.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Svr {
    pub c: f64,
    pub epsilon: f64,
    /// RBF gamma on standardised inputs; None = 1 / features.
    pub gamma: Option<f64>,
}

impl Svr {
    /// Every setting in its range, named in the error.
    pub fn validate(&self) -> Result<()> {
        use super::checked::positive;
        positive("svr:c", self.c, false)?;
        positive("svr:epsilon", self.epsilon, true)?;
        if let Some(g) = self.gamma {
            positive("svr:gamma", g, false)?;
        }
        Ok(())
    }
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
#[derive(serde::Serialize, serde::Deserialize)]
pub struct FittedSvr {
    /// Standardised training rows.
    x: Vec<Vec<f64>>,
    y: Vec<f64>,
    scaler: Scaler,
    ys: (f64, f64),
    svr: Svr,
    gamma: f64,
}

impl FittedSvr {
    fn solve(&self) -> Result<(DenseMatrix<f64>, smartcore::svm::svr::SVRParameters<f64>)> {
        let x =
            DenseMatrix::from_2d_vec(&self.x).map_err(|e| Error::Fit(format!("matrix: {e}")))?;
        let params = smartcore::svm::svr::SVRParameters::default()
            .with_c(self.svr.c)
            .with_eps(self.svr.epsilon)
            .with_kernel(smartcore::svm::Kernels::rbf().with_gamma(self.gamma));
        Ok((x, params))
    }
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
        let f = FittedSvr {
            x: scaler
                .apply(x)
                .row_iter()
                .map(|r| r.iter().copied().collect())
                .collect(),
            y: y.iter().map(|v| (v - ys.0) / ys.1).collect(),
            scaler,
            ys,
            svr: *self,
            gamma,
        };
        // solve once now so that a problem shows up at fit time
        let (xs, params) = f.solve()?;
        smartcore::svm::svr::SVR::fit(&xs, &f.y, &params).map_err(failed("SVR"))?;
        Ok(Box::new(f))
    }
}

impl Predictor for FittedSvr {
    fn state(&self) -> Result<serde_json::Value> {
        super::state_of(self)
    }
    fn check(&self, p: usize) -> std::result::Result<(), String> {
        use super::checked::{bad, finite_len};
        if self.x.is_empty() {
            return Err(bad("state.x", "no support rows"));
        }
        for (i, r) in self.x.iter().enumerate() {
            finite_len(&format!("state.x[{i}]"), r, p)?;
        }
        finite_len("state.y", &self.y, self.x.len())?;
        self.scaler.check("state.scaler", p)?;
        super::scale::check_target_scale("state.ys", self.ys)?;
        self.svr.validate().map_err(|e| bad("state.svr", e))?;
        if !(self.gamma.is_finite() && self.gamma > 0.0) {
            return Err(bad("state.gamma", format!("{}: expected > 0", self.gamma)));
        }
        Ok(())
    }
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
        let p = dense(&self.scaler.apply(x)).and_then(|d| {
            let (xs, params) = self.solve()?;
            let m = smartcore::svm::svr::SVR::fit(&xs, &self.y, &params).map_err(failed("SVR"))?;
            m.predict(&d).map_err(failed("SVR"))
        });
        DVector::from_vec(
            p.map(|v| v.into_iter().map(|z| z * self.ys.1 + self.ys.0).collect())
                .unwrap_or_else(|_| vec![f64::NAN; x.nrows()]),
        )
    }
}

/// smartcore's forest as [`super::tree::Tree`]s: its nodes (`output`,
/// `split_feature`, `split_value`, `true_child` taken when
/// `x <= split_value`, `false_child`) read from its saved state, since
/// smartcore keeps them private. None if a tree is not whole, or if the
/// copy does not predict what the forest predicts (checked by the caller's
/// tests), so an explanation falls back to exact enumeration.
fn forest_trees(state: &serde_json::Value) -> Option<super::tree::Ensemble> {
    use super::tree::{Ensemble, Node, Tree};
    let f = &state["forest_regressor"];
    let p = f["num_features"].as_u64()? as usize;
    let mut trees = vec![];
    for t in f["trees"].as_array()? {
        let mut nodes = vec![];
        for n in t["nodes"].as_array()? {
            let value = n["output"].as_f64()?;
            nodes.push(
                match (n["true_child"].as_u64(), n["false_child"].as_u64()) {
                    (Some(l), Some(r)) => Node {
                        feature: u32::try_from(n["split_feature"].as_u64()?).ok()?,
                        threshold: n["split_value"].as_f64()?,
                        left: u32::try_from(l).ok()?,
                        right: u32::try_from(r).ok()?,
                        value,
                    },
                    _ => Node::leaf(value),
                },
            );
        }
        let tree = Tree { nodes };
        tree.check("forest", p).ok()?;
        trees.push(tree);
    }
    let scale = 1.0 / trees.len().max(1) as f64;
    Some(Ensemble {
        trees,
        base: 0.0,
        scale,
    })
}
