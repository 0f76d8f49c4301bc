//! The rows a metric reads: the event source as a relation, with its columns named as the plan
//! names them (`entity`, `event`, `time`, `"props.<column>"`), cleaned by the quality rules.

use tenure_plan::{Plan, RejectReason, Relation, Source};

use crate::Dialect;
use crate::expr::row_sql;

/// A number as the engine reads one: an optional sign, digits with an optional fraction (or a
/// fraction alone), an optional exponent.
const NUMBER: &str = r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?";

/// How the SQL reads an amount column (`props.<column>`), as the engine does: trimmed text that
/// is a number, as a float and in exact micro-units.
pub(crate) struct Amount {
    /// The trimmed text of the value.
    pub(crate) text: String,
    /// Whether the text is a number.
    pub(crate) is_number: String,
    /// The number (only where it is one).
    pub(crate) value: String,
}

impl Amount {
    pub(crate) fn of(column: &str, dialect: &dyn Dialect) -> Amount {
        let text = format!(
            "trim({})",
            dialect.text(&dialect.identifier(&format!("props.{column}")))
        );
        Amount {
            is_number: dialect.full_match(&text, &dialect.string(NUMBER)),
            value: dialect.to_double(&text),
            text,
        }
    }

    /// The number, null where the text is none.
    pub(crate) fn number(&self) -> String {
        format!("CASE WHEN {} THEN {} END", self.is_number, self.value)
    }

    /// The number rounded to an exact integer of 10⁻⁶ units, null where the text is none.
    pub(crate) fn micros(&self) -> String {
        format!(
            "CASE WHEN {} THEN CAST(round({} * 1000000) AS DECIMAL(38, 0)) END",
            self.is_number, self.value
        )
    }
}

/// The event source as the SQL reads it: the relation (a table, or a file the dialect reads),
/// and the projection that names its columns as the plan does.
struct EventRelation {
    relation: String,
    columns: Vec<String>,
}

/// The relation a source names: a table, quoted part by part, or a file the dialect reads.
fn relation_sql(source: &Source, dialect: &dyn Dialect) -> Result<String, String> {
    match &source.relation {
        Relation::Table { table, .. } => Ok(dialect.table(table)),
        Relation::File { path, format } => dialect
            .file(&path.display().to_string(), format.to_owned())
            .ok_or_else(|| format!("the {} dialect reads tables, not files", dialect.name())),
    }
}

/// The entity source's id as the engine reads one: text, trimmed.
fn entity_id(source: &Source, dialect: &dyn Dialect) -> String {
    format!(
        "trim({})",
        dialect.text(&dialect.identifier(&source.entity_column))
    )
}

/// CTE `entity_rows`: one row per entity id of the entity source (`entity`, and
/// `"attr.<column>"` for each attribute the plan reads). A table has no row order, so of rows
/// repeating an id the one with the smallest attribute values (as text) is kept; rows without
/// an id are not read (docs/backends.md).
pub(crate) fn entity_rows(plan: &Plan, dialect: &dyn Dialect) -> Result<(String, String), String> {
    let attributes: Vec<String> = plan.attribute_columns().into_iter().collect();
    entity_rows_of(plan, &attributes, dialect)
}

/// [`entity_rows`] with the attribute columns `attributes`.
pub(crate) fn entity_rows_of(
    plan: &Plan,
    attributes: &[String],
    dialect: &dyn Dialect,
) -> Result<(String, String), String> {
    let source = plan
        .entity_source
        .as_ref()
        .ok_or("an entity attribute without an entity source")?;
    let relation = relation_sql(source, dialect)?;
    let id = entity_id(source, dialect);
    let mut columns = vec![format!("{id} AS entity")];
    columns.extend(attributes.iter().map(|column| {
        format!(
            "{} AS {}",
            dialect.identifier(column),
            dialect.identifier(&format!("attr.{column}"))
        )
    }));
    let order: Vec<String> = attributes
        .iter()
        .map(|column| format!("coalesce({}, '')", dialect.text(&dialect.identifier(column))))
        .chain(std::iter::once(id.clone()))
        .collect();
    let kept: Vec<String> = std::iter::once("entity".to_string())
        .chain(
            attributes
                .iter()
                .map(|c| dialect.identifier(&format!("attr.{c}"))),
        )
        .collect();
    Ok((
        "entity_rows".to_string(),
        format!(
            "SELECT {} FROM (SELECT {}, row_number() OVER (PARTITION BY {id} ORDER BY {}) AS copy \
             FROM {relation} WHERE {id} IS NOT NULL AND {id} <> '') AS numbered WHERE copy = 1",
            kept.join(", "),
            columns.join(", "),
            order.join(", ")
        ),
    ))
}

fn event_relation(plan: &Plan, dialect: &dyn Dialect) -> Result<EventRelation, String> {
    let [source] = plan.event_sources.as_slice() else {
        return Err("several event sources are not translated to SQL yet".to_string());
    };
    let relation = relation_sql(source, dialect)?;
    if source.time_format != tenure_plan::TimeFormat::Auto {
        return Err("epoch time formats are not translated to SQL yet".to_string());
    }
    // Ids and event names are text, trimmed, as the engine reads them.
    let trimmed = |column: &str| format!("trim({})", dialect.text(&dialect.identifier(column)));
    let mut columns = vec![
        format!("{} AS entity", trimmed(&source.entity_column)),
        format!("{} AS event", trimmed(&source.event_column)),
        format!(
            "{} AS time",
            dialect.instant(&dialect.identifier(&source.time_column))
        ),
    ];
    for prop in plan.property_columns() {
        columns.push(format!(
            "{} AS {}",
            dialect.identifier(&prop),
            dialect.identifier(&format!("props.{prop}"))
        ));
    }
    Ok(EventRelation { relation, columns })
}

/// Why the engine would reject a row of `source_rows`, in its order of checks, as
/// `(reason, condition)` pairs: no entity, event or time, a time outside 1900–2199, or in a
/// column some value event takes as its amount, a value that is not a number within ±10¹⁵.
fn rejections(plan: &Plan, dialect: &dyn Dialect) -> Vec<(RejectReason, String)> {
    let mut reasons = vec![
        (
            RejectReason::MissingEntity,
            "entity IS NULL OR trim(entity) = ''".to_string(),
        ),
        (
            RejectReason::MissingEvent,
            "event IS NULL OR trim(event) = ''".to_string(),
        ),
        (RejectReason::MissingTime, "time IS NULL".to_string()),
        (
            RejectReason::BadTime,
            format!(
                "time < {} OR time >= {}",
                dialect.instant(&dialect.string("1900-01-01T00:00:00Z")),
                dialect.instant(&dialect.string("2200-01-01T00:00:00Z"))
            ),
        ),
    ];
    let amounts: Vec<String> = plan
        .amount_columns()
        .iter()
        .map(|column| {
            let amount = Amount::of(column, dialect);
            format!(
                "NOT ({text} IS NULL OR {text} = '' OR CASE WHEN {number} THEN abs({value}) <= 1e15 ELSE FALSE END)",
                text = amount.text,
                number = amount.is_number,
                value = amount.value,
            )
        })
        .collect();
    if !amounts.is_empty() {
        reasons.push((RejectReason::BadAmount, amounts.join(" OR ")));
    }
    reasons
}

/// CTEs ending in `dated_rows` and `as_of`: every kept event row with its instant (`time`) and local date
/// (`local_day`, and `day`, days since 1970-01-01), and `as_of`, one row holding `as_of`.
pub(crate) fn dated_rows(plan: &Plan, dialect: &dyn Dialect) -> Result<Vec<(String, String)>, String> {
    let EventRelation { relation, columns } = event_relation(plan, dialect)?;
    let mut ctes = Vec::new();
    // Exact duplicates are rows equal in every column of the source, as read.
    let rows = if plan.quality.dedupe {
        format!("(SELECT DISTINCT * FROM {relation}) AS distinct_rows")
    } else {
        relation
    };
    ctes.push((
        "source_rows".to_string(),
        format!("SELECT {} FROM {rows}", columns.join(", ")),
    ));
    let unreadable: Vec<String> = rejections(plan, dialect)
        .into_iter()
        .map(|(_, condition)| format!("({condition})"))
        .collect();
    ctes.push((
        "readable_rows".to_string(),
        format!(
            "SELECT * FROM source_rows WHERE NOT coalesce({}, FALSE)",
            unreadable.join(" OR ")
        ),
    ));
    let exclude = match &plan.quality.exclude {
        Some(rule) => format!(" WHERE NOT coalesce({}, FALSE)", row_sql(rule, dialect)?),
        None => String::new(),
    };
    ctes.push((
        "kept_rows".to_string(),
        format!("SELECT * FROM readable_rows{exclude}"),
    ));
    let zone = dialect.string(plan.project.timezone.name());
    let local = dialect.local_date("time", &zone);
    ctes.push((
        "local_rows".to_string(),
        format!("SELECT *, {local} AS local_day FROM kept_rows"),
    ));
    ctes.push((
        "dated_rows".to_string(),
        format!(
            "SELECT *, {} AS day FROM local_rows",
            dialect.days_since_epoch("local_day")
        ),
    ));
    let as_of = match plan.project.as_of {
        Some(date) => format!("SELECT {} AS as_of", dialect.date(&date.to_string())),
        None => "SELECT max(local_day) AS as_of FROM dated_rows".to_string(),
    };
    ctes.push(("as_of".to_string(), as_of));
    Ok(ctes)
}

/// The statement that accounts for the sources' rows as the engine does (docs/config.md,
/// `[quality]`): one row of `as_of` (text, `YYYY-MM-DD`), `rows_read`, one count per reject
/// reason (named as in the JSON contract), `readable` (the distinct readable rows with
/// `dedupe = "exact"`, all of them without), `kept` and `entities`; with an entity source also
/// `entity_rows_read`, `entity_missing` (rows without an id) and `entity_kept` (distinct ids).
/// Duplicates are the readable rows less `readable`, excluded rows `readable` less `kept`.
pub(crate) fn accounting(plan: &Plan, dialect: &dyn Dialect) -> Result<String, String> {
    let EventRelation { relation, columns } = event_relation(plan, dialect)?;
    let mut ctes = vec![(
        "all_rows".to_string(),
        format!("SELECT {} FROM {relation}", columns.join(", ")),
    )];
    ctes.extend(dated_rows(plan, dialect)?);
    // The first reason that holds is the row's reason, as the engine checks in this order.
    let reasons = rejections(plan, dialect);
    let mut first_reason = String::from("CASE");
    for (reason, condition) in &reasons {
        first_reason.push_str(&format!(" WHEN coalesce({condition}, FALSE) THEN '{reason}'"));
    }
    first_reason.push_str(" END");
    ctes.push((
        "row_reasons".to_string(),
        format!("SELECT {first_reason} AS reason FROM all_rows"),
    ));
    let counts: Vec<String> = RejectReason::ALL
        .iter()
        .map(|reason| {
            format!("coalesce(sum(CASE WHEN reason = '{reason}' THEN 1 ELSE 0 END), 0) AS {reason}")
        })
        .collect();
    // Readable and kept rows counted in one pass over the readable rows (an engine that does not
    // materialise a CTE reads it once per reference, and these are the deduplicated rows).
    let excluded = match &plan.quality.exclude {
        Some(rule) => format!("coalesce({}, FALSE)", row_sql(rule, dialect)?),
        None => "FALSE".to_string(),
    };
    ctes.push((
        "readable_counts".to_string(),
        format!(
            "SELECT count(*) AS readable, coalesce(sum(CASE WHEN excluded THEN 0 ELSE 1 END), 0) AS kept, \
             count(DISTINCT CASE WHEN excluded THEN NULL ELSE entity END) AS kept_entities \
             FROM (SELECT entity, {excluded} AS excluded FROM readable_rows) AS flagged"
        ),
    ));
    // Entities: of the kept rows, or with an entity source every id it holds and every entity of
    // a readable event row (as the engine knows every id it has read).
    let (entities, joins, entity_columns) = match &plan.entity_source {
        None => ("readable_counts.kept_entities", String::new(), ""),
        Some(source) => {
            let id = entity_id(source, dialect);
            ctes.push(entity_rows(plan, dialect)?);
            (
                "entity_total.entities",
                format!(
                    "\nCROSS JOIN (SELECT count(DISTINCT entity) AS entities FROM (SELECT entity FROM readable_rows \
                     UNION ALL SELECT entity FROM entity_rows) AS known) AS entity_total\
                     \nCROSS JOIN (SELECT count(*) AS entity_rows_read, \
                     coalesce(sum(CASE WHEN {id} IS NULL OR {id} = '' THEN 1 ELSE 0 END), 0) AS entity_missing, \
                     count(DISTINCT {id}) AS entity_kept FROM {}) AS entity_counts",
                    relation_sql(source, dialect)?
                ),
                ", entity_counts.entity_rows_read, entity_counts.entity_missing, entity_counts.entity_kept",
            )
        }
    };
    let query = format!(
        "SELECT {as_of} AS as_of, read_counts.rows_read, {reasons}, readable_counts.readable, \
         readable_counts.kept, {entities} AS entities{entity_columns}\n\
         FROM (SELECT count(*) AS rows_read, {counts} FROM row_reasons) AS read_counts\n\
         CROSS JOIN readable_counts{joins}\n\
         CROSS JOIN as_of",
        as_of = dialect.text("as_of.as_of"),
        reasons = RejectReason::ALL
            .iter()
            .map(|reason| format!("read_counts.{reason}"))
            .collect::<Vec<_>>()
            .join(", "),
        counts = counts.join(", "),
    );
    Ok(with(&ctes, &query, dialect))
}

/// A statement from named CTEs and a final query, one CTE a line block. The kept, dated rows
/// that several steps read are computed once where the dialect lets a statement ask for it.
pub(crate) fn with(ctes: &[(String, String)], query: &str, dialect: &dyn Dialect) -> String {
    let body: Vec<String> = ctes
        .iter()
        .map(|(name, sql)| {
            let materialized = if name == "dated_rows" {
                dialect.materialized()
            } else {
                ""
            };
            format!("{name} AS {materialized}(\n  {sql}\n)")
        })
        .collect();
    format!(
        "WITH\n{}\n{query}{}",
        body.join(",\n"),
        dialect.statement_settings()
    )
}
