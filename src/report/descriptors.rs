//! Writers of descriptor rows: what a formula alone gives (MW, chi, n,
//! the tolerance factor t = (r_A + r_X) / (sqrt 2 (r_B + r_X))), and the
//! full rows computed from the molecules, as text, CSV and the
//! `spinfit.descriptors/1` JSON (values keyed by column, units listed).

use crate::dataset::composition::Composition;
use crate::descriptors::{Row, columns};
use crate::ml::ensemble::Prediction;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// The descriptors of a formula by the dataset's rules.
pub struct FormulaReport<'a> {
    pub formula: &'a str,
    pub composition: &'a Composition,
    /// Organic cation radius (A) and the tolerance factor it gives.
    pub radius_a: Option<f64>,
    pub tolerance_factor: Option<f64>,
}

impl FormulaReport<'_> {
    pub fn to_json(&self) -> Value {
        let c = self.composition;
        json!({
            "schema": "spinfit.descriptors/1", "formula": self.formula, "cations": c.cations,
            "mw_g_per_mol": c.mean_mw, "electronegativity": c.mean_chi, "n_layers": c.n_layers,
            "metal": c.metal, "halide": c.halide,
            "organic_radius_A": self.radius_a, "tolerance_factor": self.tolerance_factor,
        })
    }

    pub fn to_text(&self) -> String {
        let c = self.composition;
        let mut s = format!("{}\n", self.formula);
        for x in &c.cations {
            let _ = writeln!(
                s,
                "  cation {:14} x {:<4} {:12} MW {:9.4} g/mol, chi {:.2}",
                x.name, x.count, x.formula, x.mw, x.chi
            );
        }
        let _ = writeln!(
            s,
            "  mw_g_per_mol      = {:.4} g/mol (count-weighted A-site cation mean)",
            c.mean_mw
        );
        let _ = writeln!(
            s,
            "  electronegativity = {:.4} (Pauling, count-weighted)",
            c.mean_chi
        );
        let _ = writeln!(
            s,
            "  n_layers          = {}{}",
            c.n_layers,
            if c.n_layers == 100.0 { " (3-D)" } else { "" }
        );
        let _ = match (self.tolerance_factor, self.radius_a) {
            (Some(t), Some(r)) => writeln!(
                s,
                "  tolerance_factor  = {t:.4} (r_o = {r} A, Shannon r_{} and r_{})",
                c.metal.as_deref().unwrap_or("?"),
                c.halide.as_deref().unwrap_or("?")
            ),
            _ => writeln!(s, "  tolerance_factor: give --radius (organic radius in A)"),
        };
        s
    }
}

/// Rows computed from the molecules, with those that failed and, when a
/// model was given, each row's predicted rate.
pub struct RowsReport<'a> {
    pub rows: &'a [Row],
    pub failed: &'a [(String, String)],
    pub predictions: Option<&'a [Prediction]>,
}

impl RowsReport<'_> {
    /// compound + the ten descriptor columns.
    pub fn to_csv(&self) -> Vec<u8> {
        let mut w = csv::Writer::from_writer(vec![]);
        let mut head = vec!["compound".to_string()];
        head.extend(columns().map(|c| c.0.to_string()));
        let _ = w.write_record(&head);
        for r in self.rows {
            let mut rec = vec![r.name.clone()];
            rec.extend(r.values.iter().map(|v| v.to_string()));
            let _ = w.write_record(&rec);
        }
        w.into_inner().unwrap_or_default()
    }

    pub fn to_json(&self) -> Value {
        json!({
            "schema": "spinfit.descriptors/1",
            "units": columns().map(|(n, u)| json!({"column": n, "unit": u})).collect::<Vec<_>>(),
            "rows": self.rows, "failed": self.failed, "predictions": self.predictions,
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        for (k, r) in self.rows.iter().enumerate() {
            row_text(&mut s, r);
            if let Some(p) = self.predictions.and_then(|p| p.get(k)) {
                let _ = writeln!(s, "  predicted {}", p.text());
            }
        }
        s
    }
}

fn row_text(s: &mut String, r: &Row) {
    let _ = writeln!(s, "{}", r.name);
    for c in &r.cations {
        let conf = c.helper.as_ref().map_or(String::new(), |h| {
            format!(
                "; {} conformer of {} distinct, {:.2} kcal/mol above the lowest",
                h.settings["rule"].as_str().unwrap_or("?"),
                h.distinct_conformers,
                h.conformers[0].mmff_kcal_above_lowest
            )
        });
        let _ = writeln!(
            s,
            "  cation {} x {} ({}{conf})",
            c.smiles, c.count, c.formula
        );
    }
    for (k, (name, unit)) in columns().enumerate() {
        let (lo, hi) = r.spread[k];
        let spread = if lo.is_finite() && hi > lo {
            format!("   (conformers: {lo:.4} to {hi:.4})")
        } else {
            String::new()
        };
        let _ = writeln!(s, "  {name:20} = {:10.4} {unit}{spread}", r.values[k]);
    }
}
