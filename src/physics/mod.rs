//! Physics from fitted traces: constants and conversions, g-factors and
//! their spread from field series, and the bulk k.p g-factor model.

mod constants;
pub mod gfactor;
pub mod kp;

pub use constants::*;
