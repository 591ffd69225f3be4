//! The network on every coalition of a row at once, for exact Shapley
//! values: v(S) = sum_b f(x_S, b_{F\S}) for all 2^p coalitions S, the
//! background rows b as vector lanes, coalitions in Gray-code order (the
//! first layer's pre-activation moves by one step per coalition), and,
//! when a sheet is explained against itself, each pair of rows once.

use super::Activation;
use super::net::{activation, forward, layer, layer_flat};
use nalgebra::DMatrix;
use rayon::prelude::*;

/// Sums over the background rows `bs` (scaled) of every network's output
/// at every coalition of the row `x` (scaled): entry `mask`, networks
/// added.
pub(super) fn background_sums(
    nets: &[Vec<f64>],
    sizes: &[usize],
    act: Activation,
    x: &[f64],
    bs: &DMatrix<f64>,
    lanes: usize,
) -> Vec<f64> {
    let mut sum = vec![0.0; 1usize << sizes[0]];
    for t in nets {
        let part = coalition_sums(t, sizes, act, x, bs, lanes, None);
        sum.iter_mut().zip(&part).for_each(|(s, v)| *s += v);
    }
    sum
}

/// Most n x 2^p sums [`shared_pair_sums`] keeps per row (8 MB).
const MAX_SHARED_SUMS: usize = 1 << 20;

/// Rows of [`shared_pair_sums`] computed in parallel before they are added.
const ROWS_PER_BATCH: usize = 16;

/// [`background_sums`] of every row of `xs` (scaled) with `xs` itself as
/// the background, row-major (n x 2^p). The pair (x_r, x_b) at coalition
/// S is the input of (x_b, x_r) at the complement of S: each pair r < b is
/// evaluated once, its outputs added to row r at S and to row b at the
/// complement; the pairs (r, r) give f(x_r) at every coalition. Half the
/// network evaluations of row by row. Rows in parallel in fixed batches,
/// added in row order (None beyond [`MAX_SHARED_SUMS`] sums: the
/// caller goes row by row); `tick` once per row.
pub(super) fn shared_pair_sums(
    nets: &[Vec<f64>],
    sizes: &[usize],
    act: Activation,
    xs: &DMatrix<f64>,
    tick: &(dyn Fn() + Sync),
) -> Option<Vec<f64>> {
    let (n, nc) = (xs.nrows(), 1usize << sizes[0]);
    if n == 0 || n.saturating_mul(nc) > MAX_SHARED_SUMS {
        return None;
    }
    let full = nc - 1;
    // rows in fixed batches, each row's outputs computed in parallel and
    // added in row order: the same numbers whatever the threads
    let mut sums = vec![0.0; n * nc];
    let order: Vec<usize> = (0..n).collect();
    for batch in order.chunks(ROWS_PER_BATCH) {
        let outs: Vec<(Vec<f64>, Vec<f64>)> = batch
            .par_iter()
            .map(|&r| {
                let xr: Vec<f64> = xs.row(r).iter().copied().collect();
                let partners = xs.rows(r + 1, n - r - 1).into_owned();
                let (mut own, mut each) = (vec![0.0; nc], vec![0.0; (n - r - 1) * nc]);
                let mut part = vec![0.0; (n - r - 1) * nc];
                for t in nets {
                    let o = coalition_sums(t, sizes, act, &xr, &partners, LANES, Some(&mut part));
                    own.iter_mut().zip(&o).for_each(|(a, v)| *a += v);
                    each.iter_mut().zip(&part).for_each(|(a, v)| *a += v);
                }
                tick();
                (own, each)
            })
            .collect();
        for (&r, (own, each)) in batch.iter().zip(&outs) {
            sums[r * nc..(r + 1) * nc]
                .iter_mut()
                .zip(own)
                .for_each(|(a, v)| *a += v);
            for (out, b) in each.chunks_exact(nc).zip(r + 1..n) {
                let row = &mut sums[b * nc..(b + 1) * nc];
                for (mask, v) in out.iter().enumerate() {
                    row[full ^ mask] += v;
                }
            }
        }
    }
    for t in nets {
        let out = forward(t, sizes, act, xs);
        for (r, fx) in out[out.len() - 1].iter().enumerate() {
            sums[r * nc..(r + 1) * nc].iter_mut().for_each(|s| *s += fx);
        }
    }
    Some(sums)
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
fn coalition_sums(
    t: &[f64],
    sizes: &[usize],
    act: Activation,
    x: &[f64],
    bg: &DMatrix<f64>,
    lanes: usize,
    per_lane: Option<&mut [f64]>,
) -> Vec<f64> {
    let call = Call {
        t,
        sizes,
        act,
        x,
        bg,
        lanes,
    };
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::is_x86_feature_detected as has;
        if has!("avx512f") && has!("fma") {
            // SAFETY: the CPU has AVX-512F and FMA, checked just above.
            return unsafe { with_avx512(&call, per_lane) };
        }
        if has!("avx2") && has!("fma") {
            // SAFETY: the CPU has AVX2 and FMA, checked just above.
            return unsafe { with_avx2(&call, per_lane) };
        }
    }
    coalition_sums_in::<8>(&call, per_lane)
}

/// The inputs of one [`coalition_sums`].
struct Call<'a> {
    t: &'a [f64],
    sizes: &'a [usize],
    act: Activation,
    x: &'a [f64],
    bg: &'a DMatrix<f64>,
    lanes: usize,
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn with_avx512(c: &Call, per_lane: Option<&mut [f64]>) -> Vec<f64> {
    coalition_sums_in::<16>(c, per_lane)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn with_avx2(c: &Call, per_lane: Option<&mut [f64]>) -> Vec<f64> {
    coalition_sums_in::<8>(c, per_lane)
}

/// The body of [`coalition_sums`], `B` lanes to a register block.
#[inline(always)]
fn coalition_sums_in<const B: usize>(c: &Call, mut per_lane: Option<&mut [f64]>) -> Vec<f64> {
    let Call {
        t,
        sizes,
        act,
        x,
        bg,
        lanes,
    } = *c;
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
/// loaded once for several outputs. The slices stay separate arguments:
/// gathered in a struct they ran 2.4x slower, the compiler no longer
/// knowing that the output does not overlap the input.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ml::ann::net::{n_params, sizes};

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
                let call = Call {
                    t: &t,
                    sizes: &s,
                    act,
                    x: &x,
                    bg: &bg,
                    lanes: 16,
                };
                let (b8, b16) = (
                    coalition_sums_in::<8>(&call, None),
                    coalition_sums_in::<16>(&call, None),
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
}
