//! Writers of the ML results: cross-validation (`spinfit.cv/1`), predictions
//! (`spinfit.predict/1`), SHAP explanations (`spinfit.shap/1`), learning
//! curves and the paper's reproduction study, as JSON, text, CSV and
//! figures. The command line and the Python package print these same
//! documents.
//!
//! Scores: R2 = 1 - sum (y - f)^2 / sum (y - mean y)^2, MSE, RMSE = sqrt(MSE)
//! and MAE, in the target's units (squared for MSE); held-out predictions
//! are those of rows the model never saw.

mod cv;
mod predict;
mod shap;
mod study;

pub use cv::{CvReport, Tuning};
pub use predict::PredictReport;
pub use shap::ShapReport;
pub use study::{CurveReport, StudyReport};

use crate::ml::metrics::Metrics;
use serde_json::{Value, json};

pub(crate) fn finite(p: f64) -> Value {
    if p.is_finite() { json!(p) } else { Value::Null }
}

pub(crate) fn metrics_json(x: &Metrics, kind: &str) -> Vec<Value> {
    [
        ("r2", x.r2),
        ("mse", x.mse),
        ("rmse", x.rmse),
        ("mae", x.mae),
    ]
    .into_iter()
    .map(|(n, v)| json!({"name": n, "value": finite(v), "kind": kind}))
    .collect()
}
