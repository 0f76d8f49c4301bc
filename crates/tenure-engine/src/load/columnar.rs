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
use arrow_schema::{DataType, TimeUnit};
use tenure_plan::RejectReason;

use super::batches::{Layout, dictionary_key, write_value};
use super::dedupe::{TypedKind, text_hash, typed_hash};
use super::parse_time;
use super::{AMOUNT_LIMIT, RowSink, bad_time_detail, check_time_range};
use crate::calendar::MICROS_PER_DAY;
use crate::error::EngineError;
use crate::store::{ColumnBuilder, NULL_CODE, parse_number};

/// A dictionary code not worked out yet.
const UNSEEN: u32 = NULL_CODE - 1;

/// What a part remembers of the last dictionary of one column: its values (held, so that the
/// same allocation cannot come back as another dictionary) and what was derived from them.
#[derive(Default)]
struct DictionaryMemo<T> {
    values: Option<ArrayRef>,
    derived: Vec<T>,
}

impl<T: Clone> DictionaryMemo<T> {
    /// The derived values for `values`, made with `make` when the dictionary is a new one.
    fn for_values(&mut self, values: &ArrayRef, make: impl FnOnce(&ArrayRef) -> Vec<T>) -> &mut [T] {
        let same = self
            .values
            .as_ref()
            .is_some_and(|known| std::sync::Arc::ptr_eq(known, values));
        if !same {
            self.derived = make(values);
            self.values = Some(values.clone());
        }
        &mut self.derived
    }

    /// Forgets the dictionary, so that the next batch derives its values again.
    fn forget(&mut self) {
        self.values = None;
    }
}

/// Per-part state of the columnar reader: dictionaries already handled, per column and role.
pub(super) struct BatchMemos {
    /// Fingerprint contributions per dictionary value, per decoded column.
    hashes: Vec<DictionaryMemo<u128>>,
    entity: DictionaryMemo<u32>,
    event: DictionaryMemo<u32>,
    props: Vec<DictionaryMemo<u32>>,
    scratch: String,
    /// Per-row buffers reused from batch to batch.
    buffers: RowBuffers,
}

/// What a batch's rows are worked out into before being appended.
#[derive(Default)]
struct RowBuffers {
    verdicts: Vec<Verdict>,
    fingerprints: Vec<u128>,
    entities: Vec<u32>,
    events: Vec<u32>,
    times: Vec<i64>,
    codes: Vec<u32>,
}

impl BatchMemos {
    pub(super) fn new(layout: &Layout) -> BatchMemos {
        BatchMemos {
            hashes: layout.wanted.iter().map(|_| DictionaryMemo::default()).collect(),
            entity: DictionaryMemo::default(),
            event: DictionaryMemo::default(),
            props: layout
                .prop_columns
                .iter()
                .map(|_| DictionaryMemo::default())
                .collect(),
            scratch: String::new(),
            buffers: RowBuffers::default(),
        }
    }
}

/// The dictionary key of each row of a dictionary array, read in place for the `Int32` keys
/// the Parquet reader is asked for.
enum Keys<'a> {
    Int32(&'a [i32]),
    Normalized(Vec<usize>),
}

impl Keys<'_> {
    fn of(array: &dyn Array) -> Keys<'_> {
        match array.as_dictionary_opt::<Int32Type>() {
            Some(dictionary) => Keys::Int32(dictionary.keys().values()),
            None => Keys::Normalized(array.as_any_dictionary().normalized_keys()),
        }
    }

    /// The key of row `row` (valid for rows that are not null).
    #[inline]
    fn get(&self, row: usize) -> usize {
        match self {
            Keys::Int32(keys) => keys[row] as usize,
            Keys::Normalized(keys) => keys[row],
        }
    }
}

/// Why a row is rejected (`Keep` for a good row). Checked in this order, as for text rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Keep,
    MissingEntity,
    MissingEvent,
    MissingTime,
    BadTime,
    BadAmount,
}

impl Verdict {
    /// The reason counted for a rejected row; `None` for a kept one.
    fn reason(self) -> Option<RejectReason> {
        match self {
            Verdict::Keep => None,
            Verdict::MissingEntity => Some(RejectReason::MissingEntity),
            Verdict::MissingEvent => Some(RejectReason::MissingEvent),
            Verdict::MissingTime => Some(RejectReason::MissingTime),
            Verdict::BadTime => Some(RejectReason::BadTime),
            Verdict::BadAmount => Some(RejectReason::BadAmount),
        }
    }
}

/// The text of row `row` of a text-like array (`None` for null), without copying when the
/// array holds UTF-8; other types are written into `scratch`.
fn text_at<'a>(array: &'a dyn Array, row: usize, scratch: &'a mut String) -> Option<&'a str> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Some(array.as_string_view().value(row)),
        DataType::Dictionary(_, _) => {
            let values = array.as_any_dictionary().values();
            text_at(values.as_ref(), dictionary_key(array, row), scratch)
        }
        _ => {
            scratch.clear();
            write_value(array, row, scratch).then_some(scratch.as_str())
        }
    }
}

/// `text` without leading and trailing whitespace; text that starts and ends with a visible
/// ASCII character (ids and names almost always do) is returned as it is without a scan.
#[inline]
fn trimmed(text: &str) -> &str {
    let visible = |byte: Option<&u8>| byte.is_some_and(|b| (0x21..0x80).contains(b));
    let bytes = text.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

/// Writes into `out` the code of every row of a text column: each distinct value goes through
/// `intern` once per dictionary (for dictionary arrays) or once per row; [`NULL_CODE`] for null
/// or, when `trim`, blank values (empty values are always missing).
fn text_codes(
    array: &ArrayRef,
    memo: &mut DictionaryMemo<u32>,
    scratch: &mut String,
    trim: bool,
    mut intern: impl FnMut(&str) -> u32,
    out: &mut Vec<u32>,
) {
    let mut code_of = |text: Option<&str>| match text.map(|t| if trim { trimmed(t) } else { t }) {
        Some(text) if !text.is_empty() => intern(text),
        _ => NULL_CODE,
    };
    let rows = array.len();
    out.clear();
    if let DataType::Dictionary(_, _) = array.data_type() {
        let values = array.as_any_dictionary().values();
        let codes = memo.for_values(values, |values| vec![UNSEEN; values.len()]);
        let keys = Keys::of(array.as_ref());
        let nulls = array.logical_nulls();
        let strings = values.as_string_opt::<i32>();
        out.extend((0..rows).map(|row| {
            if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                return NULL_CODE;
            }
            let key = keys.get(row);
            if codes[key] == UNSEEN {
                codes[key] = match strings {
                    Some(strings) => code_of(strings.is_valid(key).then(|| strings.value(key))),
                    None => code_of(text_at(values.as_ref(), key, scratch)),
                };
            }
            codes[key]
        }));
        return;
    }
    out.extend((0..rows).map(|row| code_of(text_at(array.as_ref(), row, scratch))));
}

/// [`text_codes`] of a key column (entity or event: trimmed, blank is missing), or
/// [`NULL_CODE`] for all `rows` when the file has no such column.
fn key_codes(
    array: Option<&ArrayRef>,
    rows: usize,
    memo: &mut DictionaryMemo<u32>,
    scratch: &mut String,
    code: impl FnMut(&str) -> u32,
    out: &mut Vec<u32>,
) {
    match array {
        Some(array) => text_codes(array, memo, scratch, true, code, out),
        None => {
            out.clear();
            out.resize(rows, NULL_CODE);
        }
    }
}

/// Adds each row's contribution from `array` (a column with hash seed `seed`) to `fingerprints`.
fn add_hashes(array: &ArrayRef, seed: u64, memo: &mut DictionaryMemo<u128>, fingerprints: &mut [u128]) {
    macro_rules! typed {
        ($t:ty, $kind:expr, $bits:expr) => {
            typed!($t, $kind, $bits, seed)
        };
        ($t:ty, $kind:expr, $bits:expr, $seed:expr) => {{
            let values = array.as_primitive::<$t>();
            let add = |sum: &mut u128, value| *sum = sum.wrapping_add(typed_hash($seed, $kind, $bits(value)));
            match values.nulls() {
                None => fingerprints
                    .iter_mut()
                    .zip(values.values().iter())
                    .for_each(|(sum, value)| add(sum, *value)),
                Some(nulls) => {
                    for (row, sum) in fingerprints.iter_mut().enumerate() {
                        if nulls.is_valid(row) {
                            add(sum, values.value(row));
                        }
                    }
                }
            }
        }};
    }
    let integer = |value: i128| value as u128;
    match array.data_type() {
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            let values = dictionary.values();
            let hashes = memo.for_values(values, |values| {
                let mut hashes = vec![0u128; values.len()];
                add_hashes(values, seed, &mut DictionaryMemo::default(), &mut hashes);
                hashes
            });
            let keys = Keys::of(array.as_ref());
            match array.logical_nulls() {
                None => {
                    for (row, sum) in fingerprints.iter_mut().enumerate() {
                        *sum = sum.wrapping_add(hashes[keys.get(row)]);
                    }
                }
                Some(nulls) => {
                    for (row, sum) in fingerprints.iter_mut().enumerate() {
                        if nulls.is_valid(row) {
                            *sum = sum.wrapping_add(hashes[keys.get(row)]);
                        }
                    }
                }
            }
        }
        DataType::Utf8 => add_text_hashes(array.as_string::<i32>().iter(), seed, fingerprints),
        DataType::LargeUtf8 => add_text_hashes(array.as_string::<i64>().iter(), seed, fingerprints),
        DataType::Utf8View => add_text_hashes(array.as_string_view().iter(), seed, fingerprints),
        DataType::Boolean => {
            let values = array.as_boolean();
            for (row, sum) in fingerprints.iter_mut().enumerate() {
                if !values.is_null(row) {
                    let bits = u128::from(values.value(row));
                    *sum = sum.wrapping_add(typed_hash(seed, TypedKind::Boolean, bits));
                }
            }
        }
        DataType::Int8 => typed!(Int8Type, TypedKind::Integer, |v: i8| integer(v.into())),
        DataType::Int16 => typed!(Int16Type, TypedKind::Integer, |v: i16| integer(v.into())),
        DataType::Int32 => typed!(Int32Type, TypedKind::Integer, |v: i32| integer(v.into())),
        DataType::Int64 => typed!(Int64Type, TypedKind::Integer, |v: i64| integer(v.into())),
        DataType::UInt8 => typed!(UInt8Type, TypedKind::Integer, |v: u8| integer(v.into())),
        DataType::UInt16 => typed!(UInt16Type, TypedKind::Integer, |v: u16| integer(v.into())),
        DataType::UInt32 => typed!(UInt32Type, TypedKind::Integer, |v: u32| integer(v.into())),
        DataType::UInt64 => typed!(UInt64Type, TypedKind::Integer, |v: u64| integer(v.into())),
        DataType::Float32 => typed!(Float32Type, TypedKind::Float, |v: f32| u128::from(
            f64::from(v).to_bits()
        )),
        DataType::Float64 => typed!(Float64Type, TypedKind::Float, |v: f64| u128::from(v.to_bits())),
        DataType::Decimal128(_, scale) => {
            let scaled = seed.wrapping_add(*scale as u64);
            typed!(Decimal128Type, TypedKind::Decimal, |v: i128| v as u128, scaled)
        }
        DataType::Date32 => typed!(Date32Type, TypedKind::Date, |v: i32| integer(v.into())),
        DataType::Date64 => typed!(Date64Type, TypedKind::DateMillis, |v: i64| integer(v.into())),
        DataType::Timestamp(TimeUnit::Second, _) => {
            typed!(
                TimestampSecondType,
                TypedKind::TimestampSeconds,
                |v: i64| integer(v.into())
            )
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            typed!(TimestampMillisecondType, TypedKind::TimestampMillis, |v: i64| {
                integer(v.into())
            })
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            typed!(TimestampMicrosecondType, TypedKind::TimestampMicros, |v: i64| {
                integer(v.into())
            })
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            typed!(TimestampNanosecondType, TypedKind::TimestampNanos, |v: i64| {
                integer(v.into())
            })
        }
        // Types tenure cannot read take no part in comparing rows.
        _ => {}
    }
}

/// Adds each row's contribution from a text column (its values in row order, `None` for null).
fn add_text_hashes<'a>(values: impl Iterator<Item = Option<&'a str>>, seed: u64, fingerprints: &mut [u128]) {
    for (sum, value) in fingerprints.iter_mut().zip(values) {
        if let Some(text) = value {
            *sum = sum.wrapping_add(text_hash(seed, text));
        }
    }
}

/// A time column's value of one row, before it is checked.
enum RawTime<'a> {
    Missing,
    /// An instant (µs since the epoch, UTC).
    Instant(i64),
    /// A wall-clock time (µs since the epoch) in the project's zone.
    Local(i64),
    Text(&'a str),
}

/// Microseconds of a raw timestamp value in `unit` (saturating; nanoseconds rounded down).
fn micros_of(value: i64, unit: TimeUnit) -> i64 {
    match unit {
        TimeUnit::Second => value.saturating_mul(1_000_000),
        TimeUnit::Millisecond => value.saturating_mul(1_000),
        TimeUnit::Microsecond => value,
        TimeUnit::Nanosecond => value.div_euclid(1_000),
    }
}

/// The raw values and nulls of a timestamp array of unit `unit`.
fn timestamp_values(array: &dyn Array, unit: TimeUnit) -> (&[i64], Option<&arrow_buffer::NullBuffer>) {
    macro_rules! values {
        ($t:ty) => {{
            let array = array.as_primitive::<$t>();
            (array.values().as_ref(), array.nulls())
        }};
    }
    match unit {
        TimeUnit::Second => values!(TimestampSecondType),
        TimeUnit::Millisecond => values!(TimestampMillisecondType),
        TimeUnit::Microsecond => values!(TimestampMicrosecondType),
        TimeUnit::Nanosecond => values!(TimestampNanosecondType),
    }
}

/// A time column prepared for row access: dictionary keys resolved once per batch.
struct TimeColumn<'a> {
    array: &'a dyn Array,
    /// For dictionary columns: the dictionary's values, each row's key and the nulls.
    dictionary: Option<(&'a dyn Array, Keys<'a>, Option<arrow_buffer::NullBuffer>)>,
    /// For timestamps with a zone (instants): the raw values, their unit and the nulls, read
    /// without per-row type checks.
    instants: Option<(&'a [i64], TimeUnit, Option<&'a arrow_buffer::NullBuffer>)>,
}

impl<'a> TimeColumn<'a> {
    fn new(array: &'a ArrayRef) -> TimeColumn<'a> {
        let dictionary = match array.data_type() {
            DataType::Dictionary(_, _) => {
                let dictionary = array.as_any_dictionary();
                Some((
                    dictionary.values().as_ref(),
                    Keys::of(array.as_ref()),
                    array.logical_nulls(),
                ))
            }
            _ => None,
        };
        let instants = match array.data_type() {
            DataType::Timestamp(unit, Some(_)) => {
                let (values, nulls) = timestamp_values(array.as_ref(), *unit);
                Some((values, *unit, nulls))
            }
            _ => None,
        };
        TimeColumn {
            array: array.as_ref(),
            dictionary,
            instants,
        }
    }

    /// The time of row `row`.
    fn raw<'s>(&'s self, row: usize, scratch: &'s mut String) -> RawTime<'s> {
        if let Some((values, unit, nulls)) = self.instants {
            if nulls.is_some_and(|n| n.is_null(row)) {
                return RawTime::Missing;
            }
            return RawTime::Instant(micros_of(values[row], unit));
        }
        match &self.dictionary {
            Some((values, keys, nulls)) => {
                if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                    RawTime::Missing
                } else {
                    raw_time(*values, keys.get(row), scratch)
                }
            }
            None => raw_time(self.array, row, scratch),
        }
    }
}

/// Reads the time of row `row` of a (non-dictionary) time column.
fn raw_time<'a>(array: &'a dyn Array, row: usize, scratch: &'a mut String) -> RawTime<'a> {
    if array.is_null(row) {
        return RawTime::Missing;
    }
    match array.data_type() {
        DataType::Timestamp(unit, zone) => {
            let micros = micros_of(timestamp_values(array, *unit).0[row], *unit);
            if zone.is_some() {
                RawTime::Instant(micros)
            } else {
                RawTime::Local(micros)
            }
        }
        DataType::Date32 => {
            RawTime::Local(i64::from(array.as_primitive::<Date32Type>().value(row)) * MICROS_PER_DAY)
        }
        DataType::Date64 => RawTime::Local(
            array
                .as_primitive::<Date64Type>()
                .value(row)
                .saturating_mul(1_000),
        ),
        _ => match text_at(array, row, scratch) {
            Some(text) if !text.trim().is_empty() => RawTime::Text(text),
            _ => RawTime::Missing,
        },
    }
}

impl RowSink<'_> {
    /// Checks and appends every row of `batch` (holding the layout's decoded columns); rows are
    /// numbered from `first_line` + 1 in error messages.
    pub(super) fn push_batch(
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
        let fail = self.policy == tenure_plan::BadRowPolicy::Fail;
        let RowBuffers {
            verdicts,
            fingerprints,
            entities,
            events,
            times,
            codes,
        } = &mut memos.buffers;
        verdicts.clear();
        verdicts.resize(rows, Verdict::Keep);
        let mut details: Vec<(usize, String)> = Vec::new();

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
                verdicts[row] = Verdict::MissingEntity;
            } else if events[row] == NULL_CODE {
                verdicts[row] = Verdict::MissingEvent;
            }
        }

        // Times, as instants.
        times.clear();
        times.resize(rows, 0);
        if let Some(array) = column(layout.time) {
            let time_column = TimeColumn::new(array);
            let mut scratch = String::new();
            for row in 0..rows {
                if verdicts[row] != Verdict::Keep {
                    continue;
                }
                let time = match time_column.raw(row, &mut scratch) {
                    RawTime::Missing => Err((Verdict::MissingTime, "the time is empty".to_string())),
                    RawTime::Instant(micros) => Ok(micros),
                    RawTime::Local(local) => self
                        .clock
                        .local_to_utc(local)
                        .ok_or_else(|| (Verdict::BadTime, format!("local time {local} µs is out of range"))),
                    RawTime::Text(text) => {
                        let text = text.trim();
                        parse_time(text, self.time_format, &mut self.clock)
                            .map_err(|_| (Verdict::BadTime, bad_time_detail(text, self.time_format)))
                    }
                };
                match time.and_then(|time| check_time_range(time).map_err(|d| (Verdict::BadTime, d))) {
                    Ok(time) => times[row] = time,
                    Err((verdict, detail)) => {
                        verdicts[row] = verdict;
                        if fail {
                            details.push((row, detail));
                        }
                    }
                }
            }
        } else {
            verdicts.iter_mut().for_each(|v| {
                if *v == Verdict::Keep {
                    *v = Verdict::MissingTime
                }
            });
        }

        // Amount columns hold numbers or nothing.
        for (slot, name) in &self.amount_slots {
            let Some(array) = layout.prop_columns[*slot].and_then(&column) else {
                continue;
            };
            let mut scratch = String::new();
            let floats = array.as_primitive_opt::<Float64Type>();
            for (row, verdict) in verdicts.iter_mut().enumerate() {
                if *verdict != Verdict::Keep || array.is_null(row) {
                    continue;
                }
                let bad = match floats {
                    Some(floats) => {
                        let value = floats.value(row);
                        (!(value.is_finite() && value.abs() <= AMOUNT_LIMIT)).then(|| value.to_string())
                    }
                    None => match text_at(array.as_ref(), row, &mut scratch).map(str::trim) {
                        Some(text)
                            if !text.is_empty()
                                && !parse_number(text).is_some_and(|v| v.abs() <= AMOUNT_LIMIT) =>
                        {
                            Some(text.to_string())
                        }
                        _ => None,
                    },
                };
                if let Some(text) = bad {
                    *verdict = Verdict::BadAmount;
                    if fail {
                        let detail = format!(
                            "amount column `{name}` holds `{text}`, not a finite number within ±10¹⁵"
                        );
                        details.push((row, detail));
                    }
                }
            }
        }

        // Rejections in row order (under `on_bad_row = "fail"` the first one stops the run).
        details.sort_by_key(|(row, _)| *row);
        let mut details = details.into_iter().peekable();
        for (row, verdict) in verdicts.iter().enumerate() {
            let Some(reason) = verdict.reason() else {
                continue;
            };
            let detail = match verdict {
                Verdict::MissingEntity => "the entity id is empty".to_string(),
                Verdict::MissingEvent => "the event name is empty".to_string(),
                _ => match details.peek() {
                    Some((at, _)) if *at == row => details.next().map(|(_, d)| d).unwrap_or_default(),
                    _ => String::new(),
                },
            };
            self.reject(first_line + row as u64 + 1, reason, detail)?;
        }

        // Append the kept rows.
        let keep = |row: &usize| verdicts[*row] == Verdict::Keep;
        let partial = &mut self.partial;
        let clock = &mut self.clock;
        let kept = verdicts.iter().filter(|v| **v == Verdict::Keep).count();
        if kept == rows {
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
            partial.entity.reserve(kept);
            partial.event.reserve(kept);
            partial.time.reserve(kept);
            partial.day.reserve(kept);
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
        for ((builder, file_column), memo) in partial
            .props
            .iter_mut()
            .zip(&layout.prop_columns)
            .zip(&mut memos.props)
        {
            match file_column.and_then(&column) {
                Some(array) => append_values(builder, array, memo, &mut memos.scratch, verdicts, codes),
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
    memo: &mut DictionaryMemo<u32>,
    scratch: &mut String,
    verdicts: &[Verdict],
    codes: &mut Vec<u32>,
) {
    let kept = |row: &usize| verdicts[*row] == Verdict::Keep;
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
                Some(column) => column.extend(rows.filter(kept).map(|row| value(row).unwrap_or(f64::NAN))),
                None => rows.filter(kept).for_each(|row| builder.push_number(value(row))),
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
            for row in rows.filter(kept) {
                builder.push_bool((!values.is_null(row)).then(|| values.value(row)));
            }
        }
        _ => {
            text_codes(array, memo, scratch, false, |text| builder.intern(text), codes);
            for row in rows.filter(kept) {
                builder.push_code(codes[row]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_keeps_what_str_trim_keeps() {
        let cases = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\tacc_1\n",
            "acc_1",
            "~x~",
            "\u{a0}acc\u{3000}",
            "é",
            " é ",
            "x\u{85}",
            "\u{7f}",
            "\u{1f}acc",
        ];
        for text in cases {
            assert_eq!(trimmed(text), text.trim(), "{text:?}");
        }
    }
}
