//! The Python front of spinfit: a thin layer that converts NumPy arrays and
//! keyword arguments into the library's scans and settings, runs the
//! library with the GIL released, and returns the library's own
//! `spinfit.fit/1` JSON with the arrays a notebook wants. Everything is
//! computed by the `spinfit` crate; nothing here panics across the
//! boundary (errors become `ValueError` or `spinfit.FitError`).

use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use spinfit::pipeline::{self, TrJob, TrfeJob};
use spinfit::scan::{Metadata, Scan, ScanKind};

create_exception!(
    _spinfit,
    FitError,
    PyRuntimeError,
    "A fit that failed or cannot be trusted."
);

/// Library errors as Python exceptions, with the CLI's messages.
fn to_py(e: spinfit::Error) -> PyErr {
    match e {
        spinfit::Error::Fit(_) => FitError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

fn vec_of(name: &str, a: Option<PyReadonlyArray1<'_, f64>>) -> PyResult<Option<Vec<f64>>> {
    a.map(|a| {
        a.as_slice().map(|s| s.to_vec()).map_err(|_| {
            PyValueError::new_err(format!("{name}: expected a contiguous 1-D float64 array"))
        })
    })
    .transpose()
}

/// Where arrays came from: the file and header of a `read_scan`, when given.
type Origin = (
    Option<String>,
    Option<std::collections::BTreeMap<String, String>>,
);

fn scan_of(
    kind: ScanKind,
    delay: Vec<f64>,
    signal: Option<Vec<f64>>,
    sc: Option<Vec<f64>>,
    cc: Option<Vec<f64>>,
    origin: Origin,
) -> PyResult<Scan> {
    let n = delay.len();
    for (name, v) in [("signal", &signal), ("sc", &sc), ("cc", &cc)] {
        if let Some(v) = v
            && v.len() != n
        {
            return Err(PyValueError::new_err(format!(
                "{name}: {} values for {n} delays",
                v.len()
            )));
        }
    }
    let (signal, sc_cc, name) = match (signal, sc, cc) {
        (Some(s), None, None) => (s, None, "signal".to_string()),
        (None, Some(a), Some(b)) => {
            let d = a.iter().zip(&b).map(|(x, y)| x - y).collect();
            (d, Some((a, b)), "SC - CC".to_string())
        }
        _ => {
            return Err(PyValueError::new_err(
                "give signal=, or both sc= and cc= (co- and counter-circular channels)",
            ));
        }
    };
    Ok(Scan {
        source: origin.0.unwrap_or_else(|| "<arrays>".into()),
        kind,
        delay,
        signal,
        sigma: None,
        sc_cc,
        signal_name: name,
        meta: origin.1.map(Metadata).unwrap_or_default(),
        notes: vec![],
    })
}

/// A fit's JSON text and its data, best fit and residual (NumPy arrays).
type FitOut<'py> = (
    String,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
);

fn out<'py>(py: Python<'py>, f: pipeline::Fitted) -> PyResult<FitOut<'py>> {
    let json = serde_json::to_string(&f.record.to_json())
        .map_err(|e| PyValueError::new_err(e.to_string()))?;
    let r = f.record.fit;
    Ok((
        json,
        PyArray1::from_vec(py, r.x),
        PyArray1::from_vec(py, r.y),
        PyArray1::from_vec(py, r.best_fit),
        PyArray1::from_vec(py, r.residual),
    ))
}

/// Fit a TR trace (delays in ps): exponential spin decay convolved with
/// the IRF. Returns (fit JSON, delay, data, best fit, residual).
#[pyfunction]
#[pyo3(signature = (delay_ps, sc=None, cc=None, signal=None, exponentials=1, fit_from_ps=None, fit_to_ps=None, origin=(None, None)))]
#[allow(clippy::too_many_arguments)]
fn _fit_tr<'py>(
    py: Python<'py>,
    delay_ps: PyReadonlyArray1<'py, f64>,
    sc: Option<PyReadonlyArray1<'py, f64>>,
    cc: Option<PyReadonlyArray1<'py, f64>>,
    signal: Option<PyReadonlyArray1<'py, f64>>,
    exponentials: usize,
    fit_from_ps: Option<f64>,
    fit_to_ps: Option<f64>,
    origin: Origin,
) -> PyResult<FitOut<'py>> {
    let delay = vec_of("delay_ps", Some(delay_ps))?.unwrap_or_default();
    let scan = scan_of(
        ScanKind::Tr,
        delay,
        vec_of("signal", signal)?,
        vec_of("sc", sc)?,
        vec_of("cc", cc)?,
        origin,
    )?;
    let mut job = TrJob {
        from: fit_from_ps,
        to: fit_to_ps,
        ..TrJob::default()
    };
    job.config.n_exp = exponentials;
    job.config.validate().map_err(to_py)?;
    let fitted = py.detach(|| pipeline::fit_tr(scan, &job)).map_err(to_py)?;
    out(py, fitted)
}

/// Fit a TRFE/TRKR trace (delays in ps, field in T): one or two damped
/// cosines. Returns (fit JSON, delay, data, best fit, residual).
#[pyfunction]
#[pyo3(signature = (delay_ps, signal, field_t, components="auto", fit_from_ps=None, fit_to_ps=None, origin=(None, None)))]
#[allow(clippy::too_many_arguments)]
fn _fit_trfe<'py>(
    py: Python<'py>,
    delay_ps: PyReadonlyArray1<'py, f64>,
    signal: PyReadonlyArray1<'py, f64>,
    field_t: f64,
    components: &str,
    fit_from_ps: Option<f64>,
    fit_to_ps: Option<f64>,
    origin: Origin,
) -> PyResult<FitOut<'py>> {
    let delay = vec_of("delay_ps", Some(delay_ps))?.unwrap_or_default();
    let scan = scan_of(
        ScanKind::Trfe,
        delay,
        vec_of("signal", Some(signal))?,
        None,
        None,
        origin,
    )?;
    spinfit::physics::check_field(field_t).map_err(to_py)?;
    let mut job = TrfeJob {
        from: fit_from_ps,
        to: fit_to_ps,
        field_t: Some(field_t),
        ..TrfeJob::default()
    };
    job.config.components = components.parse().map_err(to_py)?;
    let fitted = py
        .detach(|| pipeline::fit_trfe(scan, &job))
        .map_err(to_py)?;
    out(py, fitted)
}

/// A time with units ("50ps", "1.2 ns", a bare number is ps) in ps.
#[pyfunction]
fn _time_ps(s: &str) -> PyResult<f64> {
    s.parse::<spinfit::units::Time>()
        .map(|t| t.ps())
        .map_err(to_py)
}

/// A field with units ("200mT", "0.5 T", a bare number is T) in T.
#[pyfunction]
fn _field_t(s: &str) -> PyResult<f64> {
    s.parse::<spinfit::units::Field>()
        .map(|f| f.tesla())
        .map_err(to_py)
}

fn parsed<T: std::str::FromStr<Err = spinfit::Error>>(v: Option<&str>) -> PyResult<Option<T>> {
    v.map(|s| s.parse::<T>().map_err(to_py)).transpose()
}

/// One trace read from a file: (source, kind, signal name, delay (ps),
/// signal, SC and CC when the file has them, metadata).
type ScanOut<'py> = (
    String,
    &'static str,
    String,
    Bound<'py, PyArray1<f64>>,
    Bound<'py, PyArray1<f64>>,
    Option<(Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<f64>>)>,
    std::collections::BTreeMap<String, String>,
);

/// Every trace in a file (CSV/TSV/text, HDF5, 2-D maps reduced by `band`),
/// read by the same code and options as the command line.
#[pyfunction]
#[pyo3(signature = (path, kind="tr", delay=None, signal=None, sc=None, cc=None, delay_unit=None, band=None, layout=None))]
#[allow(clippy::too_many_arguments)]
fn _read_scans<'py>(
    py: Python<'py>,
    path: std::path::PathBuf,
    kind: &str,
    delay: Option<&str>,
    signal: Option<&str>,
    sc: Option<&str>,
    cc: Option<&str>,
    delay_unit: Option<&str>,
    band: Option<&str>,
    layout: Option<&str>,
) -> PyResult<Vec<ScanOut<'py>>> {
    let kind = match kind {
        "tr" => ScanKind::Tr,
        "trfe" | "trkr" => ScanKind::Trfe,
        k => {
            return Err(PyValueError::new_err(format!(
                "kind `{k}`: expected tr or trfe"
            )));
        }
    };
    let opts = spinfit::scan::ReadOptions {
        delay: parsed(delay)?,
        signal: parsed(signal)?,
        sc: parsed(sc)?,
        cc: parsed(cc)?,
        sigma: None,
        delay_unit: parsed(delay_unit)?,
        band: parsed(band)?,
        layout: parsed(layout)?,
    };
    let scans = py
        .detach(|| spinfit::scan::read_scans(&path, kind, &opts))
        .map_err(to_py)?;
    Ok(scans
        .into_iter()
        .map(|s| {
            (
                s.source,
                if s.kind == ScanKind::Tr { "tr" } else { "trfe" },
                s.signal_name,
                PyArray1::from_vec(py, s.delay),
                PyArray1::from_vec(py, s.signal),
                s.sc_cc
                    .map(|(a, b)| (PyArray1::from_vec(py, a), PyArray1::from_vec(py, b))),
                s.meta.0,
            )
        })
        .collect())
}

/// A field series: every TRFE trace in `paths` (files or folders) fitted,
/// then |g| from omega_L(B) and dg from 1/T2*(B) per carrier
/// (`spinfit gfactor`). Returns the `spinfit.gfactor/1` JSON text.
#[pyfunction]
#[pyo3(signature = (paths, min_field_t=0.1, larger="electron", single="hole", global_fit=false))]
fn _gfactor(
    py: Python<'_>,
    paths: Vec<std::path::PathBuf>,
    min_field_t: f64,
    larger: &str,
    single: &str,
    global_fit: bool,
) -> PyResult<String> {
    let labels = match larger {
        "electron" => ["electron".to_string(), "hole".to_string()],
        "hole" => ["hole".to_string(), "electron".to_string()],
        o => {
            return Err(PyValueError::new_err(format!(
                "larger `{o}`: expected electron or hole"
            )));
        }
    };
    if !["electron", "hole"].contains(&single) {
        return Err(PyValueError::new_err(format!(
            "single `{single}`: expected electron or hole"
        )));
    }
    let cfg = spinfit::series::SeriesConfig {
        min_field_t,
        labels,
        single: single.to_string(),
        global: global_fit,
        ..Default::default()
    };
    let json = py
        .detach(|| -> spinfit::Result<String> {
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
            let r = spinfit::series::analyse(scans, &cfg)?;
            Ok(r.to_json().to_string())
        })
        .map_err(to_py)?;
    Ok(json)
}

/// Append a TR fit's lifetime to a descriptor dataset, with provenance
/// (`spinfit dataset append`): atomic, under the dataset's lock, and
/// idempotent by (compound, rate, `source_sha256`). True if a row was added.
#[pyfunction]
#[pyo3(signature = (dataset, fit_json, compound, date, source_sha256, allow_synthetic=false))]
fn _append(
    py: Python<'_>,
    dataset: std::path::PathBuf,
    fit_json: &str,
    compound: &str,
    date: &str,
    source_sha256: &str,
    allow_synthetic: bool,
) -> PyResult<bool> {
    let fit: serde_json::Value =
        serde_json::from_str(fit_json).map_err(|e| PyValueError::new_err(e.to_string()))?;
    let from = std::path::PathBuf::from("<python FitResult>");
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

/// Cross-validate a model on a table (`spinfit ml cv`): the model and
/// scheme in the CLI's words (`rf`, `ann:hidden=40x10`; `loo`, `kfold:5`,
/// `groupkfold:4:phase`, ...). Returns the library's `CvResult` as JSON
/// text with the data's ids, features and target.
#[pyfunction]
#[pyo3(signature = (data, model="rf", cv="loo", target="rate", features=None, log_target=false, refit=true))]
#[allow(clippy::too_many_arguments)]
fn _ml_cv(
    py: Python<'_>,
    data: std::path::PathBuf,
    model: &str,
    cv: &str,
    target: &str,
    features: Option<Vec<String>>,
    log_target: bool,
    refit: bool,
) -> PyResult<String> {
    use spinfit::ml::{ModelSpec, cv::Scheme};
    let spec: ModelSpec = model.parse().map_err(to_py)?;
    let scheme: Scheme = cv.parse().map_err(to_py)?;
    py.detach(|| -> spinfit::Result<String> {
        let d = spinfit::ml::data::load(&data, target, features.as_deref())?;
        let r = spinfit::ml::cv::validate_full(&spec, &d, &scheme, log_target, refit, &|| {})?;
        let j = serde_json::json!({
            "schema": "spinfit.cv/1", "target": d.target, "features": d.features,
            "ids": d.ids, "measured": d.y.as_slice(), "result": r,
        });
        Ok(j.to_string())
    })
    .map_err(to_py)
}

/// Rates of candidates (a CSV of descriptor rows) from a model saved by
/// `spinfit ml train` (a .json file) or trained here on a table, with the
/// sd of a bootstrap ensemble and the descriptors outside the training
/// range (`spinfit ml predict`). JSON text.
#[pyfunction]
#[pyo3(signature = (source, candidates, model="rf", target="rate", features=None, log_target=false, members=20, vary=vec![]))]
#[allow(clippy::too_many_arguments)]
fn _predict(
    py: Python<'_>,
    source: std::path::PathBuf,
    candidates: std::path::PathBuf,
    model: &str,
    target: &str,
    features: Option<Vec<String>>,
    log_target: bool,
    members: usize,
    vary: Vec<String>,
) -> PyResult<String> {
    use spinfit::ml::saved::SavedModel;
    let saved = source
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let spec: spinfit::ml::ModelSpec = model.parse().map_err(to_py)?;
    py.detach(|| -> spinfit::Result<String> {
        let m = if saved {
            SavedModel::load(&source)?
        } else {
            let d = spinfit::ml::data::load(&source, target, features.as_deref())?;
            SavedModel::train(&spec, &d, log_target, &source)?
        };
        let (ids, x) = spinfit::ml::data::load_candidates(&candidates, &m.features)?;
        let (ids, x) = spinfit::ml::data::vary(&m.features, ids, x, &vary)?;
        let preds = m.predict_with_uncertainty(&x, members, &|| {})?;
        let rows: Vec<serde_json::Value> = ids
            .iter()
            .zip(&preds)
            .map(|(id, p)| {
                serde_json::json!({
                    "id": id,
                    "rate": {"value": p.rate, "stderr": p.rate_sd, "unit": "ps^-1"},
                    "tau": p.lifetime().map(|(t, e)| serde_json::json!({"value": t, "stderr": e, "unit": "ps"})),
                    "out_of_range": p.out_of_range.iter().map(|(f, v, lo, hi)| serde_json::json!({"feature": f, "value": v, "min": lo, "max": hi})).collect::<Vec<_>>(),
                    "text": p.text(),
                })
            })
            .collect();
        Ok(serde_json::json!({"schema": "spinfit.predict/1", "model": m.model, "members": members, "candidates": rows}).to_string())
    })
    .map_err(to_py)
}

/// Import a sheet (CSV or .xlsx; the paper's layout or a spinfit dataset)
/// into a spinfit dataset CSV (`spinfit dataset import`). Returns (rows,
/// the import report's text).
#[pyfunction]
fn _dataset_import(
    py: Python<'_>,
    sheet: std::path::PathBuf,
    out: std::path::PathBuf,
) -> PyResult<(usize, String)> {
    py.detach(|| -> spinfit::Result<(usize, String)> {
        let sha = spinfit::io_util::sha256_file(&sheet)?;
        let (d, rep) = spinfit::dataset::import(&sheet, &sha)?;
        spinfit::dataset::write(&out, &d)?;
        Ok((d.records.len(), rep.to_string()))
    })
    .map_err(to_py)
}

#[pymodule]
fn _spinfit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_dataset_import, m)?)?;
    m.add_function(wrap_pyfunction!(_predict, m)?)?;
    m.add_function(wrap_pyfunction!(_ml_cv, m)?)?;
    m.add_function(wrap_pyfunction!(_append, m)?)?;
    m.add_function(wrap_pyfunction!(_gfactor, m)?)?;
    m.add_function(wrap_pyfunction!(_time_ps, m)?)?;
    m.add_function(wrap_pyfunction!(_field_t, m)?)?;
    m.add_function(wrap_pyfunction!(_read_scans, m)?)?;
    m.add("FitError", m.py().get_type::<FitError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(_fit_tr, m)?)?;
    m.add_function(wrap_pyfunction!(_fit_trfe, m)?)?;
    Ok(())
}
