//! Exact interventional Shapley values of an RBF kernel expansion
//! (the SVR) without enumerating coalitions.
//!
//! f(x) = scale (sum_s c_s exp(-gamma |sv_s - z(x)|^2) + b) + offset, and
//! exp(-gamma |sv - z|^2) = prod_j exp(-gamma (sv_j - z_j)^2): for one
//! support vector s and one background row, the coalition game is the
//! product game v(S) = prod_{j in S} a_j prod_{j not in S} e_j, with
//! a_j = exp(-gamma (sv_j - z(x)_j)^2) and e_j the same for the background
//! row. Its Shapley values are
//! phi_i = (a_i - e_i) sum_{S in F\\{i}} |S|! (p-|S|-1)! / p! prod_{j in S} a_j
//! prod_{j not in S u {i}} e_j. The weight is a Beta integral,
//! k! (p-k-1)! / p! = int_0^1 t^k (1-t)^(p-1-k) dt, so the sum is
//! phi_i = (a_i - e_i) int_0^1 prod_{j != i} ((1-t) e_j + t a_j) dt,
//! the integral of a polynomial of degree p-1 in t: Gauss-Legendre with
//! ceil(p/2) nodes gives it exactly. Every factor is positive, so nothing
//! cancels; the products without feature i come from prefix and suffix
//! products. Cost O(p^2) per (support vector, background row) instead of
//! 2^p model calls, laid out so that the background rows of a block are
//! the vector lanes.

/// An RBF kernel expansion on standardised inputs z = (x - mean) / sd.
pub struct RbfExpansion {
    pub sv: Vec<Vec<f64>>,
    pub coef: Vec<f64>,
    pub b: f64,
    pub gamma: f64,
    pub mean: Vec<f64>,
    pub sd: Vec<f64>,
    pub scale: f64,
    pub offset: f64,
}

/// e_j = exp(-gamma (sv_j - z(b)_j)^2) of every support vector against
/// every background row b: `e[s][j * nb + b]`; and the quadrature rule for
/// p features, shared by every row explained.
pub struct BackgroundFactors {
    nb: usize,
    e: Vec<Vec<f64>>,
    rule: Vec<(f64, f64)>,
}

impl RbfExpansion {
    fn z(&self, x: &[f64]) -> Vec<f64> {
        x.iter()
            .zip(self.mean.iter().zip(&self.sd))
            .map(|(v, (m, s))| (v - m) / s)
            .collect()
    }
    /// The factors of every support vector and background row.
    pub fn background_factors(&self, background: &[Vec<f64>]) -> BackgroundFactors {
        let nb = background.len();
        let zb: Vec<Vec<f64>> = background.iter().map(|b| self.z(b)).collect();
        let e = self
            .sv
            .iter()
            .map(|sv| {
                let mut e = vec![0.0; sv.len() * nb];
                for (j, s) in sv.iter().enumerate() {
                    for (b, z) in zb.iter().enumerate() {
                        e[j * nb + b] = (-self.gamma * (s - z[j]) * (s - z[j])).exp();
                    }
                }
                e
            })
            .collect();
        let p = self.mean.len();
        BackgroundFactors {
            nb,
            e,
            rule: gauss_legendre01(p.div_ceil(2).max(1)),
        }
    }
}

/// Gauss-Legendre nodes and weights on [0, 1], `n` of them: exact for
/// polynomials of degree up to 2n - 1. Newton's method on the Legendre
/// recurrence (a few lines; no crate is needed for one small rule).
fn gauss_legendre01(n: usize) -> Vec<(f64, f64)> {
    (0..n)
        .map(|k| {
            let mut x = (std::f64::consts::PI * (k as f64 + 0.75) / (n as f64 + 0.5)).cos();
            let mut dp = 1.0;
            for _ in 0..100 {
                let (mut p0, mut p1) = (1.0, x);
                for m in 2..=n {
                    let m = m as f64;
                    (p0, p1) = (p1, ((2.0 * m - 1.0) * x * p1 - (m - 1.0) * p0) / m);
                }
                dp = n as f64 * (x * p1 - p0) / (x * x - 1.0);
                let dx = p1 / dp;
                x -= dx;
                if dx.abs() < 1e-16 {
                    break;
                }
            }
            ((1.0 + x) / 2.0, 1.0 / ((1.0 - x * x) * dp * dp))
        })
        .collect()
}

/// Background rows per block: the vector lanes of [`row`]'s loops.
const BLOCK: usize = 64;

/// Shapley values of row `x` against the background (its factors from
/// [`RbfExpansion::background_factors`]).
pub fn row(m: &RbfExpansion, x: &[f64], bg: &BackgroundFactors) -> Vec<f64> {
    let (p, nb) = (x.len(), bg.nb);
    let zx = m.z(x);
    // per feature i and lane: the sum over support vectors and nodes
    let mut acc = vec![0.0; p * BLOCK];
    let (mut d, mut h) = (vec![0.0; p * BLOCK], vec![0.0; p * BLOCK]);
    let (mut pre, mut suf) = (vec![0.0; (p + 1) * BLOCK], vec![0.0; (p + 1) * BLOCK]);
    let mut a = vec![0.0; p];
    for ((sv, c), es) in m.sv.iter().zip(&m.coef).zip(&bg.e) {
        for ((aj, s), z) in a.iter_mut().zip(sv).zip(&zx) {
            *aj = (-m.gamma * (s - z) * (s - z)).exp();
        }
        for b0 in (0..nb).step_by(BLOCK) {
            let w = (nb - b0).min(BLOCK);
            let lanes = |j: usize| j * BLOCK..j * BLOCK + w;
            let e_of = |j: usize| &es[j * nb + b0..j * nb + b0 + w];
            for (j, aj) in a.iter().enumerate() {
                for (dv, ev) in d[lanes(j)].iter_mut().zip(e_of(j)) {
                    *dv = aj - ev;
                }
            }
            for &(t, wt) in &bg.rule {
                for j in 0..p {
                    let r = lanes(j);
                    for ((hv, ev), dv) in h[r.clone()].iter_mut().zip(e_of(j)).zip(&d[r]) {
                        *hv = ev + dv * t;
                    }
                }
                // pre[j] = prod_{k < j} h_k, suf[j] = prod_{k >= j} h_k
                pre[..w].fill(1.0);
                suf[p * BLOCK..p * BLOCK + w].fill(1.0);
                for j in 0..p {
                    let (lo, hi) = pre.split_at_mut((j + 1) * BLOCK);
                    let hj = &h[lanes(j)];
                    for ((out, prev), hv) in hi[..w].iter_mut().zip(&lo[j * BLOCK..]).zip(hj) {
                        *out = prev * hv;
                    }
                }
                for j in (0..p).rev() {
                    let (lo, hi) = suf.split_at_mut((j + 1) * BLOCK);
                    let hj = &h[lanes(j)];
                    for ((out, next), hv) in lo[lanes(j)].iter_mut().zip(&hi[..w]).zip(hj) {
                        *out = next * hv;
                    }
                }
                let k = c * wt;
                for i in 0..p {
                    let (r, after) = (lanes(i), lanes(i + 1));
                    for (((out, dv), u), v) in acc[r.clone()]
                        .iter_mut()
                        .zip(&d[r.clone()])
                        .zip(&pre[r])
                        .zip(&suf[after])
                    {
                        *out += k * dv * u * v;
                    }
                }
            }
        }
    }
    let k = m.scale / nb.max(1) as f64;
    (0..p)
        .map(|i| acc[i * BLOCK..(i + 1) * BLOCK].iter().sum::<f64>() * k)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With an odd number of features (p = 5, three nodes for a degree-4
    /// integrand) the product form equals enumerating every coalition.
    #[test]
    fn odd_feature_count_equals_enumeration() {
        use crate::ml::Regressor;
        use nalgebra::{DMatrix, DVector};
        let x = DMatrix::from_fn(25, 5, |i, j| {
            ((i * 3 + 1) as f64 * (0.41 + 0.13 * j as f64)).cos()
        });
        let y = DVector::from_fn(25, |i, _| {
            x[(i, 0)] * x[(i, 3)] - x[(i, 1)] + 0.3 * x[(i, 4)]
        });
        let m: crate::ml::ModelSpec = "svr:c=5".parse().unwrap();
        let f = m.fit(&x, &y).unwrap();
        let e = f.rbf().unwrap();
        let bg: Vec<Vec<f64>> = (10..25)
            .map(|i| x.row(i).iter().copied().collect())
            .collect();
        let rows = x.rows(0, 6).into_owned();
        let (want, _) =
            crate::ml::shap::exact(f.as_ref(), &rows, &x.rows(10, 15).into_owned(), &|| {})
                .unwrap();
        let factors = e.background_factors(&bg);
        for r in 0..6 {
            let xr: Vec<f64> = rows.row(r).iter().copied().collect();
            for (i, v) in row(&e, &xr, &factors).iter().enumerate() {
                assert!(
                    (v - want[(r, i)]).abs() < 1e-10,
                    "row {r}, feature {i}: {v} vs {}",
                    want[(r, i)]
                );
            }
        }
        assert!(want.abs().max() > 1e-3);
    }

    /// The rule integrates t^k exactly (1 / (k + 1)) up to degree 2n - 1,
    /// and not at 2n.
    #[test]
    fn gauss_legendre_is_exact_to_degree_2n_minus_1() {
        for n in 1..=12 {
            let rule = gauss_legendre01(n);
            let w: f64 = rule.iter().map(|r| r.1).sum();
            assert!((w - 1.0).abs() < 1e-14, "n {n}: weights sum to {w}");
            for k in 0..2 * n {
                let q: f64 = rule.iter().map(|(t, w)| w * t.powi(k as i32)).sum();
                assert!(
                    (q - 1.0 / (k + 1) as f64).abs() < 1e-14,
                    "n {n}, t^{k}: {q}"
                );
            }
            // the error at degree 2n, (n!)^4 / ((2n+1) ((2n)!)^2), is
            // beyond rounding up to n = 6
            let k = 2 * n as i32;
            let q: f64 = rule.iter().map(|(t, w)| w * t.powi(k)).sum();
            let err = (q - 1.0 / (k + 1) as f64).abs();
            assert!(n > 6 || err > 1e-10, "n {n}: exact at degree {k} ({err:e})");
        }
    }
}
