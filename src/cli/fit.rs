//! `spinfit fit tr|trfe FILE...`

use super::options::{ReadArgs, TrFitArgs, TrfeFitArgs, given};
use super::{EXIT_ERROR, EXIT_OK};
use crate::labconfig::LabConfig;
use crate::pipeline::FitRecord;
use crate::pipeline::{Fitted, TrJob, TrfeJob, fit_file};
use crate::report::csv_table;
use crate::scan::ScanKind;
use crate::session::settings::Resolver;
use clap::{Args, Subcommand};
use rayon::prelude::*;
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum FitCommand {
    /// Spin lifetime from transient reflection: S = SC - CC fitted with
    /// exponentials convolved with a Gaussian IRF.
    Tr(TrArgs),
    /// Larmor precession from TRFE/TRKR: 1 or 2 damped cosines, |g| per component.
    Trfe(TrfeArgs),
}

#[derive(Debug, Args)]
pub struct Common {
    /// Scan files: CSV/TSV/whitespace text, Glotaran ASCII or matrix CSV maps
    /// (with --band), HDF5 (`file.h5` or `file.h5:/scans/name`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[command(flatten)]
    pub read: ReadArgs,
    /// Print JSON (schema spinfit.fit/1) instead of text reports.
    #[arg(long)]
    pub json: bool,
    /// Write a CSV results table (one row per scan).
    #[arg(long, value_name = "FILE.csv")]
    pub csv: Option<PathBuf>,
    /// Draw data, fit and residuals (.png or .svg); several scans get _1, _2, ... suffixes.
    #[arg(long, value_name = "FILE.png|FILE.svg")]
    pub plot: Option<PathBuf>,
    /// Add 1-sigma profile-likelihood intervals of the main parameters.
    #[arg(long)]
    pub profile: bool,
}

#[derive(Debug, Args)]
pub struct TrArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub fit: TrFitArgs,
}

#[derive(Debug, Args)]
pub struct TrfeArgs {
    #[command(flatten)]
    pub common: Common,
    #[command(flatten)]
    pub fit: TrfeFitArgs,
}

/// The config of `fit`: only an explicit --config (a single file's fit
/// does not pick up a folder's conventions unasked).
fn config(c: &Common) -> anyhow::Result<LabConfig> {
    Ok(match &c.read.config {
        Some(p) => LabConfig::read(p)?,
        None => LabConfig::default(),
    })
}

/// Path of the figure for scan `i` of `n`.
pub fn numbered(path: &Path, i: usize, n: usize) -> PathBuf {
    if n <= 1 {
        return path.to_path_buf();
    }
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    path.with_file_name(format!("{stem}_{}.{ext}", i + 1))
}

/// Fit every file in parallel with a progress bar; print and write outputs.
fn run_files(kind: ScanKind, common: &Common, tr: &TrJob, trfe: &TrfeJob) -> anyhow::Result<i32> {
    let mut bar = super::progress(common.files.len(), "files");
    if common.files.len() < 2 {
        bar = bar.hide();
    }
    let results: Vec<(PathBuf, crate::Result<Fitted>)> = common
        .files
        .par_iter()
        .flat_map_iter(|p| {
            let r = fit_file(p, kind, tr, trfe);
            bar.inc(1);
            r.into_iter().map(move |x| (p.clone(), x))
        })
        .collect();
    bar.finish_and_clear();
    let mut code = EXIT_OK;
    let mut ok: Vec<&Fitted> = vec![];
    for (path, r) in &results {
        match r {
            Ok(f) => ok.push(f),
            Err(e) => {
                eprintln!("{}", super::describe_lib(e));
                if !e.to_string().contains(&path.display().to_string()) {
                    eprintln!("  (while reading {})", path.display());
                }
                code = EXIT_ERROR;
            }
        }
    }
    let records: Vec<&FitRecord> = ok.iter().map(|f| &f.record).collect();
    if common.json {
        let docs: Vec<serde_json::Value> = records.iter().map(|r| r.to_json()).collect();
        let out = if docs.len() == 1 {
            docs[0].clone()
        } else {
            serde_json::Value::Array(docs)
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
    } else {
        for r in &records {
            println!("{}", r.to_text());
        }
    }
    if let Some(p) = &common.csv {
        crate::io_util::write_atomic(p, csv_table(&records).as_bytes())?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &common.plot {
        for (i, f) in ok.iter().enumerate() {
            let path = numbered(p, i, ok.len());
            crate::report::figures::fit_figure(&path, f)?;
            eprintln!("wrote {}", path.display());
        }
    }
    if code == EXIT_OK {
        code = super::exit_for(records.iter().map(|r| r.status()).max());
    }
    Ok(code)
}

pub fn run(c: FitCommand) -> anyhow::Result<i32> {
    match c {
        FitCommand::Tr(a) => {
            let cfg = config(&a.common)?;
            let given = given(&a.common.read, Some(&a.fit), None).flag("profile", a.common.profile);
            let job = Resolver::new(&cfg, &given).tr_job()?;
            run_files(ScanKind::Tr, &a.common, &job, &TrfeJob::default())
        }
        FitCommand::Trfe(a) => {
            let cfg = config(&a.common)?;
            let given = given(&a.common.read, None, Some(&a.fit)).flag("profile", a.common.profile);
            let job = Resolver::new(&cfg, &given).trfe_job()?;
            run_files(ScanKind::Trfe, &a.common, &TrJob::default(), &job)
        }
    }
}
