//! Parquet sources, read with the `parquet` crate's Arrow reader, row group by row group.
//!
//! Only the columns the config reads are decoded (all of them under exact de-duplication, which
//! compares whole rows); batches become rows in [`super::batches`].

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};
use parquet::basic::{Encoding, PageType};
use parquet::file::metadata::ColumnChunkMetaData;
use tenure_plan::Source;

use super::arrow::{Layout, read_batches, read_entity_batches};
use super::parquet_text::{self, TextChunk};
use super::{Consumer, EntitySink, RowSink, SinkTemplate, SourceReader, file_path, read_error, read_parts};
use crate::error::EngineError;

/// Reads Parquet files batch by batch.
pub struct ParquetReader;

/// Rows per decoded batch.
const BATCH_ROWS: usize = 8_192;

/// The Parquet files of `source`: its file; every file under its folder (a path ending in `/`,
/// as Spark and Hive write a table's parts, subfolders included) whose name ends in `.parquet`;
/// or the files a pattern with `*` or `?` in its last part matches. Sorted by path.
pub(crate) fn parquet_files(source: &Source) -> Result<Vec<PathBuf>, EngineError> {
    let path = file_path(source)?;
    let text = path.to_string_lossy();
    let mut files = Vec::new();
    if text.ends_with('/') {
        collect_parts(path, &mut files).map_err(|e| read_error(source, e))?;
        if files.is_empty() {
            return Err(read_error(source, "the folder holds no .parquet file"));
        }
    } else if let Some(pattern) = path
        .file_name()
        .map(|name| name.to_string_lossy())
        .filter(|name| name.contains(['*', '?']))
    {
        let folder = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        for entry in std::fs::read_dir(folder).map_err(|e| read_error(source, e))? {
            let entry = entry.map_err(|e| read_error(source, e))?;
            if entry.file_type().is_ok_and(|t| t.is_file())
                && wildcard_match(&pattern, &entry.file_name().to_string_lossy())
            {
                files.push(entry.path());
            }
        }
        if files.is_empty() {
            return Err(read_error(source, "no file matches the pattern"));
        }
    } else {
        files.push(path.to_path_buf());
    }
    files.sort();
    Ok(files)
}

/// The `.parquet` files under `folder`, at any depth.
fn collect_parts(folder: &Path, files: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let kind = entry.file_type()?;
        if kind.is_dir() {
            collect_parts(&entry.path(), files)?;
        } else if entry.file_name().to_string_lossy().ends_with(".parquet") {
            files.push(entry.path());
        }
    }
    Ok(())
}

/// Whether `name` matches `pattern`, where `*` stands for any run of characters and `?` for one.
fn wildcard_match(pattern: &str, name: &str) -> bool {
    let (pattern, name): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    // The pattern position after the last `*`, and the name position it was matched from.
    let (mut p, mut n, mut star) = (0, 0, None::<(usize, usize)>);
    while n < name.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p + 1, n));
                p += 1;
            }
            Some(c) if *c == '?' || *c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((after, from)) => {
                    p = after;
                    n = from + 1;
                    star = Some((after, from + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == '*')
}

/// One Parquet file of a source: its path, its footer (text read as dictionaries) and where
/// the config's columns are in it.
struct PartFile {
    path: PathBuf,
    metadata: ArrowReaderMetadata,
    layout: Layout,
}

impl PartFile {
    fn open(source: &Source, path: PathBuf, props: &[String], dedupe: bool) -> Result<PartFile, EngineError> {
        let file = File::open(&path).map_err(|e| read_error(source, e))?;
        let metadata =
            ArrowReaderMetadata::load(&file, Default::default()).map_err(|e| read_error(source, e))?;
        let metadata = with_dictionary_text(metadata);
        let layout = Layout::new(source, metadata.schema(), props, dedupe)?;
        Ok(PartFile {
            path,
            metadata,
            layout,
        })
    }
}

/// Reads row group `group` of `part` into `sink`, numbering its rows from `first_row` + 1;
/// returns the number of rows read.
fn read_row_group(
    source: &Source,
    part: &PartFile,
    group: usize,
    first_row: u64,
    sink: &mut RowSink<'_>,
) -> Result<u64, EngineError> {
    let PartFile {
        path,
        metadata,
        layout,
    } = part;
    // The footer was parsed once for the file; each row group only opens the file again.
    let file = File::open(path).map_err(|e| read_error(source, e))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, metadata.clone());
    let row_group = builder.metadata().row_group(group);
    let bytes = row_group.compressed_size().max(0) as u64;
    // Text columns with plain pages are decoded whole, each into one dictionary for the row
    // group; the Arrow reader decodes the other wanted columns, and any such chunk the decoder
    // turns down (a page in a layout it does not know, or damaged: the Arrow reader then
    // says what is wrong).
    let rows_in_group = row_group.num_rows().max(0) as usize;
    let mut chunks: Vec<(usize, TextChunk)> = Vec::new();
    for (column, chunk) in plain_text_chunks(metadata, layout, group) {
        let file = File::open(path).map_err(|e| read_error(source, e))?;
        if let Ok(decoded) = TextChunk::decode(file, chunk, rows_in_group) {
            chunks.push((column, decoded));
        }
    }
    let decoded = layout
        .wanted
        .iter()
        .copied()
        .filter(|column| chunks.iter().all(|(done, _)| done != column));
    let mask = ProjectionMask::roots(builder.parquet_schema(), decoded);
    let reader = builder
        .with_row_groups(vec![group])
        .with_projection(mask)
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| read_error(source, e))?;
    let rows = if chunks.is_empty() {
        read_batches(source, layout, reader, first_row, sink)?
    } else {
        let schema = metadata
            .schema()
            .project(&layout.wanted)
            .map_err(|e| read_error(source, e))?;
        let batches = with_text_columns(reader, Arc::new(schema), layout, chunks);
        read_batches(source, layout, batches, first_row, sink)?
    };
    sink.progress_advance(bytes);
    Ok(rows)
}

/// The reader's batches with the text columns decoded whole (`chunks`, by file column) put back
/// in their places.
fn with_text_columns(
    reader: impl Iterator<Item = Result<RecordBatch, ArrowError>>,
    schema: SchemaRef,
    layout: &Layout,
    chunks: Vec<(usize, TextChunk)>,
) -> impl Iterator<Item = Result<RecordBatch, String>> {
    // In ascending place, so that each insertion finds the columns before it in place.
    let mut placed: Vec<(usize, TextChunk)> = chunks
        .into_iter()
        .map(|(column, chunk)| (layout.position(column).unwrap_or_default(), chunk))
        .collect();
    placed.sort_by_key(|(at, _)| *at);
    let mut offset = 0;
    reader.map(move |batch| {
        let batch = batch.map_err(|e| e.to_string())?;
        let mut columns = batch.columns().to_vec();
        for (at, chunk) in &placed {
            columns.insert(*at, chunk.slice(offset, batch.num_rows())?);
        }
        offset += batch.num_rows();
        RecordBatch::try_new(schema.clone(), columns).map_err(|e| e.to_string())
    })
}

/// The wanted columns of row group `group` that [`TextChunk`] should decode, with their chunks:
/// text read as a dictionary, in a flat file, with plain data pages (where the Arrow reader
/// would build a dictionary per batch, hashing every value), in encodings the decoder knows.
fn plain_text_chunks<'m>(
    metadata: &'m ArrowReaderMetadata,
    layout: &Layout,
    group: usize,
) -> Vec<(usize, &'m ColumnChunkMetaData)> {
    let flat =
        metadata.metadata().file_metadata().schema_descr().num_columns() == metadata.schema().fields().len();
    if !flat {
        return Vec::new();
    }
    let dictionary_text = |column: usize| {
        matches!(
            metadata.schema().field(column).data_type(),
            DataType::Dictionary(key, value) if **key == DataType::Int32 && **value == DataType::Utf8
        )
    };
    let row_group = metadata.metadata().row_group(group);
    layout
        .wanted
        .iter()
        .map(|column| (*column, row_group.column(*column)))
        .filter(|(column, chunk)| {
            dictionary_text(*column) && has_plain_data_pages(chunk) && parquet_text::decodable(chunk)
        })
        .collect()
}

/// Whether some data page of `column` is plain, from its page encoding statistics, or from
/// its list of encodings when the file has none (DuckDB writes none): `PLAIN` there names data
/// pages when the chunk has no dictionary page, or when its dictionary page is named
/// `PLAIN_DICTIONARY` (as format-1 writers name it: parquet-mr, DuckDB); writers that name
/// their dictionary page `PLAIN` (arrow-rs, pyarrow) write the statistics. A wrong guess costs
/// time only: the chunk decoder reads dictionary pages too.
fn has_plain_data_pages(column: &ColumnChunkMetaData) -> bool {
    if let Some(mask) = column.page_encoding_stats_mask() {
        return mask.is_set(Encoding::PLAIN);
    }
    if let Some(stats) = column.page_encoding_stats() {
        return stats.iter().any(|page| {
            page.encoding == Encoding::PLAIN
                && matches!(page.page_type, PageType::DATA_PAGE | PageType::DATA_PAGE_V2)
        });
    }
    let encodings: Vec<Encoding> = column.encodings().collect();
    encodings.contains(&Encoding::PLAIN)
        && (column.dictionary_page_offset().is_none() || encodings.contains(&Encoding::PLAIN_DICTIONARY))
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
        let parts = parquet_files(source)?
            .into_iter()
            .map(|path| PartFile::open(source, path, props, template.dedupe()))
            .collect::<Result<Vec<_>, _>>()?;
        let groups_of = |part: &PartFile| part.metadata.metadata().row_groups().to_vec();
        let total: i64 = parts
            .iter()
            .flat_map(groups_of)
            .map(|g| g.compressed_size())
            .sum();
        template.progress().start(&source.name, total.max(0) as u64);
        let rows: i64 = parts
            .iter()
            .map(|part| part.metadata.metadata().file_metadata().num_rows().max(0))
            .sum();
        template.expect_rows(rows as u64);
        // Every row group of every file, in path order.
        let groups: Vec<(usize, usize)> = parts
            .iter()
            .enumerate()
            .flat_map(|(index, part)| (0..part.metadata.metadata().num_row_groups()).map(move |g| (index, g)))
            .collect();
        let threads = rayon::current_num_threads();
        if threads > 1 && groups.len() > 1 && !template.fails_on_bad_rows() {
            let read = |(part, group): &(usize, usize)| {
                let mut sink = template.sink();
                read_row_group(source, &parts[*part], *group, 0, &mut sink)?;
                Ok(sink.finish())
            };
            return read_parts(&groups, read, consume);
        }
        // One row group after another, each a part of its own as in parallel (so that no more
        // than one is held beside the store), rows numbered through the files as one table.
        let mut rows = 0;
        for (part, group) in groups {
            let mut sink = template.sink();
            rows += read_row_group(source, &parts[part], group, rows, &mut sink)?;
            consume(sink.finish())?;
        }
        Ok(())
    }

    fn read_entities(&self, source: &Source, sink: &mut EntitySink<'_>) -> Result<(), EngineError> {
        for path in parquet_files(source)? {
            let file = File::open(path).map_err(|e| read_error(source, e))?;
            let builder =
                ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| read_error(source, e))?;
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
            read_entity_batches(source, &names, reader, sink)?;
        }
        Ok(())
    }
}
