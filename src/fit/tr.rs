//! Spin lifetime from transient reflection: plan (model, baseline, start
//! values), then run the fit and report tau and the rate k = 1/tau. The
//! residuals are tested for structure left behind (Ljung-Box and runs
//! tests, [`super::adequacy`]); a fit that fails is "model inadequate".

use super::adequacy::{Adequacy, DEFAULT_ALPHA, assess};
use super::decay::{Baseline, ExpDecay};
use super::guess::{decay_grid_starts, guess_decay};
use super::ladder::Choice;
use super::lm::{LmOptions, fit, refinish};
use super::model::Model;
use super::params::{Param, Params};
use super::result::FitResult;
use crate::error::{Error, Result};
use crate::physics::{Quantity, rate_from_tau};
use crate::scan::Scan;

/// Settings of a TR decay fit.
#[derive(Debug, Clone)]
pub struct TrConfig {
    /// Number of exponentials, 1 to 3.
    pub n_exp: usize,
    /// The number is the data's to choose: when the residual tests reject
    /// `n_exp` exponentials, more (up to 3) are tried and kept when BIC drops
    /// by [`CLIMB_MARGIN`].
    pub climb: bool,
    /// Baseline terms; `None` chooses from the data (offset when there are
    /// pre-time-zero points, a long-lived step always).
    pub baseline: Option<Baseline>,
    /// Fix the IRF FWHM (ps) instead of fitting it.
    pub irf_fwhm: Option<f64>,
    /// Fix time zero (ps) instead of fitting it.
    pub t0: Option<f64>,
    /// Significance level of the residual tests ([`super::adequacy`]).
    pub adequacy_alpha: f64,
    /// The coherent artefact at t0: auto (kept when the window covers the
    /// pulse overlap and BIC drops by [`ARTEFACT_MARGIN`]), on or off.
    pub artefact: Choice,
    pub lm: LmOptions,
}

/// BIC gain another exponential must buy when the residuals reject fewer.
pub const CLIMB_MARGIN: f64 = 10.0;

/// BIC gain the three artefact amplitudes must buy to be kept.
pub const ARTEFACT_MARGIN: f64 = 10.0;

impl Default for TrConfig {
    fn default() -> Self {
        TrConfig {
            n_exp: 1,
            climb: true,
            baseline: None,
            irf_fwhm: None,
            t0: None,
            adequacy_alpha: DEFAULT_ALPHA,
            artefact: Choice::Auto,
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
        if let Some(w) = self.irf_fwhm
            && !(w.is_finite() && w > 0.0)
        {
            return Err(Error::setting(
                "irf_fwhm",
                format!("{w} ps, expected a positive width"),
            ));
        }
        if !(self.adequacy_alpha > 0.0 && self.adequacy_alpha < 1.0) {
            return Err(Error::setting(
                "adequacy_alpha",
                format!("{}, expected a probability in (0, 1)", self.adequacy_alpha),
            ));
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
    /// Significance level of the residual tests.
    pub adequacy_alpha: f64,
    pub artefact: Choice,
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
    /// The model fitted (with the artefact when it was kept).
    pub model: ExpDecay,
    pub fit: FitResult,
    pub lifetimes: Vec<Lifetime>,
    /// The residual tests of the fit.
    pub adequacy: Adequacy,
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
                artefact: false,
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
        artefact: false,
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
        adequacy_alpha: cfg.adequacy_alpha,
        artefact: cfg.artefact,
    })
}

/// Names of component pairs whose lifetimes cannot be told apart: closer
/// than twice their combined standard error, or than 0.1 %.
pub fn degenerate_pairs(model: &ExpDecay, f: &FitResult) -> Vec<(String, String)> {
    let mut out = vec![];
    for a in 0..model.n_exp {
        for b in a + 1..model.n_exp {
            let (na, nb) = (model.names(a).1, model.names(b).1);
            let (ta, tb) = (f.value(&na), f.value(&nb));
            let e = f.err(&na).hypot(f.err(&nb));
            // NaN errors (undetermined) count as unresolved
            let resolved = (ta - tb).abs() > 2.0 * e;
            if (ta - tb).abs() <= 1e-3 * ta.max(tb) || !resolved {
                out.push((na, nb));
            }
        }
    }
    out
}

fn better(a: &FitResult, b: &FitResult) -> bool {
    (a.success() && !b.success()) || (a.success() == b.success() && a.chisqr < b.chisqr)
}

/// Start points: the shape-based guess, then the best lifetime sets of a
/// variable-projection grid (which also finds rising components), so that
/// the fit does not settle on two equal lifetimes (a saddle of chi^2).
fn starts(plan: &TrPlan, scan: &Scan) -> Vec<Params> {
    let mut v = vec![plan.start.clone()];
    v.extend(decay_grid_starts(
        &plan.model,
        &plan.start,
        &scan.delay,
        &scan.signal,
        3,
    ));
    v
}

/// The exponentials renumbered by lifetime, the fastest as tau_1 (a fit's
/// labels otherwise follow the start point it converged from), with the
/// statistics redone for the new order and the warnings kept.
fn fastest_first(model: &ExpDecay, scan: &Scan, best: FitResult) -> FitResult {
    let mut order: Vec<usize> = (0..model.n_exp).collect();
    let tau = |k: usize| best.value(&model.names(k).1);
    order.sort_by(|&a, &b| tau(a).total_cmp(&tau(b)));
    if order.iter().enumerate().all(|(i, &k)| i == k) {
        return best;
    }
    let mut p = best.params.clone();
    for (i, &k) in order.iter().enumerate() {
        // amplitude_k and tau_k sit at 2k and 2k + 1 (ExpDecay::template)
        p.0[2 * i] = Param {
            name: p.0[2 * i].name.clone(),
            ..best.params.0[2 * k].clone()
        };
        p.0[2 * i + 1] = Param {
            name: p.0[2 * i + 1].name.clone(),
            ..best.params.0[2 * k + 1].clone()
        };
    }
    refinish(model, scan.sigma.as_deref(), best, p)
}

/// Run the planned fit from its start points and keep the best: converged,
/// components distinct, lowest chi-square.
pub fn run(plan: &TrPlan, scan: &Scan, lm: &LmOptions) -> Result<TrOutcome> {
    let (t, y, s) = (&scan.delay, &scan.signal, scan.sigma.as_deref());
    let mut notes = plan.notes.clone();
    let mut best: Option<FitResult> = None;
    let all = starts(plan, scan);
    for (i, p) in all.iter().enumerate() {
        let mut r = fit(&plan.model, t, y, s, p, lm)?;
        for (a, b) in degenerate_pairs(&plan.model, &r) {
            r.warnings.push(format!(
                "{a} and {b} cannot be told apart: fit fewer exponentials"
            ));
        }
        if best.as_ref().is_none_or(|b| better(&r, b)) {
            best = Some(r);
        }
        // a single exponential that converged from its shape guess is final
        if i == 0 && plan.model.n_exp == 1 && best.as_ref().is_some_and(FitResult::success) {
            break;
        }
    }
    let mut best = best.ok_or_else(|| Error::Fit("no start values".into()))?;
    // an IRF narrower than the delay steps around time zero cannot be
    // resolved: t0 and the width become degenerate. Fix the width at the
    // sampling limit and refit, saying so.
    let free_irf = plan.start.get("irf_fwhm").is_some_and(|p| p.vary);
    let t0 = best.value("t0");
    let k = t.partition_point(|v| *v < t0).clamp(1, t.len() - 1);
    let step = t[k] - t[k - 1];
    let w = Quantity::new(best.value("irf_fwhm"), best.err("irf_fwhm"), "ps");
    if free_irf && (!w.determined() || w.value < 0.5 * step) {
        let mut p = best.params.clone();
        p.get_mut("irf_fwhm")?.value = step;
        p.get_mut("irf_fwhm")?.vary = false;
        let mut r = fit(&plan.model, t, y, s, &p, lm)?;
        for (a, b) in degenerate_pairs(&plan.model, &r) {
            r.warnings.push(format!(
                "{a} and {b} cannot be told apart: fit fewer exponentials"
            ));
        }
        notes.push(format!(
            "IRF not resolved by the delay step near time zero ({step:.3} ps; fitted FWHM {w}): refitted with the FWHM fixed at {step:.3} ps; give --irf-fwhm if it is known"
        ));
        best = r;
    }
    let mut model = plan.model;
    // the coherent artefact, where the window covers the pulse overlap
    // (an artefact left out of the model narrows the fitted IRF, so the
    // overlap is judged on at least three delay steps either side of t0)
    let (t0, w) = (best.value("t0"), best.value("irf_fwhm"));
    let k0 = t.partition_point(|v| *v < t0).clamp(1, t.len() - 1);
    let reach = w.max(3.0 * (t[k0] - t[k0 - 1]));
    let overlap = if t[0] < t0 {
        t.iter().filter(|x| (*x - t0).abs() < reach).count()
    } else {
        0
    };
    if plan.artefact != Choice::Off && !model.artefact {
        if overlap >= 5 {
            let with = ExpDecay {
                artefact: true,
                ..model
            };
            let mut p = with.template();
            for q in p.0.iter_mut() {
                if let Some(v) = best.params.get(&q.name) {
                    *q = v.clone();
                }
            }
            let mut r = fit(&with, t, y, s, &p, lm)?;
            for (a, b) in degenerate_pairs(&with, &r) {
                r.warnings.push(format!(
                    "{a} and {b} cannot be told apart: fit fewer exponentials"
                ));
            }
            let gain = best.bic - r.bic;
            let keep = plan.artefact == Choice::On
                || (r.termination.success() && r.covariance_ok && gain >= ARTEFACT_MARGIN);
            notes.push(if keep {
                format!("coherent artefact at t0 fitted (BIC lower by {gain:.1}; {overlap} points within {reach:.3} ps of t0)")
            } else {
                format!("coherent artefact at t0 not needed (BIC {} by {:.1}; kept when lower by {ARTEFACT_MARGIN})", if gain >= 0.0 { "lower" } else { "higher" }, gain.abs())
            });
            if keep {
                best = r;
                model = with;
            }
        } else if plan.artefact == Choice::On {
            return Err(Error::input(
                &scan.source,
                format!(
                    "a coherent artefact needs the pulse overlap in the window: {overlap} points lie within {reach:.3} ps of t0 = {t0:.3} ps"
                ),
            ));
        }
    }
    let free_t0 = plan.start.get("t0").is_some_and(|p| p.vary);
    if free_t0 && best.value("t0") + best.value("irf_fwhm") < t[0] {
        best.warnings.push(format!(
            "t0 = {:.3} ps falls before the first delay ({:.3} ps): the data start after the rise, so time zero and the IRF are not determined; give --t0 and --irf-fwhm",
            best.value("t0"),
            t[0]
        ));
    }
    for k in 0..plan.model.n_exp {
        let a = plan.model.names(k).0;
        let (v, e) = (best.value(&a), best.err(&a));
        if !Quantity::new(v, e, "").significant(3.0) {
            best.warnings.push(format!(
                "{a} = {v:.3e} +/- {e:.1e} is not significant (< 3 sigma): no decay signal"
            ));
        }
    }
    if all.len() > 1 && (plan.model.n_exp > 1 || !best.success()) {
        notes.push(format!(
            "{} start points tried; lowest chi-square among converged fits kept",
            all.len()
        ));
    }
    let best = fastest_first(&model, scan, best);
    let adequacy = assess(
        t,
        &best.residual,
        &best.best_fit,
        s,
        plan.adequacy_alpha,
        false,
    );
    let mut lifetimes: Vec<Lifetime> = (0..model.n_exp)
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
        model,
        fit: best,
        lifetimes,
        adequacy,
        notes,
    })
}
