//! The report of a cross-validation.

use super::{finite, metrics_json};
use crate::error::Result;
use crate::ml::cv::{CvResult, SeedSpread};
use crate::ml::data::Data;
use crate::ml::metrics::Metrics;
use crate::plot::{Corner, Curve, Points, XyFigure, draw_xy};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// What tuning did, when the model was a grid (nested CV).
#[derive(Debug, Clone, Default)]
pub struct Tuning {
    pub inner_folds: usize,
    /// Settings the inner CV chose, with how often.
    pub chosen: Vec<(String, usize)>,
    /// The optimistic figure: settings chosen by their score on all rows.
    pub on_all_rows: Option<(String, Metrics)>,
}

/// A cross-validation with everything its report shows.
pub struct CvReport<'a> {
    pub data: &'a Data,
    pub result: &'a CvResult,
    pub seconds: f64,
    pub tuning: Option<Tuning>,
    pub seeds: Option<SeedSpread>,
}

impl CvReport<'_> {
    /// JSON document of schema `spinfit.cv/1`.
    pub fn to_json(&self) -> Value {
        let (d, r) = (self.data, self.result);
        let mut metrics = metrics_json(&r.held_out, "held-out");
        if let Some(m) = &r.in_sample {
            metrics.extend(metrics_json(m, "in-sample"));
        }
        json!({
            "schema": "spinfit.cv/1", "model": r.model, "scheme": r.scheme, "target": d.target, "features": d.features,
            "log_target": r.log_target, "rows": d.y.len(), "rows_dropped": d.dropped,
            "metrics": metrics, "validation_seconds": self.seconds,
            "held_out_r2_sd_over_repeats": r.held_out_r2_sd,
            "folds": r.per_fold.iter().enumerate().map(|(i, m)| json!({"fold": i + 1, "rows": m.n, "r2": finite(m.r2), "mse": m.mse, "mae": m.mae})).collect::<Vec<_>>(),
            "tuning": self.tuning.as_ref().map(|t| json!({
                "nested": true, "inner_folds": t.inner_folds,
                "chosen_settings": t.chosen.iter().map(|(s, k)| json!({"model": s, "times": k})).collect::<Vec<_>>(),
                "tuned_on_all_rows": t.on_all_rows.as_ref().map(|(s, m)| json!({"model": s, "metrics": metrics_json(m, "selected-on-the-same-rows")})),
            })),
            "seeds": self.seeds,
            "predictions": d.ids.iter().zip(d.y.iter()).zip(&r.predictions).zip(&r.fold_of).map(|(((id, y), p), f)| json!({"id": id, "measured": y, "held_out_prediction": finite(*p), "fold": f})).collect::<Vec<_>>(),
        })
    }

    /// The held-out predictions as CSV (row = data row of the file).
    pub fn predictions_csv(&self) -> Vec<u8> {
        let (d, r) = (self.data, self.result);
        let mut w = csv::Writer::from_writer(vec![]);
        let _ = w.write_record(["row", "id", "fold", "measured", "held_out_prediction"]);
        for i in 0..d.y.len() {
            let p = r.predictions[i];
            let _ = w.write_record([
                d.lines[i].to_string(),
                d.ids[i].clone(),
                r.fold_of[i].map_or(String::new(), |f| f.to_string()),
                format!("{}", d.y[i]),
                if p.is_finite() {
                    format!("{p}")
                } else {
                    String::new()
                },
            ]);
        }
        w.into_inner().unwrap_or_default()
    }

    /// The report as text.
    pub fn to_text(&self) -> String {
        let (d, r) = (self.data, self.result);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{} on {} rows, {} features ({}), target {}{}",
            r.model,
            d.y.len(),
            d.features.len(),
            d.features.join(", "),
            d.target,
            if r.log_target { " (learned as ln)" } else { "" }
        );
        if !d.dropped.is_empty() {
            let _ = writeln!(
                s,
                "  rows left out for missing values: {}",
                d.dropped.join(", ")
            );
        }
        let _ = writeln!(s, "  {}", r.scheme);
        let sd = r
            .held_out_r2_sd
            .map_or(String::new(), |s| format!(" (sd over repeats {s:.3})"));
        let label = if self.tuning.is_some() {
            "held-out (nested)"
        } else {
            "held-out"
        };
        let _ = writeln!(
            s,
            "  {label}:  R2 = {:.3}{sd}, MSE = {:.4}, RMSE = {:.4}, MAE = {:.4}",
            r.held_out.r2, r.held_out.mse, r.held_out.rmse, r.held_out.mae
        );
        if !r.per_fold.is_empty() {
            let r2: Vec<String> = r
                .per_fold
                .iter()
                .map(|m| format!("{:.3} ({} rows)", m.r2, m.n))
                .collect();
            let _ = writeln!(s, "  held-out R2 per fold: {}", r2.join(", "));
        }
        if let Some(t) = &self.tuning {
            if let Some((name, m)) = &t.on_all_rows {
                let _ = writeln!(
                    s,
                    "  tuned on all rows: R2 = {:.3}, MSE = {:.4}   (optimistic: settings chosen by this same score; {name})",
                    m.r2, m.mse
                );
            }
            if !t.chosen.is_empty() {
                let _ = writeln!(s, "  settings chosen by the inner CV (times):");
                for (c, k) in &t.chosen {
                    let _ = writeln!(s, "    {k:>3} x {c}");
                }
            }
        }
        let _ = match &r.in_sample {
            Some(m) => writeln!(
                s,
                "  in-sample: R2 = {:.3}, MSE = {:.4}, RMSE = {:.4}, MAE = {:.4}   (optimistic: the model saw these rows)",
                m.r2, m.mse, m.rmse, m.mae
            ),
            None => writeln!(s, "  in-sample: not computed (--no-refit)"),
        };
        if let Some(k) = &self.seeds {
            let _ = writeln!(
                s,
                "  held-out R2 over {} seeds: mean {:.3}, sd {:.3}, range {:.3} to {:.3}",
                k.seeds.len(),
                k.mean,
                k.sd,
                k.min,
                k.max
            );
        }
        s
    }

    fn pairs(&self) -> (Vec<f64>, Vec<f64>) {
        let (d, r) = (self.data, self.result);
        d.y.iter()
            .zip(&r.predictions)
            .filter(|(_, p)| p.is_finite())
            .map(|(m, p)| (*m, *p))
            .unzip()
    }

    /// Held-out predictions against measured values, with the y = x line.
    pub fn parity_figure(&self, path: &Path) -> Result<()> {
        let (d, r) = (self.data, self.result);
        let (x, y) = self.pairs();
        let hi = x.iter().chain(&y).fold(0.0f64, |a, b| a.max(*b)) * 1.05;
        let lo = x.iter().chain(&y).fold(0.0f64, |a, b| a.min(*b)).min(0.0);
        draw_xy(
            path,
            &XyFigure {
                legend: Corner::Auto,
                synthetic: false,
                title: format!(
                    "{}: {} (held-out R2 = {:.3})",
                    r.model, r.scheme, r.held_out.r2
                ),
                x_label: format!("measured {}", d.target),
                y_label: format!("held-out prediction of {}", d.target),
                points: vec![Points {
                    label: "held-out predictions".into(),
                    err: vec![0.0; x.len()],
                    x,
                    y,
                    color: (40, 90, 200),
                    hollow: false,
                }],
                curves: vec![Curve {
                    label: "prediction = measurement".into(),
                    x: vec![lo, hi],
                    y: vec![lo, hi],
                    color: (120, 120, 120),
                    dashed: true,
                }],
            },
        )
    }

    /// Held-out residuals (prediction - measurement) as a histogram.
    pub fn residual_figure(&self, path: &Path) -> Result<()> {
        let (x, y) = self.pairs();
        let res: Vec<f64> = x.iter().zip(&y).map(|(m, p)| p - m).collect();
        let bins = ((res.len() as f64).sqrt().ceil() as usize).clamp(5, 30);
        crate::plot::draw_histogram(
            path,
            &format!(
                "held-out residuals: {} ({} rows, RMSE {:.3})",
                self.result.model,
                res.len(),
                self.result.held_out.rmse
            ),
            &format!("held-out prediction - measured {}", self.data.target),
            &res,
            bins,
        )
    }
}
