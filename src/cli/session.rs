//! `spinfit session PATH`: fit a day's scans in one command.

use super::options::{ReadArgs, Resolver, TrFitArgs, TrfeFitArgs, config_for};
use super::{EXIT_ERROR, EXIT_OK};
use crate::scan::ScanKind;
use crate::session::{SessionConfig, discover, load, run as run_session};
use crate::units::Field;
use anyhow::{Context, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SessionArgs {
    /// A folder of scans or an HDF5 file of scans (a `spinfit.toml` in the
    /// folder gives the lab's conventions; flags override it).
    pub path: PathBuf,
    /// Output folder for results, figures and summary.md.
    #[arg(long, default_value = "session-output")]
    pub out: PathBuf,
    /// Also fit each field series globally.
    #[arg(long)]
    pub global: bool,
    /// Kind of the scans whose files do not say (no SC/CC columns, no
    /// `kind` or field): tr or trfe.
    #[arg(long)]
    pub kind: Option<String>,
    /// Fields below this are fitted but left out of the slopes (default 100mT).
    #[arg(long)]
    pub min_field: Option<String>,
    /// Read files that are symlinks to places outside the input folder
    /// (skipped and listed by default).
    #[arg(long)]
    pub follow_symlinks: bool,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub tr: TrFitArgs,
    #[command(flatten)]
    pub trfe: TrfeFitArgs,
}

fn kind(s: &str) -> anyhow::Result<ScanKind> {
    match s.to_ascii_lowercase().as_str() {
        "tr" => Ok(ScanKind::Tr),
        "trfe" | "trkr" => Ok(ScanKind::Trfe),
        o => bail!("--kind `{o}`: expected tr or trfe"),
    }
}

pub fn run(a: SessionArgs) -> anyhow::Result<i32> {
    let found = discover(&a.path, a.follow_symlinks)?;
    let files = found.files;
    let lab = config_for(&a.read.config, std::slice::from_ref(&a.path))?;
    let res = Resolver::new(&lab);
    let mut cfg = SessionConfig {
        read: res.read_options(&a.read)?,
        tr: res.tr_job(&a.read, &a.tr, false)?,
        kind: res.get("kind", &a.kind).as_deref().map(kind).transpose()?,
        kinds: lab.kinds.clone(),
        ..Default::default()
    };
    cfg.series.trfe = res.trfe_job(&a.read, &a.trfe, false)?;
    cfg.series.global = a.global;
    if let Some(m) = res.get("min_field", &a.min_field) {
        cfg.series.min_field_t = m
            .parse::<Field>()
            .with_context(|| res.label("min_field"))?
            .tesla();
    }
    let mut settings = res.report();
    settings.sort();
    settings.dedup();
    if let Some(p) = &lab.path {
        settings.insert(0, format!("config file: {}", p.display()));
    }
    for (p, k) in &lab.kinds {
        settings.push(format!("files `{p}` are {k:?} ({})", lab.origin()));
    }
    cfg.settings = settings;
    let (inputs, read_failures) = load(&files, &cfg.read);
    let bar = super::progress(inputs.len(), "scans");
    let mut r = run_session(inputs, &cfg, &|| bar.inc(1));
    bar.finish_and_clear();
    r.failures.extend(read_failures);
    r.failures.sort();
    r.skipped = found.skipped;
    crate::report::session_out::write(&r, &a.path, &a.out)?;
    let n_series: usize = r.series.iter().map(|s| s.traces.len()).sum();
    eprintln!(
        "session: {} scans fitted ({} single, {} in {} field series), {} failed or untrustworthy; see {}",
        r.fits.len() + n_series,
        r.fits.len(),
        n_series,
        r.series.len(),
        r.failures.len(),
        a.out.join("summary.md").display()
    );
    for (f, why) in &r.failures {
        eprintln!("  failed: {f}: {why}");
    }
    for (f, why) in &r.skipped {
        eprintln!("  skipped: {f}: {why}");
    }
    Ok(if r.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
