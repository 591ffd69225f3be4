//! Where a model comes from: data to train on (CSV or .xlsx), or a model
//! saved by `spinfit ml train` (a `.json` file, schema `spinfit.model/1`).
//! The command line and the Python package open both through here.

use super::data::Data;
use super::saved::SavedModel;
use super::spec::ModelSpec;
use super::{Predictor, Regressor};
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Data with the model to train on it, or a saved model.
// one per command, never moved in a loop: boxing the data would only add
// an indirection
#[allow(clippy::large_enum_variant)]
pub enum Source {
    Data {
        spec: ModelSpec,
        data: Data,
        path: PathBuf,
    },
    Saved(SavedModel),
}

/// A `.json` file is a saved model; anything else is data.
pub fn is_saved_model(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

impl Source {
    /// Data to train `model` (default `rf`) on: a saved model is refused,
    /// since the caller trains and validates.
    pub fn data(
        path: &Path,
        model: Option<&str>,
        target: &str,
        features: Option<&[String]>,
    ) -> Result<(ModelSpec, Data)> {
        if is_saved_model(path) {
            return Err(Error::input(
                path.display().to_string(),
                "this command trains and validates, so it needs the data (CSV or .xlsx), not a saved model",
            ));
        }
        Ok((
            model.unwrap_or("rf").parse()?,
            super::data::load(path, target, features)?,
        ))
    }

    /// Data or a saved model; a saved model fixes its model and features,
    /// so giving them too is an error.
    pub fn open(
        path: &Path,
        model: Option<&str>,
        target: &str,
        features: Option<&[String]>,
    ) -> Result<Source> {
        if !is_saved_model(path) {
            let (spec, data) = Source::data(path, model, target, features)?;
            return Ok(Source::Data {
                spec,
                data,
                path: path.to_path_buf(),
            });
        }
        if model.is_some() || features.is_some() {
            return Err(Error::input(
                path.display().to_string(),
                "a saved model fixes its model and features; drop --model/--features",
            ));
        }
        Ok(Source::Saved(SavedModel::load(path)?))
    }

    /// The model trained on all rows (the saved one as it is). `log_target`
    /// asks for ln(target); a saved model trained on the target itself is
    /// then an error.
    pub fn trained(self, log_target: bool) -> Result<SavedModel> {
        match self {
            Source::Data { spec, data, path } => SavedModel::train(&spec, &data, log_target, &path),
            Source::Saved(m) => {
                if log_target && !m.log_target {
                    return Err(Error::setting(
                        "--log-target",
                        "the saved model was trained on the target itself",
                    ));
                }
                Ok(m)
            }
        }
    }

    /// What SHAP explains: the model's name, the rows it was trained on (a
    /// saved model trained on ln(target) names its target `ln ...`, as its
    /// SHAP values are of that) and the fitted predictor.
    pub fn explainable(self) -> Result<(String, Data, Box<dyn Predictor>)> {
        Ok(match self {
            Source::Data { spec, data, .. } => {
                let f = spec.fit(&data.x, &data.y)?;
                (spec.name(), data, f)
            }
            Source::Saved(m) => {
                let mut d = m.data();
                if m.log_target {
                    d.target = format!("ln {}", d.target);
                }
                (m.model.clone(), d, m.predictor()?)
            }
        })
    }
}
