//! `spinfit ml explain DATA|MODEL.json [--plot BARS] [--beeswarm F]`

use super::{ModelData, Source};
use crate::cli::{EXIT_OK, progress};
use crate::ml::Regressor;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub m: ModelData,
    /// Bar chart of mean |SHAP| (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Beeswarm of every row's SHAP values, coloured by feature value (.png or .svg).
    #[arg(long)]
    pub beeswarm: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: ExplainArgs) -> anyhow::Result<i32> {
    let (name, d, f) = match a.m.source()? {
        Source::Data(b) => {
            let (spec, d) = *b;
            let f = spec.fit(&d.x, &d.y)?;
            (spec.name(), d, f)
        }
        Source::Saved(m) => {
            let mut d = m.data();
            if m.log_target {
                // the trained model predicts ln(target): so are its SHAP values
                d.target = format!("ln {}", d.target);
            }
            (m.model.clone(), d, m.predictor()?)
        }
    };
    // every row is explained against all rows as the background
    let bar = progress(d.y.len(), "rows explained");
    let (phi, base) = crate::ml::shap::shap(f.as_ref(), &d.x, &d.x, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let mut rank: Vec<(String, f64)> = d
        .features
        .iter()
        .enumerate()
        .map(|(j, n)| (n.clone(), phi.column(j).abs().mean()))
        .collect();
    rank.sort_by(|a, b| b.1.total_cmp(&a.1));
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": "spinfit.shap/1", "model": name, "base_value": base, "target": d.target,
                "features": d.features,
                "mean_abs_shap": rank.iter().map(|(n, v)| serde_json::json!({"feature": n, "value": v})).collect::<Vec<_>>(),
                "rows": d.ids.iter().enumerate().map(|(r, id)| serde_json::json!({"id": id, "shap": phi.row(r).iter().copied().collect::<Vec<f64>>()})).collect::<Vec<_>>(),
            }))?
        );
    } else {
        println!(
            "exact Shapley values: {} trained on all {} rows, background = all rows, base value {:.4}",
            name,
            d.y.len(),
            base
        );
        for (k, (n, v)) in rank.iter().enumerate() {
            println!(
                "  {:>2}. {:24} mean |SHAP| = {:.4} {}",
                k + 1,
                n,
                v,
                d.target
            );
        }
    }
    if let Some(p) = &a.plot {
        let (labels, values): (Vec<String>, Vec<f64>) = rank.iter().rev().cloned().unzip();
        crate::plot::draw_bars(
            p,
            &format!("mean |SHAP|: {name}"),
            &format!("mean |SHAP| ({})", d.target),
            &labels,
            &values,
        )?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &a.beeswarm {
        crate::plot::draw_beeswarm(
            p,
            &format!("SHAP values: {name} (colour: feature value, blue low, red high)"),
            &format!("SHAP value ({})", d.target),
            &d.features,
            &phi,
            &d.x,
        )?;
        eprintln!("wrote {}", p.display());
    }
    Ok(EXIT_OK)
}
