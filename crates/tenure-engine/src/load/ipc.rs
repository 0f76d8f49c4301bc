//! Arrow IPC files (the Arrow file format, also called Feather v2), read record batch by
//! record batch; batches become rows in [`super::batches`].

use std::fs::File;

use arrow_ipc::reader::FileReader;
use tenure_plan::Source;

use super::arrow::{Layout, read_batches, read_entity_batches};
use super::{Consumer, EntitySink, SinkTemplate, SourceReader, file_path, read_error, read_parts};
use crate::error::EngineError;

/// Reads Arrow IPC files.
pub struct ArrowIpcReader;

fn open(source: &Source, projection: Option<Vec<usize>>) -> Result<FileReader<File>, EngineError> {
    let file = File::open(file_path(source)?).map_err(|e| read_error(source, e))?;
    FileReader::try_new(file, projection).map_err(|e| read_error(source, e))
}

/// The share of `total` bytes reported for batch `index` of `count`; the shares add up to it.
fn share(total: u64, index: usize, count: usize) -> u64 {
    let at = |i: usize| (u128::from(total) * i as u128 / count.max(1) as u128) as u64;
    at(index + 1) - at(index)
}

impl SourceReader for ArrowIpcReader {
    /// Reads record batches in parallel on the rayon pool (in one pass in file order when bad
    /// rows stop the run, so that the first one is reported).
    fn read_events(
        &self,
        source: &Source,
        props: &[String],
        template: &SinkTemplate<'_>,
        consume: &mut Consumer<'_>,
    ) -> Result<(), EngineError> {
        let reader = open(source, None)?;
        let layout = Layout::new(source, &reader.schema(), props, template.dedupe())?;
        let batches = reader.num_batches();
        drop(reader);
        let total = file_path(source)
            .ok()
            .and_then(|path| std::fs::metadata(path).ok())
            .map_or(0, |m| m.len());
        template.progress().start(&source.name, total);
        let projected = || open(source, Some(layout.wanted.clone()));
        if rayon::current_num_threads() > 1 && batches > 1 && !template.fails_on_bad_rows() {
            let indices: Vec<usize> = (0..batches).collect();
            let read = |index: &usize| {
                let mut reader = projected()?;
                reader.set_index(*index).map_err(|e| read_error(source, e))?;
                let mut sink = template.sink();
                read_batches(source, &layout, reader.take(1), 0, &mut sink)?;
                sink.progress_advance(share(total, *index, batches));
                Ok(sink.finish())
            };
            return read_parts(&indices, read, consume);
        }
        // One batch after another, each a part of its own as in parallel (so that no more than
        // one is held beside the store), rows numbered through the file.
        let mut rows = 0;
        for (index, batch) in projected()?.enumerate() {
            let mut sink = template.sink();
            rows += read_batches(source, &layout, std::iter::once(batch), rows, &mut sink)?;
            sink.progress_advance(share(total, index, batches));
            consume(sink.finish())?;
        }
        Ok(())
    }

    fn read_entities(&self, source: &Source, sink: &mut EntitySink<'_>) -> Result<(), EngineError> {
        let reader = open(source, None)?;
        let names: Vec<String> = reader
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        read_entity_batches(source, &names, reader, sink)
    }
}
