//! Scan metadata as HDF5 attributes or header lines carry it (key = value
//! strings), read by the vocabulary (field, photon energy, temperature,
//! fluence, sample) and the lab config (spinfit.toml).
#![no_main]
use libfuzzer_sys::fuzz_target;
use spinfit::scan::{Metadata, vocab};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut meta = Metadata::default();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            meta.insert(k, v);
        }
    }
    let _ = vocab::header_field(&meta, "fuzz.h5:/scans/a");
    let _ = vocab::photon_energy(&meta, "fuzz");
    let _ = vocab::temperature(&meta, "fuzz");
    let _ = vocab::fluence(&meta, "fuzz");
    let _ = vocab::sample(&meta, "fuzz");
    let _ = vocab::conditions(&meta, "fuzz");
    let _ = vocab::name_field(text);
    let _ = spinfit::labconfig::LabConfig::parse(text, "spinfit.toml");
});
