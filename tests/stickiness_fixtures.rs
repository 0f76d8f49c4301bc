//! Hand-worked stickiness fixtures: every expected count is derived in the comments.

mod common;

use common::{Fixture, config};
use serde_json::{Value, json};

/// UTC, Monday weeks, as of Tuesday 2025-01-14.
///
/// a: Mon 01-06, Tue 01-07 (twice), Mon 01-13 · b: 01-07, 01-14 · c: Thu 01-02
/// d: a login only (never active) · e: a report after as_of (not read)
const EVENTS: &str = "id,ts,event
a,2025-01-06T09:00:00Z,report
a,2025-01-07T09:00:00Z,report
a,2025-01-07T17:00:00Z,report
a,2025-01-13T09:00:00Z,report
b,2025-01-07T10:00:00Z,report
b,2025-01-14T23:59:00Z,report
c,2025-01-02T10:00:00Z,report
d,2025-01-08T10:00:00Z,login
e,2025-01-15T10:00:00Z,report
";

fn run(metrics: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    fixture.run(&config(
        "timezone = \"UTC\"\nweek_start = \"monday\"\nas_of = \"2025-01-14\"",
        metrics,
    ))
}

#[test]
fn daily_active_counts_and_active_days_per_week_by_hand() {
    let report = run(
        "[metrics.sticky]\ntype = \"stickiness\"\nactive = \"report\"\nat_least = 2\n\
         [metrics.ratio]\ntype = \"formula\"\nformula = \"sticky.dau_mau_last\"\n\
         [metrics.share]\ntype = \"formula\"\nformula = \"sticky.share_at_least_last\"",
    );
    let sticky = &report["metrics"]["sticky"];
    let days: Vec<(String, u64, u64, u64)> = sticky["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let n = |k: &str| d[k].as_u64().unwrap();
            (
                d["day"].as_str().unwrap().to_string(),
                n("dau"),
                n("wau"),
                n("mau"),
            )
        })
        .collect();
    let day = |d: &str, dau, wau, mau| (format!("2025-01-{d}"), dau, wau, mau);
    // DAU: c on 01-02, a on 01-06, a and b on 01-07, a on 01-13, b on 01-14.
    // WAU (7 days ending that day): c alone through 01-05; a and c on 01-06; a, b, c on 01-07 and
    // 01-08 (c's 01-02 is still inside); a and b from 01-09 (01-13 sees a's 01-07 and 01-13).
    // MAU (30 days): c from 01-02, a from 01-06, b from 01-07.
    assert_eq!(
        days,
        vec![
            day("02", 1, 1, 1),
            day("03", 0, 1, 1),
            day("04", 0, 1, 1),
            day("05", 0, 1, 1),
            day("06", 1, 2, 2),
            day("07", 2, 3, 3),
            day("08", 0, 3, 3),
            day("09", 0, 2, 3),
            day("10", 0, 2, 3),
            day("11", 0, 2, 3),
            day("12", 0, 2, 3),
            day("13", 1, 2, 3),
            day("14", 1, 2, 3),
        ]
    );
    assert_eq!(sticky["days"][12]["dau_mau"], json!(1.0 / 3.0));
    assert_eq!(report["metrics"]["ratio"]["value"], json!(1.0 / 3.0));
    // Mean DAU/MAU over the 13 days: (1 + 1/2 + 2/3 + 1/3 + 1/3) / 13, the other days 0.
    let mean = sticky["dau_mau_mean"].as_f64().unwrap();
    assert!((mean - (1.0 + 0.5 + 2.0 / 3.0 + 1.0 / 3.0 + 1.0 / 3.0) / 13.0).abs() < 1e-12);
    // Weeks: 12-30: c on 1 day · 01-06: a on 2 days, b on 1 · 01-13 (not over): a 1, b 1.
    // At least 2 days: 0 of 1, 1 of 2, 0 of 2.
    let weeks: Vec<(String, bool, u64, Value, Value)> = sticky["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap().to_string(),
                p["complete"].as_bool().unwrap(),
                p["active"].as_u64().unwrap(),
                p["days_active"].clone(),
                p["share_at_least"].clone(),
            )
        })
        .collect();
    assert_eq!(
        weeks,
        vec![
            (
                "2024-12-30".into(),
                true,
                1,
                json!([1, 0, 0, 0, 0, 0, 0]),
                json!(0.0)
            ),
            (
                "2025-01-06".into(),
                true,
                2,
                json!([1, 1, 0, 0, 0, 0, 0]),
                json!(0.5)
            ),
            (
                "2025-01-13".into(),
                false,
                2,
                json!([2, 0, 0, 0, 0, 0, 0]),
                json!(0.0)
            ),
        ]
    );
    // The last complete week's share.
    assert_eq!(report["metrics"]["share"]["value"], json!(0.5));
    assert_eq!(sticky["at_least"], json!(2));
}

#[test]
fn active_days_per_month_count_the_month_s_days() {
    let report = run("[metrics.sticky]\ntype = \"stickiness\"\nactive = \"report\"\ngrain = \"month\"");
    let january = &report["metrics"]["sticky"]["periods"][0];
    // January has 31 slots: c on 1 day, b on 2 (01-07, 01-14), a on 3 (01-06, 01-07, 01-13).
    let mut expected = vec![0u64; 31];
    expected[..3].copy_from_slice(&[1, 1, 1]);
    assert_eq!(january["days_active"], json!(expected));
    assert_eq!(january["active"], json!(3));
    assert_eq!(january["complete"], json!(false));
    assert!(january.get("share_at_least").is_none());
    assert_eq!(
        report["metrics"]["sticky"]["periods"].as_array().unwrap().len(),
        1
    );
}
