//! Physical constants (CODATA 2018) and the conversions the analysis needs.
//!
//! Larmor precession, eq. (1) of the Nanoscale paper:
//! omega_L = |g| mu_B B / hbar, so |g| = omega_L / (mu_B/hbar * B) with
//! mu_B/hbar = 87.9410 rad ns^-1 T^-1. Spin relaxation rate k = 1/tau with
//! sigma_k = sigma_tau / tau^2.

/// Bohr magneton, J/T.
pub const MU_B: f64 = 9.274_010_078_3e-24;
/// Reduced Planck constant, J s.
pub const HBAR: f64 = 1.054_571_817e-34;
/// Planck constant, J s.
pub const H: f64 = 6.626_070_15e-34;
/// mu_B / hbar in rad ns^-1 T^-1.
pub const MU_B_OVER_HBAR_RAD_PER_NS_T: f64 = MU_B / HBAR * 1e-9;
/// sqrt(2 ln 2): a Gaussian's half-width at half maximum in standard
/// deviations.
pub const GAUSS_HWHM_PER_SIGMA: f64 = 1.177_410_022_515_474_6;

/// A value with its standard error and unit, as reported in JSON.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Quantity {
    pub value: f64,
    /// Standard error; `null` in JSON when undetermined.
    #[serde(serialize_with = "nan_as_null")]
    pub stderr: f64,
    pub unit: &'static str,
}

fn nan_as_null<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    if v.is_finite() {
        s.serialize_f64(*v)
    } else {
        s.serialize_none()
    }
}

impl Quantity {
    pub fn new(value: f64, stderr: f64, unit: &'static str) -> Quantity {
        Quantity {
            value,
            stderr,
            unit,
        }
    }
    /// |value| > k stderr (false when the error is undetermined).
    pub fn significant(&self, k: f64) -> bool {
        self.value.abs() > k * self.stderr
    }
    /// The error is known and smaller than the value.
    pub fn determined(&self) -> bool {
        self.stderr < self.value.abs()
    }
}

impl std::fmt::Display for Quantity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use crate::units::fmt_sig;
        if self.stderr.is_finite() {
            write!(
                f,
                "{} +/- {}",
                fmt_sig(self.value, 5),
                fmt_sig(self.stderr, 2)
            )?;
        } else {
            write!(f, "{} (error undetermined)", fmt_sig(self.value, 5))?;
        }
        if self.unit.is_empty() {
            Ok(())
        } else {
            write!(f, " {}", self.unit)
        }
    }
}

/// |g| from a Larmor frequency (rad/ns) at field B (T), with error
/// propagated from the frequency's error (the field taken as exact).
///
/// ```
/// use spinfit::physics::g_from_omega;
/// // the paper's electron at 430 mT: omega = 58.5 rad/ns -> |g| = 1.547
/// let g = g_from_omega(58.5, 0.3, 0.43);
/// assert!((g.value - 1.547).abs() < 1e-3);
/// ```
pub fn g_from_omega(omega: f64, omega_err: f64, field_t: f64) -> Quantity {
    let k = MU_B_OVER_HBAR_RAD_PER_NS_T * field_t;
    Quantity::new(omega / k, omega_err / k, "")
}

/// Larmor angular frequency (rad/ns) of a carrier with |g| in field B (T).
pub fn omega_from_g(g: f64, field_t: f64) -> f64 {
    g.abs() * MU_B_OVER_HBAR_RAD_PER_NS_T * field_t
}

/// Spin relaxation rate k = 1/tau (ps^-1) with sigma_k = sigma_tau / tau^2.
pub fn rate_from_tau(tau: f64, tau_err: f64) -> Quantity {
    Quantity::new(1.0 / tau, tau_err / (tau * tau), "ps^-1")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn constants_match_physics_md() {
        assert!((MU_B_OVER_HBAR_RAD_PER_NS_T - 87.9410).abs() < 1e-3);
        assert!((GAUSS_HWHM_PER_SIGMA - (2.0 * std::f64::consts::LN_2).sqrt()).abs() < 1e-15);
        assert!((MU_B / H * 1e-9 - 13.9962).abs() < 1e-3);
        let r = rate_from_tau(7.76, 0.84);
        assert!(
            (r.value - 0.12887).abs() < 1e-4 && (r.stderr - 0.84 / 7.76f64.powi(2)).abs() < 1e-12
        );
        assert!((omega_from_g(1.41, 0.43) - 53.32).abs() < 0.01);
    }
}
