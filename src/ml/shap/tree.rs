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
//! each reachable leaf once; all background rows walk together, split where
//! their ways part, so shared paths are walked once. Values are averaged
//! over the background rows, which is the interventional definition the
//! exact enumeration uses.

use crate::ml::tree::{Ensemble, Tree};

/// The walk for row `x` and all background rows `zs[idx]` at once: rows
/// that take the same way share it, so a split is followed once per state
/// (A, B), not once per background row. Adds value x count x weight to `phi`.
/// `idx` is partitioned in place at each split (no allocation on the walk);
/// only the set of rows in it matters, not their order.
#[allow(clippy::too_many_arguments)]
fn walk(
    t: &Tree,
    i: usize,
    x: &[f64],
    zs: &[Vec<f64>],
    idx: &mut [u32],
    a: usize,
    b: usize,
    w: &Weights,
    side: &mut [u8],
    phi: &mut [f64],
) {
    if idx.is_empty() {
        return;
    }
    let n = &t.nodes[i];
    if n.is_leaf() {
        if a + b == 0 {
            return;
        }
        let v = n.value * idx.len() as f64;
        let (pa, pb) = (w.of(a, b, true), w.of(a, b, false));
        for (j, s) in side.iter().enumerate() {
            match s {
                1 => phi[j] += v * pa,
                2 => phi[j] -= v * pb,
                _ => {}
            }
        }
        return;
    }
    let j = n.feature as usize;
    let go = |v: f64| (if v <= n.threshold { n.left } else { n.right }) as usize;
    let gx = go(x[j]);
    if side[j] == 1 {
        // feature j already comes from x: every row goes x's way
        walk(t, gx, x, zs, idx, a, b, w, side, phi);
        return;
    }
    let mut k = 0;
    for r in 0..idx.len() {
        if go(zs[idx[r] as usize][j]) == gx {
            idx.swap(k, r);
            k += 1;
        }
    }
    let (same, other) = idx.split_at_mut(k);
    let gz = if gx == n.left as usize {
        n.right
    } else {
        n.left
    } as usize;
    if side[j] == 2 {
        // feature j comes from the background: each row goes its own way
        walk(t, gx, x, zs, same, a, b, w, side, phi);
        walk(t, gz, x, zs, other, a, b, w, side, phi);
        return;
    }
    walk(t, gx, x, zs, same, a, b, w, side, phi);
    if !other.is_empty() {
        side[j] = 1;
        walk(t, gx, x, zs, other, a + 1, b, w, side, phi);
        side[j] = 2;
        walk(t, gz, x, zs, other, a, b + 1, w, side, phi);
        side[j] = 0;
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
    let mut all: Vec<u32> = (0..background.len() as u32).collect();
    for t in &e.trees {
        walk(t, 0, x, background, &mut all, 0, 0, &w, &mut side, &mut phi);
    }
    let k = e.scale / background.len() as f64;
    phi.iter_mut().for_each(|v| *v *= k);
    phi
}
