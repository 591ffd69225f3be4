//! The network as an optimisation problem: forward pass, loss and gradient
//! by back-propagation, batched over rows as matrix products.
//!
//! Layers l = 1..L+1 with sizes s_0 = p, s_1..s_L (hidden), s_{L+1} = 1:
//! A_0 = X (n x p), Z_l = A_{l-1} W_l^T + 1 b_l^T, A_l = act(Z_l) for hidden
//! layers, yhat = Z_{L+1} (identity output).
//! L = 1/(2n) sum_i (yhat_i - y_i)^2 + alpha/(2n) sum_l |W_l|^2
//! (scikit-learn's MLPRegressor loss; biases are not penalised).
//! Back-propagation: D_{L+1} = (yhat - y)/n, grad W_l = D_l^T A_{l-1},
//! grad b_l = 1^T D_l, D_{l-1} = (D_l W_l) .* act'(A_{l-1}).
//!
//! Parameters are one flat vector, per layer W_l (s_l x s_{l-1}, row-major)
//! then b_l. A row-major W_l is the column-major W_l^T, so every product
//! reads the parameters in place.

use super::Activation;
use argmin::core::{CostFunction, Gradient};
use nalgebra::{DMatrix, DMatrixView};

/// Layer sizes from inputs to the one output: [p, s_1, ..., s_L, 1].
pub(super) fn sizes(p: usize, hidden: &[usize]) -> Vec<usize> {
    std::iter::once(p)
        .chain(hidden.iter().copied())
        .chain(std::iter::once(1))
        .collect()
}

/// Number of parameters of a network of these sizes.
pub(super) fn n_params(sizes: &[usize]) -> usize {
    sizes.windows(2).map(|w| w[0] * w[1] + w[1]).sum()
}

/// W_l row-major (s_l x s_{l-1}, flat) and b_l of layer `l` (1-based) in `t`.
fn layer_flat<'t>(t: &'t [f64], sizes: &[usize], l: usize) -> (&'t [f64], &'t [f64]) {
    let off: usize = sizes[..l].windows(2).map(|w| w[0] * w[1] + w[1]).sum();
    let (sin, sout) = (sizes[l - 1], sizes[l]);
    let (w, rest) = t[off..].split_at(sin * sout);
    (w, &rest[..sout])
}

/// W_l^T (s_{l-1} x s_l) and b_l of layer `l` (1-based) in `t`.
fn layer<'t>(t: &'t [f64], sizes: &[usize], l: usize) -> (DMatrixView<'t, f64>, &'t [f64]) {
    let (w, b) = layer_flat(t, sizes, l);
    (DMatrixView::from_slice(w, sizes[l - 1], sizes[l]), b)
}

/// act(v).
#[inline(always)]
fn activation(act: Activation, v: f64) -> f64 {
    match act {
        Activation::Relu => v.max(0.0),
        Activation::Tanh => v.tanh(),
        Activation::Logistic => 1.0 / (1.0 + (-v).exp()),
    }
}

fn activate(z: &mut DMatrix<f64>, act: Activation) {
    z.apply(|v| *v = activation(act, *v));
}

/// act'(z) written through a = act(z).
fn derivative(a: f64, act: Activation) -> f64 {
    match act {
        Activation::Relu => f64::from(u8::from(a > 0.0)),
        Activation::Tanh => 1.0 - a * a,
        Activation::Logistic => a * (1.0 - a),
    }
}

/// Z = A W^T + 1 b^T: the columns filled with the biases, then one GEMM
/// adding the product (nalgebra's per-column scalar add cost more than the
/// product for the narrow layers here).
fn affine(a: &DMatrix<f64>, w: DMatrixView<f64>, b: &[f64]) -> DMatrix<f64> {
    let mut z = DMatrix::zeros(a.nrows(), w.ncols());
    for (col, bj) in z.as_mut_slice().chunks_exact_mut(a.nrows().max(1)).zip(b) {
        col.fill(*bj);
    }
    z.gemm(1.0, a, &w, 1.0);
    z
}

/// Activations of every layer (A_0 = x excluded) for rows `x`; the last
/// is the n x 1 output.
pub(super) fn forward(
    t: &[f64],
    sizes: &[usize],
    act: Activation,
    x: &DMatrix<f64>,
) -> Vec<DMatrix<f64>> {
    let depth = sizes.len() - 1;
    let mut out: Vec<DMatrix<f64>> = Vec::with_capacity(depth);
    for l in 1..=depth {
        let (w, b) = layer(t, sizes, l);
        let prev = out.last().unwrap_or(x);
        let mut z = affine(prev, w, b);
        if l < depth {
            activate(&mut z, act);
        }
        out.push(z);
    }
    out
}

/// Background rows per block of [`coalition_sums`].
pub(super) const LANES: usize = 64;

/// Sum over the background rows of the network's output at every coalition
/// of the row `x` (both scaled): input j is x_j when bit j of the
/// coalition is set, the background row's value otherwise; entry `mask`.
/// With `per_lane` (nb x 2^p), each background row's own outputs too, at
/// `b * 2^p + mask`.
///
/// Written here (no crate evaluates a network on all 2^p coalitions):
/// - the background rows of a block of `lanes` are the vector lanes, so
///   every layer is a loop of multiply-adds over contiguous lanes, and a
///   block's activations stay in cache;
/// - coalitions are visited in Gray-code order, where each differs from the
///   last by one feature j, so the first layer's pre-activation moves by
///   one step, Z_1 += +-(x_j - b_j) W_1[:, j], instead of p x s_1
///   multiply-adds; it is recomputed from scratch every 256 coalitions so
///   that rounding cannot drift.
///
/// The lane loops are compiled three times, for AVX-512, for AVX2 (both
/// with FMA) and for the baseline CPU, picked at run time. Each does the
/// same operations in the same order, and a fused multiply-add is
/// correctly rounded in hardware and in software alike, so the numbers are
/// bit for bit the same on every CPU (the baseline is only slower).
pub(super) fn coalition_sums(
    t: &[f64],
    sizes: &[usize],
    act: Activation,
    x: &[f64],
    bg: &DMatrix<f64>,
    lanes: usize,
    per_lane: Option<&mut [f64]>,
) -> Vec<f64> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("fma") {
            // SAFETY: the CPU has AVX-512F and FMA, checked just above.
            return unsafe { coalition_sums_avx512(t, sizes, act, x, bg, lanes, per_lane) };
        }
        if has!("avx2") && has!("fma") {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            return unsafe { coalition_sums_avx2(t, sizes, act, x, bg, lanes, per_lane) };
        }
    }
    coalition_sums_in::<8>(t, sizes, act, x, bg, lanes, per_lane)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn coalition_sums_avx512(
    t: &[f64],
    sizes: &[usize],
    act: Activation,
    x: &[f64],
    bg: &DMatrix<f64>,
    lanes: usize,
    per_lane: Option<&mut [f64]>,
) -> Vec<f64> {
    coalition_sums_in::<16>(t, sizes, act, x, bg, lanes, per_lane)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn coalition_sums_avx2(
    t: &[f64],
    sizes: &[usize],
    act: Activation,
    x: &[f64],
    bg: &DMatrix<f64>,
    lanes: usize,
    per_lane: Option<&mut [f64]>,
) -> Vec<f64> {
    coalition_sums_in::<8>(t, sizes, act, x, bg, lanes, per_lane)
}

/// The body of [`coalition_sums`], `B` lanes to a register block.
#[inline(always)]
fn coalition_sums_in<const B: usize>(
    t: &[f64],
    sizes: &[usize],
    act: Activation,
    x: &[f64],
    bg: &DMatrix<f64>,
    lanes: usize,
    mut per_lane: Option<&mut [f64]>,
) -> Vec<f64> {
    let (p, nb, depth) = (sizes[0], bg.nrows(), sizes.len() - 1);
    let (nc, s1) = (1usize << p, sizes[1]);
    let lanes = lanes.div_ceil(B).max(1) * B;
    let widest = sizes[1..depth].iter().copied().max().unwrap_or(1);
    let mut sums = vec![0.0; nc];
    // z0 (s1 x lanes): the empty coalition; step (p x s1 x lanes)
    let (mut z0, mut z) = (vec![0.0; s1 * lanes], vec![0.0; s1 * lanes]);
    let mut step = vec![0.0; p * s1 * lanes];
    let (mut cur, mut next) = (vec![0.0; widest * lanes], vec![0.0; widest * lanes]);
    let (w1, b1) = layer(t, sizes, 1);
    // W_l row-major (s_l x s_{l-1}) and b_l of every layer above the first
    let above: Vec<(&[f64], &[f64])> = (2..=depth).map(|l| layer_flat(t, sizes, l)).collect();
    for b0 in (0..nb).step_by(lanes) {
        let w = (nb - b0).min(lanes);
        for k in 0..s1 {
            let zk = &mut z0[k * lanes..k * lanes + w];
            zk.fill(b1[k]);
            for j in 0..p {
                let wjk = w1[(j, k)];
                let col = &bg.as_slice()[j * nb + b0..j * nb + b0 + w];
                for (zv, v) in zk.iter_mut().zip(col) {
                    *zv += wjk * v;
                }
                for (sv, v) in step[(j * s1 + k) * lanes..][..w].iter_mut().zip(col) {
                    *sv = (x[j] - v) * wjk;
                }
            }
        }
        let mut mask = 0usize;
        for g in 0..nc {
            if g % 256 == 0 {
                // from scratch: z = z0 + sum of the steps of the features in
                // the coalition
                mask = g ^ (g >> 1);
                z.copy_from_slice(&z0);
                for j in (0..p).filter(|j| mask >> j & 1 == 1) {
                    add(&mut z, &step[j * s1 * lanes..(j + 1) * s1 * lanes], 1.0);
                }
            } else {
                let j = g.trailing_zeros() as usize;
                mask ^= 1 << j;
                let sign = if mask >> j & 1 == 1 { 1.0 } else { -1.0 };
                add(&mut z, &step[j * s1 * lanes..(j + 1) * s1 * lanes], sign);
            }
            // the layers above, lane by lane; every input to them is a
            // hidden layer's, activated; the output is linear
            let mut width = s1;
            activate_into(&mut cur[..s1 * lanes], &z, act);
            for (l, (wl, bl)) in above.iter().enumerate() {
                dense::<B>(wl, bl, width, &cur, &mut next, lanes, w.div_ceil(B));
                width = sizes[l + 2];
                if l + 1 < above.len() {
                    activate_into(&mut cur[..width * lanes], &next[..width * lanes], act);
                }
            }
            if let Some(out) = per_lane.as_deref_mut() {
                for (l, v) in next[..w].iter().enumerate() {
                    out[(b0 + l) * nc + mask] = *v;
                }
            }
            sums[mask] += next[..w].iter().sum::<f64>();
        }
    }
    sums
}

/// out[m][lane] = b[m] + sum_k w[m][k] input[k][lane] for `chunks` blocks of
/// `B` lanes (rows of `input` and `out` are `lanes` apart). Outputs
/// go four at a time (then two, then one), and the sum over k is split
/// into 4 / M partial sums, so that eight sums are in flight (a single
/// chain of adds would wait on each add's latency) and each input block is
/// loaded once for several outputs.
#[inline(always)]
fn dense<const B: usize>(
    w: &[f64],
    b: &[f64],
    s_in: usize,
    input: &[f64],
    out: &mut [f64],
    lanes: usize,
    chunks: usize,
) {
    let s_out = b.len();
    for c in 0..chunks {
        let mut m = 0;
        while m + 4 <= s_out {
            dense_block::<B, 4, 1>(w, b, s_in, input, out, lanes, c * B, m);
            m += 4;
        }
        if m + 2 <= s_out {
            dense_block::<B, 2, 2>(w, b, s_in, input, out, lanes, c * B, m);
            m += 2;
        }
        if m < s_out {
            dense_block::<B, 1, 4>(w, b, s_in, input, out, lanes, c * B, m);
        }
    }
}

/// Outputs m0..m0 + M of one block of lanes at offset `o`, the sum over k
/// in S interleaved partial sums.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dense_block<const B: usize, const M: usize, const S: usize>(
    w: &[f64],
    b: &[f64],
    s_in: usize,
    input: &[f64],
    out: &mut [f64],
    lanes: usize,
    o: usize,
    m0: usize,
) {
    let rows: [&[f64]; M] = std::array::from_fn(|q| &w[(m0 + q) * s_in..(m0 + q + 1) * s_in]);
    let mut acc = [[[0.0; B]; M]; S];
    for k0 in (0..s_in).step_by(S) {
        for (part, a) in acc.iter_mut().enumerate() {
            let k = k0 + part;
            if k >= s_in {
                break;
            }
            let v: &[f64; B] = input[k * lanes + o..k * lanes + o + B]
                .try_into()
                .expect("a block of lanes");
            for (am, r) in a.iter_mut().zip(&rows) {
                let wk = r[k];
                for (s, x) in am.iter_mut().zip(v) {
                    *s = wk.mul_add(*x, *s);
                }
            }
        }
    }
    for q in 0..M {
        let row = &mut out[(m0 + q) * lanes + o..(m0 + q) * lanes + o + B];
        for (l, r) in row.iter_mut().enumerate() {
            *r = b[m0 + q] + acc.iter().map(|a| a[q][l]).sum::<f64>();
        }
    }
}

/// v += sign u, elementwise.
#[inline(always)]
fn add(v: &mut [f64], u: &[f64], sign: f64) {
    for (a, b) in v.iter_mut().zip(u) {
        *a += sign * b;
    }
}

/// dst = act(src), elementwise (a plain loop, one per activation: it is
/// inlined into, and vectorised for, the caller's target features).
#[inline(always)]
fn activate_into(dst: &mut [f64], src: &[f64], act: Activation) {
    match act {
        Activation::Relu => {
            for (a, v) in dst.iter_mut().zip(src) {
                *a = v.max(0.0);
            }
        }
        _ => {
            for (a, v) in dst.iter_mut().zip(src) {
                *a = activation(act, *v);
            }
        }
    }
}

/// Parameters, loss and gradient of one evaluation.
type LossAt = (Vec<f64>, f64, Vec<f64>);

/// The training problem on standardised data.
pub(super) struct Net<'a> {
    pub x: &'a DMatrix<f64>,
    pub y: &'a [f64],
    pub sizes: Vec<usize>,
    pub act: Activation,
    pub alpha: f64,
    /// The line search asks for the cost and then the gradient at the same
    /// point; both come from one pass, so the last pass is kept.
    last: std::cell::RefCell<Option<LossAt>>,
}

impl<'a> Net<'a> {
    pub fn new(
        x: &'a DMatrix<f64>,
        y: &'a [f64],
        sizes: Vec<usize>,
        act: Activation,
        alpha: f64,
    ) -> Self {
        Net {
            x,
            y,
            sizes,
            act,
            alpha,
            last: std::cell::RefCell::new(None),
        }
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

    /// Loss and gradient at parameters `t`.
    pub fn loss_grad(&self, t: &[f64]) -> (f64, Vec<f64>) {
        let n = self.y.len() as f64;
        let sizes = &self.sizes;
        let depth = sizes.len() - 1;
        let acts = forward(t, sizes, self.act, self.x);
        let mut g = vec![0.0; t.len()];
        // D_{L+1} = (yhat - y) / n
        let mut d = acts[depth - 1].clone();
        let mut loss = 0.0;
        for (v, y) in d.iter_mut().zip(self.y) {
            let r = *v - y;
            loss += r * r / (2.0 * n);
            *v = r / n;
        }
        let reg = self.alpha / n;
        let mut off_end = t.len();
        for l in (1..=depth).rev() {
            let (sin, sout) = (sizes[l - 1], sizes[l]);
            let off = off_end - sin * sout - sout;
            let (w, _) = layer(t, sizes, l);
            let prev = if l == 1 { self.x } else { &acts[l - 2] };
            // grad W_l^T = A_{l-1}^T D_l (s_in x s_out, column-major = W_l row-major)
            let gw = prev.tr_mul(&d);
            for ((gi, gv), wv) in g[off..off + sin * sout]
                .iter_mut()
                .zip(gw.iter())
                .zip(w.iter())
            {
                *gi = gv + reg * wv;
                loss += 0.5 * reg * wv * wv;
            }
            for (j, col) in d.column_iter().enumerate() {
                g[off + sin * sout + j] = col.sum();
            }
            if l > 1 {
                let mut dp = &d * w.transpose();
                for (v, a) in dp.iter_mut().zip(acts[l - 2].iter()) {
                    *v *= derivative(*a, self.act);
                }
                d = dp;
            }
            off_end = off;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The vector paths picked at run time give the baseline's numbers bit
    /// for bit, with 16 and 8 lanes to a register block (the background
    /// blocks, whose sums are added in turn, are the same), and equal the network's
    /// own forward pass on each coalition (to rounding).
    #[test]
    fn coalition_sums_are_the_same_on_every_path() {
        let (p, nb) = (5, 21);
        let bg = DMatrix::from_fn(nb, p, |i, j| {
            ((i * 3 + j * 7 + 1) as f64 * 0.29).sin() * 1.5
        });
        let x: Vec<f64> = (0..p).map(|j| (j as f64 * 0.8).cos()).collect();
        for act in [Activation::Relu, Activation::Tanh, Activation::Logistic] {
            for hidden in [vec![7], vec![6, 5, 3]] {
                let s = sizes(p, &hidden);
                let t: Vec<f64> = (0..n_params(&s))
                    .map(|k| ((k * 5 + 2) as f64 * 0.31).sin())
                    .collect();
                let picked = coalition_sums(&t, &s, act, &x, &bg, 16, None);
                let (b8, b16) = (
                    coalition_sums_in::<8>(&t, &s, act, &x, &bg, 16, None),
                    coalition_sums_in::<16>(&t, &s, act, &x, &bg, 16, None),
                );
                assert!(
                    picked
                        .iter()
                        .zip(&b8)
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                );
                assert!(b16.iter().zip(&b8).all(|(a, b)| a.to_bits() == b.to_bits()));
                for mask in [0usize, 5, 19, 31] {
                    let rows =
                        DMatrix::from_fn(
                            nb,
                            p,
                            |b, j| {
                                if mask >> j & 1 == 1 { x[j] } else { bg[(b, j)] }
                            },
                        );
                    let out = forward(&t, &s, act, &rows);
                    let want: f64 = out[out.len() - 1].sum();
                    assert!(
                        (picked[mask] - want).abs() < 1e-12 * want.abs().max(1.0),
                        "{act:?} {hidden:?} mask {mask}: {} vs {want}",
                        picked[mask]
                    );
                }
            }
        }
    }

    #[test]
    fn gradient_matches_finite_differences_for_every_activation() {
        let x = DMatrix::from_fn(12, 3, |i, j| ((i * 5 + j) as f64 * 0.7).sin());
        let y: Vec<f64> = (0..12).map(|i| (i as f64 * 0.3).cos()).collect();
        for act in [Activation::Relu, Activation::Tanh, Activation::Logistic] {
            for hidden in [vec![4], vec![5, 3]] {
                let s = sizes(3, &hidden);
                let net = Net::new(&x, &y, s.clone(), act, 0.3);
                let t: Vec<f64> = (0..n_params(&s))
                    .map(|k| ((k * 3 + 1) as f64 * 0.37).sin() * 0.5)
                    .collect();
                let (_, g) = net.loss_grad(&t);
                for k in 0..t.len() {
                    let h = 1e-6;
                    let (mut a, mut b) = (t.clone(), t.clone());
                    a[k] += h;
                    b[k] -= h;
                    let fd = (net.loss_grad(&a).0 - net.loss_grad(&b).0) / (2.0 * h);
                    assert!(
                        (fd - g[k]).abs() < 1e-7,
                        "{act:?} {hidden:?} parameter {k}: {fd} vs {}",
                        g[k]
                    );
                }
            }
        }
    }

    #[test]
    fn loss_is_the_closed_form_for_a_linear_network() {
        // no hidden layer: yhat = x . w + b, so the loss is checkable by hand
        let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 0.0, -1.0, 3.0, 0.5]);
        let y = [1.0, 0.0, 2.0];
        let net = Net::new(&x, &y, sizes(2, &[]), Activation::Relu, 0.6);
        let t = [0.5, -0.25, 0.1];
        let yhat = [0.5 - 0.5 + 0.1, 0.25 + 0.1, 1.5 - 0.125 + 0.1];
        let rss: f64 = yhat.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
        let want = rss / 6.0 + 0.6 / 6.0 * (0.25 + 0.0625);
        assert!((net.loss_grad(&t).0 - want).abs() < 1e-15);
    }
}
