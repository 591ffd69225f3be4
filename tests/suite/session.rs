//! `spinfit session` on synthetic folders and HDF5 files: grouping, bad
//! inputs listed with reasons, exit codes, and identical results on re-runs.

use crate::common::{self, *};

use spinfit::scan::Metadata;
use spinfit::scan::h5::{ScanRecord, write};
use spinfit::simulate::{Grid, TrTruth, TrfeTruth, simulate_tr, simulate_trfe};
use std::path::{Path, PathBuf};

/// The tests of this file run one at a time: HDF5 opens files without
/// O_CLOEXEC, so a `spinfit` child forked by one test thread while another
/// writes an HDF5 file inherits that file's descriptor and its lock, and the
/// next process cannot open the file.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn trfe(field_mt: f64, seed: u64) -> spinfit::simulate::Simulated {
    let truth = TrfeTruth {
        field_t: field_mt * 1e-3,
        carriers: vec![(1.41, 120.0, 1.0), (0.91, 260.0, 0.6)],
        offset: 0.0,
        ..Default::default()
    };
    simulate_trfe(&truth, &Grid::uniform(-50.0, 1500.0, 400), 30.0, seed)
        .unwrap()
        .with_meta("sample", "S1")
        .with_meta("photon_energy", "1.911 eV")
}

fn tr() -> spinfit::simulate::Simulated {
    let truth = TrTruth {
        taus: vec![7.76],
        amplitudes: vec![1.0],
        t0: 0.0,
        irf_fwhm: 0.3,
        step: 0.02,
        offset: 0.0,
        population_tau: 50.0,
        population_amplitude: 2.0,
        ..Default::default()
    };
    let g = Grid {
        start: -3.0,
        fine_end: 6.0,
        end: 60.0,
        n_fine: 150,
        n_coarse: 100,
        jitter: 0.2,
        sweeps: 1,
    };
    simulate_tr(&truth, &g, 40.0, 5).unwrap()
}

fn session_folder(dir: &Path) {
    for (b, seed) in [(270.0, 1), (350.0, 2), (420.0, 3)] {
        trfe(b, seed)
            .write_csv(&dir.join(format!("trfe_{b}mT.csv")))
            .unwrap();
    }
    tr().write_csv(&dir.join("tr_a.csv")).unwrap();
}

#[test]
fn bad_inputs_are_listed_with_reasons_and_the_rest_is_fitted() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    session_folder(&data);
    // a corrupt file, a TRFE trace with no field anywhere, a trace of pure noise
    std::fs::write(data.join("corrupt.csv"), "delay_ps,SC,CC\n0,1,2\n1,2\n").unwrap();
    let nofield = trfe(420.0, 9).to_csv().replace("# field = 420 mT\n", "");
    std::fs::write(data.join("trfe_unknown.csv"), nofield).unwrap();
    let mut noise =
        String::from("# kind = trfe\n# field = 300 mT\n# sample = S2\ndelay_ps,signal\n");
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in 0..300 {
        // deterministic pseudo-random noise (xorshift64), no precession at all
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let v = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
        noise.push_str(&format!("{},{v}\n", i as f64 * 5.0));
    }
    std::fs::write(data.join("noise.csv"), noise).unwrap();
    let out = dir.path().join("out");
    let o = spinfit()
        .arg("session")
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(1),
        "something failed, so the exit code says so"
    );
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for (file, why) in [
        ("corrupt.csv", "line 3: expected 3 columns"),
        ("trfe_unknown.csv", "no magnetic field"),
        ("noise.csv", "not significant"),
    ] {
        // one row each in the table of every scan, the reason beside it
        let stem = file.trim_end_matches(".csv");
        let line = summary
            .lines()
            .find(|l| l.contains(stem) && l.starts_with("| "))
            .unwrap_or_else(|| panic!("{file} not listed:\n{summary}"));
        assert!(line.contains(why), "{file}: `{line}` lacks `{why}`");
    }
    // every input is one row of results.csv, with its status; the rows
    // without a fit are `failed`, the untrusted fit is a row with its reason
    let mut rd = csv::Reader::from_path(out.join("results.csv")).unwrap();
    let head = rd.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let (file_c, status_c, why_c) = (col("file"), col("status"), col("problems"));
    let rows: Vec<csv::StringRecord> = rd.records().map(|r| r.unwrap()).collect();
    let n_files = std::fs::read_dir(&data).unwrap().count();
    assert_eq!(rows.len(), n_files, "one row per input file");
    let status = |f: &str| {
        let r = rows.iter().find(|r| r[file_c].contains(f)).unwrap();
        (r[status_c].to_string(), r[why_c].to_string())
    };
    assert_eq!(status("corrupt.csv").0, "failed");
    let (st, why) = status("noise.csv");
    assert!(
        st == "untrustworthy" && why.contains("not significant"),
        "{st}: {why}"
    );
    assert_eq!(status("tr_a.csv").0, "ok");
    // the good scans: one field series of three traces, one lifetime
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("gfactor_01.json")).unwrap())
            .unwrap();
    assert_eq!(g["traces"].as_array().unwrap().len(), 3);
    let ge = &g["carriers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["carrier"] == "electron")
        .unwrap()["g"];
    assert!((ge["value"].as_f64().unwrap() - 1.41).abs() < 3.0 * ge["stderr"].as_f64().unwrap());
    let tr_row = summary.lines().find(|l| l.starts_with("| tr_a |")).unwrap();
    assert!(
        tr_row.contains("tau = ") && tr_row.contains("| ok |"),
        "{tr_row}"
    );
}

#[test]
fn reruns_give_identical_results() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    session_folder(&data);
    let mut outputs = vec![];
    for k in 0..2 {
        let out = dir.path().join(format!("out{k}"));
        spinfit()
            .arg("session")
            .arg(&data)
            .arg("--out")
            .arg(&out)
            .assert()
            .success();
        outputs.push(
            [
                "results.json",
                "results.csv",
                "summary.md",
                "gfactor_01.json",
            ]
            .map(|f| std::fs::read(out.join(f)).unwrap()),
        );
    }
    assert!(
        outputs[0] == outputs[1],
        "results differ between two runs on the same input"
    );
}

#[test]
fn an_hdf5_file_of_scans_is_a_session() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let sims: Vec<(String, spinfit::simulate::Simulated)> = vec![
        ("trfe_270".into(), trfe(270.0, 1)),
        ("trfe_350".into(), trfe(350.0, 2)),
        ("trfe_420".into(), trfe(420.0, 3)),
        ("tr".into(), tr()),
    ];
    let metas: Vec<Metadata> = sims.iter().map(|(_, s)| s.meta.clone()).collect();
    let records: Vec<ScanRecord> = sims
        .iter()
        .zip(&metas)
        .map(|((n, s), m)| ScanRecord {
            name: n,
            delay_ps: &s.columns[0],
            channels: s.names[1..]
                .iter()
                .zip(&s.columns[1..])
                .map(|(c, v)| (c.as_str(), v.as_slice(), "arb"))
                .collect(),
            meta: m,
        })
        .collect();
    let h5 = dir.path().join("day.h5");
    write(&h5, &records).unwrap();
    let out = dir.path().join("out");
    let o = spinfit()
        .arg("session")
        .arg(&h5)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert_ok(&o);
    let g: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("gfactor_01.json")).unwrap())
            .unwrap();
    assert_eq!(g["traces"].as_array().unwrap().len(), 3);
    let results = hdf5::File::open(out.join("results.h5")).unwrap();
    // format 3: one row per fit in each column of `fits`, the curves and
    // parameters as ragged tables indexed by offsets
    let strings = |name: &str| -> Vec<String> {
        let d = results.dataset(name).unwrap();
        d.read_raw::<hdf5::types::VarLenUnicode>()
            .unwrap()
            .iter()
            .map(|s| s.as_str().to_string())
            .collect()
    };
    let offsets = |name: &str| results.dataset(name).unwrap().read_raw::<u64>().unwrap();
    let sources = strings("fits/source");
    assert_eq!(sources.len(), 4);
    let tr = sources.iter().position(|n| n.contains("tr")).unwrap();
    assert_eq!(
        strings("fits/sha256")[tr].len(),
        64,
        "input file hash kept for provenance"
    );
    let record: serde_json::Value = serde_json::from_str(&strings("fits/record_json")[tr]).unwrap();
    assert_eq!(record["file"].as_str(), Some(sources[tr].as_str()));
    let poff = offsets("fits/parameter_offset");
    let names = strings("fits/parameter_name");
    let (lo, hi) = (poff[tr] as usize, poff[tr + 1] as usize);
    let row = lo + names[lo..hi].iter().position(|n| n == "tau").unwrap();
    assert_eq!(strings("fits/parameter_unit")[row], "ps");
    let table = results
        .dataset("fits/parameters")
        .unwrap()
        .read_2d::<f64>()
        .unwrap();
    let tau = [table[[row, 0]], table[[row, 1]]];
    assert!((tau[0] - 7.76).abs() < 3.0 * tau[1], "tau {tau:?}");
    let curves = results.dataset("fits/curves").unwrap();
    let cols = curves
        .attr("columns")
        .unwrap()
        .read_raw::<hdf5::types::VarLenUnicode>()
        .unwrap();
    assert_eq!(cols[0].as_str(), "delay_ps");
    assert_eq!(cols[3].as_str(), "residual");
    let c = curves.read_2d::<f64>().unwrap();
    assert_eq!(c.ncols(), 4);
    let coff = offsets("fits/curve_offset");
    assert_eq!(coff[4] as usize, c.nrows(), "the offsets cover the table");
    let (lo, hi) = (coff[tr] as usize, coff[tr + 1] as usize);
    assert_eq!(
        hi - lo,
        record["statistics"]["ndata"].as_u64().unwrap() as usize
    );
    // residual = best fit - data, row by row
    for r in c.rows() {
        assert!((r[3] - (r[2] - r[1])).abs() <= 1e-12 * r[1].abs().max(1.0));
    }
}

#[test]
fn gfactor_and_gspectrum_commands() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let ex = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/data");
    let mut jsons = vec![];
    for (s, e) in [("4", "1.911"), ("2", "1.78")] {
        let files: Vec<_> = ["270", "350", "420"]
            .iter()
            .map(|b| ex.join(format!("trfe_CsPbI3_{s}_{e}eV_{b}mT.csv")))
            .collect();
        let o = spinfit()
            .args(["gfactor", "--global", "--json"])
            .args(&files)
            .output()
            .unwrap();
        assert_ok(&o);
        let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(j["schema"], "spinfit.gfactor/1");
        assert_eq!(j["global"]["success"], true);
        assert!(j["convention"].as_str().unwrap().contains("Lorentzian"));
        let p = dir.path().join(format!("g{s}.json"));
        std::fs::write(&p, &o.stdout).unwrap();
        jsons.push(p);
    }
    let o = spinfit()
        .args(["gspectrum", "--json", "--sign-h", "-"])
        .args(&jsons)
        .arg("--plot")
        .arg(dir.path().join("g.svg"))
        .output()
        .unwrap();
    assert_ok(&o);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = j["rows"].as_array().unwrap();
    assert!(
        rows[0]["energy_ev"].as_f64().unwrap() < rows[1]["energy_ev"].as_f64().unwrap(),
        "sorted by energy"
    );
    for r in rows {
        let (ge, gh, bx) = (&r["g_e"], &r["g_h"], &r["g_bx"]);
        assert!(gh["value"].as_f64().unwrap() < 0.0, "--sign-h - applied");
        assert!(
            (bx["value"].as_f64().unwrap()
                - ge["value"].as_f64().unwrap()
                - gh["value"].as_f64().unwrap())
            .abs()
                < 1e-12
        );
        let e = ge["stderr"]
            .as_f64()
            .unwrap()
            .hypot(gh["stderr"].as_f64().unwrap());
        assert!((bx["stderr"].as_f64().unwrap() - e).abs() < 1e-12);
    }
    let svg = std::fs::read_to_string(dir.path().join("g.svg")).unwrap();
    assert!(svg.contains("bulk k.p"));
    // TRFE measures |g|: the assumed signs are on the figure
    assert!(svg.contains("signs assumed: g_e +, g_h -") && svg.contains("g_h = -|g_h|"));
}

/// Raw lab scans: TSV with `scancoord` (ps) and `lockin2x` columns, no
/// metadata at all, five interleaved sweeps, one sample at 200 mT.
fn raw_tsv_folder(dir: &Path) -> Vec<f64> {
    let mut truths = vec![];
    for k in 0..3u64 {
        let truth = TrfeTruth {
            field_t: 0.2,
            carriers: vec![(0.91, 260.0, 1.0)],
            phases: vec![0.4],
            ..Default::default()
        };
        let mut grid = Grid::uniform(-50.0, 1500.0, 200);
        grid.sweeps = 5;
        let sim = simulate_trfe(&truth, &grid, 20.0, 600 + k).unwrap();
        let mut s = String::from("scancoord\tlockin2x\n");
        for (t, y) in sim.columns[0].iter().zip(&sim.columns[1]) {
            s.push_str(&format!("{t}\t{y}\n"));
        }
        std::fs::write(dir.join(format!("scan_{k:02}.tsv")), s).unwrap();
        truths.push(0.91);
    }
    truths
}

fn gs_of(results: &Path) -> Vec<(f64, f64)> {
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(results.join("results.json")).unwrap())
            .unwrap();
    j.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let g = &r["results"]["components"][0]["g"];
            (g["value"].as_f64().unwrap(), g["stderr"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn raw_tsv_scans_go_through_session_with_flags_or_a_spinfit_toml() {
    let _g = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("day");
    std::fs::create_dir(&data).unwrap();
    raw_tsv_folder(&data);
    // as the user typed it, with flags
    let out1 = dir.path().join("out1");
    let o = spinfit()
        .arg("session")
        .arg(&data)
        .args([
            "--kind",
            "trfe",
            "--delay",
            "scancoord",
            "--signal",
            "lockin2x",
            "--delay-unit",
            "ps",
            "--field",
            "200mT",
            "--from",
            "50ps",
            "--out",
        ])
        .arg(&out1)
        .output()
        .unwrap();
    assert_ok(&o);
    let g1 = gs_of(&out1);
    assert_eq!(g1.len(), 3);
    for (g, e) in &g1 {
        assert!((g - 0.91).abs() <= 2.0 * e, "|g| {g} +/- {e}");
    }
    // the same conventions written once in the folder
    std::fs::write(
        data.join("spinfit.toml"),
        "delay = \"scancoord\"\nsignal = \"lockin2x\"\ndelay_unit = \"ps\"\nkind = \"trfe\"\nfield = \"200mT\"\nfrom = \"50ps\"\n",
    )
    .unwrap();
    let out2 = dir.path().join("out2");
    let o = spinfit()
        .arg("session")
        .arg(&data)
        .arg("--out")
        .arg(&out2)
        .output()
        .unwrap();
    assert_ok(&o);
    assert_eq!(gs_of(&out2), g1, "config and flags give the same fits");
    let summary = std::fs::read_to_string(out2.join("summary.md")).unwrap();
    assert!(
        summary.contains("--delay = scancoord (") && summary.contains("spinfit.toml)"),
        "{summary}"
    );
    // a flag overrides the config, and the summary says so
    let out3 = dir.path().join("out3");
    let o = spinfit()
        .arg("session")
        .arg(&data)
        .args(["--from", "100ps", "--out"])
        .arg(&out3)
        .output()
        .unwrap();
    assert_ok(&o);
    let summary = std::fs::read_to_string(out3.join("summary.md")).unwrap();
    assert!(
        summary.contains("--from = 100ps (command line)"),
        "{summary}"
    );
    // a config with a typo is refused naming the file and the key
    std::fs::write(data.join("spinfit.toml"), "delya = \"scancoord\"\n").unwrap();
    let o = spinfit()
        .arg("session")
        .arg(&data)
        .arg("--out")
        .arg(dir.path().join("out4"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("spinfit.toml") && err.contains("unknown key `delya`"),
        "{err}"
    );
}

/// A session stays inside its folder and writes into `--out`, never
/// through it: a data file linked from outside is skipped and listed, and
/// links planted in `--out` at the names it writes are replaced by files
/// while their targets keep their contents.
#[test]
fn symlinks_neither_leak_inputs_nor_redirect_outputs() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    session_folder(&input);
    let secret = dir.path().join("secret.csv");
    std::fs::write(&secret, "delay_ps,signal\n# the first line is private\n").unwrap();
    std::os::unix::fs::symlink(&secret, input.join("zz_leak.csv")).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let victims: Vec<PathBuf> = ["summary.md", "results.csv", "tr_a.png"]
        .iter()
        .map(|n| {
            let v = dir.path().join(format!("victim_{n}"));
            std::fs::write(&v, "precious").unwrap();
            std::os::unix::fs::symlink(&v, out.join(n)).unwrap();
            v
        })
        .collect();
    let r = common::spinfit()
        .args(["session"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(0), "{err}");
    assert!(
        err.contains("skipped") && err.contains("zz_leak.csv"),
        "{err}"
    );
    for v in &victims {
        assert_eq!(
            std::fs::read_to_string(v).unwrap(),
            "precious",
            "{}",
            v.display()
        );
    }
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        !std::fs::symlink_metadata(out.join("summary.md"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(summary.contains("outside the input folder") && !summary.contains("private"));
    assert!(
        summary.contains("Symlinks in the output folder replaced"),
        "{summary}"
    );
    // with --follow-symlinks the linked file is read (and here refused as data)
    let r = common::spinfit()
        .args(["session", "--follow-symlinks"])
        .arg(&input)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&r.stderr).contains("zz_leak.csv"));
    assert_eq!(r.status.code(), Some(1));
}

#[test]
fn figures_none_draws_nothing_and_leaves_the_results_unchanged() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    session_folder(&data);
    let run = |figures: &str| {
        let out = dir.path().join(format!("out_{figures}"));
        spinfit()
            .args([
                "session",
                data.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .args(["--figures", figures])
            .assert()
            .success();
        let pngs: Vec<String> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .filter(|n| n.ends_with(".png"))
            .collect();
        let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
        (
            pngs,
            summary,
            std::fs::read(out.join("results.csv")).unwrap(),
        )
    };
    let (all, sum_all, csv_all) = run("all");
    let (none, sum_none, csv_none) = run("none");
    assert!(all.iter().any(|p| p == "tr_a.png"), "{all:?}");
    assert!(all.iter().any(|p| p.starts_with("series_01")), "{all:?}");
    assert!(none.is_empty(), "figures none drew {none:?}");
    assert!(sum_all.contains("[png](tr_a.png)"), "{sum_all}");
    assert!(
        !sum_none.contains(".png"),
        "summary links a figure that was not drawn"
    );
    assert_eq!(csv_all, csv_none, "figures changed the results");
    let bad = spinfit()
        .args(["session", data.to_str().unwrap(), "--figures", "some"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&bad.stderr);
    assert!(
        msg.contains("figures") && msg.contains("none, failed or all"),
        "{msg}"
    );
}

/// `spinfit session DATA --figures none --out OUT`.
fn session_quiet(data: &Path, out: &Path) -> std::process::Output {
    spinfit()
        .arg("session")
        .arg(data)
        .args(["--figures", "none", "--out"])
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn a_lab_day_gives_one_series_per_sample_and_a_row_per_scan() {
    // the simulated day of the issue (files name their series; no sample
    // key), four samples: 36 scans
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("day");
    let day = spinfit::simulate::lab_day(&data, 4, 7).unwrap();
    let out = dir.path().join("out");
    let o = session_quiet(&data, &out);
    // no scan without a fit: the exit code is the worst fit's (0, 3 or 4)
    assert!(
        matches!(o.status.code(), Some(0 | 3 | 4)),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let mut rd = csv::Reader::from_path(out.join("results.csv")).unwrap();
    let files: Vec<String> = rd.records().map(|r| r.unwrap()[0].to_string()).collect();
    assert_eq!(files.len(), day.n_files, "one row per scan");
    let mut unique = files.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), files.len(), "no scan twice");
    // one field series per sample, named by its `series` key, |g| of both
    // carriers within 3 sigma of the truth (8 quantities at once)
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for (i, t) in day.series.iter().enumerate() {
        let g: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("gfactor_{:02}.json", i + 1))).unwrap(),
        )
        .unwrap();
        assert_eq!(g["name"], t.series.as_str());
        assert_eq!(g["grouped_by"], format!("series = {}", t.series));
        assert_eq!(
            g["traces"].as_array().unwrap().len() + g["rejected"].as_array().unwrap().len(),
            6
        );
        for c in g["carriers"].as_array().unwrap() {
            let want = if c["carrier"] == "electron" {
                t.g.0
            } else {
                t.g.1
            };
            let (v, e) = (
                c["g"]["value"].as_f64().unwrap(),
                c["g"]["stderr"].as_f64().unwrap(),
            );
            assert!(
                (v - want).abs() <= 3.0 * e,
                "{} {}: {v} +/- {e} vs {want}",
                t.series,
                c["carrier"]
            );
        }
        assert!(summary.contains(&format!("grouped by series = {}", t.series)));
    }
    assert!(
        !out.join(format!("gfactor_{:02}.json", day.series.len() + 1))
            .exists()
    );
}

#[test]
fn scans_without_series_or_sample_group_by_their_file_names() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d");
    std::fs::create_dir(&data).unwrap();
    // two samples told apart only by the names: A_180mT ... and B_180mT ...
    for (k, s) in ["A", "B"].iter().enumerate() {
        for (j, b) in [180.0, 300.0, 420.0].iter().enumerate() {
            let text = trfe(*b, 40 + 10 * k as u64 + j as u64)
                .to_csv()
                .replace("# sample = S1\n", "");
            std::fs::write(data.join(format!("{s}_trfe_{b}mT.csv")), text).unwrap();
        }
    }
    let out = dir.path().join("out");
    session_quiet(&data, &out);
    let mut seen = vec![];
    for i in 1..=2 {
        let g: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(out.join(format!("gfactor_{i:02}.json"))).unwrap(),
        )
        .unwrap();
        let by = g["grouped_by"].as_str().unwrap().to_string();
        assert!(by.starts_with("file name pattern"), "{by}");
        assert_eq!(g["traces"].as_array().unwrap().len(), 3);
        seen.push(by);
    }
    assert!(
        seen[0].contains("`A_trfe_*`") && seen[1].contains("`B_trfe_*`"),
        "{seen:?}"
    );
}
