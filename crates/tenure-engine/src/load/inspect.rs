//! The shape of each source without reading its rows: the columns a CSV header, a Parquet footer
//! or an Arrow schema names, and what they hold. JSON Lines has no header, so every line's keys
//! are read (values are skipped, not decoded).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::BufRead;
use std::path::PathBuf;

use arrow_schema::{DataType, Schema};
use tenure_plan::schema::{Column, ColumnKind, SourceSchema};
use tenure_plan::{Format, Plan, Source, TimeFormat};

use super::arrow::supported;
use super::parse_time;
use crate::EngineError;
use crate::calendar::Clock;
use crate::store::parse_number;

/// How far to look into a JSON Lines source, which has no header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JsonLinesKeys {
    /// Read the keys of every line (values are skipped): exact, at about a third of the cost of
    /// loading the file.
    Scan,
    /// Only check that the file can be opened; its columns are checked as it is loaded.
    Skip,
}

/// The shape of every file source of `plan`, event sources first, then the entity source (a
/// table's shape is its database's to tell), and of every source `inputs` holds in memory.
pub fn inspect_sources(plan: &Plan, json_lines: JsonLinesKeys, inputs: &super::Inputs) -> Vec<SourceSchema> {
    let in_memory = inputs.schemas();
    plan.event_sources
        .iter()
        .chain(&plan.entity_source)
        .filter(|source| source.file().is_some() && !inputs.contains(&source.name))
        .filter_map(|source| {
            let columns = columns_of(source, plan.project.timezone, json_lines).transpose()?;
            Some(SourceSchema {
                source: source.name.clone(),
                columns,
            })
        })
        .chain(in_memory)
        .collect()
}

/// The columns of `source`; `None` when the file says nothing about them (a JSON Lines file
/// without a single object, which is read as zero rows, or one not scanned).
fn columns_of(
    source: &Source,
    timezone: chrono_tz::Tz,
    json_lines: JsonLinesKeys,
) -> Result<Option<Vec<Column>>, String> {
    let Some((path, format)) = source.file() else {
        return Err(format!(
            "it is a {}, and this version of tenure reads files only",
            source.relation
        ));
    };
    // A folder or pattern of Parquet parts: the columns of its first file.
    let first_part;
    let path = if format == Format::Parquet {
        first_part = super::parquet::parquet_files(source).map_err(|error| match error {
            EngineError::Read { error, .. } => format!("{}: {error}", path.display()),
            other => other.to_string(),
        })?;
        first_part.first().map_or(path, PathBuf::as_path)
    } else {
        path
    };
    if path.is_dir() {
        return Err(format!("{} is a folder, not a file", path.display()));
    }
    let file = File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("no such file: {}", path.display()),
        _ => format!("{}: {e}", path.display()),
    })?;
    let mut sample = SampleKind {
        clock: Clock::new(timezone),
        time_format: source.time_format,
    };
    match format {
        Format::Csv => csv_columns(file, &mut sample).map(Some),
        Format::JsonLines if json_lines == JsonLinesKeys::Skip => Ok(None),
        Format::JsonLines => json_lines_columns(file, &mut sample).map(|c| (!c.is_empty()).then_some(c)),
        Format::Parquet => parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .map(|builder| Some(schema_columns(builder.schema())))
            .map_err(|e| e.to_string()),
        Format::ArrowIpc => arrow_ipc::reader::FileReader::try_new(file, None)
            .map(|reader| Some(schema_columns(&reader.schema())))
            .map_err(|e| e.to_string()),
    }
}

/// Tells what a text value holds, as the source's time format reads it.
struct SampleKind {
    clock: Clock,
    time_format: TimeFormat,
}

impl SampleKind {
    fn of(&mut self, text: Option<&str>) -> ColumnKind {
        let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
            return ColumnKind::Other;
        };
        let numeric = parse_number(text).is_some();
        let epoch = self.time_format != TimeFormat::Auto;
        if (!numeric || epoch) && parse_time(text, self.time_format, &mut self.clock).is_ok() {
            ColumnKind::Time
        } else if numeric {
            ColumnKind::Number
        } else {
            ColumnKind::Other
        }
    }
}

fn csv_columns(file: File, sample: &mut SampleKind) -> Result<Vec<Column>, String> {
    let mut reader = super::csv::with_header(file);
    let headers = super::csv::header_names(&mut reader)?;
    let mut first = csv::StringRecord::new();
    let has_row = reader.read_record(&mut first).unwrap_or(false);
    Ok(headers
        .into_iter()
        .enumerate()
        .map(|(index, name)| Column {
            kind: sample.of(if has_row { first.get(index) } else { None }),
            name,
        })
        .collect())
}

fn json_lines_columns(file: File, sample: &mut SampleKind) -> Result<Vec<Column>, String> {
    // Each key with the kind of its first non-null value, in the order keys are first seen.
    let mut kinds: BTreeMap<String, (usize, Option<ColumnKind>)> = BTreeMap::new();
    for line in std::io::BufReader::new(file).split(b'\n') {
        let bytes = line.map_err(|e| e.to_string())?;
        // Lines that are not objects are the reader's business (counted as unreadable rows).
        // Values are skipped, unless the line has a key whose kind is not known yet.
        let Ok(keys) = serde_json::from_slice::<BTreeMap<String, serde::de::IgnoredAny>>(&bytes) else {
            continue;
        };
        if keys
            .keys()
            .all(|key| kinds.get(key.as_str()).is_some_and(|(_, kind)| kind.is_some()))
        {
            continue;
        }
        let Ok(object) = serde_json::from_slice::<BTreeMap<String, serde_json::Value>>(&bytes) else {
            continue;
        };
        for (key, value) in object {
            let kind = match &value {
                serde_json::Value::Null => None,
                serde_json::Value::String(text) => Some(sample.of(Some(text))),
                serde_json::Value::Number(number) => Some(sample.of(Some(&number.to_string()))),
                _ => Some(ColumnKind::Other),
            };
            let order = kinds.len();
            let entry = kinds.entry(key).or_insert((order, None));
            if entry.1.is_none() {
                entry.1 = kind;
            }
        }
    }
    let mut columns: Vec<(usize, Column)> = kinds
        .into_iter()
        .map(|(name, (order, kind))| {
            let kind = kind.unwrap_or(ColumnKind::Other);
            (order, Column { name, kind })
        })
        .collect();
    columns.sort_by_key(|(order, _)| *order);
    Ok(columns.into_iter().map(|(_, column)| column).collect())
}

pub(super) fn schema_columns(schema: &Schema) -> Vec<Column> {
    schema
        .fields()
        .iter()
        .map(|field| Column {
            name: field.name().clone(),
            kind: typed_kind(field.data_type()),
        })
        .collect()
}

fn typed_kind(data_type: &DataType) -> ColumnKind {
    match data_type {
        DataType::Dictionary(_, values) => typed_kind(values),
        _ if !supported(data_type) => ColumnKind::Unreadable(data_type.to_string()),
        DataType::Date32 | DataType::Date64 | DataType::Timestamp(_, _) => ColumnKind::Time,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Boolean => ColumnKind::Other,
        _ => ColumnKind::Number,
    }
}
