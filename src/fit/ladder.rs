//! Model choice for precession traces: a ladder of nested candidates.
//!
//! Real traces carry more than eq. 2: a phase per cosine (a window that
//! starts after the pump, a time-zero offset, a detuned probe), a
//! non-oscillating exponential, an offset, and an envelope between the
//! exponential (Lorentzian g spread) and the Gaussian one. Each of these is
//! a feature the user may fix (`On`/`Off`) or leave to the data (`Auto`).
//!
//! The climb starts at the simplest candidate (every free feature off,
//! exponential envelope) and, step by step, tries flipping each free
//! feature not yet flipped; the flip that lowers the criterion most is
//! kept, and the climb stops when no flip lowers it. With BIC (default) or
//! AIC the score is the criterion itself; with an F-test a flip that adds
//! parameters is kept when p < alpha, one that keeps their number when it
//! lowers chi-square. Every candidate fitted is a [`Rung`] with its
//! chi-square, BIC and verdict, printed as the ladder.
//!
//! Each candidate starts from its parent's optimum (linear parameters
//! re-solved) and from the best points of the trace's frequency grid.

use super::guess::{StartGrid, linear_amplitudes};
use super::lm::{self, LmOptions, fit};
use super::model::Model;
use super::params::Params;
use super::precession::{Envelope, Precession};
use super::result::FitResult;
use crate::error::{Error, Result};
use statrs::distribution::{ContinuousCDF, FisherSnedecor};

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

/// A model feature: chosen from the data, or fixed on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Choice {
    #[default]
    Auto,
    On,
    Off,
}

impl std::str::FromStr for Choice {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Choice::Auto),
            "on" | "yes" | "true" | "1" => Ok(Choice::On),
            "off" | "no" | "false" | "0" => Ok(Choice::Off),
            _ => Err(Error::setting(
                "feature",
                format!("`{s}`, expected auto, on or off"),
            )),
        }
    }
}

/// Which features of the precession model are fixed and which are free.
///
/// The phase is on by default: real scans carry one (a time zero a few fs
/// off is a phase omega t0), and a phase the ladder drops for BIC moves
/// omega by several of its errors (0.03 rad on a two-carrier trace at 360
/// mT: omega 2.3 sigma off on average). `Auto` leaves it to the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freedom {
    pub phase: Choice,
    pub decay: Choice,
    pub offset: Choice,
    /// `None`: exponential or Gaussian, chosen from the data.
    pub envelope: Option<Envelope>,
    /// The laser repetition period, when the earlier pulses are modelled
    /// (every candidate has it).
    pub repetition: Option<super::rsa::Period>,
}

impl Default for Freedom {
    fn default() -> Self {
        Freedom {
            phase: Choice::On,
            decay: Choice::Auto,
            offset: Choice::Auto,
            envelope: None,
            repetition: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Feature {
    Phase,
    Decay,
    Offset,
    /// Change the envelope to this one.
    Envelope(Envelope),
}

impl Feature {
    fn flip(self, m: &Precession) -> Precession {
        let mut m = *m;
        match self {
            Feature::Phase => m.phase = !m.phase,
            Feature::Decay => m.decay = !m.decay,
            Feature::Offset => m.offset = !m.offset,
            Feature::Envelope(e) => m.envelope = e,
        }
        m
    }
}

impl Freedom {
    fn free(&self) -> Vec<Feature> {
        let mut v = vec![];
        for (c, f) in [
            (self.phase, Feature::Phase),
            (self.decay, Feature::Decay),
            (self.offset, Feature::Offset),
        ] {
            if c == Choice::Auto {
                v.push(f);
            }
        }
        if self.envelope.is_none() {
            v.extend([Envelope::Gaussian, Envelope::Voigt].map(Feature::Envelope));
        }
        v
    }
    /// The simplest candidate with `n_cos` cosines: free features off.
    pub fn simplest(&self, n_cos: usize) -> Precession {
        Precession {
            n_cos,
            phase: self.phase == Choice::On,
            decay: self.decay == Choice::On,
            offset: self.offset == Choice::On,
            envelope: self.envelope.unwrap_or_default(),
            repetition: self.repetition,
        }
    }
    /// The richest candidate with `n_cos` cosines: free features on, the
    /// Voigt envelope unless the envelope is fixed.
    pub fn richest(&self, n_cos: usize) -> Precession {
        Precession {
            n_cos,
            phase: self.phase != Choice::Off,
            decay: self.decay != Choice::Off,
            offset: self.offset != Choice::Off,
            envelope: self.envelope.unwrap_or(Envelope::Voigt),
            repetition: self.repetition,
        }
    }
}

/// One fitted candidate model.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Rung {
    pub model: String,
    pub n_cos: usize,
    pub phase: bool,
    pub decay: bool,
    pub offset: bool,
    pub envelope: Envelope,
    pub nvarys: usize,
    pub chisqr: f64,
    pub aic: f64,
    pub bic: f64,
    /// Converged with standard errors, off its bounds.
    pub converged: bool,
    /// Its criterion minus the chosen model's (0 for the chosen one).
    pub delta: f64,
    pub verdict: String,
    pub chosen: bool,
}

/// The data a ladder is climbed on.
pub struct Trace<'a> {
    pub t: &'a [f64],
    pub y: &'a [f64],
    pub sigma: Option<&'a [f64]>,
    pub grid: &'a StartGrid,
    /// The options of the candidates' fits: the user's, with tolerances no
    /// tighter than [`SCREEN_TOL`] (the chosen candidate is polished with
    /// the user's own, [`polish`]).
    pub lm: LmOptions,
    /// The user's options.
    pub full: LmOptions,
    pub max_starts: usize,
    /// Candidates fitted so far: a model reached twice is fitted once.
    pub seen: std::cell::RefCell<Vec<Candidate>>,
}

impl<'a> Trace<'a> {
    pub fn new(
        t: &'a [f64],
        y: &'a [f64],
        sigma: Option<&'a [f64]>,
        grid: &'a StartGrid,
        lm: &'a LmOptions,
        max_starts: usize,
    ) -> Trace<'a> {
        Trace {
            t,
            y,
            sigma,
            grid,
            lm: LmOptions {
                ftol: lm.ftol.max(SCREEN_TOL),
                xtol: lm.xtol.max(SCREEN_TOL),
                ..*lm
            },
            full: *lm,
            max_starts,
            seen: Default::default(),
        }
    }
}

/// A fitted candidate.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub model: Precession,
    pub fit: FitResult,
}

impl Candidate {
    /// Usable for comparison: converged, errors exist, nothing on a bound.
    pub fn converged(&self) -> bool {
        self.fit.termination.success() && self.fit.covariance_ok && self.fit.at_bounds().is_empty()
    }
    pub fn score(&self, c: Criterion) -> f64 {
        match c {
            Criterion::Aic => self.fit.aic,
            Criterion::Bic | Criterion::FTest(_) => self.fit.bic,
        }
    }
    /// Its line in the ladder.
    pub fn rung(&self, verdict: String) -> Rung {
        let m = &self.model;
        Rung {
            model: m.name_short(),
            n_cos: m.n_cos,
            phase: m.phase,
            decay: m.decay,
            offset: m.offset,
            envelope: m.envelope,
            nvarys: self.fit.nvarys,
            chisqr: self.fit.chisqr,
            aic: self.fit.aic,
            bic: self.fit.bic,
            converged: self.converged(),
            delta: f64::NAN,
            verdict,
            chosen: false,
        }
    }
}

impl Precession {
    /// The candidate's name in a ladder, e.g. "1 cos + phase + offset".
    pub fn name_short(&self) -> String {
        if self.n_cos == 0 {
            return if self.offset {
                "exp + offset".into()
            } else {
                "exp".into()
            };
        }
        let mut s = format!("{} cos", self.n_cos);
        if self.phase {
            s.push_str(" + phase");
        }
        if self.decay {
            s.push_str(" + exp");
        }
        if self.offset {
            s.push_str(" + offset");
        }
        match self.envelope {
            Envelope::Gaussian => s.push_str(", Gaussian envelope"),
            Envelope::Voigt => s.push_str(", Voigt envelope"),
            Envelope::Exponential => {}
        }
        s
    }
}

/// F-test of nested fits `small` in `big`: (F, p).
pub fn f_test(small: &FitResult, big: &FitResult) -> (f64, f64) {
    let n = small.ndata as f64;
    let (p1, p2) = (small.nvarys as f64, big.nvarys as f64);
    if p2 <= p1 || n <= p2 {
        return (f64::NAN, 1.0);
    }
    let f = ((small.chisqr - big.chisqr) / (p2 - p1)) / (big.chisqr / (n - p2));
    let p = match FisherSnedecor::new(p2 - p1, n - p2) {
        Ok(d) if f.is_finite() && f > 0.0 => 1.0 - d.cdf(f),
        _ => 1.0,
    };
    (f, p)
}

/// Does `cand` improve on `parent` under `crit`? The gain (positive is
/// better; for the F-test, -log10 p when parameters are added).
fn gain(crit: Criterion, parent: &Candidate, cand: &Candidate) -> (bool, f64) {
    match crit {
        Criterion::FTest(alpha) if cand.fit.nvarys > parent.fit.nvarys => {
            let (_, p) = f_test(&parent.fit, &cand.fit);
            (p < alpha, -p.max(1e-300).log10())
        }
        Criterion::FTest(_) => {
            let d = parent.fit.chisqr - cand.fit.chisqr;
            (d > 0.0, d)
        }
        _ => {
            let d = parent.score(crit) - cand.score(crit);
            (d > 0.0, d)
        }
    }
}

fn better(a: &FitResult, b: &FitResult) -> bool {
    (a.success() && !b.success()) || (a.success() == b.success() && a.chisqr < b.chisqr)
}

/// Put the faster cosine first (parameters swapped, statistics redone).
fn order(model: &Precession, tr: &Trace, best: FitResult) -> FitResult {
    if model.n_cos != 2 || best.value("omega_1") >= best.value("omega_2") {
        return best;
    }
    let per = model.per();
    let mut p = best.params.clone();
    for j in 0..per {
        let v = p.0[j].value;
        p.0[j].value = p.0[per + j].value;
        p.0[per + j].value = v;
    }
    lm::refinish(model, tr.sigma, best, p)
}

/// Relative chi-square decrease and step at which a candidate's fit stops:
/// its criterion is then known to about N 1e-6 (5e-4 for 500 points) or
/// better, far inside any margin the ladder decides by, and the slow, linear last stretch of Gauss-Newton
/// on a model that does not fit (a one-cosine candidate of a two-carrier
/// trace) is not paid for candidates that are dropped.
pub const SCREEN_TOL: f64 = 1e-6;

/// The chosen candidate refitted from its optimum with the user's
/// tolerances (the numbers reported are those of a full fit); its rungs in
/// `rungs` take the refitted statistics.
pub fn polish(tr: &Trace, c: Candidate, rungs: &mut [Rung]) -> Result<Candidate> {
    if tr.full.ftol >= tr.lm.ftol && tr.full.xtol >= tr.lm.xtol {
        return Ok(c);
    }
    let r = fit(&c.model, tr.t, tr.y, tr.sigma, &c.fit.params, &tr.full)?;
    if !(r.success() && r.chisqr <= c.fit.chisqr) {
        return Ok(c);
    }
    let p = Candidate {
        model: c.model,
        fit: order(&c.model, tr, r),
    };
    for g in rungs
        .iter_mut()
        .filter(|g| g.describes(&c.model) && g.chisqr == c.fit.chisqr)
    {
        (g.chisqr, g.aic, g.bic) = (p.fit.chisqr, p.fit.aic, p.fit.bic);
    }
    Ok(p)
}

/// Relative chi-square decrease at which the grid's start points stop
/// racing: a few steps, enough to tell the basins apart.
const RACE_TOL: f64 = 1e-3;

/// Evaluation budgets (per free parameter + 1) of a candidate's first
/// start and of its further start points.
const CANDIDATE_PATIENCE: usize = 40;
const SHORT_PATIENCE: usize = 25;

/// Fit `model` from its grid starts and, when given, from `warm`'s optimum.
pub fn fit_candidate(
    tr: &Trace,
    model: &Precession,
    warm: Option<&Candidate>,
) -> Result<Candidate> {
    if let Some(c) = tr.seen.borrow().iter().find(|c| c.model == *model) {
        return Ok(c.clone());
    }
    let c = fit_fresh(tr, model, warm)?;
    tr.seen.borrow_mut().push(c.clone());
    Ok(c)
}

/// [`fit_candidate`] without the ladder's memory: fitted afresh, not
/// recorded.
pub fn fit_fresh(tr: &Trace, model: &Precession, warm: Option<&Candidate>) -> Result<Candidate> {
    let warm_start = warm.and_then(|w| {
        let mut p = model.template();
        for q in p.0.iter_mut() {
            if let Some(v) = w.fit.params.get(&q.name) {
                q.value = v.value.clamp(q.min, q.max);
            } else if q.name == "decay_tau" {
                q.value = tr.grid.decay_tau();
            }
        }
        if w.model.envelope != model.envelope {
            restart_envelope(&w.model, &w.fit.params, model, &mut p);
        }
        (w.model.n_cos == model.n_cos && linear_amplitudes(model, &mut p, tr.t, tr.y).is_some())
            .then_some(p)
    });
    // a candidate's first start (its parent's optimum, or the grid's race
    // leader) gets CANDIDATE_PATIENCE evaluations per parameter, the grid's
    // racing points SHORT_PATIENCE: they are insurance against a wrong
    // basin (used when the parent's optimum does not converge), and a start
    // that needs thousands of evaluations is in one. The grid is scored
    // only when it is needed.
    let budget = |p: usize| LmOptions {
        patience: tr.lm.patience.min(p),
        ..tr.lm
    };
    let (first, rest) = (budget(CANDIDATE_PATIENCE), budget(SHORT_PATIENCE));
    let mut best = match &warm_start {
        Some(p) => Some(fit(model, tr.t, tr.y, tr.sigma, p, &first)?),
        None => None,
    };
    // a converged fit from the parent's optimum needs no insurance; the
    // grid's starts race to RACE_TOL (starts in one basin end together) and
    // only the leader is fitted on
    if !best.as_ref().is_some_and(FitResult::success) {
        let n_grid = if warm_start.is_none() {
            tr.max_starts
        } else {
            2
        };
        let race = LmOptions {
            ftol: tr.lm.ftol.max(RACE_TOL),
            xtol: tr.lm.xtol.max(RACE_TOL),
            ..rest
        };
        let mut lead: Option<FitResult> = None;
        for s in tr.grid.starts(model, tr.t, tr.y, n_grid) {
            let r = fit(model, tr.t, tr.y, tr.sigma, &s, &race)?;
            if lead.as_ref().is_none_or(|b| better(&r, b)) {
                lead = Some(r);
            }
        }
        if let Some(l) = lead {
            let r = fit(model, tr.t, tr.y, tr.sigma, &l.params, &first)?;
            if best.as_ref().is_none_or(|b| better(&r, b)) {
                best = Some(r);
            }
        }
    }
    let best = best.ok_or_else(|| Error::Fit("no start values could be formed".into()))?;
    Ok(Candidate {
        model: *model,
        fit: order(model, tr, best),
    })
}

/// Start a candidate's dephasing parameters from a parent with another
/// envelope: the same line width ([`Envelope::restart`]).
fn restart_envelope(from: &Precession, fp: &Params, to: &Precession, p: &mut Params) {
    for k in 0..to.n_cos.min(from.n_cos) {
        let t2 = fp.value(&from.pname("t2", k));
        let sig = fp.get(&from.pname("sigma_w", k)).map_or(0.0, |q| q.value);
        let (t2n, sn) = from.envelope.restart(t2, sig, to.envelope);
        for (name, v) in [("t2", t2n), ("sigma_w", sn)] {
            if let Ok(q) = p.get_mut(&to.pname(name, k)) {
                q.value = v.clamp(q.min, q.max);
            }
        }
    }
}

fn describe(crit: Criterion, g: f64) -> String {
    match crit {
        Criterion::FTest(_) => format!("F-test -log10 p = {g:.1}"),
        c if g >= 0.0 => format!("{c} lower by {g:.1}"),
        c => format!("{c} higher by {:.1}", -g),
    }
}

const NOT_CONVERGED: &str =
    "dropped: did not converge, or a parameter is undetermined or on a bound";

/// Climb from `start` by flipping free features one at a time; every
/// candidate is appended to `rungs`. Returns the best candidate reached.
pub fn climb(
    tr: &Trace,
    freedom: &Freedom,
    crit: Criterion,
    start: Candidate,
    rungs: &mut Vec<Rung>,
) -> Result<Candidate> {
    let mut free = freedom.free();
    let mut cur = start;
    while !free.is_empty() {
        let mut cands = vec![];
        for (k, f) in free.iter().enumerate() {
            let m = f.flip(&cur.model);
            // a candidate on an earlier rung lost to the current model's
            // ancestry already: it cannot beat the current one
            if m != cur.model && !tried(rungs, &m) {
                cands.push((k, fit_candidate(tr, &m, Some(&cur))?));
            }
        }
        let best = cands
            .iter()
            .filter(|(_, c)| c.converged())
            .map(|(k, c)| (*k, gain(crit, &cur, c)))
            .filter(|(_, (ok, _))| *ok)
            .max_by(|a, b| a.1.1.total_cmp(&b.1.1));
        let cur_name = cur.model.name_short();
        match best {
            Some((kb, (_, g))) => {
                let kept_name = cands
                    .iter()
                    .find(|(k, _)| *k == kb)
                    .map(|(_, c)| c.model.name_short())
                    .unwrap_or_default();
                let mut next = None;
                for (k, c) in cands {
                    if k == kb {
                        rungs.push(c.rung(format!("kept: {} than {cur_name}", describe(crit, g))));
                        next = Some(c);
                    } else {
                        let why = if c.converged() {
                            format!("dropped: {kept_name} does better")
                        } else {
                            NOT_CONVERGED.into()
                        };
                        rungs.push(c.rung(why));
                    }
                }
                free.remove(kb);
                cur = next.expect("the kept candidate is among the candidates");
            }
            None => {
                for (_, c) in cands {
                    let why = if c.converged() {
                        let (_, g) = gain(crit, &cur, &c);
                        format!("dropped: no better than {cur_name} ({})", describe(crit, g))
                    } else {
                        NOT_CONVERGED.into()
                    };
                    rungs.push(c.rung(why));
                }
                break;
            }
        }
    }
    Ok(cur)
}

/// Start a climb at the simplest candidate with `n_cos` cosines.
pub fn climb_from_simplest(
    tr: &Trace,
    freedom: &Freedom,
    crit: Criterion,
    n_cos: usize,
    rungs: &mut Vec<Rung>,
) -> Result<Candidate> {
    let start = fit_candidate(tr, &freedom.simplest(n_cos), None)?;
    rungs.push(start.rung("start: the simplest candidate".into()));
    climb(tr, freedom, crit, start, rungs)
}

impl Rung {
    /// Is this the rung of model `m`?
    pub fn describes(&self, m: &Precession) -> bool {
        self.n_cos == m.n_cos
            && self.phase == m.phase
            && self.decay == m.decay
            && self.offset == m.offset
            && self.envelope == m.envelope
    }
}

/// Has a candidate of this shape been fitted already?
pub fn tried(rungs: &[Rung], m: &Precession) -> bool {
    rungs.iter().any(|r| r.describes(m))
}

/// Fill each rung's delta (its criterion minus the chosen candidate's) and
/// mark the chosen one.
pub fn finish_ladder(rungs: &mut [Rung], chosen: &Candidate, crit: Criterion) {
    let score = |r: &Rung| match crit {
        Criterion::Aic => r.aic,
        _ => r.bic,
    };
    let best = chosen.score(crit);
    let mut marked = false;
    for r in rungs.iter_mut() {
        r.delta = score(r) - best;
        let same = r.describes(&chosen.model) && r.chisqr == chosen.fit.chisqr;
        if same && !marked {
            r.chosen = true;
            marked = true;
        }
    }
}
