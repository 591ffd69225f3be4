//! Descriptors from molecules (RDKit + PySCF through scripts/chem/cation.py,
//! in the environment scripts/chem-env creates) against the paper's sheet
//! (fixtures/srr/, Chem. Sci. 2025, MIT licence), the cache, and
//! screening candidates given as SMILES. The sheet's own single-cation rows
//! give each cation's reference values.
//!
//! The small cations (MA, FA, EOA: 2-7 s each) are computed live in every
//! run. The two large ones (BA 40 s, PEA 130 s of Hartree-Fock on 2 cores)
//! come from entries this helper computed with these settings, committed in
//! fixtures/chem-cache/: an entry is used only while its key (request and
//! helper text) and hashes match, so a change to scripts/chem/cation.py
//! makes them misses (the test below says so) and they are computed again.
//! `cargo test -- --ignored` recomputes them live and checks the committed
//! entries reproduce.

use crate::common::*;

use spinfit::dataset;
use spinfit::descriptors::helper::{Helper, Request, Rule};
use std::path::{Path, PathBuf};

/// (sheet row, SMILES, conformer rule). Rigid cations have one conformer;
/// EOA matches its lowest-energy MMFF conformer and PEA its extended one; BA's
/// lowest (all-anti) conformer meets the bars, while the sheet's radius is
/// that of a gauche one (physics.md section 5: flexible cations depend on it).
const CATIONS: [(&str, &str, &str); 5] = [
    ("MAPbI3", "C[NH3+]", "lowest"),
    ("FAPbI3", "NC=[NH2+]", "lowest"),
    ("(EOA)2PbI4", "OCC[NH3+]", "lowest"),
    ("(BA)2PbI4", "CCCC[NH3+]", "lowest"),
    ("PEA2PbI4", "[NH3+]CCc1ccccc1", "extended"),
];

/// Hartree-Fock answers of the large cations, committed (see the module doc).
fn committed_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/chem-cache")
}

/// A helper that only reads the committed entries (it has no Python).
fn committed() -> Helper {
    Helper {
        python: "/nonexistent/python".into(),
        cache: committed_cache(),
    }
}

/// The large cations and their rule, as `describe` requests them.
const LARGE: [(&str, Rule); 2] = [
    ("CCCC[NH3+]", Rule::Lowest),
    ("[NH3+]CCc1ccccc1", Rule::Extended),
];

/// Copy the committed entries into a test's cache folder.
fn seed_cache(cache: &Path) {
    std::fs::create_dir_all(cache).unwrap();
    for e in std::fs::read_dir(committed_cache()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "json") {
            std::fs::copy(&p, cache.join(p.file_name().unwrap())).unwrap();
        }
    }
}

#[test]
fn the_committed_large_cation_entries_answer_this_helper() {
    let h = committed();
    for (smiles, rule) in LARGE {
        assert!(
            h.cached(&Request::new(smiles, rule)).is_some(),
            "fixtures/chem-cache has no valid entry for {smiles} ({rule:?}) with this helper: \
             scripts/chem/cation.py or the request changed; refresh the entries as \
             fixtures/chem-cache/README.md says"
        );
    }
}

fn describe(
    dir: &Path,
    rule: &str,
    rows: &[(&str, &str)],
    python: Option<&str>,
) -> serde_json::Value {
    let csv = dir.join(format!("{rule}.csv"));
    let mut text = String::from("name,cations,metal,halide,layers\n");
    for (name, smiles) in rows {
        text += &format!("{name},{smiles}:2,Pb,I,1\n");
    }
    std::fs::write(&csv, text).unwrap();
    let mut cmd = spinfit();
    cmd.args([
        "descriptors",
        "--json",
        "--spread",
        "3",
        "--rule",
        rule,
        "--candidates",
    ])
    .arg(&csv)
    .arg("--cache")
    .arg(dir.join("cache"));
    if let Some(p) = python {
        cmd.args(["--python", p]);
    }
    let out = cmd.output().unwrap();
    assert_ok(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn molecules_give_the_sheets_descriptors_are_cached_and_screen() {
    let dir = tempfile::tempdir().unwrap();
    seed_cache(&dir.path().join("cache"));
    let (d, _) = dataset::import(&sheet(), "").unwrap();
    let mut runs = vec![];
    for rule in ["lowest", "extended"] {
        let rows: Vec<(&str, &str)> = CATIONS
            .iter()
            .filter(|c| c.2 == rule)
            .map(|c| (c.0, c.1))
            .collect();
        let j = describe(dir.path(), rule, &rows, None);
        assert!(
            j["failed"].as_array().unwrap().is_empty(),
            "{}",
            j["failed"]
        );
        for r in j["rows"].as_array().unwrap() {
            let name = r["name"].as_str().unwrap();
            let sheet = &d
                .records
                .iter()
                .find(|x| x.compound == name)
                .unwrap()
                .descriptors;
            // values are named by descriptor column, in the dataset's order
            let names: Vec<&str> = spinfit::dataset::DESCRIPTORS.iter().map(|d| d.0).collect();
            let ours: Vec<f64> = names
                .iter()
                .map(|n| r["values"][*n].as_f64().unwrap())
                .collect();
            // the bars: HOMO 0.2 eV, dipole 0.7 D, polarisability 10 %
            let (homo, dip, alpha) = (
                ours[6] - sheet[6],
                ours[0] - sheet[0],
                ours[3] / sheet[3] - 1.0,
            );
            println!(
                "{name}: dHOMO {homo:+.3} eV, dmu {dip:+.3} D, dalpha {:+.1} %",
                100.0 * alpha
            );
            assert!(homo.abs() < 0.2, "{name}: HOMO {} vs {}", ours[6], sheet[6]);
            assert!(
                dip.abs() < 0.7,
                "{name}: dipole {} vs {}",
                ours[0],
                sheet[0]
            );
            assert!(
                alpha.abs() < 0.10,
                "{name}: alpha {} vs {}",
                ours[3],
                sheet[3]
            );
            // composition rules: MW to the sheet's older atomic weights, chi exact
            assert!((ours[1] / sheet[1] - 1.0).abs() < 1e-4, "{name}: MW");
            assert!(
                (ours[2] - sheet[2]).abs() < 0.005 || name == "FAPbI3",
                "{name}: chi"
            );
            // the spread over low-energy conformers brackets the chosen value
            let range = |k: usize| {
                let s = &r["spread"][names[k]];
                (s[0].as_f64().unwrap(), s[1].as_f64().unwrap())
            };
            for k in [0, 4, 6] {
                let (lo, hi) = range(k);
                assert!(lo <= ours[k] + 1e-9 && ours[k] <= hi + 1e-9, "{name}: {k}");
            }
            // organic radius: half the longest interatomic distance. BA's
            // sheet value is that of a gauche conformer (physics.md), not the
            // all-anti lowest one: it lies inside BA's conformer spread
            if name == "(BA)2PbI4" {
                for k in [0, 4] {
                    let (lo, hi) = range(k);
                    assert!(
                        lo <= sheet[k] && sheet[k] <= hi,
                        "BA {k}: {} not in [{lo}, {hi}]",
                        sheet[k]
                    );
                }
            } else {
                assert!(
                    (ours[4] - sheet[4]).abs() < 0.05,
                    "{name}: radius {} vs {}",
                    ours[4],
                    sheet[4]
                );
            }
        }
        runs.push((rule, rows, j));
    }
    // a second run is read from the cache: no Python is needed at all
    for (rule, rows, first) in &runs {
        let again = describe(dir.path(), rule, rows, Some("/nonexistent/python"));
        assert_eq!(again["rows"], first["rows"]);
    }

    // screening from SMILES: a model trained on the sheet ranks candidates,
    // the paper's (EOA)2(FA)3Pb4I13 among them; its cations are cached
    let ds = imported(dir.path());
    let model = dir.path().join("rf.json");
    let features = "dipole_moment_D,mw_g_per_mol,electronegativity,polarisability_bohr3,tolerance_factor,e_homo_eV,e_lumo_eV,n_layers";
    let out = spinfit()
        .args(["ml", "train"])
        .arg(&ds)
        .args([
            "--model",
            "rf:n_trees=60",
            "--log-target",
            "--features",
            features,
            "--out",
        ])
        .arg(&model)
        .output()
        .unwrap();
    assert_ok(&out);
    let cands = dir.path().join("screen.csv");
    std::fs::write(
        &cands,
        "name,cations,metal,halide,layers\n\
         (EOA)2(FA)3Pb4I13,OCC[NH3+]:2;NC=[NH2+]:3,Pb,I,4\n\
         (BA)2(MA)2Pb3I10,CCCC[NH3+]:2;C[NH3+]:2,Pb,I,3\n\
         MAPbBr3,C[NH3+]:1,Pb,Br,3d\n\
         CsPbI3,[Cs+]:1,Pb,I,3d\n",
    )
    .unwrap();
    let plot = dir.path().join("ranked.png");
    let out = spinfit()
        .args(["ml", "screen"])
        .arg(&model)
        .arg("--candidates")
        .arg(&cands)
        .arg("--cache")
        .arg(dir.path().join("cache"))
        .args([
            "--python",
            "/nonexistent/python",
            "--json",
            "--members",
            "8",
            "--plot",
        ])
        .arg(&plot)
        .output()
        .unwrap();
    assert_ok(&out);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let c = j["candidates"].as_array().unwrap();
    assert_eq!(c.len(), 4);
    let rates: Vec<f64> = c
        .iter()
        .map(|x| x["rate"]["value"].as_f64().unwrap())
        .collect();
    assert!(rates.windows(2).all(|w| w[0] <= w[1]), "ranked: {rates:?}");
    assert!(rates.iter().all(|r| *r > 0.0));
    assert!(c.iter().any(|x| x["id"] == "(EOA)2(FA)3Pb4I13"));
    assert!(
        c.iter()
            .all(|x| x["rate"]["stderr"].as_f64().unwrap() > 0.0)
    );
    assert_eq!(&std::fs::read(&plot).unwrap()[..4], b"\x89PNG");
}

/// The large cations computed live (about 3 min on 2 cores): the committed
/// entries are what this helper computes now.
#[test]
#[ignore = "Hartree-Fock on BA and PEA, about 3 min: cargo test -- --ignored"]
fn the_large_cations_computed_live_reproduce_the_committed_entries() {
    let dir = tempfile::tempdir().unwrap();
    let live = Helper {
        python: Helper::default_python(),
        cache: dir.path().join("cache"),
    };
    let stored = committed();
    let reqs: Vec<Request> = LARGE.iter().map(|(s, r)| Request::new(s, *r)).collect();
    for (r, got) in reqs.iter().zip(live.compute(&reqs, &|| {})) {
        let got = got.unwrap();
        let want = stored.cached(r).expect("a committed entry");
        let (a, b) = (got.descriptors(), want.descriptors());
        for (x, y, what) in [
            (a.hf.homo_ev, b.hf.homo_ev, "HOMO"),
            (a.hf.dipole_d, b.hf.dipole_d, "dipole"),
            (
                a.hf.polarisability_bohr3,
                b.hf.polarisability_bohr3,
                "alpha",
            ),
            (a.radius_a, b.radius_a, "radius"),
        ] {
            assert!(
                (x - y).abs() <= 1e-6 * y.abs().max(1.0),
                "{}: {what} {x} vs {y}",
                r.smiles
            );
        }
    }
}

#[test]
fn bad_molecules_and_a_missing_environment_get_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("bad.csv");
    // a neutral amine (not a cation) and an unreadable SMILES
    std::fs::write(
        &csv,
        "name,cations,metal,halide,layers\nneutral,CCN:2,Pb,I,1\nbroken,C[NH3:2,Pb,I,1\n",
    )
    .unwrap();
    let out = spinfit()
        .args(["descriptors", "--candidates"])
        .arg(&csv)
        .arg("--cache")
        .arg(dir.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("neutral") && err.contains("formal charge 0"),
        "{err}"
    );
    assert!(
        err.contains("broken") && err.contains("cannot read the SMILES"),
        "{err}"
    );
    let out = spinfit()
        .args([
            "descriptors",
            "--cation",
            "C[NH3+]:1",
            "--layers",
            "3d",
            "--python",
            "/nonexistent/python",
            "--cache",
        ])
        .arg(dir.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("/nonexistent/python") && err.contains("scripts/chem-env"),
        "{err}"
    );
}
