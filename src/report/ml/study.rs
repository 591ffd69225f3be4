//! Reports of the studies: the learning curve, and the paper's protocols
//! and grid search reproduced on its sheet (`spinfit.reproduce/3`).

use crate::error::Result;
use crate::ml::curve::CurvePoint;
use crate::ml::reproduce::{GridSearch, PAPER_8, Study};
use crate::plot::{Corner, Curve, Points, XyFigure, draw_xy};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::Path;

/// Held-out and training R2 against training rows.
pub struct CurveReport<'a> {
    pub model: &'a str,
    pub repeats: usize,
    pub points: &'a [CurvePoint],
}

impl CurveReport<'_> {
    pub fn to_json(&self) -> Value {
        json!({"schema": "spinfit.learning_curve/1", "model": self.model, "repeats": self.repeats, "points": self.points})
    }

    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}: R2 of the rate vs training rows ({} random splits each; test = the other rows; medians)\n",
            self.model, self.repeats
        );
        for p in self.points {
            let _ = writeln!(
                s,
                "  {:>3} rows: held-out median {:7.3} (half IQR {:.3})   training median {:6.3}",
                p.train_rows, p.held_out_r2_median, p.held_out_r2_half_iqr, p.in_sample_r2_median
            );
        }
        s
    }

    pub fn figure(&self, path: &Path) -> Result<()> {
        let x: Vec<f64> = self.points.iter().map(|p| p.train_rows as f64).collect();
        draw_xy(
            path,
            &XyFigure {
                legend: Corner::Auto,
                synthetic: false,
                title: format!("learning curve: {}", self.model),
                x_label: "training rows".into(),
                y_label: "R2 of the rate (dimensionless)".into(),
                points: vec![Points {
                    label: "held-out (median, bars: half IQR over splits)".into(),
                    x: x.clone(),
                    y: self.points.iter().map(|p| p.held_out_r2_median).collect(),
                    err: self.points.iter().map(|p| p.held_out_r2_half_iqr).collect(),
                    color: (40, 90, 200),
                    hollow: false,
                }],
                curves: vec![Curve {
                    label: "training rows (in-sample, median)".into(),
                    x,
                    y: self.points.iter().map(|p| p.in_sample_r2_median).collect(),
                    color: (210, 50, 40),
                    dashed: true,
                }],
            },
        )
    }
}

/// The paper's study reproduced.
pub struct StudyReport<'a>(pub &'a Study);

fn f3(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |x| format!("{x:.3}"))
}

impl StudyReport<'_> {
    /// JSON document of schema `spinfit.reproduce/3`.
    pub fn to_json(&self) -> Value {
        let s = self.0;
        json!({"schema": "spinfit.reproduce/3", "features": PAPER_8, "protocols": s.protocols,
               "protocol_seconds": s.protocol_seconds, "paper_grid_search": s.grid})
    }

    pub fn to_text(&self) -> String {
        let (st, nested) = (self.0, self.0.nested);
        let mut s = String::new();
        let _ = writeln!(
            s,
            "Chem. Sci. 2025 protocols on its own sheet, 8 path-B descriptors; R2 of the rate (ps^-1)"
        );
        let _ = writeln!(
            s,
            "{:44} {:>5} {:>6} {:>7} {:>10} {:>9}{}",
            "protocol",
            "rows",
            "model",
            "paper",
            "in-sample",
            "held-out",
            if nested { "  nested (tuned)" } else { "" }
        );
        for r in &st.protocols {
            let _ = writeln!(
                s,
                "{:44} {:>5} {:>6} {:>7} {:>10} {:>9}{}",
                r.protocol,
                r.rows,
                r.model,
                r.paper_r2.map_or("-".to_string(), |x| format!("{x:.2}")),
                f3(Some(r.in_sample_r2)),
                f3(Some(r.held_out_r2)),
                if nested {
                    format!("  {:>15}", f3(r.nested_tuned_held_out_r2))
                } else {
                    String::new()
                }
            );
        }
        let _ = writeln!(
            s,
            "in-sample: trained and scored on the same rows (what the paper's script reports as LOOCV R2);"
        );
        let _ = writeln!(
            s,
            "held-out: every prediction from a model that did not see the row (default settings; --nested: the ANN tuned inside each training set)."
        );
        let _ = writeln!(
            s,
            "Fixed seeds: reproducible run to run. Wall time {:.1} s.",
            st.protocol_seconds
        );
        if let Some(g) = &st.grid {
            grid_text(&mut s, g);
        }
        s
    }
}

fn grid_text(s: &mut String, g: &GridSearch) {
    let _ = writeln!(
        s,
        "\nThe paper's grid search: MLP over {} settings ({}), leave-one-out MSE on all {} rows, {} descriptors",
        g.settings,
        g.grid,
        g.rows,
        g.features.len()
    );
    let _ = writeln!(
        s,
        "  best setting: {} (LOO MSE {:.4})",
        g.best, g.best_loo_mse
    );
    let _ = writeln!(
        s,
        "  in-sample R2 of the refitted best model: {:.3}   (the paper's figure, 0.99: the model saw these rows)",
        g.in_sample_r2
    );
    let _ = writeln!(
        s,
        "  LOO R2 of the best setting:              {:.3}   (optimistic: the setting was chosen by this score)",
        g.selected_loo_r2
    );
    let _ = writeln!(s, "  search wall time {:.1} s", g.search_seconds);
    match (g.nested_r2, g.nested_inner_folds) {
        (Some(r2), Some(k)) => {
            let _ = writeln!(
                s,
                "  nested held-out R2:                      {r2:.3}   (the search run inside every LOO training set, {k}-fold inner CV; wall time {:.1} s)",
                g.nested_seconds.unwrap_or(f64::NAN)
            );
            let top: Vec<String> = g
                .nested_choices
                .iter()
                .take(3)
                .map(|(s, c)| format!("{s} x{c}"))
                .collect();
            let _ = writeln!(s, "  chosen in the outer folds: {}", top.join("; "));
        }
        _ => {
            let _ = writeln!(
                s,
                "  (--nested adds the held-out figure of the whole search)"
            );
        }
    }
    let _ = writeln!(
        s,
        "  The paper trains by adam (5000 iterations); here L-BFGS, scikit-learn's other solver."
    );
}
