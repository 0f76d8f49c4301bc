//! Hand-worked revenue (MRR movements) and CRR fixtures.

mod common;

use common::{Fixture, PAYMENTS};
use serde_json::{Value, json};

fn project(metrics: &str) -> String {
    format!(
        r#"
[project]
as_of = "2025-06-30"
[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"
[events.payment]
where = "event == 'invoice'"
amount = "props.amount"
[events.login]
where = "event == 'login'"
{metrics}
"#
    )
}

fn run(metrics: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", PAYMENTS);
    fixture.run(&project(metrics))
}

/// (period, start, new, expansion, contraction, churned, reactivation, end, customers_start, customers_churned)
fn movements(report: &Value, metric: &str) -> Vec<(String, [f64; 7], [u64; 2])> {
    report["metrics"][metric]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let f = |k: &str| p[k].as_f64().unwrap();
            (
                p["period"].as_str().unwrap().to_string(),
                [
                    f("start"),
                    f("new"),
                    f("expansion"),
                    f("contraction"),
                    f("churned"),
                    f("reactivation"),
                    f("end"),
                ],
                [
                    p["customers_start"].as_u64().unwrap(),
                    p["customers_churned"].as_u64().unwrap(),
                ],
            )
        })
        .collect()
}

#[test]
fn monthly_movements_by_hand() {
    let report = run("[metrics.mrr]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"month\"");
    assert_eq!(
        movements(&report, "mrr"),
        vec![
            // Feb: last month's payers a 100 + c 50 = 150 both flat; b is new (200). end 350.
            (
                "2025-02".into(),
                [150.0, 200.0, 0.0, 0.0, 0.0, 0.0, 350.0],
                [2, 0]
            ),
            // Mar: start a 100 + b 200 + c 50 = 350; a +50 expansion; d new 40. end 440.
            (
                "2025-03".into(),
                [350.0, 40.0, 50.0, 0.0, 0.0, 0.0, 440.0],
                [3, 0]
            ),
            // Apr: start 440; a 150 → 120 contraction 30; b (200) and d (40, new last month)
            // churn = 240. end = 440 − 240 − 30 = 170.
            (
                "2025-04".into(),
                [440.0, 0.0, 0.0, 30.0, 240.0, 0.0, 170.0],
                [4, 2]
            ),
            // May: start a 120 + c 50 = 170; a churns (120); c +10. end 60.
            (
                "2025-05".into(),
                [170.0, 0.0, 10.0, 0.0, 120.0, 0.0, 60.0],
                [2, 1]
            ),
            // Jun: start c 60 flat; a comes back after an empty May: reactivation 80. end 140.
            ("2025-06".into(), [60.0, 0.0, 0.0, 0.0, 0.0, 80.0, 140.0], [1, 0]),
        ]
    );
    let mrr = &report["metrics"]["mrr"];
    let april = &mrr["periods"][2];
    // GRR = NRR = (440 − 240 − 30) / 440; revenue churn (240 + 30) / 440; logo churn 2 / 4.
    assert_eq!(april["grr"], json!(170.0 / 440.0));
    assert_eq!(april["nrr"], json!(170.0 / 440.0));
    assert_eq!(april["revenue_churn_rate"], json!(270.0 / 440.0));
    assert_eq!(april["customer_churn_rate"], json!(0.5));
    // March: NRR = (350 + 50) / 350, GRR = 1.
    assert_eq!(mrr["periods"][1]["nrr"], json!(400.0 / 350.0));
    assert_eq!(mrr["periods"][1]["grr"], json!(1.0));
    // Whole window over complete periods: Σ start = 150 + 350 + 440 + 170 + 60 = 1170;
    // Σ (start − churned − contraction) = 150 + 350 + 170 + 50 + 60 = 780; Σ expansion = 60.
    assert_eq!(mrr["grr"], json!(780.0 / 1170.0));
    assert_eq!(mrr["nrr"], json!(840.0 / 1170.0));
    // Last complete period: June, flat → 1.0 and 1.0.
    assert_eq!(mrr["nrr_last"], json!(1.0));
    assert_eq!(mrr["grr_last"], json!(1.0));
    assert!(mrr.get("nrr_window").is_none());
}

#[test]
fn a_long_absence_counts_as_new() {
    // a is away for May: from 05-01 to its comeback on 06-01. 2w < 1 month → new; 1mo → reactivation.
    let report = run(
        "[metrics.short]\ntype = \"revenue\"\namount = \"payment\"\nreactivation_within = \"2w\"\n\
         [metrics.month]\ntype = \"revenue\"\namount = \"payment\"\nreactivation_within = \"1mo\"",
    );
    let june = |m: &str| movements(&report, m)[4].1;
    assert_eq!(june("short"), [60.0, 80.0, 0.0, 0.0, 0.0, 0.0, 140.0]);
    assert_eq!(june("month"), [60.0, 0.0, 0.0, 0.0, 0.0, 80.0, 140.0]);
}

#[test]
fn quarters() {
    let report = run("[metrics.q]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"quarter\"");
    // Q1: a 350, b 400, c 150, d 40 = 940. Q2: a 200, b 0, c 170, d 0.
    // start 940; churned b 400 + d 40 = 440; contraction a 150; expansion c 20; end 370.
    assert_eq!(
        movements(&report, "q"),
        vec![(
            "2025-Q2".into(),
            [940.0, 0.0, 20.0, 150.0, 440.0, 0.0, 370.0],
            [4, 2]
        )]
    );
    assert_eq!(report["metrics"]["q"]["nrr"], json!(370.0 / 940.0));
}

#[test]
fn trailing_window_nrr() {
    let report = run("[metrics.w]\ntype = \"revenue\"\namount = \"payment\"\nwindow = \"3mo\"");
    let windows: Vec<Value> = report["metrics"]["w"]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["nrr_window"].clone())
        .collect();
    // Feb, Mar: nobody paid three months before → null.
    // Apr: January payers a 100 + c 50 = 150 now pay 120 + 50 = 170.
    // May: February payers a 100 + b 200 + c 50 = 350 now pay 0 + 0 + 60 = 60.
    // Jun: March payers a 150 + b 200 + c 50 + d 40 = 440 now pay 80 + 0 + 60 + 0 = 140.
    assert_eq!(
        windows,
        vec![
            Value::Null,
            Value::Null,
            json!(170.0 / 150.0),
            json!(60.0 / 350.0),
            json!(140.0 / 440.0)
        ]
    );
    assert_eq!(report["metrics"]["w"]["nrr_window"], json!(140.0 / 440.0));
    // With `window`, every period has the key, null where there is no base.
    let first = report["metrics"]["w"]["periods"][0].as_object().unwrap();
    assert_eq!(first.get("nrr_window"), Some(&Value::Null));
}

#[test]
fn a_window_longer_than_the_data_is_null_not_missing() {
    // Payments run from January to June: no period has a payer twelve months before.
    let report = run("[metrics.w]\ntype = \"revenue\"\namount = \"payment\"\nwindow = \"12mo\"");
    let metric = report["metrics"]["w"].as_object().unwrap();
    assert_eq!(metric.get("nrr_window"), Some(&Value::Null));
    for period in report["metrics"]["w"]["periods"].as_array().unwrap() {
        assert_eq!(period.as_object().unwrap().get("nrr_window"), Some(&Value::Null));
    }
    // Without `window` there is no such figure at all.
    let report = run("[metrics.m]\ntype = \"revenue\"\namount = \"payment\"");
    assert!(report["metrics"]["m"].get("nrr_window").is_none());
}

#[test]
fn movements_are_scalars_and_the_quick_ratio_is_one_line() {
    let report = run("[metrics.mrr]\ntype = \"revenue\"\namount = \"payment\"\n\
         [metrics.new]\ntype = \"formula\"\nformula = \"mrr.new\"\n\
         [metrics.quick_ratio]\ntype = \"formula\"\n\
         formula = \"(mrr.new + mrr.expansion + mrr.reactivation) / (mrr.contraction + mrr.churned)\"\n\
         [metrics.quick_ratio_last]\ntype = \"formula\"\n\
         formula = \"(mrr.new_last + mrr.expansion_last + mrr.reactivation_last) / (mrr.contraction_last + mrr.churned_last)\"\n\
         [metrics.net_new_last]\ntype = \"formula\"\n\
         formula = \"mrr.new_last + mrr.expansion_last + mrr.reactivation_last - mrr.contraction_last - mrr.churned_last\"\n\
         [metrics.stocks]\ntype = \"formula\"\n\
         formula = \"mrr.start * 1000000 + mrr.end * 1000 + mrr.customers_start * 10 + mrr.customers_end_last\"\n\
         [metrics.arpa]\ntype = \"formula\"\nformula = \"mrr.end_last / mrr.customers_end_last\"");
    let value = |name: &str| report["metrics"][name]["value"].clone();
    // The movements of monthly_movements_by_hand, February to June, all complete by 06-30:
    // new 200 + 40 = 240 · expansion 50 + 10 = 60 · reactivation 80 · contraction 30 ·
    // churned 240 + 120 = 360.
    assert_eq!(value("new"), json!(240.0));
    // Quick ratio = (240 + 60 + 80) / (30 + 360) = 380 / 390.
    assert_eq!(value("quick_ratio"), json!(380.0 / 390.0));
    // June lost nothing (start 60, c flat, a reactivated 80): the ratio divides by zero → null;
    // net new MRR = 80.
    assert_eq!(value("quick_ratio_last"), Value::Null);
    assert_eq!(value("net_new_last"), json!(80.0));
    // Stocks: start of February 150, end of June 140, 2 customers at February's start, June's
    // end a and c = 2 → 150·10⁶ + 140·10³ + 2·10 + 2.
    assert_eq!(value("stocks"), json!(150_140_022.0));
    // ARPA of June = 140 / 2.
    assert_eq!(value("arpa"), json!(70.0));
}

#[test]
fn spread_payments_over_the_months_they_cover() {
    let fixture = Fixture::new();
    // e pays 1200 for a year in January (100 a month); f pays 300 for a quarter in February.
    fixture.file(
        "events.csv",
        "id,ts,event,amount,months\ne,2025-01-10T00:00:00Z,invoice,1200,12\nf,2025-02-10T00:00:00Z,invoice,300,3\n",
    );
    let report = fixture.run(&project(
        "[metrics.mrr]\ntype = \"revenue\"\namount = \"payment\"\nspread = \"props.months\"",
    ));
    assert_eq!(
        movements(&report, "mrr"),
        vec![
            (
                "2025-02".into(),
                [100.0, 100.0, 0.0, 0.0, 0.0, 0.0, 200.0],
                [1, 0]
            ),
            ("2025-03".into(), [200.0, 0.0, 0.0, 0.0, 0.0, 0.0, 200.0], [2, 0]),
            ("2025-04".into(), [200.0, 0.0, 0.0, 0.0, 0.0, 0.0, 200.0], [2, 0]),
            // f's quarter is over: it churns in May.
            (
                "2025-05".into(),
                [200.0, 0.0, 0.0, 0.0, 100.0, 0.0, 100.0],
                [2, 1]
            ),
            ("2025-06".into(), [100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0], [1, 0]),
        ]
    );
}

#[test]
fn spread_chosen_per_payment_by_the_billing_attribute() {
    let fixture = Fixture::new();
    // a is billed yearly: 1200 in January covers twelve months (100 a month). b is billed
    // monthly: 100 in January and February. c has no billing value: `attr.billing == 'year'` is
    // null there, so `if` takes its last branch, one month: 50 in January.
    fixture.file(
        "events.csv",
        "id,ts,event,amount
a,2025-01-10T00:00:00Z,invoice,1200
b,2025-01-05T00:00:00Z,invoice,100
\
         b,2025-02-05T00:00:00Z,invoice,100
c,2025-01-20T00:00:00Z,invoice,50
",
    );
    fixture.file(
        "accounts.csv",
        "id,billing
a,year
b,month
c,
",
    );
    let config = project(
        "[metrics.mrr]\ntype = \"revenue\"\namount = \"payment\"\nspread = \"if(attr.billing == 'year', 12, 1)\"",
    )
    .replace(
        "[events.payment]",
        "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n[events.payment]",
    );
    let report = fixture.run(&config);
    // February: start 100 + 100 + 50 = 250, c churns 50, end 200. March: b churns 100; a stays
    // at 100 through June.
    assert_eq!(
        movements(&report, "mrr"),
        vec![
            ("2025-02".into(), [250.0, 0.0, 0.0, 0.0, 50.0, 0.0, 200.0], [3, 1]),
            (
                "2025-03".into(),
                [200.0, 0.0, 0.0, 0.0, 100.0, 0.0, 100.0],
                [2, 1]
            ),
            ("2025-04".into(), [100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0], [1, 0]),
            ("2025-05".into(), [100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0], [1, 0]),
            ("2025-06".into(), [100.0, 0.0, 0.0, 0.0, 0.0, 0.0, 100.0], [1, 0]),
        ]
    );
}

#[test]
fn spread_payments_over_the_days_they_cover_by_week() {
    let fixture = Fixture::new();
    // Weeks start on Monday. e pays 31.00001 on Monday 6 January for a month: 6 January up to
    // 6 February, 31 days of 1.000000 each, the first 10 days one micro-unit more. f pays 62 on
    // Monday 13 January for a month: 13 January up to 13 February, 31 days of 2.
    fixture.file(
        "events.csv",
        "id,ts,event,amount,months\ne,2025-01-06T00:00:00Z,invoice,31.00001,1\nf,2025-01-13T00:00:00Z,invoice,62,1\n",
    );
    let config = project("[metrics.weekly]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"week\"\nspread = \"props.months\"")
        .replace("2025-06-30", "2025-02-23");
    let report = fixture.run(&config);
    assert_eq!(
        movements(&report, "weekly"),
        vec![
            // Week of 6 Jan: e's days 0–6, all with the extra micro-unit: 7.000007 (the start
            // of the week after). Week of 13 Jan: e's days 7–13, three of them (7, 8, 9) with
            // it: 7.000003, so a contraction of 0.000004; f new, 7 days of 2.
            (
                "2025-01-13".into(),
                [7.000007, 14.0, 0.0, 0.000004, 0.0, 0.0, 21.000003],
                [1, 0]
            ),
            // e's days 14–20 have no extra micro-unit: 7, contraction 0.000003.
            (
                "2025-01-20".into(),
                [21.000003, 0.0, 0.0, 0.000003, 0.0, 0.0, 21.0],
                [2, 0]
            ),
            ("2025-01-27".into(), [21.0, 0.0, 0.0, 0.0, 0.0, 0.0, 21.0], [2, 0]),
            // Week of 3 Feb: e's last days are 3, 4 and 5 February: 3, contraction 4.
            ("2025-02-03".into(), [21.0, 0.0, 0.0, 4.0, 0.0, 0.0, 17.0], [2, 0]),
            // Week of 10 Feb: e churns (3); f's last days are 10, 11 and 12 February: 6,
            // contraction 8.
            ("2025-02-10".into(), [17.0, 0.0, 0.0, 8.0, 3.0, 0.0, 6.0], [2, 1]),
            ("2025-02-17".into(), [6.0, 0.0, 0.0, 0.0, 6.0, 0.0, 0.0], [1, 1]),
        ]
    );
    // Each payment's days add up to the payment: 31.00001 + 62.
    let total: f64 = report["metrics"]["weekly"]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["end"].as_f64().unwrap())
        .sum::<f64>()
        + 7.000007;
    assert!((total - 93.00001).abs() < 1e-9, "{total}");
    // A spread table has no warning.
    assert!(report["metrics"]["weekly"].get("warnings").is_none());
}

#[test]
fn weekly_revenue_over_monthly_payments_warns() {
    let report = run(
        "[metrics.weekly]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"week\"\n\
         [metrics.monthly]\ntype = \"revenue\"\namount = \"payment\"",
    );
    // Weeks (from Monday) between consecutive paid weeks: a 5, 4, 4, 9 · b 4 · c 3, 1, 4, 5, 4, 5
    // (c's 2 January and 20 January are weeks apart). Sorted: 1 3 4 4 4 4 4 5 5 5 9 → median 4.
    assert_eq!(
        report["metrics"]["weekly"]["warnings"],
        json!([
            "a customer's consecutive payments are a median of 4 weeks apart: every week between \
             two payments counts as churn and the next payment as reactivation; give `spread` to \
             spread each payment over the months it covers"
        ])
    );
    // By month the same payments are one period apart (median 1): no warning.
    assert!(report["metrics"]["monthly"].get("warnings").is_none());
}

#[test]
fn classic_customer_retention_rate() {
    let fixture = Fixture::new();
    // Active months: x Jan Feb Mar · y Feb Apr · z Mar Apr · w Jan.
    fixture.file(
        "events.csv",
        "id,ts,event,amount\nx,2025-01-05T00:00:00Z,login,\nx,2025-02-05T00:00:00Z,login,\nx,2025-03-05T00:00:00Z,login,\n\
         y,2025-02-05T00:00:00Z,login,\ny,2025-04-05T00:00:00Z,login,\nz,2025-03-05T00:00:00Z,login,\n\
         z,2025-04-05T00:00:00Z,login,\nz,2025-04-06T00:00:00Z,login,\nw,2025-01-05T00:00:00Z,login,\n",
    );
    let report = fixture.run(
        &project("[metrics.crr]\ntype = \"crr\"\nactive = \"login\"").replace("2025-06-30", "2025-04-30"),
    );
    let crr = &report["metrics"]["crr"];
    assert_eq!(
        crr["periods"],
        json!([
            // S = Jan {x, w}, E = Feb {x, y}, N = {y} → (2 − 1) / 2
            {"period": "2025-02", "complete": true, "start": 2, "end": 2, "new": 1, "crr": 0.5},
            // S = {x, y}, E = {x, z}, N = {z} → 0.5
            {"period": "2025-03", "complete": true, "start": 2, "end": 2, "new": 1, "crr": 0.5},
            // S = {x, z}, E = {y, z}, N = {} → 1.0 (y's return counts in E, as the classic formula does)
            {"period": "2025-04", "complete": true, "start": 2, "end": 2, "new": 0, "crr": 1.0},
        ])
    );
    // Σ (E − N) / Σ S = (1 + 1 + 2) / 6.
    assert_eq!(crr["crr"], json!(4.0 / 6.0));
    assert_eq!(crr["crr_last"], json!(1.0));
}

/// end = start − churned − contraction + expansion + new + reactivation, for every period of
/// generated datasets, by month, week and quarter, with and without spreading (by month and by
/// week).
#[test]
fn accounting_identity_on_generated_data() {
    for seed in [1u64, 2, 3] {
        let fixture = Fixture::new();
        let options = tenure_gen::Options {
            accounts: 300,
            days: 300,
            seed,
            ..Default::default()
        };
        tenure_gen::generate(&options, fixture.path()).unwrap();
        let config = r#"
[project]
as_of = "2025-10-15"
[sources.events]
path = "events.csv"
entity = "account_id"
time = "ts"
event = "event"
[quality]
dedupe = "exact"
[events.payment]
where = "event == 'invoice_paid'"
amount = "props.amount"
[metrics.month]
type = "revenue"
amount = "payment"
[metrics.week]
type = "revenue"
amount = "payment"
grain = "week"
[metrics.quarter]
type = "revenue"
amount = "payment"
grain = "quarter"
reactivation_within = "2mo"
[metrics.spread]
type = "revenue"
amount = "payment"
spread = "3"
[metrics.spread_by_week]
type = "revenue"
amount = "payment"
grain = "week"
spread = "1"
"#;
        let report = fixture.run(config);
        for metric in ["month", "week", "quarter", "spread", "spread_by_week"] {
            let periods = report["metrics"][metric]["periods"].as_array().unwrap();
            assert!(periods.len() > 2, "{metric}: too few periods to test");
            let mut previous_end: Option<i128> = None;
            for p in periods {
                // Figures are exact in micro-units; compare there.
                let micros = |k: &str| (p[k].as_f64().unwrap() * 1e6).round() as i128;
                let expected = micros("start") - micros("churned") - micros("contraction")
                    + micros("expansion")
                    + micros("new")
                    + micros("reactivation");
                assert_eq!(micros("end"), expected, "seed {seed}, {metric}, {}", p["period"]);
                // And a period's start is the previous period's end.
                if let Some(end) = previous_end {
                    assert_eq!(micros("start"), end, "seed {seed}, {metric}, {}", p["period"]);
                }
                previous_end = Some(micros("end"));
            }
        }
    }
}

#[test]
fn movements_by_attribute() {
    let fixture = Fixture::new();
    fixture.file("events.csv", PAYMENTS);
    // a and b are on plan pro, c and d on plan free.
    fixture.file("accounts.csv", "id,plan\na,pro\nb,pro\nc,free\nd,free\n");
    let config = project("[metrics.mrr]\ntype = \"revenue\"\namount = \"payment\"\nby = [\"attr.plan\"]")
        .replace("[events.payment]", "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n[events.payment]");
    let report = fixture.run(&config);
    let segments = report["metrics"]["mrr"]["segments"].as_array().unwrap();
    assert_eq!(segments[0]["segment"], json!({"attr.plan": "free"}));
    assert_eq!(segments[1]["segment"], json!({"attr.plan": "pro"}));
    let march_free = &segments[0]["periods"][1];
    // free in March: start c 50 (February), d new 40 → end 90.
    assert_eq!(
        (
            march_free["start"].clone(),
            march_free["new"].clone(),
            march_free["end"].clone()
        ),
        (json!(50.0), json!(40.0), json!(90.0))
    );
    let april_pro = &segments[1]["periods"][2];
    // pro in April: start a 150 + b 200; a contracts by 30, b churns 200 → end 120.
    assert_eq!(
        (
            april_pro["start"].clone(),
            april_pro["contraction"].clone(),
            april_pro["churned"].clone(),
            april_pro["end"].clone()
        ),
        (json!(350.0), json!(30.0), json!(200.0), json!(120.0))
    );
    // The segments add up to the whole, period by period.
    for (index, whole) in report["metrics"]["mrr"]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
    {
        let parts: f64 = segments
            .iter()
            .map(|s| s["periods"][index]["end"].as_f64().unwrap())
            .sum();
        assert_eq!(parts, whole["end"].as_f64().unwrap());
    }
}

#[test]
fn years() {
    // a pays in 2023, 2024 and more in 2025; b only in 2024; c first in 2025; d in 2023, then
    // not in 2024, then again in 2025.
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event,amount\n\
         a,2023-06-10T10:00:00Z,invoice,100\n\
         a,2024-03-10T10:00:00Z,invoice,100\n\
         a,2025-02-10T10:00:00Z,invoice,150\n\
         b,2024-05-10T10:00:00Z,invoice,200\n\
         c,2025-01-10T10:00:00Z,invoice,50\n\
         d,2023-11-10T10:00:00Z,invoice,80\n\
         d,2025-04-10T10:00:00Z,invoice,80\n",
    );
    let report = fixture.run(&project(
        "[metrics.y]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"year\"\n\
         [metrics.c]\ntype = \"crr\"\nactive = \"payment\"\ngrain = \"year\"",
    ));
    assert_eq!(
        movements(&report, "y"),
        vec![
            // 2024: start a 100 + d 80; b new 200; a flat; d churned 80. end 300.
            ("2024".into(), [180.0, 200.0, 0.0, 0.0, 80.0, 0.0, 300.0], [2, 1]),
            // 2025 (not over by 2025-06-30): start 300; a +50; c new 50; b churned 200; d back
            // after an empty 2024: reactivation 80. end 150 + 50 + 80 = 280.
            (
                "2025".into(),
                [300.0, 50.0, 50.0, 0.0, 200.0, 80.0, 280.0],
                [2, 1]
            ),
        ]
    );
    assert_eq!(report["metrics"]["y"]["periods"][1]["complete"], json!(false));
    // Over complete years (2024 only): NRR = GRR = (180 − 80) / 180.
    assert_eq!(report["metrics"]["y"]["nrr"], json!(100.0 / 180.0));
    // CRR by year: 2024 S = {a, d}, E = {a, b}, N = {b} → 0.5; 2025 S = {a, b}, E = {a, c, d},
    // N = {c} → (3 − 1) / 2 = 1.
    let crr: Vec<(Value, Value)> = report["metrics"]["c"]["periods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["period"].clone(), p["crr"].clone()))
        .collect();
    assert_eq!(
        crr,
        vec![(json!("2024"), json!(0.5)), (json!("2025"), json!(1.0))]
    );
}
