//! Cohort members: each entity's `t0` (its first start event on or before `as_of`), the local
//! date of it and its cohort period (docs/config.md, `[cohorts.<name>]`).

use tenure_plan::{Cohort, Field, Plan};

use crate::calendar::period_sql;
use crate::expr::row_sql;
use crate::input::entity_rows;
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
    let mut breakdown = Vec::new();
    // Plugin segments' labels: a relation each, joined by id.
    let mut segment_ctes = Vec::new();
    let mut segment_joins = String::new();
    for (index, field) in cohort.by.iter().enumerate() {
        match field {
            Field::Attr(column) => breakdown.push(format!(
                "attributes.{} AS by_{index}",
                dialect.identifier(&format!("attr.{column}"))
            )),
            Field::Segment(name) => {
                let Some(rows) = labels.and_then(|labels| labels.get(name)) else {
                    return Err(format!(
                        "a breakdown by `segment.{name}`: its plugin labels entities in process, so \
                         `tenure run` on a connection computes the labels and sends them with the statement"
                    ));
                };
                segment_ctes.push((format!("segment_{index}"), dialect.labels(rows)));
                breakdown.push(format!("segment_{index}.label AS by_{index}"));
                segment_joins.push_str(&format!(
                    " LEFT JOIN segment_{index} ON segment_{index}.entity = days.entity"
                ));
            }
            other => {
                return Err(format!(
                    "a breakdown by `{other}` (a value at the start event) is not translated to SQL yet"
                ));
            }
        }
    }
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
    // Breakdown values: an entity without a row in the entity source has none (null).
    let by = match breakdown.is_empty() {
        true => String::new(),
        false => format!(", {}", breakdown.join(", ")),
    };
    let mut attributes = String::new();
    if cohort.by.iter().any(|field| matches!(field, Field::Attr(_))) {
        ctes.push(entity_rows(plan, dialect)?);
        attributes.push_str(" LEFT JOIN entity_rows AS attributes ON attributes.entity = days.entity");
    }
    ctes.extend(segment_ctes);
    attributes.push_str(&segment_joins);
    ctes.push((
        "members".to_string(),
        format!(
            "SELECT days.entity AS entity, t0, d0_date, d0, {cohort_period} AS cohort_period{by} \
             FROM (SELECT entity, t0, d0_date, {d0} AS d0 FROM start_days) AS days{attributes}"
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
