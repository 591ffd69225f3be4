//! Checks of a saved model before it is used: a saved file is untrusted,
//! and a model whose arrays do not match their shapes, whose tree points
//! back to itself or past its end, or whose numbers are not finite would
//! panic, hang or print a confident wrong rate. Every failure names the
//! field (`state.trees[0].nodes[3].true_child`) and what was expected.
//!
//! Limits (documented here, shown in the messages): a model settings
//! struct is range-checked by [`super::ModelSpec::validate`]; trees are at
//! most [`MAX_TREE_DEPTH`] deep.

use crate::error::{Error, Result};
use serde_json::Value;

/// Deepest tree accepted from a file (the settings allow 64 levels).
pub const MAX_TREE_DEPTH: usize = 64;

/// An error at `field` of the saved state.
pub(crate) fn bad(field: impl std::fmt::Display, msg: impl std::fmt::Display) -> String {
    format!("field `{field}`: {msg}")
}

/// `v` has `n` finite numbers.
/// A saved model's feature count `have` against the `p` it is used with.
pub(crate) fn same_p(have: usize, p: usize) -> std::result::Result<(), String> {
    if have == p {
        Ok(())
    } else {
        Err(bad(
            "state.p",
            format!("{have}, but the model has {p} features"),
        ))
    }
}

pub(crate) fn finite_len(field: &str, v: &[f64], n: usize) -> std::result::Result<(), String> {
    if v.len() != n {
        return Err(bad(field, format!("{} values, expected {n}", v.len())));
    }
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(bad(format!("{field}[{i}]"), "not a finite number")),
        None => Ok(()),
    }
}

/// A setting in a closed range, named in the error.
pub(crate) fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    name: &str,
    v: T,
    lo: T,
    hi: T,
) -> Result<()> {
    if v >= lo && v <= hi {
        Ok(())
    } else {
        Err(Error::setting(name, format!("{v} is outside {lo}..={hi}")))
    }
}

/// A positive finite real setting (`> 0`), or non-negative with `zero_ok`.
pub(crate) fn positive(name: &str, v: f64, zero_ok: bool) -> Result<()> {
    if v.is_finite() && (v > 0.0 || (zero_ok && v == 0.0)) {
        Ok(())
    } else {
        Err(Error::setting(
            name,
            format!(
                "{v}: expected a finite number {}",
                if zero_ok { ">= 0" } else { "> 0" }
            ),
        ))
    }
}

fn uint(v: &Value, field: &str) -> std::result::Result<usize, String> {
    v.as_u64()
        .map(|u| u as usize)
        .ok_or_else(|| bad(field, "expected a non-negative integer"))
}

fn num(v: &Value, field: &str) -> std::result::Result<f64, String> {
    v.as_f64()
        .filter(|x| x.is_finite())
        .ok_or_else(|| bad(field, "expected a finite number"))
}

/// smartcore's forest: `forest_regressor.trees[*].nodes[*]`, each node a
/// leaf (no children) or a split with both children after itself (so the
/// walk from node 0 always ends), a feature index below `p` and a split
/// value.
pub(crate) fn forest(state: &Value, p: usize) -> std::result::Result<(), String> {
    let f = &state["forest_regressor"];
    let nf = uint(&f["num_features"], "state.forest_regressor.num_features")?;
    if nf != p {
        return Err(bad(
            "state.forest_regressor.num_features",
            format!("{nf}, but the model has {p} features"),
        ));
    }
    let trees = f["trees"]
        .as_array()
        .filter(|t| !t.is_empty())
        .ok_or_else(|| bad("state.forest_regressor.trees", "no trees"))?;
    for (t, tree) in trees.iter().enumerate() {
        let at = format!("state.forest_regressor.trees[{t}].nodes");
        let nodes = tree["nodes"]
            .as_array()
            .filter(|n| !n.is_empty())
            .ok_or_else(|| bad(&at, "no nodes"))?;
        for (i, n) in nodes.iter().enumerate() {
            let here = format!("{at}[{i}]");
            num(&n["output"], &format!("{here}.output"))?;
            match (&n["true_child"], &n["false_child"]) {
                (Value::Null, Value::Null) => {}
                (a, b) => {
                    for (name, c) in [("true_child", a), ("false_child", b)] {
                        let c = uint(c, &format!("{here}.{name}"))?;
                        if c <= i || c >= nodes.len() {
                            return Err(bad(
                                format!("{here}.{name}"),
                                format!(
                                    "{c}: a child must come after its node and before {}",
                                    nodes.len()
                                ),
                            ));
                        }
                    }
                    let j = uint(&n["split_feature"], &format!("{here}.split_feature"))?;
                    if j >= p {
                        return Err(bad(
                            format!("{here}.split_feature"),
                            format!("{j}, but there are {p} features"),
                        ));
                    }
                    num(&n["split_value"], &format!("{here}.split_value"))?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::ml::{ModelSpec, Regressor};
    use nalgebra::{DMatrix, DVector};
    use serde_json::Value;

    /// Each kind's trained state, corrupted the ways a hand-edited or
    /// hostile file would be: the restore refuses it naming the field, and
    /// nothing panics or loops.
    #[test]
    fn corrupted_states_are_refused_by_field() {
        let x = DMatrix::from_fn(30, 3, |i, j| ((i * 7 + 3 * j + 1) as f64 * 0.41).sin());
        let y = DVector::from_fn(30, |i, _| x[(i, 0)] - 0.5 * x[(i, 2)]);
        type Edit = fn(&mut Value);
        let cases: [(&str, Edit, &str); 14] = [
            (
                "ols",
                |s| {
                    s["coef"].as_array_mut().unwrap().pop();
                },
                "state.coef",
            ),
            ("ols", |s| s["coef"][1] = Value::Null, "unreadable state"),
            (
                "rf",
                |s| s["forest_regressor"]["trees"][0]["nodes"][0]["true_child"] = 0.into(),
                "nodes[0].true_child",
            ),
            (
                "rf",
                |s| s["forest_regressor"]["trees"][0]["nodes"][0]["false_child"] = 100_000.into(),
                "false_child",
            ),
            (
                "rf",
                |s| s["forest_regressor"]["trees"][0]["nodes"][0]["split_feature"] = 7.into(),
                "split_feature",
            ),
            (
                "rf",
                |s| s["forest_regressor"]["trees"] = Value::Array(vec![]),
                "no trees",
            ),
            (
                "gbt",
                |s| s["trees"][0]["nodes"][0]["feature"] = 3.into(),
                "state.trees[0].nodes[0].feature",
            ),
            (
                "gbt",
                |s| s["trees"][0]["nodes"][0]["right"] = 0.into(),
                "nodes[0].right",
            ),
            ("gbt", |s| s["trees"] = Value::Array(vec![]), "no trees"),
            (
                "svr",
                |s| {
                    s["coef"].as_array_mut().unwrap().pop();
                },
                "state.coef",
            ),
            (
                "svr",
                |s| {
                    s["scaler"]["sd"].as_array_mut().unwrap().pop();
                },
                "state.scaler.sd",
            ),
            (
                "ann",
                |s| {
                    s["nets"][0].as_array_mut().unwrap().pop();
                },
                "state.nets[0]",
            ),
            ("ann", |s| s["nets"] = Value::Array(vec![]), "no networks"),
            ("ann", |s| s["p"] = 2.into(), "state.p"),
        ];
        for (kind, edit, field) in cases {
            let spec: ModelSpec = format!(
                "{kind}:{}",
                if kind == "rf" {
                    "n_trees=3"
                } else if kind == "gbt" {
                    "n_estimators=3"
                } else {
                    ""
                }
            )
            .trim_end_matches(':')
            .parse()
            .unwrap();
            let mut state = spec.fit(&x, &y).unwrap().state().unwrap();
            assert!(
                spec.restore(&state, 3).is_ok(),
                "{kind}: the untouched state loads"
            );
            edit(&mut state);
            let e = spec
                .restore(&state, 3)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                e.contains(field),
                "{kind}: expected an error naming `{field}`, got `{e}`"
            );
        }
    }

    /// Boosting starts from the training mean (xgboost's estimated base
    /// score), not smartcore's fixed 0.5: one near-zero-rate tree predicts
    /// the mean; and a saved setting without the newer fields still loads.
    #[test]
    fn boosting_starts_from_the_mean_and_old_settings_load() {
        let x = DMatrix::from_fn(20, 2, |i, j| (i * (j + 2)) as f64);
        let y = DVector::from_fn(20, |i, _| 40.0 + i as f64);
        let spec: ModelSpec = "gbt:n_estimators=1,learning_rate=1e-9".parse().unwrap();
        let p = spec.fit(&x, &y).unwrap().predict(&x);
        let mean = y.mean();
        assert!(p.iter().all(|v| (v - mean).abs() < 1e-6), "{p}");
        let old: ModelSpec = serde_json::from_str(
            r#"{"kind": "gbt", "n_estimators": 5, "learning_rate": 0.1, "max_depth": 2, "seed": 1}"#,
        )
        .unwrap();
        assert!(old.validate().is_ok());
    }

    #[test]
    fn nonsense_settings_name_the_setting_and_its_range() {
        for (s, name) in [
            ("rf:n_trees=0", "rf:n_trees"),
            ("rf:min_samples_leaf=0", "rf:min_samples_leaf"),
            ("rf:max_features=2.5", "rf:max_features"),
            ("gbt:learning_rate=0", "gbt:learning_rate"),
            ("gbt:max_depth=0", "gbt:max_depth"),
            ("svr:c=-1", "svr:c"),
            ("svr:epsilon=-1", "svr:epsilon"),
            ("ann:hidden=0", "ann:hidden"),
            ("ann:seeds=0", "ann:seeds"),
            ("ann:alpha=-1", "ann:alpha"),
            ("gbt:subsample=1.5", "gbt:subsample"),
            ("gbt:lambda=-1", "gbt:lambda"),
        ] {
            let e = s.parse::<ModelSpec>().unwrap_err().to_string();
            assert!(e.contains(name), "{s}: {e}");
        }
    }
}
