//! `tenure report`: the whole report as one HTML file that needs nothing else — no network, no
//! script, the charts inline SVG — readable offline and from a mail attachment (docs/report.md).

mod charts;
mod numbers;
pub(crate) mod svg;

use std::fmt::Write;

use tenure::plan::{MetricResult, Plan, Report};

use svg::escape;
use tenure::tidy::{Record, records};

/// The page's stylesheet: light and dark themes after the reader's system setting, a palette
/// that colour-blind readers can tell apart (Okabe and Ito's), and a layout that reflows on a
/// phone.
const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1b1f24; --muted: #5c6570; --rule: #d4d8dd;
  --card: #f3f5f7; --grid: #e6e9ed; --band: #0072b2; --void: #eef0f2;
  --s0: #0072b2; --s1: #e69f00; --s2: #009e73; --s3: #cc79a7; --s4: #d55e00; --s5: #56b4e9; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #16191d; --fg: #e6e8eb; --muted: #9aa3ad; --rule: #3a4048; --card: #20252b;
    --grid: #2b3138; --band: #56b4e9; --void: #23282e;
    --s0: #56b4e9; --s1: #e69f00; --s2: #33c08f; --s3: #d99ac0; --s4: #ef7a3a; --s5: #9ad0f0; }
}
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1180px; padding: 16px; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { border-bottom: 1px solid var(--rule); margin-bottom: 12px; }
h1 { font-size: 1.6em; margin: 0.2em 0; }
h2 { font-size: 1.25em; margin: 0 0 0.2em; }
.muted, .detail, figcaption { color: var(--muted); }
.detail { margin: 0 0 0.6em; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 0.85em; }
nav ul { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 0; list-style: none; }
section.metric { border-top: 1px solid var(--rule); padding: 14px 0 6px; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }
.card { background: var(--card); border-radius: 8px; padding: 8px 12px; min-width: 140px; }
.card .value { font-size: 1.35em; font-weight: 600; }
.card .label { color: var(--muted); font-size: 0.85em; }
figure { margin: 10px 0 16px; }
.scroll { overflow-x: auto; max-width: 100%; }
svg.chart { display: block; max-width: 100%; height: auto; font: 11px system-ui, sans-serif; color: var(--fg); }
svg.heatmap { max-width: none; }
svg .axis, svg .muted { fill: var(--muted); }
svg .label { fill: var(--fg); }
svg .strong { font-weight: 600; }
svg .grid { stroke: var(--grid); }
svg .rule { stroke: var(--muted); }
svg .void { fill: var(--void); stroke: var(--rule); stroke-dasharray: 1 2; }
svg .band { fill: var(--band); fill-opacity: 0.16; }
svg .line { fill: none; stroke-width: 2; }
svg path.faint { stroke: var(--muted); stroke-opacity: 0.35; stroke-width: 1; }
svg .bold { stroke: var(--fg); fill: var(--fg); stroke-width: 3; }
svg path.bold { fill: none; }
svg .line.s0, svg circle.s0 { stroke: var(--s0); } svg .line.s1, svg circle.s1 { stroke: var(--s1); }
svg .line.s2, svg circle.s2 { stroke: var(--s2); } svg .line.s3, svg circle.s3 { stroke: var(--s3); }
svg .line.s4, svg circle.s4 { stroke: var(--s4); } svg .line.s5, svg circle.s5 { stroke: var(--s5); }
svg circle.line { fill: var(--bg); }
svg .fill.s0 { fill: var(--s0); } svg .fill.s1 { fill: var(--s1); } svg .fill.s2 { fill: var(--s2); }
svg .fill.s3 { fill: var(--s3); } svg .fill.s4 { fill: var(--s4); } svg .fill.s5 { fill: var(--s5); }
svg .fill.bold { fill: var(--fg); }
svg .level { fill: var(--s0); } svg .gain { fill: var(--s2); } svg .loss { fill: var(--s4); }
svg g.cell:hover rect { stroke: var(--fg); stroke-width: 2; }
details { margin: 4px 0 10px; }
summary { cursor: pointer; color: var(--muted); }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { padding: 2px 8px; border-bottom: 1px solid var(--grid); text-align: left; white-space: nowrap; }
.figure { text-align: right; font-variant-numeric: tabular-nums; }
.failed { color: var(--s4); }
a { color: var(--s0); }
@media (max-width: 600px) { body { padding: 8px; font-size: 14px; } .card { min-width: 120px; } }
"#;

/// The report of `report` (computed from `plan`) as one HTML page.
pub(crate) fn render(report: &Report, plan: &Plan) -> String {
    let all_records = records(report);
    let mut html = String::new();
    let title = format!("{} — tenure report", plan.project.name);
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <meta name=\"generator\" content=\"tenure {}\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(&report.tenure),
        escape(&title)
    );
    header(&mut html, report, plan);
    let shown: Vec<&tenure::plan::Metric> = plan
        .metrics
        .iter()
        .filter(|metric| report.metrics.contains_key(&metric.name))
        .collect();
    html.push_str("<nav><ul>");
    for metric in &shown {
        let _ = write!(
            html,
            "<li><a href=\"#metric-{0}\">{0}</a></li>",
            escape(&metric.name)
        );
    }
    html.push_str("</ul></nav>\n");
    for metric in shown {
        let result = &report.metrics[&metric.name];
        let metric_records: Vec<Record> = all_records
            .iter()
            .filter(|record| record[0] == metric.name)
            .cloned()
            .collect();
        section(&mut html, metric, plan, result, &metric_records);
    }
    let _ = writeln!(
        html,
        "<footer class=\"muted\"><p>Written by tenure {}. The definitions of every figure are in tenure's \
         configuration reference, docs/config.md. The charts are drawn from the same figures as \
         <code>tenure run --format json</code>.</p></footer></body></html>",
        escape(&report.tenure)
    );
    html
}

/// The title, what the figures cover, and how the input rows were accounted for.
fn header(html: &mut String, report: &Report, plan: &Plan) {
    let project = &plan.project;
    let _ = write!(
        html,
        "<header><h1>{}</h1><p>Figures as of <strong>{}</strong> (every event on or before that day \
         counts) · time zone <strong>{}</strong> · weeks start on {} · computed by {}</p>",
        escape(&project.name),
        escape(&report.as_of),
        escape(project.timezone.name()),
        match project.week_start {
            tenure::plan::WeekStart::Monday => "Mondays",
            tenure::plan::WeekStart::Sunday => "Sundays",
        },
        escape(&report.backend)
    );
    let input = &report.input;
    let _ = write!(
        html,
        "<p>{} rows read · {} kept · {} duplicates · {} excluded · {} rejected · {} entities</p>",
        input.rows,
        input.kept,
        input.duplicates,
        input.excluded,
        input.rejected.values().sum::<u64>(),
        input.entities
    );
    html.push_str(
        "<details><summary>Rows per source and why rows were dropped</summary><div class=\"scroll\">\
         <table class=\"input\"><thead><tr><th scope=\"col\">source</th><th scope=\"col\">kind</th>\
         <th scope=\"col\" class=\"figure\">rows</th><th scope=\"col\" class=\"figure\">kept</th>\
         <th scope=\"col\" class=\"figure\">duplicates</th><th scope=\"col\" class=\"figure\">excluded</th>",
    );
    for reason in input.rejected.keys() {
        let _ = write!(html, "<th scope=\"col\" class=\"figure\">rejected: {reason}</th>");
    }
    html.push_str("</tr></thead><tbody>");
    for (name, source) in &input.sources {
        let _ = write!(
            html,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td class=\"figure\">{}</td><td class=\"figure\">{}</td>\
             <td class=\"figure\">{}</td><td class=\"figure\">{}</td>",
            escape(name),
            source.kind,
            source.rows,
            source.kept,
            source.duplicates,
            source.excluded
        );
        for reason in input.rejected.keys() {
            let count = source.rejected.get(reason).copied().unwrap_or(0);
            let _ = write!(html, "<td class=\"figure\">{count}</td>");
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div></details></header>\n");
}

/// One metric: its title and definition, headline cards, charts, and the numbers.
fn section(
    html: &mut String,
    metric: &tenure::plan::Metric,
    plan: &Plan,
    result: &MetricResult,
    metric_records: &[Record],
) {
    let heading = crate::output::table::heading(metric, plan);
    let mut lines = heading.lines();
    let title = lines.next().unwrap_or(&metric.name);
    let detail: Vec<&str> = lines.collect();
    let _ = write!(
        html,
        "<section class=\"metric\" id=\"metric-{}\" data-metric=\"{}\"><h2>{}</h2>",
        escape(&metric.name),
        escape(&metric.name),
        escape(title)
    );
    if !detail.is_empty() {
        let _ = write!(html, "<p class=\"detail\">{}</p>", escape(&detail.join(" · ")));
    }
    if let MetricResult::Failed(failed) = result {
        let _ = writeln!(
            html,
            "<p class=\"failed\">Not computed: {}</p></section>",
            escape(&failed.error)
        );
        return;
    }
    if let MetricResult::Revenue(revenue) = result {
        for warning in &revenue.warnings {
            let _ = write!(html, "<p class=\"failed\">Warning: {}</p>", escape(warning));
        }
    }
    let (cards, figures) = charts::pictures(result);
    if !cards.is_empty() {
        html.push_str("<div class=\"cards\">");
        for card in cards {
            let _ = write!(
                html,
                "<div class=\"card\"><div class=\"value\">{}</div><div class=\"label\">{}</div></div>",
                escape(&card.value),
                escape(&card.label)
            );
        }
        html.push_str("</div>");
    }
    for figure in figures {
        let _ = write!(
            html,
            "<figure><div class=\"scroll\">{}</div><figcaption>{}</figcaption></figure>",
            figure.svg,
            escape(&figure.caption)
        );
    }
    if !metric_records.is_empty() {
        let _ = write!(
            html,
            "<details class=\"numbers\"><summary>The numbers ({} figures)</summary>{}</details>",
            metric_records.len(),
            numbers::table(&metric.name, metric_records)
        );
    }
    html.push_str("</section>\n");
}
