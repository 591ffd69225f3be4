//! Physics from fitted traces: constants and conversions, g-factors and
//! their spread from field series, and the bulk k.p g-factor model.

mod constants;
pub mod gfactor;
pub mod kp;

pub use constants::*;

/// Smallest field from which a g-factor is taken, T: below it |g| would
/// come out above 1e4 for any resolvable precession (a units mistake).
pub const MIN_FIELD_T: f64 = 1e-6;

/// Largest field accepted, T: beyond the strongest pulsed magnets; `430T`
/// for `430mT` would otherwise give a |g| a thousand times too small.
pub const MAX_FIELD_T: f64 = 100.0;

/// A field a g-factor can come from: finite, non-zero,
/// [`MIN_FIELD_T`] <= |B| <= [`MAX_FIELD_T`].
pub fn check_field(b: f64) -> crate::Result<()> {
    if !(b.is_finite() && b != 0.0) {
        return Err(crate::Error::setting(
            "field",
            format!(
                "{b} T; |g| needs a non-zero field (at B = 0 the trace is a decay: fit it with a series, or as TR)"
            ),
        ));
    }
    if b.abs() < MIN_FIELD_T {
        return Err(crate::Error::setting(
            "field",
            format!(
                "{b:e} T is below 1 uT: |g| would come out above 1e4 for any precession; is the unit right (e.g. 420mT)?"
            ),
        ));
    }
    if b.abs() > MAX_FIELD_T {
        return Err(crate::Error::setting(
            "field",
            format!(
                "{b} T is beyond any laboratory magnet (100 T): is the unit right (e.g. 430mT)?"
            ),
        ));
    }
    Ok(())
}
