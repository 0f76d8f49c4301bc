//! `type = "crr"`: S, E and N per period (docs/config.md, `type = "crr"`).

use tenure_plan::{Crr, Grain, Plan, WeekStart};

use crate::Dialect;
use crate::expr::row_sql;
use crate::input::{dated_rows, with};

/// The period index of local date `date` (and its day number `day`) at `grain`, as the plan's
/// calendar numbers periods.
pub(crate) fn period_sql(
    grain: Grain,
    date: &str,
    day: &str,
    week_start: WeekStart,
    dialect: &dyn Dialect,
) -> String {
    // 1970-01-01 was a Thursday: Monday weeks start 3 days before it, Sunday weeks 4.
    let shift = match week_start {
        WeekStart::Monday => 3,
        WeekStart::Sunday => 4,
    };
    match grain {
        Grain::Day => day.to_string(),
        Grain::Week => format!("CAST(floor(({day} + {shift}) / 7.0) AS BIGINT)"),
        Grain::Month => dialect.month_index(date),
        Grain::Quarter => format!("CAST(floor({} / 3.0) AS BIGINT)", dialect.month_index(date)),
    }
}

/// The period index of the date `date` at `grain`.
pub(crate) fn date_period(plan: &Plan, grain: Grain, date: &str, dialect: &dyn Dialect) -> String {
    period_sql(
        grain,
        date,
        &dialect.days_since_epoch(date),
        plan.project.week_start,
        dialect,
    )
}

/// CTEs `bounds` (`first_period` from `first_query`, `last_period` of `as_of` and
/// `period_after_as_of`) and `periods`, one row per period from `first_period + 1` through
/// `last_period`: the rows of a per-period table.
pub(crate) fn period_rows(
    plan: &Plan,
    grain: Grain,
    first_query: &str,
    dialect: &dyn Dialect,
) -> Vec<(String, String)> {
    let of = |date: &str| date_period(plan, grain, date, dialect);
    let next = dialect.next_day("as_of");
    vec![
        (
            "bounds".to_string(),
            format!(
                "SELECT ({first_query}) AS first_period, {} AS last_period, {} AS period_after_as_of FROM as_of",
                of("as_of"),
                of(&next)
            ),
        ),
        (
            "periods".to_string(),
            dialect.series("first_period + 1", "last_period", "bounds"),
        ),
    ]
}

pub(crate) fn statement(plan: &Plan, crr: &Crr, dialect: &dyn Dialect) -> Result<String, String> {
    let mut ctes = dated_rows(plan, dialect)?;
    let active_event = &plan.events[crr.active];
    let filter = row_sql(&active_event.filter, dialect)?;
    let week_start = plan.project.week_start;
    let period = period_sql(crr.grain, "local_day", "day", week_start, dialect);
    ctes.push((
        "active".to_string(),
        format!(
            "SELECT DISTINCT entity, {period} AS period FROM dated_rows CROSS JOIN as_of \
             WHERE dated_rows.local_day <= as_of.as_of AND ({filter})"
        ),
    ));
    ctes.push((
        "first_active".to_string(),
        "SELECT entity, min(period) AS first_period FROM active GROUP BY entity".to_string(),
    ));
    ctes.extend(period_rows(
        plan,
        crr.grain,
        "SELECT min(period) FROM active",
        dialect,
    ));
    ctes.push((
        "ends".to_string(),
        "SELECT period AS end_period, count(*) AS n FROM active GROUP BY period".to_string(),
    ));
    ctes.push((
        "starts".to_string(),
        // No output column takes the name of an input column: ClickHouse resolves an alias first.
        "SELECT period + 1 AS start_period, count(*) AS n FROM active GROUP BY period".to_string(),
    ));
    ctes.push((
        "news".to_string(),
        "SELECT first_period AS new_period, count(*) AS n FROM first_active GROUP BY first_period"
            .to_string(),
    ));
    let query = "SELECT periods.period AS period, periods.period < bounds.period_after_as_of AS complete,\n  \
                 coalesce(starts.n, 0) AS start_s, coalesce(ends.n, 0) AS end_e, coalesce(news.n, 0) AS new_n\n\
                 FROM periods CROSS JOIN bounds\n\
                 LEFT JOIN starts ON starts.start_period = periods.period\n\
                 LEFT JOIN ends ON ends.end_period = periods.period\n\
                 LEFT JOIN news ON news.new_period = periods.period\n\
                 ORDER BY periods.period";
    Ok(with(&ctes, query))
}
