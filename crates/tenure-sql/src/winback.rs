//! `type = "winback"`: per period, the entities dormant on its first day and those back within
//! the window (docs/config.md, `type = "winback"`).

use tenure_plan::{Grain, Plan, WeekStart, Winback};

use crate::breakdown;
use crate::calendar::{period_rows, period_sql, week_first_day};
use crate::expr::row_sql;
use crate::input::{dated_rows, with};
use crate::{Dialect, SegmentLabels};

/// The counts of a win-back row, as the statement names them.
pub(crate) const FIGURES: [&str; 2] = ["dormant_count", "returned_count"];

pub(crate) fn statement(
    plan: &Plan,
    metric: &Winback,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<String, String> {
    let breakdown = breakdown::join(plan, &metric.by, "activity.entity", dialect, labels)?;
    let keys = breakdown::keys(metric.by.len());
    let mut ctes = dated_rows(plan, dialect)?;
    let filter = row_sql(&plan.events[metric.active].filter, dialect)?;
    ctes.push((
        "activity".to_string(),
        format!(
            "SELECT DISTINCT entity, dated_rows.local_day AS active_date, dated_rows.day AS active_day \
             FROM dated_rows CROSS JOIN as_of WHERE dated_rows.local_day <= as_of.as_of AND ({filter})"
        ),
    ));
    let active = breakdown::grouped_activity(&mut ctes, breakdown, "active_day");
    // Each stretch between two consecutive event days of an entity (the last one open).
    ctes.push((
        "gaps".to_string(),
        format!(
            "SELECT entity{keys}, active_day AS previous_day, {} AS next_day FROM {active}",
            dialect.neighbour("active_day", 1, "entity", "active_day")
        ),
    ));
    // The dates counted: the first day of every period after the first event's, through the
    // period of `as_of`, with whether the window from it is over by then.
    let first = period_sql(
        metric.grain,
        "active_date",
        "active_day",
        plan.project.week_start,
        dialect,
    );
    let mut rows = period_rows(
        plan,
        metric.grain,
        &format!("SELECT min({first}) FROM activity"),
        dialect,
    );
    if let Some(periods) = rows.iter_mut().find(|(name, _)| name == "periods") {
        periods.0 = "period_numbers".to_string();
    }
    ctes.extend(rows);
    let as_of_day = dialect.days_since_epoch("as_of.as_of");
    let last_of_window = i64::from(metric.within_days) - 1;
    ctes.push((
        "periods".to_string(),
        format!(
            "SELECT starts.period AS period, starts.start_day AS start_day, \
             CASE WHEN starts.start_day + {last_of_window} <= {as_of_day} THEN 1 ELSE 0 END AS window_over \
             FROM ({}) AS starts CROSS JOIN as_of",
            first_days(metric.grain, plan.project.week_start)
        ),
    ));
    // An entity is dormant on a date `s` of the stretch after `previous_day` when
    // previous_day + dormant ≤ s ≤ next_day (or `as_of`), and back when next_day ≤ s + within − 1.
    ctes.push((
        "dormant".to_string(),
        format!(
            "SELECT periods.period AS dormant_period{}, \
             CASE WHEN gaps.next_day IS NOT NULL AND gaps.next_day <= periods.start_day + {last_of_window} \
             THEN 1 ELSE 0 END AS back \
             FROM gaps CROSS JOIN periods CROSS JOIN as_of \
             WHERE periods.start_day >= gaps.previous_day + {} \
             AND periods.start_day <= coalesce(gaps.next_day, {as_of_day})",
            keys.replace(", by_", ", gaps.by_"),
            metric.dormant_days
        ),
    ));
    // With `by`, a zero row in the last period for every value with activity, so that a value
    // never dormant still has its table of zeros.
    let values = if metric.by.is_empty() {
        String::new()
    } else {
        format!(
            "\nUNION ALL\nSELECT DISTINCT bounds.last_period AS period{keys}, 0 AS dormant_count, \
             0 AS returned_count FROM grouped_activity CROSS JOIN bounds"
        )
    };
    ctes.push((
        "counts".to_string(),
        format!(
            "SELECT period{keys}, sum(dormant_count) AS dormant_count, sum(returned_count) AS returned_count \
             FROM (SELECT dormant_period AS period{keys}, 1 AS dormant_count, back AS returned_count \
             FROM dormant{values}) AS parts GROUP BY period{keys}"
        ),
    ));
    let query = breakdown::tables_query("counts", &FIGURES, metric.by.len(), "periods.window_over = 1");
    Ok(with(&ctes, &query, dialect))
}

/// A query of each row of `period_numbers` (`period`) with the day number of the period's first
/// day (`start_day`). Months, quarters and years go through the proleptic Gregorian calendar's
/// arithmetic (days from a civil date, Howard Hinnant's formulation), which every dialect
/// computes the same with integer operations.
fn first_days(grain: Grain, week_start: WeekStart) -> String {
    let months = match grain {
        Grain::Day => return "SELECT period, period AS start_day FROM period_numbers".to_string(),
        Grain::Week => {
            return format!(
                "SELECT period, {} AS start_day FROM period_numbers",
                week_first_day("period", week_start)
            );
        }
        Grain::Month => "period",
        Grain::Quarter => "period * 3",
        Grain::Year => "period * 12",
    };
    let floor = |value: &str, by: i64| format!("CAST(floor(({value}) / {by}.0) AS BIGINT)");
    // March-based years: January and February count with the year before.
    let year = floor(months, 12);
    let month = format!("({months} - 12 * {year} + 1)");
    let shifted = format!(
        "SELECT period, {year} - CASE WHEN {month} <= 2 THEN 1 ELSE 0 END AS march_year, \
         CASE WHEN {month} > 2 THEN {month} - 3 ELSE {month} + 9 END AS march_month FROM period_numbers"
    );
    let eras = format!(
        "SELECT period, march_year, march_month, {} AS era FROM ({shifted}) AS shifted",
        floor("march_year", 400)
    );
    let year_of_era = "(march_year - era * 400)";
    format!(
        "SELECT period, era * 146097 + {year_of_era} * 365 + {} - {} + {} - 719468 AS start_day \
         FROM ({eras}) AS eras",
        floor(year_of_era, 4),
        floor(year_of_era, 100),
        floor("153 * march_month + 2", 5)
    )
}
