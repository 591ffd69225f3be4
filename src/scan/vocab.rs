//! One metadata vocabulary, used by every reader, fit, field series,
//! session grouping and the JSON.
//!
//! | quantity | header keys (any case; spaces and dashes read as `_`) | file name |
//! |---|---|---|
//! | field | `field`, `b`, `bfield`, `b_field`, `magnetic_field` with a unit (`420 mT`); the same keys with the unit as suffix and a bare number: `b_t`, `b_mt`, `field_mt`, `bfield_g`, ... | `420mT`, `B420mT`, `0.42T`, `B=0.3T`, `-200mT` (sign kept) |
//! | photon energy | `photon_energy`, `energy`, `laser_energy`, `excitation_energy` (`1.911 eV` or `649 nm`); `photon_energy_ev`, `energy_ev`; `wavelength`, `lambda`, `laser_wavelength` (nm), `wavelength_nm` | |
//! | temperature | `temperature`, `temp` (`6 K`), `temperature_k`, `temp_k` | |
//! | sample | `sample`, `sample_name`, `sample_id` | |
//! | fluence | `fluence` (`3.48 uJ/cm2`), `fluence_uj_cm2` | |
//! | kind | `kind`, `measurement`, `technique` (`tr`, `trfe`, `trkr`) | |
//!
//! Every value is parsed with its unit. Two sources that disagree (two
//! keys, or the header and the file name) are an error naming both; the
//! command line (`--field`) overrides them, and says so.

use super::Scan;
use super::table::Metadata;
use crate::error::{Error, Result};
use crate::units::{Energy, Field};

const FIELD_BASES: &[&str] = &["field", "b", "bfield", "b_field", "magnetic_field"];
const FIELD_UNITS: &[(&str, &str)] = &[("t", "T"), ("mt", "mT"), ("g", "G"), ("kg", "kG")];

/// A value and where it came from, for messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Found<T> {
    pub value: T,
    pub from: String,
}

fn agree(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 + 1e-6 * a.abs().max(b.abs())
}

/// Every header entry that gives a field, parsed, in T.
fn header_fields(meta: &Metadata, source: &str) -> Result<Vec<Found<f64>>> {
    let mut out = vec![];
    for base in FIELD_BASES {
        if let Some(v) = meta.0.get(*base) {
            let f: Field = v
                .parse()
                .map_err(|e| Error::input(source, format!("metadata `{base}` = `{v}`: {e}")))?;
            out.push(Found {
                value: f.tesla(),
                from: format!("header `{base} = {v}`"),
            });
        }
        for (sfx, unit) in FIELD_UNITS {
            let key = format!("{base}_{sfx}");
            if let Some(v) = meta.0.get(&key) {
                let f: Field = format!("{v}{unit}").parse().map_err(|e| {
                    Error::input(
                        source,
                        format!("metadata `{key}` = `{v}`: expected a bare number in {unit}: {e}"),
                    )
                })?;
                out.push(Found {
                    value: f.tesla(),
                    from: format!("header `{key} = {v}`"),
                });
            }
        }
    }
    Ok(out)
}

/// The field (T, sign kept) given by the header, if any; two entries that
/// disagree are an error naming both.
pub fn header_field(meta: &Metadata, source: &str) -> Result<Option<Found<f64>>> {
    let all = header_fields(meta, source)?;
    if let Some(b) = all.iter().find(|f| !agree(f.value, all[0].value)) {
        return Err(Error::input(
            source,
            format!(
                "the header gives two fields: {} and {}; keep one",
                all[0].from, b.from
            ),
        ));
    }
    Ok(all.into_iter().next())
}

/// Field in T (sign kept) from a file name token such as `420mT`,
/// `B420mT`, `0.42T`, `B=0.3T` or `-200mT`.
///
/// ```
/// use spinfit::scan::vocab::name_field;
/// let f = |n: &str| name_field(n).map(|f| f.value);
/// assert_eq!(f("trfe_CsPbI3_1.911eV_420mT.csv"), Some(0.42));
/// assert_eq!(f("trfe_B420mT.csv"), Some(0.42));
/// assert_eq!(f("scan_B=0.3T.dat"), Some(0.3));
/// assert_eq!(f("scan_-200mT.csv"), Some(-0.2));
/// assert_eq!(f("scan_0mT.csv"), Some(0.0));
/// assert_eq!(f("scan_7.csv"), None);
/// ```
pub fn name_field(name: &str) -> Option<Found<f64>> {
    let (stem, at, len, f) = field_token(name)?;
    Some(Found {
        value: f.tesla(),
        from: format!("file name token `{}`", &stem[at..at + len]),
    })
}

/// The file stem, the byte position and length of its last field token
/// (with its `B` prefix), and the field it names.
fn field_token(name: &str) -> Option<(String, usize, usize, Field)> {
    let stem = std::path::Path::new(name)
        .file_stem()?
        .to_string_lossy()
        .to_string();
    let mut found = None;
    let mut at = 0;
    for tok in stem.split(['_', ' ', '=', ',']) {
        let t = tok
            .strip_prefix("B")
            .or_else(|| tok.strip_prefix("b"))
            .unwrap_or(tok);
        // a field token is a number and a field unit only (no other text)
        if let Ok(f) = t.parse::<Field>() {
            found = Some((at, tok.len(), f));
        }
        at += tok.len() + 1;
    }
    found.map(|(at, len, f)| (stem, at, len, f))
}

/// The file name with its field token replaced by `*`, the last resort for
/// grouping a field series: `trfe_S3_180mT.csv` and `trfe_S3_420mT.csv`
/// share `trfe_S3_*`. None when the name has no field token.
///
/// ```
/// use spinfit::scan::vocab::name_pattern;
/// assert_eq!(name_pattern("/d/trfe_S3_180mT.csv").as_deref(), Some("trfe_S3_*"));
/// assert_eq!(name_pattern("trfe_S3_B=0.42T.csv").as_deref(), Some("trfe_S3_B=*"));
/// assert_eq!(name_pattern("scan_7.csv"), None);
/// ```
pub fn name_pattern(name: &str) -> Option<String> {
    let (stem, at, len, _) = field_token(name)?;
    let tok = &stem[at..at + len];
    let keep = tok.len() - tok.trim_start_matches(['B', 'b']).len();
    Some(format!(
        "{}{}*{}",
        &stem[..at],
        &tok[..keep],
        &stem[at + len..]
    ))
}

/// Which source of the field wins when the header and the file name
/// disagree (`--field-from`, config `field_from`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldSource {
    Header,
    Name,
}

impl std::str::FromStr for FieldSource {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "header" => Ok(FieldSource::Header),
            "name" | "file_name" | "filename" => Ok(FieldSource::Name),
            _ => Err(Error::setting(
                "field_from",
                format!("`{s}`, expected header or name"),
            )),
        }
    }
}

/// The field of a scan in T (sign kept): the command line's, else the
/// header's or the file name's, which must agree unless `prefer` says
/// which wins. `notes` records an override.
pub fn scan_field(
    scan: &Scan,
    cli: Option<f64>,
    prefer: Option<FieldSource>,
    notes: &mut Vec<String>,
) -> Result<Option<f64>> {
    let head = header_field(&scan.meta, &scan.source)?;
    let name = name_field(&scan.source);
    if let Some(c) = cli {
        for f in head.iter().chain(name.iter()) {
            if !agree(c, f.value) {
                notes.push(format!(
                    "field from the command line ({} mT) overrides the {} ({} mT)",
                    c * 1e3,
                    f.from,
                    f.value * 1e3
                ));
            }
        }
        return Ok(Some(c));
    }
    match (head, name) {
        (Some(h), Some(n)) if !agree(h.value, n.value) && prefer.is_some() => {
            let (win, lose) = match prefer {
                Some(FieldSource::Header) => (h, n),
                _ => (n, h),
            };
            notes.push(format!(
                "the {} ({} mT) is used over the {} ({} mT), as --field-from says",
                win.from,
                win.value * 1e3,
                lose.from,
                lose.value * 1e3
            ));
            Ok(Some(win.value))
        }
        (Some(h), Some(n)) if !agree(h.value, n.value) => Err(Error::input(
            &scan.source,
            format!(
                "the {} ({} mT) and the {} ({} mT) disagree: fix one, give --field, or say which wins with --field-from header|name",
                h.from,
                h.value * 1e3,
                n.from,
                n.value * 1e3
            ),
        )),
        (Some(h), _) => Ok(Some(h.value)),
        (None, Some(n)) => Ok(Some(n.value)),
        (None, None) => Ok(None),
    }
}

/// A value parser for one metadata key.
type Parser<'a, T> = &'a dyn Fn(&str) -> Result<T>;

/// The first of `keys` present, or an error when two present disagree
/// (compared by `same`).
fn one_of<T: Clone>(
    meta: &Metadata,
    source: &str,
    keys: &[(&str, Parser<T>)],
    same: impl Fn(&T, &T) -> bool,
) -> Result<Option<T>> {
    let mut first: Option<(String, T)> = None;
    for (key, parse) in keys {
        let Some(v) = meta.0.get(*key) else { continue };
        let x =
            parse(v).map_err(|e| Error::input(source, format!("metadata `{key}` = `{v}`: {e}")))?;
        match &first {
            Some((k0, x0)) if !same(x0, &x) => {
                return Err(Error::input(
                    source,
                    format!(
                        "metadata `{k0}` = `{}` and `{key}` = `{v}` disagree; keep one",
                        meta.0[k0]
                    ),
                ));
            }
            Some(_) => {}
            None => first = Some((key.to_string(), x)),
        }
    }
    Ok(first.map(|f| f.1))
}

/// Photon (laser) energy in eV from the header.
pub fn photon_energy(meta: &Metadata, source: &str) -> Result<Option<f64>> {
    let energy = |v: &str| v.parse::<Energy>().map(Energy::ev);
    let ev = |v: &str| format!("{v}eV").parse::<Energy>().map(Energy::ev);
    let nm = |v: &str| format!("{v}nm").parse::<Energy>().map(Energy::ev);
    let lambda = |v: &str| {
        // a wavelength with or without its unit
        v.parse::<Energy>()
            .or_else(|_| format!("{v}nm").parse::<Energy>())
            .map(Energy::ev)
    };
    one_of(
        meta,
        source,
        &[
            ("photon_energy", &energy),
            ("energy", &energy),
            ("laser_energy", &energy),
            ("excitation_energy", &energy),
            ("photon_energy_ev", &ev),
            ("energy_ev", &ev),
            ("wavelength", &lambda),
            ("lambda", &lambda),
            ("laser_wavelength", &lambda),
            ("wavelength_nm", &nm),
        ],
        |a, b| (a - b).abs() <= 5e-4 * a.abs(),
    )?
    .map(|e| check_energy(e, source))
    .transpose()
}

/// Photon energies a pump-probe laser has: 0.05-20 eV (25 um to 62 nm).
pub const PHOTON_ENERGY_RANGE_EV: (f64, f64) = (0.05, 20.0);

fn check_energy(e: f64, source: &str) -> Result<f64> {
    let (lo, hi) = PHOTON_ENERGY_RANGE_EV;
    if e.is_finite() && (lo..=hi).contains(&e) {
        Ok(e)
    } else {
        Err(Error::input(
            source,
            format!(
                "metadata photon_energy (or wavelength): {e} eV is outside {lo}-{hi} eV; is the unit right?"
            ),
        ))
    }
}

/// Sample name from the header.
pub fn sample(meta: &Metadata, source: &str) -> Result<Option<String>> {
    let s = |v: &str| Ok(v.trim().to_string());
    one_of(
        meta,
        source,
        &[("sample", &s), ("sample_name", &s), ("sample_id", &s)],
        |a, b| a == b,
    )
}

/// The field series a scan belongs to (`series`, `series_id`,
/// `series_name`): scans naming the same series are analysed together.
pub fn series(meta: &Metadata, source: &str) -> Result<Option<String>> {
    let s = |v: &str| Ok(v.trim().to_string());
    one_of(
        meta,
        source,
        &[("series", &s), ("series_id", &s), ("series_name", &s)],
        |a, b| a == b,
    )
    .map(|v| v.filter(|x| !x.is_empty()))
}

/// Temperature in K from the header (`6 K`, or a bare number for `_k` keys).
/// Hottest sample temperature read, K.
pub const MAX_TEMPERATURE_K: f64 = 2000.0;
/// Largest pump fluence read, uJ/cm^2 (1 J/cm^2, far past any damage
/// threshold).
pub const MAX_FLUENCE_UJ_CM2: f64 = 1e6;

pub fn temperature(meta: &Metadata, source: &str) -> Result<Option<f64>> {
    let with_unit = |v: &str| -> Result<f64> {
        let t = v.trim();
        let num = t.strip_suffix('K').unwrap_or(t).trim();
        num.parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && (0.0..=MAX_TEMPERATURE_K).contains(x))
            .ok_or_else(|| {
                Error::setting(
                    "temperature",
                    format!("`{v}`, expected e.g. `6 K` (0-{MAX_TEMPERATURE_K} K)"),
                )
            })
    };
    one_of(
        meta,
        source,
        &[
            ("temperature", &with_unit),
            ("temp", &with_unit),
            ("temperature_k", &with_unit),
            ("temp_k", &with_unit),
        ],
        |a, b| (a - b).abs() < 1e-9,
    )
}

/// Pump fluence in uJ/cm^2 from the header (`3.48 uJ/cm2`, `34.8 J/m2`,
/// or a bare number for `fluence_uj_cm2`).
pub fn fluence(meta: &Metadata, source: &str) -> Result<Option<f64>> {
    let with_unit = |v: &str| -> Result<f64> {
        let t = v
            .trim()
            .replace(['\u{b5}', '\u{3bc}'], "u")
            .replace('\u{b2}', "2")
            .replace('^', "");
        let units = [
            ("uj/cm2", 1.0),
            ("mj/cm2", 1e3),
            ("nj/cm2", 1e-3),
            ("j/m2", 0.1),
        ];
        let lower = t.to_ascii_lowercase();
        let (num, scale) = units
            .iter()
            .find_map(|(u, f)| lower.strip_suffix(u).map(|n| (n.trim().to_string(), *f)))
            .ok_or_else(|| {
                Error::setting("fluence", format!("`{v}`, expected a unit such as uJ/cm2"))
            })?;
        num.parse::<f64>()
            .ok()
            .map(|x| x * scale)
            .filter(|x| x.is_finite() && (0.0..=MAX_FLUENCE_UJ_CM2).contains(x))
            .ok_or_else(|| Error::setting("fluence", format!("`{v}`, expected e.g. 3.48 uJ/cm2")))
    };
    let bare = |v: &str| -> Result<f64> {
        v.trim()
            .parse::<f64>()
            .ok()
            .filter(|x| x.is_finite() && (0.0..=MAX_FLUENCE_UJ_CM2).contains(x))
            .ok_or_else(|| Error::setting("fluence", format!("`{v}`, expected a number in uJ/cm2")))
    };
    one_of(
        meta,
        source,
        &[("fluence", &with_unit), ("fluence_uj_cm2", &bare)],
        |a, b| (a - b).abs() <= 1e-9 * a.abs().max(1.0),
    )
}

/// The measurement conditions of a scan as JSON: each quantity parsed with
/// its unit (null when absent or unreadable; the raw header stays in
/// `metadata`).
pub fn conditions(meta: &Metadata, source: &str) -> serde_json::Value {
    use serde_json::json;
    let q =
        |v: Option<f64>, unit: &str| v.map(|x| json!({"value": x, "stderr": null, "unit": unit}));
    let field = header_field(meta, source)
        .ok()
        .flatten()
        .map(|f| f.value)
        .or_else(|| name_field(source).map(|f| f.value));
    json!({
        "field": q(field, "T"),
        "photon_energy": q(photon_energy(meta, source).ok().flatten(), "eV"),
        "temperature": q(temperature(meta, source).ok().flatten(), "K"),
        "fluence": q(fluence(meta, source).ok().flatten(), "uJ/cm^2"),
        "sample": sample(meta, source).ok().flatten(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(kv: &[(&str, &str)]) -> Metadata {
        let mut m = Metadata::default();
        for (k, v) in kv {
            m.insert(k, v);
        }
        m
    }

    #[test]
    fn field_keys_with_the_unit_in_the_name() {
        for (k, v) in [
            ("B_T", "0.42"),
            ("B_mT", "420"),
            ("field_mT", "420"),
            ("Bfield", "0.42 T"),
            ("magnetic field", "4200 G"),
        ] {
            let f = header_field(&meta(&[(k, v)]), "s").unwrap().unwrap();
            assert!((f.value - 0.42).abs() < 1e-12, "{k} = {v}: {f:?}");
        }
        assert!(header_field(&meta(&[("B_T", "0.42 T")]), "s").is_err());
        let e = header_field(&meta(&[("field", "420 mT"), ("B_T", "0.2")]), "s")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`field = 420 mT`") && e.contains("`b_t = 0.2`"),
            "{e}"
        );
        // the same value twice is fine
        assert!(header_field(&meta(&[("field", "420 mT"), ("B_T", "0.42")]), "s").is_ok());
    }

    #[test]
    fn photon_energy_from_any_key_and_conflicts_named() {
        let e = photon_energy(&meta(&[("wavelength_nm", "648.8")]), "s")
            .unwrap()
            .unwrap();
        assert!((e - 1239.841984 / 648.8).abs() < 1e-9);
        assert_eq!(
            photon_energy(&meta(&[("photon_energy", "1.911 eV")]), "s").unwrap(),
            Some(1.911)
        );
        let err = photon_energy(
            &meta(&[("photon_energy", "1.911 eV"), ("wavelength", "500 nm")]),
            "s",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("photon_energy") && err.contains("wavelength"),
            "{err}"
        );
        assert_eq!(
            temperature(&meta(&[("temperature", "6 K")]), "s").unwrap(),
            Some(6.0)
        );
        let fl = |v: &str| fluence(&meta(&[("fluence", v)]), "s").unwrap();
        assert_eq!(fl("3.48 \u{b5}J/cm\u{b2}"), Some(3.48));
        assert_eq!(fl("3.48 uJ/cm^2"), Some(3.48));
        assert_eq!(
            fluence(&meta(&[("fluence_uJ_cm2", "3.87")]), "s").unwrap(),
            Some(3.87)
        );
        assert!(fluence(&meta(&[("fluence", "3.48")]), "s").is_err());
    }
}
