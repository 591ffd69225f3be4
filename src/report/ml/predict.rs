//! The report of predictions for candidates.

use crate::error::Result;
use crate::ml::ensemble::Prediction;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// Predicted rates of candidates, with their bootstrap spread.
pub struct PredictReport<'a> {
    pub model: &'a str,
    pub trained_on: usize,
    pub members: usize,
    pub predictions: &'a [(String, Prediction)],
}

impl PredictReport<'_> {
    /// JSON document of schema `spinfit.predict/1`.
    pub fn to_json(&self) -> Value {
        json!({
            "schema": "spinfit.predict/1", "model": self.model, "trained_on": self.trained_on, "members": self.members,
            "candidates": self.predictions.iter().map(|(id, p)| json!({"id": id,
                "rate": {"value": p.rate, "stderr": p.rate_sd, "unit": "ps^-1"},
                "tau": p.lifetime().map(|(t, e)| json!({"value": t, "stderr": e, "unit": "ps"})),
                "unphysical": p.rate <= 0.0,
                "out_of_range": p.out_of_range.iter().map(|(f, v, lo, hi)| json!({"feature": f, "value": v, "min": lo, "max": hi})).collect::<Vec<_>>(),
                "text": p.text()})).collect::<Vec<_>>(),
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{} trained on {} rows; uncertainty = sd over {} bootstrap members\n",
            self.model, self.trained_on, self.members
        );
        for (k, (id, p)) in self.predictions.iter().enumerate() {
            let _ = writeln!(s, "{:>3}. {:30} {}", k + 1, id, p.text());
        }
        s
    }

    /// Bar chart of the rates with their sd, the last candidate at the top.
    pub fn figure(&self, path: &Path) -> Result<()> {
        let (labels, (values, err)): (Vec<String>, (Vec<f64>, Vec<f64>)) = self
            .predictions
            .iter()
            .rev()
            .map(|(id, p)| (id.clone(), (p.rate, p.rate_sd)))
            .unzip();
        crate::plot::draw_bars_with_errors(
            path,
            &format!("predicted spin relaxation rate: {}", self.model),
            "rate 1/tau (ps^-1), bars: bootstrap sd",
            &labels,
            &values,
            &err,
        )
    }
}
