//! Model uncertainty in the numbers: Bayesian model averaging over the
//! ladder's candidates (Burnham and Anderson, Model Selection and Multimodel
//! Inference, 2002, sections 4.2-4.3).
//!
//! Candidates with the chosen number of carriers, converged, and within
//! [`AVERAGE_WINDOW`] of the best criterion value get weights
//!
//! w_i = exp(-d_i / 2) / sum_j exp(-d_j / 2),   d_i = BIC_i - BIC_min,
//!
//! (AIC with `--criterion aic`), the averaged value theta = sum_i w_i theta_i
//! and the unconditional standard error (their eq. 4.9)
//!
//! se(theta) = sum_i w_i sqrt(se_i^2 + (theta_i - theta)^2),
//!
//! which adds the spread between models to each model's own error. Only the
//! Larmor frequency is averaged: it means the same in every candidate,
//! while T2 means T2*, the Gaussian time or the homogeneous time depending
//! on the envelope.

use super::ladder::{Candidate, Criterion};
use crate::physics::Quantity;

/// Candidates further than this above the best criterion value take no
/// part (weight below exp(-5) = 0.7 %).
pub const AVERAGE_WINDOW: f64 = 10.0;

/// The averaged Larmor frequency of one carrier.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Averaged {
    /// The averaged omega (rad/ns) with its unconditional error.
    pub omega: Quantity,
    /// Number of candidates averaged (the chosen one among them).
    pub models: usize,
    /// The chosen model's weight.
    pub chosen_weight: f64,
    /// Do the candidates disagree on omega by more than their errors (some
    /// |omega_i - omega_chosen| above the smaller of the two errors)?
    pub disagree: bool,
}

/// Per carrier of `chosen`, its omega averaged over `seen` (None when no
/// other candidate qualifies). `chosen` is the polished fit; its copy in
/// `seen` (same model) is skipped.
pub fn average_omega(
    seen: &[Candidate],
    chosen: &Candidate,
    crit: Criterion,
) -> Vec<Option<Averaged>> {
    let m = &chosen.model;
    let score = |c: &Candidate| match crit {
        Criterion::Aic => c.fit.aic,
        _ => c.fit.bic,
    };
    let others: Vec<&Candidate> = seen
        .iter()
        .filter(|c| c.model.n_cos == m.n_cos && c.model != *m && c.converged())
        .collect();
    let best = others
        .iter()
        .map(|c| score(c))
        .fold(score(chosen), f64::min);
    // the chosen model first, whatever its score
    let pool: Vec<&Candidate> = std::iter::once(chosen)
        .chain(
            others
                .into_iter()
                .filter(|c| score(c) - best <= AVERAGE_WINDOW),
        )
        .collect();
    if pool.len() < 2 {
        return vec![None; m.n_cos];
    }
    (0..m.n_cos)
        .map(|k| {
            let vals: Vec<(f64, f64, f64)> = pool
                .iter()
                .map(|c| {
                    let n = c.model.pname("omega", k);
                    (
                        (-(score(c) - best) / 2.0).exp(),
                        c.fit.value(&n),
                        c.fit.err(&n),
                    )
                })
                .collect();
            if vals.iter().any(|v| !(v.1.is_finite() && v.2.is_finite())) {
                return None;
            }
            let wsum: f64 = vals.iter().map(|v| v.0).sum();
            let mean = vals.iter().map(|v| v.0 * v.1).sum::<f64>() / wsum;
            let se = vals
                .iter()
                .map(|v| v.0 * (v.2 * v.2 + (v.1 - mean).powi(2)).sqrt())
                .sum::<f64>()
                / wsum;
            let (wc, vc, ec) = vals[0];
            let disagree = vals[1..].iter().any(|v| (v.1 - vc).abs() > v.2.min(ec));
            Some(Averaged {
                omega: Quantity::new(mean, se, "rad/ns"),
                models: vals.len(),
                chosen_weight: wc / wsum,
                disagree,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::lm::{LmOptions, fit};
    use crate::fit::model::Model;
    use crate::fit::precession::{Envelope, Precession};

    fn candidate(model: Precession, t: &[f64], y: &[f64], omega: f64) -> Candidate {
        let mut p = model.template();
        p.get_mut("omega").unwrap().value = omega;
        p.get_mut("t2").unwrap().value = 400.0;
        crate::fit::guess::linear_amplitudes(&model, &mut p, t, y);
        let r = fit(&model, t, y, None, &p, &LmOptions::default()).unwrap();
        Candidate { model, fit: r }
    }

    #[test]
    fn weights_and_unconditional_error_follow_burnham_anderson() {
        // one cosine with a small offset: with and without the offset
        let t: Vec<f64> = (0..300).map(|i| i as f64 * 5.0).collect();
        let y: Vec<f64> = t
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                (0.03 * x).cos() * (-x / 400.0).exp()
                    + 0.0015
                    + 0.01 * ((i * 7919 % 1000) as f64 / 500.0 - 1.0)
            })
            .collect();
        let base = Precession {
            n_cos: 1,
            phase: false,
            decay: false,
            offset: false,
            envelope: Envelope::Exponential,
            repetition: None,
        };
        let a = candidate(base, &t, &y, 30.0);
        let b = candidate(
            Precession {
                offset: true,
                ..base
            },
            &t,
            &y,
            30.0,
        );
        let avg = average_omega(std::slice::from_ref(&b), &a, Criterion::Bic)[0]
            .clone()
            .expect("two candidates within the window");
        // the closed form by hand
        let best = a.fit.bic.min(b.fit.bic);
        let (wa, wb) = (
            (-(a.fit.bic - best) / 2.0).exp(),
            (-(b.fit.bic - best) / 2.0).exp(),
        );
        let (va, vb) = (a.fit.value("omega"), b.fit.value("omega"));
        let (ea, eb) = (a.fit.err("omega"), b.fit.err("omega"));
        let mean = (wa * va + wb * vb) / (wa + wb);
        let se = (wa * (ea * ea + (va - mean).powi(2)).sqrt()
            + wb * (eb * eb + (vb - mean).powi(2)).sqrt())
            / (wa + wb);
        assert!((avg.omega.value - mean).abs() < 1e-12 * mean);
        assert!((avg.omega.stderr - se).abs() < 1e-12 * se);
        assert!((avg.chosen_weight - wa / (wa + wb)).abs() < 1e-12);
        assert_eq!(avg.models, 2);
        // the unconditional error is never below the smallest model error
        assert!(avg.omega.stderr >= ea.min(eb));
        // a candidate far outside the window takes no part
        let mut far = b.clone();
        far.fit.bic = a.fit.bic + 2.0 * AVERAGE_WINDOW;
        far.fit.aic = far.fit.bic;
        assert!(average_omega(&[far], &a, Criterion::Bic)[0].is_none());
    }
}
