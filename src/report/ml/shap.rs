//! The report of a SHAP explanation.

use crate::error::Result;
use crate::ml::data::Data;
use crate::ml::shap::Explanation;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// Exact Shapley values of a model's predictions.
pub struct ShapReport<'a> {
    pub model: &'a str,
    pub data: &'a Data,
    pub explanation: &'a Explanation,
    pub background_rows: usize,
    pub background_seed: u64,
    pub seconds: f64,
}

impl ShapReport<'_> {
    /// Features by mean |SHAP|, largest first.
    pub fn ranking(&self) -> Vec<(String, f64)> {
        let phi = &self.explanation.phi;
        let mut rank: Vec<(String, f64)> = self
            .data
            .features
            .iter()
            .enumerate()
            .map(|(j, n)| (n.clone(), phi.column(j).abs().mean()))
            .collect();
        rank.sort_by(|a, b| b.1.total_cmp(&a.1));
        rank
    }

    /// JSON document of schema `spinfit.shap/1`.
    pub fn to_json(&self) -> Value {
        let (d, e) = (self.data, self.explanation);
        json!({
            "schema": "spinfit.shap/1", "model": self.model, "base_value": e.base, "target": d.target,
            "method": e.method.describe(), "background_rows": self.background_rows, "background_seed": self.background_seed,
            "explain_seconds": self.seconds, "features": d.features,
            "mean_abs_shap": self.ranking().iter().map(|(n, v)| json!({"feature": n, "value": v})).collect::<Vec<_>>(),
            "rows": d.ids.iter().enumerate().map(|(r, id)| json!({"id": id, "shap": e.phi.row(r).iter().copied().collect::<Vec<f64>>()})).collect::<Vec<_>>(),
        })
    }

    pub fn to_text(&self) -> String {
        let (d, e) = (self.data, self.explanation);
        let bg = if self.background_rows < d.x.nrows() {
            format!(
                "background = {} of {} rows (seed {})",
                self.background_rows,
                d.x.nrows(),
                self.background_seed
            )
        } else {
            "background = all rows".to_string()
        };
        let mut s = format!(
            "exact Shapley values ({}): {} trained on all {} rows, {bg}, base value {:.4}\n",
            e.method.describe(),
            self.model,
            d.y.len(),
            e.base
        );
        for (k, (n, v)) in self.ranking().iter().enumerate() {
            let _ = writeln!(
                s,
                "  {:>2}. {:24} mean |SHAP| = {:.4} {}",
                k + 1,
                n,
                v,
                d.target
            );
        }
        s
    }

    /// Every row's values as CSV (id, then one column per feature).
    pub fn to_csv(&self) -> Vec<u8> {
        crate::ml::shap::to_csv(&self.data.ids, &self.data.features, &self.explanation.phi)
    }

    /// Bar chart of mean |SHAP|, the largest at the top.
    pub fn bars_figure(&self, path: &Path) -> Result<()> {
        let (labels, values): (Vec<String>, Vec<f64>) = self.ranking().into_iter().rev().unzip();
        crate::plot::draw_bars(
            path,
            &format!("mean |SHAP|: {}", self.model),
            &format!("mean |SHAP| ({})", self.data.target),
            &labels,
            &values,
        )
    }

    /// Every row's SHAP values, coloured by the feature's value (colour bar).
    pub fn beeswarm_figure(&self, path: &Path) -> Result<()> {
        crate::plot::draw_beeswarm(
            path,
            &format!(
                "SHAP values: {} (colour: feature value, blue low, red high)",
                self.model
            ),
            &format!("SHAP value ({})", self.data.target),
            &self.data.features,
            &self.explanation.phi,
            &self.data.x,
        )
    }
}
