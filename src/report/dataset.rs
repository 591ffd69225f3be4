//! Writers of the dataset's descriptor correlation: Pearson r between every
//! pair of the ten descriptors, r = cov(a, b) / (sd(a) sd(b)) over the rows
//! that have both, the pairs above the threshold and which of each pair was
//! dropped; as text, JSON and a heatmap with its colour bar.

use crate::dataset::DESCRIPTORS;
use crate::dataset::correlation::DroppedPair;
use crate::error::Result;
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// A correlation analysis of the descriptors.
pub struct CorrelationReport<'a> {
    pub r: &'a [Vec<f64>],
    pub threshold: f64,
    pub kept: &'a [&'static str],
    pub dropped: &'a [DroppedPair],
}

fn labels() -> Vec<&'static str> {
    DESCRIPTORS.iter().map(|x| x.0).collect()
}

impl CorrelationReport<'_> {
    pub fn to_json(&self) -> Value {
        json!({"descriptors": labels(), "pearson_r": self.r, "threshold": self.threshold,
               "dropped": self.dropped, "kept": self.kept})
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for p in self.dropped {
            let _ = writeln!(
                s,
                "|r({}, {})| = {:.3} > {}: dropped {}",
                p.a,
                p.b,
                p.r.abs(),
                self.threshold,
                p.dropped
            );
        }
        let _ = writeln!(
            s,
            "kept {} descriptors: {}",
            self.kept.len(),
            self.kept.join(", ")
        );
        s
    }

    /// The matrix as a heatmap, r printed in every cell, with a colour bar.
    pub fn heatmap(&self, path: &Path) -> Result<()> {
        let short = [
            "mu", "MW", "chi", "alpha", "r_o", "t", "HOMO", "LUMO", "gap", "n",
        ];
        crate::plot::draw_heatmap(
            path,
            "Pearson correlation of the descriptors",
            &labels(),
            &short,
            self.r,
        )
    }
}
