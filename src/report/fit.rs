//! What a fitted scan reports: the text report, the JSON document and rows
//! of the CSV results table.
//!
//! JSON schema `spinfit.fit/1` (one object per scan; a list for several):
//! ```text
//! { "schema": "spinfit.fit/1", "file", "input_sha256" (of the data file,
//!   null when not a regular file), "kind": "tr"|"trfe", "model",
//!   "success": bool (converged, errors, off bounds, no warning),
//!   "status": "ok"|"small"|"inadequate"|"untrustworthy" (success, then the
//!   residual tests), "problems": string ("" when none),
//!   "termination": {"reason", "message"},
//!   "statistics": {"ndata", "nvarys", "nfev", "chisqr", "redchi", "aic", "bic",
//!                  "errors": "absolute"|"scaled"},
//!   "parameters": {NAME: {"value", "stderr", "unit", "vary", "at_bound", "min", "max"}},
//!   "results": TR: {"lifetimes": [{"tau", "rate", "amplitude"}]}
//!              TRFE: {"field": {value, stderr, unit} | null,
//!                     "components": [{"omega", "t2", "amplitude", "g", "sigma_w",
//!                                     "dg_inh", "hwhm", "model_average": null |
//!                                     {"chosen_omega", "chosen_g", "averaged_omega",
//!                                      "averaged_g", "models", "chosen_weight",
//!                                      "headline": "averaged"|"chosen"}}]},
//!                     (omega and g are the headline values)
//!   "selection": null | {"chosen", "criterion", "aic", "bic", "chisqr",
//!                        "f_statistic", "p_value", "reason",
//!                        "checks": [{"name", "passed", "detail"}]},
//!   "ladder": [{"model", "n_cos", "phase", "decay", "offset", "envelope",
//!               "nvarys", "chisqr", "aic", "bic", "converged", "delta",
//!               "verdict", "chosen"}]   (TRFE; [] for TR),
//!   "adequacy": {"adequate", "level": "adequate"|"small"|"inadequate",
//!                "alpha", "verdict", "peak_omega", "size" (systematic RMS /
//!                signal amplitude), "line_amplitude", "noise_from",
//!                "tests": [{"name": "periodogram"|"ljung_box"|"runs",
//!                           "statistic", "p_value", "passed"}]},
//!   "profile": [{"name", "sigma_level", "lower", "upper"}],
//!   "correlations": {"a,b": r, ...}  (|r| >= 0.1),
//!   "notes": [...],
//!   "conditions": {"field", "photon_energy", "temperature", "fluence":
//!                  quantity | null, "sample": string | null} (parsed by the
//!                  metadata vocabulary, src/scan/vocab.rs),
//!   "metadata": {...} }
//! ```
//! Every physical quantity is `{"value", "stderr", "unit"}`; `stderr` is
//! null when it could not be determined. Times are ps, omega rad/ns, rate
//! ps^-1, field T.

use crate::fit::adequacy::Adequacy;
use crate::fit::ladder::Rung;
use crate::physics::Quantity;
use crate::pipeline::{Derived, FitRecord};
use crate::scan::ScanKind;
use serde_json::{Value, json};
use std::fmt::Write as _;

/// `_1`, `_2`, ... for several components, nothing for one.
fn suffix(k: usize, n: usize) -> String {
    if n > 1 {
        format!("_{}", k + 1)
    } else {
        String::new()
    }
}

fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

impl FitRecord {
    /// The JSON document of schema `spinfit.fit/1`.
    pub fn to_json(&self) -> Value {
        let f = &self.fit;
        let mut params = serde_json::Map::new();
        for (j, p) in f.params.0.iter().enumerate() {
            params.insert(
                p.name.clone(),
                json!({"value": num(p.value), "stderr": f.stderr[j].map_or(Value::Null, num), "unit": p.unit,
                       "vary": p.vary, "at_bound": p.vary && p.at_bound(), "min": num(p.min), "max": num(p.max)}),
            );
        }
        let mut correl = serde_json::Map::new();
        for a in 0..f.params.0.len() {
            for b in a + 1..f.params.0.len() {
                let c = f.correl[a][b];
                if c.is_finite() && c.abs() >= 0.1 {
                    correl.insert(
                        format!("{},{}", f.params.0[a].name, f.params.0[b].name),
                        json!(c),
                    );
                }
            }
        }
        let (results, selection, ladder) = match &self.derived {
            Derived::Tr { lifetimes } => (
                json!({ "lifetimes": lifetimes }),
                Value::Null,
                Value::Array(vec![]),
            ),
            Derived::Trfe {
                carriers,
                field_t,
                selection,
                ladder,
                zero_field_tau,
            } => (
                json!({"field": field_t.map(|b| Quantity::new(b, f64::NAN, "T")), "components": carriers,
                       "zero_field": zero_field_tau.map(|t| json!({"tau": t}))}),
                serde_json::to_value(selection).unwrap_or(Value::Null),
                serde_json::to_value(ladder).unwrap_or(Value::Null),
            ),
        };
        json!({
            "schema": "spinfit.fit/1",
            "file": self.file,
            "input_sha256": self.input_sha256,
            "kind": self.kind,
            "signal": self.signal,
            "model": f.model,
            "success": f.success(),
            "status": self.status(),
            "problems": self.problems(),
            "termination": {"reason": f.termination, "message": f.termination.to_string()},
            "statistics": {"ndata": f.ndata, "nvarys": f.nvarys, "nfev": f.nfev, "chisqr": num(f.chisqr),
                           "redchi": num(f.redchi), "aic": num(f.aic), "bic": num(f.bic),
                           "errors": if f.absolute_sigma { "absolute" } else { "scaled" }},
            "parameters": params,
            "results": results,
            "selection": selection,
            "ladder": ladder,
            "adequacy": serde_json::to_value(&self.adequacy).unwrap_or(Value::Null),
            "profile": self.profile,
            "correlations": correl,
            "notes": self.notes,
            "conditions": crate::scan::vocab::conditions(&self.meta, &self.file),
            "metadata": self.meta.0,
        })
    }

    /// Human-readable report: notes, the lmfit-style fit report, physics.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "=== {} ({})",
            self.file,
            match self.kind {
                ScanKind::Tr => "transient reflection",
                ScanKind::Trfe => "TRFE",
            }
        );
        if self.is_synthetic() {
            let _ = writeln!(s, "    SYNTHETIC data (simulated)");
        }
        for n in &self.notes {
            let _ = writeln!(s, "  - {n}");
        }
        let _ = write!(s, "{}", self.fit);
        if let Derived::Trfe {
            ladder, selection, ..
        } = &self.derived
        {
            write_ladder(&mut s, ladder, selection.as_ref());
        }
        let _ = writeln!(s, "[[Results]]");
        match &self.derived {
            Derived::Tr { lifetimes } => {
                for (k, l) in lifetimes.iter().enumerate() {
                    let sfx = suffix(k, lifetimes.len());
                    let _ = writeln!(s, "    spin lifetime tau{sfx} = {}", l.tau);
                    let _ = writeln!(s, "    spin relaxation rate k{sfx} = 1/tau = {}", l.rate);
                }
            }
            Derived::Trfe {
                carriers,
                field_t,
                selection,
                zero_field_tau,
                ..
            } => {
                if let Some(sel) = selection {
                    let _ = writeln!(
                        s,
                        "    components: {} chosen ({})\n    best 1 vs best 2 cosines: BIC {:.2} vs {:.2}, AIC {:.2} vs {:.2}, {}",
                        sel.chosen,
                        sel.reason,
                        sel.bic[0],
                        sel.bic[1],
                        sel.aic[0],
                        sel.aic[1],
                        if !sel.f_statistic.is_finite() {
                            "F-test n/a (the models are not nested)".to_string()
                        } else if sel.p_value < 1e-15 {
                            format!("F = {:.3} (p < 1e-15)", sel.f_statistic)
                        } else {
                            format!("F = {:.3} (p = {:.3e})", sel.f_statistic, sel.p_value)
                        }
                    );
                }
                match field_t {
                    Some(b) => {
                        let _ = writeln!(
                            s,
                            "    field B = {} mT",
                            crate::fit::result::fmt_sig(b * 1e3, 6)
                        );
                    }
                    None => {
                        let _ = writeln!(s, "    field unknown: |g| not computed");
                    }
                }
                if let Some(t) = zero_field_tau {
                    let _ = writeln!(s, "    zero-field spin decay: tau = {t}");
                }
                for (k, c) in carriers.iter().enumerate() {
                    let _ = write!(
                        s,
                        "    component {}: omega_L = {}, T2* = {}",
                        k + 1,
                        c.omega,
                        c.t2
                    );
                    if let Some(g) = &c.g {
                        let _ = write!(s, ", |g| = {}", g);
                    }
                    if let Some(w) = &c.sigma_w {
                        let _ = write!(s, ", g spread sigma_w = {w}");
                    }
                    if let Some(d) = &c.dg_inh {
                        let _ = write!(s, ", dg_inh = {d}");
                    }
                    let _ = writeln!(s);
                    if let Some(a) = &c.model_average {
                        let g = |q: &Option<Quantity>| {
                            q.map_or(String::new(), |g| format!(", |g| = {g}"))
                        };
                        let _ = writeln!(
                            s,
                            "      model average over {} candidates within dBIC {} (chosen weight {:.2}): omega_L = {}{}; chosen model: omega_L = {}{}; headline: {}{}",
                            a.models,
                            crate::fit::average::AVERAGE_WINDOW,
                            a.chosen_weight,
                            a.averaged_omega,
                            g(&a.averaged_g),
                            a.chosen_omega,
                            g(&a.chosen_g),
                            a.headline,
                            if a.headline == "averaged" {
                                " (the candidates disagree by more than their errors)"
                            } else {
                                ""
                            }
                        );
                    }
                }
            }
        }
        for iv in &self.profile {
            let f = |v: Option<f64>| {
                v.map_or("not reached".to_string(), |x| {
                    crate::fit::result::fmt_sig(x, 5)
                })
            };
            let _ = writeln!(
                s,
                "    profile {}-sigma interval of {}: [{}, {}]",
                iv.sigma_level,
                iv.name,
                f(iv.lower),
                f(iv.upper)
            );
        }
        write_adequacy(&mut s, &self.adequacy);
        if !self.fit.success() {
            let _ = writeln!(
                s,
                "    WARNING: fit not trustworthy: {}",
                self.fit.problems()
            );
        } else if self.status() == crate::pipeline::Status::Inadequate {
            let _ = writeln!(
                s,
                "    WARNING: the numbers describe a model the residuals reject (status inadequate)"
            );
        }
        s
    }

    /// (column, value) pairs of this record's row in the results table.
    pub fn csv_row(&self) -> Vec<(String, String)> {
        let f = &self.fit;
        let mut row = vec![
            ("file".to_string(), self.file.clone()),
            ("kind".into(), format!("{:?}", self.kind).to_lowercase()),
            ("status".into(), self.status().as_str().into()),
            ("success".into(), f.success().to_string()),
            ("adequate".into(), self.adequacy.level.as_str().into()),
            (
                "residual_left_frac".into(),
                self.adequacy
                    .size
                    .map_or(String::new(), |v| format!("{v:e}")),
            ),
            ("problems".into(), self.problems()),
            ("redchi".into(), format!("{:e}", f.redchi)),
        ];
        // the unit in the column name (`tau_ps`, `omega_1_rad_per_ns`); a
        // dimensionless quantity (|g|, dg) has none (`g_1`)
        let q = |row: &mut Vec<(String, String)>, name: &str, q: &Quantity| {
            let unit = q.unit.replace('/', "_per_").replace('^', "");
            row.push((
                if unit.is_empty() {
                    name.to_string()
                } else {
                    format!("{name}_{unit}")
                },
                format!("{:e}", q.value),
            ));
            row.push((
                format!("{name}_stderr"),
                if q.stderr.is_finite() {
                    format!("{:e}", q.stderr)
                } else {
                    String::new()
                },
            ));
        };
        match &self.derived {
            Derived::Tr { lifetimes } => {
                for (k, l) in lifetimes.iter().enumerate() {
                    let sfx = suffix(k, lifetimes.len());
                    q(&mut row, &format!("tau{sfx}"), &l.tau);
                    q(&mut row, &format!("rate{sfx}"), &l.rate);
                }
            }
            Derived::Trfe {
                carriers, field_t, ..
            } => {
                row.push((
                    "field_T".into(),
                    field_t.map_or(String::new(), |b| format!("{b}")),
                ));
                for (k, c) in carriers.iter().enumerate() {
                    q(&mut row, &format!("omega_{}", k + 1), &c.omega);
                    q(&mut row, &format!("t2_{}", k + 1), &c.t2);
                    if let Some(g) = &c.g {
                        q(&mut row, &format!("g_{}", k + 1), g);
                    }
                    if let Some(w) = &c.sigma_w {
                        q(&mut row, &format!("sigma_w_{}", k + 1), w);
                    }
                    if let Some(d) = &c.dg_inh {
                        q(&mut row, &format!("dg_inh_{}", k + 1), d);
                    }
                    row.push((
                        format!("headline_{}", k + 1),
                        c.model_average
                            .as_ref()
                            .map_or("chosen", |a| a.headline)
                            .into(),
                    ));
                }
            }
        }
        for (j, p) in f.params.0.iter().enumerate() {
            row.push((p.name.clone(), format!("{:e}", p.value)));
            row.push((
                format!("{}_stderr", p.name),
                f.stderr[j].map_or(String::new(), |e| format!("{e:e}")),
            ));
        }
        row
    }
}

/// The model ladder: every candidate with chi-square, criterion and verdict.
fn write_ladder(s: &mut String, ladder: &[Rung], sel: Option<&crate::fit::trfe::Selection>) {
    if ladder.is_empty() {
        return;
    }
    let crit = sel.map_or("BIC".to_string(), |x| match x.criterion {
        crate::fit::trfe::Criterion::Aic => "AIC".to_string(),
        _ => "BIC".to_string(),
    });
    let _ = writeln!(
        s,
        "[[Model ladder]] (simplest first; d{crit} = {crit} - chosen's {crit})"
    );
    let w = ladder
        .iter()
        .map(|r| r.model.len())
        .max()
        .unwrap_or(10)
        .max(10);
    for r in ladder {
        let score = if crit == "AIC" { r.aic } else { r.bic };
        let _ = writeln!(
            s,
            "    {} {:<w$}  chi2 = {:<11}  {crit} = {:<10}  d{crit} = {:>+9.2}  {}",
            if r.chosen { "*" } else { " " },
            r.model,
            crate::fit::result::fmt_sig(r.chisqr, 5),
            format!("{score:.2}"),
            r.delta,
            r.verdict
        );
    }
}

/// The residual tests, one line.
fn write_adequacy(s: &mut String, a: &Adequacy) {
    let tests: Vec<String> = a
        .tests
        .iter()
        .map(|t| format!("{} p = {:.2e}", t.name.replace('_', "-"), t.p_value))
        .collect();
    let _ = writeln!(
        s,
        "    residuals: {}{}",
        if a.tests.is_empty() {
            a.verdict.clone()
        } else {
            match a.level {
                crate::fit::adequacy::Level::Adequate => {
                    format!("no structure left (alpha {:.0e})", a.alpha)
                }
                crate::fit::adequacy::Level::Small => a.summary(),
                crate::fit::adequacy::Level::Inadequate => {
                    format!("MODEL INADEQUATE: {}", a.detail())
                }
            }
        },
        if tests.is_empty() {
            String::new()
        } else {
            format!(" [{}]", tests.join(", "))
        }
    );
}

/// A CSV table over records whose columns are the union of their columns.
pub fn csv_table(records: &[&FitRecord]) -> String {
    csv_rows(records, &[])
}

/// [`csv_table`] with a row for each input that has no fit: (file,
/// reason) as `status` = `failed` and the reason in `problems`. With them
/// every input of a session is one row.
pub fn csv_rows(records: &[&FitRecord], failed: &[(String, String)]) -> String {
    let mut rows: Vec<Vec<(String, String)>> = records.iter().map(|r| r.csv_row()).collect();
    rows.extend(failed.iter().map(|(f, why)| {
        vec![
            ("file".to_string(), f.clone()),
            ("status".to_string(), "failed".to_string()),
            ("problems".to_string(), why.clone()),
        ]
    }));
    let mut cols: Vec<String> = vec![];
    for r in &rows {
        for (c, _) in r {
            if !cols.contains(c) {
                cols.push(c.clone());
            }
        }
    }
    let mut w = csv::Writer::from_writer(vec![]);
    let _ = w.write_record(&cols);
    for r in &rows {
        let line: Vec<&str> = cols
            .iter()
            .map(|c| {
                r.iter()
                    .find(|(k, _)| k == c)
                    .map_or("", |(_, v)| v.as_str())
            })
            .collect();
        let _ = w.write_record(&line);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}
