//! `spinfit fit tr|trfe FILE...`

use super::{EXIT_ERROR, EXIT_FIT_FAILED, EXIT_OK, parse_opt};
use crate::fit::Envelope;
use crate::fit::decay::Baseline;
use crate::fit::ladder::{Choice, Freedom};
use crate::fit::tr::TrConfig;
use crate::fit::trfe::{Components, Criterion, TrfeConfig};
use crate::pipeline::{Fitted, TrJob, TrfeJob, fit_file};
use crate::report::{FitRecord, csv_table};
use crate::scan::map::Layout;
use crate::scan::{Band, ColumnSpec, ReadOptions, ScanKind};
use crate::units::{Field, Time, TimeUnit};
use anyhow::{Context, bail};
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
    /// Delay column, by name or 1-based index (default: a column named delay/time/t/...).
    #[arg(long)]
    pub delay: Option<String>,
    /// Signal column, by name or 1-based index.
    #[arg(long)]
    pub signal: Option<String>,
    /// Column of per-point standard deviations (weights the fit; errors absolute).
    #[arg(long)]
    pub sigma: Option<String>,
    /// Unit of the delay column when its name has no _fs/_ps/_ns suffix.
    #[arg(long, value_name = "fs|ps|ns")]
    pub delay_unit: Option<String>,
    /// For 2-D maps: a probe wavelength or band, e.g. 560nm, 2.2eV, 550nm:570nm.
    #[arg(long, allow_hyphen_values = true)]
    pub band: Option<String>,
    /// For matrix maps: which axis runs down the rows, rows=time or
    /// rows=wavelength (default: from the corner cell and the axes).
    #[arg(long)]
    pub layout: Option<String>,
    /// Start of the fit window, e.g. 50ps.
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<String>,
    /// End of the fit window, e.g. 1.5ns.
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<String>,
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
    /// Significance level below which a residual test (periodogram,
    /// Ljung-Box, runs) calls the model inadequate (exit 3).
    #[arg(long, default_value = "1e-3")]
    pub residual_alpha: f64,
}

#[derive(Debug, Args)]
pub struct TrArgs {
    #[command(flatten)]
    pub common: Common,
    /// Co-circular column (default: a column named SC, any case).
    #[arg(long)]
    pub sc: Option<String>,
    /// Counter-circular column (default: a column named CC, any case).
    #[arg(long)]
    pub cc: Option<String>,
    /// Number of exponentials (1-3).
    #[arg(long, default_value_t = 1)]
    pub exponentials: usize,
    /// Fix the IRF FWHM (e.g. 0.15ps) instead of fitting it.
    #[arg(long)]
    pub irf_fwhm: Option<String>,
    /// Fix time zero (e.g. 0ps) instead of fitting it.
    #[arg(long, allow_hyphen_values = true)]
    pub t0: Option<String>,
    /// Baseline: auto (offset if pre-time-zero points, plus a long-lived step), offset, step, both, none.
    #[arg(long, default_value = "auto")]
    pub baseline: String,
    /// Fit the polarisation degree (SC - CC)/(SC + CC) instead of SC - CC.
    #[arg(long)]
    pub polarisation: bool,
    /// Coherent artefact at t0 (a Gaussian of the IRF width and its first
    /// two derivatives): auto (kept when the window covers the pulse
    /// overlap and BIC drops by 10), on or off.
    #[arg(long, default_value = "auto")]
    pub artefact: String,
}

#[derive(Debug, Args)]
pub struct TrfeArgs {
    #[command(flatten)]
    pub common: Common,
    /// Magnetic field, e.g. 430mT (overrides the file's `field` metadata).
    #[arg(long, allow_hyphen_values = true)]
    pub field: Option<String>,
    /// Number of damped cosines: 1, 2 or auto.
    #[arg(long, default_value = "auto")]
    pub components: String,
    /// Rule for the model ladder and --components auto: bic, aic or ftest
    /// (at p < 0.05).
    #[arg(long, default_value = "bic")]
    pub criterion: String,
    /// A phase per cosine: auto (chosen by the ladder), on or off; `--phase`
    /// alone means on.
    #[arg(long, default_value = "auto", num_args = 0..=1, default_missing_value = "on")]
    pub phase: String,
    /// A non-oscillating exponential under the cosines: auto, on or off.
    #[arg(long, default_value = "auto", num_args = 0..=1, default_missing_value = "on")]
    pub decay: String,
    /// A constant offset: auto, on or off.
    #[arg(long, default_value = "auto", num_args = 0..=1, default_missing_value = "on")]
    pub offset: String,
    /// Same as --offset off.
    #[arg(long)]
    pub no_offset: bool,
    /// Dephasing envelope: auto, exponential (eq. 2, a Lorentzian g spread)
    /// or gaussian (a Gaussian g spread).
    #[arg(long, default_value = "auto")]
    pub envelope: String,
}

fn read_options(c: &Common) -> anyhow::Result<ReadOptions> {
    let spec = |flag: &str, v: &Option<String>| -> anyhow::Result<Option<ColumnSpec>> {
        v.as_deref()
            .map(|s| s.parse::<ColumnSpec>().with_context(|| format!("--{flag}")))
            .transpose()
    };
    Ok(ReadOptions {
        delay: spec("delay", &c.delay)?,
        signal: spec("signal", &c.signal)?,
        sc: None,
        cc: None,
        sigma: spec("sigma", &c.sigma)?,
        delay_unit: parse_opt::<TimeUnit>("delay-unit", &c.delay_unit)?,
        band: parse_opt::<Band>("band", &c.band)?,
        layout: parse_opt::<Layout>("layout", &c.layout)?,
    })
}

fn window(c: &Common) -> anyhow::Result<(Option<f64>, Option<f64>)> {
    Ok((
        parse_opt::<Time>("from", &c.from)?.map(Time::ps),
        parse_opt::<Time>("to", &c.to)?.map(Time::ps),
    ))
}

fn tr_job(a: &TrArgs) -> anyhow::Result<TrJob> {
    let mut read = read_options(&a.common)?;
    read.sc =
        a.sc.as_deref()
            .map(str::parse)
            .transpose()
            .context("--sc")?;
    read.cc =
        a.cc.as_deref()
            .map(str::parse)
            .transpose()
            .context("--cc")?;
    let baseline = match a.baseline.as_str() {
        "auto" => None,
        "offset" => Some(Baseline {
            offset: true,
            step: false,
        }),
        "step" => Some(Baseline {
            offset: false,
            step: true,
        }),
        "both" => Some(Baseline {
            offset: true,
            step: true,
        }),
        "none" => Some(Baseline {
            offset: false,
            step: false,
        }),
        other => bail!("--baseline `{other}`: expected auto, offset, step, both or none"),
    };
    let (from, to) = window(&a.common)?;
    let config = TrConfig {
        n_exp: a.exponentials,
        baseline,
        irf_fwhm: parse_opt::<Time>("irf-fwhm", &a.irf_fwhm)?.map(Time::ps),
        t0: parse_opt::<Time>("t0", &a.t0)?.map(Time::ps),
        artefact: a.artefact.parse::<Choice>().context("--artefact")?,
        adequacy_alpha: a.common.residual_alpha,
        ..TrConfig::default()
    };
    config.validate()?;
    Ok(TrJob {
        read,
        from,
        to,
        polarisation: a.polarisation,
        config,
        profile: a.common.profile,
    })
}

fn trfe_job(a: &TrfeArgs) -> anyhow::Result<TrfeJob> {
    let criterion = match a.criterion.as_str() {
        "bic" => Criterion::Bic,
        "aic" => Criterion::Aic,
        "ftest" => Criterion::FTest(0.05),
        other => bail!("--criterion `{other}`: expected bic, aic or ftest"),
    };
    let (from, to) = window(&a.common)?;
    let job = TrfeJob {
        read: read_options(&a.common)?,
        from,
        to,
        field_t: parse_opt::<Field>("field", &a.field)?.map(Field::tesla),
        config: TrfeConfig {
            components: a.components.parse::<Components>()?,
            criterion,
            freedom: Freedom {
                phase: a.phase.parse::<Choice>().context("--phase")?,
                decay: a.decay.parse::<Choice>().context("--decay")?,
                offset: if a.no_offset {
                    Choice::Off
                } else {
                    a.offset.parse::<Choice>().context("--offset")?
                },
                envelope: match a.envelope.as_str() {
                    "auto" => None,
                    e => Some(e.parse::<Envelope>().context("--envelope")?),
                },
            },
            adequacy_alpha: a.common.residual_alpha,
            ..TrfeConfig::default()
        },
        profile: a.common.profile,
    };
    job.config.validate()?;
    Ok(job)
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
    let bar = super::progress(common.files.len(), "files");
    if common.files.len() < 2 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
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
                eprintln!("error: {e}");
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
        let owned: Vec<FitRecord> = records.iter().map(|r| (*r).clone()).collect();
        crate::io_util::write_atomic(p, csv_table(&owned).as_bytes())?;
        eprintln!("wrote {}", p.display());
    }
    if let Some(p) = &common.plot {
        for (i, f) in ok.iter().enumerate() {
            let path = numbered(p, i, ok.len());
            crate::report::figures::fit_figure(&path, f)?;
            eprintln!("wrote {}", path.display());
        }
    }
    if code == EXIT_OK && records.iter().any(|r| !r.fit.success()) {
        code = EXIT_FIT_FAILED;
    }
    Ok(code)
}

pub fn run(c: FitCommand) -> anyhow::Result<i32> {
    match c {
        FitCommand::Tr(a) => {
            let job = tr_job(&a)?;
            run_files(ScanKind::Tr, &a.common, &job, &TrfeJob::default())
        }
        FitCommand::Trfe(a) => {
            let job = trfe_job(&a)?;
            run_files(ScanKind::Trfe, &a.common, &TrJob::default(), &job)
        }
    }
}
