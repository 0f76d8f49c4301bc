//! `type = "funnel"`: per cohort row, members whose window is over and those who reached each
//! step, with the median time between steps (docs/config.md, `type = "funnel"`).

use tenure_plan::{Funnel, Plan};

use crate::cohort::{Grouping, key_columns, member_ctes, window_cte};
use crate::expr::row_sql;
use crate::input::{dated_rows, with};
use crate::{Dialect, SegmentLabels};

pub(crate) fn statement(
    plan: &Plan,
    metric: &Funnel,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<String, String> {
    let cohort = &plan.cohorts[metric.cohort];
    let mut ctes = dated_rows(plan, dialect)?;
    ctes.extend(member_ctes(plan, cohort, dialect, labels)?);
    let zone = dialect.string(plan.project.timezone.name());
    ctes.push(window_cte(plan, cohort, metric.within, dialect));
    // Step k: the first of its event at or after step k − 1 (t0 for the first), within the
    // window and on or before as_of.
    for (k, event) in metric.steps.iter().enumerate() {
        let filter = row_sql(&plan.events[*event].filter, dialect)?;
        let (after, from) = match k {
            0 => ("w.t0".to_string(), String::new()),
            _ => (
                "s.reached".to_string(),
                format!(" JOIN step_{} AS s ON s.entity = w.entity", k - 1),
            ),
        };
        ctes.push((
            format!("step_{k}"),
            format!(
                "SELECT w.entity AS entity, min(r.time) AS reached FROM windows AS w{from} \
                 JOIN dated_rows AS r ON r.entity = w.entity CROSS JOIN as_of \
                 WHERE r.local_day <= as_of.as_of AND ({filter}) AND r.time >= {after} \
                 AND r.time <= w.deadline GROUP BY w.entity"
            ),
        ));
    }
    let steps = metric.steps.len();
    let mut flags = vec![format!(
        "CASE WHEN {} <= as_of.as_of THEN 1 ELSE 0 END AS member_eligible",
        dialect.local_date("w.deadline", &zone)
    )];
    let mut joins = String::new();
    for k in 0..steps {
        let before = if k == 0 {
            "w.t0".to_string()
        } else {
            format!("s{}.reached", k - 1)
        };
        // A left join that finds nothing gives NULL, or the type's default in ClickHouse: the
        // entity column tells the two apart.
        let found = format!("s{k}.entity = w.entity");
        flags.push(format!(
            "CASE WHEN {found} THEN 1 ELSE 0 END AS member_reached_{k}"
        ));
        flags.push(format!(
            "CASE WHEN {found} THEN {} END AS member_delay_{k}",
            dialect.micros_between(&before, &format!("s{k}.reached"))
        ));
        joins.push_str(&format!(" LEFT JOIN step_{k} AS s{k} ON s{k}.entity = w.entity"));
    }
    ctes.push((
        "member_flags".to_string(),
        format!(
            "SELECT {}, {} FROM windows AS w CROSS JOIN as_of{joins}",
            key_columns(cohort)
                .iter()
                .map(|key| format!("w.{key} AS {key}"))
                .collect::<Vec<_>>()
                .join(", "),
            flags.join(", ")
        ),
    ));
    let Grouping {
        keys,
        flags,
        sets,
        order,
    } = Grouping::of(cohort);
    let figures: Vec<String> = (0..steps)
        .map(|k| {
            format!(
                "sum(member_reached_{k}) AS reached_{k}, sum(member_reached_{k} * member_eligible) AS reached_eligible_{k}, \
                 {} AS median_delay_us_{k}",
                dialect.median(&format!("member_delay_{k}"))
            )
        })
        .collect();
    let query = format!(
        "SELECT {keys}, {flags}, count(*) AS size, \
         sum(member_eligible) AS eligible,\n  {}\n\
         FROM member_flags\nGROUP BY GROUPING SETS ({sets})\n\
         ORDER BY {order}",
        figures.join(",\n  ")
    );
    Ok(with(&ctes, &query, dialect))
}
