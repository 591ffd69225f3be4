//! `spinfit global MAP`: global analysis of a transient map (lifetimes
//! shared by every wavelength, decay-associated spectra, chirp).

use super::{EXIT_FIT_FAILED, EXIT_OK};
use crate::fit::decay::Baseline;
use crate::fit::map::{MapData, MapSettings, fit};
use crate::io_util::{OutDir, write_atomic};
use crate::preprocess::map::{MapWindow, prepare};
use crate::report::global::{figures, spectra_csv, to_json, to_text, trustworthy, write_h5};
use crate::scan::map::{Band, Layout, read_with};
use crate::units::{Time, TimeUnit};
use anyhow::Context;
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// The map: Glotaran ASCII (time or wavelength explicit) or a matrix
    /// CSV/TSV in either orientation.
    pub map: PathBuf,
    /// Matrix orientation when the file does not say: rows=time or rows=wavelength.
    #[arg(long)]
    pub layout: Option<String>,
    /// Delay unit of a matrix file when its header does not say (fs|ps|ns).
    #[arg(long, value_name = "fs|ps|ns")]
    pub delay_unit: Option<String>,
    /// Probe wavelengths kept, e.g. 450nm:650nm or 2.0eV:2.6eV.
    #[arg(long, allow_hyphen_values = true)]
    pub wl_range: Option<String>,
    /// Delays kept, e.g. -1ps:500ps.
    #[arg(long, allow_hyphen_values = true)]
    pub t_range: Option<String>,
    /// Average N neighbouring wavelengths into one.
    #[arg(long, default_value_t = 1)]
    pub bin: usize,
    /// Number of exponentials (1-6), or `auto`: 1 to --max-components by BIC.
    #[arg(long, default_value = "auto")]
    pub components: String,
    /// Most exponentials `auto` tries.
    #[arg(long, default_value_t = 4)]
    pub max_components: usize,
    /// Order of the chirp polynomial t0(lambda) (0: one t0 for all wavelengths).
    #[arg(long, default_value_t = 0)]
    pub chirp_order: usize,
    /// A KiMoPack chirp file to start from: one line of numpy polynomial
    /// coefficients, highest power first, t0 in ps against wavelength in
    /// nm; refined by the fit (sets --chirp-order to its degree at least).
    #[arg(long, value_name = "FILE")]
    pub chirp: Option<PathBuf>,
    /// Centre of the chirp polynomial, e.g. 550nm (default: middle of the range).
    #[arg(long)]
    pub lambda_ref: Option<String>,
    /// Add the coherent artefact (the IRF and its first two derivatives).
    #[arg(long)]
    pub artefact: bool,
    /// Add a long-lived step (a component that does not decay in the window).
    #[arg(long)]
    pub step: bool,
    /// Leave out the constant offset per wavelength.
    #[arg(long)]
    pub no_offset: bool,
    /// Output folder (default: MAP's name with `_global`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Skip the figures.
    #[arg(long)]
    pub no_figures: bool,
    /// Print the JSON document instead of the text report.
    #[arg(long)]
    pub json: bool,
}

/// `lo:hi` with units, parsed by `one` into a common unit.
fn range<T>(
    flag: &str,
    s: &Option<String>,
    one: impl Fn(&str) -> anyhow::Result<T>,
) -> anyhow::Result<Option<(T, T)>> {
    let Some(s) = s else { return Ok(None) };
    let (a, b) = s
        .split_once(':')
        .with_context(|| format!("{flag} `{s}`: expected LO:HI, e.g. 450nm:650nm or -1ps:500ps"))?;
    Ok(Some((
        one(a).context(flag.to_string())?,
        one(b).context(flag.to_string())?,
    )))
}

/// A KiMoPack chirp file: one line of polynomial coefficients (comments
/// with `#` and blank lines allowed).
fn read_chirp(path: &std::path::Path) -> anyhow::Result<Vec<f64>> {
    let text = crate::io_util::read_text(path)?;
    let src = path.display().to_string();
    let lines: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .collect();
    let [(ln, line)] = lines[..] else {
        return Err(crate::Error::input(
            &src,
            format!(
                "--chirp: expected one line of polynomial coefficients (highest power first, \
                 ps against nm), found {} lines",
                lines.len()
            ),
        )
        .into());
    };
    let coef = line
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .ok_or_else(|| {
                    crate::Error::at_line(
                        &src,
                        ln + 1,
                        format!("--chirp: `{t}` is not a finite number"),
                    )
                })
        })
        .collect::<crate::Result<Vec<f64>>>()?;
    if coef.is_empty() || coef.len() > crate::fit::map::MAX_CHIRP_ORDER + 1 {
        return Err(crate::Error::at_line(
            &src,
            ln + 1,
            format!(
                "--chirp: {} coefficients, expected 1 to {} (a polynomial of degree at most {})",
                coef.len(),
                crate::fit::map::MAX_CHIRP_ORDER + 1,
                crate::fit::map::MAX_CHIRP_ORDER
            ),
        )
        .into());
    }
    Ok(coef)
}

/// The chirp of the file inside the map's delays at every wavelength.
fn check_chirp(path: &std::path::Path, p: &[f64], wl: &[f64], t: &[f64]) -> anyhow::Result<()> {
    let (t0, t1) = (t[0], t[t.len() - 1]);
    for &l in wl {
        let v = p.iter().fold(0.0, |acc, a| acc * l + a);
        if !(v >= t0 && v <= t1) {
            anyhow::bail!(
                "{}: --chirp puts time zero at {v:.4} ps at {l:.1} nm, outside the map's delays \
                 ({t0:.4} to {t1:.4} ps): is it in ps against nm, highest power first?",
                path.display()
            );
        }
    }
    Ok(())
}

impl GlobalArgs {
    fn settings(&self) -> anyhow::Result<MapSettings> {
        let components = match self.components.trim() {
            "auto" => None,
            n => Some(n.parse::<usize>().with_context(|| {
                format!("--components `{n}`: expected a number of exponentials or auto")
            })?),
        };
        let lambda_ref_nm = match &self.lambda_ref {
            Some(s) => match s.parse::<Band>()? {
                Band::At(nm) => Some(nm),
                Band::Range(..) => anyhow::bail!("--lambda-ref `{s}`: expected one wavelength"),
            },
            None => None,
        };
        let chirp_start = self.chirp.as_deref().map(read_chirp).transpose()?;
        let chirp_order = chirp_start
            .as_ref()
            .map_or(self.chirp_order, |p| self.chirp_order.max(p.len() - 1));
        let s = MapSettings {
            chirp_start,
            components,
            max_components: self.max_components,
            baseline: Baseline {
                offset: !self.no_offset,
                step: self.step,
            },
            artefact: self.artefact,
            chirp_order,
            lambda_ref_nm,
            ..MapSettings::default()
        };
        s.validate()?;
        Ok(s)
    }

    fn window(&self) -> anyhow::Result<MapWindow> {
        let wl = range("--wl-range", &self.wl_range, |a| {
            match a.parse::<Band>()? {
                Band::At(nm) => Ok(nm),
                Band::Range(..) => anyhow::bail!("one wavelength expected"),
            }
        })?
        .map(|(a, b)| (a.min(b), a.max(b)));
        let t = range("--t-range", &self.t_range, |a| Ok(a.parse::<Time>()?.ps()))?;
        Ok(MapWindow::new(wl, t, self.bin)?)
    }
}

pub fn run(a: GlobalArgs) -> anyhow::Result<i32> {
    let settings = a.settings()?;
    let window = a.window()?;
    let layout = a.layout.as_deref().map(str::parse::<Layout>).transpose()?;
    let unit = a
        .delay_unit
        .as_deref()
        .map(str::parse::<TimeUnit>)
        .transpose()?;
    let raw = read_with(&a.map, unit, layout)?;
    let map = prepare(&raw, &window)?;
    if let (Some(path), Some(p)) = (&a.chirp, &settings.chirp_start) {
        check_chirp(path, p, &map.wavelength_nm, &map.delay_ps)?;
    }
    let (nl, nt) = map.data.dim();
    eprintln!(
        "global: {} wavelengths x {} delays, {} exponentials{}",
        nl,
        nt,
        settings.components.map_or(
            "1 to ".to_string() + &settings.max_components.to_string(),
            |n| n.to_string()
        ),
        if settings.chirp_order > 0 {
            format!(", chirp order {}", settings.chirp_order)
        } else {
            String::new()
        }
    );
    let data = MapData {
        source: &map.source,
        wavelength_nm: &map.wavelength_nm,
        delay_ps: &map.delay_ps,
        data: &map.data,
    };
    let start = std::time::Instant::now();
    let f = fit(&data, &settings)?;
    eprintln!("global: fitted in {:.2} s", start.elapsed().as_secs_f64());
    let stem = a
        .map
        .file_stem()
        .map_or("map".into(), |s| s.to_string_lossy().into_owned());
    let out_dir = a
        .out
        .clone()
        .unwrap_or_else(|| a.map.with_file_name(format!("{stem}_global")));
    let dir = OutDir::create(&out_dir)?;
    let file = a.map.display().to_string();
    let spectra = format!("{stem}_spectra.csv");
    let doc = to_json(&f, &file, &spectra);
    write_atomic(&dir.path(&spectra)?, spectra_csv(&f).as_bytes())?;
    write_atomic(
        &dir.path(&format!("{stem}_global.json"))?,
        serde_json::to_string_pretty(&doc)?.as_bytes(),
    )?;
    write_h5(&f, &doc, &dir.path(&format!("{stem}_global.h5"))?)?;
    let synthetic = map.meta.0.get("synthetic").is_some_and(|v| v == "true");
    let figs = if a.no_figures {
        vec![]
    } else {
        figures(&f, &dir, &stem, synthetic)?
    };
    if a.json {
        println!("{}", serde_json::to_string_pretty(&doc)?);
    } else {
        print!("{}", to_text(&f, &file));
        for n in &map.notes {
            println!("  input: {n}");
        }
    }
    eprintln!(
        "global: wrote {} ({} files)",
        dir.dir().display(),
        3 + figs.len()
    );
    Ok(if trustworthy(&f) {
        EXIT_OK
    } else {
        EXIT_FIT_FAILED
    })
}
