//! `type = "retention"`: cohort rows with size, retained and eligible members per column
//! (docs/config.md, `type = "retention"`).

use tenure_plan::{Align, Plan, Retention, RetentionMode, Unit};

use crate::Dialect;
use crate::calendar::{week_first_day, week_index};
use crate::cohort::{key_columns, member_ctes};
use crate::expr::row_sql;
use crate::input::{dated_rows, with};

pub(crate) fn statement(plan: &Plan, metric: &Retention, dialect: &dyn Dialect) -> Result<String, String> {
    let cohort = &plan.cohorts[metric.cohort];
    if metric.value.is_some() {
        return Err("retention with `value` (revenue per cohort) is not translated to SQL yet".to_string());
    }
    let mut ctes = dated_rows(plan, dialect)?;
    ctes.extend(member_ctes(plan, cohort, dialect)?);
    let returns = row_sql(&plan.events[metric.return_event].filter, dialect)?;
    let week_start = plan.project.week_start;
    let offset = match (metric.unit, metric.align) {
        (Unit::Day, _) => "(r.day - m.d0)".to_string(),
        (Unit::Week, Align::Entity) => "CAST(floor((r.day - m.d0) / 7.0) AS BIGINT)".to_string(),
        (Unit::Week, Align::Calendar) => format!(
            "({} - {})",
            week_index("r.day", week_start),
            week_index("m.d0", week_start)
        ),
        (Unit::Month, _) => format!(
            "({} - {})",
            dialect.month_index("r.local_day"),
            dialect.month_index("m.d0_date")
        ),
    };
    ctes.push((
        "returns".to_string(),
        format!(
            "SELECT DISTINCT r.entity AS entity, {offset} AS k FROM dated_rows AS r \
             JOIN members AS m ON r.entity = m.entity CROSS JOIN as_of \
             WHERE r.local_day <= as_of.as_of AND ({returns}) AND {offset} >= 0"
        ),
    ));
    // Per member and column: retained (a return in the column's offsets) and eligible (the
    // column's last period is over by as_of).
    let as_of_day = dialect.days_since_epoch("as_of.as_of");
    let months_after = dialect.month_index(&dialect.next_day("as_of.as_of"));
    let columns: Vec<(String, u32)> = match &metric.mode {
        RetentionMode::NDay(periods) => periods.iter().map(|k| (format!("r.k = {k}"), *k)).collect(),
        RetentionMode::Unbounded(periods) => periods.iter().map(|k| (format!("r.k >= {k}"), *k)).collect(),
        RetentionMode::Bracket(brackets) => brackets
            .iter()
            .map(|(a, b)| (format!("r.k BETWEEN {a} AND {b}"), *b))
            .collect(),
    };
    let mut per_member = Vec::new();
    for (index, (hit, last)) in columns.iter().enumerate() {
        let over = match (metric.unit, metric.align) {
            (Unit::Day, _) => format!("m.d0 + {last} <= {as_of_day}"),
            (Unit::Week, Align::Entity) => format!("m.d0 + {} <= {as_of_day}", 7 * i64::from(*last) + 6),
            (Unit::Week, Align::Calendar) => format!(
                "{} + 6 <= {as_of_day}",
                week_first_day(
                    &format!("{} + {last}", week_index("m.d0", week_start)),
                    week_start
                )
            ),
            (Unit::Month, _) => format!("{} + {last} < {months_after}", dialect.month_index("m.d0_date")),
        };
        // Names no output column reuses: ClickHouse resolves an alias before a column.
        per_member.push(format!(
            "max(CASE WHEN {hit} THEN 1 ELSE 0 END) AS member_retained_{index}"
        ));
        per_member.push(format!(
            "max(CASE WHEN {over} THEN 1 ELSE 0 END) AS member_eligible_{index}"
        ));
    }
    let keys = key_columns(cohort);
    let member_keys: Vec<String> = keys.iter().map(|k| format!("m.{k}")).collect();
    ctes.push((
        "member_cells".to_string(),
        format!(
            "SELECT m.entity, {keys}, {} FROM members AS m CROSS JOIN as_of \
             LEFT JOIN returns AS r ON r.entity = m.entity GROUP BY m.entity, {keys}",
            per_member.join(", "),
            keys = member_keys.join(", ")
        ),
    ));
    let mut sums = vec!["count(*) AS size".to_string()];
    for index in 0..columns.len() {
        sums.push(format!("sum(member_retained_{index}) AS retained_{index}"));
        sums.push(format!("sum(member_eligible_{index}) AS eligible_{index}"));
        sums.push(format!(
            "sum(member_retained_{index} * member_eligible_{index}) AS retained_eligible_{index}"
        ));
    }
    let query = format!(
        "SELECT {keys}, {}\nFROM member_cells\nGROUP BY {keys}\nORDER BY {keys}",
        sums.join(", "),
        keys = keys.join(", ")
    );
    Ok(with(&ctes, &query))
}
