//! `spinfit simulate tr|trfe|map`: synthetic scans and maps with known truth.

use super::{EXIT_OK, parse_opt};
use crate::simulate::{DeadKind, Grid, Simulated, TrTruth, TrfeTruth, simulate_tr, simulate_trfe};
use crate::units::{Field, Time};
use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Debug, Subcommand)]
pub enum SimCommand {
    /// Transient reflection (SC and CC channels) with IRF-convolved spin decay.
    Tr(SimTr),
    /// Time-resolved Faraday ellipticity: damped cosines of eq. (2).
    Trfe(SimTrfe),
    /// A transient map (wavelength x delay, Glotaran ASCII) with chirp,
    /// coherent artefact and a Gaussian band per lifetime.
    Map(SimMap),
}

#[derive(Debug, Args)]
pub struct SimMap {
    /// Output file (Glotaran "Time explicit" ASCII).
    #[arg(long)]
    pub out: PathBuf,
    /// Lifetime per component, e.g. --tau 0.5ps --tau 6ps (repeat).
    #[arg(long, required = true)]
    pub tau: Vec<String>,
    /// Chirp coefficients d_k in ps per (100 nm)^k, k = 1.. (repeat).
    #[arg(long, allow_hyphen_values = true)]
    pub chirp: Vec<f64>,
    #[arg(long, default_value = "0.15ps")]
    pub irf_fwhm: String,
    #[arg(long, default_value = "0.3ps", allow_hyphen_values = true)]
    pub t0: String,
    /// Coherent artefact height (0: none).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub artefact: f64,
    /// Number of probe wavelengths, spread over 450-650 nm.
    #[arg(long, default_value_t = 100)]
    pub wavelengths: usize,
    /// Last delay.
    #[arg(long, default_value = "500ps")]
    pub to: String,
    /// Peak signal / noise standard deviation.
    #[arg(long, default_value_t = 80.0)]
    pub snr: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct SimCommon {
    /// Output file: .csv (text) or .h5 (HDF5).
    #[arg(long)]
    pub out: PathBuf,
    /// Peak signal / noise standard deviation ("inf" for no noise).
    #[arg(long, default_value_t = 40.0)]
    pub snr: f64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of back-and-forth sweeps (repeats delays, out of order).
    #[arg(long, default_value_t = 1)]
    pub sweeps: usize,
    /// Delay points per sweep.
    #[arg(long, default_value_t = 300)]
    pub points: usize,
    /// Sample name written to the metadata.
    #[arg(long)]
    pub sample: Option<String>,
}

#[derive(Debug, Args)]
pub struct SimTr {
    #[command(flatten)]
    pub common: SimCommon,
    /// Spin lifetime(s), e.g. --tau 7.76ps (repeat for more components).
    #[arg(long, required = true)]
    pub tau: Vec<String>,
    /// Amplitude per lifetime (default 1).
    #[arg(long)]
    pub amplitude: Vec<f64>,
    #[arg(long, default_value = "0.15ps")]
    pub irf_fwhm: String,
    #[arg(long, default_value = "0ps", allow_hyphen_values = true)]
    pub t0: String,
    /// Long-lived step amplitude.
    #[arg(long, default_value_t = 0.0)]
    pub step: f64,
    #[arg(long, default_value_t = 0.0)]
    pub offset: f64,
    /// Window start (default -2 ps) and end (default 8 tau).
    #[arg(long, allow_hyphen_values = true)]
    pub from: Option<String>,
    #[arg(long, allow_hyphen_values = true)]
    pub to: Option<String>,
    /// Coherent artefact amplitude at t0 (a Gaussian of the IRF width and
    /// its derivatives, as cross-phase modulation gives).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub artefact: f64,
    /// A dead channel, CHANNEL:HOW with HOW zero, constant or noise,
    /// e.g. CC:noise.
    #[arg(long)]
    pub dead: Option<String>,
    /// Baseline drift over the acquisition, first to last point (signal units).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub drift: f64,
}

#[derive(Debug, Args)]
pub struct SimTrfe {
    #[command(flatten)]
    pub common: SimCommon,
    #[arg(long, allow_hyphen_values = true)]
    pub field: String,
    /// Carrier as G:T2:AMPLITUDE, e.g. 1.41:150ps:1 (repeat for two).
    #[arg(long, required = true)]
    pub carrier: Vec<String>,
    #[arg(long, default_value_t = 0.0)]
    pub offset: f64,
    #[arg(long, default_value = "-50ps", allow_hyphen_values = true)]
    pub from: String,
    #[arg(long, default_value = "1.5ns", allow_hyphen_values = true)]
    pub to: String,
    /// Photon energy written to the metadata, e.g. 1.911eV.
    #[arg(long)]
    pub energy: Option<String>,
    /// Phase per carrier in rad (repeat in the order of --carrier).
    #[arg(long, allow_hyphen_values = true)]
    pub phase: Vec<f64>,
    /// Dephasing envelope of each carrier's T2: exponential (eq. 2) or
    /// gaussian.
    #[arg(long, default_value = "exponential")]
    pub envelope: String,
    /// Gaussian spread of |g| per carrier (standard deviation, repeat in
    /// the order of --carrier): the envelope gains exp(-(sigma_w t)^2 / 2),
    /// sigma_w = dg mu_B B / hbar (with the exponential one: a Voigt line).
    #[arg(long)]
    pub g_spread: Vec<f64>,
    /// Lorentzian spread of |g| per carrier (half-width, repeat in the order
    /// of --carrier): 1/T2* = 1/T2 + dg mu_B B / hbar (eq. 3).
    #[arg(long)]
    pub g_lorentz: Vec<f64>,
    /// Non-oscillating exponential under the cosines, AMPLITUDE:TAU, e.g. 0.3:400ps.
    #[arg(long, allow_hyphen_values = true)]
    pub background: Option<String>,
    /// Baseline drift over the acquisition, first to last point (signal units).
    #[arg(long, default_value_t = 0.0, allow_hyphen_values = true)]
    pub drift: f64,
    /// Laser repetition period, e.g. 13.2ns: the previous pulse's spins
    /// still precess at negative delays.
    #[arg(long)]
    pub repetition: Option<String>,
}

fn write(sim: Simulated, c: &SimCommon, path: &Path) -> anyhow::Result<()> {
    let sim = match &c.sample {
        Some(s) => sim.with_meta("sample", s),
        None => sim,
    };
    sim.write(path)?;
    eprintln!("wrote {} (synthetic)", path.display());
    Ok(())
}

fn simulate_map(a: SimMap) -> anyhow::Result<i32> {
    use crate::simulate::map::{Band, MapTruth, simulate_map, stage_delays};
    let ps = |flag: &str, s: &str| {
        s.parse::<Time>()
            .map(Time::ps)
            .with_context(|| flag.to_string())
    };
    let taus = a
        .tau
        .iter()
        .map(|s| ps("--tau", s))
        .collect::<anyhow::Result<Vec<f64>>>()?;
    let (fwhm, t0, to) = (
        ps("--irf-fwhm", &a.irf_fwhm)?,
        ps("--t0", &a.t0)?,
        ps("--to", &a.to)?,
    );
    if taus
        .iter()
        .chain([&fwhm])
        .any(|v| !(v.is_finite() && *v > 0.0))
    {
        bail!("--tau and --irf-fwhm must be positive times");
    }
    let finite_above = |v: f64, lo: f64| v.is_finite() && v > lo;
    if !(2..=5000).contains(&a.wavelengths) || !finite_above(to, 5.0) || !finite_above(a.snr, 0.0) {
        bail!("--wavelengths 2-5000, --to beyond 5 ps and a positive --snr are needed");
    }
    let n = taus.len() as f64;
    let truth = MapTruth {
        bands: taus
            .iter()
            .enumerate()
            .map(|(k, &tau_ps)| Band {
                tau_ps,
                centre_nm: 470.0 + 160.0 * (k as f64 + 0.5) / n,
                width_nm: 40.0,
                height: if k % 2 == 0 { 1.0 } else { -0.7 },
            })
            .collect(),
        t0_ps: t0,
        lambda_ref_nm: 550.0,
        chirp_ps: a.chirp.clone(),
        irf_fwhm_ps: fwhm,
        artefact: a.artefact,
        offset: 0.01,
    };
    let wl: Vec<f64> = (0..a.wavelengths)
        .map(|i| 450.0 + 200.0 * i as f64 / (a.wavelengths - 1) as f64)
        .collect();
    let delays = stage_delays(-1.0, to, (fwhm / 4.0).min(0.05));
    simulate_map(&truth, &wl, &delays, a.snr, a.seed).write_glotaran(&a.out, &truth)?;
    eprintln!(
        "wrote {} (synthetic: {} wavelengths x {} delays)",
        a.out.display(),
        wl.len(),
        delays.len()
    );
    Ok(EXIT_OK)
}

pub fn run(c: SimCommand) -> anyhow::Result<i32> {
    match c {
        SimCommand::Map(a) => return simulate_map(a),
        SimCommand::Tr(a) => {
            let taus: Vec<f64> = a
                .tau
                .iter()
                .map(|s| s.parse::<Time>().map(Time::ps).context("--tau"))
                .collect::<anyhow::Result<_>>()?;
            let amps = if a.amplitude.is_empty() {
                vec![1.0; taus.len()]
            } else {
                a.amplitude.clone()
            };
            if amps.len() != taus.len() {
                bail!(
                    "{} --amplitude values for {} --tau values",
                    amps.len(),
                    taus.len()
                );
            }
            let from = parse_opt::<Time>("from", &a.from)?.map(Time::ps);
            let to = parse_opt::<Time>("to", &a.to)?.map(Time::ps);
            let irf: Time = a.irf_fwhm.parse().context("--irf-fwhm")?;
            let t0: Time = a.t0.parse().context("--t0")?;
            let grid = Grid::for_tr(
                &taus,
                t0.ps(),
                irf.ps(),
                from,
                to,
                a.common.points,
                a.common.sweeps,
            );
            let truth = TrTruth {
                step: a.step,
                offset: a.offset,
                artefact: a.artefact,
                dead: a
                    .dead
                    .as_deref()
                    .map(|d| -> anyhow::Result<(String, DeadKind)> {
                        let (ch, how) = d.split_once(':').with_context(|| {
                            format!("--dead `{d}`: expected CHANNEL:HOW, e.g. CC:noise")
                        })?;
                        Ok((ch.to_string(), how.parse().context("--dead")?))
                    })
                    .transpose()?,
                drift: a.drift,
                ..TrTruth::preset(taus, amps, t0.ps(), irf.ps())
            };
            write(
                simulate_tr(&truth, &grid, a.common.snr, a.common.seed)?,
                &a.common,
                &a.common.out,
            )?;
        }
        SimCommand::Trfe(a) => {
            let field: Field = a.field.parse().context("--field")?;
            let carriers = a
                .carrier
                .iter()
                .map(|s| {
                    let p: Vec<&str> = s.split(':').collect();
                    if p.len() != 3 {
                        bail!("--carrier `{s}`: expected G:T2:AMPLITUDE, e.g. 1.41:150ps:1");
                    }
                    Ok((
                        p[0].parse::<f64>().context("carrier g")?,
                        p[1].parse::<Time>().context("carrier T2")?.ps(),
                        p[2].parse::<f64>().context("carrier amplitude")?,
                    ))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (from, to): (Time, Time) = (
                a.from.parse().context("--from")?,
                a.to.parse().context("--to")?,
            );
            let mut grid = Grid::uniform(from.ps(), to.ps(), a.common.points);
            grid.sweeps = a.common.sweeps;
            if a.phase.len() > carriers.len() {
                bail!(
                    "{} --phase values for {} carriers",
                    a.phase.len(),
                    carriers.len()
                );
            }
            let background = a
                .background
                .as_deref()
                .map(|b| -> anyhow::Result<(f64, f64)> {
                    let (amp, tau) = b.split_once(':').with_context(|| {
                        format!("--background `{b}`: expected AMPLITUDE:TAU, e.g. 0.3:400ps")
                    })?;
                    Ok((
                        amp.parse::<f64>().context("--background amplitude")?,
                        tau.parse::<Time>().context("--background lifetime")?.ps(),
                    ))
                })
                .transpose()?;
            let truth = TrfeTruth {
                field_t: field.tesla(),
                carriers,
                offset: a.offset,
                phases: a.phase.clone(),
                envelope: a.envelope.parse().context("--envelope")?,
                background,
                drift: a.drift,
                repetition_ps: parse_opt::<Time>("repetition", &a.repetition)?.map(Time::ps),
                g_spread: a.g_spread.clone(),
                g_lorentz: a.g_lorentz.clone(),
            };
            let mut sim = simulate_trfe(&truth, &grid, a.common.snr, a.common.seed)?;
            if let Some(e) = &a.energy {
                sim = sim.with_meta("photon_energy", e);
            }
            write(sim, &a.common, &a.common.out)?;
        }
    }
    Ok(EXIT_OK)
}
