//! Delimited text scans: the parser, then both kinds of scan built from
//! the table and the metadata vocabulary read from it. Any input must give
//! a value or an error, never a panic or a hang.
#![no_main]
use libfuzzer_sys::fuzz_target;
use spinfit::scan::{ReadOptions, Scan, ScanKind, delimited, vocab};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(t) = delimited::parse(text, "fuzz.csv") else { return };
    for kind in [ScanKind::Tr, ScanKind::Trfe] {
        let _ = Scan::from_table(&t, kind, &ReadOptions::default());
    }
    let _ = vocab::conditions(&t.meta, &t.source);
    let _ = vocab::header_field(&t.meta, &t.source);
});
