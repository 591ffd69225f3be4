//! Criterion benchmarks of single fits on synthetic scans (the simulator's
//! paper values): a TR lifetime fit and a two-component TRFE fit, each as
//! the optimiser alone from fixed start values and as the full automatic
//! route (start values, multi-start, selection).

use criterion::{Criterion, criterion_group, criterion_main};
use spinfit::fit::tr::{self, TrConfig};
use spinfit::fit::trfe::{self, Components, TrfeConfig};
use spinfit::fit::{Baseline, Model};
use spinfit::fit::{ExpDecay, LmOptions, Precession, fit};
use spinfit::preprocess;
use spinfit::scan::{ReadOptions, Scan, ScanKind, delimited};
use spinfit::simulate::{Grid, TrTruth, TrfeTruth, simulate_tr, simulate_trfe};
use std::hint::black_box;

fn tr_scan() -> Scan {
    let truth = TrTruth {
        taus: vec![7.76],
        amplitudes: vec![1.0],
        t0: 0.0,
        irf_fwhm: 0.3,
        step: 0.03,
        offset: 0.002,
        population_tau: 77.6,
        population_amplitude: 2.0,
        ..Default::default()
    };
    let g = Grid {
        start: -3.0,
        fine_end: 6.0,
        end: 60.0,
        n_fine: 180,
        n_coarse: 120,
        jitter: 0.2,
        sweeps: 1,
    };
    let t = delimited::parse(&simulate_tr(&truth, &g, 40.0, 1).unwrap().to_csv(), "bench").unwrap();
    Scan::from_table(&t, ScanKind::Tr, &ReadOptions::default()).unwrap()
}

fn trfe_scan() -> Scan {
    let truth = TrfeTruth {
        field_t: 0.42,
        carriers: vec![(1.41, 90.0, 1.0), (0.91, 260.0, 0.6)],
        offset: 0.0,
        ..Default::default()
    };
    let t = delimited::parse(
        &simulate_trfe(&truth, &Grid::uniform(0.0, 1500.0, 400), 25.0, 7)
            .unwrap()
            .to_csv(),
        "bench",
    )
    .unwrap();
    let mut s = Scan::from_table(&t, ScanKind::Trfe, &ReadOptions::default()).unwrap();
    preprocess::sort_and_merge(&mut s);
    s
}

fn bench(c: &mut Criterion) {
    let tr = tr_scan();
    let model = ExpDecay {
        n_exp: 1,
        baseline: Baseline {
            offset: true,
            step: true,
        },
        artefact: false,
    };
    let mut start = model.template();
    for (n, v) in [
        ("amplitude", 0.8),
        ("tau", 6.0),
        ("t0", 0.05),
        ("irf_fwhm", 0.25),
        ("step", 0.0),
        ("offset", 0.0),
    ] {
        start.get_mut(n).unwrap().value = v;
    }
    let lm = LmOptions::default();
    c.bench_function("tr_lm_only_300pts", |b| {
        b.iter(|| fit(&model, black_box(&tr.delay), &tr.signal, None, &start, &lm).unwrap())
    });
    c.bench_function("tr_full_auto_300pts", |b| {
        b.iter(|| {
            let plan = tr::plan(&TrConfig::default(), black_box(&tr)).unwrap();
            tr::run(&plan, &tr, &lm).unwrap()
        })
    });
    let fe = trfe_scan();
    let pm = Precession {
        n_cos: 2,
        phase: false,
        decay: false,
        offset: true,
        envelope: Default::default(),
        repetition: None,
    };
    let mut ps = pm.template();
    for (n, v) in [
        ("amplitude_1", 0.8),
        ("omega_1", 50.0),
        ("t2_1", 100.0),
        ("amplitude_2", 0.5),
        ("omega_2", 35.0),
        ("t2_2", 200.0),
        ("offset", 0.0),
    ] {
        ps.get_mut(n).unwrap().value = v;
    }
    c.bench_function("trfe2_lm_only_400pts", |b| {
        b.iter(|| fit(&pm, black_box(&fe.delay), &fe.signal, None, &ps, &lm).unwrap())
    });
    let cfg = TrfeConfig {
        components: Components::Two,
        field_t: Some(0.42),
        ..Default::default()
    };
    c.bench_function("trfe2_full_auto_400pts", |b| {
        b.iter(|| trfe::run(&cfg, black_box(&fe)).unwrap())
    });
    let auto = TrfeConfig {
        components: Components::Auto,
        field_t: Some(0.42),
        ..Default::default()
    };
    c.bench_function("trfe_auto_selection_400pts", |b| {
        b.iter(|| trfe::run(&auto, black_box(&fe)).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
