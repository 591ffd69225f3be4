//! Multilayer perceptron: one hidden layer of tanh units on standardised
//! inputs and target, an L2 penalty, trained by L-BFGS (argmin), and the
//! predictions of several seeds averaged.
//!
//! yhat = w2 . tanh(W1 x + b1) + b2,
//! L = 1/(2n) sum (yhat_i - y_i)^2 + alpha/(2n) (|W1|^2 + |w2|^2)
//! (scikit-learn's MLPRegressor loss), gradient by back-propagation.

use super::scale::{Scaler, target_scale};
use super::{Predictor, Regressor};
use crate::error::{Error, Result};
use argmin::core::{CostFunction, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::quasinewton::LBFGS;
use nalgebra::{DMatrix, DVector};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// MLP settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mlp {
    /// Hidden tanh units.
    pub hidden: usize,
    /// L2 penalty (scikit-learn's `alpha`).
    pub alpha: f64,
    /// Networks averaged, started from seeds `seed`, `seed + 1`, ...
    pub seeds: u64,
    pub seed: u64,
    pub max_iters: u64,
}

/// Largest hidden layer accepted.
pub const MAX_HIDDEN: usize = 10_000;

impl Mlp {
    /// Every setting in its range, named in the error.
    pub fn validate(&self) -> Result<()> {
        use super::checked::{in_range, positive};
        in_range("ann:hidden", self.hidden, 1, MAX_HIDDEN)?;
        positive("ann:alpha", self.alpha, true)?;
        in_range("ann:seeds", self.seeds, 1, 1000)?;
        in_range("ann:max_iters", self.max_iters, 1, 1_000_000)
    }
}

impl Default for Mlp {
    fn default() -> Self {
        Mlp {
            hidden: 8,
            alpha: 1.0,
            seeds: 5,
            seed: 0,
            max_iters: 400,
        }
    }
}

/// Parameters, loss and gradient of one evaluation.
type LossAt = (Vec<f64>, f64, Vec<f64>);

/// The training problem on standardised data.
struct Net<'a> {
    /// Standardised inputs, row-major (row i at `x[i * p..(i + 1) * p]`).
    x: &'a [f64],
    p: usize,
    y: &'a [f64],
    h: usize,
    alpha: f64,
    /// The line search asks for the cost and then the gradient at the same
    /// point; both come from one pass, so the last pass is kept.
    last: std::cell::RefCell<Option<LossAt>>,
}

impl<'a> Net<'a> {
    fn new(x: &'a [f64], p: usize, y: &'a [f64], h: usize, alpha: f64) -> Self {
        Net {
            x,
            p,
            y,
            h,
            alpha,
            last: std::cell::RefCell::new(None),
        }
    }
    fn sizes(&self) -> (usize, usize) {
        (self.p, self.h)
    }
    fn cached(&self, t: &[f64]) -> (f64, Vec<f64>) {
        if let Some((at, l, g)) = self.last.borrow().as_ref()
            && at.as_slice() == t
        {
            return (*l, g.clone());
        }
        let (l, g) = self.loss_grad(t);
        *self.last.borrow_mut() = Some((t.to_vec(), l, g.clone()));
        (l, g)
    }
    /// Loss and gradient at parameters `t` = [W1 (h x p, row-major), b1, w2, b2].
    fn loss_grad(&self, t: &[f64]) -> (f64, Vec<f64>) {
        let (p, h) = self.sizes();
        let n = self.y.len() as f64;
        let (w1, rest) = t.split_at(h * p);
        let (b1, rest) = rest.split_at(h);
        let (w2, b2) = (&rest[..h], rest[h]);
        let mut g = vec![0.0; t.len()];
        let mut loss = 0.0;
        let mut a = vec![0.0; h];
        for (i, xi) in self.x.chunks_exact(p).enumerate() {
            for k in 0..h {
                let z: f64 = b1[k]
                    + w1[k * p..(k + 1) * p]
                        .iter()
                        .zip(xi)
                        .map(|(w, v)| w * v)
                        .sum::<f64>();
                a[k] = z.tanh();
            }
            let yhat = b2 + (0..h).map(|k| w2[k] * a[k]).sum::<f64>();
            let r = yhat - self.y[i];
            loss += r * r / (2.0 * n);
            for k in 0..h {
                g[h * p + h + k] += r * a[k] / n;
                let dz = r * w2[k] * (1.0 - a[k] * a[k]) / n;
                g[h * p + k] += dz;
                for (gj, v) in g[k * p..(k + 1) * p].iter_mut().zip(xi) {
                    *gj += dz * v;
                }
            }
            g[h * p + 2 * h] += r / n;
        }
        let reg = self.alpha / (2.0 * n);
        for (k, v) in w1.iter().chain(w2).enumerate() {
            loss += reg * v * v;
            let idx = if k < h * p {
                k
            } else {
                h * p + h + (k - h * p)
            };
            g[idx] += 2.0 * reg * v;
        }
        (loss, g)
    }
}

impl CostFunction for Net<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, t: &Vec<f64>) -> std::result::Result<f64, argmin::core::Error> {
        Ok(self.cached(t).0)
    }
}

impl Gradient for Net<'_> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;
    fn gradient(&self, t: &Vec<f64>) -> std::result::Result<Vec<f64>, argmin::core::Error> {
        Ok(self.cached(t).1)
    }
}

/// One trained network per seed.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct FittedMlp {
    nets: Vec<Vec<f64>>,
    p: usize,
    h: usize,
    scaler: Scaler,
    ys: (f64, f64),
}

fn forward(t: &[f64], p: usize, h: usize, x: &[f64]) -> f64 {
    let (w1, rest) = t.split_at(h * p);
    let (b1, rest) = rest.split_at(h);
    rest[h]
        + (0..h)
            .map(|k| rest[k] * (b1[k] + (0..p).map(|j| w1[k * p + j] * x[j]).sum::<f64>()).tanh())
            .sum::<f64>()
}

impl Regressor for Mlp {
    fn name(&self) -> String {
        format!(
            "MLP ({} tanh units, L2 alpha = {}, L-BFGS, {} seeds averaged)",
            self.hidden, self.alpha, self.seeds
        )
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        let scaler = Scaler::fit(x);
        let xs = scaler.apply(x);
        let ys = target_scale(y);
        let yz: Vec<f64> = y.iter().map(|v| (v - ys.0) / ys.1).collect();
        let (p, h) = (x.ncols(), self.hidden);
        let rows: Vec<f64> = xs.transpose().iter().copied().collect();
        let npar = h * p + 2 * h + 1;
        let mut nets = vec![];
        for seed in self.seed..self.seed + self.seeds {
            let mut rng = StdRng::seed_from_u64(seed);
            let lim = 1.0 / (p as f64).sqrt();
            let init: Vec<f64> = (0..npar).map(|_| rng.random_range(-lim..lim)).collect();
            let net = Net::new(&rows, p, &yz, h, self.alpha);
            let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7);
            let res = Executor::new(net, solver)
                .configure(|s| s.param(init).max_iters(self.max_iters))
                .run()
                .map_err(|e| Error::Fit(format!("MLP training (seed {seed}): {e}")))?;
            let best = res
                .state()
                .get_best_param()
                .cloned()
                .ok_or_else(|| Error::Fit("MLP training gave no parameters".into()))?;
            nets.push(best);
        }
        Ok(Box::new(FittedMlp {
            nets,
            p,
            h,
            scaler,
            ys,
        }))
    }
}

impl Predictor for FittedMlp {
    fn state(&self) -> Result<serde_json::Value> {
        super::state_of(self)
    }
    fn check(&self, p: usize) -> std::result::Result<(), String> {
        use super::checked::{bad, finite_len};
        if self.p != p {
            return Err(bad(
                "state.p",
                format!("{}, but the model has {p} features", self.p),
            ));
        }
        if self.h == 0 || self.h > MAX_HIDDEN {
            return Err(bad(
                "state.h",
                format!("{} hidden units, expected 1..={MAX_HIDDEN}", self.h),
            ));
        }
        if self.nets.is_empty() {
            return Err(bad("state.nets", "no networks"));
        }
        for (i, t) in self.nets.iter().enumerate() {
            finite_len(&format!("state.nets[{i}]"), t, self.h * p + 2 * self.h + 1)?;
        }
        self.scaler.check("state.scaler", p)?;
        super::scale::check_target_scale("state.ys", self.ys)
    }
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
        let xs = self.scaler.apply(x);
        DVector::from_fn(x.nrows(), |i, _| {
            let row: Vec<f64> = xs.row(i).iter().copied().collect();
            let m = self
                .nets
                .iter()
                .map(|t| forward(t, self.p, self.h, &row))
                .sum::<f64>()
                / self.nets.len() as f64;
            m * self.ys.1 + self.ys.0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let x = DMatrix::from_fn(12, 3, |i, j| ((i * 5 + j) as f64 * 0.7).sin());
        let y: Vec<f64> = (0..12).map(|i| (i as f64 * 0.3).cos()).collect();
        let rows: Vec<f64> = x.transpose().iter().copied().collect();
        let net = Net::new(&rows, 3, &y, 4, 0.3);
        let t: Vec<f64> = (0..(4 * 3 + 2 * 4 + 1))
            .map(|k| ((k * 3) as f64 * 0.37).sin() * 0.5)
            .collect();
        let (_, g) = net.loss_grad(&t);
        for k in 0..t.len() {
            let hstep = 1e-6;
            let (mut a, mut b) = (t.clone(), t.clone());
            a[k] += hstep;
            b[k] -= hstep;
            let fd = (net.loss_grad(&a).0 - net.loss_grad(&b).0) / (2.0 * hstep);
            assert!((fd - g[k]).abs() < 1e-8, "parameter {k}: {fd} vs {}", g[k]);
        }
    }

    #[test]
    fn learns_a_smooth_function_held_out() {
        let x = DMatrix::from_fn(40, 2, |i, j| ((i * 7 + 3 * j + 1) as f64 * 0.41).sin());
        let y = DVector::from_fn(40, |i, _| (1.5 * x[(i, 0)]).tanh() + 0.5 * x[(i, 1)]);
        let f = Mlp {
            alpha: 1e-3,
            ..Mlp::default()
        }
        .fit(&x.rows(0, 30).into_owned(), &y.rows(0, 30).into_owned())
        .unwrap();
        let pred = f.predict(&x.rows(30, 10).into_owned());
        let m = crate::ml::metrics::score(y.rows(30, 10).as_slice(), pred.as_slice());
        assert!(m.r2 > 0.95, "held-out R2 {}", m.r2);
    }
}
