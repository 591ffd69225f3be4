//! `spinfit ml explain DATA|MODEL.json [--plot BARS] [--beeswarm F]`

use super::ModelData;
use crate::cli::{EXIT_OK, progress};
use crate::report::ml::ShapReport;
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
    let (name, d, f) = a.m.source()?.explainable()?;
    let n_bg = a.background.unwrap_or(crate::ml::shap::DEFAULT_BACKGROUND);
    let bg = crate::ml::shap::background(&d.x, Some(n_bg), a.background_seed)?;
    let bar = progress(d.y.len(), "rows explained");
    let t0 = std::time::Instant::now();
    let e = crate::ml::shap::explain(f.as_ref(), &d.x, &bg, &|| bar.inc(1))?;
    let seconds = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let report = ShapReport {
        model: &name,
        data: &d,
        explanation: &e,
        background_rows: bg.nrows(),
        background_seed: a.background_seed,
        seconds,
    };
    if let Some(p) = &a.csv {
        crate::io_util::write_atomic(p, &report.to_csv())?;
        eprintln!("wrote {}", p.display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    if let Some(p) = &a.plot {
        report.bars_figure(p)?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &a.beeswarm {
        report.beeswarm_figure(p)?;
        eprintln!("wrote {}", p.display());
    }
    Ok(EXIT_OK)
}
