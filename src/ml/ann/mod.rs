//! Multilayer perceptron regressor, scikit-learn's `MLPRegressor` trained
//! by L-BFGS: any number of hidden layers of relu, tanh or logistic units,
//! an L2 penalty `alpha`, on standardised inputs and target.
//!
//! Loss and back-propagation are in [`net`]. Training stops at the first of
//! (scikit-learn's lbfgs rule, argmin's L-BFGS with a More-Thuente search):
//! - |grad L| <= `tol` (scikit-learn passes `tol` as L-BFGS-B's `gtol`,
//!   a max-norm; here the 2-norm, which is never smaller);
//! - a loss decrease below 2.2e-9 (L-BFGS-B's default `ftol`);
//! - `n_iter_no_change` iterations in a row that lower the loss by less than
//!   `tol` (scikit-learn applies this rule to adam and sgd);
//! - `max_iters` iterations.
//!
//! Initial weights and biases are Glorot-uniform, as scikit-learn draws
//! them: U(-b, b), b = sqrt(k / (fan_in + fan_out)), k = 2 for logistic and
//! 6 otherwise. `seeds > 1` averages the predictions of that many networks
//! started from seeds `seed`, `seed + 1`, ... (an option; scikit-learn has
//! no such ensemble, and the default is one network).

mod coalitions;
mod net;
mod stop;

use super::scale::{Scaler, target_scale};
use super::{Predictor, Regressor};
use crate::error::{Error, Result};
use argmin::core::{Executor, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// Hidden units' activation function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    Relu,
    Tanh,
    Logistic,
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Logistic => "logistic",
        })
    }
}

impl Activation {
    /// What a model saved before activations could be chosen used.
    fn saved_before_choice() -> Activation {
        Activation::Tanh
    }
}

/// Hidden layer sizes, written `40x10` on the command line (first layer
/// first); also read from a number (one layer) or a JSON list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layers(pub Vec<usize>);

impl std::fmt::Display for Layers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s: Vec<String> = self.0.iter().map(|v| v.to_string()).collect();
        write!(f, "{}", s.join("x"))
    }
}

impl std::str::FromStr for Layers {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Layers, String> {
        s.split(['x', 'X'])
            .map(|v| {
                v.trim()
                    .parse::<usize>()
                    .map_err(|_| format!("`{s}`: expected layer sizes such as 100 or 40x10"))
            })
            .collect::<std::result::Result<Vec<_>, _>>()
            .map(Layers)
    }
}

impl serde::Serialize for Layers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for Layers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Layers, D::Error> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Form {
            One(usize),
            List(Vec<usize>),
            Text(String),
        }
        match Form::deserialize(d)? {
            Form::One(h) => Ok(Layers(vec![h])),
            Form::List(v) => Ok(Layers(v)),
            Form::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// MLP settings; the defaults are scikit-learn's `MLPRegressor(solver="lbfgs")`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mlp {
    /// Hidden layer sizes (scikit-learn's `hidden_layer_sizes`, default 100).
    pub hidden: Layers,
    /// Default relu (a model saved before the choice existed was tanh).
    #[serde(default = "Activation::saved_before_choice")]
    pub activation: Activation,
    /// L2 penalty (scikit-learn's `alpha`, default 1e-4).
    pub alpha: f64,
    /// Networks averaged (default 1).
    pub seeds: u64,
    pub seed: u64,
    /// Most L-BFGS iterations (scikit-learn's `max_iter`, default 200).
    pub max_iters: u64,
    /// Stopping tolerance (default 1e-4).
    #[serde(default = "default_tol")]
    pub tol: f64,
    /// Iterations without a `tol` improvement before stopping (default 10).
    #[serde(default = "default_no_change")]
    pub n_iter_no_change: u64,
}

fn default_tol() -> f64 {
    1e-4
}

fn default_no_change() -> u64 {
    10
}

/// Largest hidden layer accepted.
pub const MAX_HIDDEN: usize = 10_000;
/// Most hidden layers.
pub const MAX_LAYERS: usize = 16;
/// Most weights between two hidden layers.
const MAX_WEIGHTS: usize = 10_000_000;

impl Mlp {
    /// Every setting in its range, named in the error.
    pub fn validate(&self) -> Result<()> {
        use super::checked::{in_range, positive};
        let h = &self.hidden.0;
        in_range("ann:hidden (layers)", h.len(), 1, MAX_LAYERS)?;
        for v in h {
            in_range("ann:hidden", *v, 1, MAX_HIDDEN)?;
        }
        let w: usize = h.windows(2).map(|w| w[0] * w[1]).sum();
        in_range("ann:hidden (weights between layers)", w, 0, MAX_WEIGHTS)?;
        positive("ann:alpha", self.alpha, true)?;
        in_range("ann:seeds", self.seeds, 1, 1000)?;
        in_range("ann:max_iters", self.max_iters, 1, 1_000_000)?;
        positive("ann:tol", self.tol, true)?;
        in_range("ann:n_iter_no_change", self.n_iter_no_change, 1, 1_000_000)
    }
}

impl Default for Mlp {
    fn default() -> Self {
        Mlp {
            hidden: Layers(vec![100]),
            activation: Activation::Relu,
            alpha: 1e-4,
            seeds: 1,
            seed: 0,
            max_iters: 200,
            tol: default_tol(),
            n_iter_no_change: default_no_change(),
        }
    }
}

/// One trained network per seed.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(from = "SavedMlp")]
pub struct FittedMlp {
    nets: Vec<Vec<f64>>,
    p: usize,
    layers: Vec<usize>,
    activation: Activation,
    scaler: Scaler,
    ys: (f64, f64),
}

/// A trained network as saved, now or before layers could be chosen
/// (one tanh layer of `h` units).
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SavedMlp {
    nets: Vec<Vec<f64>>,
    p: usize,
    #[serde(default)]
    layers: Vec<usize>,
    #[serde(default)]
    h: Option<usize>,
    #[serde(default = "Activation::saved_before_choice")]
    activation: Activation,
    scaler: Scaler,
    ys: (f64, f64),
}

impl From<SavedMlp> for FittedMlp {
    fn from(s: SavedMlp) -> FittedMlp {
        let mut layers = s.layers;
        if layers.is_empty()
            && let Some(h) = s.h
        {
            layers.push(h);
        }
        FittedMlp {
            nets: s.nets,
            p: s.p,
            layers,
            activation: s.activation,
            scaler: s.scaler,
            ys: s.ys,
        }
    }
}

/// Glorot-uniform weights and biases for a network of these sizes.
fn initial(sizes: &[usize], act: Activation, seed: u64) -> Vec<f64> {
    let mut rng = StdRng::seed_from_u64(seed);
    let k = if act == Activation::Logistic {
        2.0
    } else {
        6.0
    };
    let mut t = Vec::with_capacity(net::n_params(sizes));
    for w in sizes.windows(2) {
        let b = (k / (w[0] + w[1]) as f64).sqrt();
        t.extend((0..w[0] * w[1] + w[1]).map(|_| rng.random_range(-b..b)));
    }
    t
}

impl Regressor for Mlp {
    fn name(&self) -> String {
        let avg = if self.seeds > 1 {
            format!(", {} networks averaged", self.seeds)
        } else {
            String::new()
        };
        format!(
            "MLP ({} {}, alpha = {}, L-BFGS{avg})",
            self.hidden, self.activation, self.alpha
        )
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        self.validate()?;
        let scaler = Scaler::fit(x);
        let xs = scaler.apply(x);
        let ys = target_scale(y);
        let yz: Vec<f64> = y.iter().map(|v| (v - ys.0) / ys.1).collect();
        let sizes = net::sizes(x.ncols(), &self.hidden.0);
        let mut nets = vec![];
        for seed in self.seed..self.seed + self.seeds {
            let problem = net::Net::new(&xs, &yz, sizes.clone(), self.activation, self.alpha);
            let lbfgs = LBFGS::new(MoreThuenteLineSearch::new(), 10)
                .with_tolerance_grad(self.tol)
                .and_then(|s| s.with_tolerance_cost(2.2e-9))
                .map_err(|e| Error::Fit(format!("MLP solver: {e}")))?;
            let solver = stop::Patience::new(lbfgs, self.tol, self.n_iter_no_change);
            let res = Executor::new(problem, solver)
                .configure(|s| {
                    s.param(initial(&sizes, self.activation, seed))
                        .max_iters(self.max_iters)
                })
                .run()
                .map_err(|e| Error::Fit(format!("MLP training (seed {seed}): {e}")))?;
            let best = res
                .state()
                .get_best_param()
                .cloned()
                .ok_or_else(|| Error::Fit("MLP training gave no parameters".into()))?;
            if best.iter().any(|v| !v.is_finite()) {
                return Err(Error::Fit(format!(
                    "MLP training (seed {seed}) diverged: non-finite weights"
                )));
            }
            nets.push(best);
        }
        Ok(Box::new(FittedMlp {
            nets,
            p: x.ncols(),
            layers: self.hidden.0.clone(),
            activation: self.activation,
            scaler,
            ys,
        }))
    }
}

impl FittedMlp {
    /// [`Predictor::coalition_values`] with the background in blocks of
    /// `rows` (at most [`coalitions::LANES`]; memory O(LANES x p x widest
    /// layer) beyond the 2^p sums, whatever the background).
    fn coalition_means(&self, x: &[f64], background: &DMatrix<f64>, rows: usize) -> Vec<f64> {
        let xs = self.scaler.apply(&DMatrix::from_row_slice(1, x.len(), x));
        let bs = self.scaler.apply(background);
        let sizes = net::sizes(self.p, &self.layers);
        let sum = coalitions::background_sums(
            &self.nets,
            &sizes,
            self.activation,
            xs.as_slice(),
            &bs,
            rows,
        );
        let k = (bs.nrows() * self.nets.len()) as f64;
        sum.into_iter()
            .map(|s| s / k * self.ys.1 + self.ys.0)
            .collect()
    }
}

impl Predictor for FittedMlp {
    fn state(&self) -> Result<serde_json::Value> {
        super::state_of(self)
    }
    fn check(&self, p: usize) -> std::result::Result<(), String> {
        use super::checked::{bad, finite_len};
        super::checked::same_p(self.p, p)?;
        if self.layers.is_empty()
            || self.layers.len() > MAX_LAYERS
            || self.layers.iter().any(|h| *h == 0 || *h > MAX_HIDDEN)
        {
            return Err(bad(
                "state.layers",
                format!(
                    "{:?}: expected 1..={MAX_LAYERS} layers of 1..={MAX_HIDDEN} units",
                    self.layers
                ),
            ));
        }
        if self.nets.is_empty() {
            return Err(bad("state.nets", "no networks"));
        }
        let n = net::n_params(&net::sizes(p, &self.layers));
        for (i, t) in self.nets.iter().enumerate() {
            finite_len(&format!("state.nets[{i}]"), t, n)?;
        }
        self.scaler.check("state.scaler", p)?;
        super::scale::check_target_scale("state.ys", self.ys)
    }
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
        let xs = self.scaler.apply(x);
        let sizes = net::sizes(self.p, &self.layers);
        let mut sum = DVector::zeros(x.nrows());
        for t in &self.nets {
            let out = net::forward(t, &sizes, self.activation, &xs);
            sum += out[out.len() - 1].column(0);
        }
        sum.map(|m| m / self.nets.len() as f64 * self.ys.1 + self.ys.0)
    }
    fn coalition_values(&self, x: &[f64], background: &DMatrix<f64>) -> Option<Vec<f64>> {
        Some(self.coalition_means(x, background, coalitions::LANES))
    }
    /// Each pair of rows evaluated once ([`coalitions::shared_pair_sums`]).
    fn coalition_values_self(
        &self,
        x: &DMatrix<f64>,
        tick: &(dyn Fn() + Sync),
    ) -> Option<Vec<Vec<f64>>> {
        let xs = self.scaler.apply(x);
        let sizes = net::sizes(self.p, &self.layers);
        let sums = coalitions::shared_pair_sums(&self.nets, &sizes, self.activation, &xs, tick)?;
        let k = (x.nrows() * self.nets.len()) as f64;
        Some(
            sums.chunks_exact(1usize << self.p)
                .map(|row| row.iter().map(|s| s / k * self.ys.1 + self.ys.0).collect())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn smooth(n: usize) -> (DMatrix<f64>, DVector<f64>) {
        let x = DMatrix::from_fn(n, 2, |i, j| ((i * 7 + 3 * j + 1) as f64 * 0.41).sin());
        let y = DVector::from_fn(n, |i, _| (1.5 * x[(i, 0)]).tanh() + 0.5 * x[(i, 1)]);
        (x, y)
    }

    #[test]
    fn shapley_values_by_subset_sums_equal_those_of_the_predicted_batch() {
        /// The same network without its coalition hook: SHAP predicts batches.
        struct Batch<'a>(&'a dyn Predictor);
        impl Predictor for Batch<'_> {
            fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
                self.0.predict(x)
            }
            fn state(&self) -> Result<serde_json::Value> {
                self.0.state()
            }
            fn check(&self, p: usize) -> std::result::Result<(), String> {
                self.0.check(p)
            }
        }
        // feature 3 takes three values (a layer count), so many pairs of
        // rows agree on it and are evaluated on half the coalitions
        let x = DMatrix::from_fn(40, 5, |i, j| match j {
            3 => (i % 3) as f64,
            _ => ((i * 5 + 2 * j + 1) as f64 * 0.37).sin() * (j + 1) as f64,
        });
        let y = DVector::from_fn(40, |i, _| {
            (x[(i, 0)] * x[(i, 1)]).tanh() + 0.3 * x[(i, 4)] - x[(i, 2)].abs() + 0.4 * x[(i, 3)]
        });
        for (act, hidden, seeds) in [
            (Activation::Relu, "10x10", 1),
            (Activation::Tanh, "6", 2),
            (Activation::Logistic, "5x4x3", 1),
        ] {
            let f = Mlp {
                hidden: hidden.parse().unwrap(),
                activation: act,
                seeds,
                ..Mlp::default()
            }
            .fit(&x, &y)
            .unwrap();
            let (rows, bg) = (x.rows(0, 6).into_owned(), x.rows(20, 9).into_owned());
            let (a, base_a) = crate::ml::shap::exact(f.as_ref(), &rows, &bg, &|| {}).unwrap();
            let (b, base_b) =
                crate::ml::shap::exact(&Batch(f.as_ref()), &rows, &bg, &|| {}).unwrap();
            assert!((base_a - base_b).abs() < 1e-12);
            let diff = (&a - &b).abs().max();
            assert!(
                diff < 1e-9,
                "{act:?} {hidden}: subset sums differ by {diff}"
            );
            // the rows explained against themselves: pairs shared
            let some = x.rows(3, 11).into_owned();
            let ticks = std::sync::atomic::AtomicUsize::new(0);
            let count = || {
                ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            };
            let (c, _) = crate::ml::shap::exact(f.as_ref(), &some, &some, &count).unwrap();
            let (d, _) = crate::ml::shap::exact(&Batch(f.as_ref()), &some, &some, &|| {}).unwrap();
            assert_eq!(ticks.into_inner(), 11);
            let diff = (&c - &d).abs().max();
            assert!(
                diff < 1e-9,
                "{act:?} {hidden}: shared pairs differ by {diff}"
            );
            assert!(d.abs().max() > 1e-3);
            // the background in blocks (8 rows of 9 at a time) gives the same
            let m: FittedMlp = serde_json::from_value(f.state().unwrap()).unwrap();
            let r0: Vec<f64> = rows.row(0).iter().copied().collect();
            let (whole, chunked) = (
                m.coalition_means(&r0, &bg, coalitions::LANES),
                m.coalition_means(&r0, &bg, 2),
            );
            assert!(
                whole
                    .iter()
                    .zip(&chunked)
                    .all(|(a, b)| (a - b).abs() < 1e-12)
            );
            // efficiency: each row's values sum to f(x) - E f(background)
            let fx = f.predict(&rows);
            for r in 0..rows.nrows() {
                assert!((a.row(r).sum() - (fx[r] - base_a)).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn learns_a_smooth_function_held_out_with_each_activation() {
        let (x, y) = smooth(60);
        for (act, hidden) in [
            (Activation::Relu, "10x10"),
            (Activation::Tanh, "8"),
            (Activation::Logistic, "8"),
        ] {
            let f = Mlp {
                hidden: hidden.parse().unwrap(),
                activation: act,
                alpha: 1e-3,
                max_iters: 2000,
                ..Mlp::default()
            }
            .fit(&x.rows(0, 45).into_owned(), &y.rows(0, 45).into_owned())
            .unwrap();
            let pred = f.predict(&x.rows(45, 15).into_owned());
            let m = crate::ml::metrics::score(y.rows(45, 15).as_slice(), pred.as_slice());
            assert!(m.r2 > 0.95, "{act:?} {hidden}: held-out R2 {}", m.r2);
        }
    }

    #[test]
    fn tolerance_stops_training_before_max_iters() {
        // a loose tol ends early and fits worse than a tight one
        let (x, y) = smooth(40);
        let fit = |tol: f64| {
            let f = Mlp {
                hidden: Layers(vec![6]),
                activation: Activation::Tanh,
                tol,
                n_iter_no_change: 1,
                max_iters: 5000,
                ..Mlp::default()
            }
            .fit(&x, &y)
            .unwrap();
            let p = f.predict(&x);
            crate::ml::metrics::score(y.as_slice(), p.as_slice()).rmse
        };
        let (loose, tight) = (fit(0.5), fit(1e-9));
        assert!(loose > 2.0 * tight, "rmse loose {loose} vs tight {tight}");
    }

    #[test]
    fn layers_read_from_text_numbers_and_lists() {
        let l: Layers = "40x10".parse().unwrap();
        assert_eq!(l, Layers(vec![40, 10]));
        assert_eq!(l.to_string(), "40x10");
        for (json, want) in [
            ("8", vec![8]),
            ("[10,10]", vec![10, 10]),
            ("\"20\"", vec![20]),
        ] {
            assert_eq!(serde_json::from_str::<Layers>(json).unwrap().0, want);
        }
        assert!("40x".parse::<Layers>().is_err());
        assert!(serde_json::from_str::<Layers>("-3").is_err());
    }

    #[test]
    fn a_model_saved_with_one_tanh_layer_still_loads() {
        // the state before layers and activations could be chosen
        let (x, y) = smooth(20);
        let f = Mlp {
            hidden: Layers(vec![3]),
            activation: Activation::Tanh,
            ..Mlp::default()
        }
        .fit(&x, &y)
        .unwrap();
        let mut s = f.state().unwrap();
        let o = s.as_object_mut().unwrap();
        o.remove("layers");
        o.remove("activation");
        o.insert("h".into(), 3.into());
        let back: FittedMlp = serde_json::from_value(s).unwrap();
        back.check(2).unwrap();
        assert_eq!(back.predict(&x), f.predict(&x));
    }
}
