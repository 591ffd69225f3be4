//! `spinfit demo`: fit the bundled (synthetic) example data.

use super::{EXIT_FIT_FAILED, EXIT_OK};
use crate::pipeline::{TrJob, TrfeJob, fit_file};
use crate::report::csv_table;
use crate::scan::ScanKind;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Folder with the example scans.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data"))]
    pub data: PathBuf,
    /// Folder for reports and figures.
    #[arg(long, default_value = "demo-output")]
    pub out: PathBuf,
}

pub fn run(a: DemoArgs) -> anyhow::Result<i32> {
    use anyhow::Context;
    std::fs::create_dir_all(&a.out).with_context(|| format!("creating {}", a.out.display()))?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(&a.data)
        .with_context(|| format!("reading the example folder {}", a.data.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    files.sort();
    let mut records = vec![];
    let mut code = EXIT_OK;
    for f in &files {
        let name = f
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or_default();
        let kind = if name.starts_with("tr_") {
            ScanKind::Tr
        } else {
            ScanKind::Trfe
        };
        for r in fit_file(f, kind, &TrJob::default(), &TrfeJob::default()) {
            let fitted = r?;
            println!("{}", fitted.record.to_text());
            let png = a.out.join(format!("{name}.png"));
            super::fit::draw(&png, &fitted)?;
            if !fitted.record.fit.success() {
                code = EXIT_FIT_FAILED;
            }
            records.push(fitted.record);
        }
    }
    let table = a.out.join("results.csv");
    crate::io_util::write_atomic(&table, csv_table(&records).as_bytes())?;
    let json: Vec<_> = records.iter().map(|r| r.to_json()).collect();
    crate::io_util::write_atomic(
        &a.out.join("results.json"),
        serde_json::to_string_pretty(&json)?.as_bytes(),
    )?;
    println!(
        "demo: {} scans fitted (synthetic example data); figures, results.csv and results.json in {}",
        records.len(),
        a.out.display()
    );
    Ok(code)
}
