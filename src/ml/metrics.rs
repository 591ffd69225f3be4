//! Regression metrics: R^2 = 1 - SS_res/SS_tot (SS_tot about the mean of the
//! values scored), MSE, RMSE and MAE.

/// Scores of predictions against measured values.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Metrics {
    pub r2: f64,
    pub mse: f64,
    pub rmse: f64,
    pub mae: f64,
    pub n: usize,
}

/// Score `pred` against `y`.
///
/// ```
/// use spinfit::ml::metrics::score;
/// let m = score(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]);
/// assert!((m.mse - 1.0 / 3.0).abs() < 1e-15 && (m.r2 - 0.5).abs() < 1e-15);
/// ```
pub fn score(y: &[f64], pred: &[f64]) -> Metrics {
    let n = y.len();
    let mean = y.iter().sum::<f64>() / n as f64;
    let ss_res: f64 = y.iter().zip(pred).map(|(a, b)| (a - b).powi(2)).sum();
    let ss_tot: f64 = y.iter().map(|a| (a - mean).powi(2)).sum();
    let mse = ss_res / n as f64;
    Metrics {
        r2: 1.0 - ss_res / ss_tot,
        mse,
        rmse: mse.sqrt(),
        mae: y.iter().zip(pred).map(|(a, b)| (a - b).abs()).sum::<f64>() / n as f64,
        n,
    }
}
