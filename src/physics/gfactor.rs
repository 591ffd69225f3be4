//! g-factors and their spread from a field series (Nanoscale paper).
//!
//! - Eq. (1): omega_L = |g| mu_B B / hbar. |g| is the slope of omega_L(B)
//!   through the origin, fitted by weighted least squares to the fields at
//!   or above a threshold (the nuclear Overhauser field bends the line below
//!   ~100 mT); the fit with a free intercept is reported beside it as a
//!   check (resident carriers extrapolate to zero).
//! - Eq. (3): 1/T2*(B) = 1/T2*(0) + dg mu_B B / hbar, a weighted line in
//!   1/T2* (sigma_{1/T2} = sigma_T2 / T2^2): T2*(0) from the intercept, dg
//!   from the slope. Convention: Lorentzian (exponential envelope) spread,
//!   dg the half-width of the g distribution, as eq. (3).
//!
//!   With a Voigt envelope 1/T2* is the line's half-width (the Lorentzian
//!   part alone for the homogeneous T2 would miss the g spread).
//! - The single-trace route (Voigt envelope): sigma_w(B) = dg_inh mu_B B /
//!   hbar, a weighted line through the origin; dg_inh is the standard
//!   deviation of a Gaussian g distribution. Its half-width sqrt(2 ln 2)
//!   dg_inh is compared with eq. (3)'s dg (a half-width too): they agree when
//!   they differ by less than 2 combined errors (the Gaussian part alone is
//!   compared, so a Lorentzian g spread beside it shows as disagreement).
//!
//! Errors of weighted fits use the per-point errors as absolute and are
//! then scaled by the Birge ratio sqrt(chi^2_red) when it exceeds 1 (the
//! points scatter more than their errors say: the scatter is the error).
//! A line whose chi-square has p < [`CONSISTENCY_ALPHA`] is flagged as
//! inconsistent with one carrier of one sample, and the points more than 3
//! of their errors off it are named (a second sample, a mislabelled field).

use super::{MU_B_OVER_HBAR_RAD_PER_NS_T, Quantity};
use crate::error::{Error, Result};

/// The convention of dg, stated in every output.
pub const DG_CONVENTION: &str = "Lorentzian: 1/T2*(B) = 1/T2*(0) + dg mu_B B/hbar (eq. 3), dg = half-width of the g distribution";

/// One component of one trace: field (T), omega (rad/ns) and T2* (ps) with
/// errors; the line half-width (rad/ns, 1/T2* for the exponential
/// envelope) and, from a Voigt envelope, sigma_w (rad/ns) with errors.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Point {
    pub field_t: f64,
    pub omega: f64,
    pub omega_err: f64,
    pub t2: f64,
    pub t2_err: f64,
    pub hwhm: f64,
    pub hwhm_err: f64,
    pub sigma_w: Option<(f64, f64)>,
}

impl Point {
    /// A point of an exponential-envelope fit: half-width 1/T2*.
    pub fn exponential(field_t: f64, omega: (f64, f64), t2: (f64, f64)) -> Point {
        Point {
            field_t,
            omega: omega.0,
            omega_err: omega.1,
            t2: t2.0,
            t2_err: t2.1,
            hwhm: 1e3 / t2.0,
            hwhm_err: 1e3 * t2.1 / (t2.0 * t2.0),
            sigma_w: None,
        }
    }
}

/// A weighted straight line y = a + b x.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Line {
    pub intercept: Quantity,
    pub slope: Quantity,
    pub redchi: f64,
    pub n: usize,
}

/// Weighted least squares of y = b x (through the origin) or y = a + b x,
/// the errors scaled by the Birge ratio when the reduced chi-square
/// exceeds 1 (module docs).
pub fn weighted_line(
    x: &[f64],
    y: &[f64],
    sy: &[f64],
    through_origin: bool,
    units: (&'static str, &'static str),
) -> Result<Line> {
    let k = if through_origin { 1 } else { 2 };
    if x.len() < k {
        return Err(Error::Fit(format!(
            "{} points cannot determine a line",
            x.len()
        )));
    }
    if let Some(i) = sy.iter().position(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(Error::Fit(format!(
            "point {} has no usable error ({})",
            i + 1,
            sy[i]
        )));
    }
    let w: Vec<f64> = sy.iter().map(|s| 1.0 / (s * s)).collect();
    let s = |f: &dyn Fn(usize) -> f64| (0..x.len()).map(|i| w[i] * f(i)).sum::<f64>();
    let (sw, sx, sy_, sxx, sxy) = (
        s(&|_| 1.0),
        s(&|i| x[i]),
        s(&|i| y[i]),
        s(&|i| x[i] * x[i]),
        s(&|i| x[i] * y[i]),
    );
    let (a, b, ea, eb) = if through_origin {
        (0.0, sxy / sxx, 0.0, (1.0 / sxx).sqrt())
    } else {
        let d = sw * sxx - sx * sx;
        if d.abs() <= 1e-12 * sw * sxx {
            return Err(Error::Fit("all points at the same field: no slope".into()));
        }
        (
            (sxx * sy_ - sx * sxy) / d,
            (sw * sxy - sx * sy_) / d,
            (sxx / d).sqrt(),
            (sw / d).sqrt(),
        )
    };
    let chi: f64 = (0..x.len())
        .map(|i| w[i] * (y[i] - a - b * x[i]).powi(2))
        .sum();
    let dof = x.len().saturating_sub(k);
    let redchi = if dof > 0 { chi / dof as f64 } else { f64::NAN };
    let s = birge_ratio(redchi);
    Ok(Line {
        intercept: Quantity::new(a, if through_origin { 0.0 } else { ea * s }, units.0),
        slope: Quantity::new(b, eb * s, units.1),
        redchi,
        n: x.len(),
    })
}

/// g-factor analysis of one carrier's field series.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CarrierSeries {
    pub carrier: String,
    /// |g| from the slope of omega_L(B) through the origin (eq. 1).
    pub g: Quantity,
    /// The check: omega_L(B) with a free intercept (rad/ns), and its slope as |g|.
    pub intercept_check: Option<(Quantity, Quantity)>,
    /// T2*(0) from eq. (3), ps.
    pub t2_zero_field: Option<Quantity>,
    /// g-factor spread dg and dg/|g| from eq. (3).
    pub dg: Option<Quantity>,
    pub dg_relative: Option<Quantity>,
    /// Gaussian g spread (standard deviation) from sigma_w(B), Voigt fits.
    pub dg_inh: Option<Quantity>,
    /// eq. (3)'s dg against sqrt(2 ln 2) dg_inh, in words.
    pub dg_agreement: Option<String>,
    pub redchi_omega: f64,
    /// Set when omega(B) is inconsistent with one line: why, and the
    /// points off it.
    pub inconsistent: Option<String>,
    pub redchi_t2: f64,
    pub redchi_sigma_w: f64,
    /// Points used (at or above the threshold) and left out (below it).
    pub used: Vec<Point>,
    pub excluded: Vec<Point>,
    /// Distinct fields among the used points (repeat scans at one field
    /// count once): a free-intercept line or eq. (3) needs two.
    pub distinct_fields: usize,
    pub convention: &'static str,
}

/// p-value of a line's chi-square below which its points are called
/// inconsistent with one line.
pub const CONSISTENCY_ALPHA: f64 = 1e-3;

/// The Birge ratio sqrt(reduced chi-square) when above 1, else 1: the
/// factor on a line's absolute errors.
fn birge_ratio(redchi: f64) -> f64 {
    if redchi.is_finite() {
        redchi.max(1.0).sqrt()
    } else {
        1.0
    }
}

/// Why omega(B) through the origin with slope `slope` is not one line
/// (None when its chi-square is consistent with the errors).
fn consistency(b: &[f64], w: &[f64], sw: &[f64], slope: f64, redchi: f64) -> Option<String> {
    use statrs::distribution::{ChiSquared, ContinuousCDF};
    let dof = b.len().checked_sub(1).filter(|d| *d > 0)?;
    let p = ChiSquared::new(dof as f64)
        .map(|d| 1.0 - d.cdf(redchi * dof as f64))
        .ok()?;
    if p >= CONSISTENCY_ALPHA {
        return None;
    }
    let off: Vec<String> = (0..b.len())
        .map(|i| (i, (w[i] - slope * b[i]) / sw[i]))
        .filter(|(_, z)| z.abs() > 3.0)
        .map(|(i, z)| format!("{:.1} mT ({z:+.1} sigma)", b[i] * 1e3))
        .collect();
    Some(format!(
        "omega(B) is not one line: reduced chi-square {redchi:.1} over {} points (p = {p:.1e}); error of |g| scaled by sqrt({redchi:.1}); {}",
        b.len(),
        if off.is_empty() {
            "no single point stands out: the scatter is general (several samples or a field error?)"
                .to_string()
        } else {
            format!(
                "off the line: {} (another sample or carrier?)",
                off.join(", ")
            )
        }
    ))
}

/// Number of distinct fields (T, compared to 1 uT): repeat scans at one
/// field count once.
pub fn distinct_fields(fields: impl IntoIterator<Item = f64>) -> usize {
    let mut b: Vec<i64> = fields
        .into_iter()
        .map(|f| (f * 1e6).round() as i64)
        .collect();
    b.sort_unstable();
    b.dedup();
    b.len()
}

/// Analyse one carrier: slopes above `min_field_t`, eq. (3) fit.
pub fn analyse_carrier(carrier: &str, points: &[Point], min_field_t: f64) -> Result<CarrierSeries> {
    let (used, excluded): (Vec<Point>, Vec<Point>) =
        points.iter().partition(|p| p.field_t >= min_field_t);
    if used.is_empty() {
        return Err(Error::Fit(format!(
            "{carrier}: no field at or above {} mT ({} traces below it)",
            min_field_t * 1e3,
            excluded.len()
        )));
    }
    let b: Vec<f64> = used.iter().map(|p| p.field_t).collect();
    let w: Vec<f64> = used.iter().map(|p| p.omega).collect();
    let sw: Vec<f64> = used.iter().map(|p| p.omega_err).collect();
    let k = MU_B_OVER_HBAR_RAD_PER_NS_T;
    let origin = weighted_line(&b, &w, &sw, true, ("rad/ns", "rad/ns/T"))?;
    let g = Quantity::new(origin.slope.value / k, origin.slope.stderr / k, "");
    let inconsistent = consistency(&b, &w, &sw, origin.slope.value, origin.redchi);
    let nb = distinct_fields(used.iter().map(|p| p.field_t));
    let intercept_check = weighted_line(&b, &w, &sw, false, ("rad/ns", "rad/ns/T"))
        .ok()
        .filter(|_| used.len() >= 3 && nb >= 2)
        .map(|l| {
            (
                l.intercept,
                Quantity::new(l.slope.value / k, l.slope.stderr / k, ""),
            )
        });
    let inv: Vec<f64> = used.iter().map(|p| p.hwhm * 1e-3).collect();
    let sinv: Vec<f64> = used.iter().map(|p| p.hwhm_err * 1e-3).collect();
    let t2line = if used.len() >= 3 && nb >= 2 {
        weighted_line(&b, &inv, &sinv, false, ("1/ps", "1/ps/T")).ok()
    } else {
        None
    };
    let (t2_zero_field, dg, dg_relative, redchi_t2) = match t2line {
        Some(l) => {
            let a = l.intercept;
            let t20 = Quantity::new(1.0 / a.value, a.stderr / (a.value * a.value), "ps");
            // slope in ps^-1 T^-1 = dg * mu_B/hbar [rad ns^-1 T^-1] / 1000
            let dg = Quantity::new(l.slope.value * 1e3 / k, l.slope.stderr * 1e3 / k, "");
            let rel = Quantity::new(
                dg.value / g.value,
                (dg.value / g.value).abs()
                    * ((dg.stderr / dg.value).powi(2) + (g.stderr / g.value).powi(2)).sqrt(),
                "",
            );
            (Some(t20), Some(dg), Some(rel), l.redchi)
        }
        None => (None, None, None, f64::NAN),
    };
    let (dg_inh, redchi_sigma_w) = spread_route(&used);
    Ok(CarrierSeries {
        carrier: carrier.to_string(),
        g,
        intercept_check,
        t2_zero_field,
        dg_agreement: dg.zip(dg_inh).map(|(a, b)| agreement(a, b)),
        dg,
        dg_relative,
        dg_inh,
        redchi_omega: origin.redchi,
        inconsistent,
        redchi_t2,
        redchi_sigma_w,
        used,
        excluded,
        distinct_fields: nb,
        convention: DG_CONVENTION,
    })
}

/// The single-trace route: sigma_w(B) through the origin over the points
/// with a sigma_w, at two distinct fields or more; dg_inh and the reduced
/// chi-square.
fn spread_route(used: &[Point]) -> (Option<Quantity>, f64) {
    let with: Vec<(f64, (f64, f64))> = used
        .iter()
        .filter_map(|p| p.sigma_w.map(|s| (p.field_t, s)))
        .collect();
    if distinct_fields(with.iter().map(|w| w.0)) < 2 {
        return (None, f64::NAN);
    }
    let b: Vec<f64> = with.iter().map(|w| w.0).collect();
    let s: Vec<f64> = with.iter().map(|w| w.1.0).collect();
    let e: Vec<f64> = with.iter().map(|w| w.1.1).collect();
    let k = MU_B_OVER_HBAR_RAD_PER_NS_T;
    match weighted_line(&b, &s, &e, true, ("rad/ns", "rad/ns/T")) {
        Ok(l) => (
            Some(Quantity::new(l.slope.value / k, l.slope.stderr / k, "")),
            l.redchi,
        ),
        Err(_) => (None, f64::NAN),
    }
}

/// eq. (3)'s dg (half-width) against the half-width sqrt(2 ln 2) dg_inh.
fn agreement(dg: Quantity, dg_inh: Quantity) -> String {
    let k = super::GAUSS_HWHM_PER_SIGMA;
    let h = Quantity::new(k * dg_inh.value, k * dg_inh.stderr, "");
    let z = (dg.value - h.value) / dg.stderr.hypot(h.stderr);
    format!(
        "{}: eq. (3) dg = {dg} against sqrt(2 ln 2) dg_inh = {h} (half-widths of g), {:.1} combined errors apart",
        if z.abs() <= 2.0 { "agree" } else { "disagree" },
        z.abs()
    )
}

/// Which carrier precesses faster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Larger {
    Electron,
    Hole,
}

/// Assign the components of every trace to two tracks by continuity of
/// |g| = omega / (mu_B B / hbar): tracks start from the traces with two
/// components (larger and smaller |g|), every component then joins the track
/// whose mean |g| is nearest (two components of one trace never share a
/// track). Returns, per track (larger |g| first), (trace index, component index).
pub fn track_components(traces: &[(f64, Vec<f64>)]) -> [Vec<(usize, usize)>; 2] {
    let k = MU_B_OVER_HBAR_RAD_PER_NS_T;
    let g = |b: f64, w: f64| w / (k * b);
    let mut means = [0.0, 0.0];
    let (mut n0, mut n1) = (0, 0);
    for (b, ws) in traces {
        if ws.len() >= 2 {
            let (hi, lo) = (ws[0].max(ws[1]), ws[0].min(ws[1]));
            means[0] += g(*b, hi);
            means[1] += g(*b, lo);
            n0 += 1;
            n1 += 1;
        }
    }
    if n0 == 0 {
        // no trace shows both: everything is one track
        let all = traces
            .iter()
            .enumerate()
            .flat_map(|(i, (_, ws))| (0..ws.len()).map(move |c| (i, c)))
            .collect();
        return [all, vec![]];
    }
    means[0] /= n0 as f64;
    means[1] /= n1 as f64;
    let mut tracks: [Vec<(usize, usize)>; 2] = [vec![], vec![]];
    for (i, (b, ws)) in traces.iter().enumerate() {
        match ws.len() {
            0 => {}
            1 => {
                let gv = g(*b, ws[0]);
                let t = if (gv - means[0]).abs() <= (gv - means[1]).abs() {
                    0
                } else {
                    1
                };
                tracks[t].push((i, 0));
            }
            _ => {
                let (hi, lo) = if ws[0] >= ws[1] { (0, 1) } else { (1, 0) };
                tracks[0].push((i, hi));
                tracks[1].push((i, lo));
            }
        }
    }
    tracks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_through_origin_and_with_intercept_are_exact_on_exact_data() {
        let x = [0.1, 0.2, 0.3, 0.4];
        let y: Vec<f64> = x.iter().map(|v| 2.0 * v).collect();
        let l = weighted_line(&x, &y, &[0.1; 4], true, ("", "")).unwrap();
        assert!((l.slope.value - 2.0).abs() < 1e-12);
        // closed form: sigma_b = sigma / sqrt(sum x^2)
        assert!((l.slope.stderr - 0.1 / (0.3f64).sqrt()).abs() < 1e-12);
        let y: Vec<f64> = x.iter().map(|v| 1.0 + 2.0 * v).collect();
        let l = weighted_line(&x, &y, &[0.1; 4], false, ("", "")).unwrap();
        assert!((l.intercept.value - 1.0).abs() < 1e-12 && (l.slope.value - 2.0).abs() < 1e-12);
    }

    #[test]
    fn points_off_one_line_are_flagged_named_and_widen_the_error() {
        // four fields of one sample (|g| = 1.41) and one of another (1.50):
        // chi-square far above its dof, the stray field named, and the error
        // of |g| the absolute one times sqrt(reduced chi-square)
        let k = MU_B_OVER_HBAR_RAD_PER_NS_T;
        let fields = [0.15, 0.2, 0.3, 0.36, 0.42];
        let pts: Vec<Point> = fields
            .iter()
            .map(|&b| {
                let g = if b == 0.3 { 1.50 } else { 1.41 };
                Point::exponential(b, (g * k * b, 0.05), (200.0, 5.0))
            })
            .collect();
        let s = analyse_carrier("electron", &pts, 0.1).unwrap();
        let why = s.inconsistent.as_deref().expect("flagged");
        assert!(
            why.contains("300.0 mT") && why.contains("not one line"),
            "{why}"
        );
        let sxx: f64 = fields.iter().map(|b| b * b).sum();
        let absolute = 0.05 / sxx.sqrt() / k;
        assert!(s.redchi_omega > 100.0);
        let want = absolute * s.redchi_omega.sqrt();
        assert!(
            (s.g.stderr - want).abs() < 1e-12 * want,
            "{} vs {want}",
            s.g.stderr
        );
        // consistent points: no flag, and no scaling below the absolute error
        let pts: Vec<Point> = fields
            .iter()
            .map(|&b| Point::exponential(b, (1.41 * k * b, 0.05), (200.0, 5.0)))
            .collect();
        let s = analyse_carrier("electron", &pts, 0.1).unwrap();
        assert!(s.inconsistent.is_none() && s.redchi_omega < 1e-20);
        assert!((s.g.stderr - absolute).abs() < 1e-12 * absolute);
    }

    #[test]
    fn eq3_recovers_dg_and_t2_zero_from_exact_points() {
        let k = MU_B_OVER_HBAR_RAD_PER_NS_T;
        let pts: Vec<Point> = [0.05, 0.18, 0.27, 0.35, 0.42]
            .iter()
            .map(|&b| {
                let t2 = 1.0 / (1.0 / 330.0 + 0.22 * k * b / 1000.0);
                Point::exponential(b, (1.41 * k * b, 0.1), (t2, 5.0))
            })
            .collect();
        let s = analyse_carrier("electron", &pts, 0.1).unwrap();
        assert_eq!(s.used.len(), 4);
        assert_eq!(s.excluded.len(), 1);
        assert!((s.g.value - 1.41).abs() < 1e-12);
        assert!((s.dg.unwrap().value - 0.22).abs() < 1e-9);
        assert!((s.t2_zero_field.unwrap().value - 330.0).abs() < 1e-6);
        assert!((s.dg_relative.unwrap().value - 0.22 / 1.41).abs() < 1e-9);
    }

    #[test]
    fn tracking_keeps_carriers_apart_and_places_single_components() {
        let k = MU_B_OVER_HBAR_RAD_PER_NS_T;
        let traces = vec![
            (0.42, vec![0.91 * k * 0.42, 1.41 * k * 0.42]), // order as fitted may vary
            (0.3, vec![1.41 * k * 0.3, 0.91 * k * 0.3]),
            (0.2, vec![0.93 * k * 0.2]), // only the hole seen
        ];
        let t = track_components(&traces);
        assert_eq!(t[0], [(0, 1), (1, 0)]);
        assert_eq!(t[1], [(0, 0), (1, 1), (2, 0)]);
    }
}
