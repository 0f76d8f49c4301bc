//! Config text → validated plan, collecting every diagnostic on the way.
//!
//! This module holds the walk over the TOML document and what every section shares (decoding a
//! table, checking a name, resolving an expression or a reference); [`tables`] checks the
//! sections metrics build on, [`metrics`] the metrics themselves.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;
use std::path::Path;

use serde::de::{DeserializeOwned, IntoDeserializer};
use tenure_plan as plan;
use tenure_plan::{Expr, Field};
use toml::de::{DeTable, DeValue};

use crate::data::{DataReferences, SourceReference};
use crate::diagnostic::{Code, Diagnostic};
use crate::expr::resolve::{self, Context, Scope, Type};
use crate::model::*;
use crate::suggest::closest;

mod metrics;
mod tables;

type Value<'a> = toml::Spanned<DeValue<'a>>;

const SECTIONS: [&str; 11] = [
    "project",
    "connections",
    "sources",
    "quality",
    "constants",
    "events",
    "cohorts",
    "metrics",
    "segments",
    "plugins",
    "benchmarks",
];
const RESERVED: [&str; 15] = [
    "event", "entity", "time", "props", "attr", "segment", "true", "false", "null", "and", "or", "not", "in",
    "contains", "matches",
];

pub(crate) fn validate(text: &str, base_dir: &Path) -> Result<(plan::Plan, DataReferences), Vec<Diagnostic>> {
    let mut validator = Validator {
        text,
        references: DataReferences::default(),
        diagnostics: Vec::new(),
        dropped: Vec::new(),
        events_with_amount: Vec::new(),
        constants: BTreeMap::new(),
        benchmarks: Vec::new(),
        cohort_grains: BTreeMap::new(),
        period_start_segments: Vec::new(),
        recurring_cohorts: BTreeSet::new(),
        failed_metrics: BTreeSet::new(),
    };
    let plan = validator.run(base_dir);
    let mut diagnostics = validator.diagnostics;
    if diagnostics.is_empty() {
        if let Some(plan) = plan {
            return Ok((plan, validator.references));
        }
        diagnostics.push(Diagnostic::global(
            Code::MissingKey,
            "the config defines nothing to compute",
        ));
    }
    diagnostics.sort_by_key(|d| d.span.as_ref().map_or(usize::MAX, |s| s.start));
    diagnostics.dedup();
    Err(diagnostics)
}

struct Validator<'t> {
    text: &'t str,
    /// Where the config names sources' columns, properties and attributes.
    references: DataReferences,
    diagnostics: Vec<Diagnostic>,
    /// `(table, key)` pairs dropped from a table after reporting them, so that a later check
    /// does not report the same key again as missing.
    dropped: Vec<(String, String)>,
    /// Value events that declare `amount` (whether or not it resolved).
    events_with_amount: Vec<String>,
    /// Metrics that are declared but invalid themselves (an unknown type, a bad key): they
    /// stay known by name, and references to them are not checked further.
    failed_metrics: BTreeSet<String>,
    /// `[constants]`, for expressions inside metrics.
    constants: BTreeMap<String, f64>,
    /// `[benchmarks.*]`, for retention metrics' `benchmark`.
    benchmarks: Vec<tenure_plan::norms::Norm>,
    /// Each valid cohort's grain, for metrics whose periods follow it.
    cohort_grains: BTreeMap<String, plan::Grain>,
    /// The cohorts declared `recurring`, by their index among the declared cohorts.
    recurring_cohorts: BTreeSet<usize>,
    /// The segments labelled at each period's start (`as_of = "period_start"`).
    period_start_segments: Vec<String>,
}

/// A named table entry: its key (with span) and its value.
struct Entry<'a> {
    name: String,
    name_span: Range<usize>,
    value: Value<'a>,
}

impl<'t> Validator<'t> {
    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// Whether `key` of `table` was reported and dropped already.
    fn was_dropped(&self, table: &str, key: &str) -> bool {
        self.dropped.iter().any(|(t, k)| t == table && k == key)
    }

    fn run(&mut self, base_dir: &Path) -> Option<plan::Plan> {
        let (root, syntax_errors) = DeTable::parse_recoverable(self.text);
        if !syntax_errors.is_empty() {
            for error in syntax_errors {
                let span = error.span().unwrap_or(0..0);
                let message = error.message().trim().to_string();
                self.push(
                    Diagnostic::new(Code::TomlSyntax, "the file is not valid TOML", span)
                        .with_label(first_line(&message)),
                );
            }
            return None;
        }
        let root_table = root.into_inner();
        let mut sections: HashMap<String, Entry<'_>> = HashMap::new();
        for (key, value) in root_table {
            let name = key.get_ref().to_string();
            let name_span = key.span();
            if SECTIONS.contains(&name.as_str()) {
                sections.insert(
                    name.clone(),
                    Entry {
                        name,
                        name_span,
                        value,
                    },
                );
            } else {
                let suggestion = closest(&name, SECTIONS);
                self.push(
                    Diagnostic::new(Code::UnknownKey, format!("unknown section `{name}`"), name_span)
                        .with_label("not a section of metrics.toml")
                        .with_suggestion(suggestion)
                        .or_help(format!("the sections are: {}", SECTIONS.join(", "))),
                );
            }
        }

        let project = self.project(sections.remove("project"));
        let constants = self.constants(sections.remove("constants"));
        let (connections, connection_names) = self.connections(sections.remove("connections"));
        let (event_sources, entity_source) =
            self.sources(sections.remove("sources"), base_dir, &connection_names);
        let quality = self.quality(sections.remove("quality"), &constants);
        let events = self.events(sections.remove("events"), &constants);
        let event_names: Vec<String> = events.iter().map(|e| e.name.clone()).collect();
        self.constants = constants.clone();
        let plugins = self.plugins(sections.remove("plugins"), base_dir);
        let (segments, segment_names) = self.segments(sections.remove("segments"), &plugins, &event_names);
        let (cohorts, cohort_names) = self.cohorts(
            sections.remove("cohorts"),
            &constants,
            &event_names,
            &segment_names,
        );
        self.benchmarks = self.benchmarks(sections.remove("benchmarks"));
        self.cohort_grains = cohorts.iter().map(|c| (c.name.clone(), c.grain)).collect();
        let metrics = self.metrics(
            sections.remove("metrics"),
            &event_names,
            &cohort_names,
            &segment_names,
        );

        for (name, value) in [("constants", &constants)] {
            for constant in value.keys() {
                if event_names.contains(constant) {
                    self.push(Diagnostic::global(
                        Code::ConflictingKeys,
                        format!("`{constant}` is both a value event and a name in [{name}]"),
                    ));
                }
            }
        }
        let project = project?;
        if event_sources.is_empty() && self.diagnostics.is_empty() {
            self.push(
                Diagnostic::global(Code::MissingKey, "no event source is defined")
                    .with_help("add a [sources.events] table with path, entity, time and event"),
            );
        }
        Some(plan::Plan {
            connections,
            segments,
            project,
            event_sources,
            entity_source,
            quality,
            events,
            cohorts,
            metrics,
        })
    }

    // ---- generic helpers -------------------------------------------------------------------

    /// Deserialises one table; serde errors become diagnostics.
    ///
    /// Serde stops at the first bad key, so after an unknown key, a wrong type or a bad value the
    /// table is decoded again without that key: every bad key of the table is reported, and the
    /// rest of it is still checked (the run stops anyway, since errors were reported).
    fn decode<T: DeserializeOwned>(&mut self, entry: &Entry<'_>, table: &str) -> Option<T> {
        let mut value = entry.value.clone();
        let mut removed: Vec<String> = Vec::new();
        loop {
            let error = match T::deserialize(value.clone().into_deserializer()) {
                Ok(decoded) => return Some(decoded),
                Err(error) => error,
            };
            let missing = error
                .message()
                .strip_prefix("missing field ")
                .map(|m| first_line(m).trim_matches('`').to_string());
            if let Some(name) = &missing
                && removed.contains(name)
            {
                // The key is there but was bad; that is reported already.
                return None;
            }
            let diagnostic = self.serde_diagnostic(&error, entry, table);
            self.push(diagnostic);
            let (Some(span), DeValue::Table(fields)) = (error.span(), value.get_mut()) else {
                return None;
            };
            let culprit = fields
                .iter()
                .find(|(key, field)| {
                    let (k, v) = (key.span(), field.span());
                    k.start.min(v.start) <= span.start && span.start < k.end.max(v.end)
                })
                .map(|(key, _)| key.get_ref().to_string());
            match culprit {
                Some(name) if missing.is_none() => {
                    *fields = std::mem::take(fields)
                        .into_iter()
                        .filter(|(key, _)| key.get_ref() != name.as_str())
                        .collect();
                    self.dropped.push((table.to_string(), name.clone()));
                    removed.push(name);
                }
                _ => return None,
            }
        }
    }

    fn serde_diagnostic(&self, error: &toml::de::Error, entry: &Entry<'_>, table: &str) -> Diagnostic {
        let message = first_line(error.message());
        let span = error.span().unwrap_or_else(|| entry.name_span.clone());
        if let Some(rest) = message.strip_prefix("unknown field ") {
            let (name, expected) = split_expected(rest);
            let suggestion = closest(&name, expected.iter().map(String::as_str));
            let key_span = self.find_key(span.clone(), &name).unwrap_or(span);
            return Diagnostic::new(
                Code::UnknownKey,
                format!("unknown key `{name}` in [{table}]"),
                key_span,
            )
            .with_label("not a key of this table")
            .with_suggestion(suggestion)
            .or_help(format!("the keys are: {}", expected.join(", ")));
        }
        if let Some(rest) = message.strip_prefix("unknown variant ") {
            let (name, expected) = split_expected(rest);
            let suggestion = closest(&name, expected.iter().map(String::as_str));
            let quoted: Vec<String> = expected.iter().map(|e| format!("`{e}`")).collect();
            return Diagnostic::new(
                Code::InvalidValue,
                format!("`{name}` is not an accepted value"),
                span,
            )
            .with_label(format!("expected one of {}", quoted.join(", ")))
            .with_suggestion(suggestion);
        }
        if let Some(rest) = message.strip_prefix("missing field ") {
            let name = rest.trim_matches('`').to_string();
            return Diagnostic::new(
                Code::MissingKey,
                format!("[{table}] is missing the required key `{name}`"),
                entry.name_span.clone(),
            )
            .with_label(format!("add `{name} = …` to this table"));
        }
        if let Some(rest) = message.strip_prefix("invalid type: ") {
            let (found, expected) = rest.split_once(", expected ").unwrap_or((rest, "another type"));
            let expected = plain_type_name(expected);
            return Diagnostic::new(
                Code::WrongType,
                format!("wrong type in [{table}]: expected {expected}"),
                span,
            )
            .with_label(format!("found {found}"));
        }
        Diagnostic::new(Code::WrongType, format!("invalid value in [{table}]"), span).with_label(message)
    }

    /// The span of `key` at the start of `within`, or of its first occurrence inside it.
    fn find_key(&self, within: Range<usize>, key: &str) -> Option<Range<usize>> {
        let end = within.end.min(self.text.len());
        let start = within.start.min(end);
        let region = self.text.get(start..end)?;
        let offset = region.find(key)?;
        Some(start + offset..start + offset + key.len())
    }

    /// The entries of a `[section.<name>]` table of tables.
    fn entries<'a>(&mut self, section: Option<Entry<'a>>) -> Vec<Entry<'a>> {
        let Some(section) = section else { return Vec::new() };
        let span = section.value.span();
        match section.value.into_inner() {
            DeValue::Table(table) => table
                .into_iter()
                .map(|(key, value)| Entry {
                    name: key.get_ref().to_string(),
                    name_span: key.span(),
                    value,
                })
                .collect(),
            other => {
                self.push(
                    Diagnostic::new(
                        Code::WrongType,
                        format!("`{}` must be a table", section.name),
                        span,
                    )
                    .with_label(format!("found {}", other.type_str())),
                );
                Vec::new()
            }
        }
    }

    fn check_name(&mut self, entry: &Entry<'_>, section: &str) -> bool {
        let name = entry.name.as_str();
        let valid = name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            self.push(
                Diagnostic::new(
                    Code::InvalidName,
                    format!("`{name}` is not a valid name in [{section}]"),
                    entry.name_span.clone(),
                )
                .with_label("names are letters, digits and `_`, starting with a letter"),
            );
            return false;
        }
        if RESERVED.contains(&name) {
            self.push(
                Diagnostic::new(
                    Code::InvalidName,
                    format!("`{name}` is a reserved word"),
                    entry.name_span.clone(),
                )
                .with_label("choose another name"),
            );
            return false;
        }
        true
    }

    /// Parses and resolves an expression written in a TOML string.
    fn expression(&mut self, source: &Spanned<String>, scope: &Scope<'_>, wanted: Type) -> Option<Expr> {
        let mapping = StringMapping::new(self.text, source);
        let node = match crate::expr::parse(&source.value) {
            Ok(node) => node,
            Err(error) => {
                let code = if error.too_complex {
                    Code::ExprTooComplex
                } else {
                    Code::ExprSyntax
                };
                let suggestion = error
                    .found_word
                    .as_deref()
                    .and_then(|word| closest(word, OPERATOR_WORDS));
                self.push(
                    Diagnostic::new(code, error.message, mapping.map(error.span))
                        .with_label(error.label)
                        .with_suggestion(suggestion),
                );
                return None;
            }
        };
        let mut errors = Vec::new();
        let resolved = resolve::resolve(&node, scope, &mut errors);
        for mut error in errors {
            error.span = error.span.map(|span| mapping.map(span));
            self.push(error);
        }
        let (expr, ty) = resolved?;
        self.note_columns(&node, &mapping);
        let fits = ty == wanted || matches!(ty, Type::Any | Type::Null);
        if !fits {
            let what = if wanted == Type::Bool {
                "a condition (true or false)"
            } else {
                "a number"
            };
            self.push(
                Diagnostic::new(
                    Code::TypeMismatch,
                    format!("this expression must be {what}"),
                    mapping.map(node.span),
                )
                .with_label(format!("this is {}", ty.name())),
            );
            return None;
        }
        Some(expr)
    }

    /// Notes the `props.*` and `attr.*` an expression reads, for the check against the data.
    fn note_columns(&mut self, node: &crate::expr::Node, mapping: &StringMapping) {
        use crate::expr::NodeKind;
        match &node.kind {
            NodeKind::Name(parts) if parts.len() == 2 => {
                let place = (parts[1].clone(), mapping.map(node.span.clone()));
                match parts[0].as_str() {
                    "props" => self.references.props.push(place),
                    "attr" => self.references.attrs.push(place),
                    _ => {}
                }
            }
            NodeKind::List(items) => items.iter().for_each(|i| self.note_columns(i, mapping)),
            NodeKind::Unary(_, inner) => self.note_columns(inner, mapping),
            NodeKind::Binary(_, left, right) => {
                self.note_columns(left, mapping);
                self.note_columns(right, mapping);
            }
            NodeKind::Call { args, .. } => args.iter().for_each(|a| self.note_columns(&a.value, mapping)),
            _ => {}
        }
    }

    fn reference(
        &mut self,
        name: &Spanned<String>,
        known: &[String],
        code: Code,
        what: &str,
    ) -> Option<usize> {
        if let Some(index) = known.iter().position(|k| *k == name.value) {
            return Some(index);
        }
        let suggestion = closest(&name.value, known.iter().map(String::as_str));
        self.push(
            Diagnostic::new(
                code,
                format!("unknown {what} `{}`", name.value),
                name.span.clone(),
            )
            .with_label(format!("no [{what}s] entry has this name"))
            .with_suggestion(suggestion)
            .or_help(if known.is_empty() {
                format!("define one in a [{what}s.<name>] table")
            } else {
                format!("the {what}s are: {}", known.join(", "))
            }),
        );
        None
    }
}

const OPERATOR_WORDS: [&str; 6] = ["and", "or", "not", "in", "contains", "matches"];

fn grain_of(config: Option<&Spanned<GrainConfig>>) -> plan::Grain {
    match config.map(|g| g.value) {
        Some(GrainConfig::Day) => plan::Grain::Day,
        Some(GrainConfig::Week) => plan::Grain::Week,
        Some(GrainConfig::Quarter) => plan::Grain::Quarter,
        Some(GrainConfig::Year) => plan::Grain::Year,
        _ => plan::Grain::Month,
    }
}

/// How many periods of `grain` a duration is, if it is a whole number of them.
fn periods_in(duration: tenure_plan::Duration, grain: plan::Grain) -> Option<u32> {
    use tenure_plan::DurationUnit::*;
    let count = duration.count;
    let periods = match (grain, duration.unit) {
        (plan::Grain::Day, Day) => count,
        (plan::Grain::Day, Week) => count * 7,
        (plan::Grain::Week, Week) => count,
        (plan::Grain::Week, Day) if count % 7 == 0 => count / 7,
        (plan::Grain::Month, Month) => count,
        (plan::Grain::Quarter, Month) if count % 3 == 0 => count / 3,
        (plan::Grain::Year, Month) if count % 12 == 0 => count / 12,
        _ => return None,
    };
    (periods > 0).then_some(periods)
}

/// `metric.scalar` names in a formula's syntax tree, with their spans.
fn collect_metric_references(
    node: &crate::expr::Node,
    metrics: &BTreeMap<String, Vec<String>>,
    out: &mut Vec<(String, Range<usize>)>,
) {
    use crate::expr::NodeKind;
    match &node.kind {
        NodeKind::Name(parts) if parts.len() == 2 && metrics.contains_key(&parts[0]) => {
            out.push((parts[0].clone(), node.span.clone()))
        }
        NodeKind::List(items) => items
            .iter()
            .for_each(|i| collect_metric_references(i, metrics, out)),
        NodeKind::Unary(_, inner) => collect_metric_references(inner, metrics, out),
        NodeKind::Binary(_, left, right) => {
            collect_metric_references(left, metrics, out);
            collect_metric_references(right, metrics, out);
        }
        NodeKind::Call { args, .. } => args
            .iter()
            .for_each(|a| collect_metric_references(&a.value, metrics, out)),
        _ => {}
    }
}

/// The largest retention offset accepted (about ten years of days).
const MAX_PERIOD: i64 = 3660;

fn placeholder_event(name: &str) -> plan::ValueEvent {
    plan::ValueEvent {
        name: name.to_string(),
        filter: Expr::Literal(plan::Literal::Bool(false)),
        amount: None,
    }
}

fn breakdown_field(text: &str) -> Option<Field> {
    let (root, column) = text.trim().split_once('.')?;
    let valid = !column.is_empty() && column.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return None;
    }
    match root {
        "attr" => Some(Field::Attr(column.to_string())),
        "props" => Some(Field::Prop(column.to_string())),
        "segment" => Some(Field::Segment(column.to_string())),
        _ => None,
    }
}

/// Serde's names for types, in TOML's words.
fn plain_type_name(serde_name: &str) -> String {
    let name = serde_name.trim();
    match name {
        "a sequence" => "an array".to_string(),
        "a map" => "a table".to_string(),
        "f64" | "f32" => "a number".to_string(),
        "i64" | "i32" | "u64" | "u32" | "usize" => "an integer".to_string(),
        "a boolean" | "a string" => name.to_string(),
        _ if name.starts_with("struct ") => "a table".to_string(),
        _ if name.starts_with("variant identifier") || name.starts_with("enum ") => "a string".to_string(),
        _ => name.to_string(),
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or("").trim().to_string()
}

/// Splits "`x`, expected one of `a`, `b`" into ("x", ["a", "b"]).
fn split_expected(rest: &str) -> (String, Vec<String>) {
    let mut parts = rest.split('`').skip(1).step_by(2).map(str::to_string);
    let name = parts.next().unwrap_or_default();
    (name, parts.collect())
}

impl Diagnostic {
    fn or_help(mut self, help: String) -> Self {
        if self.help.is_none() {
            self.help = Some(help);
        }
        self
    }
}

/// Maps offsets inside a TOML string value back to offsets in the file.
struct StringMapping {
    whole: Range<usize>,
    inner_start: Option<usize>,
}

impl StringMapping {
    fn new(text: &str, value: &Spanned<String>) -> Self {
        let raw = text.get(value.span.clone()).unwrap_or("");
        let mut skip = if raw.starts_with("\"\"\"") || raw.starts_with("'''") {
            3
        } else if raw.starts_with('"') || raw.starts_with('\'') {
            1
        } else {
            0
        };
        if skip == 3 && raw[skip..].starts_with('\n') {
            skip += 1;
        }
        let inner_start = value.span.start + skip;
        let direct = text.get(inner_start..inner_start + value.value.len()) == Some(value.value.as_str());
        StringMapping {
            whole: value.span.clone(),
            inner_start: direct.then_some(inner_start),
        }
    }

    fn map(&self, span: Range<usize>) -> Range<usize> {
        match self.inner_start {
            Some(start) => start + span.start..start + span.end.max(span.start),
            None => self.whole.clone(),
        }
    }
}
