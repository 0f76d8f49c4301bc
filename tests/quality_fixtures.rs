//! Data hygiene: duplicates, excluded rows and bad rows, each counted by reason.

mod common;

use common::{Fixture, cohorts, config};

const RETENTION: &str = "[cohorts.weekly]\nstart = \"report\"\ngrain = \"week\"\n\
    [metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"any\"\nperiods = [0, 1]";

/// 9 rows: 5 good, 1 exact duplicate, 1 bot, and 4 unreadable.
const MESSY: &str = "id,ts,event,agent
a,2025-01-06T10:00:00Z,report,web
a,2025-01-06T10:00:00Z,report,web
a,2025-01-07T10:00:00Z,login,Googlebot/2.1
b,2025-01-06T10:00:00Z,report,web
b,2025-01-07T10:00:00Z,login,web
a,yesterday,login,web
,2025-01-07T10:00:00Z,login,web
c,2025-01-07T10:00:00Z,,web
c,2025-01-07T10:00:00Z,login
c,2025-01-08T10:00:00Z,login,web
";

/// Runs `RETENTION` on `data` (a CSV file) with exact de-duplication and the bot rule.
fn run_with_rules(data: &str) -> serde_json::Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", data);
    let quality = "[quality]\ndedupe = \"exact\"\nexclude = \"lower(props.agent) contains 'bot'\"\n";
    fixture.run(&config(
        "as_of = \"2025-01-31\"",
        &format!("{quality}{RETENTION}"),
    ))
}

#[test]
fn every_row_is_accounted_for() {
    let report = run_with_rules(MESSY);
    let input = &report["input"];
    // 10 data rows read: 1 bad time, 1 missing entity, 1 missing event, 1 with 3 fields of 4;
    // one exact copy of a's first row; one Googlebot row excluded; 4 kept.
    assert_eq!(input["rows"], 10);
    assert_eq!(
        input["rejected"],
        serde_json::json!({"bad_amount": 0, "bad_encoding": 0, "bad_time": 1, "malformed_row": 1, "missing_entity": 1,
                           "missing_event": 1, "missing_time": 0})
    );
    assert_eq!(input["duplicates"], 1);
    assert_eq!(input["excluded"], 1);
    assert_eq!(input["kept"], 4);
    // The bot row was a's only day-1 return, so a is not retained on day 1; b is.
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 2, vec![2, 1], vec![2, 2])]
    );
}

#[test]
fn rules_and_duplicates_hold_past_255_distinct_event_names_and_values() {
    // 600 filler rows, each with an event name and an agent of its own, push both columns'
    // codes past 255 (stored in one byte a row until then, two after): `login` is the 602nd
    // event name and the bot's agent the 603rd value.
    let mut data = String::from("id,ts,event,agent\na,2025-01-06T10:00:00Z,report,web\n");
    data.push_str("b,2025-01-06T10:00:00Z,report,web\n");
    for i in 0..600 {
        data.push_str(&format!("f{i},2025-01-08T10:00:00Z,e{i},agent {i}\n"));
    }
    data.push_str("a,2025-01-07T10:00:00Z,login,agent 599\n");
    data.push_str("a,2025-01-07T10:00:00Z,login,agent 599\n");
    data.push_str("b,2025-01-07T10:00:00Z,login,Googlebot/2.1\n");
    let report = run_with_rules(&data);
    let input = &report["input"];
    // 605 rows: a's second login is a copy, b's login a bot; 603 kept (a, b, 600 fillers).
    assert_eq!(input["rows"], 605);
    assert_eq!(input["duplicates"], 1);
    assert_eq!(input["excluded"], 1);
    assert_eq!(input["kept"], 603);
    assert_eq!(input["entities"], 602);
    // a and b start in the week of 2025-01-06; only a returns on day 1 (b's login was a bot);
    // the fillers have no `report` and are in no cohort.
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 2, vec![2, 1], vec![2, 2])]
    );
}

#[test]
fn a_rule_over_several_columns_follows_three_valued_logic() {
    // `bot or (internal and score below 3)`, each side over a column of its own; a missing
    // value makes its comparison null, and a null rule keeps the row.
    let data = "id,ts,event,agent,plan,score
a,2025-01-06T10:00:00Z,report,web,pro,5
a,2025-01-07T10:00:00Z,login,Googlebot/2.1,pro,5
b,2025-01-06T10:00:00Z,report,web,internal,1
b,2025-01-07T10:00:00Z,login,web,internal,9
c,2025-01-06T10:00:00Z,report,,internal,
c,2025-01-07T10:00:00Z,login,Crawlerbot,,
d,2025-01-06T10:00:00Z,report,web,,2
";
    let fixture = Fixture::new();
    fixture.file("events.csv", data);
    let quality = "[quality]\nexclude = \"lower(props.agent) contains 'bot' or \
        (props.plan == 'internal' and props.score < 3)\"\n";
    let report = fixture.run(&config(
        "as_of = \"2025-01-31\"",
        &format!("{quality}{RETENTION}"),
    ));
    // Row by row: false or (false and false) = false, kept; true (a bot), excluded; false or
    // (true and true) = true, excluded; false or (true and false) = false, kept; null or (true
    // and null) = null, kept; true or (null and null) = true, excluded; false or (null and
    // true) = null, kept. Three excluded, four kept.
    let input = &report["input"];
    assert_eq!(input["excluded"], 3);
    assert_eq!(input["kept"], 4);
    // b's only report was excluded: the cohort is a, c and d, all active on day 0; the two
    // day-1 logins left (a's and c's) were both excluded, and b's is not a member's.
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 3, vec![3, 0], vec![3, 3])]
    );
}

#[test]
fn without_rules_nothing_is_dropped_silently() {
    let fixture = Fixture::new();
    fixture.file("events.csv", MESSY);
    let report = fixture.run(&config("as_of = \"2025-01-31\"", RETENTION));
    // No dedupe, no exclude: the copy and the bot row are kept; the bot's login retains a on day 1.
    assert_eq!(report["input"]["duplicates"], 0);
    assert_eq!(report["input"]["excluded"], 0);
    assert_eq!(report["input"]["kept"], 6);
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 2, vec![2, 2], vec![2, 2])]
    );
}

#[test]
fn on_bad_row_fail_names_file_row_and_reason() {
    let fixture = Fixture::new();
    fixture.file("events.csv", MESSY);
    let quality = "[quality]\non_bad_row = \"fail\"\n";
    let error = fixture.run_err(&config(
        "as_of = \"2025-01-31\"",
        &format!("{quality}{RETENTION}"),
    ));
    let path = fixture.path().join("events.csv");
    // `a,yesterday,…` is on line 7 of the file (the header is line 1).
    assert_eq!(
        error,
        format!(
            "{}:7: bad_time: cannot read time `yesterday` (source `events`, on_bad_row = \"fail\")",
            path.display()
        )
    );
}

#[test]
fn epoch_times_need_their_format() {
    let fixture = Fixture::new();
    fixture.file(
        "events.csv",
        "id,ts,event\na,1736157600,report\na,1736244000,login\n",
    );
    let auto = fixture.run(&config("as_of = \"2025-01-31\"", RETENTION));
    assert_eq!(auto["input"]["rejected"]["bad_time"], 2);
    let with_format = config("as_of = \"2025-01-31\"", RETENTION).replace(
        "event = \"event\"",
        "event = \"event\"\ntime_format = \"epoch_s\"",
    );
    let report = fixture.run(&with_format);
    // 1736157600 = 2025-01-06T10:00:00Z; 1736244000 = one day later.
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 1, vec![1, 1], vec![1, 1])]
    );
}

#[test]
fn a_property_no_source_has_is_an_error_with_a_suggestion() {
    let fixture = Fixture::new();
    fixture.file("events.csv", MESSY);
    let quality = "[quality]\nexclude = \"lower(props.agnt) contains 'bot'\"\n";
    let error = fixture.run_err(&config(
        "as_of = \"2025-01-31\"",
        &format!("{quality}{RETENTION}"),
    ));
    assert!(
        error.starts_with("error[E0302]: no event source has a column `agnt`\n"),
        "{error}"
    );
    assert!(error.contains("help: did you mean `props.agent`?"), "{error}");
}
