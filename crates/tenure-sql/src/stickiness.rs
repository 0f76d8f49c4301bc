//! `type = "stickiness"`: DAU, WAU, MAU per day, and each week's or month's active entities by
//! their number of active days (docs/config.md, `type = "stickiness"`).

use tenure_plan::{Plan, Stickiness};

use crate::Dialect;
use crate::calendar::{period_rows, period_sql};
use crate::expr::row_sql;
use crate::input::{dated_rows, with};

/// Days in the rolling windows of WAU and MAU.
const WINDOWS: [(&str, i32); 2] = [("week", 7), ("month", 30)];

pub(crate) fn statement(plan: &Plan, metric: &Stickiness, dialect: &dyn Dialect) -> Result<String, String> {
    let mut ctes = dated_rows(plan, dialect)?;
    let filter = row_sql(&plan.events[metric.active].filter, dialect)?;
    ctes.push((
        "active_days".to_string(),
        format!(
            "SELECT DISTINCT entity, day AS active_day, local_day AS active_date FROM dated_rows \
             CROSS JOIN as_of WHERE dated_rows.local_day <= as_of.as_of AND ({filter})"
        ),
    ));
    ctes.push((
        "sequenced".to_string(),
        format!(
            "SELECT active_day, {} AS previous_day FROM active_days",
            dialect.neighbour("active_day", -1, "entity", "active_day")
        ),
    ));
    // An entity counts in a window ending on day d when it was active within it: each active day
    // starts covering where the entity's previous active day stops (or on itself) and stops
    // `length` days later; +1 where a stretch starts, −1 after it ends.
    let mut parts = vec![
        "SELECT active_day AS change_day, 1 AS dau_change, 0 AS week_change, 0 AS month_change \
         FROM sequenced"
            .to_string(),
    ];
    for (name, length) in WINDOWS {
        let [week, month] = if name == "week" { ["1", "0"] } else { ["0", "1"] };
        let minus = |one: &str| if one == "1" { "-1" } else { "0" };
        parts.push(format!(
            "SELECT CASE WHEN previous_day IS NULL OR previous_day + {length} <= active_day \
             THEN active_day ELSE previous_day + {length} END AS change_day, 0 AS dau_change, \
             {week} AS week_change, {month} AS month_change FROM sequenced"
        ));
        parts.push(format!(
            "SELECT active_day + {length} AS change_day, 0 AS dau_change, {} AS week_change, \
             {} AS month_change FROM sequenced",
            minus(week),
            minus(month)
        ));
    }
    ctes.push(("changes".to_string(), parts.join("\nUNION ALL\n")));
    ctes.push((
        "daily".to_string(),
        "SELECT change_day, sum(dau_change) AS dau_sum, sum(week_change) AS week_sum, \
         sum(month_change) AS month_sum FROM changes GROUP BY change_day"
            .to_string(),
    ));
    ctes.push((
        "day_bounds".to_string(),
        format!(
            "SELECT (SELECT min(active_day) FROM active_days) AS first_day, {} AS last_day FROM as_of",
            dialect.days_since_epoch("as_of")
        ),
    ));
    ctes.push((
        "days".to_string(),
        dialect.series("first_day", "last_day", "day_bounds"),
    ));
    let running = |column: &str| {
        format!(
            "sum(coalesce(daily.{column}, 0)) OVER (ORDER BY days.period \
             ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        )
    };
    ctes.push((
        "day_rows".to_string(),
        format!(
            "SELECT days.period AS day_index, coalesce(daily.dau_sum, 0) AS dau, {} AS wau, {} AS mau \
             FROM days LEFT JOIN daily ON daily.change_day = days.period",
            running("week_sum"),
            running("month_sum")
        ),
    ));
    // Each period's entities by their count of active days in it.
    let period = period_sql(
        metric.grain,
        "active_date",
        "active_day",
        plan.project.week_start,
        dialect,
    );
    ctes.push((
        "entity_periods".to_string(),
        format!(
            "SELECT entity, {period} AS period_index, count(*) AS days_count FROM active_days \
             GROUP BY entity, {period}"
        ),
    ));
    ctes.push((
        "histogram".to_string(),
        "SELECT period_index, days_count, count(*) AS entities FROM entity_periods \
         GROUP BY period_index, days_count"
            .to_string(),
    ));
    ctes.extend(period_rows(
        plan,
        metric.grain,
        "SELECT min(period_index) - 1 FROM entity_periods",
        dialect,
    ));
    // Both parts have the same columns: a day row's `complete` is always true (every day runs
    // to `as_of`), a period row's figures of the day part are 0.
    let query = "SELECT * FROM (\n\
                 SELECT 0 AS part, day_index AS at_index, day_index <= day_bounds.last_day AS complete, dau, wau, mau, \
                 0 AS days_count, 0 AS entities FROM day_rows CROSS JOIN day_bounds\n\
                 UNION ALL\n\
                 SELECT 1 AS part, periods.period AS at_index, periods.period < bounds.period_after_as_of AS complete, \
                 0 AS dau, 0 AS wau, 0 AS mau, coalesce(histogram.days_count, 0) AS days_count, \
                 coalesce(histogram.entities, 0) AS entities\n\
                 FROM periods CROSS JOIN bounds LEFT JOIN histogram ON histogram.period_index = periods.period\n\
                 ) AS tables\nORDER BY part, at_index, days_count";
    Ok(with(&ctes, query, dialect))
}
