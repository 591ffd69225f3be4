//! The outcome of one fit: parameters with standard errors, correlations,
//! statistics and why the optimiser stopped; printed as an lmfit-style report.
//!
//! chi^2 = sum (r_i / sigma_i)^2, chi^2_red = chi^2 / (N - P),
//! AIC = N ln(chi^2 / N) + 2P, BIC = N ln(chi^2 / N) + ln(N) P (lmfit's forms).

use super::params::Params;
use std::fmt;

/// Why the optimiser stopped.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Termination {
    /// Relative change of chi^2 (ftol) and/or parameters (xtol) below tolerance.
    Converged { ftol: bool, xtol: bool },
    /// The gradient is orthogonal to the residuals (gtol): a stationary point.
    Orthogonal,
    /// The residuals are exactly zero.
    ResidualsZero,
    /// The evaluation budget ran out before convergence.
    MaxEvaluations,
    /// The tolerances are tighter than machine precision allows.
    NoImprovementPossible { detail: String },
    /// The model produced NaN or infinity.
    Numerical { detail: String },
    /// Any other stop reported by the optimiser.
    Other { detail: String },
}

impl Termination {
    /// Did the optimiser reach a minimum?
    pub fn success(&self) -> bool {
        matches!(
            self,
            Termination::Converged { .. }
                | Termination::Orthogonal
                | Termination::ResidualsZero
                // MINPACK reports this when the optimum is already met to
                // machine precision; the result is a minimum.
                | Termination::NoImprovementPossible { .. }
        )
    }
}

impl From<&levenberg_marquardt::TerminationReason> for Termination {
    fn from(t: &levenberg_marquardt::TerminationReason) -> Self {
        use levenberg_marquardt::TerminationReason as T;
        match t {
            T::Converged { ftol, xtol } => Termination::Converged {
                ftol: *ftol,
                xtol: *xtol,
            },
            T::Orthogonal => Termination::Orthogonal,
            T::ResidualsZero => Termination::ResidualsZero,
            T::LostPatience => Termination::MaxEvaluations,
            T::NoImprovementPossible(s) => Termination::NoImprovementPossible {
                detail: s.to_string(),
            },
            T::Numerical(s) | T::User(s) => Termination::Numerical {
                detail: s.to_string(),
            },
            other => Termination::Other {
                detail: format!("{other:?}"),
            },
        }
    }
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Termination::Converged { ftol, xtol } => {
                let what: Vec<&str> = [(*ftol, "chi-square"), (*xtol, "parameters")]
                    .iter()
                    .filter(|(b, _)| *b)
                    .map(|(_, s)| *s)
                    .collect();
                write!(f, "converged ({} stopped changing)", what.join(" and "))
            }
            Termination::Orthogonal => write!(f, "converged (gradient vanished)"),
            Termination::ResidualsZero => write!(f, "converged (residuals are zero)"),
            Termination::MaxEvaluations => {
                write!(f, "NOT converged: evaluation limit reached")
            }
            Termination::NoImprovementPossible { detail } => {
                write!(f, "converged to machine precision ({detail})")
            }
            Termination::Numerical { detail } => {
                write!(f, "NOT converged: model not finite ({detail})")
            }
            Termination::Other { detail } => write!(f, "NOT converged: {detail}"),
        }
    }
}

/// Result of one least-squares fit.
#[derive(Debug, Clone)]
pub struct FitResult {
    pub model: String,
    /// Parameters at the optimum (fixed ones unchanged).
    pub params: Params,
    /// Standard error per parameter (None: fixed, at a bound, or singular).
    pub stderr: Vec<Option<f64>>,
    /// Correlation matrix over all parameters (NaN where undefined).
    pub correl: Vec<Vec<f64>>,
    pub chisqr: f64,
    pub redchi: f64,
    pub aic: f64,
    pub bic: f64,
    pub ndata: usize,
    pub nvarys: usize,
    pub nfev: usize,
    pub termination: Termination,
    /// False when J^T J was singular and no errors could be computed.
    pub covariance_ok: bool,
    /// True when per-point sigmas were taken as absolute (errors not scaled
    /// by reduced chi-square).
    pub absolute_sigma: bool,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub best_fit: Vec<f64>,
    pub residual: Vec<f64>,
    /// Problems found after the fit that make it untrustworthy even though
    /// the optimiser converged (e.g. two components that collapsed into one).
    pub warnings: Vec<String>,
}

impl FitResult {
    /// Converged, and every free parameter has an error and is off its bounds.
    pub fn success(&self) -> bool {
        self.termination.success()
            && self.covariance_ok
            && self.at_bounds().is_empty()
            && self.warnings.is_empty()
    }
    /// Why the fit is not trustworthy, in one line (empty when it is).
    pub fn problems(&self) -> String {
        let mut v = vec![];
        if !self.termination.success() {
            v.push(self.termination.to_string());
        }
        if !self.covariance_ok {
            v.push("no standard errors (singular covariance)".into());
        }
        let at = self.at_bounds();
        if !at.is_empty() {
            v.push(format!("at a bound: {}", at.join(", ")));
        }
        v.extend(self.warnings.iter().cloned());
        v.join("; ")
    }
    /// Names of free parameters that ended on a bound.
    pub fn at_bounds(&self) -> Vec<&str> {
        self.params
            .0
            .iter()
            .filter(|p| p.vary && p.at_bound())
            .map(|p| p.name.as_str())
            .collect()
    }
    /// Value of parameter `name` (NaN when absent).
    pub fn value(&self, name: &str) -> f64 {
        self.params.value(name)
    }
    /// Standard error of parameter `name` (NaN when undefined).
    pub fn err(&self, name: &str) -> f64 {
        self.params
            .0
            .iter()
            .position(|p| p.name == name)
            .and_then(|j| self.stderr[j])
            .unwrap_or(f64::NAN)
    }
    /// Correlation between two named parameters.
    pub fn correlation(&self, a: &str, b: &str) -> f64 {
        let idx = |n: &str| self.params.0.iter().position(|p| p.name == n);
        match (idx(a), idx(b)) {
            (Some(i), Some(j)) => self.correl[i][j],
            _ => f64::NAN,
        }
    }
}

pub use crate::units::fmt_sig;

impl fmt::Display for FitResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "[[Model]]\n    {}", self.model)?;
        writeln!(f, "[[Fit Statistics]]")?;
        writeln!(f, "    # fitting method   = Levenberg-Marquardt")?;
        writeln!(f, "    # function evals   = {}", self.nfev)?;
        writeln!(f, "    # data points      = {}", self.ndata)?;
        writeln!(f, "    # variables        = {}", self.nvarys)?;
        writeln!(f, "    chi-square         = {}", fmt_sig(self.chisqr, 6))?;
        writeln!(f, "    reduced chi-square = {}", fmt_sig(self.redchi, 6))?;
        writeln!(f, "    Akaike info crit   = {:.2}", self.aic)?;
        writeln!(f, "    Bayesian info crit = {:.2}", self.bic)?;
        writeln!(f, "    termination        = {}", self.termination)?;
        writeln!(
            f,
            "    errors             = {}",
            if !self.covariance_ok {
                "NOT available (singular covariance: parameters not independent)"
            } else if self.absolute_sigma {
                "from the given per-point sigmas (absolute)"
            } else {
                "scaled by reduced chi-square"
            }
        )?;
        writeln!(f, "[[Variables]]")?;
        let w = self
            .params
            .0
            .iter()
            .map(|p| p.name.len())
            .max()
            .unwrap_or(0);
        for (j, p) in self.params.0.iter().enumerate() {
            let unit = if p.unit.is_empty() {
                String::new()
            } else {
                format!(" {}", p.unit)
            };
            write!(
                f,
                "    {:w$}  {}",
                format!("{}:", p.name),
                fmt_sig(p.value, 6)
            )?;
            if !p.vary {
                writeln!(f, "{unit} (fixed)")?;
                continue;
            }
            match self.stderr[j] {
                Some(e) => {
                    let pct = if p.value != 0.0 {
                        100.0 * e / p.value.abs()
                    } else {
                        f64::NAN
                    };
                    write!(f, " +/- {}{unit} ({:.2}%)", fmt_sig(e, 3), pct)?
                }
                None => write!(f, "{unit} +/- (undetermined)")?,
            }
            if p.at_bound() {
                write!(f, " AT BOUND [{}, {}]", p.min, p.max)?;
            }
            writeln!(f)?;
        }
        let mut pairs = vec![];
        for a in 0..self.params.0.len() {
            for b in a + 1..self.params.0.len() {
                let c = self.correl[a][b];
                if c.is_finite() && c.abs() >= 0.1 {
                    pairs.push((c, a, b));
                }
            }
        }
        for w in &self.warnings {
            writeln!(f, "    WARNING: {w}")?;
        }
        if !pairs.is_empty() {
            pairs.sort_by(|x, y| y.0.abs().total_cmp(&x.0.abs()));
            writeln!(f, "[[Correlations]] (unreported correlations are < 0.100)")?;
            for (c, a, b) in pairs {
                writeln!(
                    f,
                    "    C({}, {}) = {:+.4}",
                    self.params.0[a].name, self.params.0[b].name, c
                )?;
            }
        }
        Ok(())
    }
}
