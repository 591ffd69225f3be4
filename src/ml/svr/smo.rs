//! The epsilon-SVR dual solved by sequential minimal optimisation with
//! second-order working-set selection (Fan, Chen & Lin, JMLR 6 (2005)
//! 1889, the algorithm of libsvm), a kernel-row cache and shrinking.
//!
//! With 2n variables beta = [alpha; alpha*], signs s = [+1 (n); -1 (n)],
//! Q_tu = s_t s_u K(x_t, x_u) (indices mod n) and p = [eps - y; eps + y]:
//! min_beta 1/2 beta^T Q beta + p^T beta, 0 <= beta <= C, s^T beta = 0.
//! The gradient is G = Q beta + p. Each step takes the pair
//! i = argmax {-s_t G_t : t in I_up}, j = argmin over I_low of
//! -(b_ij)^2 / a_ij (b = Gmax + s_t G_t' > 0, a = Q_ii + Q_jj - 2 s_i s_j Q_ij)
//! and solves the two-variable problem exactly; it stops when
//! max_{I_up} -s G - min_{I_low} -s G < tol. Prediction:
//! f(x) = sum_i (alpha_i - alpha*_i) K(x_i, x) + b, b = -rho.
//!
//! Shrinking (as libsvm): every min(n, 1000) steps, variables at a bound
//! whose gradient says they will stay there leave the active set; before
//! stopping, the full gradient is rebuilt and optimality checked on all.
//!
//! Written here rather than taken from a crate: smartcore's SVR (the
//! Rust option) keeps borrowed training data, has no cache or shrinking and
//! was 7x slower than libsvm at 442 rows; linfa-svm depends on a different
//! linear-algebra stack than this crate's nalgebra.

/// RBF kernel rows of the training points, computed on demand and kept up
/// to a memory budget (oldest evicted first).
pub struct Kernel<'a> {
    x: &'a [Vec<f64>],
    gamma: f64,
    rows: Vec<Option<std::rc::Rc<[f64]>>>,
    order: std::collections::VecDeque<usize>,
    max_rows: usize,
}

impl<'a> Kernel<'a> {
    pub fn new(x: &'a [Vec<f64>], gamma: f64, cache_bytes: usize) -> Self {
        let n = x.len();
        let max_rows = (cache_bytes / (8 * n.max(1))).clamp(2, n.max(2));
        Kernel {
            x,
            gamma,
            rows: vec![None; n],
            order: Default::default(),
            max_rows,
        }
    }
    pub fn eval(gamma: f64, a: &[f64], b: &[f64]) -> f64 {
        let d: f64 = a.iter().zip(b).map(|(u, v)| (u - v) * (u - v)).sum();
        (-gamma * d).exp()
    }
    /// K(x_i, x_*) for every training point (shared, not copied).
    fn row(&mut self, i: usize) -> std::rc::Rc<[f64]> {
        if self.rows[i].is_none() {
            if self.order.len() >= self.max_rows
                && let Some(old) = self.order.pop_front()
            {
                self.rows[old] = None;
            }
            let xi = &self.x[i];
            let g = self.gamma;
            self.rows[i] = Some(self.x.iter().map(|xj| Self::eval(g, xi, xj)).collect());
            self.order.push_back(i);
        }
        self.rows[i]
            .clone()
            .unwrap_or_else(|| std::rc::Rc::from(vec![]))
    }
}

/// Dual coefficients (alpha - alpha*) per training point, the intercept and
/// the number of steps; Err when `max_iter` steps did not reach `tol`.
pub struct Solution {
    pub coef: Vec<f64>,
    pub b: f64,
    pub iterations: usize,
}

const TAU: f64 = 1e-12;

pub fn solve(
    k: &mut Kernel,
    y: &[f64],
    c: f64,
    eps: f64,
    tol: f64,
    max_iter: usize,
    shrinking: bool,
) -> std::result::Result<Solution, usize> {
    let n = y.len();
    let l = 2 * n;
    let s = |t: usize| if t < n { 1.0 } else { -1.0 };
    let p: Vec<f64> = (0..l)
        .map(|t| if t < n { eps - y[t] } else { eps + y[t - n] })
        .collect();
    // sign and data row of each variable, looked up in the hot loops
    let sg: Vec<f64> = (0..l).map(s).collect();
    let ix: Vec<usize> = (0..l).map(|t| t % n).collect();
    let mut beta = vec![0.0; l];
    let mut g = p.clone();
    // G_bar_t = C * sum over upper-bound u of Q_tu: lets the gradient of
    // shrunk variables be rebuilt from the free ones only
    let mut g_bar = vec![0.0; l];
    let mut active: Vec<usize> = (0..l).collect();
    let upper = |b: f64| b >= c;
    let lower = |b: f64| b <= 0.0;
    let shrink_every = n.clamp(1, 1000);
    let mut counter = shrink_every;
    let mut unshrunk = false;
    let mut it = 0;
    let mut rounds = 0usize;
    loop {
        // every round is a step or a return to the full set, which the next
        // round's check ends unless it steps: bounded either way
        rounds += 1;
        if it >= max_iter || rounds > 2 * max_iter.saturating_add(1) {
            return Err(it);
        }
        if shrinking {
            counter -= 1;
            if counter == 0 {
                counter = shrink_every;
                let (g1, g2) = violations(&active, &beta, &g, c, n);
                if !unshrunk && g1 + g2 <= 10.0 * tol {
                    // close to the end: rebuild the full gradient once
                    unshrunk = true;
                    reconstruct(k, &active, &beta, &mut g, &g_bar, &p, n, c);
                    active = (0..l).collect();
                }
                active.retain(|&t| stays(t, &beta, &g, c, n, g1, g2));
            }
        }
        // working set i: the most violating in I_up
        let (mut gmax, mut gi) = (f64::NEG_INFINITY, usize::MAX);
        for &t in &active {
            let v = -sg[t] * g[t];
            let in_up = if t < n {
                !upper(beta[t])
            } else {
                !lower(beta[t])
            };
            if in_up && v >= gmax {
                gmax = v;
                gi = t;
            }
        }
        let (mut gmax2, mut gj, mut best) = (f64::NEG_INFINITY, usize::MAX, f64::INFINITY);
        if gi != usize::MAX {
            let ki = k.row(ix[gi]);
            for &t in &active {
                let in_low = if t < n {
                    !lower(beta[t])
                } else {
                    !upper(beta[t])
                };
                if !in_low {
                    continue;
                }
                let v = sg[t] * g[t];
                gmax2 = gmax2.max(v);
                let diff = gmax + v;
                if diff > 0.0 {
                    // a = Q_ii + Q_tt - 2 s_i s_t Q_it = K_ii + K_tt - 2 K_it
                    let a = (2.0 - 2.0 * ki[ix[t]]).max(TAU);
                    let obj = -diff * diff / a;
                    if obj <= best {
                        best = obj;
                        gj = t;
                    }
                }
            }
        }
        if gi == usize::MAX || gj == usize::MAX || gmax + gmax2 < tol {
            if shrinking && active.len() < l {
                // optimal on the active set: check all variables
                // optimality is checked on all of them before the next
                // shrinking (libsvm's order)
                reconstruct(k, &active, &beta, &mut g, &g_bar, &p, n, c);
                active = (0..l).collect();
                counter = 2;
                continue;
            }
            break;
        }
        it += 1;
        let (i, j) = (gi, gj);
        let (ki, kj) = (k.row(ix[i]), k.row(ix[j]));
        let (si, sj) = (sg[i], sg[j]);
        let qij = si * sj * ki[ix[j]];
        let (bi_old, bj_old) = (beta[i], beta[j]);
        if si != sj {
            let a = (2.0 + 2.0 * qij).max(TAU);
            let delta = (-g[i] - g[j]) / a;
            let diff = beta[i] - beta[j];
            beta[i] += delta;
            beta[j] += delta;
            if diff > 0.0 {
                if beta[j] < 0.0 {
                    beta[j] = 0.0;
                    beta[i] = diff;
                }
            } else if beta[i] < 0.0 {
                beta[i] = 0.0;
                beta[j] = -diff;
            }
            if diff > 0.0 {
                if beta[i] > c {
                    beta[i] = c;
                    beta[j] = c - diff;
                }
            } else if beta[j] > c {
                beta[j] = c;
                beta[i] = c + diff;
            }
        } else {
            let a = (2.0 - 2.0 * qij).max(TAU);
            let delta = (g[i] - g[j]) / a;
            let sum = beta[i] + beta[j];
            beta[i] -= delta;
            beta[j] += delta;
            if sum > c {
                if beta[i] > c {
                    beta[i] = c;
                    beta[j] = sum - c;
                }
            } else if beta[j] < 0.0 {
                beta[j] = 0.0;
                beta[i] = sum;
            }
            if sum > c {
                if beta[j] > c {
                    beta[j] = c;
                    beta[i] = sum - c;
                }
            } else if beta[i] < 0.0 {
                beta[i] = 0.0;
                beta[j] = sum;
            }
        }
        let (di, dj) = (beta[i] - bi_old, beta[j] - bj_old);
        for &t in &active {
            g[t] += sg[t] * (si * ki[ix[t]] * di + sj * kj[ix[t]] * dj);
        }
        // keep G_bar for variables entering or leaving the upper bound
        for (u, old, kr) in [(i, bi_old, &ki), (j, bj_old, &kj)] {
            let (was, now) = (upper(old), upper(beta[u]));
            if was != now {
                let sign = if now { c } else { -c };
                let w = sign * sg[u];
                let (lo, hi) = g_bar.split_at_mut(n);
                for ((a, b), kv) in lo.iter_mut().zip(hi.iter_mut()).zip(kr.iter()) {
                    *a += w * kv;
                    *b -= w * kv;
                }
            }
        }
    }
    // rho from the free variables (or the middle of the feasible interval)
    let (mut ub, mut lb, mut nfree, mut sfree) = (f64::INFINITY, f64::NEG_INFINITY, 0usize, 0.0);
    for t in 0..l {
        let yg = s(t) * g[t];
        if upper(beta[t]) {
            if s(t) < 0.0 {
                ub = ub.min(yg)
            } else {
                lb = lb.max(yg)
            }
        } else if lower(beta[t]) {
            if s(t) > 0.0 {
                ub = ub.min(yg)
            } else {
                lb = lb.max(yg)
            }
        } else {
            nfree += 1;
            sfree += yg;
        }
    }
    let rho = if nfree > 0 {
        sfree / nfree as f64
    } else {
        0.5 * (ub + lb)
    };
    Ok(Solution {
        coef: (0..n).map(|i| beta[i] - beta[i + n]).collect(),
        b: -rho,
        iterations: it,
    })
}

/// The gradient of the variables outside `active`, rebuilt from G_bar and
/// the free variables: G_t = G_bar_t + p_t + sum_{free u} Q_tu beta_u.
#[allow(clippy::too_many_arguments)]
fn reconstruct(
    k: &mut Kernel,
    active: &[usize],
    beta: &[f64],
    g: &mut [f64],
    g_bar: &[f64],
    p: &[f64],
    n: usize,
    c: f64,
) {
    let l = 2 * n;
    let mut is_active = vec![false; l];
    active.iter().for_each(|&t| is_active[t] = true);
    if active.len() == l {
        return;
    }
    let s = |t: usize| if t < n { 1.0 } else { -1.0 };
    for t in (0..l).filter(|&t| !is_active[t]) {
        g[t] = g_bar[t] + p[t];
    }
    for (u, &bu) in beta.iter().enumerate() {
        if bu > 0.0 && bu < c {
            let ku = k.row(u % n);
            for t in (0..l).filter(|&t| !is_active[t]) {
                g[t] += s(t) * s(u) * ku[t % n] * bu;
            }
        }
    }
}

/// libsvm's do_shrinking measures: Gmax1 = max_{I_up} -s G and
/// Gmax2 = max_{I_low} s G over the active set.
fn violations(active: &[usize], beta: &[f64], g: &[f64], c: f64, n: usize) -> (f64, f64) {
    let (mut gmax1, mut gmax2) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &t in active {
        let (up, low) = (beta[t] >= c, beta[t] <= 0.0);
        if t < n {
            if !up {
                gmax1 = gmax1.max(-g[t]);
            }
            if !low {
                gmax2 = gmax2.max(g[t]);
            }
        } else {
            if !up {
                gmax2 = gmax2.max(-g[t]);
            }
            if !low {
                gmax1 = gmax1.max(g[t]);
            }
        }
    }
    (gmax1, gmax2)
}

/// Whether variable `t` stays active (libsvm's `!be_shrunk`): one at a
/// bound whose gradient pushes it further out leaves.
fn stays(t: usize, beta: &[f64], g: &[f64], c: f64, n: usize, gmax1: f64, gmax2: f64) -> bool {
    let pos = t < n;
    if beta[t] >= c {
        if pos { -g[t] <= gmax1 } else { -g[t] <= gmax2 }
    } else if beta[t] <= 0.0 {
        if pos { g[t] <= gmax2 } else { g[t] <= gmax1 }
    } else {
        true
    }
}
