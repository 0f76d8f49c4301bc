//! Hand-worked survey fixtures (NPS, CSAT, CES): every expected figure is derived in the comments.

mod common;

use common::{Fixture, config};
use serde_json::{Value, json};

/// UTC, as of Monday 2025-02-10 (February is not over).
///
/// January answers: a 10, b 7, c 3, a 9 again, d 11 (off every scale). February: e without a
/// score, b 8.5 (not whole), c 9. Asked: a, b, c, f in January; c in February.
const EVENTS: &str = "id,ts,event,score
a,2025-01-03T09:00:00Z,ask,
b,2025-01-03T09:00:00Z,ask,
c,2025-01-03T09:00:00Z,ask,
f,2025-01-03T09:00:00Z,ask,
a,2025-01-05T10:00:00Z,answer,10
b,2025-01-10T10:00:00Z,answer,7
c,2025-01-20T10:00:00Z,answer,3
a,2025-01-25T10:00:00Z,answer,9
d,2025-01-26T10:00:00Z,answer,11
c,2025-02-01T10:00:00Z,ask,
e,2025-02-02T10:00:00Z,answer,
b,2025-02-03T10:00:00Z,answer,8.5
c,2025-02-04T10:00:00Z,answer,9
a,2025-02-11T10:00:00Z,answer,0
";

fn run(metrics: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-02-10\"",
        &format!(
            "[events.answer]\nwhere = \"event == 'answer'\"\n[events.ask]\nwhere = \"event == 'ask'\"\n{metrics}"
        ),
    ))
}

#[test]
fn nps_per_month_with_the_response_rate_by_hand() {
    let report = run(
        "[metrics.nps]\ntype = \"survey\"\nscale = \"nps\"\nresponse = \"answer\"\nscore = \"props.score\"\n\
         asked = \"ask\"\ngrain = \"month\"\n\
         [metrics.trend]\ntype = \"formula\"\nformula = \"nps.score - nps.score_last\"",
    );
    let nps = &report["metrics"]["nps"];
    // January: 4 answers on the scale (a 10, b 7, c 3, a 9) from 3 respondents; d's 11 is
    // invalid. Promoters a 10, a 9 = 2; passive b 7 = 1; detractor c 3 = 1.
    // NPS = (2 − 1) ÷ 4 × 100 = 25. Asked a, b, c, f = 4: response rate 3 ÷ 4 = 0.75.
    // February: c 9 = 1 promoter, NPS 100; e (no score) and b (8.5) invalid; asked c: 1 ÷ 1.
    // a's 0 on 02-11 is after as_of: not read.
    // Total: 5 answers (promoters 3, passive 1, detractor 1) from a, b, c; 3 invalid;
    // NPS = (3 − 1) ÷ 5 × 100 = 40; asked a, b, c, f: 3 ÷ 4.
    assert_eq!(
        nps["total"],
        json!({"responses": 5, "respondents": 3, "invalid": 3, "positive": 3, "neutral": 1,
               "negative": 1, "score": 40.0, "asked": 4, "response_rate": 0.75})
    );
    assert_eq!(
        nps["periods"],
        json!([
            {"period": "2025-01", "complete": true, "responses": 4, "respondents": 3, "invalid": 1,
             "positive": 2, "neutral": 1, "negative": 1, "score": 25.0, "asked": 4, "response_rate": 0.75},
            {"period": "2025-02", "complete": false, "responses": 1, "respondents": 1, "invalid": 2,
             "positive": 1, "neutral": 0, "negative": 0, "score": 100.0, "asked": 1, "response_rate": 1.0}
        ])
    );
    assert_eq!(nps["grain"], "month");
    // score_last is the last complete period's (January, 25): 40 − 25 = 15.
    assert_eq!(report["metrics"]["trend"]["value"], 15.0);
}

#[test]
fn csat_and_ces_read_the_same_answers_on_their_own_scales() {
    let report = run(
        "[metrics.csat]\ntype = \"survey\"\nscale = \"csat\"\nmax = 10\nresponse = \"answer\"\nscore = \"props.score\"\n\
         [metrics.ces]\ntype = \"survey\"\nscale = \"ces\"\nresponse = \"answer\"\nscore = \"props.score\"",
    );
    // CSAT on 1–10: satisfied are the top two answers, 9–10: a 10, a 9, c 9 = 3; dissatisfied
    // 1–2: none; b 7 and c 3 neutral. d 11, e (none), b 8.5 invalid. CSAT = 3 ÷ 5 = 0.6.
    assert_eq!(
        report["metrics"]["csat"]["total"],
        json!({"responses": 5, "respondents": 3, "invalid": 3, "positive": 3, "neutral": 2,
               "negative": 0, "score": 0.6, "asked": null, "response_rate": null})
    );
    // CES on 1–7: only b 7 (easy, 5–7) and c 3 (difficult, 1–3) are on the scale; the six
    // others are invalid. CES = the mean score, (7 + 3) ÷ 2 = 5.
    let ces = &report["metrics"]["ces"];
    assert_eq!(
        ces["total"],
        json!({"responses": 2, "respondents": 2, "invalid": 6, "positive": 1, "neutral": 0,
               "negative": 1, "score": 5.0, "asked": null, "response_rate": null})
    );
    // Without a grain there are no periods.
    assert_eq!(ces["grain"], Value::Null);
    assert!(ces.get("periods").is_none());
}

#[test]
fn a_survey_without_answers_has_no_score() {
    let report = run("[events.never]\nwhere = \"event == 'never'\"\n\
         [metrics.nps]\ntype = \"survey\"\nscale = \"nps\"\nresponse = \"never\"\nscore = \"props.score\"\ngrain = \"month\"");
    let nps = &report["metrics"]["nps"];
    assert_eq!(nps["total"]["responses"], 0);
    assert_eq!(nps["total"]["score"], Value::Null);
    // No period with an answer: the period of as_of alone, with zeros.
    assert_eq!(nps["periods"].as_array().unwrap().len(), 1);
    assert_eq!(nps["periods"][0]["period"], "2025-02");
    assert_eq!(nps["periods"][0]["score"], Value::Null);
}

/// An answer: (entity, day 0–59 of 2025, score: 0–12 in halves, or none).
type Answer = (u8, u16, Option<u8>);

fn answers_csv(answers: &[Answer]) -> String {
    let mut text = String::from("id,ts,event,score\n");
    for (entity, day, score) in answers {
        let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(u64::from(*day));
        let score = score.map_or(String::new(), |halves| format!("{}", f64::from(halves) / 2.0));
        text.push_str(&format!("e{entity},{date}T12:00:00Z,answer,{score}\n"));
    }
    text
}

fn survey_report(answers: &[Answer]) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", &answers_csv(answers));
    let mut metrics = String::from("[events.answer]\nwhere = \"event == 'answer'\"\n");
    for scale in ["nps", "csat", "ces"] {
        metrics.push_str(&format!(
            "[metrics.{scale}]\ntype = \"survey\"\nscale = \"{scale}\"\nresponse = \"answer\"\n\
             score = \"props.score\"\ngrain = \"week\"\n"
        ));
    }
    fixture.run(&config("timezone = \"UTC\"\nas_of = \"2025-03-01\"", &metrics))
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 32, ..Default::default() })]

    /// Every answer is counted once, as valid or not; each valid one is positive, neutral or
    /// negative; the periods add up to the total; and row order changes nothing.
    #[test]
    fn answers_partition_and_periods_add_up(
        answers in proptest::collection::vec((0u8..6, 0u16..60, proptest::option::of(0u8..25)), 0..40),
    ) {
        let report = survey_report(&answers);
        let mut reversed = answers.clone();
        reversed.reverse();
        proptest::prop_assert_eq!(&report["metrics"], &survey_report(&reversed)["metrics"]);
        for scale in ["nps", "csat", "ces"] {
            let survey = &report["metrics"][scale];
            let count = |v: &Value, key: &str| v[key].as_u64().unwrap();
            let total = &survey["total"];
            proptest::prop_assert_eq!(count(total, "responses") + count(total, "invalid"), answers.len() as u64);
            for figures in std::iter::once(total).chain(survey["periods"].as_array().unwrap()) {
                proptest::prop_assert_eq!(
                    count(figures, "positive") + count(figures, "neutral") + count(figures, "negative"),
                    count(figures, "responses")
                );
                proptest::prop_assert!(count(figures, "respondents") <= count(figures, "responses"));
            }
            for key in ["responses", "invalid", "positive", "neutral", "negative"] {
                let sum: u64 = survey["periods"].as_array().unwrap().iter().map(|p| count(p, key)).sum();
                proptest::prop_assert_eq!(sum, count(total, key));
            }
        }
    }
}

#[test]
fn nps_by_plan_with_a_value_for_entities_without_one() {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    // d and f have no row: their plan is null.
    fixture.file("accounts.csv", "id,plan\na,pro\nb,free\nc,pro\ne,free\n");
    let report = fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-02-10\"",
        "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
         [events.answer]\nwhere = \"event == 'answer'\"\n[events.ask]\nwhere = \"event == 'ask'\"\n\
         [metrics.nps]\ntype = \"survey\"\nscale = \"nps\"\nresponse = \"answer\"\nscore = \"props.score\"\n\
         asked = \"ask\"\ngrain = \"month\"\nby = [\"attr.plan\"]",
    ));
    let segments = report["metrics"]["nps"]["segments"].as_array().unwrap().clone();
    let summary: Vec<Value> = segments
        .iter()
        .map(|s| {
            let t = &s["total"];
            json!([
                s["segment"]["attr.plan"],
                t["responses"],
                t["invalid"],
                t["score"],
                t["asked"]
            ])
        })
        .collect();
    // null (d, f): d's 11 is invalid, no answer on the scale; f was asked in January.
    // free (b, e): b's 7 is a passive (NPS 0); e's missing score and b's 8.5 are invalid; b asked.
    // pro (a, c): a 10, c 3, a 9, c 9 = 3 promoters, 1 detractor: (3 − 1) ÷ 4 × 100 = 50; a, c asked.
    // Values in the order of rows: null first, then text.
    assert_eq!(
        summary,
        vec![
            json!([null, 0, 1, null, 1]),
            json!(["free", 1, 2, 0.0, 1]),
            json!(["pro", 4, 0, 50.0, 2]),
        ]
    );
    // Each value has every period of the survey: pro in January (a 10, c 3, a 9: (2 − 1) ÷ 3 ×
    // 100) and February (c 9: 100, c asked again); free has no answer on the scale in February.
    let pro = &segments[2]["periods"];
    assert_eq!(pro[0]["score"], (2.0 - 1.0) / 3.0 * 100.0);
    assert_eq!(pro[1]["score"], 100.0);
    assert_eq!(pro[1]["asked"], 1);
    let free = &segments[1]["periods"];
    assert_eq!(free.as_array().unwrap().len(), 2);
    assert_eq!(free[1]["responses"], 0);
    assert_eq!(free[1]["score"], Value::Null);
    assert_eq!(free[1]["asked"], 0);
}

#[test]
fn closing_the_loop_counts_negative_answers_followed_up_in_time_by_hand() {
    // NPS answers: x 2 (01-10 10:00), y 5 (01-12 10:00), z 6 (01-20 10:00), w 10 (01-21), v 0
    // (02-03 10:00). Calls: x 01-11 09:00 (23 hours after), y 01-16 10:00 (96 hours), z 01-19
    // (before its answer: not a follow-up of it), w 01-21 11:00 (a promoter: not counted), v
    // 02-03 10:00 (at the answer's time: 0 hours).
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event,score\n\
         x,2025-01-10T10:00:00Z,answer,2\nx,2025-01-11T09:00:00Z,call,\n\
         y,2025-01-12T10:00:00Z,answer,5\ny,2025-01-16T10:00:00Z,call,\n\
         z,2025-01-19T10:00:00Z,call,\nz,2025-01-20T10:00:00Z,answer,6\n\
         w,2025-01-21T10:00:00Z,answer,10\nw,2025-01-21T11:00:00Z,call,\n\
         v,2025-02-03T10:00:00Z,answer,0\nv,2025-02-03T10:00:00Z,call,\n",
    );
    let report = fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-02-10\"",
        "[events.answer]\nwhere = \"event == 'answer'\"\n[events.call]\nwhere = \"event == 'call'\"\n\
         [metrics.nps]\ntype = \"survey\"\nscale = \"nps\"\nresponse = \"answer\"\nscore = \"props.score\"\n\
         grain = \"month\"\nfollow_up = \"call\"\nfollow_up_within = \"2d\"",
    ));
    let nps = &report["metrics"]["nps"];
    // January: detractors x, y, z; within 48 hours only x (23 h): 1 of 3. Followed at all: x 23 h
    // and y 96 h, median (23 + 96) / 2 = 59.5 h. February: v, at once: 1 of 1, median 0 h.
    // Total: 2 of 4 in time (x, v); delays 0, 23, 96 h: median 23 h.
    assert_eq!(
        nps["periods"][0]["follow_up"],
        json!({"followed": 1, "rate": 1.0 / 3.0, "median_hours": 59.5})
    );
    assert_eq!(
        nps["periods"][1]["follow_up"],
        json!({"followed": 1, "rate": 1.0, "median_hours": 0.0})
    );
    assert_eq!(
        nps["total"]["follow_up"],
        json!({"followed": 2, "rate": 0.5, "median_hours": 23.0})
    );
}

#[test]
fn waves_compare_the_same_entities_period_on_period_by_hand() {
    // NPS by month. January: a 10 then 3 (its latest: 3), b 9, c 7. February: a 9, b 8, d 10.
    // March: a 10; b answers 9 and 5 at the same time (the higher, 9, counts).
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event,score\n\
         a,2025-01-05T10:00:00Z,answer,10\na,2025-01-20T10:00:00Z,answer,3\nb,2025-01-06T10:00:00Z,answer,9\n\
         c,2025-01-07T10:00:00Z,answer,7\na,2025-02-05T10:00:00Z,answer,9\nb,2025-02-06T10:00:00Z,answer,8\n\
         d,2025-02-07T10:00:00Z,answer,10\na,2025-03-02T10:00:00Z,answer,10\nb,2025-03-02T10:00:00Z,answer,5\n\
         b,2025-03-02T10:00:00Z,answer,9\n",
    );
    let report = fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-03-31\"",
        "[events.answer]\nwhere = \"event == 'answer'\"\n\
         [metrics.nps]\ntype = \"survey\"\nscale = \"nps\"\nresponse = \"answer\"\nscore = \"props.score\"\n\
         grain = \"month\"\nwaves = true",
    ));
    let periods = report["metrics"]["nps"]["periods"].as_array().unwrap().clone();
    let waves: Vec<Value> = periods.iter().map(|p| p["wave"].clone()).collect();
    // January has no month before: nobody to compare.
    // February: a and b answered in both. Then a 3 (detractor), b 9 (promoter): NPS (1 − 1)/2
    // = 0. Now a 9 (promoter), b 8 (passive): (1 − 0)/2 × 100 = 50. Change +50.
    // March: a and b again (d did not answer in March). Then a 9, b 8: 50. Now a 10, b 9: 100.
    // Change +50.
    assert_eq!(
        waves,
        vec![
            json!({"entities": 0, "before": null, "now": null, "change": null}),
            json!({"entities": 2, "before": 0.0, "now": 50.0, "change": 50.0}),
            json!({"entities": 2, "before": 50.0, "now": 100.0, "change": 50.0}),
        ]
    );
}

#[test]
fn nps_per_cohort_of_first_answer_by_hand() {
    let report = run("[cohorts.first_answer]\nstart = \"answer\"\ngrain = \"month\"\n\
         [metrics.nps]\ntype = \"survey\"\nscale = \"nps\"\nresponse = \"answer\"\nscore = \"props.score\"\n\
         asked = \"ask\"\ncohort = \"first_answer\"");
    let segments = &report["metrics"]["nps"]["segments"];
    // First answers: a 01-05, b 01-10, c 01-20, d 01-26 (January); e 02-02 (February); f never
    // answers and is in no cohort row, so its ask counts nowhere.
    // January's members answered a 10, b 7, c 3, a 9, c 9 on the scale (promoters a, a, c = 3,
    // passive b, detractor c 3): NPS (3 − 1) ÷ 5 × 100 = 40; d's 11 and b's 8.5 invalid.
    // Asked of them a, b, c: all three answered, response rate 1.
    // February's e answered without a score: invalid, no score; never asked.
    assert_eq!(segments[0]["segment"], json!({"cohort": "2025-01"}), "{segments}");
    assert_eq!(
        segments[0]["total"],
        json!({"responses": 5, "respondents": 3, "invalid": 2, "positive": 3, "neutral": 1,
               "negative": 1, "score": 40.0, "asked": 3, "response_rate": 1.0})
    );
    assert_eq!(segments[1]["segment"], json!({"cohort": "2025-02"}));
    assert_eq!(
        segments[1]["total"],
        json!({"responses": 0, "respondents": 0, "invalid": 1, "positive": 0, "neutral": 0,
               "negative": 0, "score": null, "asked": 0, "response_rate": null})
    );
    assert_eq!(segments.as_array().unwrap().len(), 2);
}

#[test]
fn nps_by_revenue_band_at_each_answer_by_hand() {
    let fixture = Fixture::new();
    // a pays 200 on 01-02, b 50 on 01-08, c nothing. Answers: a 10 on 01-05 (200 in the 30
    // days up to it: band 100 of [100, 1000]), b 7 on 01-10 (50: band 0, below the first
    // bound), c 3 on 01-20 (no revenue: null), a 9 on 02-20 (its 200 is 49 days old: null).
    fixture.file(
        "events.csv",
        "id,ts,event,score,amount\na,2025-01-02T10:00:00Z,pay,,200\nb,2025-01-08T10:00:00Z,pay,,50\n\
         a,2025-01-05T10:00:00Z,answer,10,\nb,2025-01-10T10:00:00Z,answer,7,\n\
         c,2025-01-20T10:00:00Z,answer,3,\na,2025-02-20T10:00:00Z,answer,9,\n",
    );
    let report = fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-02-28\"",
        "[events.answer]\nwhere = \"event == 'answer'\"\n\
         [events.pay]\nwhere = \"event == 'pay'\"\namount = \"props.amount\"\n\
         [metrics.nps]\ntype = \"survey\"\nscale = \"nps\"\nresponse = \"answer\"\nscore = \"props.score\"\n\
         revenue = \"pay\"\nrevenue_bands = [100, 1000]",
    ));
    let rows: Vec<(Value, u64, Value)> = report["metrics"]["nps"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["segment"]["revenue_band"].clone(),
                s["total"]["responses"].as_u64().unwrap(),
                s["total"]["score"].clone(),
            )
        })
        .collect();
    // No revenue: a 9 (promoter) and c 3 (detractor): (1 − 1) ÷ 2 = 0. Band 0: b 7 (passive),
    // NPS 0. Band 100: a 10, NPS 100. The total is every answer: (2 − 1) ÷ 4 × 100 = 25.
    assert_eq!(
        rows,
        vec![
            (Value::Null, 2, json!(0.0)),
            (json!(0.0), 1, json!(0.0)),
            (json!(100.0), 1, json!(100.0)),
        ]
    );
    assert_eq!(report["metrics"]["nps"]["total"]["score"], json!(25.0));
}
