//! `spinfit ml learning-curve DATA --model M [--plot F]`

use super::ModelData;
use crate::cli::EXIT_OK;
use crate::ml::Regressor;
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
    use crate::plot::{Corner, Curve, Points, XyFigure, draw_xy};
    let (model, d) = a.m.load()?;
    let n = d.y.len();
    let sizes: Vec<usize> = (1..=8)
        .map(|k| (n * k / 10).max(4))
        .filter(|&k| k < n)
        .collect();
    let bar = crate::cli::progress(sizes.len() * a.repeats, "random splits");
    let pts = crate::ml::curve::learning_curve(&model, &d, &sizes, a.repeats, 5, &|| bar.inc(1))?;
    bar.finish_and_clear();
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
                legend: Corner::Auto,
                synthetic: false,
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
