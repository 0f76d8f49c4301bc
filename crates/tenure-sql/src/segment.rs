//! Segments from native plugins, split between the database and tenure: the statement here
//! computes each entity's figures a plugin reads (where the data lives); the plugin labels the
//! entities in process; the labels come back into a metric's statement as a relation of their
//! own (`Known::labels`).

use tenure_plan::{Expr, Field, Plan};

use crate::Dialect;
use crate::expr::row_sql;
use crate::input::{Amount, dated_rows, entity_rows_of, with};

/// The statement of segment `name`'s figures, one row per entity known to the run (of a
/// readable event row or the entity source), by id: `entity`, `first_seen` and `last_seen` (days
/// since 1970-01-01 of its first and last event up to `as_of`, null without one), `frequency`,
/// `last_event` and `monetary_micros` (of the segment's `event` up to `as_of`), `as_of_day`, and
/// `attr_<i>` for each of `attributes` (entity source columns).
pub(crate) fn figures(
    plan: &Plan,
    name: &str,
    attributes: &[String],
    dialect: &dyn Dialect,
) -> Result<String, String> {
    let segment = plan
        .segments
        .iter()
        .find(|s| s.name == name)
        .ok_or_else(|| format!("the plan has no segment `{name}`"))?;
    let mut ctes = dated_rows(plan, dialect)?;
    let (filter, micros) = match segment.event {
        None => ("TRUE".to_string(), dialect.typed_null(true)),
        Some(event) => {
            let event = &plan.events[event];
            let micros = match &event.amount {
                None => dialect.typed_null(true),
                Some(Expr::Field(Field::Prop(column))) => Amount::of(column, dialect).micros(),
                Some(_) => {
                    return Err(
                        "an amount other than a property column is not translated to SQL yet".to_string(),
                    );
                }
            };
            (row_sql(&event.filter, dialect)?, micros)
        }
    };
    let known = match plan.entity_source {
        Some(_) => {
            ctes.push(entity_rows_of(plan, attributes, dialect)?);
            "SELECT entity FROM readable_rows UNION ALL SELECT entity FROM entity_rows"
        }
        None => "SELECT entity FROM readable_rows",
    };
    ctes.push((
        "population".to_string(),
        format!("SELECT DISTINCT entity FROM ({known}) AS known"),
    ));
    ctes.push((
        "seen".to_string(),
        "SELECT entity, min(day) AS first_seen, max(day) AS last_seen FROM dated_rows CROSS JOIN as_of \
         WHERE dated_rows.local_day <= as_of.as_of GROUP BY entity"
            .to_string(),
    ));
    ctes.push((
        "counted".to_string(),
        format!(
            "SELECT entity, count(*) AS frequency, max(day) AS last_event, sum(micros) AS monetary_micros \
             FROM (SELECT entity, day, {micros} AS micros FROM dated_rows CROSS JOIN as_of \
             WHERE dated_rows.local_day <= as_of.as_of AND ({filter})) AS counted_rows GROUP BY entity"
        ),
    ));
    let mut columns = vec![
        "p.entity AS entity".to_string(),
        "s.first_seen AS first_seen".to_string(),
        "s.last_seen AS last_seen".to_string(),
        "c.frequency AS frequency".to_string(),
        "c.last_event AS last_event".to_string(),
        "c.monetary_micros AS monetary_micros".to_string(),
        format!("{} AS as_of_day", dialect.days_since_epoch("as_of.as_of")),
    ];
    let mut joins = String::new();
    if plan.entity_source.is_some() {
        for (index, column) in attributes.iter().enumerate() {
            columns.push(format!(
                "e.{} AS attr_{index}",
                dialect.identifier(&format!("attr.{column}"))
            ));
        }
        joins.push_str(" LEFT JOIN entity_rows AS e ON e.entity = p.entity");
    }
    let query = format!(
        "SELECT {}\nFROM population AS p CROSS JOIN as_of LEFT JOIN seen AS s ON s.entity = p.entity \
         LEFT JOIN counted AS c ON c.entity = p.entity{joins}\nORDER BY p.entity",
        columns.join(", ")
    );
    Ok(with(&ctes, &query, dialect))
}
