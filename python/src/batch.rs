//! Python: field series, g spectra, whole sessions and the dataset, each
//! one library call with the GIL released, returning the library's JSON
//! documents as text (the package parses them into dicts).

use crate::{Options, given_of, to_py};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use spinfit::scan::ScanKind;
use spinfit::session::settings::{Resolver, config_for};
use std::path::PathBuf;

fn json_text(v: &serde_json::Value) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// A field series: every TRFE trace in `paths` (files or folders) fitted,
/// then |g| from omega_L(B) and dg from 1/T2*(B) per carrier
/// (`spinfit gfactor`; settings as it takes them, over the folder's
/// `spinfit.toml`). Returns the `spinfit.gfactor/1` JSON text.
#[pyfunction]
#[pyo3(signature = (paths, options=Options::new()))]
fn _gfactor(py: Python<'_>, paths: Vec<PathBuf>, options: Options) -> PyResult<String> {
    let given = given_of(options)?;
    py.detach(|| -> spinfit::Result<serde_json::Value> {
        let lab = config_for(None, &paths)?;
        let cfg = Resolver::new(&lab, &given).series_config()?;
        let mut scans = vec![];
        for p in &paths {
            for f in spinfit::session::discover(p, false)?.files {
                scans.extend(spinfit::scan::read_scans(
                    &f,
                    ScanKind::Trfe,
                    &cfg.trfe.read,
                )?);
            }
        }
        let t = crate::Ticker::new(scans.len(), "traces");
        Ok(spinfit::series::analyse_with(scans, &cfg, &|| t.tick())?.to_json())
    })
    .map_err(to_py)
    .and_then(|v| json_text(&v))
}

/// g_e, g_h and g_BX versus photon energy from field-series results: each
/// a name and the JSON text of a `spinfit.gfactor/1` document, or a path
/// and None (read here, bounded as every input file), with the assumed
/// signs and the k.p parameters (`spinfit gspectrum`).
#[pyfunction]
#[pyo3(signature = (results, sign_e="+", sign_h="+", delta=None, p2_m0=None, dg_e=None))]
fn _gspectrum(
    results: Vec<(String, Option<String>)>,
    sign_e: &str,
    sign_h: &str,
    delta: Option<f64>,
    p2_m0: Option<f64>,
    dg_e: Option<f64>,
) -> PyResult<String> {
    use spinfit::report::gspectrum::{GSpectrum, parse_sign};
    let kp = spinfit::physics::kp::KpParams::with(delta, p2_m0, dg_e).map_err(to_py)?;
    let signs = (
        parse_sign(sign_e, "sign_e").map_err(to_py)?,
        parse_sign(sign_h, "sign_h").map_err(to_py)?,
    );
    let mut docs = vec![];
    for (name, text) in results {
        let text = match text {
            Some(t) => t,
            None => spinfit::io_util::read_text(std::path::Path::new(&name)).map_err(to_py)?,
        };
        let v: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| PyValueError::new_err(format!("{name}: not JSON: {e}")))?;
        docs.push((name, v));
    }
    json_text(
        &GSpectrum::from_documents(&docs, signs, kp)
            .map_err(to_py)?
            .to_json(),
    )
}

/// A whole session (`spinfit session`): every scan in a folder or HDF5
/// file fitted, field series analysed, settings over the folder's
/// `spinfit.toml`; outputs written into `out` when given. Returns the
/// `spinfit.session/1` JSON text.
#[pyfunction]
#[pyo3(signature = (path, out=None, options=Options::new(), follow_symlinks=false, figures="all"))]
fn _session(
    py: Python<'_>,
    path: PathBuf,
    out: Option<PathBuf>,
    options: Options,
    follow_symlinks: bool,
    figures: &str,
) -> PyResult<String> {
    let given = given_of(options)?;
    let figures: spinfit::report::session_out::Figures = figures.parse().map_err(to_py)?;
    py.detach(|| -> spinfit::Result<serde_json::Value> {
        let lab = config_for(None, std::slice::from_ref(&path))?;
        let cfg = Resolver::new(&lab, &given).session_config()?;
        let t = std::sync::OnceLock::new();
        let r = spinfit::session::analyse_path(&path, &cfg, follow_symlinks, &|n| {
            t.get_or_init(|| crate::Ticker::new(n, "scans")).tick()
        })?;
        if let Some(o) = &out {
            spinfit::report::session_out::write(&r, &path, o, figures)?;
        }
        Ok(spinfit::report::session_out::to_json(&r))
    })
    .map_err(to_py)
    .and_then(|v| json_text(&v))
}

/// Append a TR fit's lifetime to a descriptor dataset, with provenance
/// (`spinfit dataset append`): atomic, under the dataset's lock, and
/// idempotent by (compound, rate, `source_sha256`). True if a row was added.
#[pyfunction]
#[pyo3(signature = (dataset, fit_json, compound, date, source_sha256, allow_synthetic=false))]
fn _append(
    py: Python<'_>,
    dataset: PathBuf,
    fit_json: &str,
    compound: &str,
    date: &str,
    source_sha256: &str,
    allow_synthetic: bool,
) -> PyResult<bool> {
    let fit: serde_json::Value =
        serde_json::from_str(fit_json).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let from = PathBuf::from("<python FitResult>");
    py.detach(|| {
        spinfit::dataset::append_measurement(
            &dataset,
            &from,
            &fit,
            compound,
            source_sha256,
            date,
            allow_synthetic,
        )
    })
    .map_err(to_py)
}

/// Import a sheet (CSV or .xlsx; the paper's layout or a spinfit dataset)
/// into a spinfit dataset CSV (`spinfit dataset import`). Returns (rows,
/// the import report's text).
#[pyfunction]
fn _dataset_import(py: Python<'_>, sheet: PathBuf, out: PathBuf) -> PyResult<(usize, String)> {
    py.detach(|| -> spinfit::Result<(usize, String)> {
        let sha = spinfit::io_util::sha256_file(&sheet)?;
        let (d, rep) = spinfit::dataset::import(&sheet, &sha)?;
        spinfit::dataset::write(&out, &d)?;
        Ok((d.records.len(), rep.to_string()))
    })
    .map_err(to_py)
}

/// The dataset's findings (`spinfit dataset check`): JSON text of a list
/// of {kind, rows, message}, and the number of rows checked.
#[pyfunction]
fn _dataset_check(py: Python<'_>, dataset: PathBuf) -> PyResult<(String, usize)> {
    let (f, n) = py
        .detach(|| -> spinfit::Result<_> {
            let d = spinfit::dataset::read(&dataset)?;
            Ok((spinfit::dataset::check(&d), d.records.len()))
        })
        .map_err(to_py)?;
    Ok((
        serde_json::to_string(&f).map_err(|e| PyValueError::new_err(e.to_string()))?,
        n,
    ))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_gfactor, m)?)?;
    m.add_function(wrap_pyfunction!(_gspectrum, m)?)?;
    m.add_function(wrap_pyfunction!(_session, m)?)?;
    m.add_function(wrap_pyfunction!(_append, m)?)?;
    m.add_function(wrap_pyfunction!(_dataset_import, m)?)?;
    m.add_function(wrap_pyfunction!(_dataset_check, m)?)?;
    Ok(())
}
