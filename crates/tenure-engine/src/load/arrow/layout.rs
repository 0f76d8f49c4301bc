//! Which columns of an Arrow schema a source reads, and whether tenure can read their types.

use arrow_schema::{DataType, Schema};
use tenure_plan::Source;

use crate::error::EngineError;
use crate::load::dedupe::column_seed;
use crate::load::{column_index, read_error};

pub(in crate::load) fn unsupported(source: &Source, name: &str, data_type: &DataType) -> EngineError {
    read_error(
        source,
        format!("column `{name}` has type {data_type}, which tenure cannot read"),
    )
}

pub(in crate::load) fn supported(data_type: &DataType) -> bool {
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
pub(in crate::load) struct Layout {
    pub(in crate::load) names: Vec<String>,
    pub(in crate::load) entity: usize,
    pub(in crate::load) time: usize,
    pub(in crate::load) event: usize,
    /// The file column of each requested property, if the file has it.
    pub(in crate::load) prop_columns: Vec<Option<usize>>,
    /// File column indices decoded, ascending.
    pub(in crate::load) wanted: Vec<usize>,
    /// The fingerprint seed of each decoded column, in decoded order.
    pub(in crate::load) seeds: Vec<u64>,
}

impl Layout {
    /// The position of file column `index` in a decoded batch.
    pub(in crate::load) fn position(&self, index: usize) -> Option<usize> {
        self.wanted.binary_search(&index).ok()
    }
}

impl Layout {
    /// The columns to decode from a file of `schema`: the entity, time and event columns and
    /// the properties `props` — or every column when rows are compared whole (`dedupe`).
    pub(in crate::load) fn new(
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
