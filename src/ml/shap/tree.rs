//! Interventional TreeSHAP: the exact Shapley values of [`super::exact`]
//! for tree ensembles, without enumerating coalitions.
//!
//! For one tree, a row x and one background row z, the game
//! v(S) = tree(x_S, z_{F\S}) is a sum over leaves. A leaf is reached from
//! (x_S, z_{F\S}) iff every split on its path where x and z part goes x's way
//! for features in S and z's way for the others: iff S contains A (the
//! features whose split sends x there) and misses B (those sending z there).
//! The Shapley value of that indicator game times the leaf value is
//! phi_i = +value (|A|-1)! |B|! / (|A|+|B|)! for i in A,
//! phi_i = -value |A|! (|B|-1)! / (|A|+|B|)! for i in B,
//! and 0 otherwise. A walk that follows both sides only where x and z part
//! (and, for a feature already in A or B, only that feature's side) visits
//! each reachable leaf once. Values are averaged over the background rows,
//! which is the interventional definition the exact enumeration uses.

use crate::ml::tree::{Ensemble, Tree};

/// Shapley values of row `x` against background row `z` for one tree,
/// added to `phi`.
fn tree_pair(t: &Tree, x: &[f64], z: &[f64], w: &Weights, side: &mut [u8], phi: &mut [f64]) {
    walk(t, 0, x, z, 0, 0, w, side, phi);
}

#[allow(clippy::too_many_arguments)]
fn walk(
    t: &Tree,
    i: usize,
    x: &[f64],
    z: &[f64],
    a: usize,
    b: usize,
    w: &Weights,
    side: &mut [u8],
    phi: &mut [f64],
) {
    let n = &t.nodes[i];
    if n.is_leaf() {
        if a + b == 0 {
            return;
        }
        let (pa, pb) = (w.of(a, b, true), w.of(a, b, false));
        for (j, s) in side.iter().enumerate() {
            match s {
                1 => phi[j] += n.value * pa,
                2 => phi[j] -= n.value * pb,
                _ => {}
            }
        }
        return;
    }
    let j = n.feature as usize;
    let go = |v: f64| (if v <= n.threshold { n.left } else { n.right }) as usize;
    let (gx, gz) = (go(x[j]), go(z[j]));
    if gx == gz {
        walk(t, gx, x, z, a, b, w, side, phi);
        return;
    }
    match side[j] {
        1 => walk(t, gx, x, z, a, b, w, side, phi),
        2 => walk(t, gz, x, z, a, b, w, side, phi),
        _ => {
            side[j] = 1;
            walk(t, gx, x, z, a + 1, b, w, side, phi);
            side[j] = 2;
            walk(t, gz, x, z, a, b + 1, w, side, phi);
            side[j] = 0;
        }
    }
}

/// (|A|-1)! |B|! / (|A|+|B|)! and |A|! (|B|-1)! / (|A|+|B|)! for |A|, |B| <= p.
struct Weights {
    p: usize,
    plus: Vec<f64>,
    minus: Vec<f64>,
}

impl Weights {
    fn new(p: usize) -> Weights {
        let mut lf = vec![0.0f64; 2 * p + 2];
        for k in 1..lf.len() {
            lf[k] = lf[k - 1] + (k as f64).ln();
        }
        let q = p + 1;
        let mut plus = vec![0.0; q * q];
        let mut minus = vec![0.0; q * q];
        for a in 0..q {
            for b in 0..q {
                if a > 0 {
                    plus[a * q + b] = (lf[a - 1] + lf[b] - lf[a + b]).exp();
                }
                if b > 0 {
                    minus[a * q + b] = (lf[a] + lf[b - 1] - lf[a + b]).exp();
                }
            }
        }
        Weights { p, plus, minus }
    }
    fn of(&self, a: usize, b: usize, plus: bool) -> f64 {
        let q = self.p + 1;
        if plus {
            self.plus[a * q + b]
        } else {
            self.minus[a * q + b]
        }
    }
}

/// Shapley values of row `x` (length p) against every background row.
pub fn row(e: &Ensemble, x: &[f64], background: &[Vec<f64>]) -> Vec<f64> {
    let p = x.len();
    let w = Weights::new(p);
    let mut phi = vec![0.0; p];
    let mut side = vec![0u8; p];
    for z in background {
        for t in &e.trees {
            tree_pair(t, x, z, &w, &mut side, &mut phi);
        }
    }
    let k = e.scale / background.len() as f64;
    phi.iter_mut().for_each(|v| *v *= k);
    phi
}
