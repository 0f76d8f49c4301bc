//! Parquet sources, read with the `parquet` crate's Arrow reader, row group by row group.
//!
//! Only the columns the config reads are decoded (all of them under exact de-duplication, which
//! compares whole rows); batches become rows in [`super::batches`].

use std::fs::File;

use parquet::arrow::ProjectionMask;
use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use tenure_plan::Source;

use super::batches::{Layout, read_batches, read_entity_batches};
use super::{Consumer, EntitySink, RowSink, SinkTemplate, SourceReader, read_error, read_parts};
use crate::error::EngineError;

/// Reads Parquet files batch by batch.
pub struct ParquetReader;

/// Rows per decoded batch.
const BATCH_ROWS: usize = 8_192;

fn open(source: &Source) -> Result<ParquetRecordBatchReaderBuilder<File>, EngineError> {
    let file = File::open(&source.path).map_err(|e| read_error(source, e))?;
    ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| read_error(source, e))
}

/// Reads row group `group` of the file into `sink`, numbering its rows from `first_row` + 1;
/// returns the number of rows read.
fn read_row_group(
    source: &Source,
    metadata: &ArrowReaderMetadata,
    layout: &Layout,
    group: usize,
    first_row: u64,
    sink: &mut RowSink<'_>,
) -> Result<u64, EngineError> {
    // The footer was parsed once for the file; each row group only opens the file again.
    let file = File::open(&source.path).map_err(|e| read_error(source, e))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone());
    let mask = ProjectionMask::roots(builder.parquet_schema(), layout.wanted.iter().copied());
    let bytes = builder.metadata().row_group(group).compressed_size().max(0) as u64;
    let reader = builder
        .with_row_groups(vec![group])
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| read_error(source, e))?;
    let rows = read_batches(source, layout, reader, first_row, sink)?;
    sink.progress_advance(bytes);
    Ok(rows)
}

/// Asks the reader for text columns as dictionaries: Parquet stores text dictionary-encoded
/// (until a column chunk's dictionary grows too big), and keeping the dictionary lets the
/// reader intern and hash each distinct value once instead of once per row.
fn with_dictionary_text(metadata: ArrowReaderMetadata) -> ArrowReaderMetadata {
    let fields: Vec<Field> = metadata
        .schema()
        .fields()
        .iter()
        .map(|field| match field.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 => field.as_ref().clone().with_data_type(
                DataType::Dictionary(Box::new(DataType::Int32), Box::new(field.data_type().clone())),
            ),
            _ => field.as_ref().clone(),
        })
        .collect();
    let options = ArrowReaderOptions::new().with_schema(Arc::new(Schema::new(fields)));
    // A file whose schema cannot take the hint is read as it is.
    ArrowReaderMetadata::try_new(metadata.metadata().clone(), options).unwrap_or(metadata)
}

impl SourceReader for ParquetReader {
    /// Reads row groups in parallel on the rayon pool (in one pass in file order when bad rows
    /// stop the run, so that the first one is reported).
    fn read_events(
        &self,
        source: &Source,
        props: &[String],
        template: &SinkTemplate<'_>,
        consume: &mut Consumer<'_>,
    ) -> Result<(), EngineError> {
        let file = File::open(&source.path).map_err(|e| read_error(source, e))?;
        let metadata =
            ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| read_error(source, e))?;
        let metadata = with_dictionary_text(metadata);
        let layout = Layout::new(source, metadata.schema(), props, template.dedupe())?;
        let row_groups = metadata.metadata().row_groups();
        let total: i64 = row_groups.iter().map(|g| g.compressed_size()).sum();
        template.progress().start(&source.name, total.max(0) as u64);
        template.expect_rows(metadata.metadata().file_metadata().num_rows().max(0) as u64);
        let row_groups = row_groups.len();
        let threads = rayon::current_num_threads();
        if threads > 1 && row_groups > 1 && !template.fails_on_bad_rows() {
            let groups: Vec<usize> = (0..row_groups).collect();
            let read = |group: &usize| {
                let mut sink = template.sink();
                read_row_group(source, &metadata, &layout, *group, 0, &mut sink)?;
                Ok(sink.finish())
            };
            read_parts(&groups, read, consume)?;
            return Ok(());
        }
        let mut sink = template.sink();
        let mut rows = 0;
        for group in 0..row_groups {
            rows += read_row_group(source, &metadata, &layout, group, rows, &mut sink)?;
        }
        consume(sink.finish());
        Ok(())
    }

    fn read_entities(&self, source: &Source, sink: &mut EntitySink<'_>) -> Result<(), EngineError> {
        let builder = open(source)?;
        let names: Vec<String> = builder
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let reader = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(|e| read_error(source, e))?;
        read_entity_batches(source, &names, reader, sink)
    }
}
