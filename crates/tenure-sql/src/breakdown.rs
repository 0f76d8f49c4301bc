//! Breakdown values per entity (`by = ["attr.<column>", "segment.<name>"]`): the entity
//! source's columns and plugin segments' labels, joined to a relation of entities by id as
//! columns `by_<i>` (docs/config.md, `by`).

use tenure_plan::{Field, Plan};

use crate::input::entity_rows;
use crate::{Dialect, SegmentLabels};

/// What a statement adds to read each entity's breakdown values.
pub(crate) struct Breakdown {
    /// CTEs to define first: the entity source's rows, each segment's labels.
    pub ctes: Vec<(String, String)>,
    /// `, <value> AS by_0, …` to append to a select list (empty without breakdown).
    pub columns: String,
    /// ` LEFT JOIN …` to append after the relation whose entity column is joined.
    pub joins: String,
}

/// The breakdown of `by` for the relation whose id column is `entity` (e.g. `days.entity`).
/// An entity without a row in the entity source, or without a label, has none (null).
pub(crate) fn join(
    plan: &Plan,
    by: &[Field],
    entity: &str,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<Breakdown, String> {
    let mut breakdown = Breakdown {
        ctes: Vec::new(),
        columns: String::new(),
        joins: String::new(),
    };
    let mut segment_ctes = Vec::new();
    let mut segment_joins = String::new();
    for (index, field) in by.iter().enumerate() {
        match field {
            Field::Attr(column) => breakdown.columns.push_str(&format!(
                ", attributes.{} AS by_{index}",
                dialect.identifier(&format!("attr.{column}"))
            )),
            Field::Segment(name) => {
                // Labels the run computed, or those a pipeline stored in the segment's table.
                let relation = match labels {
                    Some(labels) => dialect.labels(labels.get(name).map_or(&[], Vec::as_slice)),
                    None => format!(
                        "SELECT entity, label FROM {}",
                        dialect.identifier(&crate::labels_table(name))
                    ),
                };
                segment_ctes.push((format!("segment_{index}"), relation));
                breakdown
                    .columns
                    .push_str(&format!(", segment_{index}.label AS by_{index}"));
                segment_joins.push_str(&format!(
                    " LEFT JOIN segment_{index} ON segment_{index}.entity = {entity}"
                ));
            }
            other => {
                return Err(format!(
                    "a breakdown by `{other}` (a value at the start event) is not translated to SQL yet"
                ));
            }
        }
    }
    if by.iter().any(|field| matches!(field, Field::Attr(_))) {
        breakdown.ctes.push(entity_rows(plan, dialect)?);
        breakdown.joins.push_str(&format!(
            " LEFT JOIN entity_rows AS attributes ON attributes.entity = {entity}"
        ));
    }
    breakdown.ctes.extend(segment_ctes);
    breakdown.joins.push_str(&segment_joins);
    Ok(breakdown)
}

/// Adds `breakdown`'s CTEs and, with breakdown fields, CTE `grouped_activity`: `columns` of CTE
/// `activity` with each entity's values `by_<i>`. The relation to read activity from.
pub(crate) fn grouped_activity(
    ctes: &mut Vec<(String, String)>,
    breakdown: Breakdown,
    columns: &str,
) -> &'static str {
    ctes.extend(breakdown.ctes);
    if breakdown.columns.is_empty() {
        return "activity";
    }
    ctes.push((
        "grouped_activity".to_string(),
        format!(
            "SELECT activity.entity AS entity, {columns}{} FROM activity{}",
            breakdown.columns, breakdown.joins
        ),
    ));
    "grouped_activity"
}

/// `, by_0, by_1, …` for `count` breakdown fields (empty for none).
pub(crate) fn keys(count: usize) -> String {
    (0..count).map(|index| format!(", by_{index}")).collect()
}

/// Whether a period is over by `as_of`, over CTEs `periods` and `bounds`: what a per-period
/// table's `complete` usually says.
pub(crate) const PERIOD_OVER: &str = "periods.period < bounds.period_after_as_of";

/// The final query of a per-period table read from CTE `source` (`period`, `by_<i>` and the
/// `figures`, one row per period and breakdown value with any) and CTEs `periods` and `bounds`:
/// one row per period (`period`, `complete` as the condition `complete` says, the figures; zero
/// where `source` has none), and with `by` those rows with `overall` 1 and null `by_<i>` followed
/// by `source`'s rows within the periods (`overall` 0).
pub(crate) fn tables_query(source: &str, figures: &[&str], by: usize, complete: &str) -> String {
    let sums: Vec<String> = figures
        .iter()
        .map(|figure| format!("sum({figure}) AS {figure}"))
        .collect();
    let complete = format!("{complete} AS complete");
    if by == 0 {
        let columns: Vec<String> = figures
            .iter()
            .map(|figure| format!("coalesce({source}.{figure}, 0) AS {figure}"))
            .collect();
        return format!(
            "SELECT periods.period AS period, {complete},\n  {}\n\
             FROM periods CROSS JOIN bounds\nLEFT JOIN {source} ON {source}.period = periods.period\n\
             ORDER BY periods.period",
            columns.join(",\n  ")
        );
    }
    let nulls: String = (0..by).map(|index| format!(", NULL AS by_{index}")).collect();
    let totals: Vec<String> = figures
        .iter()
        .map(|figure| format!("coalesce(totals.{figure}, 0) AS {figure}"))
        .collect();
    let each: Vec<String> = figures
        .iter()
        .map(|figure| format!("{source}.{figure}"))
        .collect();
    format!(
        "SELECT * FROM (\nSELECT 1 AS overall{nulls}, periods.period AS period, {complete},\n  {}\n\
         FROM periods CROSS JOIN bounds\n\
         LEFT JOIN (SELECT period, {} FROM {source} GROUP BY period) AS totals \
         ON totals.period = periods.period\n\
         UNION ALL\n\
         SELECT 0 AS overall{}, periods.period AS period, {complete},\n  {}\n\
         FROM periods CROSS JOIN bounds\n\
         JOIN {source} ON {source}.period = periods.period\n\
         ) AS tables\nORDER BY overall DESC, period",
        totals.join(",\n  "),
        sums.join(", "),
        keys(by).replace(", by_", &format!(", {source}.by_")),
        each.join(",\n  ")
    )
}
