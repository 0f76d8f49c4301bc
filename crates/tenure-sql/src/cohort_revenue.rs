//! `type = "revenue"` with `cohort`: per cohort row and period since its start, the members'
//! revenue and the starting customers' (docs/config.md, "Revenue retention by cohort").

use tenure_plan::{CohortRevenue, Plan};

use crate::calendar::date_period;
use crate::cohort::{key_columns, member_ctes};
use crate::input::{dated_rows, with};
use crate::revenue::revenue_cells;
use crate::{Dialect, SegmentLabels};

/// The figures of a row, in micro-units and customers; a row with `k` −1 counts a member.
const FIGURES: [&str; 6] = [
    "members",
    "revenue_micros",
    "customers",
    "starting_micros",
    "gross_micros",
    "starting_customers",
];

pub(crate) fn statement(
    plan: &Plan,
    metric: &CohortRevenue,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<String, String> {
    let cohort = &plan.cohorts[metric.cohort];
    let mut ctes = dated_rows(plan, dialect)?;
    ctes.extend(member_ctes(plan, cohort, dialect, labels)?);
    ctes.extend(revenue_cells(
        plan,
        metric.event,
        cohort.grain,
        metric.spread.as_ref(),
        dialect,
    )?);
    let of = |date: &str| date_period(plan, cohort.grain, date, dialect);
    ctes.push((
        "bounds".to_string(),
        format!(
            "SELECT {} AS last_period, {} AS period_after_as_of FROM as_of",
            of("as_of"),
            of(&dialect.next_day("as_of"))
        ),
    ));
    let keys = key_columns(cohort);
    let member_keys: Vec<String> = keys.iter().map(|key| format!("m.{key} AS {key}")).collect();
    // A period whose sum is zero or less (refunds) counts as no revenue; periods before the
    // cohort's and after as_of's are not in the table.
    ctes.push((
        "member_cells".to_string(),
        format!(
            "SELECT m.entity AS entity, {}, c.paid_period - m.cohort_period AS k, c.revenue AS revenue \
             FROM members AS m JOIN cells AS c ON c.entity = m.entity CROSS JOIN bounds \
             WHERE c.revenue > 0 AND c.paid_period >= m.cohort_period AND c.paid_period <= bounds.last_period",
            member_keys.join(", ")
        ),
    ));
    // The starting customers: revenue in the cohort's own period.
    ctes.push((
        "bases".to_string(),
        "SELECT entity, revenue AS base FROM member_cells WHERE k = 0".to_string(),
    ));
    let keys = keys.join(", ");
    let part = |k: &str, values: [&str; 6], from: &str| {
        let columns: Vec<String> = FIGURES
            .iter()
            .zip(values)
            .map(|(figure, value)| format!("{value} AS {figure}"))
            .collect();
        format!("SELECT {keys}, {k} AS k, {} FROM {from}", columns.join(", "))
    };
    let starting = "coalesce(b.base, 0) > 0";
    let parts = [
        part("CAST(-1 AS BIGINT)", ["1", "0", "0", "0", "0", "0"], "members"),
        part(
            "mc.k",
            [
                "0",
                "mc.revenue",
                "1",
                &format!("CASE WHEN {starting} THEN mc.revenue ELSE 0 END"),
                &format!("CASE WHEN {starting} THEN least(mc.revenue, b.base) ELSE 0 END"),
                &format!("CASE WHEN {starting} THEN 1 ELSE 0 END"),
            ],
            "member_cells AS mc LEFT JOIN bases AS b ON b.entity = mc.entity",
        ),
    ];
    ctes.push(("parts".to_string(), parts.join("\nUNION ALL\n")));
    let sums: Vec<String> = FIGURES
        .iter()
        .map(|figure| format!("sum({figure}) AS {figure}"))
        .collect();
    let query = format!(
        "SELECT {keys}, k, {},\n  bounds.last_period AS last_period, bounds.period_after_as_of AS period_after_as_of\n\
         FROM parts CROSS JOIN bounds\nGROUP BY {keys}, k, bounds.last_period, bounds.period_after_as_of\n\
         ORDER BY {keys}, k",
        sums.join(", ")
    );
    Ok(with(&ctes, &query, dialect))
}
