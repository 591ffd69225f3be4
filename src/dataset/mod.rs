//! The descriptor dataset of perovskites and their spin relaxation rates
//! (the Chem. Sci. paper's path-B descriptors), stored as a CSV file that
//! people and pandas can read.
//!
//! Schema (one row per compound and measurement; units in the column names):
//! `compound, formula, phase, n_layers, dipole_moment_D, mw_g_per_mol,
//! electronegativity, polarisability_bohr3, organic_radius_A,
//! tolerance_factor, e_homo_eV, e_lumo_eV, gap_eV, rate_per_ps,
//! rate_err_per_ps, source, source_sha256, fit_settings, date, record_id`.
//! `rate` = 1/tau in ps^-1. 3-D bulk is `n_layers = 100` and `phase = 3D`,
//! as in the paper's sheet. Provenance: `source` is a literature reference,
//! an imported sheet, or a measurement (the fit's input file), with its
//! SHA-256 and the fit settings; `record_id` makes appends idempotent.

pub(crate) mod check;
pub mod composition;
pub mod correlation;
mod finding;
pub(crate) mod import;
mod measurement;
pub mod rules;
mod store;

pub use check::check;
pub use finding::Finding;
pub use import::{ImportReport, import};
pub use measurement::{RATE_RANGE, append_fit_file, append_measurement, check_date};
pub use store::{read, write};

/// The ten intrinsic descriptors, in the paper's order: (column, unit, sheet headers).
pub const DESCRIPTORS: [(&str, &str, &[&str]); 10] = [
    (
        "dipole_moment_D",
        "D",
        &["μ", "mu", "dipole", "dipolemoment"],
    ),
    ("mw_g_per_mol", "g/mol", &["mw", "molecularweight"]),
    ("electronegativity", "", &["χ", "chi", "electronegativity"]),
    (
        "polarisability_bohr3",
        "bohr^3",
        &["α", "alpha", "polarisability", "polarizability"],
    ),
    ("organic_radius_A", "Å", &["ro", "r0", "organicradius"]),
    ("tolerance_factor", "", &["t", "tolerancefactor"]),
    ("e_homo_eV", "eV", &["ehomo", "homo"]),
    ("e_lumo_eV", "eV", &["elumo", "lumo"]),
    (
        "gap_eV",
        "eV",
        &["δeh–l", "δeh-l", "Δeh–l", "gap", "dehl", "egap"],
    ),
    ("n_layers", "", &["nlayers", "n", "layers"]),
];

/// One row of the dataset.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Record {
    pub compound: String,
    pub formula: String,
    /// RP, DJ or 3D when known.
    pub phase: String,
    /// The ten descriptors in [`DESCRIPTORS`] order (NaN = missing).
    pub descriptors: [f64; 10],
    /// Spin relaxation rate 1/tau (ps^-1), NaN when missing.
    pub rate: f64,
    pub rate_err: f64,
    pub source: String,
    pub source_sha256: String,
    pub fit_settings: String,
    pub date: String,
    pub record_id: String,
}

/// The dataset: records in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    pub records: Vec<Record>,
}

impl Dataset {
    /// Column `name` (a descriptor column or `rate_per_ps`) as numbers.
    pub fn column(&self, name: &str) -> Option<Vec<f64>> {
        if name == "rate_per_ps" || name == "rate" {
            return Some(self.records.iter().map(|r| r.rate).collect());
        }
        let k = DESCRIPTORS.iter().position(|d| d.0 == name)?;
        Some(self.records.iter().map(|r| r.descriptors[k]).collect())
    }
}
