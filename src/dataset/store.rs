//! Reading and writing the dataset CSV; appending measured lifetimes.
//!
//! Writes are atomic and keep the file's mode, owner and symlink (see
//! [`crate::io_util`]) and are made under the dataset's lock
//! (`DATASET.lock`, an `flock` the kernel releases if the writer dies), so
//! an import never interleaves with an append.

use super::{DESCRIPTORS, Dataset, Record};
use crate::error::{Error, Result};
use crate::io_util::{Lock, remove_stale_temps, write_atomic};
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

/// How long a writer waits for another one's lock.
pub(crate) const LOCK_WAIT: Duration = Duration::from_secs(30);

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

/// Write atomically, under the dataset's lock.
pub fn write(path: &Path, d: &Dataset) -> Result<()> {
    let _lock = take_lock(path)?;
    write_locked(path, d)
}

/// Take the dataset's lock and clear temporary files that a killed writer
/// left (only a lock holder writes them, so any found now are stale).
pub(crate) fn take_lock(path: &Path) -> Result<Lock> {
    let lock = Lock::take(path, LOCK_WAIT)?;
    remove_stale_temps(path);
    Ok(lock)
}

/// Write atomically; the caller holds the lock.
pub(crate) fn write_locked(path: &Path, d: &Dataset) -> Result<()> {
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
