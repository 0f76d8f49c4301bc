//! Hand-worked recurring cohorts: an entity is a member of every cohort period in which it had a
//! start event, from its first one there (`recurring = true`).

mod common;

use common::{Fixture, config};
use serde_json::Value;

/// UTC, as of 2025-03-31; start and return are both `login`, monthly cohorts, month offsets.
/// - a: logins 01-05 (web), 01-20, 02-10 (ios), 03-03 → a member of January, February and March.
/// - b: logins 01-15, 03-20 → January and March.
/// - c: login 02-02 → February.
/// - d: login 03-31 → March.
fn run() -> Value {
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event,platform\n\
         a,2025-01-05T10:00:00Z,login,web\na,2025-01-20T10:00:00Z,login,web\n\
         a,2025-02-10T10:00:00Z,login,ios\na,2025-03-03T10:00:00Z,login,web\n\
         b,2025-01-15T10:00:00Z,login,web\nb,2025-03-20T10:00:00Z,login,web\n\
         c,2025-02-02T10:00:00Z,login,web\n\
         d,2025-03-31T10:00:00Z,login,web\n",
    );
    fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-03-31\"",
        "[events.login]\nwhere = \"event == 'login'\"\n\
         [cohorts.every_month]\nstart = \"login\"\ngrain = \"month\"\nrecurring = true\n\
         [cohorts.first_month]\nstart = \"login\"\ngrain = \"month\"\n\
         [cohorts.every_month_by_platform]\nstart = \"login\"\ngrain = \"month\"\nrecurring = true\n\
         by = [\"props.platform\"]\n\
         [cohorts.every_month_on_web]\nstart = \"login\"\ngrain = \"month\"\nrecurring = true\n\
         where = \"props.platform == 'web'\"\n\
         [metrics.recurring]\ntype = \"retention\"\ncohort = \"every_month\"\nreturn = \"login\"\n\
         unit = \"month\"\nperiods = [0, 1, 2]\n\
         [metrics.first_time]\ntype = \"retention\"\ncohort = \"first_month\"\nreturn = \"login\"\n\
         unit = \"month\"\nperiods = [0, 1, 2]\n\
         [metrics.by_platform]\ntype = \"retention\"\ncohort = \"every_month_by_platform\"\n\
         return = \"login\"\nunit = \"month\"\nperiods = [1]\n\
         [metrics.on_web]\ntype = \"retention\"\ncohort = \"every_month_on_web\"\nreturn = \"login\"\n\
         unit = \"month\"\nmode = \"unbounded\"\nperiods = [1]",
    ))
}

/// A metric's rows as (cohort, size, retained per column, eligible per column).
fn rows(report: &Value, metric: &str) -> Vec<(String, u64, Vec<u64>, Vec<u64>)> {
    let numbers = |value: &Value| -> Vec<u64> {
        value
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n.as_u64().unwrap())
            .collect()
    };
    report["metrics"][metric]["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["cohort"].as_str().unwrap().to_string(),
                row["size"].as_u64().unwrap(),
                numbers(&row["retained"]),
                numbers(&row["eligible"]),
            )
        })
        .collect()
}

#[test]
fn every_period_with_a_start_is_a_membership_by_hand() {
    let report = run();
    // January: a (from 01-05) and b (01-15). Month 0: both (the start itself is a login);
    // month 1: a (02-10); month 2: a (03-03) and b (03-20). Month 2 ends 03-31 = as_of: eligible.
    // February: a (from 02-10) and c (02-02). Month 0: both; month 1: a (03-03); month 2 ends
    // 04-30, after as_of: nobody eligible.
    // March: a (03-03), b (03-20), d (03-31). Month 0: all three; months 1 and 2 not over.
    assert_eq!(
        rows(&report, "recurring"),
        vec![
            ("2025-01".to_string(), 2, vec![2, 1, 2], vec![2, 2, 2]),
            ("2025-02".to_string(), 2, vec![2, 1, 0], vec![2, 2, 0]),
            ("2025-03".to_string(), 3, vec![3, 0, 0], vec![3, 0, 0]),
        ]
    );
    // The total pools memberships: month 0 (2 + 2 + 3) / 7; month 1 (1 + 1) / (2 + 2) = 0.5;
    // month 2 2 / 2 (January only).
    let total = &report["metrics"]["recurring"]["total"];
    assert_eq!(total["rate"], serde_json::json!([1.0, 0.5, 1.0]));
    assert_eq!(total["size"], 7);
    // February's month 2 cannot be observed yet: its rate is null, not 0.
    assert_eq!(
        report["metrics"]["recurring"]["cohorts"][1]["rate"][2],
        Value::Null
    );
}

#[test]
fn first_time_cohorts_count_each_entity_once_by_hand() {
    let report = run();
    // a and b start in January (a back in February and March, b in March), c in February, d in
    // March: the same data read with `recurring` off.
    assert_eq!(
        rows(&report, "first_time"),
        vec![
            ("2025-01".to_string(), 2, vec![2, 1, 2], vec![2, 2, 2]),
            ("2025-02".to_string(), 1, vec![1, 0, 0], vec![1, 1, 0]),
            ("2025-03".to_string(), 1, vec![1, 0, 0], vec![1, 0, 0]),
        ]
    );
}

#[test]
fn breakdowns_and_filters_read_each_period_s_first_start_by_hand() {
    let report = run();
    // a's first February login is on ios, so its February membership is an ios row; everything
    // else is web. Month 1: January web a (02-10) of a, b; February ios a (03-03); February web c
    // no; March not over.
    let by_platform: Vec<(String, Value, u64, u64)> = report["metrics"]["by_platform"]["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["cohort"].as_str().unwrap().to_string(),
                row["segment"]["props.platform"].clone(),
                row["size"].as_u64().unwrap(),
                row["retained"][0].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        by_platform,
        vec![
            ("2025-01".to_string(), "web".into(), 2, 1),
            ("2025-02".to_string(), "ios".into(), 1, 1),
            ("2025-02".to_string(), "web".into(), 1, 0),
            ("2025-03".to_string(), "web".into(), 3, 0),
        ]
    );
    // `where` on web: a's February membership starts on ios and is left out, its other months
    // stay. Month 1 and after: January a (02-10) and b (03-20) → 2; February c → 0.
    assert_eq!(
        rows(&report, "on_web"),
        vec![
            ("2025-01".to_string(), 2, vec![2], vec![2]),
            ("2025-02".to_string(), 1, vec![0], vec![1]),
            ("2025-03".to_string(), 3, vec![0], vec![0]),
        ]
    );
}
