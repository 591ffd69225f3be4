//! `spinfit demo`: the bundled synthetic session, fitted as `spinfit session` would.

use super::session::{SessionArgs, run as run_session};
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
    eprintln!(
        "demo: fitting the bundled SYNTHETIC session in {} (see its README.md)",
        a.data.display()
    );
    let code = run_session(SessionArgs {
        path: a.data,
        out: a.out.clone(),
        global: true,
        kind: None,
        min_field: None,
        follow_symlinks: false,
        figures: "all".into(),
        read: Default::default(),
        tr: Default::default(),
        trfe: Default::default(),
    })?;
    let summary = crate::io_util::read_text(&a.out.join("summary.md"))?;
    println!("{summary}");
    Ok(code)
}
