//! The output layer: every result spinfit computes, written out. It stands
//! above the session in the data flow and only reads results:
//!
//! - [`fit`]: one fitted scan (`spinfit.fit/1` JSON, lmfit-style text, CSV
//!   rows) from a [`crate::pipeline::FitRecord`];
//! - [`series`]: a field series (`spinfit.gfactor/1` JSON and text);
//! - [`global`]: a global map fit (`spinfit.global/1` JSON, spectra CSV,
//!   figures);
//! - [`gspectrum`]: g_e, g_h and g_BX versus photon energy
//!   (`spinfit.gspectrum/1`) read back from field-series results;
//! - [`session_out`]: a whole session (tables, JSON, HDF5, figures);
//! - [`figures`]: fit, field-series and g-spectrum figures;
//! - [`ml`]: validation, predictions, SHAP, learning curves, the paper's
//!   study, and their figures;
//! - [`descriptors`]: descriptor rows of formulas and molecules;
//! - [`dataset`]: the descriptors' correlation;
//! - [`progress`]: progress lines of long work.

pub mod dataset;
pub mod descriptors;
pub mod figures;
pub mod fit;
pub mod global;
pub mod gspectrum;
pub mod ml;
pub mod progress;
pub mod series;
pub mod session_out;

pub use fit::{csv_rows, csv_table};
