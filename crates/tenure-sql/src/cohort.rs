//! Cohort members: each entity's `t0` (its first start event on or before `as_of`), the local
//! date of it and its cohort period (docs/config.md, `[cohorts.<name>]`).

use tenure_plan::{Cohort, Plan};

use crate::breakdown;
use crate::calendar::period_sql;
use crate::expr::row_sql;
use crate::{Dialect, SegmentLabels};

/// CTEs `starts` and `members` (`entity`, `t0`, `d0_date`, `d0` in days since 1970-01-01,
/// `cohort_period`, and `by_<i>` for each breakdown field), to follow the CTEs of
/// `input::dated_rows`.
pub(crate) fn member_ctes(
    plan: &Plan,
    cohort: &Cohort,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<Vec<(String, String)>, String> {
    if cohort.filter.is_some() {
        return Err("a cohort with `where` is not translated to SQL yet".to_string());
    }
    let breakdown = breakdown::join(plan, &cohort.by, "days.entity", dialect, labels)?;
    let start = row_sql(&plan.events[cohort.start].filter, dialect)?;
    let zone = dialect.string(plan.project.timezone.name());
    let d0 = dialect.days_since_epoch("d0_date");
    let cohort_period = period_sql(cohort.grain, "d0_date", "d0", plan.project.week_start, dialect);
    let mut ctes = vec![
        (
            "starts".to_string(),
            format!(
                "SELECT entity, min(time) AS t0 FROM dated_rows CROSS JOIN as_of \
                 WHERE dated_rows.local_day <= as_of.as_of AND ({start}) GROUP BY entity"
            ),
        ),
        (
            "start_days".to_string(),
            format!(
                "SELECT entity, t0, {} AS d0_date FROM starts",
                dialect.local_date("t0", &zone)
            ),
        ),
    ];
    ctes.extend(breakdown.ctes);
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

/// The columns of a cohort row: `cohort_period` and `by_<i>` per breakdown field.
pub(crate) fn key_columns(cohort: &Cohort) -> Vec<String> {
    std::iter::once("cohort_period".to_string())
        .chain((0..cohort.by.len()).map(|index| format!("by_{index}")))
        .collect()
}
