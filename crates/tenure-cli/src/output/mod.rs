//! Rendering a report: tables for people, JSON and CSV for programs.

pub mod csv;
pub mod table;

use tenure::plan::{Plan, Report};

/// The stable JSON contract (SPEC §6), pretty-printed, with a final newline.
pub fn json(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}

/// One line of row accounting for standard error.
pub fn summary(report: &Report, plan: &Plan) -> String {
    let input = &report.input;
    let rejected: u64 = input.rejected.values().sum();
    let reasons: Vec<String> = input
        .rejected
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(reason, n)| format!("{n} {reason}"))
        .collect();
    let reasons = if reasons.is_empty() {
        String::new()
    } else {
        format!(" ({})", reasons.join(", "))
    };
    let sources = plan.event_sources.len();
    format!(
        "{} rows read from {} event source{}: {} kept, {} duplicates, {} excluded, {} rejected{} · {} entities · as of {}",
        input.rows,
        sources,
        if sources == 1 { "" } else { "s" },
        input.kept,
        input.duplicates,
        input.excluded,
        rejected,
        reasons,
        input.entities,
        report.as_of
    )
}
