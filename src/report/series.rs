//! Writers of a field series: the `spinfit.gfactor/1` JSON and the text
//! report (two-step route, eq. 1 and eq. 3, then the global fit).

use crate::physics::Quantity;
use crate::physics::gfactor::DG_CONVENTION;
use crate::series::SeriesResult;

impl SeriesResult {
    /// JSON document of schema `spinfit.gfactor/1`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        json!({
            "schema": "spinfit.gfactor/1",
            "name": self.name,
            "grouped_by": self.grouped_by,
            "sample": self.sample,
            "photon_energy": self.photon_energy_ev.map(|e| Quantity::new(e, f64::NAN, "eV")),
            "min_field": Quantity::new(self.min_field_t, f64::NAN, "T"),
            "convention": DG_CONVENTION,
            "carriers": self.carriers,
            "global": self.global.as_ref().map(|(f, c, _)| json!({"success": f.success(), "redchi": f.redchi, "carriers": c, "model": f.model})),
            "traces": self.traces.iter().map(|t| json!({
                "file": t.fitted.record.file, "field": Quantity::new(t.field_t, f64::NAN, "T"),
                "labels": t.labels.iter().map(|(l, c)| json!({"carrier": l, "component": c + 1})).collect::<Vec<_>>(),
                "fit": t.fitted.record.to_json(),
            })).collect::<Vec<_>>(),
            "zero_field": self.zero_field_tau.map(|t| json!({"tau": t, "traces": self.zero_field.iter().map(|f| f.record.file.clone()).collect::<Vec<_>>()})),
            "distinct_fields": self.distinct_fields(),
            "rejected": self.rejected.iter().map(|f| json!({"file": f.record.file, "problems": f.record.problems()})).collect::<Vec<_>>(),
            "failures": self.failures.iter().map(|(f, r)| json!({"file": f, "reason": r})).collect::<Vec<_>>(),
            "notes": self.notes,
        })
    }

    /// Human-readable report.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        let _ = writeln!(
            s,
            "=== field series: {}{} at {}",
            self.name
                .as_deref()
                .map_or(String::new(), |n| format!("{n}, ")),
            self.sample.as_deref().unwrap_or("(sample not named)"),
            self.photon_energy_ev
                .map_or("unknown energy".into(), |e| format!("{e} eV"))
        );
        if !self.grouped_by.is_empty() {
            let _ = writeln!(s, "    grouped by {}", self.grouped_by);
        }
        let _ = writeln!(
            s,
            "    {} traces at {} distinct non-zero fields fitted; fields below {} mT left out of the slopes",
            self.traces.len(),
            self.distinct_fields(),
            self.min_field_t * 1e3
        );
        if let Some(t) = &self.zero_field_tau {
            let _ = writeln!(
                s,
                "    zero field: spin decay tau = {t} ({} trace{})",
                self.zero_field.len(),
                if self.zero_field.len() == 1 { "" } else { "s" }
            );
        }
        for t in &self.traces {
            let labels: Vec<String> = t
                .labels
                .iter()
                .map(|(l, c)| format!("{l} = component {}", c + 1))
                .collect();
            let _ = writeln!(
                s,
                "    {:>7.1} mT  {}  [{}]",
                t.field_t * 1e3,
                t.fitted.record.file,
                labels.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "[[Two-step route]] (per-trace fits, then eq. 1 and eq. 3)"
        );
        for c in &self.carriers {
            let _ = writeln!(
                s,
                "    {}: |g| = {} (slope through the origin, {} fields, reduced chi-square {:.2})",
                c.carrier,
                c.g,
                c.used.len(),
                c.redchi_omega
            );
            if let Some(why) = &c.inconsistent {
                let _ = writeln!(s, "        WARNING: {why}");
            }
            if let Some((a, g)) = &c.intercept_check {
                let _ = writeln!(
                    s,
                    "        check with free intercept: omega(0) = {a}, |g| = {g}"
                );
            }
            match (&c.t2_zero_field, &c.dg, &c.dg_relative) {
                (Some(t), Some(d), Some(r)) => {
                    let _ = writeln!(
                        s,
                        "        T2*(0) = {t}, dg = {d}, dg/|g| = {:.1} +/- {:.1} %",
                        100.0 * r.value,
                        100.0 * r.stderr
                    );
                }
                _ => {
                    let _ = writeln!(s, "        T2*(B): fewer than 3 fields, eq. 3 not fitted");
                }
            }
            if let Some(d) = &c.dg_inh {
                let _ = writeln!(
                    s,
                    "        sigma_w(B) = dg_inh mu_B B / hbar (Voigt envelopes): dg_inh = {d} (Gaussian standard deviation of g), reduced chi-square {:.3}",
                    c.redchi_sigma_w
                );
            }
            if let Some(a) = &c.dg_agreement {
                let _ = writeln!(s, "        {a}");
            }
        }
        let _ = writeln!(s, "    dg convention: {DG_CONVENTION}");
        if let Some((f, cs, _)) = &self.global {
            let _ = writeln!(
                s,
                "[[Global fit]] ({}; {}, reduced chi-square {:.4e})",
                f.model, f.termination, f.redchi
            );
            for c in cs {
                let two = self.carriers.iter().find(|k| k.carrier == c.carrier);
                let _ = writeln!(
                    s,
                    "    {}: |g| = {}, T2*(0) = {}, dg = {}",
                    c.carrier, c.g, c.t2_zero_field, c.dg
                );
                if let Some(k) = two {
                    let _ = writeln!(
                        s,
                        "        two-step: |g| = {}; difference {:.2} combined sigma",
                        k.g,
                        (c.g.value - k.g.value).abs() / c.g.stderr.hypot(k.g.stderr)
                    );
                }
            }
        }
        for n in &self.notes {
            let _ = writeln!(s, "  - {n}");
        }
        for (f, r) in &self.failures {
            let _ = writeln!(s, "  FAILED {f}: {r}");
        }
        s
    }
}
