//! Charts of the ML reports: a histogram of held-out residuals and a SHAP
//! beeswarm (one row of points per feature, a point per compound at its
//! Shapley value, coloured by the rank of the feature's value from low, blue,
//! to high, red).

use super::DrawResult;
use super::to_file;
use crate::error::Result;
use nalgebra::DMatrix;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

fn histogram<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let lo = values.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, hi + 1.0)
    };
    let w = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in values {
        counts[(((v - lo) / w) as usize).min(bins - 1)] += 1;
    }
    let top = *counts.iter().max().unwrap_or(&1) as f64 * 1.15;
    let mut c = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(lo.min(0.0) - w..hi.max(0.0) + w, 0.0..top)?;
    c.configure_mesh()
        .x_desc(x_label)
        .y_desc("rows")
        .y_label_formatter(&|v| format!("{v:.0}"))
        .draw()?;
    for (i, k) in counts.iter().enumerate() {
        let x0 = lo + i as f64 * w;
        let r = [(x0, 0.0), (x0 + w, *k as f64)];
        c.draw_series([
            Rectangle::new(r, RGBColor(40, 90, 200).mix(0.8).filled()),
            Rectangle::new(r, WHITE.stroke_width(1)),
        ])?;
    }
    c.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (0.0, top)],
        RGBColor(120, 120, 120).stroke_width(1),
    )))?;
    root.present()?;
    Ok(())
}

/// Histogram of `values` in `bins` equal bins, with a line at zero.
pub fn draw_histogram(
    path: &Path,
    title: &str,
    x_label: &str,
    values: &[f64],
    bins: usize,
) -> Result<()> {
    let size = (850, 560);
    let bins = bins.max(1);
    to_file(
        path,
        size,
        |a| histogram(a, title, x_label, values, bins),
        |a| histogram(a, title, x_label, values, bins),
    )
}

/// Vertical offsets that keep points of similar value apart: within each
/// of 50 value bins the points alternate above and below the row's line.
fn swarm(v: &[f64]) -> Vec<f64> {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w = ((hi - lo) / 50.0).max(1e-300);
    let mut used = std::collections::HashMap::<i64, usize>::new();
    v.iter()
        .map(|x| {
            let k = used.entry(((x - lo) / w) as i64).or_insert(0);
            let j = *k;
            *k += 1;
            let step = 0.07 * j.div_ceil(2) as f64;
            (if j % 2 == 1 { step } else { -step }).clamp(-0.42, 0.42)
        })
        .collect()
}

/// Colour position of `v` among `all`: its mid-rank in [0, 1], so that one
/// outlying value (n = 100 for 3-D) does not wash out the others.
fn rank(all: &[f64], v: f64) -> f64 {
    let below = all.iter().filter(|x| **x < v).count() as f64;
    let equal = all.iter().filter(|x| **x == v).count() as f64;
    if all.len() < 2 {
        0.5
    } else {
        (below + 0.5 * (equal - 1.0)) / (all.len() - 1) as f64
    }
}

/// Blue (low) to red (high) through grey.
fn shade(t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    RGBColor(
        (40.0 + 180.0 * t) as u8,
        (90.0 - 40.0 * (2.0 * t - 1.0).abs()) as u8,
        (200.0 - 160.0 * t) as u8,
    )
}

struct Swarm<'a> {
    title: &'a str,
    x_label: &'a str,
    /// Features from the bottom row to the top one.
    order: Vec<usize>,
    features: &'a [String],
    phi: &'a DMatrix<f64>,
    x: &'a DMatrix<f64>,
}

fn beeswarm<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, s: &Swarm) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let (chart, strip) = root.split_horizontally(w.saturating_sub(110));
    // feature value from low (blue, bottom) to high (red, top), by rank
    // within each feature
    super::colour_bar(&strip, &shade, ("high", "low"), ("feature", "value (rank)"))?;
    let m = s.phi.iter().fold(0.0f64, |a, v| a.max(v.abs())).max(1e-300) * 1.1;
    let n = s.order.len();
    let mut o = ChartBuilder::on(&chart)
        .caption(s.title, ("sans-serif", 16))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(190)
        .build_cartesian_2d(-m..m, 0.0..n as f64)?;
    o.configure_mesh()
        .disable_y_mesh()
        .x_desc(s.x_label)
        .y_labels(0)
        .draw()?;
    let names: Vec<String> = s.order.iter().map(|&j| s.features[j].clone()).collect();
    super::charts::row_labels(&chart, &o, -m, &names)?;
    o.draw_series(std::iter::once(PathElement::new(
        vec![(0.0, 0.0), (0.0, n as f64)],
        RGBColor(150, 150, 150).stroke_width(1),
    )))?;
    for (row, &j) in s.order.iter().enumerate() {
        let col = s.phi.column(j);
        let v: Vec<f64> = col.iter().copied().collect();
        let off = swarm(&v);
        let xs: Vec<f64> = s.x.column(j).iter().copied().collect();
        o.draw_series(v.iter().zip(&off).enumerate().map(|(i, (p, dy))| {
            let t = rank(&xs, xs[i]);
            Circle::new((*p, row as f64 + 0.5 + dy), 4, shade(t).filled())
        }))?;
    }
    root.present()?;
    Ok(())
}

/// SHAP beeswarm: features ranked by mean |SHAP| (largest at the top).
pub fn draw_beeswarm(
    path: &Path,
    title: &str,
    x_label: &str,
    features: &[String],
    phi: &DMatrix<f64>,
    x: &DMatrix<f64>,
) -> Result<()> {
    let mut order: Vec<usize> = (0..features.len()).collect();
    let mean_abs = |j: usize| phi.column(j).abs().mean();
    order.sort_by(|a, b| mean_abs(*a).total_cmp(&mean_abs(*b)));
    let s = Swarm {
        title,
        x_label,
        order,
        features,
        phi,
        x,
    };
    let size = (900, 140 + 55 * features.len() as u32);
    to_file(path, size, |a| beeswarm(a, &s), |a| beeswarm(a, &s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swarm_separates_equal_values_and_stays_in_its_row() {
        let off = swarm(&[1.0, 1.0, 1.0, 5.0]);
        assert_eq!(off[0], 0.0);
        assert!(off[1] > 0.0 && off[2] < 0.0 && (off[1] + off[2]).abs() < 1e-12);
        assert_eq!(off[3], 0.0);
        let many = swarm(&vec![2.0; 40]);
        assert!(many.iter().all(|d| d.abs() <= 0.42));
        assert_eq!(shade(0.0), RGBColor(40, 50, 200));
        assert_eq!(rank(&[1.0, 2.0, 100.0], 2.0), 0.5);
        assert_eq!(rank(&[1.0, 2.0, 100.0], 100.0), 1.0);
        assert_eq!(rank(&[3.0, 3.0], 3.0), 0.5);
        assert_eq!(shade(1.0), RGBColor(220, 50, 40));
    }
}
