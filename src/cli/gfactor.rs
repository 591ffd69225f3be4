//! `spinfit gfactor FILE...|DIR`: |g|, T2*(0) and dg per carrier from a field series.

use super::options::{ReadArgs, TrfeFitArgs, given};
use super::{EXIT_ERROR, EXIT_OK};
use crate::scan::{ScanKind, read_scans};
use crate::series::analyse_with;
use crate::session::settings::{Resolver, config_for};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct GfactorArgs {
    /// TRFE traces of one sample and photon energy at several fields: files,
    /// a folder, or an HDF5 file (field from metadata or the file name, e.g. _420mT).
    #[arg(required = true)]
    pub inputs: Vec<PathBuf>,
    /// Fields below this are fitted but left out of the slopes (Overhauser
    /// field; default 100mT).
    #[arg(long)]
    pub min_field: Option<String>,
    /// Also fit all traces at once with shared g, T2*(0), dg.
    #[arg(long)]
    pub global: bool,
    /// Which carrier precesses faster: electron or hole.
    #[arg(long, default_value = "electron")]
    pub larger: String,
    /// Name of the carrier when every trace shows one component.
    #[arg(long, default_value = "hole")]
    pub single: String,
    #[command(flatten)]
    pub read: ReadArgs,
    #[command(flatten)]
    pub fit: TrfeFitArgs,
    /// Print JSON (schema spinfit.gfactor/1).
    #[arg(long)]
    pub json: bool,
    /// Folder for the figures (omega_L(B), T2*(B), every trace).
    #[arg(long)]
    pub plot_dir: Option<PathBuf>,
}

pub fn run(a: GfactorArgs) -> anyhow::Result<i32> {
    let lab = config_for(a.read.config.as_deref(), &a.inputs)?;
    let mut given = given(&a.read, None, Some(&a.fit)).flag("global", a.global);
    given.values.insert("larger".into(), a.larger.clone());
    given.values.insert("single".into(), a.single.clone());
    if let Some(m) = &a.min_field {
        given.values.insert("min_field".into(), m.clone());
    }
    let cfg = Resolver::new(&lab, &given).series_config()?;
    let read = cfg.trfe.read.clone();
    let mut files = vec![];
    for p in &a.inputs {
        files.extend(crate::session::discover(p, false)?.files);
    }
    let mut scans = vec![];
    let mut code = EXIT_OK;
    for f in &files {
        match read_scans(f, ScanKind::Trfe, &read) {
            Ok(s) => scans.extend(s),
            Err(e) => {
                eprintln!("{}", super::describe_lib(&e));
                code = EXIT_ERROR;
            }
        }
    }
    let bar = super::progress(scans.len(), "traces");
    let r = analyse_with(scans, &cfg, &|| bar.inc(1))?;
    bar.finish_and_clear();
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r.to_json())?);
    } else {
        print!("{}", r.to_text());
    }
    if let Some(dir) = &a.plot_dir {
        let dir = crate::io_util::OutDir::create(dir)?;
        for f in crate::report::figures::series_figures(&r, &dir, "gfactor")? {
            eprintln!("wrote {}", f.display());
        }
    }
    if !r.failures.is_empty() {
        code = EXIT_ERROR;
    }
    Ok(code)
}
