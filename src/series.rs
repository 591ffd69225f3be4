//! A TRFE field series of one sample and photon energy turned into
//! g-factors: per-trace fits (in parallel) -> components tracked into
//! electron and hole -> eq. (1) and eq. (3) per carrier (two-step route)
//! -> optionally one global fit of all traces sharing g, T2*(0) and dg.

use crate::error::{Error, Result};
use crate::fit::global::GlobalSeries;
use crate::fit::lm::{LmOptions, fit};
use crate::fit::model::Model;
use crate::fit::result::FitResult;
use crate::physics::Quantity;
use crate::physics::gfactor::{CarrierSeries, Point, analyse_carrier, track_components};
use crate::pipeline::Derived;
use crate::pipeline::{Fitted, TrfeJob, field_of, fit_trfe};
use crate::scan::Scan;
use rayon::prelude::*;

/// Settings of a field-series analysis.
#[derive(Debug, Clone)]
pub struct SeriesConfig {
    /// Fields below this (T) are fitted and shown but left out of the slopes.
    pub min_field_t: f64,
    /// Names of the faster and the slower precessing carrier.
    pub labels: [String; 2],
    /// Name of the carrier when no trace shows two components.
    pub single: String,
    /// Also fit all traces at once.
    pub global: bool,
    pub trfe: TrfeJob,
}

impl Default for SeriesConfig {
    fn default() -> Self {
        SeriesConfig {
            min_field_t: 0.1,
            labels: ["electron".into(), "hole".into()],
            single: "hole".into(),
            global: false,
            trfe: TrfeJob::default(),
        }
    }
}

/// Field in T (sign kept) from a file name token such as `_420mT`,
/// `B420mT` or `-200mT` ([`crate::scan::vocab::name_field`]).
///
/// ```
/// use spinfit::series::field_from_name;
/// assert_eq!(field_from_name("trfe_CsPbI3_1.911eV_420mT.csv"), Some(0.42));
/// assert_eq!(field_from_name("scan_7.csv"), None);
/// ```
pub fn field_from_name(name: &str) -> Option<f64> {
    crate::scan::vocab::name_field(name).map(|f| f.value)
}

/// One trace of the series.
#[derive(Debug, Clone)]
pub struct TraceResult {
    pub fitted: Fitted,
    pub field_t: f64,
    /// (carrier label, component index in the fit) for each component.
    pub labels: Vec<(String, usize)>,
}

/// The global fit's view of one carrier.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GlobalCarrier {
    pub carrier: String,
    pub g: Quantity,
    pub t2_zero_field: Quantity,
    pub dg: Quantity,
}

/// Everything a field series gives.
#[derive(Debug, Clone)]
pub struct SeriesResult {
    /// The series' name (metadata `series`), when the files give one.
    pub name: Option<String>,
    /// What grouped the traces into this series (a session says; "" when
    /// the traces were given as one series).
    pub grouped_by: String,
    pub sample: Option<String>,
    pub photon_energy_ev: Option<f64>,
    pub min_field_t: f64,
    pub traces: Vec<TraceResult>,
    pub carriers: Vec<CarrierSeries>,
    pub global: Option<(FitResult, Vec<GlobalCarrier>, GlobalSeries)>,
    /// Traces at B = 0, fitted as the zero-field spin decay.
    pub zero_field: Vec<Fitted>,
    /// The zero-field lifetime: the weighted mean over the B = 0 traces.
    pub zero_field_tau: Option<Quantity>,
    /// Fits that converged to numbers that cannot be trusted (no errors, on
    /// a bound, a warning): reported, left out of the slopes.
    pub rejected: Vec<Fitted>,
    /// Files that could not be fitted at all, with the reason.
    pub failures: Vec<(String, String)>,
    pub notes: Vec<String>,
}

/// The field of `scan`: `--field`-style override, metadata, or file name.
pub fn scan_field(scan: &Scan, prefer: Option<crate::scan::vocab::FieldSource>) -> Result<f64> {
    let mut notes = vec![];
    field_of(scan, None, prefer, &mut notes)?.ok_or_else(|| {
        Error::input(&scan.source, "no magnetic field: add `# field = 420 mT` to the header or put e.g. `420mT` in the file name")
    })
}

/// Analyse a field series.
pub fn analyse(scans: Vec<Scan>, cfg: &SeriesConfig) -> Result<SeriesResult> {
    analyse_with(scans, cfg, &|| {})
}

/// Keep one of traces whose delays and signal are identical bit for bit
/// (the same file given twice, or a copy): counted twice, a trace would
/// shrink the error of g. Each repeat is listed as a failure naming the
/// trace it repeats.
fn drop_repeats(scans: Vec<Scan>, failures: &mut Vec<(String, String)>) -> Vec<Scan> {
    use sha2::{Digest, Sha256};
    let mut seen: std::collections::HashMap<Vec<u8>, String> = Default::default();
    let mut kept = vec![];
    for s in scans {
        let mut h = Sha256::new();
        for v in s.delay.iter().chain(&s.signal) {
            h.update(v.to_bits().to_le_bytes());
        }
        let key = h.finalize().to_vec();
        match seen.get(&key) {
            Some(first) => failures.push((
                s.source.clone(),
                format!("the same trace as `{first}` (identical delays and signal): counted once, not twice"),
            )),
            None => {
                seen.insert(key, s.source.clone());
                kept.push(s);
            }
        }
    }
    kept
}

/// [`analyse`], calling `tick` after each trace is fitted (for progress bars).
pub fn analyse_with(
    scans: Vec<Scan>,
    cfg: &SeriesConfig,
    tick: &(dyn Fn() + Sync),
) -> Result<SeriesResult> {
    let mut failures = vec![];
    let mut notes = vec![];
    use crate::scan::vocab;
    let samples: Vec<String> = scans
        .iter()
        .filter_map(|s| vocab::sample(&s.meta, &s.source).ok().flatten())
        .collect();
    let sample = samples.first().cloned();
    let photon_energy_ev = scans
        .iter()
        .find_map(|s| vocab::photon_energy(&s.meta, &s.source).ok().flatten());
    let distinct: std::collections::BTreeSet<String> = samples.into_iter().collect();
    if distinct.len() > 1 {
        notes.push(format!(
            "traces name {} different samples ({}): treated as one series",
            distinct.len(),
            distinct.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }
    let scans = drop_repeats(scans, &mut failures);
    let fitted: Vec<(String, Result<(f64, Fitted)>)> = scans
        .into_par_iter()
        .map(|s| {
            let src = s.source.clone();
            let r = scan_field(&s, cfg.trfe.field_from).and_then(|b| {
                let job = TrfeJob {
                    field_t: Some(b),
                    ..cfg.trfe.clone()
                };
                fit_trfe(s, &job).map(|f| (b, f))
            });
            tick();
            (src, r)
        })
        .collect();
    let mut ok: Vec<(f64, Fitted)> = vec![];
    let mut zero: Vec<Fitted> = vec![];
    let mut rejected: Vec<Fitted> = vec![];
    for (src, r) in fitted {
        match r {
            Ok((b, f)) if f.record.fit.success() && b == 0.0 => zero.push(f),
            // reversing B leaves omega_L = |g| mu_B |B| / hbar
            Ok((b, f)) if f.record.fit.success() => ok.push((b.abs(), f)),
            Ok((_, f)) => rejected.push(f),
            Err(e) => failures.push((src, e.to_string())),
        }
    }
    let zero_field_tau = zero_field_mean(&zero);
    if zero.len() > 1 {
        notes.push(format!(
            "{} traces at zero field: their lifetimes averaged (inverse-variance weights)",
            zero.len()
        ));
    }
    if !rejected.is_empty() {
        notes.push(format!(
            "{} trace{} not trustworthy, left out of the slopes: {}",
            rejected.len(),
            if rejected.len() == 1 { "" } else { "s" },
            rejected
                .iter()
                .map(|f| format!("{} ({})", f.record.file, f.record.fit.problems()))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    if ok.is_empty() && !(zero.is_empty() && rejected.is_empty()) {
        notes.push(if zero.is_empty() {
            "no trustworthy trace at a non-zero field: no g".into()
        } else {
            "only zero-field traces: no precession, no g".into()
        });
        return Ok(SeriesResult {
            name: None,
            grouped_by: String::new(),
            rejected,
            sample,
            photon_energy_ev,
            min_field_t: cfg.min_field_t,
            traces: vec![],
            carriers: vec![],
            global: None,
            zero_field: zero,
            zero_field_tau,
            failures,
            notes,
        });
    }
    if ok.is_empty() {
        return Err(Error::Fit(format!(
            "no trace of the series could be fitted: {}",
            failures
                .iter()
                .map(|(f, r)| format!("{f}: {r}"))
                .collect::<Vec<_>>()
                .join("; ")
        )));
    }
    ok.sort_by(|a, b| a.0.total_cmp(&b.0));
    let omegas = |f: &Fitted| match &f.record.derived {
        Derived::Trfe { carriers, .. } => {
            carriers.iter().map(|c| c.omega.value).collect::<Vec<f64>>()
        }
        _ => vec![],
    };
    let tracks = track_components(&ok.iter().map(|(b, f)| (*b, omegas(f))).collect::<Vec<_>>());
    let names: Vec<String> = if tracks[1].is_empty() {
        notes.push(format!(
            "no trace shows two components: the one carrier is labelled `{}`",
            cfg.single
        ));
        vec![cfg.single.clone()]
    } else {
        cfg.labels.to_vec()
    };
    let mut traces: Vec<TraceResult> = ok
        .into_iter()
        .map(|(b, f)| TraceResult {
            fitted: f,
            field_t: b,
            labels: vec![],
        })
        .collect();
    let mut carriers = vec![];
    for (t, name) in tracks.iter().zip(&names) {
        let mut pts = vec![];
        for &(i, c) in t {
            traces[i].labels.push((name.clone(), c));
            if let Derived::Trfe { carriers: cs, .. } = &traces[i].fitted.record.derived {
                let k = &cs[c];
                pts.push(Point {
                    field_t: traces[i].field_t,
                    omega: k.omega.value,
                    omega_err: k.omega.stderr,
                    t2: k.t2.value,
                    t2_err: k.t2.stderr,
                    hwhm: k.hwhm.value,
                    hwhm_err: k.hwhm.stderr,
                    sigma_w: k.sigma_w.map(|q| (q.value, q.stderr)),
                });
            }
        }
        match analyse_carrier(name, &pts, cfg.min_field_t) {
            Ok(s) => carriers.push(s),
            Err(e) => notes.push(e.to_string()),
        }
    }
    let global = if cfg.global && !carriers.is_empty() {
        Some(global_fit(&traces, &carriers, cfg)?)
    } else {
        None
    };
    Ok(SeriesResult {
        name: None,
        grouped_by: String::new(),
        rejected,
        sample,
        photon_energy_ev,
        min_field_t: cfg.min_field_t,
        traces,
        carriers,
        global,
        zero_field: zero,
        zero_field_tau,
        failures,
        notes,
    })
}

/// Inverse-variance weighted mean of the zero-field lifetimes.
fn zero_field_mean(zero: &[Fitted]) -> Option<Quantity> {
    let taus: Vec<Quantity> = zero
        .iter()
        .filter_map(|f| match &f.record.derived {
            Derived::Trfe { zero_field_tau, .. } => *zero_field_tau,
            _ => None,
        })
        .filter(|q| q.stderr.is_finite() && q.stderr > 0.0)
        .collect();
    if taus.is_empty() {
        return None;
    }
    let w: f64 = taus.iter().map(|q| q.stderr.powi(-2)).sum();
    let m = taus
        .iter()
        .map(|q| q.value * q.stderr.powi(-2))
        .sum::<f64>()
        / w;
    Some(Quantity::new(m, w.sqrt().recip(), "ps"))
}

/// All traces at or above the threshold fitted at once, started from the
/// two-step results.
fn global_fit(
    traces: &[TraceResult],
    carriers: &[CarrierSeries],
    cfg: &SeriesConfig,
) -> Result<(FitResult, Vec<GlobalCarrier>, GlobalSeries)> {
    let used: Vec<&TraceResult> = traces
        .iter()
        .filter(|t| t.field_t >= cfg.min_field_t)
        .collect();
    let names: Vec<String> = carriers.iter().map(|c| c.carrier.clone()).collect();
    let (mut trace, mut t, mut y, mut fields) = (vec![], vec![], vec![], vec![]);
    for (n, tr) in used.iter().enumerate() {
        fields.push(tr.field_t);
        let f = &tr.fitted.record.fit;
        trace.extend(std::iter::repeat_n(n, f.x.len()));
        t.extend(&f.x);
        y.extend(&f.y);
    }
    let series = GlobalSeries {
        carriers: names.clone(),
        fields,
        trace,
        t,
    };
    let mut p = series.template();
    for c in carriers {
        let n = &c.carrier;
        p.get_mut(&format!("g_{n}"))?.value = c.g.value;
        p.get_mut(&format!("t2_zero_field_{n}"))?.value =
            c.t2_zero_field.map_or(200.0, |q| q.value.clamp(1.0, 1e5));
        p.get_mut(&format!("dg_{n}"))?.value = c.dg.map_or(0.01, |q| q.value.max(1e-3));
    }
    for (k, tr) in used.iter().enumerate() {
        let f = &tr.fitted.record.fit;
        for (label, comp) in &tr.labels {
            let amp = if tr.fitted.record.fit.params.get("amplitude").is_some() {
                f.value("amplitude")
            } else {
                f.value(&format!("amplitude_{}", comp + 1))
            };
            p.get_mut(&format!("amplitude_{}_{label}", k + 1))?.value = amp;
        }
        if f.params.get("offset").is_some() {
            p.get_mut(&format!("offset_{}", k + 1))?.value = f.value("offset");
        }
    }
    let x: Vec<f64> = (0..y.len()).map(|i| i as f64).collect();
    let r = fit(&series, &x, &y, None, &p, &LmOptions::default())?;
    let gc = names
        .iter()
        .map(|n| {
            let q = |name: String, unit| Quantity::new(r.value(&name), r.err(&name), unit);
            GlobalCarrier {
                carrier: n.clone(),
                g: q(format!("g_{n}"), ""),
                t2_zero_field: q(format!("t2_zero_field_{n}"), "ps"),
                dg: q(format!("dg_{n}"), ""),
            }
        })
        .collect();
    Ok((r, gc, series))
}

impl SeriesResult {
    /// Number of distinct non-zero |B| (to 1 uT) among the fitted traces.
    pub fn distinct_fields(&self) -> usize {
        crate::physics::gfactor::distinct_fields(self.traces.iter().map(|t| t.field_t))
    }
}
