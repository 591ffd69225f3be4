//! `spinfit session PATH`: fit a day's scans in one command.

use super::{EXIT_ERROR, EXIT_OK};
use crate::session::{SessionConfig, discover, load, run as run_session};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SessionArgs {
    /// A folder of scans or an HDF5 file of scans.
    pub path: PathBuf,
    /// Output folder for results, figures and summary.md.
    #[arg(long, default_value = "session-output")]
    pub out: PathBuf,
    /// Also fit each field series globally.
    #[arg(long)]
    pub global: bool,
}

pub fn run(a: SessionArgs) -> anyhow::Result<i32> {
    let files = discover(&a.path)?;
    let mut cfg = SessionConfig::default();
    cfg.series.global = a.global;
    let (inputs, read_failures) = load(&files, &cfg.read);
    let bar = super::progress(inputs.len(), "scans");
    let mut r = run_session(inputs, &cfg, &|| bar.inc(1));
    bar.finish_and_clear();
    r.failures.extend(read_failures);
    r.failures.sort();
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
    Ok(if r.failures.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
