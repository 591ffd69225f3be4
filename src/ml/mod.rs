//! Small-sample predictors of the spin relaxation rate, and their honest
//! validation: every score says whether it is in-sample or held-out.
//!
//! Flow: a table (the dataset or any CSV with a header) -> [`Data`] (feature
//! matrix, target) -> a [`Regressor`] fitted per fold -> pooled
//! out-of-fold predictions -> [`metrics::Metrics`].

pub mod ann;
pub mod cv;
pub mod data;
pub mod ensemble;
pub mod metrics;
pub mod ols;
pub mod scale;
pub mod shap;
pub mod trees;

pub use data::Data;

use crate::error::Result;
use nalgebra::{DMatrix, DVector};

/// A model that can be trained.
pub trait Regressor: Sync {
    fn name(&self) -> String;
    /// Train on rows of `x` (samples x features) and targets `y`.
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>>;
}

/// A trained model.
pub trait Predictor: Send + Sync {
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64>;
}
