//! The ensemble trial ([`spinfit::simulate::ensemble_case`]): N simulated
//! single-carrier traces with g-spread envelopes fitted with the defaults
//! (`fit trfe --field 200mT --from 50ps`), scored against their truth and
//! printed beside the targets of the issue "An ensemble is one carrier".
//! Run: cargo run --release --example ensemble -- [N] [--repetition]
//! (default 200 draws; `--repetition` fits with the laser period 13.2 ns
//! given, as `fit trfe --repetition 13.2ns`, over the whole scan)

use spinfit::fit::Envelope;
use spinfit::fit::trfe::{self, TrfeConfig};
use spinfit::preprocess;
use spinfit::scan::{ReadOptions, Scan, ScanKind, delimited};
use spinfit::simulate::{EnsembleScore, ensemble_case, simulate_trfe};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let with_rep = args.iter().any(|a| a == "--repetition");
    let n: u64 = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .map_or(200, |s| s.parse().expect("N: a number of draws"));
    let t0 = std::time::Instant::now();
    let scores: Vec<EnsembleScore> = (0..n)
        .map(|seed| {
            let case = ensemble_case(seed);
            let sim = simulate_trfe(&case.truth, &case.grid, case.snr, seed).unwrap();
            let table = delimited::parse(&sim.to_csv(), "ensemble.csv").unwrap();
            let mut scan =
                Scan::from_table(&table, ScanKind::Trfe, &ReadOptions::default()).unwrap();
            preprocess::sort_and_merge(&mut scan);
            let mut cfg = TrfeConfig {
                field_t: Some(case.truth.field_t),
                ..Default::default()
            };
            match case.truth.repetition_ps.filter(|_| with_rep) {
                Some(t) => {
                    cfg.freedom.repetition = Some(spinfit::fit::rsa::Period::from_ps(t).unwrap())
                }
                None => preprocess::window(&mut scan, Some(case.from_ps), None, 12).unwrap(),
            }
            let out = trfe::run(&cfg, &scan).unwrap();
            let s = case.score(&out);
            if s.carriers != 1 || s.g_z.abs() > 3.0 {
                eprintln!(
                    "seed {seed}: {s:?}\n  truth {:?}, snr {:.0}",
                    case.truth, case.snr
                );
            }
            s
        })
        .collect();
    let secs = t0.elapsed().as_secs_f64();
    let frac = |k: usize, of: usize| 100.0 * k as f64 / of.max(1) as f64;
    let nn = scores.len();
    let ghosts = scores.iter().filter(|s| s.carriers > 1).count();
    let g2 = scores.iter().filter(|s| s.g_z.abs() <= 2.0).count();
    let g1 = scores.iter().filter(|s| s.g_z.abs() <= 1.0).count();
    let voigt: Vec<&EnsembleScore> = scores
        .iter()
        .filter(|s| s.envelope == Envelope::Voigt)
        .collect();
    let both = voigt
        .iter()
        .filter(|s| {
            s.t2_z.is_some_and(|z| z.abs() <= 2.0) && s.sigma_z.is_some_and(|z| z.abs() <= 2.0)
        })
        .count();
    let t2_1 = voigt
        .iter()
        .filter(|s| s.t2_z.is_some_and(|z| z.abs() <= 1.0))
        .count();
    let sw_1 = voigt
        .iter()
        .filter(|s| s.sigma_z.is_some_and(|z| z.abs() <= 1.0))
        .count();
    let flagged = scores.iter().filter(|s| !s.success).count();
    let inadequate = scores.iter().filter(|s| !s.adequate).count();
    let by = |e: Envelope| scores.iter().filter(|s| s.envelope == e).count();
    println!("ensemble trial: {nn} single-carrier traces with g-spread envelopes ({secs:.1} s)");
    println!(
        "  chosen envelope: exponential {}, gaussian {}, voigt {}",
        by(Envelope::Exponential),
        by(Envelope::Gaussian),
        by(Envelope::Voigt)
    );
    println!(
        "  ghost second carrier     {:5.1} %   (target <= 1 %)",
        frac(ghosts, nn)
    );
    println!(
        "  |g| within 2 sigma       {:5.1} %   (target >= 93 %)",
        frac(g2, nn)
    );
    println!(
        "  |g| within 1 sigma       {:5.1} %   (target 68 +/- 5 %)",
        frac(g1, nn)
    );
    println!(
        "  T2 and sigma_w within 2 sigma {:5.1} % of the {} Voigt fits (target >= 90 %)",
        frac(both, voigt.len()),
        voigt.len()
    );
    println!(
        "  T2 within 1 sigma {:5.1} %, sigma_w within 1 sigma {:5.1} % of the Voigt fits",
        frac(t2_1, voigt.len()),
        frac(sw_1, voigt.len())
    );
    println!(
        "  flagged untrustworthy {} ({} by the residual tests)",
        flagged, inadequate
    );
}
