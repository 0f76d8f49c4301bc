//! Hand-worked formula, LTV and payback fixtures over the payments of revenue_fixtures.rs.

mod common;

use common::{Fixture, PAYMENTS};
use serde_json::{Value, json};

fn run(metrics: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", PAYMENTS);
    fixture.run(&format!(
        r#"
[project]
as_of = "2025-06-30"
[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"
[constants]
margin = 0.5
cac = 180.0
[events.payment]
where = "event == 'invoice'"
amount = "props.amount"
[events.login]
where = "event == 'login'"
[cohorts.first_payment]
start = "payment"
grain = "month"
[metrics.mrr]
type = "revenue"
amount = "payment"
{metrics}
"#
    ))
}

fn formula(expr: &str) -> String {
    format!("[metrics.f]\ntype = \"formula\"\nformula = \"{expr}\"")
}

fn value(expr: &str) -> Value {
    run(&formula(expr))["metrics"]["f"]["value"].clone()
}

fn approx(actual: &Value, expected: f64) {
    let actual = actual
        .as_f64()
        .unwrap_or_else(|| panic!("expected a number, got {actual}"));
    assert!((actual - expected).abs() < 1e-9, "{actual} ≠ {expected}");
}

#[test]
fn every_aggregate() {
    assert_eq!(value("count(payment)"), json!(15.0));
    assert_eq!(value("entities(payment)"), json!(4.0));
    // a (5), b (2), c (7) paid at least twice; d once.
    assert_eq!(value("entities(payment, at_least = 2)"), json!(3.0));
    assert_eq!(value("sum(payment.amount)"), json!(1310.0));
    assert_eq!(value("avg(payment.amount)"), json!(1310.0 / 15.0));
    assert_eq!(value("min(payment.amount)"), json!(20.0));
    assert_eq!(value("max(payment.amount)"), json!(200.0));
    // min/max of several arguments are the scalar functions.
    assert_eq!(value("max(count(payment), 20) - min(1, 2)"), json!(19.0));
}

#[test]
fn standard_formulas() {
    // Repeat purchase rate: 3 of 4 paying entities paid twice or more.
    assert_eq!(
        value("entities(payment, at_least = 2) / entities(payment)"),
        json!(0.75)
    );
    // ARPU over the window: 1310 / 4.
    assert_eq!(value("sum(payment.amount) / entities(payment)"), json!(327.5));
    // Simple LTV: avg order 1310/15 × margin 0.5 × 15/4 orders per customer − 12 = 151.75.
    approx(
        &value("avg(payment.amount) * margin * count(payment) / entities(payment) - 12"),
        151.75,
    );
    // NRR − GRR from the revenue metric: (840 − 780) / 1170.
    approx(&value("mrr.nrr - mrr.grr"), 60.0 / 1170.0);
}

#[test]
fn division_by_zero_is_null() {
    // One entity logged in: entities(login) − 1 = 0.
    assert_eq!(value("count(payment) / (entities(login) - 1)"), Value::Null);
    assert_eq!(value("count(payment) % 0"), Value::Null);
    // Null propagates; coalesce replaces it.
    assert_eq!(value("coalesce(count(payment) / 0, -1)"), json!(-1.0));
}

#[test]
fn per_period_formula() {
    let report = run(&format!("{}\ngrain = \"month\"", formula("sum(payment.amount)")));
    // Jan a 100 + c 50 · Feb 100 + 200 + 50 · Mar 150 + 200 + 50 + 40 · Apr 120 + 50 · May 60 · Jun 80 + 60.
    assert_eq!(
        report["metrics"]["f"],
        // as_of is the last day of June: every month is complete.
        json!({"type": "formula", "grain": "month", "format": "number", "rows": [
            {"period": "2025-01", "complete": true, "value": 150.0},
            {"period": "2025-02", "complete": true, "value": 350.0},
            {"period": "2025-03", "complete": true, "value": 440.0},
            {"period": "2025-04", "complete": true, "value": 170.0},
            {"period": "2025-05", "complete": true, "value": 60.0},
            {"period": "2025-06", "complete": true, "value": 140.0}]})
    );
}

#[test]
fn per_cohort_formula() {
    let report = run(&format!(
        "{}\ncohort = \"first_payment\"",
        formula("sum(payment.amount) / entities(payment)")
    ));
    // Cohorts by first payment: Jan {a, c} (550 + 320) / 2 · Feb {b} 400 · Mar {d} 40.
    assert_eq!(
        report["metrics"]["f"]["rows"],
        json!([{"cohort": "2025-01", "value": 435.0}, {"cohort": "2025-02", "value": 400.0},
               {"cohort": "2025-03", "value": 40.0}])
    );
}

#[test]
fn ltv_and_payback_builtins() {
    let report = run(
        "[metrics.ltv_orders]\ntype = \"ltv\"\nform = \"orders\"\norder = \"payment\"\nmargin = \"margin\"\ncost_to_serve = 12.0\n\
         [metrics.ltv_subscription]\ntype = \"ltv\"\nform = \"subscription\"\nrevenue = \"mrr\"\nmargin = 0.5\nchurn_window = 3\n\
         [metrics.payback]\ntype = \"payback\"\nrevenue = \"mrr\"\ncac = \"cac\"\nmargin = 0.5\n\
         [metrics.ltv_by_formula]\ntype = \"formula\"\nformula = \"ltv_orders.value - 151.75\"",
    );
    let metrics = &report["metrics"];
    // Orders: the same 151.75 as the formula above.
    approx(&metrics["ltv_orders"]["value"], 151.75);
    approx(&metrics["ltv_orders"]["orders_per_customer"], 3.75);
    approx(&metrics["ltv_by_formula"]["value"], 0.0);
    // Subscription: ARPA of June = 140 / 2 paying (a, c) = 70. Customer churn over the last three
    // complete months: Apr 2 of 4, May 1 of 2, Jun 0 of 1 → 3 / 7. LTV = 70 × 0.5 ÷ 3/7.
    assert_eq!(metrics["ltv_subscription"]["arpa"], json!(70.0));
    assert_eq!(metrics["ltv_subscription"]["churn_rate"], json!(3.0 / 7.0));
    assert_eq!(
        metrics["ltv_subscription"]["value"],
        json!(70.0 * 0.5 / (3.0 / 7.0))
    );
    // Payback: 180 ÷ (70 × 0.5) months.
    assert_eq!(metrics["payback"]["value"], json!(180.0 / 35.0));
    assert_eq!(metrics["payback"]["unit"], "month");
}

#[test]
fn asking_for_a_formula_computes_what_it_reads() {
    let fixture = Fixture::new();
    fixture.file("events.csv", PAYMENTS);
    let config = format!(
        "[project]\nas_of = \"2025-06-30\"\n[sources.events]\npath = \"events.csv\"\nentity = \"id\"\ntime = \"ts\"\nevent = \"event\"\n\
         [events.payment]\nwhere = \"event == 'invoice'\"\namount = \"props.amount\"\n\
         [metrics.mrr]\ntype = \"revenue\"\namount = \"payment\"\n{}",
        formula("mrr.nrr_last * 100")
    );
    let project = tenure::Project::from_str(&config, fixture.path()).unwrap();
    let report = project.load().unwrap().evaluate(&["f".to_string()]);
    assert_eq!(report.metrics.len(), 1, "only the asked-for metric is returned");
    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["metrics"]["f"]["value"], json!(100.0));
}

#[test]
fn cohort_revenue_and_realised_ltv_curve() {
    let report = run(
        "[metrics.paying]\ntype = \"retention\"\ncohort = \"first_payment\"\nreturn = \"payment\"\nunit = \"month\"\n\
         periods = [0, 1, 2]\nvalue = \"payment\"",
    );
    let m = &report["metrics"]["paying"];
    // Jan cohort {a, c}: month 0 = 100 + 50, month 1 = 100 + 50, month 2 = 150 + 50;
    // cumulative 150, 300, 500 → per member 75, 150, 250.
    assert_eq!(m["cohorts"][0]["revenue"], json!([150.0, 150.0, 200.0]));
    assert_eq!(m["cohorts"][0]["ltv"], json!([75.0, 150.0, 250.0]));
    // Feb {b}: 200, 200, nothing; cumulative 200, 400, 400.  Mar {d}: 40 then nothing.
    assert_eq!(m["cohorts"][1]["revenue"], json!([200.0, 200.0, 0.0]));
    assert_eq!(m["cohorts"][1]["ltv"], json!([200.0, 400.0, 400.0]));
    assert_eq!(m["cohorts"][2]["ltv"], json!([40.0, 40.0, 40.0]));
    // Every member is eligible through month 2 by 06-30: total LTV = Σ cumulative / 4.
    assert_eq!(m["total"]["revenue"], json!([390.0, 350.0, 200.0]));
    assert_eq!(m["total"]["ltv"], json!([390.0 / 4.0, 740.0 / 4.0, 940.0 / 4.0]));
    assert_eq!(m["cohorts"][0]["retained"], json!([2, 2, 2]));
}
