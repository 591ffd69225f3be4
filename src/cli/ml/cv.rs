//! `spinfit ml cv DATA --model M --cv loo|kfold:K|split:... [--tune] [--seeds N]`

use super::ModelData;
use crate::cli::{EXIT_OK, progress};
use crate::ml::cv::{CvResult, Scheme, SeedSpread, over_seeds, validate_full};
use crate::ml::metrics::Metrics;
use crate::ml::tune::select_on_all_rows;
use crate::ml::{Data, ModelSpec, Regressor};
use clap::Args;
use serde_json::json;
use std::path::{Path, PathBuf};

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

fn metrics_json(x: &Metrics, kind: &str) -> Vec<serde_json::Value> {
    [
        ("r2", x.r2),
        ("mse", x.mse),
        ("rmse", x.rmse),
        ("mae", x.mae),
    ]
    .into_iter()
    .map(|(n, v)| json!({"name": n, "value": v, "kind": kind}))
    .collect()
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
    if let Some(p) = &a.csv {
        crate::io_util::write_atomic(p, &predictions_csv(&d, &r))?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &a.plot {
        parity(p, &d, &r)?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &a.residuals {
        residual_histogram(p, &d, &r)?;
        eprintln!("wrote {}", p.display());
    }
    if a.json {
        let mut metrics = metrics_json(&r.held_out, "held-out");
        if let Some(m) = &r.in_sample {
            metrics.extend(metrics_json(m, "in-sample"));
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "schema": "spinfit.cv/1", "model": r.model, "scheme": r.scheme, "target": d.target, "features": d.features,
                "log_target": r.log_target, "rows": n, "rows_dropped": d.dropped,
                "metrics": metrics, "validation_seconds": seconds,
                "held_out_r2_sd_over_repeats": r.held_out_r2_sd,
                "folds": r.per_fold.iter().enumerate().map(|(i, m)| json!({"fold": i + 1, "rows": m.n, "r2": m.r2, "mse": m.mse, "mae": m.mae})).collect::<Vec<_>>(),
                "tuning": a.t.tuning().then(|| json!({
                    "nested": true, "inner_folds": a.t.inner_folds,
                    "chosen_settings": choices.iter().map(|(s, k)| json!({"model": s, "times": k})).collect::<Vec<_>>(),
                    "tuned_on_all_rows": optimistic.as_ref().map(|(s, m)| json!({"model": s, "metrics": metrics_json(m, "selected-on-the-same-rows")})),
                })),
                "seeds": spread,
                "predictions": d.ids.iter().zip(d.y.iter()).zip(&r.predictions).map(|((id, y), p)| json!({"id": id, "measured": y, "held_out_prediction": if p.is_finite() { json!(p) } else { serde_json::Value::Null }})).collect::<Vec<_>>(),
            }))?
        );
    } else {
        print_text(&a, &d, &r, optimistic.as_ref(), &choices, spread.as_ref());
    }
    Ok(EXIT_OK)
}

/// The held-out predictions as CSV (row = data row of the file).
fn predictions_csv(d: &Data, r: &CvResult) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(vec![]);
    let _ = w.write_record(["row", "id", "fold", "measured", "held_out_prediction"]);
    for i in 0..d.y.len() {
        let p = r.predictions[i];
        let _ = w.write_record([
            d.lines[i].to_string(),
            d.ids[i].clone(),
            r.fold_of[i].map_or(String::new(), |f| f.to_string()),
            format!("{}", d.y[i]),
            if p.is_finite() {
                format!("{p}")
            } else {
                String::new()
            },
        ]);
    }
    w.into_inner().unwrap_or_default()
}

fn print_text(
    a: &CvArgs,
    d: &Data,
    r: &CvResult,
    optimistic: Option<&(String, Metrics)>,
    choices: &[(String, usize)],
    spread: Option<&SeedSpread>,
) {
    println!(
        "{} on {} rows, {} features ({}), target {}{}",
        r.model,
        d.y.len(),
        d.features.len(),
        d.features.join(", "),
        d.target,
        if r.log_target { " (learned as ln)" } else { "" }
    );
    if !d.dropped.is_empty() {
        println!(
            "  rows left out for missing values: {}",
            d.dropped.join(", ")
        );
    }
    println!("  {}", r.scheme);
    let sd = r
        .held_out_r2_sd
        .map_or(String::new(), |s| format!(" (sd over repeats {s:.3})"));
    let label = if a.t.tuning() {
        "held-out (nested)"
    } else {
        "held-out"
    };
    println!(
        "  {label}:  R2 = {:.3}{sd}, MSE = {:.4}, RMSE = {:.4}, MAE = {:.4}",
        r.held_out.r2, r.held_out.mse, r.held_out.rmse, r.held_out.mae
    );
    if !r.per_fold.is_empty() {
        let r2: Vec<String> = r
            .per_fold
            .iter()
            .map(|m| format!("{:.3} ({} rows)", m.r2, m.n))
            .collect();
        println!("  held-out R2 per fold: {}", r2.join(", "));
    }
    if let Some((name, m)) = optimistic {
        println!(
            "  tuned on all rows: R2 = {:.3}, MSE = {:.4}   (optimistic: settings chosen by this same score; {name})",
            m.r2, m.mse
        );
    }
    if !choices.is_empty() {
        println!("  settings chosen by the inner CV (times):");
        for (s, k) in choices {
            println!("    {k:>3} x {s}");
        }
    }
    match &r.in_sample {
        Some(m) => println!(
            "  in-sample: R2 = {:.3}, MSE = {:.4}, RMSE = {:.4}, MAE = {:.4}   (optimistic: the model saw these rows)",
            m.r2, m.mse, m.rmse, m.mae
        ),
        None => println!("  in-sample: not computed (--no-refit)"),
    }
    if let Some(s) = spread {
        println!(
            "  held-out R2 over {} seeds: mean {:.3}, sd {:.3}, range {:.3} to {:.3}",
            s.seeds.len(),
            s.mean,
            s.sd,
            s.min,
            s.max
        );
    }
}

/// Held-out predictions against measured values, with the y = x line.
fn parity(path: &Path, d: &Data, r: &CvResult) -> anyhow::Result<()> {
    use crate::plot::{Corner, Curve, Points, XyFigure, draw_xy};
    let (x, y): (Vec<f64>, Vec<f64>) =
        d.y.iter()
            .zip(&r.predictions)
            .filter(|(_, p)| p.is_finite())
            .map(|(m, p)| (*m, *p))
            .unzip();
    let hi = x.iter().chain(&y).fold(0.0f64, |a, b| a.max(*b)) * 1.05;
    let lo = x.iter().chain(&y).fold(0.0f64, |a, b| a.min(*b)).min(0.0);
    draw_xy(
        path,
        &XyFigure {
            legend: Corner::UpperLeft,
            title: format!(
                "{}: {} (held-out R2 = {:.3})",
                r.model, r.scheme, r.held_out.r2
            ),
            x_label: format!("measured {}", d.target),
            y_label: format!("held-out prediction of {}", d.target),
            points: vec![Points {
                label: "held-out predictions".into(),
                err: vec![0.0; x.len()],
                x,
                y,
                color: (40, 90, 200),
                hollow: false,
            }],
            curves: vec![Curve {
                label: "prediction = measurement".into(),
                x: vec![lo, hi],
                y: vec![lo, hi],
                color: (120, 120, 120),
                dashed: true,
            }],
        },
    )?;
    Ok(())
}

/// Held-out residuals (prediction - measurement) as a histogram.
fn residual_histogram(path: &Path, d: &Data, r: &CvResult) -> anyhow::Result<()> {
    let res: Vec<f64> =
        d.y.iter()
            .zip(&r.predictions)
            .filter(|(_, p)| p.is_finite())
            .map(|(m, p)| p - m)
            .collect();
    let bins = ((res.len() as f64).sqrt().ceil() as usize).clamp(5, 30);
    crate::plot::draw_histogram(
        path,
        &format!(
            "held-out residuals: {} ({} rows, RMSE {:.3})",
            r.model,
            res.len(),
            r.held_out.rmse
        ),
        &format!("held-out prediction - measured {}", d.target),
        &res,
        bins,
    )?;
    Ok(())
}
