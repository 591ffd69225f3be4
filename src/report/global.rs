//! What a global map fit reports: the text report, the JSON document, the
//! spectra table and the figures.
//!
//! JSON schema `spinfit.global/1`:
//! ```text
//! { "schema": "spinfit.global/1", "file", "model", "n_exp", "converged",
//!   "termination", "status": "ok"|"untrustworthy",
//!   "lifetimes": [quantity ps], "rates": [quantity ps^-1],
//!   "t0": quantity ps, "lambda_ref_nm", "chirp": [quantity ps per (100 nm)^k],
//!   "irf_fwhm": quantity ps,
//!   "statistics": {"ndata", "nvarys", "nfev", "chisqr", "redchi", "bic"},
//!   "candidates": [{"n_exp", "chisqr", "bic", "converged", "chosen"}],
//!   "svd_data": [...], "svd_residual": [...], "notes": [...],
//!   "columns": [amplitude column names, as in the spectra CSV],
//!   "spectra": "<file>.csv" }
//! ```
//! Every quantity is `{"value", "stderr", "unit"}`, `stderr` null when
//! undetermined. The spectra CSV has `wavelength_nm` and per amplitude
//! column (`das_1..das_N` of the lifetimes in order, `step`, `offset`,
//! `artefact_0..2`, then the sequential scheme's `eas_1..eas_N`) its value
//! and `_stderr`, in the map's signal unit.

use crate::error::Result;
use crate::fit::map::MapFit;
use crate::io_util::OutDir;
use crate::plot::{Corner, Curve, Panel, Points, XyFigure, draw_grid, draw_xy};
use serde_json::{Value, json};
use std::fmt::Write as _;
use std::path::PathBuf;

/// Trustworthy: converged, every shared error finite, no note raised.
pub fn trustworthy(f: &MapFit) -> bool {
    f.converged && f.notes.is_empty()
}

/// The report a physicist reads.
pub fn to_text(f: &MapFit, file: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{file}: global fit, {}", f.model);
    let _ = writeln!(
        s,
        "  {} wavelengths {:.1}-{:.1} nm x {} delays, {} data points, {} free parameters",
        f.wavelength_nm.len(),
        f.wavelength_nm
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min),
        f.wavelength_nm
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max),
        f.delay_ps.len(),
        f.statistics.ndata,
        f.statistics.nvarys
    );
    for (k, (t, r)) in f.lifetimes.iter().zip(&f.rates).enumerate() {
        let _ = writeln!(
            s,
            "  tau_{} = {} ps   (rate {} ps^-1)",
            k + 1,
            pm(t.value, t.stderr),
            pm(r.value, r.stderr)
        );
    }
    let _ = writeln!(
        s,
        "  t0 = {} ps at {:.1} nm",
        pm(f.t0.value, f.t0.stderr),
        f.lambda_ref_nm
    );
    for (k, d) in f.chirp.iter().enumerate() {
        let _ = writeln!(
            s,
            "  chirp_{} = {} ps per (100 nm)^{}",
            k + 1,
            pm(d.value, d.stderr),
            k + 1
        );
    }
    let _ = writeln!(
        s,
        "  IRF FWHM = {} ps",
        pm(f.irf_fwhm.value, f.irf_fwhm.stderr)
    );
    let _ = writeln!(
        s,
        "  chi-square {:.6e}, reduced {:.6e}, BIC {:.2}, {} evaluations, {}",
        f.statistics.chisqr,
        f.statistics.redchi,
        f.statistics.bic,
        f.statistics.nfev,
        f.termination
    );
    if f.candidates.len() > 1 {
        let best = f
            .candidates
            .iter()
            .map(|c| c.bic)
            .fold(f64::INFINITY, f64::min);
        let list: Vec<String> = f
            .candidates
            .iter()
            .map(|c| format!("{}: dBIC {:.1}", c.n_exp, c.bic - best))
            .collect();
        let _ = writeln!(s, "  components by BIC: {}", list.join(", "));
    }
    let sv = |v: &[f64]| {
        v.iter()
            .take(5)
            .map(|x| format!("{x:.4e}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let _ = writeln!(
        s,
        "  singular values: data {}; residual {}",
        sv(&f.svd_data),
        sv(&f.svd_residual)
    );
    for n in &f.notes {
        let _ = writeln!(s, "  note: {n}");
    }
    let _ = writeln!(
        s,
        "  status: {}",
        if trustworthy(f) {
            "ok"
        } else {
            "untrustworthy"
        }
    );
    s
}

/// value +/- error with the error's two significant digits.
fn pm(v: f64, e: f64) -> String {
    if !e.is_finite() || e <= 0.0 {
        return format!("{v:.6} +/- (undetermined)");
    }
    let digits = (2 - e.log10().floor() as i32 - 1).clamp(0, 12) as usize;
    format!("{v:.digits$} +/- {e:.digits$}")
}

/// The JSON document.
pub fn to_json(f: &MapFit, file: &str, spectra: &str) -> Value {
    let mut v = serde_json::to_value(f).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        for k in [
            "wavelength_nm",
            "amplitude",
            "amplitude_stderr",
            "eas",
            "eas_stderr",
        ] {
            m.remove(k);
        }
        m.insert("schema".into(), json!("spinfit.global/1"));
        m.insert("file".into(), json!(file));
        m.insert(
            "status".into(),
            json!(if trustworthy(f) {
                "ok"
            } else {
                "untrustworthy"
            }),
        );
        m.insert("spectra".into(), json!(spectra));
    }
    v
}

/// The spectra table: wavelength, then each column with its error.
pub fn spectra_csv(f: &MapFit) -> String {
    let mut s = String::from("wavelength_nm");
    for c in &f.columns {
        let _ = write!(s, ",{c},{c}_stderr");
    }
    for i in 1..=f.eas.len() {
        let _ = write!(s, ",eas_{i},eas_{i}_stderr");
    }
    s.push('\n');
    for (l, w) in f.wavelength_nm.iter().enumerate() {
        let _ = write!(s, "{w}");
        for c in 0..f.columns.len() {
            let _ = write!(s, ",{:e},{:e}", f.amplitude[c][l], f.amplitude_stderr[c][l]);
        }
        for i in 0..f.eas.len() {
            let _ = write!(s, ",{:e},{:e}", f.eas[i][l], f.eas_stderr[i][l]);
        }
        s.push('\n');
    }
    s
}

const COLORS: [(u8, u8, u8); 6] = [
    (210, 50, 40),
    (40, 90, 200),
    (40, 150, 60),
    (150, 60, 170),
    (230, 140, 20),
    (60, 60, 60),
];

/// Spectra (one per lifetime) with 1-sigma error bars.
fn spectra_figure(
    f: &MapFit,
    title: String,
    values: &[Vec<f64>],
    errors: &[Vec<f64>],
    synthetic: bool,
) -> XyFigure {
    let mut fig = XyFigure {
        legend: Corner::Auto,
        synthetic,
        title,
        x_label: "probe wavelength (nm)".into(),
        y_label: "amplitude (signal)".into(),
        points: vec![],
        curves: vec![],
    };
    for (k, t) in f.lifetimes.iter().enumerate().take(values.len()) {
        let color = COLORS[k % COLORS.len()];
        fig.points.push(Points {
            label: format!("tau_{} = {} ps", k + 1, pm(t.value, t.stderr)),
            x: f.wavelength_nm.clone(),
            y: values[k].clone(),
            err: errors[k].clone(),
            color,
            hollow: false,
        });
        fig.curves.push(Curve {
            label: String::new(),
            x: f.wavelength_nm.clone(),
            y: values[k].clone(),
            color,
            dashed: false,
        });
    }
    fig
}

/// The decay- and evolution-associated spectra with their 1-sigma errors,
/// and the traces at six wavelengths with their fits; returns the files
/// written.
pub fn figures(f: &MapFit, dir: &OutDir, stem: &str, synthetic: bool) -> Result<Vec<PathBuf>> {
    let n = f.lifetimes.len();
    let das = spectra_figure(
        f,
        format!("{stem}: decay-associated spectra (1-sigma error bars)"),
        &f.amplitude[..n],
        &f.amplitude_stderr[..n],
        synthetic,
    );
    let nl = f.wavelength_nm.len();
    let k = 6.min(nl);
    let picks: Vec<usize> = (0..k).map(|i| i * (nl - 1) / (k - 1).max(1)).collect();
    let panels: Vec<Panel> = picks
        .iter()
        .map(|&l| Panel {
            title: format!("{:.1} nm", f.wavelength_nm[l]),
            x: f.delay_ps.clone(),
            y: (0..f.delay_ps.len())
                .map(|j| f.fitted[[l, j]] - f.residual[[l, j]])
                .collect(),
            curve: (f.delay_ps.clone(), f.fitted.row(l).to_vec()),
        })
        .collect();
    let mut files = vec![
        dir.path(&format!("{stem}_das.png"))?,
        dir.path(&format!("{stem}_traces.png"))?,
    ];
    draw_xy(&files[0], &das)?;
    if !f.eas.is_empty() {
        let eas = spectra_figure(
            f,
            format!("{stem}: evolution-associated spectra, sequential scheme"),
            &f.eas,
            &f.eas_stderr,
            synthetic,
        );
        files.push(dir.path(&format!("{stem}_eas.png"))?);
        draw_xy(&files[2], &eas)?;
    }
    draw_grid(
        &files[1],
        &format!(
            "{stem}: traces with the global fit{}",
            if synthetic { " (SYNTHETIC data)" } else { "" }
        ),
        &panels,
    )?;
    Ok(files)
}

/// `<map>_global.h5`: the axes (`wavelength_nm`, `delay_ps`), the maps
/// (`data`, `fitted`, `residual`: wavelengths x delays, residual = fit -
/// data), the spectra (`amplitude`, `amplitude_stderr`: columns x
/// wavelengths, named by the attribute `columns`; `eas`, `eas_stderr`) and
/// the JSON document as the attribute `result_json`; written atomically.
pub fn write_h5(f: &MapFit, doc: &Value, path: &std::path::Path) -> Result<()> {
    use super::session_out::{attr, attr_list, column, h5e};
    crate::io_util::write_with(path, |tmp| {
        let e = h5e(tmp);
        let h = crate::scan::h5::create_strong(tmp).map_err(&e)?;
        attr(&h, "format", "spinfit-global").map_err(&e)?;
        attr(&h, "version", "1").map_err(&e)?;
        attr(&h, "result_json", &doc.to_string()).map_err(&e)?;
        column(&h, "wavelength_nm", &f.wavelength_nm).map_err(&e)?;
        column(&h, "delay_ps", &f.delay_ps).map_err(&e)?;
        let data = &f.fitted - &f.residual;
        for (name, m) in [
            ("data", &data),
            ("fitted", &f.fitted),
            ("residual", &f.residual),
        ] {
            h.new_dataset_builder()
                .with_data(m.view())
                .create(name)
                .map_err(&e)?;
        }
        for (name, v) in [
            ("amplitude", &f.amplitude),
            ("amplitude_stderr", &f.amplitude_stderr),
            ("eas", &f.eas),
            ("eas_stderr", &f.eas_stderr),
        ] {
            let a = f.table(v);
            let d = h
                .new_dataset_builder()
                .with_data(a.view())
                .create(name)
                .map_err(&e)?;
            if name.starts_with("amplitude") {
                attr_list(&d, "columns", &f.columns).map_err(&e)?;
            }
        }
        Ok(())
    })
}
