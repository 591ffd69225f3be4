//! Descriptors derived from a composition formula: the A-site cations'
//! count-weighted mean molecular weight (the sheet's MW column) and the
//! number of inorganic layers n (B-site atoms per formula unit; 100 for a
//! 3-D ABX3 perovskite, the sheet's convention).
//!
//! Formulas as labs write them: `(BA)2(MA)3Pb4I13`, `BA2MA2Pb3I10`,
//! `PEA2PbI4(MAPbI3)3`, `[BrC6H5CH2NH3]2PbI4`, `CsPbI3`. Cations are either
//! abbreviations from [`CATIONS`] or explicit formulas in brackets.
//! Atomic weights: IUPAC CIAAW abridged standard atomic weights (2021).
//! The paper's sheet used an older table (H 1.00795, C 12.0107, N 14.0067),
//! so its MWs differ from these in the fifth significant digit.

use crate::error::{Error, Result};

/// Atomic weights (g/mol), IUPAC CIAAW 2021 abridged values.
const ELEMENTS: [(&str, f64); 16] = [
    ("H", 1.008),
    ("C", 12.011),
    ("N", 14.007),
    ("O", 15.999),
    ("F", 18.998),
    ("S", 32.06),
    ("Cl", 35.45),
    ("Br", 79.904),
    ("I", 126.90),
    ("Pb", 207.2),
    ("Sn", 118.71),
    ("Ge", 72.630),
    ("Cs", 132.91),
    ("Rb", 85.468),
    ("K", 39.098),
    ("P", 30.974),
];

/// Common A-site cations (protonated forms) and their formulas; names as in
/// the perovskite literature (e.g. Saparov & Mitzi, Chem. Rev. 116, 4558
/// (2016)). Cs counts with the fixed MW 132.9 of the paper's sheet.
pub const CATIONS: [(&str, &str); 12] = [
    ("MA", "CH3NH3"),         // methylammonium
    ("FA", "CH(NH2)2"),       // formamidinium
    ("GA", "C(NH2)3"),        // guanidinium
    ("EA", "C2H5NH3"),        // ethylammonium
    ("BA", "C4H9NH3"),        // n-butylammonium
    ("nBA", "C4H9NH3"),       // n-butylammonium
    ("iBA", "C4H9NH3"),       // iso-butylammonium
    ("EOA", "HOCH2CH2NH3"),   // ethanolammonium
    ("BZA", "C6H5CH2NH3"),    // benzylammonium
    ("PEA", "C6H5CH2CH2NH3"), // phenethylammonium
    ("CMA", "C6H11CH2NH3"),   // cyclohexylmethylammonium
    ("Cs", "Cs"),
];

const B_SITE: [&str; 3] = ["Pb", "Sn", "Ge"];

/// Molecular weight of an element-only formula with parentheses.
pub fn formula_mw(f: &str) -> Result<f64> {
    let atoms = parse_atoms(f)?;
    atoms
        .iter()
        .map(|(e, n)| {
            ELEMENTS
                .iter()
                .find(|x| x.0 == e)
                .map(|x| x.1 * n)
                .ok_or_else(|| Error::setting("formula", format!("unknown element `{e}` in `{f}`")))
        })
        .sum()
}

fn count(s: &[char], i: &mut usize) -> f64 {
    let start = *i;
    while *i < s.len() && (s[*i].is_ascii_digit() || s[*i] == '.') {
        *i += 1;
    }
    s[start..*i]
        .iter()
        .collect::<String>()
        .parse()
        .unwrap_or(1.0)
}

/// (element, count) of an element-only formula.
fn parse_atoms(f: &str) -> Result<Vec<(String, f64)>> {
    fn group(s: &[char], i: &mut usize, f: &str) -> Result<Vec<(String, f64)>> {
        let mut out = vec![];
        while *i < s.len() {
            let c = s[*i];
            if c == '(' || c == '[' {
                *i += 1;
                let inner = group(s, i, f)?;
                let k = count(s, i);
                out.extend(inner.into_iter().map(|(e, n)| (e, n * k)));
            } else if c == ')' || c == ']' {
                *i += 1;
                return Ok(out);
            } else if c.is_ascii_uppercase() {
                let mut e = c.to_string();
                *i += 1;
                if *i < s.len() && s[*i].is_ascii_lowercase() {
                    e.push(s[*i]);
                    *i += 1;
                }
                let k = count(s, i);
                out.push((e, k));
            } else {
                return Err(Error::setting(
                    "formula",
                    format!("`{f}`: unexpected `{c}`"),
                ));
            }
        }
        Ok(out)
    }
    let s: Vec<char> = f.chars().filter(|c| !c.is_whitespace()).collect();
    group(&s, &mut 0, f)
}

/// Descriptors from a perovskite formula.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Composition {
    /// (cation, count, MW) of the A-site cations.
    pub cations: Vec<(String, f64, f64)>,
    /// Count-weighted mean MW of the A-site cations (g/mol).
    pub mean_mw: f64,
    /// Inorganic layers: B-site atoms per formula unit; 100 for 3-D ABX3.
    pub n_layers: f64,
}

/// Parse a perovskite formula into its A-site cations and B-site count.
pub fn composition(formula: &str) -> Result<Composition> {
    let s: Vec<char> = formula.chars().filter(|c| !c.is_whitespace()).collect();
    let mut cations: Vec<(String, f64, f64)> = vec![];
    let mut b = 0.0;
    let mut x = 0.0;
    // walk the formula; `mult` multiplies everything inside a (...)k group
    fn walk(
        s: &[char],
        i: &mut usize,
        mult: f64,
        cations: &mut Vec<(String, f64, f64)>,
        b: &mut f64,
        x: &mut f64,
        f: &str,
    ) -> Result<()> {
        while *i < s.len() {
            let rest: String = s[*i..].iter().collect();
            if let Some((abbr, form)) = CATIONS
                .iter()
                .filter(|(a, _)| rest.starts_with(a))
                .max_by_key(|(a, _)| a.len())
            {
                *i += abbr.chars().count();
                let k = count(s, i) * mult;
                let mw = if *abbr == "Cs" {
                    132.9
                } else {
                    formula_mw(form)?
                };
                cations.push((abbr.to_string(), k, mw));
                continue;
            }
            let c = s[*i];
            if c == '(' || c == '[' {
                // explicit cation formula [..]k, or a group of known parts (..)k
                let close = if c == '(' { ')' } else { ']' };
                let depth_end = {
                    let mut d = 0;
                    let mut j = *i;
                    loop {
                        if j >= s.len() {
                            return Err(Error::setting(
                                "formula",
                                format!("`{f}`: unbalanced `{c}`"),
                            ));
                        }
                        if s[j] == c {
                            d += 1;
                        } else if s[j] == close {
                            d -= 1;
                            if d == 0 {
                                break j;
                            }
                        }
                        j += 1;
                    }
                };
                let inner: String = s[*i + 1..depth_end].iter().collect();
                let mut j = depth_end + 1;
                let k = count(s, &mut j) * mult;
                let only_elements = parse_atoms(&inner).is_ok()
                    && !CATIONS.iter().any(|(a, _)| inner == *a)
                    && !B_SITE.iter().any(|e| inner.contains(e));
                if only_elements && inner.contains('N') {
                    cations.push((inner.clone(), k, formula_mw(&inner)?));
                } else {
                    let chars: Vec<char> = inner.chars().collect();
                    walk(&chars, &mut 0, k, cations, b, x, f)?;
                }
                *i = j;
                continue;
            }
            if c.is_ascii_uppercase() {
                let mut e = c.to_string();
                *i += 1;
                if *i < s.len() && s[*i].is_ascii_lowercase() {
                    e.push(s[*i]);
                    *i += 1;
                }
                let k = count(s, i) * mult;
                if B_SITE.contains(&e.as_str()) {
                    *b += k;
                } else if ["I", "Br", "Cl", "F"].contains(&e.as_str()) {
                    *x += k;
                } else {
                    return Err(Error::setting(
                        "formula",
                        format!(
                            "`{f}`: `{e}` is neither a known cation, a B-site metal nor a halide"
                        ),
                    ));
                }
                continue;
            }
            return Err(Error::setting(
                "formula",
                format!(
                    "`{f}`: cannot read `{c}` (variable stoichiometry such as ClxI1-x is not supported)"
                ),
            ));
        }
        Ok(())
    }
    walk(&s, &mut 0, 1.0, &mut cations, &mut b, &mut x, formula)?;
    if cations.is_empty() || b == 0.0 {
        return Err(Error::setting(
            "formula",
            format!("`{formula}`: no A-site cation or no B-site metal found"),
        ));
    }
    let total: f64 = cations.iter().map(|c| c.1).sum();
    let mean_mw = cations.iter().map(|c| c.1 * c.2).sum::<f64>() / total;
    let three_d = b == 1.0 && (x - 3.0).abs() < 1e-9 && total == 1.0;
    Ok(Composition {
        cations,
        mean_mw,
        n_layers: if three_d { 100.0 } else { b },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_weights() {
        assert!((formula_mw("CH3NH3").unwrap() - (12.011 + 6.0 * 1.008 + 14.007)).abs() < 1e-9);
        assert!(
            (formula_mw("CH(NH2)2").unwrap() - (12.011 + 5.0 * 1.008 + 2.0 * 14.007)).abs() < 1e-9
        );
        assert!(formula_mw("Xx2").is_err());
    }

    #[test]
    fn layers_and_weighted_mw() {
        let c = composition("(BA)2(MA)3Pb4I13").unwrap();
        assert_eq!(c.n_layers, 4.0);
        let (ba, ma) = (
            formula_mw("C4H9NH3").unwrap(),
            formula_mw("CH3NH3").unwrap(),
        );
        assert!((c.mean_mw - (2.0 * ba + 3.0 * ma) / 5.0).abs() < 1e-9);
        let c = composition("PEA2PbI4(MAPbI3)3").unwrap();
        assert_eq!(c.n_layers, 4.0);
        assert_eq!(composition("MAPbI3").unwrap().n_layers, 100.0);
        assert_eq!(composition("CsPbBr3").unwrap().mean_mw, 132.9);
        let e = composition("CH3NH3PbClxI1-x").unwrap_err().to_string();
        assert!(e.contains("CH3NH3PbClxI1-x"), "{e}");
    }
}
