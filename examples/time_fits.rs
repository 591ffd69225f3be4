//! Times single fits on the bundled synthetic examples and prints JSON with
//! the data, start values, fitted values and seconds per fit, for
//! `scripts/bench-python` to repeat the same fits with scipy and lmfit;
//! beside each fit, the same fit by Levenberg-Marquardt on every parameter
//! (no projection), the fit's floor (its evaluations times one evaluation of
//! the basis and its derivatives alone) and the default automatic routes
//! (model ladder, multi-start) per trace.
//! Run: cargo run --release --example time_fits

use serde_json::json;
use spinfit::fit::{Baseline, ExpDecay, FitResult, LmOptions, Model, Params, Precession, fit};
use spinfit::fit::{tr, trfe};
use spinfit::preprocess;
use spinfit::scan::{ReadOptions, ScanKind, read_scans};
use std::path::Path;
use std::time::Instant;

fn time(n: usize, mut f: impl FnMut() -> FitResult) -> (f64, FitResult) {
    let r = f();
    let t = Instant::now();
    for _ in 0..n {
        std::hint::black_box(f());
    }
    (t.elapsed().as_secs_f64() / n as f64, r)
}

fn case(
    file: &str,
    kind: ScanKind,
    model: &dyn Model,
    start: &[(&str, f64)],
    from: Option<f64>,
) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let mut s = read_scans(&dir.join(file), kind, &ReadOptions::default())
        .unwrap()
        .remove(0);
    preprocess::sort_and_merge(&mut s);
    preprocess::window(&mut s, from, None, 8).unwrap();
    let mut p: Params = model.template();
    for (n, v) in start {
        p.get_mut(n).unwrap().value = *v;
    }
    let opts = LmOptions::default();
    let (secs, r) = time(2000, || {
        fit(model, &s.delay, &s.signal, None, &p, &opts).unwrap()
    });
    let full = LmOptions {
        projection: false,
        ..opts
    };
    let (secs_full, _) = time(1000, || {
        fit(model, &s.delay, &s.signal, None, &p, &full).unwrap()
    });
    let floor = r.nfev as f64 * basis_seconds(model, &r.params, &s.delay);
    json!({
        "file": file, "model": model.name(), "x": s.delay, "y": s.signal,
        "names": p.0.iter().map(|q| q.name.clone()).collect::<Vec<_>>(),
        "start": p.values(), "result": r.params.values(),
        "stderr": r.stderr.iter().map(|e| e.unwrap_or(f64::NAN)).collect::<Vec<_>>(),
        "chisqr": r.chisqr, "nfev": r.nfev, "seconds_per_fit": secs,
        "seconds_full_lm": secs_full, "floor_seconds": floor,
    })
}

/// One evaluation of the basis and its derivative columns (the model and
/// its Jacobian for a model that is not separable).
fn basis_seconds(model: &dyn Model, p: &Params, x: &[f64]) -> f64 {
    let m = x.len();
    let n = 20_000;
    let t = Instant::now();
    match model.separable() {
        Some(sep) => {
            let a: Vec<f64> = sep.nonlinear().iter().map(|&j| p.0[j].value).collect();
            let (mut phi, mut d) = (
                vec![0.0; m * sep.n_basis()],
                vec![0.0; m * sep.structure().len()],
            );
            for _ in 0..n {
                sep.basis(std::hint::black_box(&a), x, &mut phi, Some(&mut d));
            }
        }
        None => {
            let (mut f, mut j) = (vec![0.0; m], vec![0.0; m * p.0.len()]);
            for _ in 0..n {
                model.eval_jacobian(std::hint::black_box(&p.values()), x, &mut f, &mut j);
            }
        }
    }
    t.elapsed().as_secs_f64() / n as f64
}

/// Seconds per trace of the default automatic fit of `file` (TRFE: the
/// model ladder from the FFT and frequency-grid starts; TR: the start
/// points and the artefact test), and the model it chose.
fn auto(file: &str, kind: ScanKind, field: Option<f64>) -> serde_json::Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let mut s = read_scans(&dir.join(file), kind, &ReadOptions::default())
        .unwrap()
        .remove(0);
    preprocess::sort_and_merge(&mut s);
    let n = 200;
    let (model, secs) = match kind {
        ScanKind::Tr => {
            let cfg = tr::TrConfig::default();
            let run = || {
                let plan = tr::plan(&cfg, &s).unwrap();
                tr::run(&plan, &s, &cfg.lm).unwrap()
            };
            let model = run().fit.model;
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(run());
            }
            (model, t.elapsed().as_secs_f64() / n as f64)
        }
        _ => {
            preprocess::window(&mut s, Some(0.0), None, 8).unwrap();
            let cfg = trfe::TrfeConfig {
                field_t: field,
                ..Default::default()
            };
            let model = trfe::run(&cfg, &s).unwrap().fit.model;
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(trfe::run(&cfg, &s).unwrap());
            }
            (model, t.elapsed().as_secs_f64() / n as f64)
        }
    };
    json!({"file": file, "points": s.delay.len(), "model": model, "seconds_per_trace": secs})
}

fn main() {
    let tr = ExpDecay {
        n_exp: 1,
        baseline: Baseline {
            offset: true,
            step: true,
        },
        artefact: false,
    };
    let fe = Precession {
        n_cos: 2,
        phase: false,
        decay: false,
        offset: true,
        envelope: Default::default(),
        repetition: None,
    };
    let out = json!({
        "tr": case("tr_APD_PbI4.csv", ScanKind::Tr, &tr,
            &[("amplitude", 0.8), ("tau", 6.0), ("t0", 0.05), ("irf_fwhm", 0.25), ("step", 0.0), ("offset", 0.0)], None),
        "trfe": case("trfe_CsPbI3_4_1.911eV_420mT.csv", ScanKind::Trfe, &fe,
            &[("amplitude_1", 0.8), ("omega_1", 50.0), ("t2_1", 100.0), ("amplitude_2", 0.5), ("omega_2", 35.0), ("t2_2", 200.0), ("offset", 0.0)], Some(0.0)),
    });
    let mut out = out;
    out["auto"] = json!([
        auto(
            "trfe_CsPbI3_4_1.911eV_420mT.csv",
            ScanKind::Trfe,
            Some(0.42)
        ),
        auto("trfe_CsPbI3_6_2.25eV_420mT.csv", ScanKind::Trfe, Some(0.42)),
        auto("tr_APD_PbI4.csv", ScanKind::Tr, None),
    ]);
    println!("{out}");
}
