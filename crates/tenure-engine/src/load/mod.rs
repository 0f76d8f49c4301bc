//! Reading sources into the [`EventStore`](crate::store::EventStore), with row accounting.
//!
//! Each format implements [`SourceReader`]: it finds the columns it was asked for and hands
//! rows to [`RowSink`]s (`sink`) — one row at a time for text formats, a column at a time for
//! Arrow batches (`arrow`) — which validate them and collect them into parts. Parts are merged
//! into the store in file order; exact duplicates are found once every source is read (`dedupe`).

mod arrow;
mod csv;
mod csv_records;
mod dedupe;
mod ids;
mod inspect;
mod ipc;
mod jsonl;
mod memory;
mod parquet;
mod parquet_text;
mod pipeline;
mod reject;
mod sink;
mod time_text;

pub use inspect::{JsonLinesKeys, inspect_sources};
pub use memory::Inputs;
pub(crate) use pipeline::read_pipelined;
pub use sink::{EntitySink, Partial, RawEvent, RowSink, SinkTemplate, TimeValue, UnreadableRows};
pub(crate) use time_text::parse_time;

use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;
use rustc_hash::FxHashSet;
use tenure_plan::{BadRowPolicy, Format, Plan, RejectReason, Source, TimeFormat};

use crate::calendar::Clock;
use crate::error::EngineError;
use crate::progress::ReadProgress;
use crate::store::{Codes, ColumnBuilder, EventStore, Interner};

/// The earliest time an event may have: 1900-01-01T00:00:00Z, in µs since the epoch.
pub const EARLIEST_TIME: i64 = -2_208_988_800_000_000;
/// The first time past the latest an event may have: 2200-01-01T00:00:00Z, in µs.
pub const TIME_LIMIT: i64 = 7_258_118_400_000_000;
/// The largest magnitude an amount may have (10¹⁵), so sums of micro-units stay exact in i128.
pub const AMOUNT_LIMIT: f64 = 1e15;

/// How loading splits its work: sizes that change how a file is read, never what is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoadOptions {
    /// A CSV file is read in parts of at least this many bytes, one per task (8 MiB).
    pub min_part_bytes: u64,
    /// Pending entity ids a part resolves at once (about a million): enough for each shard's
    /// group to reuse its cache lines many times, few enough to keep the pending memory (32
    /// bytes an id) small.
    pub resolve_batch: usize,
}

impl Default for LoadOptions {
    fn default() -> LoadOptions {
        LoadOptions {
            min_part_bytes: 8 << 20,
            resolve_batch: 1 << 20,
        }
    }
}

/// Where readers hand their parts, in file order.
pub type Consumer<'c> = dyn FnMut(Partial) -> Result<(), EngineError> + Send + 'c;

/// [`read_pipelined`] for readers whose tasks each give one part, all kept.
pub(crate) fn read_parts<T: Sync>(
    tasks: &[T],
    read: impl Fn(&T) -> Result<Partial, EngineError> + Sync,
    consume: &mut Consumer<'_>,
) -> Result<(), EngineError> {
    read_pipelined(tasks, read, &mut |part| {
        consume(part)?;
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

fn reader_for<'a>(source: &Source, inputs: &'a Inputs) -> Result<Box<dyn SourceReader + 'a>, EngineError> {
    if let Some(reader) = inputs.reader(&source.name) {
        return Ok(Box::new(reader));
    }
    match file_of(source)?.1 {
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
    pub rejected: BTreeMap<RejectReason, u64>,
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
            rejected: RejectReason::zero_counts(),
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

/// Loads every source of the plan; property columns are those in `props`, of which `amounts`
/// are used as amounts and must hold numbers.
pub fn load(
    plan: &Plan,
    props: &BTreeSet<String>,
    amounts: &BTreeSet<String>,
    progress: &dyn ReadProgress,
    inputs: &Inputs,
    options: LoadOptions,
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
        let reader = reader_for(source, inputs)?;
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
            options,
        };
        let mut source_counts = SourceCounts::new(&source.name, "events");
        let mut columns = BTreeSet::new();
        let first_row = store.len();
        let mut consume = |mut part: Partial| {
            if progress.stop_requested() {
                return Err(EngineError::Stopped);
            }
            source_counts.rows += part.counts.rows;
            for (reason, n) in &part.counts.rejected {
                *source_counts.rejected.entry(*reason).or_insert(0) += n;
            }
            columns.extend(part.columns.iter().cloned());
            // A reader that knows its row count tells it before its first part arrives.
            let expected = template
                .expected_rows
                .swap(0, std::sync::atomic::Ordering::Relaxed) as usize;
            if expected > 0 {
                store.reserve(expected);
            }
            let mut block_first_row = store.len();
            for block in merge(&mut store, &mut builders, &mut id_order, &mut part) {
                let rows = block.rows();
                partitioned.push((block_first_row, block));
                block_first_row += rows;
            }
            if expected > 0 {
                // After the first append, which fixes each column's type.
                let remaining = expected.saturating_sub(store.len() - first_row);
                builders.iter_mut().for_each(|b| b.reserve(remaining));
            }
            template.recycle(part);
            Ok(())
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
                location: source.relation.to_string(),
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
        let reader = reader_for(source, inputs)?;
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
/// entities their final codes; returns its fingerprints grouped for de-duplication, if kept
/// (blocks of consecutive rows, in order).
fn merge(
    store: &mut EventStore,
    builders: &mut [ColumnBuilder],
    id_order: &mut ids::IdOrder,
    part: &mut Partial,
) -> Vec<dedupe::PartitionedRows> {
    if store.entity.capacity() - store.entity.len() < part.entity.len() {
        // Grown ahead of the copy, all columns at once.
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
    std::mem::take(&mut part.partitioned)
}

/// The file of `source` and its format; an error for a table, which this engine does not read.
fn file_of(source: &Source) -> Result<(&std::path::Path, Format), EngineError> {
    source.file().ok_or_else(|| {
        read_error(
            source,
            "this version of tenure reads files only, and this source is a table",
        )
    })
}

/// The file of `source`; an error for a table.
pub(crate) fn file_path(source: &Source) -> Result<&std::path::Path, EngineError> {
    file_of(source).map(|(path, _)| path)
}

/// An error reading `source`.
pub(crate) fn read_error(source: &Source, error: impl std::fmt::Display) -> EngineError {
    EngineError::Read {
        source_name: source.name.clone(),
        location: source.relation.to_string(),
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
            location: source.relation.to_string(),
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
