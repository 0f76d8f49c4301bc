//! Hand-worked funnels: ordered steps after a cohort's start, within a window.

mod common;

use common::{Fixture, config};
use serde_json::{Value, json};

/// UTC, as of 2025-02-28; steps report → export within 7 days of the signup.
/// a: signup 01-01 10:00, report a day later, export two days after that.
/// b: signup 01-05, an export on 01-06 before its report on 01-07: the export does not count.
/// c: signup 01-10, report on 01-20, after its window.
/// d: signup 01-15, report at the same instant, export exactly 7 days after the signup.
/// e: signup 02-25, report 02-26; its window ends 03-04, after as_of.
/// f: a report and no signup: in no cohort.
fn run(by: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event\n\
         a,2025-01-01T10:00:00Z,signup\na,2025-01-02T10:00:00Z,report\na,2025-01-04T10:00:00Z,export\n\
         b,2025-01-05T00:00:00Z,signup\nb,2025-01-06T00:00:00Z,export\nb,2025-01-07T00:00:00Z,report\n\
         c,2025-01-10T00:00:00Z,signup\nc,2025-01-20T00:00:00Z,report\nc,2025-01-21T00:00:00Z,export\n\
         d,2025-01-15T00:00:00Z,signup\nd,2025-01-15T00:00:00Z,report\nd,2025-01-22T00:00:00Z,export\n\
         e,2025-02-25T00:00:00Z,signup\ne,2025-02-26T00:00:00Z,report\n\
         f,2025-01-03T00:00:00Z,report\n",
    );
    fixture.file("accounts.csv", "id,plan\na,pro\nb,basic\nc,pro\nd,pro\ne,basic\n");
    fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-02-28\"",
        &format!(
            "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
             [events.export]\nwhere = \"event == 'export'\"\n\
             [cohorts.signups]\nstart = \"signup\"\ngrain = \"month\"\n{by}\n\
             [metrics.onboarding]\ntype = \"funnel\"\ncohort = \"signups\"\nsteps = [\"report\", \"export\"]\nwithin = \"7d\""
        ),
    ))
}

/// (step, reached, rate, step_rate, median_days) of a step.
type Step = (String, u64, Option<f64>, Option<f64>, Option<f64>);

fn steps(steps: &Value) -> Vec<Step> {
    steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["step"].as_str().unwrap().to_string(),
                s["reached"].as_u64().unwrap(),
                s["rate"].as_f64(),
                s["step_rate"].as_f64(),
                s["median_days"].as_f64(),
            )
        })
        .collect()
}

#[test]
fn steps_in_order_within_the_window_by_hand() {
    let report = run("");
    let funnel = &report["metrics"]["onboarding"];
    assert_eq!(funnel["steps"], json!(["report", "export"]));
    assert_eq!(funnel["within"], json!("7d"));
    let january = &funnel["cohorts"][0];
    assert_eq!(
        (
            january["cohort"].as_str(),
            january["size"].as_u64(),
            january["eligible"].as_u64()
        ),
        (Some("2025-01"), Some(4), Some(4))
    );
    // Report: a (1 day), b (2 days), d (0 days) of 4 → median 1 day. Export: a (2 days after
    // its report) and d (7 days after its report, the window's last instant) → 2 of 4, 2 of the
    // 3 at the step before, median 4.5 days.
    assert_eq!(
        steps(&january["steps"]),
        vec![
            ("report".into(), 3, Some(0.75), Some(0.75), Some(1.0)),
            ("export".into(), 2, Some(0.5), Some(2.0 / 3.0), Some(4.5)),
        ]
    );
    // February: e reached the report, but its window is not over: no rates yet.
    let february = &funnel["cohorts"][1];
    assert_eq!(
        (february["size"].as_u64(), february["eligible"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        steps(&february["steps"]),
        vec![
            ("report".into(), 1, None, None, Some(1.0)),
            ("export".into(), 0, None, None, None)
        ]
    );
    // Total: 5 members, 4 eligible. Counts of eligible members; medians over every member who
    // reached the step: report 0, 1, 1, 2 days → 1; export 2 and 7 → 4.5.
    let total = &funnel["total"];
    assert_eq!(
        (total["size"].as_u64(), total["eligible"].as_u64()),
        (Some(5), Some(4))
    );
    assert_eq!(
        steps(&total["steps"]),
        vec![
            ("report".into(), 3, Some(0.75), Some(0.75), Some(1.0)),
            ("export".into(), 2, Some(0.5), Some(2.0 / 3.0), Some(4.5)),
        ]
    );
    assert!(funnel.get("totals").is_none());
}

#[test]
fn a_cohort_broken_down_has_a_total_per_value() {
    let report = run("by = [\"attr.plan\"]");
    let funnel = &report["metrics"]["onboarding"];
    // January basic: b (report only); January pro: a, c, d; February basic: e.
    let rows: Vec<(String, Value, u64)> = funnel["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["cohort"].as_str().unwrap().to_string(),
                row["segment"].clone(),
                row["size"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("2025-01".into(), json!({"attr.plan": "basic"}), 1),
            ("2025-01".into(), json!({"attr.plan": "pro"}), 3),
            ("2025-02".into(), json!({"attr.plan": "basic"}), 1),
        ]
    );
    let totals = funnel["totals"].as_array().unwrap();
    // basic: b and e, only b eligible: report 1/1, export 0. pro: a, c, d: report 2/3, export 2/3.
    assert_eq!(totals[0]["segment"], json!({"attr.plan": "basic"}));
    assert_eq!(
        steps(&totals[0]["total"]["steps"]),
        vec![
            ("report".into(), 1, Some(1.0), Some(1.0), Some(1.5)),
            ("export".into(), 0, Some(0.0), Some(0.0), None)
        ]
    );
    assert_eq!(
        steps(&totals[1]["total"]["steps"]),
        vec![
            ("report".into(), 2, Some(2.0 / 3.0), Some(2.0 / 3.0), Some(0.5)),
            ("export".into(), 2, Some(2.0 / 3.0), Some(1.0), Some(4.5)),
        ]
    );
}
