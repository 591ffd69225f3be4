//! HDF5 scans, readable by h5py and HDFView.
//!
//! Layout (format `spinfit-scans`, version 1):
//! ```text
//! /                      attrs: format = "spinfit-scans", version = 1
//! /scans/<name>/         one group per scan; attrs: metadata as strings
//!                        (field = "430 mT", sample = "...", kind = "trfe")
//! /scans/<name>/delay    f64 [N], attr unit = "fs" | "ps" | "ns"
//! /scans/<name>/<chan>   f64 [N] per signal channel (e.g. SC, CC, signal),
//!                        attr unit (e.g. "dR/R", "mrad")
//! ```
//! Reading accepts the file (all scans under `/scans`) or `file.h5:/path`
//! naming one scan group.

use super::table::{Metadata, Table};
use crate::error::{Error, Result};
use crate::units::TimeUnit;
use hdf5::types::{VarLenAscii, VarLenUnicode};
use std::path::Path;

fn h5err<'a>(path: &'a Path, object: &str) -> impl Fn(hdf5::Error) -> Error + 'a {
    let object = object.to_string();
    move |e| Error::Hdf5 {
        file: path.to_path_buf(),
        object: object.clone(),
        msg: e.to_string(),
    }
}

fn write_str_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("{e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}

fn read_attr_string(a: &hdf5::Attribute) -> Option<String> {
    if let Ok(v) = a.read_scalar::<VarLenUnicode>() {
        return Some(v.as_str().to_string());
    }
    if let Ok(v) = a.read_scalar::<VarLenAscii>() {
        return Some(v.as_str().to_string());
    }
    if let Ok(v) = a.read_scalar::<f64>() {
        return Some(v.to_string());
    }
    a.read_scalar::<i64>().ok().map(|v| v.to_string())
}

/// Create a file that is really closed when its handle is dropped (HDF5's
/// default "weak" close keeps it open, and locked, while any object handle
/// lives, so another process could not open it right after writing).
pub(crate) fn create_strong(path: &Path) -> hdf5::Result<hdf5::File> {
    hdf5::File::with_options()
        .with_fapl(|p| p.fclose_degree(hdf5::file::FileCloseDegree::Strong))
        .create(path)
}

/// One scan to write: name, delays (ps), channels with units, metadata.
pub struct ScanRecord<'a> {
    pub name: &'a str,
    pub delay_ps: &'a [f64],
    pub channels: Vec<(&'a str, &'a [f64], &'a str)>,
    pub meta: &'a Metadata,
}

/// Write scans to `path` atomically (see [`crate::io_util::write_with`]).
pub fn write(path: &Path, scans: &[ScanRecord]) -> Result<()> {
    crate::io_util::write_with(path, |tmp| write_into(tmp, scans))
}

fn write_into(tmp: &Path, scans: &[ScanRecord]) -> Result<()> {
    let e = h5err(tmp, "/");
    {
        let f = create_strong(tmp).map_err(&e)?;
        write_str_attr(&f, "format", "spinfit-scans").map_err(&e)?;
        f.new_attr::<i64>()
            .create("version")
            .map_err(&e)?
            .write_scalar(&1i64)
            .map_err(&e)?;
        let root = f.create_group("scans").map_err(&e)?;
        for s in scans {
            let obj = format!("/scans/{}", s.name);
            let e = h5err(tmp, &obj);
            let g = root.create_group(s.name).map_err(&e)?;
            for (k, v) in &s.meta.0 {
                write_str_attr(&g, k, v).map_err(&e)?;
            }
            let d = g
                .new_dataset_builder()
                .with_data(s.delay_ps)
                .create("delay")
                .map_err(&e)?;
            write_str_attr(&d, "unit", "ps").map_err(&e)?;
            for (name, values, unit) in &s.channels {
                if values.len() != s.delay_ps.len() {
                    return Err(Error::setting(
                        *name,
                        format!("{} values for {} delays", values.len(), s.delay_ps.len()),
                    ));
                }
                let d = g
                    .new_dataset_builder()
                    .with_data(*values)
                    .create(*name)
                    .map_err(&e)?;
                write_str_attr(&d, "unit", unit).map_err(&e)?;
            }
        }
    }
    Ok(())
}

/// Only real numbers are signal: booleans, enums, strings and compounds
/// are refused (a boolean mask would otherwise be read as 0/1 signal), and
/// a dataset larger than the input limit is not read.
fn check_numeric(d: &hdf5::Dataset, src: &str) -> Result<()> {
    use hdf5::types::TypeDescriptor as T;
    let t = d
        .dtype()
        .and_then(|t| t.to_descriptor())
        .map_err(|e| Error::input(src, format!("unreadable data type: {e}")))?;
    if !matches!(t, T::Float(_) | T::Integer(_) | T::Unsigned(_)) {
        return Err(Error::input(
            src,
            format!("holds {t} values, expected real numbers (float or integer)"),
        ));
    }
    let limit = crate::io_util::max_input_bytes();
    if (d.size() as u64).saturating_mul(8) > limit {
        return Err(Error::input(
            src,
            format!(
                "{} values exceed the input limit of {} MiB (raise it with --max-input-mb)",
                d.size(),
                limit >> 20
            ),
        ));
    }
    Ok(())
}

fn read_group(path: &Path, g: &hdf5::Group) -> Result<Table> {
    let obj = g.name();
    let e = h5err(path, &obj);
    let source = format!("{}:{obj}", path.display());
    let mut meta = Metadata::default();
    for a in g.attr_names().map_err(&e)? {
        if let Some(v) = g.attr(&a).ok().as_ref().and_then(read_attr_string) {
            meta.insert(&a, &v);
        }
    }
    if !g.link_exists("delay") {
        return Err(Error::input(&source, "scan group has no `delay` dataset"));
    }
    if g.dataset("delay").is_err() {
        return Err(Error::input(
            format!("{source}/delay"),
            "is not a dataset (a group or a broken link): expected a 1-D array of delays",
        ));
    }
    let mut names = vec!["delay_ps".to_string()];
    let mut columns = vec![];
    let mut members = g.member_names().map_err(&e)?;
    members.sort(); // member order differs between HDF5 versions
    members.retain(|m| m != "delay");
    members.insert(0, "delay".into());
    for m in members {
        let Ok(d) = g.dataset(&m) else { continue };
        let ds_src = format!("{source}/{m}");
        check_numeric(&d, &ds_src)?;
        if d.ndim() != 1 {
            return Err(Error::input(
                &ds_src,
                format!("expected a 1-D dataset, found {} dimensions", d.ndim()),
            ));
        }
        let mut v: Vec<f64> = d
            .read_raw::<f64>()
            .map_err(|err| Error::input(&ds_src, format!("cannot read as numbers: {err}")))?;
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            return Err(Error::input(&ds_src, format!("element {i} is not finite")));
        }
        let unit = d.attr("unit").ok().as_ref().and_then(read_attr_string);
        if m == "delay" {
            let u = unit.ok_or_else(|| {
                Error::input(
                    &ds_src,
                    "the delay dataset has no `unit` attribute (fs, ps or ns)",
                )
            })?;
            let tu: TimeUnit = u.parse().map_err(|_| {
                Error::input(
                    &ds_src,
                    format!("unknown delay unit `{u}`, expected fs, ps or ns"),
                )
            })?;
            v.iter_mut().for_each(|x| *x *= tu.to_ps());
        } else {
            names.push(m.clone());
        }
        if let Some(first) = columns.first() {
            let first: &Vec<f64> = first;
            if first.len() != v.len() {
                return Err(Error::input(
                    &ds_src,
                    format!("{} values but `delay` has {}", v.len(), first.len()),
                ));
            }
        }
        columns.push(v);
    }
    if columns[0].is_empty() {
        return Err(Error::input(&source, "empty scan: `delay` has no values"));
    }
    Ok(Table {
        source,
        names,
        columns,
        meta,
        notes: vec![],
        sha256: None,
    })
}

/// Read scans from `path`; `object` selects one group, otherwise every group
/// under `/scans` (sorted by name) is read.
pub fn read(path: &Path, object: Option<&str>) -> Result<Vec<Table>> {
    let e = h5err(path, "/");
    crate::io_util::check_readable(path)?;
    let f = hdf5::File::open(path).map_err(&e)?;
    if let Some(obj) = object {
        let g = f.group(obj).map_err(h5err(path, obj))?;
        return Ok(vec![read_group(path, &g)?]);
    }
    let root = f.group("scans").map_err(h5err(path, "/scans"))?;
    let mut names = root.member_names().map_err(&e)?;
    names.sort();
    if names.is_empty() {
        return Err(Error::input(
            path.display().to_string(),
            "no scans under /scans",
        ));
    }
    names
        .iter()
        .map(|n| {
            let g = root.group(n).map_err(h5err(path, n))?;
            read_group(path, &g)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.h5");
        let mut meta = Metadata::default();
        meta.insert("field", "430 mT");
        let d = [0.0, 1.0, 2.0];
        let s = [1.0, 0.5, 0.25];
        write(
            &p,
            &[ScanRecord {
                name: "b",
                delay_ps: &d,
                channels: vec![("signal", &s, "mrad")],
                meta: &meta,
            }],
        )
        .unwrap();
        let t = read(&p, None).unwrap();
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].names, ["delay_ps", "signal"]);
        assert_eq!(t[0].columns[1], s);
        assert_eq!(t[0].meta.0["field"], "430 mT");
        let e = read(&p, Some("/scans/missing")).unwrap_err().to_string();
        assert!(e.contains("s.h5") && e.contains("/scans/missing"), "{e}");
    }
}
