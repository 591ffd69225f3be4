//! `spinfit ml reproduce`: the Chem. Sci. paper's protocols and its own
//! grid search on its sheet (computed by `ml::reproduce`), printed.

use crate::cli::EXIT_OK;
use crate::ml::reproduce::StudyPlan;
use crate::report::ml::StudyReport;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// The paper's sheet (data.xlsx of the SRR repository).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/srr/data.xlsx"))]
    pub sheet: PathBuf,
    /// Also the honest counterparts: the ANN tuned inside every training
    /// set, and the paper's grid search nested in leave-one-out.
    #[arg(long)]
    pub nested: bool,
    /// Inner folds of the nested grid search (51 = the paper's
    /// leave-one-out inside every training set: ~36x slower than 5).
    #[arg(long, default_value_t = 5)]
    pub inner_folds: usize,
    /// Skip the paper's grid search (36 MLP settings x 53 fits).
    #[arg(long)]
    pub no_grid: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: ReproduceArgs) -> anyhow::Result<i32> {
    use anyhow::Context;
    let plan = StudyPlan::new(a.nested, a.inner_folds, !a.no_grid)?;
    let (ds, _) = crate::dataset::import(&a.sheet, "").with_context(|| {
        format!(
            "the paper's sheet is needed at {} (data/data.xlsx of the SRR repository)",
            a.sheet.display()
        )
    })?;
    let bar = crate::cli::progress(plan.fits(&ds)?, "model fits");
    let study = plan.run(&ds, &|| bar.inc(1))?;
    bar.finish_and_clear();
    let report = StudyReport(&study);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(EXIT_OK)
}
