//! CSV output: one tidy row per table cell, the same columns for every metric type.
//!
//! Columns: `metric,type,cohort,segment,period,size,count,eligible,rate,median_days`.
//! For retention, `period` is the offset (`7`) or bracket (`8-30`) and `count` the retained
//! entities; for activation, `period` is the window (`7d`) and `count` the activated entities.
//! The `total` row of each table has `cohort = total`.

use std::fmt::Write;

use tenure::plan::{MetricResult, Periods, Report, Segment};

const HEADER: &str = "metric,type,cohort,segment,period,size,count,eligible,rate,median_days";

/// Renders every metric of the report.
pub fn render(report: &Report) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for (name, result) in &report.metrics {
        match result {
            MetricResult::Retention(table) => {
                let labels: Vec<String> = match &table.periods {
                    Periods::Offsets(offsets) => offsets.iter().map(u32::to_string).collect(),
                    Periods::Brackets(brackets) => brackets.iter().map(|[a, b]| format!("{a}-{b}")).collect(),
                };
                for row in &table.cohorts {
                    for (index, label) in labels.iter().enumerate() {
                        line(
                            &mut out,
                            &[
                                name,
                                "retention",
                                &row.cohort,
                                &segment(&row.segment),
                                label,
                                &row.size.to_string(),
                                &row.retained[index].to_string(),
                                &row.eligible[index].to_string(),
                                &row.rate[index].to_string(),
                                "",
                            ],
                        );
                    }
                }
                for (index, label) in labels.iter().enumerate() {
                    line(
                        &mut out,
                        &[
                            name,
                            "retention",
                            "total",
                            "",
                            label,
                            &table.total.size.to_string(),
                            &table.total.retained[index].to_string(),
                            &table.total.eligible[index].to_string(),
                            &table.total.rate[index].map(|r| r.to_string()).unwrap_or_default(),
                            "",
                        ],
                    );
                }
            }
            MetricResult::Activation(table) => {
                for row in &table.cohorts {
                    line(
                        &mut out,
                        &[
                            name,
                            "activation",
                            &row.cohort,
                            &segment(&row.segment),
                            &table.within,
                            &row.size.to_string(),
                            &row.activated.to_string(),
                            &row.eligible.to_string(),
                            &row.rate.to_string(),
                            &row.median_days.map(|d| d.to_string()).unwrap_or_default(),
                        ],
                    );
                }
                let total = &table.total;
                line(
                    &mut out,
                    &[
                        name,
                        "activation",
                        "total",
                        "",
                        &table.within,
                        &total.size.to_string(),
                        &total.activated.to_string(),
                        &total.eligible.to_string(),
                        &total.rate.map(|r| r.to_string()).unwrap_or_default(),
                        &total.median_days.map(|d| d.to_string()).unwrap_or_default(),
                    ],
                );
            }
            MetricResult::Failed(failed) => {
                line(&mut out, &[name, &failed.kind, "", "", "", "", "", "", "", ""]);
            }
        }
    }
    out
}

/// Breakdown values as `key=value` pairs joined by `;`.
pub fn segment(segment: &Option<Segment>) -> String {
    match segment {
        None => String::new(),
        Some(Segment(values)) => values
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(";"),
    }
}

fn line(out: &mut String, fields: &[&str]) {
    for (index, field) in fields.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        if field.contains([',', '"', '\n', '\r']) {
            let _ = write!(out, "\"{}\"", field.replace('"', "\"\""));
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}
