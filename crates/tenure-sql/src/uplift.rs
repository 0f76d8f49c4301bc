//! `type = "uplift"`: per cohort row and group value, the retention metric's members, eligible
//! and retained members in the compared column (docs/config.md, `type = "uplift"`). The
//! comparison itself (rates, interval, p-value) is computed from these counts by the report.

use tenure_plan::{Field, Plan, Uplift, UpliftGroups};

use crate::cohort::key_columns;
use crate::expr::row_sql;
use crate::input::{entity_rows, with};
use crate::retention::member_cells;
use crate::{Dialect, SegmentLabels};

pub(crate) fn statement(
    plan: &Plan,
    metric: &Uplift,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<String, String> {
    let Some(retention) = plan.uplift_retention(metric) else {
        return Err(format!(
            "retention metric `{}` is not in the plan",
            metric.retention
        ));
    };
    let cohort = &plan.cohorts[retention.cohort];
    let mut ctes = member_cells(plan, retention, dialect, labels)?.ctes;
    // Each entity's group value, and whether its assignments name more than one.
    let groups = match &metric.groups {
        UpliftGroups::Attribute(Field::Attr(column)) => {
            if !ctes.iter().any(|(name, _)| name == "entity_rows") {
                ctes.push(entity_rows(plan, dialect)?);
            }
            format!(
                "SELECT entity AS group_entity, {} AS group_variant, 0 AS group_conflicting FROM entity_rows",
                dialect.identifier(&format!("attr.{column}"))
            )
        }
        UpliftGroups::Assignment {
            event,
            variant: Field::Prop(column),
        } => {
            let assigned = row_sql(&plan.events[*event].filter, dialect)?;
            let value = format!("r.{}", dialect.identifier(&format!("props.{column}")));
            format!(
                "SELECT r.entity AS group_entity, min({value}) AS group_variant, \
                 CASE WHEN count(DISTINCT {value}) > 1 THEN 1 ELSE 0 END AS group_conflicting \
                 FROM dated_rows AS r CROSS JOIN as_of \
                 WHERE r.local_day <= as_of.as_of AND ({assigned}) AND {value} IS NOT NULL \
                 GROUP BY r.entity"
            )
        }
        other => {
            return Err(format!(
                "an uplift's groups from {other:?} are not translated to SQL"
            ));
        }
    };
    ctes.push(("member_groups".to_string(), groups));
    let cell = metric.cell;
    let keys: Vec<String> = key_columns(cohort).iter().map(|k| format!("c.{k}")).collect();
    let keys = keys.join(", ");
    let query = format!(
        "SELECT {keys}, g.group_variant AS variant, coalesce(g.group_conflicting, 0) AS conflicting, \
         count(*) AS members, sum(c.member_eligible_{cell}) AS eligible, \
         sum(c.member_retained_{cell} * c.member_eligible_{cell}) AS retained\n\
         FROM member_cells AS c LEFT JOIN member_groups AS g ON g.group_entity = c.entity\n\
         GROUP BY {keys}, g.group_variant, coalesce(g.group_conflicting, 0)\n\
         ORDER BY {keys}, g.group_variant"
    );
    Ok(with(&ctes, &query, dialect))
}
