//! The shape of a source as a backend sees it before reading rows: its columns and what they
//! hold. Backends describe their sources this way (file headers and footers, a warehouse's
//! catalogue), and the config check compares it with what the config names.

/// What a column holds, as far as can be told without reading its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnKind {
    /// Times or dates: a typed timestamp or date, or text whose first value reads as a time.
    Time,
    /// Numbers: a typed number, or text whose first value is a number.
    Number,
    /// Anything else tenure reads: text, booleans.
    Other,
    /// A type tenure cannot read (lists, structs, …), with the type's name.
    Unreadable(String),
}

/// One column of a source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    /// The column's name.
    pub name: String,
    /// What it holds.
    pub kind: ColumnKind,
}

/// The shape of one source, by its `[sources.<name>]` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSchema {
    /// The `[sources.<name>]` name.
    pub source: String,
    /// Its columns, or why the source could not be opened.
    pub columns: Result<Vec<Column>, String>,
}

/// Why a plugin library named by the config cannot be loaded, found before loading it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LibraryProblem {
    /// No file at the path, with or without the platform's prefix and suffix.
    NotFound {
        /// Every path tried.
        tried: Vec<String>,
    },
    /// The file is not an ELF, Mach-O or PE shared library.
    NotALibrary {
        /// The file found.
        path: String,
    },
    /// Anyone could replace the file: why it is refused.
    UnsafePermissions {
        /// The refusal, naming the file or folder and its mode.
        refusal: String,
    },
}

/// A plugin library's problem, by its `[plugins.<name>]` name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginProblem {
    /// The `[plugins.<name>]` name.
    pub plugin: String,
    /// What is wrong with its library.
    pub problem: LibraryProblem,
}

/// A metric the backend that will run the plan cannot compute, and why (a SQL backend's
/// refusal, say).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricProblem {
    /// The `[metrics.<name>]` name.
    pub metric: String,
    /// Where it would run: the `[connections.<name>]` name and kind (`warehouse (postgres)`).
    pub backend: String,
    /// Why it cannot run there.
    pub reason: String,
}
