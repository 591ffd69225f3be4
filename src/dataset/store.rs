//! Reading and writing the dataset CSV; appending measured lifetimes.
//!
//! Writes are atomic (temporary file + rename). Appends take a lock file
//! (`DATASET.lock`, created exclusively), so two appends at once are
//! serialised, and are idempotent: a record's id is the hash of compound,
//! rate and source, and a record already present is not added again.

use super::{DESCRIPTORS, Dataset, Record};
use crate::error::{Error, Result};
use crate::io_util::write_atomic;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const HEAD: [&str; 6] = [
    "compound",
    "formula",
    "phase",
    "rate_per_ps",
    "rate_err_per_ps",
    "source",
];
const TAIL: [&str; 4] = ["source_sha256", "fit_settings", "date", "record_id"];

/// Stable id of a record: compound, rate and source.
pub fn record_id(r: &Record) -> String {
    short_hash(&format!(
        "{}|{:e}|{:e}|{}|{}",
        r.compound, r.rate, r.rate_err, r.source, r.source_sha256
    ))
}

/// Stable id of a measurement: compound, rate and the content hash of the
/// fitted data, not its path, so that the same measurement is one record
/// wherever it is appended from.
pub fn measurement_id(r: &Record) -> String {
    short_hash(&format!(
        "measurement|{}|{:e}|{:e}|{}",
        r.compound, r.rate, r.rate_err, r.source_sha256
    ))
}

fn short_hash(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn num(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        format!("{v}")
    }
}

/// The dataset as CSV text.
pub fn to_csv(d: &Dataset) -> String {
    let mut w = csv::Writer::from_writer(vec![]);
    let header: Vec<&str> = HEAD
        .iter()
        .copied()
        .chain(DESCRIPTORS.iter().map(|d| d.0))
        .chain(TAIL)
        .collect();
    let _ = w.write_record(&header);
    for r in &d.records {
        let mut row = vec![
            r.compound.clone(),
            r.formula.clone(),
            r.phase.clone(),
            num(r.rate),
            num(r.rate_err),
            r.source.clone(),
        ];
        row.extend(r.descriptors.iter().map(|v| num(*v)));
        row.extend([
            r.source_sha256.clone(),
            r.fit_settings.clone(),
            r.date.clone(),
            r.record_id.clone(),
        ]);
        let _ = w.write_record(&row);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// Write atomically.
pub fn write(path: &Path, d: &Dataset) -> Result<()> {
    write_atomic(path, to_csv(d).as_bytes())
}

/// Read a dataset written by [`write`].
pub fn read(path: &Path) -> Result<Dataset> {
    let (src, mut rd, header) = crate::io_util::open_csv(path)?;
    let col = |n: &str| {
        header.iter().position(|h| h == n).ok_or_else(|| Error::input(&src, format!("missing column `{n}`: not a spinfit dataset (make one with `spinfit dataset import`)")))
    };
    let idx_head: Vec<usize> = HEAD.iter().map(|n| col(n)).collect::<Result<_>>()?;
    let idx_desc: Vec<usize> = DESCRIPTORS
        .iter()
        .map(|d| col(d.0))
        .collect::<Result<_>>()?;
    let idx_tail: Vec<usize> = TAIL.iter().map(|n| col(n)).collect::<Result<_>>()?;
    let mut records = vec![];
    for (k, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| Error::at_line(&src, k + 2, e.to_string()))?;
        let get = |i: usize| rec.get(i).unwrap_or("").to_string();
        let f = |i: usize, what: &str| -> Result<f64> {
            let s = get(i);
            if s.trim().is_empty() {
                return Ok(f64::NAN);
            }
            s.trim().parse().map_err(|_| {
                Error::at_line(
                    &src,
                    k + 2,
                    format!("column `{what}`: `{s}` is not a number"),
                )
            })
        };
        let mut descriptors = [f64::NAN; 10];
        for (j, &i) in idx_desc.iter().enumerate() {
            descriptors[j] = f(i, DESCRIPTORS[j].0)?;
        }
        records.push(Record {
            compound: get(idx_head[0]),
            formula: get(idx_head[1]),
            phase: get(idx_head[2]),
            rate: f(idx_head[3], "rate_per_ps")?,
            rate_err: f(idx_head[4], "rate_err_per_ps")?,
            source: get(idx_head[5]),
            descriptors,
            source_sha256: get(idx_tail[0]),
            fit_settings: get(idx_tail[1]),
            date: get(idx_tail[2]),
            record_id: get(idx_tail[3]),
        });
    }
    Ok(Dataset { records })
}

/// An exclusive lock file, removed when dropped.
struct Lock(PathBuf);

impl Lock {
    fn take(dataset: &Path, wait: Duration) -> Result<Lock> {
        let p = PathBuf::from(format!("{}.lock", dataset.display()));
        let start = Instant::now();
        loop {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&p)
            {
                Ok(_) => return Ok(Lock(p)),
                Err(e)
                    if e.kind() == std::io::ErrorKind::AlreadyExists && start.elapsed() < wait =>
                {
                    std::thread::sleep(Duration::from_millis(10))
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    return Err(Error::input(
                        p.display().to_string(),
                        format!(
                            "the dataset is locked by another append (waited {wait:?}); if no append is running, remove this lock file"
                        ),
                    ));
                }
                Err(e) => return Err(Error::io(&p, e)),
            }
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Append the lifetime of a TR fit (JSON of schema `spinfit.fit/1`) to the
/// dataset as a measurement of `compound`, whose descriptors are copied
/// from an existing row. Returns false when the same measurement is already
/// there (nothing written).
pub fn append_measurement(
    dataset: &Path,
    fit: &serde_json::Value,
    compound: &str,
    source_sha256: &str,
    date: &str,
    allow_synthetic: bool,
) -> Result<bool> {
    let what = "fit result";
    let synthetic = fit["metadata"]["synthetic"] == "true";
    if synthetic && !allow_synthetic {
        return Err(Error::input(
            what,
            format!(
                "the fitted data `{}` is SYNTHETIC (simulated): not appended to an experimental dataset; pass --allow-synthetic to add it as a row marked synthetic",
                fit["file"].as_str().unwrap_or("")
            ),
        ));
    }
    if fit["schema"] != "spinfit.fit/1" || fit["kind"] != "tr" {
        return Err(Error::input(
            what,
            "expected the JSON of `spinfit fit tr --json` (schema spinfit.fit/1, kind tr)",
        ));
    }
    if fit["success"] != true {
        return Err(Error::input(
            what,
            format!(
                "the fit is not trustworthy ({}): not appended",
                fit["problems"].as_str().unwrap_or("see its report")
            ),
        ));
    }
    let lifetimes = fit["results"]["lifetimes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    if lifetimes.len() != 1 {
        return Err(Error::input(
            what,
            format!(
                "{} lifetimes in the fit; append a single-exponential fit",
                lifetimes.len()
            ),
        ));
    }
    let rate = lifetimes[0]["rate"]["value"]
        .as_f64()
        .ok_or_else(|| Error::input(what, "no rate in the fit"))?;
    let rate_err = lifetimes[0]["rate"]["stderr"].as_f64().unwrap_or(f64::NAN);
    let _lock = Lock::take(dataset, Duration::from_secs(30))?;
    let mut d = read(dataset)?;
    let template = d
        .records
        .iter()
        .find(|r| r.compound == compound && r.descriptors.iter().all(|v| v.is_finite()))
        .cloned()
        .ok_or_else(|| {
            Error::input(
                dataset.display().to_string(),
                format!("no row of compound `{compound}` with all ten descriptors: add its descriptors first (spinfit dataset import), then append the measurement"),
            )
        })?;
    let mut r = Record {
        rate,
        rate_err,
        source: format!(
            "{}measurement: {}",
            if synthetic { "SYNTHETIC " } else { "" },
            fit["file"].as_str().unwrap_or("")
        ),
        source_sha256: source_sha256.to_string(),
        fit_settings: format!(
            "{}; reduced chi-square {}",
            fit["model"].as_str().unwrap_or(""),
            fit["statistics"]["redchi"]
        ),
        date: date.to_string(),
        record_id: String::new(),
        ..template
    };
    r.record_id = measurement_id(&r);
    if d.records.iter().any(|x| x.record_id == r.record_id) {
        return Ok(false);
    }
    d.records.push(r);
    write(dataset, &d)?;
    Ok(true)
}
