//! Time columns of Arrow batches: instants, wall-clock times and text, read row by row with
//! dictionary keys resolved once per batch.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};

use super::values::{Keys, text_at};
use crate::calendar::MICROS_PER_DAY;

/// A time column's value of one row, before it is checked.
pub(super) enum RawTime<'a> {
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
pub(super) struct TimeColumn<'a> {
    array: &'a dyn Array,
    /// For dictionary columns: the dictionary's values, each row's key and the nulls.
    dictionary: Option<(&'a dyn Array, Keys<'a>, Option<arrow_buffer::NullBuffer>)>,
    /// For timestamps: the raw values, their unit, the nulls and whether they carry a zone
    /// (instants) or not (wall-clock times), read without per-row type checks.
    timestamps: Option<Timestamps<'a>>,
}

/// A timestamp array's raw values, unit and nulls, and whether it carries a zone.
#[derive(Clone, Copy)]
struct Timestamps<'a> {
    values: &'a [i64],
    unit: TimeUnit,
    nulls: Option<&'a arrow_buffer::NullBuffer>,
    zoned: bool,
}

impl<'a> TimeColumn<'a> {
    pub(super) fn new(array: &'a ArrayRef) -> TimeColumn<'a> {
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
        let timestamps = match array.data_type() {
            DataType::Timestamp(unit, zone) => {
                let (values, nulls) = timestamp_values(array.as_ref(), *unit);
                Some(Timestamps {
                    values,
                    unit: *unit,
                    nulls,
                    zoned: zone.is_some(),
                })
            }
            _ => None,
        };
        TimeColumn {
            array: array.as_ref(),
            dictionary,
            timestamps,
        }
    }

    /// The time of row `row`.
    pub(super) fn raw<'s>(&'s self, row: usize, scratch: &'s mut String) -> RawTime<'s> {
        if let Some(timestamps) = self.timestamps {
            if timestamps.nulls.is_some_and(|n| n.is_null(row)) {
                return RawTime::Missing;
            }
            let micros = micros_of(timestamps.values[row], timestamps.unit);
            return if timestamps.zoned {
                RawTime::Instant(micros)
            } else {
                RawTime::Local(micros)
            };
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
