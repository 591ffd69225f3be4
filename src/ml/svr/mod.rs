//! RBF epsilon-SVR (scikit-learn's `SVR`, libsvm's algorithm) on
//! standardised inputs and target:
//! f(x) = sum_i (alpha_i - alpha*_i) exp(-gamma |x_i - x|^2) + b,
//! the dual solved by [`smo`]. The trained model keeps its support vectors
//! (rows with alpha_i != alpha*_i) and their coefficients only.
//!
//! Defaults are scikit-learn's: C = 1, epsilon = 0.1, gamma = "scale"
//! = 1 / (p Var(X)) (Var over every element of the standardised inputs,
//! 1/p unless a column is constant), tol = 1e-3, shrinking, a 200 MB cache.
//! epsilon is in units of the target's sd (the target is standardised;
//! scikit-learn's is in the target's own units).

pub mod smo;

use super::scale::{Scaler, target_scale};
use super::{Predictor, Regressor};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};

/// SVR settings.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Svr {
    pub c: f64,
    pub epsilon: f64,
    /// RBF gamma on standardised inputs; None = "scale".
    pub gamma: Option<f64>,
    /// Stopping tolerance on the largest KKT violation (default 1e-3).
    #[serde(default = "default_tol")]
    pub tol: f64,
    #[serde(default = "yes")]
    pub shrinking: bool,
    /// Kernel cache in MB (default 200).
    #[serde(default = "default_cache")]
    pub cache_mb: usize,
    /// Most SMO steps before giving up (default 10 million).
    #[serde(default = "default_max_iters")]
    pub max_iters: usize,
}

fn default_tol() -> f64 {
    1e-3
}
fn yes() -> bool {
    true
}
fn default_cache() -> usize {
    200
}
fn default_max_iters() -> usize {
    10_000_000
}

impl Default for Svr {
    fn default() -> Self {
        Svr {
            c: 1.0,
            epsilon: 0.1,
            gamma: None,
            tol: default_tol(),
            shrinking: true,
            cache_mb: default_cache(),
            max_iters: default_max_iters(),
        }
    }
}

impl Svr {
    /// Every setting in its range, named in the error.
    pub fn validate(&self) -> Result<()> {
        use super::checked::{in_range, positive};
        positive("svr:c", self.c, false)?;
        positive("svr:epsilon", self.epsilon, true)?;
        if let Some(g) = self.gamma {
            positive("svr:gamma", g, false)?;
        }
        positive("svr:tol", self.tol, false)?;
        in_range("svr:cache_mb", self.cache_mb, 1, 1_000_000)?;
        in_range("svr:max_iters", self.max_iters, 1, usize::MAX)
    }

    /// gamma for standardised inputs `xs`.
    fn gamma_for(&self, xs: &DMatrix<f64>) -> f64 {
        self.gamma.unwrap_or_else(|| {
            let m = xs.mean();
            let var = xs.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / xs.len().max(1) as f64;
            if var > 0.0 {
                1.0 / (xs.ncols() as f64 * var)
            } else {
                1.0
            }
        })
    }

    /// Support vectors and coefficients for standardised rows and target.
    fn solve(
        &self,
        rows: &[Vec<f64>],
        yz: &[f64],
        gamma: f64,
    ) -> Result<(Vec<Vec<f64>>, Vec<f64>, f64)> {
        let mut k = smo::Kernel::new(rows, gamma, self.cache_mb.saturating_mul(1 << 20));
        let sol = smo::solve(
            &mut k,
            yz,
            self.c,
            self.epsilon,
            self.tol,
            self.max_iters,
            self.shrinking,
        )
        .map_err(|it| {
            Error::Fit(format!(
                "SVR did not converge in {it} steps (svr:max_iters); try a larger svr:tol"
            ))
        })?;
        let (sv, coef): (Vec<Vec<f64>>, Vec<f64>) = rows
            .iter()
            .zip(&sol.coef)
            .filter(|(_, c)| **c != 0.0)
            .map(|(r, c)| (r.clone(), *c))
            .unzip();
        Ok((sv, coef, sol.b))
    }
}

/// The trained SVR: support vectors (standardised) and their coefficients.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(try_from = "SavedSvr")]
pub struct FittedSvr {
    sv: Vec<Vec<f64>>,
    coef: Vec<f64>,
    b: f64,
    gamma: f64,
    scaler: Scaler,
    ys: (f64, f64),
}

/// A trained SVR as saved: support vectors now; before, the training rows
/// and settings, from which the solution is computed again on loading.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum SavedSvr {
    Solved {
        sv: Vec<Vec<f64>>,
        coef: Vec<f64>,
        b: f64,
        gamma: f64,
        scaler: Scaler,
        ys: (f64, f64),
    },
    Rows {
        x: Vec<Vec<f64>>,
        y: Vec<f64>,
        scaler: Scaler,
        ys: (f64, f64),
        svr: Svr,
        gamma: f64,
    },
}

/// Most training rows an old saved SVR may carry to be solved on loading.
const MAX_ROWS_TO_SOLVE: usize = 20_000;

impl TryFrom<SavedSvr> for FittedSvr {
    type Error = String;
    fn try_from(s: SavedSvr) -> std::result::Result<FittedSvr, String> {
        match s {
            SavedSvr::Solved {
                sv,
                coef,
                b,
                gamma,
                scaler,
                ys,
            } => Ok(FittedSvr {
                sv,
                coef,
                b,
                gamma,
                scaler,
                ys,
            }),
            SavedSvr::Rows {
                x,
                y,
                scaler,
                ys,
                svr,
                gamma,
            } => {
                // checked before solving: a hostile file must not make the
                // solver run on ragged or non-finite rows
                let p = scaler.mean.len();
                let ok = !x.is_empty()
                    && x.len() <= MAX_ROWS_TO_SOLVE
                    && x.len() == y.len()
                    && x.iter()
                        .all(|r| r.len() == p && r.iter().all(|v| v.is_finite()))
                    && y.iter().all(|v| v.is_finite())
                    && gamma.is_finite()
                    && gamma > 0.0
                    && svr.validate().is_ok();
                if !ok {
                    return Err("state.x, state.y: not a whole SVR training set".into());
                }
                let (sv, coef, b) = svr.solve(&x, &y, gamma).map_err(|e| e.to_string())?;
                Ok(FittedSvr {
                    sv,
                    coef,
                    b,
                    gamma,
                    scaler,
                    ys,
                })
            }
        }
    }
}

impl Regressor for Svr {
    fn name(&self) -> String {
        format!(
            "RBF epsilon-SVR (C = {}, epsilon = {} sd)",
            self.c, self.epsilon
        )
    }
    fn fit(&self, x: &DMatrix<f64>, y: &DVector<f64>) -> Result<Box<dyn Predictor>> {
        self.validate()?;
        let scaler = Scaler::fit(x);
        let xs = scaler.apply(x);
        let ys = target_scale(y);
        let gamma = self.gamma_for(&xs);
        let rows: Vec<Vec<f64>> = xs.row_iter().map(|r| r.iter().copied().collect()).collect();
        let yz: Vec<f64> = y.iter().map(|v| (v - ys.0) / ys.1).collect();
        let (sv, coef, b) = self.solve(&rows, &yz, gamma)?;
        Ok(Box::new(FittedSvr {
            sv,
            coef,
            b,
            gamma,
            scaler,
            ys,
        }))
    }
}

impl Predictor for FittedSvr {
    fn state(&self) -> Result<serde_json::Value> {
        super::state_of(self)
    }
    fn check(&self, p: usize) -> std::result::Result<(), String> {
        use super::checked::{bad, finite_len};
        for (i, r) in self.sv.iter().enumerate() {
            finite_len(&format!("state.sv[{i}]"), r, p)?;
        }
        finite_len("state.coef", &self.coef, self.sv.len())?;
        if !self.b.is_finite() {
            return Err(bad("state.b", "not a finite number"));
        }
        self.scaler.check("state.scaler", p)?;
        super::scale::check_target_scale("state.ys", self.ys)?;
        if !(self.gamma.is_finite() && self.gamma > 0.0) {
            return Err(bad("state.gamma", format!("{}: expected > 0", self.gamma)));
        }
        Ok(())
    }
    fn rbf(&self) -> Option<crate::ml::shap::kernel::RbfExpansion> {
        Some(crate::ml::shap::kernel::RbfExpansion {
            sv: self.sv.clone(),
            coef: self.coef.clone(),
            b: self.b,
            gamma: self.gamma,
            mean: self.scaler.mean.clone(),
            sd: self.scaler.sd.clone(),
            scale: self.ys.1,
            offset: self.ys.0,
        })
    }
    fn predict(&self, x: &DMatrix<f64>) -> DVector<f64> {
        let xs = self.scaler.apply(x);
        DVector::from_fn(x.nrows(), |i, _| {
            let row: Vec<f64> = xs.row(i).iter().copied().collect();
            let f: f64 = self
                .sv
                .iter()
                .zip(&self.coef)
                .map(|(s, c)| c * smo::Kernel::eval(self.gamma, s, &row))
                .sum::<f64>()
                + self.b;
            f * self.ys.1 + self.ys.0
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> (DMatrix<f64>, DVector<f64>) {
        let x = DMatrix::from_fn(n, 3, |i, j| ((i * 7 + 3 * j + 1) as f64 * 0.41).sin());
        let y = DVector::from_fn(n, |i, _| (2.0 * x[(i, 0)]).sin() + x[(i, 1)] * x[(i, 2)]);
        (x, y)
    }

    /// The solution satisfies the KKT conditions of the dual: coefficients
    /// in [-C, C] summing to 0; points strictly inside the tube carry none;
    /// free support vectors lie on its edge (|r| = epsilon within tol).
    #[test]
    fn solution_meets_the_optimality_conditions() {
        let (x, y) = data(80);
        for shrinking in [false, true] {
            let m = Svr {
                c: 3.0,
                epsilon: 0.1,
                tol: 1e-6,
                shrinking,
                ..Svr::default()
            };
            let scaler = Scaler::fit(&x);
            let xs = scaler.apply(&x);
            let rows: Vec<Vec<f64>> = xs.row_iter().map(|r| r.iter().copied().collect()).collect();
            let ys = target_scale(&y);
            let yz: Vec<f64> = y.iter().map(|v| (v - ys.0) / ys.1).collect();
            let g = m.gamma_for(&xs);
            let mut k = smo::Kernel::new(&rows, g, 1 << 20);
            let sol = smo::solve(&mut k, &yz, m.c, m.epsilon, m.tol, 1_000_000, shrinking).unwrap();
            assert!(sol.coef.iter().sum::<f64>().abs() < 1e-9);
            let f = |i: usize| {
                rows.iter()
                    .zip(&sol.coef)
                    .map(|(r, c)| c * smo::Kernel::eval(g, r, &rows[i]))
                    .sum::<f64>()
                    + sol.b
            };
            let mut free = 0;
            for (i, c) in sol.coef.iter().enumerate() {
                assert!(c.abs() <= m.c + 1e-12);
                let r = yz[i] - f(i);
                if c.abs() == 0.0 {
                    assert!(
                        r.abs() <= m.epsilon + 1e-4,
                        "row {i}: inside, |r| = {}",
                        r.abs()
                    );
                } else if c.abs() < m.c {
                    free += 1;
                    assert!(
                        (r.abs() - m.epsilon).abs() < 1e-4,
                        "row {i}: free SV, |r| = {}",
                        r.abs()
                    );
                } else {
                    assert!(
                        r.abs() >= m.epsilon - 1e-4,
                        "row {i}: bound SV, |r| = {}",
                        r.abs()
                    );
                }
            }
            assert!(free > 0);
        }
    }

    #[test]
    fn shrinking_and_a_tiny_cache_give_the_same_model() {
        let (x, y) = data(150);
        let fit = |shrinking: bool, cache_mb: usize| {
            Svr {
                shrinking,
                cache_mb,
                tol: 1e-8,
                c: 10.0,
                ..Svr::default()
            }
            .fit(&x, &y)
            .unwrap()
            .predict(&x)
        };
        let (a, b) = (fit(false, 200), fit(true, 1));
        let d = (a - b).abs().max();
        assert!(d < 1e-5, "{d}");
        let held = Svr::default()
            .fit(&x.rows(0, 110).into_owned(), &y.rows(0, 110).into_owned())
            .unwrap();
        let p = held.predict(&x.rows(110, 40).into_owned());
        let s = crate::ml::metrics::score(y.rows(110, 40).as_slice(), p.as_slice());
        assert!(s.r2 > 0.8, "held-out R2 {}", s.r2);
    }

    #[test]
    fn keeps_only_support_vectors_and_old_saved_models_are_solved_on_loading() {
        let (x, y) = data(60);
        let m = Svr {
            epsilon: 0.5,
            ..Svr::default()
        };
        let f = m.fit(&x, &y).unwrap();
        let st = f.state().unwrap();
        let nsv = st["sv"].as_array().unwrap().len();
        assert!(nsv > 0 && nsv < 60, "{nsv} support vectors of 60 rows");
        // the state an earlier spinfit saved: training rows and settings
        let scaler = Scaler::fit(&x);
        let ys = target_scale(&y);
        let old = serde_json::json!({
            "x": scaler.apply(&x).row_iter().map(|r| r.iter().copied().collect::<Vec<f64>>()).collect::<Vec<_>>(),
            "y": y.iter().map(|v| (v - ys.0) / ys.1).collect::<Vec<f64>>(),
            "scaler": scaler, "ys": ys, "svr": m, "gamma": st["gamma"],
        });
        let back: FittedSvr = serde_json::from_value(old).unwrap();
        back.check(3).unwrap();
        let d = (back.predict(&x) - f.predict(&x)).abs().max();
        assert!(d < 1e-12, "{d}");
    }
}
