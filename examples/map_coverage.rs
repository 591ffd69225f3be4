//! 1-sigma coverage of the global map fit over many independent simulated
//! maps (the full count behind tests/suite/global.rs's 60):
//! `cargo run --release --example map_coverage -- 200`.
//!
//! Each draw: 10 wavelengths x ~150 delays, two exponentials (0.7 and 7 ps)
//! under a 0.12 ps IRF, a linear chirp of 0.2 ps per 100 nm, an offset,
//! SNR 30. Printed per quantity: the fraction of draws whose stated 1-sigma
//! interval holds the truth (target 68 +/- 5 %) and the z-scores' mean and
//! spread.

use spinfit::fit::map::{MapData, MapSettings, fit};
use spinfit::simulate::map::{Band, MapTruth, simulate_map, stage_delays};

fn main() {
    let draws: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(200);
    let truth = MapTruth {
        bands: vec![
            Band {
                tau_ps: 0.7,
                centre_nm: 500.0,
                width_nm: 45.0,
                height: 1.0,
            },
            Band {
                tau_ps: 7.0,
                centre_nm: 560.0,
                width_nm: 45.0,
                height: -0.7,
            },
        ],
        t0_ps: 0.3,
        lambda_ref_nm: 550.0,
        chirp_ps: vec![0.2],
        irf_fwhm_ps: 0.12,
        artefact: 0.0,
        offset: 0.02,
    };
    let t = stage_delays(-1.0, 40.0, 0.08);
    let wl: Vec<f64> = (0..10).map(|i| 450.0 + 200.0 * i as f64 / 9.0).collect();
    let s = MapSettings {
        components: Some(2),
        chirp_order: 1,
        ..MapSettings::default()
    };
    let names = ["tau_1", "tau_2", "t0", "chirp_1", "irf_fwhm"];
    let want = [0.7, 7.0, 0.3, 0.2, 0.12];
    let mut z: Vec<Vec<f64>> = vec![vec![]; names.len()];
    for seed in 0..draws {
        let sim = simulate_map(&truth, &wl, &t, 30.0, 10_000 + seed);
        let data = MapData {
            source: "simulated",
            wavelength_nm: &sim.wavelength_nm,
            delay_ps: &sim.delay_ps,
            data: &sim.data,
        };
        let Ok(f) = fit(&data, &s) else { continue };
        let got = [f.lifetimes[0], f.lifetimes[1], f.t0, f.chirp[0], f.irf_fwhm];
        for (k, q) in got.iter().enumerate() {
            z[k].push((q.value - want[k]) / q.stderr);
        }
    }
    println!(
        "{draws} simulated maps (10 x {} points), 1-sigma coverage, target 68 +/- 5 %:",
        t.len()
    );
    for (k, zs) in z.iter().enumerate() {
        let n = zs.len() as f64;
        let inside = zs.iter().filter(|v| v.abs() <= 1.0).count() as f64 / n;
        let mean = zs.iter().sum::<f64>() / n;
        let sd = (zs.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        println!(
            "  {:<9} {:5.1} %  (z mean {mean:+.2}, sd {sd:.2}, {} fits)",
            names[k],
            100.0 * inside,
            zs.len()
        );
    }
}
