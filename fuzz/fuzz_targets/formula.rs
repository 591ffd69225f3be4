//! Compositions and element formulas (`(BA)2MAPb2I7`, `[C4H3SCH2NH3]2PbI4`).
#![no_main]
use libfuzzer_sys::fuzz_target;
use spinfit::dataset::composition;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = composition::composition(text) {
        assert!(c.mean_mw.is_finite() && c.mean_mw > 0.0, "{text}: MW {}", c.mean_mw);
    }
    let _ = composition::composition_by_name(text);
    if let Ok(mw) = composition::formula_mw(text) {
        assert!(mw.is_finite(), "{text}: MW {mw}");
    }
});
