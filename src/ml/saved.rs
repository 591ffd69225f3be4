//! A trained model as a versioned file, `spinfit.model/1` (JSON):
//!
//! - `spec`: the model family and every setting ([`ModelSpec`]);
//! - `features`, `target`, `log_target`: what goes in and what comes out;
//! - `training`: where the rows came from (path, SHA-256), their names, the
//!   range, mean and sd of every feature and of the target, and the rows
//!   themselves (a few kB for the paper's 52), so that the bootstrap
//!   uncertainty can be rebuilt and the model retrained;
//! - `state`: the trained parameters (OLS coefficients, the MLP's weights
//!   and scalers, the forests' trees, the SVR's standardised support data).
//!
//! Reading checks the schema and version and refuses anything else with the
//! file named; predictions after a save and load are bit-identical (tested).

use super::{Data, ModelSpec, Predictor, Regressor};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const SCHEMA: &str = "spinfit.model/1";

/// Most training rows a saved model may carry: its bootstrap uncertainty
/// retrains on all of them, once per ensemble member.
pub const MAX_TRAINING_ROWS: usize = 20_000;

/// Range and moments of one column of the training rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnSummary {
    pub name: String,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    pub sd: f64,
}

impl ColumnSummary {
    fn of(name: &str, v: &[f64]) -> ColumnSummary {
        let n = v.len() as f64;
        let mean = v.iter().sum::<f64>() / n;
        ColumnSummary {
            name: name.to_string(),
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            mean,
            sd: (v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0)).sqrt(),
        }
    }
}

/// The training rows and their summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Training {
    pub source: String,
    pub source_sha256: String,
    pub rows: usize,
    pub ids: Vec<String>,
    pub features: Vec<ColumnSummary>,
    pub target: ColumnSummary,
    /// Training rows, one array of feature values per row.
    pub x: Vec<Vec<f64>>,
    pub y: Vec<f64>,
}

/// A trained model with everything needed to use and audit it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedModel {
    pub schema: String,
    pub written_by: String,
    pub spec: ModelSpec,
    pub model: String,
    pub features: Vec<String>,
    pub target: String,
    pub log_target: bool,
    pub training: Training,
    pub state: serde_json::Value,
}

impl SavedModel {
    /// Train `spec` on all rows of `d` (read from `source`).
    pub fn train(spec: &ModelSpec, d: &Data, log_target: bool, source: &Path) -> Result<Self> {
        if log_target && d.y.iter().any(|v| *v <= 0.0) {
            return Err(Error::setting("log-target", "the target has values <= 0"));
        }
        let y = if log_target {
            d.y.map(f64::ln)
        } else {
            d.y.clone()
        };
        let fitted = spec.fit(&d.x, &y)?;
        let yv: Vec<f64> = d.y.iter().copied().collect();
        Ok(SavedModel {
            schema: SCHEMA.into(),
            written_by: format!("spinfit {}", env!("CARGO_PKG_VERSION")),
            spec: spec.clone(),
            model: spec.name(),
            features: d.features.clone(),
            target: d.target.clone(),
            log_target,
            training: Training {
                source: source.display().to_string(),
                source_sha256: crate::io_util::sha256_file(source)?,
                rows: d.y.len(),
                ids: d.ids.clone(),
                features: d
                    .features
                    .iter()
                    .enumerate()
                    .map(|(j, f)| ColumnSummary::of(f, d.x.column(j).as_slice()))
                    .collect(),
                target: ColumnSummary::of(&d.target, &yv),
                x: d.x
                    .row_iter()
                    .map(|r| r.iter().copied().collect())
                    .collect(),
                y: yv,
            },
            state: fitted.state()?,
        })
    }

    /// Write atomically (a reader never sees half a file).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Fit(format!("saving a model: {e}")))?;
        crate::io_util::write_atomic(path, text.as_bytes())
    }

    /// Read a file written by [`SavedModel::save`].
    pub fn load(path: &Path) -> Result<Self> {
        Self::parse(
            &crate::io_util::read_text(path)?,
            &path.display().to_string(),
        )
    }

    /// A saved model from its JSON text (`src` names it in errors).
    pub fn parse(text: &str, src: &str) -> Result<Self> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::input(src, format!("not JSON: {e}")))?;
        match v.get("schema").and_then(|s| s.as_str()) {
            Some(SCHEMA) => {}
            Some(other) => {
                return Err(Error::input(
                    src,
                    format!("field `schema` is `{other}`; this spinfit reads `{SCHEMA}`"),
                ));
            }
            None => {
                return Err(Error::input(
                    src,
                    format!("no field `schema`: not a saved model (expected `{SCHEMA}`)"),
                ));
            }
        }
        // the path of a bad value (`training.x[0][0]`) names the field
        let m: SavedModel = serde_path_to_error::deserialize(v)
            .map_err(|e| Error::input(src, format!("field `{}`: {}", e.path(), e.inner())))?;
        m.check().map_err(|e| Error::input(src, e))?;
        Ok(m)
    }

    /// Everything a loaded file must satisfy before it is used: settings in
    /// range, 2..=[`MAX_TRAINING_ROWS`] training rows of finite numbers
    /// matching the feature list, and a trained state whole for those
    /// features. The message names the field.
    fn check(&self) -> std::result::Result<(), String> {
        use super::checked::bad;
        self.spec.validate().map_err(|e| bad("spec", e))?;
        let p = self.features.len();
        if p == 0 {
            return Err(bad("features", "empty"));
        }
        let t = &self.training;
        if !(2..=MAX_TRAINING_ROWS).contains(&t.rows) {
            return Err(bad(
                "training.rows",
                format!(
                    "{}: expected 2..={MAX_TRAINING_ROWS} (the bootstrap retrains on every row)",
                    t.rows
                ),
            ));
        }
        if t.x.len() != t.rows || t.y.len() != t.rows || t.ids.len() != t.rows {
            return Err(bad(
                "training",
                format!(
                    "rows = {} but x has {}, y {} and ids {}",
                    t.rows,
                    t.x.len(),
                    t.y.len(),
                    t.ids.len()
                ),
            ));
        }
        for (i, r) in t.x.iter().enumerate() {
            super::checked::finite_len(&format!("training.x[{i}]"), r, p)?;
        }
        super::checked::finite_len("training.y", &t.y, t.rows)?;
        if self.log_target && t.y.iter().any(|v| *v <= 0.0) {
            return Err(bad("training.y", "values <= 0 with log_target"));
        }
        if t.features.len() != p {
            return Err(bad(
                "training.features",
                format!("{} summaries for {p} features", t.features.len()),
            ));
        }
        self.spec
            .restore(&self.state, p)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// The trained model.
    pub fn predictor(&self) -> Result<Box<dyn Predictor>> {
        self.spec.restore(&self.state, self.features.len())
    }

    /// Predictions of the target (back from ln when the target was logged).
    pub fn predict(&self, x: &DMatrix<f64>) -> Result<DVector<f64>> {
        let p = self.predictor()?.predict(x);
        Ok(if self.log_target { p.map(f64::exp) } else { p })
    }

    /// Predictions with the bootstrap-ensemble uncertainty and the
    /// out-of-range flags of [`super::ensemble`]; `tick` after each member.
    pub fn predict_with_uncertainty(
        &self,
        x: &DMatrix<f64>,
        members: usize,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<super::ensemble::Prediction>> {
        let point = self.predict(x)?;
        super::ensemble::Ensemble {
            members,
            seed: 11,
            log_target: self.log_target,
        }
        .predict(&self.spec, &self.data(), x, &point, tick)
    }

    /// The training rows as [`Data`].
    pub fn data(&self) -> Data {
        let t = &self.training;
        Data {
            features: self.features.clone(),
            target: self.target.clone(),
            x: DMatrix::from_fn(t.rows, self.features.len(), |i, j| t.x[i][j]),
            y: DVector::from_column_slice(&t.y),
            ids: t.ids.clone(),
            dropped: vec![],
            lines: (1..=t.rows).collect(),
            text: vec![],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn save_load_predicts_the_same_and_refuses_other_versions() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("rows.csv");
        let mut csv = String::from("compound,a,b,rate\n");
        for i in 0..20 {
            let (a, b) = ((i as f64 * 0.7).sin(), (i as f64 * 0.3).cos());
            csv += &format!("c{i},{a},{b},{}\n", (0.5 * a - b).exp());
        }
        std::fs::write(&src, csv).unwrap();
        let d = crate::ml::data::load(&src, "rate", None).unwrap();
        let spec: ModelSpec = "ann:hidden=3".parse().unwrap();
        let m = SavedModel::train(&spec, &d, true, &src).unwrap();
        let path = dir.path().join("m.json");
        m.save(&path).unwrap();
        let back = SavedModel::load(&path).unwrap();
        assert_eq!(back, m);
        let (p, q) = (m.predict(&d.x).unwrap(), back.predict(&d.x).unwrap());
        assert_eq!(p, q);
        assert!(
            p.iter().all(|v| *v > 0.0),
            "log target: rates come back positive"
        );
        assert_eq!(back.training.features[0].name, "a");
        assert_eq!(back.training.rows, 20);
        let text = std::fs::read_to_string(&path)
            .unwrap()
            .replace(SCHEMA, "spinfit.model/9");
        std::fs::write(&path, text).unwrap();
        let e = SavedModel::load(&path).unwrap_err().to_string();
        assert!(e.contains("m.json") && e.contains("spinfit.model/9"), "{e}");
    }
}
