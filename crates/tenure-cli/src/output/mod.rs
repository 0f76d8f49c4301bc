//! Rendering a report: tables for people, JSON and CSV for programs.

mod acting;
mod funnel;
pub mod grid;
mod revenue_cohorts;
pub mod table;

use std::collections::BTreeMap;

use tenure::plan::{Plan, RejectReason, Report};

/// The stable JSON contract (docs/config.md, "Output"), pretty-printed, with a final newline.
pub fn json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// The width tables fold to: `COLUMNS` when it is set (and at least 40), else 120.
pub fn page_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse::<usize>().ok())
        .filter(|width| *width >= 40)
        .unwrap_or(120)
}

/// Row accounting for standard error: one line of totals over the event sources, then, when
/// there is more than one source, one line per source.
pub fn summary(report: &Report, plan: &Plan) -> String {
    let input = &report.input;
    let sources = plan.event_sources.len();
    let mut text = format!(
        "{} rows read from {} event source{}: {} · {} entities · as of {}",
        input.rows,
        sources,
        if sources == 1 { "" } else { "s" },
        accounting(input.kept, input.duplicates, input.excluded, &input.rejected),
        input.entities,
        report.as_of
    );
    if input.sources.len() > 1 {
        for (name, source) in &input.sources {
            text.push_str(&format!(
                "\n  {name} ({}): {} rows: {}",
                source.kind,
                source.rows,
                accounting(source.kept, source.duplicates, source.excluded, &source.rejected)
            ));
        }
    }
    text
}

/// "K kept, D duplicates, X excluded, R rejected (n reason, …)".
fn accounting(kept: u64, duplicates: u64, excluded: u64, rejected: &BTreeMap<RejectReason, u64>) -> String {
    let total: u64 = rejected.values().sum();
    let reasons: Vec<String> = rejected
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    let reasons = if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join(", "))
    };
    format!("{kept} kept, {duplicates} duplicates, {excluded} excluded, {total} rejected{reasons}")
}
