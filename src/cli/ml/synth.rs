//! `spinfit ml friedman --rows N --out FILE`: a synthetic regression set.

use crate::cli::EXIT_OK;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct FriedmanArgs {
    #[arg(long, default_value_t = 4000)]
    pub rows: usize,
    /// Features (the first five carry the signal).
    #[arg(long, default_value_t = 10)]
    pub features: usize,
    /// Standard deviation of the Gaussian noise on y.
    #[arg(long, default_value_t = 1.0)]
    pub noise: f64,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// CSV to write (id, x1..xP, y).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn run(a: FriedmanArgs) -> anyhow::Result<i32> {
    let d = crate::ml::data::friedman1(a.rows, a.features, a.noise, a.seed)?;
    crate::io_util::write_atomic(&a.out, &crate::ml::data::to_csv(&d))?;
    eprintln!(
        "wrote {} (Friedman #1: {} rows, {} features, noise sd {}, seed {}; target column y)",
        a.out.display(),
        a.rows,
        a.features,
        a.noise,
        a.seed
    );
    Ok(EXIT_OK)
}
