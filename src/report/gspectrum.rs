//! g_e, g_h and g_BX = g_e + g_h versus photon energy, read back from
//! field-series results (`spinfit gfactor --json`, schema
//! `spinfit.gfactor/1`), beside the bulk k.p curves.
//!
//! TRFE measures |g|; the signs of g_e and g_h are assumed (the paper takes
//! both positive) and recorded in the output. g_BX's error is the two
//! errors in quadrature: sigma_BX = sqrt(sigma_e^2 + sigma_h^2).

use crate::error::{Error, Result};
use crate::physics::Quantity;
use crate::physics::kp::KpParams;
use serde_json::{Value, json};
use std::path::Path;

/// Largest |g| read from a result: carriers in solids have |g| of a few.
pub const MAX_ABS_G: f64 = 50.0;

/// One row of g versus energy.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GRow {
    pub source: String,
    pub energy_ev: f64,
    pub g_e: Option<Quantity>,
    pub g_h: Option<Quantity>,
    pub g_bx: Option<Quantity>,
}

impl GRow {
    /// A row with g_BX = g_e + g_h (errors in quadrature) where both are known.
    pub fn new(
        source: String,
        energy_ev: f64,
        g_e: Option<Quantity>,
        g_h: Option<Quantity>,
    ) -> GRow {
        let g_bx = match (g_e, g_h) {
            (Some(a), Some(b)) => Some(Quantity::new(
                a.value + b.value,
                a.stderr.hypot(b.stderr),
                "",
            )),
            _ => None,
        };
        GRow {
            source,
            energy_ev,
            g_e,
            g_h,
            g_bx,
        }
    }
}

/// The assumed sign of a g-factor: `+`, `-`, `+1`, `-1`, `positive`, `negative`.
pub fn parse_sign(s: &str, setting: &str) -> Result<f64> {
    match s.trim() {
        "+" | "+1" | "1" | "positive" => Ok(1.0),
        "-" | "-1" | "negative" => Ok(-1.0),
        o => Err(Error::Setting {
            name: setting.to_string(),
            msg: format!("`{o}`: expected + or -"),
        }),
    }
}

/// A g spectrum: one row per field-series result, sorted by energy.
#[derive(Debug, Clone)]
pub struct GSpectrum {
    pub kp: KpParams,
    /// Assumed signs of g_e and g_h (+1 or -1).
    pub signs: (f64, f64),
    pub rows: Vec<GRow>,
    /// Any trace behind the rows was simulated.
    pub synthetic: bool,
}

fn quantity(v: &Value) -> Option<Quantity> {
    Some(Quantity::new(
        v["value"].as_f64()?,
        v["stderr"].as_f64().unwrap_or(f64::NAN),
        "",
    ))
}

/// The row of one `spinfit.gfactor/1` document; `source` names it in errors.
pub fn row_of(source: &str, j: &Value, signs: (f64, f64)) -> Result<GRow> {
    let bad = |msg: String| Error::Input {
        file: source.to_string(),
        line: None,
        msg,
    };
    if j["schema"] != "spinfit.gfactor/1" {
        return Err(bad(
            "expected a `spinfit gfactor --json` result (schema spinfit.gfactor/1)".into(),
        ));
    }
    let Some(e) = j["photon_energy"]["value"].as_f64() else {
        return Err(bad(
            "no photon energy; add `# photon_energy = 1.911 eV` to the scans' headers".into(),
        ));
    };
    let (lo, hi) = crate::scan::vocab::PHOTON_ENERGY_RANGE_EV;
    if !(lo..=hi).contains(&e) {
        return Err(bad(format!(
            "field `photon_energy.value` = {e} eV is outside {lo}-{hi} eV"
        )));
    }
    let carriers = j["carriers"].as_array().map_or(&[][..], Vec::as_slice);
    for (i, c) in carriers.iter().enumerate() {
        if let Some(q) = quantity(&c["g"]) {
            let sd_ok = q.stderr.is_nan() || (q.stderr.is_finite() && q.stderr >= 0.0);
            if !(q.value.is_finite() && q.value.abs() <= MAX_ABS_G && sd_ok) {
                return Err(bad(format!(
                    "field `carriers[{i}].g` = {} +/- {}: expected a finite |g| <= {MAX_ABS_G} with a non-negative error",
                    q.value, q.stderr
                )));
            }
        }
    }
    let g = |name: &str, s: f64| {
        carriers
            .iter()
            .find(|c| c["carrier"] == name)
            .and_then(|c| quantity(&c["g"]))
            .map(|q| Quantity::new(s * q.value, q.stderr, ""))
    };
    Ok(GRow::new(
        source.to_string(),
        e,
        g("electron", signs.0),
        g("hole", signs.1),
    ))
}

impl GSpectrum {
    /// Read the field-series results at `paths`.
    pub fn read(paths: &[&Path], signs: (f64, f64), kp: KpParams) -> Result<GSpectrum> {
        let mut docs = vec![];
        for p in paths {
            let text = crate::io_util::read_text(p)?;
            let j: Value = serde_json::from_str(&text).map_err(|e| Error::Input {
                file: p.display().to_string(),
                line: Some(e.line()),
                msg: format!("not JSON: {e}"),
            })?;
            docs.push((p.display().to_string(), j));
        }
        GSpectrum::from_documents(&docs, signs, kp)
    }

    /// From `spinfit.gfactor/1` documents, each with the name errors give.
    pub fn from_documents(
        docs: &[(String, Value)],
        signs: (f64, f64),
        kp: KpParams,
    ) -> Result<GSpectrum> {
        let mut rows = docs
            .iter()
            .map(|(s, j)| row_of(s, j, signs))
            .collect::<Result<Vec<_>>>()?;
        rows.sort_by(|a, b| a.energy_ev.total_cmp(&b.energy_ev));
        let synthetic = docs.iter().any(|(_, j)| {
            j["traces"].as_array().is_some_and(|t| {
                t.iter()
                    .any(|t| t["fit"]["metadata"]["synthetic"] == "true")
            })
        });
        Ok(GSpectrum {
            kp,
            signs,
            rows,
            synthetic,
        })
    }

    /// JSON document of schema `spinfit.gspectrum/1`.
    pub fn to_json(&self) -> Value {
        json!({"schema": "spinfit.gspectrum/1", "kp": self.kp,
               "signs": {"g_e": self.signs.0, "g_h": self.signs.1}, "rows": self.rows, "synthetic": self.synthetic})
    }

    /// The table as text, with the assumed signs.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:>10}  {:>20}  {:>20}  {:>20}  source",
            "E (eV)", "g_e", "g_h", "g_BX = g_e + g_h"
        );
        let q = |x: &Option<Quantity>| x.map_or("-".to_string(), |q| q.to_string());
        for r in &self.rows {
            let _ = writeln!(
                s,
                "{:>10.4}  {:>20}  {:>20}  {:>20}  {}",
                r.energy_ev,
                q(&r.g_e),
                q(&r.g_h),
                q(&r.g_bx),
                r.source
            );
        }
        let sign = |x: f64| if x > 0.0 { "+" } else { "-" };
        let _ = writeln!(
            s,
            "signs: g_e {}, g_h {} (assumed: TRFE measures |g|)",
            sign(self.signs.0),
            sign(self.signs.1)
        );
        s
    }
}
