//! The command line: clap structures holding raw values, converted to
//! library settings before any work starts; one file per subcommand.

mod dataset;
mod demo;
mod descriptors;
mod fit;
mod gfactor;
mod global;
mod gspectrum;
mod ml;
mod options;
mod session;
mod simulate;

use clap::{Parser, Subcommand};

/// Exit code when everything worked.
pub const EXIT_OK: i32 = 0;
/// Exit code for bad input or settings (nothing, or not everything, fitted).
pub const EXIT_ERROR: i32 = 1;
/// Exit code when a fit did not converge, ended on a bound, has no errors
/// or carries a warning (status `untrustworthy`).
pub const EXIT_FIT_FAILED: i32 = 3;
/// Exit code when every fit is trustworthy but the residuals of one reject
/// its model (status `inadequate`: the numbers are reported with the flag).
pub const EXIT_INADEQUATE: i32 = 4;

/// The exit code of a run whose worst fit has status `worst` (clap's own
/// usage errors exit 2): 0 for ok or small, 4 inadequate, 3 untrustworthy.
pub fn exit_for(worst: Option<crate::pipeline::Status>) -> i32 {
    use crate::pipeline::Status;
    match worst {
        None | Some(Status::Ok | Status::Small) => EXIT_OK,
        Some(Status::Inadequate) => EXIT_INADEQUATE,
        Some(Status::Untrustworthy) => EXIT_FIT_FAILED,
    }
}

/// Ultrafast spin spectroscopy of halide perovskites: fit pump-probe scans.
#[derive(Debug, Parser)]
#[command(name = "spinfit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Worker threads for parallel fits and model training (default: one
    /// per core; RAYON_NUM_THREADS also works).
    #[arg(long, global = true, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub jobs: Option<u16>,
    /// Largest input file read, MiB (default 256; also SPINFIT_MAX_INPUT_MB).
    #[arg(long, global = true, value_name = "MB", value_parser = clap::value_parser!(u64).range(1..=1 << 20))]
    pub max_input_mb: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit scans: `fit tr` (spin lifetime) or `fit trfe` (Larmor precession).
    #[command(subcommand)]
    Fit(fit::FitCommand),
    /// Write synthetic scans with known parameters (labelled synthetic).
    #[command(subcommand)]
    Simulate(simulate::SimCommand),
    /// |g|, T2*(0) and dg per carrier from a TRFE field series.
    Gfactor(gfactor::GfactorArgs),
    /// Global analysis of a transient map: lifetimes shared by every
    /// wavelength, decay-associated spectra, chirp and IRF.
    Global(global::GlobalArgs),
    /// g_e, g_h, g_BX versus photon energy from gfactor results, with k.p curves.
    Gspectrum(gspectrum::GspectrumArgs),
    /// Fit a folder or HDF5 file of scans in one go: results, figures, summary.
    Session(session::SessionArgs),
    /// The descriptor dataset: import, check, append a measurement, correlate.
    #[command(subcommand)]
    Dataset(dataset::DatasetCommand),
    /// Composition descriptors of a formula by the dataset's rules (MW, chi, n, t).
    Descriptors(descriptors::DescriptorsArgs),
    /// Predictors of the spin relaxation rate: cross-validation.
    #[command(subcommand)]
    Ml(ml::MlCommand),
    /// Fit the bundled (synthetic) example session and write reports and figures.
    Demo(demo::DemoArgs),
}

/// Run a parsed command; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    if let Some(n) = cli.jobs {
        // fails only if a pool exists already (a second call in one process)
        let _ = rayon::ThreadPoolBuilder::new()
            .num_threads(usize::from(n))
            .build_global();
    }
    // start the worker threads now, while the input is read and parsed,
    // rather than in the first parallel step
    rayon::spawn(|| {});
    if let Some(mb) = cli.max_input_mb {
        crate::io_util::set_max_input_bytes(mb << 20);
    }
    match cli.command {
        Command::Fit(c) => fit::run(c),
        Command::Simulate(c) => simulate::run(c),
        Command::Gfactor(a) => gfactor::run(a),
        Command::Global(a) => global::run(a),
        Command::Gspectrum(a) => gspectrum::run(a),
        Command::Session(a) => session::run(a),
        Command::Dataset(c) => dataset::run(c),
        Command::Descriptors(a) => descriptors::run(a),
        Command::Ml(c) => ml::run(c),
        Command::Demo(a) => demo::run(a),
    }
}

/// The command-line flag of a library setting, for error messages.
fn flag_of(setting: &str) -> Option<String> {
    let table = [
        ("adequacy_alpha", "--residual-alpha"),
        ("from/to", "--from/--to"),
        ("tune", "--tune/--inner-folds"),
        ("taus", "--tau"),
        ("carriers", "--carrier"),
        ("points", "--points/--sweeps"),
        ("organic radius", "--radius"),
    ];
    if setting.starts_with("--") || setting.contains(':') {
        return None;
    }
    if let Some((_, f)) = table.iter().find(|(s, _)| *s == setting) {
        return Some(f.to_string());
    }
    setting
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'-')
        .then(|| format!("--{}", setting.replace('_', "-")))
}

/// An error as printed: the whole chain, and for an invalid library
/// setting the flag (or config key) that sets it.
pub fn describe(e: &anyhow::Error) -> String {
    let mut s = format!("error: {e:#}");
    for cause in e.chain() {
        if let Some(lib) = cause.downcast_ref::<crate::Error>() {
            s += &flag_hint(lib, &s);
        }
    }
    s
}

/// [`describe`] of a library error.
pub fn describe_lib(e: &crate::Error) -> String {
    let s = format!("error: {e}");
    let hint = flag_hint(e, &s);
    s + &hint
}

fn flag_hint(e: &crate::Error, said: &str) -> String {
    match e {
        crate::Error::Setting { name, .. } => match flag_of(name) {
            Some(flag) if !said.contains(&flag) => {
                let in_config = crate::labconfig::KEYS.contains(&name.as_str());
                format!(
                    "\n  (set by {flag}{})",
                    if in_config {
                        ", or the same key in spinfit.toml"
                    } else {
                        ""
                    }
                )
            }
            _ => String::new(),
        },
        _ => String::new(),
    }
}

/// Join `--flag -1ps` into `--flag=-1ps`: a value that starts with a minus
/// and a digit (a negative number or quantity) is never a flag, but the
/// argument parser would take it for one.
pub fn join_negative_values(args: Vec<std::ffi::OsString>) -> Vec<std::ffi::OsString> {
    let mut out: Vec<std::ffi::OsString> = Vec::with_capacity(args.len());
    let mut it = args.into_iter().peekable();
    while let Some(a) = it.next() {
        let is_flag = a
            .to_str()
            .is_some_and(|s| s.starts_with("--") && s.len() > 2 && !s.contains('='));
        let next_negative = it.peek().and_then(|n| n.to_str()).is_some_and(|n| {
            let b = n.as_bytes();
            b.len() > 1 && b[0] == b'-' && (b[1].is_ascii_digit() || (b[1] == b'.' && b.len() > 2))
        });
        if is_flag && next_negative {
            let mut joined = a;
            joined.push("=");
            joined.push(it.next().unwrap_or_default());
            out.push(joined);
        } else {
            out.push(a);
        }
    }
    out
}

/// Parse an optional quantity, naming the flag on error.
fn parse_opt<T: std::str::FromStr<Err = crate::Error>>(
    flag: &str,
    v: &Option<String>,
) -> anyhow::Result<Option<T>> {
    use anyhow::Context;
    v.as_deref()
        .map(|s| s.parse::<T>().with_context(|| format!("--{flag}")))
        .transpose()
}

/// Progress of `len` steps of `what` on stderr: on a terminal a bar with
/// rate and time left; otherwise (a log, a batch job, a notebook's pipe)
/// one plain line every [`crate::report::progress::EVERY_S`] of long work,
/// none for short.
use crate::report::progress::Lines;

fn progress(len: usize, what: &str) -> Progress {
    use std::io::IsTerminal;
    if !std::io::stderr().is_terminal() {
        return Progress::Lines(Lines::new(len, what));
    }
    let bar = indicatif::ProgressBar::new(len as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(&format!(
            "{{bar:40}} {{pos}}/{{len}} {what} ({{per_sec}}, {{eta}} left) {{msg}}"
        ))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    Progress::Bar(bar)
}

enum Progress {
    Bar(indicatif::ProgressBar),
    Lines(Lines),
    Hidden,
}

impl Progress {
    fn inc(&self, n: u64) {
        match self {
            Progress::Bar(b) => b.inc(n),
            Progress::Lines(l) => {
                if let Some(line) = l.step(n as usize) {
                    eprintln!("{line}");
                }
            }
            Progress::Hidden => {}
        }
    }

    /// No progress shown at all (one file: nothing to follow).
    fn hide(self) -> Progress {
        match self {
            Progress::Bar(b) => {
                b.set_draw_target(indicatif::ProgressDrawTarget::hidden());
                Progress::Bar(b)
            }
            _ => Progress::Hidden,
        }
    }

    fn finish_and_clear(&self) {
        if let Progress::Bar(b) = self {
            b.finish_and_clear();
        }
    }
}
