//! The reading and fitting flags shared by `fit`, `gfactor` and `session`:
//! one definition each, and one conversion to library settings, with the
//! lab's `spinfit.toml` ([`crate::labconfig`]) beneath the flags. Every
//! value's origin (flag, config or default) is recorded for the report.

use crate::fit::Envelope;
use crate::fit::decay::Baseline;
use crate::fit::ladder::{Choice, Freedom};
use crate::fit::tr::TrConfig;
use crate::fit::trfe::{Components, Criterion, TrfeConfig};
use crate::labconfig::LabConfig;
use crate::pipeline::{TrJob, TrfeJob};
use crate::scan::map::Layout;
use crate::scan::vocab::FieldSource;
use crate::scan::{Band, ColumnSpec, ReadOptions};
use crate::units::{Field, Time, TimeUnit};
use anyhow::{Context, bail};
use clap::Args;
use std::cell::RefCell;
use std::path::PathBuf;

/// How the scans are read.
#[derive(Debug, Clone, Default, Args)]
pub struct ReadArgs {
    /// Delay column, by name or 1-based index (default: a column named delay/time/t/...).
    #[arg(long)]
    pub delay: Option<String>,
    /// Signal column, by name or 1-based index.
    #[arg(long)]
    pub signal: Option<String>,
    /// Co-circular column of TR scans (default: a column named SC, any case).
    #[arg(long)]
    pub sc: Option<String>,
    /// Counter-circular column of TR scans (default: a column named CC).
    #[arg(long)]
    pub cc: Option<String>,
    /// Column of per-point standard deviations (weights the fit; errors absolute).
    #[arg(long)]
    pub sigma: Option<String>,
    /// Unit of the delay column when its name has no _fs/_ps/_ns suffix.
    #[arg(long, value_name = "fs|ps|ns")]
    pub delay_unit: Option<String>,
    /// For 2-D maps: a probe wavelength or band, e.g. 560nm, 2.2eV, 550nm:570nm.
    #[arg(long, allow_hyphen_values = true)]
    pub band: Option<String>,
    /// For matrix maps: which axis runs down the rows, rows=time or
    /// rows=wavelength (default: from the corner cell and the axes).
    #[arg(long)]
    pub layout: Option<String>,
    /// Start of the fit window, e.g. 50ps (TRFE default: 0 ps, the pump).
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<String>,
    /// End of the fit window, e.g. 1.5ns.
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Significance level below which a residual test (periodogram,
    /// Ljung-Box, runs) calls the model inadequate (default 1e-3).
    #[arg(long)]
    pub residual_alpha: Option<String>,
    /// The lab's conventions (default: spinfit.toml in the input folder).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
}

/// How TR scans are fitted.
#[derive(Debug, Clone, Default, Args)]
pub struct TrFitArgs {
    /// Number of exponentials, 1-3 (default 1).
    #[arg(long)]
    pub exponentials: Option<String>,
    /// Fix the IRF FWHM (e.g. 0.15ps) instead of fitting it.
    #[arg(long)]
    pub irf_fwhm: Option<String>,
    /// Fix time zero (e.g. 0ps) instead of fitting it.
    #[arg(long, allow_hyphen_values = true)]
    pub t0: Option<String>,
    /// Baseline: auto (offset if pre-time-zero points, plus a long-lived
    /// step; default), offset, step, both, none.
    #[arg(long)]
    pub baseline: Option<String>,
    /// Fit the polarisation degree (SC - CC)/(SC + CC) instead of SC - CC.
    #[arg(long)]
    pub polarisation: bool,
    /// Coherent artefact at t0 (a Gaussian of the IRF width and its first
    /// two derivatives): auto (default: kept when the window covers the
    /// pulse overlap and BIC drops by 10), on or off.
    #[arg(long)]
    pub artefact: Option<String>,
}

/// How TRFE/TRKR scans are fitted.
#[derive(Debug, Clone, Default, Args)]
pub struct TrfeFitArgs {
    /// Magnetic field, e.g. 430mT or -200mT (overrides the file's header and name).
    #[arg(long, allow_hyphen_values = true)]
    pub field: Option<String>,
    /// When a file's header and name give different fields: which wins,
    /// header or name (default: neither, the file is refused).
    #[arg(long)]
    pub field_from: Option<String>,
    /// Number of damped cosines: 1, 2 or auto (default).
    #[arg(long)]
    pub components: Option<String>,
    /// Rule for the model ladder and --components auto: bic (default), aic
    /// or ftest (at p < 0.05).
    #[arg(long)]
    pub criterion: Option<String>,
    /// A phase per cosine: auto (default, chosen by the ladder), on or off;
    /// `--phase` alone means on.
    #[arg(long, num_args = 0..=1, default_missing_value = "on")]
    pub phase: Option<String>,
    /// A non-oscillating exponential under the cosines: auto, on or off.
    #[arg(long, num_args = 0..=1, default_missing_value = "on")]
    pub decay: Option<String>,
    /// A constant offset: auto, on or off.
    #[arg(long, num_args = 0..=1, default_missing_value = "on")]
    pub offset: Option<String>,
    /// Same as --offset off.
    #[arg(long)]
    pub no_offset: bool,
    /// Dephasing envelope: auto (default), exponential (eq. 2, a Lorentzian
    /// g spread) or gaussian (a Gaussian g spread).
    #[arg(long)]
    pub envelope: Option<String>,
}

/// Flags over a config: each value's origin is recorded.
pub struct Resolver<'a> {
    pub config: &'a LabConfig,
    /// (setting, value, origin) of everything that was set.
    pub origins: RefCell<Vec<(String, String, String)>>,
}

impl<'a> Resolver<'a> {
    pub fn new(config: &'a LabConfig) -> Resolver<'a> {
        Resolver {
            config,
            origins: RefCell::new(vec![]),
        }
    }

    /// The flag's value, else the config's, recording which.
    pub fn get(&self, key: &str, flag: &Option<String>) -> Option<String> {
        let (v, from) = match (flag, self.config.values.get(key)) {
            (Some(f), _) => (f.clone(), "command line".to_string()),
            (None, Some(c)) => (c.clone(), self.config.origin()),
            (None, None) => return None,
        };
        self.origins
            .borrow_mut()
            .push((key.replace('_', "-"), v.clone(), from));
        Some(v)
    }

    fn parse<T: std::str::FromStr<Err = crate::Error>>(
        &self,
        key: &str,
        flag: &Option<String>,
    ) -> anyhow::Result<Option<T>> {
        let v = self.get(key, flag);
        v.as_deref()
            .map(|s| s.parse::<T>().with_context(|| self.label(key)))
            .transpose()
    }

    /// Where the value of `key` came from, for messages: `--min-field`, or
    /// `min_field in lab/spinfit.toml`.
    pub fn label(&self, key: &str) -> String {
        let flag = format!("--{}", key.replace('_', "-"));
        match self
            .origins
            .borrow()
            .iter()
            .rev()
            .find(|o| o.0 == key.replace('_', "-"))
        {
            Some((_, _, o)) if o != "command line" => format!("{flag} (`{key}` in {o})"),
            _ => flag,
        }
    }

    /// Settings lines for a report: `--delay = scancoord (spinfit.toml)`.
    pub fn report(&self) -> Vec<String> {
        self.origins
            .borrow()
            .iter()
            .map(|(k, v, o)| format!("--{k} = {v} ({o})"))
            .collect()
    }

    pub fn read_options(&self, r: &ReadArgs) -> anyhow::Result<ReadOptions> {
        let spec = |key: &str, v: &Option<String>| -> anyhow::Result<Option<ColumnSpec>> {
            self.get(key, v)
                .map(|s| s.parse::<ColumnSpec>().with_context(|| self.label(key)))
                .transpose()
        };
        Ok(ReadOptions {
            delay: spec("delay", &r.delay)?,
            signal: spec("signal", &r.signal)?,
            sc: spec("sc", &r.sc)?,
            cc: spec("cc", &r.cc)?,
            sigma: spec("sigma", &r.sigma)?,
            delay_unit: self.parse::<TimeUnit>("delay_unit", &r.delay_unit)?,
            band: self.parse::<Band>("band", &r.band)?,
            layout: self.parse::<Layout>("layout", &r.layout)?,
        })
    }

    fn window(&self, r: &ReadArgs) -> anyhow::Result<(Option<f64>, Option<f64>)> {
        Ok((
            self.parse::<Time>("from", &r.from)?.map(Time::ps),
            self.parse::<Time>("to", &r.to)?.map(Time::ps),
        ))
    }

    fn alpha(&self, r: &ReadArgs) -> anyhow::Result<f64> {
        match self.get("residual_alpha", &r.residual_alpha) {
            None => Ok(crate::fit::adequacy::DEFAULT_ALPHA),
            Some(s) => s.parse::<f64>().with_context(|| {
                format!("{} `{s}`: expected a number", self.label("residual_alpha"))
            }),
        }
    }

    fn choice(&self, key: &str, flag: &Option<String>) -> anyhow::Result<Choice> {
        Ok(self.parse::<Choice>(key, flag)?.unwrap_or_default())
    }

    pub fn tr_job(&self, r: &ReadArgs, a: &TrFitArgs, profile: bool) -> anyhow::Result<TrJob> {
        let read = self.read_options(r)?;
        let baseline = match self
            .get("baseline", &a.baseline)
            .as_deref()
            .unwrap_or("auto")
        {
            "auto" => None,
            "offset" => Some(Baseline {
                offset: true,
                step: false,
            }),
            "step" => Some(Baseline {
                offset: false,
                step: true,
            }),
            "both" => Some(Baseline {
                offset: true,
                step: true,
            }),
            "none" => Some(Baseline {
                offset: false,
                step: false,
            }),
            other => bail!("--baseline `{other}`: expected auto, offset, step, both or none"),
        };
        let n_exp = match self.get("exponentials", &a.exponentials) {
            None => 1,
            Some(s) => s
                .parse::<usize>()
                .with_context(|| format!("--exponentials `{s}`: expected 1, 2 or 3"))?,
        };
        let (from, to) = self.window(r)?;
        let polarisation = a.polarisation
            || self
                .config
                .values
                .get("polarisation")
                .is_some_and(|v| v == "true");
        let config = TrConfig {
            n_exp,
            baseline,
            irf_fwhm: self.parse::<Time>("irf_fwhm", &a.irf_fwhm)?.map(Time::ps),
            t0: self.parse::<Time>("t0", &a.t0)?.map(Time::ps),
            artefact: self.choice("artefact", &a.artefact)?,
            adequacy_alpha: self.alpha(r)?,
            ..TrConfig::default()
        };
        config.validate()?;
        Ok(TrJob {
            read,
            from,
            to,
            polarisation,
            config,
            profile,
        })
    }

    pub fn trfe_job(
        &self,
        r: &ReadArgs,
        a: &TrfeFitArgs,
        profile: bool,
    ) -> anyhow::Result<TrfeJob> {
        let criterion = match self
            .get("criterion", &a.criterion)
            .as_deref()
            .unwrap_or("bic")
        {
            "bic" => Criterion::Bic,
            "aic" => Criterion::Aic,
            "ftest" => Criterion::FTest(0.05),
            other => bail!("--criterion `{other}`: expected bic, aic or ftest"),
        };
        let (from, to) = self.window(r)?;
        let offset = if a.no_offset {
            Choice::Off
        } else {
            self.choice("offset", &a.offset)?
        };
        let envelope = match self.get("envelope", &a.envelope).as_deref() {
            None | Some("auto") => None,
            Some(e) => Some(e.parse::<Envelope>().context("--envelope")?),
        };
        let job = TrfeJob {
            read: self.read_options(r)?,
            from,
            to,
            field_t: self.parse::<Field>("field", &a.field)?.map(Field::tesla),
            field_from: self.parse::<FieldSource>("field_from", &a.field_from)?,
            config: TrfeConfig {
                components: self
                    .get("components", &a.components)
                    .as_deref()
                    .unwrap_or("auto")
                    .parse::<Components>()?,
                criterion,
                freedom: Freedom {
                    phase: self.choice("phase", &a.phase)?,
                    decay: self.choice("decay", &a.decay)?,
                    offset,
                    envelope,
                },
                adequacy_alpha: self.alpha(r)?,
                ..TrfeConfig::default()
            },
            profile,
        };
        job.config.validate()?;
        if let Some(b) = job.field_t
            && !b.is_finite()
        {
            bail!("--field: {b} T is not a field");
        }
        Ok(job)
    }
}

/// The config for `inputs`: `--config FILE`, else `spinfit.toml` in the
/// first input folder (or the folder of the first input file).
pub fn config_for(explicit: &Option<PathBuf>, inputs: &[PathBuf]) -> anyhow::Result<LabConfig> {
    if let Some(p) = explicit {
        return Ok(LabConfig::read(p)?);
    }
    let Some(first) = inputs.first() else {
        return Ok(LabConfig::default());
    };
    let dir = if first.is_dir() {
        first.clone()
    } else {
        first.parent().map(PathBuf::from).unwrap_or_default()
    };
    Ok(LabConfig::of_folder(if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        &dir
    })?)
}
