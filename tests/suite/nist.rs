//! NIST StRD nonlinear regression problems (fixtures/nist-strd/),
//! solved from both certified starting points and compared with the
//! certified parameters and standard deviations.
//!
//! Models use a numerical (central-difference) Jacobian, as a user's ad-hoc
//! model would. Agreement is measured as the log relative error
//! LRE = -log10(|estimate - certified| / |certified|), i.e. the number of
//! matching significant digits.

use spinfit::fit::model::FnModel;
use spinfit::fit::{LmOptions, Param, Params, Solver, fit};
use std::f64::consts::PI;
use std::path::PathBuf;

struct Problem {
    name: String,
    starts: [Vec<f64>; 2],
    cert: Vec<f64>,
    cert_sd: Vec<f64>,
    cert_rss: f64,
    y: Vec<f64>,
    /// predictor columns, one Vec per data row
    x: Vec<Vec<f64>>,
}

fn data_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/nist-strd")
}

fn parse(path: &std::path::Path) -> Problem {
    let text = std::fs::read_to_string(path).expect("NIST file readable");
    let mut starts = [vec![], vec![]];
    let (mut cert, mut cert_sd) = (vec![], vec![]);
    let mut cert_rss = f64::NAN;
    let mut data = vec![];
    let mut in_data = false;
    let mut data_headers = 0;
    for line in text.lines() {
        let t = line.trim();
        if in_data {
            let v: Vec<f64> = t
                .split_whitespace()
                .filter_map(|s| s.parse().ok())
                .collect();
            if !v.is_empty() {
                data.push(v);
            }
            continue;
        }
        if t.starts_with("Data:") {
            data_headers += 1;
            // the second "Data:" line is the column header of the data block
            if data_headers == 2 {
                in_data = true;
            }
            continue;
        }
        if let Some(rest) = t.strip_prefix("Residual Sum of Squares:") {
            cert_rss = rest.trim().parse().unwrap();
        }
        let mut words = t.split_whitespace();
        if let (Some(b), Some("=")) = (words.next(), words.next())
            && b.starts_with('b')
            && b[1..].parse::<usize>().is_ok()
        {
            let v: Vec<f64> = words.map(|s| s.parse().unwrap()).collect();
            starts[0].push(v[0]);
            starts[1].push(v[1]);
            cert.push(v[2]);
            cert_sd.push(v[3]);
        }
    }
    let y = data.iter().map(|r| r[0]).collect();
    let x = data.iter().map(|r| r[1..].to_vec()).collect();
    Problem {
        name: path.file_stem().unwrap().to_string_lossy().into(),
        starts,
        cert,
        cert_sd,
        cert_rss,
        y,
        x,
    }
}

/// The model formula stated in each file, as f(b, x-row).
fn model(name: &str) -> fn(&[f64], &[f64]) -> f64 {
    match name {
        "Misra1a" | "BoxBOD" => |b, x| b[0] * (1.0 - (-b[1] * x[0]).exp()),
        "Chwirut1" | "Chwirut2" => |b, x| (-b[0] * x[0]).exp() / (b[1] + b[2] * x[0]),
        "Lanczos1" | "Lanczos2" | "Lanczos3" => |b, x| {
            b[0] * (-b[1] * x[0]).exp() + b[2] * (-b[3] * x[0]).exp() + b[4] * (-b[5] * x[0]).exp()
        },
        "Gauss1" | "Gauss2" | "Gauss3" => |b, x| {
            b[0] * (-b[1] * x[0]).exp()
                + b[2] * (-((x[0] - b[3]) / b[4]).powi(2)).exp()
                + b[5] * (-((x[0] - b[6]) / b[7]).powi(2)).exp()
        },
        "DanWood" => |b, x| b[0] * x[0].powf(b[1]),
        "Misra1b" => |b, x| b[0] * (1.0 - (1.0 + b[1] * x[0] / 2.0).powi(-2)),
        "Kirby2" => |b, x| {
            (b[0] + b[1] * x[0] + b[2] * x[0] * x[0]) / (1.0 + b[3] * x[0] + b[4] * x[0] * x[0])
        },
        "Hahn1" | "Thurber" => |b, x| {
            let v = x[0];
            (b[0] + b[1] * v + b[2] * v * v + b[3] * v * v * v)
                / (1.0 + b[4] * v + b[5] * v * v + b[6] * v * v * v)
        },
        // response is log(y); see the response transform below
        "Nelson" => |b, x| b[0] - b[1] * x[0] * (-b[2] * x[1]).exp(),
        "MGH17" => |b, x| b[0] + b[1] * (-x[0] * b[3]).exp() + b[2] * (-x[0] * b[4]).exp(),
        "ENSO" => |b, x| {
            let v = x[0];
            b[0] + b[1] * (2.0 * PI * v / 12.0).cos()
                + b[2] * (2.0 * PI * v / 12.0).sin()
                + b[4] * (2.0 * PI * v / b[3]).cos()
                + b[5] * (2.0 * PI * v / b[3]).sin()
                + b[7] * (2.0 * PI * v / b[6]).cos()
                + b[8] * (2.0 * PI * v / b[6]).sin()
        },
        "Misra1c" => |b, x| b[0] * (1.0 - (1.0 + 2.0 * b[1] * x[0]).powf(-0.5)),
        "Misra1d" => |b, x| b[0] * b[1] * x[0] / (1.0 + b[1] * x[0]),
        "Roszman1" => |b, x| b[0] - b[1] * x[0] - (b[2] / (x[0] - b[3])).atan() / PI,
        "MGH09" => |b, x| b[0] * (x[0] * x[0] + x[0] * b[1]) / (x[0] * x[0] + x[0] * b[2] + b[3]),
        "Rat42" => |b, x| b[0] / (1.0 + (b[1] - b[2] * x[0]).exp()),
        "MGH10" => |b, x| b[0] * (b[1] / (x[0] + b[2])).exp(),
        "Eckerle4" => |b, x| (b[0] / b[1]) * (-0.5 * ((x[0] - b[2]) / b[1]).powi(2)).exp(),
        "Rat43" => |b, x| b[0] / (1.0 + (b[1] - b[2] * x[0]).exp()).powf(1.0 / b[3]),
        "Bennett5" => |b, x| b[0] * (b[1] + x[0]).powf(-1.0 / b[2]),
        other => panic!("no model for NIST problem {other}"),
    }
}

fn lre(est: f64, cert: f64) -> f64 {
    if est == cert {
        return 15.0;
    }
    (-((est - cert).abs() / cert.abs()).log10()).min(15.0)
}

/// Fit one problem from one start; returns the minimum LRE over parameters,
/// standard deviations and the residual sum of squares, and a note.
///
/// The RSS is held to the precision the data allow in f64: each y_i is
/// stored with up to half an ulp of rounding, which moves the RSS by up to
/// sum |r_i| |y_i| eps. For Lanczos1 (RSS 1.4e-25, residuals ~8e-14 on
/// values ~1) that is 2.2 digits, so no f64 program can match its RSS to 6;
/// there the RSS must reach the attainable digits and the parameters and
/// standard deviations carry the 6-digit test.
fn solve(p: &Problem, start: usize, solver: Solver) -> (f64, String) {
    let f = model(&p.name);
    let rows = p.x.clone();
    let y: Vec<f64> = if p.name == "Nelson" {
        p.y.iter().map(|v| v.ln()).collect()
    } else {
        p.y.clone()
    };
    // x is the row index; the closure looks up the predictor row.
    let m = FnModel {
        name: p.name.clone(),
        params: Params(
            p.starts[start]
                .iter()
                .enumerate()
                .map(|(i, v)| Param::new(format!("b{}", i + 1), *v, ""))
                .collect(),
        ),
        f: move |b: &[f64], i: f64| f(b, &rows[i as usize]),
    };
    let idx: Vec<f64> = (0..y.len()).map(|i| i as f64).collect();
    let opts = LmOptions {
        patience: 2000,
        solver,
        ..LmOptions::default()
    };
    let r = fit(&m, &idx, &y, None, &m.params, &opts).expect("fit runs");
    let noise: f64 = r
        .residual
        .iter()
        .zip(&y)
        .map(|(ri, yi)| ri.abs() * yi.abs() * f64::EPSILON)
        .sum();
    // digits the data allow: the RSS's, and the sds' (sd ~ sqrt(RSS), so
    // half the relative error: log10(2) digits more)
    let attainable = if noise > 0.0 {
        -(noise / p.cert_rss).log10()
    } else {
        15.0
    };
    let floor = |digits: f64, allowed: f64| {
        if allowed < 6.0 && digits >= allowed {
            15.0
        } else {
            digits
        }
    };
    let rss = lre(r.chisqr, p.cert_rss);
    let mut worst = floor(rss, attainable);
    let mut worst_sd = 15.0f64;
    for j in 0..p.cert.len() {
        worst = worst.min(lre(r.params.0[j].value, p.cert[j]));
        worst_sd = worst_sd.min(lre(r.stderr[j].unwrap_or(f64::NAN), p.cert_sd[j]));
    }
    worst = worst.min(floor(worst_sd, attainable + 2f64.log10()));
    let note = if attainable < 6.0 {
        format!(
            " (RSS {rss:.2} and sd {worst_sd:.2} digits, where f64 data allow {attainable:.2} and {:.2})",
            attainable + 2f64.log10()
        )
    } else {
        String::new()
    };
    if std::env::var("NIST_DEBUG").is_ok_and(|v| v == p.name) {
        eprintln!(
            "{r}\ncert {:?} sd {:?} rss {}",
            p.cert, p.cert_sd, p.cert_rss
        );
    }
    (if worst.is_nan() { 0.0 } else { worst }, note)
}

/// Solve all 27 problems from both starts; (report, count >= 6 digits,
/// count >= 4 digits).
fn certify(solver: Solver) -> (String, usize, usize) {
    let mut files: Vec<_> = std::fs::read_dir(data_dir())
        .expect("fixtures/nist-strd in the repository")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "dat"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 27, "expected the 27 NIST StRD problems");
    let (mut six, mut four) = (0, 0);
    let mut report = String::new();
    for path in &files {
        let p = parse(path);
        assert!(
            !p.y.is_empty() && p.cert.len() == p.starts[0].len(),
            "{}",
            p.name
        );
        for s in 0..2 {
            let (l, note) = solve(&p, s, solver);
            six += (l >= 6.0) as usize;
            four += (l >= 4.0) as usize;
            report.push_str(&format!(
                "{:10} start {}: {:5.2} digits{note}\n",
                p.name,
                s + 1,
                l
            ));
        }
    }
    (report, six, four)
}

#[test]
fn nist_strd_minpack() {
    let (report, six, four) = certify(Solver::Minpack);
    println!(
        "{report}NIST StRD, MINPACK solver: {six}/54 fits match to 6 digits, {four}/54 to 4 digits"
    );
    assert!(six >= 50, "too few NIST problems at 6 digits:\n{report}");
}

#[test]
fn nist_strd_marquardt() {
    let (report, six, four) = certify(Solver::Marquardt);
    println!(
        "{report}NIST StRD, Marquardt solver: {six}/54 fits match to 6 digits, {four}/54 to 4 digits"
    );
    assert_eq!(
        six, 54,
        "the default solver must solve every NIST problem to 6 digits:\n{report}"
    );
}
