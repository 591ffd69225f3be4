//! The record of one fitted scan: the fit, the physics derived from it and
//! the provenance. Built by [`super::fit_tr_scan`] and its siblings; written
//! out by `crate::report`.

use crate::fit::adequacy::Adequacy;
use crate::fit::ladder::Rung;
use crate::fit::profile::Interval;
use crate::fit::result::FitResult;
use crate::fit::tr::Lifetime;
use crate::fit::trfe::{Carrier, Selection};
use crate::physics::Quantity;
use crate::scan::{Metadata, ScanKind};

/// Physics derived from a fit.
// one per fitted scan, moved rarely: boxing the larger TRFE variant would
// only add an indirection
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Derived {
    Tr {
        lifetimes: Vec<Lifetime>,
    },
    Trfe {
        carriers: Vec<Carrier>,
        field_t: Option<f64>,
        selection: Option<Selection>,
        /// Every candidate model fitted, with its verdict.
        ladder: Vec<Rung>,
        /// At zero field: the decay's lifetime.
        zero_field_tau: Option<Quantity>,
    },
}

/// Everything reported about one fitted scan.
#[derive(Debug, Clone)]
pub struct FitRecord {
    pub file: String,
    pub kind: ScanKind,
    /// What the fitted signal is, e.g. "SC - CC", "P", "signal".
    pub signal: String,
    pub fit: FitResult,
    pub derived: Derived,
    pub profile: Vec<Interval>,
    /// The residual tests of the fit.
    pub adequacy: Adequacy,
    /// SHA-256 of the input file, when it is a regular file.
    pub input_sha256: Option<String>,
    pub notes: Vec<String>,
    pub meta: Metadata,
}

impl FitRecord {
    /// Simulated data: the header says `synthetic = true`.
    pub fn is_synthetic(&self) -> bool {
        self.meta.0.get("synthetic").is_some_and(|v| v == "true")
    }

    /// The fitted physics, one line each with errors and units:
    /// "tau = 7.76 +/- 0.12 ps" (TR), "omega = ..., T2* = ..., |g| = ..." (TRFE).
    pub fn value_lines(&self) -> Vec<String> {
        match &self.derived {
            Derived::Tr { lifetimes } => lifetimes
                .iter()
                .map(|l| format!("tau = {}", l.tau))
                .collect(),
            Derived::Trfe { carriers, .. } => carriers
                .iter()
                .map(|c| {
                    let g = c.g.map_or(String::new(), |g| format!(", |g| = {g}"));
                    let d = match (&c.sigma_w, &c.dg_inh) {
                        (_, Some(d)) => format!(", dg_inh = {d}"),
                        (Some(w), None) => format!(", sigma_w = {w}"),
                        _ => String::new(),
                    };
                    format!("omega = {}, T2* = {}{g}{d}", c.omega, c.t2)
                })
                .collect(),
        }
    }
}
