//! The simulated lab day of issue 24 through `session`, scored: one series
//! per sample, |g| of each carrier within 2 sigma of its truth in 95 % of
//! series, one row per scan. Usage:
//! cargo run --release --example lab_day -- [SAMPLES] [SEED] [DIR]
use spinfit::session::{SessionConfig, analyse_path};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let samples: usize = args.get(1).map_or(100, |v| v.parse().expect("SAMPLES"));
    let seed: u64 = args.get(2).map_or(1, |v| v.parse().expect("SEED"));
    let dir = args.get(3).map_or_else(
        || std::env::temp_dir().join(format!("spinfit-lab-day-{samples}-{seed}")),
        std::path::PathBuf::from,
    );
    let _ = std::fs::remove_dir_all(&dir);
    let day = spinfit::simulate::lab_day(&dir, samples, seed).expect("write the day");
    let cfg = SessionConfig {
        figures: spinfit::session::Figures::None,
        ..Default::default()
    };
    let t = Instant::now();
    let r = analyse_path(&dir, &cfg, false, &|_| {}).expect("session");
    let secs = t.elapsed().as_secs_f64();
    let rows = r.records().len() + r.failures.len();
    let verbose = std::env::var_os("VERBOSE").is_some();
    let (mut within, mut carriers, mut found) = (0, 0, 0);
    for truth in &day.series {
        let Some(s) = r
            .series
            .iter()
            .find(|s| s.name.as_deref() == Some(&truth.series))
        else {
            continue;
        };
        found += 1;
        for c in &s.carriers {
            let want = if c.carrier == "electron" {
                truth.g.0
            } else {
                truth.g.1
            };
            carriers += 1;
            let ok = (c.g.value - want).abs() <= 2.0 * c.g.stderr;
            within += ok as usize;
            if !ok && verbose {
                println!(
                    "  miss {} {}: |g| = {} truth {want:.4} (z = {:.1}), reduced chi-square {:.2}, {} fields",
                    truth.series,
                    c.carrier,
                    c.g,
                    (c.g.value - want) / c.g.stderr,
                    c.redchi_omega,
                    c.used.len()
                );
            }
        }
    }
    let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
    println!(
        "lab day: {samples} samples, {} files, session {secs:.1} s",
        day.n_files
    );
    println!(
        "  series found: {found} of {} (target all); series in the result: {} (target {})",
        day.series.len(),
        r.series.len(),
        day.series.len()
    );
    println!(
        "  carriers with |g| within 2 sigma: {within} of {carriers} = {:.1} % (target >= 95 %; {} carriers expected)",
        pct(within, carriers),
        2 * day.series.len()
    );
    println!("  rows: {rows} of {} scans (target all, once)", day.n_files);
    for st in ["ok", "small", "inadequate", "untrustworthy"] {
        let n = r
            .records()
            .iter()
            .filter(|x| x.status().as_str() == st)
            .count();
        println!("  status {st}: {n}");
    }
    // the residual tests' false alarms on traces drawn from the model: any
    // of the three tests at alpha each (Bonferroni bound 3 alpha), TR and
    // the TRFE fields where the two carriers are resolved (>= 150 mT)
    for (what, pick) in [
        (
            "TR",
            &(|f: &str| f.contains("_tr_")) as &dyn Fn(&str) -> bool,
        ),
        ("TRFE >= 150 mT", &|f: &str| {
            f.contains("_trfe_") && !f.contains("_90mT")
        }),
    ] {
        let recs: Vec<_> = r.records().into_iter().filter(|x| pick(&x.file)).collect();
        let failed = recs
            .iter()
            .filter(|x| x.adequacy.tests.iter().any(|t| !t.passed))
            .count();
        let alpha = recs.first().map_or(1e-3, |x| x.adequacy.alpha);
        println!(
            "  residual tests failed on {failed} of {} {what} traces = {:.2} % (stated level: at most {:.2} %, 3 tests at alpha {alpha})",
            recs.len(),
            pct(failed, recs.len()),
            300.0 * alpha
        );
    }
    if verbose {
        for x in r.records().iter().filter(|x| x.status().as_str() != "ok") {
            println!("  {} {}: {}", x.status().as_str(), x.file, x.problems());
        }
    }
    println!("  failed (no fit): {}", r.failures.len());
    for (f, why) in r.failures.iter().take(5) {
        println!("    {f}: {why}");
    }
}
