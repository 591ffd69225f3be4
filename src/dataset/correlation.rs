//! Pearson correlation between descriptors and the |r| > threshold filter
//! of the paper (which removed r_o and the HOMO-LUMO gap at 0.9).
//!
//! r_ab = sum (a - abar)(b - bbar) / sqrt(sum (a - abar)^2 sum (b - bbar)^2),
//! over rows where both are present. Of each pair above the threshold
//! (strongest first) the descriptor with the larger mean |r| to the others
//! is dropped, unless one of the two is dropped already.

use super::{DESCRIPTORS, Dataset};

/// Pearson correlation matrix over the ten descriptors.
// a and b index both the descriptors and the matrix: ranges read clearest
#[allow(clippy::needless_range_loop)]
pub fn pearson(d: &Dataset) -> Vec<Vec<f64>> {
    let n = DESCRIPTORS.len();
    let mut m = vec![vec![f64::NAN; n]; n];
    for a in 0..n {
        for b in 0..n {
            let pairs: Vec<(f64, f64)> = d
                .records
                .iter()
                .map(|r| (r.descriptors[a], r.descriptors[b]))
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            let k = pairs.len() as f64;
            if k < 3.0 {
                continue;
            }
            let (ma, mb) = (
                pairs.iter().map(|p| p.0).sum::<f64>() / k,
                pairs.iter().map(|p| p.1).sum::<f64>() / k,
            );
            let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
            for (x, y) in &pairs {
                sab += (x - ma) * (y - mb);
                saa += (x - ma).powi(2);
                sbb += (y - mb).powi(2);
            }
            m[a][b] = sab / (saa * sbb).sqrt();
        }
    }
    m
}

/// A pair above the threshold and which of the two was dropped.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct DroppedPair {
    pub a: &'static str,
    pub b: &'static str,
    pub r: f64,
    pub dropped: &'static str,
}

/// A |r| threshold: a number in (0, 1).
pub fn check_threshold(t: f64) -> crate::Result<f64> {
    if t > 0.0 && t < 1.0 {
        Ok(t)
    } else {
        Err(crate::Error::setting(
            "--threshold",
            format!("{t}: expected |r| strictly between 0 and 1 (the paper uses 0.9)"),
        ))
    }
}

/// Descriptors kept and pairs that caused a drop.
pub fn filter(r: &[Vec<f64>], threshold: f64) -> (Vec<&'static str>, Vec<DroppedPair>) {
    let n = DESCRIPTORS.len();
    let mean_abs = |a: usize| {
        (0..n)
            .filter(|&b| b != a && r[a][b].is_finite())
            .map(|b| r[a][b].abs())
            .sum::<f64>()
            / (n - 1) as f64
    };
    let mut pairs: Vec<(usize, usize)> = (0..n)
        .flat_map(|a| (a + 1..n).map(move |b| (a, b)))
        .filter(|&(a, b)| r[a][b].abs() > threshold)
        .collect();
    pairs.sort_by(|x, y| r[y.0][y.1].abs().total_cmp(&r[x.0][x.1].abs()));
    let mut dropped = vec![false; n];
    let mut out = vec![];
    for (a, b) in pairs {
        if dropped[a] || dropped[b] {
            continue;
        }
        let d = if mean_abs(a) >= mean_abs(b) { a } else { b };
        dropped[d] = true;
        out.push(DroppedPair {
            a: DESCRIPTORS[a].0,
            b: DESCRIPTORS[b].0,
            r: r[a][b],
            dropped: DESCRIPTORS[d].0,
        });
    }
    let kept = (0..n)
        .filter(|&k| !dropped[k])
        .map(|k| DESCRIPTORS[k].0)
        .collect();
    (kept, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::Record;

    #[test]
    fn pearson_of_exact_linear_relations() {
        let records = (0..10)
            .map(|i| {
                let x = i as f64;
                let mut d = [0.0; 10];
                for (k, v) in d.iter_mut().enumerate() {
                    *v = ((x + 1.0) * (k as f64 + 1.3)).sin();
                }
                d[5] = 2.0 * d[4] + 1.0; // t exactly linear in r_o
                d[8] = -3.0 * d[6]; // gap exactly anti-correlated with HOMO
                Record {
                    compound: format!("c{i}"),
                    formula: String::new(),
                    phase: String::new(),
                    descriptors: d,
                    rate: 1.0,
                    rate_err: f64::NAN,
                    source: String::new(),
                    source_sha256: String::new(),
                    fit_settings: String::new(),
                    date: String::new(),
                    record_id: String::new(),
                }
            })
            .collect();
        let r = pearson(&Dataset { records });
        assert!((r[4][5] - 1.0).abs() < 1e-12 && (r[6][8] + 1.0).abs() < 1e-12);
        assert!((r[3][3] - 1.0).abs() < 1e-12);
        let (kept, pairs) = filter(&r, 0.9);
        assert_eq!(kept.len(), 10 - pairs.len());
        assert!(
            pairs
                .iter()
                .any(|p| p.a == "organic_radius_A" && p.b == "tolerance_factor")
        );
        assert!(pairs.iter().any(|p| p.a == "e_homo_eV" && p.b == "gap_eV"));
    }
}
