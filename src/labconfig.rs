//! A lab's conventions, written once: `spinfit.toml` in the folder of the
//! day (or `--config FILE`). Command-line flags override it; reports say
//! which setting came from where.
//!
//! ```toml
//! # column names and units of the lab's files
//! delay = "scancoord"
//! signal = "lockin2x"
//! delay_unit = "ps"
//! # default fit window and field
//! from = "50ps"
//! field = "200mT"
//! # files that do not say what they are
//! kind = "trfe"
//! [kinds]
//! "tr_*" = "tr"
//! "*_kerr*" = "trfe"
//! ```
//!
//! Keys are the long flags of `fit`, `gfactor` and `session` with `_` for
//! `-`; values are strings, numbers or booleans. An unknown key, a value of
//! another type, or a file pattern with an unknown kind is an error naming
//! the file and the key. Patterns use `*` (any run of characters) and `?`
//! (one character) against the file name.

use crate::error::{Error, Result};
use crate::scan::ScanKind;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The keys a config file may set.
pub const KEYS: &[&str] = &[
    "delay",
    "signal",
    "sc",
    "cc",
    "sigma",
    "delay_unit",
    "band",
    "layout",
    "from",
    "to",
    "exponentials",
    "irf_fwhm",
    "t0",
    "baseline",
    "polarisation",
    "artefact",
    "field",
    "field_from",
    "components",
    "criterion",
    "phase",
    "decay",
    "offset",
    "envelope",
    "repetition",
    "residual_alpha",
    "kind",
    "min_field",
];

/// Largest config file read (a lab's conventions fit in a few lines).
pub const MAX_BYTES: u64 = 1 << 20;

/// The parsed conventions.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabConfig {
    /// The file it came from (None: no config).
    pub path: Option<PathBuf>,
    pub values: BTreeMap<String, String>,
    /// (file-name pattern, kind) in file order.
    pub kinds: Vec<(String, ScanKind)>,
}

fn kind_of(s: &str) -> Option<ScanKind> {
    match s.to_ascii_lowercase().as_str() {
        "tr" => Some(ScanKind::Tr),
        "trfe" | "trkr" => Some(ScanKind::Trfe),
        _ => None,
    }
}

/// A TOML value in a message: a string as written, else its type.
fn show(v: &toml::Value) -> String {
    match v.as_str() {
        Some(s) => format!("\"{s}\""),
        None => format!("a {}", v.type_str()),
    }
}

/// Does `name` match the glob `pat` (`*` any run, `?` one character)?
///
/// ```
/// use spinfit::labconfig::glob_match;
/// assert!(glob_match("trfe_*mT.csv", "trfe_B420mT.csv"));
/// assert!(glob_match("scan?.dat", "scan7.dat"));
/// assert!(!glob_match("tr_*", "trfe_1.csv"));
/// ```
pub fn glob_match(pat: &str, name: &str) -> bool {
    // iterative matcher with one backtrack point: linear in practice, no
    // recursion on hostile patterns
    let (p, n): (Vec<char>, Vec<char>) = (pat.chars().collect(), name.chars().collect());
    let (mut i, mut j, mut star, mut mark) = (0, 0, None, 0);
    while j < n.len() {
        if i < p.len() && (p[i] == '?' || p[i] == n[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some(i);
            mark = j;
            i += 1;
        } else if let Some(s) = star {
            i = s + 1;
            mark += 1;
            j = mark;
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

impl LabConfig {
    /// Read `path`: a TOML file of [`KEYS`] and an optional `[kinds]` table.
    pub fn read(path: &Path) -> Result<LabConfig> {
        let src = path.display().to_string();
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if !meta.is_file() {
            return Err(Error::input(&src, "a config must be a regular file"));
        }
        if meta.len() > MAX_BYTES {
            return Err(Error::input(
                &src,
                format!("{} bytes; a config file is at most {MAX_BYTES}", meta.len()),
            ));
        }
        let text = crate::io_util::read_text(path)?;
        let mut c = LabConfig::parse(&text, &src)?;
        c.path = Some(path.to_path_buf());
        Ok(c)
    }

    /// Parse config text; `src` names it in messages.
    pub fn parse(text: &str, src: &str) -> Result<LabConfig> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| Error::input(src, format!("not valid TOML: {e}")))?;
        let mut c = LabConfig::default();
        for (k, v) in table {
            if k == "kinds" {
                let t = v.as_table().ok_or_else(|| {
                    Error::input(
                        src,
                        "`kinds` must be a table of \"pattern\" = \"tr\"|\"trfe\"",
                    )
                })?;
                for (pat, kind) in t {
                    let kind = kind.as_str().and_then(kind_of).ok_or_else(|| {
                        Error::input(
                            src,
                            format!(
                                "kinds.\"{pat}\" = {}: expected \"tr\" or \"trfe\"",
                                show(kind)
                            ),
                        )
                    })?;
                    c.kinds.push((pat.clone(), kind));
                }
                continue;
            }
            if !KEYS.contains(&k.as_str()) {
                return Err(Error::input(
                    src,
                    format!(
                        "unknown key `{k}`; the keys are {} and [kinds]",
                        KEYS.join(", ")
                    ),
                ));
            }
            let s = match &v {
                toml::Value::String(s) => s.clone(),
                toml::Value::Integer(i) => i.to_string(),
                toml::Value::Float(f) => f.to_string(),
                toml::Value::Boolean(b) => b.to_string(),
                other => {
                    return Err(Error::input(
                        src,
                        format!(
                            "`{k}` is {}: expected a string, number or boolean",
                            show(other)
                        ),
                    ));
                }
            };
            if k == "kind" && kind_of(&s).is_none() {
                return Err(Error::input(
                    src,
                    format!("kind = `{s}`: expected tr or trfe"),
                ));
            }
            c.values.insert(k, s);
        }
        Ok(c)
    }

    /// The config of a folder: its `spinfit.toml`, when there is one.
    pub fn of_folder(dir: &Path) -> Result<LabConfig> {
        let p = dir.join("spinfit.toml");
        if p.is_file() {
            LabConfig::read(&p)
        } else {
            Ok(LabConfig::default())
        }
    }

    /// The kind the config gives a file: the first matching pattern, else
    /// the `kind` key.
    pub fn kind_for(&self, file: &Path) -> Option<ScanKind> {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        self.kinds
            .iter()
            .find(|(p, _)| glob_match(p, &name))
            .map(|(_, k)| *k)
            .or_else(|| self.values.get("kind").and_then(|k| kind_of(k)))
    }

    /// Where the config came from, for reports.
    pub fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or("no config file".into(), |p| p.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_kinds_and_errors_that_name_the_key() {
        let c = LabConfig::parse(
            "delay = \"scancoord\"\nfrom = \"50ps\"\nresidual_alpha = 0.001\nkind = \"trfe\"\n[kinds]\n\"tr_*\" = \"tr\"\n",
            "spinfit.toml",
        )
        .unwrap();
        assert_eq!(c.values["delay"], "scancoord");
        assert_eq!(c.values["residual_alpha"], "0.001");
        assert_eq!(c.kind_for(Path::new("d/tr_1.csv")), Some(ScanKind::Tr));
        assert_eq!(c.kind_for(Path::new("d/x.tsv")), Some(ScanKind::Trfe));
        for (bad, what) in [
            ("dealy = \"t\"", "unknown key `dealy`"),
            ("delay = [1, 2]", "expected a string"),
            ("kind = \"xps\"", "expected tr or trfe"),
            ("[kinds]\n\"*\" = \"nmr\"", "expected \"tr\" or \"trfe\""),
            ("delay = ", "not valid TOML"),
        ] {
            let e = LabConfig::parse(bad, "spinfit.toml")
                .unwrap_err()
                .to_string();
            assert!(e.contains("spinfit.toml") && e.contains(what), "{bad}: {e}");
        }
    }

    #[test]
    fn glob_has_no_blow_up_on_hostile_patterns() {
        let name = "a".repeat(5000);
        assert!(!glob_match(
            &"*a".repeat(200).replace("*a*a", "*a*b"),
            &name
        ));
        assert!(glob_match("*", ""));
    }
}
