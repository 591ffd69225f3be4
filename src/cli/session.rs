//! `spinfit session PATH`: fit a day's scans in one command.

use super::EXIT_ERROR;
use super::options::{ReadArgs, TrFitArgs, TrfeFitArgs, given};
use crate::report::session_out::Figures;
use crate::session::analyse_path;
use crate::session::settings::{Resolver, config_for};
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
    /// Per-scan figures: all, failed (only fits that are not trustworthy)
    /// or none. Drawing is most of a large session's time.
    #[arg(long, default_value = "all", value_name = "none|failed|all")]
    pub figures: String,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub tr: TrFitArgs,
    #[command(flatten)]
    pub trfe: TrfeFitArgs,
}

pub fn run(a: SessionArgs) -> anyhow::Result<i32> {
    let lab = config_for(a.read.config.as_deref(), std::slice::from_ref(&a.path))?;
    let mut given = given(&a.read, Some(&a.tr), Some(&a.trfe)).flag("global", a.global);
    for (k, v) in [("kind", &a.kind), ("min_field", &a.min_field)] {
        if let Some(v) = v {
            given.values.insert(k.into(), v.clone());
        }
    }
    let figures: Figures = a.figures.parse()?;
    let cfg = crate::session::SessionConfig {
        figures,
        ..Resolver::new(&lab, &given).session_config()?
    };
    let bar = std::sync::OnceLock::new();
    let r = analyse_path(&a.path, &cfg, a.follow_symlinks, &|n| {
        bar.get_or_init(|| super::progress(n, "scans")).inc(1)
    })?;
    if let Some(b) = bar.get() {
        b.finish_and_clear();
    }
    crate::report::session_out::write(&r, &a.path, &a.out, figures)?;
    let records = r.records();
    let [ok, small, inadequate, untrusted] = r.status_counts().map(|(_, n)| n);
    eprintln!(
        "session: {} scans: {} fitted in {} field series and {} single fits ({} ok, {} small residual structure, {} inadequate, {} untrustworthy), {} failed; see {}",
        records.len() + r.failures.len(),
        records.len(),
        r.series.len(),
        r.fits.len(),
        ok,
        small,
        inadequate,
        untrusted,
        r.failures.len(),
        a.out.join("summary.md").display()
    );
    for (f, why) in &r.failures {
        eprintln!("  failed: {f}: {why}");
    }
    for (f, why) in &r.skipped {
        eprintln!("  skipped: {f}: {why}");
    }
    // 1 when an input has no fit at all, else the worst fit's code
    Ok(if r.failures.is_empty() {
        super::exit_for(r.worst())
    } else {
        EXIT_ERROR
    })
}
