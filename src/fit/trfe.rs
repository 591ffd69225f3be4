//! Larmor precession from TRFE/TRKR: one or two damped cosines, the model
//! chosen from the data, |g| per component from the field, and a test of
//! the residuals.
//!
//! The model is chosen by the ladder of [`super::ladder`] (phase,
//! exponential background, offset, envelope). A second cosine is a
//! physical claim, accepted only when it passes every test:
//! - evidence: its criterion beats the best one-component candidate,
//!   including the richest one, by [`SECOND_COMPONENT_MARGIN`] (or the
//!   F-test F = ((chi2_1 - chi2_2)/(p_2 - p_1)) / (chi2_2/(N - p_2)) gives
//!   p < alpha);
//! - converged: errors exist, nothing on a bound;
//! - amplitude: both amplitudes above 3 sigma;
//! - envelope: two cosines split by about a line width imitate one carrier
//!   under a faster-than-exponential (g-spread) envelope, so the pair must
//!   also beat the best one-carrier model with the Voigt envelope by the
//!   margin (passed when that model has no g spread: sigma_w on its bound 0);
//! - resolved: |omega_1 - omega_2| exceeds the mean of the two lines'
//!   half-widths (1/T2* for the exponential envelope, sqrt(2 ln 2)/T2* for
//!   the Gaussian, the Voigt width of [`super::precession`]) and 3 standard
//!   errors of the difference;
//! - dephasing: each T2* lasts at least [`MIN_T2_PERIODS`] of its period.
//!
//! Otherwise one component is reported with the test the second failed.
//! The chosen fit's residuals are then tested ([`super::adequacy`]); a fit
//! that fails is "model inadequate": a result with its flag, not a trusted one.

use super::adequacy::{Adequacy, DEFAULT_ALPHA, assess};
use super::average::AVERAGE_WINDOW;
use super::average::{Averaged, average_omega};
use super::guess::{StartGrid, linear_amplitudes};
pub use super::ladder::Criterion;
use super::ladder::{
    Candidate, Choice, Freedom, Rung, Trace, climb, climb_from_simplest, f_test, finish_ladder,
    fit_candidate, fit_fresh, polish, tried,
};
use super::lm::LmOptions;
use super::lm::fit;
use super::model::Model;
use super::precession::{Envelope, Precession};
use super::result::FitResult;
use super::spectrum::{Spectrum, spectrum};
use crate::error::{Error, Result};
use crate::physics::{Quantity, g_from_omega};
use crate::scan::Scan;

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

/// Settings of a TRFE fit.
#[derive(Debug, Clone)]
pub struct TrfeConfig {
    pub components: Components,
    pub criterion: Criterion,
    /// Phase per cosine, exponential background, offset and envelope:
    /// fixed, or chosen by the ladder ([`super::ladder`]).
    pub freedom: Freedom,
    /// Magnetic field in T for |g| (from metadata or the command line).
    pub field_t: Option<f64>,
    /// Start points tried per model.
    pub max_starts: usize,
    /// Significance level of the residual tests ([`super::adequacy`]).
    pub adequacy_alpha: f64,
    pub lm: LmOptions,
}

impl Default for TrfeConfig {
    fn default() -> Self {
        TrfeConfig {
            components: Components::Auto,
            criterion: Criterion::Bic,
            freedom: Freedom::default(),
            field_t: None,
            max_starts: 4,
            adequacy_alpha: DEFAULT_ALPHA,
            lm: LmOptions::default(),
        }
    }
}

impl TrfeConfig {
    /// Check settings before any work.
    pub fn validate(&self) -> Result<()> {
        if self.max_starts == 0 {
            return Err(Error::setting("max_starts", "0, expected at least 1"));
        }
        if !(self.adequacy_alpha > 0.0 && self.adequacy_alpha < 1.0) {
            return Err(Error::setting(
                "adequacy_alpha",
                format!("{}, expected a probability in (0, 1)", self.adequacy_alpha),
            ));
        }
        if let Criterion::FTest(a) = self.criterion
            && !(a > 0.0 && a < 1.0)
        {
            return Err(Error::setting(
                "criterion",
                format!("F-test level {a}, expected a probability in (0, 1)"),
            ));
        }
        if let Some(b) = self.field_t {
            crate::physics::check_field(b)?;
        }
        Ok(())
    }
}

/// The criterion gain a second cosine must reach over the best
/// one-component candidate: 10 in BIC or AIC is "very strong" evidence on
/// Kass and Raftery's scale. A second carrier is a physical claim.
pub const SECOND_COMPONENT_MARGIN: f64 = 10.0;

/// A dephasing time shorter than this fraction of the period is not an
/// oscillation (the cosine has not reached its first zero).
pub const MIN_T2_PERIODS: f64 = 0.25;

/// One test a second component must pass.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    pub detail: String,
}

/// Statistics behind the choice of the number of cosines: the best
/// one-component candidate against the best two-component one.
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
    /// The tests of the second component, in order.
    pub checks: Vec<Check>,
}

/// One precessing component.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Carrier {
    pub amplitude: Quantity,
    pub omega: Quantity,
    /// T2* (exponential, Gaussian envelope), or the homogeneous T2 (Voigt).
    pub t2: Quantity,
    /// |g| = omega / (mu_B B / hbar), when the field is known.
    pub g: Option<Quantity>,
    /// Voigt envelope: the Gaussian spread of Larmor frequencies (rad/ns).
    pub sigma_w: Option<Quantity>,
    /// Voigt envelope and a known field: dg_inh = sigma_w / (mu_B B / hbar).
    pub dg_inh: Option<Quantity>,
    /// Half-width at half maximum of the line (rad/ns): 1/T2* for the
    /// exponential envelope; its error from the covariance of T2 and sigma_w.
    pub hwhm: Quantity,
    /// Other candidates within [`super::average::AVERAGE_WINDOW`] of the criterion: the
    /// chosen model's omega and |g| beside the model-averaged ones. `omega`
    /// and `g` above are the headline: the averaged values when the
    /// candidates disagree by more than their errors, else the chosen
    /// model's.
    pub model_average: Option<ModelAverage>,
}

/// The chosen model's numbers beside the model-averaged ones
/// ([`super::average`]).
#[derive(Debug, Clone, serde::Serialize)]
pub struct ModelAverage {
    pub chosen_omega: Quantity,
    pub chosen_g: Option<Quantity>,
    pub averaged_omega: Quantity,
    pub averaged_g: Option<Quantity>,
    /// Candidates averaged, the chosen one among them.
    pub models: usize,
    pub chosen_weight: f64,
    /// "averaged" (the candidates disagree on omega by more than their
    /// errors) or "chosen".
    pub headline: &'static str,
}

/// Put the model average beside carrier `c` and make it the headline when
/// the candidates disagree.
fn with_average(mut c: Carrier, a: Option<Averaged>, field_t: Option<f64>) -> Carrier {
    let Some(a) = a else { return c };
    let g = |w: &Quantity| field_t.map(|b| g_from_omega(w.value, w.stderr, b.abs()));
    let avg = ModelAverage {
        chosen_omega: c.omega,
        chosen_g: c.g,
        averaged_g: g(&a.omega),
        averaged_omega: a.omega,
        models: a.models,
        chosen_weight: a.chosen_weight,
        headline: if a.disagree { "averaged" } else { "chosen" },
    };
    if a.disagree {
        c.omega = avg.averaged_omega;
        c.g = avg.averaged_g;
    }
    c.model_average = Some(avg);
    c
}

/// Component `k`'s line half-width with its error, propagated through the
/// T2 and sigma_w covariance.
fn line_hwhm(model: &Precession, fit: &FitResult, k: usize) -> Quantity {
    let (nt, ns) = (model.pname("t2", k), model.pname("sigma_w", k));
    let (t2, et) = (fit.value(&nt), fit.err(&nt));
    let (sw, es, r) = if model.voigt() {
        (fit.value(&ns), fit.err(&ns), fit.correlation(&nt, &ns))
    } else {
        (0.0, 0.0, 0.0)
    };
    let (h, dt, ds) = model.envelope.hwhm_and_gradient(t2, sw);
    let var = (dt * et).powi(2) + (ds * es).powi(2) + 2.0 * r * dt * et * ds * es;
    Quantity::new(h, var.max(0.0).sqrt(), "rad/ns")
}

/// Result of a TRFE fit.
#[derive(Debug, Clone)]
pub struct TrfeOutcome {
    pub fit: FitResult,
    pub model: Precession,
    /// Components ordered by decreasing omega.
    pub carriers: Vec<Carrier>,
    pub selection: Option<Selection>,
    /// Every candidate model fitted, with its statistics and verdict.
    pub ladder: Vec<Rung>,
    /// The residual tests of the chosen fit.
    pub adequacy: Adequacy,
    /// At zero field: the lifetime of the decay (no precession).
    pub zero_field_tau: Option<Quantity>,
    pub spectrum: Spectrum,
    pub field_t: Option<f64>,
    pub notes: Vec<String>,
}

/// Tests of the two-component candidate `two` against the best
/// one-component candidate `one`.
fn second_checks(
    cfg: &TrfeConfig,
    one: &Candidate,
    voigt: Option<&Candidate>,
    two: &Candidate,
) -> Vec<Check> {
    let f = &two.fit;
    let mut v = vec![];
    let (ok, detail) = match cfg.criterion {
        Criterion::FTest(alpha) => {
            let (fs, p) = f_test(&one.fit, f);
            (
                p < alpha,
                format!(
                    "F = {fs:.2}, p = {p:.2e} against the best one-component model (alpha {alpha})"
                ),
            )
        }
        c => {
            let g = one.score(c) - two.score(c);
            (
                g >= SECOND_COMPONENT_MARGIN,
                format!(
                    "{c} lower by {g:.1} than the best one-component model {} (needs {SECOND_COMPONENT_MARGIN})",
                    one.model.name_short()
                ),
            )
        }
    };
    v.push(Check {
        name: "evidence",
        passed: ok,
        detail,
    });
    v.push(envelope_check(cfg, voigt, two));
    v.push(Check {
        name: "converged",
        passed: two.converged(),
        detail: if two.converged() {
            "converged with standard errors".into()
        } else {
            f.problems()
        },
    });
    let m = &two.model;
    let amp: Vec<Quantity> = (0..2)
        .map(|k| {
            let n = m.pname("amplitude", k);
            Quantity::new(f.value(&n), f.err(&n), "signal")
        })
        .collect();
    let weak: Vec<String> = amp
        .iter()
        .enumerate()
        .filter(|(_, a)| !a.significant(3.0))
        .map(|(k, a)| format!("amplitude {} = {a}", k + 1))
        .collect();
    v.push(Check {
        name: "amplitude",
        passed: weak.is_empty(),
        detail: if weak.is_empty() {
            "both amplitudes above 3 sigma".into()
        } else {
            format!("{} below 3 sigma", weak.join(", "))
        },
    });
    let (w1, w2) = (f.value("omega_1"), f.value("omega_2"));
    let (t1, t2) = (f.value("t2_1"), f.value("t2_2"));
    let sep = (w1 - w2).abs();
    // the mean of the two half-widths: two Lorentzians of half-widths
    // g1, g2 show two maxima only when they are further apart than about
    // (g1 + g2) / 2 (for equal heights)
    let sig = |k| {
        f.params
            .get(&m.pname("sigma_w", k))
            .map_or(0.0, |q| q.value)
    };
    let width = 0.5 * (m.envelope.hwhm(t1, sig(0)) + m.envelope.hwhm(t2, sig(1)));
    let sep_err = f.err("omega_1").hypot(f.err("omega_2"));
    let resolved = sep > width && sep > 3.0 * sep_err;
    v.push(Check {
        name: "resolved",
        passed: resolved,
        detail: format!(
            "frequencies {w1:.2} and {w2:.2} rad/ns differ by {sep:.2} rad/ns = {:.2} of the lines' mean half-width ({width:.2} rad/ns) and {:.1} errors of the difference (needs more than 1 and 3)",
            sep / width,
            sep / sep_err
        ),
    });
    let short: Vec<String> = [(w1, t1), (w2, t2)]
        .iter()
        .enumerate()
        .filter(|(_, (w, t))| t * w * 1e-3 < MIN_T2_PERIODS * 2.0 * std::f64::consts::PI)
        .map(|(k, (w, t))| {
            format!(
                "component {}: T2* = {t:.1} ps is {:.2} of its period",
                k + 1,
                t * w * 1e-3 / (2.0 * std::f64::consts::PI)
            )
        })
        .collect();
    v.push(Check {
        name: "dephasing",
        passed: short.is_empty(),
        detail: if short.is_empty() {
            format!("each T2* lasts at least {MIN_T2_PERIODS} of its period")
        } else {
            format!("{} (needs at least {MIN_T2_PERIODS})", short.join("; "))
        },
    });
    v
}

/// The pair against the best one-carrier Voigt candidate `voigt` (None when
/// the envelope is fixed or no such candidate was fitted).
fn envelope_check(cfg: &TrfeConfig, voigt: Option<&Candidate>, two: &Candidate) -> Check {
    let (passed, detail) = match voigt {
        None => (
            true,
            "the envelope is fixed: no one-carrier Voigt model to compare".into(),
        ),
        Some(v) if !v.converged() => (
            true,
            format!(
                "one carrier with the Voigt envelope shows no g spread ({})",
                v.fit.problems()
            ),
        ),
        Some(v) => {
            let c = match cfg.criterion {
                Criterion::Aic => Criterion::Aic,
                _ => Criterion::Bic,
            };
            let g = v.score(c) - two.score(c);
            (
                g >= SECOND_COMPONENT_MARGIN,
                format!(
                    "{c} lower by {g:.1} than one carrier with a g spread ({}; needs {SECOND_COMPONENT_MARGIN})",
                    v.model.name_short()
                ),
            )
        }
    };
    Check {
        name: "envelope",
        passed,
        detail,
    }
}

fn selection(cfg: &TrfeConfig, one: &Candidate, two: &Candidate, checks: Vec<Check>) -> Selection {
    let (f, p) = f_test(&one.fit, &two.fit);
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| format!("{} ({})", c.name, c.detail))
        .collect();
    let (chosen, reason) = if failed.is_empty() {
        (
            2,
            format!(
                "a second cosine passes every test: {}",
                checks
                    .iter()
                    .map(|c| c.detail.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )
    } else {
        (
            1,
            format!("one component: the second failed {}", failed.join("; ")),
        )
    };
    Selection {
        chosen,
        criterion: cfg.criterion,
        aic: [one.fit.aic, two.fit.aic],
        bic: [one.fit.bic, two.fit.bic],
        chisqr: [one.fit.chisqr, two.fit.chisqr],
        f_statistic: f,
        p_value: p,
        reason,
        checks,
    }
}

/// Choose one or two cosines: climb the one-component ladder, check it
/// against the richest one-component model, then try two cosines (with no
/// free features and with the one-component choice), climb from the better,
/// and test the second component.
fn choose(
    cfg: &TrfeConfig,
    tr: &Trace,
    rungs: &mut Vec<Rung>,
) -> Result<(Candidate, Option<Selection>)> {
    let crit = cfg.criterion;
    let fr = &cfg.freedom;
    match cfg.components {
        Components::One => Ok((climb_from_simplest(tr, fr, crit, 1, rungs)?, None)),
        Components::Two => Ok((climb_from_simplest(tr, fr, crit, 2, rungs)?, None)),
        Components::Auto => {
            let one0 = fit_candidate(tr, &fr.simplest(1), None)?;
            rungs.push(one0.rung("start: the simplest candidate".into()));
            let two0 = fit_candidate(tr, &fr.simplest(2), None)?;
            let (mut one, clear) = match two_clear_ahead(tr, fr, crit, &one0, &two0)? {
                Some(rich) => (rich, true),
                None => (climb(tr, fr, crit, one0, rungs)?, false),
            };
            if clear {
                rungs.push(one.rung(
                    "kept: the richest one-component model, fitted first; no one-component model can come near two cosines (one-component climb skipped)".into(),
                ));
            }
            let rich = fr.richest(1);
            if !tried(rungs, &rich) {
                let c = fit_candidate(tr, &rich, Some(&one))?;
                let ok = c.converged() && c.score(crit) < one.score(crit);
                rungs.push(c.rung(if ok {
                    "kept: the richest one-component model does better than the climb".into()
                } else {
                    "dropped: the richest one-component model does not improve on the climb".into()
                }));
                if ok {
                    one = c;
                }
            }
            let mut twos = vec![fit_candidate(tr, &fr.simplest(2), None)?];
            rungs.push(twos[0].rung("start of the two-component climb: no free features".into()));
            let like = Precession {
                n_cos: 2,
                ..one.model
            };
            // (after a skipped climb the one-component features are the
            // richest's, not a choice: the climb from the simplest pair decides)
            if like != twos[0].model && !clear {
                let c = fit_candidate(tr, &like, Some(&twos[0]))?;
                rungs.push(
                    c.rung("start of the two-component climb: the one-component features".into()),
                );
                twos.push(c);
            }
            let mut two = twos
                .into_iter()
                .reduce(|a, b| {
                    let better_b =
                        b.converged() && (!a.converged() || b.score(crit) < a.score(crit));
                    if better_b { b } else { a }
                })
                .expect("at least one two-component candidate");
            // climb only when two cosines are in reach: a clear loss by the
            // criterion ends the search (it cannot become a physical claim)
            if two.converged() && one.score(crit) - two.score(crit) > 0.0 {
                two = climb(tr, fr, crit, two, rungs)?;
            }
            let voigt = best_voigt_one(tr, crit);
            let mut checks = second_checks(cfg, &one, voigt.as_ref(), &two);
            if let Some((alt, alt_checks, why)) =
                next_pair(cfg, tr, &one, voigt.as_ref(), &two, &checks)
            {
                rungs
                    .iter_mut()
                    .filter(|g| g.describes(&alt.model))
                    .for_each(|g| g.verdict = why.clone());
                (two, checks) = (alt, alt_checks);
            }
            let sel = selection(cfg, &one, &two, checks);
            Ok(if sel.chosen == 2 {
                (two, Some(sel))
            } else {
                (one, Some(sel))
            })
        }
    }
}

/// How far past [`AVERAGE_WINDOW`] the one-component bound must lie for
/// the one-component climb to be skipped ([`two_clear_ahead`]): room for a
/// richest fit that ended in a worse basin than the climb would reach.
const SKIP_MARGIN: f64 = 30.0;

/// Two cosines clearly ahead of any one-component model: the simplest pair
/// beats the simplest single cosine by more than [`SKIP_MARGIN`] plus the
/// window, and the richest one-component model (fitted from the simplest's
/// optimum; it nests every one-component candidate, so its chi-square is
/// the lowest any of them reaches) with the fewest parameters' penalty,
/// `score - (k_richest - k_simplest) * penalty`, is still that far behind.
/// Then the one-component climb cannot change the choice, the model
/// average or a check's verdict, and is skipped (it costs most of a
/// two-carrier trace's evaluations). Returns the richest candidate then,
/// None otherwise (nothing is recorded: the ladder runs as before).
fn two_clear_ahead(
    tr: &Trace,
    fr: &Freedom,
    crit: Criterion,
    one0: &Candidate,
    two0: &Candidate,
) -> Result<Option<Candidate>> {
    let penalty = match crit {
        Criterion::Bic => (tr.t.len() as f64).ln(),
        Criterion::Aic => 2.0,
        Criterion::FTest(_) => return Ok(None),
    };
    let need = AVERAGE_WINDOW.max(SECOND_COMPONENT_MARGIN) + SKIP_MARGIN;
    let rich = fr.richest(1);
    if !(one0.converged() && two0.converged())
        || one0.score(crit) - two0.score(crit) < need
        || rich == one0.model
    {
        return Ok(None);
    }
    // not through the ladder's memory: when the pair is not clearly
    // ahead, the climb later fits the richest from its own optimum
    let c = fit_fresh(tr, &rich, Some(one0))?;
    let extra = c.fit.nvarys.saturating_sub(one0.fit.nvarys) as f64;
    let bound = (c.score(crit) - extra * penalty).min(one0.score(crit));
    if !(c.converged() && bound - two0.score(crit) >= need) {
        return Ok(None);
    }
    tr.seen.borrow_mut().push(c.clone());
    Ok(Some(c))
}

/// When the best pair `two` fails a check of its own (amplitude,
/// resolved, converged, dephasing: a degenerate pair, e.g. two cosines of
/// nearly one frequency with large opposite amplitudes, which free phases
/// make as good as the true pair), the next two-cosine candidate within
/// [`AVERAGE_WINDOW`] of it that passes every check; with its checks and
/// the verdict for its rung. None when `two` passes or no other pair does.
fn next_pair(
    cfg: &TrfeConfig,
    tr: &Trace,
    one: &Candidate,
    voigt: Option<&Candidate>,
    two: &Candidate,
    checks: &[Check],
) -> Option<(Candidate, Vec<Check>, String)> {
    let own = ["amplitude", "resolved", "converged", "dephasing"];
    let failed: Vec<&str> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(|c| c.name)
        .collect();
    if failed.is_empty() || !failed.iter().any(|f| own.contains(f)) {
        return None;
    }
    let crit = cfg.criterion;
    let mut pairs: Vec<Candidate> = tr
        .seen
        .borrow()
        .iter()
        .filter(|c| c.model.n_cos == 2 && c.model != two.model && c.converged())
        .filter(|c| c.score(crit) - two.score(crit) <= AVERAGE_WINDOW)
        .cloned()
        .collect();
    pairs.sort_by(|a, b| a.score(crit).total_cmp(&b.score(crit)));
    pairs.into_iter().find_map(|c| {
        let v = second_checks(cfg, one, voigt, &c);
        v.iter().all(|k| k.passed).then(|| {
            let why = format!(
                "kept: the best pair {} failed {} (a degenerate pair); this one, {crit} higher by {:.1}, passes every test",
                two.model.name_short(),
                failed.join(", "),
                c.score(crit) - two.score(crit)
            );
            (c, v, why)
        })
    })
}

/// The best one-carrier Voigt candidate fitted on this trace (converged
/// first, then by the criterion).
fn best_voigt_one(tr: &Trace, crit: Criterion) -> Option<Candidate> {
    tr.seen
        .borrow()
        .iter()
        .filter(|c| c.model.n_cos == 1 && c.model.envelope == Envelope::Voigt)
        .min_by(|a, b| {
            (!a.converged())
                .cmp(&!b.converged())
                .then(a.score(crit).total_cmp(&b.score(crit)))
        })
        .cloned()
}

/// At B = 0 there is no precession (eq. 1 gives omega_L = 0): the trace is
/// the zero-field spin decay A exp(-t / tau) [+ c] (230 ps for sample #4 of
/// the Nanoscale paper). The offset is kept when it lowers BIC (unless
/// fixed); the residuals are tested as for any fit.
pub fn run_zero_field(cfg: &TrfeConfig, scan: &Scan) -> Result<TrfeOutcome> {
    let (t, y, s) = (&scan.delay[..], &scan.signal[..], scan.sigma.as_deref());
    if t.len() < 12 {
        return Err(Error::input(
            &scan.source,
            format!(
                "{} points are too few to fit a decay (need at least 12)",
                t.len()
            ),
        ));
    }
    TrfeConfig {
        field_t: None,
        ..cfg.clone()
    }
    .validate()?;
    let span = (t[t.len() - 1] - t[0]).max(1e-9);
    let offsets: &[bool] = match cfg.freedom.offset {
        Choice::On => &[true],
        Choice::Off => &[false],
        Choice::Auto => &[false, true],
    };
    // the same model from three lifetimes: keep the best; then the better
    // of the offset candidates (success first, then BIC)
    let better = |r: &FitResult, b: &FitResult| {
        (r.success() && !b.success()) || (r.success() == b.success() && r.bic < b.bic)
    };
    let mut cands: Vec<Candidate> = vec![];
    for &offset in offsets {
        let model = Precession {
            n_cos: 0,
            phase: false,
            decay: true,
            offset,
            envelope: Default::default(),
            repetition: cfg.freedom.repetition,
        };
        let mut best: Option<FitResult> = None;
        for tau in [span / 10.0, span / 3.0, span] {
            let mut p = model.template();
            p.get_mut("decay_tau")?.value = tau;
            if linear_amplitudes(&model, &mut p, t, y).is_none() {
                continue;
            }
            let r = fit(&model, t, y, s, &p, &cfg.lm)?;
            if best.as_ref().is_none_or(|b| better(&r, b)) {
                best = Some(r);
            }
        }
        if let Some(fit) = best {
            cands.push(Candidate { model, fit });
        }
    }
    let chosen = cands
        .iter()
        .reduce(|a, b| if better(&b.fit, &a.fit) { b } else { a })
        .cloned()
        .ok_or_else(|| Error::Fit("no start values could be formed".into()))?;
    let mut ladder: Vec<Rung> = cands
        .iter()
        .map(|c| {
            c.rung(if c.model == chosen.model {
                "kept".into()
            } else {
                "dropped: higher BIC".into()
            })
        })
        .collect();
    let Candidate { model, mut fit } = chosen.clone();
    let adequacy = assess(t, &fit.residual, &fit.best_fit, s, cfg.adequacy_alpha, true);
    let a = Quantity::new(
        fit.value("decay_amplitude"),
        fit.err("decay_amplitude"),
        "signal",
    );
    if !a.significant(3.0) {
        fit.warnings.push(format!(
            "decay amplitude {a} is not significant (< 3 sigma): no spin signal"
        ));
    }
    let tau = Quantity::new(fit.value("decay_tau"), fit.err("decay_tau"), "ps");
    let spec = spectrum(t, y);
    finish_ladder(&mut ladder, &chosen, cfg.criterion);
    Ok(TrfeOutcome {
        fit,
        model,
        carriers: vec![],
        selection: None,
        ladder,
        adequacy,
        zero_field_tau: Some(tau),
        spectrum: spec,
        field_t: Some(0.0),
        notes: vec!["zero field: no precession; fitted as the zero-field spin decay".into()],
    })
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
    cfg.validate()?;
    let spec = spectrum(t, y);
    let grid = StartGrid::new(t, y, &spec);
    let tr = Trace::new(t, y, s, &grid, &cfg.lm, cfg.max_starts);
    let mut ladder = vec![];
    let (chosen, selection) = choose(cfg, &tr, &mut ladder)?;
    let chosen = polish(&tr, chosen, &mut ladder)?;
    let averages = average_omega(&tr.seen.borrow(), &chosen, cfg.criterion);
    finish_ladder(&mut ladder, &chosen, cfg.criterion);
    let Candidate { model, fit } = chosen;
    let adequacy = assess(t, &fit.residual, &fit.best_fit, s, cfg.adequacy_alpha, true);
    let carriers: Vec<Carrier> = (0..model.n_cos)
        .map(|k| {
            let q = |base: &str, unit: &'static str| {
                let n = model.pname(base, k);
                Quantity::new(fit.value(&n), fit.err(&n), unit)
            };
            let omega = q("omega", "rad/ns");
            let sigma_w = model.voigt().then(|| q("sigma_w", "rad/ns"));
            let g = |w: &Quantity| {
                cfg.field_t
                    .map(|b| g_from_omega(w.value, w.stderr, b.abs()))
            };
            let c = Carrier {
                model_average: None,
                hwhm: line_hwhm(&model, &fit, k),
                amplitude: q("amplitude", "signal"),
                g: g(&omega),
                dg_inh: sigma_w.as_ref().and_then(g),
                sigma_w,
                omega,
                t2: q("t2", "ps"),
            };
            with_average(c, averages[k].clone(), cfg.field_t)
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
        ladder,
        adequacy,
        zero_field_tau: None,
        spectrum: spec,
        field_t: cfg.field_t,
        notes,
    })
}
