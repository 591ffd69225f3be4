//! Fit parameters in the manner of lmfit: a value, optional bounds, fixed or
//! free, and a unit.
//!
//! Bounded parameters are fitted through lmfit's smooth internal variables
//! (MINUIT's transforms), so the optimiser works unconstrained:
//! - both bounds: p = min + (sin(q) + 1) (max - min) / 2
//! - lower only:  p = min - 1 + sqrt(q^2 + 1)
//! - upper only:  p = max + 1 - sqrt(q^2 + 1)

use crate::error::{Error, Result};

/// One named parameter.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Param {
    pub name: String,
    pub value: f64,
    pub min: f64,
    pub max: f64,
    pub vary: bool,
    pub unit: &'static str,
}

impl Param {
    /// A free parameter without bounds.
    pub fn new(name: impl Into<String>, value: f64, unit: &'static str) -> Param {
        Param {
            name: name.into(),
            value,
            min: f64::NEG_INFINITY,
            max: f64::INFINITY,
            vary: true,
            unit,
        }
    }
    /// Set bounds (either may be infinite).
    pub fn bounds(mut self, min: f64, max: f64) -> Param {
        self.min = min;
        self.max = max;
        self
    }
    /// Fix or free the parameter.
    pub fn fixed(mut self, fixed: bool) -> Param {
        self.vary = !fixed;
        self
    }

    /// Map the external value to the internal unbounded variable.
    pub fn to_internal(&self, v: f64) -> f64 {
        let v = v.clamp(self.min, self.max);
        match (self.min.is_finite(), self.max.is_finite()) {
            (true, true) => (2.0 * (v - self.min) / (self.max - self.min) - 1.0)
                .clamp(-1.0, 1.0)
                .asin(),
            (true, false) => ((v - self.min + 1.0).powi(2) - 1.0).sqrt(),
            (false, true) => ((self.max - v + 1.0).powi(2) - 1.0).sqrt(),
            (false, false) => v,
        }
    }
    /// Map the internal variable back to the external value.
    pub fn to_external(&self, q: f64) -> f64 {
        match (self.min.is_finite(), self.max.is_finite()) {
            (true, true) => self.min + (q.sin() + 1.0) * (self.max - self.min) / 2.0,
            (true, false) => self.min - 1.0 + (q * q + 1.0).sqrt(),
            (false, true) => self.max + 1.0 - (q * q + 1.0).sqrt(),
            (false, false) => q,
        }
    }
    /// d(external)/d(internal) at internal value `q`.
    pub fn d_external(&self, q: f64) -> f64 {
        match (self.min.is_finite(), self.max.is_finite()) {
            (true, true) => q.cos() * (self.max - self.min) / 2.0,
            (true, false) => q / (q * q + 1.0).sqrt(),
            (false, true) => -q / (q * q + 1.0).sqrt(),
            (false, false) => 1.0,
        }
    }
    /// True when the value sits on a bound (within a relative 1e-6 of the range
    /// or of the value).
    pub fn at_bound(&self) -> bool {
        let tol = |b: f64| 1e-6 * (b.abs().max(self.value.abs())).max(1e-12);
        (self.min.is_finite() && (self.value - self.min).abs() <= tol(self.min))
            || (self.max.is_finite() && (self.value - self.max).abs() <= tol(self.max))
    }
}

/// An ordered set of parameters, addressed by name.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Params(pub Vec<Param>);

impl Params {
    /// Parameter named `name`.
    pub fn get(&self, name: &str) -> Option<&Param> {
        self.0.iter().find(|p| p.name == name)
    }
    /// Mutable parameter named `name`, or an error naming it.
    pub fn get_mut(&mut self, name: &str) -> Result<&mut Param> {
        // the list of known names only when the name is not among them
        match self.0.iter().position(|p| p.name == name) {
            Some(i) => Ok(&mut self.0[i]),
            None => {
                let known: Vec<&str> = self.0.iter().map(|p| p.name.as_str()).collect();
                Err(Error::setting(
                    name,
                    format!("no such parameter; known: {}", known.join(", ")),
                ))
            }
        }
    }
    /// Value of the parameter named `name` (NaN when absent).
    pub fn value(&self, name: &str) -> f64 {
        self.get(name).map_or(f64::NAN, |p| p.value)
    }
    /// All values in order.
    pub fn values(&self) -> Vec<f64> {
        self.0.iter().map(|p| p.value).collect()
    }
    /// Check that every value is finite, lies within its bounds, and that
    /// bounds are ordered; at least one parameter must vary.
    pub fn validate(&self) -> Result<()> {
        for p in &self.0 {
            if !p.value.is_finite() {
                return Err(Error::setting(&p.name, "start value is not finite"));
            }
            if p.min.is_nan() || p.max.is_nan() || p.min >= p.max {
                return Err(Error::setting(
                    &p.name,
                    format!("bounds [{}, {}] are not an interval", p.min, p.max),
                ));
            }
            if p.value < p.min || p.value > p.max {
                return Err(Error::setting(
                    &p.name,
                    format!(
                        "start value {} lies outside its bounds [{}, {}]",
                        p.value, p.min, p.max
                    ),
                ));
            }
        }
        if !self.0.iter().any(|p| p.vary) {
            return Err(Error::setting("params", "every parameter is fixed"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn transforms_round_trip_and_derivative() {
        let cases = [
            Param::new("a", 2.5, "").bounds(1.0, 4.0),
            Param::new("b", 2.5, "").bounds(1.0, f64::INFINITY),
            Param::new("c", 2.5, "").bounds(f64::NEG_INFINITY, 4.0),
            Param::new("d", 2.5, ""),
        ];
        for p in cases {
            let q = p.to_internal(p.value);
            assert!((p.to_external(q) - p.value).abs() < 1e-12, "{}", p.name);
            let h = 1e-6;
            let fd = (p.to_external(q + h) - p.to_external(q - h)) / (2.0 * h);
            assert!((fd - p.d_external(q)).abs() < 1e-7, "{}", p.name);
        }
    }
    #[test]
    fn validate_names_the_bad_parameter() {
        let ps = Params(vec![Param::new("tau", -1.0, "ps").bounds(0.0, 10.0)]);
        let e = ps.validate().unwrap_err().to_string();
        assert!(e.contains("tau") && e.contains("outside"), "{e}");
    }
}
