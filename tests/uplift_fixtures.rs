//! Hand-worked uplift fixtures: every expected figure is derived in the comments.

mod common;

use common::{Fixture, config};
use serde_json::{Value, json};

/// UTC, as of 2025-01-31. The retention metric counts a `report` on day 7 after signup or
/// later (unbounded, day 7).
///
/// December cohort: i signs up 12-20 and reports 01-02 (day 13: retained); j signs up 12-21
/// and reports 12-22 (day 1: not retained).
/// January cohort: a (01-01, reports day 9: retained), b (01-02, reports day 3: not),
/// c (01-03, reports day 17: retained), d (01-04, never reports: not), e (01-05, reports
/// day 25: retained), f (01-28: day 7 is 02-04, after as_of: not eligible), g (01-06, reports
/// day 8: retained), h (01-07, never reports).
///
/// Assignment rows name a variant: a, b, f, i B; c, e, j A; d both A and B; g and h none.
const EVENTS: &str = "id,ts,event,variant
i,2024-12-20T09:00:00Z,signup,
j,2024-12-21T09:00:00Z,signup,
j,2024-12-22T09:00:00Z,report,
i,2025-01-02T09:00:00Z,report,
a,2025-01-01T09:00:00Z,signup,
b,2025-01-02T09:00:00Z,signup,
c,2025-01-03T09:00:00Z,signup,
d,2025-01-04T09:00:00Z,signup,
e,2025-01-05T09:00:00Z,signup,
g,2025-01-06T09:00:00Z,signup,
h,2025-01-07T09:00:00Z,signup,
f,2025-01-28T09:00:00Z,signup,
b,2025-01-05T09:00:00Z,report,
a,2025-01-10T09:00:00Z,report,
g,2025-01-14T09:00:00Z,report,
c,2025-01-20T09:00:00Z,report,
e,2025-01-30T09:00:00Z,report,
a,2025-01-01T09:00:01Z,assigned,B
b,2025-01-02T09:00:01Z,assigned,B
f,2025-01-28T09:00:01Z,assigned,B
i,2024-12-20T09:00:01Z,assigned,B
c,2025-01-03T09:00:01Z,assigned,A
e,2025-01-05T09:00:01Z,assigned,A
j,2024-12-21T09:00:01Z,assigned,A
d,2025-01-04T09:00:01Z,assigned,A
d,2025-01-09T09:00:01Z,assigned,B
g,2025-01-06T09:00:01Z,assigned,
";

/// Attributes: the same groups as the assignments, except d is A; g is in a third group C
/// and h has no row.
const ACCOUNTS: &str = "id,variant\na,B\nb,B\nc,A\nd,A\ne,A\nf,B\ng,C\ni,B\nj,A\n";

fn run(groups: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    fixture.file("accounts.csv", ACCOUNTS);
    let report = fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-01-31\"",
        &format!(
            "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
             [events.assigned]\nwhere = \"event == 'assigned'\"\n\
             [cohorts.signups]\nstart = \"signup\"\ngrain = \"month\"\n\
             [metrics.day7]\ntype = \"retention\"\ncohort = \"signups\"\nreturn = \"report\"\n\
             mode = \"unbounded\"\nperiods = [1, 7]\n\
             [metrics.welcome]\ntype = \"uplift\"\nretention = \"day7\"\nperiod = 7\n{groups}\n\
             treatment = \"B\"\ncontrol = \"A\"\n\
             [metrics.gain]\ntype = \"formula\"\nformula = \"welcome.uplift\""
        ),
    ));
    report["metrics"].clone()
}

fn close(value: &Value, expected: f64) -> bool {
    value.as_f64().is_some_and(|v| (v - expected).abs() < 1e-9)
}

#[test]
fn uplift_by_an_attribute_per_cohort_and_pooled_by_hand() {
    let metrics = run("group = \"attr.variant\"");
    let uplift = &metrics["welcome"];
    assert_eq!(uplift["period"], "7");
    assert_eq!(uplift["method"], "newcombe");
    // g (C) and h (no row) are in neither group; nobody is conflicting with an attribute.
    assert_eq!(uplift["ungrouped"], 2);
    assert_eq!(uplift["conflicting"], 0);
    let december = &uplift["cohorts"][0];
    assert_eq!(december["cohort"], "2024-12");
    // December: treatment i retained 1/1, control j 0/1: uplift 1 − 0 = 1; relative is null
    // (control rate 0). Pooled p = 1/2, variance 0.5 · 0.5 · (1 + 1) = 0.5, z = 1/√0.5 = √2,
    // p-value = erfc(√2/√2) = erfc(1) = 0.1572992.
    // Wilson 1/1 with z² = 3.841459: centre (1 + 1.920729)/4.841459 = 0.603275, half
    // 1.959964 · √(3.841459/4)/4.841459 = 0.396725: [0.206549, 1]; Wilson 0/1: [0, 0.793451].
    // Low = 1 − √((1 − 0.206549)² + (0.793451 − 0)²) = 1 − 1.122109 = −0.122109; high =
    // 1 + √(0 + 0) = 1. Both groups have one member: small.
    assert_eq!(
        december["treatment"],
        json!({"members": 1, "eligible": 1, "retained": 1, "rate": 1.0})
    );
    assert_eq!(
        december["control"],
        json!({"members": 1, "eligible": 1, "retained": 0, "rate": 0.0})
    );
    assert_eq!(december["uplift"], 1.0);
    assert_eq!(december["relative_uplift"], Value::Null);
    assert!(close(&december["p_value"], 0.157_299_207_050_285_2), "{december}");
    assert!(
        (december["low"].as_f64().unwrap() + 0.122_109).abs() < 1e-6,
        "{december}"
    );
    assert!(close(&december["high"], 1.0));
    assert_eq!(december["small"], true);
    // January: treatment a (retained), b (not), f (not eligible): members 3, eligible 2,
    // retained 1, rate 0.5; control c, d, e: 3, 3, 2, rate 2/3. Uplift 0.5 − 2/3 = −1/6,
    // relative −1/6 ÷ 2/3 = −0.25.
    let january = &uplift["cohorts"][1];
    assert_eq!(january["cohort"], "2025-01");
    assert_eq!(
        january["treatment"],
        json!({"members": 3, "eligible": 2, "retained": 1, "rate": 0.5})
    );
    assert_eq!(january["control"]["retained"], 2);
    assert!(close(&january["uplift"], -1.0 / 6.0));
    assert!(close(&january["relative_uplift"], -0.25));
    // Pooled: treatment 2 of 3 eligible, control 2 of 4: uplift 2/3 − 1/2 = 1/6, relative
    // (1/6) ÷ (1/2) = 1/3. p: pooled 4/7, variance 4/7 · 3/7 · (1/3 + 1/4) = 1/7,
    // z = (1/6)/√(1/7) = 0.440959, p-value = erfc(0.440959/√2) = 0.659243.
    let total = &uplift["total"];
    assert_eq!(
        total["treatment"],
        json!({"members": 4, "eligible": 3, "retained": 2, "rate": 2.0 / 3.0})
    );
    assert_eq!(
        total["control"],
        json!({"members": 4, "eligible": 4, "retained": 2, "rate": 0.5})
    );
    assert!(close(&total["uplift"], 1.0 / 6.0));
    assert!(close(&total["relative_uplift"], 1.0 / 3.0));
    assert!(
        (total["p_value"].as_f64().unwrap() - 0.659_243).abs() < 1e-6,
        "{total}"
    );
    // The interval holds the uplift, and a formula reads the pooled uplift.
    assert!(total["low"].as_f64().unwrap() < 1.0 / 6.0 && 1.0 / 6.0 < total["high"].as_f64().unwrap());
    assert!(close(&metrics["gain"]["value"], 1.0 / 6.0));
}

#[test]
fn uplift_by_assignment_events_leaves_out_entities_assigned_to_both() {
    let metrics = run("assignment = \"assigned\"\nvariant = \"props.variant\"");
    let uplift = &metrics["welcome"];
    // d's rows name A and B: conflicting. g's row names nothing and h has none: ungrouped.
    assert_eq!(uplift["conflicting"], 1);
    assert_eq!(uplift["ungrouped"], 2);
    // January control is c and e, both retained: 2 of 2. Pooled treatment 2/3 (i, a of i, a, b;
    // f not eligible) against control 2/3 (j, c, e: c and e retained): uplift 0, z = 0,
    // p-value = erfc(0) = 1; Newcombe's interval is symmetric here: ±0.533465.
    assert_eq!(
        uplift["cohorts"][1]["control"],
        json!({"members": 2, "eligible": 2, "retained": 2, "rate": 1.0})
    );
    let total = &uplift["total"];
    assert_eq!(total["uplift"], 0.0);
    assert_eq!(total["p_value"], 1.0);
    assert!(
        (total["low"].as_f64().unwrap() + 0.533_465).abs() < 1e-6,
        "{total}"
    );
    assert!(
        (total["high"].as_f64().unwrap() - 0.533_465).abs() < 1e-6,
        "{total}"
    );
}
