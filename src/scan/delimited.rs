//! Delimited text as labs write it: CSV, TSV, semicolon or whitespace
//! separated, `#` (or `%`) comment lines carrying `key = value` metadata,
//! an optional header row, trailing delimiters and blank lines tolerated.

use super::table::{Metadata, Table, parse_meta_line};
use crate::error::{Error, Result};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Delim {
    Char(char),
    Whitespace,
}

fn detect(line: &str) -> Delim {
    for c in ['\t', ',', ';'] {
        if line.contains(c) {
            return Delim::Char(c);
        }
    }
    Delim::Whitespace
}

fn split(line: &str, d: Delim) -> Vec<String> {
    let mut f: Vec<String> = match d {
        Delim::Whitespace => line.split_whitespace().map(str::to_string).collect(),
        Delim::Char(c) => line.split(c).map(|s| s.trim().to_string()).collect(),
    };
    // trailing delimiters leave empty fields at the end
    while f.last().is_some_and(|s| s.is_empty()) {
        f.pop();
    }
    f
}

fn strip_quotes(s: &str) -> &str {
    s.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(s)
}

/// Read a delimited text file into a [`Table`].
pub fn read(path: &Path) -> Result<Table> {
    let text = crate::io_util::read_text(path)?;
    parse(&text, &path.display().to_string())
}

/// Parse delimited text; `source` names it in messages.
pub fn parse(text: &str, source: &str) -> Result<Table> {
    let mut meta = Metadata::default();
    let mut names: Option<Vec<String>> = None;
    let mut columns: Vec<Vec<f64>> = Vec::new();
    let mut delim = None;
    let mut first_row_line = 0;
    // the line each metadata key came from: a key given twice with two
    // values is refused, not silently overwritten
    let mut meta_line: std::collections::BTreeMap<String, (usize, String)> = Default::default();
    for (ln0, raw) in text.lines().enumerate() {
        let ln = ln0 + 1;
        let line = raw.trim_start_matches('\u{feff}').trim();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('#') || line.starts_with('%') {
            if let Some((k, v)) = parse_meta_line(line) {
                meta.insert(&k, &v);
                let key = Metadata::canonical(&k);
                let val = meta.0[&key].clone();
                if let Some((l0, v0)) = meta_line.get(&key)
                    && *v0 != val
                {
                    return Err(Error::at_line(
                        source,
                        ln,
                        format!(
                            "metadata `{k}` = `{val}` contradicts line {l0}, which says `{v0}`: keep one"
                        ),
                    ));
                }
                meta_line.insert(key, (ln, val));
            }
            continue;
        }
        let d = *delim.get_or_insert_with(|| detect(line));
        let fields = split(line, d);
        if fields.is_empty() {
            continue;
        }
        if names.is_none() {
            let numeric = fields
                .iter()
                .all(|f| strip_quotes(f).parse::<f64>().is_ok());
            if numeric {
                names = Some((1..=fields.len()).map(|i| format!("col{i}")).collect());
            } else {
                let n: Vec<String> = fields.iter().map(|f| strip_quotes(f).to_string()).collect();
                if let Some(i) = n.iter().position(|s| s.is_empty()) {
                    return Err(Error::at_line(
                        source,
                        ln,
                        format!("header column {} has no name", i + 1),
                    ));
                }
                for (i, a) in n.iter().enumerate() {
                    if let Some(j) = n[..i].iter().position(|b| b.eq_ignore_ascii_case(a)) {
                        return Err(Error::at_line(
                            source,
                            ln,
                            format!(
                                "columns {} and {} are both named `{a}`: rename one (names are compared without case)",
                                j + 1,
                                i + 1
                            ),
                        ));
                    }
                }
                columns = vec![Vec::new(); n.len()];
                names = Some(n);
                continue;
            }
            columns = vec![Vec::new(); fields.len()];
            first_row_line = ln;
        }
        let header = names.as_ref().expect("set above");
        if first_row_line == 0 {
            first_row_line = ln;
        }
        if fields.len() != header.len() {
            return Err(Error::at_line(
                source,
                ln,
                format!(
                    "expected {} columns ({}), found {}",
                    header.len(),
                    header.join(", "),
                    fields.len()
                ),
            ));
        }
        for (c, f) in fields.iter().enumerate() {
            let s = strip_quotes(f);
            let v: f64 = s.parse().map_err(|_| {
                Error::at_line(
                    source,
                    ln,
                    format!("column `{}`: `{s}` is not a number", header[c]),
                )
            })?;
            if !v.is_finite() {
                return Err(Error::at_line(
                    source,
                    ln,
                    format!(
                        "column `{}`: value `{s}` is not finite (NaN or infinity)",
                        header[c]
                    ),
                ));
            }
            columns[c].push(v);
        }
    }
    let names =
        names.ok_or_else(|| Error::input(source, "empty file: no header and no data rows"))?;
    let rows = columns.first().map_or(0, Vec::len);
    if rows == 0 {
        return Err(Error::input(source, "no data rows after the header"));
    }
    Ok(Table {
        source: source.to_string(),
        names,
        columns,
        meta,
        notes: vec![],
        sha256: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicated_columns_and_contradicting_metadata_are_refused() {
        let e = parse("delay_ps,SC,sc\n0,1,2\n1,2,3\n", "f.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("f.csv") && e.contains("line 1") && e.contains("columns 2 and 3"),
            "{e}"
        );
        let e = parse("# field = 420 mT\n# field = 200 mT\nt,s\n0,1\n", "g.csv")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("line 2") && e.contains("line 1") && e.contains("420 mT"),
            "{e}"
        );
        // a header unit that contradicts the column's suffix
        let t = parse("# delay_unit = fs\ndelay_ps,signal\n0,1\n1,2\n", "u.csv").unwrap();
        let e = crate::scan::Scan::from_table(&t, crate::scan::ScanKind::Trfe, &Default::default())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("u.csv") && e.contains("delay_ps") && e.contains("Fs"),
            "{e}"
        );
        // the same value twice is harmless
        assert!(parse("# field = 420 mT\n# field = 420 mT\nt,s\n0,1\n", "h.csv").is_ok());
    }

    #[test]
    fn reads_csv_with_metadata_header_and_trailing_delims() {
        let t = parse(
            "# sample = \"MAPbI3\"\n# field: 430 mT\n\ndelay_ps, SC, CC,\n0, 1, 2,\n1, 3, 4,\n\n",
            "x.csv",
        )
        .unwrap();
        assert_eq!(t.names, ["delay_ps", "SC", "CC"]);
        assert_eq!(t.columns[2], [2.0, 4.0]);
        assert_eq!(t.meta.0["sample"], "MAPbI3");
        assert_eq!(t.meta.0["field"], "430 mT");
    }

    #[test]
    fn reads_whitespace_and_tab_without_header() {
        let t = parse("0 1\n1   2\n", "x.dat").unwrap();
        assert_eq!(t.names, ["col1", "col2"]);
        let t = parse("a\tb\n1\t2\n", "x.tsv").unwrap();
        assert_eq!(t.columns[1], [2.0]);
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let cases = [
            ("", "empty file"),
            ("# only = comments\n", "empty file"),
            ("t,s\n", "no data rows"),
            ("t,s\n1,2\n2,x\n", "line 3: column `s`: `x` is not a number"),
            (
                "t,s\n1,NaN\n",
                "line 2: column `s`: value `NaN` is not finite",
            ),
            ("t,s\n1,inf\n", "not finite"),
            (
                "t,s\n1,2\n2\n",
                "line 3: expected 2 columns (t, s), found 1",
            ),
        ];
        for (text, want) in cases {
            let e = parse(text, "scan.csv").unwrap_err().to_string();
            assert!(e.starts_with("scan.csv"), "{e}");
            assert!(e.contains(want), "`{text}` gave `{e}`, expected `{want}`");
        }
    }
}
