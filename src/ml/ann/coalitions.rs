//! The network on every coalition of a row at once, for exact Shapley
//! values: v(S) = sum_b f(x_S, b_{F\S}) for all 2^p coalitions S. The
//! vector lanes are pairs (x, b) of a row and a background row, any pairs
//! (so a block is always full); coalitions go in Gray-code order (the
//! first layer's pre-activation moves by one step per coalition); and when
//! a sheet is explained against itself each pair of rows is evaluated once.
//!
//! A pair whose rows agree on feature j (x_j = b_j: a shared layer count,
//! a repeated descriptor) has the same input with and without j, so only
//! the coalitions of the other features are evaluated and each output
//! stands for both. Pairs are grouped by the features they agree on, so
//! that a block's lanes share them.

use super::Activation;
use super::net::{activation, forward, layer, layer_flat};
use nalgebra::DMatrix;
use pulp::Simd;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Sums over the background rows `bs` (scaled) of every network's output
/// at every coalition of the row `x` (scaled): entry `mask`, networks
/// added. The background goes in blocks of `rows` (at most [`LANES`]),
/// their sums added in order.
pub(super) fn background_sums(
    nets: &[Vec<f64>],
    sizes: &[usize],
    act: Activation,
    x: &[f64],
    bs: &DMatrix<f64>,
    rows: usize,
) -> Vec<f64> {
    let rows = rows.clamp(1, LANES);
    let mut bg: Vec<Vec<f64>> = bs.row_iter().map(|r| r.iter().copied().collect()).collect();
    bg.sort_by_cached_key(|b| equal_features(x, b));
    let mut sum = vec![0.0; 1usize << sizes[0]];
    for block in bg.chunks(rows) {
        let pairs = Pairs::new(sizes[0], block.iter().map(|b| (x, &b[..])));
        for t in nets {
            pairs.outputs(&Net { t, sizes, act }, Sink::Sum(&mut sum));
        }
    }
    sum
}

/// Most n x 2^p sums [`shared_pair_sums`] keeps (8 MB).
const MAX_SHARED_SUMS: usize = 1 << 20;

/// Most features for [`shared_pair_sums`]: a block's outputs, [`LANES`]
/// x 2^p, stay within 4 MB.
const MAX_SHARED_FEATURES: usize = 14;

/// [`background_sums`] of every row of `xs` (scaled) with `xs` itself as
/// the background, row-major (n x 2^p). The pair (x_r, x_b) at coalition
/// S is the input of (x_b, x_r) at the complement of S, and the
/// complement of `mask` is 2^p - 1 - mask, the same list reversed: each
/// pair r < b is evaluated once, its outputs added to row r in order and
/// to row b reversed; the pairs (r, r) give f(x_r) at every coalition.
/// Half the network evaluations of row by row, and the pairs fill every
/// block of lanes (grouped by the features on which their rows agree).
/// Blocks run in parallel and are added in block order, so the numbers are
/// the same whatever the threads. None beyond [`MAX_SHARED_SUMS`] sums or
/// [`MAX_SHARED_FEATURES`] features (the caller goes row by row). `tick`
/// once per row, in step with the pairs done.
pub(super) fn shared_pair_sums(
    nets: &[Vec<f64>],
    sizes: &[usize],
    act: Activation,
    xs: &DMatrix<f64>,
    tick: &(dyn Fn() + Sync),
) -> Option<Vec<f64>> {
    let (n, p) = (xs.nrows(), sizes[0]);
    let nc = 1usize << p;
    if n == 0 || p > MAX_SHARED_FEATURES || n.saturating_mul(nc) > MAX_SHARED_SUMS {
        return None;
    }
    let rows: Vec<Vec<f64>> = xs.row_iter().map(|r| r.iter().copied().collect()).collect();
    let mut pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|r| (r + 1..n).map(move |b| (r, b)))
        .collect();
    pairs.sort_by_cached_key(|&(r, b)| equal_features(&rows[r], &rows[b]));
    let blocks: Vec<&[(usize, usize)]> = pairs.chunks(LANES).collect();
    let stride = lane_stride(nc);
    // Each thread takes the next block and computes it into a buffer of
    // its own, left ready; one of them (the first) also adds the ready
    // blocks to the sums in block order, so the numbers are the same
    // whatever the threads, the sums stay in one core's cache, and no
    // thread waits on another. The caller adds the last few. (Another
    // thread adds when more than 4 blocks per thread wait: memory stays
    // bounded if the first is held up.)
    let taken = AtomicUsize::new(0);
    let ready = Mutex::new(Ready::default());
    let add = Mutex::new(InOrder {
        sums: vec![0.0; n * nc],
        nc,
        next: 0,
        done: 0,
        ticked: 0,
    });
    let drain = |o: &mut InOrder| {
        while let Some(out) = {
            let next = o.next;
            locked(&ready).blocks.remove(&next)
        } {
            let blk = blocks[o.next];
            o.add(blk, &out, stride);
            locked(&ready).spare.push(out);
            o.next += 1;
            o.done += blk.len();
            while o.ticked < n * o.done / pairs.len() {
                tick();
                o.ticked += 1;
            }
        }
    };
    let threads = rayon::current_num_threads().clamp(1, blocks.len().max(1));
    (0..threads).into_par_iter().for_each(|thread| {
        loop {
            let i = taken.fetch_add(1, Ordering::Relaxed);
            let Some(blk) = blocks.get(i) else { break };
            let lanes = Pairs::new(p, blk.iter().map(|&(r, b)| (&rows[r][..], &rows[b][..])));
            let spare = locked(&ready).spare.pop();
            let mut out = spare.unwrap_or_else(|| vec![0.0; LANES * stride]);
            for (k, t) in nets.iter().enumerate() {
                let sink = Sink::Lanes {
                    out: &mut out,
                    add: k > 0,
                };
                lanes.outputs(&Net { t, sizes, act }, sink);
            }
            let backlog = {
                let mut r = locked(&ready);
                r.blocks.insert(i, out);
                r.blocks.len()
            };
            if thread == 0 {
                drain(&mut locked(&add));
            } else if backlog > 4 * threads {
                // the first thread is late (busy elsewhere in the pool):
                // add what is ready rather than let it pile up, unless
                // someone is adding already
                if let Ok(mut o) = add.try_lock() {
                    drain(&mut o);
                }
            }
        }
    });
    let mut o = add.into_inner().unwrap_or_else(|e| e.into_inner());
    drain(&mut o);
    let InOrder {
        mut sums, ticked, ..
    } = o;
    for t in nets {
        let out = forward(t, sizes, act, xs);
        for (r, fx) in out[out.len() - 1].iter().enumerate() {
            sums[r * nc..(r + 1) * nc].iter_mut().for_each(|s| *s += fx);
        }
    }
    (ticked..n).for_each(|_| tick());
    Some(sums)
}

/// The value behind `m` (a thread that panicked holding it cannot have
/// left it half-written: every update is a single insert, remove or push,
/// or the sums of a block being added, which the panic then reports).
fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Blocks of [`shared_pair_sums`] computed and not yet added, by index,
/// and buffers to reuse.
#[derive(Default)]
struct Ready {
    blocks: BTreeMap<usize, Vec<f64>>,
    spare: Vec<Vec<f64>>,
}

/// The sums of [`shared_pair_sums`] (n x `nc`), the next block to add to
/// them, pairs added, rows ticked.
struct InOrder {
    sums: Vec<f64>,
    nc: usize,
    next: usize,
    done: usize,
    ticked: usize,
}

impl InOrder {
    /// Add the outputs `out` of the pairs `blk` (lanes `stride` apart):
    /// pair (r, b) to row r at each coalition, to row b at its complement.
    fn add(&mut self, blk: &[(usize, usize)], out: &[f64], stride: usize) {
        let nc = self.nc;
        for (&(r, b), lane) in blk.iter().zip(out.chunks_exact(stride)) {
            let lane = &lane[..nc];
            let row = &mut self.sums[r * nc..(r + 1) * nc];
            row.iter_mut().zip(lane).for_each(|(a, v)| *a += v);
            let row = &mut self.sums[b * nc..(b + 1) * nc];
            row.iter_mut().rev().zip(lane).for_each(|(a, v)| *a += v);
        }
    }
}

/// Lanes of one block: a multiple of every register block (16 lanes with
/// AVX-512, 4 with AVX2, 1 without).
pub(super) const LANES: usize = 32;

/// One network: its parameters, layer sizes and activation.
struct Net<'a> {
    t: &'a [f64],
    sizes: &'a [usize],
    act: Activation,
}

/// Where a block's outputs go.
enum Sink<'a> {
    /// `out[l * lane_stride(2^p) + mask] = f` of lane l (`+=` with
    /// `add`): each pair's own outputs.
    Lanes { out: &'a mut [f64], add: bool },
    /// `out[mask] += ` the sum over the block's lanes (in a fixed order).
    Sum(&'a mut [f64]),
}

/// The features on which `x` and `b` agree, as bits.
fn equal_features(x: &[f64], b: &[f64]) -> usize {
    x.iter()
        .zip(b)
        .enumerate()
        .filter(|(_, (u, v))| u == v)
        .fold(0, |m, (j, _)| m | 1 << j)
}

/// A block of up to [`LANES`] pairs (x, b), feature-major (`x[j * LANES +
/// l]`); lanes past `used` are zero and their outputs dropped. `equal`:
/// the features on which every pair agrees.
struct Pairs {
    x: Vec<f64>,
    b: Vec<f64>,
    used: usize,
    equal: usize,
}

impl Pairs {
    fn new<'x>(p: usize, pairs: impl Iterator<Item = (&'x [f64], &'x [f64])>) -> Pairs {
        let (mut x, mut b) = (vec![0.0; p * LANES], vec![0.0; p * LANES]);
        let (mut used, mut equal) = (0, 0);
        for (l, (xr, br)) in pairs.enumerate().take(LANES) {
            for j in 0..p {
                x[j * LANES + l] = xr[j];
                b[j * LANES + l] = br[j];
            }
            let e = equal_features(xr, br);
            equal = if l == 0 { e } else { equal & e };
            used = l + 1;
        }
        Pairs { x, b, used, equal }
    }

    /// The network's output on every coalition of every lane: input j is
    /// x_j when bit j of the coalition is set, b_j otherwise. Only the
    /// coalitions of the features outside `equal` are evaluated; each
    /// output goes to every coalition that differs from it only there.
    ///
    /// Written here (no crate evaluates a network on all 2^p coalitions):
    /// - the lanes are contiguous, so every layer is a loop of
    ///   multiply-adds over them, and a block's activations stay in cache;
    /// - coalitions are visited in Gray-code order, where each differs from
    ///   the last by one feature j, so the first layer's pre-activation
    ///   moves by one step, Z_1 += +-(x_j - b_j) W_1[:, j], instead of
    ///   p x s_1 multiply-adds; it is recomputed from scratch every 256
    ///   coalitions so that rounding cannot drift.
    ///
    /// - the layers above the first are written in explicit vectors
    ///   (`pulp`: AVX-512, AVX2 with FMA, or one lane at a time, picked at
    ///   run time), up to twelve outputs to a register block, so that each
    ///   input is loaded, and its relu taken, once for all of them; with
    ///   relu, the last hidden layer's outputs go into the network's single
    ///   output straight from the registers.
    ///   Left to the compiler, the same loops fell back to scalar code
    ///   whenever the function grew (a 4x loss).
    ///
    /// Each path does the same operations in the same order on each lane,
    /// and a fused multiply-add is correctly rounded in hardware and in
    /// software alike, so the numbers are bit for bit the same on every CPU
    /// (one lane at a time is only slower).
    fn outputs(&self, net: &Net, sink: Sink) {
        pulp::Arch::new().dispatch(Kernel {
            lanes: self,
            net,
            sink,
        });
    }
}

/// [`Pairs::outputs`] as one operation for `pulp`, which runs it with the
/// widest vectors the CPU has (AVX-512, AVX2 with FMA, or one lane at a
/// time).
struct Kernel<'a> {
    lanes: &'a Pairs,
    net: &'a Net<'a>,
    sink: Sink<'a>,
}

impl pulp::WithSimd for Kernel<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: Simd>(self, simd: S) {
        // two vectors to a register block where there are 32 registers of
        // 8 lanes (AVX-512), one otherwise
        if S::F64_LANES >= 8 {
            outputs_in::<S, 2>(simd, self)
        } else {
            outputs_in::<S, 1>(simd, self)
        }
    }
}

/// The body of [`Pairs::outputs`] on vectors `S`, `R` vectors to a
/// register block.
#[inline(always)]
fn outputs_in<S: Simd, const R: usize>(simd: S, k: Kernel) {
    const L: usize = LANES;
    let Kernel {
        lanes,
        net,
        mut sink,
    } = k;
    let Net { t, sizes, act } = *net;
    let (p, depth, used) = (sizes[0], sizes.len() - 1, lanes.used);
    let (nc, s1) = (1usize << p, sizes[1]);
    // vectors per row of L lanes, and the register blocks holding the
    // lanes used
    let v = L / S::F64_LANES;
    let chunks = used.div_ceil(S::F64_LANES * R).min(v / R);
    let widest = sizes[1..depth].iter().copied().max().unwrap_or(1);
    // z0 (s1 x L): the empty coalition; step (p x s1 x L)
    let (mut z0, mut z) = (vec![0.0; s1 * L], vec![0.0; s1 * L]);
    let mut step = vec![0.0; p * s1 * L];
    // pre-activations of the hidden layers above the first, two in turn;
    // a hidden layer activated (when not relu); the output
    let (mut pre_a, mut pre_b) = (vec![0.0; widest * L], vec![0.0; widest * L]);
    let (mut activated, mut fin) = (vec![0.0; widest * L], vec![0.0; L]);
    let (w1, b1) = layer(t, sizes, 1);
    // W_l^T row-major (s_{l-1} x s_l) and b_l of every layer above the
    // first
    let above: Vec<(Vec<f64>, &[f64])> = (2..=depth)
        .map(|l| {
            let (w, b) = layer_flat(t, sizes, l);
            let (s_in, s_out) = (sizes[l - 1], sizes[l]);
            let wt = (0..s_in * s_out).map(|i| w[(i % s_out) * s_in + i / s_out]);
            (wt.collect(), b)
        })
        .collect();
    for k in 0..s1 {
        let zk = &mut z0[k * L..(k + 1) * L];
        zk.fill(b1[k]);
        for j in 0..p {
            let wjk = w1[(j, k)];
            let (xj, bj) = (&lanes.x[j * L..(j + 1) * L], &lanes.b[j * L..(j + 1) * L]);
            for (zv, v) in zk.iter_mut().zip(bj) {
                *zv += wjk * v;
            }
            let sk = &mut step[(j * s1 + k) * L..(j * s1 + k + 1) * L];
            for ((sv, xv), bv) in sk.iter_mut().zip(xj).zip(bj) {
                *sv = (xv - bv) * wjk;
            }
        }
    }
    let relu = act == Activation::Relu;
    // the features evaluated, and every set of the others
    let free: Vec<usize> = (0..p).filter(|j| lanes.equal >> j & 1 == 0).collect();
    let same = subsets(lanes.equal);
    let mut mask = 0usize;
    for g in 0..1usize << free.len() {
        let zs = S::as_mut_simd_f64s(&mut z).0;
        if g % 256 == 0 {
            // from scratch: z = z0 + the steps of the features in the
            // coalition (bit t of the Gray code is feature free[t])
            let code = g ^ (g >> 1);
            mask = (0..free.len())
                .filter(|t| code >> t & 1 == 1)
                .fold(0, |m, t| m | 1 << free[t]);
            zs.copy_from_slice(S::as_simd_f64s(&z0).0);
            for j in (0..p).filter(|j| mask >> j & 1 == 1) {
                let u = S::as_simd_f64s(&step[j * s1 * L..(j + 1) * s1 * L]).0;
                add(simd, zs, u, true);
            }
        } else {
            let j = free[g.trailing_zeros() as usize];
            mask ^= 1 << j;
            let u = S::as_simd_f64s(&step[j * s1 * L..(j + 1) * s1 * L]).0;
            add(simd, zs, u, mask >> j & 1 == 1);
        }
        // the layers above, lane by lane: each reads the pre-activations
        // below it, relu taken as they are loaded (other activations in a
        // pass of their own); the output is linear
        let mut width = s1;
        for (l, (wl, bl)) in above.iter().enumerate() {
            // layer l + 2 reads z (l = 0) or the buffer written last, and
            // writes the other (None: the output, `fin`)
            let last = l + 1 == above.len();
            let (below, out): (&[f64], Option<&mut [f64]>) = match l {
                0 if last => (&z, None),
                _ if last && l % 2 == 1 => (&pre_a, None),
                _ if last => (&pre_b, None),
                0 => (&z, Some(&mut pre_a)),
                _ if l % 2 == 1 => (&pre_a, Some(&mut pre_b)),
                _ => (&pre_b, Some(&mut pre_a)),
            };
            let below = if relu {
                below
            } else {
                activate_into(&mut activated[..width * L], &below[..width * L], act);
                &activated
            };
            let ins = S::as_simd_f64s(below).0;
            if relu && l + 2 == above.len() && sizes[depth] == 1 {
                // the last hidden layer: its relu'd outputs go straight into
                // the (single) output, never stored
                let head = Head {
                    w: &above[l + 1].0,
                    b: above[l + 1].1[0],
                    fin: S::as_mut_simd_f64s(&mut fin).0,
                };
                dense::<S, R, true, true>(simd, wl, bl, width, ins, &mut [], v, chunks, head);
                break;
            }
            let outs = S::as_mut_simd_f64s(out.unwrap_or(&mut fin)).0;
            let head = Head {
                w: &[],
                b: 0.0,
                fin: &mut [],
            };
            if relu {
                dense::<S, R, true, false>(simd, wl, bl, width, ins, outs, v, chunks, head);
            } else {
                dense::<S, R, false, false>(simd, wl, bl, width, ins, outs, v, chunks, head);
            }
            width = sizes[l + 2];
        }
        match &mut sink {
            Sink::Lanes { out, add } => {
                for &e in &same {
                    let lanes = out[mask | e..].iter_mut().step_by(lane_stride(nc));
                    if *add {
                        lanes.zip(&fin[..used]).for_each(|(o, v)| *o += v);
                    } else {
                        lanes.zip(&fin[..used]).for_each(|(o, v)| *o = *v);
                    }
                }
            }
            Sink::Sum(out) => {
                let v = lane_sum(&fin[..used]);
                for &e in &same {
                    out[mask | e] += v;
                }
            }
        }
    }
}

/// Every subset of the bits of `m`, from m down to 0.
fn subsets(m: usize) -> Vec<usize> {
    let mut all = vec![m];
    let mut e = m;
    while e != 0 {
        e = (e - 1) & m;
        all.push(e);
    }
    all
}

/// Distance between two lanes' outputs in [`Sink::Lanes`]: 2^p and one
/// cache line more, so that the lanes written at one coalition fall in
/// different cache sets (at 2^p apart, a power of two, they would compete
/// for two sets of the L1 cache and evict each other).
fn lane_stride(nc: usize) -> usize {
    nc + 8
}

/// The sum of `v` in eight running sums, added pairwise: a fixed order
/// (the same numbers on every CPU), without one long chain of adds.
#[inline(always)]
fn lane_sum(v: &[f64]) -> f64 {
    let mut acc = [0.0; 8];
    for c in v.chunks(8) {
        acc.iter_mut().zip(c).for_each(|(a, x)| *a += x);
    }
    ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]))
}

/// out[m][lane] = b[m] + sum_k W[m][k] in(input[k][lane]) (`wt`: W^T,
/// row-major) for `chunks`
/// register blocks of `R` vectors (rows of `input` and `out` are `v`
/// vectors apart; `in` is relu with `RELU`, else the identity). Outputs
/// go up to twelve at a time, so that each input is loaded (and its relu
/// taken) once for as many outputs as the registers hold, and the sum over
/// k is split into partial sums where fewer than four outputs go together
/// (a single chain of adds would wait on each add's latency). The per-lane
/// operations, and their order, depend only on the layer sizes: the same
/// on every CPU.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn dense<S: Simd, const R: usize, const RELU: bool, const HEAD: bool>(
    simd: S,
    wt: &[f64],
    b: &[f64],
    s_in: usize,
    input: &[S::f64s],
    out: &mut [S::f64s],
    v: usize,
    chunks: usize,
    head: Head<S>,
) {
    let s_out = b.len();
    for c in 0..chunks {
        let o = c * R;
        if HEAD {
            head.fin[o..o + R].fill(simd.splat_f64s(head.b));
        }
        let mut m = 0;
        while m < s_out {
            let args = (wt, b, s_in, o, m, v);
            let h = (head.w, &mut *head.fin);
            m += match s_out - m {
                12.. => dense_block::<S, R, 12, 1, RELU, HEAD>(simd, args, input, out, h),
                10 | 11 => dense_block::<S, R, 10, 1, RELU, HEAD>(simd, args, input, out, h),
                8 | 9 => dense_block::<S, R, 8, 1, RELU, HEAD>(simd, args, input, out, h),
                4..=7 => dense_block::<S, R, 4, 1, RELU, HEAD>(simd, args, input, out, h),
                2 | 3 => dense_block::<S, R, 2, 2, RELU, HEAD>(simd, args, input, out, h),
                _ => dense_block::<S, R, 1, 4, RELU, HEAD>(simd, args, input, out, h),
            };
        }
    }
}

/// The output layer (one output: weights `w`, bias `b`) taken into the
/// layer below it by [`dense`] (`HEAD`): each relu'd sum is multiplied
/// into `fin` as it leaves the registers.
struct Head<'a, S: Simd> {
    w: &'a [f64],
    b: f64,
    fin: &'a mut [S::f64s],
}

/// Outputs m0..m0 + M of the register block at vector `o` of each row, the
/// sum over k in P interleaved partial sums; returns M. `args`: (W^T
/// row-major, s_in x s_out; b; s_in; o; m0; vectors per row).
#[inline(always)]
fn dense_block<
    S: Simd,
    const R: usize,
    const M: usize,
    const P: usize,
    const RELU: bool,
    const HEAD: bool,
>(
    simd: S,
    args: (&[f64], &[f64], usize, usize, usize, usize),
    input: &[S::f64s],
    out: &mut [S::f64s],
    head: (&[f64], &mut [S::f64s]),
) -> usize {
    let (wt, b, s_in, o, m0, v) = args;
    let s_out = b.len();
    let zero = simd.splat_f64s(0.0);
    let mut acc = [[[zero; R]; M]; P];
    for k0 in (0..s_in).step_by(P) {
        for (part, a) in acc.iter_mut().enumerate() {
            let k = k0 + part;
            if k >= s_in {
                break;
            }
            // one bounds check each for the weights and the inputs of k
            let wk: &[f64; M] = wt[k * s_out + m0..][..M].try_into().expect("M weights");
            let xk: &[S::f64s; R] = input[k * v + o..][..R].try_into().expect("R vectors");
            // a plain loop, not a closure (`array::map`): a closure is a
            // function of its own, which the compiler may leave out of line,
            // without the target's vector instructions (a 5x loss, seen)
            let mut x = *xk;
            if RELU {
                for x in x.iter_mut() {
                    *x = simd.max_f64s(*x, zero);
                }
            }
            for (am, &w) in a.iter_mut().zip(wk) {
                let w = simd.splat_f64s(w);
                for (s, x) in am.iter_mut().zip(&x) {
                    *s = simd.mul_add_f64s(w, *x, *s);
                }
            }
        }
    }
    let (w_out, fin) = head;
    for q in 0..M {
        for r in 0..R {
            let mut sum = acc[0][q][r];
            for a in &acc[1..] {
                sum = simd.add_f64s(sum, a[q][r]);
            }
            let h = simd.add_f64s(simd.splat_f64s(b[m0 + q]), sum);
            if HEAD {
                let h = simd.max_f64s(h, zero);
                fin[o + r] = simd.mul_add_f64s(simd.splat_f64s(w_out[m0 + q]), h, fin[o + r]);
            } else {
                out[(m0 + q) * v + o + r] = h;
            }
        }
    }
    M
}

/// v += u (`plus`) or v -= u, elementwise.
#[inline(always)]
fn add<S: Simd>(simd: S, v: &mut [S::f64s], u: &[S::f64s], plus: bool) {
    if plus {
        for (a, b) in v.iter_mut().zip(u) {
            *a = simd.add_f64s(*a, *b);
        }
    } else {
        for (a, b) in v.iter_mut().zip(u) {
            *a = simd.sub_f64s(*a, *b);
        }
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

    /// The vector paths (AVX-512, AVX2, the one picked at run time) give
    /// the numbers of one lane at a time bit for bit, into either sink; each lane, its own pair (x, b) in a partly filled block, gets
    /// the network's own forward pass on each coalition (to rounding),
    /// those of a feature on which the pairs agree included, and the summed
    /// sink gets their sum.
    #[test]
    fn coalition_outputs_are_the_same_on_every_path() {
        let (p, nb) = (5, 21);
        let row = |i: usize| -> Vec<f64> {
            (0..p)
                .map(|j| ((i * 3 + j * 7 + 1) as f64 * 0.29).sin() * 1.5)
                .collect()
        };
        // every pair agrees on feature 1 (evaluated on half the
        // coalitions), ten on feature 3 too
        let (xs, bs): (Vec<_>, Vec<_>) = (0..nb)
            .map(|i| {
                let (mut x, b) = (row(i + 40), row(i));
                x[1] = b[1];
                if i < 10 {
                    x[3] = b[3];
                }
                (x, b)
            })
            .unzip();
        let lanes = Pairs::new(p, xs.iter().zip(&bs).map(|(x, b)| (&x[..], &b[..])));
        assert_eq!(lanes.equal, 0b10);
        let nc = 1 << p;
        for act in [Activation::Relu, Activation::Tanh, Activation::Logistic] {
            for hidden in [vec![7], vec![6, 5, 3]] {
                let s = sizes(p, &hidden);
                let t: Vec<f64> = (0..n_params(&s))
                    .map(|k| ((k * 5 + 2) as f64 * 0.31).sin())
                    .collect();
                let net = Net {
                    t: &t,
                    sizes: &s,
                    act,
                };
                let run = |f: &dyn Fn(Sink)| {
                    let (mut each, mut sum) = (vec![0.0; nb * lane_stride(nc)], vec![0.0; nc]);
                    f(Sink::Lanes {
                        out: &mut each,
                        add: false,
                    });
                    f(Sink::Sum(&mut sum));
                    (each, sum)
                };
                let picked = run(&|k| lanes.outputs(&net, k));
                // one lane at a time, and each vector width this CPU has
                let scalar = run(&|k| {
                    Simd::vectorize(
                        pulp::Scalar::new(),
                        Kernel {
                            lanes: &lanes,
                            net: &net,
                            sink: k,
                        },
                    )
                });
                let mut paths = vec![("picked", picked.clone())];
                #[cfg(target_arch = "x86_64")]
                {
                    if let Some(v3) = pulp::x86::V3::try_new() {
                        paths.push((
                            "AVX2",
                            run(&|k| {
                                Simd::vectorize(
                                    v3,
                                    Kernel {
                                        lanes: &lanes,
                                        net: &net,
                                        sink: k,
                                    },
                                )
                            }),
                        ));
                    }
                    if let Some(v4) = pulp::x86::V4::try_new() {
                        paths.push((
                            "AVX-512",
                            run(&|k| {
                                Simd::vectorize(
                                    v4,
                                    Kernel {
                                        lanes: &lanes,
                                        net: &net,
                                        sink: k,
                                    },
                                )
                            }),
                        ));
                    }
                }
                let same =
                    |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(u, v)| u.to_bits() == v.to_bits());
                for (name, got) in &paths {
                    assert!(
                        same(&got.0, &scalar.0) && same(&got.1, &scalar.1),
                        "{name} {act:?} {hidden:?}"
                    );
                }
                for mask in [0usize, 2, 5, 7, 19, 29, 31] {
                    let rows = DMatrix::from_fn(nb, p, |l, j| {
                        if mask >> j & 1 == 1 {
                            xs[l][j]
                        } else {
                            bs[l][j]
                        }
                    });
                    let out = forward(&t, &s, act, &rows);
                    let want = &out[out.len() - 1];
                    for l in 0..nb {
                        let got = picked.0[l * lane_stride(nc) + mask];
                        assert!(
                            (got - want[l]).abs() < 1e-13 * want[l].abs().max(1.0),
                            "{act:?} {hidden:?} mask {mask} lane {l}: {got} vs {}",
                            want[l]
                        );
                    }
                    let total: f64 = want.sum();
                    assert!((picked.1[mask] - total).abs() < 1e-12 * total.abs().max(1.0));
                }
            }
        }
    }

    /// The shared pairs give the same sums bit for bit with one thread or
    /// three, run after run (the blocks are added in one order whatever
    /// finishes first),
    /// tick once per row, and equal row by row against the sheet itself.
    #[test]
    fn shared_pairs_are_the_same_whatever_the_threads() {
        let (n, p) = (23, 6);
        let xs = DMatrix::from_fn(n, p, |i, j| match j {
            2 => (i % 4) as f64,
            _ => ((i * 7 + j * 3 + 2) as f64 * 0.23).cos() * 1.2,
        });
        let s = sizes(p, &[8, 5]);
        let t: Vec<f64> = (0..n_params(&s))
            .map(|k| ((k * 3 + 1) as f64 * 0.47).sin())
            .collect();
        let nets = vec![t];
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let ticks = AtomicUsize::new(0);
            let count = || {
                ticks.fetch_add(1, Ordering::Relaxed);
            };
            let sums = pool
                .install(|| shared_pair_sums(&nets, &s, Activation::Relu, &xs, &count))
                .unwrap();
            assert_eq!(ticks.into_inner(), n);
            sums
        };
        let one = run(1);
        for _ in 0..8 {
            let three = run(3);
            assert!(
                one.iter()
                    .zip(&three)
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            );
        }
        let nc = 1 << p;
        for r in [0, 11, 22] {
            let x: Vec<f64> = xs.row(r).iter().copied().collect();
            let want = background_sums(&nets, &s, Activation::Relu, &x, &xs, LANES);
            for (a, b) in one[r * nc..(r + 1) * nc].iter().zip(&want) {
                assert!(
                    (a - b).abs() < 1e-10 * b.abs().max(1.0),
                    "row {r}: {a} vs {b}"
                );
            }
        }
    }
}
