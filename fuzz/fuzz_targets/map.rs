//! 2-D maps: Glotaran ASCII and matrix CSV in either layout.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spinfit::scan::map;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if map::is_glotaran(text) {
        let _ = map::parse_glotaran(text, "fuzz.ascii", spinfit::units::TimeUnit::Ps);
    }
    for layout in [None, Some(map::Layout::RowsWavelength), Some(map::Layout::RowsTime)] {
        let _ = map::parse_matrix(text, "fuzz.csv", None, layout);
    }
});
