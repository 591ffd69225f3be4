//! Field series (synthetic, from the simulator) with the Nanoscale paper's
//! numbers for sample #4 at 1.911 eV: |g_e| = 1.41, |g_h| = 0.91,
//! dg_e = 0.22, T2*_h = 260 ps independent of B. Both routes must recover
//! them within 2 sigma.

use spinfit::physics::MU_B_OVER_HBAR_RAD_PER_NS_T as K;
use spinfit::scan::{ReadOptions, Scan, ScanKind, delimited};
use spinfit::series::{SeriesConfig, analyse};
use spinfit::simulate::{Grid, TrfeTruth, simulate_trfe};

fn series(fields_mt: &[f64], seed: u64) -> Vec<Scan> {
    fields_mt
        .iter()
        .map(|&mt| {
            let b = mt * 1e-3;
            let t2e = 1.0 / (1.0 / 330.0 + 0.22 * K * b / 1000.0);
            let truth = TrfeTruth {
                field_t: b,
                carriers: vec![(1.41, t2e, 1.0), (0.91, 260.0, 0.6)],
                offset: 0.0,
                ..Default::default()
            };
            let sim = simulate_trfe(
                &truth,
                &Grid::uniform(-50.0, 1800.0, 500),
                30.0,
                seed + mt as u64,
            )
            .unwrap();
            let t = delimited::parse(&sim.to_csv(), &format!("synthetic_{mt}mT.csv")).unwrap();
            Scan::from_table(&t, ScanKind::Trfe, &ReadOptions::default()).unwrap()
        })
        .collect()
}

fn within(name: &str, v: f64, e: f64, truth: f64) {
    assert!(e.is_finite() && e > 0.0, "{name}: no error");
    assert!(
        (v - truth).abs() <= 2.0 * e,
        "{name}: {v} +/- {e} not within 2 sigma of {truth}"
    );
}

#[test]
fn paper_values_recovered_by_both_routes() {
    let scans = series(&[60.0, 180.0, 270.0, 350.0, 420.0], 100);
    let cfg = SeriesConfig {
        global: true,
        ..Default::default()
    };
    let r = analyse(scans, &cfg).unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(r.traces.len(), 5);
    let e = r.carriers.iter().find(|c| c.carrier == "electron").unwrap();
    let h = r.carriers.iter().find(|c| c.carrier == "hole").unwrap();
    assert_eq!(e.excluded.len(), 1, "60 mT is below the 100 mT threshold");
    within("two-step g_e", e.g.value, e.g.stderr, 1.41);
    within("two-step g_h", h.g.value, h.g.stderr, 0.91);
    let dg = e.dg.unwrap();
    within("two-step dg_e", dg.value, dg.stderr, 0.22);
    let t2h = h.t2_zero_field.unwrap();
    within("two-step T2*_h(0)", t2h.value, t2h.stderr, 260.0);
    let (gfit, gc, _) = r.global.as_ref().unwrap();
    assert!(gfit.success(), "{gfit}");
    for (c, truth_g) in [("electron", 1.41), ("hole", 0.91)] {
        let g = gc.iter().find(|k| k.carrier == c).unwrap();
        within(&format!("global g_{c}"), g.g.value, g.g.stderr, truth_g);
        // the global fit uses every point at once: its error is no larger
        let two = if c == "electron" { e } else { h };
        assert!(
            g.g.stderr <= 1.1 * two.g.stderr,
            "{c}: global {} vs two-step {}",
            g.g.stderr,
            two.g.stderr
        );
    }
    let ge = gc.iter().find(|k| k.carrier == "electron").unwrap();
    within("global dg_e", ge.dg.value, ge.dg.stderr, 0.22);
    let gh = gc.iter().find(|k| k.carrier == "hole").unwrap();
    within(
        "global T2*_h(0)",
        gh.t2_zero_field.value,
        gh.t2_zero_field.stderr,
        260.0,
    );
    within("global dg_h", gh.dg.value, gh.dg.stderr, 0.0);
}

#[test]
fn missing_field_is_reported_per_trace() {
    let mut scans = series(&[180.0, 270.0, 420.0], 200);
    scans[1].meta.0.remove("field");
    scans[1].source = "no_field_here.csv".into();
    let r = analyse(scans, &SeriesConfig::default()).unwrap();
    assert_eq!(r.traces.len(), 2);
    assert_eq!(r.failures.len(), 1);
    assert!(
        r.failures[0].0 == "no_field_here.csv" && r.failures[0].1.contains("no magnetic field"),
        "{:?}",
        r.failures
    );
}

use crate::common;

/// A lab's series as files: fields in `# B_T = ...` headers and `B420mT`
/// names (one reversed field), and a zero-field trace (the 230 ps decay).
#[test]
fn a_lab_series_with_b_t_headers_names_and_zero_field_goes_through_gfactor() {
    let dir = tempfile::tempdir().unwrap();
    for mt in [0.0, 180.0, 270.0, -350.0, 420.0] {
        let b: f64 = mt * 1e-3;
        let t2e = 1.0 / (1.0 / 330.0 + 0.22 * K * b.abs() / 1000.0);
        let carriers = if mt == 0.0 {
            vec![(1.41, 230.0, 1.0)]
        } else {
            vec![(1.41, t2e, 1.0), (0.91, 260.0, 0.6)]
        };
        let truth = TrfeTruth {
            field_t: b,
            carriers,
            ..Default::default()
        };
        let mut sim = simulate_trfe(
            &truth,
            &Grid::uniform(-50.0, 1800.0, 500),
            30.0,
            1300 + mt.abs() as u64,
        )
        .unwrap();
        sim.meta.0.remove("field");
        let sim = sim.with_meta("B_T", &format!("{b}"));
        sim.write_csv(&dir.path().join(format!("trfe_B{mt}mT.csv")))
            .unwrap();
    }
    let out = common::spinfit()
        .args(["gfactor", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    common::assert_ok(&out);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let j = if j.is_array() { j[0].clone() } else { j };
    assert_eq!(
        j["failures"].as_array().map_or(0, |f| f.len()),
        0,
        "{}",
        j["failures"]
    );
    assert_eq!(j["distinct_fields"], 4);
    let q = |v: &serde_json::Value| (v["value"].as_f64().unwrap(), v["stderr"].as_f64().unwrap());
    let carrier = |name: &str| {
        j["carriers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["carrier"] == name)
            .unwrap_or_else(|| panic!("no {name}: {}", j["carriers"]))
            .clone()
    };
    let (g, e) = q(&carrier("electron")["g"]);
    within("g_e", g, e, 1.41);
    let (g, e) = q(&carrier("hole")["g"]);
    within("g_h", g, e, 0.91);
    let (d, e) = q(&carrier("electron")["dg"]);
    within("dg_e", d, e, 0.22);
    let (t, e) = q(&j["zero_field"]["tau"]);
    within("zero-field tau", t, e, 230.0);
}

#[test]
fn header_and_file_name_that_disagree_are_refused_naming_both() {
    let dir = tempfile::tempdir().unwrap();
    let truth = TrfeTruth {
        field_t: 0.27,
        carriers: vec![(0.91, 260.0, 1.0)],
        ..Default::default()
    };
    let sim = simulate_trfe(&truth, &Grid::uniform(-50.0, 1500.0, 300), 30.0, 1).unwrap();
    let f = dir.path().join("scan_420mT.csv");
    sim.write_csv(&f).unwrap();
    let out = common::spinfit()
        .args(["fit", "trfe"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("field = 270 mT") && err.contains("420mT"),
        "{err}"
    );
    // unless the user says which wins
    let out = common::spinfit()
        .args(["fit", "trfe", "--json", "--field-from", "header"])
        .arg(&f)
        .output()
        .unwrap();
    common::assert_ok(&out);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(j["results"]["field"]["value"].as_f64(), Some(0.27));
    // the parsed conditions: the header's field (the raw header stays in metadata)
    assert_eq!(j["conditions"]["field"]["value"].as_f64(), Some(0.27));
    assert_eq!(j["conditions"]["field"]["unit"], "T");
    assert!(
        j["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("--field-from")),
        "{}",
        j["notes"]
    );
    // two header lines that disagree
    let text = std::fs::read_to_string(&f)
        .unwrap()
        .replace("# field = 270 mT", "# field = 420 mT\n# field = 200 mT");
    let g = dir.path().join("scan.csv");
    std::fs::write(&g, text).unwrap();
    let out = common::spinfit()
        .args(["fit", "trfe"])
        .arg(&g)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("line") && err.contains("420 mT") && err.contains("200 mT"),
        "{err}"
    );
}

#[test]
fn a_g_spread_series_gives_dg_inh_back_by_both_routes() {
    // one carrier with a Gaussian g spread dg_inh = 0.02 (standard
    // deviation) and a long homogeneous T2 = 8 ns: each trace's Voigt
    // envelope gives sigma_w = dg_inh mu_B B / hbar, and eq. 3 on the line
    // half-width gives the half-width sqrt(2 ln 2) dg_inh (to ~1 %: the
    // Lorentzian part adds a near-constant 0.53/T2)
    let dg_inh = 0.02;
    let scans: Vec<Scan> = [150.0, 220.0, 300.0, 380.0, 460.0]
        .iter()
        .map(|&mt| {
            let truth = TrfeTruth {
                field_t: mt * 1e-3,
                carriers: vec![(0.91, 8000.0, 1.0)],
                g_spread: vec![dg_inh],
                ..Default::default()
            };
            let sim = simulate_trfe(
                &truth,
                &Grid::uniform(-50.0, 6000.0, 600),
                60.0,
                400 + mt as u64,
            )
            .unwrap();
            let t = delimited::parse(&sim.to_csv(), &format!("spread_{mt}mT.csv")).unwrap();
            Scan::from_table(&t, ScanKind::Trfe, &ReadOptions::default()).unwrap()
        })
        .collect();
    let r = analyse(scans, &SeriesConfig::default()).unwrap();
    assert!(r.failures.is_empty(), "{:?}", r.failures);
    assert_eq!(r.carriers.len(), 1, "{:?}", r.notes);
    let c = &r.carriers[0];
    assert_eq!(
        c.used.iter().filter(|p| p.sigma_w.is_some()).count(),
        5,
        "every trace takes the Voigt envelope"
    );
    within("g", c.g.value, c.g.stderr, 0.91);
    let d = c.dg_inh.expect("the sigma_w(B) route");
    within("dg_inh from sigma_w(B)", d.value, d.stderr, dg_inh);
    let dg = c.dg.expect("the eq. 3 route");
    let half = (2.0 * std::f64::consts::LN_2).sqrt() * dg_inh; // independent of the crate's constant
    within("eq. 3 dg (half-width)", dg.value, dg.stderr, half);
    assert!(
        c.dg_agreement
            .as_deref()
            .is_some_and(|a| a.starts_with("agree")),
        "{:?}",
        c.dg_agreement
    );
}
