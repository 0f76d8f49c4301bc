//! Plugin segments on a connection, split where each part belongs: the database computes every
//! entity's figures (first and last event, recency, frequency, amounts, its columns in the
//! entity source), the native plugin labels the entities in this process as it does for a run
//! over files, and the labels go back into the metrics' statements as a relation of their own.

use std::collections::BTreeSet;

use tenure_engine::{AttributeValues, EntityFigures, NO_DAY};
use tenure_plan::figures::from_micros;
use tenure_plan::{Field, Plan};
use tenure_sql::{Dialect, Row, Rows, SegmentLabels, ValueType};

use crate::{Session, WarehouseError};

/// The plugin segments the metrics to run (all when `metrics` is empty, and those they read)
/// break cohorts, revenue or lifecycles down by.
pub(crate) fn used(plan: &Plan, metrics: &[String]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for index in plan.evaluation_order(metrics) {
        for field in plan.breakdown(&plan.metrics[index].kind) {
            if let Field::Segment(name) = field {
                names.insert(name.clone());
            }
        }
    }
    names
}

/// Each used segment's labels: its figures computed by the database, labelled by its plugin.
/// `columns` are the entity source's columns (but its id) with their types.
pub(crate) fn labels(
    plan: &Plan,
    metrics: &[String],
    session: &mut dyn Session,
    dialect: &dyn Dialect,
    columns: &[(String, ValueType)],
) -> Result<SegmentLabels, WarehouseError> {
    let mut labels = SegmentLabels::new();
    for name in used(plan, metrics) {
        labels.insert(
            name.clone(),
            segment_labels(plan, &name, session, dialect, columns)?,
        );
    }
    Ok(labels)
}

/// Segment `name`'s label of every entity known to the run: its figures computed by the
/// database, labelled by its plugin.
pub(crate) fn segment_labels(
    plan: &Plan,
    name: &str,
    session: &mut dyn Session,
    dialect: &dyn Dialect,
    columns: &[(String, ValueType)],
) -> Result<Vec<(String, Option<String>)>, WarehouseError> {
    let Some(segment) = plan.segments.iter().find(|s| s.name == name) else {
        return Err(WarehouseError::Unsupported(format!(
            "the config has no segment `{name}`"
        )));
    };
    let names: Vec<String> = columns.iter().map(|(name, _)| name.clone()).collect();
    let statement = tenure_sql::segment_figures(plan, name, &names, dialect)
        .map_err(|refusal| WarehouseError::Unsupported(refusal.to_string()))?;
    let rows = session.query(&statement, &format!("figures of segment `{name}`"))?;
    let figures = figures_of(&rows, columns)
        .map_err(|detail| WarehouseError::Unsupported(format!("segment `{name}`: {detail}")))?;
    let labelled = tenure_engine::label_entities(segment, &figures).map_err(WarehouseError::Unsupported)?;
    Ok(figures.ids.into_iter().zip(labelled).collect())
}

/// The figures of a segment statement's rows (`entity`, `first_seen`, `last_seen`, `frequency`,
/// `last_event`, `monetary_micros`, `as_of_day`, `attr_<i>`).
fn figures_of(rows: &Rows, columns: &[(String, ValueType)]) -> Result<EntityFigures, String> {
    let day = |row: &Row<'_>, column: &str| -> Result<Option<i32>, String> {
        row.whole(column)?
            .map(|day| i32::try_from(day).map_err(|_| format!("`{column}` holds {day}, not a day")))
            .transpose()
    };
    let attribute_names: Vec<String> = (0..columns.len()).map(|index| format!("attr_{index}")).collect();
    let mut figures = EntityFigures::default();
    let mut attributes: Vec<(String, AttributeValues)> = columns
        .iter()
        .map(|(name, value_type)| {
            let values = match value_type {
                ValueType::Number => AttributeValues::Number(Vec::new()),
                ValueType::Bool => AttributeValues::Bool(Vec::new()),
                ValueType::Text => AttributeValues::Text(Vec::new()),
            };
            (name.clone(), values)
        })
        .collect();
    for row in rows.rows()? {
        let id = row.text("entity")?.ok_or("an entity without an id")?;
        figures.ids.push(id.to_string());
        figures
            .first_seen_day
            .push(day(&row, "first_seen")?.unwrap_or(NO_DAY));
        figures
            .last_seen_day
            .push(day(&row, "last_seen")?.unwrap_or(NO_DAY));
        let today = day(&row, "as_of_day")?.unwrap_or(0);
        figures.as_of_day = today;
        figures
            .recency_days
            .push(day(&row, "last_event")?.map_or(-1, |last| today - last));
        let frequency = row.whole("frequency")?.unwrap_or(0);
        figures.frequency.push(
            u64::try_from(frequency).map_err(|_| format!("`frequency` holds {frequency}, not a count"))?,
        );
        figures
            .monetary
            .push(from_micros(row.whole("monetary_micros")?.unwrap_or(0)));
        for ((_, values), column) in attributes.iter_mut().zip(&attribute_names) {
            match values {
                AttributeValues::Text(values) => values.push(row.text(column)?.map(str::to_string)),
                AttributeValues::Number(values) => values.push(row.number(column)?),
                AttributeValues::Bool(values) => values.push(row.truth(column)?),
            }
        }
    }
    figures.attributes = attributes;
    Ok(figures)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Option<String> {
        Some(value.to_string())
    }

    #[test]
    fn figures_come_from_the_rows_with_nulls_as_the_engine_writes_them() {
        let columns = [
            "entity",
            "first_seen",
            "last_seen",
            "frequency",
            "last_event",
            "monetary_micros",
            "as_of_day",
            "attr_0",
            "attr_1",
        ];
        // `b` has events but none of the segment's: no recency (−1), no frequency, no money; `c`
        // is only in the entity source: no first or last day either.
        let rows = Rows {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            values: vec![
                vec![
                    text("a"),
                    text("20000"),
                    text("20010"),
                    text("3"),
                    text("20008"),
                    text("12500000"),
                    text("20015"),
                    text("pro"),
                    text("12"),
                ],
                vec![
                    text("b"),
                    text("20001"),
                    text("20002"),
                    None,
                    None,
                    None,
                    text("20015"),
                    None,
                    None,
                ],
                vec![
                    text("c"),
                    None,
                    None,
                    None,
                    None,
                    None,
                    text("20015"),
                    text("free"),
                    text("3"),
                ],
            ],
        };
        let types = [
            ("plan".to_string(), ValueType::Text),
            ("seats".to_string(), ValueType::Number),
        ];
        let figures = figures_of(&rows, &types).unwrap();
        assert_eq!(figures.ids, ["a", "b", "c"]);
        assert_eq!(figures.as_of_day, 20015);
        assert_eq!(figures.first_seen_day, [20000, 20001, NO_DAY]);
        assert_eq!(figures.recency_days, [7, -1, -1]); // 20015 − 20008
        assert_eq!(figures.frequency, [3, 0, 0]);
        assert_eq!(figures.monetary, [12.5, 0.0, 0.0]);
        assert_eq!(
            figures.attributes,
            vec![
                (
                    "plan".to_string(),
                    AttributeValues::Text(vec![text("pro"), None, text("free")])
                ),
                (
                    "seats".to_string(),
                    AttributeValues::Number(vec![Some(12.0), None, Some(3.0)])
                ),
            ]
        );
    }

    #[test]
    fn a_short_row_is_an_error_not_a_panic() {
        let rows = Rows {
            columns: vec!["entity".to_string(), "first_seen".to_string()],
            values: vec![vec![text("a")]],
        };
        assert!(figures_of(&rows, &[]).is_err());
    }
}
