//! Larmor precession from TRFE/TRKR: one or two damped cosines, the number
//! chosen from the data, and |g| per component from the field.
//!
//! Selection between 1 and 2 cosines reports both information criteria and
//! the F-test F = ((chi2_1 - chi2_2)/(p_2 - p_1)) / (chi2_2/(N - p_2)) with
//! its p-value. The default rule is the lower BIC, provided the 2-cosine fit
//! converged with resolvable, distinct frequencies.

use super::guess::StartGrid;
use super::lm::{self, LmOptions, fit};
use super::precession::Precession;
use super::result::FitResult;
use super::spectrum::{Spectrum, spectrum};
use crate::error::{Error, Result};
use crate::physics::{Quantity, g_from_omega};
use crate::scan::Scan;
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

/// How many cosines to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Components {
    One,
    Two,
    Auto,
}

impl std::str::FromStr for Components {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "1" => Ok(Components::One),
            "2" => Ok(Components::Two),
            "auto" => Ok(Components::Auto),
            _ => Err(Error::setting(
                "components",
                format!("`{s}`, expected 1, 2 or auto"),
            )),
        }
    }
}

/// Rule for choosing the number of cosines.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Criterion {
    Bic,
    Aic,
    /// F-test at this significance level.
    FTest(f64),
}

impl std::fmt::Display for Criterion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Criterion::Bic => write!(f, "BIC"),
            Criterion::Aic => write!(f, "AIC"),
            Criterion::FTest(a) => write!(f, "F-test (alpha = {a})"),
        }
    }
}

/// Settings of a TRFE fit.
#[derive(Debug, Clone)]
pub struct TrfeConfig {
    pub components: Components,
    pub criterion: Criterion,
    pub phase: bool,
    pub decay: bool,
    pub offset: bool,
    /// Magnetic field in T for |g| (from metadata or the command line).
    pub field_t: Option<f64>,
    /// Start points tried per model.
    pub max_starts: usize,
    pub lm: LmOptions,
}

impl Default for TrfeConfig {
    fn default() -> Self {
        TrfeConfig {
            components: Components::Auto,
            criterion: Criterion::Bic,
            phase: false,
            decay: false,
            offset: true,
            field_t: None,
            max_starts: 4,
            lm: LmOptions::default(),
        }
    }
}

/// Statistics behind the choice of the number of cosines.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Selection {
    pub chosen: usize,
    pub criterion: Criterion,
    pub aic: [f64; 2],
    pub bic: [f64; 2],
    pub chisqr: [f64; 2],
    pub f_statistic: f64,
    pub p_value: f64,
    pub reason: String,
}

/// One precessing component.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Carrier {
    pub amplitude: Quantity,
    pub omega: Quantity,
    pub t2: Quantity,
    /// |g| = omega / (mu_B B / hbar), when the field is known.
    pub g: Option<Quantity>,
}

/// Result of a TRFE fit.
#[derive(Debug, Clone)]
pub struct TrfeOutcome {
    pub fit: FitResult,
    pub model: Precession,
    /// Components ordered by decreasing omega.
    pub carriers: Vec<Carrier>,
    pub selection: Option<Selection>,
    pub spectrum: Spectrum,
    pub field_t: Option<f64>,
    pub notes: Vec<String>,
}

fn better(a: &FitResult, b: &FitResult) -> bool {
    (a.success() && !b.success()) || (a.success() == b.success() && a.chisqr < b.chisqr)
}

/// Fit `n` cosines from several starts; the best result, components ordered
/// by decreasing omega.
pub fn fit_n(
    cfg: &TrfeConfig,
    n: usize,
    t: &[f64],
    y: &[f64],
    sigma: Option<&[f64]>,
    grid: &StartGrid,
) -> Result<(Precession, FitResult)> {
    let model = Precession {
        n_cos: n,
        phase: cfg.phase,
        decay: cfg.decay,
        offset: cfg.offset,
    };
    let starts = grid.starts(&model, t, y, cfg.max_starts);
    let mut best: Option<FitResult> = None;
    for s in &starts {
        let r = fit(&model, t, y, sigma, s, &cfg.lm)?;
        if best.as_ref().is_none_or(|b| better(&r, b)) {
            best = Some(r);
        }
    }
    let mut best = best.ok_or_else(|| Error::Fit("no start values could be formed".into()))?;
    if n == 2 && best.value("omega_1") < best.value("omega_2") {
        // swap the blocks so that component 1 precesses faster
        let per = 3 + model.phase as usize;
        let mut p = best.params.clone();
        for j in 0..per {
            let v = p.0[j].value;
            p.0[j].value = p.0[per + j].value;
            p.0[per + j].value = v;
        }
        best = lm::finish(
            &model,
            t,
            y,
            sigma
                .map(|s| s.iter().map(|v| 1.0 / v).collect::<Vec<_>>())
                .as_deref(),
            p,
            best.termination.clone(),
            best.nfev,
            best.absolute_sigma,
        );
    }
    Ok((model, best))
}

fn select(cfg: &TrfeConfig, one: &FitResult, two: &FitResult) -> Selection {
    let n = one.ndata as f64;
    let (p1, p2) = (one.nvarys as f64, two.nvarys as f64);
    let f = ((one.chisqr - two.chisqr) / (p2 - p1)) / (two.chisqr / (n - p2));
    let p_value = match FisherSnedecor::new(p2 - p1, n - p2) {
        Ok(d) if f.is_finite() && f > 0.0 => 1.0 - d.cdf(f),
        _ => 1.0,
    };
    let (w1, w2) = (two.value("omega_1"), two.value("omega_2"));
    let sep = (w1 - w2).abs();
    let sep_err = two.err("omega_1").hypot(two.err("omega_2"));
    let resolvable = two.success()
        && sep > 2.0 * sep_err
        && two.value("amplitude_2").abs() > 2.0 * two.err("amplitude_2");
    let prefers_two = match cfg.criterion {
        Criterion::Bic => two.bic < one.bic,
        Criterion::Aic => two.aic < one.aic,
        Criterion::FTest(alpha) => p_value < alpha,
    };
    let (chosen, reason) = match (prefers_two, resolvable) {
        (true, true) => (2, format!("{} prefers 2 cosines; frequencies differ by {:.2} rad/ns ({:.1} sigma)", cfg.criterion, sep, sep / sep_err)),
        (true, false) => (1, "the 2-cosine fit improves chi-square but its second component is not resolved (did not converge, frequencies within 2 sigma, or amplitude not significant)".to_string()),
        (false, _) => (1, format!("{} does not justify a second cosine", cfg.criterion)),
    };
    Selection {
        chosen,
        criterion: cfg.criterion,
        aic: [one.aic, two.aic],
        bic: [one.bic, two.bic],
        chisqr: [one.chisqr, two.chisqr],
        f_statistic: f,
        p_value,
        reason,
    }
}

/// Fit a TRFE scan (already windowed) with 1, 2 or an automatic number of cosines.
pub fn run(cfg: &TrfeConfig, scan: &Scan) -> Result<TrfeOutcome> {
    let (t, y, s) = (&scan.delay[..], &scan.signal[..], scan.sigma.as_deref());
    if t.len() < 12 {
        return Err(Error::input(
            &scan.source,
            format!(
                "{} points are too few to fit precession (need at least 12)",
                t.len()
            ),
        ));
    }
    if let Some(b) = cfg.field_t
        && !(b.is_finite() && b > 0.0)
    {
        return Err(Error::setting(
            "field",
            format!("{b} T; |g| needs a positive field"),
        ));
    }
    let spec = spectrum(t, y);
    let shape = Precession {
        n_cos: 1,
        phase: cfg.phase,
        decay: cfg.decay,
        offset: cfg.offset,
    };
    let grid = StartGrid::new(&shape, t, y, &spec);
    let (model, fit, selection) = match cfg.components {
        Components::One => {
            let (m, f) = fit_n(cfg, 1, t, y, s, &grid)?;
            (m, f, None)
        }
        Components::Two => {
            let (m, f) = fit_n(cfg, 2, t, y, s, &grid)?;
            (m, f, None)
        }
        Components::Auto => {
            let (m1, f1) = fit_n(cfg, 1, t, y, s, &grid)?;
            let (m2, f2) = fit_n(cfg, 2, t, y, s, &grid)?;
            let sel = select(cfg, &f1, &f2);
            if sel.chosen == 2 {
                (m2, f2, Some(sel))
            } else {
                (m1, f1, Some(sel))
            }
        }
    };
    let carriers: Vec<Carrier> = (0..model.n_cos)
        .map(|k| {
            let q = |base: &str, unit: &'static str| {
                let n = model.pname(base, k);
                Quantity::new(fit.value(&n), fit.err(&n), unit)
            };
            let omega = q("omega", "rad/ns");
            Carrier {
                amplitude: q("amplitude", "signal"),
                g: cfg
                    .field_t
                    .map(|b| g_from_omega(omega.value, omega.stderr, b)),
                omega,
                t2: q("t2", "ps"),
            }
        })
        .collect();
    let mut fit = fit;
    for (k, c) in carriers.iter().enumerate() {
        let a = &c.amplitude;
        if !a.significant(3.0) {
            fit.warnings.push(format!(
                "component {}: amplitude {} is not significant (< 3 sigma): no precession signal",
                k + 1,
                a
            ));
        }
    }
    for (k, c) in carriers.iter().enumerate() {
        if !c.t2.determined() {
            fit.warnings.push(format!(
                "component {}: T2* = {} is not determined (error larger than the value): dephasing far slower than the window, or no signal",
                k + 1,
                c.t2
            ));
        }
    }
    let mut notes = vec![];
    if cfg.field_t.is_none() {
        notes
            .push("no magnetic field given (metadata `field` or --field): |g| not computed".into());
    }
    Ok(TrfeOutcome {
        fit,
        model,
        carriers,
        selection,
        spectrum: spec,
        field_t: cfg.field_t,
        notes,
    })
}
