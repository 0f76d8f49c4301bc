//! Arrow record batches to rows, shared by the columnar formats (Parquet, Arrow IPC).
//!
//! Timestamps and dates arrive as instants, without parsing text; dictionary keys are resolved
//! once per batch; other values are written into reused per-column buffers, so no row allocates.

use std::fmt::Write as _;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_buffer::ArrowNativeType;
use arrow_schema::{DataType, Schema, TimeUnit};
use tenure_plan::Source;

use super::columnar::BatchMemos;
use super::dedupe::column_seed;
use super::{EntitySink, RowSink, column_index, read_error};
use crate::error::EngineError;

/// A batch column prepared for row access: dictionaries resolved to their keys once per batch.
pub(super) struct ColumnView {
    array: ArrayRef,
    /// For dictionary columns: the value index of each row.
    keys: Option<Vec<usize>>,
}

impl ColumnView {
    fn new(array: ArrayRef) -> ColumnView {
        let keys = match array.data_type() {
            DataType::Dictionary(_, _) => Some(array.as_any_dictionary().normalized_keys()),
            _ => None,
        };
        ColumnView { array, keys }
    }

    /// Writes row `row` as text into `out`; false when the value is null.
    fn write(&self, row: usize, out: &mut String) -> bool {
        out.clear();
        if self.array.is_null(row) {
            return false;
        }
        match &self.keys {
            Some(keys) => write_value(self.array.as_any_dictionary().values().as_ref(), keys[row], out),
            None => write_value(self.array.as_ref(), row, out),
        }
    }
}

/// Writes a scalar as text; false for null or an unsupported type.
pub(super) fn write_value(array: &dyn Array, row: usize, out: &mut String) -> bool {
    if array.is_null(row) {
        return false;
    }
    macro_rules! number {
        ($t:ty) => {{
            let _ = write!(out, "{}", array.as_primitive::<$t>().value(row));
            true
        }};
    }
    match array.data_type() {
        DataType::Utf8 => out.push_str(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => out.push_str(array.as_string::<i64>().value(row)),
        DataType::Utf8View => out.push_str(array.as_string_view().value(row)),
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        DataType::Int8 => return number!(Int8Type),
        DataType::Int16 => return number!(Int16Type),
        DataType::Int32 => return number!(Int32Type),
        DataType::Int64 => return number!(Int64Type),
        DataType::UInt8 => return number!(UInt8Type),
        DataType::UInt16 => return number!(UInt16Type),
        DataType::UInt32 => return number!(UInt32Type),
        DataType::UInt64 => return number!(UInt64Type),
        DataType::Float32 => return number!(Float32Type),
        DataType::Float64 => return number!(Float64Type),
        DataType::Decimal128(_, scale) => {
            let value = array.as_primitive::<Decimal128Type>().value(row);
            let scale = u32::try_from(*scale).unwrap_or(0);
            let divisor = 10i128.pow(scale.min(38));
            let sign = if value < 0 { "-" } else { "" };
            let (whole, fraction) = (
                value.unsigned_abs() / divisor as u128,
                value.unsigned_abs() % divisor as u128,
            );
            let _ = if scale == 0 {
                write!(out, "{sign}{whole}")
            } else {
                write!(out, "{sign}{whole}.{fraction:0width$}", width = scale as usize)
            };
        }
        DataType::Date32 => {
            let day = array.as_primitive::<Date32Type>().value(row);
            out.push_str(&crate::calendar::day_label(day));
        }
        DataType::Date64 => return number!(Date64Type),
        // Instants as their raw count of the column's unit: exact, and all that de-duplication
        // needs (the time itself is read as an instant, not from this text).
        DataType::Timestamp(TimeUnit::Second, _) => return number!(TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => return number!(TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => return number!(TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => return number!(TimestampNanosecondType),
        DataType::Dictionary(_, _) => {
            let values = array.as_any_dictionary().values();
            return write_value(values.as_ref(), dictionary_key(array, row), out);
        }
        _ => return false,
    }
    true
}

/// The key of row `row` (not null) of a dictionary array, read without decoding the other keys.
pub(super) fn dictionary_key(array: &dyn Array, row: usize) -> usize {
    macro_rules! key_of {
        ($($t:ty),*) => {
            $(if let Some(dictionary) = array.as_dictionary_opt::<$t>() {
                return dictionary.keys().value(row).as_usize();
            })*
        };
    }
    key_of!(
        Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type
    );
    array.as_any_dictionary().normalized_keys()[row]
}

pub(super) fn unsupported(source: &Source, name: &str, data_type: &DataType) -> EngineError {
    read_error(
        source,
        format!("column `{name}` has type {data_type}, which tenure cannot read"),
    )
}

pub(super) fn supported(data_type: &DataType) -> bool {
    match data_type {
        DataType::Dictionary(_, values) => supported(values),
        DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float32
        | DataType::Float64
        | DataType::Decimal128(_, _)
        | DataType::Date32
        | DataType::Date64
        | DataType::Timestamp(_, _) => true,
        _ => false,
    }
}

/// Which file columns a run decodes, and where the ones it needs sit among them.
pub(super) struct Layout {
    names: Vec<String>,
    pub(super) entity: usize,
    pub(super) time: usize,
    pub(super) event: usize,
    /// The file column of each requested property, if the file has it.
    pub(super) prop_columns: Vec<Option<usize>>,
    /// File column indices decoded, ascending.
    pub(super) wanted: Vec<usize>,
    /// The fingerprint seed of each decoded column, in decoded order.
    pub(super) seeds: Vec<u64>,
}

impl Layout {
    /// The position of file column `index` in a decoded batch.
    pub(super) fn position(&self, index: usize) -> Option<usize> {
        self.wanted.binary_search(&index).ok()
    }
}

impl Layout {
    /// The columns to decode from a file of `schema`: the entity, time and event columns and
    /// the properties `props` — or every column when rows are compared whole (`dedupe`).
    pub(super) fn new(
        source: &Source,
        schema: &Schema,
        props: &[String],
        dedupe: bool,
    ) -> Result<Layout, EngineError> {
        let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let entity = column_index(source, &names, &source.entity_column)?;
        let time = column_index(source, &names, &source.time_column)?;
        let event = column_index(source, &names, &source.event_column)?;
        let prop_columns: Vec<Option<usize>> =
            props.iter().map(|p| names.iter().position(|n| n == p)).collect();
        let mut wanted: Vec<usize> = if dedupe {
            (0..names.len()).collect()
        } else {
            let mut columns = vec![entity, time, event];
            columns.extend(prop_columns.iter().flatten());
            columns
        };
        wanted.sort_unstable();
        wanted.dedup();
        for &index in &wanted {
            let data_type = schema.field(index).data_type();
            if !supported(data_type) && (index == entity || index == event || index == time || !dedupe) {
                return Err(unsupported(source, &names[index], data_type));
            }
        }
        let seeds = wanted.iter().map(|i| column_seed(&names[*i])).collect();
        Ok(Layout {
            seeds,
            names,
            entity,
            time,
            event,
            prop_columns,
            wanted,
        })
    }
}

/// Checks and appends every row of `batches` (holding the layout's decoded columns) to `sink`,
/// column by column, numbering rows from `first_row` + 1; returns the number of rows.
pub(super) fn read_batches<E: std::fmt::Display>(
    source: &Source,
    layout: &Layout,
    batches: impl Iterator<Item = Result<RecordBatch, E>>,
    first_row: u64,
    sink: &mut RowSink<'_>,
) -> Result<u64, EngineError> {
    layout.names.iter().for_each(|n| sink.saw_column(n));
    let mut memos = BatchMemos::new(layout);
    let mut row = first_row;
    for batch in batches {
        let batch: RecordBatch = batch.map_err(|e| read_error(source, e))?;
        sink.push_batch(&batch, layout, &mut memos, row)?;
        row += batch.num_rows() as u64;
    }
    Ok(row - first_row)
}

/// Hands every row of `batches` (all columns of the file) to the entity sink.
pub(super) fn read_entity_batches<E: std::fmt::Display>(
    source: &Source,
    names: &[String],
    batches: impl Iterator<Item = Result<RecordBatch, E>>,
    sink: &mut EntitySink<'_>,
) -> Result<(), EngineError> {
    let entity = column_index(source, names, &source.entity_column)?;
    sink.set_attribute_columns(names, entity);
    let mut scratch: Vec<String> = vec![String::new(); names.len()];
    let mut line = 0u64;
    for batch in batches {
        let batch = batch.map_err(|e| read_error(source, e))?;
        let views: Vec<ColumnView> = batch.columns().iter().cloned().map(ColumnView::new).collect();
        for row in 0..batch.num_rows() {
            line += 1;
            let present: Vec<bool> = views
                .iter()
                .zip(scratch.iter_mut())
                .map(|(v, s)| v.write(row, s))
                .collect();
            let values: Vec<(usize, Option<&str>)> = (0..names.len())
                .filter(|i| *i != entity)
                .map(|i| (i, present[i].then(|| scratch[i].as_str())))
                .collect();
            let id = present[entity].then(|| scratch[entity].as_str());
            sink.push(line, id, &values, names)?;
        }
    }
    Ok(())
}
