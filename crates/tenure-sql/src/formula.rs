//! `type = "formula"`: arithmetic over aggregates of value events, once over every row up to
//! `as_of` or once per period (docs/config.md, `type = "formula"`).

use std::collections::BTreeSet;

use tenure_plan::{AggregateKind, BinaryOp, Expr, Field, Formula, Function, Literal, Plan, UnaryOp};

use crate::calendar::{date_period, row_period};
use crate::expr::row_sql;
use crate::input::{Amount, dated_rows, with};
use crate::{Dialect, Scalars};

pub(crate) fn statement(
    plan: &Plan,
    formula: &Formula,
    dialect: &dyn Dialect,
    scalars: Option<&Scalars<'_>>,
) -> Result<String, String> {
    if formula.cohort.is_some() {
        return Err("a formula per cohort is not translated to SQL yet".to_string());
    }
    let mut aggregates = Vec::new();
    formula.expr.walk(&mut |e| {
        if let Expr::Aggregate(aggregate) = e
            && !aggregates.contains(aggregate)
        {
            aggregates.push(*aggregate);
        }
    });
    let events: BTreeSet<usize> = aggregates.iter().map(|a| a.event).collect();
    let mut ctes = dated_rows(plan, dialect)?;
    let group = match formula.grain {
        Some(grain) => row_period(plan, grain, dialect),
        None => "0".to_string(),
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
                "SELECT entity, {group} AS grp, {micros} AS micros, {amount} AS amount FROM dated_rows \
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
    match formula.grain {
        Some(grain) => {
            let firsts: Vec<String> = events
                .iter()
                .map(|event| format!("SELECT min(grp) AS first_grp FROM rows_{event}"))
                .collect();
            let first = match firsts.is_empty() {
                true => "NULL".to_string(),
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
        None => ctes.push(("groups".to_string(), "SELECT 0 AS grp".to_string())),
    }
    let value = value_sql(&formula.expr, dialect, scalars)?;
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
    let bounds = if formula.grain.is_some() {
        " CROSS JOIN bounds"
    } else {
        ""
    };
    let query = format!(
        "SELECT groups.grp AS grp, {complete} AS complete, {value} AS value\nFROM groups{bounds}{joins}\nORDER BY groups.grp"
    );
    Ok(with(&ctes, &query))
}

/// The SQL of a formula's arithmetic over its aggregates' columns, as a double.
fn value_sql(expr: &Expr, dialect: &dyn Dialect, scalars: Option<&Scalars<'_>>) -> Result<String, String> {
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
        Expr::Unary(UnaryOp::Neg, inner) => format!("(- {})", value_sql(inner, dialect, scalars)?),
        Expr::Binary(op, left, right) => {
            let (a, b) = (
                value_sql(left, dialect, scalars)?,
                value_sql(right, dialect, scalars)?,
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
        Expr::Call(Function::Abs, args) => format!("abs({})", value_sql(&args[0], dialect, scalars)?),
        Expr::Call(Function::Coalesce, args) => {
            let args: Vec<String> = args
                .iter()
                .map(|a| value_sql(a, dialect, scalars))
                .collect::<Result<_, _>>()?;
            format!("coalesce({})", args.join(", "))
        }
        // Another metric's figure, known before this statement runs: a literal.
        Expr::Scalar(reference) => match scalars {
            Some(scalars) => match scalars(reference) {
                Some(value) if value.is_finite() => double(format!("{value:?}")),
                _ => "NULL".to_string(),
            },
            None => {
                return Err(format!(
                    "it reads another metric's figure (`{}.{}`), known only once that metric has \
                     run: `tenure run` on a connection computes it",
                    reference.metric, reference.scalar
                ));
            }
        },
        _ => return Err("this formula's form is not translated to SQL yet".to_string()),
    })
}
