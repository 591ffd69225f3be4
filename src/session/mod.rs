//! A lab session in one call: every scan in a folder or HDF5 file is
//! recognised (TR from SC/CC columns or `kind = tr`; TRFE from `kind =
//! trfe`, a field in the metadata or the file name), TRFE scans of one
//! sample and photon energy at two or more fields form a field series, and
//! everything is fitted in parallel. One bad file never stops the batch; it
//! is listed with its reason.

use crate::error::{Error, Result};
use crate::pipeline::{FitRecord, Fitted, TrJob, TrfeJob, fit_tr, fit_trfe};
use crate::scan::{ReadOptions, Scan, ScanKind, Table, read_tables};
use crate::series::{SeriesConfig, SeriesResult, analyse_with, field_from_name};
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod settings;

/// Which per-scan figures a session draws (drawing is most of the output's
/// cost: about 15 ms a PNG). Field-series and g-spectrum figures, a few per
/// session, are drawn unless `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Figures {
    /// No figures at all.
    None,
    /// Only scans whose fit is inadequate or not trustworthy (did not
    /// converge, has a warning): the ones to look at.
    Failed,
    /// Every scan.
    #[default]
    All,
}

impl std::str::FromStr for Figures {
    type Err = Error;
    fn from_str(v: &str) -> Result<Self> {
        match v.to_ascii_lowercase().as_str() {
            "none" => Ok(Figures::None),
            "failed" => Ok(Figures::Failed),
            "all" => Ok(Figures::All),
            _ => Err(Error::setting(
                "figures",
                format!("`{v}`, expected none, failed or all"),
            )),
        }
    }
}

impl Figures {
    /// `f` with its model curve and spectrum dropped when its figure is
    /// not drawn (series figures are drawn unless `None`).
    pub fn keep(self, mut f: Fitted) -> Fitted {
        self.strip(&mut f);
        f
    }
    /// [`Figures::keep`] in place.
    pub fn strip(self, f: &mut Fitted) {
        if !self.draws(&f.record) {
            f.curve = Default::default();
            f.spectrum = None;
        }
    }
    /// Is the figure of this fit drawn?
    pub fn draws(self, rec: &FitRecord) -> bool {
        match self {
            Figures::None => false,
            Figures::Failed => rec.status() >= crate::pipeline::Status::Inadequate,
            Figures::All => true,
        }
    }
}

/// Settings of a session run.
#[derive(Debug, Clone, Default)]
pub struct SessionConfig {
    pub read: ReadOptions,
    pub tr: TrJob,
    pub series: SeriesConfig,
    /// The kind of scans whose files do not say (`--kind`, config `kind`).
    pub kind: Option<ScanKind>,
    /// (file-name pattern, kind), first match wins over everything else.
    pub kinds: Vec<(String, ScanKind)>,
    /// Where each setting came from, for the summary.
    pub settings: Vec<String>,
    /// The figures that will be drawn: the model curves and spectra of the
    /// other fits are dropped as soon as each is fitted (memory then stays
    /// flat in the number of scans).
    pub figures: Figures,
}

/// One input scan with its provenance.
#[derive(Debug, Clone)]
pub struct Input {
    pub table: Table,
    pub file: PathBuf,
    pub sha256: String,
}

/// What a session produced.
#[derive(Debug, Clone, Default)]
pub struct SessionResult {
    /// Single fits (TR, and TRFE scans not part of a series), with the input's hash.
    pub fits: Vec<(Fitted, String)>,
    pub series: Vec<SeriesResult>,
    /// (file or scan, reason) of everything that has no fit at all (not
    /// read, not a scan, the fit stopped with an error, a repeat).
    pub failures: Vec<(String, String)>,
    /// (entry, reason) of folder entries not read (see [`discover`]).
    pub skipped: Vec<(String, String)>,
    pub n_inputs: usize,
    /// Where each setting came from (flag, config file), for the summary.
    pub settings: Vec<String>,
}

impl SessionResult {
    /// Every fitted scan's record once: single fits, then each series'
    /// traces, its untrustworthy fits and its zero-field traces.
    pub fn records(&self) -> Vec<&FitRecord> {
        let series = self.series.iter().flat_map(|s| {
            s.traces
                .iter()
                .map(|t| &t.fitted.record)
                .chain(s.rejected.iter().map(|f| &f.record))
                .chain(s.zero_field.iter().map(|f| &f.record))
        });
        self.fits
            .iter()
            .map(|(f, _)| &f.record)
            .chain(series)
            .collect()
    }

    /// How many fits have each status, in order from ok to untrustworthy.
    pub fn status_counts(&self) -> [(crate::pipeline::Status, usize); 4] {
        use crate::pipeline::Status;
        let recs = self.records();
        [
            Status::Ok,
            Status::Small,
            Status::Inadequate,
            Status::Untrustworthy,
        ]
        .map(|s| (s, recs.iter().filter(|x| x.status() == s).count()))
    }

    /// The worst status over every scan (None: nothing was fitted).
    pub fn worst(&self) -> Option<crate::pipeline::Status> {
        self.records().iter().map(|r| r.status()).max()
    }
}

/// A TRFE scan waiting for its group: scan, input hash, field (T) if known.
type Member = (Scan, String, Option<f64>);

const DATA_EXT: &[&str] = &["csv", "tsv", "txt", "dat", "ascii", "h5", "hdf5"];

/// The data files of a session, and what was passed over with why.
#[derive(Debug, Clone, Default)]
pub struct Discovered {
    pub files: Vec<PathBuf>,
    /// (entry, reason): symlinks leading out of the folder, special files.
    pub skipped: Vec<(String, String)>,
}

/// Files of a session: the folder's data files (sorted), or the one file.
/// The session stays inside its folder: an entry that is a symlink to
/// somewhere outside it is skipped and listed unless `follow_symlinks`, and
/// what is not a regular file (a FIFO, a device, a socket) is skipped.
pub fn discover(path: &Path, follow_symlinks: bool) -> Result<Discovered> {
    if path.is_dir() {
        let root = path.canonicalize().map_err(|e| Error::io(path, e))?;
        let mut found = Discovered::default();
        for e in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
            let p = e.map_err(|e| Error::io(path, e))?.path();
            let data_ext = p
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| DATA_EXT.contains(&e.to_ascii_lowercase().as_str()));
            if !data_ext {
                continue;
            }
            let skip = |why: String| (p.display().to_string(), why);
            let link = std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink());
            if link && !follow_symlinks {
                match p.canonicalize() {
                    Ok(t) if t.starts_with(&root) => {}
                    Ok(t) => {
                        found.skipped.push(skip(format!(
                            "symlink to `{}`, outside the input folder (--follow-symlinks to read it)",
                            t.display()
                        )));
                        continue;
                    }
                    Err(_) => {
                        found.skipped.push(skip("broken symlink".into()));
                        continue;
                    }
                }
            }
            match std::fs::metadata(&p) {
                Ok(m) if m.is_file() => found.files.push(p),
                Ok(m) if m.is_dir() => {}
                Ok(_) => found
                    .skipped
                    .push(skip("not a regular file (a FIFO, device or socket)".into())),
                Err(e) => found.skipped.push(skip(e.to_string())),
            }
        }
        found.files.sort();
        found.skipped.sort();
        if found.files.is_empty() {
            return Err(Error::input(
                path.display().to_string(),
                format!(
                    "no data files ({}) in this folder{}",
                    DATA_EXT.join(", "),
                    if found.skipped.is_empty() {
                        String::new()
                    } else {
                        format!(
                            "; skipped: {}",
                            found
                                .skipped
                                .iter()
                                .map(|(f, w)| format!("{f} ({w})"))
                                .collect::<Vec<_>>()
                                .join("; ")
                        )
                    }
                ),
            ));
        }
        Ok(found)
    } else if path.exists()
        || path.to_string_lossy().contains(".h5:")
        || path.to_string_lossy().contains(".hdf5:")
    {
        // a file, or `file.h5:/group` naming scans inside an HDF5 file
        Ok(Discovered {
            files: vec![path.to_path_buf()],
            skipped: vec![],
        })
    } else {
        Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or folder"),
        ))
    }
}

/// TR or TRFE, from metadata `kind`, SC/CC columns, or a field.
pub fn classify(t: &Table) -> Result<ScanKind> {
    match t.meta.0.get("kind").map(|k| k.to_ascii_lowercase()) {
        Some(k) if k == "tr" || k == "transient_reflection" => return Ok(ScanKind::Tr),
        Some(k) if ["trfe", "trkr", "faraday", "kerr"].contains(&k.as_str()) => {
            return Ok(ScanKind::Trfe);
        }
        Some(k) => {
            return Err(Error::input(
                &t.source,
                format!("metadata kind = `{k}`: expected tr, trfe or trkr"),
            ));
        }
        None => {}
    }
    if t.find_by_role(&["sc"]).is_some() && t.find_by_role(&["cc"]).is_some() {
        return Ok(ScanKind::Tr);
    }
    if crate::scan::vocab::header_field(&t.meta, &t.source)?.is_some()
        || field_from_name(&t.source).is_some()
    {
        return Ok(ScanKind::Trfe);
    }
    Err(Error::input(
        &t.source,
        "cannot tell the kind of scan: no SC/CC columns, no `kind` or `field` metadata",
    ))
}

/// What makes TRFE scans one field series: (how, name, photon energy),
/// `how` the metadata key or `file name` that named it.
type SeriesKey = (&'static str, String, String);

/// The series a TRFE scan belongs to, by the first of: metadata `series`
/// (or `series_id`, `series_name`), the sample (`sample`, `sample_name`,
/// `sample_id`), and the file name with its field token as a wildcard
/// ([`crate::scan::vocab::name_pattern`]); with the photon energy beside.
pub fn series_key(s: &Scan) -> SeriesKey {
    use crate::scan::vocab;
    let energy = vocab::photon_energy(&s.meta, &s.source)
        .ok()
        .flatten()
        .map_or(String::new(), |e| format!("{e:.4}"));
    if let Some(n) = vocab::series(&s.meta, &s.source).ok().flatten() {
        return ("series", n, energy);
    }
    if let Some(n) = vocab::sample(&s.meta, &s.source).ok().flatten() {
        return ("sample", n, energy);
    }
    match vocab::name_pattern(&s.source) {
        Some(p) => ("file name", p, energy),
        None => ("", String::new(), energy),
    }
}

/// Read every file; unreadable ones become failures.
pub fn load(files: &[PathBuf], read: &ReadOptions) -> (Vec<Input>, Vec<(String, String)>) {
    let loaded: Vec<std::result::Result<Vec<Input>, (String, String)>> = files
        .par_iter()
        .map(|f| {
            let fail = |e: Error| (f.display().to_string(), e.to_string());
            let tables = read_tables(f, read).map_err(fail)?;
            Ok(tables
                .into_iter()
                .map(|table| Input {
                    sha256: table.sha256.clone().unwrap_or_default(),
                    table,
                    file: f.clone(),
                })
                .collect())
        })
        .collect();
    let (mut inputs, mut failures) = (vec![], vec![]);
    for l in loaded {
        match l {
            Ok(v) => inputs.extend(v),
            Err(f) => failures.push(f),
        }
    }
    (inputs, failures)
}

/// A whole session from a folder or HDF5 file: discover, read (in
/// parallel), fit; files that could not be read are failures, files not
/// read (symlinks out, FIFOs) are listed as skipped. `tick` once per scan.
pub fn analyse_path(
    path: &Path,
    cfg: &SessionConfig,
    follow_symlinks: bool,
    tick: &(dyn Fn(usize) + Sync),
) -> Result<SessionResult> {
    let found = discover(path, follow_symlinks)?;
    let (inputs, read_failures) = load(&found.files, &cfg.read);
    let n = inputs.len();
    let mut r = run(inputs, cfg, &|| tick(n));
    r.failures.extend(read_failures);
    r.failures.sort();
    r.skipped = found.skipped;
    Ok(r)
}

/// Run a session over `inputs`; `tick` is called once per scan fitted.
pub fn run(inputs: Vec<Input>, cfg: &SessionConfig, tick: &(dyn Fn() + Sync)) -> SessionResult {
    let n_inputs = inputs.len();
    let mut failures = vec![];
    let mut tr = vec![];
    let mut groups: BTreeMap<SeriesKey, Vec<Member>> = BTreeMap::new();
    for inp in inputs {
        let name = inp
            .file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        let by_pattern = cfg
            .kinds
            .iter()
            .find(|(p, _)| crate::labconfig::glob_match(p, &name))
            .map(|(_, k)| *k);
        let kind = match by_pattern {
            Some(k) => Ok(k),
            None => classify(&inp.table).or_else(|e| cfg.kind.ok_or(e)),
        };
        let scan = kind.and_then(|k| Scan::from_table(&inp.table, k, &cfg.read));
        match scan {
            Err(e) => {
                failures.push((inp.table.source.clone(), e.to_string()));
                tick();
            }
            Ok(s) if s.kind == ScanKind::Tr => tr.push((s, inp.sha256)),
            Ok(s) => {
                let key = series_key(&s);
                // the field of the command line or config, else the file's
                let field = crate::pipeline::field_of(
                    &s,
                    cfg.series.trfe.field_t,
                    cfg.series.trfe.field_from,
                    &mut vec![],
                )
                .ok()
                .flatten();
                groups.entry(key).or_default().push((s, inp.sha256, field));
            }
        }
    }
    // one parallel pass over every unit of work (a TR scan, a field series,
    // a single TRFE scan), so no phase waits for the slowest of another
    let mut jobs: Vec<Job> = tr.into_iter().map(|(s, h)| Job::Tr(s, h)).collect();
    for ((how, name, _), members) in groups {
        if crate::physics::gfactor::distinct_fields(members.iter().filter_map(|m| m.2)) >= 2 {
            jobs.push(Job::Series(how, name, members));
        } else {
            jobs.extend(members.into_iter().map(Job::Single));
        }
    }
    let done: Vec<Done> = jobs.into_par_iter().map(|j| j.run(cfg, tick)).collect();
    let (mut fits, mut series, mut singles) = (vec![], vec![], vec![]);
    for d in done {
        match d {
            Done::Tr(_, Ok(f), h) => fits.push((f, h)),
            Done::Single(_, Ok(f), h) => singles.push((f, h)),
            Done::Tr(src, Err(e), _) | Done::Single(src, Err(e), _) => {
                failures.push((src, e.to_string()))
            }
            Done::Series(Ok(r)) => {
                failures.extend(r.failures.iter().cloned());
                series.push(r);
            }
            Done::Series(Err(f)) => failures.extend(f),
        }
    }
    // single TRFE fits after the TR ones, as before
    fits.extend(singles);
    failures.sort();
    SessionResult {
        fits,
        series,
        failures,
        skipped: vec![],
        n_inputs,
        settings: cfg.settings.clone(),
    }
}

/// One unit of a session's work.
enum Job {
    Tr(Scan, String),
    /// (how the series was grouped, its name, its members)
    Series(&'static str, String, Vec<Member>),
    Single(Member),
}

/// What a [`Job`] gave: (source, fit, input hash), or a series (or why
/// each of its scans failed).
enum Done {
    Tr(String, Result<Fitted>, String),
    Single(String, Result<Fitted>, String),
    Series(std::result::Result<SeriesResult, Vec<(String, String)>>),
}

impl Job {
    fn run(self, cfg: &SessionConfig, tick: &(dyn Fn() + Sync)) -> Done {
        match self {
            Job::Tr(s, h) => {
                let src = s.source.clone();
                let r = fit_tr(s, &cfg.tr).map(|f| cfg.figures.keep(f));
                tick();
                Done::Tr(src, r, h)
            }
            Job::Single((s, h, b)) => {
                let src = s.source.clone();
                let job = TrfeJob {
                    field_t: b,
                    ..cfg.series.trfe.clone()
                };
                // without a field there is no |g|: report it rather than fit
                let r = match b {
                    Some(_) => fit_trfe(s, &job),
                    None => crate::series::scan_field(&s, job.field_from)
                        .and_then(|_| fit_trfe(s, &job)),
                }
                .map(|f| cfg.figures.keep(f));
                tick();
                Done::Single(src, r, h)
            }
            Job::Series(how, name, members) => Done::Series(series(how, name, members, cfg, tick)),
        }
    }
}

/// A field series of a session, named by how it was grouped.
fn series(
    how: &'static str,
    name: String,
    members: Vec<Member>,
    cfg: &SessionConfig,
    tick: &(dyn Fn() + Sync),
) -> std::result::Result<SeriesResult, Vec<(String, String)>> {
    let scans: Vec<Scan> = members.into_iter().map(|m| m.0).collect();
    let srcs: Vec<String> = scans.iter().map(|s| s.source.clone()).collect();
    let mut r = analyse_with(scans, &cfg.series, tick).map_err(|e| {
        srcs.into_iter()
            .map(|s| (s, e.to_string()))
            .collect::<Vec<_>>()
    })?;
    r.grouped_by = match how {
        "" => "no series, sample or field token in the file names: all such scans as one series"
            .into(),
        "file name" => {
            format!("file name pattern `{name}` (no `series` or `sample` in the headers)")
        }
        k => format!("{k} = {name}"),
    };
    if how == "series" {
        r.name = Some(name);
    }
    if cfg.figures == Figures::None {
        let fitted = r.traces.iter_mut().map(|t| &mut t.fitted);
        fitted
            .chain(r.zero_field.iter_mut())
            .for_each(|f| cfg.figures.strip(f));
    }
    Ok(r)
}
