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
use spinfit::labconfig::LabConfig;
use spinfit::pipeline::{self, TrfeJob};
use spinfit::session::settings::{Given, Resolver};

mod batch;
mod global;
mod ml;
use spinfit::scan::{Metadata, Scan, ScanKind};

create_exception!(
    _spinfit,
    FitError,
    PyRuntimeError,
    "A fit that failed or cannot be trusted."
);

/// Library errors as Python exceptions, with the CLI's messages.
pub(crate) fn to_py(e: spinfit::Error) -> PyErr {
    match e {
        spinfit::Error::Fit(_) => FitError::new_err(e.to_string()),
        _ => PyValueError::new_err(e.to_string()),
    }
}

/// Progress of long work as a line on Python's `sys.stderr` every few
/// seconds (so a notebook shows it), from whichever thread finishes a step.
pub(crate) struct Ticker(spinfit::report::progress::Lines);

impl Ticker {
    pub(crate) fn new(len: usize, what: &str) -> Ticker {
        Ticker(spinfit::report::progress::Lines::new(len, what))
    }

    pub(crate) fn tick(&self) {
        if let Some(line) = self.0.step(1) {
            // the caller released the GIL: a worker may take it to write
            Python::attach(|py| {
                let _ = py
                    .import("sys")
                    .and_then(|s| s.getattr("stderr"))
                    .and_then(|e| e.call_method1("write", (format!("{line}\n"),)));
            });
        }
    }
}

/// Arrays are copied into the scan: the fit runs with the GIL released, so
/// Python may change a NumPy array meanwhile; results come back as new
/// arrays that own the library's vectors (no copy).
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
    // as the readers refuse `nan` in a file: name the array and the element
    for (name, v) in [
        ("delay_ps", Some(&delay)),
        ("signal", signal.as_ref()),
        ("sc", sc.as_ref()),
        ("cc", cc.as_ref()),
    ] {
        if let Some(i) = v.and_then(|v| v.iter().position(|x| !x.is_finite())) {
            return Err(PyValueError::new_err(format!(
                "{name}: element {i} is {} (not finite); drop or fill missing points first",
                v.map_or(f64::NAN, |v| v[i])
            )));
        }
    }
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
        // arrays handed over from Python: no file to hash
        sha256: None,
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

/// Keyword settings (text, keyed as in `spinfit.toml`) over the defaults.
pub(crate) fn given_of(options: Options) -> PyResult<Given> {
    Given::arguments(options).map_err(to_py)
}

/// Settings by name as text: `{"irf_fwhm": "0.15ps", "phase": "on"}`.
pub(crate) type Options = std::collections::BTreeMap<String, String>;

/// Fit a TR trace (delays in ps): exponential spin decay convolved with
/// the IRF, settings as `spinfit fit tr` takes them. Returns (fit JSON,
/// delay, data, best fit, residual).
#[pyfunction]
#[pyo3(signature = (delay_ps, sc=None, cc=None, signal=None, options=Options::new(), origin=(None, None)))]
fn _fit_tr<'py>(
    py: Python<'py>,
    delay_ps: PyReadonlyArray1<'py, f64>,
    sc: Option<PyReadonlyArray1<'py, f64>>,
    cc: Option<PyReadonlyArray1<'py, f64>>,
    signal: Option<PyReadonlyArray1<'py, f64>>,
    options: Options,
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
    let given = given_of(options)?;
    let job = Resolver::new(&LabConfig::default(), &given)
        .tr_job()
        .map_err(to_py)?;
    let fitted = py.detach(|| pipeline::fit_tr(scan, &job)).map_err(to_py)?;
    out(py, fitted)
}

/// Fit a TRFE/TRKR trace (delays in ps, field in T): one or two damped
/// cosines, settings as `spinfit fit trfe` takes them. Returns (fit JSON,
/// delay, data, best fit, residual).
#[pyfunction]
#[pyo3(signature = (delay_ps, signal, field_t, options=Options::new(), origin=(None, None)))]
fn _fit_trfe<'py>(
    py: Python<'py>,
    delay_ps: PyReadonlyArray1<'py, f64>,
    signal: PyReadonlyArray1<'py, f64>,
    field_t: Option<f64>,
    options: Options,
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
    if let Some(b) = field_t {
        spinfit::physics::check_field(b).map_err(to_py)?;
    }
    let given = given_of(options)?;
    let mut job: TrfeJob = Resolver::new(&LabConfig::default(), &given)
        .trfe_job()
        .map_err(to_py)?;
    // None: the field of the file's header or name (a `read_scan`'s origin)
    job.field_t = field_t.or(job.field_t);
    let fitted = py
        .detach(|| pipeline::fit_trfe(scan, &job))
        .map_err(to_py)?;
    out(py, fitted)
}

/// Fits, and (file, message) of what could not be fitted.
type Batch<'py> = (Vec<FitOut<'py>>, Vec<(String, String)>);

/// Fit every scan of every file in `paths`, files in parallel (rayon, the
/// GIL released), as `spinfit fit tr|trfe FILE...`: one bad file never
/// stops the batch. Returns (fits, failures as (file, message)).
#[pyfunction]
#[pyo3(signature = (paths, kind="tr", options=Options::new()))]
fn _fit_files<'py>(
    py: Python<'py>,
    paths: Vec<std::path::PathBuf>,
    kind: &str,
    options: Options,
) -> PyResult<Batch<'py>> {
    use rayon::prelude::*;
    let kind = kind_of(kind)?;
    let given = given_of(options)?;
    let lab = LabConfig::default();
    let res = Resolver::new(&lab, &given);
    let (tr, trfe) = match kind {
        ScanKind::Tr => (res.tr_job().map_err(to_py)?, TrfeJob::default()),
        ScanKind::Trfe => (Default::default(), res.trfe_job().map_err(to_py)?),
    };
    let t = Ticker::new(paths.len(), "files");
    let done: Vec<(String, spinfit::Result<pipeline::Fitted>)> = py.detach(|| {
        paths
            .par_iter()
            .flat_map_iter(|p| {
                let r = pipeline::fit_file(p, kind, &tr, &trfe);
                t.tick();
                r.into_iter().map(move |r| (p.display().to_string(), r))
            })
            .collect()
    });
    let (mut fits, mut failures) = (vec![], vec![]);
    for (file, r) in done {
        match r {
            Ok(f) => fits.push(out(py, f)?),
            Err(e) => failures.push((file, e.to_string())),
        }
    }
    Ok((fits, failures))
}

fn kind_of(kind: &str) -> PyResult<ScanKind> {
    match kind {
        "tr" => Ok(ScanKind::Tr),
        "trfe" | "trkr" => Ok(ScanKind::Trfe),
        k => Err(PyValueError::new_err(format!(
            "kind `{k}`: expected tr or trfe"
        ))),
    }
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
    let kind = kind_of(kind)?;
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

#[pymodule]
fn _spinfit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    batch::register(m)?;
    ml::register(m)?;
    m.add_function(wrap_pyfunction!(_time_ps, m)?)?;
    m.add_function(wrap_pyfunction!(_field_t, m)?)?;
    m.add_function(wrap_pyfunction!(_read_scans, m)?)?;
    m.add("FitError", m.py().get_type::<FitError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(_fit_tr, m)?)?;
    m.add_function(wrap_pyfunction!(_fit_trfe, m)?)?;
    m.add_function(wrap_pyfunction!(_fit_files, m)?)?;
    m.add_function(wrap_pyfunction!(global::_fit_global, m)?)?;
    Ok(())
}
