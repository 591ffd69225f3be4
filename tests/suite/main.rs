//! The integration tests, one binary (one link instead of ten): each module
//! is one area, run by `cargo test --workspace` (a module alone:
//! `cargo test --test suite recovery::`).
//!
//! - chem: descriptors from molecules (RDKit + PySCF) against the paper's sheet
//! - cli: the command line, end to end
//! - dataset: the descriptor dataset, import, append, provenance
//! - global: global analysis of maps (shared lifetimes, chirp, spectra)
//! - hostile: every reader and command on hostile input
//! - ml: predictors, cross-validation, SHAP against scikit-learn and shap
//! - nist: the NIST StRD nonlinear regression problems (certified values)
//! - real_data: measured scans and maps in fixtures/
//! - recovery: simulated truth recovered within its errors; calibration
//! - series: field series to g, dg and g versus energy
//! - session: a lab day's folder to results tables

mod common;

mod chem;
mod cli;
mod dataset;
mod global;
mod hostile;
mod ml;
mod nist;
mod real_data;
mod recovery;
mod series;
mod session;
