//! A simulated lab day, drawn as the issue "Real TRKR/TRFE scans give a
//! result a physicist can publish" describes it: per sample two TR scans, a
//! six-field TRFE series (90, 150, 180, 270, 360, 420 mT) and one TRFE scan
//! of a second sample; every TRFE file names its series in `# series =`.
//!
//! Per sample: electron |g| uniform in 1.36-1.46 and hole |g| in 0.86-0.96
//! (two carriers, amplitudes 1 and 0.6, T2* 200 and 350 ps homogeneous, a
//! Lorentzian g spread 0.005 each so that 1/T2*(B) grows as eq. 3 says),
//! phases in -0.3..0.3 rad; delays 0-2000 ps every 2 ps, SNR 40. TR: one
//! lifetime 0.5-15 ps with the population step, IRF 0.2 ps.

use super::{Grid, TrTruth, TrfeTruth, simulate_tr, simulate_trfe};
use crate::error::Result;
use rand::{Rng, SeedableRng, rngs::StdRng};
use std::path::{Path, PathBuf};

/// The fields of each series, mT.
pub const DAY_FIELDS_MT: [f64; 6] = [90.0, 150.0, 180.0, 270.0, 360.0, 420.0];

/// One field series of the day and its truth.
#[derive(Debug, Clone)]
pub struct DaySeries {
    pub series: String,
    /// (electron |g|, hole |g|).
    pub g: (f64, f64),
    pub files: Vec<PathBuf>,
}

/// What a day wrote: its series and the count of files.
#[derive(Debug, Clone, Default)]
pub struct Day {
    pub series: Vec<DaySeries>,
    pub n_files: usize,
}

fn trfe(b_mt: f64, g: (f64, f64), rng: &mut StdRng) -> TrfeTruth {
    TrfeTruth {
        field_t: b_mt * 1e-3,
        carriers: vec![(g.0, 200.0, 1.0), (g.1, 350.0, 0.6)],
        phases: vec![rng.random_range(-0.3..0.3), rng.random_range(-0.3..0.3)],
        g_lorentz: vec![0.005, 0.005],
        ..Default::default()
    }
}

fn tr(rng: &mut StdRng) -> TrTruth {
    let tau = rng.random_range(0.5..15.0);
    TrTruth {
        taus: vec![tau],
        amplitudes: vec![1.0],
        irf_fwhm: 0.2,
        step: 0.02,
        population_tau: 10.0 * tau,
        population_amplitude: 2.0,
        ..Default::default()
    }
}

/// Write the day of `samples` samples into `dir` (9 files each), drawn
/// from `seed`.
pub fn lab_day(dir: &Path, samples: usize, seed: u64) -> Result<Day> {
    std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::io(dir, e))?;
    let mut rng = StdRng::seed_from_u64(0x1ab_da7 ^ seed);
    let grid = Grid::uniform(0.0, 2000.0, 1001);
    let mut day = Day::default();
    let draw = |rng: &mut StdRng| -> u64 { rng.random() };
    for k in 0..samples {
        let name = format!("S{k:03}");
        for j in 0..2 {
            let t = tr(&mut rng);
            let g = Grid::for_tr(&t.taus, t.t0, t.irf_fwhm, None, None, 250, 1);
            let path = dir.join(format!("{name}_tr_{j}.csv"));
            simulate_tr(&t, &g, 40.0, draw(&mut rng))?
                .with_meta("sample", &name)
                .write_csv(&path)?;
            day.n_files += 1;
        }
        let g = (rng.random_range(1.36..1.46), rng.random_range(0.86..0.96));
        let mut files = vec![];
        for b in DAY_FIELDS_MT {
            let path = dir.join(format!("{name}_trfe_{b}mT.csv"));
            simulate_trfe(&trfe(b, g, &mut rng), &grid, 40.0, draw(&mut rng))?
                .with_meta("series", &name)
                .with_meta("photon_energy", "1.911 eV")
                .write_csv(&path)?;
            files.push(path);
        }
        day.n_files += files.len();
        day.series.push(DaySeries {
            series: name.clone(),
            g,
            files,
        });
        // one scan of a second sample, at one field: a single fit
        let other = (rng.random_range(1.36..1.46), rng.random_range(0.86..0.96));
        let path = dir.join(format!("{name}b_trfe_270mT.csv"));
        simulate_trfe(&trfe(270.0, other, &mut rng), &grid, 40.0, draw(&mut rng))?
            .with_meta("series", &format!("{name}b"))
            .with_meta("photon_energy", "1.911 eV")
            .write_csv(&path)?;
        day.n_files += 1;
    }
    Ok(day)
}
