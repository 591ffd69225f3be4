//! Python: the ML commands (`spinfit ml cv|train|predict|screen|explain`)
//! over the library, returning the documents the command line prints.

use crate::to_py;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use spinfit::ml::source::Source;
use std::path::PathBuf;

fn json_text(v: spinfit::Result<serde_json::Value>) -> PyResult<String> {
    serde_json::to_string(&v.map_err(to_py)?).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// Cross-validate a model on a table (`spinfit ml cv`): the model and
/// scheme in the CLI's words (`rf`, `ann:hidden=40x10`; `loo`, `kfold:5`,
/// `groupkfold:4:phase`, ...). Returns the `spinfit.cv/1` JSON text.
#[pyfunction]
#[pyo3(signature = (data, model="rf", cv="loo", target="rate", features=None, log_target=false, refit=true, cv_seed=None))]
#[allow(clippy::too_many_arguments)]
fn _ml_cv(
    py: Python<'_>,
    data: PathBuf,
    model: &str,
    cv: &str,
    target: &str,
    features: Option<Vec<String>>,
    log_target: bool,
    refit: bool,
    cv_seed: Option<u64>,
) -> PyResult<String> {
    use spinfit::ml::cv::Scheme;
    let mut scheme: Scheme = cv.parse().map_err(to_py)?;
    if let Some(s) = cv_seed {
        scheme = scheme.with_seed(s);
    }
    json_text(py.detach(|| {
        let (spec, d) = Source::data(&data, Some(model), target, features.as_deref())?;
        let t0 = std::time::Instant::now();
        let t = crate::Ticker::new(scheme.fits(d.y.len()) - usize::from(!refit), "model fits");
        let r =
            spinfit::ml::cv::validate_full(&spec, &d, &scheme, log_target, refit, &|| t.tick())?;
        let report = spinfit::report::ml::CvReport {
            data: &d,
            result: &r,
            seconds: t0.elapsed().as_secs_f64(),
            tuning: None,
            seeds: None,
        };
        Ok(report.to_json())
    }))
}

/// Train on all rows and save (`spinfit ml train`); returns the saved
/// model's JSON text.
#[pyfunction]
#[pyo3(signature = (data, out, model="rf", target="rate", features=None, log_target=false))]
fn _train(
    py: Python<'_>,
    data: PathBuf,
    out: PathBuf,
    model: &str,
    target: &str,
    features: Option<Vec<String>>,
    log_target: bool,
) -> PyResult<String> {
    json_text(py.detach(|| {
        let (spec, d) = Source::data(&data, Some(model), target, features.as_deref())?;
        let m = spinfit::ml::saved::SavedModel::train(&spec, &d, log_target, &data)?;
        m.save(&out)?;
        let text = spinfit::io_util::read_text(&out)?;
        serde_json::from_str(&text)
            .map_err(|e| spinfit::Error::input(out.display().to_string(), e.to_string()))
    }))
}

/// Rates of candidates from a saved model (a .json file) or one trained
/// here on a table, with the sd of a bootstrap ensemble and the
/// descriptors outside the training range (`spinfit ml predict`; `rank`
/// sorts by rate as `ml screen` does). Candidates are a CSV of descriptor
/// columns, or of name,cations,metal,halide,layers whose descriptors are
/// computed from the molecules. The `spinfit.predict/1` JSON text.
#[pyfunction]
#[pyo3(signature = (source, candidates, model=None, target="rate", features=None, log_target=false, members=20, vary=vec![], rank=false))]
#[allow(clippy::too_many_arguments)]
fn _predict(
    py: Python<'_>,
    source: PathBuf,
    candidates: PathBuf,
    model: Option<&str>,
    target: &str,
    features: Option<Vec<String>>,
    log_target: bool,
    members: usize,
    vary: Vec<String>,
    rank: bool,
) -> PyResult<String> {
    use spinfit::descriptors::helper::{Helper, Request, Rule};
    json_text(py.detach(|| {
        let m = Source::open(&source, model, target, features.as_deref())?.trained(log_target)?;
        let ticker = std::sync::OnceLock::new();
        let helper = Helper {
            python: Helper::default_python(),
            cache: Helper::default_cache(),
        };
        let c = spinfit::ml::data::load_any_candidates(
            &candidates,
            &m.features,
            &helper,
            &Request::new("", Rule::Lowest),
            &|n| {
                ticker
                    .get_or_init(|| crate::Ticker::new(n, "cations"))
                    .tick()
            },
        )?;
        let (ids, x) = spinfit::ml::data::vary(&m.features, c.ids, c.x, &vary)?;
        let t = crate::Ticker::new(members, "ensemble members");
        let preds = m.predict_with_uncertainty(&x, members, &|| t.tick())?;
        let mut preds: Vec<_> = ids.into_iter().zip(preds).collect();
        if rank {
            preds.sort_by(|a, b| a.1.rate.total_cmp(&b.1.rate));
        }
        let report = spinfit::report::ml::PredictReport {
            model: &m.model,
            trained_on: m.training.rows,
            members,
            predictions: &preds,
        };
        let mut j = report.to_json();
        j["left_out"] = serde_json::json!(
            c.left_out
                .iter()
                .map(|(n, e)| serde_json::json!({"id": n, "reason": e}))
                .collect::<Vec<_>>()
        );
        Ok(j)
    }))
}

/// Exact Shapley values of a model's predictions on its training rows
/// (`spinfit ml explain`), against a seeded background sample. The
/// `spinfit.shap/1` JSON text.
#[pyfunction]
#[pyo3(signature = (source, model=None, target="rate", features=None, background=spinfit::ml::shap::DEFAULT_BACKGROUND, background_seed=0))]
fn _explain(
    py: Python<'_>,
    source: PathBuf,
    model: Option<&str>,
    target: &str,
    features: Option<Vec<String>>,
    background: usize,
    background_seed: u64,
) -> PyResult<String> {
    json_text(py.detach(|| {
        let (name, d, f) =
            Source::open(&source, model, target, features.as_deref())?.explainable()?;
        let bg = spinfit::ml::shap::background(&d.x, Some(background), background_seed)?;
        let t0 = std::time::Instant::now();
        let t = crate::Ticker::new(d.x.nrows(), "rows explained");
        let e = spinfit::ml::shap::explain(f.as_ref(), &d.x, &bg, &|| t.tick())?;
        let report = spinfit::report::ml::ShapReport {
            model: &name,
            data: &d,
            explanation: &e,
            background_rows: bg.nrows(),
            background_seed,
            seconds: t0.elapsed().as_secs_f64(),
        };
        Ok(report.to_json())
    }))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_ml_cv, m)?)?;
    m.add_function(wrap_pyfunction!(_train, m)?)?;
    m.add_function(wrap_pyfunction!(_predict, m)?)?;
    m.add_function(wrap_pyfunction!(_explain, m)?)?;
    Ok(())
}
