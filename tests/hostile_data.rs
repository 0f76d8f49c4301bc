//! Hostile input files: each has one exact, tested outcome — a row counted as rejected with
//! its reason, or an error naming the file (and the row and column where there is one).

mod common;

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, StringArray};
use common::{Fixture, cohorts, config, parquet_bytes};
use serde_json::{Value, json};

const RETENTION: &str = "[cohorts.weekly]\nstart = \"report\"\ngrain = \"week\"\n\
    [metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"any\"\nperiods = [0, 1]";

const STRICT: &str = "[quality]\non_bad_row = \"fail\"\n";

fn run_csv(data: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", data);
    fixture.run(&config("as_of = \"2025-01-31\"", RETENTION))
}

/// The `input.rejected` map with every reason zero except those given.
fn rejected(nonzero: &[(&str, u64)]) -> Value {
    let mut map = serde_json::Map::new();
    for reason in [
        "bad_amount",
        "bad_encoding",
        "bad_time",
        "malformed_row",
        "missing_entity",
        "missing_event",
        "missing_time",
    ] {
        let count = nonzero.iter().find(|(r, _)| *r == reason).map_or(0, |(_, n)| *n);
        map.insert(reason.to_string(), json!(count));
    }
    Value::Object(map)
}

/// Runs with `on_bad_row = "fail"` and returns the error.
fn strict_error(fixture: &Fixture, rest: &str) -> String {
    fixture.run_err(&config("as_of = \"2025-01-31\"", &format!("{STRICT}{rest}")))
}

#[test]
fn an_empty_csv_file_is_an_error_naming_the_file() {
    let fixture = Fixture::new();
    fixture.file("events.csv", "");
    let error = fixture.run_err(&config("as_of = \"2025-01-31\"", RETENTION));
    // Found before any row is read, and placed at the source's `path`.
    assert!(
        error.starts_with("error[E0301]: cannot read source `events`\n"),
        "{error}"
    );
    assert!(
        error.contains("path = \"events.csv\"\n")
            && error.contains("the file is empty; a CSV source needs a header row"),
        "{error}"
    );
}

#[test]
fn an_empty_json_lines_file_has_no_rows() {
    let fixture = Fixture::new();
    fixture.file("events.jsonl", "");
    let report =
        fixture.run(&config("as_of = \"2025-01-31\"", RETENTION).replace("events.csv", "events.jsonl"));
    assert_eq!(report["input"]["rows"], 0);
    assert_eq!(report["input"]["kept"], 0);
    assert_eq!(report["metrics"]["m"]["cohorts"], json!([]));
    assert_eq!(report["metrics"]["m"]["total"]["size"], 0);
}

#[test]
fn a_header_only_csv_has_no_rows() {
    let report = run_csv("id,ts,event\n");
    assert_eq!(report["input"]["rows"], 0);
    assert_eq!(report["input"]["rejected"], rejected(&[]));
    assert_eq!(report["metrics"]["m"]["cohorts"], json!([]));
}

#[test]
fn non_utf8_bytes_reject_the_row_as_bad_encoding() {
    let fixture = Fixture::new();
    let mut bytes = b"id,ts,event\na,2025-01-06T10:00:00Z,report\n".to_vec();
    bytes.extend_from_slice(b"b\xff\xfe,2025-01-06T10:00:00Z,report\n");
    bytes.extend_from_slice(b"a,2025-01-07T10:00:00Z,login\n");
    // Invalid in each field, though the two halves of `é` joined across the comma are valid.
    bytes.extend_from_slice(b"c\xc3,\xa92025-01-06T10:00:00Z,report\n");
    std::fs::write(fixture.path().join("events.csv"), &bytes).unwrap();
    let report = fixture.run(&config("as_of = \"2025-01-31\"", RETENTION));
    // Four rows: b's and c's are not UTF-8, so only a remains, retained on day 1.
    assert_eq!(report["input"]["rows"], 4);
    assert_eq!(report["input"]["rejected"], rejected(&[("bad_encoding", 2)]));
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 1, vec![1, 1], vec![1, 1])]
    );
    let error = strict_error(&fixture, RETENTION);
    let path = fixture.path().join("events.csv");
    assert_eq!(
        error,
        format!(
            "{}:3: bad_encoding: a field is not valid UTF-8 (source `events`, on_bad_row = \"fail\")",
            path.display()
        )
    );

    let mut lines = b"{\"id\":\"a\",\"ts\":\"2025-01-06T10:00:00Z\",\"event\":\"report\"}\n".to_vec();
    lines.extend_from_slice(b"{\"id\":\"b\xff\",\"ts\":\"2025-01-06T10:00:00Z\",\"event\":\"report\"}\n");
    std::fs::write(fixture.path().join("events.jsonl"), &lines).unwrap();
    let jsonl = config("as_of = \"2025-01-31\"", RETENTION).replace("events.csv", "events.jsonl");
    let report = fixture.run(&jsonl);
    assert_eq!(report["input"]["rows"], 2);
    assert_eq!(report["input"]["rejected"], rejected(&[("bad_encoding", 1)]));
}

#[test]
fn rows_with_too_few_or_too_many_fields_are_malformed() {
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event\na,2025-01-06T10:00:00Z,report\nb,2025-01-06T10:00:00Z\n\
         c,2025-01-06T10:00:00Z,report,extra\na,2025-01-07T10:00:00Z,login\n",
    );
    let report = fixture.run(&config("as_of = \"2025-01-31\"", RETENTION));
    assert_eq!(report["input"]["rows"], 4);
    assert_eq!(report["input"]["rejected"], rejected(&[("malformed_row", 2)]));
    assert_eq!(report["input"]["kept"], 2);
    let error = strict_error(&fixture, RETENTION);
    let path = fixture.path().join("events.csv");
    assert_eq!(
        error,
        format!(
            "{}:3: malformed_row: 2 fields where the header has 3 (source `events`, on_bad_row = \"fail\")",
            path.display()
        )
    );
}

#[test]
fn quoted_newlines_stay_inside_their_field_and_line_numbers_stay_true() {
    let fixture = Fixture::new();
    // Row 1 spans lines 2–3 (a quoted newline in `note`); the bad time is on line 5.
    fixture.file(
        "events.csv",
        "id,ts,event,note\na,2025-01-06T10:00:00Z,report,\"first\nsecond\"\n\
         a,2025-01-07T10:00:00Z,login,\nb,soon,report,\n",
    );
    let exclude = "[quality]\nexclude = \"props.note == 'first\\nsecond'\"\n";
    let report = fixture.run(&config(
        "as_of = \"2025-01-31\"",
        &format!("{exclude}{RETENTION}"),
    ));
    assert_eq!(report["input"]["rows"], 3);
    assert_eq!(report["input"]["rejected"], rejected(&[("bad_time", 1)]));
    // The note held the newline: the two-line row is the one excluded.
    assert_eq!(report["input"]["excluded"], 1);
    let error = strict_error(&fixture, RETENTION);
    let path = fixture.path().join("events.csv");
    assert_eq!(
        error,
        format!(
            "{}:5: bad_time: cannot read time `soon` (source `events`, on_bad_row = \"fail\")",
            path.display()
        )
    );
}

#[test]
fn times_in_unsupported_formats_are_bad_time() {
    let report = run_csv(
        "id,ts,event\na,2025-01-06T10:00:00Z,report\na,06/01/2025,login\na,Jan 7 2025,login\n\
         a,2025-01-07T10,login\na,2025-01-07T10:00:00 CET,login\n",
    );
    assert_eq!(report["input"]["rows"], 5);
    assert_eq!(report["input"]["rejected"], rejected(&[("bad_time", 4)]));
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 1, vec![1, 0], vec![1, 1])]
    );
}

#[test]
fn times_far_in_the_past_or_future_are_bad_time() {
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event\na,2025-01-06T10:00:00Z,report\nb,1899-12-31T23:59:59Z,login\n\
         c,0001-01-01T00:00:00Z,login\nd,2200-01-01T00:00:00Z,login\ne,9999-12-31T00:00:00Z,login\n\
         f,1900-01-01T00:00:00Z,login\ng,2199-12-31T23:59:59Z,login\n",
    );
    let report = fixture.run(&config("as_of = \"2025-01-31\"", RETENTION));
    // Four rows outside [1900-01-01, 2200-01-01); the two on the edges are kept.
    assert_eq!(report["input"]["rejected"], rejected(&[("bad_time", 4)]));
    assert_eq!(report["input"]["kept"], 3);
    let error = strict_error(&fixture, RETENTION);
    assert!(
        error.ends_with(
            ":3: bad_time: time 1899-12-31 is outside the supported range 1900-01-01 to 2199-12-31 \
             (source `events`, on_bad_row = \"fail\")"
        ),
        "{error}"
    );
    // Epoch numbers too far out are caught the same way (10¹⁷ ms is year 3170843).
    fixture.file(
        "epoch.csv",
        "id,ts,event\na,1736157600000,report\nb,100000000000000000,login\n",
    );
    let epoch = config("as_of = \"2025-01-31\"", RETENTION)
        .replace("events.csv", "epoch.csv")
        .replace(
            "event = \"event\"",
            "event = \"event\"\ntime_format = \"epoch_ms\"",
        );
    let report = fixture.run(&epoch);
    assert_eq!(report["input"]["rejected"], rejected(&[("bad_time", 1)]));
}

fn revenue_config() -> String {
    "[project]\nas_of = \"2025-03-31\"\n\
     [sources.events]\npath = \"events.csv\"\nentity = \"id\"\ntime = \"ts\"\nevent = \"event\"\n\
     [events.payment]\nwhere = \"event == 'invoice'\"\namount = \"props.amount\"\n\
     [metrics.mrr]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"month\""
        .to_string()
}

#[test]
fn unreadable_and_huge_amounts_are_bad_amount_and_refunds_reduce_revenue() {
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event,amount\n\
         a,2025-01-05T00:00:00Z,invoice,100\n\
         a,2025-01-20T00:00:00Z,invoice,-30\n\
         a,2025-02-05T00:00:00Z,invoice,100\n\
         b,2025-01-05T00:00:00Z,invoice,NaN\n\
         b,2025-01-06T00:00:00Z,invoice,inf\n\
         b,2025-01-07T00:00:00Z,invoice,-infinity\n\
         b,2025-01-08T00:00:00Z,invoice,1e16\n\
         b,2025-01-09T00:00:00Z,invoice,n/a\n\
         c,2025-01-05T00:00:00Z,invoice,1000000000000000\n\
         c,2025-01-06T00:00:00Z,login,\n",
    );
    let report = fixture.run(&revenue_config());
    assert_eq!(report["input"]["rows"], 10);
    assert_eq!(report["input"]["rejected"], rejected(&[("bad_amount", 5)]));
    let periods = report["metrics"]["mrr"]["periods"].as_array().unwrap();
    // January (the first period, reported as February's start): a 100 − 30 refund = 70, and c
    // 10¹⁵, the largest amount accepted. February: a 100 (expansion of 30 from 70), c churned.
    let feb = periods.iter().find(|p| p["period"] == "2025-02").unwrap();
    assert_eq!(feb["start"], json!(1_000_000_000_000_070.0));
    assert_eq!(feb["expansion"], json!(30.0));
    assert_eq!(feb["churned"], json!(1_000_000_000_000_000.0));
    assert_eq!(feb["end"], json!(100.0));

    let error =
        fixture.run_err(&revenue_config().replace("[metrics.mrr]", &format!("{STRICT}[metrics.mrr]")));
    let path = fixture.path().join("events.csv");
    assert_eq!(
        error,
        format!(
            "{}:5: bad_amount: amount column `amount` holds `NaN`, not a finite number within ±10¹⁵ \
             (source `events`, on_bad_row = \"fail\")",
            path.display()
        )
    );
}

#[test]
fn a_parquet_nan_amount_is_bad_amount() {
    let fixture = Fixture::new();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(StringArray::from(vec!["a", "b"]))),
        (
            "ts",
            Arc::new(StringArray::from(vec![
                "2025-01-05T00:00:00Z",
                "2025-01-05T00:00:00Z",
            ])),
        ),
        ("event", Arc::new(StringArray::from(vec!["invoice", "invoice"]))),
        ("amount", Arc::new(Float64Array::from(vec![50.0, f64::NAN]))),
    ];
    std::fs::write(
        fixture.path().join("events.parquet"),
        parquet_bytes(columns, None),
    )
    .unwrap();
    let report = fixture.run(&revenue_config().replace("events.csv", "events.parquet"));
    assert_eq!(report["input"]["rejected"], rejected(&[("bad_amount", 1)]));
    assert_eq!(report["input"]["kept"], 1);
}

#[test]
fn empty_entity_ids_are_missing_entity() {
    let report = run_csv(
        "id,ts,event\na,2025-01-06T10:00:00Z,report\n,2025-01-06T10:00:00Z,report\n\
         \"   \",2025-01-06T10:00:00Z,report\n",
    );
    assert_eq!(report["input"]["rejected"], rejected(&[("missing_entity", 2)]));
    assert_eq!(report["input"]["kept"], 1);
}

#[test]
fn an_absent_column_is_named_with_a_suggestion() {
    let fixture = Fixture::new();
    fixture.file("events.csv", "user_id,ts,event\na,2025-01-06T10:00:00Z,report\n");
    let error = fixture.run_err(
        &config("as_of = \"2025-01-31\"", RETENTION).replace("entity = \"id\"", "entity = \"user\""),
    );
    assert!(
        error.starts_with("error[E0302]: source `events` has no column `user`\n"),
        "{error}"
    );
    assert!(
        error.contains("entity = \"user\"\n"),
        "placed at the key: {error}"
    );
    assert!(error.contains("help: did you mean `user_id`?"), "{error}");
}

#[test]
fn a_file_gone_before_reading_or_a_folder_in_its_place_is_an_error_naming_it() {
    let fixture = Fixture::new();
    fixture.file("events.csv", "id,ts,event\na,2025-01-06T10:00:00Z,report\n");
    let project =
        tenure::Project::from_str(&config("as_of = \"2025-01-31\"", RETENTION), fixture.path()).unwrap();
    // The file passed validation, then disappears before the run reads it.
    std::fs::remove_file(fixture.path().join("events.csv")).unwrap();
    let path = fixture.path().join("events.csv");
    let error = project.run().expect_err("the run fails").to_string();
    assert!(
        error.starts_with("error[E0301]: cannot read source `events`\n"),
        "{error}"
    );
    assert!(
        error.contains(&format!("no such file: {}", path.display())),
        "{error}"
    );
    std::fs::create_dir(&path).unwrap();
    let error = project.run().expect_err("the run fails").to_string();
    assert!(
        error.contains(&format!("{} is a folder, not a file", path.display())),
        "{error}"
    );
}

#[test]
fn a_truncated_parquet_file_is_an_error_naming_it() {
    let fixture = Fixture::new();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(StringArray::from(vec!["a"; 1000]))),
        (
            "ts",
            Arc::new(StringArray::from(vec!["2025-01-06T10:00:00Z"; 1000])),
        ),
        ("event", Arc::new(StringArray::from(vec!["report"; 1000]))),
    ];
    let bytes = parquet_bytes(columns, None);
    // Cut the footer off, as a copy interrupted mid-way would.
    std::fs::write(fixture.path().join("events.parquet"), &bytes[..bytes.len() / 2]).unwrap();
    let error =
        fixture.run_err(&config("as_of = \"2025-01-31\"", RETENTION).replace("events.csv", "events.parquet"));
    assert!(
        error.starts_with("error[E0301]: cannot read source `events`\n"),
        "{error}"
    );
    assert!(error.contains("path = \"events.parquet\""), "{error}");
}

/// Every kind of bad row at once, over two event sources and an entity source: each source's
/// figures add up to its rows, and the totals are the sums over the event sources.
#[test]
fn the_row_accounting_adds_up_over_every_kind_of_bad_row() {
    let fixture = Fixture::new();
    // Sources load in name order (app, then web), so a row in both counts as a duplicate in web.
    // web.csv: 12 rows. Kept: a login, b report (2). Duplicates: a's report, which app.jsonl
    // already has, and its copy (2). Excluded: the bot row (1). Rejected: bad time, missing time, missing entity, missing
    // event, bad amount, too few fields, non-UTF-8 (7 — the last two never reach the fields).
    let mut web = b"id,ts,event,amount,agent\n\
        a,2025-01-06T10:00:00Z,report,,web\n\
        a,2025-01-06T10:00:00Z,report,,web\n\
        a,2025-01-07T10:00:00Z,login,,web\n\
        b,2025-01-06T11:00:00Z,report,,web\n\
        b,2025-01-07T11:00:00Z,login,,crawler bot\n\
        c,later,login,,web\n\
        c,,login,,web\n\
        ,2025-01-07T10:00:00Z,login,,web\n\
        c,2025-01-07T10:00:00Z,,,web\n\
        c,2025-01-07T10:00:00Z,invoice,abc,web\n\
        c,2025-01-07T10:00:00Z,login\n"
        .to_vec();
    web.extend_from_slice(b"c\xff,2025-01-07T10:00:00Z,login,,web\n");
    std::fs::write(fixture.path().join("web.csv"), &web).unwrap();
    // app.jsonl: 4 rows. Kept: c report, a report (2). Rejected: not a JSON object, bad time (2).
    fixture.file(
        "app.jsonl",
        "{\"id\":\"c\",\"ts\":\"2025-01-06T12:00:00Z\",\"event\":\"report\",\"agent\":\"app\"}\n\
         {\"id\":\"a\",\"ts\":\"2025-01-06T10:00:00Z\",\"event\":\"report\",\"agent\":\"web\"}\n\
         {not json\n\
         {\"id\":\"d\",\"ts\":\"13/01/2025\",\"event\":\"report\",\"agent\":\"app\"}\n",
    );
    // accounts.csv: 5 rows. Kept: a, b, e (3). Duplicate id a (1). Missing id (1).
    fixture.file("accounts.csv", "id,plan\na,pro\nb,free\na,free\n,pro\ne,pro\n");
    let config = r#"
[project]
as_of = "2025-01-31"
[sources.web]
path = "web.csv"
entity = "id"
time = "ts"
event = "event"
[sources.app]
path = "app.jsonl"
entity = "id"
time = "ts"
event = "event"
[sources.accounts]
kind = "entities"
path = "accounts.csv"
entity = "id"
[quality]
dedupe = "exact"
exclude = "props.agent contains 'bot'"
[events.report]
where = "event == 'report'"
[events.payment]
where = "event == 'invoice'"
amount = "props.amount"
[events.any]
where = "true"
[cohorts.weekly]
start = "report"
grain = "week"
[metrics.m]
type = "retention"
cohort = "weekly"
return = "any"
periods = [0, 1]
"#;
    let report = fixture.run(config);
    let input = &report["input"];
    let source =
        |name: &str, kind: &str, rows: u64, rejected: Value, duplicates: u64, excluded: u64, kept: u64| {
            json!({"kind": kind, "rows": rows, "rejected": rejected, "duplicates": duplicates,
               "excluded": excluded, "kept": kept, "name": name})
        };
    let strip_name = |mut value: Value| {
        value.as_object_mut().unwrap().remove("name");
        value
    };
    assert_eq!(
        input["sources"]["web"],
        strip_name(source(
            "web",
            "events",
            12,
            rejected(&[
                ("bad_amount", 1),
                ("bad_encoding", 1),
                ("bad_time", 1),
                ("malformed_row", 1),
                ("missing_entity", 1),
                ("missing_event", 1),
                ("missing_time", 1),
            ]),
            2,
            1,
            2
        ))
    );
    assert_eq!(
        input["sources"]["app"],
        strip_name(source(
            "app",
            "events",
            4,
            rejected(&[("bad_time", 1), ("malformed_row", 1)]),
            0,
            0,
            2
        ))
    );
    assert_eq!(
        input["sources"]["accounts"],
        strip_name(source(
            "accounts",
            "entities",
            5,
            rejected(&[("missing_entity", 1)]),
            1,
            0,
            3
        ))
    );
    // Each source adds up; the totals are the sums of the event sources.
    for (name, summary) in input["sources"].as_object().unwrap() {
        let rejected: u64 = summary["rejected"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        let parts = summary["kept"].as_u64().unwrap()
            + summary["duplicates"].as_u64().unwrap()
            + summary["excluded"].as_u64().unwrap()
            + rejected;
        assert_eq!(parts, summary["rows"].as_u64().unwrap(), "source {name}");
    }
    assert_eq!(input["rows"], 16);
    assert_eq!(input["duplicates"], 2);
    assert_eq!(input["excluded"], 1);
    assert_eq!(input["kept"], 4);
    assert_eq!(
        input["rejected"],
        rejected(&[
            ("bad_amount", 1),
            ("bad_encoding", 1),
            ("bad_time", 2),
            ("malformed_row", 2),
            ("missing_entity", 1),
            ("missing_event", 1),
            ("missing_time", 1),
        ])
    );
    // Entities: a, b, c from events, and e from the attribute source (d was never kept).
    assert_eq!(input["entities"], 4);
    // a, b and c start in the week of 2025-01-06; a returns on day 1 (b's return was a bot).
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 3, vec![3, 1], vec![3, 3])]
    );
}

#[test]
fn bad_parquet_rows_are_counted_by_reason_and_strict_mode_names_the_first() {
    use arrow_array::TimestampMicrosecondArray;
    let fixture = Fixture::new();
    let micros = |text: &str| {
        chrono::DateTime::parse_from_rfc3339(text)
            .unwrap()
            .timestamp_micros()
    };
    let good = Some(micros("2025-01-06T10:00:00Z"));
    // Row by row (1-based): 1 kept; 2 null id and 3 blank id → missing_entity; 4 empty event →
    // missing_event; 5 null time → missing_time; 6 in 2300 → bad_time; 7 NaN amount of a
    // payment → bad_amount; 8 repeats row 1 → duplicate; 9 kept.
    let ids = vec![
        Some("a"),
        None,
        Some("  "),
        Some("b"),
        Some("b"),
        Some("b"),
        Some("b"),
        Some("a"),
        Some("b"),
    ];
    let times = vec![
        good,
        good,
        good,
        good,
        None,
        Some(micros("2300-01-01T00:00:00Z")),
        good,
        good,
        good,
    ];
    let events = [
        "report", "report", "report", "", "report", "report", "invoice", "report", "report",
    ];
    let amounts = vec![None, None, None, None, None, None, Some(f64::NAN), None, None];
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(StringArray::from(ids))),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(times).with_timezone("UTC")),
        ),
        ("event", Arc::new(StringArray::from(events.to_vec()))),
        ("amount", Arc::new(Float64Array::from(amounts))),
    ];
    // Row groups of 2 rows: the file is read in parallel parts, and row 8 repeats a row of
    // another part.
    std::fs::write(
        fixture.path().join("events.parquet"),
        parquet_bytes(columns, Some(2)),
    )
    .unwrap();
    let config = revenue_config().replace("events.csv", "events.parquet");
    let report = fixture.run(&format!("[quality]\ndedupe = \"exact\"\n{config}"));
    assert_eq!(
        report["input"]["rejected"],
        rejected(&[
            ("missing_entity", 2),
            ("missing_event", 1),
            ("missing_time", 1),
            ("bad_time", 1),
            ("bad_amount", 1),
        ])
    );
    assert_eq!(report["input"]["rows"], 9);
    assert_eq!(report["input"]["duplicates"], 1);
    assert_eq!(report["input"]["kept"], 2);
    let error = fixture.run_err(&format!("{STRICT}{config}"));
    let path = fixture.path().join("events.parquet");
    assert_eq!(
        error,
        format!(
            "{}:2: missing_entity: the entity id is empty (source `events`, on_bad_row = \"fail\")",
            path.display()
        )
    );
}

/// JSON Lines has no header: `validate` (`check_inputs`) reads every line's keys, so a key that
/// only later lines have counts, and a time column named wrongly is found with the keys that hold
/// times. A run does not scan the keys before loading (it would read the file twice).
#[test]
fn a_json_lines_source_is_checked_by_the_keys_of_all_its_lines() {
    let fixture = Fixture::new();
    fixture.file(
        "events.jsonl",
        "{\"id\": \"a\", \"when\": \"2025-01-06T10:00:00Z\", \"event\": \"report\"}\n\
         {\"id\": \"b\", \"when\": \"2025-01-07T10:00:00Z\", \"event\": \"report\", \"plan\": \"pro\"}\n",
    );
    let check = |config: &str| {
        let project = tenure::Project::from_str(config, fixture.path()).unwrap();
        project.check_inputs().map_err(|e| e.to_string())
    };
    let jsonl = config("as_of = \"2025-01-31\"", RETENTION).replace("events.csv", "events.jsonl");
    let error = check(&jsonl).unwrap_err();
    assert!(
        error.starts_with("error[E0302]: source `events` has no column `ts`\n"),
        "{error}"
    );
    assert!(
        error.contains("help: the columns that hold times: `when`"),
        "{error}"
    );
    // A run finds no `ts` in any line: every row is rejected as missing its time.
    let report = fixture.run(&jsonl);
    assert_eq!(report["input"]["rejected"]["missing_time"], 2);
    // `plan` is only on the second line, and is found.
    let fixed = jsonl.replace("time = \"ts\"", "time = \"when\"").replace(
        "[cohorts.weekly]\n",
        "[quality]\nexclude = \"props.plan == 'free'\"\n[cohorts.weekly]\n",
    );
    check(&fixed).unwrap();
    fixture.run(&fixed);
    let error = check(&fixed.replace("props.plan", "props.plam")).unwrap_err();
    assert!(error.contains("did you mean `props.plan`?"), "{error}");
}

/// A Parquet footer tells the columns' types: a timestamp column is offered for a wrong `time`.
#[test]
fn a_parquet_source_is_checked_by_its_footer() {
    let fixture = Fixture::new();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(StringArray::from(vec!["a"]))),
        (
            "happened_at",
            Arc::new(
                arrow_array::TimestampMillisecondArray::from(vec![1_736_157_600_000]).with_timezone("UTC"),
            ),
        ),
        ("event", Arc::new(StringArray::from(vec!["report"]))),
    ];
    std::fs::write(
        fixture.path().join("events.parquet"),
        parquet_bytes(columns, None),
    )
    .unwrap();
    let error =
        fixture.run_err(&config("as_of = \"2025-01-31\"", RETENTION).replace("events.csv", "events.parquet"));
    assert!(
        error.starts_with("error[E0302]: source `events` has no column `ts`\n"),
        "{error}"
    );
    assert!(
        error.contains("help: the columns that hold times: `happened_at`"),
        "{error}"
    );
}

/// Text rows (the row sink) and Arrow batches (Parquet with text columns) go through the same
/// checks: each kind of bad row gets the same reason and the same message from either reader.
#[test]
fn csv_and_parquet_reject_the_same_bad_row_with_the_same_message() {
    let good = ["a", "2025-01-06T10:00:00Z", "report", ""];
    let bad_rows: [[&str; 4]; 6] = [
        [" ", "2025-01-06T10:00:00Z", "report", ""],
        ["b", "2025-01-06T10:00:00Z", " ", ""],
        ["b", "", "report", ""],
        ["b", "1736159400", "report", ""],
        ["b", "2300-01-01T00:00:00Z", "report", ""],
        ["b", "2025-01-06T10:00:00Z", "invoice", "12 EUR"],
    ];
    for bad in bad_rows {
        let fixture = Fixture::new();
        let rows = [good, bad];
        let csv: String = std::iter::once("id,ts,event,amount".to_string())
            .chain(rows.iter().map(|row| row.join(",")))
            .collect::<Vec<_>>()
            .join("\n");
        fixture.file("events.csv", &csv);
        let column = |index: usize| -> ArrayRef {
            Arc::new(StringArray::from(
                rows.iter().map(|row| Some(row[index])).collect::<Vec<_>>(),
            ))
        };
        let columns = vec![
            ("id", column(0)),
            ("ts", column(1)),
            ("event", column(2)),
            ("amount", column(3)),
        ];
        std::fs::write(
            fixture.path().join("events.parquet"),
            parquet_bytes(columns, None),
        )
        .unwrap();
        let config = format!("{STRICT}{}", revenue_config());
        let from_csv = fixture.run_err(&config);
        let from_parquet = fixture.run_err(&config.replace("events.csv", "events.parquet"));
        // A CSV file's line 3 (after the header) is the Parquet file's row 2.
        let located = |error: &str, file: &str, at: &str| {
            let place = format!("{}:{at}: ", fixture.path().join(file).display());
            assert!(error.starts_with(&place), "{error}");
            error[place.len()..].to_string()
        };
        assert_eq!(
            located(&from_csv, "events.csv", "3"),
            located(&from_parquet, "events.parquet", "2"),
            "{bad:?}"
        );
    }
}
