//! Hand-worked behavioural cohorts: rows split by whether each member did an event within a
//! window of its start (`did`, `did_within`).

mod common;

use common::{Fixture, config};
use serde_json::Value;

/// UTC, as of 2025-02-28; `did = "export"` within 7 days of the first signup.
/// - a: signup 01-02 10:00, export 01-04 → true; reports 01-09 (day 7) and 02-01.
/// - b: signup 01-03, export 01-20 (17 days) → false; report 01-10 (day 7).
/// - c: signup 01-05 10:00, export 01-05 09:00, before the start, and none after → false.
/// - f: signup 01-06 10:00, export 01-13 10:00, exactly at the deadline → true.
/// - d: signup 02-25, export 02-26 → true.
/// - e: signup 02-26, no export; the window ends 03-05, after as_of → null.
fn run() -> Value {
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event\n\
         a,2025-01-02T10:00:00Z,signup\na,2025-01-04T10:00:00Z,export\na,2025-01-09T12:00:00Z,report\n\
         a,2025-02-01T12:00:00Z,report\n\
         b,2025-01-03T10:00:00Z,signup\nb,2025-01-20T10:00:00Z,export\nb,2025-01-10T12:00:00Z,report\n\
         c,2025-01-05T10:00:00Z,signup\nc,2025-01-05T09:00:00Z,export\n\
         f,2025-01-06T10:00:00Z,signup\nf,2025-01-13T10:00:00Z,export\n\
         d,2025-02-25T10:00:00Z,signup\nd,2025-02-26T10:00:00Z,export\n\
         e,2025-02-26T10:00:00Z,signup\n",
    );
    fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-02-28\"",
        "[events.export]\nwhere = \"event == 'export'\"\n\
         [cohorts.signups]\nstart = \"signup\"\ngrain = \"month\"\ndid = \"export\"\ndid_within = \"7d\"\n\
         [metrics.kept]\ntype = \"retention\"\ncohort = \"signups\"\nreturn = \"report\"\nperiods = [7]\n\
         [metrics.var]\ntype = \"activation\"\ncohort = \"signups\"\nreached = \"report\"\nwithin = \"10d\"",
    ))
}

/// Each row as (cohort, did value, size, retained on day 7, eligible on day 7).
fn retention_rows(report: &Value) -> Vec<(String, Value, u64, u64, u64)> {
    report["metrics"]["kept"]["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["cohort"].as_str().unwrap().to_string(),
                row["segment"]["did.export"].clone(),
                row["size"].as_u64().unwrap(),
                row["retained"][0].as_u64().unwrap(),
                row["eligible"][0].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn rows_split_by_whether_members_did_the_event_in_time_by_hand() {
    let report = run();
    // January: b and c did not (false), a and f did (true); both back on day 7: a (01-09) and b
    // (01-10), one in each row. February: e's window is open (null, sorted first), d did; day 7
    // of 02-25 and 02-26 is after as_of, so nobody is eligible.
    assert_eq!(
        retention_rows(&report),
        vec![
            ("2025-01".to_string(), Value::Bool(false), 2, 1, 2),
            ("2025-01".to_string(), Value::Bool(true), 2, 1, 2),
            ("2025-02".to_string(), Value::Null, 1, 0, 0),
            ("2025-02".to_string(), Value::Bool(true), 1, 0, 0),
        ]
    );
    // Totals per value: false 1 of 2, true 1 of 2 eligible (d's cell is not over).
    let totals: Vec<(Value, u64, u64)> = report["metrics"]["kept"]["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["segment"]["did.export"].clone(),
                row["retained"][0].as_u64().unwrap(),
                row["eligible"][0].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        totals,
        vec![
            (Value::Null, 0, 0),
            (Value::Bool(false), 1, 2),
            (Value::Bool(true), 1, 2)
        ]
    );
}

#[test]
fn activation_reads_the_same_split_by_hand() {
    let report = run();
    // A report within 10 days of the signup: a (day 7) and b (day 7); c and f never report.
    // January false: b of b, c → 1 of 2; true: a of a, f → 1 of 2, after 7 days and 2 hours.
    let rows: Vec<(Value, u64, u64, u64)> = report["metrics"]["var"]["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["segment"]["did.export"].clone(),
                row["size"].as_u64().unwrap(),
                row["activated"].as_u64().unwrap(),
                row["eligible"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            (Value::Bool(false), 2, 1, 2),
            (Value::Bool(true), 2, 1, 2),
            (Value::Null, 1, 0, 0),
            (Value::Bool(true), 1, 0, 0),
        ]
    );
}
