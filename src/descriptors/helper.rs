//! The quantum-chemistry helper (scripts/chem/cation.py, compiled into the
//! binary) run in the project's Python environment, with a cache.
//!
//! RDKit and PySCF do the chemistry; nothing of it is re-implemented here.
//! Each request (SMILES and settings) is keyed by the SHA-256 of the request
//! and of the helper's own text, so a cation is computed once per recipe and
//! a changed recipe never reuses old numbers. Missing cations run in
//! parallel, one process per core, the cores shared out as OpenMP threads.
//!
//! Nothing in the cache is ever run or trusted. The helper's code comes
//! from this binary only: it is passed to `python -I -c` (isolated mode:
//! no PYTHON* variables, no user site, no current folder on the import
//! path), never written to or read from the cache folder. A cache entry
//! ([`CACHE_SCHEMA`]) carries the request it answers, the helper's hash and
//! the SHA-256 of its result; an entry whose schema, request, helper or
//! hash does not match, or whose values are not physical (see
//! [`Cation::check`]), is computed again. The helper's own answers are
//! checked the same way before they are used or cached.

use crate::error::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::process::{Command, Stdio};

/// The helper's source, as shipped with this build.
pub const SCRIPT: &str = include_str!("../../scripts/chem/cation.py");

/// Schema of a cache entry.
pub const CACHE_SCHEMA: &str = "spinfit.cation-cache/1";

/// SHA-256 of the helper's text, hex.
fn script_hash() -> String {
    crate::io_util::sha256_hex(SCRIPT.as_bytes())
}

/// Plausible ranges of the helper's numbers (a cation of a perovskite).
const DIPOLE_MAX_D: f64 = 100.0;
const POLARISABILITY_MAX_BOHR3: f64 = 1e4;
const ORBITAL_MAX_EV: f64 = 100.0;

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
    /// Refuse numbers no molecule has: non-finite values, a dipole outside
    /// 0..100 D, a polarisability outside (0, 1e4] bohr^3, orbital energies
    /// beyond +-100 eV or a LUMO below the HOMO, an empty geometry, or an
    /// answer for another molecule than `smiles`.
    pub fn check(&self, smiles: &str) -> std::result::Result<(), String> {
        if self.smiles != smiles {
            return Err(format!("answers `{}`, not `{smiles}`", self.smiles));
        }
        if self.conformers.is_empty() {
            return Err("no conformer".into());
        }
        if self.canonical_smiles.is_empty() || self.formula.is_empty() {
            return Err("no canonical SMILES or formula".into());
        }
        for (i, c) in self.conformers.iter().enumerate() {
            let hf = &c.hf;
            let bad =
                |what: &str, v: f64| Err(format!("conformer {i}: {what} = {v} is not physical"));
            if !(hf.dipole_d.is_finite() && (0.0..=DIPOLE_MAX_D).contains(&hf.dipole_d)) {
                return bad("dipole (D)", hf.dipole_d);
            }
            if !(hf.polarisability_bohr3.is_finite()
                && hf.polarisability_bohr3 > 0.0
                && hf.polarisability_bohr3 <= POLARISABILITY_MAX_BOHR3)
            {
                return bad("polarisability (bohr^3)", hf.polarisability_bohr3);
            }
            for (what, v) in [("HOMO (eV)", hf.homo_ev), ("LUMO (eV)", hf.lumo_ev)] {
                if !(v.is_finite() && v.abs() <= ORBITAL_MAX_EV) {
                    return bad(what, v);
                }
            }
            if hf.lumo_ev <= hf.homo_ev {
                return Err(format!(
                    "conformer {i}: LUMO {} eV not above HOMO {} eV",
                    hf.lumo_ev, hf.homo_ev
                ));
            }
            if !(c.scf_energy_hartree.is_finite() && c.mmff_kcal_above_lowest.is_finite()) {
                return bad("energy", c.scf_energy_hartree);
            }
            if c.geometry.is_empty()
                || c.geometry.iter().any(|a| {
                    ![a.1, a.2, a.3]
                        .iter()
                        .all(|x| x.is_finite() && x.abs() < 1e3)
                })
            {
                return Err(format!("conformer {i}: empty or non-finite geometry"));
            }
        }
        Ok(())
    }

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
    /// `SPINFIT_PYTHON`, else the environment scripts/chem-env creates.
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

    /// A cached answer, if there is a trustworthy one: the entry's schema,
    /// request, helper hash and result hash match and its values pass
    /// [`Cation::check`]. Anything else counts as missing.
    pub fn cached(&self, r: &Request) -> Option<Cation> {
        let text = crate::io_util::read_text(&self.entry(r)).ok()?;
        let v: serde_json::Value = serde_json::from_str(&text).ok()?;
        let request: Request = serde_json::from_value(v.get("request")?.clone()).ok()?;
        let result = v.get("result")?;
        let ok = v["schema"] == CACHE_SCHEMA
            && request == *r
            && v["helper_sha256"] == script_hash().as_str()
            && v["result_sha256"]
                == crate::io_util::sha256_hex(result.to_string().as_bytes()).as_str();
        if !ok {
            return None;
        }
        let c: Cation = serde_json::from_value(result.clone()).ok()?;
        c.check(&r.smiles).is_ok().then_some(c)
    }

    /// Write a checked answer to the cache.
    fn store(&self, r: &Request, c: &Cation) -> Result<()> {
        let result = serde_json::to_value(c).map_err(|e| Error::setting("cache", e.to_string()))?;
        let entry = serde_json::json!({
            "schema": CACHE_SCHEMA,
            "request": r,
            "helper_sha256": script_hash(),
            "result_sha256": crate::io_util::sha256_hex(result.to_string().as_bytes()),
            "result": result,
        });
        let text = serde_json::to_string_pretty(&entry)
            .map_err(|e| Error::setting("cache", e.to_string()))?;
        crate::io_util::write_atomic(&self.entry(r), text.as_bytes())
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
                let out = match hit {
                    Some(c) => Ok(c),
                    None => self.run(r, threads),
                };
                tick();
                out
            })
            .collect()
    }

    fn run(&self, r: &Request, threads: usize) -> Result<Cation> {
        use std::io::Write;
        let what = format!("cation `{}`", r.smiles);
        if !self.python.exists() {
            return Err(Error::setting(
                "python",
                format!(
                    "{} not found: run scripts/chem-env (it creates the RDKit/PySCF environment, about 650 MB from PyPI) or set SPINFIT_PYTHON",
                    self.python.display()
                ),
            ));
        }
        let mut child = Command::new(&self.python)
            .args(["-I", "-c", SCRIPT])
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
        c.check(&r.smiles)
            .map_err(|e| Error::setting(&what, format!("the helper's answer is refused: {e}")))?;
        self.store(r, &c)?;
        Ok(c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(smiles: &str) -> Cation {
        let hf = SinglePoint {
            homo_ev: -15.0,
            lumo_ev: -3.0,
            dipole_d: 2.0,
            polarisability_bohr3: 30.0,
        };
        Cation {
            smiles: smiles.into(),
            canonical_smiles: smiles.into(),
            formula: "CH6N+".into(),
            charge: 1,
            settings: serde_json::Value::Null,
            distinct_conformers: 1,
            in_window: 1,
            conformers: vec![Conformer {
                hf,
                scf_energy_hartree: -95.0,
                mmff_kcal_above_lowest: 0.0,
                geometry: vec![("C".into(), 0.0, 0.0, 0.0), ("N".into(), 1.5, 0.0, 0.0)],
            }],
            packages: serde_json::Value::Null,
        }
    }

    #[test]
    fn cache_entries_are_trusted_only_when_every_check_passes() {
        let dir = tempfile::tempdir().unwrap();
        let h = Helper {
            python: PathBuf::from("/nonexistent/python"),
            cache: dir.path().to_path_buf(),
        };
        let r = Request::new("C[NH3+]", Rule::Lowest);
        h.store(&r, &sample("C[NH3+]")).unwrap();
        assert_eq!(h.cached(&r), Some(sample("C[NH3+]")));
        let entry: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(h.entry(&r)).unwrap()).unwrap();
        let tampered = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut e = entry.clone();
            f(&mut e);
            std::fs::write(h.entry(&r), e.to_string()).unwrap();
            h.cached(&r)
        };
        // a value edited without its hash, an old schema, another request,
        // another helper: all count as missing
        assert!(tampered(&|e| e["result"]["conformers"][0]["dipole_D"] = 1e300.into()).is_none());
        assert!(tampered(&|e| e["schema"] = "spinfit.cation-cache/0".into()).is_none());
        assert!(tampered(&|e| e["request"]["seed"] = 7.into()).is_none());
        assert!(tampered(&|e| e["helper_sha256"] = "0".repeat(64).into()).is_none());
        // unphysical values are refused even with a matching hash
        let mut bad = sample("C[NH3+]");
        bad.conformers[0].hf.polarisability_bohr3 = -5.0;
        h.store(&r, &bad).unwrap();
        assert!(h.cached(&r).is_none());
        // an answer for another molecule is refused
        h.store(&r, &sample("CC[NH3+]")).unwrap();
        assert!(h.cached(&r).is_none());
        std::fs::write(h.entry(&r), "{ not json").unwrap();
        assert!(h.cached(&r).is_none());
        // a missing entry is computed: here, with no Python, a clear error
        let e = h.compute(&[r], &|| {}).remove(0).unwrap_err().to_string();
        assert!(e.contains("scripts/chem-env"), "{e}");
    }

    #[test]
    fn physical_checks_name_what_is_wrong() {
        let mut c = sample("C[NH3+]");
        assert!(c.check("C[NH3+]").is_ok());
        c.conformers[0].hf.dipole_d = 1e300;
        assert!(c.check("C[NH3+]").unwrap_err().contains("dipole"));
        let mut c = sample("C[NH3+]");
        c.conformers[0].hf.lumo_ev = -20.0;
        assert!(c.check("C[NH3+]").unwrap_err().contains("LUMO"));
        let mut c = sample("C[NH3+]");
        c.conformers[0].geometry[0].1 = f64::NAN;
        assert!(c.check("C[NH3+]").unwrap_err().contains("geometry"));
    }
}
