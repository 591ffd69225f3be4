//! `spinfit ml train DATA --model M [--tune] [--log-target] --out MODEL.json`

use super::ModelData;
use crate::cli::{EXIT_OK, progress};
use crate::ml::Regressor;
use crate::ml::saved::SavedModel;
use crate::ml::tune::Tuned;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub m: ModelData,
    /// Learn ln(target); predictions are turned back with exp.
    #[arg(long)]
    pub log_target: bool,
    /// Choose the settings from the model's grid by k-fold CV on the
    /// training rows first (the score of that choice is not a held-out
    /// estimate: use `ml cv --tune` for that).
    #[arg(long)]
    pub tune: bool,
    /// Inner folds for --tune.
    #[arg(long, default_value_t = 5)]
    pub inner_folds: usize,
    /// The saved model (spinfit.model/1 JSON).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: TrainArgs) -> anyhow::Result<i32> {
    let (mut spec, d) = a.m.load()?;
    if a.tune {
        let t = Tuned::new(spec.grid(), a.inner_folds, 1)?;
        let y = if a.log_target {
            d.y.map(f64::ln)
        } else {
            d.y.clone()
        };
        let bar = progress(1, "tuning");
        let mse = t.inner_mse(&d.x, &y)?;
        bar.finish_and_clear();
        println!(
            "inner {}-fold CV MSE{} of each setting:",
            a.inner_folds,
            if a.log_target { " (of ln target)" } else { "" }
        );
        for (m, e) in t.grid.iter().zip(&mse) {
            println!("  {e:10.4}  {}", m.name());
        }
        let best = mse
            .iter()
            .enumerate()
            .filter(|x| x.1.is_finite())
            .min_by(|x, y| x.1.total_cmp(y.1))
            .map_or(0, |x| x.0);
        spec = t.grid[best].clone();
    }
    let m = SavedModel::train(&spec, &d, a.log_target, &a.m.data)?;
    m.save(&a.out)?;
    println!(
        "{} trained on {} rows ({} features: {}), target {}{}",
        spec.name(),
        d.y.len(),
        d.features.len(),
        d.features.join(", "),
        d.target,
        if a.log_target { " (learned as ln)" } else { "" }
    );
    println!("wrote {} ({})", a.out.display(), crate::ml::saved::SCHEMA);
    Ok(EXIT_OK)
}
