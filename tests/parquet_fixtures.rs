//! Parquet input: typed columns read without text parsing, checked against hand-worked figures.

mod common;

use std::sync::Arc;

use arrow_array::{
    ArrayRef, Date32Array, Decimal128Array, DictionaryArray, Int64Array, RecordBatch, StringArray,
    TimestampMillisecondArray, types::Int32Type,
};
use arrow_schema::{Field, Schema};
use common::{Fixture, cohorts, parquet_bytes};
use parquet::arrow::ArrowWriter;
use parquet::basic::PageType;

fn write(fixture: &Fixture, name: &str, columns: Vec<(&str, ArrayRef)>) {
    let schema = Schema::new(
        columns
            .iter()
            .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
            .collect::<Vec<_>>(),
    );
    let batch =
        RecordBatch::try_new(Arc::new(schema), columns.into_iter().map(|(_, a)| a).collect()).unwrap();
    let file = std::fs::File::create(fixture.path().join(name)).unwrap();
    let mut writer = ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
}

/// [`config`] with exact de-duplication.
fn with_dedupe(source: &str) -> String {
    config("UTC", source).replace(
        "[events.report]",
        "[quality]\ndedupe = \"exact\"\n[events.report]",
    )
}

/// The kinds of the data pages of the first column of the first row group of the file at `path`.
fn data_page_kinds(path: &std::path::Path) -> Vec<PageType> {
    use parquet::file::reader::FileReader;
    let reader =
        parquet::file::serialized_reader::SerializedFileReader::new(std::fs::File::open(path).unwrap())
            .unwrap();
    let mut pages = reader
        .get_row_group(0)
        .unwrap()
        .get_column_page_reader(0)
        .unwrap();
    let mut kinds = Vec::new();
    while let Some(page) = pages.get_next_page().unwrap() {
        if page.page_type() != PageType::DICTIONARY_PAGE {
            kinds.push(page.page_type());
        }
    }
    kinds
}

/// The footer of the Parquet file at `path`.
fn footer(path: &std::path::Path) -> parquet::file::metadata::ParquetMetaData {
    let file = std::fs::File::open(path).unwrap();
    let reader = parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap();
    parquet::file::reader::FileReader::metadata(&reader).clone()
}

fn config(timezone: &str, source: &str) -> String {
    format!(
        r#"
[project]
timezone = "{timezone}"
as_of = "2025-03-31"
[sources.events]
path = "{source}"
entity = "id"
time = "ts"
event = "event"
[events.report]
where = "event == 'report'"
[events.payment]
where = "event == 'pay'"
amount = "props.amount"
[cohorts.weekly]
start = "report"
grain = "week"
[metrics.m]
type = "retention"
cohort = "weekly"
return = "report"
periods = [0, 1, 7]
[metrics.mrr]
type = "revenue"
amount = "payment"
"#
    )
}

#[test]
fn typed_columns() {
    let fixture = Fixture::new();
    // Integer entity ids, UTC instants in milliseconds, dictionary-encoded event names and
    // decimal(10, 2) amounts.
    // 1: reports Mon 2025-01-06 23:30Z and Tue 01-07 → days 0, 1; pays 10.50 in Jan and Feb.
    // 2: report Sun 2025-01-12 → week of 01-06; report on 01-19 → day 7.
    let ms = |day: &str, time: &str| {
        chrono::DateTime::parse_from_rfc3339(&format!("{day}T{time}Z"))
            .unwrap()
            .timestamp_millis()
    };
    let ids = Int64Array::from(vec![1, 1, 2, 2, 1, 1]);
    let ts = TimestampMillisecondArray::from(vec![
        ms("2025-01-06", "23:30:00"),
        ms("2025-01-07", "10:00:00"),
        ms("2025-01-12", "10:00:00"),
        ms("2025-01-19", "10:00:00"),
        ms("2025-01-20", "10:00:00"),
        ms("2025-02-20", "10:00:00"),
    ])
    .with_timezone("UTC");
    let events: DictionaryArray<Int32Type> = vec!["report", "report", "report", "report", "pay", "pay"]
        .into_iter()
        .collect();
    let amounts = Decimal128Array::from(vec![None, None, None, None, Some(1050), Some(1050)])
        .with_precision_and_scale(10, 2)
        .unwrap();
    write(
        &fixture,
        "events.parquet",
        vec![
            ("id", Arc::new(ids)),
            ("ts", Arc::new(ts)),
            ("event", Arc::new(events)),
            ("amount", Arc::new(amounts)),
        ],
    );
    let report = fixture.run(&config("UTC", "events.parquet"));
    // Cohort 2025-01-06: entity 1 (days 0 and 1) and entity 2 (days 0 and 7).
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 2, vec![2, 1, 1], vec![2, 2, 2])]
    );
    // Revenue: 10.50 in January, 10.50 in February (flat), nothing in March (churned).
    let periods = report["metrics"]["mrr"]["periods"].as_array().unwrap();
    assert_eq!(periods[0]["start"], 10.5);
    assert_eq!(periods[0]["end"], 10.5);
    assert_eq!(periods[1]["churned"], 10.5);
    // In Tokyo (UTC+9), 2025-01-06 23:30Z is already Tuesday 01-07, and 01-07 10:00Z is 19:00
    // the same Tuesday: entity 1 has no day-1 return there.
    let tokyo = fixture.run(&config("Asia/Tokyo", "events.parquet"));
    assert_eq!(
        cohorts(&tokyo, "m"),
        vec![("2025-01-06".into(), 2, vec![2, 0, 1], vec![2, 2, 2])]
    );
}

#[test]
fn local_dates_and_local_timestamps() {
    let fixture = Fixture::new();
    // Dates and zone-less timestamps are wall-clock values in the project's zone.
    let days = |d: &str| {
        (chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap()
            - chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap())
        .num_days() as i32
    };
    write(
        &fixture,
        "dates.parquet",
        vec![
            ("id", Arc::new(StringArray::from(vec!["a", "a", "a"])) as ArrayRef),
            (
                "ts",
                Arc::new(Date32Array::from(vec![
                    days("2025-01-06"),
                    days("2025-01-07"),
                    days("2025-01-13"),
                ])),
            ),
            (
                "event",
                Arc::new(StringArray::from(vec!["report", "report", "report"])),
            ),
            (
                "amount",
                Arc::new(arrow_array::Float64Array::from(vec![None, None, None])),
            ),
        ],
    );
    let report = fixture.run(&config("America/New_York", "dates.parquet"));
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 1, vec![1, 1, 1], vec![1, 1, 1])]
    );
    // A zone-less timestamp of 2025-01-06 23:30 is Monday in New York whatever UTC says.
    let local = chrono::NaiveDate::from_ymd_opt(2025, 1, 6)
        .unwrap()
        .and_hms_opt(23, 30, 0)
        .unwrap();
    let millis = local.and_utc().timestamp_millis();
    write(
        &fixture,
        "local.parquet",
        vec![
            ("id", Arc::new(StringArray::from(vec!["b", "b"])) as ArrayRef),
            (
                "ts",
                Arc::new(TimestampMillisecondArray::from(vec![millis, millis + 86_400_000])),
            ),
            ("event", Arc::new(StringArray::from(vec!["report", "report"]))),
            (
                "amount",
                Arc::new(arrow_array::Float64Array::from(vec![None, None])),
            ),
        ],
    );
    let report = fixture.run(&config("America/New_York", "local.parquet"));
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 1, vec![1, 1, 0], vec![1, 1, 1])]
    );
}

#[test]
fn an_unreadable_column_type_is_named() {
    let fixture = Fixture::new();
    let list = arrow_array::ListArray::from_iter_primitive::<Int32Type, _, _>(vec![Some(vec![Some(1)])]);
    write(
        &fixture,
        "odd.parquet",
        vec![
            ("id", Arc::new(list) as ArrayRef),
            (
                "ts",
                Arc::new(TimestampMillisecondArray::from(vec![0]).with_timezone("UTC")),
            ),
            ("event", Arc::new(StringArray::from(vec!["report"]))),
        ],
    );
    let error = fixture.run_err(&config("UTC", "odd.parquet"));
    assert!(
        error.starts_with("error[E0303]: column `id` of source `events` has type List"),
        "{error}"
    );
}

/// A file of many row groups (read in parallel) gives the report its CSV twin gives, with
/// duplicates across row groups dropped once.
#[test]
fn many_row_groups_read_in_parallel_match_the_csv() {
    let fixture = Fixture::new();
    let mut ids = Vec::new();
    let mut times = Vec::new();
    let mut events = Vec::new();
    let mut amounts = Vec::new();
    let mut csv = String::from("id,ts,event,amount\n");
    for i in 0..1_000u32 {
        // Every 7th row repeats the row 500 before it: a duplicate in another row group.
        let source = if i >= 500 && i % 7 == 0 { i - 500 } else { i };
        let id = format!("e{}", source % 37);
        let ts = format!("2025-01-{:02}T{:02}:00:00Z", 1 + source % 28, source % 24);
        let event = ["report", "pay", "login"][(source % 3) as usize];
        let amount = (event == "pay").then(|| format!("{}", source % 50 + 1));
        csv.push_str(&format!(
            "{id},{ts},{event},{}\n",
            amount.clone().unwrap_or_default()
        ));
        ids.push(id);
        times.push(ts);
        events.push(event.to_string());
        amounts.push(amount);
    }
    fixture.file("events.csv", &csv);
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(StringArray::from(ids))),
        ("ts", Arc::new(StringArray::from(times))),
        ("event", Arc::new(StringArray::from(events))),
        ("amount", Arc::new(StringArray::from(amounts))),
    ];
    std::fs::write(
        fixture.path().join("events.parquet"),
        parquet_bytes(columns, Some(64)),
    )
    .unwrap();
    let metadata = footer(&fixture.path().join("events.parquet")).num_row_groups();
    assert_eq!(metadata, 16);
    let from_csv = fixture.run(&with_dedupe("events.csv"));
    let from_parquet = fixture.run(&with_dedupe("events.parquet"));
    // 1 000 rows; rows 500.. at multiples of 7 copy an earlier row: ⌈(1000 − 504) / 7⌉ = 71.
    assert_eq!(from_parquet["input"]["duplicates"], 71);
    assert_eq!(from_parquet["metrics"], from_csv["metrics"]);
    assert_eq!(from_parquet["input"]["kept"], from_csv["input"]["kept"]);
}

/// A row group and a CSV part far larger than the blocks in which a part groups its rows'
/// fingerprints: repeats within a block, across a block's end and from blocks before are all
/// found, in both readers.
#[test]
fn duplicates_are_found_across_the_blocks_of_a_large_part() {
    let fixture = Fixture::new();
    let rows = 300_000u32;
    // Row `i` is a copy of row `source(i)`; every other row is unique (its own second).
    let source = |i: u32| match i {
        131_071..=131_073 => 131_070,
        262_150 => 5,
        150_000..=280_000 if i % 10_000 == 0 => i - 140_000,
        _ => i,
    };
    let mut ids = Vec::new();
    let mut times = Vec::new();
    let mut events = Vec::new();
    let mut csv = String::from("id,ts,event,amount\n");
    for i in 0..rows {
        let s = source(i);
        let id = format!("e{}", s % 97);
        let ts = format!(
            "2025-01-{:02}T{:02}:{:02}:{:02}Z",
            1 + s / 86_400,
            s / 3_600 % 24,
            s / 60 % 60,
            s % 60
        );
        let event = ["report", "login"][(s % 2) as usize];
        csv.push_str(&format!("{id},{ts},{event},\n"));
        ids.push(id);
        times.push(ts);
        events.push(event.to_string());
    }
    fixture.file("events.csv", &csv);
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(StringArray::from(ids))),
        ("ts", Arc::new(StringArray::from(times))),
        ("event", Arc::new(StringArray::from(events))),
        (
            "amount",
            Arc::new(StringArray::from(vec![None::<String>; rows as usize])),
        ),
    ];
    std::fs::write(
        fixture.path().join("events.parquet"),
        parquet_bytes(columns, None),
    )
    .unwrap();
    assert_eq!(footer(&fixture.path().join("events.parquet")).num_row_groups(), 1);
    // Repeats: rows 131 071–131 073 (3), row 262 150 (1) and rows 150 000, 160 000, …, 280 000
    // (14): 18, so 300 000 − 18 = 299 982 rows kept.
    for file in ["events.parquet", "events.csv"] {
        // Default loading options: each file is read as one part.
        let project = tenure::Project::from_str(&with_dedupe(file), fixture.path()).unwrap();
        let report = serde_json::to_value(project.run().unwrap()).unwrap();
        assert_eq!(report["input"]["duplicates"], 18, "{file}");
        assert_eq!(report["input"]["kept"], 299_982, "{file}");
    }
}

/// The same events as an Arrow IPC file of several record batches (read in parallel), with a
/// dictionary-encoded event column, give the report of the CSV.
#[test]
fn arrow_ipc_files_match_the_csv() {
    let fixture = Fixture::new();
    let csv = "id,ts,event,amount\na,2025-01-06T10:00:00Z,report,\na,2025-01-07T10:00:00Z,report,\n\
               b,2025-01-06T12:00:00Z,report,\nb,2025-01-10T09:00:00Z,pay,30\na,2025-02-03T10:00:00Z,pay,12.5\n\
               c,2025-01-14T08:00:00Z,report,\nc,2025-01-21T08:00:00Z,report,\n";
    fixture.file("events.csv", csv);
    let rows: Vec<Vec<&str>> = csv.lines().skip(1).map(|l| l.split(',').collect()).collect();
    let column = |i: usize| -> Vec<Option<&str>> {
        rows.iter()
            .map(|r| Some(r[i]).filter(|v| !v.is_empty()))
            .collect()
    };
    let events: DictionaryArray<Int32Type> = column(2).into_iter().collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", arrow_schema::DataType::Utf8, true),
        Field::new("ts", arrow_schema::DataType::Utf8, true),
        Field::new("event", arrow_array::Array::data_type(&events).clone(), true),
        Field::new("amount", arrow_schema::DataType::Utf8, true),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from(column(0))),
            Arc::new(StringArray::from(column(1))),
            Arc::new(events),
            Arc::new(StringArray::from(column(3))),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(fixture.path().join("events.arrow")).unwrap();
    let mut writer = arrow_ipc::writer::FileWriter::try_new(file, &schema).unwrap();
    // Three record batches: rows 0–2, 3–4, 5–6.
    for (offset, length) in [(0, 3), (3, 2), (5, 2)] {
        writer.write(&batch.slice(offset, length)).unwrap();
    }
    writer.finish().unwrap();
    let from_csv = fixture.run(&config("UTC", "events.csv"));
    let from_ipc = fixture.run(&config("UTC", "events.arrow"));
    assert_eq!(from_ipc["metrics"], from_csv["metrics"]);
    assert_eq!(from_ipc["input"]["rows"], 7);
    // a and b start in the week of 2025-01-06 (a returns on day 1), c in the week of 01-13
    // (returning on day 7).
    assert_eq!(
        cohorts(&from_ipc, "m"),
        vec![
            ("2025-01-06".into(), 2, vec![2, 1, 0], vec![2, 2, 2]),
            ("2025-01-13".into(), 1, vec![1, 0, 1], vec![1, 1, 1]),
        ]
    );
}

/// Text columns in dictionary pages, in plain pages, or in dictionary pages that fill up and
/// fall back to plain ones (as writers do on many distinct values) give the report of the
/// CSV, over row groups of several read batches, with short and long ids and duplicates.
#[test]
fn text_in_dictionary_plain_or_mixed_pages_matches_the_csv() {
    use common::TextEncoding;
    use parquet::basic::Encoding;
    let fixture = Fixture::new();
    let mut csv = String::from("id,ts,event,amount\n");
    let mut ids: Vec<String> = Vec::new();
    let mut times: Vec<String> = Vec::new();
    let mut events: Vec<String> = Vec::new();
    let mut amounts: Vec<Option<String>> = Vec::new();
    let mut state = 7u64;
    for row in 0..20_000u32 {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let draw = (state >> 33) as u32;
        // Every 50th row repeats the row before it: 400 duplicates, within a batch or across one.
        let (id, ts, event, amount) = if row % 50 == 49 {
            let last = ids.len() - 1;
            (
                ids[last].clone(),
                times[last].clone(),
                events[last].clone(),
                amounts[last].clone(),
            )
        } else {
            let customer = draw % 3_000;
            // Ids of 8 bytes for even customers, of 21 (longer than a table slot's key) for odd ones.
            let id = if customer % 2 == 0 {
                format!("c{customer:07}")
            } else {
                format!("customer-long-{customer:07}")
            };
            let day = 1 + row / 700;
            // One row a minute: only the repeated rows are duplicates.
            let minute = row % 700;
            let ts = format!(
                "2025-{:02}-{:02}T{:02}:{:02}:00Z",
                1 + (day - 1) / 28,
                1 + (day - 1) % 28,
                minute / 60,
                minute % 60
            );
            let event = ["report", "pay", "login"][(draw / 3_000 % 3) as usize].to_string();
            let amount = (event == "pay").then(|| format!("{}", draw % 90 + 10));
            (id, ts, event, amount)
        };
        csv.push_str(&format!(
            "{id},{ts},{event},{}\n",
            amount.clone().unwrap_or_default()
        ));
        ids.push(id);
        times.push(ts);
        events.push(event);
        amounts.push(amount);
    }
    fixture.file("events.csv", &csv);
    let from_csv = fixture.run(&with_dedupe("events.csv"));
    assert_eq!(from_csv["input"]["duplicates"], 400, "{}", from_csv["input"]);
    for (encoding, data_pages) in [
        (TextEncoding::Dictionary, vec![Encoding::RLE_DICTIONARY]),
        (
            TextEncoding::FallingBackToPlain,
            vec![Encoding::RLE_DICTIONARY, Encoding::PLAIN],
        ),
        (
            TextEncoding::FallingBackToPlainV2,
            vec![Encoding::RLE_DICTIONARY, Encoding::PLAIN],
        ),
        (TextEncoding::Plain, vec![Encoding::PLAIN]),
    ] {
        let columns: Vec<(&str, ArrayRef)> = vec![
            ("id", Arc::new(StringArray::from(ids.clone()))),
            ("ts", Arc::new(StringArray::from(times.clone()))),
            ("event", Arc::new(StringArray::from(events.clone()))),
            ("amount", Arc::new(StringArray::from(amounts.clone()))),
        ];
        let name = format!("events-{encoding:?}.parquet");
        // Row groups of 12 000 rows: the first is read in two batches.
        let bytes = common::parquet_bytes_encoded(columns, Some(12_000), encoding);
        std::fs::write(fixture.path().join(&name), bytes).unwrap();
        let metadata = footer(&fixture.path().join(&name));
        assert_eq!(metadata.num_row_groups(), 2);
        let mask = metadata
            .row_group(0)
            .column(0)
            .page_encoding_stats_mask()
            .unwrap();
        for kind in [Encoding::RLE_DICTIONARY, Encoding::PLAIN] {
            assert_eq!(
                mask.is_set(kind),
                data_pages.contains(&kind),
                "{encoding:?}: {kind}"
            );
        }
        let v2 = matches!(encoding, TextEncoding::FallingBackToPlainV2);
        assert_eq!(
            data_page_kinds(&fixture.path().join(&name)).contains(&PageType::DATA_PAGE_V2),
            v2
        );
        let from_parquet = fixture.run(&with_dedupe(&name));
        assert_eq!(from_parquet["metrics"], from_csv["metrics"], "{encoding:?}");
        assert_eq!(from_parquet["input"], from_csv["input"], "{encoding:?}");
    }
}

/// Ids for [`plain_page_fixture`]'s 3 000 rows: every seventh missing, some longer than a
/// table slot's key, 400 accounts.
fn ids_with_gaps() -> Vec<Option<String>> {
    (0..3_000u32)
        .map(|row| {
            (row % 7 != 3).then(|| match row % 400 {
                account if account % 3 == 0 => format!("an-account-with-a-long-id-{account:04}"),
                account => format!("a{account:04}"),
            })
        })
        .collect()
}

/// Writes `events.csv` and returns the columns of the same rows for Parquet: `ids`, a report or
/// a payment a day apart per account.
fn plain_page_fixture(fixture: &Fixture, ids: &[Option<String>]) -> Vec<(&'static str, ArrayRef)> {
    let mut csv = String::from("id,ts,event,amount\n");
    let (mut times, mut events, mut amounts) = (Vec::new(), Vec::new(), Vec::new());
    for (row, id) in ids.iter().enumerate() {
        let ts = format!("2025-{:02}-{:02}T10:00:00Z", 1 + row / 1_400, 1 + row / 50 % 28);
        let (event, amount) = if row % 5 == 0 {
            ("pay", Some("25"))
        } else {
            ("report", None)
        };
        csv.push_str(&format!(
            "{},{ts},{event},{}\n",
            id.as_deref().unwrap_or_default(),
            amount.unwrap_or_default()
        ));
        times.push(ts);
        events.push(event);
        amounts.push(amount);
    }
    fixture.file("events.csv", &csv);
    vec![
        ("id", Arc::new(StringArray::from(ids.to_vec()))),
        ("ts", Arc::new(StringArray::from(times))),
        ("event", Arc::new(StringArray::from(events))),
        ("amount", Arc::new(StringArray::from(amounts))),
    ]
}

/// Rows without an id in an entity column of plain pages (decoded whole, apart from the other
/// columns) are rejected as missing their entity, as the same empty ids are in the CSV.
#[test]
fn missing_ids_in_plain_pages_are_rejected_like_the_csv() {
    use common::TextEncoding;
    let fixture = Fixture::new();
    let ids = ids_with_gaps();
    let columns = plain_page_fixture(&fixture, &ids);
    let from_csv = fixture.run(&config("UTC", "events.csv"));
    // 3 000 rows, every seventh (rows 3, 10, …, 2 996) without an id: 429.
    assert_eq!(
        from_csv["input"]["rejected"]["missing_entity"], 429,
        "{}",
        from_csv["input"]
    );
    for encoding in [
        TextEncoding::FallingBackToPlain,
        TextEncoding::FallingBackToPlainV2,
        TextEncoding::Plain,
    ] {
        let name = format!("events-{encoding:?}.parquet");
        let bytes = common::parquet_bytes_encoded(columns.clone(), Some(1_000), encoding);
        std::fs::write(fixture.path().join(&name), bytes).unwrap();
        let from_parquet = fixture.run(&config("UTC", &name));
        assert_eq!(from_parquet["input"], from_csv["input"], "{encoding:?}");
        assert_eq!(from_parquet["metrics"], from_csv["metrics"], "{encoding:?}");
    }
}

/// Damaged bytes in an entity column of plain pages, decoded apart from the other columns, give
/// a report or an error naming the file, never a panic.
#[test]
fn damaged_plain_entity_pages_are_an_error_or_a_report_not_a_panic() {
    let fixture = Fixture::new();
    let columns = plain_page_fixture(&fixture, &ids_with_gaps());
    let bytes = common::parquet_bytes_encoded(columns, None, common::TextEncoding::Plain);
    let path = fixture.path().join("events.parquet");
    std::fs::write(&path, &bytes).unwrap();
    let chunk = footer(&path).row_group(0).column(0).clone();
    let (start, length) = chunk.byte_range();
    let mut errors = 0;
    // Each of 64 places spread over the chunk's pages (headers, lengths, values) set to 0xff.
    for step in 0..64u64 {
        let mut damaged = bytes.clone();
        damaged[(start + length * step / 64) as usize] = 0xff;
        std::fs::write(&path, &damaged).unwrap();
        let config = config("UTC", "events.parquet");
        let outcome = std::panic::catch_unwind(|| {
            tenure::Project::from_str(&config, fixture.path()).and_then(|project| project.run())
        });
        match outcome.expect("no panic") {
            Ok(_) => {}
            Err(error) => {
                let error = error.to_string();
                assert!(error.starts_with("cannot read source `events`"), "{error}");
                errors += 1;
            }
        }
    }
    assert!(errors > 0, "some damage is noticed");
}

#[test]
fn a_folder_or_pattern_of_parts_reads_as_one_table() {
    let fixture = Fixture::new();
    // The rows of `typed_columns` split over parts as Spark writes them — part files, a
    // `_SUCCESS` marker and checksum files beside them — and one part in a partition subfolder.
    let ms = |day: &str, time: &str| {
        chrono::DateTime::parse_from_rfc3339(&format!("{day}T{time}Z"))
            .unwrap()
            .timestamp_millis()
    };
    let part = |rows: &[(i64, &str, &str, Option<i128>)]| -> Vec<(&'static str, ArrayRef)> {
        let ts: Vec<i64> = rows.iter().map(|r| ms(r.1, "10:00:00")).collect();
        let amounts = Decimal128Array::from(rows.iter().map(|r| r.3).collect::<Vec<_>>())
            .with_precision_and_scale(10, 2)
            .unwrap();
        vec![
            (
                "id",
                Arc::new(Int64Array::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())),
            ),
            (
                "ts",
                Arc::new(TimestampMillisecondArray::from(ts).with_timezone("UTC")),
            ),
            (
                "event",
                Arc::new(StringArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())),
            ),
            ("amount", Arc::new(amounts)),
        ]
    };
    std::fs::create_dir_all(fixture.path().join("events/date=2025-02")).unwrap();
    // 1: reports on Mon 01-06 and Tue 01-07 (days 0, 1), pays 10.50 in January and February.
    // 2: reports on Sun 01-12 (the week of 01-06) and 01-19 (day 7).
    write(
        &fixture,
        "events/part-00000-c000.snappy.parquet",
        part(&[
            (1, "2025-01-06", "report", None),
            (2, "2025-01-12", "report", None),
        ]),
    );
    write(
        &fixture,
        "events/part-00001-c000.snappy.parquet",
        part(&[
            (1, "2025-01-07", "report", None),
            (2, "2025-01-19", "report", None),
            (1, "2025-01-20", "pay", Some(1050)),
        ]),
    );
    write(
        &fixture,
        "events/date=2025-02/part-00000-c000.snappy.parquet",
        part(&[(1, "2025-02-20", "pay", Some(1050))]),
    );
    fixture.file("events/_SUCCESS", "");
    fixture.file("events/.part-00000-c000.snappy.parquet.crc", "not parquet");
    let expected = vec![("2025-01-06".to_string(), 2, vec![2, 1, 1], vec![2, 2, 2])];
    for path in ["events/", "events"] {
        let report = fixture.run(&config("UTC", path));
        assert_eq!(cohorts(&report, "m"), expected, "{path}");
        assert_eq!(report["input"]["rows"], 6, "{path}");
        let periods = report["metrics"]["mrr"]["periods"].as_array().unwrap();
        assert_eq!(
            (&periods[0]["end"], &periods[1]["churned"]),
            (&10.5.into(), &10.5.into())
        );
    }
    // A pattern in the file name: the two top-level parts only (no February payment: churned
    // in February instead).
    let report = fixture.run(&config("UTC", "events/part-*.parquet"));
    assert_eq!(cohorts(&report, "m"), expected);
    assert_eq!(report["input"]["rows"], 5);
    assert_eq!(report["metrics"]["mrr"]["periods"][0]["churned"], 10.5);
    // Nothing matches: one clear error naming the source.
    let error = fixture.run_err(&config("UTC", "events/part-*.csv.parquet"));
    assert!(error.contains("no file matches the pattern"), "{error}");
}
