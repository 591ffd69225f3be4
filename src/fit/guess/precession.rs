//! Start values for damped cosines.
//!
//! For fixed frequencies and dephasing times the model is linear in the
//! amplitudes (and, with phases, in S cos phi and S sin phi), the offset and
//! the exponential's amplitude. The Gram matrix of basis functions
//! cos(omega_j t) exp(-t/T2) over a frequency grid is computed once; every
//! pair of grid frequencies is then scored by solving its small normal
//! equations. The best pairs, and the FFT peaks, seed Levenberg-Marquardt.

use crate::fit::model::Model;
use crate::fit::params::Params;
use crate::fit::precession::Precession;
use crate::fit::spectrum::Spectrum;
use nalgebra::{DMatrix, DVector};

/// Basis functions of one cosine at (omega, t2): cos, and sin with phases.
fn basis(model: &Precession, omega: f64, t2: f64, t: &[f64]) -> Vec<Vec<f64>> {
    let c = t
        .iter()
        .map(|&x| (omega * x * 1e-3).cos() * (-x / t2).exp())
        .collect();
    if model.phase {
        let s = t
            .iter()
            .map(|&x| (omega * x * 1e-3).sin() * (-x / t2).exp())
            .collect();
        vec![c, s]
    } else {
        vec![c]
    }
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

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Solve the normal equations for the chosen basis columns; returns
/// (coefficients, chi^2) or None when singular.
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
/// frequencies, dephasing times and exponential lifetime.
pub fn linear_amplitudes(model: &Precession, p: &mut Params, t: &[f64], y: &[f64]) -> Option<f64> {
    let mut cols: Vec<Vec<f64>> = vec![];
    for k in 0..model.n_cos {
        cols.extend(basis(
            model,
            p.value(&model.pname("omega", k)),
            p.value(&model.pname("t2", k)),
            t,
        ));
    }
    let tau = p.value("decay_tau");
    cols.extend(extras(model, tau, t));
    let n = cols.len();
    let gram = DMatrix::from_fn(n, n, |a, b| dot(&cols[a], &cols[b]));
    let rhs = DVector::from_fn(n, |a, _| dot(&cols[a], y));
    let idx: Vec<usize> = (0..n).collect();
    let (c, chi) = solve(&gram, &rhs, dot(y, y), &idx)?;
    assign(model, p, &c);
    Some(chi)
}

fn assign(model: &Precession, p: &mut Params, c: &[f64]) {
    let per = 1 + model.phase as usize;
    for k in 0..model.n_cos {
        let a = c[k * per];
        if model.phase {
            let b = c[k * per + 1];
            p.0.iter_mut()
                .find(|q| q.name == model.pname("amplitude", k))
                .unwrap()
                .value = a.hypot(b);
            p.0.iter_mut()
                .find(|q| q.name == model.pname("phase", k))
                .unwrap()
                .value = (-b).atan2(a);
        } else {
            p.0.iter_mut()
                .find(|q| q.name == model.pname("amplitude", k))
                .unwrap()
                .value = a;
        }
    }
    let mut j = model.n_cos * per;
    if model.decay {
        p.0.iter_mut()
            .find(|q| q.name == "decay_amplitude")
            .unwrap()
            .value = c[j];
        j += 1;
    }
    if model.offset {
        p.0.iter_mut().find(|q| q.name == "offset").unwrap().value = c[j];
    }
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
    let span = (t[t.len() - 1] - t[0]).max(1e-9);
    let tmax = t[t.len() - 1].max(span);
    let peaks = spec.peaks(0.5 * spec.resolution);
    let top = peaks.first().map_or(4.0 * spec.resolution, |p| p.0);
    // frequency grid: a quarter resolution step up to twice the top peak
    let step = spec.resolution / 4.0;
    let wmax = (2.2 * top).max(peaks.iter().take(3).map(|p| p.0).fold(0.0, f64::max) * 1.2);
    let nw = ((wmax / step) as usize).clamp(8, 64);
    let omegas: Vec<f64> = (1..=nw).map(|i| i as f64 * wmax / nw as f64).collect();
    let t2s = [tmax / 6.0, tmax / 2.0];
    let decay_tau = span / 3.0;
    let mut scored: Vec<(f64, Vec<f64>, f64)> = vec![]; // (chi2, omegas, t2)
    for &t2 in &t2s {
        let mut cols: Vec<Vec<f64>> = vec![];
        for &w in &omegas {
            cols.extend(basis(model, w, t2, t));
        }
        let nb = cols.len();
        cols.extend(extras(model, decay_tau, t));
        let n = cols.len();
        let gram = DMatrix::from_fn(n, n, |a, b| dot(&cols[a], &cols[b]));
        let rhs = DVector::from_fn(n, |a, _| dot(&cols[a], y));
        let yy = dot(y, y);
        let per = 1 + model.phase as usize;
        let extra: Vec<usize> = (nb..n).collect();
        let with = |ws: &[usize]| -> Vec<usize> {
            let mut c: Vec<usize> = ws
                .iter()
                .flat_map(|&w| (0..per).map(move |q| w * per + q))
                .collect();
            c.extend(&extra);
            c
        };
        if model.n_cos == 1 {
            for (a, &wa) in omegas.iter().enumerate() {
                if let Some((_, chi)) = solve(&gram, &rhs, yy, &with(&[a])) {
                    scored.push((chi, vec![wa], t2));
                }
            }
        } else {
            for a in 0..omegas.len() {
                for b in a + 2..omegas.len() {
                    if let Some((_, chi)) = solve(&gram, &rhs, yy, &with(&[b, a])) {
                        scored.push((chi, vec![omegas[b], omegas[a]], t2));
                    }
                }
            }
        }
    }
    scored.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut seeds: Vec<(Vec<f64>, f64)> = vec![];
    // the FFT's own top peaks first, then the best distinct grid points
    if model.n_cos == 2 && peaks.len() >= 2 {
        let (a, b) = (peaks[0].0.max(peaks[1].0), peaks[0].0.min(peaks[1].0));
        seeds.push((vec![a, b], tmax / 3.0));
    } else if model.n_cos == 1 && !peaks.is_empty() {
        seeds.push((vec![peaks[0].0], tmax / 3.0));
    }
    for (_, w, t2) in scored {
        if seeds.len() >= max_starts {
            break;
        }
        let distinct = seeds
            .iter()
            .all(|(s, _)| s.iter().zip(&w).any(|(a, b)| (a - b).abs() > 1.5 * step));
        if distinct {
            seeds.push((w, t2));
        }
    }
    seeds
        .into_iter()
        .map(|(w, t2)| {
            let mut p = model.template();
            for (k, wk) in w.iter().enumerate() {
                p.0.iter_mut()
                    .find(|q| q.name == model.pname("omega", k))
                    .unwrap()
                    .value = *wk;
                p.0.iter_mut()
                    .find(|q| q.name == model.pname("t2", k))
                    .unwrap()
                    .value = t2;
            }
            if model.decay {
                p.0.iter_mut()
                    .find(|q| q.name == "decay_tau")
                    .unwrap()
                    .value = decay_tau;
            }
            linear_amplitudes(model, &mut p, t, y);
            p
        })
        .collect()
}
