//! `spinfit ml predict|screen DATA|MODEL.json --candidates C.csv [--vary F=a,b]`

use super::ModelData;
use crate::cli::{EXIT_OK, progress};
use crate::ml::data::load_any_candidates;
use crate::ml::ensemble::Prediction;
use crate::report::ml::PredictReport;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub m: ModelData,
    /// Candidates: a CSV with the feature columns (and a compound/sample
    /// column), or with name,cations,metal,halide,layers (cations as
    /// SMILES:count;...) whose descriptors are computed from the molecules.
    #[arg(long)]
    pub candidates: PathBuf,
    #[command(flatten)]
    pub chem: crate::cli::descriptors::ChemArgs,
    /// A grid: every candidate once per listed value of a feature, e.g.
    /// `--vary n_layers=1,2,3,4` (repeat the flag for more features).
    #[arg(long)]
    pub vary: Vec<String>,
    /// Learn ln(target) (when training here; a saved model says itself).
    #[arg(long)]
    pub log_target: bool,
    /// Bootstrap ensemble members for the uncertainty.
    #[arg(long, default_value_t = 20)]
    pub members: usize,
    /// Bar chart of the predicted rates with their uncertainties (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: PredictArgs, rank: bool) -> anyhow::Result<i32> {
    // the model trained on all rows (the saved one when given) gives the
    // rate; the same settings on bootstrap resamples give its uncertainty
    // the model trained on all rows (the saved one when given) gives the
    // rate; the same settings on bootstrap resamples give its uncertainty
    let model = a.m.source()?.trained(a.log_target)?;
    let features = &model.features;
    let bar = std::sync::OnceLock::new();
    let c = load_any_candidates(
        &a.candidates,
        features,
        &a.chem.helper(),
        &a.chem.settings(),
        &|n| bar.get_or_init(|| progress(n, "cations")).inc(1),
    )?;
    if let Some(b) = bar.get() {
        b.finish_and_clear();
    }
    for (name, e) in &c.left_out {
        eprintln!("{name}: left out: {e}");
    }
    let (ids, cx) = (c.ids, c.x);
    let (ids, cx) = crate::ml::data::vary(features, ids, cx, &a.vary)?;
    let bar = progress(a.members, "ensemble members");
    let preds = model.predict_with_uncertainty(&cx, a.members, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let mut preds: Vec<(String, Prediction)> = ids.into_iter().zip(preds).collect();
    if rank {
        preds.sort_by(|x, y| x.1.rate.total_cmp(&y.1.rate));
    }
    let report = PredictReport {
        model: &model.model,
        trained_on: model.training.rows,
        members: a.members,
        predictions: &preds,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    if let Some(p) = &a.plot {
        report.figure(p)?;
        eprintln!("wrote {}", p.display());
    }
    Ok(EXIT_OK)
}
