//! Small file-system helpers shared by writers.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Write `bytes` to `path` atomically: a temporary file in the same
/// directory, flushed and synced, then renamed over the target, so a reader
/// never sees a half-written file.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut f = std::fs::File::create(&tmp).map_err(|e| Error::io(&tmp, e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Open a CSV file with a header row: (name for messages, reader, trimmed
/// header names).
pub fn open_csv(path: &Path) -> Result<(String, csv::Reader<std::fs::File>, Vec<String>)> {
    let src = path.display().to_string();
    let mut rd = csv::Reader::from_path(path).map_err(|e| Error::input(&src, e.to_string()))?;
    let header = rd
        .headers()
        .map_err(|e| Error::input(&src, e.to_string()))?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    Ok((src, rd, header))
}

/// SHA-256 of a file's bytes, lower-case hex (provenance of inputs).
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    Ok(Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect())
}
