//! Cohort members: each entity's `t0` (its first start event on or before `as_of`), the local
//! date of it and its cohort period (docs/config.md, `[cohorts.<name>]`).

use tenure_plan::{Cohort, CohortStart, Did, Duration, Plan};

use crate::breakdown;
use crate::calendar::period_sql;
use crate::expr::row_sql;
use crate::input::entity_rows;
use crate::{Dialect, SegmentLabels};

/// CTEs `starts` and `members` (`entity`, `t0`, `d0_date`, `d0` in days since 1970-01-01,
/// `cohort_period`, and `by_<i>` for each breakdown field), to follow the CTEs of
/// `input::dated_rows`. A recurring cohort has a member row per entity and cohort period, told
/// apart by [`member_key`].
pub(crate) fn member_ctes(
    plan: &Plan,
    cohort: &Cohort,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<Vec<(String, String)>, String> {
    if cohort.filter.is_some() {
        return Err("a cohort with `where` is not translated to SQL yet".to_string());
    }
    // `did.<event>` (the last breakdown field with `did`) is computed here, not joined.
    let joined = &cohort.by[..cohort.by.len() - usize::from(cohort.did.is_some())];
    let mut breakdown = breakdown::join(plan, joined, "days.entity", dialect, labels)?;
    let zone = dialect.string(plan.project.timezone.name());
    let d0 = dialect.days_since_epoch("d0_date");
    let cohort_period = period_sql(cohort.grain, "d0_date", "d0", plan.project.week_start, dialect);
    let mut ctes = Vec::new();
    let starts = match &cohort.start {
        CohortStart::Event(event) => {
            let start = row_sql(&plan.events[*event].filter, dialect)?;
            // Recurring: the first start of each cohort period is a membership of its own.
            let per_period = if cohort.recurring {
                format!(
                    ", {}",
                    period_sql(cohort.grain, "local_day", "day", plan.project.week_start, dialect)
                )
            } else {
                String::new()
            };
            format!(
                "SELECT entity, min(time) AS t0 FROM dated_rows CROSS JOIN as_of \
                 WHERE dated_rows.local_day <= as_of.as_of AND ({start}) GROUP BY entity{per_period}"
            )
        }
        CohortStart::Attribute(column) => {
            // Every entity with a date on or before as_of, from the local midnight of that day.
            ctes.push(entity_rows(plan, dialect)?);
            breakdown.ctes.retain(|(name, _)| name != "entity_rows");
            let date = format!("CAST({} AS DATE)", dialect.identifier(&format!("attr.{column}")));
            format!(
                "SELECT entity, {} AS t0 FROM (SELECT entity, {date} AS start_date FROM entity_rows) AS dated \
                 CROSS JOIN as_of WHERE start_date IS NOT NULL AND start_date <= as_of.as_of",
                dialect.local_midnight("start_date", &zone)
            )
        }
    };
    ctes.extend([
        ("starts".to_string(), starts),
        (
            "start_days".to_string(),
            format!(
                "SELECT entity, t0, {} AS d0_date FROM starts",
                dialect.local_date("t0", &zone)
            ),
        ),
    ]);
    ctes.extend(breakdown.ctes);
    if let Some(did) = &cohort.did {
        ctes.extend(did_ctes(plan, did, dialect)?);
        breakdown
            .columns
            .push_str(&format!(", did_values.did AS by_{}", joined.len()));
        breakdown
            .joins
            .push_str(" LEFT JOIN did_values ON did_values.entity = days.entity");
    }
    ctes.push((
        "members".to_string(),
        format!(
            "SELECT days.entity AS entity, t0, d0_date, d0, {cohort_period} AS cohort_period{} \
             FROM (SELECT entity, t0, d0_date, {d0} AS d0 FROM start_days) AS days{}",
            breakdown.columns, breakdown.joins
        ),
    ));
    Ok(ctes)
}

/// The columns of `members` that identify one member: the entity, and for a recurring cohort
/// its cohort period too.
pub(crate) fn member_key(cohort: &Cohort) -> &'static [&'static str] {
    if cohort.recurring {
        &["entity", "cohort_period"]
    } else {
        &["entity"]
    }
}

/// CTEs `did_firsts` (each member's first `did.event` at or after t0, up to as_of) and
/// `did_values` (`entity`, `did`: true when that first one comes by t0 + `did.within`, false
/// when not and the deadline's local day is on or before as_of, else null).
fn did_ctes(plan: &Plan, did: &Did, dialect: &dyn Dialect) -> Result<Vec<(String, String)>, String> {
    let done = row_sql(&plan.events[did.event].filter, dialect)?;
    let zone = dialect.string(plan.project.timezone.name());
    let deadline = dialect.add_local("t0", &zone, did.within.count, did.within.unit);
    Ok(vec![
        (
            "did_firsts".to_string(),
            format!(
                "SELECT s.entity AS entity, min(r.time) AS did_time FROM start_days AS s \
                 JOIN dated_rows AS r ON r.entity = s.entity CROSS JOIN as_of \
                 WHERE r.local_day <= as_of.as_of AND ({done}) AND r.time >= s.t0 GROUP BY s.entity"
            ),
        ),
        (
            "did_values".to_string(),
            format!(
                "SELECT w.entity AS entity, CASE WHEN f.did_time IS NOT NULL AND f.did_time <= w.deadline THEN TRUE \
                 WHEN {} <= as_of.as_of THEN FALSE END AS did \
                 FROM (SELECT entity, {deadline} AS deadline FROM start_days) AS w CROSS JOIN as_of \
                 LEFT JOIN did_firsts AS f ON f.entity = w.entity",
                dialect.local_date("w.deadline", &zone)
            ),
        ),
    ])
}

/// CTE `windows`: each member's `entity`, `t0`, key columns and `deadline`, the end of the
/// window `within` after its t0 in the project zone; to follow [`member_ctes`].
pub(crate) fn window_cte(
    plan: &Plan,
    cohort: &Cohort,
    within: Duration,
    dialect: &dyn Dialect,
) -> (String, String) {
    let zone = dialect.string(plan.project.timezone.name());
    let deadline = dialect.add_local("t0", &zone, within.count, within.unit);
    (
        "windows".to_string(),
        format!(
            "SELECT entity, t0, {}, {deadline} AS deadline FROM members",
            key_columns(cohort).join(", ")
        ),
    )
}

/// The columns of a cohort row: `cohort_period` and `by_<i>` per breakdown field.
pub(crate) fn key_columns(cohort: &Cohort) -> Vec<String> {
    std::iter::once("cohort_period".to_string())
        .chain((0..cohort.by.len()).map(|index| format!("by_{index}")))
        .collect()
}

/// How a statement over members groups them: each cohort row, then with `by` each breakdown
/// value's rows together (`all_values` 0), then every row. The total rows are told apart by
/// `GROUPING` (a NULL `cohort_period` would not do: ClickHouse fills it with the type's
/// default).
pub(crate) struct Grouping {
    /// The key columns, joined.
    pub(crate) keys: String,
    /// `all_cohorts` (and `all_values`), to follow the keys.
    pub(crate) flags: String,
    /// The grouping sets, joined.
    pub(crate) sets: String,
    /// The order of the rows: cohort rows, then the totals.
    pub(crate) order: String,
}

impl Grouping {
    pub(crate) fn of(cohort: &Cohort) -> Grouping {
        let columns = key_columns(cohort);
        let keys = columns.join(", ");
        if cohort.by.is_empty() {
            return Grouping {
                flags: "GROUPING(cohort_period) AS all_cohorts".to_string(),
                sets: format!("({keys}), ()"),
                order: format!("all_cohorts, {keys}"),
                keys,
            };
        }
        Grouping {
            flags: "GROUPING(cohort_period) AS all_cohorts, GROUPING(by_0) AS all_values".to_string(),
            sets: format!("({keys}), ({}), ()", columns[1..].join(", ")),
            order: format!("all_cohorts, all_values, {keys}"),
            keys,
        }
    }
}
