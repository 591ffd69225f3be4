//! Import of descriptor sheets as labs keep them: .xlsx (read with
//! calamine, no Excel needed) or CSV. Headers are mapped to the schema's
//! canonical names (Unicode symbols such as μ, χ, α, ΔEH–L included), sample
//! names trimmed, empty rows dropped, and a report says what was mapped and
//! what was dropped.

use super::{DESCRIPTORS, Dataset, Record};
use crate::error::{Error, Result};
use calamine::{Data, Reader, open_workbook_auto};
use std::path::Path;

/// What an import did.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    /// (sheet header, canonical column)
    pub mapped: Vec<(String, String)>,
    /// Sheet headers that map to nothing.
    pub unmapped: Vec<String>,
    pub empty_rows_dropped: usize,
    pub names_trimmed: usize,
    pub bulk_3d_rows: usize,
    pub rows: usize,
}

fn norm(h: &str) -> String {
    h.trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_' && *c != '(' && *c != ')')
        .collect()
}

enum Col {
    Compound,
    Formula,
    Phase,
    Descriptor(usize),
    Rate,
    RateErr,
}

fn map_header(h: &str) -> Option<(Col, &'static str)> {
    let n = norm(h);
    if ["sample", "compound", "name", "material"].contains(&n.as_str()) {
        return Some((Col::Compound, "compound"));
    }
    if n == "formula" {
        return Some((Col::Formula, "formula"));
    }
    if n == "phase" {
        return Some((Col::Phase, "phase"));
    }
    if n.starts_with("spinrelaxationrate") || n == "rate" || n == "rateperps" || n == "k" {
        return Some((Col::Rate, "rate_per_ps"));
    }
    if n.starts_with("rateerr") || n == "ratestderr" {
        return Some((Col::RateErr, "rate_err_per_ps"));
    }
    for (k, (canon, _, aliases)) in DESCRIPTORS.iter().enumerate() {
        if norm(canon) == n || aliases.iter().any(|a| norm(a) == n) {
            return Some((Col::Descriptor(k), canon));
        }
    }
    None
}

/// A cell as text and as a number.
fn cell_text(d: &Data) -> Cell {
    match d {
        Data::Int(i) => (i.to_string(), Some(*i as f64)),
        Data::Float(f) => (f.to_string(), Some(*f)),
        Data::String(s) => (s.clone(), s.trim().parse().ok()),
        Data::Bool(b) => (b.to_string(), None),
        Data::Empty => (String::new(), None),
        other => (other.to_string(), None),
    }
}

/// A sheet cell as its text and, where it is one, its number.
pub(crate) type Cell = (String, Option<f64>);

/// Every row of a CSV or the first sheet of a workbook, as cells.
pub(crate) fn rows_of(path: &Path) -> Result<Vec<Vec<Cell>>> {
    let src = path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    if ["xlsx", "xlsm", "xls", "ods"].contains(&ext.as_str()) {
        crate::io_util::check_readable(path)?;
        let mut wb = open_workbook_auto(path)
            .map_err(|e| Error::input(&src, format!("cannot open the workbook: {e}")))?;
        let range = wb
            .worksheet_range_at(0)
            .ok_or_else(|| Error::input(&src, "the workbook has no sheet"))?
            .map_err(|e| Error::input(&src, format!("cannot read the first sheet: {e}")))?;
        Ok(range
            .rows()
            .map(|r| r.iter().map(cell_text).collect())
            .collect())
    } else {
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::Cursor::new(crate::io_util::read_bytes(path)?));
        rd.records()
            .map(|r| {
                r.map(|rec| {
                    rec.iter()
                        .map(|s| (s.to_string(), s.trim().parse().ok()))
                        .collect()
                })
                .map_err(|e| Error::input(&src, e.to_string()))
            })
            .collect()
    }
}

/// Import a sheet into a dataset; every row gets `source` = the sheet.
pub fn import(path: &Path, source_sha256: &str) -> Result<(Dataset, ImportReport)> {
    let src = path.display().to_string();
    let rows = rows_of(path)?;
    let header_idx = rows
        .iter()
        .position(|r| r.iter().any(|c| !c.0.trim().is_empty()))
        .ok_or_else(|| Error::input(&src, "empty sheet"))?;
    let header = &rows[header_idx];
    let mut rep = ImportReport::default();
    let mut cols = vec![];
    for (i, (h, _)) in header.iter().enumerate() {
        if h.trim().is_empty() {
            continue;
        }
        match map_header(h) {
            Some((c, canon)) => {
                if let Some((first, _)) = rep.mapped.iter().find(|(_, k)| k == canon) {
                    return Err(Error::input(
                        &src,
                        format!(
                            "headers `{first}` and `{h}` both map to `{canon}`: one would overwrite the other; rename or remove one"
                        ),
                    ));
                }
                rep.mapped.push((h.clone(), canon.to_string()));
                cols.push((i, c));
            }
            None => rep.unmapped.push(h.clone()),
        }
    }
    if !cols.iter().any(|(_, c)| matches!(c, Col::Compound)) {
        return Err(Error::input(
            &src,
            format!(
                "no sample/compound column among the headers {:?}",
                header.iter().map(|h| h.0.as_str()).collect::<Vec<_>>()
            ),
        ));
    }
    if !cols.iter().any(|(_, c)| matches!(c, Col::Rate)) {
        return Err(Error::input(
            &src,
            format!(
                "no spin relaxation rate column (`rate`, `k`, `spin relaxation rate (ps-1)`) among the headers {:?}: a dataset needs its target",
                header.iter().map(|h| h.0.as_str()).collect::<Vec<_>>()
            ),
        ));
    }
    let mut records = vec![];
    for (ri, row) in rows.iter().enumerate().skip(header_idx + 1) {
        if row.iter().all(|c| c.0.trim().is_empty()) {
            rep.empty_rows_dropped += 1;
            continue;
        }
        let mut r = Record {
            compound: String::new(),
            formula: String::new(),
            phase: String::new(),
            descriptors: [f64::NAN; 10],
            rate: f64::NAN,
            rate_err: f64::NAN,
            source: format!(
                "imported from {}",
                path.file_name()
                    .map(|n| n.to_string_lossy().to_string())
                    .unwrap_or_default()
            ),
            source_sha256: source_sha256.to_string(),
            fit_settings: String::new(),
            date: String::new(),
            record_id: String::new(),
        };
        for (i, c) in &cols {
            let (text, num) = row.get(*i).cloned().unwrap_or_default();
            let want_num = |what: &str| -> Result<f64> {
                if text.trim().is_empty() {
                    return Ok(f64::NAN);
                }
                num.filter(|v| v.is_finite()).ok_or_else(|| {
                    Error::at_line(
                        &src,
                        ri + 1,
                        format!("column `{what}`: `{text}` is not a number"),
                    )
                })
            };
            match c {
                Col::Compound => {
                    if text.trim() != text {
                        rep.names_trimmed += 1;
                    }
                    r.compound = text.trim().to_string();
                }
                Col::Formula => r.formula = text.trim().to_string(),
                Col::Phase => r.phase = text.trim().to_string(),
                Col::Descriptor(k) => r.descriptors[*k] = want_num(DESCRIPTORS[*k].0)?,
                Col::Rate => r.rate = want_num("rate")?,
                Col::RateErr => r.rate_err = want_num("rate error")?,
            }
        }
        if r.compound.is_empty() {
            return Err(Error::at_line(
                &src,
                ri + 1,
                "a row with data but no sample name",
            ));
        }
        if r.descriptors[9] == 100.0 {
            rep.bulk_3d_rows += 1;
            if r.phase.is_empty() {
                r.phase = "3D".into();
            }
        }
        r.record_id = super::store::record_id(&r);
        records.push(r);
    }
    rep.rows = records.len();
    Ok((Dataset { records }, rep))
}

impl std::fmt::Display for ImportReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "imported {} rows", self.rows)?;
        for (h, c) in &self.mapped {
            writeln!(f, "  column `{h}` -> {c}")?;
        }
        for h in &self.unmapped {
            writeln!(f, "  column `{h}` dropped: no matching schema column")?;
        }
        writeln!(
            f,
            "  {} empty rows dropped, {} sample names trimmed, {} rows with n_layers = 100 (3-D bulk)",
            self.empty_rows_dropped, self.names_trimmed, self.bulk_3d_rows
        )
    }
}
