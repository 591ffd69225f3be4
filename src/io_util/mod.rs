//! File-system boundary: every byte spinfit reads from a user's file comes
//! through [`read_bytes`] / [`read_text`], and every file it writes through
//! [`write_atomic`] / [`write_with`].
//!
//! Reading: only regular files and FIFOs are read (a directory, a device
//! such as `/dev/zero` or a socket is refused by name), and never more than
//! [`max_input_bytes`] (256 MiB by default; `--max-input-mb` or the
//! environment variable `SPINFIT_MAX_INPUT_MB` raise it), so a hostile or
//! mistaken input cannot exhaust memory.
//!
//! Writing: see [`write`] (atomic replace that keeps mode, owner and
//! symlink target; no temporary file left on any error path) and [`lock`]
//! (an advisory `flock` that the kernel releases when the process dies).

mod lock;
mod write;

pub use lock::Lock;
pub use write::{OutDir, detach_symlink, remove_stale_temps, write_atomic, write_with};

use crate::error::{Error, Result};
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Default limit on the size of one input file, bytes.
pub const DEFAULT_MAX_INPUT_BYTES: u64 = 256 << 20;

static MAX_INPUT: AtomicU64 = AtomicU64::new(0);

/// The largest input file spinfit reads, bytes: set by [`set_max_input_bytes`],
/// else `SPINFIT_MAX_INPUT_MB`, else [`DEFAULT_MAX_INPUT_BYTES`].
pub fn max_input_bytes() -> u64 {
    match MAX_INPUT.load(Ordering::Relaxed) {
        0 => std::env::var("SPINFIT_MAX_INPUT_MB")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|&mb| mb > 0)
            .map_or(DEFAULT_MAX_INPUT_BYTES, |mb| mb.saturating_mul(1 << 20)),
        n => n,
    }
}

/// Raise (or lower) the input size limit for this process.
pub fn set_max_input_bytes(n: u64) {
    MAX_INPUT.store(n.max(1), Ordering::Relaxed);
}

/// Refuse what is not a regular file or a FIFO, naming the path.
pub fn check_readable(path: &Path) -> Result<std::fs::Metadata> {
    let m = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    #[cfg(unix)]
    let fifo = std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type());
    #[cfg(not(unix))]
    let fifo = false;
    if m.is_dir() {
        return Err(Error::input(
            path.display().to_string(),
            "is a directory, expected a file",
        ));
    }
    if !m.is_file() && !fifo {
        return Err(Error::input(
            path.display().to_string(),
            "is not a regular file (a device or socket): refused",
        ));
    }
    let limit = max_input_bytes();
    if m.is_file() && m.len() > limit {
        return Err(too_large(path, limit));
    }
    Ok(m)
}

fn too_large(path: &Path, limit: u64) -> Error {
    Error::input(
        path.display().to_string(),
        format!(
            "larger than the input limit of {} MiB; raise it with --max-input-mb or SPINFIT_MAX_INPUT_MB if the file is right",
            limit >> 20
        ),
    )
}

/// All bytes of a file, within the input limit.
pub fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    check_readable(path)?;
    let limit = max_input_bytes();
    let f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut buf = vec![];
    f.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::io(path, e))?;
    if buf.len() as u64 > limit {
        return Err(too_large(path, limit));
    }
    Ok(buf)
}

/// A text file, within the input limit; invalid UTF-8 is an error naming
/// the file and the line.
pub fn read_text(path: &Path) -> Result<String> {
    String::from_utf8(read_bytes(path)?).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = 1 + e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count();
        Error::at_line(
            path.display().to_string(),
            line,
            "not UTF-8 text (a binary file, or another encoding: save it as UTF-8)",
        )
    })
}

/// A CSV reader over a file's bytes (read within the input limit).
pub type CsvReader = csv::Reader<std::io::Cursor<Vec<u8>>>;

/// Open a CSV file with a header row: (name for messages, reader, trimmed
/// header names).
pub fn open_csv(path: &Path) -> Result<(String, CsvReader, Vec<String>)> {
    let src = path.display().to_string();
    let bytes = read_bytes(path)?;
    let mut rd = csv::Reader::from_reader(std::io::Cursor::new(bytes));
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
    Ok(sha256_hex(&read_bytes(path)?))
}

/// SHA-256 of bytes, lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}
