//! Entity attributes from Arrow record batches.

use arrow_array::RecordBatch;
use tenure_plan::Source;

use super::values::ColumnView;
use crate::error::EngineError;
use crate::load::{EntitySink, column_index, read_error};

/// Hands every row of `batches` (all columns of the file) to the entity sink.
pub(in crate::load) fn read_entity_batches<E: std::fmt::Display>(
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
