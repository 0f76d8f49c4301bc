//! Terminal tables: a cohort triangle per retention metric, a table per activation metric.

use std::fmt::Write;

use tenure::plan::{
    ActivationResult, CrrResult, MetricKind, MetricResult, Plan, Report, RetentionResult, RevenueResult,
};

/// Renders every metric of the report for a terminal.
pub fn render(report: &Report, plan: &Plan) -> String {
    let mut out = String::new();
    for (name, result) in &report.metrics {
        let heading = heading(name, plan);
        match result {
            MetricResult::Retention(table) => retention(&mut out, &heading, table, &report.as_of),
            MetricResult::Activation(table) => activation(&mut out, &heading, table),
            MetricResult::Revenue(table) => revenue(&mut out, &heading, table),
            MetricResult::Crr(table) => crr(&mut out, &heading, table),
            MetricResult::Formula(result) => formula(&mut out, &heading, result),
            MetricResult::Ltv(result) => {
                let inputs = match result.form {
                    "orders" => format!(
                        "average order {} × margin {} × {} orders per customer − cost to serve {}",
                        money(result.average_order),
                        percent(result.margin),
                        result
                            .orders_per_customer
                            .map_or("–".to_string(), |o| format!("{o:.2}")),
                        money(result.cost_to_serve)
                    ),
                    _ => format!(
                        "ARPA {} × margin {} ÷ customer churn {}",
                        money(result.arpa),
                        percent(result.margin),
                        optional_percent(result.churn_rate)
                    ),
                };
                let _ = writeln!(out, "{heading}\n  LTV {}  = {inputs}\n", money(result.value));
            }
            MetricResult::Payback(result) => {
                let _ = writeln!(
                    out,
                    "{heading}\n  payback {} {}s  = CAC {} ÷ (ARPA {} × margin {})\n",
                    result.value.map_or("–".to_string(), |v| format!("{v:.1}")),
                    result.unit,
                    money(Some(result.cac)),
                    money(result.arpa),
                    percent(result.margin)
                );
            }
            MetricResult::Failed(failed) => {
                let _ = writeln!(out, "{heading}\n  failed: {}\n", failed.error);
            }
        }
    }
    out
}

fn heading(name: &str, plan: &Plan) -> String {
    let Some(metric) = plan.metrics.iter().find(|m| m.name == name) else {
        return name.to_string();
    };
    let detail = match &metric.kind {
        MetricKind::Retention(r) => {
            let cohort = &plan.cohorts[r.cohort];
            format!(
                "{} retention of `{}`, by {} cohort of first `{}`",
                r.mode.as_str(),
                plan.events[r.return_event].name,
                cohort.grain.as_str(),
                plan.events[cohort.start].name
            )
        }
        MetricKind::Revenue(_)
        | MetricKind::Crr(_)
        | MetricKind::Formula(_)
        | MetricKind::Ltv(_)
        | MetricKind::Payback(_) => String::new(),
        MetricKind::Activation(a) => {
            let cohort = &plan.cohorts[a.cohort];
            format!(
                "activation: first `{}` within {} of first `{}`, by {} cohort",
                plan.events[a.reached].name,
                a.within,
                plan.events[cohort.start].name,
                cohort.grain.as_str()
            )
        }
    };
    let detail = match &metric.kind {
        MetricKind::Revenue(r) => format!(
            "revenue movements of `{}` by {}{}",
            plan.events[r.event].name,
            r.grain.as_str(),
            if r.spread.is_some() {
                ", multi-month payments spread over their months"
            } else {
                ""
            }
        ),
        MetricKind::Crr(c) => format!(
            "customer retention rate (E − N) / S of `{}` by {}",
            plan.events[c.active].name,
            c.grain.as_str()
        ),
        _ => detail,
    };
    match &metric.description {
        Some(description) => format!("{name} — {description}\n{detail}"),
        None => format!("{name} — {detail}"),
    }
}

fn segment_text(segment: &Option<tenure::plan::Segment>) -> String {
    match segment {
        None => String::new(),
        Some(segment) => segment
            .0
            .iter()
            .map(|(_, v)| v.to_string())
            .collect::<Vec<_>>()
            .join(" · "),
    }
}

/// The segment column of a cohort table: there when some row has a segment, as wide as the
/// widest segment and its heading.
struct SegmentColumn {
    width: Option<usize>,
}

impl SegmentColumn {
    fn of<'a>(segments: impl Iterator<Item = &'a Option<tenure::plan::Segment>>) -> SegmentColumn {
        let widths: Vec<usize> = segments
            .filter(|segment| segment.is_some())
            .map(|segment| segment_text(segment).chars().count())
            .collect();
        SegmentColumn {
            width: widths.into_iter().max().map(|widest| widest.max(7)),
        }
    }

    /// Writes `text` as the row's segment cell; nothing when the table has no segments.
    fn cell(&self, out: &mut String, text: &str) {
        if let Some(width) = self.width {
            let _ = write!(out, "  {text:<width$}");
        }
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

fn retention(out: &mut String, heading: &str, table: &RetentionResult, as_of: &str) {
    let letter = table.unit.chars().next().unwrap_or('d');
    let labels = table.periods.labels(letter, table.mode == "unbounded");
    let segments = SegmentColumn::of(table.cohorts.iter().map(|c| &c.segment));
    let width = labels.iter().map(|l| l.len()).max().unwrap_or(0).max(7) + 1;
    let _ = writeln!(out, "{heading}");
    let _ = write!(out, "{:<10}", "cohort");
    segments.cell(out, "segment");
    let _ = write!(out, "{:>8}", "size");
    for label in &labels {
        let _ = write!(out, "{label:>width$}");
    }
    out.push('\n');
    let mut incomplete = false;
    for row in &table.cohorts {
        let _ = write!(out, "{:<10}", row.cohort);
        segments.cell(out, &segment_text(&row.segment));
        let _ = write!(out, "{:>8}", row.size);
        for index in 0..labels.len() {
            let cell = if row.eligible[index] == 0 {
                incomplete = true;
                "·".to_string()
            } else if row.eligible[index] < row.size {
                incomplete = true;
                format!("{}*", percent(row.rate[index]))
            } else {
                format!("{} ", percent(row.rate[index]))
            };
            let _ = write!(out, "{cell:>width$}");
        }
        out.push('\n');
    }
    let _ = write!(out, "{:<10}", "total");
    segments.cell(out, "");
    let _ = write!(out, "{:>8}", table.total.size);
    for rate in &table.total.rate {
        let cell = rate.map_or("·".to_string(), |r| format!("{} ", percent(r)));
        let _ = write!(out, "{cell:>width$}");
    }
    out.push('\n');
    if incomplete {
        let _ = writeln!(
            out,
            "* period not yet over for every member by {as_of}   · not yet observable   total: eligible members only"
        );
    }
    if table.cohorts.iter().any(|c| c.ltv.is_some()) {
        let _ = writeln!(
            out,
            "realised revenue per member, cumulative through each column:"
        );
        for row in &table.cohorts {
            let _ = write!(out, "{:<10}", row.cohort);
            segments.cell(out, &segment_text(&row.segment));
            let _ = write!(out, "{:>8}", row.size);
            for value in row.ltv.iter().flatten() {
                let _ = write!(out, "{:>width$}", format!("{value:.2} "));
            }
            out.push('\n');
        }
        let _ = write!(out, "{:<10}", "total");
        segments.cell(out, "");
        let _ = write!(out, "{:>8}", table.total.size);
        for value in table.total.ltv.iter().flatten() {
            let _ = write!(
                out,
                "{:>width$}",
                value.map_or("· ".to_string(), |v| format!("{v:.2} "))
            );
        }
        out.push('\n');
    }
    out.push('\n');
}

fn activation(out: &mut String, heading: &str, table: &ActivationResult) {
    let segments = SegmentColumn::of(table.cohorts.iter().map(|c| &c.segment));
    let _ = writeln!(out, "{heading}");
    let _ = write!(out, "{:<10}", "cohort");
    segments.cell(out, "segment");
    let _ = writeln!(
        out,
        "{:>8}{:>11}{:>9}{:>13}",
        "size", "activated", "rate", "median days"
    );
    let mut incomplete = false;
    for row in &table.cohorts {
        let _ = write!(out, "{:<10}", row.cohort);
        segments.cell(out, &segment_text(&row.segment));
        let marker = if row.eligible < row.size {
            incomplete = true;
            "*"
        } else {
            " "
        };
        let median = row.median_days.map_or("–".to_string(), |d| format!("{d:.1}"));
        let _ = writeln!(
            out,
            "{:>8}{:>11}{:>8}{marker}{median:>13}",
            row.size,
            row.activated,
            percent(row.rate)
        );
    }
    let total = &table.total;
    let _ = write!(out, "{:<10}", "total");
    segments.cell(out, "");
    let rate = total.rate.map_or("·".to_string(), percent);
    let median = total.median_days.map_or("–".to_string(), |d| format!("{d:.1}"));
    let _ = writeln!(
        out,
        "{:>8}{:>11}{rate:>8} {median:>13}",
        total.size, total.activated
    );
    if incomplete {
        let _ = writeln!(
            out,
            "* window not yet over for every member   total: eligible members only"
        );
    }
    out.push('\n');
}

fn optional_percent(rate: Option<f64>) -> String {
    rate.map_or("–".to_string(), percent)
}

fn revenue(out: &mut String, heading: &str, table: &RevenueResult) {
    revenue_table(out, heading, table);
    for segment in table.segments.iter().flatten() {
        let name = segment
            .segment
            .0
            .iter()
            .map(|(k, v)| format!("{k} = {v}"))
            .collect::<Vec<_>>()
            .join(", ");
        let part = RevenueResult {
            periods: segment.periods.clone(),
            nrr: segment.nrr,
            grr: segment.grr,
            nrr_last: segment.nrr_last,
            grr_last: segment.grr_last,
            nrr_window: None,
            segments: None,
            ..table.clone()
        };
        revenue_table(out, &format!("  {name}:"), &part);
    }
}

fn revenue_table(out: &mut String, heading: &str, table: &RevenueResult) {
    let _ = writeln!(out, "{heading}");
    let _ = writeln!(
        out,
        "{:<10}{:>12}{:>11}{:>11}{:>12}{:>11}{:>13}{:>12}{:>8}{:>8}{:>12}",
        "period",
        "start",
        "new",
        "expansion",
        "contraction",
        "churned",
        "reactivation",
        "end",
        "GRR",
        "NRR",
        "logo churn"
    );
    for p in &table.periods {
        let marker = if p.complete { " " } else { "*" };
        let _ = writeln!(
            out,
            "{:<10}{:>12.2}{:>11.2}{:>11.2}{:>12.2}{:>11.2}{:>13.2}{:>12.2}{:>8}{:>8}{:>12}{marker}",
            p.period,
            p.start,
            p.new,
            p.expansion,
            p.contraction,
            p.churned,
            p.reactivation,
            p.end,
            optional_percent(p.grr),
            optional_percent(p.nrr),
            optional_percent(p.customer_churn_rate),
        );
    }
    let mut summary = format!(
        "NRR {} · GRR {} over complete periods; last complete period: NRR {} · GRR {}",
        optional_percent(table.nrr),
        optional_percent(table.grr),
        optional_percent(table.nrr_last),
        optional_percent(table.grr_last)
    );
    if let Some(window) = table.nrr_window {
        let _ = write!(summary, " · trailing-window NRR {}", percent(window));
    }
    let _ = writeln!(out, "{summary}");
    if table.periods.iter().any(|p| !p.complete) {
        let _ = writeln!(out, "* period not over by as_of");
    }
    out.push('\n');
}

fn crr(out: &mut String, heading: &str, table: &CrrResult) {
    let _ = writeln!(out, "{heading}");
    let _ = writeln!(
        out,
        "{:<10}{:>10}{:>10}{:>10}{:>9}",
        "period", "start S", "end E", "new N", "CRR"
    );
    for p in &table.periods {
        let marker = if p.complete { " " } else { "*" };
        let _ = writeln!(
            out,
            "{:<10}{:>10}{:>10}{:>10}{:>9}{marker}",
            p.period,
            p.start,
            p.end,
            p.new,
            optional_percent(p.crr)
        );
    }
    let _ = writeln!(
        out,
        "CRR {} over complete periods; last complete period {}",
        optional_percent(table.crr),
        optional_percent(table.crr_last)
    );
    out.push('\n');
}

fn money(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{v:.2}"))
}

fn formula(out: &mut String, heading: &str, result: &tenure::plan::FormulaResult) {
    let _ = writeln!(out, "{heading}");
    match &result.rows {
        None => {
            let value = match result.value {
                tenure::plan::FormulaValue::Single(value) => value,
                tenure::plan::FormulaValue::Grouped => None,
            };
            let _ = writeln!(
                out,
                "  value {}",
                value.map_or("null".to_string(), |v| format!("{v}"))
            );
        }
        Some(rows) => {
            for row in rows {
                let label = row
                    .period
                    .clone()
                    .or_else(|| row.cohort.clone())
                    .unwrap_or_default();
                let segment = segment_text(&row.segment);
                let value = row.value.map_or("null".to_string(), |v| format!("{v:.4}"));
                let _ = writeln!(out, "  {label:<10} {segment:<12} {value:>14}");
            }
        }
    }
    out.push('\n');
}
