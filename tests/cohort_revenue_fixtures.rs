//! Hand-worked revenue retention by cohort: each cohort's revenue per month since its start,
//! against its first month's.

mod common;

use common::{Fixture, PAYMENTS};
use serde_json::{Value, json};

fn run(as_of: &str, rest: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", PAYMENTS);
    fixture.file(
        "accounts.csv",
        "id,signed,plan\na,2024-12-20,pro\nb,2025-02-01,basic\nc,2025-01-01,pro\nd,2025-03-01,basic\ne,2025-01-15,basic\n",
    );
    fixture.run(&format!(
        r#"
[project]
as_of = "{as_of}"
timezone = "UTC"
[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"
[sources.accounts]
kind = "entities"
path = "accounts.csv"
entity = "id"
[events.payment]
where = "event == 'invoice'"
amount = "props.amount"
[events.login]
where = "event == 'login'"
[cohorts.first_payment]
start = "payment"
grain = "month"
{rest}
"#
    ))
}

/// Per cohort row: (cohort, size, payers, revenue in period 0, [(revenue, customers, nrr, grr, logo, complete)]).
type Row = (
    String,
    u64,
    u64,
    f64,
    Vec<(f64, u64, Option<f64>, Option<f64>, Option<f64>, bool)>,
);

fn rows(report: &Value, metric: &str) -> Vec<Row> {
    report["metrics"][metric]["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            let periods = row["periods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p["revenue"].as_f64().unwrap(),
                        p["customers"].as_u64().unwrap(),
                        p["nrr"].as_f64(),
                        p["grr"].as_f64(),
                        p["logo_retention"].as_f64(),
                        p["complete"].as_bool().unwrap(),
                    )
                })
                .collect();
            (
                row["cohort"].as_str().unwrap().to_string(),
                row["size"].as_u64().unwrap(),
                row["customers_start"].as_u64().unwrap(),
                row["revenue_start"].as_f64().unwrap(),
                periods,
            )
        })
        .collect()
}

/// A total per period since the start: (cohorts, revenue in period 0, nrr, grr, logo).
type Total = (u64, f64, Option<f64>, Option<f64>, Option<f64>);

fn total(report: &Value, metric: &str) -> Vec<Total> {
    report["metrics"][metric]["total"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["cohorts"].as_u64().unwrap(),
                t["revenue_start"].as_f64().unwrap(),
                t["nrr"].as_f64(),
                t["grr"].as_f64(),
                t["logo_retention"].as_f64(),
            )
        })
        .collect()
}

const BY_FIRST_PAYMENT: &str =
    "[metrics.nrr_cohorts]\ntype = \"revenue\"\namount = \"payment\"\ncohort = \"first_payment\"";

#[test]
fn cohorts_by_first_payment_by_hand() {
    let report = run("2025-06-30", BY_FIRST_PAYMENT);
    let metric = &report["metrics"]["nrr_cohorts"];
    assert_eq!(
        (metric["type"].as_str(), metric["grain"].as_str()),
        (Some("revenue"), Some("month"))
    );
    // Revenue per month: a 100, 100, 150, 120, –, 80 (Jan–Jun); c 50 (30 + 20), 50, 50, 50, 60,
    // 60; b Feb–Mar 200, 200; d Mar 40. June is over on 06-30: every cell is complete.
    let s = |v: f64| Some(v);
    let all = |revenue: f64, customers: u64, nrr: f64, grr: f64, logo: f64| {
        (revenue, customers, s(nrr), s(grr), s(logo), true)
    };
    assert_eq!(
        rows(&report, "nrr_cohorts"),
        vec![
            // January: a and c, 150 in month 0. Month 2: 200/150, each capped at 100 and 50 →
            // GRR 1. Month 4: a pays nothing, c 60: NRR 60/150, GRR min(60, 50)/150, logo 1/2.
            // Month 5: a back with 80: NRR 140/150, GRR (80 + 50)/150.
            (
                "2025-01".into(),
                2,
                2,
                150.0,
                vec![
                    all(150.0, 2, 1.0, 1.0, 1.0),
                    all(150.0, 2, 1.0, 1.0, 1.0),
                    all(200.0, 2, 200.0 / 150.0, 1.0, 1.0),
                    all(170.0, 2, 170.0 / 150.0, 1.0, 1.0),
                    all(60.0, 1, 60.0 / 150.0, 50.0 / 150.0, 0.5),
                    all(140.0, 2, 140.0 / 150.0, 130.0 / 150.0, 1.0),
                ]
            ),
            // February: b, 200 then 200, then nothing.
            (
                "2025-02".into(),
                1,
                1,
                200.0,
                vec![
                    all(200.0, 1, 1.0, 1.0, 1.0),
                    all(200.0, 1, 1.0, 1.0, 1.0),
                    all(0.0, 0, 0.0, 0.0, 0.0),
                    all(0.0, 0, 0.0, 0.0, 0.0),
                    all(0.0, 0, 0.0, 0.0, 0.0),
                ]
            ),
            // March: d, 40 once.
            (
                "2025-03".into(),
                1,
                1,
                40.0,
                vec![
                    all(40.0, 1, 1.0, 1.0, 1.0),
                    all(0.0, 0, 0.0, 0.0, 0.0),
                    all(0.0, 0, 0.0, 0.0, 0.0),
                    all(0.0, 0, 0.0, 0.0, 0.0),
                ]
            ),
        ]
    );
    assert_eq!(
        total(&report, "nrr_cohorts"),
        vec![
            // Month 0: 390 of 390. Month 1: January 150 + February 200 + March 0 of 390;
            // logo (2 + 1 + 0)/4. Month 2: 200 + 0 + 0, capped 150. Month 3: 170 (capped 150).
            // Month 4: January and February only: 60 of 350, capped 50, logo 1/3. Month 5:
            // January alone.
            (3, 390.0, s(1.0), s(1.0), s(1.0)),
            (3, 390.0, s(350.0 / 390.0), s(350.0 / 390.0), s(0.75)),
            (3, 390.0, s(200.0 / 390.0), s(150.0 / 390.0), s(0.5)),
            (3, 390.0, s(170.0 / 390.0), s(150.0 / 390.0), s(0.5)),
            (2, 350.0, s(60.0 / 350.0), s(50.0 / 350.0), s(1.0 / 3.0)),
            (1, 150.0, s(140.0 / 150.0), s(130.0 / 150.0), s(1.0)),
        ]
    );
    assert!(metric.get("totals").is_none());
}

#[test]
fn a_period_not_over_is_marked_and_left_out_of_the_total() {
    // As of 06-15, June is not over: its payments (a 06-05, c 06-02) count in the cells, which
    // are marked incomplete, and no total sums them.
    let report = run("2025-06-15", BY_FIRST_PAYMENT);
    let rows = rows(&report, "nrr_cohorts");
    let january = &rows[0].4;
    assert_eq!(
        january[5],
        (
            140.0,
            2,
            Some(140.0 / 150.0),
            Some(130.0 / 150.0),
            Some(1.0),
            false
        )
    );
    assert!(january[..5].iter().all(|cell| cell.5));
    assert!(!rows[1].4[4].5 && !rows[2].4[3].5);
    let total = total(&report, "nrr_cohorts");
    // Month 3 sums January (April) and February (May), not March (June): 170 of 350.
    assert_eq!(
        total[3],
        (
            2,
            350.0,
            Some(170.0 / 350.0),
            Some(150.0 / 350.0),
            Some(2.0 / 3.0)
        )
    );
    // Month 4: January (May) alone; month 5: no row is over.
    assert_eq!(
        total[4],
        (1, 150.0, Some(60.0 / 150.0), Some(50.0 / 150.0), Some(0.5))
    );
    assert_eq!(total[5], (0, 0.0, None, None, None));
}

#[test]
fn revenue_before_the_start_is_not_counted_and_late_payers_count_apart() {
    // Cohort by signup month. a signed 2024-12-20 and paid nothing in December: a member but no
    // starting customer, so its 100 in January is the row's revenue and not its NRR's. c signed
    // in January and paid 50 then. e signed in January and never paid.
    let report = run(
        "2025-06-30",
        "[cohorts.signed]\nstart = \"attr.signed\"\ngrain = \"month\"\nby = [\"attr.plan\"]\n\
         [metrics.signups]\ntype = \"revenue\"\namount = \"payment\"\ncohort = \"signed\"",
    );
    let rows = rows(&report, "signups");
    let keys: Vec<(&str, u64, u64, f64)> = rows.iter().map(|r| (r.0.as_str(), r.1, r.2, r.3)).collect();
    // December pro: a (0 in month 0). January basic: e; January pro: c (50). February basic: b
    // (200). March basic: d (40).
    assert_eq!(
        keys,
        vec![
            ("2024-12", 1, 0, 0.0),
            ("2025-01", 1, 0, 0.0),
            ("2025-01", 1, 1, 50.0),
            ("2025-02", 1, 1, 200.0),
            ("2025-03", 1, 1, 40.0)
        ]
    );
    let segments: Vec<Value> = report["metrics"]["signups"]["cohorts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["segment"].clone())
        .collect();
    assert_eq!(segments[0], json!({"attr.plan": "pro"}));
    assert_eq!(segments[1], json!({"attr.plan": "basic"}));
    // a: months 1–6 are January–June, revenue 100 in month 1 with one payer, but no NRR: nobody
    // started paying in December.
    let december = &rows[0].4;
    assert_eq!(december.len(), 7);
    assert_eq!(december[1], (100.0, 1, None, None, None, true));
    // Per plan: pro rows are December (no base) and January (c: 50 → 60 in month 4).
    let totals = report["metrics"]["signups"]["totals"].as_array().unwrap();
    assert_eq!(totals[0]["segment"], json!({"attr.plan": "basic"}));
    let pro = &totals[1]["total"];
    assert_eq!(pro[4]["nrr"], json!(60.0 / 50.0));
    assert_eq!(pro[4]["grr"], json!(1.0));
}

#[test]
fn cohorts_by_another_event_ignore_earlier_payments() {
    // a's first login is 03-06: March cohort. Its January and February payments came before.
    let report = run(
        "2025-06-30",
        "[cohorts.logged_in]\nstart = \"login\"\ngrain = \"month\"\n\
         [metrics.after_login]\ntype = \"revenue\"\namount = \"payment\"\ncohort = \"logged_in\"",
    );
    let rows = rows(&report, "after_login");
    assert_eq!(rows.len(), 1);
    let (cohort, size, payers, start, periods) = &rows[0];
    assert_eq!(
        (cohort.as_str(), *size, *payers, *start),
        ("2025-03", 1, 1, 150.0)
    );
    let nrr: Vec<Option<f64>> = periods.iter().map(|p| p.2).collect();
    // 150, 120, nothing in May, 80.
    assert_eq!(nrr, vec![Some(1.0), Some(0.8), Some(0.0), Some(80.0 / 150.0)]);
}

#[test]
fn spread_payments_fill_the_months_they_cover() {
    // Quarterly prepayments spread over 3 months: a pays 300 in January, covering Jan–Mar.
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event,amount,months\na,2025-01-10T00:00:00Z,invoice,300,3\nb,2025-01-20T00:00:00Z,invoice,60,1\n\
         b,2025-02-20T00:00:00Z,invoice,90,1\n",
    );
    let report = fixture.run(
        r#"
[project]
as_of = "2025-03-31"
timezone = "UTC"
[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"
[events.payment]
where = "event == 'invoice'"
amount = "props.amount"
[cohorts.payers]
start = "payment"
grain = "month"
[metrics.spread_cohorts]
type = "revenue"
amount = "payment"
cohort = "payers"
spread = "props.months"
"#,
    );
    let rows = rows(&report, "spread_cohorts");
    // January: a 100 + b 60 = 160. February: a 100 + b 90: NRR 190/160, GRR (100 + 60)/160.
    // March: a 100: NRR 100/160, logo 1/2.
    let january = &rows[0];
    assert_eq!((january.2, january.3), (2, 160.0));
    assert_eq!(
        january.4[1],
        (190.0, 2, Some(190.0 / 160.0), Some(1.0), Some(1.0), true)
    );
    assert_eq!(
        january.4[2],
        (
            100.0,
            1,
            Some(100.0 / 160.0),
            Some(100.0 / 160.0),
            Some(0.5),
            true
        )
    );
}
