//! Global analysis of maps: the full covariance against the full-model
//! Jacobian, simulated truth (lifetimes, chirp, spectra) recovered within
//! its errors, calibrated errors, the number of components by BIC.

use ndarray::Array2;
use spinfit::fit::decay::{Baseline, ExpDecay};
use spinfit::fit::map::{MapData, MapFit, MapSettings, fit};
use spinfit::fit::model::Model;
use spinfit::simulate::map::{Band, MapTruth, SimulatedMap, simulate_map, stage_delays};

fn truth(taus: &[f64], chirp: Vec<f64>, artefact: f64) -> MapTruth {
    let bands = taus
        .iter()
        .enumerate()
        .map(|(k, &tau_ps)| Band {
            tau_ps,
            centre_nm: 500.0 + 60.0 * k as f64,
            width_nm: 45.0,
            height: if k % 2 == 0 { 1.0 } else { -0.7 },
        })
        .collect();
    MapTruth {
        bands,
        t0_ps: 0.3,
        lambda_ref_nm: 550.0,
        chirp_ps: chirp,
        irf_fwhm_ps: 0.12,
        artefact,
        offset: 0.02,
    }
}

fn wavelengths(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 450.0 + 200.0 * i as f64 / (n - 1) as f64)
        .collect()
}

fn run(sim: &SimulatedMap, s: &MapSettings) -> MapFit {
    let data = MapData {
        source: "simulated",
        wavelength_nm: &sim.wavelength_nm,
        delay_ps: &sim.delay_ps,
        data: &sim.data,
    };
    fit(&data, s).unwrap()
}

/// The map fit's errors are those of the full least-squares problem: J of
/// every parameter (shared lifetimes, t0, chirp, width and each
/// wavelength's amplitudes and offset) from the trace model's analytic
/// Jacobian, s^2 (J^T J)^-1, to 1e-6 relative.
#[test]
fn errors_equal_the_full_model_covariance() {
    let t = stage_delays(-1.0, 60.0, 0.05);
    let sim = simulate_map(
        &truth(&[0.8, 9.0], vec![0.15], 0.0),
        &wavelengths(5),
        &t,
        60.0,
        11,
    );
    let s = MapSettings {
        components: Some(2),
        chirp_order: 1,
        ..MapSettings::default()
    };
    let f = run(&sim, &s);
    assert!(f.converged, "{}", f.termination);
    let model = ExpDecay {
        n_exp: 2,
        baseline: Baseline {
            offset: true,
            step: false,
        },
        artefact: false,
    };
    let (nl, nt) = sim.data.dim();
    let (n_shared, nb) = (2 + 2 + 1, 3);
    let p = n_shared + nl * nb;
    let m = nl * nt;
    let mut j = nalgebra::DMatrix::<f64>::zeros(m, p);
    for l in 0..nl {
        let x = (sim.wavelength_nm[l] - f.lambda_ref_nm) / 100.0;
        let t0 = f.t0.value + f.chirp[0].value * x;
        // amplitude_1, tau_1, amplitude_2, tau_2, t0, irf_fwhm, offset
        let pv = [
            f.amplitude[0][l],
            f.lifetimes[0].value,
            f.amplitude[1][l],
            f.lifetimes[1].value,
            t0,
            f.irf_fwhm.value,
            f.amplitude[2][l],
        ];
        let mut jl = vec![0.0; nt * pv.len()];
        model.jacobian(&pv, &t, &mut jl);
        let col = |k: usize| &jl[k * nt..(k + 1) * nt];
        for i in 0..nt {
            let row = l * nt + i;
            j[(row, 0)] = col(1)[i];
            j[(row, 1)] = col(3)[i];
            j[(row, 2)] = col(4)[i];
            j[(row, 3)] = col(4)[i] * x;
            j[(row, 4)] = col(5)[i];
            for (c, k) in [0, 2, 6].into_iter().enumerate() {
                j[(row, n_shared + l * nb + c)] = col(k)[i];
            }
        }
    }
    let s2 = f.statistics.chisqr / (m - p) as f64;
    assert_eq!(f.statistics.nvarys, p);
    let cov = (j.transpose() * &j).try_inverse().unwrap() * s2;
    let se = |k: usize| cov[(k, k)].sqrt();
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs();
    let shared = [
        f.lifetimes[0].stderr,
        f.lifetimes[1].stderr,
        f.t0.stderr,
        f.chirp[0].stderr,
        f.irf_fwhm.stderr,
    ];
    for (k, e) in shared.iter().enumerate() {
        assert!(rel(*e, se(k)) < 1e-6, "shared {k}: {e} vs {}", se(k));
    }
    for l in 0..nl {
        for c in 0..nb {
            let full = se(n_shared + l * nb + c);
            let e = f.amplitude_stderr[c][l];
            assert!(rel(e, full) < 1e-6, "amplitude {c} at {l}: {e} vs {full}");
        }
    }
}

/// A chirped three-component map with a coherent artefact: lifetimes,
/// chirp, IRF and the spectra at their band centres within 4 stated errors;
/// the residual map is noise (first singular value near the second).
#[test]
fn chirped_map_with_artefact_is_recovered() {
    let t = stage_delays(-1.5, 400.0, 0.04);
    let tr = truth(&[0.5, 6.0, 80.0], vec![0.25, -0.08], 0.6);
    let wl = wavelengths(24);
    let sim = simulate_map(&tr, &wl, &t, 80.0, 5);
    let s = MapSettings {
        components: Some(3),
        chirp_order: 2,
        artefact: true,
        ..MapSettings::default()
    };
    let f = run(&sim, &s);
    assert!(f.converged, "{}", f.termination);
    let z = |v: f64, e: f64, truth: f64| (v - truth).abs() / e;
    for (k, b) in tr.bands.iter().enumerate() {
        let q = &f.lifetimes[k];
        assert!(
            z(q.value, q.stderr, b.tau_ps) < 4.0,
            "tau_{k}: {q:?} vs {}",
            b.tau_ps
        );
    }
    for (k, d) in tr.chirp_ps.iter().enumerate() {
        let q = &f.chirp[k];
        assert!(z(q.value, q.stderr, *d) < 4.0, "chirp_{k}: {q:?} vs {d}");
    }
    assert!(
        z(f.t0.value, f.t0.stderr, tr.t0_ps) < 4.0,
        "{:?} {:?} {:?} {:?} {}",
        f.t0,
        f.chirp,
        f.lifetimes,
        f.irf_fwhm,
        f.statistics.redchi / sim.noise_sd.powi(2)
    );
    let w = &f.irf_fwhm;
    assert!(z(w.value, w.stderr, tr.irf_fwhm_ps) < 4.0, "{w:?}");
    for (k, b) in tr.bands.iter().enumerate() {
        let l = (0..wl.len())
            .min_by(|&a, &c| {
                (wl[a] - b.centre_nm)
                    .abs()
                    .total_cmp(&(wl[c] - b.centre_nm).abs())
            })
            .unwrap();
        let want = tr.amplitude(k, wl[l]);
        let (v, e) = (f.amplitude[k][l], f.amplitude_stderr[k][l]);
        assert!(
            z(v, e, want) < 4.0,
            "DAS {k} at {} nm: {v} +/- {e} vs {want}",
            wl[l]
        );
    }
    let r = &f.svd_residual;
    assert!(r[0] / r[1] < 1.3, "residual singular values {r:?}");
    assert!(f.notes.is_empty(), "{:?}", f.notes);
}

/// 1-sigma errors cover the truth in 68 % of independent draws: 60 maps,
/// lifetimes, t0 and chirp (240 z-scores).
#[test]
fn map_errors_are_calibrated() {
    let t = stage_delays(-1.0, 40.0, 0.08);
    let tr = truth(&[0.7, 7.0], vec![0.2], 0.0);
    let wl = wavelengths(8);
    let s = MapSettings {
        components: Some(2),
        chirp_order: 1,
        ..MapSettings::default()
    };
    let mut inside = 0;
    let mut total = 0;
    for seed in 0..60 {
        let f = run(&simulate_map(&tr, &wl, &t, 30.0, 100 + seed), &s);
        let pairs = [
            (&f.lifetimes[0], 0.7),
            (&f.lifetimes[1], 7.0),
            (&f.t0, tr.t0_ps),
            (&f.chirp[0], 0.2),
        ];
        for (q, truth) in pairs {
            total += 1;
            inside += ((q.value - truth).abs() <= q.stderr) as usize;
        }
    }
    let cover = inside as f64 / total as f64;
    assert!(
        (0.61..=0.75).contains(&cover),
        "coverage {cover} of {total}"
    );
}

/// With the number of components open, BIC takes the true three of a
/// three-component map, and one of a one-component map.
#[test]
fn bic_chooses_the_number_of_components() {
    let t = stage_delays(-1.0, 300.0, 0.06);
    let wl = wavelengths(12);
    let s = MapSettings::default();
    for taus in [&[0.6, 7.0, 70.0][..], &[5.0][..]] {
        let f = run(
            &simulate_map(&truth(taus, vec![], 0.0), &wl, &t, 60.0, 3),
            &s,
        );
        assert_eq!(f.n_exp, taus.len(), "{:?}", f.candidates);
        assert_eq!(f.candidates.len(), 4);
    }
}

/// Bad maps are refused with the place named.
#[test]
fn a_map_with_a_hole_names_the_point() {
    let t = stage_delays(-1.0, 30.0, 0.1);
    let wl = wavelengths(4);
    let mut sim = simulate_map(&truth(&[2.0], vec![], 0.0), &wl, &t, 60.0, 1);
    sim.data[[2, 7]] = f64::NAN;
    let data = MapData {
        source: "hole.csv",
        wavelength_nm: &sim.wavelength_nm,
        delay_ps: &sim.delay_ps,
        data: &sim.data,
    };
    let e = fit(&data, &MapSettings::default()).unwrap_err().to_string();
    assert!(
        e.contains("hole.csv") && e.contains(&format!("{} nm", wl[2])),
        "{e}"
    );
    let small = Array2::zeros((2, 5));
    let data = MapData {
        source: "small.csv",
        wavelength_nm: &wl[..2],
        delay_ps: &t[..5],
        data: &small,
    };
    let e = fit(&data, &MapSettings::default()).unwrap_err().to_string();
    assert!(e.contains("too small"), "{e}");
    let flat = Array2::from_elem(sim.data.dim(), 1.5);
    let data = MapData {
        source: "flat.csv",
        wavelength_nm: &sim.wavelength_nm,
        delay_ps: &sim.delay_ps,
        data: &flat,
    };
    let e = fit(&data, &MapSettings::default()).unwrap_err().to_string();
    assert!(
        e.contains("flat.csv") && e.contains("every value of the map is 1.5"),
        "{e}"
    );
}

fn glotaran_map() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/glotaran-ta/demo_data_Hippius_etal_JPCC2007_111_13988_Figs5_9.ascii")
}

/// `spinfit global MAP` with `args`, writing into `out`.
fn global(map: &std::path::Path, args: &[&str], out: &std::path::Path) -> std::process::Output {
    crate::common::spinfit()
        .arg("global")
        .arg(map)
        .args(args)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap()
}

/// `spinfit global` on the measured map with `args`, writing into `out`.
fn global_on_real(args: &[&str], out: &std::path::Path) -> std::process::Output {
    global(&glotaran_map(), args, out)
}

/// The measured map in fixtures/ (Hippius et al. 2007) by `spinfit global`:
/// the same optimum as pyglotaran 0.7.5 on the same model (its values from
/// `scripts/compare-glotaran`, README of fixtures/glotaran-ta), within 0.5
/// of spinfit's stated errors; the JSON, the spectra table and the figures
/// written; exit 0.
#[test]
fn measured_map_matches_pyglotaran() {
    let dir = tempfile::tempdir().unwrap();
    let out = global_on_real(
        &[
            "--components",
            "4",
            "--chirp-order",
            "3",
            "--lambda-ref",
            "550nm",
            "--artefact",
            "--json",
        ],
        dir.path(),
    );
    crate::common::assert_ok(&out);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], "spinfit.global/1");
    assert_eq!(doc["status"], "ok");
    let q = |v: &serde_json::Value| (v["value"].as_f64().unwrap(), v["stderr"].as_f64().unwrap());
    // pyglotaran: rates 15.497, 0.56304, 0.049524, 0.019449 ps^-1; IRF centre
    // 1.22163 ps, sigma 0.051978 ps; dispersion 0.29430, -0.100372, 0.013840
    let want_tau = [1.0 / 15.497, 1.0 / 0.56304, 1.0 / 0.049524, 1.0 / 0.019449];
    for (k, want) in want_tau.iter().enumerate() {
        let (v, e) = q(&doc["lifetimes"][k]);
        assert!((v - want).abs() < 0.5 * e, "tau_{k}: {v} +/- {e} vs {want}");
    }
    for (k, want) in [0.29430, -0.100372, 0.013840].iter().enumerate() {
        let (v, e) = q(&doc["chirp"][k]);
        assert!(
            (v - want).abs() < 0.5 * e,
            "chirp_{k}: {v} +/- {e} vs {want}"
        );
    }
    let (t0, e) = q(&doc["t0"]);
    assert!((t0 - 1.22163).abs() < 0.5 * e, "t0 {t0} +/- {e}");
    let (w, e) = q(&doc["irf_fwhm"]);
    assert!(
        (w - 0.051978 * 2.354820045).abs() < 0.5 * e,
        "FWHM {w} +/- {e}"
    );
    let stem = "demo_data_Hippius_etal_JPCC2007_111_13988_Figs5_9";
    let csv = std::fs::read_to_string(dir.path().join(format!("{stem}_spectra.csv"))).unwrap();
    let mut lines = csv.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("wavelength_nm,das_1,das_1_stderr,das_2"),
        "{header}"
    );
    assert!(
        header.contains("artefact_2,artefact_2_stderr,eas_1"),
        "{header}"
    );
    assert!(header.ends_with("eas_4,eas_4_stderr"), "{header}");
    assert_eq!(lines.count(), 346);
    for f in ["das.png", "eas.png", "traces.png", "global.json"] {
        assert!(dir.path().join(format!("{stem}_{f}")).is_file(), "{f}");
    }
    // the HDF5 file holds the measured map itself, and fit - residual = data
    let h = hdf5::File::open(dir.path().join(format!("{stem}_global.h5"))).unwrap();
    let data: ndarray::Array2<f64> = h.dataset("data").unwrap().read_2d().unwrap();
    let fitted: ndarray::Array2<f64> = h.dataset("fitted").unwrap().read_2d().unwrap();
    let residual: ndarray::Array2<f64> = h.dataset("residual").unwrap().read_2d().unwrap();
    let map = spinfit::scan::map::read_with(&glotaran_map(), None, None).unwrap();
    assert_eq!(data.dim(), (346, 335));
    let worst = data
        .iter()
        .zip(&map.data)
        .chain(fitted.iter().zip(&(&residual + &map.data)))
        .fold(0.0f64, |w, (a, b)| w.max((a - b).abs()));
    assert!(worst < 1e-12, "{worst}");
    let amp: ndarray::Array2<f64> = h.dataset("amplitude").unwrap().read_2d().unwrap();
    assert_eq!(amp.dim(), (8, 346));
}

/// Without the coherent artefact the measured map's spike at time zero is
/// taken by a lifetime that runs to zero: the fit says so and exits 3.
#[test]
fn a_misspecified_map_model_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let out = global_on_real(
        &[
            "--components",
            "3",
            "--chirp-order",
            "3",
            "--bin",
            "4",
            "--no-figures",
        ],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("status: untrustworthy") && text.contains("unresolved spike"),
        "{text}"
    );
    assert!(text.contains("wavelengths binned by 4"), "{text}");
}

/// Bad settings are refused before any work, naming the flag.
#[test]
fn bad_global_settings_name_the_flag() {
    for (args, want) in [
        (&["--components", "9"][..], "components"),
        (&["--components", "many"][..], "--components"),
        (&["--chirp-order", "7"][..], "chirp-order"),
        (&["--t-range", "5ps"][..], "--t-range"),
        (
            &["--wl-range", "900nm:950nm"][..],
            "--wl-range keeps no wavelength",
        ),
        (&["--bin", "0"][..], "bin"),
    ] {
        let out = global_on_real(args, std::path::Path::new("/nonexistent/never"));
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// `spinfit simulate map` writes a map whose truth `spinfit global`
/// recovers from the file: lifetimes and chirp within 3 stated errors.
#[test]
fn a_simulated_map_file_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("sim.ascii");
    let out = crate::common::spinfit()
        .args([
            "simulate", "map", "--tau", "0.6ps", "--tau", "9ps", "--chirp", "0.2",
        ])
        .args([
            "--wavelengths",
            "30",
            "--to",
            "80ps",
            "--seed",
            "4",
            "--out",
        ])
        .arg(&map)
        .output()
        .unwrap();
    crate::common::assert_ok(&out);
    let text = std::fs::read_to_string(&map).unwrap();
    assert!(
        text.lines()
            .nth(1)
            .unwrap()
            .contains("synthetic = true; tau_ps = 0.6,9")
    );
    let args = [
        "--components",
        "2",
        "--chirp-order",
        "1",
        "--lambda-ref",
        "550nm",
    ];
    let out = global(
        &map,
        &[&args[..], &["--json", "--no-figures"]].concat(),
        dir.path(),
    );
    crate::common::assert_ok(&out);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let z = |q: &serde_json::Value, truth: f64| {
        (q["value"].as_f64().unwrap() - truth).abs() / q["stderr"].as_f64().unwrap()
    };
    assert!(z(&doc["lifetimes"][0], 0.6) < 3.0, "{}", doc["lifetimes"]);
    assert!(z(&doc["lifetimes"][1], 9.0) < 3.0, "{}", doc["lifetimes"]);
    assert!(z(&doc["chirp"][0], 0.2) < 3.0, "{}", doc["chirp"]);
    assert!(z(&doc["t0"], 0.3) < 3.0, "{}", doc["t0"]);
}

/// A KiMoPack chirp file (numpy coefficients, highest power first, ps
/// against nm) starts the fit, which refines it to the truth; a file of the
/// wrong shape or outside the time axis is refused naming the file.
#[test]
fn a_kimopack_chirp_file_starts_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("sim.ascii");
    let out = crate::common::spinfit()
        .args(["simulate", "map", "--tau", "0.8ps", "--tau", "12ps"])
        .args(["--chirp", "0.3", "--chirp", "-0.1", "--t0", "0.4ps"])
        .args([
            "--wavelengths",
            "30",
            "--to",
            "80ps",
            "--seed",
            "9",
            "--out",
        ])
        .arg(&map)
        .output()
        .unwrap();
    crate::common::assert_ok(&out);
    // t0 = 0.4 + 0.3 x - 0.1 x^2, x = (lambda - 550)/100, a little off, in nm
    let (a, b, c) = (-0.1e-4 * 1.1, 0.3e-2 + 2.0 * 0.1e-4 * 550.0, 0.0);
    let c = c + 0.4 - 0.3e-2 * 550.0 - 0.1e-4 * 550.0 * 550.0 + 0.02;
    let chirp = dir.path().join("chirp.txt");
    std::fs::write(&chirp, format!("# KiMoPack\n{a:e} {b:e} {c:e}\n")).unwrap();
    let c = chirp.to_str().unwrap();
    let args = [
        "--components",
        "2",
        "--lambda-ref",
        "550nm",
        "--json",
        "--no-figures",
    ];
    let out = global(&map, &[&args[..], &["--chirp", c]].concat(), dir.path());
    crate::common::assert_ok(&out);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let z = |q: &serde_json::Value, truth: f64| {
        (q["value"].as_f64().unwrap() - truth).abs() / q["stderr"].as_f64().unwrap()
    };
    assert_eq!(
        doc["chirp"].as_array().unwrap().len(),
        2,
        "order from the file"
    );
    assert!(
        z(&doc["chirp"][0], 0.3) < 3.0 && z(&doc["chirp"][1], -0.1) < 3.0,
        "{}",
        doc["chirp"]
    );
    assert!(z(&doc["t0"], 0.4) < 3.0, "{}", doc["t0"]);
    for (text, want) in [
        ("1 2\n3 4\n", "found 2 lines"),
        ("1 x 3\n", "`x` is not a finite number"),
        ("1e-3 0 0 0 0 0 0\n", "7 coefficients"),
        ("0 0 5000\n", "outside the map's delays"),
    ] {
        std::fs::write(&chirp, text).unwrap();
        let c = chirp.to_str().unwrap();
        let out = global(&map, &["--chirp", c], dir.path());
        assert_eq!(out.status.code(), Some(1), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("chirp.txt") && err.contains(want),
            "{text}: {err}"
        );
    }
}
