//! `type = "revenue"`: MRR movements per period, summed as exact integers of 10⁻⁶ units
//! (docs/config.md, `type = "revenue"`).

use tenure_plan::{Duration, DurationUnit, Expr, Field, Grain, Plan, Revenue};

use crate::Dialect;
use crate::calendar::{period_rows, row_period};
use crate::expr::row_sql;
use crate::input::{Amount, dated_rows, with};

pub(crate) fn statement(plan: &Plan, metric: &Revenue, dialect: &dyn Dialect) -> Result<String, String> {
    if metric.spread.is_some() {
        return Err("`spread` is not translated to SQL yet".to_string());
    }
    let back_too_late = match metric.reactivation_within {
        None => "FALSE".to_string(),
        Some(within) => too_late(metric.grain, within)?,
    };
    if !metric.by.is_empty() {
        return Err("a revenue breakdown (`by`) is not translated to SQL yet".to_string());
    }
    let event = &plan.events[metric.event];
    let Some(Expr::Field(Field::Prop(column))) = &event.amount else {
        return Err("an amount other than a property column is not translated to SQL yet".to_string());
    };
    let mut ctes = dated_rows(plan, dialect)?;
    let filter = row_sql(&event.filter, dialect)?;
    let period = row_period(plan, metric.grain, dialect);
    ctes.push((
        "payments".to_string(),
        format!(
            "SELECT entity, {period} AS period, {} AS micros FROM dated_rows CROSS JOIN as_of \
             WHERE dated_rows.local_day <= as_of.as_of AND ({filter})",
            Amount::of(column, dialect).micros()
        ),
    ));
    // r(e, p): a period whose sum is zero or less (refunds) counts as no revenue.
    ctes.push((
        "paid".to_string(),
        "SELECT entity, period AS paid_period, sum(micros) AS revenue FROM payments \
         WHERE micros IS NOT NULL GROUP BY entity, period HAVING sum(micros) > 0"
            .to_string(),
    ));
    let neighbour = |value: &str, offset: i8| dialect.neighbour(value, offset, "entity", "paid_period");
    ctes.push((
        "sequenced".to_string(),
        format!(
            "SELECT entity, paid_period, revenue, {} AS previous_period, {} AS previous_revenue, \
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
    // Each paid cell as this period's revenue: new, expansion, contraction, reactivation, end.
    ctes.push((
        "now".to_string(),
        format!(
            "SELECT paid_period AS now_period, sum(revenue) AS end_micros, count(*) AS customers_end, \
         sum(CASE WHEN previous_period IS NULL THEN revenue ELSE 0 END) AS new_micros, \
         sum(CASE WHEN previous_period = paid_period - 1 AND revenue > previous_revenue \
         THEN revenue - previous_revenue ELSE 0 END) AS expansion_micros, \
         sum(CASE WHEN previous_period = paid_period - 1 AND revenue < previous_revenue \
         THEN previous_revenue - revenue ELSE 0 END) AS contraction_micros, \
         sum(CASE WHEN previous_period < paid_period - 1 AND {back_too_late} THEN revenue ELSE 0 END) AS new_after_gap_micros, \
         sum(CASE WHEN previous_period < paid_period - 1 AND NOT {back_too_late} THEN revenue ELSE 0 END) AS reactivation_micros \
         FROM sequenced GROUP BY paid_period"
        ),
    ));
    // Each paid cell as the next period's start, churned when the next period has none.
    ctes.push((
        "before".to_string(),
        "SELECT paid_period + 1 AS before_period, sum(revenue) AS start_micros, count(*) AS customers_start, \
         sum(CASE WHEN next_period IS NULL OR next_period > paid_period + 1 THEN revenue ELSE 0 END) \
         AS churned_micros, \
         sum(CASE WHEN next_period IS NULL OR next_period > paid_period + 1 THEN 1 ELSE 0 END) \
         AS customers_churned FROM sequenced GROUP BY paid_period"
            .to_string(),
    ));
    // The trailing window: each paid cell as the base of the period `window` after it, with the
    // same entity's revenue then.
    if let Some(window) = metric.window_periods {
        ctes.push((
            "windowed".to_string(),
            format!(
                "SELECT base.paid_period + {window} AS window_period, sum(base.revenue) AS window_base_micros, \
                 sum(coalesce(later.revenue, 0)) AS window_now_micros FROM paid AS base \
                 LEFT JOIN paid AS later ON later.entity = base.entity \
                 AND later.paid_period = base.paid_period + {window} GROUP BY base.paid_period"
            ),
        ));
    }
    let zero = |column: &str, table: &str| format!("coalesce({table}.{column}, 0) AS {column}");
    let mut columns = vec![
        zero("start_micros", "before"),
        "coalesce(now.new_micros, 0) + coalesce(now.new_after_gap_micros, 0) AS new_micros".to_string(),
        zero("expansion_micros", "now"),
        zero("contraction_micros", "now"),
        zero("churned_micros", "before"),
        zero("reactivation_micros", "now"),
        zero("end_micros", "now"),
        zero("customers_start", "before"),
        zero("customers_churned", "before"),
        zero("customers_end", "now"),
    ];
    let mut joins = "LEFT JOIN now ON now.now_period = periods.period\n\
                     LEFT JOIN before ON before.before_period = periods.period\n"
        .to_string();
    if metric.window_periods.is_some() {
        columns.push(zero("window_base_micros", "windowed"));
        columns.push(zero("window_now_micros", "windowed"));
        joins.push_str("LEFT JOIN windowed ON windowed.window_period = periods.period\n");
    }
    let query = format!(
        "SELECT periods.period AS period, periods.period < bounds.period_after_as_of AS complete,\n  {}\n\
         FROM periods CROSS JOIN bounds\n{joins}ORDER BY periods.period",
        columns.join(",\n  ")
    );
    Ok(with(&ctes, &query, dialect))
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
        _ => Err(format!(
            "`reactivation_within = \"{within}\"` over {} periods is not translated to SQL yet \
             (durations in days or weeks over day and week periods, in months over month and \
             quarter periods, are)",
            grain.as_str()
        )),
    }
}
