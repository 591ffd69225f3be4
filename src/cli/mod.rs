//! The command line: clap structures holding raw values, converted to
//! library settings before any work starts; one file per subcommand.

mod demo;
mod fit;
mod simulate;

use clap::{Parser, Subcommand};

/// Exit code when everything worked.
pub const EXIT_OK: i32 = 0;
/// Exit code for bad input or settings (nothing, or not everything, fitted).
pub const EXIT_ERROR: i32 = 1;
/// Exit code when a fit did not converge or a parameter ended on a bound.
pub const EXIT_FIT_FAILED: i32 = 3;

/// Ultrafast spin spectroscopy of halide perovskites: fit pump-probe scans.
#[derive(Debug, Parser)]
#[command(name = "spinfit", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Fit scans: `fit tr` (spin lifetime) or `fit trfe` (Larmor precession).
    #[command(subcommand)]
    Fit(fit::FitCommand),
    /// Write synthetic scans with known parameters (labelled synthetic).
    #[command(subcommand)]
    Simulate(simulate::SimCommand),
    /// Fit the bundled example data and write reports and figures.
    Demo(demo::DemoArgs),
}

/// Run a parsed command; returns the exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    match cli.command {
        Command::Fit(c) => fit::run(c),
        Command::Simulate(c) => simulate::run(c),
        Command::Demo(a) => demo::run(a),
    }
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
