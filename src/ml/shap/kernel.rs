//! Exact interventional Shapley values of an RBF kernel expansion
//! (the SVR) without enumerating coalitions.
//!
//! f(x) = scale (sum_s c_s exp(-gamma |sv_s - z(x)|^2) + b) + offset, and
//! exp(-gamma |sv - z|^2) = prod_j exp(-gamma (sv_j - z_j)^2): for one
//! support vector s and one background row, the coalition game is the
//! product game v(S) = prod_{j in S} a_j prod_{j not in S} e_j, with
//! a_j = exp(-gamma (sv_j - z(x)_j)^2) and e_j the same for the background
//! row. Its Shapley values are
//! phi_i = (a_i - e_i) sum_k k! (p-k-1)! / p! [t^k] prod_{j != i} (e_j + a_j t),
//! the coefficients read off the polynomial P(t) = prod_j (e_j + a_j t)
//! divided by (e_i + a_i t) (forward or backward synthetic division,
//! whichever divides by the larger of e_i, a_i, so that errors do not
//! grow). Cost O(p^2) per (support vector, background row) instead of
//! 2^p model calls.

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

impl RbfExpansion {
    fn z(&self, x: &[f64]) -> Vec<f64> {
        x.iter()
            .zip(self.mean.iter().zip(&self.sd))
            .map(|(v, (m, s))| (v - m) / s)
            .collect()
    }
    /// e[s][b][j] for every support vector and background row.
    pub fn background_factors(&self, background: &[Vec<f64>]) -> Vec<Vec<Vec<f64>>> {
        let zb: Vec<Vec<f64>> = background.iter().map(|b| self.z(b)).collect();
        self.sv
            .iter()
            .map(|sv| zb.iter().map(|z| factors(self.gamma, sv, z)).collect())
            .collect()
    }
}

fn factors(gamma: f64, sv: &[f64], z: &[f64]) -> Vec<f64> {
    sv.iter()
        .zip(z)
        .map(|(s, v)| (-gamma * (s - v) * (s - v)).exp())
        .collect()
}

/// Coefficients of P(t) / (e + a t), P of degree p.
fn divide(poly: &[f64], e: f64, a: f64, out: &mut [f64]) {
    let p = poly.len() - 1;
    if e >= a {
        out[0] = poly[0] / e;
        for k in 1..p {
            out[k] = (poly[k] - a * out[k - 1]) / e;
        }
    } else {
        out[p - 1] = poly[p] / a;
        for k in (1..p).rev() {
            out[k - 1] = (poly[k] - e * out[k]) / a;
        }
    }
}

/// Shapley values of row `x` against the background (its factors from
/// [`RbfExpansion::background_factors`]).
pub fn row(m: &RbfExpansion, x: &[f64], bg: &[Vec<Vec<f64>>]) -> Vec<f64> {
    let p = x.len();
    let lf: Vec<f64> = (0..=p)
        .scan(0.0, |acc, k| {
            if k > 0 {
                *acc += (k as f64).ln();
            }
            Some(*acc)
        })
        .collect();
    let w: Vec<f64> = (0..p)
        .map(|k| (lf[k] + lf[p - k - 1] - lf[p]).exp())
        .collect();
    let zx = m.z(x);
    let mut phi = vec![0.0; p];
    let mut poly = vec![0.0; p + 1];
    let mut q = vec![0.0; p];
    let nb = bg.first().map_or(0, |b| b.len());
    for ((sv, c), es) in m.sv.iter().zip(&m.coef).zip(bg) {
        let a = factors(m.gamma, sv, &zx);
        for e in es {
            poly.iter_mut().for_each(|v| *v = 0.0);
            poly[0] = 1.0;
            for j in 0..p {
                for k in (1..=j + 1).rev() {
                    poly[k] = poly[k] * e[j] + poly[k - 1] * a[j];
                }
                poly[0] *= e[j];
            }
            for i in 0..p {
                let d = a[i] - e[i];
                if d == 0.0 {
                    continue;
                }
                divide(&poly, e[i], a[i], &mut q);
                let s: f64 = q.iter().zip(&w).map(|(u, v)| u * v).sum();
                phi[i] += c * d * s;
            }
        }
    }
    let k = m.scale / nb.max(1) as f64;
    phi.iter_mut().for_each(|v| *v *= k);
    phi
}
