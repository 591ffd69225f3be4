//! `spinfit ml cv DATA --model M --cv loo|kfold:K|split:... [--tune] [--seeds N]`

use super::ModelData;
use crate::cli::{EXIT_OK, progress};
use crate::ml::cv::{Scheme, over_seeds, validate_full};
use crate::ml::tune::select_on_all_rows;
use crate::ml::{ModelSpec, Regressor};
use crate::report::ml::{CvReport, Tuning};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct CvArgs {
    #[command(flatten)]
    pub m: ModelData,
    /// loo, kfold:K, kfold:KxR (R repeats), split:N (first N rows train),
    /// split:rows=A-B (data rows A-B of the file train), split:COLUMN=VALUE,
    /// groups:COLUMN (leave one group out), groupkfold:K:COLUMN (GroupKFold).
    #[arg(long, default_value = "loo")]
    pub cv: String,
    /// Seed of the k-fold or shuffle-split shuffle (default 42).
    #[arg(long)]
    pub cv_seed: Option<u64>,
    /// Skip the fit on all rows and its (optimistic) in-sample score.
    #[arg(long)]
    pub no_refit: bool,
    /// With tuning, also the optimistic figure: settings chosen by their
    /// score on all rows and that same score reported.
    #[arg(long)]
    pub optimistic: bool,
    #[command(flatten)]
    pub t: super::TuneArgs,
    /// Repeat the validation with N seeds (model and shuffles) and report
    /// the spread of the held-out R2.
    #[arg(long)]
    pub seeds: Option<u64>,
    #[arg(long)]
    pub json: bool,
    /// CSV of the held-out predictions: row, id, fold, measured, prediction.
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<std::path::PathBuf>,
    /// Parity plot of held-out predictions against measured values (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    /// Histogram of the held-out residuals (.png or .svg).
    #[arg(long)]
    pub residuals: Option<PathBuf>,
}

/// The model validated: the spec itself, or the spec tuned over its grid.
fn regressor(spec: &ModelSpec, a: &CvArgs, seed: u64) -> crate::Result<Box<dyn Regressor>> {
    Ok(if a.t.tuning() {
        let grid = a.t.grid_of(&spec.with_seed(seed))?;
        Box::new(a.t.tuned(grid, seed)?)
    } else {
        Box::new(spec.with_seed(seed))
    })
}

pub fn run(a: CvArgs) -> anyhow::Result<i32> {
    a.t.scoring.parse::<crate::ml::metrics::Scoring>()?;
    let mut scheme: Scheme = a.cv.parse()?;
    if let Some(seed) = a.cv_seed {
        if !matches!(scheme, Scheme::KFold { .. } | Scheme::Shuffle { .. }) {
            anyhow::bail!(
                "--cv-seed: only k-fold and shuffle splits are shuffled (--cv kfold:K or shuffle:N:F)"
            );
        }
        scheme = scheme.with_seed(seed);
    }
    let (spec, d) = a.m.load()?;
    let n = d.y.len();
    let model = regressor(&spec, &a, spec.seed())?;
    let bar = progress(scheme.fits(n) - usize::from(a.no_refit), "model fits");
    let t0 = std::time::Instant::now();
    let r = validate_full(
        model.as_ref(),
        &d,
        &scheme,
        a.t.log_target,
        !a.no_refit,
        &|| bar.inc(1),
    )?;
    let seconds = t0.elapsed().as_secs_f64();
    bar.finish_and_clear();
    if a.optimistic && !a.t.tuning() {
        anyhow::bail!("--optimistic: the optimistic figure is of tuning (--tune or --grid)");
    }
    // nested CV's counterpart: settings chosen by their score on all rows
    let optimistic = if a.optimistic {
        let grid = a.t.grid_of(&spec)?;
        let bar = progress(
            grid.len() * scheme.fits(n),
            "model fits (tuning on all rows)",
        );
        let (best, all) = select_on_all_rows(
            &grid,
            &d,
            &scheme,
            a.t.log_target,
            a.t.scoring.parse()?,
            &|| bar.inc(1),
        )?;
        bar.finish_and_clear();
        Some((grid[best].name(), all[best].held_out))
    } else {
        None
    };
    let choices = model.choices();
    let spread = match a.seeds {
        Some(k) if k >= 2 => {
            let bar = progress(k as usize * scheme.fits(n), "model fits over seeds");
            let make = |s: u64| regressor(&spec, &a, s);
            let s = over_seeds(
                &make,
                &d,
                &scheme,
                a.t.log_target,
                &(0..k).collect::<Vec<u64>>(),
                &|| bar.inc(1),
            )?;
            bar.finish_and_clear();
            Some(s)
        }
        Some(_) => anyhow::bail!("--seeds: at least 2 for a spread"),
        None => None,
    };
    let report = CvReport {
        data: &d,
        result: &r,
        seconds,
        tuning: a.t.tuning().then_some(Tuning {
            inner_folds: a.t.inner_folds,
            chosen: choices,
            on_all_rows: optimistic,
        }),
        seeds: spread,
    };
    if let Some(p) = &a.csv {
        crate::io_util::write_atomic(p, &report.predictions_csv())?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &a.plot {
        report.parity_figure(p)?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &a.residuals {
        report.residual_figure(p)?;
        eprintln!("wrote {}", p.display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(EXIT_OK)
}
