//! # spinfit
//!
//! Ultrafast spin spectroscopy of halide perovskites, from raw pump-probe
//! scans to physics and predictions. The modules follow the data flow
//! ([`LAYERS`]; a module uses only those before it, checked by a test):
//!
//! 1. foundations: [`error`], [`io_util`] (atomic writes, locks, bounded
//!    reads), [`units`] (quantities such as "430mT"), [`physics`]
//!    (constants and the formulas: omega_L = |g| mu_B B / hbar, eq. 1-3, k.p);
//! 2. [`scan`]: read delimited text, 2-D maps (Glotaran ASCII, matrix CSV)
//!    and HDF5 into a [`scan::Scan`] with metadata and units; [`labconfig`]:
//!    a lab's `spinfit.toml`;
//! 3. [`preprocess`]: sort and merge repeated delays, SC - CC spin signal,
//!    fit windows;
//! 4. [`fit`]: Levenberg-Marquardt with bounds, IRF-convolved exponential
//!    decays and damped Larmor cosines, start values and model selection;
//!    [`simulate`]: synthetic scans with known truth;
//! 5. [`pipeline`]: one scan from file to [`pipeline::FitRecord`];
//!    [`series`]: a field series to |g|, T2*(0) and dg; [`session`]: a
//!    folder of scans, with settings from text ([`session::settings`]);
//! 6. [`dataset`]: the descriptor dataset with provenance; [`descriptors`]:
//!    descriptors from molecules; [`ml`]: predictors, validation, SHAP;
//! 7. output: [`plot`] (drawing) and [`report`] (every result as text,
//!    JSON, CSV, HDF5 and figures); [`cli`], the command line over all.
//!
//! Internal units: delays in ps, angular frequencies in rad/ns, fields in T,
//! photon energies in eV.

pub mod cli;
pub mod dataset;
pub mod descriptors;
pub mod error;
pub mod fit;
pub mod io_util;
pub mod labconfig;
pub mod ml;
pub mod physics;
pub mod pipeline;
pub mod plot;
pub mod preprocess;
pub mod report;
pub mod scan;
pub mod series;
pub mod session;
pub mod simulate;
pub mod units;

pub use error::{Error, Result};

/// The data flow, lowest first: a module may use those before it only.
pub const LAYERS: &[&str] = &[
    "error",
    "io_util",
    "units",
    "physics",
    "scan",
    "labconfig",
    "preprocess",
    "fit",
    "simulate",
    "pipeline",
    "series",
    "session",
    "dataset",
    "descriptors",
    "ml",
    "plot",
    "report",
    "cli",
];

#[cfg(test)]
mod layering {
    //! The tree reads as the data flow: no module uses one above it in
    //! [`super::LAYERS`], and no two files of one module use each other in
    //! a circle.
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Module path (`fit::trfe`) -> source without comments and unit tests.
    fn sources() -> BTreeMap<String, String> {
        fn walk(dir: &Path, prefix: &[String], out: &mut BTreeMap<String, String>) {
            for e in std::fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let name = p.file_stem().unwrap().to_string_lossy().to_string();
                let mut m = prefix.to_vec();
                if p.is_dir() {
                    m.push(name);
                    walk(&p, &m, out);
                    continue;
                }
                if name != "mod" {
                    m.push(name);
                }
                let text = std::fs::read_to_string(&p).unwrap();
                let code = text.split("#[cfg(test)]\nmod tests").next().unwrap();
                let code: String = code
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                out.insert(m.join("::"), code);
            }
        }
        let mut out = BTreeMap::new();
        walk(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &[],
            &mut out,
        );
        out.retain(|k, _| k != "lib" && k != "main");
        out
    }

    /// Paths named after `prefix` (`crate::`, `super::`) in `code`.
    fn uses(code: &str, prefix: &str) -> Vec<String> {
        code.match_indices(prefix)
            .map(|(i, _)| {
                code[i + prefix.len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
                    .collect::<String>()
            })
            .collect()
    }

    #[test]
    fn no_module_uses_one_above_it_in_the_data_flow() {
        let rank = |m: &str| super::LAYERS.iter().position(|l| *l == m);
        let mut wrong = vec![];
        for (m, code) in sources() {
            let top = m.split("::").next().unwrap().to_string();
            let mine = rank(&top).unwrap_or_else(|| panic!("module `{top}` is not in LAYERS"));
            for u in uses(&code, "crate::") {
                let t = u.split("::").next().unwrap();
                if let Some(r) = rank(t)
                    && r > mine
                {
                    wrong.push(format!("{m} uses crate::{u}"));
                }
            }
        }
        wrong.sort();
        wrong.dedup();
        assert!(
            wrong.is_empty(),
            "imports that run back up the data flow:\n{}",
            wrong.join("\n")
        );
    }

    #[test]
    fn no_files_of_one_module_use_each_other_in_a_circle() {
        let src = sources();
        let names: BTreeSet<&String> = src.keys().collect();
        // the sibling (or its descendant) a path names, from the using file
        let resolve = |from: &str, path: &str| -> Option<String> {
            let parts: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
            (1..=parts.len())
                .rev()
                .map(|k| parts[..k].join("::"))
                .find(|c| {
                    names.contains(c)
                        && c != from
                        && !from.starts_with(&format!("{c}::"))
                        && !c.starts_with(&format!("{from}::"))
                })
        };
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (m, code) in &src {
            let parent = m.rsplit_once("::").map_or("", |(p, _)| p);
            let mut to: Vec<String> = uses(code, "crate::")
                .iter()
                .filter_map(|u| resolve(m, u))
                .collect();
            to.extend(uses(code, "super::").iter().filter_map(|u| {
                resolve(
                    m,
                    &if parent.is_empty() {
                        u.clone()
                    } else {
                        format!("{parent}::{u}")
                    },
                )
            }));
            edges.entry(m.clone()).or_default().extend(to);
        }
        // depth-first search for a back edge
        fn visit(
            v: &str,
            edges: &BTreeMap<String, BTreeSet<String>>,
            state: &mut BTreeMap<String, u8>,
            stack: &mut Vec<String>,
        ) -> Option<Vec<String>> {
            state.insert(v.to_string(), 1);
            stack.push(v.to_string());
            for w in edges.get(v).into_iter().flatten() {
                match state.get(w.as_str()) {
                    Some(1) => {
                        let i = stack.iter().position(|s| s == w).unwrap();
                        let mut c = stack[i..].to_vec();
                        c.push(w.clone());
                        return Some(c);
                    }
                    None => {
                        if let Some(c) = visit(w, edges, state, stack) {
                            return Some(c);
                        }
                    }
                    _ => {}
                }
            }
            stack.pop();
            state.insert(v.to_string(), 2);
            None
        }
        let mut state = BTreeMap::new();
        for v in edges.keys() {
            if !state.contains_key(v.as_str()) {
                let cycle = visit(v, &edges, &mut state, &mut vec![]);
                assert!(
                    cycle.is_none(),
                    "a circle of imports: {}",
                    cycle.unwrap().join(" -> ")
                );
            }
        }
    }
}
