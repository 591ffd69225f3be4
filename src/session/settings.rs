//! Settings from text: the values a caller gives (command-line flags,
//! Python keyword arguments) over the lab's `spinfit.toml`
//! ([`crate::labconfig`]) over the defaults, converted to the library's
//! jobs. Every value's origin (given, config or default) is recorded for
//! the report; every error names the setting and, for a config value, the
//! file it came from.
//!
//! Keys are those of [`crate::labconfig::KEYS`] plus [`CALL_KEYS`]; a given
//! key outside them is an error that lists the valid ones.

use crate::error::{Error, Result};
use crate::fit::Envelope;
use crate::fit::decay::Baseline;
use crate::fit::ladder::{Choice, Freedom};
use crate::fit::rsa::Period;
use crate::fit::tr::TrConfig;
use crate::fit::trfe::{Components, Criterion, TrfeConfig};
use crate::labconfig::{KEYS, LabConfig};
use crate::pipeline::{TrJob, TrfeJob};
use crate::scan::map::Layout;
use crate::scan::vocab::FieldSource;
use crate::scan::{Band, ColumnSpec, ReadOptions, ScanKind};
use crate::series::SeriesConfig;
use crate::units::{Field, Time, TimeUnit};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Keys a caller may give that a config file does not set.
pub const CALL_KEYS: &[&str] = &["larger", "single", "global", "profile"];

/// Values given by the caller, as text, keyed as in `spinfit.toml`.
#[derive(Debug, Clone, Default)]
pub struct Given {
    pub values: BTreeMap<String, String>,
    /// Who gave them, for the report: "command line", "argument".
    pub by: &'static str,
    /// Name settings in messages as flags (`--min-field`) or keys (`min_field`).
    pub flags: bool,
}

impl Given {
    /// Values from the command line: `(key, flag value)` pairs, unset ones skipped.
    pub fn command_line(pairs: &[(&str, &Option<String>)]) -> Given {
        let values = pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().map(|v| (k.to_string(), v.clone())))
            .collect();
        Given {
            values,
            by: "command line",
            flags: true,
        }
    }

    /// Values given as keyword arguments (the Python package): unknown keys
    /// are refused with the list of valid ones.
    pub fn arguments(values: BTreeMap<String, String>) -> Result<Given> {
        for k in values.keys() {
            if !KEYS.contains(&k.as_str()) && !CALL_KEYS.contains(&k.as_str()) {
                return Err(Error::Setting {
                    name: k.clone(),
                    msg: format!(
                        "not a setting; expected one of {}, {}",
                        KEYS.join(", "),
                        CALL_KEYS.join(", ")
                    ),
                });
            }
        }
        Ok(Given {
            values,
            by: "argument",
            flags: false,
        })
    }

    /// Set `key` when `on` (a boolean flag).
    pub fn flag(mut self, key: &str, on: bool) -> Given {
        if on {
            self.values.insert(key.to_string(), "true".into());
        }
        self
    }
}

/// Given values over a config: each value's origin is recorded.
pub struct Resolver<'a> {
    pub config: &'a LabConfig,
    pub given: &'a Given,
    /// (setting, value, origin) of everything that was set.
    origins: RefCell<Vec<(String, String, String)>>,
}

fn truth(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

impl<'a> Resolver<'a> {
    pub fn new(config: &'a LabConfig, given: &'a Given) -> Resolver<'a> {
        Resolver {
            config,
            given,
            origins: RefCell::new(vec![]),
        }
    }

    /// The given value, else the config's, recording which.
    pub fn get(&self, key: &str) -> Option<String> {
        let (v, from) = match (self.given.values.get(key), self.config.values.get(key)) {
            (Some(f), _) => (f.clone(), self.given.by.to_string()),
            (None, Some(c)) => (c.clone(), self.config.origin()),
            (None, None) => return None,
        };
        self.origins
            .borrow_mut()
            .push((self.name(key), v.clone(), from));
        Some(v)
    }

    fn name(&self, key: &str) -> String {
        if self.given.flags {
            format!("--{}", key.replace('_', "-"))
        } else {
            key.to_string()
        }
    }

    /// Where the value of `key` came from, for messages: `--min-field`, or
    /// `--min-field (`min_field` in lab/spinfit.toml)`.
    pub fn label(&self, key: &str) -> String {
        let name = self.name(key);
        match self.origins.borrow().iter().rev().find(|o| o.0 == name) {
            Some((_, _, o)) if o != self.given.by => format!("{name} (`{key}` in {o})"),
            _ => name,
        }
    }

    fn bad(&self, key: &str, msg: String) -> Error {
        Error::Setting {
            name: self.label(key),
            msg,
        }
    }

    /// Parse the value of `key`, if set.
    pub fn parse<T: std::str::FromStr<Err = Error>>(&self, key: &str) -> Result<Option<T>> {
        self.get(key)
            .map(|s| s.parse::<T>().map_err(|e| self.bad(key, e.to_string())))
            .transpose()
    }

    /// A yes/no setting (`true`, `false`, `on`, `off`, ...), false when unset.
    pub fn boolean(&self, key: &str) -> Result<bool> {
        match self.get(key) {
            None => Ok(false),
            Some(s) => {
                truth(&s).ok_or_else(|| self.bad(key, format!("`{s}`: expected true or false")))
            }
        }
    }

    /// One of `options`, or `default` when unset.
    fn one_of(&self, key: &str, options: &[&str], default: &str) -> Result<String> {
        let v = self.get(key).unwrap_or_else(|| default.to_string());
        if options.contains(&v.as_str()) {
            Ok(v)
        } else {
            Err(self.bad(key, format!("`{v}`: expected {}", options.join(", "))))
        }
    }

    /// Settings lines for a report: `--delay = scancoord (spinfit.toml)`.
    pub fn report(&self) -> Vec<String> {
        self.origins
            .borrow()
            .iter()
            .map(|(k, v, o)| format!("{k} = {v} ({o})"))
            .collect()
    }

    pub fn read_options(&self) -> Result<ReadOptions> {
        let spec = |key: &str| self.parse::<ColumnSpec>(key);
        Ok(ReadOptions {
            delay: spec("delay")?,
            signal: spec("signal")?,
            sc: spec("sc")?,
            cc: spec("cc")?,
            sigma: spec("sigma")?,
            delay_unit: self.parse::<TimeUnit>("delay_unit")?,
            band: self.parse::<Band>("band")?,
            layout: self.parse::<Layout>("layout")?,
        })
    }

    fn window(&self) -> Result<(Option<f64>, Option<f64>)> {
        Ok((
            self.parse::<Time>("from")?.map(Time::ps),
            self.parse::<Time>("to")?.map(Time::ps),
        ))
    }

    fn alpha(&self) -> Result<f64> {
        match self.get("residual_alpha") {
            None => Ok(crate::fit::adequacy::DEFAULT_ALPHA),
            Some(s) => s
                .parse::<f64>()
                .map_err(|_| self.bad("residual_alpha", format!("`{s}`: expected a number"))),
        }
    }

    fn choice(&self, key: &str) -> Result<Choice> {
        Ok(self.parse::<Choice>(key)?.unwrap_or_default())
    }

    /// How TR scans are fitted.
    pub fn tr_job(&self) -> Result<TrJob> {
        let read = self.read_options()?;
        let baseline = match self
            .one_of(
                "baseline",
                &["auto", "offset", "step", "both", "none"],
                "auto",
            )?
            .as_str()
        {
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
            _ => None,
        };
        let (n_exp, climb) = match self.get("exponentials").as_deref() {
            None | Some("auto") => (1, true),
            Some(s) => (
                s.parse::<usize>().map_err(|_| {
                    self.bad("exponentials", format!("`{s}`: expected 1, 2, 3 or auto"))
                })?,
                false,
            ),
        };
        let (from, to) = self.window()?;
        let config = TrConfig {
            n_exp,
            climb,
            baseline,
            irf_fwhm: self.parse::<Time>("irf_fwhm")?.map(Time::ps),
            t0: self.parse::<Time>("t0")?.map(Time::ps),
            artefact: self.choice("artefact")?,
            adequacy_alpha: self.alpha()?,
            ..TrConfig::default()
        };
        config.validate()?;
        Ok(TrJob {
            read,
            from,
            to,
            polarisation: self.boolean("polarisation")?,
            config,
            profile: self.boolean("profile")?,
        })
    }

    /// How TRFE/TRKR scans are fitted.
    pub fn trfe_job(&self) -> Result<TrfeJob> {
        let criterion = match self
            .one_of("criterion", &["bic", "aic", "ftest"], "bic")?
            .as_str()
        {
            "aic" => Criterion::Aic,
            "ftest" => Criterion::FTest(0.05),
            _ => Criterion::Bic,
        };
        let (from, to) = self.window()?;
        let envelope = match self.get("envelope").as_deref() {
            None | Some("auto") => None,
            Some(e) => Some(
                e.parse::<Envelope>()
                    .map_err(|x| self.bad("envelope", x.to_string()))?,
            ),
        };
        let components = self.get("components").unwrap_or_else(|| "auto".into());
        let job = TrfeJob {
            read: self.read_options()?,
            from,
            to,
            field_t: self.parse::<Field>("field")?.map(Field::tesla),
            field_from: self.parse::<FieldSource>("field_from")?,
            config: TrfeConfig {
                components: components
                    .parse::<Components>()
                    .map_err(|e| self.bad("components", e.to_string()))?,
                criterion,
                freedom: Freedom {
                    phase: self
                        .parse::<Choice>("phase")?
                        .unwrap_or(Freedom::default().phase),
                    decay: self.choice("decay")?,
                    offset: self.choice("offset")?,
                    envelope,
                    repetition: self
                        .parse::<Time>("repetition")?
                        .map(|t| Period::from_ps(Time::ps(t)))
                        .transpose()?,
                },
                adequacy_alpha: self.alpha()?,
                ..TrfeConfig::default()
            },
            profile: self.boolean("profile")?,
        };
        job.config.validate()?;
        if let Some(b) = job.field_t
            && !b.is_finite()
        {
            return Err(self.bad("field", format!("{b} T is not a field")));
        }
        Ok(job)
    }

    /// How a field series is analysed: the TRFE job, `min_field` (default
    /// 100 mT), which carrier precesses faster (`larger`, default
    /// electron), the name of a lone component (`single`, default hole)
    /// and the `global` fit.
    pub fn series_config(&self) -> Result<SeriesConfig> {
        let labels = match self
            .one_of("larger", &["electron", "hole"], "electron")?
            .as_str()
        {
            "hole" => ["hole".to_string(), "electron".to_string()],
            _ => ["electron".to_string(), "hole".to_string()],
        };
        let min = self
            .parse::<Field>("min_field")?
            .map_or(SeriesConfig::default().min_field_t, Field::tesla);
        Ok(SeriesConfig {
            min_field_t: min,
            labels,
            single: self.one_of("single", &["electron", "hole"], "hole")?,
            global: self.boolean("global")?,
            trfe: self.trfe_job()?,
        })
    }

    /// A session's settings, with where each came from for the summary.
    pub fn session_config(&self) -> Result<super::SessionConfig> {
        let kind = match self.get("kind") {
            None => None,
            Some(s) => Some(match s.to_ascii_lowercase().as_str() {
                "tr" => ScanKind::Tr,
                "trfe" | "trkr" => ScanKind::Trfe,
                o => return Err(self.bad("kind", format!("`{o}`: expected tr or trfe"))),
            }),
        };
        let mut cfg = super::SessionConfig {
            read: self.read_options()?,
            tr: self.tr_job()?,
            series: self.series_config()?,
            kind,
            kinds: self.config.kinds.clone(),
            ..Default::default()
        };
        let mut settings = self.report();
        settings.sort();
        settings.dedup();
        if let Some(p) = &self.config.path {
            settings.insert(0, format!("config file: {}", p.display()));
        }
        for (p, k) in &self.config.kinds {
            settings.push(format!("files `{p}` are {k:?} ({})", self.config.origin()));
        }
        cfg.settings = settings;
        Ok(cfg)
    }
}

/// The config for `inputs`: `explicit`, else `spinfit.toml` in the first
/// input folder (or the folder of the first input file).
pub fn config_for(explicit: Option<&Path>, inputs: &[PathBuf]) -> Result<LabConfig> {
    if let Some(p) = explicit {
        return LabConfig::read(p);
    }
    let Some(first) = inputs.first() else {
        return Ok(LabConfig::default());
    };
    let dir = if first.is_dir() {
        first.clone()
    } else {
        first.parent().map(PathBuf::from).unwrap_or_default()
    };
    LabConfig::of_folder(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &dir
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_values_win_over_the_config_and_errors_name_their_origin() {
        let mut lab = LabConfig::parse(
            "from = \"50ps\"\ncomponents = \"1\"\nmin_field = \"lots\"\n",
            "lab/spinfit.toml",
        )
        .unwrap();
        lab.path = Some("lab/spinfit.toml".into());
        let given = Given::arguments([("components".to_string(), "2".to_string())].into()).unwrap();
        let r = Resolver::new(&lab, &given);
        let job = r.trfe_job().unwrap();
        assert_eq!(job.from, Some(50.0));
        assert_eq!(job.config.components, Components::Two);
        let report = r.report();
        assert!(
            report.contains(&"components = 2 (argument)".to_string()),
            "{report:?}"
        );
        assert!(
            report
                .iter()
                .any(|l| l.starts_with("from = 50ps (") && l.contains("spinfit.toml")),
            "{report:?}"
        );
        // a bad config value names the key and the file
        let e = r.series_config().unwrap_err().to_string();
        assert!(e.contains("min_field") && e.contains("spinfit.toml"), "{e}");
        // a key that is no setting lists the valid ones
        let e = Given::arguments([("colour".to_string(), "red".to_string())].into())
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour") && e.contains("min_field"), "{e}");
        // flags are named as flags
        let cli = Given::command_line(&[("kind", &Some("maybe".to_string()))]);
        let e = Resolver::new(&LabConfig::default(), &cli)
            .session_config()
            .unwrap_err()
            .to_string();
        assert!(e.contains("--kind") && e.contains("tr or trfe"), "{e}");
        let bad = Given::arguments([("global".to_string(), "perhaps".to_string())].into()).unwrap();
        assert!(
            Resolver::new(&LabConfig::default(), &bad)
                .series_config()
                .is_err()
        );
    }
}
