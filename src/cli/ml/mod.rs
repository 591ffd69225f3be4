//! `spinfit ml ...`: cross-validate, tune, train and save, explain, predict
//! and screen. One file per subcommand; the shared data and model arguments
//! are [`ModelData`].

mod curve;
mod cv;
mod explain;
mod predict;
mod reproduce;
mod synth;
mod train;

use crate::ml::source::Source;
use crate::ml::{Data, ModelSpec};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Subcommand)]
pub enum MlCommand {
    /// Cross-validate a model: held-out and in-sample scores, labelled; --tune for nested CV.
    Cv(cv::CvArgs),
    /// Train on all rows and save the model (versioned JSON) for predict/screen.
    Train(train::TrainArgs),
    /// Exact Shapley values (TreeSHAP, closed form or enumeration) of a model trained on all rows.
    Explain(explain::ExplainArgs),
    /// The Chem. Sci. paper's protocols on its sheet: its figure beside ours.
    Reproduce(reproduce::ReproduceArgs),
    /// Rates of new compositions (a CSV of descriptor rows) with uncertainties.
    Predict(predict::PredictArgs),
    /// Held-out and training R2 against the number of training rows.
    LearningCurve(curve::CurveArgs),
    /// Predict and rank candidates, slowest spin relaxation (longest lifetime) first.
    Screen(predict::PredictArgs),
    /// Write Friedman's synthetic regression set (speed and accuracy beyond the sheet).
    Friedman(synth::FriedmanArgs),
}

/// Training data and model, shared by the ML subcommands.
#[derive(Debug, Args)]
pub struct ModelData {
    /// A dataset from `spinfit dataset import`, any CSV or .xlsx with a
    /// header row, or (predict, screen, explain) a model saved by `ml train`.
    pub data: PathBuf,
    /// Target column (`rate` means `rate_per_ps` in a spinfit dataset).
    #[arg(long, default_value = "rate")]
    pub target: String,
    /// Comma-separated feature columns (default: every descriptor column).
    #[arg(long, value_delimiter = ',')]
    pub features: Option<Vec<String>>,
    /// Model and settings, `KIND` or `KIND:key=value,...`. Default rf.
    /// Defaults equal scikit-learn's (xgboost's for gbt); inputs are
    /// standardised for ann and svr, and so is their target.
    ///   ols  least squares with an intercept.
    ///   rf   RandomForestRegressor: n_trees=100, max_features=1.0 (null:
    ///        sqrt), min_samples_leaf=1, seed=7.
    ///   gbt  XGBRegressor, hist: n_estimators=100, learning_rate=0.3,
    ///        max_depth=6, lambda=1, gamma=0, min_child_weight=1,
    ///        subsample=1, base_score=null (the mean), max_bin=256, seed=7.
    ///   svr  SVR (RBF): c=1, epsilon=0.1 (target sd), gamma=null ("scale"),
    ///        tol=1e-3, shrinking=true, cache_mb=200, max_iters=1e7.
    ///   ann  MLPRegressor, lbfgs: hidden=100 (e.g. 40x10),
    ///        activation=relu (tanh, logistic), alpha=1e-4, max_iters=200,
    ///        tol=1e-4, n_iter_no_change=10, seeds=1 (networks averaged), seed=0.
    #[arg(long, verbatim_doc_comment)]
    pub model: Option<String>,
}

/// Target transform and tuning, shared by `ml cv` and `ml train`.
#[derive(Debug, Args)]
pub struct TuneArgs {
    /// Learn ln(target); scores and predictions are on the target itself.
    #[arg(long)]
    pub log_target: bool,
    /// Choose the model's settings from its grid by an inner k-fold CV on
    /// the training rows (in `ml cv`: inside every outer training set, i.e.
    /// nested CV, with the optimistic tuned-on-all-rows figure beside it).
    #[arg(long)]
    pub tune: bool,
    /// Inner folds for --tune.
    #[arg(long, default_value_t = 5)]
    pub inner_folds: usize,
    /// The tuning grid instead of the model's built-in one (implies
    /// --tune): `key=v1,v2;key2=w1,w2`, e.g. `c=1,10,100;epsilon=0.05,0.2`,
    /// or `@FILE` to read it from a file.
    #[arg(long)]
    pub grid: Option<String>,
    /// What tuning minimises: mse, mae, or r2 (highest R2).
    #[arg(long, default_value = "mse")]
    pub scoring: String,
}

impl TuneArgs {
    /// Whether to tune (--tune or --grid).
    pub fn tuning(&self) -> bool {
        self.tune || self.grid.is_some()
    }
    /// The tuned model of `grid`, scored as asked.
    pub fn tuned(&self, grid: Vec<ModelSpec>, seed: u64) -> crate::Result<crate::ml::tune::Tuned> {
        Ok(crate::ml::tune::Tuned::new(grid, self.inner_folds, seed)?
            .with_scoring(self.scoring.parse()?))
    }
    /// The grid to tune `spec` over.
    pub fn grid_of(&self, spec: &ModelSpec) -> crate::Result<Vec<ModelSpec>> {
        match self.grid.as_deref() {
            None => Ok(spec.grid()),
            Some(g) => {
                let text = match g.strip_prefix('@') {
                    Some(path) => crate::io_util::read_text(std::path::Path::new(path))?,
                    None => g.to_string(),
                };
                spec.grid_from(&text)
            }
        }
    }
}

impl ModelData {
    /// Data to train on (a saved model is refused: this command trains).
    fn load(&self) -> crate::Result<(ModelSpec, Data)> {
        Source::data(
            &self.data,
            self.model.as_deref(),
            &self.target,
            self.features.as_deref(),
        )
    }

    /// Data, or a saved model (a .json file).
    fn source(&self) -> crate::Result<Source> {
        Source::open(
            &self.data,
            self.model.as_deref(),
            &self.target,
            self.features.as_deref(),
        )
    }
}

pub fn run(c: MlCommand) -> anyhow::Result<i32> {
    match c {
        MlCommand::Cv(a) => cv::run(a),
        MlCommand::Train(a) => train::run(a),
        MlCommand::Explain(a) => explain::run(a),
        MlCommand::Reproduce(a) => reproduce::run(a),
        MlCommand::Predict(a) => predict::run(a, false),
        MlCommand::LearningCurve(a) => curve::run(a),
        MlCommand::Screen(a) => predict::run(a, true),
        MlCommand::Friedman(a) => synth::run(a),
    }
}
