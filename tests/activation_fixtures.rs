//! Hand-worked activation (VAR) fixtures.

mod common;

use common::{Fixture, config};

#[test]
fn activation_within_a_window_and_median_time_to_value() {
    let fixture = Fixture::new();
    // e1: signup Mon 01-06 10:00, first report 01-08 10:00 → 2 days, inside 7d → activated.
    // e2: signup 01-06 12:00, first report 01-14 12:00 → 8 days, after the deadline 01-13 12:00.
    // e3: signup Tue 01-07 09:00, report 01-07 15:00 → 0.25 days → activated. A report *before*
    //     the signup (01-05) does not count: only the first reach at or after t0.
    // e4: signup Mon 01-20 09:00, no report; its window ends 01-27 09:00, after as_of 01-24.
    fixture.file(
        "events.csv",
        "id,ts,event
e1,2025-01-06T10:00:00Z,signup
e1,2025-01-08T10:00:00Z,report
e1,2025-01-09T10:00:00Z,report
e2,2025-01-06T12:00:00Z,signup
e2,2025-01-14T12:00:00Z,report
e3,2025-01-05T09:00:00Z,report
e3,2025-01-07T09:00:00Z,signup
e3,2025-01-07T15:00:00Z,report
e4,2025-01-20T09:00:00Z,signup
",
    );
    let rest = "[cohorts.signups]\nstart = \"signup\"\ngrain = \"week\"\n\
        [metrics.var]\ntype = \"activation\"\ncohort = \"signups\"\nreached = \"report\"\nwithin = \"7d\"";
    let report = fixture.run(&config("as_of = \"2025-01-24\"", rest));
    let var = &report["metrics"]["var"];
    // Cohort 2025-01-06 = e1, e2, e3: activated e1, e3 = 2 of 3; all windows end by 01-14 → eligible 3.
    // Median of 2 days and 0.25 days = 1.125 days.
    assert_eq!(
        var["cohorts"][0],
        serde_json::json!({"cohort": "2025-01-06", "segment": null, "size": 3, "activated": 2,
                           "eligible": 3, "rate": 2.0 / 3.0, "median_days": 1.125})
    );
    // Cohort 2025-01-20 = e4: not activated, not yet eligible: no rate yet (null, not 0).
    assert_eq!(
        var["cohorts"][1],
        serde_json::json!({"cohort": "2025-01-20", "segment": null, "size": 1, "activated": 0,
                           "eligible": 0, "rate": null, "median_days": null})
    );
    // Total over eligible entities: 2 activated of 3 eligible; median over all activated = 1.125.
    assert_eq!(
        var["total"],
        serde_json::json!({"size": 4, "activated": 2, "eligible": 3, "rate": 2.0 / 3.0, "median_days": 1.125})
    );
    assert_eq!(var["within"], "7d");
}

#[test]
fn activation_window_in_hours_and_months() {
    let fixture = Fixture::new();
    // a: signup 01-31 10:00, report 02-28 09:00 → inside 1mo (deadline 02-28 10:00, clamped to the
    //    month's end), outside 48h.  b: signup 01-31 10:00, report 02-02 09:00 → inside both.
    fixture.file(
        "events.csv",
        "id,ts,event\na,2025-01-31T10:00:00Z,signup\na,2025-02-28T09:00:00Z,report\n\
         b,2025-01-31T10:00:00Z,signup\nb,2025-02-02T09:00:00Z,report\n",
    );
    let rest = "[cohorts.monthly]\nstart = \"signup\"\ngrain = \"month\"\n\
        [metrics.month]\ntype = \"activation\"\ncohort = \"monthly\"\nreached = \"report\"\nwithin = \"1mo\"\n\
        [metrics.hours]\ntype = \"activation\"\ncohort = \"monthly\"\nreached = \"report\"\nwithin = \"48h\"";
    let report = fixture.run(&config("as_of = \"2025-03-31\"", rest));
    assert_eq!(report["metrics"]["month"]["cohorts"][0]["activated"], 2);
    assert_eq!(report["metrics"]["hours"]["cohorts"][0]["activated"], 1);
}

#[test]
fn a_breakdown_has_a_total_row_per_value() {
    let fixture = Fixture::new();
    // The data of activation_within_a_window_and_median_time_to_value, with a plan per entity.
    fixture.file(
        "events.csv",
        "id,ts,event
e1,2025-01-06T10:00:00Z,signup
e1,2025-01-08T10:00:00Z,report
e2,2025-01-06T12:00:00Z,signup
e2,2025-01-14T12:00:00Z,report
e3,2025-01-07T09:00:00Z,signup
e3,2025-01-07T15:00:00Z,report
e4,2025-01-20T09:00:00Z,signup
",
    );
    fixture.file("accounts.csv", "id,plan\ne1,pro\ne2,free\ne3,pro\ne4,pro\n");
    let rest = "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
        [cohorts.signups]\nstart = \"signup\"\ngrain = \"week\"\nby = [\"attr.plan\"]\n\
        [metrics.var]\ntype = \"activation\"\ncohort = \"signups\"\nreached = \"report\"\nwithin = \"7d\"";
    let report = fixture.run(&config("as_of = \"2025-01-24\"", rest));
    let var = &report["metrics"]["var"];
    // free = e2: eligible, not activated (8 days) → 0 of 1, no median.
    // pro = e1 (2 days), e3 (0.25 days), e4 (not eligible yet) → 2 of 2 eligible; median of
    // 2 and 0.25 days = 1.125.
    assert_eq!(
        var["totals"],
        serde_json::json!([
            {"segment": {"attr.plan": "free"}, "size": 1, "activated": 0, "eligible": 1, "rate": 0.0,
             "median_days": null},
            {"segment": {"attr.plan": "pro"}, "size": 3, "activated": 2, "eligible": 2, "rate": 1.0,
             "median_days": 1.125}
        ])
    );
    // They add up to the total of all: 2 activated of 3 eligible.
    assert_eq!(
        var["total"],
        serde_json::json!({"size": 4, "activated": 2, "eligible": 3, "rate": 2.0 / 3.0, "median_days": 1.125})
    );
}
