//! Where readers put rows: [`RowSink`]s check each event row and collect the kept ones into a
//! [`Partial`] (one part of a source), made from a [`SinkTemplate`] shared by a source's parts;
//! the [`EntitySink`] collects entity attributes.

use super::reject::{self, Rejection};
use super::*;

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

/// A time as a text reader found it (typed Arrow times are read in `arrow`).
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
            Some(text) if !crate::store::trimmed(text).is_empty() => TimeValue::Text(text),
            _ => TimeValue::Missing,
        }
    }
}

/// Event rows read from one part of a source (a whole file, a byte range of a CSV file or a row
/// group), with event-name codes local to the part and provisional entity codes shared by all
/// parts (see [`ids`]). Parts are read in parallel and merged in file order.
#[derive(Debug, Default)]
pub struct Partial {
    /// Entity ids not interned yet; `entity` holds their pending indices from row
    /// `resolved_rows` on, and shared provisional codes before it.
    pub(super) pending_ids: ids::PendingIds,
    pub(super) resolved_rows: usize,
    /// Scratch: the provisional code of each pending id.
    pub(super) provisional: Vec<u32>,
    pub(super) event_names: Interner,
    pub(super) entity: Vec<u32>,
    pub(super) event: Vec<u32>,
    pub(super) time: Vec<i64>,
    pub(super) day: Vec<i32>,
    /// The fingerprint of each row not grouped yet, kept only for exact de-duplication.
    pub(super) fingerprints: Vec<u128>,
    /// The fingerprints grouped for de-duplication, in blocks of consecutive rows of about
    /// [`dedupe::BLOCK_ROWS`] (the part's rows in order, block after block).
    pub(super) partitioned: Vec<dedupe::PartitionedRows>,
    pub(super) props: Vec<ColumnBuilder>,
    /// Rows read and rejected (duplicates are found once every source is read).
    pub(super) counts: SourceCounts,
    /// Every column name seen (for missing-column errors).
    pub(super) columns: BTreeSet<String>,
    /// The Arrow reader's buffers, kept for the next part read into this memory.
    pub(super) batch_memos: super::arrow::BatchMemos,
}

impl Partial {
    /// Groups the fingerprints received since the last block once they make a block.
    pub(super) fn group_full_block(&mut self) {
        if self.fingerprints.len() >= dedupe::BLOCK_ROWS {
            self.group_fingerprints();
        }
    }

    /// Groups the fingerprints of the rows received since the last block into a block.
    fn group_fingerprints(&mut self) {
        self.partitioned
            .push(dedupe::PartitionedRows::new(&self.fingerprints));
        self.fingerprints.clear();
    }

    /// Empties the part, keeping its memory.
    pub(super) fn clear(&mut self) {
        self.pending_ids.clear();
        self.resolved_rows = 0;
        self.event_names.clear();
        self.entity.clear();
        self.event.clear();
        self.time.clear();
        self.day.clear();
        self.fingerprints.clear();
        self.partitioned.clear();
        self.counts = SourceCounts::new(&self.counts.name, self.counts.kind);
        self.columns.clear();
    }
}

/// What every sink of one source shares: how to read and check its rows.
pub struct SinkTemplate<'s> {
    pub(super) source: &'s Source,
    pub(super) timezone: chrono_tz::Tz,
    pub(super) policy: BadRowPolicy,
    pub(super) prop_count: usize,
    pub(super) amount_slots: Vec<(usize, String)>,
    pub(super) dedupe: bool,
    pub(super) progress: &'s dyn ReadProgress,
    /// Parts already merged, emptied, whose memory the next sinks reuse.
    pub(super) spare: std::sync::Mutex<Vec<Partial>>,
    /// How many rows the source holds, when its reader knows in advance.
    pub(super) expected_rows: std::sync::atomic::AtomicU64,
    /// Entity ids of every event source, shared by all parts.
    pub(super) ids: &'s ids::SharedIds,
    /// How parts are sized and ids resolved.
    pub(super) options: super::LoadOptions,
}

impl<'s> SinkTemplate<'s> {
    /// Tells the loader how many rows the source holds (so the store is sized once).
    pub fn expect_rows(&self, rows: u64) {
        self.expected_rows
            .store(rows, std::sync::atomic::Ordering::Relaxed);
    }

    /// Hands back a merged part for its memory to be reused.
    pub(super) fn recycle(&self, mut part: Partial) {
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
            resolve_at: self.options.resolve_batch.max(1),
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

/// Receives event rows from a reader.
pub struct RowSink<'s> {
    pub(super) partial: Partial,
    /// Property slots used as amounts, with their names: their values must be numbers.
    pub(super) amount_slots: Vec<(usize, String)>,
    pub(super) clock: Clock,
    pub(super) time_format: TimeFormat,
    pub(super) dedupe: bool,
    pub(super) policy: BadRowPolicy,
    pub(super) source: &'s Source,
    pub(super) progress: &'s dyn ReadProgress,
    pub(super) ids: &'s ids::SharedIds,
    /// How many pending entity ids are resolved at once.
    pub(super) resolve_at: usize,
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
    pub(super) fn resolve_ids(&mut self) {
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
        if self.dedupe && !partial.fingerprints.is_empty() {
            partial.group_fingerprints();
        }
        partial
    }

    /// Validates and appends one row; returns an error only under `on_bad_row = "fail"`.
    pub fn push(&mut self, row: RawEvent<'_>) -> Result<(), EngineError> {
        self.partial.counts.rows += 1;
        match self.check(&row) {
            Ok((entity, event, time)) => {
                self.append(&row, entity, event, time);
                Ok(())
            }
            Err(rejection) => self.reject(row.line, rejection),
        }
    }

    /// The row's entity id, event name and time, or why it is rejected, checked in the order
    /// of [`reject`](super::reject).
    fn check<'r>(&mut self, row: &RawEvent<'r>) -> Result<(&'r str, &'r str, i64), Rejection> {
        let entity = reject::required(row.entity, Rejection::MissingEntity)?;
        let event = reject::required(row.event, Rejection::MissingEvent)?;
        let time = match row.time {
            TimeValue::Missing => return Err(Rejection::MissingTime),
            TimeValue::Text(text) => reject::time_from_text(text, self.time_format, &mut self.clock)?,
        };
        for (slot, column) in &self.amount_slots {
            if let Some(text) = row.props[*slot] {
                reject::amount_text(column, text)?;
            }
        }
        Ok((entity, event, time))
    }

    /// Appends a checked row.
    fn append(&mut self, row: &RawEvent<'_>, entity: &str, event: &str, time: i64) {
        let partial = &mut self.partial;
        partial.entity.push(partial.pending_ids.push(entity));
        partial.event.push(partial.event_names.intern(event));
        partial.time.push(time);
        partial.day.push(self.clock.local_day(time));
        if self.dedupe {
            partial.fingerprints.push(row.fingerprint);
            partial.group_full_block();
        }
        for (builder, value) in partial.props.iter_mut().zip(row.props) {
            builder.push(*value);
        }
        if partial.pending_ids.len() >= self.resolve_at {
            self.resolve_ids();
        }
    }

    /// Counts a row already counted as read that is rejected, or fails under
    /// `on_bad_row = "fail"`.
    pub(super) fn reject(&mut self, line: u64, rejection: Rejection) -> Result<(), EngineError> {
        reject::count_rejection(
            &mut self.partial.counts,
            self.policy,
            self.source,
            line,
            rejection,
        )
    }
}

/// A sink that counts rows a reader could not split into fields.
pub trait UnreadableRows {
    /// The sink's counts, bad-row policy and source.
    fn accounting(&mut self) -> (&mut SourceCounts, BadRowPolicy, &Source);

    /// Counts a row the reader could not split into fields (read and rejected at once), or fails
    /// under `on_bad_row = "fail"`.
    fn reject_unreadable(&mut self, line: u64, rejection: Rejection) -> Result<(), EngineError> {
        let (counts, policy, source) = self.accounting();
        counts.rows += 1;
        reject::count_rejection(counts, policy, source, line, rejection)
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
    pub(super) entities: &'s mut Interner,
    pub(super) columns: BTreeMap<String, ColumnBuilder>,
    pub(super) seen: FxHashSet<u32>,
    pub(super) counts: SourceCounts,
    pub(super) policy: BadRowPolicy,
    pub(super) source: &'s Source,
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
        let entity = match reject::required(entity, Rejection::MissingEntity) {
            Ok(entity) => entity,
            Err(rejection) => {
                return reject::count_rejection(&mut self.counts, self.policy, self.source, line, rejection);
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
