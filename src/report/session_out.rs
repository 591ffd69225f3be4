//! Everything a session writes into its output folder:
//! `results.csv` and `results.json` (one record per fitted scan),
//! `results.h5` (format version 2; per fit a group with the table `curves`
//! (delay_ps, data, best_fit, residual per row), the table `parameters`
//! (value, stderr per row; attributes `names`, `units`), the record as
//! JSON and the input's SHA-256 as attributes; per series: its JSON),
//! `gfactor_<n>.json`, figures, and `summary.md` listing what was fitted,
//! what failed and why. Nothing in them depends on the time of the run.

use super::csv_rows;
use super::figures::{gspectrum_figure, series_figures};
use super::gspectrum::GRow;
use crate::error::{Error, Result};
use crate::io_util::{OutDir, write_atomic};
use crate::physics::Quantity;
use crate::physics::kp::KpParams;
use crate::pipeline::Derived;
use crate::pipeline::FitRecord;
use crate::scan::h5::create_strong;
use crate::session::SessionResult;
use hdf5::types::VarLenUnicode;
use rayon::prelude::*;
use std::fmt::Write as _;
use std::path::Path;

pub use crate::session::Figures;

/// "12 ok, 3 inadequate, 1 failed": the count of each status present.
fn status_counts(r: &SessionResult) -> String {
    let mut v: Vec<String> = r
        .status_counts()
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    if !r.failures.is_empty() {
        v.push(format!("{} failed", r.failures.len()));
    }
    v.join(", ")
}

/// The table of every scan, first in the summary: its series, its numbers,
/// its status and, beside it, what limits it (or why it has no fit).
fn scan_table(md: &mut String, r: &SessionResult, figures: Figures) {
    let mut series_of = std::collections::HashMap::new();
    for (i, s) in r.series.iter().enumerate() {
        let files = s
            .traces
            .iter()
            .map(|t| &t.fitted)
            .chain(&s.rejected)
            .chain(&s.zero_field);
        for f in files {
            series_of.insert(f.record.file.as_str(), i + 1);
        }
    }
    let cell = |v: &str| v.replace('|', "/").replace('\n', " ");
    let _ = writeln!(
        md,
        "## Every scan\n\n| scan | kind | sample | series | result | status | what limits it | figure |\n|---|---|---|---|---|---|---|---|"
    );
    for rec in r.records() {
        let link = if figures.draws(rec) && !series_of.contains_key(rec.file.as_str()) {
            format!("[png]({}.png)", stem(&rec.file))
        } else {
            "-".into()
        };
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} | {link} |",
            stem(&rec.file),
            format!("{:?}", rec.kind).to_lowercase(),
            cell(
                &crate::scan::vocab::sample(&rec.meta, &rec.file)
                    .ok()
                    .flatten()
                    .unwrap_or_default()
            ),
            series_of
                .get(rec.file.as_str())
                .map_or("-".into(), |i| i.to_string()),
            cell(&rec.value_lines().join("; ")),
            rec.status().as_str(),
            cell(&rec.problems()),
        );
    }
    for (f, why) in &r.failures {
        let _ = writeln!(
            md,
            "| `{}` | | | | | **failed** | {} | - |",
            cell(f),
            cell(why)
        );
    }
    let _ = writeln!(md);
}

/// The markdown image of a scan's figure, or a dash when it is not drawn.
fn figure_link(figures: Figures, rec: &FitRecord) -> String {
    if figures.draws(rec) {
        format!("![]({}.png)", stem(&rec.file))
    } else {
        "-".into()
    }
}

fn stem(file: &str) -> String {
    let base = file.rsplit('/').next().unwrap_or(file);
    let s: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    s.trim_end_matches(".csv").to_string()
}

fn h5e(path: &Path) -> impl Fn(hdf5::Error) -> Error + '_ {
    move |e| Error::Hdf5 {
        file: path.to_path_buf(),
        object: "results".into(),
        msg: e.to_string(),
    }
}

fn attr(loc: &hdf5::Location, name: &str, v: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = v.parse().map_err(|e| hdf5::Error::from(format!("{e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

/// String attribute `name` holding one string per element of `v`.
fn attr_list(loc: &hdf5::Location, name: &str, v: &[String]) -> hdf5::Result<()> {
    let v: Vec<VarLenUnicode> = v
        .iter()
        .map(|s| s.parse().map_err(|e| hdf5::Error::from(format!("{e}"))))
        .collect::<hdf5::Result<_>>()?;
    loc.new_attr_builder()
        .with_data(v.as_slice())
        .create(name)
        .map(|_| ())
}

/// Column names of a fit's `curves` table, units in the names.
const CURVE_COLUMNS: [&str; 4] = ["delay_ps", "data", "best_fit", "residual"];

/// `curves`: one row per delay, the columns [`CURVE_COLUMNS`] (signal in
/// the input's units): one dataset, not four, for a file written per fit.
fn write_curves(g: &hdf5::Group, rec: &FitRecord) -> hdf5::Result<()> {
    let f = &rec.fit;
    let m = f.x.len();
    let mut rows = Vec::with_capacity(4 * m);
    for i in 0..m {
        rows.extend([f.x[i], f.y[i], f.best_fit[i], f.residual[i]]);
    }
    let d = g
        .new_dataset_builder()
        .with_data(&ndarray::Array2::from_shape_vec((m, 4), rows).map_err(|e| e.to_string())?)
        .create("curves")?;
    attr_list(&d, "columns", &CURVE_COLUMNS.map(String::from))
}

/// `parameters`: one row per parameter, columns value and stderr (NaN
/// when there is none); attributes `names` and `units` name the rows.
fn write_parameters(g: &hdf5::Group, rec: &FitRecord) -> hdf5::Result<()> {
    let p = &rec.fit.params.0;
    let rows: Vec<f64> = p
        .iter()
        .enumerate()
        .flat_map(|(j, q)| [q.value, rec.fit.stderr[j].unwrap_or(f64::NAN)])
        .collect();
    let d = g
        .new_dataset_builder()
        .with_data(&ndarray::Array2::from_shape_vec((p.len(), 2), rows).map_err(|e| e.to_string())?)
        .create("parameters")?;
    attr_list(&d, "columns", &["value".into(), "stderr".into()])?;
    attr_list(
        &d,
        "names",
        &p.iter().map(|q| q.name.clone()).collect::<Vec<_>>(),
    )?;
    attr_list(
        &d,
        "units",
        &p.iter().map(|q| q.unit.to_string()).collect::<Vec<_>>(),
    )
}

/// Write the HDF5 results file atomically.
fn write_h5(r: &SessionResult, path: &Path) -> Result<()> {
    crate::io_util::write_with(path, |tmp| write_h5_into(r, tmp))
}

fn write_h5_into(r: &SessionResult, tmp: &Path) -> Result<()> {
    let e = h5e(tmp);
    {
        let f = create_strong(tmp).map_err(&e)?;
        attr(&f, "format", "spinfit-results").map_err(&e)?;
        attr(&f, "version", "2").map_err(&e)?;
        attr(
            &f,
            "generator",
            concat!("spinfit ", env!("CARGO_PKG_VERSION")),
        )
        .map_err(&e)?;
        let fits = f.create_group("fits").map_err(&e)?;
        let all: Vec<(&FitRecord, Option<&str>)> = r
            .fits
            .iter()
            .map(|(f, h)| (&f.record, Some(h.as_str())))
            .chain(
                r.series
                    .iter()
                    .flat_map(|s| s.traces.iter().map(|t| (&t.fitted.record, None))),
            )
            .collect();
        for (i, (rec, hash)) in all.iter().enumerate() {
            let g = fits
                .create_group(&format!("{:04}_{}", i + 1, stem(&rec.file)))
                .map_err(&e)?;
            attr(&g, "source", &rec.file).map_err(&e)?;
            if let Some(h) = hash {
                attr(&g, "sha256", h).map_err(&e)?;
            }
            attr(&g, "model", &rec.fit.model).map_err(&e)?;
            attr(&g, "success", &rec.fit.success().to_string()).map_err(&e)?;
            attr(&g, "record_json", &rec.to_json().to_string()).map_err(&e)?;
            write_curves(&g, rec).map_err(&e)?;
            write_parameters(&g, rec).map_err(&e)?;
        }
        let sg = f.create_group("series").map_err(&e)?;
        for (i, s) in r.series.iter().enumerate() {
            let g = sg
                .create_group(&format!(
                    "{:02}_{}",
                    i + 1,
                    stem(s.sample.as_deref().unwrap_or("series"))
                ))
                .map_err(&e)?;
            attr(&g, "gfactor_json", &s.to_json().to_string()).map_err(&e)?;
        }
    }
    Ok(())
}

/// g rows (positive signs, as the paper takes) of every series with an energy.
pub fn g_rows(r: &SessionResult) -> Vec<GRow> {
    let mut rows: Vec<GRow> = r
        .series
        .iter()
        .filter_map(|s| {
            let e = s.photon_energy_ev?;
            let g = |n: &str| s.carriers.iter().find(|c| c.carrier == n).map(|c| c.g);
            Some(GRow::new(
                s.sample.clone().unwrap_or_default(),
                e,
                g("electron"),
                g("hole"),
            ))
        })
        .collect();
    rows.sort_by(|a, b| a.energy_ev.total_cmp(&b.energy_ev));
    rows
}

/// The session as one JSON document of schema `spinfit.session/1`: every
/// single fit (`spinfit.fit/1`), every field series (`spinfit.gfactor/1`),
/// the g spectrum rows, what failed or was skipped and why, and the
/// settings with their origins.
pub fn to_json(r: &SessionResult) -> serde_json::Value {
    use serde_json::json;
    let pairs = |v: &[(String, String)]| {
        v.iter()
            .map(|(f, w)| json!({"file": f, "reason": w}))
            .collect::<Vec<_>>()
    };
    json!({
        "schema": "spinfit.session/1",
        "inputs": r.n_inputs,
        "fits": r.fits.iter().map(|(f, _)| f.record.to_json()).collect::<Vec<_>>(),
        "series": r.series.iter().map(|s| s.to_json()).collect::<Vec<_>>(),
        "g_spectrum": g_rows(r),
        "failures": pairs(&r.failures),
        "skipped": pairs(&r.skipped),
        "settings": r.settings,
    })
}

/// Write the records' JSON documents as one pretty-printed array, each
/// document made and written in turn (memory does not grow with the
/// session's size), atomically.
fn write_json_seq(path: &Path, records: &[&FitRecord]) -> Result<()> {
    use serde::Serializer as _;
    use std::io::Write as _;
    crate::io_util::write_with(path, |tmp| {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(tmp)
            .map_err(|e| Error::io(tmp, e))?;
        let mut w = std::io::BufWriter::new(f);
        serde_json::Serializer::pretty(&mut w)
            .collect_seq(records.iter().map(|r| r.to_json()))
            .map_err(|e| Error::io(tmp, e.into()))?;
        w.flush().map_err(|e| Error::io(tmp, e))
    })
}

/// Write all outputs of `r` into `out`.
///
/// Outputs are written into `out`, never through it: a symlink at an
/// output's name is replaced by the file (its target untouched) and listed
/// in the summary.
pub fn write(r: &SessionResult, input: &Path, out: &Path, figures: Figures) -> Result<()> {
    let out = OutDir::create(out)?;
    // the records by reference (no copy of their curves), the JSON streamed
    // one record at a time, and the HDF5 file written beside them
    let records = r.records();
    let (h5, tables) = rayon::join(
        || write_h5(r, &out.path("results.h5")?),
        || -> Result<()> {
            write_atomic(
                &out.path("results.csv")?,
                csv_rows(&records, &r.failures).as_bytes(),
            )?;
            write_json_seq(&out.path("results.json")?, &records)
        },
    );
    h5.and(tables)?;
    // figures are the slow part of the output: draw them in parallel
    r.fits
        .par_iter()
        .filter(|(f, _)| figures.draws(&f.record))
        .try_for_each(|(f, _)| {
            super::figures::fit_figure(&out.path(&format!("{}.png", stem(&f.record.file)))?, f)
        })?;
    let series_figs: Vec<Vec<std::path::PathBuf>> = r
        .series
        .par_iter()
        .enumerate()
        .map(|(i, s)| match figures {
            Figures::None => Ok(vec![]),
            _ => series_figures(s, &out, &format!("series_{:02}", i + 1)),
        })
        .collect::<Result<_>>()?;
    let mut md = String::new();
    let _ = writeln!(md, "# spinfit session summary\n");
    let _ = writeln!(
        md,
        "Input: `{}` ({} scans). {} rows below and in `results.csv`, one per scan: {}; {} field series.\n",
        input.display(),
        r.n_inputs,
        records.len() + r.failures.len(),
        status_counts(r),
        r.series.len(),
    );
    if !r.settings.is_empty() {
        let _ = writeln!(
            md,
            "Settings (where each came from; the rest are defaults):
"
        );
        for s in &r.settings {
            let _ = writeln!(md, "- `{s}`");
        }
        let _ = writeln!(md);
    }
    let synthetic = records.iter().any(|x| x.is_synthetic());
    if synthetic {
        let _ = writeln!(
            md,
            "**Some or all inputs are SYNTHETIC (simulated) data.**\n"
        );
    }
    scan_table(&mut md, r, figures);
    for (i, s) in r.series.iter().enumerate() {
        let figs = &series_figs[i];
        write_atomic(
            &out.path(&format!("gfactor_{:02}.json", i + 1))?,
            serde_json::to_string_pretty(&s.to_json())
                .unwrap_or_default()
                .as_bytes(),
        )?;
        let _ = writeln!(
            md,
            "## Field series {}: {} at {}\n",
            i + 1,
            s.name
                .as_deref()
                .or(s.sample.as_deref())
                .unwrap_or("(unnamed)"),
            s.photon_energy_ev
                .map_or("unknown energy".to_string(), |e| format!("{e} eV"))
        );
        let _ = writeln!(md, "```\n{}```\n", s.to_text());
        for f in figs {
            let fname = f
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            let _ = writeln!(md, "![{fname}]({fname})\n");
        }
    }
    let rows = g_rows(r);
    if !rows.is_empty() {
        let synthetic = r
            .series
            .iter()
            .any(|s| s.traces.iter().any(|t| t.fitted.record.is_synthetic()));
        if figures != Figures::None {
            gspectrum_figure(
                &rows,
                &KpParams::default(),
                (1.0, 1.0),
                synthetic,
                &out.path("g_spectrum.png")?,
            )?;
        }
        let _ = writeln!(
            md,
            "## g-factors vs photon energy (signs taken positive)\n\n| energy (eV) | sample | g_e | g_h | g_BX = g_e + g_h |\n|---|---|---|---|---|"
        );
        let q = |x: &Option<Quantity>| x.map_or("-".to_string(), |q| q.to_string());
        for g in &rows {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} |",
                g.energy_ev,
                g.source,
                q(&g.g_e),
                q(&g.g_h),
                q(&g.g_bx)
            );
        }
        if figures != Figures::None {
            let _ = writeln!(md, "\n![g_spectrum.png](g_spectrum.png)\n");
        }
    }
    let singles: Vec<&crate::pipeline::Fitted> = r
        .fits
        .iter()
        .map(|(f, _)| f)
        .filter(|f| matches!(f.record.derived, Derived::Trfe { .. }))
        .collect();
    if !singles.is_empty() {
        let _ = writeln!(md, "## Single TRFE scans (no field series)\n");
        for f in singles {
            let png = figure_link(figures, &f.record);
            let _ = writeln!(md, "```\n{}```\n{png}\n", f.record.to_text());
        }
    }
    let _ = writeln!(
        md,
        "\nFiles: `results.csv`, `results.json`, `results.h5` (fits, residuals, parameters with errors, input SHA-256), `gfactor_*.json`."
    );
    if !r.skipped.is_empty() {
        let _ = writeln!(
            md,
            "\n## Skipped (not read)\n\n| entry | reason |\n|---|---|"
        );
        for (f, why) in &r.skipped {
            let _ = writeln!(md, "| `{f}` | {} |", why.replace('|', "/"));
        }
    }
    let replaced = out.replaced();
    if !replaced.is_empty() {
        let _ = writeln!(
            md,
            "\nSymlinks in the output folder replaced by files (their targets untouched):\n"
        );
        for (link, to) in &replaced {
            let _ = writeln!(md, "- `{}` (pointed to `{}`)", link.display(), to.display());
        }
    }
    write_atomic(&out.path("summary.md")?, md.as_bytes())
}
