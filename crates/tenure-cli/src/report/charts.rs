//! The pictures of each metric type (docs/report.md says what each one shows).

use tenure::plan::{
    ActivationResult, CrrResult, FormulaResult, LifecycleResult, MetricResult, Periods, RetentionResult,
    RevenuePeriod, RevenueResult, Segment, StickinessResult, SurveyResult, UpliftResult, WinbackResult,
};

use crate::output::table::{column_labels, money, optional_percent, values_text};

use super::svg::{
    Band, Format, HeatCell, HeatRow, Interval, Layer, LineStyle, Series, Step, bridge, heatmap, intervals,
    lines, stacked_bars,
};

/// A chart with the sentence that says how to read it.
pub(crate) struct Figure {
    /// What the chart shows, as a caption.
    pub caption: String,
    /// The chart's markup: its SVG, and for some charts more of the same folded under it.
    pub svg: String,
}

/// Headline figures of a metric, shown as cards above its charts.
pub(crate) struct Card {
    /// What the figure is.
    pub label: String,
    /// The figure as text.
    pub value: String,
}

/// The cards and charts of one metric's result.
pub(crate) fn pictures(result: &MetricResult) -> (Vec<Card>, Vec<Figure>) {
    match result {
        MetricResult::Retention(table) => retention(table),
        MetricResult::Activation(table) => activation(table),
        MetricResult::Funnel(table) => {
            let labels: Vec<String> = table.total.steps.iter().map(|s| s.step.clone()).collect();
            let values: Vec<f64> = table.total.steps.iter().map(|s| s.rate.unwrap_or(0.0)).collect();
            let chart = stacked_bars(
                &labels,
                &[layer("reached, of eligible members", values, 0)],
                Format::Percent,
            );
            let cards = vec![card("eligible members", table.total.eligible.to_string())];
            (
                cards,
                vec![figure(
                    "Share of the eligible members (whose window is over) that reached each step, in order.",
                    chart,
                )],
            )
        }
        MetricResult::Revenue(table) => revenue(table),
        MetricResult::CohortRevenue(table) => {
            let width = table
                .cohorts
                .iter()
                .map(|row| row.periods.len())
                .max()
                .unwrap_or(0);
            let columns: Vec<String> = (0..width).map(|k| format!("{k}")).collect();
            let rows: Vec<HeatRow> = table
                .cohorts
                .iter()
                .map(|row| HeatRow {
                    label: row_label(&row.cohort, &row.segment),
                    size: row.size.to_string(),
                    cells: (0..width)
                        .map(|k| match row.periods.get(k) {
                            Some(cell) => HeatCell {
                                value: cell.nrr,
                                text: cell.nrr.map_or("·".to_string(), |v| Format::Percent.text(v)),
                                detail: format!(
                                    "{} period {k}: revenue {}, {} customers",
                                    row.cohort,
                                    Format::Money.text(cell.revenue),
                                    cell.customers
                                ),
                                complete: cell.complete,
                            },
                            None => empty_cell(),
                        })
                        .collect(),
                    total: false,
                })
                .collect();
            (
                Vec::new(),
                vec![figure(
                    "Net revenue retention of each cohort's starting customers, period by period since its start (colour from 0 % to 150 %; hatched: period not over).",
                    heatmap(&columns, &rows, (0.0, 1.5)),
                )],
            )
        }
        MetricResult::Crr(table) => crr(table),
        MetricResult::Lifecycle(table) => lifecycle(table),
        MetricResult::Stickiness(table) => stickiness(table),
        MetricResult::Survey(survey) => survey_pictures(survey),
        MetricResult::Uplift(uplift) => uplift_pictures(uplift),
        MetricResult::Winback(winback) => winback_pictures(winback),
        MetricResult::Health(health) => {
            let labels: Vec<String> = health
                .scores
                .distribution
                .iter()
                .map(|b| b.band.clone())
                .collect();
            let layers: Vec<Layer> = health
                .scores
                .distribution
                .iter()
                .enumerate()
                .map(|(index, band)| {
                    let mut values = vec![0.0; labels.len()];
                    values[index] = band.entities as f64;
                    layer(&band.band, values, index)
                })
                .collect();
            let cards = vec![
                card("scored entities", health.scores.population.to_string()),
                card(
                    "mean score",
                    health
                        .scores
                        .mean_score
                        .map_or("–".to_string(), |s| format!("{s:.1}")),
                ),
                card(
                    &format!("in band {}", health.at_risk_band),
                    health.at_risk.len().to_string(),
                ),
            ];
            let mut figures = vec![figure(
                &format!("Entities per health band on {}.", health.date),
                stacked_bars(&labels, &layers, Format::Number),
            )];
            if let Some(history) = &health.history {
                // One bar per period, one layer per band, best band at the bottom.
                let periods: Vec<String> = history.iter().map(|p| p.period.clone()).collect();
                let layers: Vec<Layer> = health
                    .bands
                    .iter()
                    .enumerate()
                    .map(|(index, band)| {
                        let values = history
                            .iter()
                            .map(|p| p.scores.distribution[index].entities as f64)
                            .collect();
                        layer(&band.name, values, index)
                    })
                    .collect();
                figures.push(figure(
                    "Entities per health band at the end of each period.",
                    stacked_bars(&periods, &layers, Format::Number),
                ));
            }
            (cards, figures)
        }
        MetricResult::Formula(result) => formula(result),
        MetricResult::Ltv(result) => (vec![card("lifetime value", money(result.value))], Vec::new()),
        MetricResult::Payback(result) => (
            vec![card(
                &format!("payback ({}s)", result.unit),
                result.value.map_or("–".to_string(), |v| format!("{v:.1}")),
            )],
            Vec::new(),
        ),
        MetricResult::Failed(_) => (Vec::new(), Vec::new()),
    }
}

fn card(label: &str, value: String) -> Card {
    Card {
        label: label.to_string(),
        value,
    }
}

fn figure(caption: &str, svg: String) -> Figure {
    Figure {
        caption: caption.to_string(),
        svg,
    }
}

fn layer(name: &str, values: Vec<f64>, colour: usize) -> Layer {
    Layer {
        name: name.to_string(),
        values,
        colour,
    }
}

fn series(name: &str, points: Vec<Option<f64>>, style: LineStyle) -> Series {
    Series {
        name: name.to_string(),
        points,
        style,
    }
}

fn empty_cell() -> HeatCell {
    HeatCell {
        value: None,
        text: String::new(),
        detail: "not observable yet".to_string(),
        complete: false,
    }
}

/// A cohort row's label: the cohort, then its breakdown values.
pub(crate) fn row_label(cohort: &str, segment: &Option<Segment>) -> String {
    match segment {
        None => cohort.to_string(),
        Some(values) => format!("{cohort} · {}", values_text(values)),
    }
}

fn retention(table: &RetentionResult) -> (Vec<Card>, Vec<Figure>) {
    let columns = column_labels(table);
    let mut rows: Vec<HeatRow> = table
        .cohorts
        .iter()
        .map(|row| HeatRow {
            label: row_label(&row.cohort, &row.segment),
            size: row.size.to_string(),
            cells: (0..columns.len())
                .map(|i| match row.rate[i] {
                    None => empty_cell(),
                    Some(rate) => HeatCell {
                        value: Some(rate),
                        text: Format::Percent.text(rate),
                        detail: format!(
                            "{} {}: {} retained of {} ({} eligible)",
                            row.cohort, columns[i], row.retained[i], row.size, row.eligible[i]
                        ),
                        complete: row.eligible[i] == row.size,
                    },
                })
                .collect(),
            total: false,
        })
        .collect();
    rows.push(HeatRow {
        label: "average (eligible members)".to_string(),
        size: table.total.size.to_string(),
        cells: (0..columns.len())
            .map(|i| match table.total.rate[i] {
                None => empty_cell(),
                Some(rate) => HeatCell {
                    value: Some(rate),
                    text: Format::Percent.text(rate),
                    detail: format!(
                        "all cohorts {}: {} retained of {} eligible",
                        columns[i], table.total.retained[i], table.total.eligible[i]
                    ),
                    complete: true,
                },
            })
            .collect(),
        total: true,
    });
    let mut curves: Vec<Series> = table
        .cohorts
        .iter()
        .map(|row| {
            let points = (0..columns.len())
                .map(|i| (row.eligible[i] == row.size).then_some(row.rate[i]).flatten())
                .collect();
            series(&row_label(&row.cohort, &row.segment), points, LineStyle::Faint)
        })
        .collect();
    curves.push(series(
        "all cohorts (eligible members)",
        table.total.rate.clone(),
        LineStyle::Bold,
    ));
    let bands: Vec<Band> = match (&table.benchmark, &table.periods) {
        (Some(benchmark), Periods::Offsets(offsets)) => benchmark
            .cells
            .iter()
            .filter_map(|cell| {
                let at = offsets.iter().position(|k| *k == cell.day)?;
                Some(Band {
                    at,
                    low: cell.low,
                    high: cell.high,
                })
            })
            .collect(),
        _ => Vec::new(),
    };
    let norms = table.benchmark.as_ref().map_or(String::new(), |b| {
        format!(" Shaded: the {} norms ({}).", b.name, b.segment)
    });
    let mut by_value = Vec::new();
    if let Some(ltv) = &table.total.ltv {
        by_value.push(figure(
            "Realised revenue per member, cumulative from the start through each column (the LTV curve), members whose column is over.",
            lines(
                &columns,
                &[series("revenue per member", ltv.clone(), LineStyle::Colour(2))],
                &[],
                Format::Money,
            ),
        ));
    }
    if let Some(totals) = &table.totals {
        let names: Vec<String> = totals.iter().map(|t| values_text(&t.segment)).collect();
        let curves: Vec<Series> = totals
            .iter()
            .zip(&names)
            .enumerate()
            .map(|(index, (total, name))| series(name, total.total.rate.clone(), LineStyle::Colour(index)))
            .collect();
        by_value.push(figure(
            "Retention of each breakdown value, its cohorts pooled (members whose period is over).",
            lines(&columns, &curves, &[], Format::Percent),
        ));
        let sizes: Vec<f64> = totals.iter().map(|t| t.total.size as f64).collect();
        by_value.push(figure(
            "Members per breakdown value.",
            stacked_bars(&names, &[layer("members", sizes, 0)], Format::Number),
        ));
    }
    let cards = columns
        .iter()
        .zip(&table.total.rate)
        .rev()
        .take(3)
        .rev()
        .map(|(column, rate)| card(&format!("{column}, all cohorts"), optional_percent(*rate)))
        .collect();
    (
        cards,
        vec![
            figure(
                "Share of each cohort retained in each column (colour from 0 % to 100 %). Hatched, dashed cells: the period is not over for every member yet, so the share can still grow; empty cells: nothing observable yet. The last row pools the members whose period is over.",
                heatmap(&columns, &rows, (0.0, 1.0)),
            ),
            figure(
                &format!(
                    "Retention curves: one faint line per cohort over its complete cells, the pooled average in bold.{norms}"
                ),
                lines(&columns, &curves, &bands, Format::Percent),
            ),
        ]
        .into_iter()
        .chain(by_value)
        .collect(),
    )
}

fn activation(table: &ActivationResult) -> (Vec<Card>, Vec<Figure>) {
    let labels: Vec<String> = table
        .cohorts
        .iter()
        .map(|row| row_label(&row.cohort, &row.segment))
        .collect();
    let rates: Vec<Option<f64>> = table.cohorts.iter().map(|row| row.rate).collect();
    let medians: Vec<Option<f64>> = table.cohorts.iter().map(|row| row.median_days).collect();
    let cards = vec![
        card(
            &format!("activated within {}", table.within),
            optional_percent(table.total.rate),
        ),
        card(
            "median days to value",
            table
                .total
                .median_days
                .map_or("–".to_string(), |d| format!("{d:.1}")),
        ),
    ];
    (
        cards,
        vec![
            figure(
                "Activation rate per cohort (members whose window is over).",
                lines(
                    &labels,
                    &[series("activation rate", rates, LineStyle::Colour(0))],
                    &[],
                    Format::Percent,
                ),
            ),
            figure(
                "Median days from the start to the first value event, per cohort (activated members).",
                lines(
                    &labels,
                    &[series("median days to value", medians, LineStyle::Colour(1))],
                    &[],
                    Format::Number,
                ),
            ),
        ],
    )
}

fn revenue(table: &RevenueResult) -> (Vec<Card>, Vec<Figure>) {
    let labels: Vec<String> = table.periods.iter().map(|p| p.period.clone()).collect();
    let mut cards = vec![
        card("NRR, whole window", optional_percent(table.nrr)),
        card("GRR, whole window", optional_percent(table.grr)),
        card("NRR, last complete period", optional_percent(table.nrr_last)),
    ];
    if let Some(window) = table.nrr_window {
        cards.push(card("NRR over the window", optional_percent(window)));
    }
    let mut figures = Vec::new();
    let complete: Vec<&RevenuePeriod> = table.periods.iter().filter(|p| p.complete).collect();
    if let Some((last, earlier)) = complete.split_last() {
        let mut body = bridge(&bridge_steps(last), Format::Money);
        if !earlier.is_empty() {
            body.push_str("<details><summary>The bridges of the earlier periods</summary>");
            for period in earlier.iter().rev() {
                body.push_str(&format!("<p>{}</p>", super::svg::escape(&period.period)));
                body.push_str(&bridge(&bridge_steps(period), Format::Money));
            }
            body.push_str("</details>");
        }
        figures.push(figure(
            &format!(
                "The revenue bridge of {}: from the previous period's revenue through each movement to this period's.",
                last.period
            ),
            body,
        ));
    }
    let movements = |pick: fn(&RevenuePeriod) -> f64| table.periods.iter().map(pick).collect::<Vec<f64>>();
    figures.push(figure(
        "Revenue movements per period: gains up, losses down.",
        stacked_bars(
            &labels,
            &[
                layer("new", movements(|p| p.new), 0),
                layer("expansion", movements(|p| p.expansion), 1),
                layer("reactivation", movements(|p| p.reactivation), 2),
                layer("contraction", movements(|p| -p.contraction), 3),
                layer("churned", movements(|p| -p.churned), 4),
            ],
            Format::Money,
        ),
    ));
    let complete = |pick: fn(&RevenuePeriod) -> Option<f64>| {
        table
            .periods
            .iter()
            .map(|p| if p.complete { pick(p) } else { None })
            .collect::<Vec<_>>()
    };
    figures.push(figure(
        "Net and gross revenue retention, logo churn and revenue churn per complete period.",
        lines(
            &labels,
            &[
                series("NRR", complete(|p| p.nrr), LineStyle::Colour(0)),
                series("GRR", complete(|p| p.grr), LineStyle::Colour(1)),
                series(
                    "customer churn",
                    complete(|p| p.customer_churn_rate),
                    LineStyle::Colour(4),
                ),
                series(
                    "revenue churn",
                    complete(|p| p.revenue_churn_rate),
                    LineStyle::Colour(3),
                ),
            ],
            &[],
            Format::Percent,
        ),
    ));
    (cards, figures)
}

/// A period's bridge: start, the gains, the losses, end.
fn bridge_steps(period: &RevenuePeriod) -> Vec<Step> {
    vec![
        Step::Level("start".to_string(), period.start),
        Step::Change("new".to_string(), period.new),
        Step::Change("expansion".to_string(), period.expansion),
        Step::Change("reactivation".to_string(), period.reactivation),
        Step::Change("contraction".to_string(), -period.contraction),
        Step::Change("churned".to_string(), -period.churned),
        Step::Level("end".to_string(), period.end),
    ]
}

fn crr(table: &CrrResult) -> (Vec<Card>, Vec<Figure>) {
    let labels: Vec<String> = table.periods.iter().map(|p| p.period.clone()).collect();
    let points = table
        .periods
        .iter()
        .map(|p| if p.complete { p.crr } else { None })
        .collect();
    (
        vec![
            card("CRR, whole window", optional_percent(table.crr)),
            card("CRR, last complete period", optional_percent(table.crr_last)),
        ],
        vec![figure(
            "Customer retention rate (E − N) / S per complete period.",
            lines(
                &labels,
                &[series("CRR", points, LineStyle::Colour(0))],
                &[],
                Format::Percent,
            ),
        )],
    )
}

fn lifecycle(table: &LifecycleResult) -> (Vec<Card>, Vec<Figure>) {
    let labels: Vec<String> = table.periods.iter().map(|p| p.period.clone()).collect();
    let pick =
        |f: fn(&tenure::plan::LifecyclePeriod) -> f64| table.periods.iter().map(f).collect::<Vec<f64>>();
    (
        Vec::new(),
        vec![figure(
            "Active entities per period by where they come from; those gone dormant below zero.",
            stacked_bars(
                &labels,
                &[
                    layer("new", pick(|p| p.new as f64), 0),
                    layer("returning", pick(|p| p.returning as f64), 1),
                    layer("resurrecting", pick(|p| p.resurrecting as f64), 2),
                    layer("dormant", pick(|p| -(p.dormant as f64)), 4),
                ],
                Format::Number,
            ),
        )],
    )
}

fn stickiness(table: &StickinessResult) -> (Vec<Card>, Vec<Figure>) {
    let labels: Vec<String> = table.days.iter().map(|d| d.day.clone()).collect();
    let pick = |f: fn(&tenure::plan::StickinessDay) -> u64| {
        table.days.iter().map(|d| Some(f(d) as f64)).collect::<Vec<_>>()
    };
    (
        vec![card("DAU/MAU, 30-day mean", optional_percent(table.dau_mau_mean))],
        vec![
            figure(
                "Daily, weekly (7 days) and monthly (30 days) active entities.",
                lines(
                    &labels,
                    &[
                        series("DAU", pick(|d| d.dau), LineStyle::Colour(0)),
                        series("WAU", pick(|d| d.wau), LineStyle::Colour(1)),
                        series("MAU", pick(|d| d.mau), LineStyle::Colour(2)),
                    ],
                    &[],
                    Format::Number,
                ),
            ),
            figure(
                "DAU/MAU per day: the share of the month's active entities active that day.",
                lines(
                    &labels,
                    &[series(
                        "DAU/MAU",
                        table.days.iter().map(|d| d.dau_mau).collect(),
                        LineStyle::Colour(0),
                    )],
                    &[],
                    Format::Percent,
                ),
            ),
        ],
    )
}

fn survey_pictures(survey: &SurveyResult) -> (Vec<Card>, Vec<Figure>) {
    let format = if survey.scale == "csat" {
        Format::Percent
    } else {
        Format::Number
    };
    let score = |value: Option<f64>| match (value, format) {
        (None, _) => "–".to_string(),
        (Some(v), Format::Percent) => Format::Percent.text(v),
        (Some(v), _) => format!("{v:.1}"),
    };
    let mut cards = vec![
        card(&survey.scale.to_uppercase(), score(survey.total.score)),
        card("responses", survey.total.responses.to_string()),
    ];
    if let Some(rate) = survey.total.response_rate {
        cards.push(card("response rate", optional_percent(Some(rate))));
    }
    let mut figures = Vec::new();
    if let Some(periods) = &survey.periods {
        let labels: Vec<String> = periods.iter().map(|p| p.period.clone()).collect();
        let points = periods.iter().map(|p| p.figures.score).collect();
        figures.push(figure(
            &format!("{} per period.", survey.scale.to_uppercase()),
            lines(
                &labels,
                &[series(&survey.scale.to_uppercase(), points, LineStyle::Colour(0))],
                &[],
                format,
            ),
        ));
    }
    (cards, figures)
}

fn uplift_pictures(uplift: &UpliftResult) -> (Vec<Card>, Vec<Figure>) {
    let mut rows: Vec<Interval> = uplift
        .cohorts
        .iter()
        .map(|row| Interval {
            label: row_label(&row.cohort, &row.segment),
            point: row.comparison.uplift,
            low: row.comparison.low,
            high: row.comparison.high,
        })
        .collect();
    rows.push(Interval {
        label: "all cohorts".to_string(),
        point: uplift.total.uplift,
        low: uplift.total.low,
        high: uplift.total.high,
    });
    let cards = vec![
        card("uplift, all cohorts", optional_percent(uplift.total.uplift)),
        card(
            "95 % interval",
            format!(
                "{} to {}",
                optional_percent(uplift.total.low),
                optional_percent(uplift.total.high)
            ),
        ),
        card(
            "p-value",
            uplift
                .total
                .p_value
                .map_or("–".to_string(), |p| format!("{p:.3}")),
        ),
    ];
    (
        cards,
        vec![figure(
            &format!(
                "Retention of `{}` minus `{}` in column {} of `{}`, with its 95 % interval (Newcombe); an interval across 0 does not tell the groups apart.",
                uplift.treatment, uplift.control, uplift.period, uplift.retention
            ),
            intervals(&rows, Format::Percent),
        )],
    )
}

fn winback_pictures(winback: &WinbackResult) -> (Vec<Card>, Vec<Figure>) {
    let labels: Vec<String> = winback.periods.iter().map(|p| p.period.clone()).collect();
    let points = winback
        .periods
        .iter()
        .map(|p| if p.complete { p.rate } else { None })
        .collect();
    (
        vec![card(
            "won back, complete periods",
            optional_percent(winback.total.rate),
        )],
        vec![figure(
            &format!(
                "Of the entities dormant {}+ days on each period's first day, the share back within {} days.",
                winback.dormant_days, winback.within_days
            ),
            lines(
                &labels,
                &[series("won back", points, LineStyle::Colour(0))],
                &[],
                Format::Percent,
            ),
        )],
    )
}

fn formula(result: &FormulaResult) -> (Vec<Card>, Vec<Figure>) {
    let format = match result.format {
        "percent" => Format::Percent,
        "money" => Format::Money,
        _ => Format::Number,
    };
    let text = |value: Option<f64>| match (value, format) {
        (None, _) => "–".to_string(),
        (Some(v), Format::Percent) => Format::Percent.text(v),
        (Some(v), _) => format!("{v:.2}"),
    };
    match (&result.value, &result.rows) {
        (tenure::plan::FormulaValue::Single(value), _) => (vec![card("value", text(*value))], Vec::new()),
        (_, Some(rows)) => {
            let labels: Vec<String> = rows
                .iter()
                .map(|row| match (&row.period, &row.cohort) {
                    (Some(period), _) => period.clone(),
                    (None, Some(cohort)) => row_label(cohort, &row.segment),
                    (None, None) => String::new(),
                })
                .collect();
            let points = rows.iter().map(|row| row.value).collect();
            (
                Vec::new(),
                vec![figure(
                    "The formula's value per row.",
                    lines(
                        &labels,
                        &[series("value", points, LineStyle::Colour(0))],
                        &[],
                        format,
                    ),
                )],
            )
        }
        _ => (Vec::new(), Vec::new()),
    }
}
