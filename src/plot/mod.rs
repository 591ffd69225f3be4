//! Figures: drawing only, never physics. Callers pass data, the model curve
//! evaluated on a fine grid and the residuals; PNG or SVG by file extension.
//! Fonts are DejaVu Sans compiled in, so no system fonts are needed.

mod charts;
mod ml;

pub use charts::{
    Corner, Curve, Panel, Points, XyFigure, draw_bars, draw_bars_with_errors, draw_grid,
    draw_heatmap, draw_xy,
};
pub use ml::{draw_beeswarm, draw_histogram};

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;
use std::sync::Once;

/// Everything one fit figure shows.
pub struct FitFigure<'a> {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub x: &'a [f64],
    pub y: &'a [f64],
    /// The model on a fine grid.
    pub curve: (Vec<f64>, Vec<f64>),
    pub residual: &'a [f64],
    /// Spectrum used for start values: (omega rad/ns, amplitude, fitted omegas).
    pub spectrum: Option<(&'a [f64], &'a [f64], Vec<f64>)>,
    /// The fitted values with their errors and units, one line each
    /// ("tau = 7.76 +/- 0.12 ps"), shown in the legend.
    pub values: Vec<String>,
    /// Simulated data: the figure says SYNTHETIC.
    pub synthetic: bool,
    /// A split delay axis: linear up to this delay, logarithmic beyond (TR).
    pub split_at: Option<f64>,
}

/// The split delay axis: linear up to `ts`, then log10 over the rest, the
/// log part taking `LOG_SHARE` of the width. u(x) = x for x <= ts, else
/// ts + w log10(x / ts) with w = (ts - x0) LOG_SHARE / ((1 - LOG_SHARE) log10(x1 / ts)).
#[derive(Clone, Copy)]
pub(crate) struct SplitAxis {
    ts: f64,
    w: f64,
}

const LOG_SHARE: f64 = 0.7;

impl SplitAxis {
    /// The axis for data over `x0..x1`, if a split at `ts` helps: the data
    /// reach past ten times it.
    pub(crate) fn new(ts: f64, x0: f64, x1: f64) -> Option<SplitAxis> {
        (ts > 0.0 && x0 < ts && x1 > 10.0 * ts).then(|| SplitAxis {
            ts,
            w: (ts - x0) * LOG_SHARE / ((1.0 - LOG_SHARE) * (x1 / ts).log10()),
        })
    }
    pub(crate) fn to_u(self, x: f64) -> f64 {
        if x <= self.ts {
            x
        } else {
            self.ts + self.w * (x / self.ts).log10()
        }
    }
    pub(crate) fn to_x(self, u: f64) -> f64 {
        if u <= self.ts {
            u
        } else {
            self.ts * 10f64.powf((u - self.ts) / self.w)
        }
    }
}

/// The legend corner the data leave emptiest: the fewest points of `pts`
/// (in chart coordinates) inside a corner box of 40 % x 35 % of the ranges,
/// with the count (0: the legend covers nothing there).
pub(crate) fn emptiest_corner(
    pts: &[(f64, f64)],
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
) -> (SeriesLabelPosition, usize) {
    let (bw, bh) = ((x1 - x0) * 0.4, (y1 - y0) * 0.35);
    let corners = [
        (SeriesLabelPosition::UpperRight, x1 - bw, x1, y1 - bh, y1),
        (SeriesLabelPosition::UpperLeft, x0, x0 + bw, y1 - bh, y1),
        (SeriesLabelPosition::LowerRight, x1 - bw, x1, y0, y0 + bh),
        (SeriesLabelPosition::LowerLeft, x0, x0 + bw, y0, y0 + bh),
    ];
    corners
        .into_iter()
        .map(|(pos, a, b, c, d)| {
            let n = pts
                .iter()
                .filter(|(x, y)| (a..=b).contains(x) && (c..=d).contains(y))
                .count();
            (pos, n)
        })
        .min_by_key(|(_, n)| *n)
        .unwrap_or((SeriesLabelPosition::UpperRight, 0))
}

/// Room for a legend of `lines` entries where the data are: the y range
/// grown upward so that the upper corner boxes hold no data.
pub(crate) fn headroom((y0, y1): (f64, f64), lines: usize) -> (f64, f64) {
    let share = (0.06 * lines as f64 + 0.04).min(0.6);
    (y0, y1 + (y1 - y0) * share / (1.0 - share))
}

/// A vertical colour scale in the strip `a`: `shade(t)` for t from 1 (top,
/// labelled `ends.0`) to 0 (bottom, `ends.1`), titled by two short lines.
pub(crate) fn colour_bar<DB: DrawingBackend>(
    a: &DrawingArea<DB, Shift>,
    shade: &dyn Fn(f64) -> RGBColor,
    ends: (&str, &str),
    title: (&str, &str),
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    let (_, h) = a.dim_in_pixel();
    let (top, bottom) = (60i32, h as i32 - 60);
    let (x0, x1) = (20i32, 40i32);
    let steps = 100;
    for k in 0..steps {
        let t = 1.0 - k as f64 / (steps - 1) as f64;
        let y = top + (bottom - top) * k / steps;
        let y2 = top + (bottom - top) * (k + 1) / steps;
        a.draw(&Rectangle::new([(x0, y), (x1, y2 + 1)], shade(t).filled()))?;
    }
    a.draw(&Rectangle::new(
        [(x0, top), (x1, bottom)],
        BLACK.stroke_width(1),
    ))?;
    let font = ("sans-serif", 13).into_font();
    a.draw(&Text::new(ends.0.to_string(), (x1 + 6, top), font.clone()))?;
    a.draw(&Text::new(
        ends.1.to_string(),
        (x1 + 6, bottom - 12),
        font.clone(),
    ))?;
    a.draw(&Text::new(title.0.to_string(), (4, top - 36), font.clone()))?;
    a.draw(&Text::new(title.1.to_string(), (4, top - 20), font))?;
    Ok(())
}

/// "SYNTHETIC" across the top right of a chart area, for simulated data.
pub(crate) fn synthetic_mark<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>) -> DrawResult
where
    DB::ErrorType: 'static,
{
    area.draw(&Text::new(
        "SYNTHETIC",
        (6, 4),
        ("sans-serif", 16)
            .into_font()
            .style(FontStyle::Bold)
            .color(&RGBColor(200, 30, 30)),
    ))?;
    Ok(())
}

static FONTS: Once = Once::new();

pub(crate) fn fonts() {
    FONTS.call_once(|| {
        let _ = plotters::style::register_font(
            "sans-serif",
            FontStyle::Normal,
            dejavu::sans::regular(),
        );
        let _ = plotters::style::register_font("sans-serif", FontStyle::Bold, dejavu::sans::bold());
    });
}

pub(crate) fn range(v: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = v
        .filter(|x| x.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.05).max(1e-12 * hi.abs().max(1.0));
    (lo - pad, hi + pad)
}

pub(crate) type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

fn draw<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, fig: &FitFigure) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let (main, side) = match fig.spectrum {
        Some(_) => {
            let (w, _) = root.dim_in_pixel();
            let (a, b) = root.split_horizontally((w as f64 * 0.68) as u32);
            (a, Some(b))
        }
        None => (root.clone(), None),
    };
    let (_, h) = main.dim_in_pixel();
    let (top, bottom) = main.split_vertically((h as f64 * 0.7) as u32);
    let (x0, x1) = range(fig.x.iter().copied().chain(fig.curve.0.iter().copied()));
    let split = fig.split_at.and_then(|ts| SplitAxis::new(ts, x0, x1));
    let u = |x: f64| split.map_or(x, |s| s.to_u(x));
    let (u0, u1) = (u(x0), u(x1));
    let data: Vec<(f64, f64)> = fig.x.iter().zip(fig.y).map(|(a, b)| (u(*a), *b)).collect();
    let yr = range(fig.y.iter().copied().chain(fig.curve.1.iter().copied()));
    let lines = 2 + fig.values.len();
    let (pos, covered) = emptiest_corner(&data, (u0, u1), yr);
    let ((y0, y1), pos) = if covered > 0 {
        (headroom(yr, lines), SeriesLabelPosition::UpperRight)
    } else {
        (yr, pos)
    };
    let tick = |v: &f64| crate::units::fmt_sig(split.map_or(*v, |s| s.to_x(*v)), 2);
    let x_desc = match split {
        Some(s) => format!(
            "{} (linear to {} ps, logarithmic beyond)",
            fig.x_label,
            crate::units::fmt_sig(s.ts, 2)
        ),
        None => fig.x_label.clone(),
    };
    let mut c = ChartBuilder::on(&top)
        .caption(&fig.title, ("sans-serif", 14))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(u0..u1, y0..y1)?;
    c.configure_mesh()
        .y_desc(fig.y_label.as_str())
        .x_label_formatter(&tick)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    c.draw_series(
        data.iter()
            .map(|p| Circle::new(*p, 2, RGBColor(40, 90, 200).filled())),
    )?
    .label("data")
    .legend(|(x, y)| Circle::new((x + 10, y), 3, RGBColor(40, 90, 200).filled()));
    c.draw_series(LineSeries::new(
        fig.curve
            .0
            .iter()
            .map(|x| u(*x))
            .zip(fig.curve.1.iter().copied()),
        RGBColor(220, 40, 40).stroke_width(2),
    ))?
    .label("fit")
    .legend(|(x, y)| {
        PathElement::new(
            vec![(x, y), (x + 20, y)],
            RGBColor(220, 40, 40).stroke_width(2),
        )
    });
    for v in &fig.values {
        c.draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
            .label(format!("  {v}"))
            .legend(|(x, y)| EmptyElement::at((x, y)));
    }
    if let Some(s) = split {
        c.draw_series(DashedLineSeries::new(
            [(s.ts, y0), (s.ts, y1)],
            4,
            4,
            BLACK.mix(0.3).stroke_width(1),
        ))?;
    }
    c.configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    if fig.synthetic {
        synthetic_mark(&root)?;
    }
    let (r0, r1) = range(fig.residual.iter().copied());
    let r = r0.abs().max(r1.abs());
    let mut rc = ChartBuilder::on(&bottom)
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(u0..u1, -r..r)?;
    rc.configure_mesh()
        .x_desc(x_desc.as_str())
        .y_desc("fit - data (arb. u.)")
        .x_label_formatter(&tick)
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    rc.draw_series(LineSeries::new([(u0, 0.0), (u1, 0.0)], BLACK.mix(0.5)))?;
    rc.draw_series(
        fig.x
            .iter()
            .zip(fig.residual)
            .map(|(a, b)| Circle::new((u(*a), *b), 2, RGBColor(90, 90, 90).filled())),
    )?;
    if let (Some(area), Some((w, a, marks))) = (side, &fig.spectrum) {
        let (_, amax) = range(a.iter().copied());
        let wmax = marks.iter().fold(0.0f64, |m, v| m.max(*v)).max(1.0) * 2.0;
        let mut sc = ChartBuilder::on(&area)
            .caption("spectrum (start values)", ("sans-serif", 15))
            .margin(8)
            .x_label_area_size(40)
            .y_label_area_size(50)
            .build_cartesian_2d(0.0..wmax, 0.0..amax)?;
        sc.configure_mesh()
            .x_desc("omega (rad/ns)")
            .y_desc("|FFT| (arb. u.)")
            .light_line_style(WHITE.mix(0.0))
            .draw()?;
        sc.draw_series(LineSeries::new(
            w.iter()
                .copied()
                .zip(a.iter().copied())
                .filter(|p| p.0 <= wmax),
            RGBColor(40, 90, 200),
        ))?;
        for m in marks {
            sc.draw_series(LineSeries::new(
                [(*m, 0.0), (*m, amax)],
                RGBColor(220, 40, 40).stroke_width(1),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}

/// Draw `fig` to `path` (.png or .svg).
pub fn draw_fit(path: &Path, fig: &FitFigure) -> Result<()> {
    let size = if fig.spectrum.is_some() {
        (1300, 700)
    } else {
        (950, 700)
    };
    to_file(path, size, |a| draw(a, fig), |a| draw(a, fig))
}

/// Write a figure of `size` pixels to `path`, PNG or SVG by its extension.
/// PNGs are drawn into memory and encoded with fast compression and a
/// fixed filter: the default adaptive filtering took a quarter of a whole
/// session's time, for files a few percent smaller.
pub(crate) fn to_file(
    path: &Path,
    size: (u32, u32),
    png: impl for<'b> FnOnce(DrawingArea<BitMapBackend<'b>, Shift>) -> DrawResult,
    svg: impl for<'b> FnOnce(DrawingArea<SVGBackend<'b>, Shift>) -> DrawResult,
) -> Result<()> {
    fonts();
    let plot_err = |e: Box<dyn std::error::Error>| Error::Plot {
        path: path.to_path_buf(),
        msg: e.to_string(),
    };
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("png") => {
            let mut buf = vec![255u8; size.0 as usize * size.1 as usize * 3];
            png(BitMapBackend::with_buffer(&mut buf, size).into_drawing_area())
                .map_err(plot_err)?;
            crate::io_util::write_with(path, |tmp| encode_png(tmp, size, &buf).map_err(plot_err))
        }
        Some("svg") => crate::io_util::write_with(path, |tmp| {
            svg(SVGBackend::new(tmp, size).into_drawing_area()).map_err(plot_err)
        }),
        _ => Err(Error::Plot {
            path: path.to_path_buf(),
            msg: "unknown figure format: use a .png or .svg file name".into(),
        }),
    }
}

fn encode_png(path: &Path, size: (u32, u32), rgb: &[u8]) -> DrawResult {
    let file = std::io::BufWriter::new(std::fs::File::create(path)?);
    let mut enc = png::Encoder::new(file, size.0, size.1);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    enc.set_filter(png::FilterType::Sub);
    enc.set_adaptive_filter(png::AdaptiveFilterType::NonAdaptive);
    enc.write_header()?.write_image_data(rgb)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_axis_is_linear_then_logarithmic_and_inverts() {
        let s = SplitAxis::new(2.0, -2.0, 200.0).unwrap();
        for x in [-2.0, 0.0, 1.5, 2.0, 5.0, 60.0, 200.0] {
            assert!(
                (s.to_x(s.to_u(x)) - x).abs() < 1e-9 * x.abs().max(1.0),
                "{x}"
            );
        }
        // the log part takes LOG_SHARE of the width
        let share = (s.to_u(200.0) - s.to_u(2.0)) / (s.to_u(200.0) - s.to_u(-2.0));
        assert!((share - LOG_SHARE).abs() < 1e-12);
        // equal ratios take equal widths beyond the split
        assert!(((s.to_u(20.0) - s.to_u(2.0)) - (s.to_u(200.0) - s.to_u(20.0))).abs() < 1e-9);
        // no split when the data end near it
        assert!(SplitAxis::new(2.0, -2.0, 15.0).is_none());
    }

    #[test]
    fn the_legend_goes_where_no_data_are() {
        // a decay: data high on the left, low on the right
        let pts: Vec<(f64, f64)> = (0..100)
            .map(|i| (i as f64, (-(i as f64) / 20.0).exp()))
            .collect();
        let (pos, n) = emptiest_corner(&pts, (0.0, 100.0), (0.0, 1.0));
        assert_eq!(n, 0);
        assert!(matches!(pos, SeriesLabelPosition::UpperRight), "{pos:?}");
        // data everywhere: no empty corner, so headroom above them
        let full: Vec<(f64, f64)> = (0..400)
            .map(|i| ((i % 20) as f64 / 19.0, (i / 20) as f64 / 19.0))
            .collect();
        let (_, n) = emptiest_corner(&full, (0.0, 1.0), (0.0, 1.0));
        assert!(n > 0);
        let (lo, hi) = headroom((0.0, 1.0), 4);
        // a legend of 4 lines (about 18 px each of a 450 px chart, plus its
        // border) fits in the added room above every point
        let legend = (4.0 * 18.0 + 12.0) / 450.0;
        assert!(lo == 0.0 && hi - legend * (hi - lo) > 1.0, "{hi}");
    }
}
