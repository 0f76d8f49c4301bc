//! CSV sources (header row required).

use tenure_plan::Source;

use super::{
    EntitySink, Fingerprint, RawEvent, RowSink, SourceReader, TimeValue, UnreadableRows, column_index,
    read_error,
};
use crate::error::EngineError;

/// Reads CSV files with the `csv` crate, one reused record buffer per file.
pub struct CsvReader;

fn open(source: &Source) -> Result<csv::Reader<std::fs::File>, EngineError> {
    let file = std::fs::File::open(&source.path).map_err(|e| EngineError::Read {
        source_name: source.name.clone(),
        path: source.path.clone(),
        error: e.to_string(),
    })?;
    Ok(csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(file))
}

fn headers(source: &Source, reader: &mut csv::Reader<std::fs::File>) -> Result<Vec<String>, EngineError> {
    let headers = reader.headers().map_err(|e| read_error(source, e))?;
    if headers.is_empty() {
        return Err(read_error(
            source,
            "the file is empty; a CSV source needs a header row",
        ));
    }
    Ok(headers
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_string())
        .collect())
}

/// Reads the next record with as many fields as the header into `record`; rows that cannot be
/// read, or have another field count, are counted as `malformed_row` and skipped. Returns the
/// record's line, or `None` at the end of the file.
fn next_record(
    source: &Source,
    reader: &mut csv::Reader<std::fs::File>,
    record: &mut csv::ByteRecord,
    fields: usize,
    sink: &mut impl UnreadableRows,
) -> Result<Option<u64>, EngineError> {
    loop {
        match reader.read_byte_record(record) {
            Ok(false) => return Ok(None),
            Ok(true) => {}
            Err(error) if matches!(error.kind(), csv::ErrorKind::Io(_)) => {
                return Err(read_error(source, error));
            }
            Err(error) => {
                let line = error.position().map_or(0, |p| p.line());
                sink.reject_unreadable(line, "malformed_row", error.to_string())?;
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line());
        if record.len() == fields {
            return Ok(Some(line));
        }
        let detail = format!("{} fields where the header has {}", record.len(), fields);
        sink.reject_unreadable(line, "malformed_row", detail)?;
    }
}

impl SourceReader for CsvReader {
    fn read_events(
        &self,
        source: &Source,
        props: &[String],
        sink: &mut RowSink<'_>,
    ) -> Result<(), EngineError> {
        let mut reader = open(source)?;
        let headers = headers(source, &mut reader)?;
        let entity = column_index(source, &headers, &source.entity_column)?;
        let time = column_index(source, &headers, &source.time_column)?;
        let event = column_index(source, &headers, &source.event_column)?;
        headers.iter().for_each(|h| sink.saw_column(h));
        let prop_columns: Vec<Option<usize>> = props
            .iter()
            .map(|p| headers.iter().position(|h| h == p))
            .collect();
        // Fingerprints visit columns sorted by name, so equal rows hash alike across files.
        let mut by_name: Vec<usize> = (0..headers.len()).collect();
        by_name.sort_by(|a, b| headers[*a].cmp(&headers[*b]));
        let mut record = csv::ByteRecord::new();
        // Buffers reused across rows: emptied and re-borrowed each row, never reallocated.
        let mut fields_buffer: Vec<&str> = Vec::with_capacity(headers.len());
        let mut values_buffer: Vec<Option<&str>> = Vec::with_capacity(props.len());
        while let Some(line) = next_record(source, &mut reader, &mut record, headers.len(), sink)? {
            let mut fields = recycle(std::mem::take(&mut fields_buffer));
            let mut values = recycle(std::mem::take(&mut values_buffer));
            let mut utf8 = true;
            for field in record.iter() {
                match std::str::from_utf8(field) {
                    Ok(text) => fields.push(text),
                    Err(_) => {
                        utf8 = false;
                        break;
                    }
                }
            }
            if !utf8 {
                fields_buffer = recycle(fields);
                values_buffer = recycle(values);
                sink.reject_unreadable(line, "bad_encoding", "a field is not valid UTF-8".into())?;
                continue;
            }
            let mut fingerprint = Fingerprint::new();
            for index in &by_name {
                fingerprint.add(&headers[*index], fields[*index]);
            }
            values.extend(prop_columns.iter().map(|c| c.map(|i| fields[i])));
            sink.push(RawEvent {
                entity: Some(fields[entity]),
                time: TimeValue::text(Some(fields[time])),
                event: Some(fields[event]),
                props: &values,
                fingerprint: fingerprint.finish(),
                line,
            })?;
            fields_buffer = recycle(fields);
            values_buffer = recycle(values);
        }
        Ok(())
    }

    fn read_entities(&self, source: &Source, sink: &mut EntitySink<'_>) -> Result<(), EngineError> {
        let mut reader = open(source)?;
        let headers = headers(source, &mut reader)?;
        let entity = column_index(source, &headers, &source.entity_column)?;
        let names: Vec<String> = headers.clone();
        let attributes: Vec<String> = names
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != entity)
            .map(|(_, n)| n.clone())
            .collect();
        sink.set_columns(&attributes);
        let mut record = csv::ByteRecord::new();
        while let Some(line) = next_record(source, &mut reader, &mut record, names.len(), sink)? {
            let Ok(fields) = record
                .iter()
                .map(std::str::from_utf8)
                .collect::<Result<Vec<&str>, _>>()
            else {
                sink.reject_unreadable(line, "bad_encoding", "a field is not valid UTF-8".into())?;
                continue;
            };
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
