//! The rows a metric reads: the event source as a relation, with its columns named as the plan
//! names them (`entity`, `event`, `time`, `"props.<column>"`), cleaned by the quality rules.

use tenure_plan::{Plan, RejectReason, Relation};

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

fn event_relation(plan: &Plan, dialect: &dyn Dialect) -> Result<EventRelation, String> {
    let [source] = plan.event_sources.as_slice() else {
        return Err("several event sources are not translated to SQL yet".to_string());
    };
    let relation = match &source.relation {
        Relation::Table { table, .. } => table
            .split('.')
            .map(|part| dialect.identifier(part))
            .collect::<Vec<_>>()
            .join("."),
        Relation::File { path, format } => dialect
            .file(&path.display().to_string(), *format)
            .ok_or_else(|| format!("the {} dialect reads tables, not files", dialect.name()))?,
    };
    if source.time_format != tenure_plan::TimeFormat::Auto {
        return Err("epoch time formats are not translated to SQL yet".to_string());
    }
    let mut columns = vec![
        format!("{} AS entity", dialect.identifier(&source.entity_column)),
        format!("{} AS event", dialect.identifier(&source.event_column)),
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

/// The statement that accounts for the event source's rows as the engine does
/// (docs/config.md, `[quality]`): one row of `as_of` (text, `YYYY-MM-DD`), `rows_read`, one
/// count per reject reason (named as in the JSON contract), `readable` (the distinct readable rows
/// with `dedupe = "exact"`, all of them without), `kept` and `entities` (distinct entities of the
/// kept rows). Duplicates are the readable rows less `readable`, excluded rows `readable` less
/// `kept`.
pub(crate) fn accounting(plan: &Plan, dialect: &dyn Dialect) -> Result<String, String> {
    if plan.entity_source.is_some() {
        return Err("an entity source is not read by the SQL backend yet".to_string());
    }
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
    let query = format!(
        "SELECT {as_of} AS as_of, read_counts.rows_read, {reasons}, readable_counts.readable, \
         kept_counts.kept, kept_counts.entities\n\
         FROM (SELECT count(*) AS rows_read, {counts} FROM row_reasons) AS read_counts\n\
         CROSS JOIN (SELECT count(*) AS readable FROM readable_rows) AS readable_counts\n\
         CROSS JOIN (SELECT count(*) AS kept, count(DISTINCT entity) AS entities FROM kept_rows) AS kept_counts\n\
         CROSS JOIN as_of",
        as_of = dialect.text("as_of.as_of"),
        reasons = RejectReason::ALL
            .iter()
            .map(|reason| format!("read_counts.{reason}"))
            .collect::<Vec<_>>()
            .join(", "),
        counts = counts.join(", "),
    );
    Ok(with(&ctes, &query))
}

/// A statement from named CTEs and a final query, one CTE a line block.
pub(crate) fn with(ctes: &[(String, String)], query: &str) -> String {
    let body: Vec<String> = ctes
        .iter()
        .map(|(name, sql)| format!("{name} AS (\n  {sql}\n)"))
        .collect();
    format!("WITH\n{}\n{query}", body.join(",\n"))
}
