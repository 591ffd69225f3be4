//! Figures of a field series and of g versus energy, assembled from results
//! (the curves are the fitted relations, evaluated here for drawing).

use super::gspectrum::GRow;
use crate::error::Result;
use crate::io_util::OutDir;
use crate::physics::MU_B_OVER_HBAR_RAD_PER_NS_T as K;
use crate::physics::kp::{KpParams, g_bulk};
use crate::pipeline::Fitted;
use crate::plot::{
    Corner, Curve, FitFigure, Panel, Points, XyFigure, draw_fit, draw_grid, draw_xy,
};
use crate::scan::ScanKind;
use crate::series::SeriesResult;
use std::path::{Path, PathBuf};

const COLORS: [(u8, u8, u8); 3] = [(210, 50, 40), (40, 90, 200), (40, 150, 60)];

/// omega_L(B), T2*(B) and the grid of traces; returns the files written.
pub fn series_figures(r: &SeriesResult, dir: &OutDir, stem: &str) -> Result<Vec<PathBuf>> {
    let bmax = r.traces.iter().map(|t| t.field_t).fold(0.0, f64::max) * 1.05;
    let synthetic = r.traces.iter().any(|t| t.fitted.record.is_synthetic());
    let grid_b: Vec<f64> = (0..=50).map(|i| bmax * i as f64 / 50.0).collect();
    let (mut w_fig, mut t_fig) = (
        XyFigure {
            legend: Corner::Auto,
            synthetic,
            title: format!(
                "Larmor frequency vs field ({}; two-step: solid, global: dashed)",
                r.sample.as_deref().unwrap_or("series")
            ),
            x_label: "B (T)".into(),
            y_label: "omega_L (rad/ns)".into(),
            points: vec![],
            curves: vec![],
        },
        XyFigure {
            legend: Corner::Auto,
            synthetic,
            title: "spin dephasing time vs field (eq. 3)".into(),
            x_label: "B (T)".into(),
            y_label: "T2* (ps)".into(),
            points: vec![],
            curves: vec![],
        },
    );
    for (k, c) in r.carriers.iter().enumerate() {
        let col = COLORS[k % 3];
        for (pts, hollow, tag) in [
            (&c.used, false, ""),
            (&c.excluded, true, " (below threshold)"),
        ] {
            if pts.is_empty() {
                continue;
            }
            w_fig.points.push(Points {
                label: format!("{}{tag}", c.carrier),
                x: pts.iter().map(|p| p.field_t).collect(),
                y: pts.iter().map(|p| p.omega).collect(),
                err: pts.iter().map(|p| p.omega_err).collect(),
                color: col,
                hollow,
            });
            t_fig.points.push(Points {
                label: format!("{}{tag}", c.carrier),
                x: pts.iter().map(|p| p.field_t).collect(),
                y: pts.iter().map(|p| p.t2).collect(),
                err: pts.iter().map(|p| p.t2_err).collect(),
                color: col,
                hollow,
            });
        }
        w_fig.curves.push(Curve {
            label: format!("two-step |g_{}| = {}", c.carrier, c.g),
            x: grid_b.clone(),
            y: grid_b.iter().map(|b| c.g.value * K * b).collect(),
            color: col,
            dashed: false,
        });
        if let (Some(t0), Some(dg)) = (c.t2_zero_field, c.dg) {
            let b0 = grid_b
                .iter()
                .copied()
                .filter(|b| *b >= r.min_field_t * 0.5)
                .collect::<Vec<_>>();
            t_fig.curves.push(Curve {
                label: format!("{}: T2*(0) = {t0}, dg = {dg}", c.carrier),
                y: b0
                    .iter()
                    .map(|b| 1.0 / (1.0 / t0.value + dg.value * K * b * 1e-3))
                    .collect(),
                x: b0,
                color: col,
                dashed: false,
            });
        }
    }
    if let Some(t) = &r.zero_field_tau {
        // the zero-field spin decay, drawn at B = 0 beside the T2*(B) points
        t_fig.points.push(Points {
            label: format!("zero-field decay tau = {t}"),
            x: vec![0.0],
            y: vec![t.value],
            err: vec![t.stderr],
            color: COLORS[2],
            hollow: false,
        });
    }
    if let Some((_, gc, _)) = &r.global {
        for (k, c) in gc.iter().enumerate() {
            w_fig.curves.push(Curve {
                label: format!("global |g_{}| = {}", c.carrier, c.g),
                x: grid_b.clone(),
                y: grid_b.iter().map(|b| c.g.value * K * b).collect(),
                color: COLORS[k % 3],
                dashed: true,
            });
        }
    }
    let panels: Vec<Panel> = r
        .zero_field
        .iter()
        .map(|f| (0.0, f))
        .chain(r.traces.iter().map(|t| (t.field_t, &t.fitted)))
        .map(|(b, f)| Panel {
            title: format!("{:.0} mT", b * 1e3),
            x: f.record.fit.x.clone(),
            y: f.record.fit.y.clone(),
            curve: f.curve.clone(),
        })
        .collect();
    let files = [
        dir.path(&format!("{stem}_omega_vs_field.png"))?,
        dir.path(&format!("{stem}_t2_vs_field.png"))?,
        dir.path(&format!("{stem}_traces.png"))?,
    ];
    draw_xy(&files[0], &w_fig)?;
    draw_xy(&files[1], &t_fig)?;
    draw_grid(
        &files[2],
        &format!(
            "{}: every trace with its fit{}",
            r.sample.as_deref().unwrap_or("field series"),
            if synthetic { " (SYNTHETIC data)" } else { "" }
        ),
        &panels,
    )?;
    Ok(files.to_vec())
}

/// g_e, g_h, g_BX versus energy with the bulk k.p curves; `signs` are the
/// assumed signs of g_e and g_h (TRFE measures |g|), said on the axis.
pub fn gspectrum_figure(
    rows: &[GRow],
    kp: &KpParams,
    signs: (f64, f64),
    synthetic: bool,
    path: &Path,
) -> Result<()> {
    let sign = |s: f64| if s > 0.0 { "+" } else { "-" };
    let (e0, e1) = rows
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), r| {
            (a.min(r.energy_ev), b.max(r.energy_ev))
        });
    let (e0, e1) = (e0 - 0.1, e1 + 0.1);
    let es: Vec<f64> = (0..=100)
        .map(|i| e0 + (e1 - e0) * i as f64 / 100.0)
        .collect();
    let mut fig = XyFigure {
        legend: Corner::Auto,
        synthetic,
        title: "g-factors vs photon energy".into(),
        x_label: "photon energy (eV)".into(),
        y_label: format!(
            "g (dimensionless; from |g|, signs assumed: g_e {}, g_h {})",
            sign(signs.0),
            sign(signs.1)
        ),
        points: vec![],
        curves: vec![],
    };
    type Pick = fn(&GRow) -> Option<crate::physics::Quantity>;
    let picks: [(&str, Pick, (u8, u8, u8)); 3] = [
        ("g_e", |r| r.g_e, COLORS[0]),
        ("g_h", |r| r.g_h, COLORS[1]),
        ("g_BX = g_e + g_h", |r| r.g_bx, COLORS[2]),
    ];
    for (name, f, col) in picks {
        let name = match name {
            "g_e" => format!("g_e = {}|g_e|", sign(signs.0)),
            "g_h" => format!("g_h = {}|g_h|", sign(signs.1)),
            n => n.to_string(),
        };
        let v: Vec<(f64, crate::physics::Quantity)> = rows
            .iter()
            .filter_map(|r| f(r).map(|q| (r.energy_ev, q)))
            .collect();
        if !v.is_empty() {
            fig.points.push(Points {
                label: name,
                x: v.iter().map(|p| p.0).collect(),
                y: v.iter().map(|p| p.1.value).collect(),
                err: v.iter().map(|p| p.1.stderr).collect(),
                color: col,
                hollow: false,
            });
        }
    }
    let bulk: Vec<(f64, f64)> = es.iter().map(|e| g_bulk(*e, kp)).collect();
    // (g_e, g_h) -> the curve's value
    type Bulk = fn(&(f64, f64)) -> f64;
    let curves: [(&str, Bulk); 3] = [
        ("bulk k.p g_e", |b| b.0),
        ("bulk k.p g_h", |b| b.1),
        ("bulk k.p g_e + g_h", |b| b.0 + b.1),
    ];
    for ((label, g), color) in curves.into_iter().zip(COLORS) {
        fig.curves.push(Curve {
            label: label.into(),
            x: es.clone(),
            y: bulk.iter().map(g).collect(),
            color,
            dashed: true,
        });
    }
    draw_xy(path, &fig)
}

/// Data, fit and residuals of one scan (and the spectrum for precession).
pub fn fit_figure(path: &Path, f: &Fitted) -> Result<()> {
    let r = &f.record;
    let yl = match (r.kind, r.signal.as_str()) {
        (ScanKind::Tr, "SC - CC") => "spin signal SC - CC (arb. u.)".to_string(),
        (ScanKind::Tr, "P") => "polarisation degree (SC-CC)/(SC+CC)".to_string(),
        (ScanKind::Trfe, "signal") => "Faraday ellipticity (arb. u.)".to_string(),
        (_, s) => format!("{s} (arb. u.)"),
    };
    let marks = match &r.derived {
        crate::pipeline::Derived::Trfe { carriers, .. } => {
            carriers.iter().map(|c| c.omega.value).collect()
        }
        _ => vec![],
    };
    let name = Path::new(&r.file)
        .file_name()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    draw_fit(
        path,
        &FitFigure {
            title: format!("{name}: {}", r.fit.model),
            x_label: "pump-probe delay (ps)".into(),
            y_label: yl,
            x: &r.fit.x,
            y: &r.fit.y,
            curve: f.curve.clone(),
            residual: &r.fit.residual,
            spectrum: f
                .spectrum
                .as_ref()
                .map(|s| (&s.omega[..], &s.amplitude[..], marks)),
            values: r.value_lines(),
            synthetic: r.is_synthetic(),
            // TR: the pulse overlap on a linear axis, the decay on a log one
            split_at: (r.kind == ScanKind::Tr)
                .then(|| r.fit.x.first().map_or(1.0, |x| x.abs().max(1.0))),
        },
    )
}
