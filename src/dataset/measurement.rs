//! Appending a measured lifetime to the dataset, with provenance.
//!
//! The fit JSON is untrusted input: its schema, success, the single
//! lifetime's rate (finite, 1e-6 <= rate <= 1e3 ps^-1, i.e. 1 fs <= tau <=
//! 1 us) and its standard error (finite, >= 0) are checked, as is the date
//! (a real calendar day, not in the future) and the compound name. Appends
//! are idempotent: a record's id is the hash of compound, rate, error and
//! the content hash of the fitted data, and a record already present is
//! not added again. The read-modify-write runs under the dataset's lock.

use super::Record;
use super::store::{measurement_id, read, take_lock, write_locked};
use crate::error::{Error, Result};
use std::path::Path;

/// Plausible spin relaxation rates, ps^-1 (tau from 1 us down to 1 fs).
pub const RATE_RANGE: (f64, f64) = (1e-6, 1e3);

/// Append the TR fit saved at `fit_path` (`spinfit fit tr --json`), with
/// its provenance: the data file the fit names is canonicalised (a regular
/// file only: never read a device or a FIFO named in the JSON); the hash is
/// the fit's own record of its input's SHA-256 (the same from any working
/// directory), else that file's hash now, else the fit JSON's own.
pub fn append_fit_file(
    dataset: &Path,
    fit_path: &Path,
    compound: &str,
    date: &str,
    allow_synthetic: bool,
) -> Result<bool> {
    use crate::io_util::sha256_file;
    let text = crate::io_util::read_text(fit_path)?;
    let mut j: serde_json::Value = serde_json::from_str(&text).map_err(|e| Error::Input {
        file: fit_path.display().to_string(),
        line: Some(e.line()),
        msg: format!("not JSON: {e}"),
    })?;
    let data = j["file"]
        .as_str()
        .map(std::path::PathBuf::from)
        .filter(|p| std::fs::metadata(p).is_ok_and(|m| m.is_file()))
        .and_then(|p| p.canonicalize().ok());
    if let Some(p) = &data {
        j["file"] = serde_json::Value::String(p.display().to_string());
    }
    let hash = match (j["input_sha256"].as_str(), &data) {
        (Some(h), _) if h.len() == 64 && h.bytes().all(|c| c.is_ascii_hexdigit()) => h.to_string(),
        (_, Some(p)) => sha256_file(p)?,
        _ => sha256_file(fit_path)?,
    };
    append_measurement(
        dataset,
        fit_path,
        &j,
        compound,
        &hash,
        date,
        allow_synthetic,
    )
}

/// Append the lifetime of a TR fit (JSON of schema `spinfit.fit/1`, read
/// from `fit_path`) to the dataset as a measurement of `compound`, whose
/// descriptors are copied from an existing row. Returns false when the same
/// measurement is already there (nothing written).
pub fn append_measurement(
    dataset: &Path,
    fit_path: &Path,
    fit: &serde_json::Value,
    compound: &str,
    source_sha256: &str,
    date: &str,
    allow_synthetic: bool,
) -> Result<bool> {
    let what = fit_path.display().to_string();
    let bad = |field: &str, msg: String| Error::input(&what, format!("field `{field}`: {msg}"));
    check_compound(compound)?;
    check_date(date, today())?;
    let synthetic = fit["metadata"]["synthetic"] == "true";
    if fit["schema"] != "spinfit.fit/1" || fit["kind"] != "tr" {
        return Err(bad(
            "schema",
            "expected the JSON of `spinfit fit tr --json` (schema spinfit.fit/1, kind tr)".into(),
        ));
    }
    if synthetic && !allow_synthetic {
        return Err(bad(
            "metadata.synthetic",
            format!(
                "the fitted data `{}` is SYNTHETIC (simulated): not appended to an experimental dataset; pass --allow-synthetic to add it as a row marked synthetic",
                fit["file"].as_str().unwrap_or("")
            ),
        ));
    }
    if fit["success"] != true {
        return Err(bad(
            "success",
            format!(
                "the fit is not trustworthy ({}): not appended",
                fit["problems"].as_str().unwrap_or("see its report")
            ),
        ));
    }
    let lifetimes = fit["results"]["lifetimes"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    if lifetimes.len() != 1 {
        return Err(bad(
            "results.lifetimes",
            format!(
                "{} lifetimes in the fit; append a single-exponential fit",
                lifetimes.len()
            ),
        ));
    }
    let rate = lifetimes[0]["rate"]["value"]
        .as_f64()
        .ok_or_else(|| bad("results.lifetimes[0].rate.value", "no number".into()))?;
    let rate_err = lifetimes[0]["rate"]["stderr"].as_f64().ok_or_else(|| {
        bad(
            "results.lifetimes[0].rate.stderr",
            "no number: the fit has no error estimate".into(),
        )
    })?;
    let (lo, hi) = RATE_RANGE;
    if !(rate.is_finite() && (lo..=hi).contains(&rate)) {
        return Err(bad(
            "results.lifetimes[0].rate.value",
            format!(
                "{rate} ps^-1 is outside the plausible {lo:e}..{hi:e} ps^-1 (tau 1 us .. 1 fs)"
            ),
        ));
    }
    if !(rate_err.is_finite() && rate_err >= 0.0) {
        return Err(bad(
            "results.lifetimes[0].rate.stderr",
            format!("{rate_err} is not a finite, non-negative error"),
        ));
    }
    let _lock = take_lock(dataset)?;
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
    write_locked(dataset, &d)?;
    Ok(true)
}

fn check_compound(c: &str) -> Result<()> {
    if c.trim().is_empty() || c.len() > 200 || c.chars().any(char::is_control) {
        return Err(Error::setting(
            "--compound",
            "expected a compound name of 1-200 printable characters",
        ));
    }
    Ok(())
}

/// (year, month, day) of today, UTC.
pub fn today() -> (i64, u32, u32) {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    civil_from_days(secs.div_euclid(86_400))
}

/// Calendar date of a day count since 1970-01-01 (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// A measurement date: `YYYY-MM-DD`, a real day of the calendar, from 1900
/// and not after `today`.
pub fn check_date(s: &str, today: (i64, u32, u32)) -> Result<()> {
    let bad = |why: &str| Error::setting("--date", format!("`{s}`: {why}"));
    let p: Vec<&str> = s.split('-').collect();
    let ok_shape = p.len() == 3
        && [4, 2, 2]
            .iter()
            .zip(&p)
            .all(|(n, x)| x.len() == *n && x.bytes().all(|b| b.is_ascii_digit()));
    if !ok_shape {
        return Err(bad("expected YYYY-MM-DD"));
    }
    let (y, m, d): (i64, u32, u32) = (
        p[0].parse().unwrap_or(0),
        p[1].parse().unwrap_or(0),
        p[2].parse().unwrap_or(0),
    );
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return Err(bad("no such month")),
    };
    if d == 0 || d > days {
        return Err(bad(&format!("month {m} of {y} has {days} days")));
    }
    if y < 1900 || (y, m, d) > today {
        return Err(bad(&format!(
            "not a measurement date (after today, {}-{:02}-{:02}, or before 1900)",
            today.0, today.1, today.2
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_real_calendar_days_up_to_today() {
        let today = (2026, 12, 1);
        for ok in ["2024-02-29", "2026-12-01", "1999-12-31"] {
            assert!(check_date(ok, today).is_ok(), "{ok}");
        }
        for bad in [
            "2026-13-45",
            "2023-02-29",
            "2026-12-02",
            "26-1-1",
            "2026-04-31",
            "1800-01-01",
            "2026-1-01",
            "２０２６-01-01",
        ] {
            assert!(check_date(bad, today).is_err(), "{bad}");
        }
        // the day count conversion against known dates
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_423), (2025, 12, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
