//! Predictions for new compositions with an uncertainty. The rate is the
//! prediction of the model trained on all rows; its uncertainty is the sd of
//! the predictions of the same model trained on bootstrap resamples of the
//! training rows (it grows where the training data
//! say little). Candidates outside the training range of any descriptor are
//! flagged: the models interpolate, they do not extrapolate.

use super::{Data, Regressor};
use crate::error::Result;
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng, rngs::StdRng};
use rayon::prelude::*;

/// One candidate's prediction.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Prediction {
    pub rate: f64,
    pub rate_sd: f64,
    /// Descriptors outside [min, max] of the training rows, with their values.
    pub out_of_range: Vec<(String, f64, f64, f64)>,
}

impl Prediction {
    /// The spin lifetime tau = 1/rate (ps) and its first-order error
    /// sd_tau = sd_rate / rate^2; None for a rate <= 0 (unphysical: the
    /// model extrapolates).
    pub fn lifetime(&self) -> Option<(f64, f64)> {
        (self.rate > 0.0).then(|| (1.0 / self.rate, self.rate_sd / (self.rate * self.rate)))
    }

    /// `rate = r +/- s ps^-1 (tau ~ t ps)`, with the warnings a reader
    /// needs: a rate <= 0 (a model not constrained positive,
    /// extrapolating) and descriptors outside the training range.
    pub fn text(&self) -> String {
        let tau = match self.lifetime() {
            Some((t, _)) => format!("tau ~ {t:.2} ps"),
            None => "WARNING rate <= 0 is unphysical: the model extrapolates; --log-target keeps rates positive"
                .to_string(),
        };
        let range = if self.out_of_range.is_empty() {
            String::new()
        } else {
            format!(
                "  WARNING outside the training range: {}",
                self.out_of_range
                    .iter()
                    .map(|(f, v, lo, hi)| format!("{f} = {v} not in [{lo}, {hi}]"))
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        };
        format!(
            "rate = {:.4} +/- {:.4} ps^-1 ({tau}){range}",
            self.rate, self.rate_sd
        )
    }
}

/// How the uncertainty is estimated.
#[derive(Debug, Clone, Copy)]
pub struct Ensemble {
    /// Bootstrap members (at least 2).
    pub members: usize,
    pub seed: u64,
    /// Members learn ln(target), as the model did.
    pub log_target: bool,
}

impl Ensemble {
    /// `point`: the predictions of the model trained on all rows (the
    /// reported rate); the uncertainty is the sd of the members' predictions
    /// of `x` (rows x the features of `d`). `tick` after each member.
    pub fn predict(
        &self,
        m: &dyn Regressor,
        d: &Data,
        x: &DMatrix<f64>,
        point: &DVector<f64>,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<Prediction>> {
        if self.members < 2 {
            return Err(crate::error::Error::setting(
                "members",
                format!(
                    "{}: an uncertainty needs at least 2 ensemble members",
                    self.members
                ),
            ));
        }
        let n = d.y.len();
        let preds: Vec<DVector<f64>> = (0..self.members as u64)
            .into_par_iter()
            .map(|k| {
                let mut rng = StdRng::seed_from_u64(self.seed + k);
                let rows: Vec<usize> = (0..n).map(|_| rng.random_range(0..n)).collect();
                let xb = DMatrix::from_fn(n, d.x.ncols(), |i, j| d.x[(rows[i], j)]);
                let yb = DVector::from_fn(n, |i, _| {
                    let v = d.y[rows[i]];
                    if self.log_target { v.ln() } else { v }
                });
                let p = m.fit(&xb, &yb).map(|f| {
                    let p = f.predict(x);
                    if self.log_target { p.map(f64::exp) } else { p }
                });
                tick();
                p
            })
            .collect::<Result<_>>()?;
        let (lo, hi): (Vec<f64>, Vec<f64>) = d.x.column_iter().map(|c| (c.min(), c.max())).unzip();
        Ok((0..x.nrows())
            .map(|i| {
                let v: Vec<f64> = preds.iter().map(|p| p[i]).collect();
                let mean = v.iter().sum::<f64>() / v.len() as f64;
                let sd = (v.iter().map(|a| (a - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64)
                    .sqrt();
                let out_of_range = (0..x.ncols())
                    .filter(|&j| x[(i, j)] < lo[j] || x[(i, j)] > hi[j])
                    .map(|j| (d.features[j].clone(), x[(i, j)], lo[j], hi[j]))
                    .collect();
                Prediction {
                    rate: point[i],
                    rate_sd: sd,
                    out_of_range,
                }
            })
            .collect())
    }
}
