//! The rows a metric reads: the event source as a relation, with its columns named as the plan
//! names them (`entity`, `event`, `time`, `"props.<column>"`), cleaned by the quality rules.

use tenure_plan::{Plan, Relation};

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

/// CTEs ending in `dated_rows` and `as_of`: every kept event row with its instant (`time`) and local date
/// (`local_day`, and `day`, days since 1970-01-01), and `bounds`, one row holding `as_of`.
pub(crate) fn dated_rows(plan: &Plan, dialect: &dyn Dialect) -> Result<Vec<(String, String)>, String> {
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
    // As the engine rejects them: no entity, event or time, a time outside 1900–2199, or in a
    // column some value event takes as its amount, a value that is not a number within ±10¹⁵.
    let mut readable = format!(
        "entity IS NOT NULL AND trim(entity) <> '' AND event IS NOT NULL AND event <> '' \
         AND time >= {} AND time < {}",
        dialect.instant(&dialect.string("1900-01-01T00:00:00Z")),
        dialect.instant(&dialect.string("2200-01-01T00:00:00Z"))
    );
    for column in plan.amount_columns() {
        let amount = Amount::of(&column, dialect);
        readable.push_str(&format!(
            " AND ({text} IS NULL OR {text} = '' OR CASE WHEN {number} THEN abs({value}) <= 1e15 ELSE FALSE END)",
            text = amount.text,
            number = amount.is_number,
            value = amount.value,
        ));
    }
    ctes.push((
        "readable_rows".to_string(),
        format!("SELECT * FROM source_rows WHERE {readable}"),
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

/// A statement from named CTEs and a final query, one CTE a line block.
pub(crate) fn with(ctes: &[(String, String)], query: &str) -> String {
    let body: Vec<String> = ctes
        .iter()
        .map(|(name, sql)| format!("{name} AS (\n  {sql}\n)"))
        .collect();
    format!("WITH\n{}\n{query}", body.join(",\n"))
}
