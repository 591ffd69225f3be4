//! One scan from file to report: read -> sort/merge -> window -> plan ->
//! fit -> physics -> [`FitRecord`]. The command line and batch jobs call
//! these; nothing here prints.

use crate::error::{Error, Result};
use crate::fit::model::Model;
use crate::fit::profile::{self, Interval};
use crate::fit::spectrum::Spectrum;
use crate::fit::tr::{self, TrConfig};
use crate::fit::trfe::{self, TrfeConfig};
use crate::preprocess;
use crate::scan::vocab::FieldSource;
use crate::scan::{ReadOptions, Scan, ScanKind, read_scans};
use std::path::Path;

mod record;
pub use record::{Derived, FitRecord, Status};

/// Settings for fitting TR scans.
#[derive(Debug, Clone, Default)]
pub struct TrJob {
    pub read: ReadOptions,
    pub from: Option<f64>,
    pub to: Option<f64>,
    /// Fit the polarisation degree (SC-CC)/(SC+CC) instead of SC - CC.
    pub polarisation: bool,
    pub config: TrConfig,
    /// Compute 1-sigma profile-likelihood intervals of the lifetimes.
    pub profile: bool,
}

/// Settings for fitting TRFE scans.
#[derive(Debug, Clone, Default)]
pub struct TrfeJob {
    pub read: ReadOptions,
    /// Start of the fit window (ps); default 0 (eq. 2 holds after the
    /// pump), or the whole scan when the earlier pulses are modelled.
    pub from: Option<f64>,
    pub to: Option<f64>,
    /// Field from the command line; overrides metadata.
    pub field_t: Option<f64>,
    /// Which of header and file name wins when they disagree.
    pub field_from: Option<FieldSource>,
    pub config: TrfeConfig,
    pub profile: bool,
}

/// A fitted scan with what a figure needs.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub record: FitRecord,
    /// The model on a fine grid over the fitted delays.
    pub curve: (Vec<f64>, Vec<f64>),
    pub spectrum: Option<Spectrum>,
}

fn curve(model: &dyn Model, p: &[f64], x: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let (a, b) = (x[0], x[x.len() - 1]);
    let n = 1500;
    let xs: Vec<f64> = (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect();
    let mut ys = vec![0.0; n];
    model.eval(p, &xs, &mut ys);
    (xs, ys)
}

fn intervals(
    model: &dyn Model,
    scan: &Scan,
    fit: &crate::fit::FitResult,
    names: &[String],
) -> Vec<Interval> {
    names
        .iter()
        .filter_map(|n| {
            profile::interval(
                model,
                &scan.delay,
                &scan.signal,
                scan.sigma.as_deref(),
                fit,
                n,
                1.0,
            )
            .ok()
        })
        .collect()
}

/// A window that starts after the rise cannot determine time zero or the
/// IRF: t0 would wander off the data. When the window starts later than
/// one IRF width after t0, fix t0 and the IRF width at their values from the
/// full trace (fitted with the same settings); when the full trace starts
/// after its rise too, refuse. Returns the note saying what was done.
fn pin_rise(
    full: &Scan,
    windowed: &Scan,
    job: &TrJob,
    cfg: &mut TrConfig,
) -> Result<Option<String>> {
    if cfg.t0.is_some() && cfg.irf_fwhm.is_some() {
        return Ok(None);
    }
    let first = windowed.delay[0];
    if first <= full.delay[0] {
        // nothing was cut from the start: the fit sees what there is, and
        // tr::run flags a t0 that falls before the data
        return Ok(None);
    }
    // where is the rise? a fit of the whole trace (without the window)
    let plan = tr::plan(cfg, full)?;
    let out = tr::run(&plan, full, &cfg.lm)?;
    let (t0, w) = (out.fit.value("t0"), out.fit.value("irf_fwhm"));
    let (e0, ew) = (out.fit.err("t0"), out.fit.err("irf_fwhm"));
    let rise_seen = full.delay.iter().filter(|x| (*x - t0).abs() <= w).count() >= 3
        && e0.is_finite()
        && t0 > full.delay[0];
    if !rise_seen {
        if job.from.is_some() || t0 < full.delay[0] {
            return Err(Error::input(
                &full.source,
                format!(
                    "the trace starts after its rise (first delay {:.3} ps; a fit puts t0 at {t0:.3} ps): time zero and the IRF cannot be determined; give --t0 and --irf-fwhm, or include the rise in the scan",
                    full.delay[0]
                ),
            ));
        }
        return Ok(None);
    }
    if first <= t0 + w {
        return Ok(None);
    }
    cfg.t0.get_or_insert(t0);
    cfg.irf_fwhm.get_or_insert(w);
    Ok(Some(format!(
        "the window starts at {first:.3} ps, after the rise: t0 = {t0:.4} +/- {e0:.2} ps and IRF FWHM = {w:.4} +/- {ew:.2} ps fixed from the full trace"
    )))
}

/// Fit one TR scan.
pub fn fit_tr(mut scan: Scan, job: &TrJob) -> Result<Fitted> {
    preprocess::sort_and_merge(&mut scan);
    if job.polarisation {
        preprocess::polarisation_degree(&mut scan)?;
    }
    preprocess::check_channels(&scan)?;
    let full = scan.clone();
    preprocess::window(&mut scan, job.from, job.to, 8)?;
    let mut config = job.config.clone();
    if let Some(note) = pin_rise(&full, &scan, job, &mut config)? {
        scan.notes.push(note);
    }
    let plan = tr::plan(&config, &scan)?;
    let mut out = tr::run(&plan, &scan, &config.lm)?;
    if config.climb {
        out = climb_exponentials(out, &config, &scan)?;
    }
    let profile = if job.profile {
        let names: Vec<String> = (0..out.model.n_exp).map(|k| out.model.names(k).1).collect();
        intervals(&out.model, &scan, &out.fit, &names)
    } else {
        vec![]
    };
    let mut notes = scan.notes.clone();
    notes.extend(out.notes);
    let c = curve(&out.model, &out.fit.params.values(), &scan.delay);
    Ok(Fitted {
        record: record(
            &scan,
            ScanKind::Tr,
            Derived::Tr {
                lifetimes: out.lifetimes,
            },
            out.fit,
            out.adequacy,
            profile,
            notes,
        ),
        curve: c,
        spectrum: None,
    })
}

/// While the residual tests reject the model, try one exponential more (up
/// to 3), kept when it converges and lowers BIC by [`tr::CLIMB_MARGIN`];
/// each step is a note, and a band still rejected with 3 is pointed to
/// the analysis of the whole map.
fn climb_exponentials(
    mut out: tr::TrOutcome,
    cfg: &tr::TrConfig,
    scan: &Scan,
) -> Result<tr::TrOutcome> {
    use crate::fit::adequacy::Level;
    while out.adequacy.level == Level::Inadequate && out.model.n_exp < 3 {
        let k = out.model.n_exp;
        let next = tr::TrConfig {
            n_exp: k + 1,
            ..cfg.clone()
        };
        let o = tr::run(&tr::plan(&next, scan)?, scan, &cfg.lm)?;
        let gain = out.fit.bic - o.fit.bic;
        if !(o.fit.success() && gain >= tr::CLIMB_MARGIN) {
            out.notes.push(format!(
                "the residual tests reject {k} exponential{}; {} do not help (BIC {} by {:.1}{}; kept when lower by {})",
                if k == 1 { "" } else { "s" },
                k + 1,
                if gain >= 0.0 { "lower" } else { "higher" },
                gain.abs(),
                if o.fit.success() { "" } else { ", not trustworthy" },
                tr::CLIMB_MARGIN
            ));
            break;
        }
        let mut notes = std::mem::take(&mut out.notes);
        notes.push(format!(
            "the residual tests rejected {k} exponential{}: {} fitted (BIC lower by {gain:.1})",
            if k == 1 { "" } else { "s" },
            k + 1
        ));
        out = tr::TrOutcome { notes, ..o };
    }
    if out.adequacy.level == Level::Inadequate && scan.meta.0.contains_key("probe_wavelength") {
        out.notes.push(
            "a band of a map that one trace cannot describe: fit the whole map at once (global analysis, lifetimes shared by every wavelength)".into(),
        );
    }
    Ok(out)
}

/// The record of a fitted scan: its file, kind, signal, header and input hash.
fn record(
    scan: &Scan,
    kind: ScanKind,
    derived: Derived,
    fit: crate::fit::result::FitResult,
    adequacy: crate::fit::adequacy::Adequacy,
    profile: Vec<Interval>,
    notes: Vec<String>,
) -> FitRecord {
    FitRecord {
        file: scan.source.clone(),
        kind,
        signal: scan.signal_name.clone(),
        derived,
        fit,
        adequacy,
        input_sha256: scan.sha256.clone(),
        profile,
        notes,
        meta: scan.meta.clone(),
    }
}

/// The field for a scan in T (sign kept): the command line's, else the
/// header's or the file name's ([`crate::scan::vocab::scan_field`]).
pub fn field_of(
    scan: &Scan,
    cli: Option<f64>,
    prefer: Option<FieldSource>,
    notes: &mut Vec<String>,
) -> Result<Option<f64>> {
    crate::scan::vocab::scan_field(scan, cli, prefer, notes)
}

/// Fit one TRFE scan.
pub fn fit_trfe(mut scan: Scan, job: &TrfeJob) -> Result<Fitted> {
    preprocess::sort_and_merge(&mut scan);
    let rep = job.config.freedom.repetition;
    // with the earlier pulses modelled the negative delays are data too
    let from = job.from.or(if rep.is_some() { None } else { Some(0.0) });
    if job.from.is_none() && rep.is_none() && scan.delay[0] < 0.0 {
        scan.notes.push(
            "fit window starts at the pump (0 ps) by default; use --from to change it".into(),
        );
        if let Some(h) = earlier_pulse_hint(&scan.delay, &scan.signal) {
            scan.notes.push(h);
        }
    }
    preprocess::window(&mut scan, from, job.to, 12)?;
    let mut notes = scan.notes.clone();
    let field_t = field_of(&scan, job.field_t, job.field_from, &mut notes)?;
    let cfg = TrfeConfig {
        field_t,
        ..job.config.clone()
    };
    let out = if field_t == Some(0.0) {
        trfe::run_zero_field(&cfg, &scan)?
    } else {
        trfe::run(&cfg, &scan)?
    };
    notes.extend(out.notes.clone());
    if let Some(r) = rep {
        for (k, c) in out.carriers.iter().enumerate() {
            notes.push(format!(
                "component {}: T2* / T_rep = {:.3} (repetition period {} ns): each earlier pulse adds exp(-T_rep/T2*) = {:.2e} of the one before",
                k + 1,
                c.t2.value / r.ps(),
                r.ns(),
                (-r.ps() / c.t2.value).exp()
            ));
        }
    }
    let profile = if job.profile {
        let names: Vec<String> = (0..out.model.n_cos)
            .flat_map(|k| [out.model.pname("omega", k), out.model.pname("t2", k)])
            .collect();
        intervals(&out.model, &scan, &out.fit, &names)
    } else {
        vec![]
    };
    let c = curve(&out.model, &out.fit.params.values(), &scan.delay);
    Ok(Fitted {
        record: record(
            &scan,
            ScanKind::Trfe,
            Derived::Trfe {
                carriers: out.carriers,
                field_t,
                selection: out.selection,
                ladder: out.ladder,
                zero_field_tau: out.zero_field_tau,
            },
            out.fit,
            out.adequacy,
            profile,
            notes,
        ),
        curve: c,
        spectrum: Some(out.spectrum),
    })
}

/// A hint naming `--repetition` when the signal before the pump stands
/// out of the noise: its standard deviation over at least 10 negative
/// delays above 3 times the noise (von Neumann's successive-difference
/// estimate over the whole trace, [`preprocess::successive_difference_variance`]).
fn earlier_pulse_hint(t: &[f64], y: &[f64]) -> Option<String> {
    let neg: Vec<f64> = t
        .iter()
        .zip(y)
        .filter(|(t, _)| **t < 0.0)
        .map(|p| *p.1)
        .collect();
    if neg.len() < 10 || y.len() < 3 {
        return None;
    }
    let noise = preprocess::successive_difference_variance(y).sqrt();
    let mean = neg.iter().sum::<f64>() / neg.len() as f64;
    let sd = (neg.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / neg.len() as f64).sqrt();
    (noise > 0.0 && sd > 3.0 * noise).then(|| {
        format!(
            "the signal before the pump ({} points at negative delays) is {:.1} times the noise: the earlier pulses' spins still precess; give the laser's repetition period (--repetition 13.2ns, or `repetition` in spinfit.toml) to fit them with the rest",
            neg.len(),
            sd / noise
        )
    })
}

/// Read `path` and fit every scan in it.
pub fn fit_file(
    path: &Path,
    kind: ScanKind,
    tr_job: &TrJob,
    trfe_job: &TrfeJob,
) -> Vec<Result<Fitted>> {
    let read = match kind {
        ScanKind::Tr => &tr_job.read,
        ScanKind::Trfe => &trfe_job.read,
    };
    match read_scans(path, kind, read) {
        Err(e) => vec![Err(e)],
        Ok(scans) if scans.is_empty() => vec![Err(Error::input(
            path.display().to_string(),
            "no scans found",
        ))],
        Ok(scans) => scans
            .into_iter()
            .map(|s| match kind {
                ScanKind::Tr => fit_tr(s, tr_job),
                ScanKind::Trfe => fit_trfe(s, trfe_job),
            })
            .collect(),
    }
}
