//! Saved models (`spinfit.model/1` JSON): a file that loads must predict
//! without a panic or a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spinfit::ml::saved::SavedModel;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(m) = SavedModel::parse(text, "fuzz.json") else { return };
    let p = m.features.len();
    let x = nalgebra::DMatrix::from_fn(2, p, |i, j| (i + j) as f64 * 0.1);
    let _ = m.predict(&x);
});
