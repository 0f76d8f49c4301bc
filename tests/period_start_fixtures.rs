//! Segments labelled at each period's start (docs/config.md, `as_of = "period_start"`), with
//! the RFM plugin loaded from the workspace's build output; every figure worked out by hand.

mod common;

use common::{Fixture, library};
use serde_json::{Value, json};

/// Payments (as_of 2025-06-30), one per month and entity:
///
/// | entity | Feb | Mar | Apr | May | Jun |
/// |--------|-----|-----|-----|-----|-----|
/// | e1     |     |     | 100 | 100 | 100 |
/// | e2     |     |     |     |     |  50 |
/// | e3     |     |     |     | 250 | 250 |
/// | e4     |  25 |  25 |  25 |  25 |     |
/// | e5     |     |     |     |     |  50 |
const EVENTS: &str = common::PLUGIN_PAYMENTS;

/// A project over [`EVENTS`] with RFM segment `rfm` of plugin parameters `params`, labelled
/// `as_of`, and `rest`.
fn config(params: &str, as_of: &str, rest: &str) -> String {
    format!(
        r#"
[project]
as_of = "2025-06-30"
[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"
[events.pay]
where = "event == 'pay'"
amount = "props.amount"
[plugins.rfm]
path = "{}"
[segments.rfm]
plugin = "rfm"
event = "pay"
params = {params}
as_of = "{as_of}"
[metrics.mrr]
type = "revenue"
amount = "pay"
grain = "month"
by = ["segment.rfm"]
{rest}
"#,
        library("tenure_rfm")
    )
}

fn report(config: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    fixture.run(config)
}

/// Per breakdown value of `mrr`: its label and `figure` in each period (Mar … Jun).
fn revenue_tables(report: &Value, figure: &str) -> Vec<(Value, Vec<f64>)> {
    let metric = &report["metrics"]["mrr"];
    let periods: Vec<&str> = metric["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2025-03", "2025-04", "2025-05", "2025-06"]);
    metric["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let values = s["periods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p[figure].as_f64().unwrap())
                .collect();
            (s["segment"]["segment.rfm"].clone(), values)
        })
        .collect()
}

#[test]
fn a_month_splits_into_those_who_had_paid_before_it_and_those_who_had_not() {
    // One named segment over every score: every entity with a payment before the month's first
    // day is a "payer", the others have no label.
    // Mar 1: e4. Apr 1: e4. May 1: e1, e4. Jun 1: e1, e3, e4.
    // Unlabelled: Apr e1 new 100; May e3 new 250; Jun e2 + e5 new 100.
    // "payer": Mar e4 25 → 25; Apr e4 25 → 25; May e1 100 → 100, e4 25 → 25 (start 125, end 125);
    //        Jun e1 100 → 100, e3 250 → 250, e4 25 → 0 (start 375, end 350, churned 25).
    let report = report(&config(ANY_PAYER, "period_start", ""));
    assert_eq!(
        revenue_tables(&report, "end"),
        vec![
            (Value::Null, vec![0.0, 100.0, 250.0, 100.0]),
            (json!("payer"), vec![25.0, 25.0, 125.0, 350.0]),
        ]
    );
    assert_eq!(
        revenue_tables(&report, "new"),
        vec![
            (Value::Null, vec![0.0, 100.0, 250.0, 100.0]),
            (json!("payer"), vec![0.0, 0.0, 0.0, 0.0]),
        ]
    );
    assert_eq!(
        revenue_tables(&report, "churned"),
        vec![
            (Value::Null, vec![0.0, 0.0, 0.0, 0.0]),
            (json!("payer"), vec![0.0, 0.0, 0.0, 25.0]),
        ]
    );
    // June's NRR of those who had paid before June: (375 − 25) / 375.
    let june = &report["metrics"]["mrr"]["segments"][1]["periods"][3];
    assert!((june["nrr"].as_f64().unwrap() - 350.0 / 375.0).abs() < 1e-12);
    // As of `as_of` (the default) all five had paid, so one table holds everything.
    let today = report_with_today_labels();
    assert_eq!(
        revenue_tables(&today, "end"),
        vec![(json!("payer"), vec![25.0, 125.0, 375.0, 450.0])]
    );
}

fn report_with_today_labels() -> Value {
    report(&config(ANY_PAYER, "as_of", ""))
}

/// RFM parameters that label every entity with a payment "payer".
const ANY_PAYER: &str =
    "{ bins = 2, labels = \"named\", segments = [{ name = \"payer\", r = [1, 2], f = [1, 2] }] }";

#[test]
fn with_two_bins_each_month_reads_the_scores_of_its_eve() {
    // NTILE(2) per month's eve, over the entities that had paid by then (R by recency
    // descending, F by frequency, M by amount, ties by id; the first bucket takes the odd one):
    // Mar (eve Feb 28): e4 alone → 111.
    // Apr (eve Mar 31): e4 alone → 111.
    // May (eve Apr 30): e1 (recency 29, 1 payment, 100), e4 (29, 3, 75):
    //   R e1 1, e4 2; F e1 1, e4 2; M e4 1, e1 2 → e1 112, e4 221.
    // Jun (eve May 31): e1 (30, 2, 200), e3 (11, 1, 250), e4 (30, 4, 100), buckets of 2 then 1:
    //   R e1 1, e4 1, e3 2; F e3 1, e1 1, e4 2; M e4 1, e1 1, e3 2 → e1 111, e3 212, e4 121.
    // Today (as_of Jun 30) e1 is 222: June's table puts it under what it was, 111.
    let report = report(&config("{ bins = 2 }", "period_start", ""));
    assert_eq!(
        revenue_tables(&report, "end"),
        vec![
            (Value::Null, vec![0.0, 100.0, 250.0, 100.0]),
            (json!("111"), vec![25.0, 25.0, 0.0, 100.0]),
            (json!("112"), vec![0.0, 0.0, 100.0, 0.0]),
            (json!("121"), vec![0.0, 0.0, 0.0, 0.0]),
            (json!("212"), vec![0.0, 0.0, 0.0, 250.0]),
            (json!("221"), vec![0.0, 0.0, 25.0, 0.0]),
        ]
    );
    // e4 paid 25 in May and nothing in June, under 121.
    assert_eq!(
        revenue_tables(&report, "start"),
        vec![
            (Value::Null, vec![0.0, 0.0, 0.0, 0.0]),
            (json!("111"), vec![25.0, 25.0, 0.0, 100.0]),
            (json!("112"), vec![0.0, 0.0, 100.0, 0.0]),
            (json!("121"), vec![0.0, 0.0, 0.0, 25.0]),
            (json!("212"), vec![0.0, 0.0, 0.0, 250.0]),
            (json!("221"), vec![0.0, 0.0, 25.0, 0.0]),
        ]
    );
    // The tables add up to the whole, period by period: 25, 125, 375, 450.
    let whole: Vec<f64> = report["metrics"]["mrr"]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["end"].as_f64().unwrap())
        .collect();
    assert_eq!(whole, vec![25.0, 125.0, 375.0, 450.0]);
}

#[test]
fn a_recurring_cohort_row_reads_the_label_at_its_period_start() {
    // Memberships of monthly payers (one per month with a payment), labelled as in the test
    // above: Feb e4 (nobody had paid before: none); Mar e4 111; Apr e1 none, e4 111;
    // May e3 none, e1 112, e4 221; Jun e2 and e5 none, e1 111, e3 212.
    // Returns in the next month (period 1, complete for every row but June's):
    // Feb e4 yes; Mar e4 yes; Apr e1 yes, e4 yes; May e3 yes, e1 yes, e4 no.
    let rest = "[cohorts.payers]\nstart = \"pay\"\ngrain = \"month\"\nrecurring = true\nby = [\"segment.rfm\"]\n\
                [metrics.repeat]\ntype = \"retention\"\ncohort = \"payers\"\nreturn = \"pay\"\nunit = \"month\"\nperiods = [1]";
    let report = report(&config("{ bins = 2 }", "period_start", rest));
    let rows: Vec<(String, Value, u64, u64)> = report["metrics"]["repeat"]["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["cohort"].as_str().unwrap().to_string(),
                c["segment"]["segment.rfm"].clone(),
                c["size"].as_u64().unwrap(),
                c["retained"][0].as_u64().unwrap(),
            )
        })
        .collect();
    let row = |cohort: &str, label: Value, size, retained| (cohort.to_string(), label, size, retained);
    assert_eq!(
        rows,
        vec![
            row("2025-02", Value::Null, 1, 1),
            row("2025-03", json!("111"), 1, 1),
            row("2025-04", Value::Null, 1, 1),
            row("2025-04", json!("111"), 1, 1),
            row("2025-05", Value::Null, 1, 1),
            row("2025-05", json!("112"), 1, 1),
            row("2025-05", json!("221"), 1, 0),
            row("2025-06", Value::Null, 2, 0),
            row("2025-06", json!("111"), 1, 0),
            row("2025-06", json!("212"), 1, 0),
        ]
    );
}
