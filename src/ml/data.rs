//! Feature matrix and target from the dataset or any CSV with a header.

use crate::dataset::{self, DESCRIPTORS};
use crate::error::{Error, Result};
use nalgebra::{DMatrix, DVector};
use std::path::Path;

/// Rows with a complete set of features and a target.
#[derive(Debug, Clone)]
pub struct Data {
    pub features: Vec<String>,
    pub target: String,
    pub x: DMatrix<f64>,
    pub y: DVector<f64>,
    /// Row names (compound) for reports.
    pub ids: Vec<String>,
    /// Rows left out for missing values.
    pub dropped: Vec<String>,
    /// 1-based data-row number (after the header) of each kept row.
    pub lines: Vec<usize>,
    /// Every column's text for the kept rows (for splits by a column).
    pub text: Vec<(String, Vec<String>)>,
}

impl Data {
    /// The text of column `name` for the kept rows.
    pub fn column_text(&self, name: &str) -> Result<&[String]> {
        self.text
            .iter()
            .find(|(h, _)| h == name)
            .map(|(_, v)| v.as_slice())
            .ok_or_else(|| {
                let names: Vec<&str> = self.text.iter().map(|(h, _)| h.as_str()).collect();
                Error::setting(
                    "cv",
                    format!(
                        "no column `{name}` to split by; columns are: {}",
                        names.join(", ")
                    ),
                )
            })
    }
}

impl Data {
    /// Features `features` (canonical descriptor columns) and the rate of
    /// the first `rows` records of a dataset (all when None).
    pub fn from_dataset(
        d: &dataset::Dataset,
        features: &[&str],
        rows: Option<usize>,
    ) -> Result<Data> {
        let idx: Vec<usize> = features
            .iter()
            .map(|f| {
                DESCRIPTORS.iter().position(|c| c.0 == *f).ok_or_else(|| {
                    Error::setting("features", format!("`{f}` is not a descriptor column"))
                })
            })
            .collect::<Result<_>>()?;
        let recs: Vec<&dataset::Record> = d
            .records
            .iter()
            .take(rows.unwrap_or(usize::MAX))
            .filter(|r| r.rate.is_finite() && idx.iter().all(|&k| r.descriptors[k].is_finite()))
            .collect();
        Ok(Data {
            features: features.iter().map(|s| s.to_string()).collect(),
            target: "rate_per_ps".into(),
            x: DMatrix::from_fn(recs.len(), idx.len(), |i, j| recs[i].descriptors[idx[j]]),
            y: DVector::from_iterator(recs.len(), recs.iter().map(|r| r.rate)),
            ids: recs.iter().map(|r| r.compound.clone()).collect(),
            dropped: vec![],
            lines: (1..=recs.len()).collect(),
            text: vec![(
                "source".into(),
                recs.iter().map(|r| r.source.clone()).collect(),
            )],
        })
    }
}

/// Columns never used as features: errors and provenance.
const NOT_FEATURES: &[&str] = &[
    "rate_err_per_ps",
    "source",
    "source_sha256",
    "fit_settings",
    "date",
    "record_id",
    "compound",
    "formula",
    "phase",
];

/// Indices of the named columns, or an error listing the columns there are.
fn columns(src: &str, header: &[String], names: &[String]) -> Result<Vec<usize>> {
    names
        .iter()
        .map(|f| {
            header.iter().position(|h| h == f).ok_or_else(|| {
                Error::input(
                    src,
                    format!(
                        "no feature column `{f}`; columns are: {}",
                        header.join(", ")
                    ),
                )
            })
        })
        .collect()
}

/// Candidate rows for prediction: the named feature columns of a CSV (no
/// target needed) and a compound/sample column for names.
/// Candidates as a model's feature matrix.
#[derive(Debug, Clone)]
pub struct Candidates {
    pub ids: Vec<String>,
    pub x: DMatrix<f64>,
    /// (name, reason) of candidates whose descriptors could not be computed.
    pub left_out: Vec<(String, String)>,
}

/// Candidates from `path`: a CSV of the feature columns, or one of
/// name,cations,metal,halide,layers (cations as SMILES:count;...) whose
/// descriptors are computed from the molecules by `helper` (RDKit and
/// PySCF) with `settings`; `tick(total)` after each distinct cation, with
/// their number.
pub fn load_any_candidates(
    path: &Path,
    features: &[String],
    helper: &crate::descriptors::helper::Helper,
    settings: &crate::descriptors::helper::Request,
    tick: &(dyn Fn(usize) + Sync),
) -> Result<Candidates> {
    use crate::descriptors::candidates as c;
    if !c::is_smiles_csv(path) {
        let (ids, x) = load_candidates(path, features)?;
        return Ok(Candidates {
            ids,
            x,
            left_out: vec![],
        });
    }
    let cands = c::read(path)?;
    let total = crate::descriptors::distinct_cations(&cands).len();
    let (rows, left_out) =
        crate::descriptors::describe_each(&cands, helper, settings, &|| tick(total));
    if rows.is_empty() {
        return Err(Error::input(
            path.display().to_string(),
            "no candidate could be described",
        ));
    }
    Ok(Candidates {
        ids: rows.iter().map(|r| r.name.clone()).collect(),
        x: c::matrix(&rows, features)?,
        left_out,
    })
}

pub fn load_candidates(path: &Path, features: &[String]) -> Result<(Vec<String>, DMatrix<f64>)> {
    let (src, mut rd, header) = crate::io_util::open_csv(path)?;
    let fi = columns(&src, &header, features)?;
    let id_col = header.iter().position(|h| h == "compound" || h == "sample");
    let (mut ids, mut rows) = (vec![], vec![]);
    for (k, rec) in rd.records().enumerate() {
        let rec = rec.map_err(|e| Error::at_line(&src, k + 2, e.to_string()))?;
        let row = fi
            .iter()
            .map(|&i| {
                let v = rec.get(i).unwrap_or("").trim();
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| {
                        Error::at_line(
                            &src,
                            k + 2,
                            format!("column `{}`: `{v}` is not a number", header[i]),
                        )
                    })
            })
            .collect::<Result<Vec<f64>>>()?;
        ids.push(
            id_col
                .and_then(|i| rec.get(i).map(String::from))
                .unwrap_or_else(|| format!("row {}", k + 1)),
        );
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(Error::input(&src, "no candidate rows"));
    }
    Ok((
        ids,
        DMatrix::from_fn(rows.len(), fi.len(), |i, j| rows[i][j]),
    ))
}

/// Largest magnitude of a value read as a feature or target: beyond it
/// sums of squares overflow and every score is NaN.
pub const MAX_ABS_VALUE: f64 = 1e100;

/// Load `path`: a spinfit dataset (target default `rate_per_ps`), or any
/// CSV with a header whose numeric columns are features unless named.
pub fn load(path: &Path, target: &str, features: Option<&[String]>) -> Result<Data> {
    let src = path.display().to_string();
    let mut all = crate::dataset::import::rows_of(path)?.into_iter().map(|r| {
        r.into_iter()
            .map(|c| c.0.trim().to_string())
            .collect::<Vec<String>>()
    });
    let header = all
        .next()
        .ok_or_else(|| Error::input(&src, "empty file: expected a header row"))?;
    // rows with no cell at all (a sheet's trailing empty rows) are not data
    let numbered: Vec<(usize, Vec<String>)> = all
        .enumerate()
        .filter(|(_, r)| r.iter().any(|c| !c.is_empty()))
        .map(|(k, r)| (k + 1, r))
        .collect();
    let rows: Vec<&Vec<String>> = numbered.iter().map(|r| &r.1).collect();
    let is_dataset = header.iter().any(|h| h == "record_id");
    let target = if target == "rate" && is_dataset {
        "rate_per_ps"
    } else {
        target
    };
    let ti = header.iter().position(|h| h == target).ok_or_else(|| {
        Error::input(
            &src,
            format!(
                "no target column `{target}`; columns are: {}",
                header.join(", ")
            ),
        )
    })?;
    let feats: Vec<String> = match features {
        Some(f) => f.to_vec(),
        None if is_dataset => DESCRIPTORS.iter().map(|d| d.0.to_string()).collect(),
        None => header
            .iter()
            .enumerate()
            .filter(|(i, h)| {
                *i != ti
                    && !NOT_FEATURES.contains(&h.as_str())
                    && rows.iter().all(|r| {
                        r.get(*i)
                            .is_some_and(|v| v.trim().is_empty() || v.trim().parse::<f64>().is_ok())
                    })
            })
            .map(|(_, h)| h.clone())
            .collect(),
    };
    let fi = columns(&src, &header, &feats)?;
    let id_col = header.iter().position(|h| h == "compound" || h == "sample");
    let (mut xs, mut ys, mut ids, mut dropped) = (vec![], vec![], vec![], vec![]);
    let mut lines = vec![];
    let mut kept = vec![];
    for (line, r) in &numbered {
        let id = id_col
            .and_then(|i| r.get(i).cloned())
            .unwrap_or_else(|| format!("row {line}"));
        // an empty cell is missing (the row is dropped and listed); a cell
        // that is there but not a usable number is an error
        let num = |i: usize| -> Result<Option<f64>> {
            let v = r.get(i).map_or("", |v| v.trim());
            if v.is_empty() {
                return Ok(None);
            }
            match v.parse::<f64>() {
                Ok(x) if x.is_finite() && x.abs() <= MAX_ABS_VALUE => Ok(Some(x)),
                _ => Err(Error::at_line(
                    &src,
                    *line + 1,
                    format!(
                        "column `{}`: `{v}` is not a finite number of magnitude <= {MAX_ABS_VALUE:e} (leave the cell empty if it is missing)",
                        header[i]
                    ),
                )),
            }
        };
        let x = fi
            .iter()
            .map(|&i| num(i))
            .collect::<Result<Vec<Option<f64>>>>()?;
        match (x.into_iter().collect::<Option<Vec<f64>>>(), num(ti)?) {
            (Some(x), Some(y)) => {
                xs.push(x);
                ys.push(y);
                ids.push(id);
                lines.push(*line);
                kept.push(r);
            }
            _ => dropped.push(id),
        }
    }

    if xs.len() < 3 {
        return Err(Error::input(
            &src,
            format!("only {} complete rows; need at least 3", xs.len()),
        ));
    }
    Ok(Data {
        features: feats,
        target: target.to_string(),
        x: DMatrix::from_fn(xs.len(), fi.len(), |i, j| xs[i][j]),
        y: DVector::from_vec(ys),
        ids,
        dropped,
        text: header
            .iter()
            .enumerate()
            .map(|(c, h)| {
                let col = kept
                    .iter()
                    .map(|r| r.get(c).map_or("", |v| v.trim()).to_string())
                    .collect();
                (h.clone(), col)
            })
            .collect(),
        lines,
    })
}

/// Friedman's first regression problem (Friedman, Ann. Stat. 19 (1991) 1;
/// scikit-learn's `make_friedman1`): x ~ U(0, 1)^p (p >= 5), of which only
/// the first five matter,
/// y = 10 sin(pi x1 x2) + 20 (x3 - 1/2)^2 + 10 x4 + 5 x5 + noise N(0, 1).
/// A synthetic set for speed and accuracy comparisons beyond the sheet.
pub fn friedman1(n: usize, p: usize, noise: f64, seed: u64) -> Result<Data> {
    use rand::{Rng, SeedableRng};
    use rand_distr::{Distribution, StandardNormal};
    if !(5..=1000).contains(&p) {
        return Err(Error::setting(
            "features",
            format!("{p}: expected 5..=1000"),
        ));
    }
    if !(2..=10_000_000).contains(&n) {
        return Err(Error::setting(
            "rows",
            format!("{n}: expected 2..=10000000"),
        ));
    }
    if !(noise.is_finite() && noise >= 0.0) {
        return Err(Error::setting("noise", format!("{noise}: expected >= 0")));
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut x = DMatrix::zeros(n, p);
    let mut y = DVector::zeros(n);
    for i in 0..n {
        for j in 0..p {
            x[(i, j)] = rng.random::<f64>();
        }
        let e: f64 = StandardNormal.sample(&mut rng);
        y[i] = 10.0 * (std::f64::consts::PI * x[(i, 0)] * x[(i, 1)]).sin()
            + 20.0 * (x[(i, 2)] - 0.5).powi(2)
            + 10.0 * x[(i, 3)]
            + 5.0 * x[(i, 4)]
            + noise * e;
    }
    Ok(Data {
        features: (1..=p).map(|j| format!("x{j}")).collect(),
        target: "y".into(),
        x,
        y,
        ids: (1..=n).map(|i| format!("row{i}")).collect(),
        dropped: vec![],
        lines: (1..=n).collect(),
        text: vec![],
    })
}

/// A [`Data`] as CSV: `id`, the features, the target.
pub fn to_csv(d: &Data) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(vec![]);
    let mut head = vec!["id".to_string()];
    head.extend(d.features.iter().cloned());
    head.push(d.target.clone());
    let _ = w.write_record(&head);
    for i in 0..d.y.len() {
        let mut rec = vec![d.ids[i].clone()];
        rec.extend(d.x.row(i).iter().map(|v| v.to_string()));
        rec.push(d.y[i].to_string());
        let _ = w.write_record(&rec);
    }
    w.into_inner().unwrap_or_default()
}

/// Candidates expanded over grids `FEATURE=v1,v2,...`: every candidate once
/// per listed value (ids get ` [FEATURE=v]`), grids combined in order.
pub fn vary(
    features: &[String],
    ids: Vec<String>,
    x: DMatrix<f64>,
    grids: &[String],
) -> Result<(Vec<String>, DMatrix<f64>)> {
    let mut rows: Vec<(String, Vec<f64>)> = ids
        .into_iter()
        .enumerate()
        .map(|(i, id)| (id, x.row(i).iter().copied().collect()))
        .collect();
    for g in grids {
        let bad = |m: String| Error::setting("vary", format!("`{g}`: {m}"));
        let (f, vals) = g
            .split_once('=')
            .ok_or_else(|| bad("expected FEATURE=v1,v2,...".into()))?;
        let j = features.iter().position(|x| x == f).ok_or_else(|| {
            bad(format!(
                "`{f}` is not a feature of the model ({})",
                features.join(", ")
            ))
        })?;
        let vals: Vec<f64> = vals
            .split(',')
            .map(|v| {
                v.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite())
                    .ok_or_else(|| bad(format!("`{v}` is not a number")))
            })
            .collect::<Result<_>>()?;
        if rows.len().saturating_mul(vals.len()) > MAX_GRID_ROWS {
            return Err(bad(format!("more than {MAX_GRID_ROWS} candidates")));
        }
        rows = rows
            .into_iter()
            .flat_map(|(id, r)| {
                vals.iter().map(move |v| {
                    let mut r = r.clone();
                    r[j] = *v;
                    (format!("{id} [{f}={v}]"), r)
                })
            })
            .collect();
    }
    let x = DMatrix::from_fn(rows.len(), features.len(), |i, j| rows[i].1[j]);
    Ok((rows.into_iter().map(|r| r.0).collect(), x))
}

/// Most candidates a `vary` grid may make.
pub const MAX_GRID_ROWS: usize = 1_000_000;
