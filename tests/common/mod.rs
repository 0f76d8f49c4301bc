//! Helpers for fixture tests: write tiny data files and a config into a temporary folder,
//! run tenure through the library API, and read the result as JSON.

#![allow(dead_code)]

use std::path::Path;

/// A temporary project folder.
pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture {
            dir: tempfile::tempdir().expect("a temporary folder"),
        }
    }

    /// Writes a file into the project folder.
    pub fn file(&self, name: &str, text: &str) -> &Self {
        std::fs::write(self.dir.path().join(name), text).expect("writable temp folder");
        self
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Validates `config` and runs every metric; the report as JSON.
    pub fn run(&self, config: &str) -> serde_json::Value {
        let project = self.project(config);
        let report = project.run().unwrap_or_else(|e| panic!("{e}"));
        serde_json::to_value(&report).expect("serialisable report")
    }

    /// Validates `config`: a project whose loading splits even these tiny CSV files into parts
    /// read in parallel, and resolves their entity ids a few at a time, as large files are.
    pub fn project(&self, config: &str) -> tenure::Project {
        let options = tenure::engine::LoadOptions {
            min_part_bytes: 16,
            resolve_batch: 3,
        };
        tenure::Project::from_str(config, self.path())
            .unwrap_or_else(|e| panic!("{e}"))
            .with_load_options(options)
    }

    /// Runs and returns the error text.
    pub fn run_err(&self, config: &str) -> String {
        let project = self.project(config);
        match project.run() {
            Ok(_) => panic!("expected the run to fail"),
            Err(error) => error.to_string(),
        }
    }
}

/// A config with one CSV event source `events.csv` (columns id,ts,event), value events
/// `report` (event == 'report') and `any` (report or login), and the given extra tables.
pub fn config(project: &str, rest: &str) -> String {
    format!(
        r#"
[project]
{project}

[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"

[events.report]
where = "event == 'report'"

[events.any]
where = "event in ['report', 'login']"

[events.signup]
where = "event == 'signup'"

{rest}
"#
    )
}

/// The cohort rows of a metric as (cohort, size, retained, eligible).
pub fn cohorts(report: &serde_json::Value, metric: &str) -> Vec<(String, u64, Vec<u64>, Vec<u64>)> {
    report["metrics"][metric]["cohorts"]
        .as_array()
        .expect("cohorts")
        .iter()
        .map(|row| {
            let list = |key: &str| {
                row[key]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_u64().unwrap())
                    .collect()
            };
            (
                row["cohort"].as_str().unwrap().to_string(),
                row["size"].as_u64().unwrap(),
                list("retained"),
                list("eligible"),
            )
        })
        .collect()
}

/// The total row of a retention metric as (retained, eligible, rates).
pub fn total(report: &serde_json::Value, metric: &str) -> (Vec<u64>, Vec<u64>, Vec<Option<f64>>) {
    let total = &report["metrics"][metric]["total"];
    let list = |key: &str| {
        total[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect()
    };
    let rates = total["rate"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64())
        .collect();
    (list("retained"), list("eligible"), rates)
}

/// Invoices of four entities over six months, and one login (worked through in
/// revenue_fixtures.rs and formula_fixtures.rs):
///
/// | entity | Jan | Feb | Mar | Apr | May | Jun |
/// |--------|-----|-----|-----|-----|-----|-----|
/// | a      | 100 | 100 | 150 | 120 |   – |  80 |
/// | b      |   – | 200 | 200 |   – |   – |   – |
/// | c      | 50 (30 + 20) | 50 | 50 | 50 | 60 | 60 |
/// | d      |   – |   – |  40 |   – |   – |   – |
pub const PAYMENTS: &str = "id,ts,event,amount
a,2025-01-05T10:00:00Z,invoice,100
a,2025-02-05T10:00:00Z,invoice,100
a,2025-03-05T10:00:00Z,invoice,150
a,2025-04-05T10:00:00Z,invoice,120
a,2025-06-05T10:00:00Z,invoice,80
b,2025-02-10T10:00:00Z,invoice,200
b,2025-03-10T10:00:00Z,invoice,200
c,2025-01-02T10:00:00Z,invoice,30
c,2025-01-20T10:00:00Z,invoice,20
c,2025-02-02T10:00:00Z,invoice,50
c,2025-03-02T10:00:00Z,invoice,50
c,2025-04-02T10:00:00Z,invoice,50
c,2025-05-02T10:00:00Z,invoice,60
c,2025-06-02T10:00:00Z,invoice,60
d,2025-03-15T10:00:00Z,invoice,40
a,2025-03-06T10:00:00Z,login,
";

/// A Parquet file's bytes holding `columns`, in row groups of at most `row_group_rows` rows.
pub fn parquet_bytes(columns: Vec<(&str, arrow_array::ArrayRef)>, row_group_rows: Option<usize>) -> Vec<u8> {
    parquet_bytes_encoded(columns, row_group_rows, TextEncoding::Dictionary)
}

/// How a test Parquet file stores its text columns.
#[derive(Debug, Clone, Copy)]
pub enum TextEncoding {
    /// Dictionary pages, the writers' default while a chunk's values are few.
    Dictionary,
    /// A dictionary that fills up after a few bytes: a chunk's first pages are
    /// dictionary-encoded and the rest plain, as writers fall back on many distinct values;
    /// pages of two rows, so that one read batch spans both kinds.
    FallingBackToPlain,
    /// [`TextEncoding::FallingBackToPlain`] in data pages of format v2, whose levels sit
    /// uncompressed before the values.
    FallingBackToPlainV2,
    /// Plain pages only.
    Plain,
}

/// [`parquet_bytes`] with text columns stored as `encoding` says.
pub fn parquet_bytes_encoded(
    columns: Vec<(&str, arrow_array::ArrayRef)>,
    row_group_rows: Option<usize>,
    encoding: TextEncoding,
) -> Vec<u8> {
    let batch = arrow_array::RecordBatch::try_from_iter(columns).expect("columns of equal length");
    let mut properties = parquet::file::properties::WriterProperties::builder();
    if let Some(rows) = row_group_rows {
        properties = properties.set_max_row_group_row_count(Some(rows));
    }
    properties = match encoding {
        TextEncoding::Dictionary => properties,
        TextEncoding::FallingBackToPlain => properties
            .set_dictionary_page_size_limit(16)
            .set_data_page_row_count_limit(2)
            .set_write_batch_size(2),
        TextEncoding::FallingBackToPlainV2 => properties
            .set_dictionary_page_size_limit(16)
            .set_data_page_row_count_limit(2)
            .set_write_batch_size(2)
            .set_writer_version(parquet::file::properties::WriterVersion::PARQUET_2_0)
            // Version 2 writers fall back to delta encodings unless told otherwise.
            .set_encoding(parquet::basic::Encoding::PLAIN),
        TextEncoding::Plain => properties.set_dictionary_enabled(false),
    };
    let mut bytes = Vec::new();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(&mut bytes, batch.schema(), Some(properties.build()))
            .expect("a writer");
    writer.write(&batch).expect("written");
    writer.close().expect("closed");
    bytes
}

/// The folder the workspace's libraries are built into (target/debug or target/release).
pub fn build_dir() -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>")
        .to_path_buf()
}

/// The path of the workspace's built library `name` (`cargo build --workspace` builds it).
pub fn library(name: &str) -> String {
    let path = build_dir().join(format!(
        "{}{name}{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    ));
    assert!(
        path.is_file(),
        "{} is missing: run `cargo build --workspace` first",
        path.display()
    );
    path.display().to_string()
}

/// Payments of entities e1–e5 from February to June 2025 (event `pay`, column `amount`), for
/// the segment plugin tests; each test tabulates what it reads of them.
pub const PLUGIN_PAYMENTS: &str = "id,ts,event,amount
e1,2025-04-01T10:00:00Z,pay,100
e1,2025-05-01T10:00:00Z,pay,100
e1,2025-06-28T10:00:00Z,pay,100
e2,2025-06-01T10:00:00Z,pay,50
e3,2025-05-20T10:00:00Z,pay,250
e3,2025-06-20T10:00:00Z,pay,250
e4,2025-02-01T10:00:00Z,pay,25
e4,2025-03-01T10:00:00Z,pay,25
e4,2025-04-01T10:00:00Z,pay,25
e4,2025-05-01T10:00:00Z,pay,25
e5,2025-06-28T10:00:00Z,pay,50
";
