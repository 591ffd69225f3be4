//! Standardisation z = (x - mean) / sd, fitted on training rows only.

use nalgebra::{DMatrix, DVector};

/// Column means and standard deviations of a training set.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Scaler {
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
}

impl Scaler {
    /// Fit on the columns of `x` (a constant column gets sd 1).
    pub fn fit(x: &DMatrix<f64>) -> Scaler {
        let n = x.nrows() as f64;
        let mean: Vec<f64> = x.column_iter().map(|c| c.sum() / n).collect();
        let sd = x
            .column_iter()
            .zip(&mean)
            .map(|(c, m)| {
                let s = (c.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt();
                if s > 0.0 { s } else { 1.0 }
            })
            .collect();
        Scaler { mean, sd }
    }
    /// `p` finite means and positive finite sds (a saved model's scaler).
    pub fn check(&self, field: &str, p: usize) -> std::result::Result<(), String> {
        use super::checked::{bad, finite_len};
        finite_len(&format!("{field}.mean"), &self.mean, p)?;
        finite_len(&format!("{field}.sd"), &self.sd, p)?;
        match self.sd.iter().position(|s| *s <= 0.0) {
            Some(i) => Err(bad(format!("{field}.sd[{i}]"), "not positive")),
            None => Ok(()),
        }
    }

    pub fn apply(&self, x: &DMatrix<f64>) -> DMatrix<f64> {
        DMatrix::from_fn(x.nrows(), x.ncols(), |i, j| {
            (x[(i, j)] - self.mean[j]) / self.sd[j]
        })
    }
}

/// A saved (mean, sd) of the target: finite, sd > 0.
pub fn check_target_scale(field: &str, ys: (f64, f64)) -> std::result::Result<(), String> {
    if ys.0.is_finite() && ys.1.is_finite() && ys.1 > 0.0 {
        Ok(())
    } else {
        Err(super::checked::bad(
            field,
            format!("({}, {}): expected a finite mean and sd > 0", ys.0, ys.1),
        ))
    }
}

/// Mean and sd of a target vector.
pub fn target_scale(y: &DVector<f64>) -> (f64, f64) {
    let n = y.len() as f64;
    let m = y.sum() / n;
    let s = (y.iter().map(|v| (v - m).powi(2)).sum::<f64>() / n).sqrt();
    (m, if s > 0.0 { s } else { 1.0 })
}
