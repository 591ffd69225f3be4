//! Data-quality checks of a dataset: missing values, duplicate rows, rows
//! whose descriptors are identical but whose targets differ (which caps any
//! model's score), values outside physical ranges, and rows whose
//! descriptors do not follow from their own cations ([`super::rules`]).

use super::finding::Finding;
use super::{DESCRIPTORS, Dataset};

/// Relative tolerance within which two descriptor values count as the same.
pub const SAME_REL: f64 = 1e-3;

/// Plausible ranges (inclusive) per descriptor, for the out-of-range check.
const RANGES: [(f64, f64); 10] = [
    (0.0, 30.0),
    (1.0, 1000.0),
    (0.5, 4.0),
    (0.0, 1000.0),
    (0.5, 20.0),
    (0.5, 3.0),
    (-40.0, 0.0),
    (-40.0, 10.0),
    (0.0, 40.0),
    (1.0, 100.0),
];

pub fn check(d: &Dataset) -> Vec<Finding> {
    let mut out = vec![];
    for (i, r) in d.records.iter().enumerate() {
        let missing: Vec<&str> = DESCRIPTORS
            .iter()
            .zip(&r.descriptors)
            .filter(|(_, v)| v.is_nan())
            .map(|(c, _)| c.0)
            .collect();
        if !missing.is_empty() {
            out.push(Finding {
                kind: "missing",
                rows: vec![i + 1],
                message: format!("`{}`: missing {}", r.compound, missing.join(", ")),
            });
        }
        if r.rate.is_nan() {
            out.push(Finding {
                kind: "missing",
                rows: vec![i + 1],
                message: format!("`{}`: no spin relaxation rate", r.compound),
            });
        } else if r.rate <= 0.0 {
            out.push(Finding {
                kind: "out_of_range",
                rows: vec![i + 1],
                message: format!("`{}`: rate {} ps^-1 is not positive", r.compound, r.rate),
            });
        }
        for (k, v) in r.descriptors.iter().enumerate() {
            let (lo, hi) = RANGES[k];
            if v.is_finite() && (*v < lo || *v > hi) {
                out.push(Finding {
                    kind: "out_of_range",
                    rows: vec![i + 1],
                    message: format!(
                        "`{}`: {} = {v} outside [{lo}, {hi}]",
                        r.compound, DESCRIPTORS[k].0
                    ),
                });
            }
        }
        let n = r.descriptors[9];
        if n.is_finite() && n != 100.0 && (n.fract() != 0.0 || n > 10.0) {
            out.push(Finding {
                kind: "out_of_range",
                rows: vec![i + 1],
                message: format!(
                    "`{}`: n_layers = {n} is neither a small integer nor 100 (3-D)",
                    r.compound
                ),
            });
        }
    }
    for i in 0..d.records.len() {
        for j in i + 1..d.records.len() {
            let (a, b) = (&d.records[i], &d.records[j]);
            // equal to 0.1 %: sheets round some rows (e.g. 0.9379 vs 0.938199)
            let same = a.descriptors.iter().zip(&b.descriptors).all(|(x, y)| {
                (x - y).abs() <= SAME_REL * x.abs().max(y.abs()) || (x.is_nan() && y.is_nan())
            });
            if !same {
                continue;
            }
            if a.rate == b.rate {
                out.push(Finding {
                    kind: "duplicate",
                    rows: vec![i + 1, j + 1],
                    message: format!(
                        "`{}` and `{}` have the same descriptors (to 0.1 %) and rate",
                        a.compound, b.compound
                    ),
                });
            } else {
                out.push(Finding {
                    kind: "conflicting_targets",
                    rows: vec![i + 1, j + 1],
                    message: format!("`{}` and `{}` have the same descriptors (to 0.1 %) but rates {} and {} ps^-1: no model can fit both", a.compound, b.compound, a.rate, b.rate),
                });
            }
        }
    }
    out.extend(super::rules::rule_check(d));
    out
}
