//! `spinfit gspectrum RESULT...`: g_e, g_h and g_BX = g_e + g_h versus
//! photon energy from `spinfit gfactor --json` results, with bulk k.p curves.

use super::EXIT_OK;
use crate::physics::Quantity;
use crate::physics::kp::KpParams;
use crate::report::figures::{GRow, gspectrum_figure};
use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
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

fn sign(s: &str, flag: &str) -> anyhow::Result<f64> {
    match s {
        "+" | "+1" | "positive" => Ok(1.0),
        "-" | "-1" | "negative" => Ok(-1.0),
        o => bail!("--{flag} `{o}`: expected + or -"),
    }
}

fn quantity(v: &Value) -> Option<Quantity> {
    Some(Quantity::new(
        v["value"].as_f64()?,
        v["stderr"].as_f64().unwrap_or(f64::NAN),
        "",
    ))
}

/// Largest |g| read from a result: carriers in solids have |g| of a few.
const MAX_ABS_G: f64 = 50.0;

pub fn run(a: GspectrumArgs) -> anyhow::Result<i32> {
    let kp = KpParams::with(a.delta, a.p2_m0, a.dg_e)?;
    let (se, sh) = (sign(&a.sign_e, "sign-e")?, sign(&a.sign_h, "sign-h")?);
    let mut rows = vec![];
    for p in &a.results {
        let text = crate::io_util::read_text(p)?;
        let j: Value =
            serde_json::from_str(&text).with_context(|| format!("{}: not JSON", p.display()))?;
        if j["schema"] != "spinfit.gfactor/1" {
            bail!(
                "{}: expected a `spinfit gfactor --json` result (schema spinfit.gfactor/1)",
                p.display()
            );
        }
        let Some(e) = j["photon_energy"]["value"].as_f64() else {
            bail!(
                "{}: no photon energy; add `# photon_energy = 1.911 eV` to the scans' headers",
                p.display()
            );
        };
        let (lo, hi) = crate::scan::vocab::PHOTON_ENERGY_RANGE_EV;
        if !(lo..=hi).contains(&e) {
            bail!(
                "{}: field `photon_energy.value` = {e} eV is outside {lo}-{hi} eV",
                p.display()
            );
        }
        for (i, c) in j["carriers"]
            .as_array()
            .map_or(&[][..], Vec::as_slice)
            .iter()
            .enumerate()
        {
            if let Some(q) = quantity(&c["g"]) {
                let sd_ok = q.stderr.is_nan() || (q.stderr.is_finite() && q.stderr >= 0.0);
                if !(q.value.is_finite() && q.value.abs() <= MAX_ABS_G && sd_ok) {
                    bail!(
                        "{}: field `carriers[{i}].g` = {} +/- {}: expected a finite |g| <= {MAX_ABS_G} with a non-negative error",
                        p.display(),
                        q.value,
                        q.stderr
                    );
                }
            }
        }
        let g = |name: &str, s: f64| {
            j["carriers"]
                .as_array()?
                .iter()
                .find(|c| c["carrier"] == name)
                .and_then(|c| quantity(&c["g"]))
                .map(|q| Quantity::new(s * q.value, q.stderr, ""))
        };
        let (ge, gh) = (g("electron", se), g("hole", sh));
        rows.push(GRow::new(p.display().to_string(), e, ge, gh));
    }
    rows.sort_by(|a, b| a.energy_ev.total_cmp(&b.energy_ev));
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"schema": "spinfit.gspectrum/1", "kp": kp, "signs": {"g_e": se, "g_h": sh}, "rows": rows})
            )?
        );
    } else {
        println!(
            "{:>10}  {:>20}  {:>20}  {:>20}  source",
            "E (eV)", "g_e", "g_h", "g_BX = g_e + g_h"
        );
        let q = |x: &Option<Quantity>| x.map_or("-".to_string(), |q| q.to_string());
        for r in &rows {
            println!(
                "{:>10.4}  {:>20}  {:>20}  {:>20}  {}",
                r.energy_ev,
                q(&r.g_e),
                q(&r.g_h),
                q(&r.g_bx),
                r.source
            );
        }
        println!(
            "signs: g_e {}, g_h {} (TRFE measures |g|)",
            a.sign_e, a.sign_h
        );
    }
    if let Some(p) = &a.plot {
        gspectrum_figure(&rows, &kp, p)?;
        eprintln!("wrote {}", p.display());
    }
    Ok(EXIT_OK)
}
