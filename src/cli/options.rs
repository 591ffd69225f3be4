//! The reading and fitting flags shared by `fit`, `gfactor` and `session`:
//! one definition each, converted to the library's given settings
//! ([`crate::session::settings`], where the lab's `spinfit.toml` lies
//! beneath them and every value's origin is recorded).

use crate::session::settings::Given;
use clap::Args;
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
    /// A phase per cosine: on (default: real scans carry one, and leaving a
    /// small one out biases omega), auto (chosen by the ladder) or off.
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
    /// g spread), gaussian (a Gaussian g spread) or voigt (homogeneous T2
    /// and a Gaussian g spread, sigma_w and dg_inh reported).
    #[arg(long)]
    pub envelope: Option<String>,
    /// Laser repetition period, e.g. 13.2ns: the earlier pulses' spins are
    /// summed into the model (resonant spin amplification), so negative
    /// delays are fitted with the positive ones.
    #[arg(long)]
    pub repetition: Option<String>,
}

/// The flags as the library's given settings ([`Given`]), keyed as in
/// `spinfit.toml`; `--no-offset` is `offset = off`.
pub fn given(r: &ReadArgs, tr: Option<&TrFitArgs>, trfe: Option<&TrfeFitArgs>) -> Given {
    let mut pairs: Vec<(&str, &Option<String>)> = vec![
        ("delay", &r.delay),
        ("signal", &r.signal),
        ("sc", &r.sc),
        ("cc", &r.cc),
        ("sigma", &r.sigma),
        ("delay_unit", &r.delay_unit),
        ("band", &r.band),
        ("layout", &r.layout),
        ("from", &r.from),
        ("to", &r.to),
        ("residual_alpha", &r.residual_alpha),
    ];
    if let Some(a) = tr {
        pairs.extend([
            ("exponentials", &a.exponentials),
            ("irf_fwhm", &a.irf_fwhm),
            ("t0", &a.t0),
            ("baseline", &a.baseline),
            ("artefact", &a.artefact),
        ]);
    }
    let off = Some("off".to_string());
    if let Some(a) = trfe {
        pairs.extend([
            ("field", &a.field),
            ("field_from", &a.field_from),
            ("components", &a.components),
            ("criterion", &a.criterion),
            ("phase", &a.phase),
            ("decay", &a.decay),
            ("offset", if a.no_offset { &off } else { &a.offset }),
            ("envelope", &a.envelope),
            ("repetition", &a.repetition),
        ]);
    }
    Given::command_line(&pairs).flag("polarisation", tr.is_some_and(|a| a.polarisation))
}
