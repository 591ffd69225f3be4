//! Start values without user help.
//!
//! - decays: from the trace's shape (pre-time-zero level, rise, 1/e point,
//!   late tail);
//! - precession: from the spectrum and a grid over frequency pairs scored by
//!   linear least squares, so that two close lines do not collapse into one.

mod decay;
mod precession;

pub use decay::{decay_grid_starts, guess_decay, lifetime_grid};
pub use precession::{StartGrid, linear_amplitudes, precession_starts};

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}
