//! Descriptors derived from a composition formula, by the rules the
//! paper's sheet follows (physics.md section 5):
//!
//! - MW: count-weighted mean over the A-site cations of the cation's formula
//!   mass (not the perovskite's);
//! - chi: per cation, the arithmetic mean of the Pauling electronegativities
//!   of all its atoms, hydrogens included, rounded to 2 decimals (MA:
//!   (2.55 + 6 x 2.20 + 3.04) / 8 = 2.35); then the count-weighted mean;
//! - n: inorganic layers, B-site atoms per formula unit (100 for a 3-D ABX3
//!   perovskite, the sheet's convention);
//! - t: Goldschmidt t = (r_o + r_X) / (sqrt 2 (r_B + r_X)) from the organic
//!   radius r_o (from the cation's geometry, or given) and Shannon radii.
//!
//! Inorganic Cs counts with the sheet's fixed values (MW 132.9, chi 0.79,
//! r_o 1.88 A).
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

/// Pauling electronegativities (CRC Handbook of Chemistry and Physics,
/// "Electronegativity of the elements", Pauling scale as revised by Allred,
/// J. Inorg. Nucl. Chem. 17, 215 (1961)).
const PAULING: [(&str, f64); 16] = [
    ("H", 2.20),
    ("C", 2.55),
    ("N", 3.04),
    ("O", 3.44),
    ("F", 3.98),
    ("S", 2.58),
    ("Cl", 3.16),
    ("Br", 2.96),
    ("I", 2.66),
    ("Pb", 2.33),
    ("Sn", 1.96),
    ("Ge", 2.01),
    ("Cs", 0.79),
    ("Rb", 0.82),
    ("K", 0.82),
    ("P", 2.19),
];

/// Shannon effective ionic radii (A), R. D. Shannon, Acta Cryst. A32, 751
/// (1976), six-fold coordination; Sn2+ 1.10 A as used in the perovskite
/// tolerance-factor literature and the paper's sheet (Shannon lists no
/// six-coordinate Sn2+).
pub const SHANNON: [(&str, f64); 6] = [
    ("Pb", 1.19),
    ("Sn", 1.10),
    ("Ge", 0.73),
    ("I", 2.20),
    ("Br", 1.96),
    ("Cl", 1.81),
];

/// The sheet's fixed values for inorganic Cs (0 for dipole and orbitals).
pub struct CsValues {
    pub mw: f64,
    pub chi: f64,
    /// bohr^3
    pub polarisability: f64,
    /// A
    pub radius: f64,
}

/// Inorganic Cs as the paper's sheet counts it.
pub const CS: CsValues = CsValues {
    mw: 132.9,
    chi: 0.79,
    polarisability: 59.42,
    radius: 1.88,
};

/// The value of element `e` in a table, or an error naming `what` was
/// wanted for `context` and the elements the table has.
fn lookup(table: &[(&str, f64)], e: &str, context: &str, what: &str) -> Result<f64> {
    table.iter().find(|x| x.0 == e).map(|x| x.1).ok_or_else(|| {
        let known: Vec<&str> = table.iter().map(|x| x.0).collect();
        Error::setting(
            context,
            format!("no {what} for `{e}`; known: {}", known.join(", ")),
        )
    })
}

/// Goldschmidt tolerance factor t = (r_o + r_X) / (sqrt 2 (r_B + r_X)).
///
/// ```
/// use spinfit::dataset::composition::tolerance_factor;
/// // MAPbI3 with the sheet's r_o = 1.4969 A: its t = 0.7711
/// let t = tolerance_factor(1.4969, "Pb", "I").unwrap();
/// assert!((t - 0.77112).abs() < 1e-5);
/// ```
pub fn tolerance_factor(r_o: f64, metal: &str, halide: &str) -> Result<f64> {
    let r = |e: &str| lookup(&SHANNON, e, "tolerance factor", "Shannon radius");
    if !(r_o.is_finite() && r_o > 0.0) {
        return Err(Error::setting(
            "organic radius",
            format!("{r_o} A: expected a positive radius in angstrom"),
        ));
    }
    let (rb, rx) = (r(metal)?, r(halide)?);
    Ok((r_o + rx) / (std::f64::consts::SQRT_2 * (rb + rx)))
}

/// Organic radius r_o (A): half the longest interatomic distance of the
/// cation's geometry, hydrogens included (the sheet's rule, physics.md).
pub fn organic_radius(atoms: &[[f64; 3]]) -> f64 {
    let mut d2 = 0.0f64;
    for (i, a) in atoms.iter().enumerate() {
        for b in &atoms[i + 1..] {
            d2 = d2.max((0..3).map(|k| (a[k] - b[k]).powi(2)).sum());
        }
    }
    0.5 * d2.sqrt()
}

/// Mean Pauling electronegativity over all atoms of an element-only formula.
pub fn formula_chi(f: &str) -> Result<f64> {
    let atoms = parse_atoms(f)?;
    let mut sum = 0.0;
    let mut n = 0.0;
    for (e, k) in &atoms {
        let chi = lookup(&PAULING, e, f, "electronegativity")?;
        sum += chi * k;
        n += k;
    }
    Ok(sum / n)
}

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
        .map(|(e, n)| lookup(&ELEMENTS, e, f, "atomic weight").map(|w| w * n))
        .sum()
}

/// Longest formula read, characters.
pub const MAX_FORMULA_CHARS: usize = 256;
/// Deepest nesting of brackets read.
pub const MAX_FORMULA_DEPTH: usize = 8;

/// The count after an element or group: none is 1; otherwise a positive
/// finite number of at most 1000 (`(BA)0PbI4` is an error, not NaN).
fn count(s: &[char], i: &mut usize, f: &str) -> Result<f64> {
    let start = *i;
    while *i < s.len() && (s[*i].is_ascii_digit() || s[*i] == '.') {
        *i += 1;
    }
    if start == *i {
        return Ok(1.0);
    }
    let text: String = s[start..*i].iter().collect();
    match text.parse::<f64>() {
        Ok(k) if k > 0.0 && k <= 1000.0 => Ok(k),
        _ => Err(Error::setting(
            "formula",
            format!("`{f}`: count `{text}` must be a number in (0, 1000]"),
        )),
    }
}

/// Refuse formulas longer than [`MAX_FORMULA_CHARS`] or nested deeper than
/// [`MAX_FORMULA_DEPTH`] before any recursive walk.
fn check_size(f: &str) -> Result<()> {
    let n = f.chars().count();
    if n > MAX_FORMULA_CHARS {
        return Err(Error::setting(
            "formula",
            format!("{n} characters: longer than the {MAX_FORMULA_CHARS} a composition needs"),
        ));
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in f.chars() {
        match c {
            '(' | '[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_FORMULA_DEPTH {
        return Err(Error::setting(
            "formula",
            format!("brackets nested {deepest} deep: at most {MAX_FORMULA_DEPTH}"),
        ));
    }
    Ok(())
}

/// (element, count) of an element-only formula.
fn parse_atoms(f: &str) -> Result<Vec<(String, f64)>> {
    // depth: brackets open around this group; the whole text must be
    // consumed with every bracket closed, and some element found
    fn group(s: &[char], i: &mut usize, f: &str, depth: usize) -> Result<Vec<(String, f64)>> {
        let mut out = vec![];
        while *i < s.len() {
            let c = s[*i];
            if c == '(' || c == '[' {
                *i += 1;
                let inner = group(s, i, f, depth + 1)?;
                let k = count(s, i, f)?;
                out.extend(inner.into_iter().map(|(e, n)| (e, n * k)));
            } else if c == ')' || c == ']' {
                if depth == 0 {
                    return Err(Error::setting(
                        "formula",
                        format!("`{f}`: `{c}` closes no bracket"),
                    ));
                }
                *i += 1;
                return Ok(out);
            } else if c.is_ascii_uppercase() {
                let mut e = c.to_string();
                *i += 1;
                if *i < s.len() && s[*i].is_ascii_lowercase() {
                    e.push(s[*i]);
                    *i += 1;
                }
                let k = count(s, i, f)?;
                out.push((e, k));
            } else {
                return Err(Error::setting(
                    "formula",
                    format!("`{f}`: unexpected `{c}`"),
                ));
            }
        }
        if depth > 0 {
            return Err(Error::setting(
                "formula",
                format!("`{f}`: unclosed bracket"),
            ));
        }
        Ok(out)
    }
    check_size(f)?;
    let s: Vec<char> = f.chars().filter(|c| !c.is_whitespace()).collect();
    let atoms = group(&s, &mut 0, f, 0)?;
    if atoms.is_empty() {
        return Err(Error::setting("formula", format!("`{f}`: no elements")));
    }
    Ok(atoms)
}

/// One A-site cation of a formula.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Cation {
    /// As written: an abbreviation (`MA`) or a bracketed formula.
    pub name: String,
    /// Element formula (`CH3NH3`), `Cs` for caesium.
    pub formula: String,
    pub count: f64,
    /// Formula mass (g/mol).
    pub mw: f64,
    /// Mean Pauling electronegativity of its atoms, rounded to 2 decimals.
    pub chi: f64,
}

impl Cation {
    fn new(name: &str, formula: &str, count: f64) -> Result<Cation> {
        let (mw, chi) = if formula == "Cs" {
            (CS.mw, CS.chi)
        } else {
            (
                formula_mw(formula)?,
                (formula_chi(formula)? * 100.0).round() / 100.0,
            )
        };
        Ok(Cation {
            name: name.into(),
            formula: formula.into(),
            count,
            mw,
            chi,
        })
    }
}

/// Descriptors from a perovskite formula.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Composition {
    pub cations: Vec<Cation>,
    /// Count-weighted mean MW of the A-site cations (g/mol).
    pub mean_mw: f64,
    /// Count-weighted mean of the cations' electronegativities.
    pub mean_chi: f64,
    /// Inorganic layers: B-site atoms per formula unit; 100 for 3-D ABX3.
    pub n_layers: f64,
    /// B-site metal and halide, when there is one of each.
    pub metal: Option<String>,
    pub halide: Option<String>,
}

impl Composition {
    /// Count-weighted mean of a per-cation value.
    pub fn mean_of(&self, f: impl Fn(&Cation) -> f64) -> f64 {
        let total: f64 = self.cations.iter().map(|c| c.count).sum();
        self.cations.iter().map(|c| c.count * f(c)).sum::<f64>() / total
    }
}

/// What a walk through a formula has found so far.
#[derive(Default)]
struct Found {
    /// Accept unknown cation names in brackets (MW and chi unknown).
    lenient: bool,
    cations: Vec<Cation>,
    b: f64,
    x: f64,
    metals: Vec<String>,
    halides: Vec<String>,
}

/// Index of the bracket closing the one at `open`.
fn closing(s: &[char], open: usize, f: &str) -> Result<usize> {
    let c = s[open];
    let close = if c == '(' { ')' } else { ']' };
    let mut depth = 0;
    for (j, &ch) in s.iter().enumerate().skip(open) {
        if ch == c {
            depth += 1;
        } else if ch == close {
            depth -= 1;
            if depth == 0 {
                return Ok(j);
            }
        }
    }
    Err(Error::setting(
        "formula",
        format!("`{f}`: unbalanced `{c}`"),
    ))
}

/// Walk `s`, multiplying every count by `mult` (the count of an enclosing group).
fn walk(s: &[char], mult: f64, found: &mut Found, f: &str) -> Result<()> {
    let mut i = 0;
    while i < s.len() {
        let rest: String = s[i..].iter().collect();
        if let Some((abbr, form)) = CATIONS
            .iter()
            .filter(|(a, _)| rest.starts_with(a))
            .max_by_key(|(a, _)| a.len())
        {
            i += abbr.chars().count();
            let k = count(s, &mut i, f)? * mult;
            found.cations.push(Cation::new(abbr, form, k)?);
            continue;
        }
        let c = s[i];
        if c == '(' || c == '[' {
            // an explicit cation formula [..]k, or a group of known parts (..)k
            let end = closing(s, i, f)?;
            let inner: String = s[i + 1..end].iter().collect();
            let mut j = end + 1;
            let k = count(s, &mut j, f)? * mult;
            let only_elements = parse_atoms(&inner).is_ok()
                && !CATIONS.iter().any(|(a, _)| inner == *a)
                && !B_SITE.iter().any(|e| inner.contains(e));
            if only_elements && inner.contains('N') {
                found.cations.push(Cation::new(&inner, &inner, k)?);
            } else {
                let chars: Vec<char> = inner.chars().collect();
                let before = (
                    found.cations.len(),
                    found.b,
                    found.x,
                    found.metals.len(),
                    found.halides.len(),
                );
                if let Err(e) = walk(&chars, k, found, f) {
                    if !found.lenient || B_SITE.iter().any(|m| inner.contains(m)) {
                        return Err(e);
                    }
                    // an abbreviation not in the table: a cation by name only
                    found.cations.truncate(before.0);
                    (found.b, found.x) = (before.1, before.2);
                    found.metals.truncate(before.3);
                    found.halides.truncate(before.4);
                    found.cations.push(Cation {
                        name: inner.clone(),
                        formula: String::new(),
                        count: k,
                        mw: f64::NAN,
                        chi: f64::NAN,
                    });
                }
            }
            i = j;
            continue;
        }
        if c.is_ascii_uppercase() {
            let mut e = c.to_string();
            i += 1;
            if i < s.len() && s[i].is_ascii_lowercase() {
                e.push(s[i]);
                i += 1;
            }
            let k = count(s, &mut i, f)? * mult;
            let (total, seen) = if B_SITE.contains(&e.as_str()) {
                (&mut found.b, &mut found.metals)
            } else if ["I", "Br", "Cl", "F"].contains(&e.as_str()) {
                (&mut found.x, &mut found.halides)
            } else {
                return Err(Error::setting(
                    "formula",
                    format!("`{f}`: `{e}` is neither a known cation, a B-site metal nor a halide"),
                ));
            };
            *total += k;
            if !seen.contains(&e) {
                seen.push(e);
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

/// Parse a perovskite formula into its A-site cations, B-site metal and halide.
pub fn composition(formula: &str) -> Result<Composition> {
    parse(formula, false)
}

/// [`composition`], accepting bracketed cation abbreviations that are not in
/// [`CATIONS`] (`(EIA)2PbI4`) as cations known by name only (MW, chi NaN).
pub fn composition_by_name(formula: &str) -> Result<Composition> {
    parse(formula, true)
}

fn parse(formula: &str, lenient: bool) -> Result<Composition> {
    check_size(formula)?;
    let s: Vec<char> = formula.chars().filter(|c| !c.is_whitespace()).collect();
    let mut found = Found {
        lenient,
        ..Found::default()
    };
    walk(&s, 1.0, &mut found, formula)?;
    if found.cations.is_empty() || found.b == 0.0 {
        return Err(Error::setting(
            "formula",
            format!("`{formula}`: no A-site cation or no B-site metal found"),
        ));
    }
    let total: f64 = found.cations.iter().map(|c| c.count).sum();
    let three_d = found.b == 1.0 && (found.x - 3.0).abs() < 1e-9 && total == 1.0;
    let one = |v: Vec<String>| {
        if v.len() == 1 {
            v.into_iter().next()
        } else {
            None
        }
    };
    let mut c = Composition {
        cations: found.cations,
        mean_mw: 0.0,
        mean_chi: 0.0,
        n_layers: if three_d { 100.0 } else { found.b },
        metal: one(found.metals),
        halide: one(found.halides),
    };
    c.mean_mw = c.mean_of(|x| x.mw);
    c.mean_chi = c.mean_of(|x| x.chi);
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (fuzz/corpus/formula): a bracket closing nothing
    /// inside an explicit cation ended the element walk early and gave a
    /// composition of MW -0 with exit 0.
    #[test]
    fn unbalanced_brackets_are_errors_not_empty_cations() {
        for f in ["[)2(MƷ4(CH2N3]2PbI2", "CH3)NH3", "(CH3NH3", "()"] {
            assert!(formula_mw(f).is_err() && composition(f).is_err(), "{f}");
        }
    }

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
        let c = composition("(BA)2(MA)3Pb4I13").unwrap();
        assert_eq!(
            (c.metal.as_deref(), c.halide.as_deref()),
            (Some("Pb"), Some("I"))
        );
        // physics.md: MA's chi = (2.55 + 6 x 2.20 + 3.04) / 8 = 2.35 after rounding
        assert_eq!(composition("MAPbI3").unwrap().mean_chi, 2.35);
        // a 3-4-5 triangle: the longest distance is the hypotenuse
        let r = organic_radius(&[[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [0.0, 4.0, 0.0]]);
        assert!((r - 2.5).abs() < 1e-15);
        assert_eq!(composition("CsPbBr3").unwrap().mean_chi, 0.79);
        assert_eq!(composition("Cs0.5FA0.5PbBrI2").unwrap().halide, None);
        let e = composition("CH3NH3PbClxI1-x").unwrap_err().to_string();
        assert!(e.contains("CH3NH3PbClxI1-x"), "{e}");
    }
}
