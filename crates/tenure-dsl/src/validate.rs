//! Config text → validated plan, collecting every diagnostic on the way.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::Path;

use serde::de::{DeserializeOwned, IntoDeserializer};
use tenure_plan as plan;
use tenure_plan::{Expr, Field};
use toml::de::{DeTable, DeValue};

use crate::diagnostic::{Code, Diagnostic};
use crate::expr::resolve::{self, Context, Scope, Type};
use crate::model::*;
use crate::suggest::closest;

type Value<'a> = toml::Spanned<DeValue<'a>>;

const SECTIONS: [&str; 9] = [
    "project",
    "sources",
    "quality",
    "constants",
    "events",
    "cohorts",
    "metrics",
    "segments",
    "plugins",
];
const RESERVED: [&str; 15] = [
    "event", "entity", "time", "props", "attr", "segment", "true", "false", "null", "and", "or", "not", "in",
    "contains", "matches",
];

pub(crate) fn validate(text: &str, base_dir: &Path) -> Result<plan::Plan, Vec<Diagnostic>> {
    let mut validator = Validator {
        text,
        diagnostics: Vec::new(),
        dropped: Vec::new(),
        events_with_amount: Vec::new(),
        constants: BTreeMap::new(),
    };
    let plan = validator.run(base_dir);
    let mut diagnostics = validator.diagnostics;
    if diagnostics.is_empty() {
        if let Some(plan) = plan {
            return Ok(plan);
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
    diagnostics: Vec<Diagnostic>,
    /// `(table, key)` pairs dropped from a table after reporting them, so that a later check
    /// does not report the same key again as missing.
    dropped: Vec<(String, String)>,
    /// Value events that define `amount`.
    events_with_amount: Vec<String>,
    /// `[constants]`, for expressions inside metrics.
    constants: BTreeMap<String, f64>,
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
        let (event_sources, entity_source) = self.sources(sections.remove("sources"), base_dir);
        let quality = self.quality(sections.remove("quality"), &constants);
        let events = self.events(sections.remove("events"), &constants);
        let event_names: Vec<String> = events.iter().map(|e| e.name.clone()).collect();
        self.events_with_amount = events
            .iter()
            .filter(|e| e.amount.is_some())
            .map(|e| e.name.clone())
            .collect();
        self.constants = constants.clone();
        let plugins = self.plugins(sections.remove("plugins"), base_dir);
        let (segments, segment_names) = self.segments(sections.remove("segments"), &plugins, &event_names);
        let (cohorts, cohort_names) = self.cohorts(
            sections.remove("cohorts"),
            &constants,
            &event_names,
            &segment_names,
        );
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
                .with_label(format!("this is {}", type_name(ty))),
            );
            return None;
        }
        Some(expr)
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

    // ---- sections ----------------------------------------------------------------------------

    fn project(&mut self, entry: Option<Entry<'_>>) -> Option<plan::Project> {
        let config: ProjectConfig = match &entry {
            Some(entry) => self.decode(entry, "project")?,
            None => ProjectConfig::default(),
        };
        let timezone = match &config.timezone {
            None => Some(chrono_tz::UTC),
            Some(zone) => match zone.value.parse::<chrono_tz::Tz>() {
                Ok(tz) => Some(tz),
                Err(_) => {
                    let suggestion = closest(&zone.value, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()));
                    self.push(
                        Diagnostic::new(
                            Code::InvalidTimeZone,
                            format!("unknown time zone `{}`", zone.value),
                            zone.span.clone(),
                        )
                        .with_label("expected an IANA time zone such as `Europe/Berlin`")
                        .with_suggestion(suggestion),
                    );
                    None
                }
            },
        };
        let as_of = match &config.as_of {
            None => Some(None),
            Some(text) => match chrono::NaiveDate::parse_from_str(&text.value, "%Y-%m-%d") {
                Ok(date) => Some(Some(date)),
                Err(_) => {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidDate,
                            format!("`{}` is not a date", text.value),
                            text.span.clone(),
                        )
                        .with_label("expected YYYY-MM-DD"),
                    );
                    None
                }
            },
        };
        Some(plan::Project {
            name: config
                .name
                .map_or_else(|| "tenure project".to_string(), |n| n.value),
            timezone: timezone?,
            week_start: match config.week_start.map(|w| w.value) {
                Some(WeekStartConfig::Sunday) => plan::WeekStart::Sunday,
                _ => plan::WeekStart::Monday,
            },
            as_of: as_of?,
        })
    }

    fn constants(&mut self, entry: Option<Entry<'_>>) -> BTreeMap<String, f64> {
        let mut constants = BTreeMap::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "constants") {
                continue;
            }
            let table = format!("constants.{}", entry.name);
            if let Some(value) = self.decode::<f64>(&entry, &table) {
                if value.is_finite() {
                    constants.insert(entry.name, value);
                } else {
                    self.push(
                        Diagnostic::new(
                            Code::InvalidValue,
                            format!("constant `{}` is not finite", entry.name),
                            entry.value.span(),
                        )
                        .with_label("expected a finite number"),
                    );
                }
            }
        }
        constants
    }

    fn sources(
        &mut self,
        entry: Option<Entry<'_>>,
        base_dir: &Path,
    ) -> (Vec<plan::Source>, Option<plan::Source>) {
        let mut events = Vec::new();
        let mut entities: Option<plan::Source> = None;
        for entry in self.entries(entry) {
            let table = format!("sources.{}", entry.name);
            let Some(config) = self.decode::<SourceConfig>(&entry, &table) else {
                continue;
            };
            let kind = match config.kind.as_ref().map(|k| k.value) {
                Some(SourceKindConfig::Entities) => plan::SourceKind::Entities,
                _ => plan::SourceKind::Events,
            };
            let format = match config.format.as_ref().map(|f| f.value) {
                Some(FormatConfig::Csv) => Some(plan::Format::Csv),
                Some(FormatConfig::Jsonl) => Some(plan::Format::JsonLines),
                Some(FormatConfig::Parquet) => Some(plan::Format::Parquet),
                Some(FormatConfig::Arrow) => Some(plan::Format::ArrowIpc),
                None => {
                    let lower = config.path.value.to_ascii_lowercase();
                    let inferred = if lower.ends_with(".csv") {
                        Some(plan::Format::Csv)
                    } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") {
                        Some(plan::Format::JsonLines)
                    } else if lower.ends_with(".parquet") {
                        Some(plan::Format::Parquet)
                    } else if [".arrow", ".feather", ".ipc"].iter().any(|e| lower.ends_with(e)) {
                        Some(plan::Format::ArrowIpc)
                    } else {
                        None
                    };
                    if inferred.is_none() {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                "cannot tell the file format from its extension",
                                config.path.span.clone(),
                            )
                            .with_label("expected .csv, .jsonl, .ndjson, .parquet, .arrow or .feather")
                            .with_help("set `format = \"csv\"`, `\"jsonl\"`, `\"parquet\"` or `\"arrow\"`"),
                        );
                    }
                    inferred
                }
            };
            let column = |key: &str, value: &Option<Spanned<String>>, this: &mut Self| -> String {
                match value {
                    Some(value) => value.value.clone(),
                    None => {
                        if kind == plan::SourceKind::Events && !this.was_dropped(&table, key) {
                            this.push(
                                Diagnostic::new(
                                    Code::MissingKey,
                                    format!("[{table}] is missing the required key `{key}`"),
                                    entry.name_span.clone(),
                                )
                                .with_label(format!(
                                    "an event source names its {key} column: `{key} = \"…\"`"
                                )),
                            );
                        }
                        String::new()
                    }
                }
            };
            let time_column = column("time", &config.time, self);
            let event_column = column("event", &config.event, self);
            let Some(format) = format else { continue };
            let source = plan::Source {
                name: entry.name.clone(),
                kind,
                path: base_dir.join(&config.path.value),
                format,
                entity_column: config.entity.value.clone(),
                time_column,
                event_column,
                time_format: match config.time_format.map(|t| t.value) {
                    Some(TimeFormatConfig::EpochS) => plan::TimeFormat::EpochSeconds,
                    Some(TimeFormatConfig::EpochMs) => plan::TimeFormat::EpochMillis,
                    _ => plan::TimeFormat::Auto,
                },
            };
            match kind {
                plan::SourceKind::Events => events.push(source),
                plan::SourceKind::Entities if entities.is_some() => self.push(
                    Diagnostic::new(
                        Code::ConflictingKeys,
                        "only one entity-attribute source is allowed",
                        entry.name_span.clone(),
                    )
                    .with_label("a second `kind = \"entities\"` source"),
                ),
                plan::SourceKind::Entities => entities = Some(source),
            }
        }
        (events, entities)
    }

    fn quality(&mut self, entry: Option<Entry<'_>>, constants: &BTreeMap<String, f64>) -> plan::Quality {
        let config: QualityConfig = match &entry {
            Some(entry) => self.decode(entry, "quality").unwrap_or_default(),
            None => QualityConfig::default(),
        };
        let scope = Scope {
            context: Context::Row,
            constants,
            events: None,
            segments: &[],
            formula: None,
        };
        let exclude = config
            .exclude
            .as_ref()
            .and_then(|text| self.expression(text, &scope, Type::Bool));
        plan::Quality {
            dedupe: matches!(config.dedupe.map(|d| d.value), Some(DedupeConfig::Exact)),
            exclude,
            on_bad_row: match config.on_bad_row.map(|b| b.value) {
                Some(BadRowConfig::Fail) => plan::BadRowPolicy::Fail,
                _ => plan::BadRowPolicy::Skip,
            },
        }
    }

    fn events(
        &mut self,
        entry: Option<Entry<'_>>,
        constants: &BTreeMap<String, f64>,
    ) -> Vec<plan::ValueEvent> {
        let mut configs: BTreeMap<String, EventConfig> = BTreeMap::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "events") {
                continue;
            }
            let table = format!("events.{}", entry.name);
            if let Some(config) = self.decode::<EventConfig>(&entry, &table) {
                configs.insert(entry.name, config);
            }
        }
        // Value events may name each other in `where`; resolve them in dependency order.
        let mut dependencies: BTreeMap<String, Vec<(String, Range<usize>)>> = BTreeMap::new();
        for (name, config) in &configs {
            let mut names = Vec::new();
            if let Ok(node) = crate::expr::parse(&config.filter.value) {
                resolve::bare_names(&node, &mut names);
            }
            let mapping = StringMapping::new(self.text, &config.filter);
            let deps = names
                .into_iter()
                .filter(|(n, _)| configs.contains_key(n))
                .map(|(n, span)| (n, mapping.map(span)))
                .collect();
            dependencies.insert(name.clone(), deps);
        }
        let order = self.dependency_order(&dependencies, "value events");
        let mut resolved: BTreeMap<String, Expr> = BTreeMap::new();
        let mut amounts: BTreeMap<String, Option<Expr>> = BTreeMap::new();
        let mut failed = false;
        for name in order {
            let config = &configs[&name];
            if dependencies[&name]
                .iter()
                .any(|(dep, _)| !resolved.contains_key(dep))
            {
                // A dependency failed or closes a loop; that is reported already.
                failed = true;
                continue;
            }
            let scope = Scope {
                context: Context::Row,
                constants,
                events: Some(&resolved),
                segments: &[],
                formula: None,
            };
            let filter = self.expression(&config.filter, &scope, Type::Bool);
            let amount_scope = Scope {
                context: Context::Row,
                constants,
                events: None,
                segments: &[],
                formula: None,
            };
            let amount = config
                .amount
                .as_ref()
                .map(|text| self.expression(text, &amount_scope, Type::Number));
            match (filter, amount) {
                (Some(filter), Some(None)) => {
                    failed = true;
                    resolved.insert(name.clone(), filter);
                }
                (Some(filter), amount) => {
                    resolved.insert(name.clone(), filter);
                    amounts.insert(name.clone(), amount.flatten());
                }
                (None, _) => failed = true,
            }
        }
        if failed {
            return configs.keys().map(|name| placeholder_event(name)).collect();
        }
        configs
            .keys()
            .map(|name| match resolved.remove(name) {
                Some(filter) => plan::ValueEvent {
                    name: name.clone(),
                    filter,
                    amount: amounts.remove(name).flatten(),
                },
                None => placeholder_event(name),
            })
            .collect()
    }

    /// Topological order of named items (value events, metrics); reports each cycle once.
    fn dependency_order(
        &mut self,
        dependencies: &BTreeMap<String, Vec<(String, Range<usize>)>>,
        what: &str,
    ) -> Vec<String> {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            New,
            Open,
            Done,
        }
        let mut marks: BTreeMap<&str, Mark> = dependencies.keys().map(|k| (k.as_str(), Mark::New)).collect();
        let mut order = Vec::new();
        let mut cycles: Vec<(Vec<String>, Range<usize>)> = Vec::new();
        fn visit<'a>(
            name: &'a str,
            dependencies: &'a BTreeMap<String, Vec<(String, Range<usize>)>>,
            marks: &mut BTreeMap<&'a str, Mark>,
            path: &mut Vec<(&'a str, Range<usize>)>,
            order: &mut Vec<String>,
            cycles: &mut Vec<(Vec<String>, Range<usize>)>,
        ) {
            marks.insert(name, Mark::Open);
            for (dep, span) in &dependencies[name] {
                match marks[dep.as_str()] {
                    Mark::Done => {}
                    Mark::Open => {
                        let start = path.iter().position(|(n, _)| *n == dep.as_str()).unwrap_or(0);
                        let mut names: Vec<String> =
                            path[start..].iter().map(|(n, _)| n.to_string()).collect();
                        names.push(name.to_string());
                        names.push(dep.clone());
                        cycles.push((names, span.clone()));
                    }
                    Mark::New => {
                        path.push((name, span.clone()));
                        visit(dep, dependencies, marks, path, order, cycles);
                        path.pop();
                    }
                }
            }
            marks.insert(name, Mark::Done);
            order.push(name.to_string());
        }
        for name in dependencies.keys() {
            if marks[name.as_str()] == Mark::New {
                visit(
                    name,
                    dependencies,
                    &mut marks,
                    &mut Vec::new(),
                    &mut order,
                    &mut cycles,
                );
            }
        }
        for (names, span) in cycles {
            let chain: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            self.push(
                Diagnostic::new(
                    Code::Cycle,
                    format!("{what} refer to each other in a loop: {}", chain.join(" → ")),
                    span,
                )
                .with_label("this reference closes the loop"),
            );
        }
        order
    }

    fn plugins(
        &mut self,
        entry: Option<Entry<'_>>,
        base_dir: &Path,
    ) -> BTreeMap<String, Option<plan::PluginDef>> {
        let mut plugins = BTreeMap::new();
        for entry in self.entries(entry) {
            let table = format!("plugins.{}", entry.name);
            let Some(config) = self.decode::<PluginConfig>(&entry, &table) else {
                plugins.insert(entry.name.clone(), None);
                continue;
            };
            let path = self.plugin_path(&config.path, base_dir);
            let sha256 = match &config.sha256 {
                Some(pin) => {
                    let hex = pin.value.trim().to_ascii_lowercase();
                    if hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        Some(hex)
                    } else {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidValue,
                                "`sha256` must be 64 hexadecimal digits",
                                pin.span.clone(),
                            )
                            .with_label("the output of `sha256sum <library>`"),
                        );
                        None
                    }
                }
                None => None,
            };
            let def = path.map(|path| plan::PluginDef {
                name: entry.name.clone(),
                path,
                sha256,
            });
            plugins.insert(entry.name.clone(), def);
        }
        plugins
    }

    /// The plugin library for a configured path: as written, or with the platform's library
    /// prefix and suffix (`lib….so`, `lib….dylib`, `….dll`). It must exist and look like a
    /// shared library; it is not loaded here.
    fn plugin_path(&mut self, path: &Spanned<String>, base_dir: &Path) -> Option<std::path::PathBuf> {
        let written = base_dir.join(&path.value);
        let mut candidates = vec![written.clone()];
        if let Some(file) = written.file_name().and_then(|f| f.to_str()) {
            let suffix = std::env::consts::DLL_SUFFIX;
            let prefix = std::env::consts::DLL_PREFIX;
            if !file.ends_with(suffix) {
                candidates.push(written.with_file_name(format!("{file}{suffix}")));
                if !file.starts_with(prefix) {
                    candidates.push(written.with_file_name(format!("{prefix}{file}{suffix}")));
                }
            }
        }
        let Some(found) = candidates.iter().find(|c| c.is_file()) else {
            let tried: Vec<String> = candidates.iter().map(|c| c.display().to_string()).collect();
            self.push(
                Diagnostic::new(
                    Code::PluginFile,
                    format!("plugin library `{}` not found", path.value),
                    path.span.clone(),
                )
                .with_label("no such file")
                .with_help(format!(
                    "tried {}; build plugins with `cargo build --workspace`",
                    tried.join(", ")
                )),
            );
            return None;
        };
        let mut header = [0u8; 4];
        let readable =
            std::fs::File::open(found).and_then(|mut f| std::io::Read::read_exact(&mut f, &mut header));
        let is_library = readable.is_ok()
            && (header == *b"\x7fELF"
                || header[..2] == *b"MZ"
                || matches!(
                    u32::from_be_bytes(header),
                    0xfeedface | 0xfeedfacf | 0xcefaedfe | 0xcffaedfe | 0xcafebabe
                ));
        if !is_library {
            self.push(
                Diagnostic::new(
                    Code::PluginFile,
                    format!("`{}` is not a shared library", found.display()),
                    path.span.clone(),
                )
                .with_label("expected an ELF, Mach-O or PE library built as a `cdylib`"),
            );
            return None;
        }
        if let Some(refusal) = plan::plugin_file::unsafe_permissions(found) {
            self.push(
                Diagnostic::new(Code::PluginFile, refusal, path.span.clone())
                    .with_label("anyone could replace this library")
                    .with_help("make the library and its folder writable only by their owner"),
            );
            return None;
        }
        Some(found.clone())
    }

    fn segments(
        &mut self,
        entry: Option<Entry<'_>>,
        plugins: &BTreeMap<String, Option<plan::PluginDef>>,
        event_names: &[String],
    ) -> (Vec<plan::SegmentDef>, Vec<String>) {
        let mut segments = Vec::new();
        let mut declared = Vec::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "segments") {
                continue;
            }
            declared.push(entry.name.clone());
            let table = format!("segments.{}", entry.name);
            let Some(config) = self.decode::<SegmentConfig>(&entry, &table) else {
                continue;
            };
            let event = match &config.event {
                Some(name) => self
                    .reference(name, event_names, Code::UnknownEvent, "event")
                    .map(Some),
                None => Some(None),
            };
            let plugin = match plugins.get(&config.plugin.value) {
                Some(Some(def)) => Some(def.clone()),
                Some(None) => None,
                None => {
                    let suggestion = closest(&config.plugin.value, plugins.keys().map(String::as_str));
                    self.push(
                        Diagnostic::new(
                            Code::UnknownPlugin,
                            format!("unknown plugin `{}`", config.plugin.value),
                            config.plugin.span.clone(),
                        )
                        .with_label("no [plugins] entry has this name")
                        .with_suggestion(suggestion),
                    );
                    None
                }
            };
            let params = config
                .params
                .as_ref()
                .map_or_else(|| "{}".to_string(), |p| p.to_string());
            if let (Some(plugin), Some(event)) = (plugin, event) {
                segments.push(plan::SegmentDef {
                    name: entry.name.clone(),
                    plugin,
                    params,
                    event,
                });
            }
        }
        (segments, declared)
    }

    /// A `by` key: `<root>.<name>` with an allowed root, and a declared segment for `segment.*`.
    fn breakdown_key(
        &mut self,
        key: &Spanned<String>,
        segment_names: &[String],
        roots: &[&str],
    ) -> Option<Field> {
        let field = breakdown_field(&key.value);
        let root = key.value.split('.').next().unwrap_or("");
        match field {
            Some(Field::Segment(name)) if !segment_names.contains(&name) => {
                let suggestion = closest(&name, segment_names.iter().map(String::as_str));
                self.push(
                    Diagnostic::new(
                        Code::UnknownName,
                        format!("unknown segment `{name}`"),
                        key.span.clone(),
                    )
                    .with_label("no [segments] entry has this name")
                    .with_suggestion(suggestion),
                );
                None
            }
            Some(field) if roots.contains(&root) => Some(field),
            _ => {
                let expected: Vec<String> = roots.iter().map(|r| format!("`{r}.<name>`")).collect();
                self.push(
                    Diagnostic::new(
                        Code::InvalidValue,
                        format!("`{}` cannot split this table", key.value),
                        key.span.clone(),
                    )
                    .with_label(format!("expected {}", expected.join(", "))),
                );
                None
            }
        }
    }

    fn cohorts(
        &mut self,
        entry: Option<Entry<'_>>,
        constants: &BTreeMap<String, f64>,
        event_names: &[String],
        segment_names: &[String],
    ) -> (Vec<plan::Cohort>, Vec<String>) {
        let mut cohorts = Vec::new();
        let mut declared = Vec::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "cohorts") {
                continue;
            }
            declared.push(entry.name.clone());
            let table = format!("cohorts.{}", entry.name);
            let Some(config) = self.decode::<CohortConfig>(&entry, &table) else {
                continue;
            };
            let start = self.reference(&config.start, event_names, Code::UnknownEvent, "event");
            let scope = Scope {
                context: Context::Cohort,
                constants,
                events: None,
                segments: segment_names,
                formula: None,
            };
            let filter = config
                .filter
                .as_ref()
                .map(|text| self.expression(text, &scope, Type::Bool));
            let mut by = Vec::new();
            let mut by_ok = true;
            for key in config.by.iter().flatten() {
                match self.breakdown_key(key, segment_names, &["attr", "props", "segment"]) {
                    Some(field) => by.push(field),
                    None => by_ok = false,
                }
            }
            let grain = match config.grain.value {
                GrainConfig::Day => plan::Grain::Day,
                GrainConfig::Week => plan::Grain::Week,
                GrainConfig::Month => plan::Grain::Month,
                GrainConfig::Quarter => plan::Grain::Quarter,
            };
            if let (Some(start), true) = (start, by_ok) {
                match filter {
                    Some(None) => {}
                    filter => cohorts.push(plan::Cohort {
                        name: entry.name.clone(),
                        start,
                        grain,
                        filter: filter.flatten(),
                        by,
                    }),
                }
            }
        }
        (cohorts, declared)
    }

    fn metrics(
        &mut self,
        entry: Option<Entry<'_>>,
        event_names: &[String],
        cohort_names: &[String],
        segment_names: &[String],
    ) -> Vec<plan::Metric> {
        let mut metrics = Vec::new();
        // Formulas, LTV and payback read other metrics: they are resolved once every metric's
        // scalars are known.
        let mut derived: Vec<(Entry<'_>, String, String)> = Vec::new();
        let mut scalars: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut types: BTreeMap<String, String> = BTreeMap::new();
        for entry in self.entries(entry) {
            if !self.check_name(&entry, "metrics") {
                continue;
            }
            let table = format!("metrics.{}", entry.name);
            let Some(kind) = self.metric_type(&entry, &table) else {
                continue;
            };
            types.insert(entry.name.clone(), kind.clone());
            let metric = match kind.as_str() {
                "retention" => self
                    .decode::<RetentionConfig>(&entry, &table)
                    .and_then(|config| self.retention(config, event_names, cohort_names, &table))
                    .map(|(kind, description)| (plan::MetricKind::Retention(kind), description)),
                "revenue" => self
                    .decode::<RevenueConfig>(&entry, &table)
                    .and_then(|config| self.revenue(config, event_names, segment_names))
                    .map(|(kind, description)| (plan::MetricKind::Revenue(kind), description)),
                "crr" => self
                    .decode::<CrrConfig>(&entry, &table)
                    .and_then(|config| self.crr(config, event_names))
                    .map(|(kind, description)| (plan::MetricKind::Crr(kind), description)),
                "activation" => self
                    .decode::<ActivationConfig>(&entry, &table)
                    .and_then(|config| self.activation(config, event_names, cohort_names))
                    .map(|(kind, description)| (plan::MetricKind::Activation(kind), description)),
                _ => {
                    let grouped = matches!(entry.value.get_ref(), DeValue::Table(t)
                        if t.iter().any(|(k, _)| k.get_ref() == "grain" || k.get_ref() == "cohort"));
                    let exposed = if kind == "formula" && grouped {
                        "last"
                    } else {
                        "value"
                    };
                    scalars.insert(entry.name.clone(), vec![exposed.to_string()]);
                    derived.push((entry, table, kind));
                    continue;
                }
            };
            if let Some((kind, description)) = metric {
                scalars.insert(entry.name.clone(), kind.scalars());
                metrics.push(plan::Metric {
                    name: entry.name.clone(),
                    description,
                    kind,
                });
            }
        }
        let mut references: BTreeMap<String, Vec<(String, Range<usize>)>> = BTreeMap::new();
        for (entry, table, kind) in derived {
            let resolved = match kind.as_str() {
                "formula" => self
                    .decode::<FormulaConfig>(&entry, &table)
                    .and_then(|config| self.formula(config, event_names, cohort_names, &scalars))
                    .map(|(kind, description, refs)| {
                        references.insert(entry.name.clone(), refs);
                        (kind, description)
                    }),
                "ltv" => self
                    .decode::<LtvConfig>(&entry, &table)
                    .and_then(|config| self.ltv(config, event_names, &types)),
                _ => self
                    .decode::<PaybackConfig>(&entry, &table)
                    .and_then(|config| self.payback(config, &types)),
            };
            if let Some((kind, description)) = resolved {
                metrics.push(plan::Metric {
                    name: entry.name.clone(),
                    description,
                    kind,
                });
            }
        }
        metrics.sort_by(|a, b| a.name.cmp(&b.name));
        // Formulas that read each other in a loop cannot be evaluated.
        for name in scalars.keys() {
            references.entry(name.clone()).or_default();
        }
        self.dependency_order(&references, "metrics");
        metrics
    }

    fn number_or_constant(&mut self, value: &Spanned<NumberOrConstant>) -> Option<f64> {
        match &value.value {
            NumberOrConstant::Number(number) => Some(*number),
            NumberOrConstant::Constant(name) => match self.constants.get(name) {
                Some(number) => Some(*number),
                None => {
                    let suggestion = closest(name, self.constants.keys().map(String::as_str));
                    self.push(
                        Diagnostic::new(
                            Code::UnknownName,
                            format!("unknown constant `{name}`"),
                            value.span.clone(),
                        )
                        .with_label("expected a number or a [constants] name")
                        .with_suggestion(suggestion),
                    );
                    None
                }
            },
        }
    }

    /// A reference to a metric of type `revenue`.
    fn revenue_metric(&mut self, name: &Spanned<String>, types: &BTreeMap<String, String>) -> Option<String> {
        match types.get(&name.value).map(String::as_str) {
            Some("revenue") => Some(name.value.clone()),
            Some(other) => {
                self.push(
                    Diagnostic::new(
                        Code::UnknownMetric,
                        format!("metric `{}` is a {other} metric", name.value),
                        name.span.clone(),
                    )
                    .with_label("expected a metric with type = \"revenue\""),
                );
                None
            }
            None => {
                let revenue: Vec<&str> = types
                    .iter()
                    .filter(|(_, t)| *t == "revenue")
                    .map(|(n, _)| n.as_str())
                    .collect();
                let suggestion = closest(&name.value, revenue.iter().copied());
                self.push(
                    Diagnostic::new(
                        Code::UnknownMetric,
                        format!("unknown metric `{}`", name.value),
                        name.span.clone(),
                    )
                    .with_label("no revenue metric has this name")
                    .with_suggestion(suggestion),
                );
                None
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn formula(
        &mut self,
        config: FormulaConfig,
        event_names: &[String],
        cohort_names: &[String],
        scalars: &BTreeMap<String, Vec<String>>,
    ) -> Option<(plan::MetricKind, Option<String>, Vec<(String, Range<usize>)>)> {
        if let (Some(grain), Some(_)) = (&config.grain, &config.cohort) {
            self.push(
                Diagnostic::new(
                    Code::ConflictingKeys,
                    "a formula is evaluated per `grain` or per `cohort`, not both",
                    grain.span.clone(),
                )
                .with_label("remove `grain` or `cohort`"),
            );
            return None;
        }
        let cohort = match &config.cohort {
            Some(name) => Some(self.reference(name, cohort_names, Code::UnknownCohort, "cohort")?),
            None => None,
        };
        let constants = self.constants.clone();
        let events_with_amount = self.events_with_amount.clone();
        let scope = Scope {
            context: Context::Formula,
            constants: &constants,
            events: None,
            segments: &[],
            formula: Some(resolve::FormulaScope {
                events: event_names,
                events_with_amount: &events_with_amount,
                metrics: scalars,
            }),
        };
        let expr = self.expression(&config.formula, &scope, Type::Number)?;
        let mapping = StringMapping::new(self.text, &config.formula);
        let mut references = Vec::new();
        if let Ok(node) = crate::expr::parse(&config.formula.value) {
            collect_metric_references(&node, scalars, &mut references);
        }
        let references = references
            .into_iter()
            .map(|(name, span)| (name, mapping.map(span)))
            .collect();
        let grain = config.grain.as_ref().map(|g| grain_of(Some(g)));
        Some((
            plan::MetricKind::Formula(plan::Formula { expr, grain, cohort }),
            config.description,
            references,
        ))
    }

    fn ltv(
        &mut self,
        config: LtvConfig,
        event_names: &[String],
        types: &BTreeMap<String, String>,
    ) -> Option<(plan::MetricKind, Option<String>)> {
        let margin = self.number_or_constant(&config.margin);
        let form = match config.form.value {
            LtvFormConfig::Orders => {
                let Some(order) = &config.order else {
                    self.push(
                        Diagnostic::new(
                            Code::MissingKey,
                            "`form = \"orders\"` needs `order`",
                            config.form.span.clone(),
                        )
                        .with_label("add `order = \"<value event with amount>\"`"),
                    );
                    return None;
                };
                let order = self.amount_event(order, event_names);
                let cost_to_serve = match &config.cost_to_serve {
                    Some(value) => self.number_or_constant(value),
                    None => Some(0.0),
                };
                plan::LtvForm::Orders {
                    order: order?,
                    cost_to_serve: cost_to_serve?,
                }
            }
            LtvFormConfig::Subscription => {
                let Some(revenue) = &config.revenue else {
                    self.push(
                        Diagnostic::new(
                            Code::MissingKey,
                            "`form = \"subscription\"` needs `revenue`",
                            config.form.span.clone(),
                        )
                        .with_label("add `revenue = \"<revenue metric>\"`"),
                    );
                    return None;
                };
                let revenue = self.revenue_metric(revenue, types)?;
                let churn_window = config.churn_window.as_ref().map_or(3, |w| w.value).max(1);
                plan::LtvForm::Subscription {
                    revenue,
                    churn_window,
                }
            }
        };
        Some((
            plan::MetricKind::Ltv(plan::Ltv {
                form,
                margin: margin?,
            }),
            config.description,
        ))
    }

    fn payback(
        &mut self,
        config: PaybackConfig,
        types: &BTreeMap<String, String>,
    ) -> Option<(plan::MetricKind, Option<String>)> {
        let revenue = self.revenue_metric(&config.revenue, types);
        let cac = self.number_or_constant(&config.cac);
        let margin = self.number_or_constant(&config.margin);
        Some((
            plan::MetricKind::Payback(plan::Payback {
                revenue: revenue?,
                cac: cac?,
                margin: margin?,
            }),
            config.description,
        ))
    }

    fn metric_type(&mut self, entry: &Entry<'_>, table: &str) -> Option<String> {
        let DeValue::Table(fields) = entry.value.get_ref() else {
            self.push(
                Diagnostic::new(
                    Code::WrongType,
                    format!("[{table}] must be a table"),
                    entry.value.span(),
                )
                .with_label(format!("found {}", entry.value.get_ref().type_str())),
            );
            return None;
        };
        let Some((_, kind)) = fields.iter().find(|(key, _)| key.get_ref() == "type") else {
            self.push(
                Diagnostic::new(
                    Code::MissingKey,
                    format!("[{table}] is missing the required key `type`"),
                    entry.name_span.clone(),
                )
                .with_label(format!("add `type = …`, one of: {}", METRIC_TYPES.join(", "))),
            );
            return None;
        };
        let Some(name) = kind.get_ref().as_str() else {
            self.push(
                Diagnostic::new(
                    Code::WrongType,
                    format!("wrong type in [{table}]: expected a string"),
                    kind.span(),
                )
                .with_label(format!("found {}", kind.get_ref().type_str())),
            );
            return None;
        };
        if METRIC_TYPES.contains(&name) {
            return Some(name.to_string());
        }
        let suggestion = closest(name, METRIC_TYPES);
        self.push(
            Diagnostic::new(
                Code::UnknownMetricType,
                format!("unknown metric type `{name}`"),
                kind.span(),
            )
            .with_label(format!("expected one of: {}", METRIC_TYPES.join(", ")))
            .with_suggestion(suggestion),
        );
        None
    }

    fn retention(
        &mut self,
        config: RetentionConfig,
        event_names: &[String],
        cohort_names: &[String],
        table: &str,
    ) -> Option<(plan::Retention, Option<String>)> {
        let cohort = self.reference(&config.cohort, cohort_names, Code::UnknownCohort, "cohort");
        let return_event = self.reference(&config.return_event, event_names, Code::UnknownEvent, "event");
        let value = config
            .value
            .as_ref()
            .map(|name| self.amount_event(name, event_names));
        let mode = config.mode.as_ref().map_or(ModeConfig::NDay, |m| m.value);
        let mode_span = config.mode.as_ref().map(|m| m.span.clone());
        let mode = match mode {
            ModeConfig::NDay | ModeConfig::Unbounded => {
                if let Some(brackets) = &config.brackets {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`brackets` belongs to `mode = \"bracket\"`",
                            brackets.span.clone(),
                        )
                        .with_label("use `periods` with this mode"),
                    );
                }
                let periods = self.periods(&config.periods, &mode_span, table)?;
                if matches!(mode, ModeConfig::NDay) {
                    plan::RetentionMode::NDay(periods)
                } else {
                    plan::RetentionMode::Unbounded(periods)
                }
            }
            ModeConfig::Bracket => {
                if let Some(periods) = &config.periods {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`periods` does not apply to `mode = \"bracket\"`",
                            periods.span.clone(),
                        )
                        .with_label("use `brackets = [[a, b], …]` with this mode"),
                    );
                }
                plan::RetentionMode::Bracket(self.brackets(&config.brackets, &mode_span, table)?)
            }
        };
        Some((
            plan::Retention {
                cohort: cohort?,
                return_event: return_event?,
                mode,
                unit: match config.unit.map(|u| u.value) {
                    Some(UnitConfig::Week) => plan::Unit::Week,
                    Some(UnitConfig::Month) => plan::Unit::Month,
                    _ => plan::Unit::Day,
                },
                align: match config.align.map(|a| a.value) {
                    Some(AlignConfig::Calendar) => plan::Align::Calendar,
                    _ => plan::Align::Entity,
                },
                value: value.map(|event| event.ok_or(())).transpose().ok()?,
            },
            config.description,
        ))
    }

    fn periods(
        &mut self,
        periods: &Option<Spanned<Vec<i64>>>,
        mode_span: &Option<Range<usize>>,
        table: &str,
    ) -> Option<Vec<u32>> {
        let key = "periods";
        let Some(periods) = periods else {
            if self.was_dropped(table, key) {
                return None;
            }
            let span = mode_span.clone().unwrap_or(0..0);
            self.push(
                Diagnostic::new(
                    Code::MissingKey,
                    format!("this retention metric needs `{key}`"),
                    span,
                )
                .with_label("add `periods = [0, 1, 7, 30]` or similar"),
            );
            return None;
        };
        let values = &periods.value;
        let valid = !values.is_empty()
            && values.iter().all(|k| (0..=MAX_PERIOD).contains(k))
            && values.windows(2).all(|w| w[0] < w[1]);
        if !valid {
            self.push(
                Diagnostic::new(
                    Code::InvalidPeriods,
                    "`periods` must be a non-empty ascending list of distinct offsets",
                    periods.span.clone(),
                )
                .with_label(format!(
                    "expected whole numbers from 0 to {MAX_PERIOD}, ascending"
                )),
            );
            return None;
        }
        Some(values.iter().map(|k| *k as u32).collect())
    }

    fn brackets(
        &mut self,
        brackets: &Option<Spanned<Vec<Vec<i64>>>>,
        mode_span: &Option<Range<usize>>,
        table: &str,
    ) -> Option<Vec<(u32, u32)>> {
        let Some(brackets) = brackets else {
            if self.was_dropped(table, "brackets") {
                return None;
            }
            let span = mode_span.clone().unwrap_or(0..0);
            self.push(
                Diagnostic::new(Code::MissingKey, "`mode = \"bracket\"` needs `brackets`", span)
                    .with_label("add `brackets = [[1, 7], [8, 30]]` or similar"),
            );
            return None;
        };
        let pairs: Option<Vec<(u32, u32)>> = brackets
            .value
            .iter()
            .map(|pair| match pair.as_slice() {
                [a, b] if (0..=MAX_PERIOD).contains(a) && (*a..=MAX_PERIOD).contains(b) => {
                    Some((*a as u32, *b as u32))
                }
                _ => None,
            })
            .collect();
        match pairs {
            Some(pairs) if !pairs.is_empty() && pairs.windows(2).all(|w| w[0] < w[1]) => Some(pairs),
            _ => {
                self.push(
                    Diagnostic::new(
                        Code::InvalidPeriods,
                        "`brackets` must be ascending `[a, b]` pairs with a ≤ b",
                        brackets.span.clone(),
                    )
                    .with_label(format!("expected pairs of whole numbers from 0 to {MAX_PERIOD}")),
                );
                None
            }
        }
    }

    fn duration(&mut self, text: &Spanned<String>) -> Option<tenure_plan::Duration> {
        let parsed = crate::expr::parse::parse_duration(&text.value);
        if parsed.is_none() {
            self.push(
                Diagnostic::new(
                    Code::InvalidDuration,
                    format!("`{}` is not a duration", text.value),
                    text.span.clone(),
                )
                .with_label("expected a count up to 100000 and a unit: `48h`, `7d`, `2w` or `1mo`"),
            );
        }
        parsed
    }

    /// A value event that must define `amount`.
    fn amount_event(&mut self, name: &Spanned<String>, event_names: &[String]) -> Option<usize> {
        let index = self.reference(name, event_names, Code::UnknownEvent, "event")?;
        if self.events_with_amount.contains(&name.value) {
            return Some(index);
        }
        self.push(
            Diagnostic::new(
                Code::MissingAmount,
                format!("value event `{}` has no `amount`", name.value),
                name.span.clone(),
            )
            .with_label("revenue is summed from the event's amount")
            .with_help(format!(
                "add `amount = \"props.<column>\"` to [events.{}]",
                name.value
            )),
        );
        None
    }

    fn revenue(
        &mut self,
        config: RevenueConfig,
        event_names: &[String],
        segment_names: &[String],
    ) -> Option<(plan::Revenue, Option<String>)> {
        let mut by = Vec::new();
        for key in config.by.iter().flatten() {
            by.push(self.breakdown_key(key, segment_names, &["attr", "segment"])?);
        }
        let event = self.amount_event(&config.amount, event_names);
        let grain = grain_of(config.grain.as_ref());
        let reactivation_within = match &config.reactivation_within {
            Some(text) => Some(self.duration(text)?),
            None => None,
        };
        let (window, window_periods) = match &config.window {
            Some(text) => {
                let duration = self.duration(text)?;
                match periods_in(duration, grain) {
                    Some(periods) => (Some(duration), Some(periods)),
                    None => {
                        self.push(
                            Diagnostic::new(
                                Code::InvalidDuration,
                                format!("`{}` is not a whole number of {}s", text.value, grain.as_str()),
                                text.span.clone(),
                            )
                            .with_label(format!(
                                "the window must span whole {}s of the table",
                                grain.as_str()
                            )),
                        );
                        return None;
                    }
                }
            }
            None => (None, None),
        };
        let spread = match &config.spread {
            Some(text) => {
                if !matches!(grain, plan::Grain::Month | plan::Grain::Quarter) {
                    self.push(
                        Diagnostic::new(
                            Code::ConflictingKeys,
                            "`spread` needs `grain = \"month\"` or `\"quarter\"`",
                            text.span.clone(),
                        )
                        .with_label("payments are spread over calendar months"),
                    );
                    return None;
                }
                let constants = self.constants.clone();
                let scope = Scope {
                    context: Context::Row,
                    constants: &constants,
                    events: None,
                    segments: &[],
                    formula: None,
                };
                Some(self.expression(text, &scope, Type::Number)?)
            }
            None => None,
        };
        Some((
            plan::Revenue {
                event: event?,
                grain,
                reactivation_within,
                spread,
                window_periods,
                window,
                by,
            },
            config.description,
        ))
    }

    fn crr(&mut self, config: CrrConfig, event_names: &[String]) -> Option<(plan::Crr, Option<String>)> {
        let active = self.reference(&config.active, event_names, Code::UnknownEvent, "event")?;
        Some((
            plan::Crr {
                active,
                grain: grain_of(config.grain.as_ref()),
            },
            config.description,
        ))
    }

    fn activation(
        &mut self,
        config: ActivationConfig,
        event_names: &[String],
        cohort_names: &[String],
    ) -> Option<(plan::Activation, Option<String>)> {
        let cohort = self.reference(&config.cohort, cohort_names, Code::UnknownCohort, "cohort");
        let reached = self.reference(&config.reached, event_names, Code::UnknownEvent, "event");
        let within = self.duration(&config.within);
        Some((
            plan::Activation {
                cohort: cohort?,
                reached: reached?,
                within: within?,
            },
            config.description,
        ))
    }
}

const OPERATOR_WORDS: [&str; 6] = ["and", "or", "not", "in", "contains", "matches"];

fn grain_of(config: Option<&Spanned<GrainConfig>>) -> plan::Grain {
    match config.map(|g| g.value) {
        Some(GrainConfig::Day) => plan::Grain::Day,
        Some(GrainConfig::Week) => plan::Grain::Week,
        Some(GrainConfig::Quarter) => plan::Grain::Quarter,
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

fn type_name(ty: Type) -> &'static str {
    match ty {
        Type::Bool => "a boolean",
        Type::Number => "a number",
        Type::Text => "text",
        Type::Date => "a date",
        Type::Time => "a time",
        Type::Duration => "a duration",
        Type::List => "a list",
        Type::Null => "null",
        Type::Any => "a value",
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
