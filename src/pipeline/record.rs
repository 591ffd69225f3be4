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

/// How far a fitted scan's numbers can be trusted, worst last. A session
/// reports every status as a row; the exit code is the worst one's
/// (`crate::cli`: 0 ok or small, 4 inadequate, 3 untrustworthy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Converged with errors, and the residual tests passed.
    Ok,
    /// As `Ok`, but a residual test found something below 1 % of the signal
    /// ("small but present").
    Small,
    /// Converged with errors, but the residuals show structure the model
    /// lacks: the numbers describe a model the data reject.
    Inadequate,
    /// Did not converge, ended on a bound, has no errors or a warning
    /// (e.g. an amplitude not significant).
    Untrustworthy,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Small => "small",
            Status::Inadequate => "inadequate",
            Status::Untrustworthy => "untrustworthy",
        }
    }
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
    /// The fit's status: trust first, then the residual tests.
    pub fn status(&self) -> Status {
        use crate::fit::adequacy::Level;
        if !self.fit.success() {
            return Status::Untrustworthy;
        }
        match self.adequacy.level {
            Level::Adequate => Status::Ok,
            Level::Small => Status::Small,
            Level::Inadequate => Status::Inadequate,
        }
    }

    /// Everything that limits the numbers, in one line ("" when nothing):
    /// the fit's problems, then the residual verdict with its size.
    pub fn problems(&self) -> String {
        let mut v = vec![];
        let p = self.fit.problems();
        if !p.is_empty() {
            v.push(p);
        }
        let a = self.adequacy.summary();
        if !a.is_empty() {
            v.push(a);
        }
        v.join("; ")
    }

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
