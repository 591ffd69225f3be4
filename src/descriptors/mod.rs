//! A composition's descriptor row computed from its molecules, before
//! anyone synthesises it (the Chem. Sci. paper's path B):
//!
//! cations (SMILES, count) + B-site metal + halide + inorganic layers
//! -> per cation: HOMO, LUMO, dipole, polarisability and organic radius from
//!    the RDKit/PySCF helper ([`helper`]); MW and chi from its formula by the
//!    dataset's rules ([`crate::dataset::composition`])
//! -> count-weighted means over the A-site cations
//! -> t = (r_o + r_X) / (sqrt 2 (r_B + r_X)) from the mean radius
//! -> a row in the dataset's [`DESCRIPTORS`] order, ready for a model.
//!
//! Inorganic Cs (`[Cs+]`) takes the sheet's fixed values (MW 132.9,
//! chi 0.79, alpha 59.42 bohr^3, r_o 1.88 A, 0 for dipole and orbitals).

pub mod candidates;
pub mod helper;

use crate::dataset::DESCRIPTORS;
use crate::dataset::composition::{CS, formula_chi, formula_mw, tolerance_factor};
use crate::error::{Error, Result};
use helper::{Cation, Helper, Request};

/// One A-site cation and its count per formula unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Part {
    pub smiles: String,
    pub count: f64,
}

impl std::str::FromStr for Part {
    type Err = Error;
    /// `SMILES:count`, e.g. `CCCC[NH3+]:2`.
    fn from_str(s: &str) -> Result<Part> {
        let (smiles, count) = s.rsplit_once(':').ok_or_else(|| {
            Error::setting(
                "cation",
                format!("`{s}`: expected SMILES:count, e.g. CCCC[NH3+]:2"),
            )
        })?;
        let count: f64 = count
            .trim()
            .parse()
            .ok()
            .filter(|c: &f64| c.is_finite() && *c > 0.0)
            .ok_or_else(|| {
                Error::setting(
                    "cation",
                    format!("`{s}`: `{count}` is not a positive count"),
                )
            })?;
        if smiles.trim().is_empty() {
            return Err(Error::setting("cation", format!("`{s}`: empty SMILES")));
        }
        Ok(Part {
            smiles: smiles.trim().to_string(),
            count,
        })
    }
}

/// Inorganic layers: `N` or `3d` (coded 100, the dataset's convention).
pub fn parse_layers(s: &str) -> Result<f64> {
    if s.eq_ignore_ascii_case("3d") {
        return Ok(100.0);
    }
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n >= 1)
        .map(f64::from)
        .ok_or_else(|| {
            Error::setting(
                "layers",
                format!("`{s}`: expected a number of inorganic layers (1, 2, ...) or 3d"),
            )
        })
}

/// A composition to describe.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Candidate {
    pub name: String,
    pub parts: Vec<Part>,
    pub metal: String,
    pub halide: String,
    pub layers: f64,
}

/// One cation's contribution to a row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CationRow {
    pub smiles: String,
    pub formula: String,
    pub count: f64,
    /// Ten descriptors in [`DESCRIPTORS`] order (t and n are the row's);
    /// in JSON an object keyed by the descriptor column names.
    #[serde(serialize_with = "named")]
    pub values: [f64; 10],
    /// The helper's full answer (None for Cs).
    pub helper: Option<Cation>,
}

/// A computed descriptor row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    pub name: String,
    /// Ten descriptors in [`DESCRIPTORS`] order; in JSON an object keyed by
    /// the descriptor column names (`dipole_moment_D`, ...).
    #[serde(serialize_with = "named")]
    pub values: [f64; 10],
    /// Count-weighted (min, max) over each cation's low-energy conformers,
    /// for dipole, alpha, r_o, t, HOMO, LUMO and gap (NaN where not given);
    /// in JSON keyed by column name.
    #[serde(serialize_with = "named")]
    pub spread: [(f64, f64); 10],
    pub cations: Vec<CationRow>,
}

/// Ten per-descriptor values as a JSON object keyed by the column names.
fn named<T: serde::Serialize, S: serde::Serializer>(
    v: &[T; 10],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeMap;
    let mut m = s.serialize_map(Some(10))?;
    for (d, x) in DESCRIPTORS.iter().zip(v) {
        m.serialize_entry(d.0, x)?;
    }
    m.end()
}

fn is_cs(smiles: &str) -> bool {
    smiles == "[Cs+]"
}

/// Element formula of a charged molecular formula: `C4H12N+` -> `C4H12N`.
fn neutral_formula(f: &str) -> String {
    f.split(['+', '-']).next().unwrap_or(f).to_string()
}

fn cation_row(p: &Part, c: Option<Cation>) -> Result<CationRow> {
    let Some(c) = c else {
        let mut v = [0.0; 10];
        v[1] = CS.mw;
        v[2] = CS.chi;
        v[3] = CS.polarisability;
        v[4] = CS.radius;
        return Ok(CationRow {
            smiles: p.smiles.clone(),
            formula: "Cs".into(),
            count: p.count,
            values: v,
            helper: None,
        });
    };
    let f = neutral_formula(&c.formula);
    let d = &c.descriptors();
    let mut v = [f64::NAN; 10];
    v[0] = d.hf.dipole_d;
    v[1] = formula_mw(&f)?;
    v[2] = (formula_chi(&f)? * 100.0).round() / 100.0;
    v[3] = d.hf.polarisability_bohr3;
    v[4] = d.radius_a;
    v[6] = d.hf.homo_ev;
    v[7] = d.hf.lumo_ev;
    v[8] = d.hf.lumo_ev - d.hf.homo_ev;
    Ok(CationRow {
        smiles: p.smiles.clone(),
        formula: f,
        count: p.count,
        values: v,
        helper: Some(c),
    })
}

/// Assemble a candidate's row from its cations' helper answers (in the
/// order of `cand.parts`; None for Cs).
pub fn assemble(cand: &Candidate, answers: Vec<Option<Cation>>) -> Result<Row> {
    let cations: Vec<CationRow> = cand
        .parts
        .iter()
        .zip(answers)
        .map(|(p, c)| cation_row(p, c))
        .collect::<Result<_>>()?;
    let total: f64 = cations.iter().map(|c| c.count).sum();
    let mean =
        |f: &dyn Fn(&CationRow) -> f64| cations.iter().map(|c| c.count * f(c)).sum::<f64>() / total;
    let mut values = [0.0; 10];
    for (k, v) in values.iter_mut().enumerate() {
        *v = mean(&|c: &CationRow| c.values[k]);
    }
    values[5] = tolerance_factor(values[4], &cand.metal, &cand.halide)?;
    values[9] = cand.layers;
    // spread: each cation's conformer range, count-weighted
    type Pick = fn(&helper::Values) -> f64;
    let picks: [(usize, Pick); 5] = [
        (0, |v| v.hf.dipole_d),
        (3, |v| v.hf.polarisability_bohr3),
        (4, |v| v.radius_a),
        (6, |v| v.hf.homo_ev),
        (7, |v| v.hf.lumo_ev),
    ];
    let mut spread = [(f64::NAN, f64::NAN); 10];
    for (k, pick) in picks {
        let range = |c: &CationRow| match &c.helper {
            None => (c.values[k], c.values[k]),
            Some(h) => {
                let r = h.spread(pick);
                (r.min, r.max)
            }
        };
        spread[k] = (
            mean(&|c: &CationRow| range(c).0),
            mean(&|c: &CationRow| range(c).1),
        );
    }
    spread[5] = (
        tolerance_factor(spread[4].0, &cand.metal, &cand.halide).unwrap_or(f64::NAN),
        tolerance_factor(spread[4].1, &cand.metal, &cand.halide).unwrap_or(f64::NAN),
    );
    Ok(Row {
        name: cand.name.clone(),
        values,
        spread,
        cations,
    })
}

/// The distinct molecular cations of `cands` (Cs, which needs no
/// computation, left out), sorted: what [`describe`] computes.
pub fn distinct_cations(cands: &[Candidate]) -> Vec<String> {
    let mut smiles: Vec<String> = cands
        .iter()
        .flat_map(|c| c.parts.iter().map(|p| p.smiles.clone()))
        .filter(|s| !is_cs(s))
        .collect();
    smiles.sort();
    smiles.dedup();
    smiles
}

/// [`describe`] split: the rows of the candidates that could be described,
/// and (name, reason) of those that could not.
pub fn describe_each(
    cands: &[Candidate],
    helper: &Helper,
    settings: &Request,
    tick: &(dyn Fn() + Sync),
) -> (Vec<Row>, Vec<(String, String)>) {
    let (mut rows, mut failed) = (vec![], vec![]);
    for (c, r) in cands.iter().zip(describe(cands, helper, settings, tick)) {
        match r {
            Ok(r) => rows.push(r),
            Err(e) => failed.push((c.name.clone(), e.to_string())),
        }
    }
    (rows, failed)
}

/// Rows of many candidates: every distinct cation computed once (cached),
/// in parallel; `tick` after each of [`distinct_cations`]. A candidate
/// whose cation failed gets that error.
pub fn describe(
    cands: &[Candidate],
    helper: &Helper,
    settings: &Request,
    tick: &(dyn Fn() + Sync),
) -> Vec<Result<Row>> {
    let smiles = distinct_cations(cands);
    let reqs: Vec<Request> = smiles
        .iter()
        .map(|s| Request {
            smiles: s.clone(),
            ..settings.clone()
        })
        .collect();
    let answers: std::collections::HashMap<String, Result<Cation>> = smiles
        .into_iter()
        .zip(helper.compute(&reqs, tick))
        .collect();
    let found = |s: &str| -> Result<Option<Cation>> {
        match answers.get(s) {
            None => Ok(None), // Cs
            Some(Ok(c)) => Ok(Some(c.clone())),
            Some(Err(e)) => Err(Error::setting("cation", e.to_string())),
        }
    };
    cands
        .iter()
        .map(|c| {
            let a = c
                .parts
                .iter()
                .map(|p| found(&p.smiles))
                .collect::<Result<Vec<_>>>()?;
            assemble(c, a)
        })
        .collect()
}

/// Column names and units of a row, in order.
pub fn columns() -> impl Iterator<Item = (&'static str, &'static str)> {
    DESCRIPTORS.iter().map(|d| (d.0, d.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A helper answer with one conformer: two atoms 2 r apart give radius r.
    fn answer(smiles: &str, formula: &str, v: [f64; 5]) -> Cation {
        Cation {
            smiles: smiles.into(),
            canonical_smiles: smiles.into(),
            formula: formula.into(),
            charge: 1,
            settings: serde_json::Value::Null,
            distinct_conformers: 1,
            in_window: 1,
            conformers: vec![helper::Conformer {
                hf: helper::SinglePoint {
                    homo_ev: v[0],
                    lumo_ev: v[1],
                    dipole_d: v[2],
                    polarisability_bohr3: v[3],
                },
                scf_energy_hartree: -1.0,
                mmff_kcal_above_lowest: 0.0,
                geometry: vec![("N".into(), -v[4], 0.0, 0.0), ("C".into(), v[4], 0.0, 0.0)],
            }],
            packages: serde_json::Value::Null,
        }
    }

    #[test]
    fn rows_are_count_weighted_means_with_t_from_the_mean_radius() {
        // the sheet's own per-cation values for PEA and MA (PEA2PbI4,
        // MAPbI3) must give its PEA2PbI4(MAPbI3)3 row by the averaging rule
        let pea = answer(
            "[NH3+]CCc1ccccc1",
            "C8H12N+",
            [-12.112803, -1.974373, 13.304, 84.688667, 4.076008],
        );
        let ma = answer(
            "C[NH3+]",
            "CH6N+",
            [-21.27959, -2.485427, 2.2855, 17.068667, 1.4969],
        );
        let cand = Candidate {
            name: "PEA2PbI4(MAPbI3)3".into(),
            parts: vec![
                "[NH3+]CCc1ccccc1:2".parse().unwrap(),
                "C[NH3+]:3".parse().unwrap(),
            ],
            metal: "Pb".into(),
            halide: "I".into(),
            layers: 4.0,
        };
        let row = assemble(&cand, vec![Some(pea), Some(ma)]).unwrap();
        // sheet: radius 2.5285, t 0.986299, HOMO -15.1... , chi 2.358, n 4
        assert!((row.values[4] - 2.5285).abs() < 1e-4, "{}", row.values[4]);
        assert!((row.values[5] - 0.986299).abs() < 1e-5);
        assert!((row.values[2] - 2.358).abs() < 1e-9);
        assert!((row.values[6] - (2.0 * -12.112803 + 3.0 * -21.27959) / 5.0).abs() < 1e-12);
        assert!((row.values[8] - (row.values[7] - row.values[6])).abs() < 1e-12);
        assert_eq!(row.values[9], 4.0);
        assert_eq!(row.spread[0], (row.values[0], row.values[0]));
        let cs = Candidate {
            name: "CsPbI3".into(),
            parts: vec!["[Cs+]:1".parse().unwrap()],
            metal: "Pb".into(),
            halide: "I".into(),
            layers: 100.0,
        };
        let row = assemble(&cs, vec![None]).unwrap();
        assert!((row.values[5] - 0.851031170277615).abs() < 1e-9);
        assert_eq!(
            (row.values[1], row.values[3], row.values[6]),
            (132.9, 59.42, 0.0)
        );
    }

    #[test]
    fn parts_and_layers_are_read_with_clear_errors() {
        let p: Part = "CCCC[NH3+]:2".parse().unwrap();
        assert_eq!((p.smiles.as_str(), p.count), ("CCCC[NH3+]", 2.0));
        assert!(
            "CCCC[NH3+]"
                .parse::<Part>()
                .unwrap_err()
                .to_string()
                .contains("SMILES:count")
        );
        assert!("C[NH3+]:-1".parse::<Part>().is_err());
        assert_eq!(parse_layers("3D").unwrap(), 100.0);
        assert_eq!(parse_layers("4").unwrap(), 4.0);
        assert!(parse_layers("0").is_err());
        assert_eq!(neutral_formula("C4H12N+"), "C4H12N");
        assert_eq!(neutral_formula("C6H16N2+2"), "C6H16N2");
    }
}
