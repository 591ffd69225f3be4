//! `spinfit gspectrum RESULT...`: g_e, g_h and g_BX = g_e + g_h versus
//! photon energy from `spinfit gfactor --json` results, with bulk k.p curves.

use super::EXIT_OK;
use crate::physics::kp::KpParams;
use crate::report::figures::gspectrum_figure;
use crate::report::gspectrum::{GSpectrum, parse_sign};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct GspectrumArgs {
    /// JSON results of `spinfit gfactor --json` (schema spinfit.gfactor/1).
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    /// Sign of g_e (TRFE gives |g|; the paper takes both positive here).
    #[arg(long, default_value = "+", allow_hyphen_values = true)]
    pub sign_e: String,
    /// Sign of g_h.
    #[arg(long, default_value = "+", allow_hyphen_values = true)]
    pub sign_h: String,
    /// k.p spin-orbit splitting Delta (eV; default the library's, 1.5).
    #[arg(long)]
    pub delta: Option<f64>,
    /// k.p Kane energy p^2/m0 (eV; default the library's, 6.8^2/7.6199).
    #[arg(long)]
    pub p2_m0: Option<f64>,
    /// k.p remote-band correction to g_e (default the library's, -1).
    #[arg(long, allow_hyphen_values = true)]
    pub dg_e: Option<f64>,
    #[arg(long)]
    pub json: bool,
    /// Figure of g versus energy (.png or .svg).
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

pub fn run(a: GspectrumArgs) -> anyhow::Result<i32> {
    let kp = KpParams::with(a.delta, a.p2_m0, a.dg_e)?;
    let signs = (
        parse_sign(&a.sign_e, "--sign-e")?,
        parse_sign(&a.sign_h, "--sign-h")?,
    );
    let paths: Vec<&std::path::Path> = a.results.iter().map(PathBuf::as_path).collect();
    let g = GSpectrum::read(&paths, signs, kp)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&g.to_json())?);
    } else {
        print!("{}", g.to_text());
    }
    if let Some(p) = &a.plot {
        gspectrum_figure(&g.rows, &g.kp, g.signs, g.synthetic, p)?;
        eprintln!("wrote {}", p.display());
    }
    Ok(EXIT_OK)
}
