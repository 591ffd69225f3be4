//! 2-D pump-probe maps (probe wavelength x delay): Glotaran's "Time
//! explicit" / "Wavelength explicit" ASCII and plain matrix CSV/TSV files in
//! either orientation (wavelengths down the rows, or time down the rows as
//! KiMoPack and many lab programs write), and the choice of one wavelength
//! or the mean over a band.
//!
//! A matrix's orientation comes from `--layout`, else from its corner cell
//! (`Time in ps`, `delay_ps`: time runs down the rows; `wavelength_nm`,
//! `lambda/delay`, `nm`, `eV`: wavelength does; the part before a `/` names
//! the rows), else from the axes (delays go negative before time zero,
//! wavelengths lie in 100-5000 nm); an undecidable file is refused with a
//! message saying how to choose.

use super::delimited;
use super::table::{Metadata, Table};
use crate::error::{Error, Result};
use crate::units::{Energy, TimeUnit};
use ndarray::Array2;
use std::path::Path;

/// A map: `data[[i, j]]` is the signal at wavelength i and delay j.
#[derive(Debug, Clone)]
pub struct Map {
    pub source: String,
    pub wavelength_nm: Vec<f64>,
    pub delay_ps: Vec<f64>,
    pub data: Array2<f64>,
    pub meta: Metadata,
    pub notes: Vec<String>,
}

/// Which axis runs down the rows of a matrix file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One row per probe wavelength, one column per delay.
    RowsWavelength,
    /// One row per delay, one column per probe wavelength.
    RowsTime,
}

impl std::str::FromStr for Layout {
    type Err = Error;
    fn from_str(s: &str) -> Result<Layout> {
        match s.trim().to_ascii_lowercase().replace(' ', "").as_str() {
            "rows=time" | "time" | "rows=delay" => Ok(Layout::RowsTime),
            "rows=wavelength" | "wavelength" | "rows=energy" => Ok(Layout::RowsWavelength),
            _ => Err(Error::setting(
                "layout",
                format!("`{s}`, expected rows=time or rows=wavelength"),
            )),
        }
    }
}

fn tokens(s: &str) -> Vec<String> {
    s.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// What the corner cell says the rows are: Some(RowsTime), Some(RowsWavelength) or None.
fn corner_layout(corner: &str) -> Option<Layout> {
    let rows = corner.split(['/', '\\']).next().unwrap_or(corner);
    let t = tokens(rows);
    let time = t.iter().any(|w| {
        matches!(
            w.as_str(),
            "time" | "delay" | "t" | "ps" | "fs" | "ns" | "delays"
        )
    });
    let wl = t.iter().any(|w| {
        matches!(
            w.as_str(),
            "wavelength" | "wavelengths" | "lambda" | "wl" | "nm" | "ev" | "energy"
        )
    });
    match (time, wl) {
        (true, false) => Some(Layout::RowsTime),
        (false, true) => Some(Layout::RowsWavelength),
        _ => None,
    }
}

fn looks_like_wavelengths(v: &[f64]) -> bool {
    let inc = v.windows(2).all(|w| w[1] > w[0]) || v.windows(2).all(|w| w[1] < w[0]);
    inc && v.iter().all(|x| (100.0..=5000.0).contains(x))
}

fn has_negative(v: &[f64]) -> bool {
    v.iter().any(|x| *x < 0.0)
}

/// The delay unit named in the corner cell (`delay_ps`, `Time in fs`).
fn corner_unit(corner: &str) -> Option<TimeUnit> {
    TimeUnit::from_column_name(corner).or_else(|| {
        tokens(corner).iter().find_map(|w| match w.as_str() {
            "fs" => Some(TimeUnit::Fs),
            "ps" => Some(TimeUnit::Ps),
            "ns" => Some(TimeUnit::Ns),
            _ => None,
        })
    })
}

/// Which probe wavelengths make up a trace.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Band {
    /// The row nearest this wavelength (nm).
    At(f64),
    /// The mean of all rows within [lo, hi] nm.
    Range(f64, f64),
}

impl std::str::FromStr for Band {
    type Err = Error;
    /// `560nm`, `2.19eV`, `550nm:570nm` or `2.15eV:2.25eV`.
    fn from_str(s: &str) -> Result<Band> {
        let nm = |t: &str| t.parse::<Energy>().map(|e| e.nm());
        match s.split_once(':') {
            None => Ok(Band::At(nm(s)?)),
            Some((a, b)) => {
                let (x, y) = (nm(a)?, nm(b)?);
                Ok(Band::Range(x.min(y), x.max(y)))
            }
        }
    }
}

impl std::fmt::Display for Band {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Band::At(w) => write!(f, "{w:.1} nm"),
            Band::Range(a, b) => write!(f, "{a:.1}-{b:.1} nm"),
        }
    }
}

impl Map {
    /// The smallest and largest probe wavelength (nm).
    pub fn axis_range(&self) -> (f64, f64) {
        self.wavelength_nm
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &w| {
                (a.min(w), b.max(w))
            })
    }

    /// The trace for `band` as a two-column table (`delay_ps`, `signal`).
    pub fn trace(&self, band: Band) -> Result<Table> {
        let rows: Vec<usize> = match band {
            Band::At(w) => {
                let (lo, hi) = self.axis_range();
                // half a step beyond the outer rows still picks the edge row
                let step = (hi - lo) / (self.wavelength_nm.len().max(2) - 1) as f64;
                if w < lo - 0.5 * step || w > hi + 0.5 * step {
                    return Err(Error::input(
                        &self.source,
                        format!(
                            "--band: the probe wavelength {w:.1} nm ({:.4} eV) lies outside the map, which spans {lo:.1}-{hi:.1} nm ({:.4}-{:.4} eV)",
                            Energy::from_nm(w).ev(),
                            Energy::from_nm(hi).ev(),
                            Energy::from_nm(lo).ev()
                        ),
                    ));
                }
                let i = (0..self.wavelength_nm.len())
                    .min_by(|&a, &b| {
                        (self.wavelength_nm[a] - w)
                            .abs()
                            .total_cmp(&(self.wavelength_nm[b] - w).abs())
                    })
                    .expect("maps have rows");
                vec![i]
            }
            Band::Range(lo, hi) => (0..self.wavelength_nm.len())
                .filter(|&i| self.wavelength_nm[i] >= lo && self.wavelength_nm[i] <= hi)
                .collect(),
        };
        let (wmin, wmax) = self
            .wavelength_nm
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &w| {
                (a.min(w), b.max(w))
            });
        if rows.is_empty() {
            return Err(Error::input(
                &self.source,
                format!(
                    "no probe wavelength in the band {band}; the map spans {wmin:.1}-{wmax:.1} nm"
                ),
            ));
        }
        let sel = self.data.select(ndarray::Axis(0), &rows);
        let signal = sel.mean_axis(ndarray::Axis(0)).expect("non-empty").to_vec();
        let (a, b) = (
            self.wavelength_nm[rows[0]],
            self.wavelength_nm[*rows.last().unwrap()],
        );
        let mut meta = self.meta.clone();
        meta.insert("probe_wavelength", &format!("{:.2} nm", 0.5 * (a + b)));
        let mut notes = self.notes.clone();
        notes.push(format!(
            "trace = mean of {} map row(s) at {:.2}-{:.2} nm ({:.4}-{:.4} eV)",
            rows.len(),
            a.min(b),
            a.max(b),
            Energy::from_nm(a.max(b)).ev(),
            Energy::from_nm(a.min(b)).ev()
        ));
        Ok(Table {
            source: format!("{} [{band}]", self.source),
            names: vec!["delay_ps".into(), "signal".into()],
            columns: vec![self.delay_ps.clone(), signal],
            meta,
            notes,
            sha256: None,
        })
    }
}

fn numbers(line: &str, source: &str, ln: usize) -> Result<Vec<f64>> {
    line.split(|c: char| c.is_whitespace() || c == ',' || c == ';')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let v: f64 = s
                .parse()
                .map_err(|_| Error::at_line(source, ln, format!("`{s}` is not a number")))?;
            if v.is_finite() {
                Ok(v)
            } else {
                Err(Error::at_line(
                    source,
                    ln,
                    format!("value `{s}` is not finite"),
                ))
            }
        })
        .collect()
}

/// True when the text looks like Glotaran ASCII (line 3 names the layout).
pub fn is_glotaran(text: &str) -> bool {
    text.lines().nth(2).is_some_and(|l| {
        l.trim().eq_ignore_ascii_case("time explicit")
            || l.trim().eq_ignore_ascii_case("wavelength explicit")
    })
}

/// Parse Glotaran "Time explicit" or "Wavelength explicit" ASCII.
/// Glotaran stores no unit: delays are in `delay_unit` (ps by convention).
pub fn parse_glotaran(text: &str, source: &str, delay_unit: TimeUnit) -> Result<Map> {
    let lines: Vec<&str> = text.lines().collect();
    let layout = lines
        .get(2)
        .map(|l| l.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let time_explicit = match layout.as_str() {
        "time explicit" => true,
        "wavelength explicit" => false,
        _ => {
            return Err(Error::at_line(
                source,
                3,
                "expected `Time explicit` or `Wavelength explicit`",
            ));
        }
    };
    let n: usize = lines
        .get(3)
        .and_then(|l| {
            l.trim()
                .to_ascii_lowercase()
                .strip_prefix("intervalnr")
                .map(|s| s.trim().parse().ok())
        })
        .flatten()
        .ok_or_else(|| Error::at_line(source, 4, "expected `intervalnr N`"))?;
    let axis = numbers(lines.get(4).copied().unwrap_or(""), source, 5)?;
    if axis.len() != n {
        return Err(Error::at_line(
            source,
            5,
            format!(
                "intervalnr says {n} values but the axis line has {}",
                axis.len()
            ),
        ));
    }
    let mut other = vec![];
    let mut rows = vec![];
    for (k, l) in lines.iter().enumerate().skip(5) {
        if l.trim().is_empty() {
            continue;
        }
        let v = numbers(l, source, k + 1)?;
        if v.len() != n + 1 {
            return Err(Error::at_line(
                source,
                k + 1,
                format!("expected 1 + {n} values, found {}", v.len()),
            ));
        }
        other.push(v[0]);
        rows.push(v[1..].to_vec());
    }
    if rows.len() < 2 || n < 2 {
        return Err(Error::input(
            source,
            "a map needs at least 2 wavelengths and 2 delays",
        ));
    }
    let m = rows.len();
    let flat: Vec<f64> = rows.into_iter().flatten().collect();
    let a = Array2::from_shape_vec((m, n), flat).expect("shape checked");
    let f = delay_unit.to_ps();
    let (wl, delay, data) = if time_explicit {
        (other, axis.iter().map(|t| t * f).collect(), a)
    } else {
        (
            axis,
            other.iter().map(|t| t * f).collect(),
            a.reversed_axes().as_standard_layout().to_owned(),
        )
    };
    Ok(Map {
        source: source.to_string(),
        wavelength_nm: wl,
        delay_ps: delay,
        data,
        meta: Metadata::default(),
        notes: vec![format!(
            "Glotaran ASCII carries no time unit: delays read as {delay_unit:?}"
        )],
    })
}

/// Parse a matrix CSV/TSV in either orientation ([`Layout`]): the first
/// row is the corner label then one axis, each further row a value of the
/// other axis then the data. The delay unit comes from the corner label
/// (`wavelength_nm/delay_ps`, `Time in ps`) or `delay_unit`.
pub fn parse_matrix(
    text: &str,
    source: &str,
    delay_unit: Option<TimeUnit>,
    layout: Option<Layout>,
) -> Result<Map> {
    let t = delimited::parse(text, source)?;
    let corner = t.names[0].clone();
    let head: Vec<f64> = t.names[1..]
        .iter()
        .enumerate()
        .map(|(k, s)| {
            s.trim().parse::<f64>().map_err(|_| {
                Error::at_line(
                    source,
                    1,
                    format!("header cell {} `{s}` is not a number (a matrix's first row holds its column axis)", k + 2),
                )
            })
        })
        .collect::<Result<_>>()?;
    let rows = t.columns[0].clone();
    if rows.len() < 2 || head.len() < 2 {
        return Err(Error::input(
            source,
            "a map needs at least 2 wavelengths and 2 delays",
        ));
    }
    let layout = match layout.or_else(|| corner_layout(&corner)) {
        Some(l) => l,
        None if has_negative(&rows) && looks_like_wavelengths(&head) => Layout::RowsTime,
        None if has_negative(&head) && looks_like_wavelengths(&rows) => Layout::RowsWavelength,
        None => {
            return Err(Error::input(
                source,
                format!(
                    "cannot tell which axis of the map is time: the corner cell `{corner}` names neither, and the axes do not say (rows {:.4}..{:.4}, columns {:.4}..{:.4}); give --layout rows=time or --layout rows=wavelength",
                    rows[0],
                    rows[rows.len() - 1],
                    head[0],
                    head[head.len() - 1]
                ),
            ));
        }
    };
    let unit = corner_unit(&corner).or(delay_unit).ok_or_else(|| {
        Error::input(
            source,
            format!("cannot tell the delay unit of the map: the corner cell `{corner}` names none (e.g. `delay_ps`, `Time in ps`); give --delay-unit"),
        )
    })?;
    let (wl, delays) = match layout {
        Layout::RowsWavelength => (rows, head),
        Layout::RowsTime => (head, rows),
    };
    if let Some(w) = wl.iter().find(|w| **w <= 0.0) {
        return Err(Error::input(
            source,
            format!(
                "the wavelength axis ({}) holds {w}, not a wavelength: is the layout right? (--layout rows=time or rows=wavelength)",
                match layout {
                    Layout::RowsTime => "the first row",
                    Layout::RowsWavelength => "the first column",
                }
            ),
        ));
    }
    let delay: Vec<f64> = delays.iter().map(|v| v * unit.to_ps()).collect();
    let (m, n) = (wl.len(), delay.len());
    let data = match layout {
        Layout::RowsWavelength => Array2::from_shape_fn((m, n), |(i, j)| t.columns[j + 1][i]),
        Layout::RowsTime => Array2::from_shape_fn((m, n), |(i, j)| t.columns[i + 1][j]),
    };
    let notes = vec![format!(
        "map read with {} down the rows ({m} wavelengths {:.1}-{:.1} nm x {n} delays, {unit:?})",
        match layout {
            Layout::RowsTime => "time",
            Layout::RowsWavelength => "wavelength",
        },
        wl.iter().copied().fold(f64::INFINITY, f64::min),
        wl.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    )];
    Ok(Map {
        source: source.to_string(),
        wavelength_nm: wl,
        delay_ps: delay,
        data,
        meta: t.meta,
        notes,
    })
}

/// Read a map file, Glotaran or matrix CSV by its content.
pub fn read(path: &Path, delay_unit: Option<TimeUnit>) -> Result<Map> {
    read_with(path, delay_unit, None)
}

/// [`read`] with the matrix orientation given.
pub fn read_with(path: &Path, delay_unit: Option<TimeUnit>, layout: Option<Layout>) -> Result<Map> {
    let text = crate::io_util::read_text(path)?;
    let src = path.display().to_string();
    if is_glotaran(&text) {
        parse_glotaran(&text, &src, delay_unit.unwrap_or(TimeUnit::Ps))
    } else {
        parse_matrix(&text, &src, delay_unit, layout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const G: &str =
        "Header\nOriginal filename: x\nTime explicit\nintervalnr 3\n 0 1 2\n500 1 2 3\n510 3 4 5\n";

    #[test]
    fn glotaran_both_layouts_agree() {
        let a = parse_glotaran(G, "g", TimeUnit::Ps).unwrap();
        let w = "Header\nx\nWavelength explicit\nintervalnr 2\n500 510\n0 1 3\n1 2 4\n2 3 5\n";
        let b = parse_glotaran(w, "w", TimeUnit::Ps).unwrap();
        assert_eq!(a.data, b.data);
        assert_eq!(a.delay_ps, b.delay_ps);
        assert_eq!(a.wavelength_nm, b.wavelength_nm);
    }

    #[test]
    fn band_mean_and_nearest() {
        let m = parse_glotaran(G, "g", TimeUnit::Ps).unwrap();
        let t = m.trace("505nm:520nm".parse().unwrap()).unwrap();
        assert_eq!(t.columns[1], [3.0, 4.0, 5.0]);
        let t = m.trace("499nm:515nm".parse().unwrap()).unwrap();
        assert_eq!(t.columns[1], [2.0, 3.0, 4.0]);
        let t = m.trace("508nm".parse().unwrap()).unwrap();
        assert_eq!(t.columns[1], [3.0, 4.0, 5.0]);
        let e = m
            .trace("600nm:700nm".parse().unwrap())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no probe wavelength") && e.contains("500.0-510.0 nm"),
            "{e}"
        );
    }

    #[test]
    fn bad_maps_are_rejected_with_line() {
        let bad = G.replace("510 3 4 5", "510 3 4");
        let e = parse_glotaran(&bad, "g.ascii", TimeUnit::Ps)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("g.ascii, line 7") && e.contains("expected 1 + 3 values"),
            "{e}"
        );
        let e = parse_matrix("nm,0,1\n500,1,2\n510,1,2\n", "m.csv", None, None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("delay unit"), "{e}");
        let m = parse_matrix("nm/delay_fs,0,100\n500,1,2\n510,1,2\n", "m.csv", None, None).unwrap();
        assert_eq!(m.delay_ps, [0.0, 0.1]);
    }
}
