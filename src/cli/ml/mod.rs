//! `spinfit ml cv DATA --target COL --model ols --cv loo|kfold:K|split:N`

use super::EXIT_OK;
use crate::ml::Regressor;
use crate::ml::cv::{Scheme, validate};
use crate::ml::data::load;
use crate::ml::ols::Ols;
use anyhow::bail;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum MlCommand {
    /// Cross-validate a model: held-out and in-sample scores, labelled.
    Cv(CvArgs),
    /// Exact Shapley values of a model trained on all rows: mean |SHAP| ranking.
    Explain(ExplainArgs),
    /// The Chem. Sci. paper's protocols on its sheet: its figure beside ours.
    Reproduce(ReproduceArgs),
    /// Rates of new compositions (a CSV of descriptor rows) with uncertainties.
    Predict(PredictArgs),
    /// Held-out and training R2 against the number of training rows.
    LearningCurve(CurveArgs),
    /// Predict and rank candidates, slowest spin relaxation (longest lifetime) first.
    Screen(PredictArgs),
}

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

fn curve(a: CurveArgs) -> anyhow::Result<i32> {
    use crate::plot::{Corner, Curve, Points, XyFigure, draw_xy};
    let (model, d) = a.m.load()?;
    let n = d.y.len();
    let sizes: Vec<usize> = (1..=8)
        .map(|k| (n * k / 10).max(4))
        .filter(|&k| k < n)
        .collect();
    let pts = crate::ml::cv::learning_curve(model.as_ref(), &d, &sizes, a.repeats, 5)?;
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema": "spinfit.learning_curve/1", "model": model.name(), "repeats": a.repeats, "points": pts})
            )?
        );
    } else {
        println!(
            "{}: R2 of the rate vs training rows ({} random splits each; test = the other rows; medians)",
            model.name(),
            a.repeats
        );
        for p in &pts {
            println!(
                "  {:>3} rows: held-out median {:7.3} (half IQR {:.3})   training median {:6.3}",
                p.train_rows, p.held_out_r2_median, p.held_out_r2_half_iqr, p.in_sample_r2_median
            );
        }
    }
    if let Some(path) = &a.plot {
        let x: Vec<f64> = pts.iter().map(|p| p.train_rows as f64).collect();
        draw_xy(
            path,
            &XyFigure {
                legend: Corner::LowerRight,
                title: format!("learning curve: {}", model.name()),
                x_label: "training rows".into(),
                y_label: "R2 of the rate".into(),
                points: vec![Points {
                    label: "held-out (median, bars: half IQR over splits)".into(),
                    x: x.clone(),
                    y: pts.iter().map(|p| p.held_out_r2_median).collect(),
                    err: pts.iter().map(|p| p.held_out_r2_half_iqr).collect(),
                    color: (40, 90, 200),
                    hollow: false,
                }],
                curves: vec![Curve {
                    label: "training rows (in-sample, median)".into(),
                    x,
                    y: pts.iter().map(|p| p.in_sample_r2_median).collect(),
                    color: (210, 50, 40),
                    dashed: true,
                }],
            },
        )?;
        eprintln!("wrote {}", path.display());
    }
    Ok(EXIT_OK)
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub m: ModelData,
    /// Candidates: a CSV with the feature columns (and a compound/sample column).
    #[arg(long)]
    pub candidates: PathBuf,
    /// Bootstrap ensemble members for the uncertainty.
    #[arg(long, default_value_t = 20)]
    pub members: usize,
    #[arg(long)]
    pub json: bool,
}

fn predict(a: PredictArgs, rank: bool) -> anyhow::Result<i32> {
    let (model, d) = a.m.load()?;
    let (ids, cx) = crate::ml::data::load_candidates(&a.candidates, &d.features)?;
    let mut preds: Vec<(String, crate::ml::ensemble::Prediction)> = ids
        .into_iter()
        .zip(crate::ml::ensemble::predict(
            model.as_ref(),
            &d,
            &cx,
            a.members,
            11,
        )?)
        .collect();
    if rank {
        preds.sort_by(|x, y| x.1.rate.total_cmp(&y.1.rate));
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": "spinfit.predict/1", "model": model.name(), "trained_on": d.y.len(), "members": a.members,
                "candidates": preds.iter().map(|(id, p)| serde_json::json!({"id": id, "rate": {"value": p.rate, "stderr": p.rate_sd, "unit": "ps^-1"},
                    "tau": {"value": 1.0 / p.rate, "stderr": p.rate_sd / (p.rate * p.rate), "unit": "ps"},
                    "out_of_range": p.out_of_range.iter().map(|(f, v, lo, hi)| serde_json::json!({"feature": f, "value": v, "min": lo, "max": hi})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            }))?
        );
    } else {
        println!(
            "{} trained on {} rows; uncertainty = spread over {} bootstrap members",
            model.name(),
            d.y.len(),
            a.members
        );
        for (k, (id, p)) in preds.iter().enumerate() {
            let warn = if p.out_of_range.is_empty() {
                String::new()
            } else {
                format!(
                    "  WARNING outside the training range: {}",
                    p.out_of_range
                        .iter()
                        .map(|(f, v, lo, hi)| format!("{f} = {v} not in [{lo}, {hi}]"))
                        .collect::<Vec<_>>()
                        .join("; ")
                )
            };
            println!(
                "{:>3}. {:30} rate = {:.4} +/- {:.4} ps^-1 (tau ~ {:.2} ps){warn}",
                k + 1,
                id,
                p.rate,
                p.rate_sd,
                1.0 / p.rate
            );
        }
    }
    Ok(EXIT_OK)
}

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// The paper's sheet (data.xlsx of the SRR repository).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/srr/data.xlsx"))]
    pub sheet: PathBuf,
    #[arg(long)]
    pub json: bool,
}

/// The paper's path-B descriptors after the |r| > 0.9 filter.
const PAPER_8: [&str; 8] = [
    "dipole_moment_D",
    "mw_g_per_mol",
    "electronegativity",
    "polarisability_bohr3",
    "tolerance_factor",
    "e_homo_eV",
    "e_lumo_eV",
    "n_layers",
];

fn reproduce(a: ReproduceArgs) -> anyhow::Result<i32> {
    use anyhow::Context;
    let (ds, _) = crate::dataset::import(&a.sheet, "").with_context(|| {
        format!(
            "the paper's sheet is needed at {} (data/data.xlsx of the SRR repository)",
            a.sheet.display()
        )
    })?;
    // (protocol, rows used, scheme, model, the paper's R2)
    let protocols: [(&str, Option<usize>, &str, &str, f64); 5] = [
        (
            "path B, 38 literature rows, LOOCV",
            Some(38),
            "loo",
            "ann",
            0.94,
        ),
        ("45 train / 7 test", None, "split:45", "ann", 0.95),
        (
            "38 literature train / 14 synthesised test",
            None,
            "split:38",
            "ann",
            0.76,
        ),
        (
            "38 literature train / 14 synthesised test",
            None,
            "split:38",
            "ols",
            0.34,
        ),
        ("all 52, LOOCV", None, "loo", "ann", 0.99),
    ];
    let mut rows = vec![];
    for (name, n, cv, model, paper) in protocols {
        let d = crate::ml::data::Data::from_dataset(&ds, &PAPER_8, n)?;
        let m = model_named(model)?;
        let r = validate(m.as_ref(), &d, &cv.parse()?, false)?;
        rows.push(serde_json::json!({"protocol": name, "rows": d.y.len(), "cv": cv, "model": m.name(),
            "paper_r2": paper, "in_sample_r2": r.in_sample.r2, "held_out_r2": r.held_out.r2, "held_out_mse": r.held_out.mse}));
    }
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema": "spinfit.reproduce/1", "features": PAPER_8, "protocols": rows})
            )?
        );
    } else {
        println!(
            "Chem. Sci. 2025 protocols on its own sheet, 8 path-B descriptors; R2 of the rate (ps^-1)"
        );
        println!(
            "{:44} {:>5} {:>8} {:>10} {:>10} {:>10}",
            "protocol", "rows", "model", "paper", "in-sample", "held-out"
        );
        for r in &rows {
            let model = r["model"].as_str().unwrap_or("");
            let short = if model.starts_with("MLP") {
                "ann"
            } else {
                "ols"
            };
            println!(
                "{:44} {:>5} {:>8} {:>10.2} {:>10.3} {:>10.3}",
                r["protocol"].as_str().unwrap_or(""),
                r["rows"],
                short,
                r["paper_r2"].as_f64().unwrap_or(f64::NAN),
                r["in_sample_r2"].as_f64().unwrap_or(f64::NAN),
                r["held_out_r2"].as_f64().unwrap_or(f64::NAN)
            );
        }
        println!(
            "in-sample: trained and scored on the same rows (what the paper's script reports as LOOCV R2);"
        );
        println!(
            "held-out: every prediction from a model that did not see the row. Fixed seeds: reproducible run to run."
        );
    }
    Ok(EXIT_OK)
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub m: ModelData,
    /// Bar chart of mean |SHAP| (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// Training data and model, shared by the ML subcommands.
#[derive(Debug, Args)]
pub struct ModelData {
    /// A dataset from `spinfit dataset import` or any CSV with a header row.
    pub data: PathBuf,
    #[arg(long, default_value = "rate")]
    pub target: String,
    /// Comma-separated feature columns (default: every descriptor column).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Model: ann (MLP), ols, rf (random forest), gbt (gradient-boosted trees), svr (RBF epsilon-SVR).
    #[arg(long, default_value = "rf")]
    pub model: String,
}

impl ModelData {
    fn load(&self) -> anyhow::Result<(Box<dyn Regressor>, crate::ml::Data)> {
        Ok((
            model_named(&self.model)?,
            load(&self.data, &self.target, self.features.as_deref())?,
        ))
    }
}

#[derive(Debug, Args)]
pub struct CvArgs {
    #[command(flatten)]
    pub m: ModelData,
    /// loo, kfold:K, kfold:KxR (R repeats), split:N (first N rows train).
    #[arg(long, default_value = "loo")]
    pub cv: String,
    /// Learn ln(target); scores are on the target itself.
    #[arg(long)]
    pub log_target: bool,
    #[arg(long)]
    pub json: bool,
    /// Parity plot of held-out predictions against measured values (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// Held-out predictions against measured values, with the y = x line.
fn parity(
    path: &std::path::Path,
    d: &crate::ml::Data,
    r: &crate::ml::cv::CvResult,
) -> anyhow::Result<()> {
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

/// A model by its command-line name.
pub fn model_named(name: &str) -> anyhow::Result<Box<dyn Regressor>> {
    use crate::ml::trees::{Boosted, Forest, Svr};
    Ok(match name {
        "ols" => Box::new(Ols),
        "rf" => Box::new(Forest::default()),
        "gbt" => Box::new(Boosted::default()),
        "svr" => Box::new(Svr::default()),
        "ann" => Box::new(crate::ml::ann::Mlp::default()),
        other => bail!("--model `{other}`: available: ann, ols, rf, gbt, svr"),
    })
}

fn explain(a: ExplainArgs) -> anyhow::Result<i32> {
    let (model, d) = a.m.load()?;
    let f = model.fit(&d.x, &d.y)?;
    // every row is explained against all rows as the background
    let (phi, base) = crate::ml::shap::shap(f.as_ref(), &d.x, &d.x)?;
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
                "schema": "spinfit.shap/1", "model": model.name(), "base_value": base, "target": d.target,
                "mean_abs_shap": rank.iter().map(|(n, v)| serde_json::json!({"feature": n, "value": v})).collect::<Vec<_>>(),
                "rows": d.ids.iter().enumerate().map(|(r, id)| serde_json::json!({"id": id, "shap": phi.row(r).iter().copied().collect::<Vec<f64>>()})).collect::<Vec<_>>(),
            }))?
        );
    } else {
        println!(
            "exact Shapley values: {} trained on all {} rows, background = all rows, base value {:.4}",
            model.name(),
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
            &format!("mean |SHAP|: {}", model.name()),
            &format!("mean |SHAP| ({})", d.target),
            &labels,
            &values,
        )?;
        eprintln!("wrote {}", p.display());
    }
    Ok(EXIT_OK)
}

pub fn run(c: MlCommand) -> anyhow::Result<i32> {
    match c {
        MlCommand::Explain(a) => explain(a),
        MlCommand::Reproduce(a) => reproduce(a),
        MlCommand::Predict(a) => predict(a, false),
        MlCommand::LearningCurve(a) => curve(a),
        MlCommand::Screen(a) => predict(a, true),
        MlCommand::Cv(a) => {
            let scheme: Scheme = a.cv.parse()?;
            let (model, d) = a.m.load()?;
            let r = validate(model.as_ref(), &d, &scheme, a.log_target)?;
            if let Some(p) = &a.plot {
                parity(p, &d, &r)?;
                eprintln!("wrote {}", p.display());
            }
            if a.json {
                let m = |x: &crate::ml::metrics::Metrics, kind: &str| {
                    serde_json::json!([
                        {"name": "r2", "value": x.r2, "kind": kind}, {"name": "mse", "value": x.mse, "kind": kind},
                        {"name": "rmse", "value": x.rmse, "kind": kind}, {"name": "mae", "value": x.mae, "kind": kind}])
                };
                let metrics: Vec<serde_json::Value> =
                    [m(&r.held_out, "held-out"), m(&r.in_sample, "in-sample")]
                        .into_iter()
                        .flat_map(|v| v.as_array().cloned().unwrap_or_default())
                        .collect();
                println!(
                    "{}",
                    serde_json::to_string_pretty(&serde_json::json!({
                        "schema": "spinfit.cv/1", "model": r.model, "scheme": r.scheme, "target": d.target, "features": d.features,
                        "log_target": r.log_target, "rows": d.y.len(), "rows_dropped": d.dropped,
                        "metrics": metrics,
                        "held_out_r2_sd_over_repeats": r.held_out_r2_sd,
                        "predictions": d.ids.iter().zip(d.y.iter()).zip(&r.predictions).map(|((id, y), p)| serde_json::json!({"id": id, "measured": y, "held_out_prediction": if p.is_finite() { serde_json::json!(p) } else { serde_json::Value::Null }})).collect::<Vec<_>>(),
                    }))?
                );
            } else {
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
                println!(
                    "  held-out:  R2 = {:.3}{sd}, MSE = {:.4}, RMSE = {:.4}, MAE = {:.4}",
                    r.held_out.r2, r.held_out.mse, r.held_out.rmse, r.held_out.mae
                );
                println!(
                    "  in-sample: R2 = {:.3}, MSE = {:.4}, RMSE = {:.4}, MAE = {:.4}   (optimistic: the model saw these rows)",
                    r.in_sample.r2, r.in_sample.mse, r.in_sample.rmse, r.in_sample.mae
                );
            }
            Ok(EXIT_OK)
        }
    }
}
