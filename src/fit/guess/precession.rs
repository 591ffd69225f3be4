//! Start values for damped cosines.
//!
//! For fixed frequencies and dephasing times the model is linear in the
//! amplitudes (and, with phases, in S cos phi and S sin phi), the offset and
//! the exponential's amplitude. The Gram matrix of basis functions
//! cos(omega_j t) exp(-t/T2) over a frequency grid is computed once; every
//! pair of grid frequencies is then scored by solving its small normal
//! equations. The best pairs, and the FFT peaks, seed Levenberg-Marquardt.

use crate::fit::fastmath::{exp, rotate, sin_cos_slice};
use crate::fit::model::Model;
use crate::fit::params::Params;
use crate::fit::precession::{Envelope, Precession};
use crate::fit::spectrum::Spectrum;
use crate::fit::varpro::solve_linear;
use nalgebra::{DMatrix, DVector};
use std::cell::RefCell;

use crate::fit::fastmath::dot;

/// At most this many basis columns are scored on the stack ([`Factor`]):
/// scoring thousands of frequency pairs must not allocate.
const SMALL: usize = 8;

/// The Cholesky factor of the normal equations of up to [`SMALL`] basis
/// columns, grown a column at a time (row by row: L L^T = G, L z = r over
/// the columns in, chi^2 = y.y - |z|^2) and copied, so the pairs that
/// share a first frequency share its rows.
#[derive(Clone, Copy)]
struct Factor {
    l: [[f64; SMALL]; SMALL],
    /// 1 / L_ii: a multiplication where the factor needs a division
    inv: [f64; SMALL],
    z: [f64; SMALL],
    cols: [usize; SMALL],
    k: usize,
}

impl Factor {
    fn new() -> Factor {
        Factor {
            l: [[0.0; SMALL]; SMALL],
            inv: [0.0; SMALL],
            z: [0.0; SMALL],
            cols: [0; SMALL],
            k: 0,
        }
    }
    /// Add Gram column `c`; false (the factor unchanged) when it is
    /// numerically dependent on the columns in, or the factor is full.
    fn push(&mut self, gram: &DMatrix<f64>, rhs: &DVector<f64>, c: usize) -> bool {
        let i = self.k;
        if i == SMALL {
            return false;
        }
        let l = &mut self.l;
        // the rows in order, each with the same sums as one written out
        for j in 0..i {
            let (done, row) = l.split_at_mut(i);
            let v = gram[(c, self.cols[j])] - mult_sum(&row[0][..j], &done[j][..j]);
            row[0][j] = v * self.inv[j];
        }
        let row = &l[i][..i];
        let v = gram[(c, c)] - mult_sum(row, row);
        if v <= 1e-14 * gram[(c, c)].abs().max(f64::MIN_POSITIVE) {
            return false;
        }
        l[i][i] = v.sqrt();
        self.inv[i] = 1.0 / l[i][i];
        let v = rhs[c] - mult_sum(&l[i][..i], &self.z[..i]);
        self.z[i] = v * self.inv[i];
        self.cols[i] = c;
        self.k += 1;
        true
    }
    /// Add every column of `cs`; false when one is dependent.
    #[inline]
    fn extend(&mut self, gram: &DMatrix<f64>, rhs: &DVector<f64>, cs: &[usize]) -> bool {
        cs.iter().all(|&c| self.push(gram, rhs, c))
    }
    fn chi2(&self, yy: f64) -> f64 {
        yy - self.z[..self.k].iter().map(|v| v * v).sum::<f64>()
    }
}

/// sum a_q b_q, in order (a handful of terms: no vector unit helps).
#[inline(always)]
fn mult_sum(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).fold(0.0, |s, (x, y)| s + x * y)
}

/// chi^2 of the least-squares solution on the chosen basis columns; None
/// when they are not independent (the ranking's factor, checked against
/// the full solve).
#[cfg(test)]
fn score(gram: &DMatrix<f64>, rhs: &DVector<f64>, yy: f64, cols: &[usize]) -> Option<f64> {
    if cols.len() > SMALL {
        return solve(gram, rhs, yy, cols).map(|s| s.1);
    }
    let mut f = Factor::new();
    f.extend(gram, rhs, cols).then(|| f.chi2(yy))
}

/// Solve the normal equations for the chosen basis columns; returns
/// (coefficients, chi^2) or None when singular.
#[cfg(test)]
fn solve(
    gram: &DMatrix<f64>,
    rhs: &DVector<f64>,
    yy: f64,
    cols: &[usize],
) -> Option<(Vec<f64>, f64)> {
    let k = cols.len();
    let g = DMatrix::from_fn(k, k, |a, b| gram[(cols[a], cols[b])]);
    let r = DVector::from_fn(k, |a, _| rhs[cols[a]]);
    let c = g.cholesky()?.solve(&r);
    let chi = yy - c.dot(&r);
    Some((c.iter().copied().collect(), chi))
}

/// Set the linear parameters of `p` (amplitudes, phases, exponential
/// amplitude, offset) to their least-squares values for the current
/// frequencies, dephasing times and exponential lifetime: the model's own
/// basis, solved as variable projection does ([`solve_linear`]). Returns
/// chi^2, or None when the basis is not of full rank there.
pub fn linear_amplitudes(model: &Precession, p: &mut Params, t: &[f64], y: &[f64]) -> Option<f64> {
    solve_linear(model, p, t, y)
}

/// The frequency-grid normal equations of one trace, computed once and
/// shared by every candidate model: the basis holds the cosine and sine of
/// each grid frequency and both extra terms, and a model scores the columns
/// it uses (no sine without phases, no exponential or offset unless it has
/// them).
pub struct StartGrid {
    omegas: Vec<f64>,
    step: f64,
    peaks: Vec<(f64, f64)>,
    tmax: f64,
    decay_tau: f64,
    /// Per dephasing time: (T2, Gram matrix, J^T y) with columns: the
    /// cosine (and sine) of each grid frequency, then the extra terms.
    grams: Vec<(f64, DMatrix<f64>, DVector<f64>)>,
    yy: f64,
    nb: usize,
    /// Seeds ranked so far, per shape (they depend on the columns a model
    /// scores, not on its envelope): the ladder asks again for every
    /// candidate whose parent's optimum does not converge.
    ranked: RefCell<Vec<Ranked>>,
}

/// Grid points ranked before the distinct seeds are picked (more are
/// sorted only when these hold too few distinct ones).
const RANK_HEAD: usize = 256;

/// A model's shape as the grid scores it: cosines, phases, exponential,
/// offset.
type Shape = (usize, bool, bool, bool);

/// Seeds of one shape, best first: (omegas, T2); `asked` seeds were
/// wanted (fewer exist when the grid ran out).
struct Ranked {
    shape: Shape,
    asked: usize,
    seeds: Vec<(Vec<f64>, f64)>,
}

impl StartGrid {
    /// Build the grid of one trace.
    pub fn new(t: &[f64], y: &[f64], spec: &Spectrum) -> StartGrid {
        let span = (t[t.len() - 1] - t[0]).max(1e-9);
        let tmax = t[t.len() - 1].max(span);
        let peaks = spec.peaks(0.5 * spec.resolution);
        let top = peaks.first().map_or(4.0 * spec.resolution, |p| p.0);
        // frequency grid: a quarter resolution step up to twice the top peak
        let step = spec.resolution / 4.0;
        let wmax = (2.2 * top).max(peaks.iter().take(3).map(|p| p.0).fold(0.0, f64::max) * 1.2);
        let nw = ((wmax / step) as usize).clamp(8, 64);
        let omegas: Vec<f64> = (1..=nw).map(|i| i as f64 * wmax / nw as f64).collect();
        let decay_tau = span / 3.0;
        let grams = [tmax / 6.0, tmax / 2.0]
            .into_iter()
            .map(|t2| {
                let (gram, rhs) = grid_gram(t, y, wmax / nw as f64, nw, t2, decay_tau);
                (t2, gram, rhs)
            })
            .collect();
        let nb = 2 * nw;
        StartGrid {
            omegas,
            step,
            peaks,
            tmax,
            decay_tau,
            grams,
            yy: dot(y, y),
            nb,
            ranked: RefCell::new(vec![]),
        }
    }

    /// Start value of a non-oscillating exponential's lifetime (ps).
    pub fn decay_tau(&self) -> f64 {
        self.decay_tau
    }

    /// Candidate start points for `model` (1 or 2 cosines), best first.
    pub fn starts(
        &self,
        model: &Precession,
        t: &[f64],
        y: &[f64],
        max_starts: usize,
    ) -> Vec<Params> {
        let shape = (model.n_cos, model.phase, model.decay, model.offset);
        let known = self.ranked.borrow().iter().find_map(|r| {
            (r.shape == shape && (r.asked >= max_starts || r.seeds.len() < r.asked))
                .then(|| r.seeds[..max_starts.min(r.seeds.len())].to_vec())
        });
        let seeds = known.unwrap_or_else(|| {
            let seeds = self.rank(model, max_starts);
            let mut ranked = self.ranked.borrow_mut();
            ranked.retain(|r| r.shape != shape);
            ranked.push(Ranked {
                shape,
                asked: max_starts,
                seeds: seeds.clone(),
            });
            seeds
        });
        seeds
            .into_iter()
            .map(|(w, t2)| {
                let mut p = model.template();
                for (k, wk) in w.iter().enumerate() {
                    p.0.iter_mut()
                        .find(|q| q.name == model.pname("omega", k))
                        .unwrap()
                        .value = *wk;
                    // the grid's T2 is an exponential envelope's, taken
                    // as is by the others but split by the Voigt one
                    let (t2, sig) = if model.voigt() {
                        Envelope::Exponential.restart(t2, 0.0, Envelope::Voigt)
                    } else {
                        (t2, 0.0)
                    };
                    for (name, v) in [("t2", t2), ("sigma_w", sig)] {
                        if let Ok(q) = p.get_mut(&model.pname(name, k)) {
                            q.value = v;
                        }
                    }
                }
                if model.decay {
                    p.0.iter_mut()
                        .find(|q| q.name == "decay_tau")
                        .unwrap()
                        .value = self.decay_tau;
                }
                linear_amplitudes(model, &mut p, t, y);
                p
            })
            .collect()
    }

    /// The best `max_starts` distinct (omegas, T2) of the grid for
    /// `model`'s shape: the FFT's top peaks first, then by chi-square.
    fn rank(&self, model: &Precession, max_starts: usize) -> Vec<(Vec<f64>, f64)> {
        let per = 1 + model.phase as usize;
        // (chi2, omegas, t2)
        let mut scored: Vec<(f64, [f64; 2], f64)> = vec![];
        // the grid's columns: cos, sin per frequency, then exponential, offset
        let mut extra: Vec<usize> = vec![];
        if model.decay {
            extra.push(self.nb);
        }
        if model.offset {
            extra.push(self.nb + 1);
        }
        let om = &self.omegas;
        let cols_of = |w: usize| [2 * w, 2 * w + 1];
        for (t2, gram, rhs) in &self.grams {
            if model.n_cos == 1 {
                for (a, &wa) in om.iter().enumerate() {
                    let mut f = Factor::new();
                    if f.extend(gram, rhs, &cols_of(a)[..per]) && f.extend(gram, rhs, &extra) {
                        scored.push((f.chi2(self.yy), [wa, f64::NAN], *t2));
                    }
                }
                continue;
            }
            // the higher frequency's columns first, shared by its pairs
            for b in 2..om.len() {
                let mut fb = Factor::new();
                if !fb.extend(gram, rhs, &cols_of(b)[..per]) {
                    continue;
                }
                for a in 0..b - 1 {
                    let mut f = fb;
                    if f.extend(gram, rhs, &cols_of(a)[..per]) && f.extend(gram, rhs, &extra) {
                        scored.push((f.chi2(self.yy), [om[b], om[a]], *t2));
                    }
                }
            }
        }
        // the best few hundred ranked first (a full sort of thousands of
        // pairs is most of the ranking); the rest only if they are needed
        let head = RANK_HEAD.min(scored.len());
        if head < scored.len() {
            scored.select_nth_unstable_by(head, |a, b| a.0.total_cmp(&b.0));
        }
        scored[..head].sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
        let mut tail_sorted = head == scored.len();
        let mut seeds: Vec<(Vec<f64>, f64)> = vec![];
        // the FFT's own top peaks first, then the best distinct grid points
        let peaks = &self.peaks;
        if model.n_cos == 2 && peaks.len() >= 2 {
            let (a, b) = (peaks[0].0.max(peaks[1].0), peaks[0].0.min(peaks[1].0));
            seeds.push((vec![a, b], self.tmax / 3.0));
        } else if model.n_cos == 1 && !peaks.is_empty() {
            seeds.push((vec![peaks[0].0], self.tmax / 3.0));
        }
        for i in 0..scored.len() {
            if seeds.len() >= max_starts {
                break;
            }
            if i == head && !tail_sorted {
                scored[head..].sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
                tail_sorted = true;
            }
            let (_, w, t2) = scored[i];
            let w = w[..model.n_cos].to_vec();
            if seeds.iter().all(|(s, _)| {
                s.iter()
                    .zip(&w)
                    .any(|(a, b)| (a - b).abs() > 1.5 * self.step)
            }) {
                seeds.push((w, t2));
            }
        }
        seeds
    }
}

/// The grid's Gram matrix and right-hand side at dephasing time `t2`: the
/// columns are cos(k d t) E and sin(k d t) E for k = 1..=nw (E = exp(-t/T2),
/// d the frequency step in rad/ns), then exp(-t / tau_d) and 1.
///
/// The frequencies are multiples of one step, so by cos A cos B =
/// (cos(A-B) + cos(A+B))/2, sin A sin B = (cos(A-B) - cos(A+B))/2 and
/// cos A sin B = (sin(A+B) - sin(A-B))/2 every entry is a sum or difference
/// of the O(nw) sums C_k = sum_t cos(k d t) E^2, S_k = sum_t sin(k d t) E^2
/// (k = 0..=2 nw), and the extra columns' products are sums of the same
/// kind. cos(k d t) and sin(k d t) come by rotation from k - 1 (error
/// growing like k ulp, 2 nw <= 128). O(nw m) work instead of the matrix
/// product's O(nw^2 m).
fn grid_gram(
    t: &[f64],
    y: &[f64],
    d: f64,
    nw: usize,
    t2: f64,
    decay_tau: f64,
) -> (DMatrix<f64>, DVector<f64>) {
    let m = t.len();
    let e: Vec<f64> = t.iter().map(|&x| exp(-x / t2)).collect();
    let ed: Vec<f64> = t.iter().map(|&x| (-x / decay_tau).exp()).collect();
    // weights of the sums: E^2, E exp(-t/tau_d), E, E y
    let w2: Vec<f64> = e.iter().map(|v| v * v).collect();
    let wd: Vec<f64> = e.iter().zip(&ed).map(|(a, b)| a * b).collect();
    let wy: Vec<f64> = e.iter().zip(y).map(|(a, b)| a * b).collect();
    let arg: Vec<f64> = t.iter().map(|&x| d * x * 1e-3).collect();
    let (mut s1, mut c1) = (vec![0.0; m], vec![0.0; m]);
    sin_cos_slice(&arg, &mut s1, &mut c1);
    let (mut c, mut s) = (vec![1.0; m], vec![0.0; m]);
    let kmax = 2 * nw;
    let (mut c2, mut s2) = (vec![0.0; kmax + 1], vec![0.0; kmax + 1]);
    // per k <= nw: [cos, sin] x [E exp(-t/tau_d), E, E y]
    let mut low = vec![[0.0f64; 6]; nw + 1];
    for k in 0..=kmax {
        if k > 0 {
            rotate(&mut c, &mut s, &c1, &s1);
        }
        c2[k] = dot(&c, &w2);
        s2[k] = dot(&s, &w2);
        if k <= nw {
            low[k] = [
                dot(&c, &wd),
                dot(&s, &wd),
                dot(&c, &e),
                dot(&s, &e),
                dot(&c, &wy),
                dot(&s, &wy),
            ];
        }
    }
    let nb = 2 * nw;
    let mut g = DMatrix::zeros(nb + 2, nb + 2);
    let mut r = DVector::zeros(nb + 2);
    for a in 0..nw {
        let ka = a + 1;
        for b in 0..nw {
            let kb = b + 1;
            let (dk, sk) = (ka.abs_diff(kb), ka + kb);
            let sg = if ka > kb {
                1.0
            } else if ka < kb {
                -1.0
            } else {
                0.0
            };
            g[(2 * a, 2 * b)] = 0.5 * (c2[dk] + c2[sk]);
            g[(2 * a + 1, 2 * b + 1)] = 0.5 * (c2[dk] - c2[sk]);
            g[(2 * a, 2 * b + 1)] = 0.5 * (s2[sk] - sg * s2[dk]);
            g[(2 * a + 1, 2 * b)] = 0.5 * (s2[sk] + sg * s2[dk]);
        }
        let l = &low[ka];
        for (row, (vd, vo)) in [(2 * a, (l[0], l[2])), (2 * a + 1, (l[1], l[3]))] {
            g[(row, nb)] = vd;
            g[(nb, row)] = vd;
            g[(row, nb + 1)] = vo;
            g[(nb + 1, row)] = vo;
        }
        r[2 * a] = l[4];
        r[2 * a + 1] = l[5];
    }
    g[(nb, nb)] = dot(&ed, &ed);
    g[(nb, nb + 1)] = ed.iter().sum();
    g[(nb + 1, nb)] = g[(nb, nb + 1)];
    g[(nb + 1, nb + 1)] = m as f64;
    r[nb] = dot(&ed, y);
    r[nb + 1] = y.iter().sum();
    (g, r)
}

/// Candidate start points for `model` (1 or 2 cosines), best first.
/// `t` in ps from the pump, ascending; `spec` is the trace's spectrum.
pub fn precession_starts(
    model: &Precession,
    t: &[f64],
    y: &[f64],
    spec: &Spectrum,
    max_starts: usize,
) -> Vec<Params> {
    StartGrid::new(t, y, spec).starts(model, t, y, max_starts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::fastmath::sin_cos;

    /// Basis functions of one cosine at (omega, t2): cos, and sin with phases.
    fn basis(model: &Precession, omega: f64, t2: f64, t: &[f64]) -> Vec<Vec<f64>> {
        let (mut c, mut s) = (Vec::with_capacity(t.len()), Vec::with_capacity(t.len()));
        for &x in t {
            let (sn, cs) = sin_cos(omega * x * 1e-3);
            let e = exp(model.envelope.arg(x, t2));
            c.push(cs * e);
            s.push(sn * e);
        }
        if model.phase { vec![c, s] } else { vec![c] }
    }

    fn extras(model: &Precession, decay_tau: f64, t: &[f64]) -> Vec<Vec<f64>> {
        let mut v = vec![];
        if model.decay {
            v.push(t.iter().map(|&x| (-x / decay_tau).exp()).collect());
        }
        if model.offset {
            v.push(vec![1.0; t.len()]);
        }
        v
    }

    #[test]
    fn grid_gram_by_trigonometric_sums_equals_the_matrix_product() {
        // jittered delays: the identities hold for any delay grid
        let t: Vec<f64> = (0..300)
            .map(|i| i as f64 * 5.0 + (i as f64 * 0.7).sin())
            .collect();
        let y: Vec<f64> = t
            .iter()
            .map(|x| (0.04 * x).cos() * (-x / 400.0).exp())
            .collect();
        let (d, nw, t2, tau) = (1.3, 40, 250.0, 500.0);
        let (g, r) = grid_gram(&t, &y, d, nw, t2, tau);
        let shape = Precession {
            n_cos: 1,
            phase: true,
            decay: true,
            offset: true,
            envelope: Default::default(),
            repetition: None,
        };
        let mut cols = vec![];
        for k in 1..=nw {
            cols.extend(basis(&shape, k as f64 * d, t2, &t));
        }
        cols.extend(extras(&shape, tau, &t));
        let basis = DMatrix::from_fn(t.len(), cols.len(), |i, j| cols[j][i]);
        let direct = basis.tr_mul(&basis);
        let rhs = basis.tr_mul(&DVector::from_column_slice(&y));
        let scale = direct.amax();
        assert!(
            (&g - &direct).amax() < 1e-11 * scale,
            "{}",
            (&g - &direct).amax()
        );
        assert!((&r - &rhs).amax() < 1e-11 * rhs.amax());
    }

    #[test]
    fn seeds_asked_again_are_those_of_a_fresh_grid() {
        let t: Vec<f64> = (0..300)
            .map(|i| i as f64 * 4.0 + 0.3 * (i as f64).sin())
            .collect();
        let y: Vec<f64> = t
            .iter()
            .map(|x| (0.05 * x).cos() * (-x / 300.0).exp() + 0.6 * (0.031 * x).cos())
            .collect();
        let spec = crate::fit::spectrum::spectrum(&t, &y);
        let m = Precession {
            n_cos: 2,
            phase: true,
            decay: false,
            offset: false,
            envelope: Default::default(),
            repetition: None,
        };
        let voigt = Precession {
            envelope: Envelope::Voigt,
            ..m
        };
        let grid = StartGrid::new(&t, &y, &spec);
        let values = |ps: Vec<Params>| ps.iter().map(Params::values).collect::<Vec<_>>();
        let four = values(grid.starts(&m, &t, &y, 4));
        assert_eq!(four.len(), 4);
        // fewer, or another envelope of the same shape, from the ranking kept
        for (model, n) in [(m, 2), (m, 4), (voigt, 3), (m, 6)] {
            let again = values(grid.starts(&model, &t, &y, n));
            let fresh = values(StartGrid::new(&t, &y, &spec).starts(&model, &t, &y, n));
            assert_eq!(again, fresh, "{} starts of {}", n, model.name());
        }
        assert_eq!(values(grid.starts(&m, &t, &y, 2))[..], four[..2]);
    }

    #[test]
    fn stack_score_equals_the_full_solve() {
        let t: Vec<f64> = (0..200).map(|i| i as f64 * 7.0).collect();
        let y: Vec<f64> = t
            .iter()
            .map(|x| (0.05 * x).cos() * (-x / 300.0).exp() + 0.01 * (x * 0.37).sin())
            .collect();
        let m = Precession {
            n_cos: 2,
            phase: true,
            decay: true,
            offset: true,
            envelope: Default::default(),
            repetition: None,
        };
        let mut cols = basis(&m, 50.0, 300.0, &t);
        cols.extend(basis(&m, 20.0, 300.0, &t));
        cols.extend(extras(&m, 100.0, &t));
        let n = cols.len();
        let gram = DMatrix::from_fn(n, n, |a, b| dot(&cols[a], &cols[b]));
        let rhs = DVector::from_fn(n, |a, _| dot(&cols[a], &y));
        let idx: Vec<usize> = (0..n).collect();
        let (full, fast) = (
            solve(&gram, &rhs, dot(&y, &y), &idx).unwrap().1,
            score(&gram, &rhs, dot(&y, &y), &idx).unwrap(),
        );
        assert!(
            (full - fast).abs() <= 1e-9 * dot(&y, &y),
            "{full} vs {fast}"
        );
    }
}
