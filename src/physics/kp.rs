//! Bulk g-factors of cubic lead-halide perovskites from k.p theory
//! (Kirstein et al., Nat. Commun. 13, 3062 (2022), eqs. 5-6), drawn beside
//! measured g(E):
//!
//! g_h = 2 - (4/3) (p^2/m0) [1/E_g - 1/(E_g + Delta)]
//! g_e = -2/3 + (4/3) (p^2/m0) / E_g + dg_e
//!
//! with their universal parameters Delta = 1.5 eV, p^2/m0 = 6.07 eV
//! (hbar p/m0 = 6.8 eV A, hbar^2/m0 = 7.6199 eV A^2), dg_e = -1.

/// Parameters of the k.p model.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct KpParams {
    /// Spin-orbit splitting Delta (eV).
    pub delta: f64,
    /// Kane energy p^2/m0 (eV).
    pub p2_m0: f64,
    /// Remote-band correction to g_e.
    pub dg_e: f64,
}

impl Default for KpParams {
    fn default() -> Self {
        KpParams {
            delta: 1.5,
            p2_m0: 6.8f64.powi(2) / 7.6199,
            dg_e: -1.0,
        }
    }
}

impl KpParams {
    /// The defaults with any of the three replaced, checked: Delta and
    /// p^2/m0 positive energies (eV), dg_e finite; the error names the setting.
    pub fn with(
        delta: Option<f64>,
        p2_m0: Option<f64>,
        dg_e: Option<f64>,
    ) -> crate::Result<KpParams> {
        let d = KpParams::default();
        let k = KpParams {
            delta: delta.unwrap_or(d.delta),
            p2_m0: p2_m0.unwrap_or(d.p2_m0),
            dg_e: dg_e.unwrap_or(d.dg_e),
        };
        for (name, v) in [("delta", k.delta), ("p2-m0", k.p2_m0)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(crate::Error::setting(
                    name,
                    format!("{v}: expected a positive energy in eV"),
                ));
            }
        }
        if !k.dg_e.is_finite() {
            return Err(crate::Error::setting(
                "dg-e",
                format!("{}: expected a finite number", k.dg_e),
            ));
        }
        Ok(k)
    }
}

/// (g_e, g_h) at band gap `eg` (eV).
///
/// ```
/// use spinfit::physics::kp::{KpParams, g_bulk};
/// let (ge, gh) = g_bulk(1.652, &KpParams::default());
/// assert!((ge - 3.23).abs() < 0.01 && (gh + 0.33).abs() < 0.01);
/// ```
pub fn g_bulk(eg: f64, p: &KpParams) -> (f64, f64) {
    let gh = 2.0 - 4.0 / 3.0 * p.p2_m0 * (1.0 / eg - 1.0 / (eg + p.delta));
    let ge = -2.0 / 3.0 + 4.0 / 3.0 * p.p2_m0 / eg + p.dg_e;
    (ge, gh)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn physics_md_check_values() {
        let p = KpParams::default();
        assert!((p.p2_m0 - 6.07).abs() < 0.005);
        let (ge, gh) = g_bulk(2.352, &p);
        assert!(
            (ge - 1.77).abs() < 0.01 && (gh - 0.66).abs() < 0.01,
            "{ge} {gh}"
        );
    }
}
