//! `type = "retention"`: cohort rows with size, retained and eligible members per column
//! (docs/config.md, `type = "retention"`).

use tenure_plan::{Align, Expr, Field, Plan, Retention, RetentionMode, Unit};

use crate::calendar::{week_first_day, week_index};
use crate::cohort::{key_columns, member_ctes, member_key};
use crate::expr::row_sql;
use crate::input::{Amount, dated_rows, with};
use crate::{Dialect, SegmentLabels};

/// The CTEs through `member_cells`: one row per cohort member with its cohort row's keys
/// (`cohort_period`, `by_<i>`) and, per column `i`, `member_retained_i` and `member_eligible_i`
/// (1 or 0); also each column's condition on a return's offset `r.k` and its last period.
pub(crate) fn member_cells(
    plan: &Plan,
    metric: &Retention,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<MemberCells, String> {
    let cohort = &plan.cohorts[metric.cohort];
    let mut ctes = dated_rows(plan, dialect)?;
    ctes.extend(member_ctes(plan, cohort, dialect, labels)?);
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
    // A return belongs to each member row of its entity (several in a recurring cohort).
    let member_key = member_key(cohort);
    let return_key: String = member_key[1..]
        .iter()
        .map(|column| format!(", m.{column} AS return_{column}"))
        .collect();
    let joined_key: String = member_key[1..]
        .iter()
        .map(|column| format!(" AND r.return_{column} = m.{column}"))
        .collect();
    ctes.push((
        "returns".to_string(),
        format!(
            "SELECT DISTINCT r.entity AS entity{return_key}, {offset} AS k FROM dated_rows AS r \
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
    let named_keys: Vec<String> = keys.iter().map(|k| format!("m.{k} AS {k}")).collect();
    ctes.push((
        "member_cells".to_string(),
        format!(
            "SELECT m.entity AS entity, {}, {} FROM members AS m CROSS JOIN as_of \
             LEFT JOIN returns AS r ON r.entity = m.entity{joined_key} GROUP BY m.entity, {}",
            named_keys.join(", "),
            per_member.join(", "),
            member_keys.join(", ")
        ),
    ));
    Ok(MemberCells {
        ctes,
        columns,
        offset,
    })
}

/// What [`member_cells`] gives.
pub(crate) struct MemberCells {
    /// The CTEs, `member_cells` last.
    pub ctes: Vec<(String, String)>,
    /// Per column: the condition on a return's offset `r.k`, and the column's last period.
    pub columns: Vec<(String, u32)>,
    /// A row's offset from its member's start (over `r.day`, `r.local_day`, `m.d0`, `m.d0_date`).
    pub offset: String,
}

pub(crate) fn statement(
    plan: &Plan,
    metric: &Retention,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<String, String> {
    let cohort = &plan.cohorts[metric.cohort];
    let MemberCells {
        mut ctes,
        columns,
        offset,
    } = member_cells(plan, metric, dialect, labels)?;
    let keys = key_columns(cohort);
    // With `value`: each member's revenue per column (its value event's amounts at the column's
    // offsets) and up to the column's last period, in micro-units.
    let mut value_columns = Vec::new();
    if let Some(value) = metric.value {
        let value_event = &plan.events[value];
        let Some(Expr::Field(Field::Prop(column))) = &value_event.amount else {
            return Err("an amount other than a property column is not translated to SQL yet".to_string());
        };
        let filter = row_sql(&value_event.filter, dialect)?;
        ctes.push((
            "value_rows".to_string(),
            format!(
                "SELECT r.entity AS entity, {offset} AS k, {} AS micros FROM dated_rows AS r \
                 JOIN members AS m ON r.entity = m.entity CROSS JOIN as_of \
                 WHERE r.local_day <= as_of.as_of AND ({filter}) AND {offset} >= 0",
                Amount::of(column, dialect).micros()
            ),
        ));
        let mut sums = Vec::new();
        for (index, (hit, last)) in columns.iter().enumerate() {
            sums.push(format!(
                "sum(CASE WHEN {hit} THEN r.micros ELSE 0 END) AS member_revenue_{index}"
            ));
            sums.push(format!(
                "sum(CASE WHEN r.k <= {last} THEN r.micros ELSE 0 END) AS member_cumulative_{index}"
            ));
            value_columns.push(index);
        }
        ctes.push((
            "member_values".to_string(),
            format!(
                "SELECT r.entity AS value_entity, {} FROM value_rows AS r WHERE r.micros IS NOT NULL GROUP BY r.entity",
                sums.join(", ")
            ),
        ));
    }
    let mut sums = vec!["count(*) AS size".to_string()];
    for index in &value_columns {
        let revenue = format!("coalesce(v.member_revenue_{index}, 0)");
        let cumulative = format!("coalesce(v.member_cumulative_{index}, 0)");
        sums.push(format!("sum({revenue}) AS revenue_micros_{index}"));
        sums.push(format!("sum({cumulative}) AS cumulative_micros_{index}"));
        sums.push(format!(
            "sum(CASE WHEN c.member_eligible_{index} = 1 THEN {cumulative} ELSE 0 END) AS eligible_cumulative_micros_{index}"
        ));
    }
    for index in 0..columns.len() {
        sums.push(format!("sum(member_retained_{index}) AS retained_{index}"));
        sums.push(format!("sum(member_eligible_{index}) AS eligible_{index}"));
        sums.push(format!(
            "sum(member_retained_{index} * member_eligible_{index}) AS retained_eligible_{index}"
        ));
    }
    let from = if value_columns.is_empty() {
        "member_cells AS c".to_string()
    } else {
        "member_cells AS c LEFT JOIN member_values AS v ON v.value_entity = c.entity".to_string()
    };
    let keys: Vec<String> = keys.iter().map(|k| format!("c.{k}")).collect();
    let query = format!(
        "SELECT {keys}, {}\nFROM {from}\nGROUP BY {keys}\nORDER BY {keys}",
        sums.join(", "),
        keys = keys.join(", ")
    );
    Ok(with(&ctes, &query, dialect))
}
