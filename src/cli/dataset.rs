//! `spinfit dataset import|check|append|correlate`

use super::{EXIT_ERROR, EXIT_OK};
use crate::dataset::{self, correlation};
use crate::io_util::sha256_file;
use crate::report::dataset::CorrelationReport;
use anyhow::Context;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum DatasetCommand {
    /// Import an .xlsx or CSV sheet into a dataset (reports what was mapped and dropped).
    Import(ImportArgs),
    /// Missing values, duplicates, identical descriptors with different rates, out-of-range values.
    Check(CheckArgs),
    /// Add a measured lifetime (JSON of `spinfit fit tr --json`) with provenance.
    Append(AppendArgs),
    /// Pearson correlation of the descriptors and the |r| > threshold filter.
    Correlate(CorrelateArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    pub file: PathBuf,
    #[arg(long, default_value = "dataset.csv")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    pub dataset: PathBuf,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AppendArgs {
    pub dataset: PathBuf,
    /// JSON of one TR fit (`spinfit fit tr FILE --json`).
    #[arg(long)]
    pub fit: PathBuf,
    /// Compound whose descriptors (an existing row) the measurement belongs to.
    #[arg(long)]
    pub compound: String,
    /// Date of the measurement (YYYY-MM-DD).
    #[arg(long)]
    pub date: String,
    /// Accept a fit of synthetic (simulated) data; its row is marked SYNTHETIC.
    #[arg(long)]
    pub allow_synthetic: bool,
}

#[derive(Debug, Args)]
pub struct CorrelateArgs {
    pub dataset: PathBuf,
    #[arg(long, default_value_t = 0.9)]
    pub threshold: f64,
    /// Heatmap of the correlation matrix (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(c: DatasetCommand) -> anyhow::Result<i32> {
    match c {
        DatasetCommand::Import(a) => {
            let (d, rep) = dataset::import(&a.file, &sha256_file(&a.file)?)?;
            dataset::write(&a.out, &d)?;
            print!("{rep}");
            println!("wrote {} ({} rows)", a.out.display(), d.records.len());
            Ok(EXIT_OK)
        }
        DatasetCommand::Check(a) => {
            let d = dataset::read(&a.dataset)?;
            let f = dataset::check(&d);
            if a.json {
                println!("{}", serde_json::to_string_pretty(&f)?);
            } else {
                for x in &f {
                    println!("{:20} rows {:?}: {}", x.kind, x.rows, x.message);
                }
                println!("{} rows checked, {} findings", d.records.len(), f.len());
            }
            Ok(if f.is_empty() { EXIT_OK } else { EXIT_ERROR })
        }
        DatasetCommand::Append(a) => {
            let added = dataset::append_fit_file(
                &a.dataset,
                &a.fit,
                &a.compound,
                &a.date,
                a.allow_synthetic,
            )
            .with_context(|| format!("appending {} to {}", a.fit.display(), a.dataset.display()))?;
            println!(
                "{}",
                if added {
                    "appended 1 measurement"
                } else {
                    "already present: nothing appended"
                }
            );
            Ok(EXIT_OK)
        }
        DatasetCommand::Correlate(a) => {
            correlation::check_threshold(a.threshold)?;
            let d = dataset::read(&a.dataset)?;
            let r = correlation::pearson(&d);
            let (kept, pairs) = correlation::filter(&r, a.threshold);
            let report = CorrelationReport {
                r: &r,
                threshold: a.threshold,
                kept: &kept,
                dropped: &pairs,
            };
            if a.json {
                println!("{}", serde_json::to_string_pretty(&report.to_json())?);
            } else {
                print!("{}", report.to_text());
            }
            if let Some(p) = &a.plot {
                report.heatmap(p)?;
                eprintln!("wrote {}", p.display());
            }
            Ok(EXIT_OK)
        }
    }
}
