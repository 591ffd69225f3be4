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
//!
//! [`rows`] computes the same sums leaf by leaf for many rows at once
//! (p <= 64). Going down a tree, each row (explained or background) has
//! F, the set of features whose split it failed on the way. At a leaf, a
//! pair (x, z) reaches it iff F_x and F_z are disjoint, and then A = F_z,
//! B = F_x. Rows with the same F get the same values, so rows travel in
//! groups of equal F, split only where a split on a feature outside F
//! parts them, and each leaf works per pair of groups, not per pair of
//! rows: cost O((n_x + n_z) depth) per tree plus the pairs of groups,
//! instead of a walk per explained row. When the rows explained are the
//! background (explaining a sheet against itself), one set of groups
//! serves both sides.

use crate::ml::tree::{Ensemble, Tree};
use rayon::prelude::*;

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

/// Trees per parallel chunk of [`rows`].
const TREES_PER_CHUNK: usize = 8;

/// Most features [`rows`] takes (F is a 64-bit set); [`row`] has no limit.
pub const MAX_LEAFWISE_FEATURES: usize = 64;

/// Shapley values of every row of `x` (row-major, `nx` rows of length p <=
/// [`MAX_LEAFWISE_FEATURES`]) against every background row, row-major:
/// the numbers [`row`] gives, trees in parallel.
pub fn rows(e: &Ensemble, x: &[Vec<f64>], background: &[Vec<f64>]) -> Vec<f64> {
    let p = x.first().map_or(0, |r| r.len());
    assert!(p <= MAX_LEAFWISE_FEATURES, "rows: {p} features");
    let w = Weights::new(p);
    let (nx, nz) = (x.len(), background.len());
    // explaining the background itself (the usual case on small sheets):
    // one set of groups serves both sides
    let same = x == background;
    // trees in fixed chunks, each summed in order, the chunks added in
    // order: the same numbers whatever the threads (a fold/reduce would
    // group the sums as the scheduler splits the work)
    let parts: Vec<Vec<f64>> = e
        .trees
        .par_chunks(TREES_PER_CHUNK)
        .map(|chunk| {
            let mut phi = vec![0.0; nx * p];
            for t in chunk {
                let mut walk = Leafwise {
                    t,
                    x,
                    z: background,
                    same,
                    w: &w,
                    p,
                    ix: (0..nx as u32).collect(),
                    iz: if same {
                        vec![]
                    } else {
                        (0..nz as u32).collect()
                    },
                    gx: vec![Group::all(nx)],
                    gz: if same { vec![] } else { vec![Group::all(nz)] },
                    mids: vec![],
                    acc: vec![0.0; p],
                };
                walk.down(0, 0..1, 0..usize::from(!same), &mut phi);
            }
            phi
        })
        .collect();
    let mut phi = vec![0.0; nx * p];
    for part in &parts {
        phi.iter_mut().zip(part).for_each(|(u, v)| *u += v);
    }
    let k = e.scale / nz.max(1) as f64;
    phi.iter_mut().for_each(|v| *v *= k);
    phi
}

/// Rows `idx[start..end]` that share the failed set `f` at a node.
#[derive(Clone, Copy)]
struct Group {
    f: u64,
    start: u32,
    end: u32,
}

impl Group {
    fn all(n: usize) -> Group {
        Group {
            f: 0,
            start: 0,
            end: n as u32,
        }
    }
    fn len(&self) -> usize {
        (self.end - self.start) as usize
    }
}

/// One tree's leaf-by-leaf pass (see the module doc). Rows are kept in
/// groups of equal F, as ranges of a permutation: at a split on feature j
/// a group that has not failed j is partitioned in place into the rows
/// going left and right; the left child sees (F, left-goers) and
/// (F + j, right-goers), the right child the other way round. Groups are
/// pushed on a stack per side and popped on the way back up.
struct Leafwise<'a> {
    t: &'a Tree,
    x: &'a [Vec<f64>],
    z: &'a [Vec<f64>],
    /// x and z are the same rows: the background's groups are x's
    same: bool,
    w: &'a Weights,
    p: usize,
    ix: Vec<u32>,
    iz: Vec<u32>,
    gx: Vec<Group>,
    gz: Vec<Group>,
    /// scratch of [`split`]
    mids: Vec<u32>,
    /// per-feature sums of one group of explained rows
    acc: Vec<f64>,
}

type Range = std::ops::Range<usize>;

/// The groups of `g[range]` for the two children of a split on feature
/// `j` at `thr`, pushed on `g`; returns the left child's and the right
/// child's ranges of `g`. `mids` is scratch.
fn split(
    g: &mut Vec<Group>,
    idx: &mut [u32],
    rows: &[Vec<f64>],
    range: Range,
    (j, thr): (usize, f64),
    mids: &mut Vec<u32>,
) -> (Range, Range) {
    let bit = 1u64 << j;
    // each group that has not failed j: left-goers first, then right-goers
    mids.clear();
    for k in range.clone() {
        let gr = g[k];
        let mut mid = gr.start as usize;
        if gr.f & bit == 0 {
            for r in gr.start as usize..gr.end as usize {
                if rows[idx[r] as usize][j] <= thr {
                    idx.swap(mid, r);
                    mid += 1;
                }
            }
        }
        mids.push(mid as u32);
    }
    let child = |g: &mut Vec<Group>, left: bool| {
        let first = g.len();
        for (k, &mid) in range.clone().zip(mids.iter()) {
            let gr = g[k];
            if gr.f & bit != 0 {
                g.push(gr);
                continue;
            }
            let (f_lo, f_hi) = if left {
                (gr.f, gr.f | bit)
            } else {
                (gr.f | bit, gr.f)
            };
            for (f, start, end) in [(f_lo, gr.start, mid), (f_hi, mid, gr.end)] {
                if start < end {
                    g.push(Group { f, start, end });
                }
            }
        }
        first..g.len()
    };
    let l = child(g, true);
    let r = child(g, false);
    (l, r)
}

impl Leafwise<'_> {
    /// Node `i` with the explained rows' groups `gx[xr]` and the
    /// background's `gz[zr]` (`gx[xr]` again when the rows are the same).
    fn down(&mut self, i: usize, xr: Range, zr: Range, phi: &mut [f64]) {
        let t = self.t;
        let n = &t.nodes[i];
        if n.is_leaf() {
            self.leaf(n.value, xr, zr, phi);
            return;
        }
        let at = (n.feature as usize, n.threshold);
        let mark = (self.gx.len(), self.gz.len());
        let (lx, rx) = split(&mut self.gx, &mut self.ix, self.x, xr, at, &mut self.mids);
        let (lz, rz) = if self.same {
            (lx.clone(), rx.clone())
        } else {
            split(&mut self.gz, &mut self.iz, self.z, zr, at, &mut self.mids)
        };
        self.down(n.left as usize, lx, lz, phi);
        self.down(n.right as usize, rx, rz, phi);
        self.gx.truncate(mark.0);
        self.gz.truncate(mark.1);
    }

    /// Every disjoint pair of groups (F_x, F_z) at a leaf of value `v`.
    fn leaf(&mut self, v: f64, xr: Range, zr: Range, phi: &mut [f64]) {
        let Leafwise {
            gx,
            gz,
            ix,
            acc,
            w,
            same,
            p,
            ..
        } = self;
        let zs: &[Group] = if *same { &gx[xr.clone()] } else { &gz[zr] };
        for g in &gx[xr] {
            let mx = g.f;
            let b = mx.count_ones() as usize;
            let (mut minus, mut touched) = (0.0, mx);
            for h in zs {
                let mz = h.f;
                let a = mz.count_ones() as usize;
                if mz & mx != 0 || a + b == 0 {
                    continue;
                }
                let c = h.len() as f64;
                if b > 0 {
                    minus += c * w.of(a, b, false);
                }
                let plus = c * w.of(a, b, true);
                touched |= mz;
                for_bits(mz, |i| acc[i] += plus);
            }
            for_bits(mx, |i| acc[i] -= minus);
            for &r in &ix[g.start as usize..g.end as usize] {
                let row = &mut phi[r as usize * *p..(r as usize + 1) * *p];
                for_bits(touched, |i| row[i] += v * acc[i]);
            }
            for_bits(touched, |i| acc[i] = 0.0);
        }
    }
}

/// `f(i)` for every set bit i of `m`.
fn for_bits(mut m: u64, mut f: impl FnMut(usize)) {
    while m != 0 {
        f(m.trailing_zeros() as usize);
        m &= m - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::Regressor;
    use nalgebra::{DMatrix, DVector};

    /// The leaf-by-leaf pass gives what the per-row walk gives, to 1e-12,
    /// on a forest and on boosted trees, with the background apart from
    /// the rows and equal to them.
    #[test]
    fn leafwise_equals_the_walk() {
        let x = DMatrix::from_fn(40, 5, |i, j| {
            ((i * 5 + 2) as f64 * (0.23 + 0.19 * j as f64)).sin()
        });
        let y = DVector::from_fn(40, |i, _| {
            x[(i, 0)] - 2.0 * x[(i, 1)] * x[(i, 2)] + x[(i, 4)]
        });
        let rows_of = |m: &DMatrix<f64>, r: std::ops::Range<usize>| -> Vec<Vec<f64>> {
            r.map(|i| m.row(i).iter().copied().collect()).collect()
        };
        let xs = rows_of(&x, 0..25);
        // the background apart from the rows, and the rows themselves
        for (spec, bg) in [
            ("rf:n_trees=15,seed=2", rows_of(&x, 15..40)),
            ("gbt:n_estimators=20,max_depth=5", rows_of(&x, 15..40)),
            ("rf:n_trees=15,seed=3", xs.clone()),
            ("gbt:n_estimators=20,max_depth=5", xs.clone()),
        ] {
            let m: crate::ml::ModelSpec = spec.parse().unwrap();
            let f = m.fit(&x, &y).unwrap();
            let e = f.trees().unwrap();
            let fast = rows(&e, &xs, &bg);
            let mut worst = 0.0f64;
            for (r, xr) in xs.iter().enumerate() {
                for (i, v) in row(&e, xr, &bg).iter().enumerate() {
                    worst = worst.max((fast[r * 5 + i] - v).abs());
                }
            }
            assert!(worst < 1e-12, "{spec}: {worst:e}");
            assert!(fast.iter().any(|v| v.abs() > 1e-3), "{spec}: values all ~0");
        }
    }
}
