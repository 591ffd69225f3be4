//! The real Glotaran-format transient-absorption map in
//! fixtures/glotaran-ta/ (Hippius et al., J. Phys. Chem. C 111, 13988
//! (2007), via pyglotaran-examples, MIT): read, a band selected, fitted.

use spinfit::pipeline::{TrJob, fit_tr};
use spinfit::scan::{Scan, ScanKind, map};
use spinfit::units::TimeUnit;
use std::path::PathBuf;

fn path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/glotaran-ta/demo_data_Hippius_etal_JPCC2007_111_13988_Figs5_9.ascii")
}

#[test]
fn glotaran_map_is_read_as_its_readme_describes() {
    let m = map::read(&path(), None).unwrap();
    // README: 335 delays -0.00095 ... 909.85 ps, 346 wavelengths 378 ... 854 nm
    assert_eq!(m.delay_ps.len(), 335);
    assert_eq!(m.wavelength_nm.len(), 346);
    assert_eq!(m.data.dim(), (346, 335));
    assert!((m.delay_ps[0] + 0.00095).abs() < 1e-12 && (m.delay_ps[334] - 909.85).abs() < 1e-2);
    assert!(
        (m.wavelength_nm[0] - 377.96045).abs() < 1e-9 && (m.wavelength_nm[345] - 854.0).abs() < 1.0
    );
    assert!(m.notes[0].contains("no time unit"));
    // the transposed "Wavelength explicit" layout gives the same map
    let text = std::fs::read_to_string(path()).unwrap();
    let mut lines: Vec<String> = text.lines().take(2).map(String::from).collect();
    lines.push("Wavelength explicit".into());
    lines.push(format!("intervalnr {}", m.wavelength_nm.len()));
    lines.push(
        m.wavelength_nm
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("\t"),
    );
    for (j, d) in m.delay_ps.iter().enumerate() {
        let row: Vec<String> = std::iter::once(d.to_string())
            .chain(m.data.column(j).iter().map(|v| v.to_string()))
            .collect();
        lines.push(row.join("\t"));
    }
    let w = map::parse_glotaran(&lines.join("\n"), "transposed", TimeUnit::Ps).unwrap();
    assert_eq!(w.data, m.data);
}

#[test]
fn a_band_of_the_real_map_is_fitted_to_its_noise_level() {
    let m = map::read(&path(), None).unwrap();
    let table = m.trace("580nm:600nm".parse().unwrap()).unwrap();
    let scan = Scan::from_table(&table, ScanKind::Tr, &Default::default()).unwrap();
    // noise of the trace from its points before time zero
    let pre: Vec<f64> = scan
        .delay
        .iter()
        .zip(&scan.signal)
        .filter(|(t, _)| **t < 0.8)
        .map(|(_, s)| *s)
        .collect();
    assert!(pre.len() >= 10);
    let mean = pre.iter().sum::<f64>() / pre.len() as f64;
    let noise =
        (pre.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (pre.len() - 1) as f64).sqrt();
    let mut job = TrJob::default();
    job.config.n_exp = 2;
    let f = fit_tr(scan, &job).unwrap().record.fit;
    assert!(f.success(), "{f}");
    let (t1, t2) = (f.value("tau_1"), f.value("tau_2"));
    assert!(
        (t1 - t2).abs() > 3.0 * f.err("tau_1").hypot(f.err("tau_2")),
        "{f}"
    );
    // after the pulse-overlap region (coherent artifact within a few ps of
    // t0, which no exponential describes) the residual scatter matches the
    // measured noise: nothing systematic is left
    let late: Vec<f64> =
        f.x.iter()
            .zip(&f.residual)
            .filter(|(t, _)| **t > 5.0)
            .map(|(_, r)| *r)
            .collect();
    let rms = (late.iter().map(|r| r * r).sum::<f64>() / late.len() as f64).sqrt();
    assert!(
        rms < 2.0 * noise && rms > 0.5 * noise,
        "residual rms {rms:e} vs pre-t0 noise {noise:e}"
    );
}

fn band_scan() -> Scan {
    let m = map::read(&path(), None).unwrap();
    let table = m.trace("580nm:600nm".parse().unwrap()).unwrap();
    Scan::from_table(&table, ScanKind::Tr, &Default::default()).unwrap()
}

#[test]
fn the_real_bands_coherent_artefact_is_found_and_its_absence_is_measured() {
    // measured data: without the artefact term the residuals keep the
    // pulse-overlap signal (a residual test fails) and say how much is
    // left: about 1 % of the signal, a result with its flag (converged, with
    // errors), and neither lifetime moves by a tenth of its error
    let mut job = TrJob::default();
    job.config.n_exp = 2;
    job.config.artefact = spinfit::fit::ladder::Choice::Off;
    let off = fit_tr(band_scan(), &job).unwrap().record;
    let a = &off.adequacy;
    assert!(a.tests.iter().any(|t| !t.passed), "{}", a.summary());
    assert!(off.fit.success(), "{}", off.fit.problems());
    assert!(
        a.size.is_some_and(|v| v > 0.003 && v < 0.03),
        "{:?}",
        a.size
    );
    assert!(
        off.problems().contains("% of the signal"),
        "{}",
        off.problems()
    );
    job.config.artefact = spinfit::fit::ladder::Choice::Auto;
    let auto = fit_tr(band_scan(), &job).unwrap().record;
    assert!(
        auto.fit.model.contains("coherent artefact"),
        "{}",
        auto.fit.model
    );
    assert!(auto.adequacy.adequate && auto.fit.success(), "{}", auto.fit);
    assert_eq!(auto.status(), spinfit::pipeline::Status::Ok);
    for p in ["tau_1", "tau_2"] {
        let d = (off.fit.value(p) - auto.fit.value(p)).abs();
        assert!(d < 0.1 * auto.fit.err(p), "{p}: {d} apart");
    }
}

#[test]
fn a_window_after_the_real_rise_pins_t0_instead_of_letting_it_wander() {
    let mut job = TrJob::default();
    job.config.n_exp = 2;
    let full = fit_tr(band_scan(), &job).unwrap().record.fit;
    job.from = Some(2.0);
    let late = fit_tr(band_scan(), &job).unwrap().record;
    let t0 = late.fit.params.get("t0").unwrap();
    assert!(!t0.vary, "t0 must be fixed from the full trace");
    assert!((t0.value - full.value("t0")).abs() < 1e-6);
    assert!(
        late.notes.iter().any(|n| n.contains("after the rise")),
        "{:?}",
        late.notes
    );
    assert!(late.fit.success(), "{}", late.fit);
    // the slow lifetime agrees with the full-window fit within errors
    let (a, b) = (late.fit.value("tau_2"), full.value("tau_2"));
    let e = late.fit.err("tau_2").hypot(full.err("tau_2"));
    assert!(
        (a - b).abs() < 2.0 * e,
        "{a} vs {b} +/- {e}\n{}\n{}",
        late.fit,
        full
    );
}

/// The real map written as a matrix in both orientations, as lab programs
/// and KiMoPack write it.
fn write_matrices(dir: &std::path::Path) -> (PathBuf, PathBuf) {
    let m = map::read(&path(), None).unwrap();
    let rows_wl = dir.join("rows_wavelength.csv");
    let mut s = String::from("wavelength_nm/delay_ps");
    for d in &m.delay_ps {
        s.push_str(&format!(",{d}"));
    }
    s.push('\n');
    for (i, w) in m.wavelength_nm.iter().enumerate() {
        s.push_str(&format!("{w}"));
        for j in 0..m.delay_ps.len() {
            s.push_str(&format!(",{}", m.data[[i, j]]));
        }
        s.push('\n');
    }
    std::fs::write(&rows_wl, s).unwrap();
    let rows_t = dir.join("kimopack.SIA");
    let mut s = String::from("Time in ps");
    for w in &m.wavelength_nm {
        s.push_str(&format!("\t{w}"));
    }
    s.push('\n');
    for (j, d) in m.delay_ps.iter().enumerate() {
        s.push_str(&format!("{d}"));
        for i in 0..m.wavelength_nm.len() {
            s.push_str(&format!("\t{}", m.data[[i, j]]));
        }
        s.push('\n');
    }
    std::fs::write(&rows_t, s).unwrap();
    (rows_wl, rows_t)
}

#[test]
fn both_map_orientations_give_the_same_band_trace() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = write_matrices(dir.path());
    let band: map::Band = "500nm:520nm".parse().unwrap();
    let glotaran = map::read(&path(), None).unwrap().trace(band).unwrap();
    for f in [&a, &b] {
        let m = map::read(f, None).unwrap();
        assert_eq!(m.wavelength_nm.len(), 346, "{}: {:?}", f.display(), m.notes);
        let t = m.trace(band).unwrap();
        assert_eq!(t.columns[0], glotaran.columns[0]);
        for (x, y) in t.columns[1].iter().zip(&glotaran.columns[1]) {
            assert!((x - y).abs() <= 1e-12 * y.abs().max(1e-12), "{x} vs {y}");
        }
    }
    // a forced wrong layout reads the delays (from -0.001 ps) as wavelengths:
    // refused, with the way out named
    let e = map::read_with(&b, None, Some(map::Layout::RowsWavelength))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("not a wavelength") && e.contains("--layout"),
        "{e}"
    );
    // an undecidable corner and axes
    let c = dir.path().join("plain.csv");
    std::fs::write(&c, "x,1,2,3\n4,0.1,0.2,0.3\n5,0.2,0.3,0.4\n").unwrap();
    let e = map::read(&c, Some(spinfit::units::TimeUnit::Ps))
        .unwrap_err()
        .to_string();
    assert!(e.contains("--layout rows=time"), "{e}");
}

#[test]
fn a_band_or_wavelength_outside_the_map_is_an_error_with_the_axis_range() {
    let m = map::read(&path(), None).unwrap();
    for b in ["900nm", "300nm:330nm", "1.2eV"] {
        let e = m.trace(b.parse().unwrap()).unwrap_err().to_string();
        assert!(e.contains("spans 378.0-854.4 nm"), "{b}: {e}");
    }
    // the CLI says the same, exit 1
    let out = assert_cmd::Command::cargo_bin("spinfit")
        .unwrap()
        .args(["fit", "tr", "--band", "900nm"])
        .arg(path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("outside the map"));
}
