//! Scatter charts with error bars and model curves (omega_L(B), T2*(B),
//! g(E)), and a grid of small panels (every trace of a series with its fit).

use super::{DrawResult, range, to_file};
use crate::error::Result;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Points with error bars; `hollow` draws them greyed (e.g. left out of a fit).
pub struct Points {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub err: Vec<f64>,
    pub color: (u8, u8, u8),
    pub hollow: bool,
}

/// A model curve.
pub struct Curve {
    pub label: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub color: (u8, u8, u8),
    pub dashed: bool,
}

/// Where a chart's legend goes; `Auto` (default): the corner the data
/// leave empty, else above the data in added headroom.
#[derive(Debug, Clone, Copy, Default)]
pub enum Corner {
    #[default]
    Auto,
    UpperLeft,
    UpperRight,
    LowerLeft,
    LowerRight,
}

/// A chart of points and curves.
pub struct XyFigure {
    pub legend: Corner,
    /// Simulated data: the figure says SYNTHETIC.
    pub synthetic: bool,
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub points: Vec<Points>,
    pub curves: Vec<Curve>,
}

/// One small panel of a grid.
pub struct Panel {
    pub title: String,
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    pub curve: (Vec<f64>, Vec<f64>),
}

fn rgb(c: (u8, u8, u8)) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

fn xy<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, fig: &XyFigure) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let xs = fig
        .points
        .iter()
        .flat_map(|p| p.x.iter().copied())
        .chain(fig.curves.iter().flat_map(|c| c.x.iter().copied()));
    let ys = fig
        .points
        .iter()
        .flat_map(|p| {
            p.y.iter()
                .zip(&p.err)
                .flat_map(|(y, e)| [y - e.max(0.0), y + e.max(0.0)])
        })
        .chain(fig.curves.iter().flat_map(|c| c.y.iter().copied()));
    let (x0, x1) = range(xs);
    let yr = range(ys);
    let drawn: Vec<(f64, f64)> = fig
        .points
        .iter()
        .flat_map(|p| p.x.iter().copied().zip(p.y.iter().copied()))
        .chain(
            fig.curves
                .iter()
                .flat_map(|c| c.x.iter().copied().zip(c.y.iter().copied())),
        )
        .collect();
    let lines = fig.points.len() + fig.curves.len();
    let ((y0, y1), pos) = match fig.legend {
        Corner::Auto => match super::emptiest_corner(&drawn, (x0, x1), yr) {
            (pos, 0) => (yr, pos),
            _ => (super::headroom(yr, lines), SeriesLabelPosition::UpperRight),
        },
        Corner::UpperLeft => (yr, SeriesLabelPosition::UpperLeft),
        Corner::UpperRight => (yr, SeriesLabelPosition::UpperRight),
        Corner::LowerLeft => (yr, SeriesLabelPosition::LowerLeft),
        Corner::LowerRight => (yr, SeriesLabelPosition::LowerRight),
    };
    let mut c = ChartBuilder::on(&root)
        .caption(&fig.title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    c.configure_mesh()
        .x_desc(fig.x_label.as_str())
        .y_desc(fig.y_label.as_str())
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    for cu in &fig.curves {
        let col = rgb(cu.color);
        let pts: Vec<(f64, f64)> = cu.x.iter().copied().zip(cu.y.iter().copied()).collect();
        if cu.dashed {
            c.draw_series(DashedLineSeries::new(pts, 6, 4, col.stroke_width(2)))?
                .label(cu.label.as_str())
                .legend(move |(x, y)| {
                    // dashed in the legend too
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (7, 0)], col.stroke_width(2))
                        + PathElement::new(vec![(12, 0), (20, 0)], col.stroke_width(2))
                });
        } else if cu.label.is_empty() {
            // a line through points already in the legend
            c.draw_series(LineSeries::new(pts, col.stroke_width(1)))?;
        } else {
            c.draw_series(LineSeries::new(pts, col.stroke_width(2)))?
                .label(cu.label.as_str())
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], col.stroke_width(2))
                });
        }
    }
    for p in &fig.points {
        let col = if p.hollow {
            RGBColor(170, 170, 170)
        } else {
            rgb(p.color)
        };
        for ((x, y), e) in p.x.iter().zip(&p.y).zip(&p.err) {
            if e.is_finite() && *e > 0.0 {
                c.draw_series(LineSeries::new(
                    [(*x, y - e), (*x, y + e)],
                    col.stroke_width(1),
                ))?;
            }
        }
        let style = if p.hollow {
            col.stroke_width(2)
        } else {
            col.filled()
        };
        c.draw_series(
            p.x.iter()
                .zip(&p.y)
                .map(|(x, y)| Circle::new((*x, *y), 4, style)),
        )?
        .label(p.label.as_str())
        .legend(move |(x, y)| Circle::new((x + 10, y), 4, style));
    }
    c.configure_series_labels()
        .position(pos)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    if fig.synthetic {
        super::synthetic_mark(&root)?;
    }
    root.present()?;
    Ok(())
}

fn grid<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    panels: &[Panel],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let root = root.titled(title, ("sans-serif", 18))?;
    let cols = (panels.len() as f64).sqrt().ceil().max(1.0) as usize;
    let rows = panels.len().div_ceil(cols).max(1);
    for (area, p) in root.split_evenly((rows, cols)).into_iter().zip(panels) {
        let (x0, x1) = range(p.x.iter().copied());
        let (y0, y1) = range(p.y.iter().copied().chain(p.curve.1.iter().copied()));
        let mut c = ChartBuilder::on(&area)
            .caption(&p.title, ("sans-serif", 13))
            .margin(6)
            .x_label_area_size(28)
            .y_label_area_size(50)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        c.configure_mesh()
            .x_desc("delay (ps)")
            .y_desc("signal (arb. u.)")
            .light_line_style(WHITE.mix(0.0))
            .x_labels(4)
            .y_labels(4)
            .draw()?;
        c.draw_series(
            p.x.iter()
                .zip(&p.y)
                .map(|(x, y)| Circle::new((*x, *y), 1, RGBColor(40, 90, 200).filled())),
        )?;
        c.draw_series(LineSeries::new(
            p.curve.0.iter().copied().zip(p.curve.1.iter().copied()),
            RGBColor(220, 40, 40).stroke_width(1),
        ))?;
    }
    root.present()?;
    Ok(())
}

/// Draw a points-and-curves chart (.png or .svg).
pub fn draw_xy(path: &Path, fig: &XyFigure) -> Result<()> {
    let size = (900, 650);
    to_file(path, size, |a| xy(a, fig), |a| xy(a, fig))
}

/// Draw a grid of small panels (.png or .svg).
pub fn draw_grid(path: &Path, title: &str, panels: &[Panel]) -> Result<()> {
    let cols = (panels.len() as f64).sqrt().ceil().max(1.0) as u32;
    let rows = (panels.len() as u32).div_ceil(cols).max(1);
    let size = (420 * cols, 300 * rows + 40);
    to_file(
        path,
        size,
        |a| grid(a, title, panels),
        |a| grid(a, title, panels),
    )
}

#[allow(clippy::needless_range_loop)] // i, j index the matrix and the grid cells alike
/// Blue (-1) -> white (0) -> red (+1).
fn diverging(v: f64) -> RGBColor {
    let v = v.clamp(-1.0, 1.0);
    if v >= 0.0 {
        RGBColor(255, (255.0 * (1.0 - v)) as u8, (255.0 * (1.0 - v)) as u8)
    } else {
        RGBColor((255.0 * (1.0 + v)) as u8, (255.0 * (1.0 + v)) as u8, 255)
    }
}

fn heat<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    labels: &[&str],
    short: &[&str],
    m: &[Vec<f64>],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    use plotters::coord::ranged1d::SegmentValue as S;
    root.fill(&WHITE)?;
    let (w, _) = root.dim_in_pixel();
    let (root, strip) = root.split_horizontally(w.saturating_sub(100));
    super::colour_bar(
        &strip,
        &|t| diverging(2.0 * t - 1.0),
        ("+1", "-1"),
        ("Pearson", "r"),
    )?;
    let n = labels.len();
    let mut c = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(170)
        .build_cartesian_2d((0..n).into_segmented(), (0..n).into_segmented())?;
    let pick = |names: &[&str], v: &S<usize>| match v {
        S::CenterOf(i) => names.get(*i).map(|s| s.to_string()).unwrap_or_default(),
        _ => String::new(),
    };
    c.configure_mesh()
        .disable_mesh()
        .x_labels(n)
        .y_labels(n)
        .x_label_formatter(&|v| pick(short, v))
        .y_label_formatter(&|v| pick(labels, v))
        .draw()?;
    for (i, row) in m.iter().enumerate().take(n) {
        for (j, &v) in row.iter().enumerate().take(n) {
            let col = if v.is_finite() {
                diverging(v)
            } else {
                RGBColor(200, 200, 200)
            };
            c.draw_series(std::iter::once(Rectangle::new(
                [
                    (S::Exact(i), S::Exact(j)),
                    (S::Exact(i + 1), S::Exact(j + 1)),
                ],
                col.filled(),
            )))?;
            c.draw_series(std::iter::once(Text::new(
                format!("{v:.2}"),
                (S::CenterOf(i), S::CenterOf(j)),
                ("sans-serif", 12).into_font().color(&BLACK),
            )))?;
        }
    }
    root.present()?;
    Ok(())
}

/// Heatmap of a square matrix (e.g. Pearson r) with row labels and short
/// column labels.
pub fn draw_heatmap(
    path: &Path,
    title: &str,
    labels: &[&str],
    short: &[&str],
    m: &[Vec<f64>],
) -> Result<()> {
    let size = (950, 800);
    to_file(
        path,
        size,
        |a| heat(a, title, labels, short, m),
        |a| heat(a, title, labels, short, m),
    )
}

/// Name rows i = 0..n of a chart whose y axis runs over 0..n, at y = i + 0.5,
/// right-aligned left of the plotting area. (Plotters' segmented axes place
/// their labels at tick positions of their own choosing; this does not.)
pub(super) fn row_labels<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    c: &ChartContext<
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    x0: f64,
    labels: &[String],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    use plotters::style::text_anchor::{HPos, Pos, VPos};
    let style = ("sans-serif", 13)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (i, l) in labels.iter().enumerate() {
        let (px, py) = c.backend_coord(&(x0, i as f64 + 0.5));
        root.draw(&Text::new(l.clone(), (px - 8, py), style.clone()))?;
    }
    Ok(())
}

fn bars<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    labels: &[String],
    values: &[f64],
    err: &[f64],
) -> DrawResult
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    let n = labels.len();
    let vmax = values
        .iter()
        .enumerate()
        .fold(0.0f64, |m, (i, v)| {
            m.max(v + err.get(i).copied().unwrap_or(0.0))
        })
        .max(1e-300)
        * 1.1;
    let mut c = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 16))
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(200)
        .build_cartesian_2d(0.0..vmax, 0.0..n as f64)?;
    c.configure_mesh()
        .disable_y_mesh()
        .x_desc(x_label)
        .y_labels(0)
        .draw()?;
    row_labels(&root, &c, 0.0, labels)?;
    c.draw_series(values.iter().enumerate().map(|(i, v)| {
        let y = i as f64;
        Rectangle::new(
            [(0.0, y + 0.15), (*v, y + 0.85)],
            RGBColor(40, 90, 200).filled(),
        )
    }))?;
    // whiskers: value +/- error along the bar's centre line
    c.draw_series(err.iter().zip(values).enumerate().map(|(i, (e, v))| {
        let y = i as f64 + 0.5;
        PathElement::new(
            vec![((v - e).max(0.0), y), (v + e, y)],
            RGBColor(20, 20, 20).stroke_width(2),
        )
    }))?;
    root.present()?;
    Ok(())
}

/// Horizontal bar chart (first label at the bottom).
pub fn draw_bars(
    path: &Path,
    title: &str,
    x_label: &str,
    labels: &[String],
    values: &[f64],
) -> Result<()> {
    draw_bars_with_errors(path, title, x_label, labels, values, &[])
}

/// Horizontal bar chart with +/- error whiskers (`err` empty: none).
pub fn draw_bars_with_errors(
    path: &Path,
    title: &str,
    x_label: &str,
    labels: &[String],
    values: &[f64],
    err: &[f64],
) -> Result<()> {
    let size = (850, 120 + 45 * labels.len() as u32);
    to_file(
        path,
        size,
        |a| bars(a, title, x_label, labels, values, err),
        |a| bars(a, title, x_label, labels, values, err),
    )
}
