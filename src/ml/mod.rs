//! Small-sample predictors of the spin relaxation rate, and their honest
//! validation: every score says whether it is in-sample or held-out.
//!
//! Flow: a table (the dataset or any CSV with a header) -> [`Data`] (feature
//! matrix, target) -> a [`Regressor`] fitted per fold -> pooled
//! out-of-fold predictions -> [`metrics::Metrics`].

pub mod ann;
pub mod boost;
pub(crate) mod checked;
pub mod curve;
pub mod cv;
pub mod data;
pub mod ensemble;
pub mod metrics;
pub mod ols;
pub mod reproduce;
pub mod saved;
pub mod scale;
pub mod shap;
pub mod source;
pub mod spec;
pub mod svr;
pub mod tree;
pub mod trees;
pub mod tune;

pub use data::Data;
pub use spec::ModelSpec;

use crate::error::Result;
use nalgebra::{DMatrix, DVector};

/// A model that can be trained.
pub trait Regressor: Sync {
    fn name(&self) -> String;
    /// Train on rows of `x` (samples x features) and targets `y`.
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>>;
    /// For a model that tunes itself at every training: how often each
    /// setting was chosen, most first (empty for the others).
    fn choices(&self) -> Vec<(String, usize)> {
        vec![]
    }
}

/// A trained model.
pub trait Predictor: Send + Sync {
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64>;
    /// Everything the predictions depend on, for a saved model
    /// (read back by [`spec::ModelSpec::restore`]).
    fn state(&self) -> Result<serde_json::Value>;
    /// Whether a model read from a file is whole for `n_features` inputs:
    /// shapes, indices and finite numbers (see [`checked`]); the error
    /// names the field.
    fn check(&self, n_features: usize) -> std::result::Result<(), String>;
    /// A tree ensemble's trees, for TreeSHAP (None for other models).
    fn trees(&self) -> Option<tree::Ensemble> {
        None
    }
    /// An RBF kernel expansion (the SVR), for its product-form Shapley
    /// values (None for other models).
    fn rbf(&self) -> Option<shap::kernel::RbfExpansion> {
        None
    }
    /// A linear model's (intercept, coefficients), for the closed-form
    /// Shapley values (None for other models).
    fn linear(&self) -> Option<(f64, Vec<f64>)> {
        None
    }
    /// The mean prediction over `background` at every coalition of the row
    /// `x` (index bit j set: x_j, else the background's), when the model
    /// computes it faster than a prediction of the whole batch (the MLP);
    /// None: [`shap::exact`] predicts the batch.
    fn coalition_values(&self, _x: &[f64], _background: &DMatrix<f64>) -> Option<Vec<f64>> {
        None
    }
    /// [`Predictor::coalition_values`] of every row of `x` with `x` itself
    /// as the background, when the model can share the work of the pairs
    /// (x_S, b) and (b_S', x) (S' the complement of S: the same input);
    /// `tick` once per row. None: row by row.
    fn coalition_values_self(
        &self,
        _x: &DMatrix<f64>,
        _tick: &(dyn Fn() + Sync),
    ) -> Option<Vec<Vec<f64>>> {
        None
    }
}

/// [`Predictor::state`] of a serialisable trained model.
pub(crate) fn state_of<T: serde::Serialize>(t: &T) -> Result<serde_json::Value> {
    serde_json::to_value(t).map_err(|e| crate::error::Error::Fit(format!("saving a model: {e}")))
}
