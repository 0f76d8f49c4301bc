//! `type = "lifecycle"`: each period's active entities as new, returning and resurrecting, and
//! the entities gone dormant (docs/config.md, `type = "lifecycle"`).

use tenure_plan::{Lifecycle, Plan};

use crate::breakdown;
use crate::calendar::{period_rows, row_period};
use crate::expr::row_sql;
use crate::input::{dated_rows, with};
use crate::{Dialect, SegmentLabels};

/// The counts of a lifecycle row, as the statement names them.
pub(crate) const FIGURES: [&str; 4] = [
    "new_count",
    "returning_count",
    "resurrecting_count",
    "dormant_count",
];

pub(crate) fn statement(
    plan: &Plan,
    metric: &Lifecycle,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<String, String> {
    let breakdown = breakdown::join(plan, &metric.by, "activity.entity", dialect, labels)?;
    let keys = breakdown::keys(metric.by.len());
    let mut ctes = dated_rows(plan, dialect)?;
    let filter = row_sql(&plan.events[metric.active].filter, dialect)?;
    let period = row_period(plan, metric.grain, dialect);
    ctes.push((
        "activity".to_string(),
        format!(
            "SELECT DISTINCT entity, {period} AS active_period FROM dated_rows CROSS JOIN as_of \
             WHERE dated_rows.local_day <= as_of.as_of AND ({filter})"
        ),
    ));
    let active = breakdown::grouped_activity(&mut ctes, breakdown, "active_period");
    let neighbour = |offset: i8| dialect.neighbour("active_period", offset, "entity", "active_period");
    ctes.push((
        "sequenced".to_string(),
        format!(
            "SELECT entity, active_period{keys}, {} AS previous_period, {} AS next_period FROM {active}",
            neighbour(-1),
            neighbour(1)
        ),
    ));
    // The table runs from the first period with activity through the period of `as_of`.
    ctes.extend(period_rows(
        plan,
        metric.grain,
        "SELECT min(active_period) - 1 FROM activity",
        dialect,
    ));
    // Each active period is new, returning or resurrecting; the period after the last of a run
    // of active periods counts the entity dormant. (`period` is only ever an output name: in
    // ClickHouse an alias shadows a column of the same name in WHERE.)
    ctes.push((
        "parts".to_string(),
        format!(
            "SELECT active_period AS period{keys}, \
             CASE WHEN previous_period IS NULL THEN 1 ELSE 0 END AS new_count, \
             CASE WHEN previous_period = active_period - 1 THEN 1 ELSE 0 END AS returning_count, \
             CASE WHEN previous_period < active_period - 1 THEN 1 ELSE 0 END AS resurrecting_count, \
             0 AS dormant_count FROM sequenced\n\
             UNION ALL\n\
             SELECT active_period + 1 AS period{keys}, 0 AS new_count, 0 AS returning_count, \
             0 AS resurrecting_count, 1 AS dormant_count FROM sequenced \
             WHERE next_period IS NULL OR next_period > active_period + 1"
        ),
    ));
    let sums: Vec<String> = FIGURES
        .iter()
        .map(|figure| format!("sum({figure}) AS {figure}"))
        .collect();
    ctes.push((
        "counts".to_string(),
        format!(
            "SELECT period{keys}, {} FROM parts GROUP BY period{keys}",
            sums.join(", ")
        ),
    ));
    let query = breakdown::tables_query("counts", &FIGURES, metric.by.len(), breakdown::PERIOD_OVER);
    Ok(with(&ctes, &query, dialect))
}
