//! CSV sources (header row required).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Take};
use std::ops::Range;

use tenure_plan::Source;

use super::csv_records::Records;
use super::reject::Rejection;

use super::dedupe::{column_seed, text_hash};
use super::{
    Consumer, EntitySink, Partial, RawEvent, RowSink, SinkTemplate, SourceReader, TimeValue, UnreadableRows,
    column_index, file_path, read_error, read_pipelined,
};
use crate::error::EngineError;
use crate::progress::{NoProgress, ProgressReader, ReadProgress};

/// Reads CSV files with the `csv` crate, one reused record buffer per file.
pub struct CsvReader;

/// A CSV reader of the whole file (header included) that reports its progress.
fn open<'p>(
    source: &Source,
    progress: &'p dyn ReadProgress,
) -> Result<csv::Reader<ProgressReader<'p, std::fs::File>>, EngineError> {
    let file = std::fs::File::open(file_path(source)?).map_err(|e| read_error(source, e))?;
    Ok(with_header(ProgressReader::new(file, progress)))
}

/// A CSV reader of `input` whose first line is the header; rows may have other field counts
/// (they are counted as malformed, not a reason to stop).
pub(super) fn with_header<R: Read>(input: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input)
}

/// The column names of the header row, trimmed and without a byte-order mark; an error for a
/// file without a header.
pub(super) fn header_names<R: Read>(reader: &mut csv::Reader<R>) -> Result<Vec<String>, String> {
    let headers = reader.headers().map_err(|e| e.to_string())?;
    if headers.is_empty() {
        return Err("the file is empty; a CSV source needs a header row".to_string());
    }
    Ok(headers
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect())
}

fn headers<R: Read>(source: &Source, reader: &mut csv::Reader<R>) -> Result<Vec<String>, EngineError> {
    header_names(reader).map_err(|error| read_error(source, error))
}

/// Where the columns a run needs sit in each record.
struct Layout {
    headers: Vec<String>,
    entity: usize,
    time: usize,
    event: usize,
    prop_columns: Vec<Option<usize>>,
    /// The fingerprint seed of each column.
    seeds: Vec<u64>,
}

impl Layout {
    fn new(source: &Source, headers: Vec<String>, props: &[String]) -> Result<Layout, EngineError> {
        Ok(Layout {
            entity: column_index(source, &headers, &source.entity_column)?,
            time: column_index(source, &headers, &source.time_column)?,
            event: column_index(source, &headers, &source.event_column)?,
            prop_columns: props
                .iter()
                .map(|p| headers.iter().position(|h| h == p))
                .collect(),
            seeds: headers.iter().map(|h| column_seed(h)).collect(),
            headers,
        })
    }
}

/// Puts in `fields` the fields of a record with as many fields as the header, each the checked
/// UTF-8 slice of `bytes` at its place in `spans`; `false` (and the record counted in `sink`)
/// for a record with another field count or a field that is not UTF-8.
fn record_fields<'r>(
    line: u64,
    bytes: &'r [u8],
    spans: &[Range<usize>],
    header_fields: usize,
    fields: &mut Vec<&'r str>,
    sink: &mut impl UnreadableRows,
) -> Result<bool, EngineError> {
    if spans.len() != header_fields {
        let detail = format!("{} fields where the header has {}", spans.len(), header_fields);
        sink.reject_unreadable(line, Rejection::Malformed(detail))?;
        return Ok(false);
    }
    // One UTF-8 check for the whole record, then each field is a checked slice of it (a field
    // boundary inside a character, from bytes invalid on their own, fails the slice).
    let utf8 = match std::str::from_utf8(bytes) {
        Ok(whole) => spans.iter().all(|span| match whole.get(span.clone()) {
            Some(field) => {
                fields.push(field);
                true
            }
            None => false,
        }),
        Err(_) => false,
    };
    if !utf8 {
        sink.reject_unreadable(
            line,
            Rejection::BadEncoding("a field is not valid UTF-8".to_string()),
        )?;
    }
    Ok(utf8)
}

/// Reads the records of `records` into `sink`, at most `limit`; whether any may be left.
fn read_records<R: Read>(
    source: &Source,
    records: &mut Records<R>,
    layout: &Layout,
    sink: &mut RowSink<'_>,
    limit: Option<u64>,
) -> Result<bool, EngineError> {
    let mut read = 0u64;
    let mut spans = Vec::with_capacity(layout.headers.len());
    // Buffers reused across rows: emptied and re-borrowed each row, never reallocated.
    let mut fields_buffer: Vec<&str> = Vec::with_capacity(layout.headers.len());
    let mut values_buffer: Vec<Option<&str>> = Vec::with_capacity(layout.prop_columns.len());
    let dedupe = sink.dedupe();
    while let Some((line, bytes)) = records.next(source, &mut spans, sink)? {
        read += 1;
        let mut fields = recycle(std::mem::take(&mut fields_buffer));
        let mut values = recycle(std::mem::take(&mut values_buffer));
        if record_fields(line, bytes, &spans, layout.headers.len(), &mut fields, sink)? {
            let fingerprint = if dedupe {
                fields
                    .iter()
                    .zip(&layout.seeds)
                    .fold(0u128, |sum, (field, seed)| {
                        sum.wrapping_add(text_hash(*seed, field))
                    })
            } else {
                0
            };
            values.extend(layout.prop_columns.iter().map(|c| c.map(|i| fields[i])));
            sink.push(RawEvent {
                entity: Some(fields[layout.entity]),
                time: TimeValue::text(Some(fields[layout.time])),
                event: Some(fields[layout.event]),
                props: &values,
                fingerprint,
                line,
            })?;
        }
        fields_buffer = recycle(fields);
        values_buffer = recycle(values);
        if limit.is_some_and(|limit| read >= limit) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Splits the data bytes `start..end` of a file into about `parts` ranges, each ending just
/// after a newline.
fn split(source: &Source, start: u64, end: u64, parts: u64) -> Result<Vec<Range<u64>>, EngineError> {
    let mut file = std::fs::File::open(file_path(source)?).map_err(|e| read_error(source, e))?;
    let mut bounds = vec![start];
    let mut buffer = vec![0u8; 64 << 10];
    for part in 1..parts {
        let mut at = (start + (end - start) * part / parts).max(*bounds.last().unwrap_or(&start));
        file.seek(SeekFrom::Start(at))
            .map_err(|e| read_error(source, e))?;
        loop {
            let read = file.read(&mut buffer).map_err(|e| read_error(source, e))?;
            if read == 0 {
                at = end;
                break;
            }
            if let Some(newline) = buffer[..read].iter().position(|b| *b == b'\n') {
                at += newline as u64 + 1;
                break;
            }
            at += read as u64;
        }
        if at < end && at > *bounds.last().unwrap_or(&start) {
            bounds.push(at);
        }
    }
    bounds.push(end);
    Ok(bounds.windows(2).map(|w| w[0]..w[1]).collect())
}

/// The records in bytes `range` of the file, the first on line `first_line`.
fn records_in<'p>(
    source: &Source,
    range: Range<u64>,
    first_line: u64,
    progress: &'p dyn ReadProgress,
) -> Result<Records<ProgressReader<'p, Take<File>>>, EngineError> {
    let mut file = File::open(file_path(source)?).map_err(|e| read_error(source, e))?;
    file.seek(SeekFrom::Start(range.start))
        .map_err(|e| read_error(source, e))?;
    let input = ProgressReader::new(file.take(range.end - range.start), progress);
    Ok(Records::new(input, first_line))
}

/// Reads the records in bytes `range` of the file; also returns how many quote characters the
/// range holds.
fn read_range(
    source: &Source,
    layout: &Layout,
    template: &SinkTemplate<'_>,
    range: Range<u64>,
) -> Result<(Partial, u64), EngineError> {
    // Lines are counted from the range's start: a range's lines only ever reach counts, since
    // a run that stops at the first bad row reads the file in one pass.
    let mut records = records_in(source, range, 1, template.progress())?;
    let mut sink = template.sink();
    layout.headers.iter().for_each(|h| sink.saw_column(h));
    read_records(source, &mut records, layout, &mut sink, None)?;
    Ok((sink.finish(), records.quotes()))
}

/// The size a CSV file's parts aim at: small enough that a few per thread fit in memory at once.
const TARGET_PART_BYTES: u64 = 64 << 20;

/// Records per part when a file is read in one pass: about a million, as a Parquet row group.
const PART_ROWS: u64 = 1 << 20;

impl SourceReader for CsvReader {
    /// Reads a file in byte ranges on the rayon pool, a few per thread at a time, when it is
    /// large enough and bad rows do not stop the run (which must report the first one in file
    /// order). A range ends on a record boundary when the quotes up to its end are balanced; at
    /// the first range that does not (a quoted field with a newline across its end), the rest
    /// of the file is read in one pass from that range's start.
    fn read_events(
        &self,
        source: &Source,
        props: &[String],
        template: &SinkTemplate<'_>,
        consume: &mut Consumer<'_>,
    ) -> Result<(), EngineError> {
        let file_len = std::fs::metadata(file_path(source)?)
            .map_err(|e| read_error(source, e))?
            .len();
        template.progress().start(&source.name, file_len);
        let mut reader = open(source, &NoProgress)?;
        let headers = headers(source, &mut reader)?;
        let layout = Layout::new(source, headers, props)?;
        let (data_start, first_line) = (reader.position().byte(), reader.position().line());
        drop(reader);
        let threads = rayon::current_num_threads() as u64;
        let data_len = file_len.saturating_sub(data_start);
        let parts = (data_len / TARGET_PART_BYTES)
            .max(threads * 2)
            .min(data_len / template.options.min_part_bytes.max(1));
        if threads > 1 && parts > 1 && !template.fails_on_bad_rows() {
            template.progress().advance(data_start);
            let ranges = split(source, data_start, file_len, parts)?;
            let mut quotes = 0u64;
            let read = |range: &Range<u64>| {
                read_range(source, &layout, template, range.clone())
                    .map(|(part, quotes)| (part, quotes, range.clone()))
            };
            read_pipelined(&ranges, read, &mut |(part, part_quotes, range)| {
                quotes += part_quotes;
                if quotes % 2 == 1 && range.end < file_len {
                    let (rest, _) = read_range(source, &layout, template, range.start..file_len)?;
                    consume(rest)?;
                    return Ok(false);
                }
                consume(part)?;
                Ok(true)
            })?;
            return Ok(());
        }
        template.progress().advance(data_start);
        let mut records = records_in(source, data_start..file_len, first_line, template.progress())?;
        // Parts of PART_ROWS records, one after another (so that no more than one is held
        // beside the store), their lines numbered through the file.
        loop {
            let mut sink = template.sink();
            layout.headers.iter().for_each(|h| sink.saw_column(h));
            let more = read_records(source, &mut records, &layout, &mut sink, Some(PART_ROWS))?;
            consume(sink.finish())?;
            if !more {
                return Ok(());
            }
        }
    }

    fn read_entities(&self, source: &Source, sink: &mut EntitySink<'_>) -> Result<(), EngineError> {
        let mut reader = open(source, &NoProgress)?;
        let names = headers(source, &mut reader)?;
        let entity = column_index(source, &names, &source.entity_column)?;
        let (data_start, first_line) = (reader.position().byte(), reader.position().line());
        drop(reader);
        sink.set_attribute_columns(&names, entity);
        let file_len = std::fs::metadata(file_path(source)?)
            .map_err(|e| read_error(source, e))?
            .len();
        let mut records = records_in(source, data_start..file_len, first_line, &NoProgress)?;
        let mut spans = Vec::new();
        while let Some((line, bytes)) = records.next(source, &mut spans, sink)? {
            let mut fields = Vec::with_capacity(names.len());
            if !record_fields(line, bytes, &spans, names.len(), &mut fields, sink)? {
                continue;
            }
            let values: Vec<(usize, Option<&str>)> = (0..names.len())
                .filter(|i| *i != entity)
                .map(|i| (i, Some(fields[i])))
                .collect();
            sink.push(line, Some(fields[entity]), &values, &names)?;
        }
        Ok(())
    }
}

/// Empties a vector of borrowed values so it can hold borrows of another lifetime, keeping its
/// allocation (collecting into the same element size reuses the buffer in place).
fn recycle<'b, T>(mut buffer: Vec<T>) -> Vec<T::Rebound>
where
    T: Rebind<'b>,
{
    buffer.clear();
    buffer.into_iter().filter_map(|_| None).collect()
}

/// A borrowed value type whose lifetime can be changed while empty.
trait Rebind<'b> {
    type Rebound;
}

impl<'b> Rebind<'b> for &str {
    type Rebound = &'b str;
}

impl<'b> Rebind<'b> for Option<&str> {
    type Rebound = Option<&'b str>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use tenure_plan::{BadRowPolicy, Format, SourceKind, TimeFormat};

    fn source(path: &std::path::Path) -> Source {
        Source {
            name: "events".into(),
            kind: SourceKind::Events,
            relation: tenure_plan::Relation::File {
                path: path.to_path_buf(),
                format: Format::Csv,
            },
            entity_column: "id".into(),
            time_column: "ts".into(),
            event_column: "event".into(),
            time_format: TimeFormat::Auto,
        }
    }

    /// Reads `text` on a 2-thread pool with tiny parts; returns the rows and rejected rows of
    /// each part.
    fn read(text: &str) -> Vec<(u64, u64)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.csv");
        std::fs::write(&path, text).unwrap();
        let source = source(&path);
        let ids = crate::load::ids::SharedIds::default();
        let template = SinkTemplate {
            source: &source,
            timezone: chrono_tz::UTC,
            policy: BadRowPolicy::Skip,
            prop_count: 1,
            amount_slots: Vec::new(),
            dedupe: false,
            progress: &NoProgress,
            spare: Default::default(),
            expected_rows: Default::default(),
            ids: &ids,
            options: crate::load::LoadOptions {
                min_part_bytes: 16,
                ..crate::load::LoadOptions::default()
            },
        };
        let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().unwrap();
        let mut parts = Vec::new();
        pool.install(|| {
            CsvReader.read_events(&source, &["note".to_string()], &template, &mut |part| {
                parts.push((part.counts.rows, part.counts.rejected_total()));
                Ok(())
            })
        })
        .unwrap();
        parts
    }

    #[test]
    fn large_files_are_read_in_parts_that_cover_every_row_once() {
        let mut text = String::from("id,ts,event,note\n");
        for i in 0..200 {
            text.push_str(&format!("e{i},2025-01-01T00:00:00Z,login,\"a, b\"\n"));
        }
        let parts = read(&text);
        assert_eq!(parts.len(), 4, "{parts:?}");
        assert_eq!(parts.iter().map(|p| p.0).sum::<u64>(), 200);
        assert!(parts.iter().all(|p| p.1 == 0), "{parts:?}");
    }

    #[test]
    fn a_quoted_newline_across_a_part_boundary_falls_back_to_one_pass() {
        let mut text = String::from("id,ts,event,note\n");
        for i in 0..200 {
            text.push_str(&format!(
                "e{i},2025-01-01T00:00:00Z,login,\"line one\nline two\"\n"
            ));
        }
        let parts = read(&text);
        // A range boundary falls inside a quoted field: the parts before it are kept, and the
        // rest of the file is read in one pass; every row is read once, none is malformed.
        assert!(parts.len() < 4, "{parts:?}");
        assert_eq!(parts.iter().map(|p| p.0).sum::<u64>(), 200);
        assert!(parts.iter().all(|p| p.1 == 0), "{parts:?}");
    }
}
