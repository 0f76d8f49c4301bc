//! Sources handed over in memory as Arrow record batches instead of files (an embedder's data
//! frames: the Python package passes them through the Arrow C stream interface). They are read
//! like an Arrow file's batches, by [`super::batches`].

use std::collections::BTreeMap;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use tenure_plan::Source;
use tenure_plan::schema::SourceSchema;

use super::arrow::{Layout, read_batches, read_entity_batches};
use super::{Consumer, EntitySink, SinkTemplate, SourceReader, read_parts};
use crate::error::EngineError;

/// The record batches that stand for some of a plan's sources, by `[sources.<name>]` name.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    sources: BTreeMap<String, Batches>,
}

/// One source's rows in memory: the batches and the schema they share.
#[derive(Debug, Clone)]
struct Batches {
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

impl Inputs {
    /// No source in memory: every source is read from where the config says.
    pub fn new() -> Inputs {
        Inputs::default()
    }

    /// Reads source `name` from `batches` instead of its file or table; every batch must have
    /// the columns of `schema`, in its order (else the error says which does not). The batches
    /// are shared, not copied.
    pub fn insert(&mut self, name: &str, schema: SchemaRef, batches: Vec<RecordBatch>) -> Result<(), String> {
        let names =
            |fields: &arrow_schema::Fields| fields.iter().map(|f| f.name().clone()).collect::<Vec<_>>();
        if let Some(index) = batches
            .iter()
            .position(|b| b.schema().fields() != schema.fields())
        {
            return Err(format!(
                "source `{name}`: batch {index} has the columns {:?}, the stream {:?}",
                names(batches[index].schema().fields()),
                names(schema.fields())
            ));
        }
        self.sources.insert(name.to_string(), Batches { schema, batches });
        Ok(())
    }

    /// Whether no source is given in memory.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }

    /// Whether source `name` is given in memory.
    pub fn contains(&self, name: &str) -> bool {
        self.sources.contains_key(name)
    }

    /// The names of the sources given in memory.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.sources.keys().map(String::as_str)
    }

    /// The reader of source `name`, when it is given in memory.
    pub(super) fn reader(&self, name: &str) -> Option<MemoryReader<'_>> {
        self.sources.get(name).map(|data| MemoryReader { data })
    }

    /// The columns of every source given in memory, for the checks before a run.
    pub(crate) fn schemas(&self) -> Vec<SourceSchema> {
        self.sources
            .iter()
            .map(|(name, data)| SourceSchema {
                source: name.clone(),
                columns: Ok(super::inspect::schema_columns(&data.schema)),
            })
            .collect()
    }
}

/// The most rows one task reads of a batch handed over in memory.
const ROWS_PER_SLICE: usize = 1 << 17;

/// Reads one source's batches.
pub(super) struct MemoryReader<'a> {
    data: &'a Batches,
}

impl SourceReader for MemoryReader<'_> {
    /// Reads the batches in parallel on the rayon pool (in one pass, in order, when bad rows
    /// stop the run, so that the first one is reported), each numbered from its first row.
    fn read_events(
        &self,
        source: &Source,
        props: &[String],
        template: &SinkTemplate<'_>,
        consume: &mut Consumer<'_>,
    ) -> Result<(), EngineError> {
        let layout = Layout::new(source, &self.data.schema, props, template.dedupe())?;
        let project = |batch: &RecordBatch| batch.project(&layout.wanted);
        // A data frame often arrives as one batch of every row: slices of it (views, not
        // copies) are read side by side.
        let batches: Vec<RecordBatch> = self
            .data
            .batches
            .iter()
            .flat_map(|batch| {
                (0..batch.num_rows().div_ceil(ROWS_PER_SLICE)).map(move |slice| {
                    let offset = slice * ROWS_PER_SLICE;
                    batch.slice(offset, ROWS_PER_SLICE.min(batch.num_rows() - offset))
                })
            })
            .collect();
        let mut first_rows = Vec::with_capacity(batches.len());
        let mut rows = 0u64;
        for batch in &batches {
            first_rows.push(rows);
            rows += batch.num_rows() as u64;
        }
        let tasks: Vec<(&RecordBatch, u64)> = batches.iter().zip(first_rows).collect();
        let read = |(batch, first_row): &(&RecordBatch, u64)| {
            let mut sink = template.sink();
            read_batches(
                source,
                &layout,
                std::iter::once(project(batch)),
                *first_row,
                &mut sink,
            )?;
            Ok(sink.finish())
        };
        if rayon::current_num_threads() > 1 && tasks.len() > 1 && !template.fails_on_bad_rows() {
            return read_parts(&tasks, read, consume);
        }
        // One slice after another, each a part of its own as in parallel (so that no more than
        // one is held beside the store).
        for task in &tasks {
            consume(read(task)?)?;
        }
        Ok(())
    }

    fn read_entities(&self, source: &Source, sink: &mut EntitySink<'_>) -> Result<(), EngineError> {
        let names: Vec<String> = self
            .data
            .schema
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let batches = self
            .data
            .batches
            .iter()
            .cloned()
            .map(Ok::<_, arrow_schema::ArrowError>);
        read_entity_batches(source, &names, batches, sink)
    }
}
