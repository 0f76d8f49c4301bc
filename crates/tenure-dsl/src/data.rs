//! Whether the data has the shape the config names: every source readable, every column it
//! names present and of a type tenure reads. The config records where it names each column
//! ([`DataReferences`]); a backend describes its sources ([`SourceSchema`]); the check compares
//! the two and places each mismatch at the config line that names the column.

use std::collections::BTreeSet;
use std::ops::Range;

use tenure_plan::schema::{Column, ColumnKind, LibraryProblem, MetricProblem, PluginProblem, SourceSchema};

use crate::diagnostic::{Code, Diagnostic};
use crate::suggest::closest;

/// Where a source's columns are named in the config.
#[derive(Debug, Clone)]
pub(crate) struct SourceReference {
    pub(crate) name: String,
    pub(crate) events: bool,
    pub(crate) path: Range<usize>,
    /// `(column, span of the value)` for the `entity`, `time` and `event` keys.
    pub(crate) entity: (String, Range<usize>),
    pub(crate) time: Option<(String, Range<usize>)>,
    pub(crate) event: Option<(String, Range<usize>)>,
}

/// Every place the config names something the data must have.
#[derive(Debug, Clone, Default)]
pub(crate) struct DataReferences {
    pub(crate) sources: Vec<SourceReference>,
    /// `props.<column>`: read from the event sources.
    pub(crate) props: Vec<(String, Range<usize>)>,
    /// `attr.<column>`: read from the entity source.
    pub(crate) attrs: Vec<(String, Range<usize>)>,
    /// `(plugin, its path as written, span of the path)` for every `[plugins.<name>]`.
    pub(crate) plugins: Vec<(String, String, Range<usize>)>,
    /// `(metric, span of its name in the header)` for every `[metrics.<name>]`.
    pub(crate) metrics: Vec<(String, Range<usize>)>,
}

impl DataReferences {
    /// One diagnostic per metric the backend cannot compute, at its `[metrics.<name>]` header.
    pub(crate) fn check_metrics(&self, problems: &[MetricProblem]) -> Vec<Diagnostic> {
        problems
            .iter()
            .filter_map(|problem| {
                let (_, span) = self.metrics.iter().find(|(name, _)| *name == problem.metric)?;
                Some(
                    Diagnostic::new(
                        Code::NotOnBackend,
                        format!(
                            "metric `{}` cannot run on connection {}",
                            problem.metric, problem.backend
                        ),
                        span.clone(),
                    )
                    .with_label(problem.reason.clone())
                    .with_help(
                        "run the other metrics with `--metric`, or compute this one from files \
                         (docs/backends.md lists what runs where)",
                    ),
                )
            })
            .collect()
    }

    /// One diagnostic per plugin library that cannot be loaded, at its `path`.
    pub(crate) fn check_plugins(&self, problems: &[PluginProblem]) -> Vec<Diagnostic> {
        let mut diagnostics = Vec::new();
        for problem in problems {
            let Some((_, written, span)) = self.plugins.iter().find(|(name, ..)| *name == problem.plugin)
            else {
                continue;
            };
            let diagnostic = match &problem.problem {
                LibraryProblem::NotFound { tried } => Diagnostic::new(
                    Code::PluginFile,
                    format!("plugin library `{written}` not found"),
                    span.clone(),
                )
                .with_label("no such file")
                .with_help(format!(
                    "tried {}; build plugins with `cargo build --workspace`",
                    tried.join(", ")
                )),
                LibraryProblem::NotALibrary { path } => Diagnostic::new(
                    Code::PluginFile,
                    format!("`{path}` is not a shared library"),
                    span.clone(),
                )
                .with_label("expected an ELF, Mach-O or PE library built as a `cdylib`"),
                LibraryProblem::UnsafePermissions { refusal } => {
                    Diagnostic::new(Code::PluginFile, refusal.clone(), span.clone())
                        .with_label("anyone could replace this library")
                        .with_help("make the library and its folder writable only by their owner")
                }
            };
            diagnostics.push(diagnostic);
        }
        diagnostics
    }

    /// One diagnostic per place where the config names what `schemas` lack.
    pub(crate) fn check(&self, schemas: &[SourceSchema]) -> Vec<Diagnostic> {
        let mut diagnostics = Vec::new();
        let columns_of = |name: &str| schemas.iter().find(|s| s.source == name).map(|s| &s.columns);
        let mut all_events_readable = true;
        let mut event_columns: Vec<(&str, &Column)> = Vec::new();
        let mut entity_columns: Option<Vec<&Column>> = None;
        for source in &self.sources {
            let columns = match columns_of(&source.name) {
                Some(Ok(columns)) => columns,
                Some(Err(error)) => {
                    all_events_readable &= !source.events;
                    diagnostics.push(
                        Diagnostic::new(
                            Code::SourceUnreadable,
                            format!("cannot read source `{}`", source.name),
                            source.path.clone(),
                        )
                        .with_label(error.clone()),
                    );
                    continue;
                }
                // Not described (a backend that cannot tell): nothing to compare.
                None => {
                    all_events_readable &= !source.events;
                    continue;
                }
            };
            let keys = [
                Some(("entity", &source.entity)),
                source.time.as_ref().map(|t| ("time", t)),
                source.event.as_ref().map(|e| ("event", e)),
            ];
            for (key, (column, span)) in keys.into_iter().flatten() {
                if let Some(diagnostic) = key_column(source, key, column, span, columns) {
                    diagnostics.push(diagnostic);
                }
            }
            if source.events {
                event_columns.extend(columns.iter().map(|c| (source.name.as_str(), c)));
            } else {
                entity_columns = Some(columns.iter().collect());
            }
        }
        if all_events_readable {
            let names: BTreeSet<&str> = event_columns.iter().map(|(_, c)| c.name.as_str()).collect();
            for (column, span) in &self.props {
                let found: Vec<&(&str, &Column)> =
                    event_columns.iter().filter(|(_, c)| c.name == *column).collect();
                if found.is_empty() {
                    let suggestion = closest_column(column, names.iter().copied());
                    diagnostics.push(
                        Diagnostic::new(
                            Code::MissingColumn,
                            format!("no event source has a column `{column}`"),
                            span.clone(),
                        )
                        .with_label(format!("`props.{column}` reads that column"))
                        .with_suggestion(suggestion.map(|s| format!("props.{s}")).as_deref())
                        .or_columns(names.iter().copied()),
                    );
                }
                for (source, found) in found {
                    if let ColumnKind::Unreadable(type_name) = &found.kind {
                        diagnostics.push(unreadable(source, column, type_name, span.clone()));
                    }
                }
            }
        }
        let entity_source = self.sources.iter().find(|s| !s.events);
        for (column, span) in &self.attrs {
            match (&entity_columns, entity_source) {
                (_, None) => diagnostics.push(
                    Diagnostic::new(
                        Code::MissingColumn,
                        format!("`attr.{column}` needs an entity source"),
                        span.clone(),
                    )
                    .with_label("no source has `kind = \"entities\"`, so every attribute is null")
                    .with_help(
                        "add a [sources.<name>] table with `kind = \"entities\"`, a path and `entity`",
                    ),
                ),
                (Some(columns), Some(source)) => match columns.iter().find(|c| c.name == *column) {
                    None => {
                        let names = columns.iter().map(|c| c.name.as_str());
                        let suggestion = closest_column(column, names.clone());
                        diagnostics.push(
                            Diagnostic::new(
                                Code::MissingColumn,
                                format!("entity source `{}` has no column `{column}`", source.name),
                                span.clone(),
                            )
                            .with_label(format!("`attr.{column}` reads that column"))
                            .with_suggestion(suggestion.map(|s| format!("attr.{s}")).as_deref())
                            .or_columns(names),
                        );
                    }
                    Some(Column {
                        kind: ColumnKind::Unreadable(type_name),
                        ..
                    }) => diagnostics.push(unreadable(&source.name, column, type_name, span.clone())),
                    Some(_) => {}
                },
                // The entity source could not be read: reported already.
                (None, Some(_)) => {}
            }
        }
        diagnostics.sort_by_key(|d| d.span.as_ref().map_or(usize::MAX, |s| s.start));
        diagnostics
    }
}

/// The diagnostic for a source's `entity`, `time` or `event` column, if it is missing or
/// unreadable.
fn key_column(
    source: &SourceReference,
    key: &str,
    column: &str,
    span: &Range<usize>,
    columns: &[Column],
) -> Option<Diagnostic> {
    if let Some(found) = columns.iter().find(|c| c.name == column) {
        return match &found.kind {
            ColumnKind::Unreadable(type_name) => {
                Some(unreadable(&source.name, column, type_name, span.clone()))
            }
            _ => None,
        };
    }
    let names = columns.iter().map(|c| c.name.as_str());
    let mut diagnostic = Diagnostic::new(
        Code::MissingColumn,
        format!("source `{}` has no column `{column}`", source.name),
        span.clone(),
    )
    .with_label(format!("the {key} column"))
    .with_suggestion(closest_column(column, names.clone()));
    if key == "time" && diagnostic.help.is_none() {
        let times: Vec<String> = columns
            .iter()
            .filter(|c| c.kind == ColumnKind::Time)
            .map(|c| format!("`{}`", c.name))
            .collect();
        if !times.is_empty() {
            diagnostic = diagnostic.with_help(format!("the columns that hold times: {}", times.join(", ")));
        }
    }
    Some(diagnostic.or_columns(names))
}

fn unreadable(source: &str, column: &str, type_name: &str, span: Range<usize>) -> Diagnostic {
    Diagnostic::new(
        Code::UnreadableColumn,
        format!("column `{column}` of source `{source}` has type {type_name}"),
        span,
    )
    .with_label("tenure reads text, numbers, booleans, dates and timestamps")
}

/// The column closest to `name`: by spelling, or else one that extends it or is part of it
/// (`user` → `user_id`).
fn closest_column<'a>(name: &str, columns: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    closest(name, columns.clone()).or_else(|| {
        let lowered = name.to_lowercase();
        columns
            .filter(|c| {
                let c = c.to_lowercase();
                lowered.len() >= 3 && c.len() >= 3 && (c.contains(&lowered) || lowered.contains(&c))
            })
            .min_by_key(|c| c.len().abs_diff(name.len()))
    })
}

impl Diagnostic {
    /// Without a better hint, lists the columns there are (the first few).
    fn or_columns<'a>(mut self, columns: impl Iterator<Item = &'a str>) -> Self {
        if self.help.is_none() {
            let names: Vec<String> = columns.map(|c| format!("`{c}`")).collect();
            if names.is_empty() {
                self.help = Some("the source has no columns".to_string());
            } else {
                const SHOWN: usize = 12;
                let more = names.len().saturating_sub(SHOWN);
                let mut list = names.into_iter().take(SHOWN).collect::<Vec<_>>().join(", ");
                if more > 0 {
                    list.push_str(&format!(" and {more} more"));
                }
                self.help = Some(format!("the columns are: {list}"));
            }
        }
        self
    }
}
