//! One error type for the library. Every variant names the thing that was
//! wrong (file, line, column, dataset or parameter) and what was expected.

use std::path::PathBuf;

/// Errors raised by spinfit's library code.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input data that cannot be used, with where and why.
    #[error("{file}{}: {msg}", .line.map(|l| format!(", line {l}")).unwrap_or_default())]
    Input {
        file: String,
        line: Option<usize>,
        msg: String,
    },
    /// A setting that is out of range or inconsistent.
    #[error("invalid setting `{name}`: {msg}")]
    Setting { name: String, msg: String },
    /// A quantity string such as "430mT" that could not be parsed.
    #[error("cannot read `{text}` as {what}: {msg}")]
    Quantity {
        text: String,
        what: &'static str,
        msg: String,
    },
    /// The fit could not be started or produced no usable result.
    #[error("fit failed: {0}")]
    Fit(String),
    /// HDF5 library error, with the file and object it concerned.
    #[error("{file}: HDF5 {object}: {msg}")]
    Hdf5 {
        file: PathBuf,
        object: String,
        msg: String,
    },
    /// A figure could not be drawn or written.
    #[error("{path}: cannot draw figure: {msg}")]
    Plot { path: PathBuf, msg: String },
    /// Operating-system I/O error with the path it concerned.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// Convenience constructor for an input error without a line number.
    pub fn input(file: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Input {
            file: file.into(),
            line: None,
            msg: msg.into(),
        }
    }
    /// Input error at a 1-based line number.
    pub fn at_line(file: impl Into<String>, line: usize, msg: impl Into<String>) -> Self {
        Error::Input {
            file: file.into(),
            line: Some(line),
            msg: msg.into(),
        }
    }
    /// Invalid setting named `name`.
    pub fn setting(name: impl Into<String>, msg: impl Into<String>) -> Self {
        Error::Setting {
            name: name.into(),
            msg: msg.into(),
        }
    }
    /// I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// Result alias used throughout the library.
pub type Result<T> = std::result::Result<T, Error>;
