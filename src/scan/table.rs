//! A table of named numeric columns with metadata: what every reader
//! produces before columns are chosen for a scan.

use crate::error::{Error, Result};
use std::collections::BTreeMap;

/// `# key = value` metadata, keys lower-cased with spaces as underscores.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Metadata(pub BTreeMap<String, String>);

impl Metadata {
    /// Canonical form of a key: trimmed, lower case, spaces/dashes -> `_`.
    pub fn canonical(key: &str) -> String {
        key.trim().to_ascii_lowercase().replace([' ', '-'], "_")
    }
    /// Insert, canonicalising the key and stripping quotes from the value.
    pub fn insert(&mut self, key: &str, value: &str) {
        let v = value.trim();
        let v = v
            .strip_prefix('"')
            .and_then(|s| s.strip_suffix('"'))
            .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
            .unwrap_or(v);
        self.0.insert(Self::canonical(key), v.to_string());
    }
    /// Value of the first key present among `keys`.
    pub fn get_any(&self, keys: &[&str]) -> Option<(&str, &str)> {
        keys.iter().find_map(|k| {
            self.0
                .get_key_value(*k)
                .map(|(k, v)| (k.as_str(), v.as_str()))
        })
    }
    /// Parse the first present key among `keys` as `T`, naming the key in the error.
    pub fn parse<T: std::str::FromStr<Err = Error>>(
        &self,
        source: &str,
        keys: &[&str],
    ) -> Result<Option<T>> {
        match self.get_any(keys) {
            None => Ok(None),
            Some((k, v)) => v
                .parse::<T>()
                .map(Some)
                .map_err(|e| Error::input(source, format!("metadata `{k}` = `{v}`: {e}"))),
        }
    }
}

/// Parse a `# key = value` or `# key: value` comment; None for plain comments.
pub fn parse_meta_line(comment: &str) -> Option<(String, String)> {
    let c = comment.trim_start_matches(['#', '%']).trim();
    let pos = c.find(['=', ':'])?;
    let (k, v) = (c[..pos].trim(), c[pos + 1..].trim());
    if k.is_empty() || k.len() > 64 || v.is_empty() {
        return None;
    }
    Some((k.to_string(), v.to_string()))
}

/// Named numeric columns of equal length read from one source.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    /// File (and object) the table came from, used in every message.
    pub source: String,
    pub names: Vec<String>,
    pub columns: Vec<Vec<f64>>,
    pub meta: Metadata,
    /// Things the reader did that the user should know about.
    pub notes: Vec<String>,
    /// SHA-256 of the file the table was read from (set by
    /// [`super::read_tables`]; None for tables not read from a file).
    pub sha256: Option<String>,
}

/// A column chosen by name (case-insensitive) or by 1-based index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnSpec {
    Name(String),
    Index(usize),
}

impl std::str::FromStr for ColumnSpec {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(Error::setting("column", "empty column name"));
        }
        Ok(match s.parse::<usize>() {
            Ok(i) => ColumnSpec::Index(i),
            Err(_) => ColumnSpec::Name(s.to_string()),
        })
    }
}

impl Table {
    /// Index of the column matching `spec`: a name first (exact, then
    /// case-insensitive), then a 1-based index.
    pub fn find(&self, spec: &ColumnSpec) -> Result<usize> {
        let by_name = |n: &str| {
            self.names
                .iter()
                .position(|c| c == n)
                .or_else(|| self.names.iter().position(|c| c.eq_ignore_ascii_case(n)))
        };
        let found = match spec {
            ColumnSpec::Name(n) => by_name(n),
            ColumnSpec::Index(i) => by_name(&i.to_string())
                .or_else(|| (*i >= 1 && *i <= self.names.len()).then(|| i - 1)),
        };
        found.ok_or_else(|| {
            let what = match spec {
                ColumnSpec::Name(n) => format!("no column named `{n}`"),
                ColumnSpec::Index(i) => format!("no column number {i} (1-based)"),
            };
            Error::input(
                &self.source,
                format!("{what}; columns are: {}", self.names.join(", ")),
            )
        })
    }
    /// Index of the first column whose name (case-insensitive, ignoring a
    /// unit suffix) is one of `candidates`.
    pub fn find_by_role(&self, candidates: &[&str]) -> Option<usize> {
        self.names.iter().position(|n| {
            let base = n.trim().to_ascii_lowercase();
            let base = base
                .split(['_', '(', '[', ' '])
                .next()
                .unwrap_or("")
                .to_string();
            candidates
                .iter()
                .any(|c| *c == base || n.eq_ignore_ascii_case(c))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn metadata_lines() {
        assert_eq!(
            parse_meta_line("# field = 430 mT"),
            Some(("field".into(), "430 mT".into()))
        );
        assert_eq!(
            parse_meta_line("# Sample: \"CsPbI3 #4\""),
            Some(("Sample".into(), "\"CsPbI3 #4\"".into()))
        );
        assert_eq!(parse_meta_line("# just a remark"), None);
        let mut m = Metadata::default();
        m.insert("Probe Wavelength", "\"560 nm\"");
        assert_eq!(m.0["probe_wavelength"], "560 nm");
    }
}
