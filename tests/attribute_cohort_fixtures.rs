//! Hand-worked cohorts that start at a date attribute: every entity with a date is a member,
//! also those that never had an event.

mod common;

use common::{Fixture, cohorts, config};
use serde_json::Value;

/// UTC, as of 2025-02-28. Signed: a 01-05, b 01-10, c 01-20 (no event at all), d 02-03, e no
/// date, f 03-05 (after as_of). Reports: a 01-05 and 01-12, b 01-25, d 02-03, e 01-06, g 01-07
/// (g has no row in the accounts file).
fn run() -> Value {
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event\na,2025-01-05T15:00:00Z,report\na,2025-01-12T09:00:00Z,report\n\
         b,2025-01-25T09:00:00Z,report\nd,2025-02-03T09:00:00Z,report\ne,2025-01-06T09:00:00Z,report\n\
         g,2025-01-07T09:00:00Z,report\n",
    );
    fixture.file(
        "accounts.csv",
        "id,signed\na,2025-01-05\nb,2025-01-10\nc,2025-01-20\nd,2025-02-03\ne,\nf,2025-03-05\n",
    );
    fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-02-28\"",
        "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
         [cohorts.signed]\nstart = \"attr.signed\"\ngrain = \"month\"\n\
         [metrics.kept]\ntype = \"retention\"\ncohort = \"signed\"\nreturn = \"report\"\nperiods = [0, 7]\n\
         [metrics.var]\ntype = \"activation\"\ncohort = \"signed\"\nreached = \"report\"\nwithin = \"7d\"",
    ))
}

#[test]
fn members_are_the_entities_with_a_date_events_or_not_by_hand() {
    let report = run();
    // January: a, b and c (c never acted: a member who never returned). Day 0: a's report on
    // 01-05; day 7: a's on 01-12; b's first report is on day 15. February: d, back on day 0
    // only. e has no date, f's is after as_of, g is not in the accounts file: in no cohort.
    assert_eq!(
        cohorts(&report, "kept"),
        vec![
            ("2025-01".to_string(), 3, vec![1, 1], vec![3, 3]),
            ("2025-02".to_string(), 1, vec![1, 0], vec![1, 1]),
        ]
    );
    // Activation within 7 days of the signing day's midnight: a (the same day), not b (15
    // days) nor c; d the same day. 1 of 3 and 1 of 1; every window is over by as_of.
    let var = &report["metrics"]["var"];
    let rows: Vec<(u64, u64, u64)> = var["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["size"].as_u64().unwrap(),
                r["activated"].as_u64().unwrap(),
                r["eligible"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(rows, vec![(3, 1, 3), (1, 1, 1)]);
    assert_eq!(var["total"]["activated"], 2);
    assert_eq!(var["total"]["size"], 4);
}
