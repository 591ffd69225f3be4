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
        ..Default::default()
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
        ..Default::default()
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

/// Sample #4 of the paper at 1.911 eV: |g_e| = 1.41, |g_h| = 0.91; at 420
/// mT T2*_e = 90 ps, T2*_h = 260 ps (400 points, SNR 25).
fn paper_pair(b: f64) -> Simulated {
    simulate_trfe(
        &trfe_truth(b, vec![(1.41, 90.0, 1.0), (0.91, 260.0, 0.6)]),
        &Grid::uniform(-50.0, 1500.0, 400),
        25.0,
        7,
    )
    .unwrap()
}

#[test]
fn trfe_two_components_at_420mt_recovered_and_selected() {
    // sample #4 at 1.911 eV: |g_e| = 1.41, |g_h| = 0.91; at 420 mT T2*_e = 90 ps,
    // T2*_h = 260 ps
    let b = 0.42;
    let sim = paper_pair(b);
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
fn the_one_component_climb_is_skipped_only_when_no_one_component_model_comes_near() {
    // two carriers far ahead: the ladder skips the one-component climb, and
    // the full one-component climb (Components::One) confirms that none of
    // its candidates comes within the window of the chosen pair; one
    // carrier: the climb runs as before
    let b = 0.42;
    let two = paper_pair(b);
    let auto = run_trfe(&two, Components::Auto, b);
    assert_eq!(auto.model.n_cos, 2);
    let skipped =
        |o: &trfe::TrfeOutcome| o.ladder.iter().any(|r| r.verdict.contains("climb skipped"));
    assert!(skipped(&auto), "{:#?}", auto.ladder);
    let ones = run_trfe(&two, Components::One, b);
    let best_one = ones
        .ladder
        .iter()
        .map(|r| r.bic)
        .fold(f64::INFINITY, f64::min);
    let window = spinfit::fit::average::AVERAGE_WINDOW;
    assert!(
        best_one - auto.fit.bic > window,
        "a one-component model within the window: {best_one} vs {}",
        auto.fit.bic
    );
    let one = simulate_trfe(
        &trfe_truth(0.43, vec![(0.91, 260.0, 1.0)]),
        &Grid::uniform(-50.0, 1500.0, 400),
        25.0,
        8,
    )
    .unwrap();
    let o = run_trfe(&one, Components::Auto, 0.43);
    assert!(!skipped(&o), "{:#?}", o.ladder);
    assert!(o.ladder.iter().filter(|r| r.n_cos == 1).count() > 2);
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

// ---- Real-trace physics under the default model choice (issue: right by
// default on real traces). Every draw must either recover the truth within
// 2 sigma with the right number of components, or be refused as "model
// inadequate"; a confident wrong answer fails the test.

use spinfit::fit::Envelope;
use std::f64::consts::PI;

/// How a default fit of a simulated trace came out.
#[derive(Debug, PartialEq)]
enum Outcome {
    Recovered,
    Inadequate,
    /// Exit 3 for another reason (not converged, undetermined).
    Untrustworthy(String),
    Wrong(String),
}

/// Fit `sim` with the defaults from `from` ps and judge it against the
/// carriers (|g|, T2*) of the truth, in decreasing |g|.
fn judge(sim: &Simulated, b: f64, from: f64, truth: &[(f64, f64)]) -> (Outcome, trfe::TrfeOutcome) {
    let mut scan = to_scan(sim, ScanKind::Trfe);
    preprocess::window(&mut scan, Some(from), None, 12).unwrap();
    let cfg = TrfeConfig {
        field_t: Some(b),
        ..Default::default()
    };
    let out = trfe::run(&cfg, &scan).unwrap();
    let verdict = if !out.adequacy.adequate {
        assert!(
            out.adequacy.summary().starts_with("model inadequate")
                && out.adequacy.size.is_some_and(|v| v >= 0.01),
            "an inadequate fit must say so, with the size of what is left: {}",
            out.adequacy.summary()
        );
        Outcome::Inadequate
    } else if out.carriers.len() != truth.len() {
        Outcome::Wrong(format!(
            "{} components for {} carriers: {}",
            out.carriers.len(),
            truth.len(),
            out.selection.as_ref().map_or("", |s| s.reason.as_str())
        ))
    } else if !out.fit.success() {
        Outcome::Untrustworthy(out.fit.problems())
    } else {
        let mut bad = vec![];
        for (c, (g, t2)) in out.carriers.iter().zip(truth) {
            let gq = c.g.unwrap();
            if (gq.value - g).abs() > 2.0 * gq.stderr {
                bad.push(format!("|g| {gq} vs {g}"));
            }
            if (c.t2.value - t2).abs() > 2.0 * c.t2.stderr {
                bad.push(format!("T2* {} vs {t2}", c.t2));
            }
        }
        if bad.is_empty() {
            Outcome::Recovered
        } else {
            Outcome::Wrong(bad.join(", "))
        }
    };
    (verdict, out)
}

/// Over `draws` seeds: no confident wrong answer beyond the 2-sigma rate,
/// and at least `min_recovered` recovered.
fn artefact_case(
    name: &str,
    draws: u64,
    min_recovered: f64,
    make: impl Fn(u64) -> (Simulated, f64, f64, Vec<(f64, f64)>),
) {
    let (mut rec, mut inad, mut wrong, mut other) = (0, 0, vec![], 0);
    for seed in 0..draws {
        let (sim, b, from, truth) = make(seed);
        match judge(&sim, b, from, &truth).0 {
            Outcome::Recovered => rec += 1,
            Outcome::Inadequate => inad += 1,
            Outcome::Untrustworthy(_) => other += 1,
            Outcome::Wrong(w) => wrong.push(format!("seed {seed}: {w}")),
        }
    }
    let n = draws as f64;
    // two quantities per carrier each within 2 sigma: ~ 9 % of honest draws
    // miss one; more than 20 % is bias
    assert!(
        wrong.len() as f64 <= 0.2 * n,
        "{name}: {} confident wrong answers of {draws} ({rec} recovered, {inad} inadequate, {other} untrustworthy): {:?}",
        wrong.len(),
        wrong
    );
    assert!(
        rec as f64 >= min_recovered * n,
        "{name}: only {rec} of {draws} recovered ({inad} inadequate, {other} untrustworthy, {} wrong)",
        wrong.len()
    );
}

fn hole(b: f64, phase: f64) -> TrfeTruth {
    TrfeTruth {
        field_t: b,
        carriers: vec![(0.91, 220.0, 1.0)],
        phases: vec![phase],
        ..Default::default()
    }
}

fn grid_400() -> Grid {
    Grid::uniform(-50.0, 1500.0, 400)
}

#[test]
fn no_ghost_component_in_single_carrier_traces_with_a_phase() {
    // a phase from a window that starts after the pump or a time-zero
    // offset: without it in the model, a ghost cosine buys the freedom
    let draws = 100;
    let mut ghosts = vec![];
    let mut rec = 0;
    for seed in 0..draws {
        let phase = -PI + 2.0 * PI * ((seed as f64 * 0.618_034) % 1.0);
        let sim = simulate_trfe(&hole(0.2, phase), &grid_400(), 25.0, 5000 + seed).unwrap();
        let (v, out) = judge(&sim, 0.2, 0.0, &[(0.91, 220.0)]);
        if out.carriers.len() == 2 {
            ghosts.push(seed);
        }
        rec += (v == Outcome::Recovered) as usize;
    }
    assert!(
        ghosts.len() as f64 <= 0.05 * draws as f64,
        "ghost second component in {} of {draws} draws: seeds {ghosts:?}",
        ghosts.len()
    );
    assert!(rec >= 80, "only {rec} of {draws} recovered");
}

#[test]
fn repeat_scans_get_the_same_number_of_components() {
    // repeat scans of one sample: the same answer every time
    for (truth, want) in [
        (hole(0.2, 0.8), 1),
        (
            TrfeTruth {
                field_t: 0.42,
                carriers: vec![(1.41, 90.0, 1.0), (0.91, 260.0, 0.6)],
                ..Default::default()
            },
            2,
        ),
    ] {
        for seed in 0..20 {
            let sim = simulate_trfe(&truth, &grid_400(), 25.0, 7000 + seed).unwrap();
            let mut scan = to_scan(&sim, ScanKind::Trfe);
            preprocess::window(&mut scan, Some(0.0), None, 12).unwrap();
            let out = trfe::run(&TrfeConfig::default(), &scan).unwrap();
            assert_eq!(
                out.carriers.len(),
                want,
                "seed {seed}: {}",
                out.selection.as_ref().map_or("", |s| s.reason.as_str())
            );
        }
    }
}

#[test]
fn the_papers_second_carrier_at_420mt_is_found_in_95_percent_of_draws() {
    // sample #4 at 420 mT: |g_e| = 1.41 (T2* 90 ps), |g_h| = 0.91 (260 ps)
    let truth = TrfeTruth {
        field_t: 0.42,
        carriers: vec![(1.41, 90.0, 1.0), (0.91, 260.0, 0.6)],
        ..Default::default()
    };
    let draws = 60;
    let mut found = 0;
    for seed in 0..draws {
        let sim = simulate_trfe(&truth, &grid_400(), 25.0, 9000 + seed).unwrap();
        let (_, out) = judge(&sim, 0.42, 0.0, &[(1.41, 90.0), (0.91, 260.0)]);
        found += (out.carriers.len() == 2) as usize;
    }
    assert!(
        found as f64 >= 0.95 * draws as f64,
        "second carrier found in {found} of {draws}"
    );
}

#[test]
fn omega_and_t2_error_bars_stay_honest_under_the_ladder() {
    // 68 +/- 5 % of draws within 1 sigma, over 200 draws with phases
    let draws = 200;
    let (mut w_in, mut t_in, mut n) = (0, 0, 0);
    for seed in 0..draws {
        let phase = if seed % 2 == 0 { 0.0 } else { 0.6 };
        let sim = simulate_trfe(&hole(0.43, phase), &grid_400(), 25.0, 11_000 + seed).unwrap();
        let (_, out) = judge(&sim, 0.43, 0.0, &[(0.91, 220.0)]);
        if out.carriers.len() != 1 {
            continue;
        }
        let c = &out.carriers[0];
        let w = spinfit::physics::omega_from_g(0.91, 0.43);
        w_in += ((c.omega.value - w).abs() <= c.omega.stderr) as usize;
        t_in += ((c.t2.value - 220.0).abs() <= c.t2.stderr) as usize;
        n += 1;
    }
    assert!(n >= 190, "{n} of {draws} single-component answers");
    for (name, k) in [("omega", w_in), ("T2*", t_in)] {
        let f = k as f64 / n as f64;
        assert!(
            (0.63..=0.73).contains(&f),
            "{name}: {:.1} % within 1 sigma over {n} draws",
            100.0 * f
        );
    }
}

#[test]
fn tr_lifetime_error_bars_stay_honest_over_200_draws() {
    let draws = 200;
    let mut inside = 0;
    for seed in 0..draws {
        let sim = simulate_tr(&tr_truth(7.76, 0.3), &tr_grid(7.76), 40.0, 20_000 + seed).unwrap();
        let scan = to_scan(&sim, ScanKind::Tr);
        let plan = tr::plan(&TrConfig::default(), &scan).unwrap();
        let f = tr::run(&plan, &scan, &Default::default()).unwrap().fit;
        inside += ((f.value("tau") - 7.76).abs() <= f.err("tau")) as usize;
    }
    let f = inside as f64 / draws as f64;
    assert!(
        (0.63..=0.73).contains(&f),
        "tau: {:.1} % within 1 sigma",
        100.0 * f
    );
}

#[test]
fn lab_artefacts_give_the_truth_or_a_named_refusal() {
    let single = |t: TrfeTruth, b: f64, from: f64| {
        move |seed: u64| {
            let sim = simulate_trfe(&t, &grid_400(), 25.0, 30_000 + seed).unwrap();
            let truth = t.carriers.iter().map(|c| (c.0, c.1)).collect();
            (sim, b, from, truth)
        }
    };
    // a window that starts 50 ps after the pump: the cosine starts with a phase
    artefact_case(
        "window from 50 ps",
        30,
        0.7,
        single(hole(0.2, 0.0), 0.2, 50.0),
    );
    // an inhomogeneous (Gaussian) g spread
    artefact_case(
        "Gaussian envelope",
        30,
        0.7,
        single(
            TrfeTruth {
                envelope: Envelope::Gaussian,
                ..hole(0.3, 0.0)
            },
            0.3,
            0.0,
        ),
    );
    // a non-oscillating exponential under the cosine
    artefact_case(
        "exponential background",
        30,
        0.7,
        single(
            TrfeTruth {
                background: Some((0.4, 300.0)),
                ..hole(0.3, 0.0)
            },
            0.3,
            0.0,
        ),
    );
    // an offset from scattered pump or the previous pulse
    artefact_case(
        "offset",
        30,
        0.7,
        single(
            TrfeTruth {
                offset: 0.08,
                ..hole(0.3, 0.0)
            },
            0.3,
            0.0,
        ),
    );
    // the previous pulse's spins (T2* 1.2 ns, 80 MHz laser): a phase-shifted
    // copy of the cosine under the window
    artefact_case(
        "resonant spin amplification",
        30,
        0.7,
        single(
            TrfeTruth {
                carriers: vec![(0.91, 1200.0, 1.0)],
                repetition_ps: Some(12_500.0),
                ..hole(0.3, 0.0)
            },
            0.3,
            0.0,
        ),
    );
    // a slow baseline drift over one sweep: recovered, or refused by name
    artefact_case(
        "baseline drift",
        30,
        0.0,
        single(
            TrfeTruth {
                drift: 0.3,
                ..hole(0.3, 0.0)
            },
            0.3,
            0.0,
        ),
    );
}

/// Fit a simulated TR scan through the pipeline (channel check, window,
/// rise pinning, artefact choice) and judge tau against the truth.
fn judge_tr(sim: &Simulated, from: Option<f64>, tau: f64) -> Result<Outcome, String> {
    let scan = to_scan(sim, ScanKind::Tr);
    let job = spinfit::pipeline::TrJob {
        from,
        ..Default::default()
    };
    let rec = spinfit::pipeline::fit_tr(scan, &job)
        .map_err(|e| e.to_string())?
        .record;
    let f = &rec.fit;
    Ok(if !rec.adequacy.adequate {
        assert!(
            rec.problems().contains("model inadequate"),
            "{}",
            rec.problems()
        );
        Outcome::Inadequate
    } else if !f.success() {
        Outcome::Untrustworthy(f.problems())
    } else if (f.value("tau") - tau).abs() <= 2.0 * f.err("tau") {
        Outcome::Recovered
    } else {
        Outcome::Wrong(format!(
            "tau {} +/- {} vs {tau} [{}] {:?}",
            f.value("tau"),
            f.err("tau"),
            f.model,
            rec.notes.last()
        ))
    })
}

fn tr_case(name: &str, truth: &TrTruth, from: Option<f64>, min_recovered: usize) {
    let (mut rec, mut wrong, mut other) = (0, vec![], vec![]);
    let draws = 30;
    for seed in 0..draws {
        let sim = simulate_tr(truth, &tr_grid(truth.taus[0]), 40.0, 40_000 + seed).unwrap();
        match judge_tr(&sim, from, truth.taus[0]).unwrap() {
            Outcome::Recovered => rec += 1,
            Outcome::Wrong(w) => wrong.push(w),
            o => other.push(format!("{o:?}")),
        }
    }
    assert!(
        wrong.len() <= 5,
        "{name}: {} confident wrong answers of {draws}: {wrong:?}",
        wrong.len()
    );
    assert!(
        rec >= min_recovered,
        "{name}: only {rec} of {draws} recovered; others {other:?}, wrong {wrong:?}"
    );
}

#[test]
fn tr_coherent_artefact_is_fitted_not_turned_into_a_lifetime() {
    // an artefact as large as the spin signal at t0, under a 0.3 ps IRF
    let truth = TrTruth {
        artefact: 0.8,
        ..tr_truth(7.76, 0.3)
    };
    tr_case("coherent artefact", &truth, None, 24);
    // without the artefact term the same traces leave structure behind
    let sim = simulate_tr(&truth, &tr_grid(7.76), 40.0, 40_001).unwrap();
    let scan = to_scan(&sim, ScanKind::Tr);
    let mut job = spinfit::pipeline::TrJob::default();
    job.config.artefact = spinfit::fit::ladder::Choice::Off;
    let off = spinfit::pipeline::fit_tr(scan.clone(), &job)
        .unwrap()
        .record;
    let on = spinfit::pipeline::fit_tr(scan, &Default::default())
        .unwrap()
        .record;
    assert!(
        on.fit.model.contains("coherent artefact"),
        "{}",
        on.fit.model
    );
    assert!(on.fit.bic + 10.0 < off.fit.bic);
}

#[test]
fn tr_window_after_the_rise_pins_t0_and_the_irf_from_the_full_trace() {
    // fit from 2 ps: t0 and the IRF come from the whole trace, tau is right
    tr_case("window from 2 ps", &tr_truth(7.76, 0.3), Some(2.0), 24);
    let sim = simulate_tr(&tr_truth(7.76, 0.3), &tr_grid(7.76), 40.0, 3).unwrap();
    let scan = to_scan(&sim, ScanKind::Tr);
    let job = spinfit::pipeline::TrJob {
        from: Some(2.0),
        ..Default::default()
    };
    let rec = spinfit::pipeline::fit_tr(scan, &job).unwrap().record;
    assert!(
        rec.notes
            .iter()
            .any(|n| n.contains("fixed from the full trace")),
        "{:?}",
        rec.notes
    );
    let t0 = rec.fit.params.get("t0").unwrap();
    assert!(!t0.vary && t0.value.abs() < 0.05, "t0 {t0:?}");
    // a file that itself starts after the rise cannot pin anything: refused
    let late = Grid {
        start: 3.0,
        ..tr_grid(7.76)
    };
    let sim = simulate_tr(&tr_truth(7.76, 0.3), &late, 40.0, 4).unwrap();
    let e = judge_tr(&sim, Some(5.0), 7.76).unwrap_err();
    assert!(
        e.contains("starts after its rise") && e.contains("--t0"),
        "{e}"
    );
}

#[test]
fn tr_dead_channels_are_refused_by_name_not_turned_into_a_lifetime() {
    use spinfit::simulate::DeadKind;
    for how in [DeadKind::Zero, DeadKind::Constant, DeadKind::Noise] {
        for ch in ["SC", "CC"] {
            let truth = TrTruth {
                dead: Some((ch.to_string(), how)),
                ..tr_truth(7.76, 0.3)
            };
            for seed in 0..5 {
                let sim = simulate_tr(&truth, &tr_grid(7.76), 40.0, 50 + seed).unwrap();
                let e = judge_tr(&sim, None, 7.76).unwrap_err();
                assert!(e.contains(&format!("channel {ch}")), "{how:?} {ch}: {e}");
            }
        }
    }
}

#[test]
fn tr_baseline_drift_gives_the_truth_or_a_named_refusal() {
    let truth = TrTruth {
        drift: 0.05,
        ..tr_truth(7.76, 0.3)
    };
    tr_case("baseline drift", &truth, None, 0);
}

/// The same fit by variable projection (the default) and by
/// Levenberg-Marquardt on every parameter: the same chosen model, the same
/// optimum and the same standard errors (full covariance, linear
/// parameters included) to 1e-6 relative.
fn same_fit(what: &str, a: &spinfit::fit::FitResult, b: &spinfit::fit::FitResult) {
    assert_eq!(a.model, b.model, "{what}: another model chosen");
    let rel = |u: f64, v: f64| (u - v).abs() / u.abs().max(v.abs()).max(1e-300);
    assert!(
        rel(a.chisqr, b.chisqr) < 1e-8,
        "{what}: chi2 {} vs {}",
        a.chisqr,
        b.chisqr
    );
    let scale = a.y.iter().fold(0.0f64, |s, v| s.max(v.abs()));
    let dev = a
        .best_fit
        .iter()
        .zip(&b.best_fit)
        .fold(0.0f64, |s, (u, v)| s.max((u - v).abs()));
    assert!(
        dev < 1e-6 * scale,
        "{what}: fitted curves differ by {dev:e}"
    );
    for (k, p) in a.params.0.iter().enumerate() {
        let (ea, eb) = (a.stderr[k], b.stderr[k]);
        match (ea, eb) {
            (Some(ea), Some(eb)) => {
                assert!(
                    rel(ea, eb) < 1e-6,
                    "{what}: stderr of {} {ea} vs {eb}",
                    p.name
                );
                if !p.name.starts_with("phase") && !p.name.starts_with("amplitude") {
                    let d = (p.value - b.params.0[k].value).abs();
                    assert!(
                        d < 1e-5 * ea,
                        "{what}: {} {} vs {}",
                        p.name,
                        p.value,
                        b.params.0[k].value
                    );
                }
            }
            (None, None) => {}
            _ => panic!("{what}: stderr of {} {ea:?} vs {eb:?}", p.name),
        }
    }
}

#[test]
fn variable_projection_gives_the_full_fit_and_its_errors() {
    let full = spinfit::fit::LmOptions {
        projection: false,
        ..Default::default()
    };
    for seed in 0..12u64 {
        // TRFE: two carriers at 420 mT, and one hole with a phase at 270 mT
        for (truth, b) in [
            (
                trfe_truth(0.42, vec![(1.41, 90.0, 1.0), (0.91, 260.0, 0.6)]),
                0.42,
            ),
            (hole(0.27, 0.6), 0.27),
        ] {
            let sim = simulate_trfe(&truth, &grid_400(), 30.0, 100 + seed).unwrap();
            let mut scan = to_scan(&sim, ScanKind::Trfe);
            preprocess::window(&mut scan, Some(0.0), None, 12).unwrap();
            let cfg = TrfeConfig {
                field_t: Some(b),
                ..Default::default()
            };
            let vp = trfe::run(&cfg, &scan).unwrap();
            let lm = trfe::run(&TrfeConfig { lm: full, ..cfg }, &scan).unwrap();
            same_fit(&format!("TRFE {b} T seed {seed}"), &vp.fit, &lm.fit);
        }
        // TR: the papers' lifetimes under the IRF, one and two exponentials
        for (tau, irf, n_exp) in [(7.76, 0.3, 1), (0.12, 0.15, 1), (7.76, 0.3, 2)] {
            let mut truth = tr_truth(tau, irf);
            if n_exp == 2 {
                truth.taus = vec![0.9, tau];
                truth.amplitudes = vec![0.7, 1.0];
            }
            let sim = simulate_tr(&truth, &tr_grid(tau), 40.0, 200 + seed).unwrap();
            let scan = to_scan(&sim, ScanKind::Tr);
            let cfg = TrConfig {
                n_exp,
                ..Default::default()
            };
            let plan = tr::plan(&cfg, &scan).unwrap();
            let vp = tr::run(&plan, &scan, &Default::default()).unwrap();
            let lm = tr::run(&plan, &scan, &full).unwrap();
            same_fit(
                &format!("TR tau {tau} n {n_exp} seed {seed}"),
                &vp.fit,
                &lm.fit,
            );
        }
    }
}

#[test]
fn an_ensemble_with_a_g_spread_is_one_carrier_with_honest_errors() {
    // the ensemble trial (spinfit::simulate::ensemble_case; 200+ draws are
    // printed by examples/ensemble): single carriers whose envelope holds a
    // Gaussian g spread from none to dominant, with a phase, background,
    // drift and the previous pulses. Over 100 draws: no ghost, |g| within
    // 2 sigma in >= 90 % and within 1 sigma in 58-78 % (68 % +/- 2 binomial
    // sd of 100 draws), T2 and sigma_w within 2 sigma in >= 85 % of the
    // Voigt fits, and the Voigt envelope chosen where the spread dominates.
    let draws = 100;
    let (mut ghosts, mut g2, mut g1, mut voigt, mut both, mut dominant, mut dom_voigt) =
        (0, 0, 0, 0, 0, 0, 0);
    for seed in 0..draws {
        let case = spinfit::simulate::ensemble_case(seed);
        let sim = simulate_trfe(&case.truth, &case.grid, case.snr, seed).unwrap();
        let mut scan = to_scan(&sim, ScanKind::Trfe);
        preprocess::window(&mut scan, Some(case.from_ps), None, 12).unwrap();
        let cfg = TrfeConfig {
            field_t: Some(case.truth.field_t),
            ..Default::default()
        };
        let s = case.score(&trfe::run(&cfg, &scan).unwrap());
        ghosts += (s.carriers > 1) as usize;
        g2 += (s.g_z.abs() <= 2.0) as usize;
        g1 += (s.g_z.abs() <= 1.0) as usize;
        if s.envelope == Envelope::Voigt {
            voigt += 1;
            both += (s.t2_z.is_some_and(|z| z.abs() <= 2.0)
                && s.sigma_z.is_some_and(|z| z.abs() <= 2.0)) as usize;
        }
        // the Gaussian part dominates: sigma_w T2 > 1
        if case.sigma_w * case.truth.carriers[0].1 * 1e-3 > 1.0 {
            dominant += 1;
            dom_voigt += (s.envelope == Envelope::Voigt) as usize;
        }
    }
    let f = |k: usize, n: usize| k as f64 / n as f64;
    assert_eq!(ghosts, 0, "ghost second carriers in {ghosts} of {draws}");
    assert!(f(g2, 100) >= 0.90, "|g| within 2 sigma in {g2} of {draws}");
    assert!(
        (0.58..=0.78).contains(&f(g1, 100)),
        "|g| within 1 sigma in {g1} of {draws}"
    );
    assert!(
        f(both, voigt) >= 0.85,
        "T2 and sigma_w within 2 sigma in {both} of {voigt} Voigt fits"
    );
    assert!(
        f(dom_voigt, dominant) >= 0.95,
        "Voigt chosen in {dom_voigt} of {dominant} draws where the g spread dominates"
    );
}

#[test]
fn two_close_g_beyond_two_line_widths_are_still_resolved() {
    // two carriers with a small g spread each, split by more than twice the
    // lines' mean half-width: the second carrier must survive the envelope
    // test (one carrier with a g spread does not imitate it)
    let b = 0.5;
    let (g1, g2) = (0.50, 0.47); // omega 22.0 and 20.7 rad/ns, split 1.3 = 3 half-widths
    let truth = TrfeTruth {
        field_t: b,
        carriers: vec![(g1, 3000.0, 1.0), (g2, 3000.0, 0.8)],
        g_spread: vec![0.004, 0.004], // sigma_w 0.18 rad/ns each
        ..Default::default()
    };
    let (mut resolved, mut right) = (0, 0);
    for seed in 0..10 {
        let sim =
            simulate_trfe(&truth, &Grid::uniform(-50.0, 4000.0, 500), 60.0, 900 + seed).unwrap();
        let (verdict, out) = judge_voigt(&sim, b);
        if out.carriers.len() == 2 {
            resolved += 1;
            let sel = out.selection.as_ref().unwrap();
            let env = sel.checks.iter().find(|c| c.name == "envelope").unwrap();
            assert!(
                env.passed && env.detail.contains("g spread"),
                "{}",
                env.detail
            );
            right += verdict as usize;
        }
    }
    assert!(resolved >= 9, "two carriers resolved in {resolved} of 10");
    // the chosen model alone misses |g| by 4-5 of its errors in most draws
    // (exponential and Gaussian pairs fit this Voigt truth to the noise, and
    // the Voigt pair loses by BIC); the model-averaged headline error covers
    // the truth. With the phases free (the default: real scans carry them)
    // the split, 0.85 of the window's Fourier resolution, leaves two basins
    // equally good: 8 of 10 covered (9 of 10 with phases left to the ladder)
    assert!(
        right + 2 >= resolved,
        "both |g| within 2 sigma in only {right} of {resolved}"
    );
}

/// Default fit of `sim` at `b`; whether each |g| found is within 2 sigma of
/// the truth written in the header (in decreasing |g|).
fn judge_voigt(sim: &Simulated, b: f64) -> (bool, trfe::TrfeOutcome) {
    let mut scan = to_scan(sim, ScanKind::Trfe);
    preprocess::window(&mut scan, Some(0.0), None, 12).unwrap();
    let cfg = TrfeConfig {
        field_t: Some(b),
        ..Default::default()
    };
    let out = trfe::run(&cfg, &scan).unwrap();
    let truth: Vec<f64> = ["truth.g_1", "truth.g_2"]
        .iter()
        .filter_map(|k| sim.meta.0.get(*k).and_then(|v| v.parse().ok()))
        .collect();
    let ok = out.carriers.iter().zip(&truth).all(|(c, g)| {
        let q = c.g.unwrap();
        (q.value - g).abs() <= 2.0 * q.stderr
    });
    (ok, out)
}

#[test]
fn the_earlier_pulses_are_fitted_with_negative_delays_and_honest_errors() {
    // resonant spin amplification: T2* comparable with the repetition
    // period, delays from well before the pump; with --repetition the whole
    // scan is fitted and |g|, T2* and the phase come back within their
    // errors; without it the negative delays are left out and a hint names
    // the flag
    let rep = spinfit::fit::rsa::Period::from_ps(4000.0).unwrap();
    let (mut g_in, mut t2_in, mut phase_in, n) = (0, 0, 0, 40);
    for seed in 0..n {
        let u = |k: u64| ((seed as u64 * 7919 + k * 104_729) % 1000) as f64 / 1000.0;
        let (g, t2, phi) = (0.40 + 0.1 * u(1), 1500.0 + 2500.0 * u(2), -1.0 + 2.0 * u(3));
        let truth = TrfeTruth {
            field_t: 0.2,
            carriers: vec![(g, t2, 1.0)],
            phases: vec![phi],
            repetition_ps: Some(4000.0),
            ..Default::default()
        };
        let grid = Grid::uniform(-1000.0, 3000.0, 500);
        let sim = simulate_trfe(&truth, &grid, 60.0, 7000 + seed as u64).unwrap();
        let mut job = spinfit::pipeline::TrfeJob {
            field_t: Some(0.2),
            ..Default::default()
        };
        job.config.freedom.repetition = Some(rep);
        let f = spinfit::pipeline::fit_trfe(to_scan(&sim, ScanKind::Trfe), &job).unwrap();
        let rec = &f.record;
        assert_eq!(rec.fit.ndata, 500, "the negative delays are fitted too");
        assert!(
            rec.fit.model.contains("earlier pulses every 4 ns"),
            "{}",
            rec.fit.model
        );
        let spinfit::pipeline::Derived::Trfe { carriers, .. } = &rec.derived else {
            panic!()
        };
        assert_eq!(carriers.len(), 1, "{}", rec.problems());
        let c = &carriers[0];
        let gq = c.g.unwrap();
        g_in += ((gq.value - g).abs() <= 2.0 * gq.stderr) as usize;
        t2_in += ((c.t2.value - t2).abs() <= 2.0 * c.t2.stderr) as usize;
        let (p, pe) = (rec.fit.value("phase"), rec.fit.err("phase"));
        phase_in += ((p - phi).abs() <= 2.0 * pe) as usize;
        assert!(rec.notes.iter().any(|x| x.contains("T2* / T_rep")));
        if seed == 0 {
            let plain = spinfit::pipeline::TrfeJob {
                field_t: Some(0.2),
                ..Default::default()
            };
            let f = spinfit::pipeline::fit_trfe(to_scan(&sim, ScanKind::Trfe), &plain).unwrap();
            assert!(f.record.fit.ndata < 500);
            assert!(
                f.record.notes.iter().any(|x| x.contains("--repetition")),
                "{:?}",
                f.record.notes
            );
        }
    }
    let f = |k: usize| k as f64 / n as f64;
    assert!(f(g_in) >= 0.88, "|g| within 2 sigma in {g_in} of {n}");
    assert!(f(t2_in) >= 0.88, "T2* within 2 sigma in {t2_in} of {n}");
    assert!(
        f(phase_in) >= 0.88,
        "phase within 2 sigma in {phase_in} of {n}"
    );
}

#[test]
fn a_tr_trace_the_residuals_reject_climbs_to_the_exponentials_it_needs() {
    // two lifetimes, 2 and 20 ps, fitted with the default (one exponential
    // unless the residual tests reject it): the second is added and both
    // come back within 3 sigma; with the number fixed at 1 the fit stays
    // at 1 and is flagged inadequate
    let truth = TrTruth {
        taus: vec![2.0, 20.0],
        amplitudes: vec![0.6, 0.4],
        irf_fwhm: 0.2,
        population_tau: 500.0,
        population_amplitude: 1.0,
        ..Default::default()
    };
    let grid = Grid::for_tr(&truth.taus, 0.0, 0.2, None, None, 300, 1);
    let sim = simulate_tr(&truth, &grid, 200.0, 11).unwrap();
    let job = spinfit::pipeline::TrJob::default();
    let rec = spinfit::pipeline::fit_tr(to_scan(&sim, ScanKind::Tr), &job)
        .unwrap()
        .record;
    assert!(
        rec.notes
            .iter()
            .any(|n| n.contains("rejected 1 exponential: 2 fitted")),
        "{:?}",
        rec.notes
    );
    let spinfit::pipeline::Derived::Tr { lifetimes } = &rec.derived else {
        panic!()
    };
    assert_eq!(lifetimes.len(), 2, "{}", rec.problems());
    for (l, want) in lifetimes.iter().zip([2.0, 20.0]) {
        assert!(
            (l.tau.value - want).abs() <= 3.0 * l.tau.stderr,
            "{} vs {want}",
            l.tau
        );
    }
    let mut fixed = spinfit::pipeline::TrJob::default();
    fixed.config.climb = false;
    let one = spinfit::pipeline::fit_tr(to_scan(&sim, ScanKind::Tr), &fixed)
        .unwrap()
        .record;
    assert_eq!(
        one.status(),
        spinfit::pipeline::Status::Inadequate,
        "{}",
        one.problems()
    );
}
