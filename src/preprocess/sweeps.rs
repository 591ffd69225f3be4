//! Sweeps that depart from the others: in a scan of interleaved sweeps
//! (the stage driven back and forth, or restarted), each sweep is a
//! monotone run of delays in file order. Against the mean of the repeats at
//! each delay, sweep j's chi-square
//!
//! chi2_j = sum_{k in j} (y_kj - ybar_k)^2 / s^2,  dof_j = sum_{k in j} (1 - 1/n_k),
//!
//! (s the pooled sweep-to-sweep scatter, n_k the repeats at delay k) follows
//! chi-square with dof_j when the sweep repeats the others. A sweep whose
//! p-value, times the number of sweeps (Bonferroni), is below 1e-3 drifted
//! or jumped: it is named with its chi-square per point and its mean offset.
//! Three sweeps or more are needed (of two, each departs as much as the
//! other).

use statrs::distribution::{ChiSquared, ContinuousCDF};

/// Significance (after Bonferroni) below which a sweep is named.
pub const SWEEP_ALPHA: f64 = 1e-3;

/// The sweep of each point, in file order: a new sweep starts where the
/// delays turn back (or restart).
pub fn sweep_index(delay: &[f64]) -> Vec<usize> {
    let (mut v, mut sweep, mut dir) = (Vec::with_capacity(delay.len()), 0usize, 0.0f64);
    for (i, &d) in delay.iter().enumerate() {
        if i > 0 {
            let step = d - delay[i - 1];
            if step != 0.0 {
                if dir != 0.0 && step.signum() != dir {
                    sweep += 1;
                    dir = 0.0;
                } else {
                    dir = step.signum();
                }
            }
        }
        v.push(sweep);
    }
    v
}

/// The sweeps that depart from the others, in words. `groups` are the
/// point indices (file order) of each delay, `mean` the mean of each
/// group, `s` the pooled scatter.
pub fn departing(
    delay: &[f64],
    signal: &[f64],
    groups: &[Vec<usize>],
    mean: &[f64],
    s: f64,
) -> Vec<String> {
    let sweep = sweep_index(delay);
    let n_sweeps = sweep.last().map_or(0, |v| v + 1);
    if n_sweeps < 3 || !(s > 0.0 && s.is_finite()) {
        return vec![];
    }
    // (chi-square, dof, sum of deviations, points) per sweep
    let mut acc = vec![(0.0, 0.0, 0.0, 0usize); n_sweeps];
    for (g, m) in groups.iter().zip(mean) {
        if g.len() < 2 {
            continue;
        }
        let shrink = 1.0 - 1.0 / g.len() as f64;
        for &i in g {
            let d = signal[i] - m;
            let a = &mut acc[sweep[i]];
            a.0 += (d / s).powi(2);
            a.1 += shrink;
            a.2 += d;
            a.3 += 1;
        }
    }
    acc.iter()
        .enumerate()
        .filter(|(_, a)| a.3 >= 5 && a.1 > 0.0)
        .filter_map(|(j, &(chi, dof, sum, n))| {
            let p = ChiSquared::new(dof).ok().map(|c| 1.0 - c.cdf(chi))?;
            (p * (n_sweeps as f64) < SWEEP_ALPHA).then(|| {
                format!(
                    "sweep {} of {n_sweeps} departs from the others: chi-square per point {:.1} against the sweep-to-sweep scatter (p = {p:.1e}), mean offset {:+.3e}; check it for a drift or a jump, or leave it out",
                    j + 1,
                    chi / dof,
                    sum / n as f64
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};
    use rand_distr::{Distribution, Normal};

    #[test]
    fn sweeps_are_the_monotone_runs() {
        assert_eq!(
            sweep_index(&[0.0, 1.0, 2.0, 1.5, 0.5, 0.0, 1.0, 1.0, 2.0]),
            [0, 0, 0, 1, 1, 1, 2, 2, 2]
        );
        assert_eq!(sweep_index(&[0.0, 1.0, 0.0, 1.0]), [0, 0, 1, 1]);
    }

    /// Five back-and-forth sweeps of 40 delays with noise 0.01; `drift`
    /// added along sweep 4 (ramping from 0).
    fn scan(drift: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let nd = Normal::new(0.0, 0.01).unwrap();
        let (mut d, mut y) = (vec![], vec![]);
        for j in 0..5 {
            for k in 0..40 {
                let k = if j % 2 == 0 { k } else { 39 - k };
                let t = k as f64 * 10.0;
                d.push(t);
                let extra = if j == 3 {
                    drift * (k as f64 / 39.0)
                } else {
                    0.0
                };
                y.push((t * 0.02).cos() + nd.sample(&mut rng) + extra);
            }
        }
        (d, y)
    }

    fn check(d: &[f64], y: &[f64]) -> Vec<String> {
        let mut groups: Vec<Vec<usize>> = vec![vec![]; 40];
        for (i, t) in d.iter().enumerate() {
            groups[(t / 10.0).round() as usize].push(i);
        }
        let mean: Vec<f64> = groups
            .iter()
            .map(|g| g.iter().map(|&i| y[i]).sum::<f64>() / g.len() as f64)
            .collect();
        let (mut ss, mut dof) = (0.0, 0usize);
        for (g, m) in groups.iter().zip(&mean) {
            ss += g.iter().map(|&i| (y[i] - m).powi(2)).sum::<f64>();
            dof += g.len() - 1;
        }
        departing(d, y, &groups, &mean, (ss / dof as f64).sqrt())
    }

    #[test]
    fn a_drifting_sweep_is_named_and_repeats_are_not() {
        let (d, y) = scan(0.05, 1);
        let found = check(&d, &y);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].starts_with("sweep 4 of 5"), "{}", found[0]);
        // under the null a sweep is named at about the stated rate
        let false_alarms: usize = (0..200)
            .map(|s| {
                let (d, y) = scan(0.0, 100 + s);
                check(&d, &y).len()
            })
            .sum();
        assert!(
            false_alarms <= 3,
            "{false_alarms} false alarms in 200 scans"
        );
    }
}
