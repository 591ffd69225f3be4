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
    let (y0, y1) = range(fig.y.iter().copied().chain(fig.curve.1.iter().copied()));
    let mut c = ChartBuilder::on(&top)
        .caption(&fig.title, ("sans-serif", 14))
        .margin(8)
        .x_label_area_size(30)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    c.configure_mesh()
        .y_desc(fig.y_label.as_str())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    c.draw_series(
        fig.x
            .iter()
            .zip(fig.y)
            .map(|(a, b)| Circle::new((*a, *b), 2, RGBColor(40, 90, 200).filled())),
    )?
    .label("data")
    .legend(|(x, y)| Circle::new((x + 10, y), 3, RGBColor(40, 90, 200).filled()));
    c.draw_series(LineSeries::new(
        fig.curve.0.iter().copied().zip(fig.curve.1.iter().copied()),
        RGBColor(220, 40, 40).stroke_width(2),
    ))?
    .label("fit")
    .legend(|(x, y)| {
        PathElement::new(
            vec![(x, y), (x + 20, y)],
            RGBColor(220, 40, 40).stroke_width(2),
        )
    });
    c.configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    let (r0, r1) = range(fig.residual.iter().copied());
    let r = r0.abs().max(r1.abs());
    let mut rc = ChartBuilder::on(&bottom)
        .margin(8)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, -r..r)?;
    rc.configure_mesh()
        .x_desc(fig.x_label.as_str())
        .y_desc("residual")
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    rc.draw_series(LineSeries::new([(x0, 0.0), (x1, 0.0)], BLACK.mix(0.5)))?;
    rc.draw_series(
        fig.x
            .iter()
            .zip(fig.residual)
            .map(|(a, b)| Circle::new((*a, *b), 2, RGBColor(90, 90, 90).filled())),
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
            .y_desc("|FFT|")
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
