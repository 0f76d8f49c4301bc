//! The tidy long form of a report, the figures of `--format csv`: one row per figure, the same columns for every metric type.
//!
//! Columns: `metric,type,cohort,segment,period,measure,value`. A retention cell gives four rows
//! (`size`, `retained`, `eligible`, `rate`), a revenue period one row per figure (`start`, `new`,
//! … `nrr`), a whole-window scalar one row with empty `cohort` and `period`. Total rows have
//! `cohort = total`. Empty `value` is null. Any tool pivots this back to a table.

use std::fmt::Write;

use tenure_plan::norms::Verdict;
use tenure_plan::{MetricResult, Periods, Report, Segment};

const HEADER: &str = "metric,type,cohort,segment,period,measure,value";

/// One figure of the long form: the fields `metric`, `type`, `cohort`, `segment`, `period`,
/// `measure`, `value`.
pub type Record = [String; 7];

struct Writer<'a> {
    records: Vec<Record>,
    metric: &'a str,
    kind: &'a str,
}

impl Writer<'_> {
    fn row(&mut self, cohort: &str, segment: &str, period: &str, measure: &str, value: String) {
        self.records.push([
            self.metric.to_string(),
            self.kind.to_string(),
            cohort.to_string(),
            segment.to_string(),
            period.to_string(),
            measure.to_string(),
            value,
        ]);
    }
}

/// `records` as CSV text under the header line.
pub fn to_csv(records: &[Record]) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for record in records {
        for (index, field) in record.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            push_field(&mut out, field);
        }
        out.push('\n');
    }
    out
}

/// Appends one CSV field, quoted when it holds a separator, a quote or a line break.
pub fn push_field(out: &mut String, field: &str) {
    if field.contains([',', '"', '\n', '\r']) {
        let _ = write!(out, "\"{}\"", field.replace('"', "\"\""));
    } else {
        out.push_str(field);
    }
}

trait ScalarValueOf {
    fn scalar_value(&self) -> Option<f64>;
}

impl ScalarValueOf for tenure_plan::FormulaResult {
    fn scalar_value(&self) -> Option<f64> {
        match self.value {
            tenure_plan::FormulaValue::Single(value) => value,
            tenure_plan::FormulaValue::Grouped => None,
        }
    }
}

/// The whole table's periods (with no segment text) and then each breakdown value's.
fn tables<'a, P>(
    whole: &'a [P],
    per_value: impl Iterator<Item = (&'a Segment, &'a Vec<P>)> + 'a,
) -> impl Iterator<Item = (String, &'a [P])> + 'a {
    std::iter::once((String::new(), whole))
        .chain(per_value.map(|(value, periods)| (segment(&Some(value.clone())), periods.as_slice())))
}

/// A table's total rows with their segment text: one per breakdown value, then the total of
/// all (empty text).
fn total_rows<'a, T>(
    per_value: impl Iterator<Item = (&'a Segment, &'a T)>,
    all: &'a T,
) -> impl Iterator<Item = (String, &'a T)> {
    per_value
        .map(|(value, total)| (segment(&Some(value.clone())), total))
        .chain(std::iter::once((String::new(), all)))
}

fn number(value: Option<f64>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// Every figure of the report as CSV text.
pub fn csv(report: &Report) -> String {
    to_csv(&records(report))
}

/// Every figure of the report in the long form, metric by metric.
pub fn records(report: &Report) -> Vec<Record> {
    let mut records = Vec::new();
    for (name, result) in &report.metrics {
        let kind = match result {
            MetricResult::Retention(_) => "retention",
            MetricResult::Activation(_) => "activation",
            MetricResult::Funnel(_) => "funnel",
            MetricResult::Revenue(_) | MetricResult::CohortRevenue(_) => "revenue",
            MetricResult::Crr(_) => "crr",
            MetricResult::Lifecycle(_) => "lifecycle",
            MetricResult::Stickiness(_) => "stickiness",
            MetricResult::Survey(_) => "survey",
            MetricResult::Uplift(_) => "uplift",
            MetricResult::Winback(_) => "winback",
            MetricResult::Health(_) => "health",
            MetricResult::Formula(_) => "formula",
            MetricResult::Ltv(_) => "ltv",
            MetricResult::Payback(_) => "payback",
            MetricResult::Failed(failed) => failed.kind.as_str(),
        };
        let mut w = Writer {
            records,
            metric: name,
            kind,
        };
        match result {
            MetricResult::Retention(table) => {
                let labels: Vec<String> = match &table.periods {
                    Periods::Offsets(offsets) => offsets.iter().map(u32::to_string).collect(),
                    Periods::Brackets(brackets) => brackets.iter().map(|[a, b]| format!("{a}-{b}")).collect(),
                };
                for row in &table.cohorts {
                    let segment = segment(&row.segment);
                    for (i, label) in labels.iter().enumerate() {
                        w.row(&row.cohort, &segment, label, "size", row.size.to_string());
                        w.row(
                            &row.cohort,
                            &segment,
                            label,
                            "retained",
                            row.retained[i].to_string(),
                        );
                        w.row(
                            &row.cohort,
                            &segment,
                            label,
                            "eligible",
                            row.eligible[i].to_string(),
                        );
                        w.row(&row.cohort, &segment, label, "rate", number(row.rate[i]));
                        if let (Some(revenue), Some(ltv)) = (&row.revenue, &row.ltv) {
                            w.row(&row.cohort, &segment, label, "revenue", number(revenue[i]));
                            w.row(&row.cohort, &segment, label, "ltv", number(ltv[i]));
                        }
                    }
                }
                // A total per breakdown value, then the total of all.
                let per_value = table.totals.iter().flatten().map(|t| (&t.segment, &t.total));
                for (segment_text, total) in total_rows(per_value, &table.total) {
                    for (i, label) in labels.iter().enumerate() {
                        let mut figure = |measure: &str, value: String| {
                            w.row("total", &segment_text, label, measure, value);
                        };
                        figure("size", total.size.to_string());
                        figure("retained", total.retained[i].to_string());
                        figure("eligible", total.eligible[i].to_string());
                        figure("rate", number(total.rate[i]));
                        if let (Some(revenue), Some(ltv)) = (&total.revenue, &total.ltv) {
                            figure("revenue", revenue[i].to_string());
                            figure("ltv", number(ltv[i]));
                        }
                    }
                }
                // With `benchmark`: each judged column's band and the verdicts, per cohort row
                // and for the total of all.
                for column in table.benchmark.iter().flat_map(|b| &b.cells) {
                    let label = column.day.to_string();
                    let verdict = |v: &Option<Verdict>| v.map_or(String::new(), |v| v.as_str().to_string());
                    for (row, judged) in table.cohorts.iter().zip(&column.cohorts) {
                        w.row(
                            &row.cohort,
                            &segment(&row.segment),
                            &label,
                            "verdict",
                            verdict(judged),
                        );
                    }
                    w.row("total", "", &label, "norm_low", column.low.to_string());
                    w.row("total", "", &label, "norm_high", column.high.to_string());
                    w.row("total", "", &label, "verdict", verdict(&column.total));
                }
            }
            MetricResult::Funnel(table) => {
                let per_value = table.totals.iter().flatten().map(|t| (&t.segment, &t.total));
                let rows = table
                    .cohorts
                    .iter()
                    .map(|row| {
                        (
                            row.cohort.clone(),
                            segment(&row.segment),
                            row.size,
                            row.eligible,
                            &row.steps,
                        )
                    })
                    .chain(total_rows(per_value, &table.total).map(|(text, total)| {
                        (
                            "total".to_string(),
                            text,
                            total.size,
                            total.eligible,
                            &total.steps,
                        )
                    }));
                for (cohort, segment, size, eligible, steps) in rows {
                    w.row(&cohort, &segment, "", "size", size.to_string());
                    w.row(&cohort, &segment, "", "eligible", eligible.to_string());
                    for step in steps {
                        let mut figure = |measure: &str, value: String| {
                            w.row(&cohort, &segment, &step.step, measure, value);
                        };
                        figure("reached", step.reached.to_string());
                        figure("rate", number(step.rate));
                        figure("step_rate", number(step.step_rate));
                        figure("median_days", number(step.median_days));
                    }
                }
            }
            MetricResult::CohortRevenue(table) => {
                let letter = table.grain.chars().next().unwrap_or('m');
                let label = |k: u32| format!("{letter}{k}");
                for row in &table.cohorts {
                    let segment = segment(&row.segment);
                    w.row(&row.cohort, &segment, "", "size", row.size.to_string());
                    w.row(
                        &row.cohort,
                        &segment,
                        "",
                        "customers_start",
                        row.customers_start.to_string(),
                    );
                    w.row(
                        &row.cohort,
                        &segment,
                        "",
                        "revenue_start",
                        row.revenue_start.to_string(),
                    );
                    for period in &row.periods {
                        let label = label(period.period);
                        let mut figure = |measure: &str, value: String| {
                            w.row(&row.cohort, &segment, &label, measure, value);
                        };
                        figure("complete", period.complete.to_string());
                        figure("revenue", period.revenue.to_string());
                        figure("customers", period.customers.to_string());
                        figure("nrr", number(period.nrr));
                        figure("grr", number(period.grr));
                        figure("logo_retention", number(period.logo_retention));
                    }
                }
                let per_value = table.totals.iter().flatten().map(|t| (&t.segment, &t.total));
                for (segment_text, total) in total_rows(per_value, &table.total) {
                    for period in total {
                        let label = label(period.period);
                        let mut figure = |measure: &str, value: String| {
                            w.row("total", &segment_text, &label, measure, value);
                        };
                        figure("cohorts", period.cohorts.to_string());
                        figure("revenue_start", period.revenue_start.to_string());
                        figure("revenue", period.revenue.to_string());
                        figure("nrr", number(period.nrr));
                        figure("grr", number(period.grr));
                        figure("logo_retention", number(period.logo_retention));
                    }
                }
            }
            MetricResult::Activation(table) => {
                let within = table.within.as_str();
                for row in &table.cohorts {
                    let segment = segment(&row.segment);
                    w.row(&row.cohort, &segment, within, "size", row.size.to_string());
                    w.row(
                        &row.cohort,
                        &segment,
                        within,
                        "activated",
                        row.activated.to_string(),
                    );
                    w.row(
                        &row.cohort,
                        &segment,
                        within,
                        "eligible",
                        row.eligible.to_string(),
                    );
                    w.row(&row.cohort, &segment, within, "rate", number(row.rate));
                    w.row(
                        &row.cohort,
                        &segment,
                        within,
                        "median_days",
                        number(row.median_days),
                    );
                }
                let per_value = table.totals.iter().flatten().map(|t| (&t.segment, &t.total));
                for (segment_text, total) in total_rows(per_value, &table.total) {
                    let mut figure = |measure: &str, value: String| {
                        w.row("total", &segment_text, within, measure, value);
                    };
                    figure("size", total.size.to_string());
                    figure("activated", total.activated.to_string());
                    figure("eligible", total.eligible.to_string());
                    figure("rate", number(total.rate));
                    figure("median_days", number(total.median_days));
                }
            }
            MetricResult::Revenue(table) => {
                let per_value = table.segments.iter().flatten().map(|s| (&s.segment, &s.periods));
                for (segment_text, periods) in tables(&table.periods, per_value) {
                    for p in periods {
                        revenue_rows(&mut w, &segment_text, p, table.nrr_window.is_some());
                    }
                }
                for (measure, value) in [
                    ("nrr", table.nrr),
                    ("grr", table.grr),
                    ("nrr_last", table.nrr_last),
                    ("grr_last", table.grr_last),
                ] {
                    w.row("", "", "", measure, number(value));
                }
                if let Some(window) = table.nrr_window {
                    w.row("", "", "", "nrr_window", number(window));
                }
            }
            MetricResult::Health(health) => {
                // Bands (`cohort` empty, `period` the band), the history's bands (`cohort`
                // `history <period>`), then each entity at risk (`cohort` the entity id).
                let mut bands =
                    |cohort: &str,
                     scores: &tenure_plan::health::BandCounts,
                     segments: &Option<Vec<tenure_plan::health::HealthSegment>>| {
                        let per_value = segments
                            .iter()
                            .flatten()
                            .map(|s| (segment(&Some(s.segment.clone())), &s.scores));
                        for (segment_text, scores) in
                            std::iter::once((String::new(), scores)).chain(per_value)
                        {
                            for row in &scores.distribution {
                                w.row(
                                    cohort,
                                    &segment_text,
                                    &row.band,
                                    "entities",
                                    row.entities.to_string(),
                                );
                                w.row(cohort, &segment_text, &row.band, "share", number(row.share));
                                w.row(
                                    cohort,
                                    &segment_text,
                                    &row.band,
                                    "revenue",
                                    row.revenue.to_string(),
                                );
                            }
                            w.row(cohort, &segment_text, "", "unscored", scores.unscored.to_string());
                            w.row(cohort, &segment_text, "", "mean_score", number(scores.mean_score));
                        }
                    };
                bands("", &health.scores, &health.segments);
                for period in health.history.iter().flatten() {
                    bands(
                        &format!("history {}", period.period),
                        &period.scores,
                        &period.segments,
                    );
                }
                for entity in &health.at_risk {
                    let mut figure = |measure: &str, value: String| {
                        w.row(&entity.entity, "", &health.at_risk_band, measure, value);
                    };
                    figure("score", entity.score.to_string());
                    figure("revenue", entity.revenue.to_string());
                    figure("days_since_active", entity.days_since_active.to_string());
                    for (component, part) in &entity.contributions {
                        figure(&format!("component.{component}"), number(*part));
                    }
                }
                for band in health.backtest.iter().flat_map(|b| &b.churn) {
                    w.row("backtest", "", &band.band, "entities", band.entities.to_string());
                    w.row("backtest", "", &band.band, "churned", band.churned.to_string());
                    w.row("backtest", "", &band.band, "churn_rate", number(band.rate));
                }
            }
            MetricResult::Winback(winback) => {
                let per_value = winback
                    .segments
                    .iter()
                    .flatten()
                    .map(|s| (segment(&Some(s.segment.clone())), &s.periods, &s.total));
                let tables =
                    std::iter::once((String::new(), &winback.periods, &winback.total)).chain(per_value);
                for (segment_text, periods, total) in tables {
                    for p in periods {
                        w.row("", &segment_text, &p.period, "dormant", p.dormant.to_string());
                        w.row("", &segment_text, &p.period, "returned", p.returned.to_string());
                        w.row("", &segment_text, &p.period, "rate", number(p.rate));
                        w.row("", &segment_text, &p.period, "complete", p.complete.to_string());
                    }
                    w.row("total", &segment_text, "", "dormant", total.dormant.to_string());
                    w.row("total", &segment_text, "", "returned", total.returned.to_string());
                    w.row("total", &segment_text, "", "rate", number(total.rate));
                }
            }
            MetricResult::Uplift(uplift) => {
                let rows = uplift
                    .cohorts
                    .iter()
                    .map(|row| (row.cohort.as_str(), segment(&row.segment), &row.comparison))
                    .chain(std::iter::once(("total", String::new(), &uplift.total)));
                for (cohort, segment_text, c) in rows {
                    let mut figure = |measure: &str, value: String| {
                        w.row(cohort, &segment_text, &uplift.period, measure, value);
                    };
                    for (side, group) in [("treatment", &c.treatment), ("control", &c.control)] {
                        figure(&format!("{side}_members"), group.members.to_string());
                        figure(&format!("{side}_eligible"), group.eligible.to_string());
                        figure(&format!("{side}_retained"), group.retained.to_string());
                        figure(&format!("{side}_rate"), number(group.rate));
                    }
                    figure("uplift", number(c.uplift));
                    figure("relative_uplift", number(c.relative_uplift));
                    figure("low", number(c.low));
                    figure("high", number(c.high));
                    figure("p_value", number(c.p_value));
                    figure("small", c.small.to_string());
                }
                w.row("", "", "", "ungrouped", uplift.ungrouped.to_string());
                w.row("", "", "", "conflicting", uplift.conflicting.to_string());
            }
            MetricResult::Survey(survey) => {
                // The whole survey, then each breakdown value, with its segment text.
                let tables = std::iter::once((String::new(), &survey.total, &survey.periods)).chain(
                    survey
                        .segments
                        .iter()
                        .flatten()
                        .map(|s| (segment(&Some(s.segment.clone())), &s.total, &s.periods)),
                );
                for (segment_text, total, periods) in tables {
                    let rows = std::iter::once(("", total))
                        .chain(periods.iter().flatten().map(|p| (p.period.as_str(), &p.figures)));
                    for (period, f) in rows {
                        for (measure, count) in [
                            ("responses", Some(f.responses)),
                            ("respondents", Some(f.respondents)),
                            ("invalid", Some(f.invalid)),
                            ("positive", Some(f.positive)),
                            ("neutral", Some(f.neutral)),
                            ("negative", Some(f.negative)),
                            ("asked", f.asked),
                        ] {
                            if let Some(count) = count {
                                w.row("", &segment_text, period, measure, count.to_string());
                            }
                        }
                        w.row("", &segment_text, period, "score", number(f.score));
                        if f.asked.is_some() {
                            w.row(
                                "",
                                &segment_text,
                                period,
                                "response_rate",
                                number(f.response_rate),
                            );
                        }
                        if let Some(follow_up) = &f.follow_up {
                            let mut figure = |measure: &str, value: String| {
                                w.row("", &segment_text, period, measure, value);
                            };
                            figure("followed_up", follow_up.followed.to_string());
                            figure("follow_up_rate", number(follow_up.rate));
                            figure("follow_up_median_hours", number(follow_up.median_hours));
                        }
                    }
                    for p in periods.iter().flatten() {
                        w.row("", &segment_text, &p.period, "complete", p.complete.to_string());
                        if let Some(wave) = &p.wave {
                            w.row(
                                "",
                                &segment_text,
                                &p.period,
                                "wave_entities",
                                wave.entities.to_string(),
                            );
                            w.row("", &segment_text, &p.period, "wave_before", number(wave.before));
                            w.row("", &segment_text, &p.period, "wave_now", number(wave.now));
                            w.row("", &segment_text, &p.period, "wave_change", number(wave.change));
                        }
                    }
                }
            }
            MetricResult::Crr(table) => {
                for p in &table.periods {
                    w.row("", "", &p.period, "start", p.start.to_string());
                    w.row("", "", &p.period, "end", p.end.to_string());
                    w.row("", "", &p.period, "new", p.new.to_string());
                    w.row("", "", &p.period, "crr", number(p.crr));
                    w.row("", "", &p.period, "complete", p.complete.to_string());
                }
                w.row("", "", "", "crr", number(table.crr));
                w.row("", "", "", "crr_last", number(table.crr_last));
            }
            MetricResult::Lifecycle(table) => {
                let per_value = table.segments.iter().flatten().map(|s| (&s.segment, &s.periods));
                for (segment_text, periods) in tables(&table.periods, per_value) {
                    for p in periods {
                        for (measure, count) in [
                            ("active", p.active),
                            ("new", p.new),
                            ("returning", p.returning),
                            ("resurrecting", p.resurrecting),
                            ("dormant", p.dormant),
                        ] {
                            w.row("", &segment_text, &p.period, measure, count.to_string());
                        }
                        w.row("", &segment_text, &p.period, "complete", p.complete.to_string());
                    }
                }
            }
            MetricResult::Stickiness(table) => {
                for d in &table.days {
                    w.row("", "", &d.day, "dau", d.dau.to_string());
                    w.row("", "", &d.day, "wau", d.wau.to_string());
                    w.row("", "", &d.day, "mau", d.mau.to_string());
                    w.row("", "", &d.day, "dau_mau", number(d.dau_mau));
                }
                for p in &table.periods {
                    w.row("", "", &p.period, "active", p.active.to_string());
                    for (index, count) in p.days_active.iter().enumerate() {
                        w.row(
                            "",
                            "",
                            &p.period,
                            &format!("days_active_{}", index + 1),
                            count.to_string(),
                        );
                    }
                    if let Some(share) = p.share_at_least {
                        w.row("", "", &p.period, "share_at_least", number(share));
                    }
                    w.row("", "", &p.period, "complete", p.complete.to_string());
                }
                w.row("", "", "", "dau_mau_mean", number(table.dau_mau_mean));
            }
            MetricResult::Formula(result) => match &result.rows {
                None => w.row("", "", "", "value", number(result.scalar_value())),
                Some(rows) => {
                    for row in rows {
                        let cohort = row.cohort.as_deref().unwrap_or("");
                        let period = row.period.as_deref().unwrap_or("");
                        w.row(cohort, &segment(&row.segment), period, "value", number(row.value));
                        if let Some(complete) = row.complete {
                            w.row(cohort, "", period, "complete", complete.to_string());
                        }
                    }
                }
            },
            MetricResult::Ltv(result) => {
                w.row("", "", "", "value", number(result.value));
                w.row("", "", "", "margin", result.margin.to_string());
                for (measure, value) in [
                    ("average_order", result.average_order),
                    ("orders_per_customer", result.orders_per_customer),
                    ("cost_to_serve", result.cost_to_serve),
                    ("arpa", result.arpa),
                    ("churn_rate", result.churn_rate),
                ] {
                    if value.is_some() {
                        w.row("", "", "", measure, number(value));
                    }
                }
            }
            MetricResult::Payback(result) => {
                w.row("", "", "", "value", number(result.value));
                w.row("", "", "", "cac", result.cac.to_string());
                w.row("", "", "", "arpa", number(result.arpa));
                w.row("", "", "", "margin", result.margin.to_string());
            }
            MetricResult::Failed(failed) => w.row("", "", "", "error", failed.error.clone()),
        }
        records = w.records;
    }
    records
}

/// The rows of one revenue period.
fn revenue_rows(w: &mut Writer<'_>, segment: &str, p: &tenure_plan::RevenuePeriod, window: bool) {
    let figures = [
        ("start", Some(p.start)),
        ("new", Some(p.new)),
        ("expansion", Some(p.expansion)),
        ("contraction", Some(p.contraction)),
        ("churned", Some(p.churned)),
        ("reactivation", Some(p.reactivation)),
        ("end", Some(p.end)),
        ("customers_end", Some(p.customers_end as f64)),
        ("grr", p.grr),
        ("nrr", p.nrr),
        ("customers_start", Some(p.customers_start as f64)),
        ("customers_churned", Some(p.customers_churned as f64)),
        ("customer_churn_rate", p.customer_churn_rate),
        ("revenue_churn_rate", p.revenue_churn_rate),
    ];
    for (measure, value) in figures {
        w.row("", segment, &p.period, measure, number(value));
    }
    if window {
        w.row(
            "",
            segment,
            &p.period,
            "nrr_window",
            number(p.nrr_window.flatten()),
        );
    }
    w.row("", segment, &p.period, "complete", p.complete.to_string());
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
