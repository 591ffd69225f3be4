//! # spinfit
//!
//! Ultrafast spin spectroscopy of halide perovskites, from raw pump-probe
//! scans to physics. The modules follow the data flow:
//!
//! 1. [`scan`]: read delimited text, 2-D maps (Glotaran ASCII, matrix CSV)
//!    and HDF5 into a [`scan::Scan`] with metadata and units;
//! 2. [`preprocess`]: sort and merge repeated delays, SC - CC spin signal,
//!    fit windows;
//! 3. [`fit`]: Levenberg-Marquardt with bounds, IRF-convolved exponential
//!    decays and damped Larmor cosines, start values and model selection;
//! 4. [`physics`]: constants and conversions (omega_L = |g| mu_B B / hbar);
//! 5. [`simulate`]: synthetic scans with known truth for tests and demos;
//! 6. [`plot`]: figures of data, fits and residuals.
//!
//! Internal units: delays in ps, angular frequencies in rad/ns, fields in T,
//! photon energies in eV.

pub mod cli;
pub mod dataset;
pub mod descriptors;
pub mod error;
pub mod fit;
pub mod io_util;
pub mod labconfig;
pub mod ml;
pub mod physics;
pub mod pipeline;
pub mod plot;
pub mod preprocess;
pub mod report;
pub mod scan;
pub mod series;
pub mod session;
pub mod simulate;
pub mod units;

pub use error::{Error, Result};
