//! Least-squares fitting: parameters, models, the Levenberg-Marquardt driver,
//! start values and the fit result.
//!
//! Flow: a [`Model`] and a [`Params`] set (from start-value guesses) go to
//! [`lm::fit`], which returns a [`FitResult`] with errors and statistics.

pub mod adequacy;
pub mod average;
pub mod decay;
pub mod fastmath;
pub mod global;
pub mod guess;
pub mod ladder;
pub mod lm;
pub mod map;
pub mod marquardt;
pub mod model;
pub mod params;
pub mod precession;
pub mod profile;
pub mod result;
pub mod rsa;
pub mod spectrum;
pub mod tr;
pub mod trfe;
pub mod varpro;

pub use decay::{Baseline, ExpDecay};
pub use lm::{LmOptions, Solver, fit};
pub use model::Model;
pub use params::{Param, Params};
pub use precession::{Envelope, Precession};
pub use result::{FitResult, Termination};
