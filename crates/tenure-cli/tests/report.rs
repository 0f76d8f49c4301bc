//! `tenure report`: the page of a small fixed project, its charts pinned as snapshots so that a
//! change to a chart is seen in review, and what the page must never contain.

use std::process::Command;

/// A month of events: three accounts sign up and use the product, two pay in January and
/// February (one of them more in February, one less), a third starts paying in February.
const EVENTS: &str = "account,ts,event,amount
a,2025-01-02T10:00:00Z,report,
a,2025-01-09T10:00:00Z,report,
a,2025-01-31T10:00:00Z,report,
b,2025-01-03T10:00:00Z,report,
b,2025-01-04T10:00:00Z,report,
c,2025-01-20T10:00:00Z,report,
c,2025-02-21T10:00:00Z,report,
a,2025-01-05T10:00:00Z,invoice,100
b,2025-01-05T10:00:00Z,invoice,50
a,2025-02-05T10:00:00Z,invoice,120
b,2025-02-05T10:00:00Z,invoice,30
c,2025-02-06T10:00:00Z,invoice,80
";

const CONFIG: &str = r#"
[project]
name = "Fixture <&> Co"
timezone = "UTC"
as_of = "2025-02-28"

[sources.events]
path = "events.csv"
entity = "account"
time = "ts"
event = "event"

[events.value]
where = "event == 'report'"

[events.payment]
where = "event == 'invoice'"
amount = "props.amount"

[cohorts.weekly]
start = "value"
grain = "week"

[metrics.kept]
type = "retention"
description = "Accounts back after 1 and 4 weeks"
cohort = "weekly"
return = "value"
unit = "week"
periods = [0, 1, 4]

[metrics.mrr]
type = "revenue"
amount = "payment"
grain = "month"
"#;

/// Writes the fixture project, runs `tenure report` on it, and returns the page.
fn page() -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("events.csv"), EVENTS).unwrap();
    std::fs::write(dir.path().join("metrics.toml"), CONFIG).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_tenure"))
        .current_dir(dir.path())
        .args(["report", "--quiet", "--out", "page.html"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty() && output.stderr.is_empty());
    std::fs::read_to_string(dir.path().join("page.html")).unwrap()
}

#[test]
fn the_charts_of_a_small_report() {
    let page = page();
    // Every chart, one per line of the snapshot.
    let charts: Vec<&str> = page
        .match_indices("<svg ")
        .map(|(start, _)| {
            let end = page[start..].find("</svg>").unwrap() + start + "</svg>".len();
            &page[start..end]
        })
        .collect();
    // kept: heatmap and curves; mrr: the February bridge, movements, retention lines.
    assert_eq!(charts.len(), 5);
    // By hand. Week of 2024-12-30: a (t0 01-02; back 01-09 in week 1 and 01-31, day 29, in
    // week 4) and b (t0 01-03, nothing after its first week): 2/2, 1/2, 1/2. Week of
    // 2025-01-20: c, back on day 32 (week 4): 1/1, 0/1, 1/1. Average: 3/3, 1/3, 2/3.
    for cell in [
        "data-row=\"0\" data-column=\"1\" data-value=\"0.5\"",
        "data-row=\"1\" data-column=\"2\" data-value=\"1\"",
        "data-row=\"2\" data-column=\"1\" data-value=\"0.3333333333333333\"",
    ] {
        assert!(charts[0].contains(cell), "{cell}");
    }
    // February: start 150 (a 100, b 50), new 80 (c), expansion 20 (a), contraction 20 (b),
    // end 230; NRR (150 − 20 + 20) / 150 = 100 %, GRR 130 / 150 = 86.7 %.
    for step in [
        "start: 150",
        "new: 80",
        "expansion: 20",
        "contraction: -20",
        "churned: 0",
        "end: 230",
    ] {
        assert!(charts[2].contains(&format!("<title>{step}</title>")), "{step}");
    }
    assert!(charts[4].contains("<title>GRR 2025-02: 86.7%</title>"));
    insta::assert_snapshot!(charts.join("\n\n"));
}

#[test]
fn the_page_needs_nothing_else_and_escapes_what_the_config_says() {
    let page = page();
    assert!(page.starts_with("<!DOCTYPE html>"));
    // No script, no external address but the SVG namespace, a policy that forbids loading
    // anything.
    assert!(!page.contains("<script"));
    let addresses: Vec<&str> = page
        .match_indices("http")
        .map(|(at, _)| &page[at..(at + 30).min(page.len())])
        .filter(|text| !text.starts_with("http://www.w3.org/2000/svg") && !text.starts_with("http-equiv"))
        .collect();
    assert!(addresses.is_empty(), "{addresses:?}");
    assert!(page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    // The project's name is text, not markup.
    assert!(page.contains("<h1>Fixture &lt;&amp;&gt; Co</h1>"));
    // The header says what the figures cover: 12 rows, as of, zone.
    assert!(page.contains("12 rows read"));
    assert!(page.contains("as of <strong>2025-02-28</strong>"));
    // Both metrics have a section with the numbers and a CSV download.
    for metric in ["kept", "mrr"] {
        assert!(page.contains(&format!("<section class=\"metric\" id=\"metric-{metric}\"")));
        assert!(page.contains(&format!("download=\"{metric}.csv\"")));
    }
}
