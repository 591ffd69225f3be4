//! Rule check: do a row's descriptors follow from its own cations?
//!
//! The sheet's descriptors are built by rules (physics.md section 5): every
//! descriptor of a mixed-cation row is the count-weighted mean of its
//! cations' values, n is the number of B-site atoms in the formula, and
//! t = (r_o + r_X) / (sqrt 2 (r_B + r_X)). A cation's own values are read
//! from the dataset's single-cation rows (`(BA)2PbI4` gives BA's), so the
//! check needs no chemistry, only the names. Rows are flagged when:
//! - a count-weighted mean differs from the row's value by more than the
//!   printed precision of both plus 1e-4 relative (the sheet rounds at
//!   different stages) (intrinsic descriptors: dipole, MW, chi, alpha, r_o,
//!   HOMO, LUMO, gap);
//! - n differs from the formula's number of B-site atoms;
//! - t differs from its rule applied to the row's own r_o, metal and halide
//!   by more than 5e-4 (the sheet rounds r_o to 4-6 digits).

use super::composition::{composition_by_name, tolerance_factor};
use super::finding::Finding;
use super::{DESCRIPTORS, Dataset};

/// Descriptors that are count-weighted means of per-cation values.
const INTRINSIC: [usize; 8] = [0, 1, 2, 3, 4, 6, 7, 8];

/// Printing precision of a value: half a unit in its last printed decimal.
fn half_ulp(v: f64) -> f64 {
    let d = (0..9)
        .find(|&d| {
            let s = 10f64.powi(d);
            ((v * s).round() / s - v).abs() < 1e-9 * v.abs().max(1.0)
        })
        .unwrap_or(9);
    0.5 * 10f64.powi(-d)
}

/// The same molecule under two names.
fn canonical(name: &str) -> &str {
    match name {
        "nBA" => "BA",
        n => n,
    }
}

fn name_of(compound: &str) -> &str {
    compound.split(" (n =").next().unwrap_or(compound).trim()
}

/// Findings of kind "breaks-rule", with the rows (1-based) they concern.
pub fn rule_check(d: &Dataset) -> Vec<Finding> {
    let parsed: Vec<_> = d
        .records
        .iter()
        .map(|r| composition_by_name(name_of(&r.compound)).ok())
        .collect();
    // each cation's own values: its first single-cation row
    let mut refs: Vec<(String, usize)> = vec![];
    for (i, c) in parsed.iter().enumerate() {
        if let Some(c) = c {
            let names: Vec<&str> = c.cations.iter().map(|x| canonical(&x.name)).collect();
            if names.windows(2).all(|w| w[0] == w[1]) && !refs.iter().any(|r| r.0 == names[0]) {
                refs.push((names[0].to_string(), i));
            }
        }
    }
    let mut out = vec![];
    for (i, (r, c)) in d.records.iter().zip(&parsed).enumerate() {
        let Some(c) = c else { continue };
        let mut why = vec![];
        // n from the formula
        if c.n_layers != r.descriptors[9] && r.descriptors[9].is_finite() {
            why.push(format!(
                "n_layers {} but the formula has {} B-site atom(s) per unit",
                r.descriptors[9], c.n_layers
            ));
        }
        // t from the row's own r_o
        if let (Some(m), Some(x)) = (&c.metal, &c.halide)
            && let Ok(t) = tolerance_factor(r.descriptors[4], m, x)
            && (t - r.descriptors[5]).abs() > 5e-4
        {
            why.push(format!(
                "tolerance_factor {} but r_o = {} A with r_{m} and r_{x} gives {t:.4}",
                r.descriptors[5], r.descriptors[4]
            ));
        }
        // the averaging rule, when every cation has its own row
        let own: Option<Vec<(f64, usize)>> = c
            .cations
            .iter()
            .map(|x| {
                refs.iter()
                    .find(|r| r.0 == canonical(&x.name))
                    .map(|r| (x.count, r.1))
            })
            .collect();
        let kinds = {
            let mut n: Vec<&str> = c.cations.iter().map(|x| canonical(&x.name)).collect();
            n.sort();
            n.dedup();
            n.len()
        };
        if let Some(own) = own.filter(|o| kinds > 1 && o.iter().all(|x| x.1 != i)) {
            let total: f64 = own.iter().map(|x| x.0).sum();
            for k in INTRINSIC {
                let v = r.descriptors[k];
                let expect = own
                    .iter()
                    .map(|(n, j)| n * d.records[*j].descriptors[k])
                    .sum::<f64>()
                    / total;
                let tol = half_ulp(v)
                    + own
                        .iter()
                        .map(|(_, j)| half_ulp(d.records[*j].descriptors[k]))
                        .fold(0.0, f64::max)
                    + 1e-4 * v.abs();
                if v.is_finite() && expect.is_finite() && (v - expect).abs() > tol {
                    let from: Vec<String> = c
                        .cations
                        .iter()
                        .zip(&own)
                        .map(|(x, (_, j))| format!("{} (row {})", x.name, j + 1))
                        .collect();
                    // what the first cation's value would have to be
                    let (n0, j0) = own[0];
                    let implied =
                        (v * total - (expect * total - n0 * d.records[j0].descriptors[k])) / n0;
                    why.push(format!(
                        "{} {v} but the count-weighted mean of {} is {expect:.4} (the row implies {} = {implied:.4})",
                        DESCRIPTORS[k].0,
                        from.join(" and "),
                        c.cations[0].name
                    ));
                }
            }
        }
        if !why.is_empty() {
            out.push(Finding {
                kind: "breaks-rule",
                rows: vec![i + 1],
                message: format!("{}: {}", r.compound, why.join("; ")),
            });
        }
    }
    out
}
