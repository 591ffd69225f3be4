//! What a global fit takes: its settings, validated when built, and the
//! map as the fit sees it, validated before any work.

use crate::error::{Error, Result};
use crate::fit::decay::Baseline;
use ndarray::Array2;

/// Most exponentials a map fit takes.
pub const MAX_COMPONENTS: usize = 6;
/// Highest chirp polynomial order.
pub const MAX_CHIRP_ORDER: usize = 4;

/// What to fit.
#[derive(Debug, Clone, PartialEq)]
pub struct MapSettings {
    /// Number of exponentials, or None: 1..=`max_components` by BIC.
    pub components: Option<usize>,
    pub max_components: usize,
    pub baseline: Baseline,
    /// The coherent artefact (IRF and its first two derivatives).
    pub artefact: bool,
    /// Order K of the chirp polynomial (0: one t0 for all wavelengths).
    pub chirp_order: usize,
    /// Centre of the chirp polynomial (nm); None: the middle of the range.
    pub lambda_ref_nm: Option<f64>,
    /// Residual evaluations per free shared parameter (+1).
    pub patience: usize,
    /// A chirp to start from (KiMoPack's file): t0 (ps) as a polynomial in
    /// the wavelength (nm), coefficients highest power first, of degree at
    /// most `chirp_order`; refined by the fit.
    pub chirp_start: Option<Vec<f64>>,
}

impl Default for MapSettings {
    fn default() -> Self {
        MapSettings {
            components: None,
            max_components: 4,
            baseline: Baseline {
                offset: true,
                step: false,
            },
            artefact: false,
            chirp_order: 0,
            lambda_ref_nm: None,
            patience: 100,
            chirp_start: None,
        }
    }
}

impl MapSettings {
    /// Every setting in its range.
    pub fn validate(&self) -> Result<()> {
        let range = |name: &str, v: usize, hi: usize| {
            if (1..=hi).contains(&v) {
                Ok(())
            } else {
                Err(Error::setting(name, format!("{v}, expected 1 to {hi}")))
            }
        };
        if let Some(n) = self.components {
            range("components", n, MAX_COMPONENTS)?;
        }
        range("max-components", self.max_components, MAX_COMPONENTS)?;
        if self.chirp_order > MAX_CHIRP_ORDER {
            return Err(Error::setting(
                "chirp-order",
                format!("{}, expected 0 to {MAX_CHIRP_ORDER}", self.chirp_order),
            ));
        }
        if let Some(l) = self.lambda_ref_nm
            && !(l.is_finite() && l > 0.0)
        {
            return Err(Error::setting(
                "lambda-ref",
                format!("{l} nm, expected a positive wavelength"),
            ));
        }
        if let Some(p) = &self.chirp_start
            && (p.is_empty() || p.len() > self.chirp_order + 1 || p.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::setting(
                "chirp",
                format!(
                    "{} coefficients, expected 1 to chirp-order + 1 = {} finite numbers",
                    p.len(),
                    self.chirp_order + 1
                ),
            ));
        }
        range("patience", self.patience, 1 << 20)
    }
}

/// A map as the fit takes it: `data[[l, j]]` at wavelength l, delay j.
#[derive(Debug, Clone, Copy)]
pub struct MapData<'a> {
    /// The file (for messages).
    pub source: &'a str,
    pub wavelength_nm: &'a [f64],
    pub delay_ps: &'a [f64],
    pub data: &'a Array2<f64>,
}

impl MapData<'_> {
    /// Axes that match the data, finite, delays increasing, enough points.
    pub(super) fn validate(&self, n_params: usize) -> Result<()> {
        let (nl, nt) = self.data.dim();
        if nl != self.wavelength_nm.len() || nt != self.delay_ps.len() {
            return Err(Error::input(
                self.source,
                format!(
                    "map of {nl} x {nt} values with {} wavelengths and {} delays",
                    self.wavelength_nm.len(),
                    self.delay_ps.len()
                ),
            ));
        }
        if nl == 0 || nt < 2 * n_params.max(4) {
            return Err(Error::input(
                self.source,
                format!(
                    "map of {nl} wavelengths x {nt} delays is too small for a global fit \
                 (at least 1 wavelength and {} delays)",
                    2 * n_params.max(4)
                ),
            ));
        }
        if !self.delay_ps.windows(2).all(|w| w[1] > w[0]) {
            return Err(Error::input(
                self.source,
                "map delays must increase strictly for a global fit",
            ));
        }
        let first = self.data[[0, 0]];
        if first.is_finite() && self.data.iter().all(|v| *v == first) {
            return Err(Error::input(
                self.source,
                format!(
                    "every value of the map is {first}: it carries no signal to fit \
                     (a dead detector or an empty export?)"
                ),
            ));
        }
        if let Some(((l, j), _)) = self.data.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(Error::input(
                self.source,
                format!(
                    "map value at {} nm, {} ps is not a number; crop it away with \
                 --wl-range/--t-range",
                    self.wavelength_nm[l], self.delay_ps[j]
                ),
            ));
        }
        Ok(())
    }
}
