//! Runs a tenure plan where its tables live: the SQL of `tenure-sql` sent to the connection the
//! sources name, and the aggregated rows it returns read back into the same
//! [`Report`] the in-process engine builds (docs/backends.md).
//!
//! Only aggregated rows travel (cohort × period counts, period totals, one accounting row),
//! never the events. PostgreSQL is reached over its wire protocol, ClickHouse over its HTTP
//! interface. A metric the SQL backend does not compile is in the report as failed, with the
//! reason; nothing is approximated.

mod clickhouse;
mod postgres;
mod segments;

use std::collections::BTreeMap;

use tenure_plan::derive;
use tenure_plan::schema::{Column, ColumnKind, MetricProblem, SourceSchema};
use tenure_plan::{
    Connection, ConnectionKind, FailedMetric, Ltv, LtvForm, MetricKind, MetricResult, Plan, Relation, Report,
};
use tenure_sql::{AttributeTypes, Dialect, Known, Rows, SegmentLabels, ValueType};

/// Why a run on a connection failed. Each names the connection and fits on one line.
#[derive(Debug, thiserror::Error)]
pub enum WarehouseError {
    /// The server could not be reached, or refused the credentials.
    #[error("connection `{connection}`: {detail}")]
    Connect {
        /// The `[connections.<name>]` name.
        connection: String,
        /// What happened.
        detail: String,
    },
    /// The server rejected or failed a statement.
    #[error("connection `{connection}`: the {what} failed: {detail}")]
    Query {
        /// The `[connections.<name>]` name.
        connection: String,
        /// Which statement: a metric's, or the input accounting.
        what: String,
        /// The server's message.
        detail: String,
    },
    /// The plan cannot run on a connection as it stands.
    #[error("{0}")]
    Unsupported(String),
    /// The rows that came back do not have the statement's shape.
    #[error(transparent)]
    Shape(#[from] tenure_sql::ShapeError),
}

/// A connected database that answers a statement with its rows as text.
pub(crate) trait Session {
    /// Runs one statement; `what` names it in errors.
    fn query(&mut self, sql: &str, what: &str) -> Result<Rows, WarehouseError>;

    /// The columns of a table (`schema.table` or `table`): each name and its type's name as the
    /// server spells it.
    fn columns(&mut self, table: &str) -> Result<Vec<(String, String)>, WarehouseError>;
}

fn open(connection: &Connection) -> Result<Box<dyn Session>, WarehouseError> {
    let password = match &connection.password_env {
        None => None,
        Some(variable) => Some(std::env::var(variable).map_err(|_| WarehouseError::Connect {
            connection: connection.name.clone(),
            detail: format!("the environment variable `{variable}` (its `password_env`) is not set"),
        })?),
    };
    match connection.kind {
        ConnectionKind::Postgres => Ok(Box::new(postgres::PostgresSession::connect(
            connection,
            password.as_deref(),
        )?)),
        ConnectionKind::ClickHouse => Ok(Box::new(clickhouse::ClickHouseSession::new(
            connection,
            password.as_deref(),
        )?)),
        ConnectionKind::Spark | ConnectionKind::DuckDb => Err(WarehouseError::Unsupported(format!(
            "connection `{}`: `tenure run` reaches PostgreSQL and ClickHouse; for {} print the SQL \
             with `tenure sql --dialect {}` and run it there",
            connection.name,
            connection.kind.as_str(),
            connection.kind.as_str()
        ))),
    }
}

fn dialect_of(kind: ConnectionKind) -> &'static dyn Dialect {
    match kind {
        ConnectionKind::Postgres => &tenure_sql::Postgres,
        ConnectionKind::ClickHouse => &tenure_sql::ClickHouse,
        ConnectionKind::Spark => &tenure_sql::Spark,
        ConnectionKind::DuckDb => &tenure_sql::DuckDb,
    }
}

/// The one connection every event source of `plan` reads from, when they are tables; `None`
/// when they are files.
pub fn connection_of(plan: &Plan) -> Result<Option<&Connection>, WarehouseError> {
    let mut names = plan
        .event_sources
        .iter()
        .chain(&plan.entity_source)
        .map(|s| match &s.relation {
            Relation::Table { connection, .. } => Some(connection.as_str()),
            Relation::File { .. } => None,
        });
    let Some(first) = names.next() else {
        return Ok(None);
    };
    if names.any(|name| name != first) {
        return Err(WarehouseError::Unsupported(
            "the sources are in different places (files and tables, or several connections); \
             `tenure run` reads them from one"
                .to_string(),
        ));
    }
    Ok(first.and_then(|name| plan.connections.iter().find(|c| c.name == name)))
}

/// The columns of every table source, as the config check compares them with what the config
/// names. A source whose table cannot be described (server unreachable, no such table) has the
/// reason instead of columns.
pub fn inspect_tables(plan: &Plan) -> Vec<SourceSchema> {
    let tables: Vec<(&str, &str, &str)> = plan
        .event_sources
        .iter()
        .chain(&plan.entity_source)
        .filter_map(|source| match &source.relation {
            Relation::Table { connection, table } => {
                Some((source.name.as_str(), connection.as_str(), table.as_str()))
            }
            Relation::File { .. } => None,
        })
        .collect();
    let mut sessions: BTreeMap<&str, Result<Box<dyn Session>, String>> = BTreeMap::new();
    let mut schemas = Vec::new();
    for (source, connection_name, table) in tables {
        if !sessions.contains_key(connection_name) {
            let opened = match plan.connections.iter().find(|c| c.name == connection_name) {
                Some(connection) => open(connection).map_err(|e| e.to_string()),
                None => Err(format!("no connection `{connection_name}`")),
            };
            // A connection that cannot be opened is one mistake: reported at its first source.
            if let Err(reason) = &opened {
                schemas.push(SourceSchema {
                    source: source.to_string(),
                    columns: Err(reason.clone()),
                });
            }
            sessions.insert(connection_name, opened);
        }
        if let Some(Ok(session)) = sessions.get_mut(connection_name) {
            schemas.push(SourceSchema {
                source: source.to_string(),
                columns: describe(session.as_mut(), table),
            });
        }
    }
    schemas
}

/// The columns of `table` as the config check reads them, or why it cannot be described.
fn describe(session: &mut dyn Session, table: &str) -> Result<Vec<Column>, String> {
    session
        .columns(table)
        .map(|columns| {
            columns
                .into_iter()
                .map(|(name, type_name)| Column {
                    kind: column_kind(&type_name),
                    name,
                })
                .collect()
        })
        .map_err(|e| e.to_string())
}

/// The metrics of `metrics` (all when empty), and those they read, that cannot be computed on
/// `connection`, each with the reason: what `validate` and `run` report before anything runs.
pub fn refusals(plan: &Plan, connection: &Connection, metrics: &[String]) -> Vec<MetricProblem> {
    let dialect = dialect_of(connection.kind);
    let backend = format!("`{}` ({})", connection.name, connection.kind.as_str());
    let mut refused: BTreeMap<String, String> = BTreeMap::new();
    let mut problems = Vec::new();
    // Any figure stands in for another metric's: whether a statement compiles does not depend
    // on it.
    let any_figure = |_: &tenure_plan::ScalarRef| Some(1.0);
    // The run labels plugin segments before it compiles (any labels will do here).
    let any_labels: SegmentLabels = plan
        .segments
        .iter()
        .map(|s| (s.name.clone(), Vec::new()))
        .collect();
    let known = Known {
        scalars: Some(&any_figure),
        labels: Some(&any_labels),
    };
    for index in plan.evaluation_order(metrics) {
        let metric = &plan.metrics[index];
        let dependencies = metric.kind.dependencies();
        let reason = match dependencies.iter().find(|name| refused.contains_key(*name)) {
            Some(name) => Some(format!("it reads metric `{name}`, which cannot run there")),
            None if derived(&metric.kind, &BTreeMap::new()).is_some() => None,
            None => tenure_sql::compile_with(plan, &metric.name, dialect, &known)
                .err()
                .map(|refusal| refusal.reason),
        };
        if let Some(reason) = reason {
            refused.insert(metric.name.clone(), reason.clone());
            problems.push(MetricProblem {
                metric: metric.name.clone(),
                backend: backend.clone(),
                reason,
            });
        }
    }
    problems
}

/// Computes the named metrics (all when `metrics` is empty) on `connection`, where the plan's
/// sources are. The report equals the in-process engine's, figure for figure, for every metric
/// the SQL backend compiles; the others are failed metrics that say why.
pub fn run(plan: &Plan, connection: &Connection, metrics: &[String]) -> Result<Report, WarehouseError> {
    let dialect = dialect_of(connection.kind);
    let mut session = open(connection)?;
    let accounting = tenure_sql::accounting(plan, dialect)
        .map_err(|refusal| WarehouseError::Unsupported(refusal.reason))?;
    let rows = session.query(&accounting, "input accounting")?;
    let columns = entity_columns(plan, session.as_mut())?;
    let types: AttributeTypes = columns.iter().cloned().collect();
    let labels = segments::labels(plan, metrics, session.as_mut(), dialect, &columns)?;
    let (as_of, input) = tenure_sql::read_input(plan, &rows)?;
    let mut results: BTreeMap<String, MetricResult> = BTreeMap::new();
    // Metrics that others derive from come first, even when not asked for.
    for index in plan.evaluation_order(metrics) {
        let metric = &plan.metrics[index];
        let not_computed = |reason: String| {
            MetricResult::Failed(FailedMetric {
                kind: metric.kind.type_name().to_string(),
                error: format!("not computed on {}: {reason}", connection.kind.as_str()),
            })
        };
        // A figure read from a metric that was not computed would be null here and a number in
        // the engine: the metric is not computed either.
        let missing = not_computed_dependency(&metric.kind, &results);
        let scalars = |reference: &tenure_plan::ScalarRef| {
            results
                .get(&reference.metric)
                .and_then(|result| result.scalar(&reference.scalar))
        };
        let result = match (missing, derived(&metric.kind, &results)) {
            (Some(name), _) => not_computed(format!("it reads metric `{name}`, which is not computed")),
            (None, Some(result)) => result,
            (None, None) => match tenure_sql::compile_with(
                plan,
                &metric.name,
                dialect,
                &Known {
                    scalars: Some(&scalars),
                    labels: Some(&labels),
                },
            ) {
                Ok(statement) => {
                    let rows =
                        session.query(&statement, &format!("statement of metric `{}`", metric.name))?;
                    tenure_sql::read_result(plan, &metric.name, &rows, &types)?
                }
                Err(refusal) => not_computed(refusal.reason),
            },
        };
        results.insert(metric.name.clone(), result);
    }
    results.retain(|name, _| metrics.is_empty() || metrics.contains(name));
    Ok(Report {
        tenure: env!("CARGO_PKG_VERSION").to_string(),
        backend: connection.kind.as_str().to_string(),
        as_of,
        input,
        metrics: results,
    })
}

/// Each entity's label of plugin segment `segment`, by id, computed where the sources are:
/// the database computes the figures the plugin reads, the plugin labels them in process.
pub fn segment_labels(
    plan: &Plan,
    connection: &Connection,
    segment: &str,
) -> Result<Vec<(String, Option<String>)>, WarehouseError> {
    let dialect = dialect_of(connection.kind);
    let mut session = open(connection)?;
    let columns = entity_columns(plan, session.as_mut())?;
    segments::segment_labels(plan, segment, session.as_mut(), dialect, &columns)
}

/// The first metric `kind` reads that has no result, or a failed one.
fn not_computed_dependency(kind: &MetricKind, results: &BTreeMap<String, MetricResult>) -> Option<String> {
    kind.dependencies()
        .into_iter()
        .find(|name| matches!(results.get(name), None | Some(MetricResult::Failed(_))))
}

/// A metric derived from another metric's result rather than from rows (subscription LTV and
/// payback, from a revenue metric, computed before it), as the engine derives it
/// (`tenure_plan::derive`); `None` for a metric that has a statement of its own.
fn derived(kind: &MetricKind, results: &BTreeMap<String, MetricResult>) -> Option<MetricResult> {
    match kind {
        MetricKind::Ltv(Ltv {
            form: LtvForm::Subscription {
                revenue,
                churn_window,
            },
            margin,
        }) => Some(MetricResult::Ltv(derive::subscription_ltv(
            results.get(revenue),
            *margin,
            *churn_window,
        ))),
        MetricKind::Payback(payback) => Some(MetricResult::Payback(derive::payback(payback, results))),
        _ => None,
    }
}

/// The entity source's columns but its id, with their types: what breakdowns by attribute
/// read, and what a plugin segment sees.
fn entity_columns(
    plan: &Plan,
    session: &mut dyn Session,
) -> Result<Vec<(String, ValueType)>, WarehouseError> {
    let Some(source) = &plan.entity_source else {
        return Ok(Vec::new());
    };
    let Relation::Table { table, .. } = &source.relation else {
        return Ok(Vec::new());
    };
    Ok(session
        .columns(table)?
        .into_iter()
        .filter(|(name, _)| *name != source.entity_column)
        .map(|(name, type_name)| {
            let value_type = value_type(&type_name);
            (name, value_type)
        })
        .collect())
}

/// How values of a database type read in the report.
pub(crate) fn value_type(type_name: &str) -> ValueType {
    let lower = type_name.to_ascii_lowercase();
    if lower.contains("bool") {
        ValueType::Bool
    } else if column_kind(type_name) == ColumnKind::Number {
        ValueType::Number
    } else {
        ValueType::Text
    }
}

/// What a column of a database type holds, from the type's name as the server spells it.
pub(crate) fn column_kind(type_name: &str) -> ColumnKind {
    let lower = type_name.to_ascii_lowercase();
    // ClickHouse wraps types: Nullable(T), LowCardinality(T).
    let inner = lower
        .trim_start_matches("lowcardinality(")
        .trim_start_matches("nullable(")
        .trim_end_matches(')');
    if inner.starts_with("array")
        || inner.starts_with("map")
        || inner.starts_with("tuple")
        || inner.starts_with('_')
    {
        ColumnKind::Unreadable(type_name.to_string())
    } else if inner.starts_with("date") || inner.starts_with("timestamp") {
        ColumnKind::Time
    } else if [
        "int", "uint", "float", "decimal", "numeric", "double", "real", "smallint", "bigint",
    ]
    .iter()
    .any(|prefix| inner.starts_with(prefix))
    {
        ColumnKind::Number
    } else {
        ColumnKind::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_metric_reading_one_not_computed_is_not_computed_either() {
        let payback = MetricKind::Payback(tenure_plan::Payback {
            revenue: "mrr".to_string(),
            cac: 100.0,
            margin: 0.5,
        });
        let mut results = BTreeMap::new();
        assert_eq!(
            not_computed_dependency(&payback, &results),
            Some("mrr".to_string())
        );
        results.insert(
            "mrr".to_string(),
            MetricResult::Failed(FailedMetric {
                kind: "revenue".to_string(),
                error: "not computed on postgres: …".to_string(),
            }),
        );
        assert_eq!(
            not_computed_dependency(&payback, &results),
            Some("mrr".to_string())
        );
        let crr = MetricKind::Crr(tenure_plan::Crr {
            active: 0,
            grain: tenure_plan::Grain::Month,
        });
        assert_eq!(not_computed_dependency(&crr, &results), None);
    }

    #[test]
    fn database_types_are_read_as_times_numbers_or_other() {
        assert_eq!(column_kind("timestamptz"), ColumnKind::Time);
        assert_eq!(column_kind("Nullable(DateTime64(6, 'UTC'))"), ColumnKind::Time);
        assert_eq!(column_kind("LowCardinality(Nullable(String))"), ColumnKind::Other);
        assert_eq!(column_kind("numeric"), ColumnKind::Number);
        assert_eq!(column_kind("Decimal(18, 2)"), ColumnKind::Number);
        assert_eq!(column_kind("_int4"), ColumnKind::Unreadable("_int4".to_string()));
        assert_eq!(
            column_kind("Array(String)"),
            ColumnKind::Unreadable("Array(String)".to_string())
        );
    }
}
