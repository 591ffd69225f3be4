//! Spin lifetime from transient reflection: plan (model, baseline, start
//! values), then run the fit and report tau and the rate k = 1/tau.

use super::decay::{Baseline, ExpDecay};
use super::guess::guess_decay;
use super::lm::{LmOptions, fit};
use super::model::Model;
use super::params::Params;
use super::result::FitResult;
use crate::error::{Error, Result};
use crate::physics::{Quantity, rate_from_tau};
use crate::scan::Scan;

/// Settings of a TR decay fit.
#[derive(Debug, Clone)]
pub struct TrConfig {
    /// Number of exponentials, 1 to 3.
    pub n_exp: usize,
    /// Baseline terms; `None` chooses from the data (offset when there are
    /// pre-time-zero points, a long-lived step always).
    pub baseline: Option<Baseline>,
    /// Fix the IRF FWHM (ps) instead of fitting it.
    pub irf_fwhm: Option<f64>,
    /// Fix time zero (ps) instead of fitting it.
    pub t0: Option<f64>,
    pub lm: LmOptions,
}

impl Default for TrConfig {
    fn default() -> Self {
        TrConfig {
            n_exp: 1,
            baseline: None,
            irf_fwhm: None,
            t0: None,
            lm: LmOptions::default(),
        }
    }
}

impl TrConfig {
    /// Check settings before any work.
    pub fn validate(&self) -> Result<()> {
        if !(1..=3).contains(&self.n_exp) {
            return Err(Error::setting(
                "exponentials",
                format!("{} given, expected 1, 2 or 3", self.n_exp),
            ));
        }
        if let Some(w) = self.irf_fwhm {
            if !(w.is_finite() && w > 0.0) {
                return Err(Error::setting(
                    "irf_fwhm",
                    format!("{w} ps, expected a positive width"),
                ));
            }
        }
        Ok(())
    }
}

/// What will be fitted, from where: printable before the fit runs.
#[derive(Debug, Clone)]
pub struct TrPlan {
    pub model: ExpDecay,
    pub start: Params,
    pub notes: Vec<String>,
}

/// A fitted lifetime and its rate.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Lifetime {
    pub tau: Quantity,
    pub rate: Quantity,
    pub amplitude: Quantity,
}

/// The outcome of a TR fit.
#[derive(Debug, Clone)]
pub struct TrOutcome {
    pub fit: FitResult,
    pub lifetimes: Vec<Lifetime>,
    pub notes: Vec<String>,
}

/// Choose model and start values for `scan`.
pub fn plan(cfg: &TrConfig, scan: &Scan) -> Result<TrPlan> {
    cfg.validate()?;
    let (t, y) = (&scan.delay, &scan.signal);
    let mut notes = vec![];
    let baseline = match cfg.baseline {
        Some(b) => b,
        None => {
            let full = ExpDecay {
                n_exp: cfg.n_exp,
                baseline: Baseline::default(),
            };
            let p = guess_decay(&full, t, y, cfg.irf_fwhm, cfg.t0);
            let cut = p.value("t0") - p.value("irf_fwhm");
            let pre = t.iter().filter(|&&x| x < cut).count();
            let offset = pre >= 3;
            notes.push(format!(
                "baseline: long-lived step{}",
                if offset {
                    format!(" + offset ({pre} points before time zero pin it)")
                } else {
                    " only (no pre-time-zero points to pin an offset)".to_string()
                }
            ));
            Baseline { offset, step: true }
        }
    };
    let model = ExpDecay {
        n_exp: cfg.n_exp,
        baseline,
    };
    let npar = model.template().0.len();
    if t.len() <= npar {
        return Err(Error::input(
            &scan.source,
            format!(
                "{} points cannot determine the {npar} parameters of {}",
                t.len(),
                model.name()
            ),
        ));
    }
    let mut start = guess_decay(&model, t, y, cfg.irf_fwhm, cfg.t0);
    if cfg.irf_fwhm.is_some() {
        start.get_mut("irf_fwhm")?.vary = false;
    }
    if cfg.t0.is_some() {
        start.get_mut("t0")?.vary = false;
    }
    Ok(TrPlan {
        model,
        start,
        notes,
    })
}

/// Run the planned fit; when the first start does not converge, lifetimes
/// 3x shorter and longer are tried and the lowest chi-square kept.
pub fn run(plan: &TrPlan, scan: &Scan, lm: &LmOptions) -> Result<TrOutcome> {
    let (t, y, s) = (&scan.delay, &scan.signal, scan.sigma.as_deref());
    let mut best = fit(&plan.model, t, y, s, &plan.start, lm)?;
    let mut notes = plan.notes.clone();
    if !best.success() {
        for f in [0.3, 3.0] {
            let mut p = plan.start.clone();
            for k in 0..plan.model.n_exp {
                let (_, tn) = plan.model.names(k);
                p.get_mut(&tn)?.value *= f;
            }
            let r = fit(&plan.model, t, y, s, &p, lm)?;
            if (r.success() && !best.success())
                || (r.success() == best.success() && r.chisqr < best.chisqr)
            {
                best = r;
            }
        }
        notes.push("first start did not converge cleanly: lifetimes x0.3 and x3 also tried".into());
    }
    let mut lifetimes: Vec<Lifetime> = (0..plan.model.n_exp)
        .map(|k| {
            let (a, tn) = plan.model.names(k);
            let (tau, et) = (best.value(&tn), best.err(&tn));
            Lifetime {
                tau: Quantity::new(tau, et, "ps"),
                rate: rate_from_tau(tau, et),
                amplitude: Quantity::new(best.value(&a), best.err(&a), "signal"),
            }
        })
        .collect();
    lifetimes.sort_by(|a, b| a.tau.value.total_cmp(&b.tau.value));
    Ok(TrOutcome {
        fit: best,
        lifetimes,
        notes,
    })
}
