//! Arrow record batches into a part, one column at a time.
//!
//! Each column is handled by one typed loop per batch. Dictionary-encoded text (Parquet text
//! is read with a dictionary hint) is interned and hashed once per dictionary value, not once
//! per row, and a dictionary shared by the batches of a row group is handled once. Timestamps
//! are read as instants and numbers stay numbers. A row's checks (entity, event, time, amounts)
//! give it a rejection reason before anything is appended, in the same order as for text rows.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use tenure_plan::Source;

use super::fingerprints::add_hashes;
use super::layout::Layout;
use super::times::{RawTime, TimeColumn};
use super::values::{TextMemo, key_codes, text_at, text_codes};
use crate::error::EngineError;
use crate::load::reject::{self, Rejection};
use crate::load::{RowSink, read_error};
use crate::store::{ColumnBuilder, NULL_CODE};

/// Per-part state of the columnar reader: dictionaries already handled, per column and role.
/// A finished part keeps it for the next part read into the same memory (its buffers are
/// reused; its dictionaries are forgotten).
#[derive(Default)]
pub(in crate::load) struct BatchMemos {
    /// Fingerprint contributions per dictionary value or cached string view, per decoded column.
    hashes: Vec<TextMemo<u128>>,
    entity: TextMemo<u32>,
    event: TextMemo<u32>,
    props: Vec<TextMemo<u32>>,
    scratch: String,
    /// Per-row buffers reused from batch to batch.
    buffers: RowBuffers,
}

/// What a batch's rows are worked out into before being appended.
#[derive(Default)]
struct RowBuffers {
    /// Whether each row passed its checks.
    kept: Vec<bool>,
    fingerprints: Vec<u128>,
    entities: Vec<u32>,
    events: Vec<u32>,
    times: Vec<i64>,
    codes: Vec<u32>,
}

impl std::fmt::Debug for BatchMemos {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BatchMemos")
    }
}

impl BatchMemos {
    /// Makes the memos fit `layout`'s columns, with no dictionary remembered.
    fn prepare(&mut self, layout: &Layout) {
        self.hashes.resize_with(layout.wanted.len(), TextMemo::default);
        self.props
            .resize_with(layout.prop_columns.len(), TextMemo::default);
        self.forget();
    }

    /// Forgets every dictionary (and lets go of it), keeping the buffers.
    fn forget(&mut self) {
        self.hashes.iter_mut().for_each(TextMemo::forget);
        self.props.iter_mut().for_each(TextMemo::forget);
        self.entity.forget();
        self.event.forget();
    }
}

/// Checks and appends every row of `batches` (holding the layout's decoded columns) to `sink`,
/// column by column, numbering rows from `first_row` + 1; returns the number of rows.
pub(in crate::load) fn read_batches<E: std::fmt::Display>(
    source: &Source,
    layout: &Layout,
    batches: impl Iterator<Item = Result<RecordBatch, E>>,
    first_row: u64,
    sink: &mut RowSink<'_>,
) -> Result<u64, EngineError> {
    layout.names.iter().for_each(|n| sink.saw_column(n));
    let mut memos = std::mem::take(&mut sink.partial.batch_memos);
    memos.prepare(layout);
    let mut row = first_row;
    for batch in batches {
        let batch: RecordBatch = batch.map_err(|e| read_error(source, e))?;
        sink.push_batch(&batch, layout, &mut memos, row)?;
        row += batch.num_rows() as u64;
    }
    memos.forget();
    sink.partial.batch_memos = memos;
    Ok(row - first_row)
}

impl RowSink<'_> {
    /// Checks and appends every row of `batch` (holding the layout's decoded columns); rows are
    /// numbered from `first_line` + 1 in error messages.
    pub(in crate::load) fn push_batch(
        &mut self,
        batch: &RecordBatch,
        layout: &Layout,
        memos: &mut BatchMemos,
        first_line: u64,
    ) -> Result<(), EngineError> {
        let rows = batch.num_rows();
        let column = |index: usize| layout.position(index).map(|p| batch.column(p));
        if self.partial.pending_ids.len() >= self.resolve_at {
            // The dictionary's pending indices are gone with the pending ids.
            self.resolve_ids();
            memos.entity.forget();
        }
        self.partial.counts.rows += rows as u64;
        let RowBuffers {
            kept,
            fingerprints,
            entities,
            events,
            times,
            codes,
        } = &mut memos.buffers;
        kept.clear();
        kept.resize(rows, true);
        // Each rejected row once, with why; checked in the order of `reject`.
        let mut rejections: Vec<(usize, Rejection)> = Vec::new();
        let mut reject = |row: usize, rejection: Rejection, kept: &mut [bool]| {
            kept[row] = false;
            rejections.push((row, rejection));
        };

        // Fingerprints, for exact de-duplication: every decoded column, column by column.
        fingerprints.clear();
        if self.dedupe {
            fingerprints.resize(rows, 0);
            for ((array, seed), memo) in batch.columns().iter().zip(&layout.seeds).zip(&mut memos.hashes) {
                add_hashes(array, *seed, memo, fingerprints);
            }
        }

        // Entity ids (noted, interned later) and event codes (trimmed; blank is missing).
        let partial = &mut self.partial;
        let scratch = &mut memos.scratch;
        let pending_ids = &mut partial.pending_ids;
        key_codes(
            column(layout.entity),
            rows,
            &mut memos.entity,
            scratch,
            |id| pending_ids.push(id),
            entities,
        );
        let event_names = &mut partial.event_names;
        key_codes(
            column(layout.event),
            rows,
            &mut memos.event,
            scratch,
            |name| event_names.intern(name),
            events,
        );
        for row in 0..rows {
            if entities[row] == NULL_CODE {
                reject(row, Rejection::MissingEntity, kept);
            } else if events[row] == NULL_CODE {
                reject(row, Rejection::MissingEvent, kept);
            }
        }

        // Times, as instants.
        times.clear();
        times.resize(rows, 0);
        let time_column = column(layout.time).map(TimeColumn::new);
        let mut scratch = String::new();
        for row in 0..rows {
            if !kept[row] {
                continue;
            }
            let time = match time_column.as_ref().map(|c| c.raw(row, &mut scratch)) {
                None | Some(RawTime::Missing) => Err(Rejection::MissingTime),
                Some(RawTime::Instant(micros)) => reject::time_in_range(micros),
                Some(RawTime::Local(local)) => reject::time_from_local(local, &mut self.clock),
                Some(RawTime::Text(text)) => reject::time_from_text(text, self.time_format, &mut self.clock),
            };
            match time {
                Ok(time) => times[row] = time,
                Err(rejection) => reject(row, rejection, kept),
            }
        }

        // Amount columns hold numbers or nothing.
        for (slot, name) in &self.amount_slots {
            let Some(array) = layout.prop_columns[*slot].and_then(&column) else {
                continue;
            };
            let floats = array.as_primitive_opt::<Float64Type>();
            // The nulls once per batch: `Array::is_null` is a call through the array's vtable.
            let nulls = array.nulls().filter(|nulls| nulls.null_count() > 0);
            for row in 0..rows {
                if !kept[row] || nulls.is_some_and(|n| n.is_null(row)) {
                    continue;
                }
                let checked = match floats {
                    Some(floats) => reject::amount_number(name, floats.value(row)),
                    None => match text_at(array.as_ref(), row, &mut scratch) {
                        Some(text) => reject::amount_text(name, text),
                        None => Ok(()),
                    },
                };
                if let Err(rejection) = checked {
                    reject(row, rejection, kept);
                }
            }
        }

        // Rejections in row order (under `on_bad_row = "fail"` the first one stops the run).
        rejections.sort_by_key(|(row, _)| *row);
        for (row, rejection) in rejections {
            self.reject(first_line + row as u64 + 1, rejection)?;
        }

        // Append the kept rows.
        let keep = |row: &usize| kept[*row];
        let partial = &mut self.partial;
        let clock = &mut self.clock;
        let kept_rows = kept.iter().filter(|k| **k).count();
        if kept_rows == rows {
            // Usually every row is kept: whole columns are copied.
            partial.entity.extend_from_slice(entities);
            partial.event.extend_from_slice(events);
            partial.time.extend_from_slice(times);
            partial
                .day
                .extend(times.iter().map(|time| clock.local_day(*time)));
            if self.dedupe {
                partial.fingerprints.extend_from_slice(fingerprints);
            }
        } else {
            partial.entity.reserve(kept_rows);
            partial.event.reserve(kept_rows);
            partial.time.reserve(kept_rows);
            partial.day.reserve(kept_rows);
            for row in (0..rows).filter(keep) {
                partial.entity.push(entities[row]);
                partial.event.push(events[row]);
                partial.time.push(times[row]);
                partial.day.push(clock.local_day(times[row]));
            }
            if self.dedupe {
                partial
                    .fingerprints
                    .extend((0..rows).filter(keep).map(|row| fingerprints[row]));
            }
        }
        partial.group_full_block();
        for ((builder, file_column), memo) in partial
            .props
            .iter_mut()
            .zip(&layout.prop_columns)
            .zip(&mut memos.props)
        {
            match file_column.and_then(&column) {
                Some(array) => append_values(builder, array, memo, &mut memos.scratch, kept, codes),
                None => (0..rows).filter(keep).for_each(|_| builder.push_missing()),
            }
        }
        Ok(())
    }
}

/// Appends the kept rows of property column `array` to `builder`: numbers and booleans typed,
/// anything else as text.
fn append_values(
    builder: &mut ColumnBuilder,
    array: &ArrayRef,
    memo: &mut TextMemo<u32>,
    scratch: &mut String,
    kept: &[bool],
    codes: &mut Vec<u32>,
) {
    let is_kept = |row: &usize| kept[*row];
    let rows = 0..array.len();
    macro_rules! numbers {
        ($t:ty) => {{
            let values = array.as_primitive::<$t>();
            let nulls = values.nulls();
            let value = |row: usize| {
                (!nulls.is_some_and(|n| n.is_null(row)))
                    .then(|| values.value(row) as f64)
                    .filter(|v| v.is_finite())
            };
            match builder.numbers_mut() {
                Some(column) => column.extend(rows.filter(is_kept).map(|row| value(row).unwrap_or(f64::NAN))),
                None => rows
                    .filter(is_kept)
                    .for_each(|row| builder.push_number(value(row))),
            }
        }};
    }
    match array.data_type() {
        DataType::Int8 => numbers!(Int8Type),
        DataType::Int16 => numbers!(Int16Type),
        DataType::Int32 => numbers!(Int32Type),
        DataType::Int64 => numbers!(Int64Type),
        DataType::UInt8 => numbers!(UInt8Type),
        DataType::UInt16 => numbers!(UInt16Type),
        DataType::UInt32 => numbers!(UInt32Type),
        DataType::UInt64 => numbers!(UInt64Type),
        DataType::Float32 => numbers!(Float32Type),
        DataType::Float64 => numbers!(Float64Type),
        DataType::Boolean => {
            let values = array.as_boolean();
            for row in rows.filter(is_kept) {
                builder.push_bool((!values.is_null(row)).then(|| values.value(row)));
            }
        }
        _ => {
            text_codes(array, memo, scratch, false, |text| builder.intern(text), codes);
            builder.extend_codes(codes, kept);
        }
    }
}
