//! Hand-worked retention fixtures: every expected figure is derived in the comments.

mod common;

use common::{Fixture, cohorts, config, total};

/// Three accounts, UTC, Monday weeks, as_of 2025-01-22.
///
/// a: first report Mon 2025-01-06 (d0); reports on 01-07 (d1), 01-13 (d7), 01-20 (d14).
/// b: first report Wed 2025-01-08 (d0); reports on 01-09 (d1), 01-10 (d2), 02-07 (d30, after as_of).
/// c: first report Tue 2025-01-14 (d0); another report the same day (d0), 01-21 (d7).
/// Weekly cohorts: a and b in 2025-01-06, c in 2025-01-13.
const EVENTS: &str = "id,ts,event
a,2025-01-06T10:00:00Z,report
a,2025-01-07T09:00:00Z,report
a,2025-01-13T09:00:00Z,report
a,2025-01-20T09:00:00Z,report
b,2025-01-08T11:00:00Z,report
b,2025-01-09T11:00:00Z,report
b,2025-01-10T11:00:00Z,report
b,2025-02-07T11:00:00Z,report
c,2025-01-14T08:00:00Z,report
c,2025-01-14T18:00:00Z,report
c,2025-01-21T08:00:00Z,report
";

fn project() -> &'static str {
    "timezone = \"UTC\"\nweek_start = \"monday\"\nas_of = \"2025-01-22\""
}

const WEEKLY: &str = "[cohorts.weekly]\nstart = \"report\"\ngrain = \"week\"\n";

#[test]
fn n_day_by_day_with_eligibility_and_total() {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    let metric = "[metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nmode = \"n-day\"\nunit = \"day\"\nperiods = [0, 1, 7, 14, 30]";
    let report = fixture.run(&config(project(), &format!("{WEEKLY}\n{metric}")));
    // Cohort 2025-01-06 (a, b):
    //   retained d0: a, b = 2 · d1: a (01-07), b (01-09) = 2 · d7: a (01-13); b's 01-15 is empty = 1
    //   d14: a (01-20); b's 01-22 is empty = 1 · d30: b's 02-07 is after as_of, ignored = 0
    //   eligible (period end ≤ 01-22): d0, d1, d7 = 2 · d14: a 01-20, b 01-22 = 2 · d30: 02-05, 02-07 = 0
    // Cohort 2025-01-13 (c): d0 = 1 · d1 (01-15) = 0 · d7 (01-21) = 1 · d14, d30 = 0
    //   eligible: d0 01-14, d1 01-15, d7 01-21 = 1 · d14 ends 01-28 > as_of = 0 · d30 = 0
    assert_eq!(
        cohorts(&report, "m"),
        vec![
            ("2025-01-06".into(), 2, vec![2, 2, 1, 1, 0], vec![2, 2, 2, 2, 0]),
            ("2025-01-13".into(), 1, vec![1, 0, 1, 0, 0], vec![1, 1, 1, 0, 0]),
        ]
    );
    // Per-cohort rate = retained / size, null where no member is eligible (nothing observable
    // yet, not a retention of 0): [1, 1, 0.5, 0.5, null] and [1, 0, 1, null, null].
    let rates = |row: usize| -> Vec<Option<f64>> {
        report["metrics"]["m"]["cohorts"][row]["rate"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64())
            .collect()
    };
    assert_eq!(rates(0), vec![Some(1.0), Some(1.0), Some(0.5), Some(0.5), None]);
    assert_eq!(rates(1), vec![Some(1.0), Some(0.0), Some(1.0), None, None]);
    assert!(report["metrics"]["m"]["cohorts"][0]["rate"][4].is_null());
    // Total counts eligible entities only:
    //   d0 3/3 · d1 (a, b; c not retained) 2/3 · d7 (a, c) 2/3 · d14 (a; c not eligible) 1/2 · d30 0/0 = null
    assert_eq!(
        total(&report, "m"),
        (
            vec![3, 2, 2, 1, 0],
            vec![3, 3, 3, 2, 0],
            vec![Some(1.0), Some(2.0 / 3.0), Some(2.0 / 3.0), Some(0.5), None]
        )
    );
    assert_eq!(report["metrics"]["m"]["total"]["size"], 3);
}

#[test]
fn unbounded_by_day() {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    let metric = "[metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nmode = \"unbounded\"\nunit = \"day\"\nperiods = [1, 7, 14]";
    let report = fixture.run(&config(project(), &format!("{WEEKLY}\n{metric}")));
    // Largest offset up to as_of: a 14 (01-20), b 2 (01-10; 02-07 is after as_of), c 7 (01-21).
    // 2025-01-06: k1: a, b = 2 · k7: a = 1 · k14: a = 1; eligible ends d0+k: all ≤ 01-22 = 2, 2, 2
    // 2025-01-13: k1, k7: c = 1 · k14: 0; eligible: 01-15 and 01-21 yes, 01-28 no = 1, 1, 0
    assert_eq!(
        cohorts(&report, "m"),
        vec![
            ("2025-01-06".into(), 2, vec![2, 1, 1], vec![2, 2, 2]),
            ("2025-01-13".into(), 1, vec![1, 1, 0], vec![1, 1, 0]),
        ]
    );
    // Total: k1 3/3 · k7 (a, c) 2/3 · k14 (a) 1/2.
    assert_eq!(
        total(&report, "m"),
        (
            vec![3, 2, 1],
            vec![3, 3, 2],
            vec![Some(1.0), Some(2.0 / 3.0), Some(0.5)]
        )
    );
}

#[test]
fn bracket_by_day() {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    let metric = "[metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nmode = \"bracket\"\nunit = \"day\"\nbrackets = [[1, 2], [3, 10]]";
    let report = fixture.run(&config(project(), &format!("{WEEKLY}\n{metric}")));
    // Offsets: a {0, 1, 7, 14}, b {0, 1, 2}, c {0, 7}.
    // 2025-01-06: [1,2]: a, b = 2 · [3,10]: a = 1; eligible (ends d0+2, d0+10): 2, 2
    // 2025-01-13: [1,2]: 0 · [3,10]: c = 1; eligible: 01-16 yes, 01-24 no = 1, 0
    assert_eq!(
        cohorts(&report, "m"),
        vec![
            ("2025-01-06".into(), 2, vec![2, 1], vec![2, 2]),
            ("2025-01-13".into(), 1, vec![0, 1], vec![1, 0]),
        ]
    );
    // Total: [1,2] 2/3 · [3,10] a only (c not eligible) 1/2.
    assert_eq!(
        total(&report, "m"),
        (vec![2, 1], vec![3, 2], vec![Some(2.0 / 3.0), Some(0.5)])
    );
    assert_eq!(
        report["metrics"]["m"]["periods"],
        serde_json::json!([[1, 2], [3, 10]])
    );
}

/// One account starting on Friday 2025-01-10 with returns on Mon 01-13 and Sun 01-26.
const WEEK_EVENTS: &str = "id,ts,event
x,2025-01-10T12:00:00Z,report
x,2025-01-13T12:00:00Z,report
x,2025-01-26T12:00:00Z,report
";

fn week_metric(align: &str) -> String {
    format!(
        "{WEEKLY}\n[metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nunit = \"week\"\nalign = \"{align}\"\nperiods = [0, 1, 2]"
    )
}

#[test]
fn weeks_from_the_entity_start() {
    let fixture = Fixture::new();
    fixture.file("events.csv", WEEK_EVENTS);
    let project = "week_start = \"monday\"\nas_of = \"2025-01-26\"";
    let report = fixture.run(&config(project, &week_metric("entity")));
    // Days after Friday 01-10: 0, 3 (Mon 01-13), 16 (Sun 01-26) → weeks 0, 0, 2 → retained [1, 0, 1].
    // Week k ends on day 7k + 6: 01-16, 01-23 ≤ as_of; 01-30 > as_of → eligible [1, 1, 0].
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 1, vec![1, 0, 1], vec![1, 1, 0])]
    );
}

#[test]
fn calendar_weeks_monday() {
    let fixture = Fixture::new();
    fixture.file("events.csv", WEEK_EVENTS);
    let project = "week_start = \"monday\"\nas_of = \"2025-01-26\"";
    let report = fixture.run(&config(project, &week_metric("calendar")));
    // Monday weeks: 01-10 is in the week of 01-06 (week 0); Mon 01-13 starts week 1; Sun 01-26 closes
    // week 2 (01-20..01-26) → retained [1, 1, 1]. Weeks end 01-12, 01-19, 01-26 ≤ as_of → eligible [1, 1, 1].
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 1, vec![1, 1, 1], vec![1, 1, 1])]
    );
}

#[test]
fn calendar_weeks_sunday() {
    let fixture = Fixture::new();
    fixture.file("events.csv", WEEK_EVENTS);
    let project = "week_start = \"sunday\"\nas_of = \"2025-01-26\"";
    let report = fixture.run(&config(project, &week_metric("calendar")));
    // Sunday weeks: 01-10 is in the week of Sun 01-05 (week 0), Mon 01-13 in the week of 01-12 (week 1),
    // Sun 01-26 starts week 3 → retained [1, 1, 0]. Weeks 0–2 end 01-11, 01-18, 01-25 → eligible [1, 1, 1].
    // The cohort is labelled by its Sunday.
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-05".into(), 1, vec![1, 1, 0], vec![1, 1, 1])]
    );
}

#[test]
fn months_and_quarters() {
    let fixture = Fixture::new();
    // Start on 01-31; returns one day later (02-01, month 1) and on 03-31 (month 2).
    fixture.file(
        "events.csv",
        "id,ts,event\nx,2025-01-31T12:00:00Z,report\nx,2025-02-01T12:00:00Z,report\nx,2025-03-31T12:00:00Z,report\n",
    );
    let metrics = "[cohorts.monthly]\nstart = \"report\"\ngrain = \"month\"\n[cohorts.quarterly]\nstart = \"report\"\ngrain = \"quarter\"\n\
        [metrics.m]\ntype = \"retention\"\ncohort = \"monthly\"\nreturn = \"report\"\nunit = \"month\"\nperiods = [0, 1, 2, 3]\n\
        [metrics.q]\ntype = \"retention\"\ncohort = \"quarterly\"\nreturn = \"report\"\nunit = \"month\"\nperiods = [0, 1, 2, 3]";
    let report = fixture.run(&config("as_of = \"2025-03-31\"", metrics));
    // Month indexes: Jan 0, Feb 1, Mar 2 → retained [1, 1, 1, 0].
    // Months end 01-31, 02-28, 03-31 ≤ as_of; April ends 04-30 → eligible [1, 1, 1, 0].
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01".into(), 1, vec![1, 1, 1, 0], vec![1, 1, 1, 0])]
    );
    assert_eq!(
        cohorts(&report, "q"),
        vec![("2025-Q1".into(), 1, vec![1, 1, 1, 0], vec![1, 1, 1, 0])]
    );
}

#[test]
fn n_day_by_week_and_month_units() {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    let metrics = "[metrics.w]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nunit = \"week\"\nperiods = [0, 1, 2]\n\
        [metrics.mo]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nunit = \"month\"\nperiods = [0, 1]";
    let report = fixture.run(&config(project(), &format!("{WEEKLY}\n{metrics}")));
    // Weeks (days div 7): a {0, 0, 1, 2}, b {0, 0, 0} (02-07 ignored), c {0, 0, 1}.
    // 2025-01-06: w0 2 · w1 a = 1 · w2 a = 1; ends d0+6, d0+13, d0+20: a 01-12, 01-19, 01-26; b 01-14, 01-21, 01-28
    //   → eligible [2, 2, 0]. 2025-01-13: c w0, w1 → [1, 1, 0]; ends 01-20, 01-27 → eligible [1, 0, 0].
    assert_eq!(
        cohorts(&report, "w"),
        vec![
            ("2025-01-06".into(), 2, vec![2, 1, 1], vec![2, 2, 0]),
            ("2025-01-13".into(), 1, vec![1, 1, 0], vec![1, 0, 0]),
        ]
    );
    // Months: everything up to as_of is in January → m0 for all, m1 none; January ends 01-31 > as_of,
    // so no month is complete yet → eligible [0, 0].
    assert_eq!(
        cohorts(&report, "mo"),
        vec![
            ("2025-01-06".into(), 2, vec![2, 0], vec![0, 0]),
            ("2025-01-13".into(), 1, vec![1, 0], vec![0, 0]),
        ]
    );
    assert_eq!(total(&report, "mo"), (vec![0, 0], vec![0, 0], vec![None, None]));
}

const ZONE_METRIC: &str = "[cohorts.weekly]\nstart = \"report\"\ngrain = \"week\"\n\
    [metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nperiods = [0, 1]";

#[test]
fn time_zone_east_of_utc() {
    let fixture = Fixture::new();
    // e: 2025-01-05T20:00Z is Mon 01-06 05:00 in Tokyo (UTC+9); the return 2025-01-06T14:00Z is
    //    01-06 23:00 in Tokyo: the same local day → day 0, not day 1.
    // z: zone-less times are Tokyo local: 2025-01-06 08:00 and 2025-01-07 08:00 → days 0 and 1.
    fixture.file(
        "events.csv",
        "id,ts,event\ne,2025-01-05T20:00:00Z,report\ne,2025-01-06T14:00:00Z,report\n\
         z,2025-01-06 08:00:00,report\nz,2025-01-07 08:00:00,report\n",
    );
    let tokyo = fixture.run(&config(
        "timezone = \"Asia/Tokyo\"\nas_of = \"2025-01-31\"",
        ZONE_METRIC,
    ));
    // Both start on Monday 01-06 in Tokyo → one cohort; d1: z only.
    assert_eq!(
        cohorts(&tokyo, "m"),
        vec![("2025-01-06".into(), 2, vec![2, 1], vec![2, 2])]
    );
    let utc = fixture.run(&config("timezone = \"UTC\"\nas_of = \"2025-01-31\"", ZONE_METRIC));
    // In UTC, e starts Sunday 01-05 (week of 12-30) and returns on day 1; z's zone-less times are
    // UTC: 01-06 and 01-07 → day 0 and 1.
    assert_eq!(
        cohorts(&utc, "m"),
        vec![
            ("2024-12-30".into(), 1, vec![1, 1], vec![1, 1]),
            ("2025-01-06".into(), 1, vec![1, 1], vec![1, 1])
        ]
    );
}

#[test]
fn time_zone_west_of_utc() {
    let fixture = Fixture::new();
    // w: 2025-01-06T03:00Z is Sun 01-05 22:00 in New York (UTC−5): the week of Mon 2024-12-30.
    //    The return 2025-01-06T20:00Z is 01-06 15:00 in New York → day 1 (in UTC it would be day 0).
    fixture.file(
        "events.csv",
        "id,ts,event\nw,2025-01-06T03:00:00Z,report\nw,2025-01-06T20:00:00Z,report\n",
    );
    let new_york = fixture.run(&config(
        "timezone = \"America/New_York\"\nas_of = \"2025-01-31\"",
        ZONE_METRIC,
    ));
    assert_eq!(
        cohorts(&new_york, "m"),
        vec![("2024-12-30".into(), 1, vec![1, 1], vec![1, 1])]
    );
    let utc = fixture.run(&config("timezone = \"UTC\"\nas_of = \"2025-01-31\"", ZONE_METRIC));
    assert_eq!(
        cohorts(&utc, "m"),
        vec![("2025-01-06".into(), 1, vec![1, 0], vec![1, 1])]
    );
}

#[test]
fn entities_with_attributes_but_no_events() {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    // z has attributes and no events; c has events and no attributes.
    fixture.file("accounts.csv", "id,plan\na,pro\nb,free\nz,pro\n");
    let rest = "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
        [cohorts.by_plan]\nstart = \"report\"\ngrain = \"week\"\nby = [\"attr.plan\"]\n\
        [metrics.m]\ntype = \"retention\"\ncohort = \"by_plan\"\nreturn = \"report\"\nperiods = [0, 7]";
    let report = fixture.run(&config(project(), rest));
    // Entities: a, b, c from events plus z from the attributes = 4; z exists but is never active,
    // so it is in no cohort (its cohort would need a start event).
    assert_eq!(report["input"]["entities"], 4);
    // 2025-01-06 splits into free (b) and pro (a); c has no plan → null, sorted first.
    // d7: a yes (01-13), b no, c yes (01-21).
    let rows = &report["metrics"]["m"]["cohorts"];
    let summary: Vec<(String, serde_json::Value, u64, u64)> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["cohort"].as_str().unwrap().to_string(),
                r["segment"]["attr.plan"].clone(),
                r["size"].as_u64().unwrap(),
                r["retained"][1].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("2025-01-06".into(), serde_json::json!("free"), 1, 0),
            ("2025-01-06".into(), serde_json::json!("pro"), 1, 1),
            ("2025-01-13".into(), serde_json::Value::Null, 1, 1),
        ]
    );
    assert_eq!(report["metrics"]["m"]["total"]["size"], 3);
}

#[test]
fn cohort_where_on_attributes_and_start_props() {
    let fixture = Fixture::new();
    fixture.file("events.csv", "id,ts,event,channel\na,2025-01-06T10:00:00Z,report,web\nb,2025-01-06T11:00:00Z,report,mobile\nb,2025-01-07T11:00:00Z,report,web\nc,2025-01-06T12:00:00Z,report,web\n");
    fixture.file("accounts.csv", "id,plan\na,pro\nb,pro\nc,free\n");
    let rest = "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
        [cohorts.pro_web]\nstart = \"report\"\ngrain = \"week\"\nwhere = \"attr.plan == 'pro' and props.channel == 'web'\"\n\
        [cohorts.by_channel]\nstart = \"report\"\ngrain = \"week\"\nby = [\"props.channel\"]\n\
        [metrics.m]\ntype = \"retention\"\ncohort = \"pro_web\"\nreturn = \"report\"\nperiods = [0]\n\
        [metrics.c]\ntype = \"retention\"\ncohort = \"by_channel\"\nreturn = \"report\"\nperiods = [0, 1]";
    let report = fixture.run(&config("as_of = \"2025-01-31\"", rest));
    // pro and web *on the start event*: a (pro, web). b is pro but started on mobile; c is free.
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 1, vec![1], vec![1])]
    );
    // By the start event's channel: mobile = b (returns on day 1), web = a, c.
    let rows = &report["metrics"]["c"]["cohorts"];
    assert_eq!(rows[0]["segment"], serde_json::json!({"props.channel": "mobile"}));
    assert_eq!(rows[0]["retained"], serde_json::json!([1, 1]));
    assert_eq!(rows[1]["segment"], serde_json::json!({"props.channel": "web"}));
    assert_eq!(rows[1]["retained"], serde_json::json!([2, 0]));
}

#[test]
fn start_events_at_the_same_instant_break_the_tie_by_content_not_by_order() {
    // a starts twice at 10:00 on Mon 2025-01-06, once on web and once on mobile; b once on web.
    // The tie goes to the row whose content orders first (same event name; channel "mobile" <
    // "web"), whichever comes first in the file: a is in the mobile row, b in the web row.
    let rest = "[cohorts.by_channel]\nstart = \"report\"\ngrain = \"week\"\nby = [\"props.channel\"]\n\
        [metrics.c]\ntype = \"retention\"\ncohort = \"by_channel\"\nreturn = \"report\"\nperiods = [0]";
    let rows = [
        "a,2025-01-06T10:00:00Z,report,web",
        "a,2025-01-06T10:00:00Z,report,mobile",
        "b,2025-01-06T11:00:00Z,report,web",
    ];
    for order in [[0, 1, 2], [1, 0, 2], [2, 1, 0]] {
        let fixture = Fixture::new();
        let lines: Vec<&str> = order.iter().map(|i| rows[*i]).collect();
        fixture.file(
            "events.csv",
            &format!("id,ts,event,channel\n{}\n", lines.join("\n")),
        );
        let report = fixture.run(&config("as_of = \"2025-01-31\"", rest));
        let cohorts = &report["metrics"]["c"]["cohorts"];
        assert_eq!(
            cohorts[0]["segment"],
            serde_json::json!({"props.channel": "mobile"}),
            "{order:?}"
        );
        assert_eq!(cohorts[0]["size"], 1, "{order:?}");
        assert_eq!(
            cohorts[1]["segment"],
            serde_json::json!({"props.channel": "web"}),
            "{order:?}"
        );
        assert_eq!(cohorts[1]["size"], 1, "{order:?}");
    }
}

#[test]
fn several_sources_are_concatenated() {
    let fixture = Fixture::new();
    // The web events and the mobile events of the same accounts, in two formats.
    fixture.file(
        "web.csv",
        "id,ts,event\na,2025-01-06T10:00:00Z,report\nb,2025-01-06T10:00:00Z,report\n",
    );
    fixture.file("mobile.jsonl", "{\"id\": \"a\", \"ts\": \"2025-01-07T10:00:00Z\", \"event\": \"report\"}\n{\"id\": \"b\", \"ts\": \"2025-01-13T10:00:00Z\", \"event\": \"report\"}\n");
    let config = r#"
[project]
as_of = "2025-01-31"
[sources.web]
path = "web.csv"
entity = "id"
time = "ts"
event = "event"
[sources.mobile]
path = "mobile.jsonl"
entity = "id"
time = "ts"
event = "event"
[events.report]
where = "event == 'report'"
[cohorts.weekly]
start = "report"
grain = "week"
[metrics.m]
type = "retention"
cohort = "weekly"
return = "report"
periods = [0, 1, 7]
"#;
    let report = fixture.run(config);
    // a returns on day 1 (mobile), b on day 7 (mobile): retention is only right with both sources.
    assert_eq!(
        cohorts(&report, "m"),
        vec![("2025-01-06".into(), 2, vec![2, 1, 1], vec![2, 2, 2])]
    );
    assert_eq!(report["input"]["rows"], 4);
}

#[test]
fn unbounded_and_bracket_by_week_and_month() {
    let fixture = Fixture::new();
    // y: starts Mon 2025-01-06; returns on 01-15 (day 9: week 1), 02-03 (day 28: week 4, month 1)
    //    and 03-20 (day 73: week 10, month 2).  as_of 2025-03-31.
    fixture.file(
        "events.csv",
        "id,ts,event\ny,2025-01-06T10:00:00Z,report\ny,2025-01-15T10:00:00Z,report\n\
         y,2025-02-03T10:00:00Z,report\ny,2025-03-20T10:00:00Z,report\n",
    );
    let metric = |name: &str, mode: &str, unit: &str, cells: &str| {
        format!(
            "[metrics.{name}]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nmode = \"{mode}\"\nunit = \"{unit}\"\n{cells}\n"
        )
    };
    let rest = [
        WEEKLY.to_string(),
        metric("uw", "unbounded", "week", "periods = [1, 5, 10, 11]"),
        metric("um", "unbounded", "month", "periods = [1, 2, 3]"),
        metric(
            "bw",
            "bracket",
            "week",
            "brackets = [[0, 0], [2, 3], [4, 9], [10, 12]]",
        ),
        metric("bm", "bracket", "month", "brackets = [[0, 1], [2, 2], [3, 4]]"),
    ]
    .concat();
    let report = fixture.run(&config("as_of = \"2025-03-31\"", &rest));
    // Weeks {0, 1, 4, 10}; largest 10 → unbounded k1, k5, k10 yes, k11 no.
    // Week k ends on day 7k + 6: k1 01-19, k5 02-16, k10 03-23 ≤ 03-31; k11 03-30 ≤ 03-31 too.
    assert_eq!(
        cohorts(&report, "uw"),
        vec![("2025-01-06".into(), 1, vec![1, 1, 1, 0], vec![1, 1, 1, 1])]
    );
    // Months {0, 1, 2}: k1, k2 yes, k3 no; months end 02-28, 03-31 ≤ as_of, April does not.
    assert_eq!(
        cohorts(&report, "um"),
        vec![("2025-01-06".into(), 1, vec![1, 1, 0], vec![1, 1, 0])]
    );
    // Weeks {0, 1, 4, 10} in [0,0] yes · [2,3] no · [4,9] yes (4) · [10,12] yes (10).
    // Brackets end with week b: 01-12, 01-26, 03-09 ≤ as_of; week 12 ends 04-06 > as_of.
    assert_eq!(
        cohorts(&report, "bw"),
        vec![("2025-01-06".into(), 1, vec![1, 0, 1, 1], vec![1, 1, 1, 0])]
    );
    // Months {0, 1, 2} in [0,1] yes · [2,2] yes · [3,4] no; ends 02-28, 03-31, 05-31.
    assert_eq!(
        cohorts(&report, "bm"),
        vec![("2025-01-06".into(), 1, vec![1, 1, 0], vec![1, 1, 0])]
    );
}

#[test]
fn a_breakdown_has_a_total_row_per_value() {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    fixture.file("accounts.csv", "id,plan\na,pro\nb,free\nc,pro\n");
    let rest = "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
        [cohorts.by_plan]\nstart = \"report\"\ngrain = \"week\"\nby = [\"attr.plan\"]\n\
        [metrics.m]\ntype = \"retention\"\ncohort = \"by_plan\"\nreturn = \"report\"\nperiods = [0, 1, 7, 14]";
    let report = fixture.run(&config(project(), rest));
    let metric = &report["metrics"]["m"];
    // From n_day_by_day_with_eligibility_and_total, at d0, d1, d7, d14:
    //   a (01-06 cohort): retained 1 1 1 1, eligible 1 1 1 1
    //   b (01-06 cohort): retained 1 1 0 0, eligible 1 1 1 1
    //   c (01-13 cohort): retained 1 0 1 0, eligible 1 1 1 0 (d14 ends 01-28, after as_of)
    // free = b: retained-and-eligible [1, 1, 0, 0] of eligible [1, 1, 1, 1].
    // pro = a + c (two cohorts): [1+1, 1+0, 1+1, 1] = [2, 1, 2, 1] of [2, 2, 2, 1].
    let totals = metric["totals"].as_array().unwrap();
    let total = |t: &serde_json::Value| {
        (
            t["segment"]["attr.plan"].clone(),
            t["size"].as_u64().unwrap(),
            t["retained"].clone(),
            t["eligible"].clone(),
            t["rate"].clone(),
        )
    };
    assert_eq!(
        totals.iter().map(total).collect::<Vec<_>>(),
        vec![
            (
                serde_json::json!("free"),
                1,
                serde_json::json!([1, 1, 0, 0]),
                serde_json::json!([1, 1, 1, 1]),
                serde_json::json!([1.0, 1.0, 0.0, 0.0])
            ),
            (
                serde_json::json!("pro"),
                2,
                serde_json::json!([2, 1, 2, 1]),
                serde_json::json!([2, 2, 2, 1]),
                serde_json::json!([1.0, 0.5, 1.0, 1.0])
            ),
        ]
    );
    // The per-value totals add up to the total of all: [3, 2, 2, 1] of [3, 3, 3, 2].
    assert_eq!(metric["total"]["retained"], serde_json::json!([3, 2, 2, 1]));
    assert_eq!(metric["total"]["eligible"], serde_json::json!([3, 3, 3, 2]));
    assert_eq!(metric["total"]["size"], 3);
    // Without `by` there are no per-value totals.
    let plain = "[metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nperiods = [0]";
    let report = fixture.run(&config(project(), &format!("{WEEKLY}\n{plain}")));
    assert!(report["metrics"]["m"].get("totals").is_none());
}

#[test]
fn day_7_and_day_30_judged_against_the_b2b_norm() {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    let metric = "[metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nperiods = [1, 7, 30]\nbenchmark = \"b2b\"";
    let report = fixture.run(&config(project(), &format!("{WEEKLY}\n{metric}")));
    // From n_day_by_day_with_eligibility_and_total: d7 is 1 of 2 (a) in cohort 2025-01-06, 1 of
    // 1 (c) in 2025-01-13, 2 of 3 in total; d30 is not observable yet (nobody eligible).
    // Mid-market B2B norms: d7 60–75 % → 0.5 below, 1.0 above, 0.667 within; d30 45–60 %
    // → no verdict; no d90 column, so no d90 band.
    assert_eq!(
        report["metrics"]["m"]["benchmark"],
        serde_json::json!({
            "name": "b2b",
            "segment": "mid-market B2B",
            "cells": [
                {"day": 7, "low": 0.6, "high": 0.75, "total": "within", "cohorts": ["below", "above"]},
                {"day": 30, "low": 0.45, "high": 0.6, "total": null, "cohorts": [null, null]}
            ]
        })
    );
}

#[test]
fn day_columns_judged_against_a_benchmark_of_the_configs_own() {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    let norms = "[benchmarks.last_year]\nsegment = \"our 2024 cohorts\"\nbands = [\n\
                 { day = 7, low = 0.7, high = 1.0 },\n{ day = 14, low = 0.2, high = 0.4 },\n\
                 { day = 1, low = 0.5, high = 0.9 },\n]";
    let metric = "[metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"report\"\nperiods = [1, 7, 30]\nbenchmark = \"last_year\"";
    let report = fixture.run(&config(project(), &format!("{WEEKLY}\n{norms}\n{metric}")));
    // From n_day_by_day_with_eligibility_and_total: d1 is 2 of 2 in cohort 2025-01-06, 0 of 1 in
    // 2025-01-13, 2 of 3 in total; d7 is 1 of 2, 1 of 1, 2 of 3.
    // Day 1, 50–90 %: 1.0 above, 0.0 below, 0.667 within. Day 7, 70–100 %: 0.5 below, 1.0
    // within (the high end is in the band), 0.667 below. No column for day 14: not judged.
    // The bands come in day order, whatever the order in the file.
    assert_eq!(
        report["metrics"]["m"]["benchmark"],
        serde_json::json!({
            "name": "last_year",
            "segment": "our 2024 cohorts",
            "cells": [
                {"day": 1, "low": 0.5, "high": 0.9, "total": "within", "cohorts": ["above", "below"]},
                {"day": 7, "low": 0.7, "high": 1.0, "total": "below", "cohorts": ["below", "within"]}
            ]
        })
    );
}
