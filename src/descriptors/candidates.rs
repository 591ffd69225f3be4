//! Candidate compositions from a CSV, as labs would list them:
//!
//! ```text
//! name,cations,metal,halide,layers
//! (EOA)2(FA)3Pb4I13,OCC[NH3+]:2;NC=[NH2+]:3,Pb,I,4
//! MAPbI3,C[NH3+]:1,Pb,I,3d
//! ```
//! `cations` lists `SMILES:count` separated by `;` (or whitespace).

use super::{Candidate, Part, parse_layers};
use crate::error::{Error, Result};
use nalgebra::DMatrix;
use std::path::Path;

/// Whether a CSV header names SMILES candidates (a `cations` column).
pub fn is_smiles_csv(path: &Path) -> bool {
    crate::io_util::open_csv(path)
        .map(|(_, _, h)| h.iter().any(|c| c == "cations"))
        .unwrap_or(false)
}

/// Read candidates; every problem names the file, line and column.
pub fn read(path: &Path) -> Result<Vec<Candidate>> {
    let (src, mut rd, header) = crate::io_util::open_csv(path)?;
    let col = |name: &str| {
        header.iter().position(|h| h == name).ok_or_else(|| {
            Error::input(
                &src,
                format!(
                    "no column `{name}`; expected name,cations,metal,halide,layers (columns are: {})",
                    header.join(", ")
                ),
            )
        })
    };
    let (ci, mi, hi, li) = (
        col("cations")?,
        col("metal")?,
        col("halide")?,
        col("layers")?,
    );
    let ni = header
        .iter()
        .position(|h| h == "name" || h == "compound" || h == "sample");
    let mut out = vec![];
    for (k, rec) in rd.records().enumerate() {
        let line = k + 2;
        let rec = rec.map_err(|e| Error::at_line(&src, line, e.to_string()))?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim().to_string();
        let at = |e: Error| Error::at_line(&src, line, e.to_string());
        let parts = get(ci)
            .split([';', ' '])
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<Part>())
            .collect::<Result<Vec<Part>>>()
            .map_err(at)?;
        if parts.is_empty() {
            return Err(Error::at_line(&src, line, "column `cations`: empty"));
        }
        let (metal, halide) = (get(mi), get(hi));
        for (what, v) in [("metal", &metal), ("halide", &halide)] {
            if v.is_empty() {
                return Err(Error::at_line(
                    &src,
                    line,
                    format!("column `{what}`: empty"),
                ));
            }
        }
        out.push(Candidate {
            name: ni
                .map(get)
                .filter(|s| !s.is_empty())
                .unwrap_or(format!("row {}", k + 1)),
            parts,
            metal,
            halide,
            layers: parse_layers(&get(li)).map_err(at)?,
        });
    }
    if out.is_empty() {
        return Err(Error::input(&src, "no candidate rows"));
    }
    Ok(out)
}

/// The named descriptor columns of computed rows, as a model's input matrix.
pub fn matrix(rows: &[super::Row], features: &[String]) -> Result<DMatrix<f64>> {
    let idx: Vec<usize> = features
        .iter()
        .map(|f| {
            crate::dataset::DESCRIPTORS
                .iter()
                .position(|d| d.0 == f)
                .ok_or_else(|| {
                    Error::setting(
                        "features",
                        format!("the model uses `{f}`, which is not a descriptor computed from a molecule"),
                    )
                })
        })
        .collect::<Result<_>>()?;
    Ok(DMatrix::from_fn(rows.len(), idx.len(), |i, j| {
        rows[i].values[idx[j]]
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_candidates_and_names_the_line_of_a_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("c.csv");
        std::fs::write(
            &p,
            "name,cations,metal,halide,layers\nX,OCC[NH3+]:2;NC=[NH2+]:3,Pb,I,4\nY,C[NH3+]:1,Pb,Br,3d\n",
        )
        .unwrap();
        let c = read(&p).unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].parts.len(), 2);
        assert_eq!((c[1].layers, c[1].halide.as_str()), (100.0, "Br"));
        assert!(is_smiles_csv(&p));
        std::fs::write(&p, "name,cations,metal,halide,layers\nX,OCC[NH3+],Pb,I,4\n").unwrap();
        let e = read(&p).unwrap_err().to_string();
        assert!(
            e.contains("c.csv") && e.contains("line 2") && e.contains("SMILES:count"),
            "{e}"
        );
    }
}
