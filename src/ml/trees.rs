//! Random forest from smartcore, wrapped as a [`Regressor`]; checked against
//! scikit-learn in scripts/compare_sklearn.py (statistically: the draws differ).

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

/// Random forest regressor. Defaults are scikit-learn's
/// `RandomForestRegressor`: 100 trees, every feature tried at each split
/// (`max_features=1.0`), leaves of >= 1 row, bootstrap samples.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Forest {
    /// Trees (scikit-learn's `n_estimators`, default 100).
    pub n_trees: usize,
    /// Smallest number of rows in a leaf.
    pub min_samples_leaf: usize,
    /// Fraction of the features tried at each split (default 1: all);
    /// null = the square root of their number.
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
            n_trees: 100,
            min_samples_leaf: 1,
            max_features: Some(1.0),
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
