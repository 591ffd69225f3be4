//! The quantum-chemistry helper (scripts/chem/cation.py, compiled into the
//! binary) run in the project's Python environment, with a cache.
//!
//! RDKit and PySCF do the chemistry; nothing of it is re-implemented here.
//! Each request (SMILES and settings) is keyed by the SHA-256 of the request
//! and of the helper's own text, so a cation is computed once per recipe and
//! a changed recipe never reuses old numbers. Cache entries are written
//! atomically. Missing cations run in parallel, one process per core, the
//! cores shared out as OpenMP threads.

use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The helper's source, as shipped with this build.
pub const SCRIPT: &str = include_str!("../../scripts/chem/cation.py");

/// First 12 hex digits of the SHA-256 of the helper's text.
fn script_hash() -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(SCRIPT.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// How a conformer is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Rule {
    /// Lowest MMFF94 energy.
    Lowest,
    /// Longest interatomic distance among all distinct conformers.
    Extended,
}

/// One cation to compute, with every setting that changes the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    pub smiles: String,
    pub rule: Rule,
    /// Conformers embedded before MMFF optimisation.
    pub conformers: usize,
    /// Conformers (within the energy window) over which the spread is given.
    pub spread: usize,
    pub window_kcal: f64,
    pub seed: u64,
    pub basis: String,
}

impl Request {
    pub fn new(smiles: &str, rule: Rule) -> Request {
        Request {
            smiles: smiles.to_string(),
            rule,
            conformers: 30,
            spread: 3,
            window_kcal: 3.0,
            seed: 42,
            basis: "6-311G**".into(),
        }
    }

    /// Cache key: SHA-256 of the request and of the helper's text.
    pub fn key(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(serde_json::to_string(self).unwrap_or_default());
        h.update(SCRIPT);
        h.finalize()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// The Hartree-Fock descriptors of one geometry.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SinglePoint {
    #[serde(rename = "homo_eV")]
    pub homo_ev: f64,
    #[serde(rename = "lumo_eV")]
    pub lumo_ev: f64,
    /// About the centre of mass.
    #[serde(rename = "dipole_D")]
    pub dipole_d: f64,
    /// Isotropic, from coupled-perturbed HF.
    pub polarisability_bohr3: f64,
}

/// The descriptors of one conformer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Values {
    #[serde(flatten)]
    pub hf: SinglePoint,
    /// Organic radius (A) from the geometry, by spinfit's rule.
    #[serde(rename = "radius_A")]
    pub radius_a: f64,
}

/// One conformer's Hartree-Fock single point and geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conformer {
    #[serde(flatten)]
    pub hf: SinglePoint,
    pub scf_energy_hartree: f64,
    pub mmff_kcal_above_lowest: f64,
    /// (element, x, y, z) in angstrom, centred on the centre of mass.
    pub geometry: Vec<(String, f64, f64, f64)>,
}

impl Conformer {
    pub fn values(&self) -> Values {
        let xyz: Vec<[f64; 3]> = self.geometry.iter().map(|a| [a.1, a.2, a.3]).collect();
        Values {
            hf: self.hf,
            radius_a: crate::dataset::composition::organic_radius(&xyz),
        }
    }
}

/// Range of a descriptor over low-energy conformers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// What the helper returns for one cation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cation {
    pub smiles: String,
    pub canonical_smiles: String,
    /// Molecular formula with charge, e.g. `C4H12N+`.
    pub formula: String,
    pub charge: i32,
    pub settings: serde_json::Value,
    pub distinct_conformers: usize,
    pub in_window: usize,
    /// The chosen conformer first, then the others of the spread.
    pub conformers: Vec<Conformer>,
    pub packages: serde_json::Value,
}

impl Cation {
    /// The chosen conformer's descriptors.
    pub fn descriptors(&self) -> Values {
        self.conformers[0].values()
    }

    /// (min, max) of a descriptor over the computed conformers.
    pub fn spread(&self, f: impl Fn(&Values) -> f64) -> Range {
        let v: Vec<f64> = self.conformers.iter().map(|c| f(&c.values())).collect();
        Range {
            min: v.iter().copied().fold(f64::INFINITY, f64::min),
            max: v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    }
}

/// Where the helper runs and where its answers are kept.
#[derive(Debug, Clone)]
pub struct Helper {
    pub python: PathBuf,
    pub cache: PathBuf,
}

impl Helper {
    /// `SPINFIT_PYTHON`, else the environment scripts/setup creates.
    pub fn default_python() -> PathBuf {
        std::env::var_os("SPINFIT_PYTHON").map_or_else(
            || {
                PathBuf::from(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/target/chem-venv/bin/python"
                ))
            },
            PathBuf::from,
        )
    }

    /// `$XDG_CACHE_HOME/spinfit/cations`, else `~/.cache/spinfit/cations`.
    pub fn default_cache() -> PathBuf {
        let base = std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
            .unwrap_or_else(std::env::temp_dir);
        base.join("spinfit").join("cations")
    }

    fn entry(&self, r: &Request) -> PathBuf {
        self.cache.join(format!("{}.json", r.key()))
    }

    /// A cached answer, if there is a usable one (an unreadable or empty
    /// entry counts as missing and is computed again).
    pub fn cached(&self, r: &Request) -> Option<Cation> {
        let text = std::fs::read_to_string(self.entry(r)).ok()?;
        serde_json::from_str::<Cation>(&text)
            .ok()
            .filter(|c| !c.conformers.is_empty())
    }

    /// Compute every request (cached ones are read back); `tick` after each.
    /// Results are in request order; a failure is that cation's error.
    pub fn compute(&self, reqs: &[Request], tick: &(dyn Fn() + Sync)) -> Vec<Result<Cation>> {
        if let Err(e) = std::fs::create_dir_all(&self.cache) {
            let msg = format!("{}: {e}", self.cache.display());
            return reqs
                .iter()
                .map(|_| Err(Error::setting("cache", msg.clone())))
                .collect();
        }
        let script = self
            .cache
            .join(format!("cation-helper-{}.py", script_hash()));
        let ready = if script.exists() {
            Ok(())
        } else {
            crate::io_util::write_atomic(&script, SCRIPT.as_bytes())
        };
        // each cache entry is read once; the missing ones share the cores
        // as OpenMP threads
        let cached: Vec<Option<Cation>> = reqs.iter().map(|r| self.cached(r)).collect();
        let missing = cached.iter().filter(|c| c.is_none()).count();
        let cores = rayon::current_num_threads();
        let threads = (cores / missing.clamp(1, cores)).max(1);
        reqs.par_iter()
            .zip(cached)
            .with_max_len(1)
            .map(|(r, hit)| {
                let out = match (&ready, hit) {
                    (_, Some(c)) => Ok(c),
                    (Err(e), None) => Err(Error::setting("helper", e.to_string())),
                    (Ok(()), None) => self.run(&script, r, threads),
                };
                tick();
                out
            })
            .collect()
    }

    fn run(&self, script: &Path, r: &Request, threads: usize) -> Result<Cation> {
        use std::io::Write;
        let what = format!("cation `{}`", r.smiles);
        if !self.python.exists() {
            return Err(Error::setting(
                "python",
                format!(
                    "{} not found: run scripts/setup (it creates the RDKit/PySCF environment) or set SPINFIT_PYTHON",
                    self.python.display()
                ),
            ));
        }
        let mut child = Command::new(&self.python)
            .arg(script)
            .env("OMP_NUM_THREADS", threads.to_string())
            .env("PYTHONHASHSEED", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| Error::setting("python", format!("{}: {e}", self.python.display())))?;
        let body = serde_json::to_string(r).map_err(|e| Error::setting(&what, e.to_string()))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(body.as_bytes())
                .map_err(|e| Error::setting(&what, e.to_string()))?;
        }
        let out = child
            .wait_with_output()
            .map_err(|e| Error::setting(&what, e.to_string()))?;
        let text = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value = serde_json::from_str(text.trim()).map_err(|_| {
            Error::setting(
                &what,
                format!(
                    "the helper failed (exit {:?}): {}",
                    out.status.code(),
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .last()
                        .unwrap_or("no message")
                ),
            )
        })?;
        if let Some(e) = v.get("error").and_then(|e| e.as_str()) {
            return Err(Error::setting(&what, e.to_string()));
        }
        let c: Cation =
            serde_json::from_value(v).map_err(|e| Error::setting(&what, e.to_string()))?;
        if c.conformers.is_empty() {
            return Err(Error::setting(&what, "the helper returned no conformer"));
        }
        let text =
            serde_json::to_string_pretty(&c).map_err(|e| Error::setting(&what, e.to_string()))?;
        crate::io_util::write_atomic(&self.entry(r), text.as_bytes())?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_cache_entry_counts_as_missing() {
        let dir = tempfile::tempdir().unwrap();
        let h = Helper {
            python: PathBuf::from("/nonexistent/python"),
            cache: dir.path().to_path_buf(),
        };
        let r = Request::new("C[NH3+]", Rule::Lowest);
        let empty = serde_json::json!({
            "smiles": "C[NH3+]", "canonical_smiles": "C[NH3+]", "formula": "CH6N+",
            "charge": 1, "settings": null, "distinct_conformers": 1, "in_window": 1,
            "conformers": [], "packages": null,
        });
        std::fs::write(h.entry(&r), empty.to_string()).unwrap();
        assert!(h.cached(&r).is_none());
        std::fs::write(h.entry(&r), "{ not json").unwrap();
        assert!(h.cached(&r).is_none());
        // and a missing entry is computed: here, with no Python, a clear error
        let e = h.compute(&[r], &|| {}).remove(0).unwrap_err().to_string();
        assert!(e.contains("scripts/setup"), "{e}");
    }
}
