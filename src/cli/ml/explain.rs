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
    /// Background rows: a sample of N training rows drawn with
    /// --background-seed (default: all rows up to 100, else 100 sampled).
    #[arg(long, value_name = "N")]
    pub background: Option<usize>,
    #[arg(long, default_value_t = 0)]
    pub background_seed: u64,
    /// Every row's SHAP values as CSV (id, then one column per feature).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
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
    let n_bg = a.background.unwrap_or(crate::ml::shap::DEFAULT_BACKGROUND);
    let bg = crate::ml::shap::background(&d.x, Some(n_bg), a.background_seed)?;
    let bg_text = if bg.nrows() < d.x.nrows() {
        format!(
            "background = {} of {} rows (seed {})",
            bg.nrows(),
            d.x.nrows(),
            a.background_seed
        )
    } else {
        "background = all rows".to_string()
    };
    let bar = progress(d.y.len(), "rows explained");
    let t0 = std::time::Instant::now();
    let e = crate::ml::shap::explain(f.as_ref(), &d.x, &bg, &|| bar.inc(1))?;
    let seconds = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let (phi, base) = (e.phi, e.base);
    if let Some(p) = &a.csv {
        crate::io_util::write_atomic(p, &crate::ml::shap::to_csv(&d.ids, &d.features, &phi))?;
        eprintln!("wrote {}", p.display());
    }
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
                "method": e.method.describe(), "background_rows": bg.nrows(), "background_seed": a.background_seed, "explain_seconds": seconds,
                "features": d.features,
                "mean_abs_shap": rank.iter().map(|(n, v)| serde_json::json!({"feature": n, "value": v})).collect::<Vec<_>>(),
                "rows": d.ids.iter().enumerate().map(|(r, id)| serde_json::json!({"id": id, "shap": phi.row(r).iter().copied().collect::<Vec<f64>>()})).collect::<Vec<_>>(),
            }))?
        );
    } else {
        println!(
            "exact Shapley values ({}): {} trained on all {} rows, {bg_text}, base value {:.4}",
            e.method.describe(),
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
