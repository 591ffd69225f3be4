//! A map made ready for its global fit: delays in increasing order, the
//! wavelength and delay windows applied, neighbouring wavelengths binned.
//!
//! Binning by N replaces each run of N neighbouring rows (in the file's
//! order; a short last run is kept) by their mean signal at their mean
//! wavelength, which lowers the noise by sqrt(N) per row and the cost of
//! the fit by N.

use crate::error::{Error, Result};
use crate::scan::map::Map;
use ndarray::{Array2, Axis};

/// The windows and binning, validated when built.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MapWindow {
    /// Probe wavelengths kept (nm, inclusive).
    pub wavelength_nm: Option<(f64, f64)>,
    /// Delays kept (ps, inclusive).
    pub delay_ps: Option<(f64, f64)>,
    /// Rows averaged per bin (1: none).
    pub bin: usize,
}

impl MapWindow {
    pub fn new(
        wavelength_nm: Option<(f64, f64)>,
        delay_ps: Option<(f64, f64)>,
        bin: usize,
    ) -> Result<MapWindow> {
        for (name, r, unit) in [
            ("wl-range", wavelength_nm, "nm"),
            ("t-range", delay_ps, "ps"),
        ] {
            if let Some((a, b)) = r
                && !(a.is_finite() && b.is_finite() && a < b)
            {
                return Err(Error::setting(
                    name,
                    format!(
                        "{a}:{b} {unit}, expected a finite range with its start before its end"
                    ),
                ));
            }
        }
        if bin == 0 {
            return Err(Error::setting("bin", "0, expected 1 or more rows per bin"));
        }
        Ok(MapWindow {
            wavelength_nm,
            delay_ps,
            bin,
        })
    }
}

/// The windowed, sorted and binned map; what was done goes to its notes.
pub fn prepare(map: &Map, w: &MapWindow) -> Result<Map> {
    let inside = |v: f64, r: Option<(f64, f64)>| r.is_none_or(|(a, b)| v >= a && v <= b);
    let rows: Vec<usize> = (0..map.wavelength_nm.len())
        .filter(|&i| inside(map.wavelength_nm[i], w.wavelength_nm))
        .collect();
    let mut cols: Vec<usize> = (0..map.delay_ps.len())
        .filter(|&j| inside(map.delay_ps[j], w.delay_ps))
        .collect();
    cols.sort_by(|&a, &b| map.delay_ps[a].total_cmp(&map.delay_ps[b]));
    let (lo, hi) = map.axis_range();
    if rows.is_empty() {
        return Err(Error::input(
            &map.source,
            format!("--wl-range keeps no wavelength; the map spans {lo:.1}-{hi:.1} nm"),
        ));
    }
    if cols.is_empty() {
        return Err(Error::input(
            &map.source,
            "--t-range keeps no delay of the map",
        ));
    }
    if let Some(p) = cols
        .windows(2)
        .find(|p| map.delay_ps[p[0]] == map.delay_ps[p[1]])
    {
        return Err(Error::input(
            &map.source,
            format!(
                "the delay {} ps appears twice; a global fit needs one column per delay",
                map.delay_ps[p[0]]
            ),
        ));
    }
    let sel = map.data.select(Axis(0), &rows).select(Axis(1), &cols);
    let delay_ps: Vec<f64> = cols.iter().map(|&j| map.delay_ps[j]).collect();
    let wl: Vec<f64> = rows.iter().map(|&i| map.wavelength_nm[i]).collect();
    let mut notes = map.notes.clone();
    if w.wavelength_nm.is_some() || w.delay_ps.is_some() {
        notes.push(format!(
            "window: {} of {} wavelengths, {} of {} delays",
            rows.len(),
            map.wavelength_nm.len(),
            cols.len(),
            map.delay_ps.len()
        ));
    }
    let (wavelength_nm, data) = if w.bin > 1 {
        notes.push(format!("wavelengths binned by {}", w.bin));
        bin(&wl, &sel, w.bin)
    } else {
        (wl, sel)
    };
    Ok(Map {
        source: map.source.clone(),
        wavelength_nm,
        delay_ps,
        data,
        meta: map.meta.clone(),
        notes,
    })
}

/// Mean of each run of `n` rows, at the mean wavelength.
fn bin(wl: &[f64], data: &Array2<f64>, n: usize) -> (Vec<f64>, Array2<f64>) {
    let groups: Vec<Vec<usize>> = (0..wl.len())
        .collect::<Vec<_>>()
        .chunks(n)
        .map(|c| c.to_vec())
        .collect();
    let centres = groups
        .iter()
        .map(|g| g.iter().map(|&i| wl[i]).sum::<f64>() / g.len() as f64)
        .collect();
    let mut out = Array2::zeros((groups.len(), data.ncols()));
    for (k, g) in groups.iter().enumerate() {
        let mean = data
            .select(Axis(0), g)
            .mean_axis(Axis(0))
            .expect("bins are not empty");
        out.row_mut(k).assign(&mean);
    }
    (centres, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Metadata;

    fn map() -> Map {
        Map {
            source: "m.csv".into(),
            wavelength_nm: vec![500.0, 510.0, 520.0, 530.0, 540.0],
            delay_ps: vec![2.0, -1.0, 0.0, 1.0],
            data: Array2::from_shape_fn((5, 4), |(i, j)| (10 * i + j) as f64),
            meta: Metadata::default(),
            notes: vec![],
        }
    }

    #[test]
    fn windows_sort_and_bin() {
        let w = MapWindow::new(Some((505.0, 540.0)), Some((-0.5, 5.0)), 2).unwrap();
        let m = prepare(&map(), &w).unwrap();
        // rows 510..540, delays 0, 1, 2 in order; bins (510, 520) and (530, 540)
        assert_eq!(m.wavelength_nm, vec![515.0, 535.0]);
        assert_eq!(m.delay_ps, vec![0.0, 1.0, 2.0]);
        // row i, delay column j holds 10 i + j: bin of rows 1, 2 at column 2 (0 ps) = 17
        assert_eq!(m.data[[0, 0]], 17.0);
        assert_eq!(m.data[[1, 2]], 35.0 + 0.0);
        assert!(m.notes.iter().any(|n| n.contains("binned by 2")));
    }

    #[test]
    fn empty_windows_and_bad_settings_are_refused() {
        let w = MapWindow::new(Some((600.0, 700.0)), None, 1).unwrap();
        let e = prepare(&map(), &w).unwrap_err().to_string();
        assert!(e.contains("m.csv") && e.contains("500.0-540.0 nm"), "{e}");
        assert!(MapWindow::new(None, Some((5.0, 1.0)), 1).is_err());
        assert!(MapWindow::new(None, None, 0).is_err());
        assert!(MapWindow::new(Some((f64::NAN, 1.0)), None, 1).is_err());
    }
}
