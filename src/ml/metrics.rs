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

/// The score settings are chosen by (`--scoring`): lower loss wins.
///
/// ```
/// use spinfit::ml::metrics::{Scoring, score};
/// let m = score(&[1.0, 2.0, 3.0], &[1.0, 2.0, 4.0]);
/// assert_eq!(Scoring::Mae.loss(&m), 1.0 / 3.0);
/// assert_eq!("r2".parse::<Scoring>().unwrap().loss(&m), -m.r2);
/// assert!("accuracy".parse::<Scoring>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Scoring {
    #[default]
    Mse,
    Mae,
    R2,
}

impl Scoring {
    /// The loss to minimise: MSE, MAE, or -R2.
    pub fn loss(self, m: &Metrics) -> f64 {
        match self {
            Scoring::Mse => m.mse,
            Scoring::Mae => m.mae,
            Scoring::R2 => -m.r2,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Scoring::Mse => "MSE",
            Scoring::Mae => "MAE",
            Scoring::R2 => "-R2",
        }
    }
}

impl std::str::FromStr for Scoring {
    type Err = crate::Error;
    fn from_str(s: &str) -> crate::Result<Scoring> {
        match s.to_ascii_lowercase().as_str() {
            "mse" => Ok(Scoring::Mse),
            "mae" => Ok(Scoring::Mae),
            "r2" => Ok(Scoring::R2),
            o => Err(crate::Error::setting(
                "scoring",
                format!("`{o}`: expected mse, mae or r2"),
            )),
        }
    }
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
