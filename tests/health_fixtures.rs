//! Hand-worked health score fixture: every expected figure is derived in the comments.

mod common;

use common::{Fixture, config};
use serde_json::{Value, json};

/// UTC, as of 2025-03-31; signals over 30 days (03-02 to 03-31); the population is every entity
/// with a report in the 90 days up to the date (from 01-02).
const EVENTS: &str = "id,ts,event,score,amount
a,2025-03-10T09:00:00Z,report,,
a,2025-03-20T09:00:00Z,report,,
a,2025-03-25T09:00:00Z,report,,
a,2025-03-28T09:00:00Z,report,,
a,2025-03-30T09:00:00Z,report,,
a,2025-02-15T09:00:00Z,nps,9,
a,2025-03-05T09:00:00Z,payment,,100
b,2025-01-20T09:00:00Z,report,,
b,2025-03-15T09:00:00Z,nps,3,
b,2025-03-10T09:00:00Z,payment,,250
c,2025-03-29T01:00:00Z,report,,
c,2025-03-29T02:00:00Z,report,,
c,2025-03-29T03:00:00Z,report,,
c,2025-03-29T04:00:00Z,report,,
c,2025-03-29T05:00:00Z,report,,
c,2025-03-29T06:00:00Z,report,,
c,2025-03-29T07:00:00Z,report,,
c,2025-03-29T08:00:00Z,report,,
c,2025-03-29T09:00:00Z,report,,
c,2025-03-29T10:00:00Z,report,,
d,2024-12-15T09:00:00Z,report,,
e,2025-02-10T09:00:00Z,report,,
e,2025-03-20T09:00:00Z,payment,,40
";

fn run() -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    let report = fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-03-31\"",
        "[events.nps]\nwhere = \"event == 'nps'\"\n\
         [events.payment]\nwhere = \"event == 'payment'\"\namount = \"props.amount\"\n\
         [metrics.health]\ntype = \"health\"\nactive = \"report\"\nrevenue = \"payment\"\nbacktest = \"30d\"\n\
         history = \"month\"\nhistory_periods = 3\n\
         [metrics.health.components.usage]\nsignal = \"count\"\nevent = \"report\"\nweight = 3\nscale = [0, 10]\n\
         [metrics.health.components.recency]\nsignal = \"recency\"\nevent = \"report\"\nweight = 1\nscale = [30, 0]\n\
         [metrics.health.components.nps]\nsignal = \"latest\"\nevent = \"nps\"\nvalue = \"props.score\"\nweight = 1\n\
         scale = [0, 10]\n\
         [metrics.revenue_at_risk]\ntype = \"formula\"\nformula = \"health.revenue_at_risk\"",
    ));
    report["metrics"].clone()
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

#[test]
fn scores_bands_and_the_accounts_at_risk_by_hand() {
    let metrics = run();
    let health = &metrics["health"];
    // Population: a, b, c, e (d's only report, 2024-12-15, is before 01-02).
    // a: 5 reports in the window → usage 5/10 = 50; last report 03-30, 1 day → recency
    //    (1 − 30)/(0 − 30) = 96.667; latest NPS 9 → 90. Score (3·50 + 96.667 + 90)/5 = 67.333:
    //    yellow. Revenue 100.
    // b: no report in the window → 0; 70 days since 01-20 → 0 (held at the scale's end); NPS 3
    //    → 30. Score (0 + 0 + 30)/5 = 6: red. Revenue 250.
    // c: 10 reports → 100; 2 days → 93.333; no NPS: the weights present are 3 + 1.
    //    Score (300 + 93.333)/4 = 98.333: green. No revenue.
    // e: 0; 49 days → 0; no NPS. Score 0: red. Revenue 40.
    assert_eq!(health["population"], 4);
    assert_eq!(health["unscored"], 0);
    assert!(close(
        &health["mean_score"],
        (67.0 + 1.0 / 3.0 + 6.0 + 98.0 + 1.0 / 3.0) / 4.0
    ));
    assert_eq!(
        health["distribution"],
        json!([
            {"band": "green", "entities": 1, "share": 0.25, "revenue": 0.0},
            {"band": "yellow", "entities": 1, "share": 0.25, "revenue": 100.0},
            {"band": "red", "entities": 2, "share": 0.5, "revenue": 290.0}
        ])
    );
    // At risk (red), by revenue at stake: b (250) then e (40). b's points: usage 0, recency 0,
    // NPS 30 · 1/5 = 6; e has no NPS.
    let at_risk = health["at_risk"].as_array().unwrap();
    assert_eq!(at_risk.len(), 2);
    assert_eq!(
        at_risk[0],
        json!({"entity": "b", "score": 6.0, "revenue": 250.0, "days_since_active": 70,
               "contributions": {"nps": 6.0, "recency": 0.0, "usage": 0.0}})
    );
    assert_eq!(at_risk[1]["entity"], "e");
    assert_eq!(at_risk[1]["contributions"]["nps"], Value::Null);
    assert_eq!(metrics["revenue_at_risk"]["value"], 290.0);
    // Components' weights as shares: usage 3/5, recency 1/5, nps 1/5 (listed in name order).
    assert_eq!(
        health["components"],
        json!([{"name": "nps", "weight": 0.2}, {"name": "recency", "weight": 0.2}, {"name": "usage", "weight": 0.6}])
    );
}

#[test]
fn the_backtest_scores_an_earlier_date_and_counts_who_churned() {
    let metrics = run();
    let backtest = &metrics["health"]["backtest"];
    // Scored on 03-01 (30 days earlier): the population has a report from 12-02 to 03-01: b
    // (01-20), d (12-15), e (02-10); a and c report only in March.
    // b: usage 0, recency 40 days → 0, no NPS yet (03-15 is later): 0, red.
    // d: 0, 76 days → 0: red. e: 1 report (02-10) → 10; 19 days → 36.667; score
    // (30 + 36.667)/4 = 16.667: red.
    // None of them reports after 03-01: red churned 3 of 3. At as_of, b and e are red again and
    // d is no longer in the population.
    assert_eq!(backtest["date"], "2025-03-01");
    assert_eq!(backtest["population"], 3);
    assert_eq!(
        backtest["churn"],
        json!([
            {"band": "green", "entities": 0, "churned": 0, "rate": null},
            {"band": "yellow", "entities": 0, "churned": 0, "rate": null},
            {"band": "red", "entities": 3, "churned": 3, "rate": 1.0}
        ])
    );
    assert_eq!(
        backtest["transitions"],
        json!([{"from": "red", "to": "red", "entities": 2}, {"from": "red", "to": null, "entities": 1}])
    );
}

#[test]
fn the_history_scores_the_last_day_of_each_month() {
    let metrics = run();
    let history = metrics["health"]["history"].as_array().unwrap();
    // as_of 03-31 ends March, so the three months are January, February and March.
    // January (01-31): the population has a report in the 90 days to 01-31: b (01-20), d
    // (12-15). Window 01-02 to 01-31: b 1 report → 10, 11 days → (11 − 30)/(0 − 30) = 63.333,
    // score (30 + 63.333)/4 = 23.333: red; d 0, 47 days → 0: red. Mean 11.667.
    // February (02-28): b (01-20), d, e (02-10); window 01-30 to 02-28. b: 0, 39 days → 0:
    // red; d: 0: red; e: 1 report → 10, 18 days → 40, (30 + 40)/4 = 17.5: red. Mean 5.833.
    // No payment in either window: no revenue at stake.
    // March (03-31): the scores of `as_of` (scores_bands_and_the_accounts_at_risk_by_hand).
    let counts = |period: &Value| -> Vec<u64> {
        period["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .map(|band| band["entities"].as_u64().unwrap())
            .collect()
    };
    let summary: Vec<(String, String, u64, Vec<u64>)> = history
        .iter()
        .map(|p| {
            (
                p["period"].as_str().unwrap().to_string(),
                p["date"].as_str().unwrap().to_string(),
                p["population"].as_u64().unwrap(),
                counts(p),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("2025-01".into(), "2025-01-31".into(), 2, vec![0, 0, 2]),
            ("2025-02".into(), "2025-02-28".into(), 3, vec![0, 0, 3]),
            ("2025-03".into(), "2025-03-31".into(), 4, vec![1, 1, 2]),
        ]
    );
    assert!(close(&history[0]["mean_score"], (30.0 + 190.0 / 3.0) / 4.0 / 2.0));
    assert!(close(&history[1]["mean_score"], 17.5 / 3.0));
    assert_eq!(history[2]["distribution"], metrics["health"]["distribution"]);
    assert_eq!(history[2]["mean_score"], metrics["health"]["mean_score"]);
}
