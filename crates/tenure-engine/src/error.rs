//! The engine's typed errors.

/// Why a run could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The run was asked to stop ([`crate::progress::ReadProgress::stop_requested`]) before it
    /// finished.
    #[error("the run was stopped before it finished")]
    Stopped,
    /// A source file could not be opened or read.
    #[error("cannot read source `{source_name}` ({location}): {error}")]
    Read {
        /// The `[sources.<name>]` name.
        source_name: String,
        /// Where the source's rows are: its file, or its table.
        location: String,
        /// What the operating system or parser said.
        error: String,
    },
    /// A column the config names is absent from the file.
    #[error("source `{source_name}` ({location}) has no column `{column}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    MissingColumn {
        /// The `[sources.<name>]` name.
        source_name: String,
        /// Where the source's rows are: its file, or its table.
        location: String,
        /// The missing column.
        column: String,
        /// The closest existing column.
        suggestion: Option<String>,
    },
    /// A bad row under `on_bad_row = "fail"`.
    #[error("{location}:{row}: {reason}: {detail} (source `{source_name}`, on_bad_row = \"fail\")")]
    BadRow {
        /// The `[sources.<name>]` name.
        source_name: String,
        /// Where the source's rows are: its file, or its table.
        location: String,
        /// 1-based line number of the row (the header is line 1 in CSV).
        row: u64,
        /// The rejection reason, as counted in `input.rejected`.
        reason: tenure_plan::RejectReason,
        /// What was found.
        detail: String,
    },
}
