//! Times single fits on the bundled synthetic examples and prints JSON with
//! the data, start values, fitted values and seconds per fit, for
//! `scripts/bench-python` to repeat the same fits with scipy and lmfit.
//! Run: cargo run --release --example time_fits

use serde_json::json;
use spinfit::fit::{Baseline, ExpDecay, FitResult, LmOptions, Model, Params, Precession, fit};
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
    json!({
        "file": file, "model": model.name(), "x": s.delay, "y": s.signal,
        "names": p.0.iter().map(|q| q.name.clone()).collect::<Vec<_>>(),
        "start": p.values(), "result": r.params.values(),
        "stderr": r.stderr.iter().map(|e| e.unwrap_or(f64::NAN)).collect::<Vec<_>>(),
        "chisqr": r.chisqr, "nfev": r.nfev, "seconds_per_fit": secs,
    })
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
    };
    let out = json!({
        "tr": case("tr_APD_PbI4.csv", ScanKind::Tr, &tr,
            &[("amplitude", 0.8), ("tau", 6.0), ("t0", 0.05), ("irf_fwhm", 0.25), ("step", 0.0), ("offset", 0.0)], None),
        "trfe": case("trfe_CsPbI3_4_1.911eV_420mT.csv", ScanKind::Trfe, &fe,
            &[("amplitude_1", 0.8), ("omega_1", 50.0), ("t2_1", 100.0), ("amplitude_2", 0.5), ("omega_2", 35.0), ("t2_2", 200.0), ("offset", 0.0)], Some(0.0)),
    });
    println!("{out}");
}
