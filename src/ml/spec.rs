//! A model with its hyper-parameters, as a value: parsed from the command
//! line (`ann`, `ann:hidden=4,alpha=0.1`, `rf:min_samples_leaf=3`), varied
//! for tuning ([`ModelSpec::grid`]) and over seeds ([`ModelSpec::with_seed`]),
//! written into a saved model and read back.

use super::ann::{Activation, Layers, Mlp};
use super::boost::Boosted;
use super::ols::Ols;
use super::svr::Svr;
use super::trees::Forest;
use super::{Predictor, Regressor};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};

/// One of the five model families with its settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum ModelSpec {
    Ols,
    Rf(Forest),
    Gbt(Boosted),
    Svr(Svr),
    Ann(Mlp),
}

/// Most settings a tuning grid may hold.
pub const MAX_GRID: usize = 10_000;

/// The command-line names.
pub const KINDS: &str = "ann, ols, rf, gbt, svr";

impl std::str::FromStr for ModelSpec {
    type Err = Error;
    /// `KIND` or `KIND:key=value,key=value` with the keys of the kind's settings.
    fn from_str(s: &str) -> Result<ModelSpec> {
        let (kind, settings) = s.split_once(':').unwrap_or((s, ""));
        let spec = match kind {
            "ols" => ModelSpec::Ols,
            "rf" => ModelSpec::Rf(Forest::default()),
            "gbt" => ModelSpec::Gbt(Boosted::default()),
            "svr" => ModelSpec::Svr(Svr::default()),
            "ann" => ModelSpec::Ann(Mlp::default()),
            other => {
                return Err(Error::setting(
                    "model",
                    format!("`{other}`: available: {KINDS}"),
                ));
            }
        };
        if settings.is_empty() {
            return Ok(spec);
        }
        let spec = Self::with_settings(spec, kind, settings, s)?;
        spec.validate()?;
        Ok(spec)
    }
}

impl ModelSpec {
    fn with_settings(spec: ModelSpec, kind: &str, settings: &str, s: &str) -> Result<ModelSpec> {
        // override the defaults through their serde form, so every setting
        // the struct has can be given and nothing else can
        let mut v =
            serde_json::to_value(&spec).map_err(|e| Error::setting("model", e.to_string()))?;
        let obj = v
            .as_object_mut()
            .ok_or_else(|| Error::setting("model", "no settings"))?;
        for kv in settings.split(',') {
            let (k, val) = kv.split_once('=').ok_or_else(|| {
                Error::setting("model", format!("`{kv}` in `{s}`: expected key=value"))
            })?;
            if k == "kind" || !obj.contains_key(k) {
                let keys: Vec<&String> = obj.keys().filter(|k| *k != "kind").collect();
                return Err(Error::setting(
                    "model",
                    format!("`{kind}` has no setting `{k}`; settings: {keys:?}"),
                ));
            }
            // numbers are JSON; a setting whose default is text or a list
            // (`hidden=40x10`, `activation=relu`) takes the text as it is
            let parsed: serde_json::Value = match serde_json::from_str(val) {
                Ok(v) => v,
                Err(_) if !obj[k].is_number() => serde_json::Value::String(val.to_string()),
                Err(_) => {
                    return Err(Error::setting(
                        "model",
                        format!("`{k}={val}`: expected a number (or null)"),
                    ));
                }
            };
            obj.insert(k.to_string(), parsed);
        }
        serde_json::from_value(v).map_err(|e| Error::setting("model", format!("`{s}`: {e}")))
    }

    /// A tuning grid from text: `key=v1,v2;key2=w1,w2` (the product of
    /// the lists, each applied to this spec's settings), at most
    /// [`MAX_GRID`] settings, each validated.
    pub fn grid_from(&self, text: &str) -> Result<Vec<ModelSpec>> {
        let mut out = vec![self.clone()];
        for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, values) = part.split_once('=').ok_or_else(|| {
                Error::setting("--grid", format!("`{part}`: expected key=v1,v2,..."))
            })?;
            let values: Vec<&str> = values
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                return Err(Error::setting("--grid", format!("`{part}`: no values")));
            }
            if out.len().saturating_mul(values.len()) > MAX_GRID {
                return Err(Error::setting(
                    "--grid",
                    format!("more than {MAX_GRID} settings"),
                ));
            }
            let mut next = vec![];
            for spec in &out {
                for v in &values {
                    let kv = format!("{}={v}", key.trim());
                    let m = Self::with_settings(spec.clone(), self.kind(), &kv, &kv)
                        .map_err(|e| Error::setting("--grid", e.to_string()))?;
                    m.validate()
                        .map_err(|e| Error::setting("--grid", e.to_string()))?;
                    next.push(m);
                }
            }
            out = next;
        }
        Ok(out)
    }

    /// Every setting in its range (see each family's `validate`).
    pub fn validate(&self) -> Result<()> {
        match self {
            ModelSpec::Ols => Ok(()),
            ModelSpec::Rf(m) => m.validate(),
            ModelSpec::Gbt(m) => m.validate(),
            ModelSpec::Svr(m) => m.validate(),
            ModelSpec::Ann(m) => m.validate(),
        }
    }

    /// The command-line kind.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelSpec::Ols => "ols",
            ModelSpec::Rf(_) => "rf",
            ModelSpec::Gbt(_) => "gbt",
            ModelSpec::Svr(_) => "svr",
            ModelSpec::Ann(_) => "ann",
        }
    }

    fn regressor(&self) -> &dyn Regressor {
        match self {
            ModelSpec::Ols => &Ols,
            ModelSpec::Rf(m) => m,
            ModelSpec::Gbt(m) => m,
            ModelSpec::Svr(m) => m,
            ModelSpec::Ann(m) => m,
        }
    }

    /// Whether training depends on a random seed (OLS and SVR do not).
    pub fn is_random(&self) -> bool {
        matches!(
            self,
            ModelSpec::Rf(_) | ModelSpec::Gbt(_) | ModelSpec::Ann(_)
        )
    }

    /// The seed of a model that has one (0 for OLS and SVR).
    pub fn seed(&self) -> u64 {
        match self {
            ModelSpec::Rf(m) => m.seed,
            ModelSpec::Gbt(m) => m.seed,
            ModelSpec::Ann(m) => m.seed,
            ModelSpec::Ols | ModelSpec::Svr(_) => 0,
        }
    }

    /// The same model with another seed (bootstrap draws, initial weights).
    pub fn with_seed(&self, seed: u64) -> ModelSpec {
        let mut s = self.clone();
        match &mut s {
            ModelSpec::Rf(m) => m.seed = seed,
            ModelSpec::Gbt(m) => m.seed = seed,
            ModelSpec::Ann(m) => m.seed = seed,
            ModelSpec::Ols | ModelSpec::Svr(_) => {}
        }
        s
    }

    /// The default hyper-parameter grid searched by tuning: the settings
    /// that matter most for 50-row data sets, a few values each.
    pub fn grid(&self) -> Vec<ModelSpec> {
        let mut out = vec![];
        match self {
            ModelSpec::Ols => out.push(ModelSpec::Ols),
            ModelSpec::Rf(m) => {
                for leaf in [1, 3, 6] {
                    for mtry in [None, Some(1.0)] {
                        out.push(ModelSpec::Rf(Forest {
                            min_samples_leaf: leaf,
                            max_features: mtry,
                            ..*m
                        }))
                    }
                }
            }
            ModelSpec::Gbt(m) => {
                for depth in [2, 3, 5] {
                    for rate in [0.03, 0.1] {
                        out.push(ModelSpec::Gbt(Boosted {
                            max_depth: depth,
                            learning_rate: rate,
                            ..*m
                        }))
                    }
                }
            }
            ModelSpec::Svr(m) => {
                for c in [1.0, 10.0, 100.0] {
                    for eps in [0.05, 0.2] {
                        out.push(ModelSpec::Svr(Svr {
                            c,
                            epsilon: eps,
                            ..*m
                        }))
                    }
                }
            }
            ModelSpec::Ann(m) => {
                for hidden in [vec![10], vec![40, 10]] {
                    for activation in [Activation::Relu, Activation::Tanh] {
                        for alpha in [1e-4, 1e-2, 1.0] {
                            out.push(ModelSpec::Ann(Mlp {
                                hidden: Layers(hidden.clone()),
                                activation,
                                alpha,
                                ..m.clone()
                            }))
                        }
                    }
                }
            }
        }
        out
    }

    /// A trained model read back from a saved state for `n_features`
    /// inputs, checked whole ([`Predictor::check`]) before it is used.
    pub fn restore(
        &self,
        state: &serde_json::Value,
        n_features: usize,
    ) -> Result<Box<dyn Predictor>> {
        fn de<T: serde::de::DeserializeOwned + Predictor + 'static>(
            v: &serde_json::Value,
        ) -> Result<Box<dyn Predictor>> {
            serde_json::from_value::<T>(v.clone())
                .map(|t| Box::new(t) as Box<dyn Predictor>)
                .map_err(|e| Error::setting("trained model", format!("unreadable state: {e}")))
        }
        let m = match self {
            ModelSpec::Ols => de::<super::ols::FittedOls>(state),
            ModelSpec::Rf(_) => de::<super::trees::FittedForest>(state),
            ModelSpec::Gbt(_) if state.get("regressors").is_some() => Err(Error::setting(
                "trained model",
                "boosted trees saved by an earlier spinfit (smartcore's trees, before \
                 histogram boosting): train the model again",
            )),
            ModelSpec::Gbt(_) => de::<super::boost::FittedBoosted>(state),
            ModelSpec::Svr(_) => de::<super::svr::FittedSvr>(state),
            ModelSpec::Ann(_) => de::<super::ann::FittedMlp>(state),
        }?;
        m.check(n_features)
            .map_err(|e| Error::setting("trained model", e))?;
        Ok(m)
    }
}

impl Regressor for ModelSpec {
    fn name(&self) -> String {
        self.regressor().name()
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        self.regressor().fit(x, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_from_text_is_the_product_of_its_lists() {
        let base: ModelSpec = "svr:epsilon=0.3".parse().unwrap();
        let g = base.grid_from("c=1,10,100; gamma=0.1,null").unwrap();
        assert_eq!(g.len(), 6);
        let ModelSpec::Svr(last) = &g[5] else {
            panic!("{g:?}")
        };
        assert_eq!((last.c, last.gamma, last.epsilon), (100.0, None, 0.3));
        let ModelSpec::Svr(first) = &g[0] else {
            panic!()
        };
        assert_eq!((first.c, first.gamma), (1.0, Some(0.1)));
        for bad in ["c", "c=", "c=-1", "colour=1", "c=x"] {
            assert!(
                base.grid_from(bad)
                    .unwrap_err()
                    .to_string()
                    .contains("--grid"),
                "{bad}"
            );
        }
        let big = format!(
            "c={}",
            (1..=101)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        );
        let huge = format!(
            "{big};epsilon={}",
            (1..=101)
                .map(|i| format!("0.{i}"))
                .collect::<Vec<_>>()
                .join(",")
        );
        assert!(
            base.grid_from(&huge).is_err(),
            "more than MAX_GRID settings"
        );
    }

    #[test]
    fn settings_from_the_command_line() {
        let s: ModelSpec = "ann:hidden=4,alpha=0.1".parse().unwrap();
        assert_eq!(
            s,
            ModelSpec::Ann(Mlp {
                hidden: Layers(vec![4]),
                alpha: 0.1,
                ..Mlp::default()
            })
        );
        let s: ModelSpec = "ann:hidden=40x10,activation=tanh".parse().unwrap();
        assert_eq!(
            s,
            ModelSpec::Ann(Mlp {
                hidden: Layers(vec![40, 10]),
                activation: Activation::Tanh,
                ..Mlp::default()
            })
        );
        for bad in ["ann:activation=softmax", "ann:hidden=40x0", "ann:hidden=x"] {
            let e = bad.parse::<ModelSpec>().unwrap_err().to_string();
            assert!(
                e.contains("activation") || e.contains("hidden"),
                "{bad}: {e}"
            );
        }
        let e = "ann:depth=3".parse::<ModelSpec>().unwrap_err().to_string();
        assert!(
            e.contains("no setting `depth`") && e.contains("hidden"),
            "{e}"
        );
        let e = "svr:c=ten".parse::<ModelSpec>().unwrap_err().to_string();
        assert!(e.contains("expected a number"), "{e}");
        assert!("knn".parse::<ModelSpec>().is_err());
        assert_eq!("ols".parse::<ModelSpec>().unwrap(), ModelSpec::Ols);
        let g = ModelSpec::Ann(Mlp::default()).grid();
        assert_eq!(g.len(), 12);
        assert!(g.iter().all(|m| m.kind() == "ann"));
    }

    #[test]
    fn every_trained_model_survives_a_round_trip_through_its_state() {
        let x = DMatrix::from_fn(24, 3, |i, j| ((i * 5 + 2 * j + 1) as f64 * 0.53).sin());
        let y = DVector::from_fn(24, |i, _| {
            x[(i, 0)] - 0.5 * x[(i, 2)] + 0.1 * x[(i, 1)].powi(2)
        });
        for kind in ["ols", "rf", "gbt", "svr", "ann"] {
            let spec: ModelSpec = kind.parse().unwrap();
            let f = spec.fit(&x, &y).unwrap();
            let text = serde_json::to_string(&f.state().unwrap()).unwrap();
            let back = spec
                .restore(&serde_json::from_str(&text).unwrap(), 3)
                .unwrap();
            let (a, b) = (f.predict(&x), back.predict(&x));
            assert!(
                a.iter().zip(b.iter()).all(|(p, q)| p == q),
                "{kind}: predictions changed after the round trip"
            );
        }
    }
}
