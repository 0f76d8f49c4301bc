//! The engine's typed errors.

use std::path::PathBuf;

/// Why a run could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// A source file could not be opened or read.
    #[error("cannot read source `{source_name}` ({}): {error}", path.display())]
    Read {
        /// The `[sources.<name>]` name.
        source_name: String,
        /// The file.
        path: PathBuf,
        /// What the operating system or parser said.
        error: String,
    },
    /// A column the config names is absent from the file.
    #[error("source `{source_name}` ({}) has no column `{column}`{}", path.display(), suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    MissingColumn {
        /// The `[sources.<name>]` name.
        source_name: String,
        /// The file.
        path: PathBuf,
        /// The missing column.
        column: String,
        /// The closest existing column.
        suggestion: Option<String>,
    },
    /// A bad row under `on_bad_row = "fail"`.
    #[error("{}:{row}: {reason}: {detail} (source `{source_name}`, on_bad_row = \"fail\")", path.display())]
    BadRow {
        /// The `[sources.<name>]` name.
        source_name: String,
        /// The file.
        path: PathBuf,
        /// 1-based line number of the row (the header is line 1 in CSV).
        row: u64,
        /// The rejection reason, as counted in `input.rejected`.
        reason: tenure_plan::RejectReason,
        /// What was found.
        detail: String,
    },
}
