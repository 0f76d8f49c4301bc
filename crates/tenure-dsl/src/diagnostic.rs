//! Diagnostics: a stable code, a message, a span in the config file and hints.
//!
//! Rendering is plain text in the style of compilers (file:line:col, the source line, a caret
//! under the span), so that snapshots are stable and terminals need no colour support.

use std::fmt::Write as _;
use std::ops::Range;

/// A stable identifier per kind of error, printed as `E0103` and documented in docs/config.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    /// The file is not valid TOML.
    TomlSyntax,
    /// A section or key that tenure does not know.
    UnknownKey,
    /// A value of the wrong TOML type.
    WrongType,
    /// A required key is absent.
    MissingKey,
    /// A table name that is not an identifier or is reserved.
    InvalidName,
    /// A value outside the accepted set (modes, units, grains …).
    InvalidValue,
    /// An expression that does not parse.
    ExprSyntax,
    /// An expression over the size or nesting limit.
    ExprTooComplex,
    /// A name in an expression that resolves to nothing.
    UnknownName,
    /// A call to a function that does not exist.
    UnknownFunction,
    /// A call with the wrong number of arguments.
    WrongArity,
    /// Operands or results of the wrong type.
    TypeMismatch,
    /// A `matches` pattern that is not a valid regular expression.
    InvalidRegex,
    /// A field not available in this kind of expression.
    FieldNotAllowed,
    /// A reference to an undefined value event.
    UnknownEvent,
    /// A reference to an undefined cohort.
    UnknownCohort,
    /// A metric `type` that does not exist.
    UnknownMetricType,
    /// A duration that does not parse.
    InvalidDuration,
    /// A time zone that is not in the IANA database.
    InvalidTimeZone,
    /// A date that does not parse.
    InvalidDate,
    /// Retention periods or brackets that are empty, unordered or out of range.
    InvalidPeriods,
    /// Keys that contradict each other.
    ConflictingKeys,
    /// Value events that refer to each other in a loop.
    Cycle,
    /// A revenue metric over a value event that defines no `amount`.
    MissingAmount,
    /// A formula names a scalar the metric does not expose.
    UnknownScalar,
    /// A reference to an undefined metric, or to one of the wrong type.
    UnknownMetric,
    /// A reference to an undefined plugin.
    UnknownPlugin,
    /// A plugin path that does not exist or is not a shared library.
    PluginFile,
    /// A reference to an undefined connection.
    UnknownConnection,
    /// A source that cannot be opened or whose header cannot be read.
    SourceUnreadable,
    /// A column the config names that the source does not have.
    MissingColumn,
    /// A column the config uses whose type tenure cannot read.
    UnreadableColumn,
    /// A metric the backend the sources call for cannot compute.
    NotOnBackend,
}

impl Code {
    /// Whether the code is about the config's inputs not fitting it (E03xx: a source, column or
    /// column type), rather than a mistake in the config itself.
    pub fn is_input_mismatch(self) -> bool {
        matches!(
            self,
            Code::SourceUnreadable | Code::MissingColumn | Code::UnreadableColumn | Code::NotOnBackend
        )
    }

    /// The printed code.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::TomlSyntax => "E0001",
            Code::UnknownKey => "E0002",
            Code::WrongType => "E0003",
            Code::MissingKey => "E0004",
            Code::InvalidName => "E0005",
            Code::InvalidValue => "E0006",
            Code::ExprSyntax => "E0101",
            Code::ExprTooComplex => "E0102",
            Code::UnknownName => "E0103",
            Code::UnknownFunction => "E0104",
            Code::WrongArity => "E0105",
            Code::TypeMismatch => "E0106",
            Code::InvalidRegex => "E0107",
            Code::FieldNotAllowed => "E0108",
            Code::UnknownEvent => "E0201",
            Code::UnknownCohort => "E0202",
            Code::UnknownMetricType => "E0203",
            Code::InvalidDuration => "E0204",
            Code::InvalidTimeZone => "E0205",
            Code::InvalidDate => "E0206",
            Code::InvalidPeriods => "E0207",
            Code::ConflictingKeys => "E0208",
            Code::Cycle => "E0209",
            Code::MissingAmount => "E0210",
            Code::UnknownScalar => "E0211",
            Code::UnknownMetric => "E0212",
            Code::UnknownPlugin => "E0213",
            Code::PluginFile => "E0214",
            Code::UnknownConnection => "E0215",
            Code::SourceUnreadable => "E0301",
            Code::MissingColumn => "E0302",
            Code::UnreadableColumn => "E0303",
            Code::NotOnBackend => "E0304",
        }
    }
}

/// One problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What kind of problem.
    pub code: Code,
    /// One sentence: what is wrong.
    pub message: String,
    /// Byte range in the config text, if the problem has a place.
    pub span: Option<Range<usize>>,
    /// Text under the caret: what was expected there.
    pub label: String,
    /// Suggestions such as "did you mean `value`?".
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at a span.
    pub fn new(code: Code, message: impl Into<String>, span: Range<usize>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span: Some(span),
            label: String::new(),
            help: None,
        }
    }

    /// A diagnostic about the file as a whole.
    pub fn global(code: Code, message: impl Into<String>) -> Self {
        Diagnostic {
            code,
            message: message.into(),
            span: None,
            label: String::new(),
            help: None,
        }
    }

    /// Sets the text printed under the caret.
    pub fn with_label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Sets the help line to "did you mean …" when a suggestion exists.
    pub fn with_suggestion(mut self, suggestion: Option<&str>) -> Self {
        if let Some(name) = suggestion {
            self.help = Some(format!("did you mean `{name}`?"));
        }
        self
    }

    /// Renders the diagnostic against the text it was found in.
    pub fn render(&self, file_name: &str, text: &str) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "error[{}]: {}", self.code.as_str(), self.message);
        match &self.span {
            Some(span) => {
                let (line_no, col, line) = locate(text, span.start);
                let gutter = line_no.to_string().len();
                let pad = " ".repeat(gutter);
                let _ = writeln!(out, "{pad}--> {file_name}:{line_no}:{col}");
                let _ = writeln!(out, "{pad} |");
                let _ = writeln!(out, "{line_no} | {line}");
                // The caret stays within the shown line (which lost any trailing `\r`), on
                // character boundaries, whatever the span.
                let start = floor_char_boundary(text, span.start.min(text.len()));
                let line_start = start - col_byte_offset(text, start);
                let line_end = line_start + line.len();
                let caret_start = start.min(line_end);
                let caret_end = floor_char_boundary(text, span.end.clamp(caret_start, line_end));
                let width = text[caret_start..caret_end.max(caret_start)]
                    .chars()
                    .count()
                    .max(1);
                let lead = " ".repeat(col - 1);
                let carets = "^".repeat(width);
                if self.label.is_empty() {
                    let _ = writeln!(out, "{pad} | {lead}{carets}");
                } else {
                    let _ = writeln!(out, "{pad} | {lead}{carets} {}", self.label);
                }
                if let Some(help) = &self.help {
                    let _ = writeln!(out, "{pad} |");
                    let _ = writeln!(out, "{pad} = help: {help}");
                }
            }
            None => {
                let _ = writeln!(out, " --> {file_name}");
                if !self.label.is_empty() {
                    let _ = writeln!(out, "  = note: {}", self.label);
                }
                if let Some(help) = &self.help {
                    let _ = writeln!(out, "  = help: {help}");
                }
            }
        }
        out
    }
}

/// Line number (1-based), column in characters (1-based) and the line's text at `offset`.
pub fn locate(text: &str, offset: usize) -> (usize, usize, &str) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let line_end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let line_no = text[..line_start].matches('\n').count() + 1;
    let col = text[line_start..offset].chars().count() + 1;
    (line_no, col, text[line_start..line_end].trim_end_matches('\r'))
}

fn col_byte_offset(text: &str, offset: usize) -> usize {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    offset - text[..offset].rfind('\n').map_or(0, |i| i + 1)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// All diagnostics of one config file, with the text needed to render them.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{} error(s) in {file_name}", diagnostics.len())]
pub struct ConfigError {
    /// The file name used in `-->` lines.
    pub file_name: String,
    /// The config text.
    pub text: String,
    /// Every problem found, in file order.
    pub diagnostics: Vec<Diagnostic>,
}

impl ConfigError {
    /// Renders every diagnostic, separated by blank lines, with a closing count.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for diagnostic in &self.diagnostics {
            out.push_str(&diagnostic.render(&self.file_name, &self.text));
            out.push('\n');
        }
        let count = self.diagnostics.len();
        let _ = writeln!(
            out,
            "{} {} found in {}",
            count,
            if count == 1 { "error" } else { "errors" },
            self.file_name
        );
        out
    }
}
