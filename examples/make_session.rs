//! Write a synthetic session of N scans for benchmarks: half TR lifetimes,
//! half TRFE field series of 5 fields per sample. All files are labelled
//! synthetic. Usage: cargo run --release --example make_session -- DIR N
use spinfit::simulate::{Grid, TrTruth, TrfeTruth, simulate_tr, simulate_trfe};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (dir, n): (std::path::PathBuf, usize) =
        (args[1].clone().into(), args[2].parse().expect("N"));
    std::fs::create_dir_all(&dir).unwrap();
    let fields = [180.0, 240.0, 300.0, 360.0, 420.0];
    for i in 0..n {
        if i % 2 == 0 {
            let tau = 0.5 + (i % 37) as f64 * 0.4;
            let truth = TrTruth {
                taus: vec![tau],
                amplitudes: vec![1.0],
                t0: 0.0,
                irf_fwhm: 0.2,
                step: 0.02,
                offset: 0.0,
                population_tau: 10.0 * tau,
                population_amplitude: 2.0,
                ..Default::default()
            };
            let g = Grid {
                start: -2.0,
                fine_end: 2.0 + tau,
                end: 8.0 * tau,
                n_fine: 150,
                n_coarse: 100,
                jitter: 0.2,
                sweeps: 1,
            };
            simulate_tr(&truth, &g, 40.0, i as u64)
                .unwrap()
                .write_csv(&dir.join(format!("tr_{i:05}.csv")))
                .unwrap();
        } else {
            let k = i / 2;
            let (sample, b) = (k / fields.len(), fields[k % fields.len()]);
            let truth = TrfeTruth {
                field_t: b * 1e-3,
                carriers: vec![(1.41, 150.0, 1.0), (0.91, 260.0, 0.6)],
                offset: 0.0,
                ..Default::default()
            };
            simulate_trfe(&truth, &Grid::uniform(-50.0, 1500.0, 400), 25.0, i as u64)
                .unwrap()
                .with_meta("sample", &format!("S{sample}"))
                .with_meta("photon_energy", "1.911 eV")
                .write_csv(&dir.join(format!("trfe_S{sample}_{b}mT.csv")))
                .unwrap();
        }
    }
}
