//! The plan's calendar in SQL: period indexes of local dates, and the rows of a per-period table
//! (as tenure's calendar numbers them: days since 1970-01-01, weeks since the week of
//! 1970-01-01, `year × 12 + month − 1`, `year × 4 + quarter − 1`).

use tenure_plan::{Grain, Plan, WeekStart};

use crate::Dialect;

/// Days from the first day of a week to 1970-01-01, a Thursday: 3 for Monday weeks, 4 for Sunday.
fn week_shift(week_start: WeekStart) -> i64 {
    match week_start {
        WeekStart::Monday => 3,
        WeekStart::Sunday => 4,
    }
}

/// The index of the week (starting on `week_start`) holding day number `day`.
pub(crate) fn week_index(day: &str, week_start: WeekStart) -> String {
    format!(
        "CAST(floor(({day} + {}) / 7.0) AS BIGINT)",
        week_shift(week_start)
    )
}

/// The day number of the first day of week `index`.
pub(crate) fn week_first_day(index: &str, week_start: WeekStart) -> String {
    format!("({index}) * 7 - {}", week_shift(week_start))
}

/// The period index of local date `date` (and its day number `day`) at `grain`, as the plan's
/// calendar numbers periods.
pub(crate) fn period_sql(
    grain: Grain,
    date: &str,
    day: &str,
    week_start: WeekStart,
    dialect: &dyn Dialect,
) -> String {
    match grain {
        Grain::Day => day.to_string(),
        Grain::Week => week_index(day, week_start),
        Grain::Month => dialect.month_index(date),
        Grain::Quarter => format!("CAST(floor({} / 3.0) AS BIGINT)", dialect.month_index(date)),
        Grain::Year => format!("CAST(floor({} / 12.0) AS BIGINT)", dialect.month_index(date)),
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

/// The period index of a dated row (`local_day`, `day`) at `grain`.
pub(crate) fn row_period(plan: &Plan, grain: Grain, dialect: &dyn Dialect) -> String {
    period_sql(grain, "local_day", "day", plan.project.week_start, dialect)
}
