//! `spinfit ml train DATA --model M [--tune] [--log-target] --out MODEL.json`

use super::ModelData;
use crate::cli::{EXIT_OK, progress};
use crate::ml::Regressor;
use crate::ml::saved::SavedModel;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub m: ModelData,
    #[command(flatten)]
    pub t: super::TuneArgs,
    /// The saved model (spinfit.model/1 JSON).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: TrainArgs) -> anyhow::Result<i32> {
    a.t.scoring.parse::<crate::ml::metrics::Scoring>()?;
    let (mut spec, d) = a.m.load()?;
    if a.t.tuning() {
        let t = a.t.tuned(a.t.grid_of(&spec)?, 1)?;
        let y = if a.t.log_target {
            d.y.map(f64::ln)
        } else {
            d.y.clone()
        };
        let bar = progress(1, "tuning");
        let (best, mse) = t.choose(&d.x, &y)?;
        bar.finish_and_clear();
        println!(
            "inner {}-fold CV {}{} of each setting:",
            a.t.inner_folds,
            t.scoring.name(),
            if a.t.log_target {
                " (of ln target)"
            } else {
                ""
            }
        );
        for (m, e) in t.grid.iter().zip(&mse) {
            println!("  {e:10.4}  {}", m.name());
        }
        spec = t.grid[best].clone();
    }
    let m = SavedModel::train(&spec, &d, a.t.log_target, &a.m.data)?;
    m.save(&a.out)?;
    println!(
        "{} trained on {} rows ({} features: {}), target {}{}",
        spec.name(),
        d.y.len(),
        d.features.len(),
        d.features.join(", "),
        d.target,
        if a.t.log_target {
            " (learned as ln)"
        } else {
            ""
        }
    );
    println!("wrote {} ({})", a.out.display(), crate::ml::saved::SCHEMA);
    Ok(EXIT_OK)
}
