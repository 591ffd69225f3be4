//! `spinfit descriptors --formula F [--radius R]`: the descriptors a
//! composition gives by the sheet's rules (MW, chi, n, and t from an organic
//! radius), with units.

use super::EXIT_OK;
use crate::dataset::composition::{composition, tolerance_factor};
use clap::Args;

#[derive(Debug, Args)]
pub struct DescriptorsArgs {
    /// A perovskite formula: `(BA)2(MA)3Pb4I13`, `PEA2PbI4`, `[C4H3SCH2NH3]2PbI4`.
    #[arg(long)]
    pub formula: String,
    /// Count-weighted organic radius r_o in angstrom, for the tolerance factor.
    #[arg(long)]
    pub radius: Option<f64>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: DescriptorsArgs) -> anyhow::Result<i32> {
    let c = composition(&a.formula)?;
    let t = match (a.radius, &c.metal, &c.halide) {
        (Some(r), Some(m), Some(x)) => Some(tolerance_factor(r, m, x)?),
        (Some(_), _, _) => anyhow::bail!(
            "--radius: the tolerance factor needs one B-site metal and one halide; `{}` has {} and {}",
            a.formula,
            c.metal.as_deref().unwrap_or("several metals"),
            c.halide.as_deref().unwrap_or("several halides")
        ),
        _ => None,
    };
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": "spinfit.descriptors/1", "formula": a.formula, "cations": c.cations,
                "mw_g_per_mol": c.mean_mw, "electronegativity": c.mean_chi, "n_layers": c.n_layers,
                "metal": c.metal, "halide": c.halide,
                "organic_radius_A": a.radius, "tolerance_factor": t,
            }))?
        );
        return Ok(EXIT_OK);
    }
    println!("{}", a.formula);
    for x in &c.cations {
        println!(
            "  cation {:14} x {:<4} {:12} MW {:9.4} g/mol, chi {:.2}",
            x.name, x.count, x.formula, x.mw, x.chi
        );
    }
    println!(
        "  mw_g_per_mol      = {:.4} g/mol (count-weighted A-site cation mean)",
        c.mean_mw
    );
    println!(
        "  electronegativity = {:.4} (Pauling, count-weighted)",
        c.mean_chi
    );
    println!(
        "  n_layers          = {}{}",
        c.n_layers,
        if c.n_layers == 100.0 { " (3-D)" } else { "" }
    );
    match (t, a.radius) {
        (Some(t), Some(r)) => println!(
            "  tolerance_factor  = {t:.4} (r_o = {r} A, Shannon r_{} and r_{})",
            c.metal.as_deref().unwrap_or("?"),
            c.halide.as_deref().unwrap_or("?")
        ),
        _ => println!("  tolerance_factor: give --radius (organic radius in A)"),
    }
    Ok(EXIT_OK)
}
