//! Everything a session writes into its output folder:
//! `results.csv` and `results.json` (one record per fitted scan),
//! `results.h5` (format version 3: the group `fits` with one row per fit
//! in each column and the curves and parameters as ragged tables indexed
//! by offsets, see [`write_fits`]; the group `series` with each series'
//! name and JSON),
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

pub(super) fn h5e(path: &Path) -> impl Fn(hdf5::Error) -> Error + '_ {
    move |e| Error::Hdf5 {
        file: path.to_path_buf(),
        object: "results".into(),
        msg: e.to_string(),
    }
}

pub(super) fn attr(loc: &hdf5::Location, name: &str, v: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = v.parse().map_err(|e| hdf5::Error::from(format!("{e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

/// String attribute `name` holding one string per element of `v`.
pub(super) fn attr_list(loc: &hdf5::Location, name: &str, v: &[String]) -> hdf5::Result<()> {
    let v: Vec<VarLenUnicode> = v
        .iter()
        .map(|s| s.parse().map_err(|e| hdf5::Error::from(format!("{e}"))))
        .collect::<hdf5::Result<_>>()?;
    loc.new_attr_builder()
        .with_data(v.as_slice())
        .create(name)
        .map(|_| ())
}

/// Column names of the `fits/curves` table, units in the names.
const CURVE_COLUMNS: [&str; 4] = ["delay_ps", "data", "best_fit", "residual"];

/// `v` as HDF5 variable-length strings.
fn varlen(v: impl IntoIterator<Item = impl AsRef<str>>) -> hdf5::Result<Vec<VarLenUnicode>> {
    v.into_iter()
        .map(|s| {
            s.as_ref()
                .parse()
                .map_err(|e| hdf5::Error::from(format!("{e}")))
        })
        .collect()
}

/// One-dimensional dataset `name` in `g` holding `v`.
pub(super) fn column<T: hdf5::H5Type>(
    g: &hdf5::Group,
    name: &str,
    v: &[T],
) -> hdf5::Result<hdf5::Dataset> {
    g.new_dataset_builder().with_data(v).create(name)
}

/// `fits`: one row per fitted scan (single fits, then each series'
/// traces, its untrustworthy fits and zero-field traces, as in
/// `results.csv`) in the columns `source`, `sha256` (of the input file;
/// empty when not read from a file), `model`, `success` (1/0) and
/// `record_json`; the ragged tables `curves` (delay_ps, data, best_fit,
/// residual) and `parameters` (value, stderr; NaN when none; rows named by
/// `parameter_name` and `parameter_unit`), fit i's rows being
/// `curve_offset[i]..curve_offset[i+1]` and likewise for parameters (the
/// contiguous ragged layout of the CF conventions). A few datasets for the
/// whole session, not a few per fit, written [`BATCH`] fits at a time:
/// microseconds per fit, and memory that does not grow with the session.
/// Each record's JSON document is made once and also written to
/// `results.json` through `json`.
fn write_fits(f: &hdf5::File, tmp: &Path, all: &[&FitRecord], json: &mut JsonArray) -> Result<()> {
    let r = write_fits_h5(f, all, json);
    r.map_err(|x| json.error.take().unwrap_or_else(|| h5e(tmp)(x)))
}

fn write_fits_h5(f: &hdf5::File, all: &[&FitRecord], out: &mut JsonArray) -> hdf5::Result<()> {
    let g = f.create_group("fits")?;
    column(&g, "source", &varlen(all.iter().map(|r| &r.file))?)?;
    let sha = all.iter().map(|r| r.input_sha256.as_deref().unwrap_or(""));
    column(&g, "sha256", &varlen(sha)?)?;
    column(&g, "model", &varlen(all.iter().map(|r| &r.fit.model))?)?;
    let ok: Vec<u8> = all.iter().map(|r| r.fit.success() as u8).collect();
    column(&g, "success", &ok)?;
    let offsets = |n: &dyn Fn(&FitRecord) -> usize| {
        std::iter::once(0)
            .chain(all.iter().scan(0u64, |o, r| {
                *o += n(r) as u64;
                Some(*o)
            }))
            .collect::<Vec<u64>>()
    };
    let coff = offsets(&|r| r.fit.x.len());
    let poff = offsets(&|r| r.fit.params.0.len());
    let p = |f: fn(&crate::fit::params::Param) -> String| {
        varlen(all.iter().flat_map(|r| r.fit.params.0.iter().map(f)))
    };
    column(&g, "parameter_name", &p(|q| q.name.clone())?)?;
    column(&g, "parameter_unit", &p(|q| q.unit.to_string())?)?;
    column(&g, "curve_offset", &coff)?;
    column(&g, "parameter_offset", &poff)?;
    let n = all.len();
    let json = g
        .new_dataset::<VarLenUnicode>()
        .shape(n)
        .create("record_json")?;
    let curves = new_table(&g, "curves", &CURVE_COLUMNS, coff[n] as usize)?;
    let params = new_table(&g, "parameters", &["value", "stderr"], poff[n] as usize)?;
    for (b, chunk) in all.chunks(BATCH).enumerate() {
        let (lo, hi) = (b * BATCH, b * BATCH + chunk.len());
        // each record's document made once, for both files
        let docs: Vec<(String, String)> = chunk
            .par_iter()
            .map(|r| {
                let d = r.to_json();
                (
                    d.to_string(),
                    serde_json::to_string_pretty(&d).unwrap_or_default(),
                )
            })
            .collect();
        json.write_slice(&varlen(docs.iter().map(|d| &d.0))?, lo..hi)?;
        for (_, pretty) in &docs {
            out.push(pretty)?;
        }
        let mut rows = Vec::with_capacity(4 * (coff[hi] - coff[lo]) as usize);
        let mut prow = Vec::with_capacity(2 * (poff[hi] - poff[lo]) as usize);
        for rec in chunk {
            let f = &rec.fit;
            for i in 0..f.x.len() {
                rows.extend([f.x[i], f.y[i], f.best_fit[i], f.residual[i]]);
            }
            for (j, q) in f.params.0.iter().enumerate() {
                prow.extend([q.value, f.stderr[j].unwrap_or(f64::NAN)]);
            }
        }
        write_rows(&curves, rows, coff[lo] as usize..coff[hi] as usize)?;
        write_rows(&params, prow, poff[lo] as usize..poff[hi] as usize)?;
    }
    Ok(())
}

/// Fits written to `results.h5` at a time.
const BATCH: usize = 256;

/// An empty table `name` of `n` rows, the attribute `columns` naming its
/// columns.
fn new_table(g: &hdf5::Group, name: &str, cols: &[&str], n: usize) -> hdf5::Result<hdf5::Dataset> {
    let d = g.new_dataset::<f64>().shape((n, cols.len())).create(name)?;
    attr_list(
        &d,
        "columns",
        &cols.iter().map(|c| c.to_string()).collect::<Vec<_>>(),
    )?;
    Ok(d)
}

/// Rows `at` of table `d` from `rows`, flattened row by row.
fn write_rows(d: &hdf5::Dataset, rows: Vec<f64>, at: std::ops::Range<usize>) -> hdf5::Result<()> {
    if at.is_empty() {
        return Ok(());
    }
    let a = ndarray::Array2::from_shape_vec((at.len(), rows.len() / at.len()), rows)
        .map_err(|e| e.to_string())?;
    d.write_slice(&a, (at, ..))
}

/// `results.json`: a pretty-printed JSON array written one document at a
/// time (the bytes of `serde_json`'s pretty printer for the whole array:
/// each document's lines indented by two spaces; JSON strings hold no raw
/// newline, so indenting lines cannot change a value).
struct JsonArray {
    w: std::io::BufWriter<std::fs::File>,
    path: std::path::PathBuf,
    n: usize,
    /// The write error that stopped the HDF5 loop, reported as such.
    error: Option<Error>,
}

impl JsonArray {
    fn create(path: &Path) -> Result<Self> {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(JsonArray {
            w: std::io::BufWriter::new(f),
            path: path.to_path_buf(),
            n: 0,
            error: None,
        })
    }
    /// Append one pretty-printed document; an error is kept for the caller.
    fn push(&mut self, pretty: &str) -> hdf5::Result<()> {
        use std::io::Write as _;
        let mut write = || -> std::io::Result<()> {
            self.w.write_all(if self.n == 0 { b"[" } else { b"," })?;
            for line in pretty.lines() {
                self.w.write_all(b"\n  ")?;
                self.w.write_all(line.as_bytes())?;
            }
            Ok(())
        };
        let r = write();
        self.n += 1;
        r.map_err(|e| {
            self.error = Some(Error::io(&self.path, e));
            hdf5::Error::from("results.json not written")
        })
    }
    fn finish(mut self) -> Result<()> {
        use std::io::Write as _;
        let end: &[u8] = if self.n == 0 { b"[]" } else { b"\n]" };
        self.w
            .write_all(end)
            .and_then(|_| self.w.flush())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// Write `results.h5` and `results.json` atomically, in one pass over the
/// records.
fn write_results(
    r: &SessionResult,
    records: &[&FitRecord],
    series: &[String],
    h5: &Path,
    json: &Path,
) -> Result<()> {
    crate::io_util::write_with(json, |jtmp| {
        let mut out = JsonArray::create(jtmp)?;
        crate::io_util::write_with(h5, |tmp| write_h5_into(r, records, series, tmp, &mut out))?;
        out.finish()
    })
}

fn write_h5_into(
    r: &SessionResult,
    records: &[&FitRecord],
    series: &[String],
    tmp: &Path,
    json: &mut JsonArray,
) -> Result<()> {
    let e = h5e(tmp);
    let f = create_strong(tmp).map_err(&e)?;
    attr(&f, "format", "spinfit-results").map_err(&e)?;
    attr(&f, "version", "3").map_err(&e)?;
    attr(
        &f,
        "generator",
        concat!("spinfit ", env!("CARGO_PKG_VERSION")),
    )
    .map_err(&e)?;
    write_fits(&f, tmp, records, json)?;
    let sg = f.create_group("series").map_err(&e)?;
    let names = r
        .series
        .iter()
        .map(|s| s.name.as_deref().or(s.sample.as_deref()).unwrap_or(""));
    column(&sg, "name", &varlen(names).map_err(&e)?).map_err(&e)?;
    column(&sg, "gfactor_json", &varlen(series).map_err(&e)?).map_err(&e)?;
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

/// Write all outputs of `r` into `out`.
///
/// Outputs are written into `out`, never through it: a symlink at an
/// output's name is replaced by the file (its target untouched) and listed
/// in the summary.
pub fn write(r: &SessionResult, input: &Path, out: &Path, figures: Figures) -> Result<()> {
    let out = OutDir::create(out)?;
    // the records by reference (no copy of their curves); results.json and
    // results.h5 in one pass, results.csv beside them
    let records = r.records();
    // each series' document made once (one at a time per thread: a
    // session's documents together are hundreds of MB as JSON values),
    // written as gfactor_NN.json and kept compact for results.h5
    let series: Vec<String> = r
        .series
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let doc = s.to_json();
            let pretty = serde_json::to_string_pretty(&doc).unwrap_or_default();
            write_atomic(
                &out.path(&format!("gfactor_{:02}.json", i + 1))?,
                pretty.as_bytes(),
            )?;
            Ok(doc.to_string())
        })
        .collect::<Result<_>>()?;
    let (h5, csv) = rayon::join(
        || {
            let (h5, json) = (out.path("results.h5")?, out.path("results.json")?);
            write_results(r, &records, &series, &h5, &json)
        },
        || {
            let rows = csv_rows(&records, &r.failures);
            write_atomic(&out.path("results.csv")?, rows.as_bytes())
        },
    );
    h5.and(csv)?;
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
