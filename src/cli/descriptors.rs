//! `spinfit descriptors`: a composition's descriptor row.
//!
//! - `--formula F [--radius R]`: what the formula alone gives by the
//!   dataset's rules (MW, chi, n, and t from an organic radius);
//! - `--cation SMILES:count ... --metal Pb --halide I --layers N|3d` (or
//!   `--candidates FILE.csv`): the full row from the molecules (RDKit and
//!   PySCF through scripts/chem/cation.py, cached), optionally with
//!   `--predict MODEL.json` the predicted rate and its uncertainty.

use super::{EXIT_OK, progress};
use crate::dataset::composition::{composition, tolerance_factor};
use crate::descriptors::helper::{Helper, Request, Rule};
use crate::descriptors::{
    Candidate, Part, Row, candidates, describe_each, distinct_cations, parse_layers,
};
use crate::report::descriptors::{FormulaReport, RowsReport};
use anyhow::bail;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct DescriptorsArgs {
    /// A perovskite formula: `(BA)2(MA)3Pb4I13`, `PEA2PbI4`, `[C4H3SCH2NH3]2PbI4`.
    #[arg(long, conflicts_with_all = ["cation", "candidates"])]
    pub formula: Option<String>,
    /// With --formula: count-weighted organic radius r_o in angstrom, for t.
    #[arg(long, requires = "formula")]
    pub radius: Option<f64>,
    /// An A-site cation as SMILES:count (repeat for mixed cations), e.g.
    /// `--cation 'OCC[NH3+]:2' --cation 'NC=[NH2+]:3'`; `[Cs+]` for caesium.
    #[arg(long)]
    pub cation: Vec<String>,
    /// B-site metal (Pb, Sn, Ge).
    #[arg(long, default_value = "Pb")]
    pub metal: String,
    /// Halide (I, Br, Cl).
    #[arg(long, default_value = "I")]
    pub halide: String,
    /// Inorganic layers n, or 3d for a bulk ABX3 perovskite.
    #[arg(long)]
    pub layers: Option<String>,
    /// Name printed for a --cation composition.
    #[arg(long, default_value = "candidate")]
    pub name: String,
    /// Many compositions: CSV with name,cations,metal,halide,layers.
    #[arg(long, conflicts_with = "cation")]
    pub candidates: Option<PathBuf>,
    #[command(flatten)]
    pub chem: ChemArgs,
    /// Write the rows as CSV (compound + descriptor columns), ready for `ml predict`.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A model saved by `ml train`: add its predicted rate with an uncertainty.
    #[arg(long)]
    pub predict: Option<PathBuf>,
    #[arg(long)]
    pub json: bool,
}

/// How cations are computed from SMILES.
#[derive(Debug, Args)]
pub struct ChemArgs {
    /// Conformer: lowest (MMFF94 energy) or extended (longest chain).
    #[arg(long, value_enum, default_value = "lowest")]
    pub rule: Rule,
    /// Cache of computed cations (default ~/.cache/spinfit/cations).
    #[arg(long)]
    pub cache: Option<PathBuf>,
    /// Python with RDKit and PySCF (default: the one scripts/chem-env makes, or $SPINFIT_PYTHON).
    #[arg(long)]
    pub python: Option<PathBuf>,
    /// Low-energy conformers (the chosen one included) over which the
    /// spread of each descriptor is reported.
    #[arg(long, default_value_t = 3)]
    pub spread: usize,
}

impl ChemArgs {
    /// The settings every cation is computed with.
    pub fn settings(&self) -> Request {
        Request {
            spread: self.spread.max(1),
            ..Request::new("", self.rule)
        }
    }

    pub fn helper(&self) -> Helper {
        Helper {
            python: self.python.clone().unwrap_or_else(Helper::default_python),
            cache: self.cache.clone().unwrap_or_else(Helper::default_cache),
        }
    }
}

impl DescriptorsArgs {
    fn candidates(&self) -> anyhow::Result<Vec<Candidate>> {
        if let Some(p) = &self.candidates {
            return Ok(candidates::read(p)?);
        }
        if self.cation.is_empty() {
            bail!("give --formula, --cation SMILES:count (with --layers) or --candidates FILE.csv");
        }
        let Some(layers) = &self.layers else {
            bail!(
                "--layers: the number of inorganic layers (1, 2, ...) or 3d is needed with --cation"
            );
        };
        Ok(vec![Candidate {
            name: self.name.clone(),
            parts: self
                .cation
                .iter()
                .map(|c| c.parse::<Part>())
                .collect::<crate::Result<_>>()?,
            metal: self.metal.clone(),
            halide: self.halide.clone(),
            layers: parse_layers(layers)?,
        }])
    }
}

/// Rows of candidates, computed with a progress bar; those that failed
/// are left out and returned with their reasons.
pub fn rows_of(cands: &[Candidate], chem: &ChemArgs) -> (Vec<Row>, Vec<(String, String)>) {
    let bar = progress(distinct_cations(cands).len(), "cations");
    let out = describe_each(cands, &chem.helper(), &chem.settings(), &|| bar.inc(1));
    bar.finish_and_clear();
    out
}

fn formula_only(a: &DescriptorsArgs, formula: &str) -> anyhow::Result<i32> {
    let c = composition(formula)?;
    let t = match (a.radius, &c.metal, &c.halide) {
        (Some(r), Some(m), Some(x)) => Some(tolerance_factor(r, m, x)?),
        (Some(_), _, _) => bail!(
            "--radius: the tolerance factor needs one B-site metal and one halide; `{formula}` has {} and {}",
            c.metal.as_deref().unwrap_or("several metals"),
            c.halide.as_deref().unwrap_or("several halides")
        ),
        _ => None,
    };
    let report = FormulaReport {
        formula,
        composition: &c,
        radius_a: a.radius,
        tolerance_factor: t,
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(EXIT_OK)
}

pub fn run(a: DescriptorsArgs) -> anyhow::Result<i32> {
    if let Some(f) = &a.formula {
        return formula_only(&a, f);
    }
    let cands = a.candidates()?;
    let (rows, failed) = rows_of(&cands, &a.chem);
    for (name, e) in &failed {
        eprintln!("{name}: {e}");
    }
    let preds = match &a.predict {
        Some(p) => Some(predict_rows(p, &rows, 20)?),
        None => None,
    };
    let report = RowsReport {
        rows: &rows,
        failed: &failed,
        predictions: preds.as_deref(),
    };
    if let Some(p) = &a.out {
        crate::io_util::write_atomic(p, &report.to_csv())?;
        eprintln!("wrote {}", p.display());
    }
    if a.json {
        println!("{}", serde_json::to_string_pretty(&report.to_json())?);
    } else {
        print!("{}", report.to_text());
    }
    Ok(if failed.is_empty() {
        EXIT_OK
    } else {
        super::EXIT_ERROR
    })
}

/// Predicted rates of computed rows by a saved model, with uncertainties.
pub fn predict_rows(
    model: &std::path::Path,
    rows: &[Row],
    members: usize,
) -> anyhow::Result<Vec<crate::ml::ensemble::Prediction>> {
    let m = crate::ml::saved::SavedModel::load(model)?;
    let x = candidates::matrix(rows, &m.features)?;
    let bar = progress(members, "ensemble members");
    let p = m.predict_with_uncertainty(&x, members, &|| bar.inc(1))?;
    bar.finish_and_clear();
    Ok(p)
}
