//! Ordinary least squares with an intercept: beta = argmin |y - [1 X] beta|^2,
//! solved by SVD (robust when descriptors are nearly collinear).

use super::{Predictor, Regressor};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// OLS settings (none): the baseline every model is compared with.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ols;

/// Fitted coefficients: intercept first.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct FittedOls {
    pub coef: Vec<f64>,
}

fn design(x: &DMatrix<f64>) -> DMatrix<f64> {
    DMatrix::from_fn(x.nrows(), x.ncols() + 1, |i, j| {
        if j == 0 { 1.0 } else { x[(i, j - 1)] }
    })
}

impl Regressor for Ols {
    fn name(&self) -> String {
        "ordinary least squares".into()
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        let a = design(x);
        let svd = a.svd(true, true);
        let coef = svd
            .solve(y, 1e-12 * svd.singular_values.max())
            .map_err(|e| Error::Fit(format!("least squares: {e}")))?;
        Ok(Box::new(FittedOls {
            coef: coef.iter().copied().collect(),
        }))
    }
}

impl Predictor for FittedOls {
    fn state(&self) -> Result<serde_json::Value> {
        super::state_of(self)
    }
    fn check(&self, p: usize) -> std::result::Result<(), String> {
        super::checked::finite_len("state.coef", &self.coef, p + 1)
    }
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
        design(x) * DVector::from_column_slice(&self.coef)
    }
    fn linear(&self) -> Option<(f64, Vec<f64>)> {
        Some((self.coef[0], self.coef[1..].to_vec()))
    }
}
