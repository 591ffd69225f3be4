//! `spinfit ml learning-curve DATA --model M [--plot F]`

use super::ModelData;
use crate::cli::EXIT_OK;
use crate::ml::Regressor;
use crate::report::ml::CurveReport;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CurveArgs {
    #[command(flatten)]
    pub m: ModelData,
    /// Random splits per training-set size.
    #[arg(long, default_value_t = 20)]
    pub repeats: usize,
    /// Figure (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: CurveArgs) -> anyhow::Result<i32> {
    let (model, d) = a.m.load()?;
    let sizes = crate::ml::curve::default_sizes(d.y.len());
    let bar = crate::cli::progress(sizes.len() * a.repeats, "random splits");
    let pts = crate::ml::curve::learning_curve(&model, &d, &sizes, a.repeats, 5, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let name = model.name();
    let report = CurveReport {
        model: &name,
        repeats: a.repeats,
        points: &pts,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    if let Some(path) = &a.plot {
        report.figure(path)?;
        eprintln!("wrote {}", path.display());
    }
    Ok(EXIT_OK)
}
