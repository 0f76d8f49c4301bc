//! `type = "revenue"`: MRR movements per period, summed as exact integers of 10⁻⁶ units
//! (docs/config.md, `type = "revenue"`).

use tenure_plan::{Duration, DurationUnit, EventId, Expr, Field, Grain, Literal, Plan, Revenue};

use crate::breakdown;
use crate::calendar::{period_rows, row_period, week_first_day, week_index};
use crate::expr::row_sql;
use crate::input::{Amount, dated_rows, with};
use crate::{Dialect, SegmentLabels};

pub(crate) fn statement(
    plan: &Plan,
    metric: &Revenue,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<String, String> {
    let back_too_late = match metric.reactivation_within {
        None => "FALSE".to_string(),
        Some(within) => too_late(metric.grain, within)?,
    };
    let breakdown = breakdown::join(plan, &metric.by, "cells.entity", dialect, labels)?;
    let keys = breakdown::keys(metric.by.len());
    let mut ctes = dated_rows(plan, dialect)?;
    ctes.extend(revenue_cells(
        plan,
        metric.event,
        metric.grain,
        metric.spread.as_ref(),
        dialect,
    )?);
    ctes.extend(breakdown.ctes);
    if !metric.by.is_empty() {
        ctes.push((
            "grouped_cells".to_string(),
            format!(
                "SELECT cells.entity AS entity, paid_period, revenue{} FROM cells{}",
                breakdown.columns, breakdown.joins
            ),
        ));
    }
    let cells = if metric.by.is_empty() {
        "cells"
    } else {
        "grouped_cells"
    };
    // A period whose sum is zero or less (refunds) counts as no revenue.
    ctes.push((
        "paid".to_string(),
        format!("SELECT entity, paid_period, revenue{keys} FROM {cells} WHERE revenue > 0"),
    ));
    let neighbour = |value: &str, offset: i8| dialect.neighbour(value, offset, "entity", "paid_period");
    ctes.push((
        "sequenced".to_string(),
        format!(
            "SELECT entity, paid_period, revenue{keys}, {} AS previous_period, {} AS previous_revenue, \
             {} AS next_period FROM paid",
            neighbour("paid_period", -1),
            neighbour("revenue", -1),
            neighbour("paid_period", 1)
        ),
    ));
    ctes.extend(period_rows(
        plan,
        metric.grain,
        "SELECT min(paid_period) FROM paid",
        dialect,
    ));
    let windowed = metric.window_periods.is_some();
    let figures = figure_columns(windowed);
    // What each paid cell adds to a period's figures, one row per part.
    let part = |period: &str, keys: &str, values: &[(&str, String)], from: &str| {
        let columns: Vec<String> = figures
            .iter()
            .map(|figure| {
                let value = values
                    .iter()
                    .find(|(name, _)| name == figure)
                    .map_or("0".to_string(), |(_, value)| value.clone());
                format!("{value} AS {figure}")
            })
            .collect();
        format!(
            "SELECT {period} AS period{keys}, {} FROM {from}",
            columns.join(", ")
        )
    };
    let when = |condition: &str, value: &str| format!("CASE WHEN {condition} THEN {value} ELSE 0 END");
    let consecutive = "previous_period = paid_period - 1";
    let after_gap = "previous_period < paid_period - 1";
    let churns = "next_period IS NULL OR next_period > paid_period + 1";
    let mut parts = vec![
        // As this period's revenue: new, expansion, contraction, reactivation, end.
        part(
            "paid_period",
            &keys,
            &[
                (
                    "new_micros",
                    when(
                        &format!("previous_period IS NULL OR ({after_gap} AND {back_too_late})"),
                        "revenue",
                    ),
                ),
                (
                    "expansion_micros",
                    when(
                        &format!("{consecutive} AND revenue > previous_revenue"),
                        "revenue - previous_revenue",
                    ),
                ),
                (
                    "contraction_micros",
                    when(
                        &format!("{consecutive} AND revenue < previous_revenue"),
                        "previous_revenue - revenue",
                    ),
                ),
                (
                    "reactivation_micros",
                    when(&format!("{after_gap} AND NOT {back_too_late}"), "revenue"),
                ),
                ("end_micros", "revenue".to_string()),
                ("customers_end", "1".to_string()),
            ],
            "sequenced",
        ),
        // As the next period's start, churned when the next period has none.
        part(
            "paid_period + 1",
            &keys,
            &[
                ("start_micros", "revenue".to_string()),
                ("customers_start", "1".to_string()),
                ("churned_micros", when(churns, "revenue")),
                ("customers_churned", when(churns, "1")),
            ],
            "sequenced",
        ),
    ];
    // The trailing window: each paid cell as the base of the period `window` after it, with the
    // same entity's revenue then.
    if let Some(window) = metric.window_periods {
        parts.push(part(
            &format!("base.paid_period + {window}"),
            &keys.replace(", by_", ", base.by_"),
            &[
                ("window_base_micros", "base.revenue".to_string()),
                ("window_now_micros", "coalesce(later.revenue, 0)".to_string()),
            ],
            &format!(
                "paid AS base LEFT JOIN paid AS later ON later.entity = base.entity \
                 AND later.paid_period = base.paid_period + {window}"
            ),
        ));
    }
    if !metric.by.is_empty() {
        // A breakdown value whose entities never had revenue above zero still has its table.
        parts.push(part(
            "(SELECT first_period + 1 FROM bounds)",
            &keys,
            &[],
            "grouped_cells WHERE revenue <= 0",
        ));
    }
    ctes.push(("parts".to_string(), parts.join("\nUNION ALL\n")));
    let sums: Vec<String> = figures
        .iter()
        .map(|figure| format!("sum({figure}) AS {figure}"))
        .collect();
    ctes.push((
        "movements".to_string(),
        format!(
            "SELECT period{keys}, {} FROM parts GROUP BY period{keys}",
            sums.join(", ")
        ),
    ));
    let mut query = breakdown::tables_query("movements", &figures, metric.by.len(), breakdown::PERIOD_OVER);
    if metric.spread.is_none() {
        // The customers' typical interval between payments, for the report's warning when it
        // is longer than a period (docs/config.md, "Payments longer than a period").
        ctes.push((
            "billing_gap".to_string(),
            format!(
                "SELECT {} AS median_gap FROM sequenced WHERE previous_period IS NOT NULL",
                dialect.median("paid_period - previous_period")
            ),
        ));
        let order = if metric.by.is_empty() {
            "period"
        } else {
            "overall DESC, period"
        };
        query = format!(
            "SELECT revenue_tables.*, billing_gap.median_gap AS median_gap\n\
             FROM ({query}) AS revenue_tables CROSS JOIN billing_gap\nORDER BY {order}"
        );
    }
    Ok(with(&ctes, &query, dialect))
}

/// CTEs `payments` and `cells` (`entity`, `paid_period`, `revenue`: r(e, p) in micro-units, the
/// sum of the entity's amounts of `event` in period `p` at `grain`, `spread` over months when
/// given), to follow the CTEs of `input::dated_rows`.
pub(crate) fn revenue_cells(
    plan: &Plan,
    event: EventId,
    grain: Grain,
    spread: Option<&Expr>,
    dialect: &dyn Dialect,
) -> Result<Vec<(String, String)>, String> {
    let event = &plan.events[event];
    let Some(Expr::Field(Field::Prop(column))) = &event.amount else {
        return Err("an amount other than a property column is not translated to SQL yet".to_string());
    };
    let filter = row_sql(&event.filter, dialect)?;
    let period = row_period(plan, grain, dialect);
    let micros = Amount::of(column, dialect).micros();
    let mut ctes = match spread {
        None => vec![(
            "payments".to_string(),
            format!(
                "SELECT entity, {period} AS period, {micros} AS micros FROM dated_rows CROSS JOIN as_of \
                 WHERE dated_rows.local_day <= as_of.as_of AND ({filter})"
            ),
        )],
        Some(months) => spread_payments(plan, grain, &micros, months, &filter, dialect)?,
    };
    ctes.push((
        "cells".to_string(),
        "SELECT entity, period AS paid_period, sum(micros) AS revenue FROM payments \
         WHERE micros IS NOT NULL GROUP BY entity, period"
            .to_string(),
    ));
    Ok(ctes)
}

/// The figures of a revenue row, in micro-units and customers.
fn figure_columns(windowed: bool) -> Vec<&'static str> {
    let mut figures = vec![
        "start_micros",
        "new_micros",
        "expansion_micros",
        "contraction_micros",
        "churned_micros",
        "reactivation_micros",
        "end_micros",
        "customers_start",
        "customers_churned",
        "customers_end",
    ];
    if windowed {
        figures.extend(["window_base_micros", "window_now_micros"]);
    }
    figures
}

/// Whether a payment back after a gap comes too late to be a reactivation (then it is new), as
/// SQL over `previous_period` and `paid_period`: the first day of the paid period is more than
/// `within` after the first day of the first period without revenue (docs/config.md,
/// `reactivation_within`). Translated where both ends are whole periods apart in the duration's
/// own unit: days, weeks and hours over day and week periods, months over month and quarter
/// periods.
fn too_late(grain: Grain, within: Duration) -> Result<String, String> {
    let count = i64::from(within.count);
    let days = match within.unit {
        // As the engine counts whole days of an hour duration.
        DurationUnit::Hour => Some(count / 24),
        DurationUnit::Day => Some(count),
        DurationUnit::Week => Some(count * 7),
        DurationUnit::Month => None,
    };
    match (grain, days) {
        (Grain::Day, Some(days)) => Ok(format!("(paid_period - (previous_period + 1) > {days})")),
        (Grain::Week, Some(days)) => Ok(format!("(7 * (paid_period - (previous_period + 1)) > {days})")),
        (Grain::Month, None) => Ok(format!("(paid_period > previous_period + 1 + {count})")),
        (Grain::Quarter, None) => Ok(format!("(3 * paid_period > 3 * (previous_period + 1) + {count})")),
        (Grain::Year, None) => Ok(format!(
            "(12 * paid_period > 12 * (previous_period + 1) + {count})"
        )),
        _ => Err(format!(
            "`reactivation_within = \"{within}\"` over {} periods is not translated to SQL yet \
             (durations in days or weeks over day and week periods, in months over month and \
             quarter periods, are)",
            grain.as_str()
        )),
    }
}

/// CTEs ending in `payments` (entity, period, micros) for a metric with `spread`: each payment
/// spread evenly over `months` calendar months from its own, as the engine does — the number
/// of months rounded (halves away from zero) and held within 1 to 1200, 1 where it is no number;
/// the remainder of the exact integer division in micro-units going to the first months (or,
/// over day and week periods, the first covered days), so nothing is lost (docs/config.md,
/// `spread`).
fn spread_payments(
    plan: &Plan,
    grain: Grain,
    micros: &str,
    months: &Expr,
    filter: &str,
    dialect: &dyn Dialect,
) -> Result<Vec<(String, String)>, String> {
    let count = match months {
        Expr::Field(Field::Prop(column)) => format!(
            "CAST(least(greatest(coalesce(floor({} + 0.5), 1), 1), 1200) AS BIGINT)",
            Amount::of(column, dialect).number()
        ),
        Expr::Literal(Literal::Number(value)) if value.is_finite() => {
            format!("{}", value.round().clamp(1.0, 1200.0) as i64)
        }
        _ => {
            return Err(
                "a `spread` other than a property column or a number is not translated to SQL yet"
                    .to_string(),
            );
        }
    };
    let paid = dialect.wide_integer("paid_micros");
    let payments = |columns: &str| {
        format!(
            "SELECT entity, {columns}, {micros} AS paid_micros \
             FROM dated_rows CROSS JOIN as_of WHERE dated_rows.local_day <= as_of.as_of AND ({filter})"
        )
    };
    let month = |offset: &str| format!("first_month + {offset}");
    let period = match grain {
        Grain::Month => month("month_offset"),
        Grain::Quarter => format!("CAST(floor(({}) / 3.0) AS BIGINT)", month("month_offset")),
        Grain::Year => format!("CAST(floor(({}) / 12.0) AS BIGINT)", month("month_offset")),
        Grain::Day | Grain::Week => {
            let end_day = dialect.days_since_epoch(&dialect.add_months("dated_rows.local_day", &count));
            return Ok(spread_over_days(
                plan,
                grain,
                payments(&format!("dated_rows.day AS first_day, {end_day} AS end_day")),
                dialect,
            ));
        }
    };
    Ok(vec![
        (
            "spread_payments".to_string(),
            payments(&format!(
                "{} AS first_month, {count} AS month_count",
                dialect.month_index("dated_rows.local_day")
            )),
        ),
        (
            "spread_parts".to_string(),
            format!(
                "SELECT entity, first_month, month_count, {paid} AS exact_micros, \
                 (({paid} % month_count) + month_count) % month_count AS remainder_micros \
                 FROM spread_payments WHERE paid_micros IS NOT NULL"
            ),
        ),
        (
            "spread_months".to_string(),
            format!(
                "SELECT entity, first_month, month_count, exact_micros, remainder_micros, period AS month_offset \
                 FROM ({}) AS offsets",
                dialect.series_of(
                    "entity, first_month, month_count, exact_micros, remainder_micros, ",
                    "0",
                    "month_count - 1",
                    "spread_parts"
                )
            ),
        ),
        (
            "payments".to_string(),
            format!(
                "SELECT entity, {period} AS period, {} AS micros FROM spread_months",
                dialect.micros_type(&format!(
                    "{} + CASE WHEN month_offset < remainder_micros THEN 1 ELSE 0 END",
                    dialect.exact_quotient("exact_micros - remainder_micros", "month_count")
                ))
            ),
        ),
    ])
}

/// The CTEs of [`spread_payments`] over day or week periods, from `payments` (entity,
/// `first_day` and `end_day` day numbers, `paid_micros`): a payment covers the days from its
/// own up to the same day `months` later, each covered day takes an equal share, the first days
/// one micro-unit more until the remainder is used up, and each period the shares of its
/// covered days — as the engine does.
fn spread_over_days(
    plan: &Plan,
    grain: Grain,
    payments: String,
    dialect: &dyn Dialect,
) -> Vec<(String, String)> {
    let paid = dialect.wide_integer("paid_micros");
    let week_start = plan.project.week_start;
    let weeks = grain == Grain::Week;
    let period_of = |day: &str| {
        if weeks {
            week_index(day, week_start)
        } else {
            day.to_string()
        }
    };
    let first_day_of = |period: &str| {
        if weeks {
            week_first_day(period, week_start)
        } else {
            format!("({period})")
        }
    };
    // Covered days `low_day..high_day`, counted from the payment's day.
    let low = format!("(greatest({}, first_day) - first_day)", first_day_of("period"));
    let high = format!("(least({}, end_day) - first_day)", first_day_of("period + 1"));
    vec![
        ("spread_payments".to_string(), payments),
        (
            "spread_parts".to_string(),
            format!(
                "SELECT entity, first_day, end_day, {paid} AS exact_micros, \
                 (({paid} % (end_day - first_day)) + (end_day - first_day)) % (end_day - first_day) AS remainder_micros \
                 FROM spread_payments WHERE paid_micros IS NOT NULL"
            ),
        ),
        (
            "spread_periods".to_string(),
            format!(
                "SELECT entity, first_day, end_day, exact_micros, remainder_micros, period, \
                 {low} AS low_day, {high} AS high_day FROM ({}) AS covered",
                dialect.series_of(
                    "entity, first_day, end_day, exact_micros, remainder_micros, ",
                    &period_of("first_day"),
                    &period_of("end_day - 1"),
                    "spread_parts"
                )
            ),
        ),
        (
            "payments".to_string(),
            format!(
                "SELECT entity, period, {} AS micros FROM spread_periods",
                dialect.micros_type(&format!(
                    "(high_day - low_day) * {} + greatest(least(high_day, remainder_micros) - low_day, 0)",
                    dialect.exact_quotient("exact_micros - remainder_micros", "end_day - first_day")
                ))
            ),
        ),
    ]
}
