//! `spinfit ml reproduce`: the Chem. Sci. paper's protocols on its sheet.

use crate::cli::EXIT_OK;
use crate::ml::Regressor;
use crate::ml::cv::validate;
use clap::Args;
use std::path::PathBuf;

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

pub fn run(a: ReproduceArgs) -> anyhow::Result<i32> {
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
        let m: crate::ml::ModelSpec = model.parse()?;
        let r = validate(&m, &d, &cv.parse()?, false)?;
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
