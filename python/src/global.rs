//! `spinfit.fit_global`: the global map fit ([`spinfit::fit::map`]) from
//! NumPy arrays, its `spinfit.global/1` JSON and its arrays back.

use crate::to_py;
use numpy::{PyArray2, PyReadonlyArray1, PyReadonlyArray2, ToPyArray};
use pyo3::prelude::*;
use spinfit::fit::decay::Baseline;
use spinfit::fit::map::{MapData, MapSettings, fit};

/// JSON text, then (components x wavelengths) amplitudes and errors, EAS
/// and errors, and the (wavelengths x delays) fitted and residual maps.
type GlobalOut<'py> = (
    String,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
    Bound<'py, PyArray2<f64>>,
);

/// Fit a map `data[wavelength, delay]` (delays in ps, wavelengths in nm).
#[pyfunction]
#[pyo3(signature = (data, delay_ps, wavelength_nm, components=None, max_components=4, chirp_order=0, artefact=false, step=false, offset=true, lambda_ref_nm=None))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn _fit_global<'py>(
    py: Python<'py>,
    data: PyReadonlyArray2<'py, f64>,
    delay_ps: PyReadonlyArray1<'py, f64>,
    wavelength_nm: PyReadonlyArray1<'py, f64>,
    components: Option<usize>,
    max_components: usize,
    chirp_order: usize,
    artefact: bool,
    step: bool,
    offset: bool,
    lambda_ref_nm: Option<f64>,
) -> PyResult<GlobalOut<'py>> {
    // copies: the fit runs with the GIL released
    let map = data.as_array().to_owned();
    let t = delay_ps.as_array().to_vec();
    let wl = wavelength_nm.as_array().to_vec();
    let settings = MapSettings {
        components,
        max_components,
        baseline: Baseline { offset, step },
        artefact,
        chirp_order,
        lambda_ref_nm,
        ..MapSettings::default()
    };
    let f = py
        .detach(|| {
            fit(
                &MapData {
                    source: "<arrays>",
                    wavelength_nm: &wl,
                    delay_ps: &t,
                    data: &map,
                },
                &settings,
            )
        })
        .map_err(to_py)?;
    let doc = spinfit::report::global::to_json(&f, "<arrays>", "");
    Ok((
        doc.to_string(),
        f.table(&f.amplitude).to_pyarray(py),
        f.table(&f.amplitude_stderr).to_pyarray(py),
        f.table(&f.eas).to_pyarray(py),
        f.table(&f.eas_stderr).to_pyarray(py),
        f.fitted.to_pyarray(py),
        f.residual.to_pyarray(py),
    ))
}
