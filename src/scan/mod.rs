//! Raw scans: readers for the files labs write and the choice of columns.
//!
//! Every reader yields a [`Table`] (named columns + metadata); a [`Scan`] is
//! one delay axis in ps with one signal, chosen from a table:
//! - TR: columns named SC and CC (any case) give the spin signal
//!   S = SC - CC (co- minus counter-circular), or `--signal` names it;
//! - TRFE/TRKR: the signal column (`--signal`, or the only other column).

pub mod delimited;
pub mod h5;
pub mod map;
pub mod table;
pub mod vocab;

pub use map::{Band, Map};
pub use table::{ColumnSpec, Metadata, Table};

use crate::error::{Error, Result};
use crate::units::TimeUnit;
use std::path::Path;

/// Which experiment a scan comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ScanKind {
    /// Spin-resolved transient reflection (SC/CC).
    Tr,
    /// Time-resolved Faraday/Kerr ellipticity or rotation in a field.
    Trfe,
}

/// How to find delay and signal in a file.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub delay: Option<ColumnSpec>,
    pub signal: Option<ColumnSpec>,
    pub sc: Option<ColumnSpec>,
    pub cc: Option<ColumnSpec>,
    /// Column of per-point standard deviations of the signal.
    pub sigma: Option<ColumnSpec>,
    /// Unit of the delay column when its name carries none.
    pub delay_unit: Option<TimeUnit>,
    /// Wavelength or band of a 2-D map.
    pub band: Option<Band>,
    /// Orientation of a matrix map (None: from its header and axes).
    pub layout: Option<map::Layout>,
}

/// One trace ready for preprocessing: delays in ps and a signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Scan {
    pub source: String,
    pub kind: ScanKind,
    pub delay: Vec<f64>,
    pub signal: Vec<f64>,
    /// Per-point standard deviation, when known.
    pub sigma: Option<Vec<f64>>,
    /// For TR: the co- and counter-circular channels behind the signal.
    pub sc_cc: Option<(Vec<f64>, Vec<f64>)>,
    pub signal_name: String,
    pub meta: Metadata,
    /// What was done to the data on the way, for the report.
    pub notes: Vec<String>,
    /// SHA-256 of the input file (provenance; None when not from a file).
    pub sha256: Option<String>,
}

const DELAY_NAMES: &[&str] = &["delay", "time", "t", "scancoord", "position", "pos"];
const SIGNAL_NAMES: &[&str] = &[
    "signal",
    "s",
    "fe",
    "ellipticity",
    "kerr",
    "faraday",
    "rotation",
    "trfe",
    "trkr",
    "spin",
];

/// Read every table in `path`: HDF5 by extension, 2-D maps (Glotaran or a
/// matrix CSV with `band`) reduced to a trace, otherwise delimited text.
pub fn read_tables(path: &Path, opts: &ReadOptions) -> Result<Vec<Table>> {
    let mut tables = read_tables_unhashed(path, opts)?;
    let (file, _) = split_h5_object(path);
    // one hash per file, however many scans it holds
    let sha = crate::io_util::sha256_file(&file)?;
    for t in &mut tables {
        t.sha256 = Some(sha.clone());
    }
    Ok(tables)
}

fn read_tables_unhashed(path: &Path, opts: &ReadOptions) -> Result<Vec<Table>> {
    let src = path.display().to_string();
    let (file, object) = split_h5_object(path);
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if matches!(ext.as_str(), "h5" | "hdf5" | "hdf" | "nxs") {
        return h5::read(&file, object.as_deref());
    }
    let text = crate::io_util::read_text(path)?;
    if map::is_glotaran(&text) || opts.band.is_some() {
        let m = if map::is_glotaran(&text) {
            map::parse_glotaran(&text, &src, opts.delay_unit.unwrap_or(TimeUnit::Ps))?
        } else {
            map::parse_matrix(&text, &src, opts.delay_unit, opts.layout)?
        };
        let band = opts.band.ok_or_else(|| {
            Error::input(
                &src,
                format!(
                    "this is a 2-D map ({} wavelengths x {} delays); choose a probe wavelength or band with --band (e.g. 560nm or 550nm:570nm)",
                    m.wavelength_nm.len(),
                    m.delay_ps.len()
                ),
            )
        })?;
        return Ok(vec![m.trace(band)?]);
    }
    Ok(vec![delimited::parse(&text, &src)?])
}

/// `file.h5:/scans/x` -> (file.h5, Some("/scans/x")).
fn split_h5_object(path: &Path) -> (std::path::PathBuf, Option<String>) {
    let s = path.to_string_lossy();
    if let Some(i) = s
        .find(".h5:")
        .map(|i| i + 3)
        .or_else(|| s.find(".hdf5:").map(|i| i + 5))
    {
        return (s[..i].into(), Some(s[i + 1..].to_string()));
    }
    (path.to_path_buf(), None)
}

fn delay_column(t: &Table, opts: &ReadOptions) -> Result<(usize, Vec<f64>, String)> {
    let i = match &opts.delay {
        Some(spec) => t.find(spec)?,
        None => t.find_by_role(DELAY_NAMES).ok_or_else(|| {
            Error::input(
                &t.source,
                format!(
                    "no delay column found among {}; name it with --delay",
                    t.names.join(", ")
                ),
            )
        })?,
    };
    let name = &t.names[i];
    let from_name = TimeUnit::from_column_name(name);
    let from_meta = match t.meta.get_any(&["delay_unit", "time_unit"]) {
        Some((k, v)) => Some(v.parse::<TimeUnit>().map_err(|_| {
            Error::input(
                &t.source,
                format!("metadata `{k}` = `{v}`: expected fs, ps or ns"),
            )
        })?),
        None => None,
    };
    if let (Some(a), Some(b)) = (from_name, from_meta)
        && a != b
    {
        return Err(Error::input(
            &t.source,
            format!(
                "delay column `{name}` is in {a:?} by its name, but the header's `delay_unit` says {b:?}: fix one"
            ),
        ));
    }
    let found = from_name.or(from_meta);
    let unit = match (found, opts.delay_unit) {
        (Some(a), Some(b)) if a != b => {
            return Err(Error::input(
                &t.source,
                format!("delay column `{name}` is in {a:?} but --delay-unit says {b:?}"),
            ));
        }
        (Some(a), _) => a,
        (None, Some(b)) => b,
        (None, None) => {
            return Err(Error::input(
                &t.source,
                format!(
                    "unknown unit of delay column `{name}`: add a suffix (`{name}_ps`), a `# delay_unit = ps` line, or give --delay-unit fs|ps|ns"
                ),
            ));
        }
    };
    let v = t.columns[i].iter().map(|x| x * unit.to_ps()).collect();
    Ok((i, v, format!("{name} [{unit:?}]")))
}

impl Scan {
    /// Choose delay and signal columns of `t` for an experiment of `kind`.
    pub fn from_table(t: &Table, kind: ScanKind, opts: &ReadOptions) -> Result<Scan> {
        // a file that says what it is is not read as the other kind
        let said = t.meta.0.get("kind").map(|k| k.to_ascii_lowercase());
        let other = match kind {
            ScanKind::Tr => {
                ["trfe", "trkr", "faraday", "kerr"].contains(&said.as_deref().unwrap_or(""))
            }
            ScanKind::Trfe => {
                ["tr", "transient_reflection"].contains(&said.as_deref().unwrap_or(""))
            }
        };
        if other {
            return Err(Error::input(
                &t.source,
                format!(
                    "metadata kind = `{}`, but it is read as a {} scan: use `fit {}`",
                    said.unwrap_or_default(),
                    if kind == ScanKind::Tr { "TR" } else { "TRFE" },
                    if kind == ScanKind::Tr { "trfe" } else { "tr" }
                ),
            ));
        }
        // metadata that cannot be read is an error now, not a value
        // silently dropped from the report later
        vocab::header_field(&t.meta, &t.source)?;
        vocab::photon_energy(&t.meta, &t.source)?;
        vocab::temperature(&t.meta, &t.source)?;
        vocab::fluence(&t.meta, &t.source)?;
        vocab::sample(&t.meta, &t.source)?;
        let (di, delay, _) = delay_column(t, opts)?;
        // one column cannot be two things (`--delay 1 --signal 1`)
        let mut named = vec![("--delay", di)];
        for (flag, spec) in [
            ("--signal", &opts.signal),
            ("--sc", &opts.sc),
            ("--cc", &opts.cc),
            ("--sigma", &opts.sigma),
        ] {
            if let Some(sp) = spec {
                let i = t.find(sp)?;
                if let Some((other, _)) = named.iter().find(|(_, j)| *j == i) {
                    return Err(Error::input(
                        &t.source,
                        format!(
                            "{other} and {flag} both name column `{}`: give each its own column",
                            t.names[i]
                        ),
                    ));
                }
                named.push((flag, i));
            }
        }
        let mut notes = t.notes.clone();
        let pick = |spec: &Option<ColumnSpec>, role: &[&str]| -> Result<Option<usize>> {
            match spec {
                Some(s) => t.find(s).map(Some),
                None => Ok(t.find_by_role(role)),
            }
        };
        let (signal, name, sc_cc) = match kind {
            ScanKind::Tr if opts.signal.is_none() => {
                match (pick(&opts.sc, &["sc"])?, pick(&opts.cc, &["cc"])?) {
                    (Some(a), Some(b)) => {
                        notes.push(format!(
                            "spin signal S = {} - {} (co- minus counter-circular)",
                            t.names[a], t.names[b]
                        ));
                        let s = t.columns[a]
                            .iter()
                            .zip(&t.columns[b])
                            .map(|(x, y)| x - y)
                            .collect();
                        (
                            s,
                            "SC - CC".to_string(),
                            Some((t.columns[a].clone(), t.columns[b].clone())),
                        )
                    }
                    (sc, cc) => {
                        let other = if sc.is_some() || cc.is_some() {
                            None // one of the pair alone is not a spin signal
                        } else {
                            signal_index(t, di, &None)?
                        };
                        let other = other.ok_or_else(|| {
                            Error::input(
                                &t.source,
                                format!(
                                    "transient reflection needs SC and CC columns ({} missing) or --signal; columns are: {}",
                                    match (sc, cc) {
                                        (None, None) => "both",
                                        (None, _) => "SC",
                                        _ => "CC",
                                    },
                                    t.names.join(", ")
                                ),
                            )
                        })?;
                        (t.columns[other].clone(), t.names[other].clone(), None)
                    }
                }
            }
            _ => {
                let i = signal_index(t, di, &opts.signal)?.ok_or_else(|| {
                    Error::input(
                        &t.source,
                        format!(
                            "cannot tell which column is the signal among {}; name it with --signal",
                            t.names.join(", ")
                        ),
                    )
                })?;
                (t.columns[i].clone(), t.names[i].clone(), None)
            }
        };
        if delay.len() < 2 {
            return Err(Error::input(
                &t.source,
                format!(
                    "only {} data point; a scan needs at least 2 delays",
                    delay.len()
                ),
            ));
        }
        let sigma = match &opts.sigma {
            None => None,
            Some(spec) => {
                let i = t.find(spec)?;
                if let Some(k) = t.columns[i].iter().position(|v| *v <= 0.0) {
                    return Err(Error::input(
                        &t.source,
                        format!(
                            "sigma column `{}`, row {}: {} is not a positive standard deviation",
                            t.names[i],
                            k + 1,
                            t.columns[i][k]
                        ),
                    ));
                }
                notes.push(format!(
                    "per-point sigma from column `{}`: fit weighted, errors absolute",
                    t.names[i]
                ));
                Some(t.columns[i].clone())
            }
        };
        Ok(Scan {
            source: t.source.clone(),
            kind,
            delay,
            signal,
            sigma,
            sc_cc,
            signal_name: name,
            meta: t.meta.clone(),
            notes,
            sha256: t.sha256.clone(),
        })
    }
}

fn signal_index(t: &Table, delay_idx: usize, spec: &Option<ColumnSpec>) -> Result<Option<usize>> {
    if let Some(s) = spec {
        return t.find(s).map(Some);
    }
    if let Some(i) = t.find_by_role(SIGNAL_NAMES) {
        return Ok(Some(i));
    }
    Ok((t.names.len() == 2).then_some(1 - delay_idx))
}

/// Read all scans of `kind` in `path`.
pub fn read_scans(path: &Path, kind: ScanKind, opts: &ReadOptions) -> Result<Vec<Scan>> {
    read_tables(path, opts)?
        .iter()
        .map(|t| Scan::from_table(t, kind, opts))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(text: &str) -> Table {
        delimited::parse(text, "f.csv").unwrap()
    }

    #[test]
    fn tr_finds_sc_cc_in_any_case() {
        let t = table("delay_fs,sc,Cc\n0,3,1\n100,2,1\n");
        let s = Scan::from_table(&t, ScanKind::Tr, &ReadOptions::default()).unwrap();
        assert_eq!(s.signal, [2.0, 1.0]);
        assert_eq!(s.delay, [0.0, 0.1]);
    }

    #[test]
    fn columns_by_name_or_index_and_unit_flag() {
        let t = table("scancoord,lockin1x,lockin2x\n0,1,5\n1,2,6\n");
        let opts = ReadOptions {
            delay: Some("scancoord".parse().unwrap()),
            signal: Some("3".parse().unwrap()),
            delay_unit: Some(TimeUnit::Ns),
            ..Default::default()
        };
        let s = Scan::from_table(&t, ScanKind::Trfe, &opts).unwrap();
        assert_eq!(s.signal, [5.0, 6.0]);
        assert_eq!(s.delay, [0.0, 1000.0]);
    }

    #[test]
    fn sigma_column_is_used_and_checked() {
        let t = table("delay_ps,signal,err\n0,1,0.1\n1,2,0.2\n");
        let opts = ReadOptions {
            sigma: Some("err".parse().unwrap()),
            ..Default::default()
        };
        let s = Scan::from_table(&t, ScanKind::Trfe, &opts).unwrap();
        assert_eq!(s.sigma.unwrap(), [0.1, 0.2]);
        let t = table("delay_ps,signal,err\n0,1,0.1\n1,2,0\n");
        let e = Scan::from_table(&t, ScanKind::Trfe, &opts)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("row 2: 0 is not a positive standard deviation"),
            "{e}"
        );
    }

    #[test]
    fn clear_errors() {
        let cases: [(&str, ScanKind, ReadOptions, &str); 5] = [
            (
                "delay,a,b\n0,1,2\n1,1,2\n",
                ScanKind::Trfe,
                ReadOptions::default(),
                "unknown unit of delay column `delay`",
            ),
            (
                "delay_ps,a,b\n0,1,2\n1,1,2\n",
                ScanKind::Trfe,
                ReadOptions::default(),
                "name it with --signal",
            ),
            (
                "delay_ps,SC\n0,1\n1,1\n",
                ScanKind::Tr,
                ReadOptions {
                    signal: None,
                    ..Default::default()
                },
                "CC missing",
            ),
            (
                "delay_ps,signal\n0,1\n",
                ScanKind::Trfe,
                ReadOptions::default(),
                "only 1 data point",
            ),
            (
                "delay_ps,signal\n0,1\n1,2\n",
                ScanKind::Trfe,
                ReadOptions {
                    delay_unit: Some(TimeUnit::Fs),
                    ..Default::default()
                },
                "is in Ps but --delay-unit says Fs",
            ),
        ];
        for (text, kind, opts, want) in cases {
            let e = Scan::from_table(&table(text), kind, &opts)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(want) && e.starts_with("f.csv"),
                "got `{e}`, want `{want}`"
            );
        }
        let e = Scan::from_table(
            &table("delay_ps,signal\n0,1\n1,2\n"),
            ScanKind::Trfe,
            &ReadOptions {
                signal: Some("lockin".parse().unwrap()),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("no column named `lockin`; columns are: delay_ps, signal"),
            "{e}"
        );
    }
}
