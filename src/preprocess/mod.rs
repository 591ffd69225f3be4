//! Preprocessing between reading and fitting: ordering and merging of
//! repeated delays, fit windows, the spin polarisation degree, and a check
//! that the SC and CC channels carry a signal at all.
//!
//! Dead channels: a channel that is zero, constant, or pure noise is a lab
//! fault, not a lifetime. Pure noise is told by von Neumann's ratio of the
//! mean square successive difference to the variance,
//! eta = sum (x_{i+1} - x_i)^2 / sum (x_i - xbar)^2, which is 2 (sd 2/sqrt n)
//! for white noise and far below 2 for any signal that changes slowly
//! compared with the delay step.
//!
//! Sweeps: a sweep that departs from the others is named ([`sweeps`]).
//!
//! Merging: the points of a repeated delay (interleaved sweeps) are replaced
//! by their mean. The scatter of the repeats gives a pooled noise estimate
//! s^2 = sum_k sum_j (y_kj - ybar_k)^2 / sum_k (n_k - 1); with at least
//! [`MIN_POOLED_DOF`] degrees of freedom each merged point gets
//! sigma_k = s / sqrt(n_k) and the fit is weighted with absolute sigmas.
//! Per-delay standard deviations from 2-3 sweeps are far too noisy to be used
//! as weights (they bias the fit towards points that happened to agree), so
//! the pooled estimate is used even when every delay was repeated.

use crate::error::{Error, Result};
use crate::scan::Scan;

pub mod map;
pub mod sweeps;

/// Delays closer than this (ps, i.e. 0.1 fs) count as the same stage position.
pub const SAME_DELAY_PS: f64 = 1e-4;

/// Degrees of freedom the pooled noise estimate needs before it is used.
pub const MIN_POOLED_DOF: usize = 10;

/// Sort by delay and merge repeated delays; notes what was done.
pub fn sort_and_merge(scan: &mut Scan) {
    let n = scan.delay.len();
    let given = scan.sigma.take();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| scan.delay[a].total_cmp(&scan.delay[b]));
    if idx.windows(2).any(|w| w[0] > w[1]) {
        scan.notes.push("delays were out of order: sorted".into());
    }
    let mut groups: Vec<Vec<usize>> = vec![];
    for &i in &idx {
        match groups.last_mut() {
            Some(g) if (scan.delay[i] - scan.delay[g[0]]).abs() <= SAME_DELAY_PS => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    let merged = groups.len() < n;
    let mut d = Vec::with_capacity(groups.len());
    let mut s = Vec::with_capacity(groups.len());
    let mut sc_cc = scan.sc_cc.as_ref().map(|_| (vec![], vec![]));
    let (mut ss, mut dof) = (0.0, 0usize);
    for g in &groups {
        let k = g.len() as f64;
        let mean = |v: &[f64]| g.iter().map(|&i| v[i]).sum::<f64>() / k;
        let m = mean(&scan.signal);
        d.push(mean(&scan.delay));
        s.push(m);
        if let (Some((a, b)), Some((sa, sb))) = (&scan.sc_cc, sc_cc.as_mut()) {
            sa.push(mean(a));
            sb.push(mean(b));
        }
        ss += g.iter().map(|&i| (scan.signal[i] - m).powi(2)).sum::<f64>();
        dof += g.len() - 1;
    }
    if merged {
        let repeated = groups.iter().filter(|g| g.len() > 1).count();
        let max = groups.iter().map(Vec::len).max().unwrap_or(1);
        scan.notes.push(format!(
            "{} points at {} repeated delays merged (mean; up to {} sweeps per delay)",
            n - groups.len() + repeated,
            repeated,
            max
        ));
        let pooled = (ss / dof as f64).sqrt();
        if given.is_some() {
            scan.notes
                .push("given per-point sigmas propagated through the merge".into());
        } else if dof >= MIN_POOLED_DOF && pooled > 0.0 {
            scan.sigma = Some(
                groups
                    .iter()
                    .map(|g| pooled / (g.len() as f64).sqrt())
                    .collect(),
            );
            scan.notes.push(format!(
                "noise from the scatter of repeated sweeps: s = {pooled:.4e} ({dof} dof); sigma = s/sqrt(n) per point, fit weighted"
            ));
            let away = sweeps::departing(&scan.delay, &scan.signal, &groups, &s, pooled);
            scan.notes.extend(away);
        } else {
            scan.sigma = None;
            scan.notes.push(format!(
                "repeats give only {dof} degrees of freedom for the noise: fit unweighted, errors scaled by reduced chi-square"
            ));
        }
    }
    if let Some(given) = given {
        // sigmas from the file, in the sorted order; the mean of n points
        // has sigma sqrt(sum s_i^2) / n
        let merged_sigma = groups
            .iter()
            .map(|g| g.iter().map(|&i| given[i] * given[i]).sum::<f64>().sqrt() / g.len() as f64);
        scan.sigma = Some(merged_sigma.collect());
    }
    scan.delay = d;
    scan.signal = s;
    scan.sc_cc = sc_cc;
}

/// Keep delays within [from, to] (ps); errors when fewer than `min_points` remain.
pub fn window(
    scan: &mut Scan,
    from: Option<f64>,
    to: Option<f64>,
    min_points: usize,
) -> Result<()> {
    let lo = from.unwrap_or(f64::NEG_INFINITY);
    let hi = to.unwrap_or(f64::INFINITY);
    if lo >= hi {
        return Err(Error::setting(
            "from/to",
            format!("window [{lo} ps, {hi} ps] is empty"),
        ));
    }
    let keep: Vec<usize> = (0..scan.delay.len())
        .filter(|&i| scan.delay[i] >= lo && scan.delay[i] <= hi)
        .collect();
    if keep.len() < min_points {
        return Err(Error::input(
            &scan.source,
            format!(
                "only {} points in the fit window [{lo} ps, {hi} ps] (the delays span {:.4}-{:.4} ps); need at least {min_points} (set the window with --from/--to)",
                keep.len(),
                scan.delay.first().copied().unwrap_or(f64::NAN),
                scan.delay.last().copied().unwrap_or(f64::NAN)
            ),
        ));
    }
    if keep.len() < scan.delay.len() {
        let edge = |v: f64, open: &str| {
            if v.is_finite() {
                format!("{v} ps")
            } else {
                open.to_string()
            }
        };
        scan.notes.push(format!(
            "fit window {} to {}: {} of {} points",
            edge(lo, "the first delay"),
            edge(hi, "the last delay"),
            keep.len(),
            scan.delay.len()
        ));
    }
    let pick = |v: &Vec<f64>| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    scan.delay = pick(&scan.delay);
    scan.signal = pick(&scan.signal);
    scan.sigma = scan.sigma.as_ref().map(pick);
    scan.sc_cc = scan.sc_cc.as_ref().map(|(a, b)| (pick(a), pick(b)));
    Ok(())
}

/// von Neumann's successive-difference estimate of the noise variance,
/// sum (x_{i+1} - x_i)^2 / (2 (n - 1)): slow structure barely moves it
/// (NaN for fewer than 2 points).
pub fn successive_difference_variance(x: &[f64]) -> f64 {
    x.windows(2).map(|w| (w[1] - w[0]).powi(2)).sum::<f64>() / (2.0 * (x.len() as f64 - 1.0))
}

/// Refuse a TR scan whose SC or CC channel is dead: zero, constant, or
/// pure noise (von Neumann ratio within 3 sd of white noise's 2). Call
/// after [`sort_and_merge`], so that the channels are in delay order.
pub fn check_channels(scan: &Scan) -> Result<()> {
    let Some((sc, cc)) = &scan.sc_cc else {
        return Ok(());
    };
    for (name, x) in [("SC", sc), ("CC", cc)] {
        let n = x.len();
        if n < 8 {
            continue;
        }
        let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        if scale == 0.0 {
            return Err(Error::input(
                &scan.source,
                format!(
                    "channel {name} is zero at every delay: the channel is dead or unplugged; fit the other channel alone with --signal, or check the detector"
                ),
            ));
        }
        let mean = x.iter().sum::<f64>() / n as f64;
        let var: f64 = x.iter().map(|v| (v - mean).powi(2)).sum();
        if var <= (1e-12 * scale).powi(2) * n as f64 {
            return Err(Error::input(
                &scan.source,
                format!(
                    "channel {name} is constant ({mean:e}) at every delay: saturated or stuck; check the detector and lock-in"
                ),
            ));
        }
        // eta = sum (dx)^2 / sum (x - mean)^2
        let eta = 2.0 * (n - 1) as f64 * successive_difference_variance(x) / var;
        let floor = 2.0 - 3.0 * 2.0 / (n as f64).sqrt();
        if eta > floor {
            return Err(Error::input(
                &scan.source,
                format!(
                    "channel {name} is pure noise: its successive-difference ratio is {eta:.2}, white noise gives 2 (a signal is far below {floor:.2}); the channel is dead or sees no pump-probe signal"
                ),
            ));
        }
    }
    Ok(())
}

/// Replace a TR signal by the polarisation degree P = (SC - CC) / (SC + CC).
/// Points where |SC + CC| is below 1 % of its maximum are dropped (P is
/// undefined where there is no population), and the count is noted.
pub fn polarisation_degree(scan: &mut Scan) -> Result<()> {
    let (sc, cc) = scan.sc_cc.clone().ok_or_else(|| {
        Error::input(
            &scan.source,
            "the polarisation degree needs SC and CC columns",
        )
    })?;
    let sum: Vec<f64> = sc.iter().zip(&cc).map(|(a, b)| a + b).collect();
    let max = sum.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let keep: Vec<usize> = (0..sum.len())
        .filter(|&i| sum[i].abs() > 0.01 * max)
        .collect();
    if keep.len() < 2 {
        return Err(Error::input(
            &scan.source,
            "SC + CC is zero almost everywhere: no polarisation degree",
        ));
    }
    scan.notes.push(format!(
        "polarisation degree P = (SC - CC)/(SC + CC); {} points with |SC + CC| < 1% of max dropped",
        sum.len() - keep.len()
    ));
    scan.delay = keep.iter().map(|&i| scan.delay[i]).collect();
    scan.signal = keep.iter().map(|&i| (sc[i] - cc[i]) / sum[i]).collect();
    scan.sigma = None;
    scan.sc_cc = Some((
        keep.iter().map(|&i| sc[i]).collect(),
        keep.iter().map(|&i| cc[i]).collect(),
    ));
    scan.signal_name = "P".into();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{Metadata, ScanKind};

    #[test]
    fn dead_channels_are_refused_by_name() {
        let n = 200;
        let d: Vec<f64> = (0..n).map(|i| i as f64 * 0.1).collect();
        let live: Vec<f64> = d
            .iter()
            .map(|t| (-t / 3.0).exp() + 0.01 * (t * 37.0).sin())
            .collect();
        // deterministic pseudo-noise: a scrambled sequence in [-1, 1]
        let noise: Vec<f64> = (0..n)
            .map(|i| ((i as f64 * 0.618_034_f64).fract() * 7919.0).fract() * 2.0 - 1.0)
            .collect();
        let mk = |cc: Vec<f64>| {
            let mut s = scan(&d, &live);
            s.kind = ScanKind::Tr;
            s.sc_cc = Some((live.clone(), cc));
            s
        };
        assert!(check_channels(&mk(live.iter().map(|v| 0.5 * v).collect())).is_ok());
        for (cc, what) in [
            (vec![0.0; n], "zero"),
            (vec![0.37; n], "constant"),
            (noise, "pure noise"),
        ] {
            let e = check_channels(&mk(cc)).unwrap_err().to_string();
            assert!(e.contains("channel CC") && e.contains(what), "{e}");
        }
    }

    fn scan(d: &[f64], s: &[f64]) -> Scan {
        Scan {
            source: "t".into(),
            kind: ScanKind::Trfe,
            delay: d.to_vec(),
            signal: s.to_vec(),
            sigma: None,
            sc_cc: None,
            signal_name: "s".into(),
            meta: Metadata::default(),
            notes: vec![],
            sha256: None,
        }
    }

    #[test]
    fn interleaved_sweeps_are_sorted_merged_and_weighted() {
        let mut s = scan(
            &[2.0, 0.0, 1.0, 1.0, 0.0, 2.0],
            &[5.0, 1.0, 2.0, 4.0, 3.0, 7.0],
        );
        sort_and_merge(&mut s);
        assert_eq!(s.delay, [0.0, 1.0, 2.0]);
        assert_eq!(s.signal, [2.0, 3.0, 6.0]);
        // 3 pairs give 3 dof: too few for a noise estimate
        assert!(s.sigma.is_none());
        assert!(s.notes.iter().any(|n| n.contains("sorted")));
        assert!(s.notes.iter().any(|n| n.contains("merged")));
    }

    #[test]
    fn pooled_noise_from_repeats() {
        // 12 delays measured twice, pairs differing by +-1: s^2 = 12*2*0.25/12... per pair
        // (y - mean)^2 = 0.25 twice -> ss = 6, dof = 12, s = sqrt(0.5)
        let d: Vec<f64> = (0..12).chain(0..12).map(f64::from).collect();
        let y: Vec<f64> = (0..24).map(|i| if i < 12 { 0.5 } else { -0.5 }).collect();
        let mut s = scan(&d, &y);
        sort_and_merge(&mut s);
        let sig = s.sigma.unwrap();
        assert_eq!(sig.len(), 12);
        assert!((sig[0] - (0.5f64).sqrt() / 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn given_sigmas_follow_sorting_and_merging() {
        let mut s = scan(&[1.0, 0.0, 1.0], &[1.0, 2.0, 3.0]);
        s.sigma = Some(vec![0.3, 0.1, 0.4]);
        sort_and_merge(&mut s);
        assert_eq!(s.delay, [0.0, 1.0]);
        let sig = s.sigma.unwrap();
        assert!(
            (sig[0] - 0.1).abs() < 1e-15 && (sig[1] - 0.25).abs() < 1e-15,
            "{sig:?}"
        );
    }

    #[test]
    fn window_errors_when_too_few_points() {
        let mut s = scan(&[0.0, 1.0, 2.0], &[1.0, 2.0, 3.0]);
        let e = window(&mut s, Some(1.5), None, 3).unwrap_err().to_string();
        assert!(e.contains("only 1 points in the fit window"), "{e}");
        window(&mut s, Some(0.5), None, 2).unwrap();
        assert_eq!(s.delay, [1.0, 2.0]);
    }
}
