//! Short, branch-light `exp` and `sin_cos` for the model kernels.
//!
//! Written here because the fits spend most of their time in these two
//! functions (glibc's take ~100 instructions per call, measured with
//! callgrind: 57 % of a two-cosine fit), and no stable-Rust crate offers
//! f64 kernels that the compiler can inline and unroll; `libm`'s port is
//! as long as glibc's. Both are textbook: Cody-Waite argument reduction
//! and Taylor polynomials evaluated by Horner's rule, accurate to a few
//! ulp (tested against `std` below).
//!
//! exp(x) = 2^k exp(r), k = round(x / ln 2), |r| <= ln2/2, Taylor to r^13
//! (truncation < 4e-18). sin/cos: k = round(x 2/pi), r = x - k pi/2 in three
//! parts (exact for |k| < 2^20, i.e. |x| < 1.6e6), Taylor to r^17 / r^18 on
//! |r| <= pi/4, then the quadrant k mod 4.

/// Round to the nearest integer (ties to even) for |y| < 2^51 without a libm
/// call: baseline x86-64 has no rounding instruction, and `f64::round` would
/// be a function call per element.
#[inline(always)]
fn round(y: f64) -> f64 {
    const MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5 * 2^52
    (y + MAGIC) - MAGIC
}

/// a b + c: fused (one rounding, one instruction) when `F`, which the
/// vector paths of [`widest`] set (every CPU they run on has FMA); two
/// operations otherwise, for scalar callers compiled for baseline x86-64,
/// where `mul_add` would be a library call.
#[inline(always)]
fn madd<const F: bool>(a: f64, b: f64, c: f64) -> f64 {
    if F { a.mul_add(b, c) } else { a * b + c }
}

const LN2_HI: f64 = 6.931_471_803_691_238e-1;
const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
const INV_LN2: f64 = std::f64::consts::LOG2_E;

/// exp(r) for |r| <= ln2/2: Taylor to r^13 by Horner's rule.
#[inline(always)]
fn exp_poly<const F: bool>(r: f64) -> f64 {
    let mut p: f64 = 1.0 / 6_227_020_800.0; // 1/13!
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = madd::<F>(p, r, c);
    }
    p
}

/// 2^k for an integral float k in [-1022, 1023], from its bits: the exponent
/// field is k + 1023, read off the mantissa of k + 1023 + 2^52.
#[inline(always)]
fn pow2(k: f64) -> f64 {
    f64::from_bits((k + (1023.0 + 4_503_599_627_370_496.0)).to_bits() << 52)
}

/// e^x for x in [-708.39, 709.78]: 2^k exp(r), 2^k applied in two halves
/// so that neither leaves the normal range.
#[inline(always)]
fn exp_in_range<const F: bool>(x: f64) -> f64 {
    let k = round(x * INV_LN2);
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let k1 = round(0.5 * k);
    exp_poly::<F>(r) * pow2(k1) * pow2(k - k1)
}

/// e^x, to within ~2 ulp of `f64::exp`; 0 below -708.4 and +inf above 709.7.
#[inline(always)]
pub fn exp(x: f64) -> f64 {
    if x < -708.39 {
        return if x.is_nan() { x } else { 0.0 };
    }
    if x > 709.78 {
        return if x.is_nan() { x } else { f64::INFINITY };
    }
    exp_in_range::<false>(x)
}

/// Run `$body` compiled for the widest vector unit this CPU has: the same
/// source built with AVX-512 or AVX2 (each with FMA) enabled, picked at run
/// time (the detection is a cached load). `$body` takes a `const F: bool`,
/// true where `a * b + c` is to be one fused instruction ([`madd`]): so
/// every path computes the same operations with the same roundings and
/// gives the same bits (tested); only the vector width changes. The
/// fallback fuses where the build target has FMA (aarch64 always does).
macro_rules! widest {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)? = $body:ident) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) $(-> $ret)? {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,fma")]
                fn avx512($($arg: $ty),*) $(-> $ret)? {
                    $body::<true>($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) $(-> $ret)? {
                    $body::<true>($($arg),*)
                }
                if std::is_x86_feature_detected!("fma") {
                    if std::is_x86_feature_detected!("avx512f") {
                        // SAFETY: the CPU has the features (checked above)
                        return unsafe { avx512($($arg),*) };
                    }
                    if std::is_x86_feature_detected!("avx2") {
                        // SAFETY: the CPU has the features (checked above)
                        return unsafe { avx2($($arg),*) };
                    }
                }
            }
            $body::<{ $crate::fit::fastmath::FUSED_BASELINE }>($($arg),*)
        }
    };
}
/// Whether the build target itself has FMA (then the fallback of
/// [`widest`] fuses too).
pub(crate) const FUSED_BASELINE: bool =
    cfg!(target_feature = "fma") || cfg!(target_arch = "aarch64");
pub(crate) use widest;

widest!(
    /// `out[i] = exp(x[i])`, vectorised ([`exp_slice_body`] at the widest width).
    pub fn exp_slice(x: &[f64], out: &mut [f64]) = exp_slice_body
);

/// `out[i] = exp(x[i])` with no branch in the loop, so that the compiler
/// can vectorise it; the values of [`exp`] to an ulp (the same ones when
/// not fused). Public as [`exp_slice`].
#[inline(always)]
pub(crate) fn exp_slice_body<const F: bool>(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = exp_lane::<F>(v);
    }
}

/// `v[i] = exp(v[i])`, as [`exp_slice_body`].
#[inline(always)]
pub(crate) fn exp_in_place<const F: bool>(v: &mut [f64]) {
    for o in v.iter_mut() {
        *o = exp_lane::<F>(*o);
    }
}

/// [`exp`] by selects instead of branches (for loops that vectorise).
#[inline(always)]
fn exp_lane<const F: bool>(v: f64) -> f64 {
    let e = exp_in_range::<F>(v.clamp(-708.39, 709.78));
    let e = if v < -708.39 { 0.0 } else { e };
    let e = if v > 709.78 { f64::INFINITY } else { e };
    if v.is_nan() { v } else { e }
}

const PIO2_1: f64 = 1.570_796_326_734_125_6; // first 33 bits of pi/2
const PIO2_2: f64 = 6.077_100_506_303_966e-11; // next 33 bits
const PIO2_3: f64 = 2.022_266_248_795_950_6e-21; // the rest
const TWO_OVER_PI: f64 = std::f64::consts::FRAC_2_PI;

/// sin and cos of r for |r| <= pi/4 (Taylor to r^17 and r^18), and the
/// quadrant count k of x = k pi/2 + r, for |x| < 1.6e6.
#[inline(always)]
fn sin_cos_reduced<const F: bool>(x: f64) -> (f64, f64, f64) {
    let k = round(x * TWO_OVER_PI);
    let r = ((x - k * PIO2_1) - k * PIO2_2) - k * PIO2_3;
    let z = r * r;
    let mut s: f64 = 1.0 / 355_687_428_096_000.0; // 1/17!
    for c in [
        -1.0 / 1_307_674_368_000.0,
        1.0 / 6_227_020_800.0,
        -1.0 / 39_916_800.0,
        1.0 / 362_880.0,
        -1.0 / 5_040.0,
        1.0 / 120.0,
        -1.0 / 6.0,
        1.0,
    ] {
        s = madd::<F>(s, z, c);
    }
    let s = s * r;
    let mut c: f64 = -1.0 / 6_402_373_705_728_000.0; // -1/18!
    for q in [
        1.0 / 20_922_789_888_000.0,
        -1.0 / 87_178_291_200.0,
        1.0 / 479_001_600.0,
        -1.0 / 3_628_800.0,
        1.0 / 40_320.0,
        -1.0 / 720.0,
        1.0 / 24.0,
        -0.5,
        1.0,
    ] {
        c = madd::<F>(c, z, q);
    }
    (s, c, k)
}

/// (sin x, cos x), each within a few ulp of `f64::sin_cos` (which is used
/// for NaN and for |x| >= 1.6e6, beyond the exact argument reduction).
#[inline(always)]
pub fn sin_cos(x: f64) -> (f64, f64) {
    if x.is_nan() || x.abs() >= 1.6e6 {
        return x.sin_cos();
    }
    let (s, c, k) = sin_cos_reduced::<false>(x);
    match (k as i64) & 3 {
        0 => (s, c),
        1 => (c, -s),
        2 => (-s, -c),
        _ => (-c, s),
    }
}

widest!(
    /// `(sn[i], cs[i]) = sin_cos(x[i])`, vectorised ([`sin_cos_slice_body`]
    /// at the widest width).
    pub fn sin_cos_slice(x: &[f64], sn: &mut [f64], cs: &mut [f64]) = sin_cos_slice_body
);

/// `(sn[i], cs[i]) = sin_cos(x[i])` with the quadrant chosen by arithmetic
/// instead of a branch, so that the compiler can vectorise the loop; the
/// values of [`sin_cos`] to an ulp. Public as [`sin_cos_slice`].
#[inline(always)]
pub(crate) fn sin_cos_slice_body<const F: bool>(x: &[f64], sn: &mut [f64], cs: &mut [f64]) {
    // a fold without early exit vectorises; `any` would be a scalar loop
    if !x.iter().fold(true, |ok, v| ok & (v.abs() < 1.6e6)) {
        for ((v, s), c) in x.iter().zip(sn.iter_mut()).zip(cs.iter_mut()) {
            (*s, *c) = sin_cos(*v);
        }
        return;
    }
    for ((&v, so), co) in x.iter().zip(sn.iter_mut()).zip(cs.iter_mut()) {
        (*so, *co) = sin_cos_quadrant::<F>(v);
    }
}

/// cs_i = cos(w t_i) e^(E_i) and sn_i = sin(w t_i) e^(E_i), E_i = env(t_i),
/// in one pass over the delays: the values of [`sin_cos_slice_body`] and
/// [`exp_slice_body`] multiplied, without the three intermediate arrays
/// (a damped cosine of a trace on a jittered grid, where the rotation of
/// [`damped_rotation_body`] does not apply).
#[inline(always)]
pub(crate) fn damped_sin_cos_body<const F: bool>(
    w: f64,
    x: &[f64],
    env: impl Fn(f64) -> f64,
    cs: &mut [f64],
    sn: &mut [f64],
) {
    let points = x.iter().zip(cs.iter_mut()).zip(sn.iter_mut());
    if !x.iter().fold(true, |ok, t| ok & ((w * t).abs() < 1.6e6)) {
        for ((&t, c), s) in points {
            let (e, (sw, cw)) = (exp_lane::<F>(env(t)), sin_cos(w * t));
            (*c, *s) = (cw * e, sw * e);
        }
        return;
    }
    for ((&t, c), s) in points {
        let (e, (sw, cw)) = (exp_lane::<F>(env(t)), sin_cos_quadrant::<F>(w * t));
        (*c, *s) = (cw * e, sw * e);
    }
}

/// sin and cos from [`sin_cos_reduced`], the quadrant chosen by arithmetic
/// (no branch, so that loops vectorise), for |x| < 1.6e6.
#[inline(always)]
fn sin_cos_quadrant<const F: bool>(v: f64) -> (f64, f64) {
    let (s, c, k) = sin_cos_reduced::<F>(v);
    // q = k mod 4 in {0, 1, 2, 3}, exactly, as a float
    let q = k - 4.0 * round(0.25 * k - 0.375);
    let odd = q == 1.0 || q == 3.0;
    let (bs, bc) = if odd { (c, s) } else { (s, c) };
    (
        if q >= 2.0 { -bs } else { bs },
        if q == 1.0 || q == 2.0 { -bc } else { bc },
    )
}

/// (t0, h) when the delays are the uniform grid t_i = t0 + i h to within
/// 1e-12 of their span (at least two points, h > 0).
pub fn uniform_grid(x: &[f64]) -> Option<(f64, f64)> {
    let m = x.len();
    if m < 2 {
        return None;
    }
    let (t0, span) = (x[0], x[m - 1] - x[0]);
    let h = span / (m - 1) as f64;
    let tol = 1e-12 * span.abs().max(t0.abs());
    let ok = x.iter().enumerate().fold(h > 0.0, |ok, (i, &t)| {
        ok & ((t - (t0 + i as f64 * h)).abs() <= tol)
    });
    ok.then_some((t0, h))
}

/// Lanes of the damped rotation: the recurrence steps by this many points.
const LANES: usize = 8;
/// Points per block: each block starts from values computed directly, so
/// the recurrence's rounding (about an ulp per step) never passes
/// BLOCK / LANES = 8 steps.
const BLOCK: usize = 64;

/// On the uniform grid t_i = t0 + i h: cs_i = cos(w t_i) e^(-g t_i) and
/// sn_i = sin(w t_i) e^(-g t_i). Per block of [`BLOCK`] points the first
/// [`LANES`] come from [`sin_cos`] and [`exp`], the rest by rotation,
/// z_(i+L) = z_i e^((i w - g) L h): one complex product per point instead
/// of three polynomials. The values agree with the direct ones to a few
/// ulp of the envelope (tested below).
#[inline(always)]
pub(crate) fn damped_rotation_body<const F: bool>(
    t0: f64,
    h: f64,
    w: f64,
    g: f64,
    cs: &mut [f64],
    sn: &mut [f64],
) {
    let m = cs.len().min(sn.len());
    let step = LANES as f64 * h;
    let (rs, rc) = sin_cos(w * step);
    let re = exp(-g * step);
    let (rc, rs) = (rc * re, rs * re);
    let mut arg = [0.0; LANES];
    let (mut s0, mut c0, mut e0) = ([0.0; LANES], [0.0; LANES], [0.0; LANES]);
    for b in (0..m).step_by(BLOCK) {
        let head = LANES.min(m - b);
        for (k, a) in arg[..head].iter_mut().enumerate() {
            *a = w * (t0 + (b + k) as f64 * h);
        }
        sin_cos_slice_body::<F>(&arg[..head], &mut s0[..head], &mut c0[..head]);
        for (k, a) in arg[..head].iter_mut().enumerate() {
            *a = -g * (t0 + (b + k) as f64 * h);
        }
        exp_slice_body::<F>(&arg[..head], &mut e0[..head]);
        for k in 0..head {
            cs[b + k] = c0[k] * e0[k];
            sn[b + k] = s0[k] * e0[k];
        }
        let end = (b + BLOCK).min(m);
        let mut j = b + LANES;
        while j < end {
            let n = LANES.min(end - j);
            let (cp, cc) = cs.split_at_mut(j);
            let (sp, sc) = sn.split_at_mut(j);
            let (cp, sp) = (&cp[j - LANES..j - LANES + n], &sp[j - LANES..j - LANES + n]);
            for k in 0..n {
                cc[k] = cp[k] * rc - sp[k] * rs;
                sc[k] = cp[k] * rs + sp[k] * rc;
            }
            j += LANES;
        }
    }
}

widest!(
    /// (c, s) <- (c rc - s rs, s rc + c rs) elementwise (over the shortest
    /// length): the cosine and sine of angles a + b from those of a (c, s)
    /// and of b (rc, rs), vectorised; k steps give those of a + k b with
    /// an error growing like k ulp, and no trigonometry.
    pub fn rotate(c: &mut [f64], s: &mut [f64], rc: &[f64], rs: &[f64]) = rotate_body
);

#[inline(always)]
fn rotate_body<const F: bool>(c: &mut [f64], s: &mut [f64], rc: &[f64], rs: &[f64]) {
    // not fused: every vector width gives the same bits without it
    let n = c.len().min(s.len()).min(rc.len()).min(rs.len());
    let (c, s, rc, rs) = (&mut c[..n], &mut s[..n], &rc[..n], &rs[..n]);
    for i in 0..n {
        let (ci, si) = (c[i], s[i]);
        c[i] = ci * rc[i] - si * rs[i];
        s[i] = si * rc[i] + ci * rs[i];
    }
}

widest!(
    /// y += alpha x (over the shorter length), vectorised.
    pub fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) = axpy_body
);

#[inline(always)]
fn axpy_body<const F: bool>(alpha: f64, x: &[f64], y: &mut [f64]) {
    // not fused, as in `dot`: the certified fits' QR runs on it
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * xi;
    }
}

widest!(
    /// Dot product with four partial sums ([`dot_body`] at the widest
    /// vector width): the sums of the general solver and its QR, on which
    /// the NIST certified fits are run. The variable-projection kernel,
    /// whose dot products are most of a trace fit's linear algebra, uses
    /// [`dot16`]. (Both orders are as accurate; where a fit's residual sits
    /// at f64's rounding floor, as NIST's Lanczos1 does, the order decides
    /// on which side of the floor the last digits land, and the certified
    /// test was set on this one.)
    pub fn dot(a: &[f64], b: &[f64]) -> f64 = dot_body
);

/// Dot product with four independent partial sums: the compiler may then
/// keep them in vector registers (a single running sum is a serial chain of
/// dependent additions it must not reorder), and every vector width gives
/// the same bits.
#[inline(always)]
pub(crate) fn dot_body<const F: bool>(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[2]) + (acc[1] + acc[3]) + tail
}

/// Partial sums of [`dot16`]: two AVX-512 registers, four AVX2 ones, so that
/// the additions of a 400-point dot product form short chains the core
/// can overlap (with one register's worth the loop waits on the latency of
/// each addition).
const DOT_LANES: usize = 16;

/// Dot product with [`DOT_LANES`] independent partial sums (sum k holds
/// the products of the points i = k mod 16), added in a fixed tree; the
/// points past the last full 16 are added in order at the end. Products
/// and sums are rounded separately (not fused: the NIST certified fits
/// are solved on these sums), and every path computes the same operations
/// in the same order, so AVX-512, AVX2 and the portable loop give the same
/// bits (tested).
///
/// Written with explicit intrinsics because LLVM's SLP vectoriser packs
/// the portable loop's 16 sums into 2-lane registers only (measured: a
/// fifth of a two-cosine fit's time in this function).
pub fn dot16(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len().min(b.len());
    let full = n - n % DOT_LANES;
    let mut acc = [0.0f64; DOT_LANES];
    dot_partial(&a[..full], &b[..full], &mut acc);
    let mut w = DOT_LANES;
    while w > 1 {
        w /= 2;
        for k in 0..w {
            acc[k] += acc[k + w];
        }
    }
    let tail: f64 = a[full..n].iter().zip(&b[full..n]).map(|(x, y)| x * y).sum();
    acc[0] + tail
}

/// The 16 partial sums of `a . b` (lengths a multiple of 16) into `acc`.
fn dot_partial(a: &[f64], b: &[f64], acc: &mut [f64; DOT_LANES]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            // SAFETY: the CPU has the feature (checked above)
            unsafe { simd::dot_avx512(a, b, acc) };
            return;
        }
        if std::is_x86_feature_detected!("avx") {
            // SAFETY: the CPU has the feature (checked above)
            unsafe { simd::dot_avx(a, b, acc) };
            return;
        }
    }
    for (x, y) in a.chunks_exact(DOT_LANES).zip(b.chunks_exact(DOT_LANES)) {
        for k in 0..DOT_LANES {
            acc[k] += x[k] * y[k];
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod simd {
    use super::DOT_LANES;
    use std::arch::x86_64::*;

    /// [`super::dot_partial`] in two 8-lane registers.
    #[target_feature(enable = "avx512f")]
    pub(super) fn dot_avx512(a: &[f64], b: &[f64], acc: &mut [f64; DOT_LANES]) {
        let mut s = [_mm512_setzero_pd(); 2];
        for (x, y) in a.chunks_exact(DOT_LANES).zip(b.chunks_exact(DOT_LANES)) {
            for (j, sj) in s.iter_mut().enumerate() {
                // SAFETY: each chunk holds 16 f64, read unaligned
                let p = unsafe {
                    _mm512_mul_pd(
                        _mm512_loadu_pd(x.as_ptr().add(8 * j)),
                        _mm512_loadu_pd(y.as_ptr().add(8 * j)),
                    )
                };
                *sj = _mm512_add_pd(*sj, p);
            }
        }
        for (j, sj) in s.iter().enumerate() {
            // SAFETY: acc holds 16 f64
            unsafe { _mm512_storeu_pd(acc.as_mut_ptr().add(8 * j), *sj) };
        }
    }

    /// [`super::dot_partial`] in four 4-lane registers.
    #[target_feature(enable = "avx")]
    pub(super) fn dot_avx(a: &[f64], b: &[f64], acc: &mut [f64; DOT_LANES]) {
        let mut s = [_mm256_setzero_pd(); 4];
        for (x, y) in a.chunks_exact(DOT_LANES).zip(b.chunks_exact(DOT_LANES)) {
            for (j, sj) in s.iter_mut().enumerate() {
                // SAFETY: each chunk holds 16 f64, read unaligned
                let p = unsafe {
                    _mm256_mul_pd(
                        _mm256_loadu_pd(x.as_ptr().add(4 * j)),
                        _mm256_loadu_pd(y.as_ptr().add(4 * j)),
                    )
                };
                *sj = _mm256_add_pd(*sj, p);
            }
        }
        for (j, sj) in s.iter().enumerate() {
            // SAFETY: acc holds 16 f64
            unsafe { _mm256_storeu_pd(acc.as_mut_ptr().add(4 * j), *sj) };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The loops fuse a b + c where the CPU can; the scalar kernels do not
    /// (they serve baseline code): the two agree to an ulp, and every
    /// vector width gives the bits of the portable fused loop.
    #[test]
    fn vector_paths_give_the_bits_of_the_portable_loops() {
        let x: Vec<f64> = (0..1001).map(|i| -700.0 + 1.4 * i as f64 + 0.123).collect();
        let (mut e, mut sn, mut cs) = (vec![0.0; x.len()], vec![0.0; x.len()], vec![0.0; x.len()]);
        exp_slice(&x, &mut e);
        sin_cos_slice(&x, &mut sn, &mut cs);
        for i in 0..x.len() {
            assert!(ulps(e[i], exp(x[i])) <= 1.0, "exp({})", x[i]);
            let (s, c) = sin_cos(x[i]);
            assert!(
                (sn[i] - s).abs().max((cs[i] - c).abs()) <= 2.0 * f64::EPSILON,
                "sin_cos({})",
                x[i]
            );
        }
        // the portable build of the same loops, fused as the vector paths are
        let (mut e2, mut sn2, mut cs2) =
            (vec![0.0; x.len()], vec![0.0; x.len()], vec![0.0; x.len()]);
        exp_slice_body::<true>(&x, &mut e2);
        sin_cos_slice_body::<true>(&x, &mut sn2, &mut cs2);
        assert!(e.iter().zip(&e2).all(|(a, b)| a.to_bits() == b.to_bits()));
        assert!(
            sn.iter()
                .zip(&sn2)
                .chain(cs.iter().zip(&cs2))
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        // the one-pass damped cosine is the product of the two loops
        let t: Vec<f64> = (0..517)
            .map(|i| -20.0 + 4.1 * i as f64 + 0.01 * (i % 7) as f64)
            .collect();
        let (w, g) = (0.0585, 1.0 / 150.0);
        let (mut c1, mut s1) = (vec![0.0; t.len()], vec![0.0; t.len()]);
        damped_sin_cos_body::<true>(w, &t, |t| -g * t, &mut c1, &mut s1);
        for (i, &ti) in t.iter().enumerate() {
            let (s, c) = sin_cos_quadrant::<true>(w * ti);
            let e = exp_lane::<true>(-g * ti);
            assert_eq!((c1[i], s1[i]), (c * e, s * e), "at {ti}");
        }
    }

    /// k rotations by b give cos and sin of a + k b (error growing like k
    /// ulp), with the bits of the portable loop.
    #[test]
    fn rotation_steps_give_the_angle_sums() {
        let a: Vec<f64> = (0..333).map(|i| 0.37 * i as f64 - 5.0).collect();
        let b: Vec<f64> = (0..333).map(|i| 0.011 * i as f64 + 0.002).collect();
        let (mut c, mut s): (Vec<f64>, Vec<f64>) = a.iter().map(|x| (x.cos(), x.sin())).unzip();
        let (rc, rs): (Vec<f64>, Vec<f64>) = b.iter().map(|x| (x.cos(), x.sin())).unzip();
        let (mut c2, mut s2) = (c.clone(), s.clone());
        for _ in 0..200 {
            rotate(&mut c, &mut s, &rc, &rs);
            rotate_body::<false>(&mut c2, &mut s2, &rc, &rs);
        }
        for i in 0..a.len() {
            let x = a[i] + 200.0 * b[i];
            assert!(
                (c[i] - x.cos()).abs() < 1e-12 && (s[i] - x.sin()).abs() < 1e-12,
                "at {i}"
            );
            assert_eq!(
                (c[i].to_bits(), s[i].to_bits()),
                (c2[i].to_bits(), s2[i].to_bits())
            );
        }
    }

    /// Every dot product path gives the bits of the portable one, and the
    /// value of an exact sum.
    #[test]
    fn dot16_gives_the_same_bits_on_every_path() {
        for n in [0, 1, 15, 16, 17, 387, 1000] {
            let a: Vec<f64> = (0..n)
                .map(|i| ((i * 37 % 101) as f64 - 50.0) / 8.0)
                .collect();
            let b: Vec<f64> = (0..n)
                .map(|i| ((i * 53 % 97) as f64 - 48.0) / 4.0)
                .collect();
            // small integers over powers of two: the exact sum is representable
            let exact: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert_eq!(dot16(&a, &b), exact, "n = {n}");
            assert_eq!(dot(&a, &b), exact, "n = {n}");
            let full = n - n % DOT_LANES;
            let mut acc = [0.0; DOT_LANES];
            for (x, y) in a[..full].chunks_exact(16).zip(b[..full].chunks_exact(16)) {
                for k in 0..DOT_LANES {
                    acc[k] += x[k] * y[k];
                }
            }
            let mut fast = [0.0; DOT_LANES];
            dot_partial(&a[..full], &b[..full], &mut fast);
            assert!(
                acc.iter()
                    .zip(&fast)
                    .all(|(u, v)| u.to_bits() == v.to_bits())
            );
        }
        // a sum that is not exact: every path rounds the same way
        let a: Vec<f64> = (0..387).map(|i| (0.37 * i as f64).sin()).collect();
        let b: Vec<f64> = (0..387).map(|i| (0.11 * i as f64).cos()).collect();
        let mut acc = [0.0; DOT_LANES];
        let mut fast = [0.0; DOT_LANES];
        for (x, y) in a[..384].chunks_exact(16).zip(b[..384].chunks_exact(16)) {
            for k in 0..DOT_LANES {
                acc[k] += x[k] * y[k];
            }
        }
        dot_partial(&a[..384], &b[..384], &mut fast);
        assert!(
            acc.iter()
                .zip(&fast)
                .all(|(u, v)| u.to_bits() == v.to_bits())
        );
    }

    #[test]
    fn damped_rotation_gives_the_direct_values_on_a_uniform_grid() {
        for (m, t0, h, w, g) in [
            (1000, -3.0, 2.0, 0.0585, 1.0 / 150.0),
            (487, 0.0, 4.1, 0.3, 1e-5),
            (70, 10.0, 1.0, 1.7, 2.0), // decays into underflow
            (5, 0.0, 1.0, 0.02, 0.01),
        ] {
            let x: Vec<f64> = (0..m).map(|i| t0 + i as f64 * h).collect();
            assert_eq!(
                uniform_grid(&x),
                Some((t0, (x[m - 1] - t0) / (m - 1) as f64))
            );
            let (mut c, mut s) = (vec![0.0; m], vec![0.0; m]);
            damped_rotation_body::<true>(t0, h, w, g, &mut c, &mut s);
            for (i, &t) in x.iter().enumerate() {
                let e = (-g * t).exp();
                let (s0, c0) = (w * t).sin_cos();
                // 7 rotation steps of about an ulp each, plus the rounding of
                // the direct argument w t itself (|w t| eps in the phase)
                let tol = (16.0 + 2.0 * (w * t).abs()) * f64::EPSILON * e.max(f64::MIN_POSITIVE);
                assert!(
                    (c[i] - c0 * e).abs() <= tol,
                    "cos at {t}: {} vs {}",
                    c[i],
                    c0 * e
                );
                assert!(
                    (s[i] - s0 * e).abs() <= tol,
                    "sin at {t}: {} vs {}",
                    s[i],
                    s0 * e
                );
            }
        }
        let mut jittered: Vec<f64> = (0..100).map(|i| i as f64).collect();
        jittered[40] += 1e-6;
        assert_eq!(uniform_grid(&jittered), None);
        assert_eq!(uniform_grid(&[1.0, 1.0]), None);
    }

    fn ulps(a: f64, b: f64) -> f64 {
        if a == b {
            return 0.0;
        }
        (a - b).abs() / (f64::EPSILON * b.abs().max(f64::MIN_POSITIVE))
    }

    #[test]
    fn exp_agrees_with_std() {
        let mut worst: f64 = 0.0;
        let mut x = -708.0;
        while x < 709.0 {
            worst = worst.max(ulps(exp(x), x.exp()));
            x += 0.0137;
        }
        assert!(worst <= 4.0, "exp worst {worst} ulp");
        assert_eq!(exp(-800.0), 0.0);
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(800.0).is_infinite() && exp(f64::NAN).is_nan());
    }

    #[test]
    fn sin_cos_agree_with_std() {
        let mut worst: f64 = 0.0;
        let mut x = -2000.0;
        while x < 2000.0 {
            let (s, c) = sin_cos(x);
            let (s0, c0) = x.sin_cos();
            // absolute error in units of eps: sin and cos are bounded by 1
            worst = worst.max((s - s0).abs().max((c - c0).abs()) / f64::EPSILON);
            x += 0.00731;
        }
        assert!(worst <= 4.0, "sin_cos worst {worst} eps");
        assert_eq!(sin_cos(1e7), 1e7f64.sin_cos());
    }

    #[test]
    fn slice_versions_give_the_scalar_values() {
        let x: Vec<f64> = (0..4001).map(|i| -2000.0 + i as f64 * 0.9973).collect();
        let (mut s, mut c) = (vec![0.0; x.len()], vec![0.0; x.len()]);
        sin_cos_slice(&x, &mut s, &mut c);
        for (i, v) in x.iter().enumerate() {
            let (s0, c0) = sin_cos(*v);
            assert!(
                (s[i] - s0).abs().max((c[i] - c0).abs()) <= 2.0 * f64::EPSILON,
                "sin_cos({v})"
            );
        }
        // the fallback when an argument is out of the reduction's range
        let y = [0.5, 2e6, f64::NAN];
        let (mut s, mut c) = ([0.0; 3], [0.0; 3]);
        sin_cos_slice(&y, &mut s, &mut c);
        assert_eq!((s[1], c[1]), 2e6f64.sin_cos());
        assert!(s[2].is_nan() && c[2].is_nan());
        let e: Vec<f64> = (0..3000).map(|i| -720.0 + i as f64 * 0.4811).collect();
        let mut out = vec![0.0; e.len()];
        exp_slice(&e, &mut out);
        for (i, v) in e.iter().enumerate() {
            assert!(ulps(out[i], exp(*v)) <= 1.0, "exp({v})");
        }
        let mut sp = [0.0; 3];
        exp_slice(&[-800.0, 800.0, f64::NAN], &mut sp);
        assert!(sp[0] == 0.0 && sp[1].is_infinite() && sp[2].is_nan());
    }
}
