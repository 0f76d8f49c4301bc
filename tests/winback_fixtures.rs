//! Hand-worked win-back fixtures: every expected figure is derived in the comments.

mod common;

use common::{Fixture, config};
use serde_json::{Value, json};

/// UTC, as of 2025-03-10. Report days: a 01-05, 02-10; b 01-20, 03-05; c 01-30; d 02-01, 02-25,
/// 03-10; e 01-18, 02-20; f 01-10, 02-14.
const EVENTS: &str = "id,ts,event
a,2025-01-05T10:00:00Z,report
a,2025-02-10T10:00:00Z,report
b,2025-01-20T10:00:00Z,report
b,2025-03-05T10:00:00Z,report
c,2025-01-30T10:00:00Z,report
d,2025-02-01T10:00:00Z,report
d,2025-02-25T10:00:00Z,report
d,2025-03-10T10:00:00Z,report
e,2025-01-18T10:00:00Z,report
e,2025-02-20T10:00:00Z,report
f,2025-01-10T10:00:00Z,report
f,2025-02-14T10:00:00Z,report
f,2025-02-14T18:00:00Z,login
";

fn run(extra: &str) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", EVENTS);
    fixture.file("accounts.csv", "id,plan\na,pro\nb,pro\nc,free\nd,free\ne,free\n");
    fixture.run(&config(
        "timezone = \"UTC\"\nas_of = \"2025-03-10\"",
        &format!(
            "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
             [metrics.winback]\ntype = \"winback\"\nactive = \"report\"\ndormant = \"14d\"\nwithin = \"2w\"\n{extra}\n\
             [metrics.back_rate]\ntype = \"formula\"\nformula = \"winback.rate - winback.rate_last\""
        ),
    ))
}

#[test]
fn dormant_entities_on_each_months_first_day_and_those_back_by_hand() {
    let report = run("");
    let winback = &report["metrics"]["winback"];
    // The first report is on 01-05, so the dates counted are the first days of February and
    // March (the month of as_of).
    // 02-01: dormant when the last report before it is on or before 02-01 − 14 = 01-18: a (01-05),
    // e (01-18, exactly 14 days), f (01-10); not b (01-20), c (01-30), nor d (none before).
    // Back within 14 days, 02-01 to 02-14: a (02-10), f (02-14, the window's last day); not e
    // (02-20). Dormant 3, back 2. The window ends 02-14, before as_of: complete.
    // 03-01: the last report on or before 02-15: a (02-10), b (01-20), c (01-30), f (02-14); not d
    // (02-25) nor e (02-20). Back by 03-14: b (03-05). Dormant 4, back 1; the window ends 03-14,
    // after as_of 03-10: not complete.
    assert_eq!(
        winback["periods"],
        json!([
            {"period": "2025-02", "complete": true, "dormant": 3, "returned": 2, "rate": 2.0 / 3.0},
            {"period": "2025-03", "complete": false, "dormant": 4, "returned": 1, "rate": 0.25}
        ])
    );
    // Only February's window is over: 2 of 3. The last complete period is February too.
    assert_eq!(
        winback["total"],
        json!({"dormant": 3, "returned": 2, "rate": 2.0 / 3.0})
    );
    assert_eq!(
        (winback["dormant_days"].clone(), winback["within_days"].clone()),
        (json!(14), json!(14))
    );
    assert_eq!(report["metrics"]["back_rate"]["value"], 0.0);
}

#[test]
fn a_winback_table_per_plan_with_entities_without_one_first() {
    let report = run("by = [\"attr.plan\"]");
    let segments: Vec<Value> = report["metrics"]["winback"]["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let counts: Vec<(u64, u64)> = s["periods"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p["dormant"].as_u64().unwrap(), p["returned"].as_u64().unwrap()))
                .collect();
            json!([s["segment"]["attr.plan"], counts])
        })
        .collect();
    // f has no plan (null, first): February dormant and back, March dormant. free (c, d, e):
    // February e dormant, not back; March c dormant, not back. pro (a, b): February a, back;
    // March a and b, b back.
    assert_eq!(
        segments,
        vec![
            json!([null, [[1, 1], [1, 0]]]),
            json!(["free", [[1, 0], [1, 0]]]),
            json!(["pro", [[1, 1], [2, 1]]]),
        ]
    );
}
