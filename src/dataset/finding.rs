//! A finding of a dataset check: what kind, which rows, and the message.
//! Shared by the generic checks (`check.rs`) and the sheet's own rules
//! (`rules.rs`), which therefore need not import each other.

/// One finding, with the rows (1-based, as in the file after its header) it concerns.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Finding {
    pub kind: &'static str,
    pub rows: Vec<usize>,
    pub message: String,
}
