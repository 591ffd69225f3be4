//! Hostile input, as a careless or malicious user would give it: every
//! reader and command, each case asserting the exit code and that the
//! message names the file (or flag) and the field. Cases run in parallel,
//! each in its own folder; all failures are listed together.

use crate::common::*;

use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// One hostile input: files written into a fresh folder, the arguments
/// (`{dir}` is that folder), the exit code and what the message must say.
struct Case {
    what: String,
    files: Vec<(String, Vec<u8>)>,
    links: Vec<(String, String)>,
    args: Vec<String>,
    code: i32,
    says: Vec<String>,
}

fn case(what: &str, args: &[&str], code: i32, says: &[&str]) -> Case {
    Case {
        what: what.into(),
        files: vec![],
        links: vec![],
        args: args.iter().map(|s| s.to_string()).collect(),
        code,
        says: says.iter().map(|s| s.to_string()).collect(),
    }
}

impl Case {
    fn file(mut self, name: &str, bytes: impl Into<Vec<u8>>) -> Case {
        self.files.push((name.into(), bytes.into()));
        self
    }
    fn files(mut self, files: &[(&str, &str)]) -> Case {
        for (name, text) in files {
            self = self.file(name, text.as_bytes());
        }
        self
    }
    fn link(mut self, name: &str, to: &str) -> Case {
        self.links.push((name.into(), to.into()));
        self
    }
}

/// Run every case; panic with the list of those that failed.
fn run_all(cases: Vec<Case>) {
    use std::sync::Mutex;
    let failed = Mutex::new(vec![]);
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(c) = cases.get(i) else { break };
                    if let Err(e) = run_one(c) {
                        failed.lock().unwrap().push(format!("[{}] {e}", c.what));
                    }
                }
            });
        }
    });
    let failed = failed.into_inner().unwrap();
    assert!(
        failed.is_empty(),
        "{} of {} hostile cases failed:\n{}",
        failed.len(),
        cases.len(),
        failed.join("\n")
    );
}

fn run_one(c: &Case) -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let d = dir.path();
    let sub = |s: &str| s.replace("{dir}", &d.display().to_string());
    for (name, bytes) in &c.files {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, bytes).unwrap();
    }
    for (name, to) in &c.links {
        std::os::unix::fs::symlink(sub(to), d.join(name)).unwrap();
    }
    let args: Vec<String> = c.args.iter().map(|a| sub(a)).collect();
    let out = spinfit()
        .args(&args)
        .current_dir(d)
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .map_err(|e| e.to_string())?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
    if text.contains("panicked") || text.contains("RUST_BACKTRACE") {
        return Err(format!("panic: {text}"));
    }
    if out.status.code() != Some(c.code) {
        return Err(format!(
            "exit {:?}, expected {}: {}",
            out.status.code(),
            c.code,
            text.chars().take(600).collect::<String>()
        ));
    }
    for s in &c.says {
        let s = sub(s);
        if !text.contains(&s) {
            return Err(format!(
                "message lacks `{s}`: {}",
                text.chars().take(600).collect::<String>()
            ));
        }
    }
    Ok(())
}

fn text(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap()
}

fn tr_text() -> String {
    text(&example("tr_APD_PbI4.csv"))
}

fn trfe_text() -> String {
    text(&example("trfe_CsPbI3_1_1.69eV_270mT.csv"))
}

/// `text` with data row `k` (0-based, after the header) replaced by
/// `row`; returns the new text and the 1-based line number of that row.
fn with_row(text: &str, k: usize, row: &str) -> (String, usize) {
    let mut lines: Vec<String> = text.lines().map(String::from).collect();
    let h = lines.iter().position(|l| !l.starts_with('#')).unwrap();
    lines[h + 1 + k] = row.into();
    (lines.join("\n") + "\n", h + 2 + k)
}

/// `text` with comment (metadata) lines removed and `extra` put first.
fn with_meta(text: &str, extra: &[&str]) -> String {
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    let mut out: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    out.extend(body.iter().map(|s| s.to_string()));
    out.join("\n") + "\n"
}

fn scan_files_and_fit_flags() -> Vec<Case> {
    let tr = tr_text();
    let trfe = trfe_text();
    let mut v = vec![];
    let fit_tr = |what: &str, content: &str, extra: &[&str], code: i32, says: &[&str]| {
        let mut args = vec!["fit", "tr", "x.csv"];
        args.extend(extra);
        case(what, &args, code, says).file("x.csv", content.as_bytes())
    };
    let fit_trfe = |what: &str, content: &str, extra: &[&str], code: i32, says: &[&str]| {
        let mut args = vec!["fit", "trfe", "y.csv"];
        args.extend(extra);
        case(what, &args, code, says).file("y.csv", content.as_bytes())
    };
    // the files themselves
    v.push(fit_tr("empty file", "", &[], 1, &["x.csv"]));
    v.push(fit_tr(
        "header only",
        "delay_ps,SC,CC\n",
        &[],
        1,
        &["x.csv"],
    ));
    v.push(fit_tr(
        "comments only",
        "# kind = tr\n# sample = A\n",
        &[],
        1,
        &["x.csv"],
    ));
    v.push(fit_tr(
        "one data row",
        "delay_ps,SC,CC\n0,1,0.5\n",
        &[],
        1,
        &["x.csv"],
    ));
    v.push(
        case(
            "binary garbage",
            &["fit", "tr", "x.csv"],
            1,
            &["x.csv", "UTF-8"],
        )
        .file("x.csv", vec![0xff, 0xfe, 0x00, 0x81, 0x9f, 0x00, 0x12]),
    );
    for (k, cell, what) in [
        (5, "1.0,abc,0.1", "a word in a number column"),
        (40, "1.0,0.1", "a short row"),
        (41, "1.0,0.1,0.2,0.3", "a long row"),
        (7, "nan,0.1,0.2", "a NaN delay"),
        (8, "1.0,inf,0.2", "an infinite signal"),
        (9, "1.0,1e400,0.2", "an overflowing number"),
        (10, ",0.1,0.2", "an empty delay cell"),
    ] {
        let (t, line) = with_row(&tr, k, cell);
        let l = format!("line {line}");
        v.push(fit_tr(what, &t, &[], 1, &["x.csv", &l]));
    }
    let dup_col = tr.replacen("delay_ps,SC,CC", "delay_ps,SC,SC", 1);
    v.push(fit_tr(
        "duplicated column",
        &dup_col,
        &[],
        1,
        &["x.csv", "SC"],
    ));
    let dup_meta = with_meta(&tr, &["# kind = tr", "# sample = A", "# sample = B"]);
    v.push(fit_tr(
        "duplicated metadata",
        &dup_meta,
        &[],
        1,
        &["x.csv", "sample"],
    ));
    let same_delays: String = with_meta(&tr, &[])
        .lines()
        .enumerate()
        .map(|(i, l)| {
            if i == 0 {
                l.to_string()
            } else {
                format!("1.0{}", &l[l.find(',').unwrap()..])
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    v.push(fit_tr(
        "all delays equal",
        &same_delays,
        &[],
        1,
        &["x.csv", "delay"],
    ));
    let unit = tr.replacen("delay_ps,SC,CC", "delay_parsec,SC,CC", 1);
    v.push(fit_tr(
        "unknown delay unit in the header",
        &unit,
        &[],
        1,
        &["x.csv", "delay"],
    ));
    let cc_const: String = with_meta(&tr, &["# kind = tr"])
        .lines()
        .map(|l| match l.rsplit_once(',') {
            Some((a, _)) if !l.starts_with('#') && !l.starts_with("delay") => format!("{a},0.25"),
            _ => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    v.push(fit_tr(
        "a dead (constant) CC channel",
        &cc_const,
        &[],
        1,
        &["x.csv", "CC"],
    ));
    v.push(fit_tr(
        "CRLF line ends are fine",
        &tr.replace('\n', "\r\n"),
        &["--json"],
        0,
        &["\"success\": true"],
    ));
    v.push(fit_tr(
        "a BOM is fine",
        &format!("\u{feff}{tr}"),
        &["--json"],
        0,
        &["\"success\": true"],
    ));
    // paths that are not files
    v.push(case(
        "a directory as the file",
        &["fit", "tr", "{dir}"],
        1,
        &["{dir}", "directory"],
    ));
    v.push(case(
        "a device as the file",
        &["fit", "tr", "/dev/zero"],
        1,
        &["/dev/zero", "not a regular file"],
    ));
    v.push(case(
        "a missing file",
        &["fit", "tr", "nope.csv"],
        1,
        &["nope.csv"],
    ));
    v.push(fit_tr(
        "a raised --max-input-mb",
        &tr,
        &["--max-input-mb", "1", "--json"],
        0,
        &["\"success\": true"],
    ));
    v.push(
        case(
            "a file over the input limit",
            &["fit", "tr", "big.csv", "--max-input-mb", "1"],
            1,
            &["big.csv", "--max-input-mb"],
        )
        .file(
            "big.csv",
            [b"delay_ps,SC,CC\n".to_vec(), b"0,1,1\n".repeat(400_000)].concat(),
        ),
    );
    // column and unit flags
    for (flag, value, says) in [
        ("--delay", "time_fs", "time_fs"),
        ("--signal", "kerr", "kerr"),
        ("--sc", "left", "left"),
        ("--cc", "right", "right"),
        ("--delay-unit", "furlong", "--delay-unit"),
        ("--sigma", "err", "err"),
    ] {
        v.push(fit_tr(
            &format!("{flag} naming nothing"),
            &tr,
            &[flag, value],
            1,
            &[says],
        ));
    }
    // window and model flags
    for (flag, value, says) in [
        ("--from", "100ps", "--from"),
        ("--to", "-5ps", "--to"),
        ("--from", "abc", "--from"),
        ("--t0", "nan", "--t0"),
        ("--t0", "5 parsec", "--t0"),
        ("--irf-fwhm", "-1ps", "--irf-fwhm"),
        ("--irf-fwhm", "0ps", "--irf-fwhm"),
        ("--exponentials", "0", "--exponentials"),
        ("--exponentials", "99", "--exponentials"),
        ("--exponentials", "two", "--exponentials"),
        ("--baseline", "sometimes", "--baseline"),
        ("--artefact", "maybe", "--artefact"),
        ("--residual-alpha", "2", "--residual-alpha"),
        ("--residual-alpha", "-0.1", "--residual-alpha"),
        ("--config", "missing.toml", "missing.toml"),
    ] {
        v.push(fit_tr(
            &format!("{flag} {value}"),
            &tr,
            &[flag, value],
            1,
            &[says],
        ));
    }
    v.push(fit_tr(
        "--from after --to",
        &tr,
        &["--from", "50ps", "--to", "10ps"],
        1,
        &["--from"],
    ));
    v.push(fit_tr(
        "--plot with an unknown format",
        &tr,
        &["--plot", "fig.bmp"],
        1,
        &["fig.bmp", ".png"],
    ));
    v.push(fit_tr(
        "--csv into a missing folder",
        &tr,
        &["--csv", "no/such/dir/out.csv"],
        1,
        &["no/such/dir"],
    ));
    // TRFE: fields and model choices
    let no_field = with_meta(&trfe, &["# kind = trfe"]);
    v.push(fit_trfe(
        "no field anywhere: omega only, said",
        &no_field,
        &[],
        0,
        &["--field", "|g| not computed"],
    ));
    for (value, code, says) in [
        ("1e-300T", 1, "--field"),
        ("abc", 1, "--field"),
        ("430 furlongs", 1, "--field"),
        ("0T", 4, "model inadequate"),
        ("inf T", 1, "--field"),
        ("-270mT", 0, "\"success\": true"),
        ("430T", 1, "--field"),
    ] {
        v.push(fit_trfe(
            &format!("--field {value}"),
            &no_field,
            &["--field", value, "--json"],
            code,
            &[says],
        ));
    }
    let bad_meta_field = with_meta(&trfe, &["# kind = trfe", "# field = lots"]);
    v.push(fit_trfe(
        "metadata field not a quantity",
        &bad_meta_field,
        &[],
        1,
        &["y.csv", "field"],
    ));
    let bad_energy = with_meta(
        &trfe,
        &[
            "# kind = trfe",
            "# field = 270 mT",
            "# photon_energy = -3 eV",
        ],
    );
    v.push(fit_trfe(
        "a negative photon energy",
        &bad_energy,
        &[],
        1,
        &["y.csv", "photon_energy"],
    ));
    for (flag, value) in [
        ("--components", "3"),
        ("--components", "x"),
        ("--criterion", "vibes"),
        ("--phase", "maybe"),
        ("--decay", "perhaps"),
        ("--envelope", "cubic"),
        ("--field-from", "elsewhere"),
    ] {
        v.push(fit_trfe(
            &format!("{flag} {value}"),
            &trfe,
            &[flag, value],
            1,
            &[flag],
        ));
    }
    let tr_kind = with_meta(&tr, &["# kind = tr"]);
    v.push(fit_trfe(
        "a TRFE fit of a TR file",
        &tr_kind,
        &["--field", "0.3T"],
        1,
        &["y.csv", "kind = `tr`"],
    ));
    v.push(
        case(
            "a TR fit of a TRFE-only file",
            &["fit", "tr", "y.csv"],
            1,
            &["y.csv", "kind = `trfe`"],
        )
        .file("y.csv", no_field.as_bytes()),
    );
    // flags where negative values are values, not unknown flags
    v.push(fit_tr(
        "--t0 with a minus sign",
        &tr,
        &["--t0", "-0.1ps", "--json"],
        0,
        &["\"success\""],
    ));
    v
}

/// A small map: `rows` wavelengths (nm) by `cols` delays (ps).
fn matrix(rows: &[f64], cols: usize) -> String {
    let delays: Vec<String> = (0..cols)
        .map(|j| format!("{}", j as f64 * 0.5 - 2.0))
        .collect();
    let mut s = format!("wavelength_nm/delay_ps,{}\n", delays.join(","));
    for &w in rows {
        let vals: Vec<String> = (0..cols)
            .map(|j| {
                let t = j as f64 * 0.5 - 2.0;
                format!(
                    "{:.5}",
                    if t < 0.0 {
                        0.0
                    } else {
                        (-t / 8.0).exp() + 0.01 * ((j * 7) % 5) as f64
                    }
                )
            })
            .collect();
        s += &format!("{w},{}\n", vals.join(","));
    }
    s
}

fn maps_and_hdf5() -> Vec<Case> {
    let m = matrix(&[560.0, 580.0, 600.0], 80);
    let mut v = vec![];
    let map = |what: &str, content: &str, extra: &[&str], code: i32, says: &[&str]| {
        let mut args = vec!["fit", "tr", "m.csv", "--signal", "dR"];
        args.extend(extra);
        case(what, &args, code, says).file("m.csv", content.as_bytes())
    };
    v.push(map(
        "a band outside the map",
        &m,
        &["--band", "800nm"],
        1,
        &["m.csv", "--band", "800"],
    ));
    v.push(map(
        "a negative band",
        &m,
        &["--band", "-560nm"],
        1,
        &["--band"],
    ));
    v.push(map(
        "a band that is not a wavelength",
        &m,
        &["--band", "green"],
        1,
        &["--band"],
    ));
    v.push(map(
        "an unknown layout",
        &m,
        &["--band", "580nm", "--layout", "diagonal"],
        1,
        &["--layout"],
    ));
    let ragged = m
        .replacen("\n580,", "\n580,1,", 1)
        .lines()
        .take(3)
        .collect::<Vec<_>>()
        .join("\n");
    v.push(map(
        "a ragged map row",
        &ragged,
        &["--band", "580nm"],
        1,
        &["m.csv", "line"],
    ));
    let bad_head = m.replacen(",-2,", ",minus two,", 1);
    v.push(map(
        "a map header that is not a number",
        &bad_head,
        &["--band", "580nm"],
        1,
        &["m.csv"],
    ));
    let dup_band = m.replacen("\n600,", "\n580,", 1);
    v.push(map(
        "the same wavelength twice",
        &dup_band,
        &["--band", "580nm"],
        1,
        &["m.csv", "580"],
    ));
    v.push(
        case(
            "Glotaran file with a wrong count",
            &["fit", "tr", "g.ascii", "--band", "580nm"],
            1,
            &["g.ascii"],
        )
        .file(
            "g.ascii",
            "demo\n\nTime explicit\nintervalnr 5\n0 1 2\n580 0.1 0.2 0.3\n",
        ),
    );
    // HDF5
    let dir = tempfile::tempdir().unwrap();
    let h5 = |name: &str, build: &dyn Fn(&hdf5::File)| -> Vec<u8> {
        let p = dir.path().join(name);
        {
            let f = hdf5::File::create(&p).unwrap();
            build(&f);
        }
        std::fs::read(&p).unwrap()
    };
    let delay: Vec<f64> = (0..200).map(|i| i as f64 * 0.5 - 5.0).collect();
    let sig: Vec<f64> = delay
        .iter()
        .map(|t| if *t < 0.0 { 0.0 } else { (-t / 20.0).exp() })
        .collect();
    // a 1-D dataset `name` in group `g`, with a `unit` attribute if given
    fn put<T: hdf5::H5Type>(g: &hdf5::Group, name: &str, data: &[T], unit: Option<&str>) {
        let d = g
            .new_dataset_builder()
            .with_data(data)
            .create(name)
            .unwrap();
        if let Some(u) = unit {
            let v: hdf5::types::VarLenUnicode = u.parse().unwrap();
            d.new_attr::<hdf5::types::VarLenUnicode>()
                .create("unit")
                .unwrap()
                .write_scalar(&v)
                .unwrap();
        }
    }
    let scan = |f: &hdf5::File| f.create_group("scans").unwrap().create_group("a").unwrap();
    // a scan group: delay (with its unit) and a signal, either possibly odd
    let scan_of = |name: &str, delay_unit: Option<&str>, signal: &[f64]| {
        h5(name, &|f| {
            let g = scan(f);
            put(&g, "delay", &delay, delay_unit);
            put(&g, "signal", signal, None);
        })
    };
    let mut with_nan = sig.clone();
    with_nan[17] = f64::NAN;
    let cases_h5: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "delay is a group",
            h5("g.h5", &|f| {
                let g = scan(f);
                g.create_group("delay").unwrap();
                put(&g, "signal", &sig, None);
            }),
            "delay",
        ),
        (
            "boolean signal",
            h5("b.h5", &|f| {
                let g = scan(f);
                put(&g, "delay", &delay, Some("ps"));
                let b: Vec<bool> = sig.iter().map(|v| *v > 0.5).collect();
                put(&g, "signal", &b, None);
            }),
            "signal",
        ),
        (
            "2-D delay",
            h5("d2.h5", &|f| {
                let a = ndarray::Array2::<f64>::zeros((10, 20));
                scan(f)
                    .new_dataset_builder()
                    .with_data(&a)
                    .create("delay")
                    .unwrap();
            }),
            "delay",
        ),
        ("delay without a unit", scan_of("u.h5", None, &sig), "unit"),
        (
            "delay in parsecs",
            scan_of("pc.h5", Some("parsec"), &sig),
            "parsec",
        ),
        (
            "signal shorter than delay",
            scan_of("s.h5", Some("ps"), &sig[..50]),
            "signal",
        ),
        (
            "a NaN in the signal",
            scan_of("n.h5", Some("ps"), &with_nan),
            "element 17",
        ),
        (
            "no /scans group",
            h5("e.h5", &|f| {
                f.create_group("other").unwrap();
            }),
            "/scans",
        ),
        (
            "an empty /scans group",
            h5("z.h5", &|f| {
                f.create_group("scans").unwrap();
            }),
            "no scans",
        ),
    ];
    for (what, bytes, says) in cases_h5 {
        v.push(
            case(
                what,
                &["fit", "trfe", "s.h5", "--field", "0.3T"],
                1,
                &["s.h5", says],
            )
            .file("s.h5", bytes),
        );
    }
    v.push(
        case(
            "text named .h5",
            &["fit", "trfe", "t.h5", "--field", "0.3T"],
            1,
            &["t.h5"],
        )
        .file("t.h5", "delay,signal\n1,2\n"),
    );
    v.push(
        case(
            "a group that is not there",
            &["fit", "trfe", "t.h5:/scans/nope", "--field", "0.3T"],
            1,
            &["t.h5", "/scans/nope"],
        )
        .file("t.h5", scan_of("ok.h5", Some("ps"), &sig)),
    );
    v
}

/// Artefacts shared by the dataset and ML cases: the imported sheet, a TR
/// fit JSON of a synthetic (APD)PbI4 scan, and saved models.
struct Shared {
    _dir: tempfile::TempDir,
    dataset: Vec<u8>,
    fit: Value,
    models: Vec<(String, Value)>,
}

fn shared() -> &'static Shared {
    static S: OnceLock<Shared> = OnceLock::new();
    S.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = imported(dir.path());
        let out = spinfit()
            .args(["fit", "tr", "--json"])
            .arg(example("tr_APD_PbI4.csv"))
            .output()
            .unwrap();
        let fit: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut models = vec![];
        for m in [
            "ols",
            "rf:n_trees=3",
            "gbt:n_estimators=3",
            "svr",
            "ann:hidden=2,seeds=1",
        ] {
            let p: PathBuf = dir
                .path()
                .join(format!("{}.json", &m[..m.find(':').unwrap_or(m.len())]));
            spinfit()
                .args(["ml", "train"])
                .arg(&d)
                .args([
                    "--features",
                    "dipole_moment_D,mw_g_per_mol,n_layers",
                    "--model",
                    m,
                    "--out",
                ])
                .arg(&p)
                .assert()
                .success();
            models.push((m.to_string(), serde_json::from_str(&text(&p)).unwrap()));
        }
        Shared {
            dataset: std::fs::read(&d).unwrap(),
            fit,
            models,
            _dir: dir,
        }
    })
}

fn apd(d: &[u8]) -> String {
    String::from_utf8_lossy(d)
        .lines()
        .find(|l| l.contains("APD"))
        .and_then(|l| l.split(',').next())
        .unwrap()
        .trim_matches('"')
        .to_string()
}

fn dataset_commands() -> Vec<Case> {
    let s = shared();
    let compound = apd(&s.dataset);
    let mut v = vec![];
    let append = |what: &str, fit: &Value, extra: &[&str], code: i32, says: &[&str]| {
        let mut args = vec![
            "dataset",
            "append",
            "d.csv",
            "--fit",
            "f.json",
            "--compound",
            &compound,
            "--date",
            "2025-06-01",
            "--allow-synthetic",
        ];
        args.extend(extra);
        case(what, &args, code, says)
            .file("d.csv", s.dataset.clone())
            .file("f.json", fit.to_string())
    };
    let edit = |f: &dyn Fn(&mut Value)| {
        let mut j = s.fit.clone();
        f(&mut j);
        j
    };
    v.push(append(
        "a good append",
        &s.fit,
        &[],
        0,
        &["appended 1 measurement"],
    ));
    for (what, j, field) in [
        (
            "a negative rate",
            edit(&|j| j["results"]["lifetimes"][0]["rate"]["value"] = json!(-0.1)),
            "rate.value",
        ),
        (
            "a zero rate",
            edit(&|j| j["results"]["lifetimes"][0]["rate"]["value"] = json!(0.0)),
            "rate.value",
        ),
        (
            "a rate of 1e308",
            edit(&|j| j["results"]["lifetimes"][0]["rate"]["value"] = json!(1e308)),
            "rate.value",
        ),
        (
            "a negative stderr",
            edit(&|j| j["results"]["lifetimes"][0]["rate"]["stderr"] = json!(-1.0)),
            "rate.stderr",
        ),
        (
            "no stderr",
            edit(&|j| j["results"]["lifetimes"][0]["rate"]["stderr"] = Value::Null),
            "rate.stderr",
        ),
        (
            "a rate that is a string",
            edit(&|j| j["results"]["lifetimes"][0]["rate"]["value"] = json!("fast")),
            "rate.value",
        ),
        (
            "another schema",
            edit(&|j| j["schema"] = json!("spinfit.fit/9")),
            "schema",
        ),
        ("a TRFE fit", edit(&|j| j["kind"] = json!("trfe")), "schema"),
        (
            "a failed fit",
            edit(&|j| j["success"] = json!(false)),
            "success",
        ),
        (
            "two lifetimes",
            edit(&|j| {
                let l = j["results"]["lifetimes"][0].clone();
                j["results"]["lifetimes"] = json!([l.clone(), l]);
            }),
            "lifetimes",
        ),
        (
            "no lifetimes",
            edit(&|j| j["results"]["lifetimes"] = json!([])),
            "lifetimes",
        ),
    ] {
        v.push(append(what, &j, &[], 1, &["f.json", field]));
    }
    let synthetic = s.fit.clone();
    v.push(
        case(
            "synthetic without the flag",
            &[
                "dataset",
                "append",
                "d.csv",
                "--fit",
                "f.json",
                "--compound",
                &compound,
                "--date",
                "2025-06-01",
            ],
            1,
            &["f.json", "SYNTHETIC"],
        )
        .file("d.csv", s.dataset.clone())
        .file("f.json", synthetic.to_string()),
    );
    for date in [
        "2026-13-45",
        "2023-02-29",
        "2999-01-01",
        "yesterday",
        "1850-01-01",
        "2025-6-1",
    ] {
        let args = [
            "dataset",
            "append",
            "d.csv",
            "--fit",
            "f.json",
            "--compound",
            &compound,
            "--allow-synthetic",
            "--date",
            date,
        ];
        v.push(
            case(&format!("date {date}"), &args, 1, &["--date", date])
                .file("d.csv", s.dataset.clone())
                .file("f.json", s.fit.to_string()),
        );
    }
    v.push(
        case(
            "an unknown compound",
            &[
                "dataset",
                "append",
                "d.csv",
                "--fit",
                "f.json",
                "--compound",
                "Unobtainium",
                "--date",
                "2025-06-01",
                "--allow-synthetic",
            ],
            1,
            &["d.csv", "Unobtainium"],
        )
        .file("d.csv", s.dataset.clone())
        .file("f.json", s.fit.to_string()),
    );
    v.push(
        case(
            "an empty compound",
            &[
                "dataset",
                "append",
                "d.csv",
                "--fit",
                "f.json",
                "--compound",
                " ",
                "--date",
                "2025-06-01",
                "--allow-synthetic",
            ],
            1,
            &["--compound"],
        )
        .file("d.csv", s.dataset.clone())
        .file("f.json", s.fit.to_string()),
    );
    v.push(
        case(
            "fit JSON that is not JSON",
            &[
                "dataset",
                "append",
                "d.csv",
                "--fit",
                "f.json",
                "--compound",
                &compound,
                "--date",
                "2025-06-01",
            ],
            1,
            &["f.json", "not JSON"],
        )
        .file("d.csv", s.dataset.clone())
        .file("f.json", "{\"schema\": "),
    );
    v.push(
        case(
            "fit JSON from /dev/zero",
            &[
                "dataset",
                "append",
                "d.csv",
                "--fit",
                "/dev/zero",
                "--compound",
                &compound,
                "--date",
                "2025-06-01",
            ],
            1,
            &["/dev/zero", "not a regular file"],
        )
        .file("d.csv", s.dataset.clone()),
    );
    v.push(append(
        "a fit whose file is /dev/zero",
        &edit(&|j| j["file"] = json!("/dev/zero")),
        &[],
        0,
        &["appended"],
    ));
    v.push(
        case(
            "a dataset that is not there",
            &[
                "dataset",
                "append",
                "nope.csv",
                "--fit",
                "f.json",
                "--compound",
                &compound,
                "--date",
                "2025-06-01",
                "--allow-synthetic",
            ],
            1,
            &["nope.csv"],
        )
        .file("f.json", s.fit.to_string()),
    );
    v.push(
        case(
            "a dataset that is not a spinfit dataset",
            &[
                "dataset",
                "append",
                "d.csv",
                "--fit",
                "f.json",
                "--compound",
                &compound,
                "--date",
                "2025-06-01",
                "--allow-synthetic",
            ],
            1,
            &["d.csv", "missing column"],
        )
        .file("d.csv", "a,b\n1,2\n")
        .file("f.json", s.fit.to_string()),
    );
    let bad_rate = String::from_utf8_lossy(&s.dataset).replacen(",0.129,", ",fast,", 1);
    v.push(
        case(
            "a dataset with a word as a rate",
            &["dataset", "check", "d.csv"],
            1,
            &["d.csv", "rate_per_ps"],
        )
        .file("d.csv", bad_rate),
    );
    v.push(
        case(
            "check of an empty file",
            &["dataset", "check", "d.csv"],
            1,
            &["d.csv"],
        )
        .file("d.csv", ""),
    );
    v.push(
        case(
            "import of an empty sheet",
            &["dataset", "import", "s.csv", "--out", "o.csv"],
            1,
            &["s.csv"],
        )
        .file("s.csv", ""),
    );
    v.push(
        case(
            "import of text named .xlsx",
            &["dataset", "import", "s.xlsx", "--out", "o.csv"],
            1,
            &["s.xlsx", "workbook"],
        )
        .file("s.xlsx", "not a zip"),
    );
    v.push(
        case(
            "import of a sheet without a rate",
            &["dataset", "import", "s.csv", "--out", "o.csv"],
            1,
            &["s.csv", "rate"],
        )
        .file("s.csv", "sample,mu,MW\nA,1,2\n"),
    );
    v.push(
        case(
            "import of a 20k-deep compound name",
            &["dataset", "import", "s.csv", "--out", "o.csv"],
            0,
            &["wrote o.csv"],
        )
        .file(
            "s.csv",
            format!(
                "sample,mu,MW,rate\n{}MA{}PbI3,1,2,0.5\nMAPbI3,1,2,0.4\n",
                "(".repeat(20_000),
                ")".repeat(20_000)
            ),
        ),
    );
    for t in ["2", "nan", "0", "-0.5"] {
        v.push(
            case(
                &format!("correlate --threshold {t}"),
                &["dataset", "correlate", "d.csv", "--threshold", t],
                1,
                &["--threshold"],
            )
            .file("d.csv", s.dataset.clone()),
        );
    }
    v
}

fn ml_settings_and_saved_models() -> Vec<Case> {
    let s = shared();
    let mut v = vec![];
    let cv = |spec: &str, code: i32, says: &[&str]| {
        case(
            &format!("--model {spec}"),
            &["ml", "cv", "d.csv", "--model", spec, "--cv", "kfold:3"],
            code,
            says,
        )
        .file("d.csv", s.dataset.clone())
    };
    for (spec, name) in [
        ("rf:n_trees=0", "rf:n_trees"),
        ("rf:min_samples_leaf=0", "rf:min_samples_leaf"),
        ("rf:max_features=2.5", "rf:max_features"),
        ("gbt:learning_rate=0", "gbt:learning_rate"),
        ("gbt:max_depth=0", "gbt:max_depth"),
        ("gbt:n_estimators=0", "gbt:n_estimators"),
        ("svr:c=-1", "svr:c"),
        ("svr:epsilon=-1", "svr:epsilon"),
        ("svr:gamma=0", "svr:gamma"),
        ("ann:hidden=0", "ann:hidden"),
        ("ann:seeds=0", "ann:seeds"),
        ("ann:alpha=-1", "ann:alpha"),
        ("ann:max_iters=0", "ann:max_iters"),
        ("ann:hidden=four", "hidden=four"),
        ("ann:depth=3", "depth"),
        ("forest", "forest"),
    ] {
        v.push(cv(spec, 1, &[name]));
    }
    for (flag, value, says) in [
        ("--cv", "kfold:1", "--cv"),
        ("--cv", "kfold:1000", "--cv"),
        ("--cv", "sometimes", "--cv"),
        ("--features", "dipole_moment_D,colour", "colour"),
        ("--target", "happiness", "happiness"),
        ("--inner-folds", "1", "--inner-folds"),
        ("--seeds", "0", "--seeds"),
        ("--scoring", "accuracy", "scoring"),
        ("--grid", "c=-1", "--grid"),
        ("--grid", "colour=1,2", "colour"),
        ("--grid", "@missing-grid.txt", "missing-grid.txt"),
    ] {
        let mut args = vec!["ml", "cv", "d.csv", flag, value];
        if flag == "--inner-folds" {
            args.push("--tune");
        }
        v.push(
            case(&format!("{flag} {value}"), &args, 1, &[says]).file("d.csv", s.dataset.clone()),
        );
    }
    // ML tables: a number too large to square, an infinity, a word
    let table = |cell: &str| {
        let mut t = String::from("name,a,b,rate\n");
        for i in 0..12 {
            let rate = if i == 4 {
                cell.to_string()
            } else {
                format!("{}", 0.1 + 0.01 * i as f64)
            };
            t += &format!(
                "c{i},{},{},{rate}\n",
                (i * 7 % 5) as f64,
                (i * 3 % 4) as f64
            );
        }
        t
    };
    for cell in ["1e308", "inf", "-inf", "fast", "NaN"] {
        v.push(
            case(
                &format!("an ML target of {cell}"),
                &["ml", "cv", "t.csv", "--model", "ols"],
                1,
                &["t.csv", "line 6", "rate"],
            )
            .file("t.csv", table(cell)),
        );
    }
    v.push(
        case(
            "an empty ML cell is a missing value",
            &["ml", "cv", "t.csv", "--model", "ols"],
            0,
            &["R2"],
        )
        .file("t.csv", table("")),
    );
    // saved models, edited
    let model = |kind: &str| {
        s.models
            .iter()
            .find(|(m, _)| m.starts_with(kind))
            .unwrap()
            .1
            .clone()
    };
    let predict = |what: &str, m: Value, code: i32, says: &[&str]| {
        case(
            what,
            &["ml", "predict", "m.json", "--candidates", "c.csv"],
            code,
            says,
        )
        .file("m.json", m.to_string())
        .file(
            "c.csv",
            "compound,dipole_moment_D,mw_g_per_mol,n_layers\nX,3.1,80.5,1\nY,5.0,120,2\n",
        )
    };
    let edited = |kind: &str, f: &dyn Fn(&mut Value)| {
        let mut m = model(kind);
        f(&mut m);
        m
    };
    v.push(predict("a good saved model", model("ols"), 0, &["X"]));
    for (what, m, field) in [
        (
            "OLS coefficients too short",
            edited("ols", &|m| {
                m["state"]["coef"].as_array_mut().unwrap().pop();
            }),
            "state.coef",
        ),
        (
            "OLS coefficient null",
            edited("ols", &|m| m["state"]["coef"][0] = Value::Null),
            "state",
        ),
        (
            "MLP weights too short",
            edited("ann", &|m| {
                m["state"]["nets"][0].as_array_mut().unwrap().truncate(3);
            }),
            "state.nets[0]",
        ),
        (
            "MLP scaler too short",
            edited("ann", &|m| {
                m["state"]["scaler"]["mean"].as_array_mut().unwrap().pop();
            }),
            "state.scaler.mean",
        ),
        (
            "MLP with no networks",
            edited("ann", &|m| m["state"]["nets"] = json!([])),
            "no networks",
        ),
        (
            "a tree node pointing to itself",
            edited("rf", &|m| {
                m["state"]["forest_regressor"]["trees"][0]["nodes"][0]["true_child"] = json!(0)
            }),
            "true_child",
        ),
        (
            "a tree child out of range",
            edited("rf", &|m| {
                m["state"]["forest_regressor"]["trees"][0]["nodes"][0]["false_child"] = json!(99999)
            }),
            "false_child",
        ),
        (
            "a split feature out of range",
            edited("rf", &|m| {
                m["state"]["forest_regressor"]["trees"][0]["nodes"][0]["split_feature"] = json!(9)
            }),
            "split_feature",
        ),
        (
            "a forest with no trees",
            edited("rf", &|m| {
                m["state"]["forest_regressor"]["trees"] = json!([])
            }),
            "no trees",
        ),
        (
            "boosted trees with no trees",
            edited("gbt", &|m| m["state"]["trees"] = json!([])),
            "no trees",
        ),
        (
            "a boosted split feature out of range",
            edited("gbt", &|m| {
                m["state"]["trees"][0]["nodes"][0]["feature"] = json!(5)
            }),
            "state.trees[0].nodes[0].feature",
        ),
        (
            "boosted trees saved before histogram boosting",
            edited("gbt", &|m| {
                m["state"] = json!({"regressors": [], "parameters": {}})
            }),
            "train the model again",
        ),
        (
            "SVR targets too short",
            edited("svr", &|m| {
                m["state"]["coef"].as_array_mut().unwrap().pop();
            }),
            "state.coef",
        ),
        (
            "zero training rows",
            edited("ols", &|m| {
                m["training"]["rows"] = json!(0);
                m["training"]["x"] = json!([]);
                m["training"]["y"] = json!([]);
                m["training"]["ids"] = json!([]);
            }),
            "training.rows",
        ),
        (
            "150k training rows",
            edited("ols", &|m| {
                let n = 150_000;
                m["training"]["rows"] = json!(n);
                m["training"]["x"] = json!(vec![vec![1.0, 2.0, 3.0]; n]);
                m["training"]["y"] = json!(vec![0.5; n]);
                m["training"]["ids"] = json!(vec!["a"; n]);
            }),
            "training.rows",
        ),
        (
            "training rows that disagree with rows",
            edited("ols", &|m| {
                m["training"]["y"].as_array_mut().unwrap().pop();
            }),
            "training",
        ),
        (
            "a NaN-like training value",
            edited("ols", &|m| m["training"]["x"][0][0] = json!("NaN")),
            "training.x[0][0]",
        ),
        (
            "settings out of range",
            edited("rf", &|m| m["spec"]["n_trees"] = json!(0)),
            "rf:n_trees",
        ),
        (
            "another schema",
            edited("ols", &|m| m["schema"] = json!("spinfit.model/0")),
            "schema",
        ),
        (
            "no schema",
            edited("ols", &|m| {
                m.as_object_mut().unwrap().remove("schema");
            }),
            "schema",
        ),
    ] {
        v.push(predict(what, m, 1, &["m.json", field]));
    }
    v.push(
        predict("a model that is not JSON", json!(null), 1, &["m.json"])
            .file("m.json", "{ \"schema\": \"spinfit.model/1\", "),
    );
    v.push(
        case(
            "candidates without the model's features",
            &["ml", "predict", "m.json", "--candidates", "c.csv"],
            1,
            &["c.csv", "n_layers"],
        )
        .file("m.json", model("ols").to_string())
        .file(
            "c.csv",
            "compound,dipole_moment_D,mw_g_per_mol\nX,3.1,80.5\n",
        ),
    );
    v.push(
        case(
            "candidates with a word as a number",
            &["ml", "predict", "m.json", "--candidates", "c.csv"],
            1,
            &["c.csv", "line 2"],
        )
        .file("m.json", model("ols").to_string())
        .file(
            "c.csv",
            "compound,dipole_moment_D,mw_g_per_mol,n_layers\nX,big,80.5,1\n",
        ),
    );
    v
}

fn simulate_descriptors_series_and_sessions() -> Vec<Case> {
    let trfe = trfe_text();
    let mut v = vec![];
    for (args, says) in [
        (
            &[
                "simulate",
                "tr",
                "--out",
                "s.csv",
                "--points",
                "4000000000",
                "--tau",
                "7ps",
            ][..],
            "--points",
        ),
        (
            &["simulate", "tr", "--out", "s.csv", "--tau=-1ps"][..],
            "tau",
        ),
        (
            &["simulate", "tr", "--out", "s.csv", "--tau", "0ps"][..],
            "tau",
        ),
        (
            &[
                "simulate",
                "tr",
                "--out",
                "s.csv",
                "--tau",
                "7ps",
                "--irf-fwhm",
                "0ps",
            ][..],
            "irf",
        ),
        (
            &[
                "simulate", "tr", "--out", "s.csv", "--tau", "7ps", "--snr", "-3",
            ][..],
            "--snr",
        ),
        (
            &[
                "simulate", "tr", "--out", "s.csv", "--tau", "7ps", "--sweeps", "0",
            ][..],
            "--sweeps",
        ),
        (
            &[
                "simulate", "tr", "--out", "s.csv", "--tau", "7ps", "--dead", "XX:zero",
            ][..],
            "--dead",
        ),
        (
            &["simulate", "tr", "--out", "s.txt.bmp", "--tau", "7ps"][..],
            "s.txt.bmp",
        ),
        (
            &[
                "simulate",
                "trfe",
                "--out",
                "s.csv",
                "--field",
                "1e-300T",
                "--carrier",
                "1.4:100ps:1",
            ][..],
            "--field",
        ),
        (
            &[
                "simulate",
                "trfe",
                "--out",
                "s.csv",
                "--field",
                "0.4T",
                "--carrier",
                "1.4:-100ps:1",
            ][..],
            "--carrier",
        ),
        (
            &[
                "simulate",
                "trfe",
                "--out",
                "s.csv",
                "--field",
                "0.4T",
                "--carrier",
                "banana",
            ][..],
            "--carrier",
        ),
        (
            &[
                "simulate",
                "trfe",
                "--out",
                "s.csv",
                "--field",
                "0.4T",
                "--carrier",
                "1.4:100ps:1",
                "--from",
                "1ns",
                "--to",
                "0ps",
            ][..],
            "--from",
        ),
    ] {
        v.push(case(&args.join(" "), args, 1, &[says]));
    }
    for (f, says) in [
        ("(BA)0PbI4", "count"),
        ("Xx2PbI4", "Xx"),
        ("", "formula"),
        ("(((MA)PbI3", "unbalanced"),
        ("MAPbI3)", "formula"),
        ("MA2", "B-site"),
    ] {
        v.push(case(
            &format!("--formula {f:?}"),
            &["descriptors", "--formula", f],
            1,
            &["formula", says],
        ));
    }
    let deep = format!("{}MA{}PbI3", "(".repeat(20_000), ")".repeat(20_000));
    v.push(case(
        "20k nested parentheses",
        &["descriptors", "--formula", &deep],
        1,
        &["formula", "256"],
    ));
    v.push(case(
        "--radius -1",
        &["descriptors", "--formula", "MAPbI3", "--radius", "-1"],
        1,
        &["--radius"],
    ));
    // a cation request: the flags after `descriptors`, before the case's own
    let cation = |extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "descriptors",
            "--cation",
            "C[NH3+]:1",
            "--metal",
            "Pb",
            "--halide",
            "I",
        ]
        .iter()
        .chain(extra)
        .chain(&["--python", "/nonexistent/python", "--cache", "c"])
        .map(|s| s.to_string())
        .collect();
        v.dedup();
        v
    };
    let planted = (
        "c/cation-helper-000000000000.py",
        "import os; open('PWNED', 'w').write('x')",
    );
    for (what, extra, says, files) in [
        (
            "--layers 0",
            &["--layers", "0"][..],
            &["--layers"][..],
            &[][..],
        ),
        (
            "a missing Python",
            &["--layers", "1"],
            &["/nonexistent/python", "scripts/chem-env"],
            &[],
        ),
        (
            "a planted helper script is never run",
            &["--layers", "1"],
            &["scripts/chem-env"],
            &[planted],
        ),
    ] {
        let args = cation(extra);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        v.push(case(what, &args, 1, says).files(files));
    }
    v.push(
        case(
            "candidates without columns",
            &[
                "descriptors",
                "--candidates",
                "c.csv",
                "--python",
                "/nonexistent/python",
            ],
            1,
            &["c.csv", "cations"],
        )
        .file("c.csv", "name\nX\n"),
    );
    // gfactor and gspectrum
    let one = with_meta(
        &trfe,
        &[
            "# kind = trfe",
            "# field = 270 mT",
            "# sample = S",
            "# photon_energy = 1.69 eV",
        ],
    );
    v.push(
        case(
            "the same trace three times",
            &["gfactor", "a.csv", "b.csv", "c.csv"],
            1,
            &["b.csv", "the same trace as"],
        )
        .file("a.csv", one.clone())
        .file("b.csv", one.clone())
        .file("c.csv", one.clone()),
    );
    for (what, args, code, says) in [
        (
            "gfactor with one field says so",
            &["gfactor", "a.csv"][..],
            0,
            &["1 distinct non-zero fields"][..],
        ),
        (
            "gfactor --min-field nonsense",
            &["gfactor", "a.csv", "--min-field", "lots"],
            1,
            &["--min-field"],
        ),
        (
            "gfactor --larger neither",
            &["gfactor", "a.csv", "--larger", "muon"],
            1,
            &["--larger"],
        ),
        (
            "--kind is neither",
            &["session", "in", "--kind", "nmr"],
            1,
            &["--kind"],
        ),
    ] {
        v.push(case(what, args, code, says).files(&[("a.csv", &one), ("in/a.csv", &one)]));
    }
    for (what, args, says, json) in [
        (
            "gspectrum of non-JSON",
            &["gspectrum", "r.json"][..],
            &["r.json"][..],
            "not json",
        ),
        (
            "gspectrum of another schema",
            &["gspectrum", "r.json"],
            &["r.json", "schema"],
            "{\"schema\": \"spinfit.fit/1\"}",
        ),
        (
            "gspectrum --sign-e x",
            &["gspectrum", "r.json", "--sign-e", "x"],
            &["--sign-e"],
            "{}",
        ),
    ] {
        v.push(case(what, args, 1, says).file("r.json", json));
    }
    // sessions
    v.push(
        case(
            "a session of an empty folder",
            &["session", "in", "--out", "o"],
            1,
            &["in", "no data files"],
        )
        .file("in/readme.md", "x"),
    );
    v.push(
        case(
            "a symlink out of the folder is skipped and listed",
            &["session", "in", "--out", "o"],
            1,
            &["skipped", "outside the input folder"],
        )
        .file("secret/passwd.csv", "root:x:0:0\n")
        .file("in/a.csv", "delay_ps,signal\n1,2\n")
        .link("in/leak.csv", "{dir}/secret/passwd.csv"),
    );
    v.push(
        case(
            "--out is a file",
            &["session", "in", "--out", "o"],
            1,
            &["o"],
        )
        .file("in/a.csv", one.clone())
        .file("o", "a file"),
    );
    for (what, says, toml) in [
        (
            "a config that is not TOML",
            &["spinfit.toml"][..],
            "[read\ndelay_unit = ",
        ),
        (
            "a config with an unknown key",
            &["spinfit.toml", "colour"],
            "colour = \"blue\"\n",
        ),
        (
            "a config value of the wrong type",
            &["spinfit.toml", "min_field"],
            "min_field = 3\n",
        ),
    ] {
        v.push(
            case(what, &["session", "in"], 1, says)
                .files(&[("in/a.csv", &one), ("in/spinfit.toml", toml)]),
        );
    }
    for (what, line, says) in [
        (
            "a sample at 5000 K",
            "# temperature = 5000 K",
            "temperature",
        ),
        (
            "a fluence of 10 J/cm2",
            "# fluence = 10000 mJ/cm2",
            "fluence",
        ),
        (
            "a negative temperature",
            "# temperature = -4 K",
            "temperature",
        ),
    ] {
        let t = with_meta(&tr_text(), &["# kind = tr", line]);
        v.push(case(what, &["fit", "tr", "x.csv"], 1, &["x.csv", says]).file("x.csv", t));
    }
    // the other ML commands and the demo
    let sh = shared();
    let rf = sh
        .models
        .iter()
        .find(|(m, _)| m.starts_with("rf"))
        .unwrap()
        .1
        .clone();
    let mut looped = rf.clone();
    looped["state"]["forest_regressor"]["trees"][0]["nodes"][0]["true_child"] = json!(0);
    let cands = "compound,dipole_moment_D,mw_g_per_mol\nX,3.1,80.5\n";
    for (what, args, says) in [
        (
            "ml train with a nonsense setting",
            &[
                "ml",
                "train",
                "d.csv",
                "--model",
                "rf:n_trees=0",
                "--out",
                "m.json",
            ][..],
            &["rf:n_trees"][..],
        ),
        (
            "ml train into a missing folder",
            &[
                "ml",
                "train",
                "d.csv",
                "--model",
                "ols",
                "--out",
                "no/such/dir/m.json",
            ],
            &["no/such/dir"],
        ),
        (
            "ml explain of a looped tree",
            &["ml", "explain", "loop.json"],
            &["loop.json", "true_child"],
        ),
        (
            "ml screen without the model's features",
            &["ml", "screen", "rf.json", "--candidates", "c.csv"],
            &["c.csv", "n_layers"],
        ),
        (
            "ml learning-curve with a nonsense setting",
            &["ml", "learning-curve", "d.csv", "--model", "svr:c=0"],
            &["svr:c"],
        ),
        (
            "demo from a missing folder",
            &["demo", "--data", "nowhere", "--out", "o"],
            &["nowhere"],
        ),
    ] {
        v.push(
            case(what, args, 1, says)
                .file("d.csv", sh.dataset.clone())
                .file("rf.json", rf.to_string())
                .file("loop.json", looped.to_string())
                .file("c.csv", cands),
        );
    }
    // more readers: a column named twice, a sheet header twice, g results
    let tr = tr_text();
    v.push(
        case(
            "--delay and --signal the same column",
            &["fit", "tr", "x.csv", "--delay", "1", "--signal", "1"],
            1,
            &["x.csv", "--signal"],
        )
        .file("x.csv", tr.as_bytes()),
    );
    v.push(
        case(
            "import of a sheet with a header twice",
            &["dataset", "import", "s.csv", "--out", "o.csv"],
            1,
            &["s.csv", "`mu`", "overwrite"],
        )
        .file("s.csv", "sample,mu,MW,mu,rate\nA,1,2,3,0.5\n"),
    );
    let gres = |e: f64, g: f64, sd: f64| {
        json!({"schema": "spinfit.gfactor/1", "photon_energy": {"value": e, "unit": "eV"},
               "carriers": [{"carrier": "electron", "g": {"value": g, "stderr": sd, "unit": ""}}]})
        .to_string()
    };
    for (what, extra, code, says, json) in [
        (
            "gspectrum: a photon energy of 50 eV",
            &[][..],
            1,
            &["r.json", "photon_energy"][..],
            gres(50.0, 1.4, 0.01),
        ),
        (
            "gspectrum: |g| = 1e300",
            &[],
            1,
            &["r.json", "carriers[0].g"],
            gres(1.9, 1e300, 0.01),
        ),
        (
            "gspectrum: a negative g error",
            &[],
            1,
            &["r.json", "carriers[0].g"],
            gres(1.9, 1.4, -0.01),
        ),
        (
            "gspectrum --delta -1.5",
            &["--delta", "-1.5"],
            1,
            &["--delta"],
            gres(1.9, 1.4, 0.01),
        ),
        (
            "gspectrum: a good result",
            &[],
            0,
            &["1.9"],
            gres(1.9, 1.4, 0.01),
        ),
    ] {
        let mut args = vec!["gspectrum", "r.json"];
        args.extend(extra);
        v.push(case(what, &args, code, says).file("r.json", json));
    }
    v.push(case(
        "--jobs 0",
        &["fit", "tr", "x.csv", "--jobs", "0"],
        2,
        &["--jobs"],
    ));
    v.push(case(
        "--max-input-mb 0",
        &["fit", "tr", "x.csv", "--max-input-mb", "0"],
        2,
        &["--max-input-mb"],
    ));
    v
}

/// Every case of every area, run together: at least 150.
#[test]
fn hostile_inputs_get_clear_errors_and_the_right_exit_code() {
    let mut all = vec![];
    for area in [
        scan_files_and_fit_flags,
        maps_and_hdf5,
        dataset_commands,
        ml_settings_and_saved_models,
        simulate_descriptors_series_and_sessions,
    ] {
        all.extend(area());
    }
    assert!(all.len() >= 150, "only {} cases", all.len());
    eprintln!("{} hostile cases", all.len());
    run_all(all);
}
