//! Known parameters of simulated (synthetic) scans are recovered within their
//! stated uncertainties, through the whole pipeline: simulator -> CSV text ->
//! reader -> sort/merge -> start values -> LM fit.

use spinfit::fit::tr::{self, TrConfig};
use spinfit::fit::trfe::{self, Components, TrfeConfig};
use spinfit::preprocess;
use spinfit::scan::{ReadOptions, Scan, ScanKind, delimited};
use spinfit::simulate::{Grid, Simulated, TrTruth, TrfeTruth, simulate_tr, simulate_trfe};

fn to_scan(sim: &Simulated, kind: ScanKind) -> Scan {
    let t = delimited::parse(&sim.to_csv(), "synthetic.csv").unwrap();
    let mut s = Scan::from_table(&t, kind, &ReadOptions::default()).unwrap();
    preprocess::sort_and_merge(&mut s);
    s
}

fn tr_truth(tau: f64, irf: f64) -> TrTruth {
    TrTruth {
        taus: vec![tau],
        amplitudes: vec![1.0],
        t0: 0.0,
        irf_fwhm: irf,
        step: 0.03,
        offset: 0.002,
        population_tau: 40.0,
        population_amplitude: 2.0,
    }
}

fn tr_grid(tau: f64) -> Grid {
    Grid {
        start: -1.0 - 2.0 * tau.min(1.0),
        fine_end: 1.0 + 2.0 * tau.min(2.0),
        end: 8.0 * tau.max(0.5),
        n_fine: 120,
        n_coarse: 80,
        jitter: 0.2,
        sweeps: 2,
    }
}

fn within(name: &str, got: f64, err: f64, truth: f64, k: f64) {
    assert!(err.is_finite() && err > 0.0, "{name}: no error bar");
    assert!(
        (got - truth).abs() <= k * err,
        "{name}: {got} +/- {err} is not within {k} sigma of {truth}"
    );
}

#[test]
fn tr_lifetimes_of_both_papers_recovered() {
    // (APD)PbI4: 7.76 ps; (ThMA)2PbI4: 0.12 ps under a 0.15 ps IRF
    for (tau, irf, seed) in [(7.76, 0.3, 21), (0.12, 0.15, 22)] {
        let sim = simulate_tr(&tr_truth(tau, irf), &tr_grid(tau), 40.0, seed).unwrap();
        let scan = to_scan(&sim, ScanKind::Tr);
        assert!(
            scan.sigma.is_some(),
            "two sweeps give a pooled noise estimate"
        );
        let plan = tr::plan(&TrConfig::default(), &scan).unwrap();
        let out = tr::run(&plan, &scan, &Default::default()).unwrap();
        assert!(out.fit.success(), "{}", out.fit);
        let f = &out.fit;
        within("tau", f.value("tau"), f.err("tau"), tau, 2.0);
        let rate = &out.lifetimes[0].rate;
        within("rate", rate.value, rate.stderr, 1.0 / tau, 2.0);
    }
}

/// z = (fit - truth) / stderr over many noise draws must look like a
/// standard normal: mean near 0, spread near 1, ~95 % within 2.
fn check_z(name: &str, z: &[f64]) {
    let n = z.len() as f64;
    let mean = z.iter().sum::<f64>() / n;
    let sd = (z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let c2 = z.iter().filter(|v| v.abs() <= 2.0).count() as f64 / n;
    assert!(mean.abs() < 0.45, "{name}: mean z {mean:.2} (bias)");
    assert!(
        (0.7..=1.35).contains(&sd),
        "{name}: sd of z {sd:.2} (errors not honest)"
    );
    assert!(
        c2 >= 0.85,
        "{name}: only {:.0} % within 2 sigma",
        100.0 * c2
    );
}

#[test]
fn tr_error_bars_are_honest_over_many_noise_draws() {
    for (tau, irf) in [(7.76, 0.3), (0.12, 0.15)] {
        let mut z: [Vec<f64>; 3] = Default::default();
        for seed in 0..40 {
            let sim = simulate_tr(&tr_truth(tau, irf), &tr_grid(tau), 40.0, 1000 + seed).unwrap();
            let scan = to_scan(&sim, ScanKind::Tr);
            let plan = tr::plan(&TrConfig::default(), &scan).unwrap();
            let f = tr::run(&plan, &scan, &Default::default()).unwrap().fit;
            for (k, (p, truth)) in [("tau", tau), ("irf_fwhm", irf), ("t0", 0.0)]
                .iter()
                .enumerate()
            {
                z[k].push((f.value(p) - truth) / f.err(p));
            }
        }
        for (k, p) in ["tau", "irf_fwhm", "t0"].iter().enumerate() {
            check_z(&format!("{p} (tau = {tau} ps)"), &z[k]);
        }
    }
}

fn trfe_truth(field_t: f64, carriers: Vec<(f64, f64, f64)>) -> TrfeTruth {
    TrfeTruth {
        field_t,
        carriers,
        offset: 0.0,
    }
}

fn run_trfe(sim: &Simulated, components: Components, field: f64) -> trfe::TrfeOutcome {
    let mut scan = to_scan(sim, ScanKind::Trfe);
    preprocess::window(&mut scan, Some(0.0), None, 12).unwrap();
    let cfg = TrfeConfig {
        components,
        field_t: Some(field),
        ..Default::default()
    };
    trfe::run(&cfg, &scan).unwrap()
}

#[test]
fn trfe_two_components_at_420mt_recovered_and_selected() {
    // sample #4 at 1.911 eV: |g_e| = 1.41, |g_h| = 0.91; at 420 mT T2*_e = 90 ps,
    // T2*_h = 260 ps
    let b = 0.42;
    let sim = simulate_trfe(
        &trfe_truth(b, vec![(1.41, 90.0, 1.0), (0.91, 260.0, 0.6)]),
        &Grid::uniform(-50.0, 1500.0, 400),
        25.0,
        7,
    )
    .unwrap();
    let out = run_trfe(&sim, Components::Auto, b);
    let sel = out.selection.as_ref().unwrap();
    assert_eq!(sel.chosen, 2, "{}", sel.reason);
    assert!(out.fit.success(), "{}", out.fit);
    let (e, h) = (&out.carriers[0], &out.carriers[1]);
    let (ge, gh) = (e.g.unwrap(), h.g.unwrap());
    within("g_e", ge.value, ge.stderr, 1.41, 2.0);
    within("g_h", gh.value, gh.stderr, 0.91, 2.0);
    within("T2_e", e.t2.value, e.t2.stderr, 90.0, 2.0);
    within("T2_h", h.t2.value, h.t2.stderr, 260.0, 2.0);
}

#[test]
fn trfe_single_hole_component_is_not_split() {
    // small nanocrystals (#5, #6) show only the hole
    let b = 0.43;
    let sim = simulate_trfe(
        &trfe_truth(b, vec![(0.91, 220.0, 1.0)]),
        &Grid::uniform(-50.0, 1500.0, 400),
        25.0,
        8,
    )
    .unwrap();
    let out = run_trfe(&sim, Components::Auto, b);
    assert_eq!(
        out.selection.as_ref().unwrap().chosen,
        1,
        "{}",
        out.selection.as_ref().unwrap().reason
    );
    let g = out.carriers[0].g.unwrap();
    within("g_h", g.value, g.stderr, 0.91, 2.0);
}

#[test]
fn trfe_low_field_overlapping_lines_are_separated() {
    // 150 mT: omega_e = 18.6 and omega_h = 12.0 rad/ns, lines overlapping
    // within their widths over a 2 ns window
    let b = 0.15;
    let sim = simulate_trfe(
        &trfe_truth(b, vec![(1.41, 250.0, 1.0), (0.91, 260.0, 0.8)]),
        &Grid::uniform(-50.0, 2000.0, 500),
        40.0,
        9,
    )
    .unwrap();
    let out = run_trfe(&sim, Components::Two, b);
    assert!(out.fit.success(), "{}", out.fit);
    let (ge, gh) = (out.carriers[0].g.unwrap(), out.carriers[1].g.unwrap());
    within("g_e", ge.value, ge.stderr, 1.41, 2.0);
    within("g_h", gh.value, gh.stderr, 0.91, 2.0);
}
