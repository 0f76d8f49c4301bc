//! `type = "formula"`: arithmetic over aggregates of value events, once over every row up to
//! `as_of` or once per period (docs/config.md, `type = "formula"`).

use std::collections::BTreeSet;

use tenure_plan::{
    AggregateKind, BinaryOp, CohortId, Expr, Field, Formula, Function, Grain, Literal, Plan, ScalarRef,
    UnaryOp,
};

use crate::calendar::{date_period, row_period};
use crate::cohort::member_ctes;
use crate::expr::row_sql;
use crate::input::{Amount, dated_rows, with};
use crate::{Dialect, Scalars, figure};

pub(crate) fn statement(
    plan: &Plan,
    formula: &Formula,
    dialect: &dyn Dialect,
    scalars: Option<&Scalars<'_>>,
) -> Result<String, String> {
    values_statement(
        plan,
        &[("value", &formula.expr)],
        Groups::of(formula),
        dialect,
        scalars,
    )
}

/// What a formula's rows are: the whole window, each period, or each cohort row.
#[derive(Clone, Copy)]
pub(crate) enum Groups {
    Whole,
    Period(Grain),
    Cohort(CohortId),
}

impl Groups {
    /// The groups of a formula's rows.
    pub(crate) fn of(formula: &Formula) -> Groups {
        match (formula.grain, formula.cohort) {
            (Some(grain), _) => Groups::Period(grain),
            (None, Some(cohort)) => Groups::Cohort(cohort),
            (None, None) => Groups::Whole,
        }
    }
}

/// Where a formula reads other metrics' figures from.
enum FigureSource<'a> {
    /// Known to the run: literals.
    Known(&'a Scalars<'a>),
    /// Computed by the statement itself: reference `i` is column `figure` of CTE `figure_<i>`.
    Composed(Vec<ScalarRef>),
}

/// The statement of one or more formula expressions over the same groups: `grp`, `complete`
/// and one column per `(name, expression)`.
pub(crate) fn values_statement(
    plan: &Plan,
    values: &[(&str, &Expr)],
    groups: Groups,
    dialect: &dyn Dialect,
    scalars: Option<&Scalars<'_>>,
) -> Result<String, String> {
    let mut aggregates = Vec::new();
    for (_, expr) in values {
        expr.walk(&mut |e| {
            if let Expr::Aggregate(aggregate) = e
                && !aggregates.contains(aggregate)
            {
                aggregates.push(*aggregate);
            }
        });
    }
    let events: BTreeSet<usize> = aggregates.iter().map(|a| a.event).collect();
    let mut ctes = dated_rows(plan, dialect)?;
    // Other metrics' figures: literals the run knows, or CTEs from those metrics' statements.
    let figures = match scalars {
        Some(scalars) => FigureSource::Known(scalars),
        None => {
            let mut references: Vec<ScalarRef> = Vec::new();
            for (_, expr) in values {
                expr.walk(&mut |e| {
                    if let Expr::Scalar(reference) = e
                        && !references.contains(reference)
                    {
                        references.push(reference.clone());
                    }
                });
            }
            for (index, reference) in references.iter().enumerate() {
                ctes.extend(figure::ctes(
                    plan,
                    reference,
                    &format!("figure_{index}"),
                    dialect,
                )?);
            }
            FigureSource::Composed(references)
        }
    };
    // The rows an aggregate reads: every kept row, or per cohort the rows of its members (the
    // members' cohort row as `member_cohort`).
    let mut source = "dated_rows".to_string();
    let group = match groups {
        Groups::Period(grain) => row_period(plan, grain, dialect),
        Groups::Whole => "0".to_string(),
        Groups::Cohort(cohort) => {
            let cohort = &plan.cohorts[cohort];
            if !cohort.by.is_empty() {
                return Err("a formula per cohort broken down `by` is not translated to SQL yet".to_string());
            }
            ctes.extend(member_ctes(plan, cohort, dialect, None)?);
            source = "(SELECT dated_rows.*, members.cohort_period AS member_cohort FROM dated_rows \
                      JOIN members ON members.entity = dated_rows.entity) AS dated_rows"
                .to_string();
            "member_cohort".to_string()
        }
    };
    for &event in &events {
        let value_event = &plan.events[event];
        let filter = row_sql(&value_event.filter, dialect)?;
        let (micros, amount) = match &value_event.amount {
            Some(Expr::Field(Field::Prop(column))) => {
                let amount = Amount::of(column, dialect);
                (amount.micros(), amount.number())
            }
            // Typed, so that every engine can sum and compare the empty column.
            None => (dialect.typed_null(true), dialect.typed_null(false)),
            Some(_) => {
                return Err(
                    "an amount other than a property column is not translated to SQL yet".to_string(),
                );
            }
        };
        ctes.push((
            format!("rows_{event}"),
            format!(
                "SELECT entity, {group} AS grp, {micros} AS micros, {amount} AS amount FROM {source} \
                 CROSS JOIN as_of WHERE dated_rows.local_day <= as_of.as_of AND ({filter})"
            ),
        ));
        ctes.push((
            format!("stats_{event}"),
            format!(
                "SELECT grp AS stats_grp, count(*) AS row_count, sum(micros) AS sum_micros, \
                 count(micros) AS amount_count, min(amount) AS min_amount, max(amount) AS max_amount \
                 FROM rows_{event} GROUP BY grp"
            ),
        ));
        let thresholds: BTreeSet<u32> = aggregates
            .iter()
            .filter(|a| a.event == event)
            .filter_map(|a| match a.kind {
                AggregateKind::Entities(n) => Some(n),
                _ => None,
            })
            .collect();
        if !thresholds.is_empty() {
            let counts: Vec<String> = thresholds
                .iter()
                .map(|n| format!("sum(CASE WHEN n >= {n} THEN 1 ELSE 0 END) AS at_least_{n}"))
                .collect();
            ctes.push((
                format!("entities_{event}"),
                format!(
                    "SELECT grp AS entities_grp, {} FROM (SELECT grp, entity, count(*) AS n FROM rows_{event} \
                     GROUP BY grp, entity) AS per_entity GROUP BY grp",
                    counts.join(", ")
                ),
            ));
        }
    }
    // The groups: one for the whole window, or every period from the first with any of the
    // formula's events through the period of as_of (that period alone when there is none up to
    // as_of: an earlier row would be up to as_of too).
    let mut complete = "TRUE".to_string();
    match groups {
        Groups::Period(grain) => {
            let firsts: Vec<String> = events
                .iter()
                .map(|event| format!("SELECT min(grp) AS first_grp FROM rows_{event}"))
                .collect();
            let first = match firsts.is_empty() {
                // No aggregate: the period of as_of alone (a typed null, for every engine).
                true => "CAST(NULL AS BIGINT)".to_string(),
                false => format!(
                    "(SELECT min(first_grp) FROM ({}) AS firsts)",
                    firsts.join(" UNION ALL ")
                ),
            };
            ctes.push((
                "bounds".to_string(),
                format!(
                    "SELECT {first} AS first_grp, {} AS last_period, {} AS period_after_as_of FROM as_of",
                    date_period(plan, grain, "as_of", dialect),
                    date_period(plan, grain, &dialect.next_day("as_of"), dialect)
                ),
            ));
            let from = "coalesce(first_grp, last_period)";
            ctes.push((
                "groups".to_string(),
                format!(
                    "SELECT period AS grp FROM ({}) AS series",
                    dialect.series(from, "last_period", "bounds")
                ),
            ));
            complete = "groups.grp < bounds.period_after_as_of".to_string();
        }
        Groups::Whole => ctes.push(("groups".to_string(), "SELECT 0 AS grp".to_string())),
        // Every cohort row, also one whose members have none of the formula's events.
        Groups::Cohort(_) => ctes.push((
            "groups".to_string(),
            "SELECT DISTINCT cohort_period AS grp FROM members".to_string(),
        )),
    }
    let columns = values
        .iter()
        .map(|(name, expr)| Ok(format!("{} AS {name}", value_sql(expr, dialect, &figures)?)))
        .collect::<Result<Vec<_>, String>>()?;
    let mut joins = String::new();
    for &event in &events {
        joins.push_str(&format!(
            " LEFT JOIN stats_{event} ON stats_{event}.stats_grp = groups.grp"
        ));
        if ctes.iter().any(|(name, _)| *name == format!("entities_{event}")) {
            joins.push_str(&format!(
                " LEFT JOIN entities_{event} ON entities_{event}.entities_grp = groups.grp"
            ));
        }
    }
    let mut bounds = if matches!(groups, Groups::Period(_)) {
        " CROSS JOIN bounds".to_string()
    } else {
        String::new()
    };
    if let FigureSource::Composed(references) = &figures {
        for index in 0..references.len() {
            bounds.push_str(&format!(" CROSS JOIN figure_{index}"));
        }
    }
    let query = format!(
        "SELECT groups.grp AS grp, {complete} AS complete, {}\nFROM groups{bounds}{joins}\nORDER BY groups.grp",
        columns.join(", ")
    );
    Ok(with(&ctes, &query, dialect))
}

/// The SQL of a formula's arithmetic over its aggregates' columns, as a double.
fn value_sql(expr: &Expr, dialect: &dyn Dialect, figures: &FigureSource<'_>) -> Result<String, String> {
    let double = |value: String| dialect.to_double(&value);
    Ok(match expr {
        Expr::Literal(Literal::Number(value)) if value.is_finite() => double(format!("{value:?}")),
        Expr::Literal(Literal::Null) => "NULL".to_string(),
        Expr::Aggregate(aggregate) => {
            let e = aggregate.event;
            match aggregate.kind {
                AggregateKind::Count => double(format!("coalesce(stats_{e}.row_count, 0)")),
                AggregateKind::Entities(n) => double(format!("coalesce(entities_{e}.at_least_{n}, 0)")),
                AggregateKind::Sum => format!(
                    "({} / 1000000.0)",
                    double(format!("coalesce(stats_{e}.sum_micros, 0)"))
                ),
                AggregateKind::Avg => format!(
                    "CASE WHEN coalesce(stats_{e}.amount_count, 0) > 0 THEN ({} / 1000000.0) / {} END",
                    double(format!("stats_{e}.sum_micros")),
                    double(format!("stats_{e}.amount_count"))
                ),
                AggregateKind::Min => format!("stats_{e}.min_amount"),
                AggregateKind::Max => format!("stats_{e}.max_amount"),
            }
        }
        Expr::Unary(UnaryOp::Neg, inner) => format!("(- {})", value_sql(inner, dialect, figures)?),
        Expr::Binary(op, left, right) => {
            let (a, b) = (
                value_sql(left, dialect, figures)?,
                value_sql(right, dialect, figures)?,
            );
            match op {
                BinaryOp::Add => format!("({a} + {b})"),
                BinaryOp::Sub => format!("({a} - {b})"),
                BinaryOp::Mul => format!("({a} * {b})"),
                // Division by zero is null, as in the expression language.
                BinaryOp::Div => format!("CASE WHEN {b} = 0 THEN NULL ELSE {a} / {b} END"),
                other => {
                    return Err(format!(
                        "the operator {other:?} in a formula (not yet translated to SQL)"
                    ));
                }
            }
        }
        Expr::Call(Function::Abs, args) => format!("abs({})", value_sql(&args[0], dialect, figures)?),
        Expr::Call(Function::Coalesce, args) => {
            let args: Vec<String> = args
                .iter()
                .map(|a| value_sql(a, dialect, figures))
                .collect::<Result<_, _>>()?;
            format!("coalesce({})", args.join(", "))
        }
        // Another metric's figure: a literal the run knows, or the column of its CTE.
        Expr::Scalar(reference) => match figures {
            FigureSource::Known(scalars) => match scalars(reference) {
                Some(value) if value.is_finite() => double(format!("{value:?}")),
                _ => dialect.typed_null(false),
            },
            FigureSource::Composed(references) => {
                let index = references.iter().position(|r| r == reference).unwrap_or_default();
                format!("figure_{index}.figure")
            }
        },
        _ => return Err("this formula's form is not translated to SQL yet".to_string()),
    })
}
