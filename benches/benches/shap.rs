//! Criterion benchmarks of exact SHAP on the paper's sheet (52 rows x 8
//! descriptors, every row explained against every row), one per method:
//! TreeSHAP (forest, boosted trees), the RBF product form (SVR) and the
//! enumeration of coalitions (MLP). `scripts/compare-sklearn` sets the
//! same calls beside shap's ExactExplainer.

use criterion::{Criterion, criterion_group, criterion_main};
use spinfit::dataset::import;
use spinfit::ml::data::Data;
use spinfit::ml::reproduce::PAPER_8;
use spinfit::ml::shap::explain;
use spinfit::ml::{ModelSpec, Regressor};
use std::hint::black_box;
use std::path::Path;

fn bench(c: &mut Criterion) {
    let sheet = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/srr/data.xlsx");
    let (ds, _) = import(&sheet, "bench").unwrap();
    let d = Data::from_dataset(&ds, &PAPER_8, None).unwrap();
    for spec in ["rf", "gbt", "svr", "ann:hidden=10x10"] {
        let m: ModelSpec = spec.parse().unwrap();
        let f = m.fit(&d.x, &d.y).unwrap();
        c.bench_function(
            &format!("shap_sheet_{}", spec.replace([':', '='], "_")),
            |b| b.iter(|| black_box(explain(f.as_ref(), &d.x, &d.x, &|| {}).unwrap().base)),
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
