//! `type = "activation"`: per cohort, members activated within the window, eligible members and
//! the median time to value (docs/config.md, `type = "activation"`).

use tenure_plan::{Activation, Plan};

use crate::cohort::{Grouping, key_columns, member_ctes, window_cte};
use crate::expr::row_sql;
use crate::input::{dated_rows, with};
use crate::{Dialect, SegmentLabels};

pub(crate) fn statement(
    plan: &Plan,
    metric: &Activation,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<String, String> {
    let mut ctes = dated_rows(plan, dialect)?;
    ctes.extend(member_ctes(plan, &plan.cohorts[metric.cohort], dialect, labels)?);
    let reached = row_sql(&plan.events[metric.reached].filter, dialect)?;
    let zone = dialect.string(plan.project.timezone.name());
    let cohort = &plan.cohorts[metric.cohort];
    let keys = key_columns(cohort);
    ctes.push(window_cte(plan, cohort, metric.within, dialect));
    // The first `reached` at or after t0, up to as_of.
    ctes.push((
        "firsts".to_string(),
        format!(
            "SELECT w.entity AS entity, min(r.time) AS first_reached FROM windows AS w \
             JOIN dated_rows AS r ON r.entity = w.entity CROSS JOIN as_of \
             WHERE r.local_day <= as_of.as_of AND ({reached}) AND r.time >= w.t0 GROUP BY w.entity"
        ),
    ));
    let activated = "f.first_reached IS NOT NULL AND f.first_reached <= w.deadline";
    ctes.push((
        "member_flags".to_string(),
        format!(
            "SELECT {}, \
             CASE WHEN {activated} THEN 1 ELSE 0 END AS member_activated, \
             CASE WHEN {} <= as_of.as_of THEN 1 ELSE 0 END AS member_eligible, \
             CASE WHEN {activated} THEN {} END AS delay_us \
             FROM windows AS w CROSS JOIN as_of LEFT JOIN firsts AS f ON f.entity = w.entity",
            keys.iter()
                .map(|k| format!("w.{k} AS {k}"))
                .collect::<Vec<_>>()
                .join(", "),
            dialect.local_date("w.deadline", &zone),
            dialect.micros_between("w.t0", "f.first_reached"),
        ),
    ));
    let Grouping {
        keys,
        flags,
        sets,
        order,
    } = Grouping::of(cohort);
    let query = format!(
        "SELECT {keys}, {flags}, count(*) AS size, \
         sum(member_activated) AS activated, sum(member_eligible) AS eligible,\n  \
         sum(member_activated * member_eligible) AS activated_eligible, {} AS median_delay_us\n\
         FROM member_flags\nGROUP BY GROUPING SETS ({sets})\n\
         ORDER BY {order}",
        dialect.median("delay_us")
    );
    Ok(with(&ctes, &query, dialect))
}
