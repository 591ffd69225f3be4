//! `spinfit ml reproduce`: the Chem. Sci. paper's protocols and its own
//! grid search on its sheet (computed by `ml::reproduce`), printed.

use crate::cli::EXIT_OK;
use crate::ml::reproduce::{self, GridSearch, ProtocolRow};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// The paper's sheet (data.xlsx of the SRR repository).
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/srr/data.xlsx"))]
    pub sheet: PathBuf,
    /// Also the honest counterparts: the ANN tuned inside every training
    /// set, and the paper's grid search nested in leave-one-out.
    #[arg(long)]
    pub nested: bool,
    /// Inner folds of the nested grid search (51 = the paper's
    /// leave-one-out inside every training set: ~36x slower than 5).
    #[arg(long, default_value_t = 5)]
    pub inner_folds: usize,
    /// Skip the paper's grid search (36 MLP settings x 53 fits).
    #[arg(long)]
    pub no_grid: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: ReproduceArgs) -> anyhow::Result<i32> {
    use anyhow::Context;
    if a.inner_folds < 2 {
        anyhow::bail!("--inner-folds {}: expected at least 2", a.inner_folds);
    }
    let (ds, _) = crate::dataset::import(&a.sheet, "").with_context(|| {
        format!(
            "the paper's sheet is needed at {} (data/data.xlsx of the SRR repository)",
            a.sheet.display()
        )
    })?;
    let grid_data = crate::ml::Data::from_dataset(&ds, &reproduce::PAPER_10, None)?;
    let base: crate::ml::ModelSpec = "ann".parse()?;
    let n_grid = base.grid_from(reproduce::PAPER_GRID)?.len();
    let inner = a.nested.then_some(a.inner_folds);
    let mut fits = reproduce::protocol_fits(&ds, a.nested)?;
    if !a.no_grid {
        fits += reproduce::grid_fits(grid_data.y.len(), n_grid, inner);
    }
    let bar = crate::cli::progress(fits, "model fits");
    let tick = || bar.inc(1);
    let t0 = std::time::Instant::now();
    let rows = reproduce::protocols(&ds, a.nested, &tick)?;
    let protocol_seconds = t0.elapsed().as_secs_f64();
    let grid = if a.no_grid {
        None
    } else {
        Some(reproduce::grid_search(
            &grid_data,
            &base,
            reproduce::PAPER_GRID,
            inner,
            &tick,
        )?)
    };
    bar.finish_and_clear();
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({
                "schema": "spinfit.reproduce/3", "features": reproduce::PAPER_8,
                "protocols": rows, "protocol_seconds": protocol_seconds, "paper_grid_search": grid,
            }))?
        );
        return Ok(EXIT_OK);
    }
    print_protocols(&rows, a.nested, protocol_seconds);
    if let Some(g) = &grid {
        print_grid(g);
    }
    Ok(EXIT_OK)
}

fn f3(v: Option<f64>) -> String {
    v.map_or("-".to_string(), |x| format!("{x:.3}"))
}

fn print_protocols(rows: &[ProtocolRow], nested: bool, seconds: f64) {
    println!(
        "Chem. Sci. 2025 protocols on its own sheet, 8 path-B descriptors; R2 of the rate (ps^-1)"
    );
    println!(
        "{:44} {:>5} {:>6} {:>7} {:>10} {:>9}{}",
        "protocol",
        "rows",
        "model",
        "paper",
        "in-sample",
        "held-out",
        if nested { "  nested (tuned)" } else { "" }
    );
    for r in rows {
        println!(
            "{:44} {:>5} {:>6} {:>7} {:>10} {:>9}{}",
            r.protocol,
            r.rows,
            r.model,
            r.paper_r2.map_or("-".to_string(), |x| format!("{x:.2}")),
            f3(Some(r.in_sample_r2)),
            f3(Some(r.held_out_r2)),
            if nested {
                format!("  {:>15}", f3(r.nested_tuned_held_out_r2))
            } else {
                String::new()
            }
        );
    }
    println!(
        "in-sample: trained and scored on the same rows (what the paper's script reports as LOOCV R2);"
    );
    println!(
        "held-out: every prediction from a model that did not see the row (default settings; --nested: the ANN tuned inside each training set)."
    );
    println!("Fixed seeds: reproducible run to run. Wall time {seconds:.1} s.");
}

fn print_grid(g: &GridSearch) {
    println!();
    println!(
        "The paper's grid search: MLP over {} settings ({}), leave-one-out MSE on all {} rows, {} descriptors",
        g.settings,
        g.grid,
        g.rows,
        g.features.len()
    );
    println!("  best setting: {} (LOO MSE {:.4})", g.best, g.best_loo_mse);
    println!(
        "  in-sample R2 of the refitted best model: {:.3}   (the paper's figure, 0.99: the model saw these rows)",
        g.in_sample_r2
    );
    println!(
        "  LOO R2 of the best setting:              {:.3}   (optimistic: the setting was chosen by this score)",
        g.selected_loo_r2
    );
    println!("  search wall time {:.1} s", g.search_seconds);
    match (g.nested_r2, g.nested_inner_folds) {
        (Some(r2), Some(k)) => {
            println!(
                "  nested held-out R2:                      {r2:.3}   (the search run inside every LOO training set, {k}-fold inner CV; wall time {:.1} s)",
                g.nested_seconds.unwrap_or(f64::NAN)
            );
            let top: Vec<String> = g
                .nested_choices
                .iter()
                .take(3)
                .map(|(s, c)| format!("{s} x{c}"))
                .collect();
            println!("  chosen in the outer folds: {}", top.join("; "));
        }
        _ => println!("  (--nested adds the held-out figure of the whole search)"),
    }
    println!(
        "  The paper trains by adam (5000 iterations); here L-BFGS, scikit-learn's other solver."
    );
}
