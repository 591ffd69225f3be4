//! Helpers shared by the integration tests.
#![allow(dead_code)] // not every helper is used by every module

use assert_cmd::Command;
use std::path::{Path, PathBuf};

/// The spinfit binary of this build.
pub fn spinfit() -> Command {
    Command::cargo_bin("spinfit").unwrap()
}

/// A bundled (synthetic) example file.
pub fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/data")
        .join(name)
}

/// The paper's sheet in the repository (fixtures/srr/).
pub fn sheet() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/srr/data.xlsx")
}

/// Require exit code 0, showing the command's stderr otherwise.
pub fn assert_ok(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Run spinfit with `args` and `--plot FIG.svg` in `dir`; require success.
/// Returns the command's stdout and the figure's SVG text.
pub fn with_figure(dir: &Path, args: &[&std::ffi::OsStr]) -> (Vec<u8>, String) {
    let svg = dir.join("figure.svg");
    let out = spinfit()
        .args(args)
        .arg("--plot")
        .arg(&svg)
        .output()
        .unwrap();
    assert_ok(&out);
    (out.stdout, std::fs::read_to_string(&svg).unwrap())
}

/// The paper's sheet imported into `dir` as a spinfit dataset (CSV).
pub fn imported(dir: &Path) -> PathBuf {
    let p = dir.join("d.csv");
    spinfit()
        .args(["dataset", "import"])
        .arg(sheet())
        .arg("--out")
        .arg(&p)
        .assert()
        .success();
    p
}
