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
