//! `type = "revenue"`: MRR movements per period, summed as exact integers of 10⁻⁶ units
//! (docs/config.md, `type = "revenue"`).

use tenure_plan::{Expr, Field, Plan, Revenue};

use crate::Dialect;
use crate::calendar::{period_rows, row_period};
use crate::expr::row_sql;
use crate::input::{Amount, dated_rows, with};

pub(crate) fn statement(plan: &Plan, metric: &Revenue, dialect: &dyn Dialect) -> Result<String, String> {
    if metric.spread.is_some() || metric.window.is_some() || metric.reactivation_within.is_some() {
        return Err("`spread`, `window` and `reactivation_within` are not translated to SQL yet".to_string());
    }
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
        "SELECT paid_period AS now_period, sum(revenue) AS end_micros, count(*) AS customers_end, \
         sum(CASE WHEN previous_period IS NULL THEN revenue ELSE 0 END) AS new_micros, \
         sum(CASE WHEN previous_period = paid_period - 1 AND revenue > previous_revenue \
         THEN revenue - previous_revenue ELSE 0 END) AS expansion_micros, \
         sum(CASE WHEN previous_period = paid_period - 1 AND revenue < previous_revenue \
         THEN previous_revenue - revenue ELSE 0 END) AS contraction_micros, \
         sum(CASE WHEN previous_period < paid_period - 1 THEN revenue ELSE 0 END) AS reactivation_micros \
         FROM sequenced GROUP BY paid_period"
            .to_string(),
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
    let zero = |column: &str, table: &str| format!("coalesce({table}.{column}, 0) AS {column}");
    let columns = [
        zero("start_micros", "before"),
        zero("new_micros", "now"),
        zero("expansion_micros", "now"),
        zero("contraction_micros", "now"),
        zero("churned_micros", "before"),
        zero("reactivation_micros", "now"),
        zero("end_micros", "now"),
        zero("customers_start", "before"),
        zero("customers_churned", "before"),
        zero("customers_end", "now"),
    ];
    let query = format!(
        "SELECT periods.period AS period, periods.period < bounds.period_after_as_of AS complete,\n  {}\n\
         FROM periods CROSS JOIN bounds\n\
         LEFT JOIN now ON now.now_period = periods.period\n\
         LEFT JOIN before ON before.before_period = periods.period\n\
         ORDER BY periods.period",
        columns.join(",\n  ")
    );
    Ok(with(&ctes, &query))
}
