//! Hand-worked lifecycle fixtures: every expected count is derived in the comments.

mod common;

use common::{Fixture, config};
use serde_json::{Value, json};

/// Monthly activity (`report`), UTC, as of 2025-05-15 (May is not over):
///
/// a: Jan, Feb, Mar, May · b: Feb, Apr · c: Mar, Apr, May · d: Jan
/// e: a report in June, after as_of (not read) · f: only a login (never active)
const EVENTS: &str = "id,ts,event
a,2025-01-03T10:00:00Z,report
a,2025-01-20T10:00:00Z,report
a,2025-02-11T10:00:00Z,report
a,2025-03-31T23:30:00Z,report
a,2025-05-02T10:00:00Z,report
b,2025-02-01T00:00:00Z,report
b,2025-04-14T10:00:00Z,report
c,2025-03-05T10:00:00Z,report
c,2025-04-05T10:00:00Z,report
c,2025-05-15T22:00:00Z,report
d,2025-01-09T10:00:00Z,report
e,2025-06-01T10:00:00Z,report
f,2025-01-09T10:00:00Z,login
";

const ACCOUNTS: &str = "id,plan
a,pro
b,free
c,pro
";

fn periods(table: &Value) -> Vec<(String, bool, [u64; 5])> {
    table["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let count = |k: &str| p[k].as_u64().unwrap();
            (
                p["period"].as_str().unwrap().to_string(),
                p["complete"].as_bool().unwrap(),
                [
                    count("active"),
                    count("new"),
                    count("returning"),
                    count("resurrecting"),
                    count("dormant"),
                ],
            )
        })
        .collect()
}

fn run() -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS).file("accounts.csv", ACCOUNTS);
    let rest = "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
        [metrics.life]\ntype = \"lifecycle\"\nactive = \"report\"\n\
        [metrics.life_by_plan]\ntype = \"lifecycle\"\nactive = \"report\"\nby = [\"attr.plan\"]\n\
        [metrics.last]\ntype = \"formula\"\nformula = \"life.resurrecting_last + life.dormant_last * 10\"\n";
    fixture.run(&config("timezone = \"UTC\"\nas_of = \"2025-05-15\"", rest))
}

#[test]
fn monthly_lifecycle_by_hand() {
    let report = run();
    // [active, new, returning, resurrecting, dormant]
    assert_eq!(
        periods(&report["metrics"]["life"]),
        vec![
            // Jan: a and d for the first time.
            ("2025-01".into(), true, [2, 2, 0, 0, 0]),
            // Feb: a again (returning), b first (new); d was active in Jan, not now (dormant).
            ("2025-02".into(), true, [2, 1, 1, 0, 1]),
            // Mar: a returning (23:30 UTC on the 31st is still March), c new; b dormant.
            ("2025-03".into(), true, [2, 1, 1, 0, 1]),
            // Apr: c returning; b back after an empty March (resurrecting); a dormant.
            ("2025-04".into(), true, [2, 0, 1, 1, 1]),
            // May, not over: c returning, a resurrecting; b dormant. e's June is after as_of.
            ("2025-05".into(), false, [2, 0, 1, 1, 1]),
        ]
    );
    // Scalars of the last complete period, April: resurrecting 1 + dormant 1 × 10.
    assert_eq!(report["metrics"]["last"]["value"], json!(11.0));
    assert!(report["metrics"]["life"].get("segments").is_none());
}

#[test]
fn lifecycle_by_an_attribute_has_one_table_per_value_over_the_same_periods() {
    let report = run();
    let life = &report["metrics"]["life_by_plan"];
    // The whole table is the one without `by`.
    assert_eq!(periods(life), periods(&report["metrics"]["life"]));
    let segments = life["segments"].as_array().unwrap();
    let names: Vec<&Value> = segments.iter().map(|s| &s["segment"]["attr.plan"]).collect();
    // d has no row in accounts.csv: null first, then the values in order.
    assert_eq!(names, [&Value::Null, &json!("free"), &json!("pro")]);
    // null (d): new in Jan, dormant in Feb.
    assert_eq!(
        periods(&segments[0]).iter().map(|p| p.2).collect::<Vec<_>>(),
        vec![[1, 1, 0, 0, 0], [0, 0, 0, 0, 1], [0; 5], [0; 5], [0; 5]]
    );
    // free (b): nothing in Jan, new in Feb, dormant in Mar, resurrecting in Apr, dormant in May.
    assert_eq!(
        periods(&segments[1]).iter().map(|p| p.2).collect::<Vec<_>>(),
        vec![
            [0; 5],
            [1, 1, 0, 0, 0],
            [0, 0, 0, 0, 1],
            [1, 0, 0, 1, 0],
            [0, 0, 0, 0, 1]
        ]
    );
    // pro (a, c): Jan a new · Feb a returning · Mar a returning, c new · Apr c returning,
    // a dormant · May c returning, a resurrecting.
    assert_eq!(
        periods(&segments[2]).iter().map(|p| p.2).collect::<Vec<_>>(),
        vec![
            [1, 1, 0, 0, 0],
            [1, 0, 1, 0, 0],
            [2, 1, 1, 0, 0],
            [1, 0, 1, 0, 1],
            [2, 0, 1, 1, 0]
        ]
    );
}
