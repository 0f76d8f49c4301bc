//! Reading sources into the [`EventStore`](crate::store::EventStore), with row accounting.
//!
//! Each format implements [`SourceReader`]: it finds the columns it was asked for and hands
//! rows to [`RowSink`]s — one row at a time for text formats, a column at a time for Arrow
//! batches (`columnar`) — which validate them and collect them into parts. Parts are merged into
//! the store in file order; exact duplicates are found once every source is read (`dedupe`).

mod batches;
mod columnar;
mod csv;
mod dedupe;
mod ids;
mod ipc;
mod jsonl;
mod parquet;
mod pipeline;

pub use csv::set_min_part_bytes;
pub use ids::set_resolve_batch;
pub(crate) use pipeline::read_pipelined;

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use rustc_hash::FxHashSet;
use tenure_plan::{BadRowPolicy, Format, Plan, Source, TimeFormat};

use crate::calendar::{Clock, parse_time};
use crate::error::EngineError;
use crate::progress::ReadProgress;
use crate::store::{Codes, ColumnBuilder, EventStore, Interner};

/// Every rejection reason, as keys of `input.rejected`.
pub const REJECTION_REASONS: [&str; 7] = [
    "bad_amount",
    "bad_encoding",
    "bad_time",
    "malformed_row",
    "missing_entity",
    "missing_event",
    "missing_time",
];

/// The earliest time an event may have: 1900-01-01T00:00:00Z, in µs since the epoch.
pub const EARLIEST_TIME: i64 = -2_208_988_800_000_000;
/// The first time past the latest an event may have: 2200-01-01T00:00:00Z, in µs.
pub const TIME_LIMIT: i64 = 7_258_118_400_000_000;
/// The largest magnitude an amount may have (10¹⁵), so sums of micro-units stay exact in i128.
pub const AMOUNT_LIMIT: f64 = 1e15;

/// One event row as a reader sees it: borrowed text, and a fingerprint of every column.
pub struct RawEvent<'a> {
    /// The entity id.
    pub entity: Option<&'a str>,
    /// The time value.
    pub time: TimeValue<'a>,
    /// The event name.
    pub event: Option<&'a str>,
    /// Values of the requested property columns, in request order.
    pub props: &'a [Option<&'a str>],
    /// The row's fingerprint (see [`dedupe`]), for exact de-duplication (readers may leave it 0
    /// when the sink does not de-duplicate).
    pub fingerprint: u128,
    /// 1-based line of the row in its file, for error messages.
    pub line: u64,
}

/// A time as a text reader found it (typed Arrow times are read in `columnar`).
#[derive(Debug, Clone, Copy)]
pub enum TimeValue<'a> {
    /// Text (or a number as text) to parse per the source's `time_format`.
    Text(&'a str),
    /// No value.
    Missing,
}

impl<'a> TimeValue<'a> {
    /// Text, or missing when absent or empty.
    pub fn text(value: Option<&'a str>) -> TimeValue<'a> {
        match value {
            Some(text) if !text.trim().is_empty() => TimeValue::Text(text),
            _ => TimeValue::Missing,
        }
    }
}

/// Where readers hand their parts, in file order.
pub type Consumer<'c> = dyn FnMut(Partial) + Send + 'c;

/// [`read_pipelined`] for readers whose tasks each give one part, all kept.
pub(crate) fn read_parts<T: Sync>(
    tasks: &[T],
    read: impl Fn(&T) -> Result<Partial, EngineError> + Sync,
    consume: &mut Consumer<'_>,
) -> Result<(), EngineError> {
    read_pipelined(tasks, read, &mut |part| {
        consume(part);
        Ok(true)
    })
}

/// A reader of one file format.
pub trait SourceReader {
    /// Reads every event row of `source`, asking for the property columns `props`, into parts
    /// made by sinks of `template`, handed to `consume` in file order as they are read (so that
    /// only a few parts are in memory at once).
    fn read_events(
        &self,
        source: &Source,
        props: &[String],
        template: &SinkTemplate<'_>,
        consume: &mut Consumer<'_>,
    ) -> Result<(), EngineError>;

    /// Reads every row of an entity-attribute source: the id and all other columns.
    fn read_entities(&self, source: &Source, sink: &mut EntitySink<'_>) -> Result<(), EngineError>;
}

fn reader_for(source: &Source) -> Result<Box<dyn SourceReader>, EngineError> {
    match source.format {
        Format::Csv => Ok(Box::new(csv::CsvReader)),
        Format::JsonLines => Ok(Box::new(jsonl::JsonLinesReader)),
        Format::Parquet => Ok(Box::new(parquet::ParquetReader)),
        Format::ArrowIpc => Ok(Box::new(ipc::ArrowIpcReader)),
    }
}

/// Row accounting of one source while loading.
#[derive(Debug, Clone, Default)]
pub struct SourceCounts {
    /// The source's name.
    pub name: String,
    /// `"events"` or `"entities"`.
    pub kind: &'static str,
    /// Rows read.
    pub rows: u64,
    /// Rejected rows by reason (every reason present, zero or not).
    pub rejected: BTreeMap<&'static str, u64>,
    /// Rows dropped as duplicates (exact duplicate events, or repeated entity ids).
    pub duplicates: u64,
    /// Where this source's rows sit in the store (event sources), before de-duplication and the
    /// exclude rule.
    pub stored: std::ops::Range<usize>,
}

impl SourceCounts {
    fn new(name: &str, kind: &'static str) -> SourceCounts {
        SourceCounts {
            name: name.to_string(),
            kind,
            rows: 0,
            rejected: REJECTION_REASONS.iter().map(|r| (*r, 0)).collect(),
            duplicates: 0,
            stored: 0..0,
        }
    }

    /// Rejected rows over every reason.
    pub fn rejected_total(&self) -> u64 {
        self.rejected.values().sum()
    }
}

/// Row accounting while loading: one entry per source, event sources first in plan order,
/// then the entity source.
#[derive(Debug, Default, Clone)]
pub struct LoadCounts {
    /// Per-source counts.
    pub sources: Vec<SourceCounts>,
}

/// Counts a rejected row of `source`, or fails under `on_bad_row = "fail"`.
fn reject_row(
    counts: &mut SourceCounts,
    policy: BadRowPolicy,
    source: &Source,
    line: u64,
    reason: &'static str,
    detail: String,
) -> Result<(), EngineError> {
    *counts.rejected.entry(reason).or_insert(0) += 1;
    match policy {
        BadRowPolicy::Skip => Ok(()),
        BadRowPolicy::Fail => Err(EngineError::BadRow {
            source_name: source.name.clone(),
            path: source.path.clone(),
            row: line,
            reason,
            detail,
        }),
    }
}

/// Event rows read from one part of a source (a whole file, a byte range of a CSV file or a row
/// group), with event-name codes local to the part and provisional entity codes shared by all
/// parts (see [`ids`]). Parts are read in parallel and merged in file order.
#[derive(Debug, Default)]
pub struct Partial {
    /// Entity ids not interned yet; `entity` holds their pending indices from row
    /// `resolved_rows` on, and shared provisional codes before it.
    pending_ids: ids::PendingIds,
    resolved_rows: usize,
    /// Scratch: the provisional code of each pending id.
    provisional: Vec<u32>,
    event_names: Interner,
    entity: Vec<u32>,
    event: Vec<u32>,
    time: Vec<i64>,
    day: Vec<i32>,
    /// The fingerprint of each row, kept only for exact de-duplication until the part is done.
    fingerprints: Vec<u128>,
    /// The fingerprints grouped for de-duplication, once the part is done.
    partitioned: Option<dedupe::PartitionedRows>,
    props: Vec<ColumnBuilder>,
    /// Rows read and rejected (duplicates are found once every source is read).
    counts: SourceCounts,
    /// Every column name seen (for missing-column errors).
    columns: BTreeSet<String>,
}

impl Partial {
    /// Empties the part, keeping its memory.
    fn clear(&mut self) {
        self.pending_ids.clear();
        self.resolved_rows = 0;
        self.event_names.clear();
        self.entity.clear();
        self.event.clear();
        self.time.clear();
        self.day.clear();
        self.fingerprints.clear();
        self.partitioned = None;
        self.counts = SourceCounts::new(&self.counts.name, self.counts.kind);
        self.columns.clear();
    }
}

/// What every sink of one source shares: how to read and check its rows.
pub struct SinkTemplate<'s> {
    source: &'s Source,
    timezone: chrono_tz::Tz,
    policy: BadRowPolicy,
    prop_count: usize,
    amount_slots: Vec<(usize, String)>,
    dedupe: bool,
    progress: &'s dyn ReadProgress,
    /// Parts already merged, emptied, whose memory the next sinks reuse.
    spare: std::sync::Mutex<Vec<Partial>>,
    /// How many rows the source holds, when its reader knows in advance.
    expected_rows: std::sync::atomic::AtomicU64,
    /// Entity ids of every event source, shared by all parts.
    ids: &'s ids::SharedIds,
}

impl<'s> SinkTemplate<'s> {
    /// Tells the loader how many rows the source holds (so the store is sized once).
    pub fn expect_rows(&self, rows: u64) {
        self.expected_rows
            .store(rows, std::sync::atomic::Ordering::Relaxed);
    }

    /// Hands back a merged part for its memory to be reused.
    fn recycle(&self, mut part: Partial) {
        part.clear();
        if let Ok(mut spare) = self.spare.lock() {
            spare.push(part);
        }
    }

    /// Where to report how far reading has got.
    pub fn progress(&self) -> &'s dyn ReadProgress {
        self.progress
    }

    /// A new, empty sink.
    pub fn sink(&self) -> RowSink<'s> {
        let spare = self.spare.lock().ok().and_then(|mut spare| spare.pop());
        RowSink {
            partial: spare.unwrap_or_else(|| Partial {
                props: (0..self.prop_count).map(|_| ColumnBuilder::default()).collect(),
                counts: SourceCounts::new(&self.source.name, "events"),
                ..Partial::default()
            }),
            amount_slots: self.amount_slots.clone(),
            clock: Clock::new(self.timezone),
            time_format: self.source.time_format,
            dedupe: self.dedupe,
            policy: self.policy,
            source: self.source,
            progress: self.progress,
            ids: self.ids,
            resolve_at: ids::resolve_batch(),
        }
    }

    /// Whether rows are compared whole for exact de-duplication.
    pub fn dedupe(&self) -> bool {
        self.dedupe
    }

    /// Whether a bad row stops the run (readers then read in file order, so the first bad row
    /// is the one reported).
    pub fn fails_on_bad_rows(&self) -> bool {
        self.policy == BadRowPolicy::Fail
    }
}

/// Why a time could not be read, with a hint for epoch numbers read as dates.
fn bad_time_detail(text: &str, format: TimeFormat) -> String {
    let hint = match format {
        TimeFormat::Auto if text.bytes().all(|b| b.is_ascii_digit()) => {
            " (epoch numbers need time_format = \"epoch_s\" or \"epoch_ms\")"
        }
        _ => "",
    };
    format!("cannot read time `{text}`{hint}")
}

/// The time, if within the supported range (1900-01-01 to 2199-12-31), or why not.
fn check_time_range(time: i64) -> Result<i64, String> {
    if (EARLIEST_TIME..TIME_LIMIT).contains(&time) {
        Ok(time)
    } else {
        Err(format!(
            "time {} is outside the supported range 1900-01-01 to 2199-12-31",
            crate::calendar::day_label(time.div_euclid(crate::calendar::MICROS_PER_DAY) as i32)
        ))
    }
}

/// Receives event rows from a reader.
pub struct RowSink<'s> {
    partial: Partial,
    /// Property slots used as amounts, with their names: their values must be numbers.
    amount_slots: Vec<(usize, String)>,
    clock: Clock,
    time_format: TimeFormat,
    dedupe: bool,
    policy: BadRowPolicy,
    source: &'s Source,
    progress: &'s dyn ReadProgress,
    ids: &'s ids::SharedIds,
    /// How many pending entity ids are resolved at once.
    resolve_at: usize,
}

impl RowSink<'_> {
    /// Records a column name the source has.
    pub fn saw_column(&mut self, name: &str) {
        if !self.partial.columns.contains(name) {
            self.partial.columns.insert(name.to_string());
        }
    }

    /// Whether rows are compared whole for exact de-duplication.
    pub fn dedupe(&self) -> bool {
        self.dedupe
    }

    /// Reports `bytes` more read (for readers that know sizes in advance, such as row groups).
    pub fn progress_advance(&self, bytes: u64) {
        self.progress.advance(bytes);
    }

    /// Interns the pending entity ids into the shared table, turning the rows' pending indices
    /// into provisional codes.
    fn resolve_ids(&mut self) {
        let partial = &mut self.partial;
        if partial.pending_ids.len() == 0 {
            return;
        }
        self.ids.resolve(&partial.pending_ids, &mut partial.provisional);
        for code in &mut partial.entity[partial.resolved_rows..] {
            *code = partial.provisional[*code as usize];
        }
        partial.resolved_rows = partial.entity.len();
        partial.pending_ids.clear();
    }

    /// The rows received.
    pub fn finish(mut self) -> Partial {
        self.resolve_ids();
        let mut partial = self.partial;
        if self.dedupe {
            partial.partitioned = Some(dedupe::PartitionedRows::new(&partial.fingerprints));
            partial.fingerprints.clear();
        }
        partial
    }

    /// Validates and appends one row; returns an error only under `on_bad_row = "fail"`.
    pub fn push(&mut self, row: RawEvent<'_>) -> Result<(), EngineError> {
        self.partial.counts.rows += 1;
        let entity = match row.entity.map(str::trim) {
            Some(entity) if !entity.is_empty() => entity,
            _ => return self.reject(row.line, "missing_entity", "the entity id is empty".into()),
        };
        let event = match row.event.map(str::trim) {
            Some(event) if !event.is_empty() => event,
            _ => return self.reject(row.line, "missing_event", "the event name is empty".into()),
        };
        let time = match row.time {
            TimeValue::Missing => return self.reject(row.line, "missing_time", "the time is empty".into()),
            TimeValue::Text(text) => {
                let text = text.trim();
                match parse_time(text, self.time_format, &mut self.clock) {
                    Ok(micros) => micros,
                    Err(_) => {
                        let detail = bad_time_detail(text, self.time_format);
                        return self.reject(row.line, "bad_time", detail);
                    }
                }
            }
        };
        if let Err(detail) = check_time_range(time) {
            return self.reject(row.line, "bad_time", detail);
        }
        for (slot, column) in &self.amount_slots {
            if let Some(text) = row.props[*slot].map(str::trim).filter(|t| !t.is_empty())
                && !crate::store::parse_number(text).is_some_and(|v| v.abs() <= AMOUNT_LIMIT)
            {
                let detail =
                    format!("amount column `{column}` holds `{text}`, not a finite number within ±10¹⁵");
                return self.reject(row.line, "bad_amount", detail);
            }
        }
        let partial = &mut self.partial;
        partial.entity.push(partial.pending_ids.push(entity));
        partial.event.push(partial.event_names.intern(event));
        partial.time.push(time);
        partial.day.push(self.clock.local_day(time));
        if self.dedupe {
            partial.fingerprints.push(row.fingerprint);
        }
        for (builder, value) in partial.props.iter_mut().zip(row.props) {
            builder.push(*value);
        }
        if partial.pending_ids.len() >= self.resolve_at {
            self.resolve_ids();
        }
        Ok(())
    }

    /// Counts a row already counted as read that is rejected, or fails under
    /// `on_bad_row = "fail"`.
    fn reject(&mut self, line: u64, reason: &'static str, detail: String) -> Result<(), EngineError> {
        reject_row(
            &mut self.partial.counts,
            self.policy,
            self.source,
            line,
            reason,
            detail,
        )
    }
}

/// A sink that counts rows a reader could not split into fields.
pub trait UnreadableRows {
    /// The sink's counts, bad-row policy and source.
    fn accounting(&mut self) -> (&mut SourceCounts, BadRowPolicy, &Source);

    /// Counts a row the reader could not split into fields (read and rejected at once), or fails
    /// under `on_bad_row = "fail"`.
    fn reject_unreadable(
        &mut self,
        line: u64,
        reason: &'static str,
        detail: String,
    ) -> Result<(), EngineError> {
        let (counts, policy, source) = self.accounting();
        counts.rows += 1;
        reject_row(counts, policy, source, line, reason, detail)
    }
}

impl UnreadableRows for RowSink<'_> {
    fn accounting(&mut self) -> (&mut SourceCounts, BadRowPolicy, &Source) {
        (&mut self.partial.counts, self.policy, self.source)
    }
}

impl UnreadableRows for EntitySink<'_> {
    fn accounting(&mut self) -> (&mut SourceCounts, BadRowPolicy, &Source) {
        (&mut self.counts, self.policy, self.source)
    }
}

/// Receives entity-attribute rows from a reader.
pub struct EntitySink<'s> {
    entities: &'s mut Interner,
    columns: BTreeMap<String, ColumnBuilder>,
    seen: FxHashSet<u32>,
    counts: SourceCounts,
    policy: BadRowPolicy,
    source: &'s Source,
}

impl EntitySink<'_> {
    /// Declares the attribute columns, in file order.
    pub fn set_columns(&mut self, names: &[String]) {
        for name in names {
            self.columns.entry(name.clone()).or_default();
        }
    }

    /// Declares every column of a file with a fixed header but the entity column `entity` as
    /// attributes.
    pub fn set_attribute_columns(&mut self, names: &[String], entity: usize) {
        for (index, name) in names.iter().enumerate() {
            if index != entity {
                self.columns.entry(name.clone()).or_default();
            }
        }
    }

    /// Adds one entity row. A row without an id is rejected; a repeated id keeps its first row
    /// and counts the repeat as a duplicate.
    pub fn push(
        &mut self,
        line: u64,
        entity: Option<&str>,
        values: &[(usize, Option<&str>)],
        names: &[String],
    ) -> Result<(), EngineError> {
        self.counts.rows += 1;
        let entity = match entity.map(str::trim) {
            Some(entity) if !entity.is_empty() => entity,
            _ => {
                let detail = "the entity id is empty".to_string();
                return reject_row(
                    &mut self.counts,
                    self.policy,
                    self.source,
                    line,
                    "missing_entity",
                    detail,
                );
            }
        };
        let code = self.entities.intern(entity);
        if !self.seen.insert(code) {
            self.counts.duplicates += 1;
            return Ok(());
        }
        for (index, value) in values {
            if let Some(column) = self.columns.get_mut(&names[*index]) {
                column.set(code as usize, *value);
            }
        }
        Ok(())
    }
}

/// Loads every source of the plan; property columns are those in `props`, of which `amounts`
/// are used as amounts and must hold numbers.
pub fn load(
    plan: &Plan,
    props: &BTreeSet<String>,
    amounts: &BTreeSet<String>,
    progress: &dyn ReadProgress,
) -> Result<Loaded, EngineError> {
    let mut store = EventStore::default();
    let mut counts = LoadCounts::default();
    let prop_names: Vec<String> = props.iter().cloned().collect();
    let mut builders: Vec<ColumnBuilder> = prop_names.iter().map(|_| ColumnBuilder::default()).collect();
    let mut partitioned: Vec<(usize, dedupe::PartitionedRows)> = Vec::new();
    let shared_ids = ids::SharedIds::default();
    let mut id_order = ids::IdOrder::default();
    let mut columns_by_source: Vec<(&Source, BTreeSet<String>)> = Vec::new();
    let amount_slots: Vec<(usize, String)> = prop_names
        .iter()
        .enumerate()
        .filter(|(_, name)| amounts.contains(*name))
        .map(|(slot, name)| (slot, name.clone()))
        .collect();
    for source in &plan.event_sources {
        let reader = reader_for(source)?;
        let template = SinkTemplate {
            source,
            timezone: plan.project.timezone,
            policy: plan.quality.on_bad_row,
            prop_count: prop_names.len(),
            amount_slots: amount_slots.clone(),
            dedupe: plan.quality.dedupe,
            progress,
            spare: std::sync::Mutex::new(Vec::new()),
            expected_rows: std::sync::atomic::AtomicU64::new(0),
            ids: &shared_ids,
        };
        let mut source_counts = SourceCounts::new(&source.name, "events");
        let mut columns = BTreeSet::new();
        let first_row = store.len();
        let mut consume = |mut part: Partial| {
            source_counts.rows += part.counts.rows;
            for (reason, n) in &part.counts.rejected {
                *source_counts.rejected.entry(reason).or_insert(0) += n;
            }
            columns.extend(part.columns.iter().cloned());
            // A reader that knows its row count tells it before its first part arrives.
            let expected = template
                .expected_rows
                .swap(0, std::sync::atomic::Ordering::Relaxed) as usize;
            if expected > 0 {
                store.reserve(expected);
            }
            let part_first_row = store.len();
            if let Some(rows) = merge(&mut store, &mut builders, &mut id_order, &mut part) {
                partitioned.push((part_first_row, rows));
            }
            if expected > 0 {
                // After the first append, which fixes each column's type.
                let remaining = expected.saturating_sub(store.len() - first_row);
                builders.iter_mut().for_each(|b| b.reserve(remaining));
            }
            template.recycle(part);
        };
        let read = reader.read_events(source, &prop_names, &template, &mut consume);
        progress.finish();
        read?;
        source_counts.stored = first_row..store.len();
        counts.sources.push(source_counts);
        columns_by_source.push((source, columns));
    }
    // A property no event source has is a typo, not a column of nulls.
    for name in &prop_names {
        if !columns_by_source
            .iter()
            .any(|(_, columns)| columns.contains(name))
            && let Some((source, columns)) = columns_by_source.first()
        {
            let candidates: Vec<String> = columns.iter().cloned().collect();
            return Err(EngineError::MissingColumn {
                source_name: source.name.clone(),
                path: source.path.clone(),
                column: format!("props.{name}"),
                suggestion: closest_column(name, &candidates).map(|c| format!("props.{c}")),
            });
        }
    }
    // The entity ids in final order (one thread), the duplicate rows and the property columns
    // are independent of each other: finished side by side.
    let rows = store.len();
    let ((entities, props), duplicates) = rayon::join(
        || {
            rayon::join(
                || id_order.into_interner(shared_ids),
                || {
                    prop_names
                        .into_iter()
                        .zip(builders.into_iter().map(ColumnBuilder::finish))
                        .collect()
                },
            )
        },
        || {
            let duplicates = plan
                .quality
                .dedupe
                .then(|| dedupe::duplicate_mask(&partitioned, rows));
            drop(partitioned);
            duplicates
        },
    );
    store.entities = entities;
    store.props = props;
    if let Some(mask) = &duplicates {
        for source in &mut counts.sources {
            source.duplicates = mask[source.stored.clone()].par_iter().filter(|d| **d).count() as u64;
        }
    }
    if let Some(source) = &plan.entity_source {
        let reader = reader_for(source)?;
        let mut sink = EntitySink {
            entities: &mut store.entities,
            columns: BTreeMap::new(),
            seen: FxHashSet::default(),
            counts: SourceCounts::new(&source.name, "entities"),
            policy: plan.quality.on_bad_row,
            source,
        };
        reader.read_entities(source, &mut sink)?;
        counts.sources.push(sink.counts);
        let columns = sink.columns;
        let entity_count = store.entities.len();
        store.attrs = columns
            .into_iter()
            .map(|(name, mut builder)| {
                builder.pad_to(entity_count);
                (name, builder.finish())
            })
            .collect();
    }
    Ok(Loaded {
        store,
        counts,
        duplicates,
    })
}

/// What [`load`] read: every valid event row (duplicates included, marked), and the counts.
pub struct Loaded {
    /// Every valid event row of every event source, in source and file order.
    pub store: EventStore,
    /// Row accounting; `duplicates` per source is final.
    pub counts: LoadCounts,
    /// Under exact de-duplication, true for each store row an earlier row repeats.
    pub duplicates: Option<Vec<bool>>,
}

/// Appends a part's rows to the store in order, translating its event-name codes and giving
/// entities their final codes; returns its fingerprints grouped for de-duplication, if kept.
fn merge(
    store: &mut EventStore,
    builders: &mut [ColumnBuilder],
    id_order: &mut ids::IdOrder,
    part: &mut Partial,
) -> Option<dedupe::PartitionedRows> {
    if store.entity.capacity() - store.entity.len() < part.entity.len() {
        // Grown ahead of the copy, so that the new room can take huge pages.
        store.reserve(part.entity.len());
    }
    // Each column is appended by its own task.
    let EventStore {
        entity,
        time,
        day,
        event,
        event_names,
        ..
    } = store;
    let Partial {
        event_names: part_event_names,
        entity: part_entity,
        event: part_event,
        time: part_time,
        day: part_day,
        props,
        ..
    } = part;
    let append_codes = |interner: &mut Interner, local: &Interner, codes: &mut Codes, rows: &[u32]| {
        let global: Vec<u32> = local.values().iter().map(|v| interner.intern(v)).collect();
        codes.extend_translated_u32(rows, &global);
    };
    rayon::scope(|scope| {
        scope.spawn(|_| id_order.renumber(part_entity, entity));
        scope.spawn(|_| append_codes(event_names, part_event_names, event, part_event));
        scope.spawn(|_| time.extend_from_slice(part_time));
        scope.spawn(|_| day.extend_from_slice(part_day));
        for (builder, column) in builders.iter_mut().zip(props.iter_mut()) {
            scope.spawn(|_| builder.append(column));
        }
    });
    part.partitioned.take()
}

/// An error reading `source`.
pub(crate) fn read_error(source: &Source, error: impl std::fmt::Display) -> EngineError {
    EngineError::Read {
        source_name: source.name.clone(),
        path: source.path.clone(),
        error: error.to_string(),
    }
}

/// The position of column `name` among a source's `columns`, or an error with a suggestion.
pub(crate) fn column_index(source: &Source, columns: &[String], name: &str) -> Result<usize, EngineError> {
    columns
        .iter()
        .position(|c| c == name)
        .ok_or_else(|| EngineError::MissingColumn {
            source_name: source.name.clone(),
            path: source.path.clone(),
            column: name.to_string(),
            suggestion: closest_column(name, columns),
        })
}

/// The name in `candidates` closest to `name`, for "did you mean" in missing-column errors.
pub(crate) fn closest_column(name: &str, candidates: &[String]) -> Option<String> {
    let lowered = name.to_lowercase();
    let by_spelling = candidates
        .iter()
        .map(|c| (edit_distance(&lowered, &c.to_lowercase()), c))
        .filter(|(d, _)| *d <= (name.len() / 3).max(1))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c.clone());
    // Otherwise a column that extends the name or is part of it (`user` → `user_id`).
    by_spelling.or_else(|| {
        candidates
            .iter()
            .filter(|c| {
                let c = c.to_lowercase();
                lowered.len() >= 3 && c.len() >= 3 && (c.contains(&lowered) || lowered.contains(&c))
            })
            .min_by_key(|c| c.len().abs_diff(name.len()))
            .cloned()
    })
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for j in 1..=b.len() {
            let above = row[j];
            row[j] = (diagonal + usize::from(ca != b[j - 1]))
                .min(row[j] + 1)
                .min(row[j - 1] + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}
