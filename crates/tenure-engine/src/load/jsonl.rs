//! JSON Lines sources: one object per line.

use std::io::BufRead;

use serde_json::Value;
use tenure_plan::Source;

use super::reject::Rejection;

use super::dedupe::{column_seed, text_hash};
use super::{
    Consumer, EntitySink, RawEvent, SinkTemplate, SourceReader, TimeValue, UnreadableRows, file_path,
    read_error,
};
use crate::error::EngineError;
use crate::progress::ProgressReader;

/// Reads JSON Lines with `serde_json`; scalars become text, typed again per column later.
pub struct JsonLinesReader;

/// Objects per part: about a million, as a Parquet row group.
const PART_ROWS: u64 = 1 << 20;

fn open(source: &Source) -> Result<std::io::BufReader<std::fs::File>, EngineError> {
    std::fs::File::open(file_path(source)?)
        .map(std::io::BufReader::new)
        .map_err(|e| read_error(source, e))
}

/// Hands `each` every line of `reader` that holds a JSON object, with its line number. Blank
/// lines are skipped; a line that is not UTF-8 or not an object is counted as unreadable.
fn for_each_object<S: UnreadableRows>(
    source: &Source,
    reader: impl BufRead,
    sink: &mut S,
    mut each: impl FnMut(&mut S, u64, serde_json::Map<String, Value>) -> Result<(), EngineError>,
) -> Result<(), EngineError> {
    for (index, line) in reader.split(b'\n').enumerate() {
        let line_no = index as u64 + 1;
        let bytes = line.map_err(|e| read_error(source, e))?;
        let Ok(text) = std::str::from_utf8(&bytes) else {
            sink.reject_unreadable(
                line_no,
                Rejection::BadEncoding("the line is not valid UTF-8".to_string()),
            )?;
            continue;
        };
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<serde_json::Map<String, Value>>(text) {
            Ok(object) => each(sink, line_no, object)?,
            Err(error) => sink.reject_unreadable(
                line_no,
                Rejection::Malformed(format!("not a JSON object: {error}")),
            )?,
        }
    }
    Ok(())
}

/// The text of a scalar JSON value; objects and arrays keep their JSON text.
fn scalar_text(value: &Value) -> Option<std::borrow::Cow<'_, str>> {
    match value {
        Value::Null => None,
        Value::String(text) => Some(std::borrow::Cow::Borrowed(text)),
        Value::Bool(flag) => Some(std::borrow::Cow::Borrowed(if *flag { "true" } else { "false" })),
        other => Some(std::borrow::Cow::Owned(other.to_string())),
    }
}

impl SourceReader for JsonLinesReader {
    fn read_events(
        &self,
        source: &Source,
        props: &[String],
        template: &SinkTemplate<'_>,
        consume: &mut Consumer<'_>,
    ) -> Result<(), EngineError> {
        let mut owned = template.sink();
        let total = file_path(source)
            .ok()
            .and_then(|path| std::fs::metadata(path).ok())
            .map_or(0, |m| m.len());
        template.progress().start(&source.name, total);
        let reader = ProgressReader::new(open(source)?, template.progress());
        let mut in_part = 0u64;
        for_each_object(source, reader, &mut owned, |sink, line_no, object| {
            // Parts of PART_ROWS objects, one after another, so that no more than one is held
            // beside the store.
            if in_part == PART_ROWS {
                let full = std::mem::replace(sink, template.sink());
                consume(full.finish())?;
                in_part = 0;
            }
            in_part += 1;
            object.keys().for_each(|key| sink.saw_column(key));
            let texts: Vec<(&String, Option<std::borrow::Cow<'_, str>>)> =
                object.iter().map(|(k, v)| (k, scalar_text(v))).collect();
            let fingerprint = if sink.dedupe() {
                texts.iter().fold(0u128, |sum, (key, value)| match value {
                    Some(value) => sum.wrapping_add(text_hash(column_seed(key), value)),
                    None => sum,
                })
            } else {
                0
            };
            let get = |name: &str| -> Option<&str> {
                texts
                    .iter()
                    .find(|(k, _)| k.as_str() == name)
                    .and_then(|(_, v)| v.as_deref())
            };
            let values: Vec<Option<&str>> = props.iter().map(|p| get(p)).collect();
            sink.push(RawEvent {
                entity: get(&source.entity_column),
                time: TimeValue::text(get(&source.time_column)),
                event: get(&source.event_column),
                props: &values,
                fingerprint,
                line: line_no,
            })
        })?;
        consume(owned.finish())
    }

    fn read_entities(&self, source: &Source, sink: &mut EntitySink<'_>) -> Result<(), EngineError> {
        let reader = open(source)?;
        let mut names: Vec<String> = Vec::new();
        for_each_object(source, reader, sink, |sink, line_no, object| {
            for key in object.keys() {
                if *key != source.entity_column && !names.contains(key) {
                    names.push(key.clone());
                }
            }
            sink.set_columns(&names);
            let texts: Vec<(usize, Option<std::borrow::Cow<'_, str>>)> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (i, object.get(n).and_then(scalar_text)))
                .collect();
            let values: Vec<(usize, Option<&str>)> = texts.iter().map(|(i, v)| (*i, v.as_deref())).collect();
            let id = object.get(&source.entity_column).and_then(scalar_text);
            sink.push(line_no, id.as_deref(), &values, &names)
        })
    }
}
