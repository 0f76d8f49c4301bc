//! `type = "formula"`: arithmetic over aggregates, constants and other metrics' scalars.

use std::collections::BTreeMap;

use rayon::prelude::*;
use tenure_plan::{
    Aggregate, AggregateKind, BinaryOp, Expr, Formula, FormulaResult, FormulaRow, FormulaValue, Function,
    Literal, MetricResult, UnaryOp,
};

use super::amount::{AmountReader, from_micros};
use super::cohort::NO_GROUP;
use crate::Dataset;
use crate::eval::CHUNK_ROWS;

/// Per-group statistics of one value event.
#[derive(Debug, Clone, Default)]
struct Stats {
    rows: u64,
    amounts: u64,
    sum: i128,
    min: Option<f64>,
    max: Option<f64>,
    /// Rows per entity, for `entities(e, at_least = n)`.
    per_entity: Vec<u32>,
}

/// Computes one formula metric; `results` holds the metrics it may reference.
pub fn evaluate(
    data: &Dataset,
    formula: &Formula,
    results: &BTreeMap<String, MetricResult>,
) -> FormulaResult {
    let store = &data.store;
    let mut aggregates: Vec<Aggregate> = Vec::new();
    formula.expr.walk(&mut |e| {
        if let Expr::Aggregate(aggregate) = e
            && !aggregates.contains(aggregate)
        {
            aggregates.push(*aggregate);
        }
    });
    // Group of a row: everything (0), its period, or its entity's cohort row.
    let (groups, labels): (Box<dyn Fn(usize) -> u32 + Sync + '_>, Vec<FormulaRow>) =
        match (formula.grain, formula.cohort) {
            (Some(grain), _) => {
                let last = data.calendar.period_index(grain, data.as_of_day);
                let first = aggregates
                    .iter()
                    .flat_map(|a| {
                        let mask = data.event_mask(a.event);
                        (0..store.len())
                            .filter(move |r| mask[*r])
                            .map(|r| store.day[r])
                            .min()
                    })
                    .min()
                    .map_or(last, |day| data.calendar.period_index(grain, day).min(last));
                let rows = (first..=last)
                    .map(|p| FormulaRow {
                        period: Some(data.calendar.period_label(grain, p)),
                        complete: Some(data.calendar.period_last_day(grain, p) <= data.as_of_day),
                        cohort: None,
                        segment: None,
                        value: None,
                    })
                    .collect();
                let calendar = data.calendar;
                (
                    Box::new(move |row| {
                        let period = calendar.period_index(grain, store.day[row]);
                        if period < first {
                            NO_GROUP
                        } else {
                            (period - first) as u32
                        }
                    }),
                    rows,
                )
            }
            (None, Some(cohort)) => {
                let assignment = data.assignment(cohort);
                let grain = data.plan.cohorts[cohort].grain;
                let rows = assignment
                    .groups
                    .iter()
                    .map(|g| FormulaRow {
                        period: None,
                        complete: None,
                        cohort: Some(data.calendar.period_label(grain, g.period)),
                        segment: g.segment.clone(),
                        value: None,
                    })
                    .collect();
                let group_of = assignment.group_of.clone();
                (Box::new(move |row| group_of[store.entity[row] as usize]), rows)
            }
            (None, None) => (Box::new(|_| 0), Vec::new()),
        };
    let group_count = labels.len().max(1);
    let stats: BTreeMap<usize, Vec<Stats>> = aggregates
        .iter()
        .map(|a| a.event)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|event| (event, event_stats(data, event, &*groups, group_count)))
        .collect();
    let value_in = |group: usize| -> Option<f64> {
        let aggregate = |a: &Aggregate| -> Option<f64> {
            let s = &stats[&a.event][group];
            match a.kind {
                AggregateKind::Count => Some(s.rows as f64),
                AggregateKind::Entities(n) => Some(s.per_entity.iter().filter(|c| **c >= n).count() as f64),
                AggregateKind::Sum => Some(from_micros(s.sum)),
                AggregateKind::Avg => (s.amounts > 0).then(|| from_micros(s.sum) / s.amounts as f64),
                AggregateKind::Min => s.min,
                AggregateKind::Max => s.max,
            }
        };
        compute(&formula.expr, &aggregate, results)
    };
    if labels.is_empty() {
        return FormulaResult {
            kind: "formula",
            grain: None,
            format: formula.format.as_str(),
            value: FormulaValue::Single(value_in(0)),
            rows: None,
        };
    }
    let rows = labels
        .into_iter()
        .enumerate()
        .map(|(group, mut row)| {
            row.value = value_in(group);
            row
        })
        .collect();
    FormulaResult {
        kind: "formula",
        grain: formula.grain.map(|g| g.as_str()),
        format: formula.format.as_str(),
        value: FormulaValue::Grouped,
        rows: Some(rows),
    }
}

fn event_stats(
    data: &Dataset,
    event: usize,
    group_of: &(dyn Fn(usize) -> u32 + Sync),
    groups: usize,
) -> Vec<Stats> {
    let store = &data.store;
    let mask = data.event_mask(event);
    let amount = data.plan.events[event]
        .amount
        .as_ref()
        .map(|a| AmountReader::new(data, a));
    let chunks = store.len().div_ceil(CHUNK_ROWS);
    // (group, entity, amount) for every occurrence up to as_of, in row order.
    let mut occurrences: Vec<(u32, u32, Option<f64>)> = (0..chunks)
        .into_par_iter()
        .flat_map_iter(|chunk| {
            let amount = amount.as_ref();
            (chunk * CHUNK_ROWS..((chunk + 1) * CHUNK_ROWS).min(store.len()))
                .filter(|row| mask[*row] && store.day[*row] <= data.as_of_day)
                .filter_map(|row| {
                    let group = group_of(row);
                    (group != NO_GROUP)
                        .then(|| (group, store.entity[row], amount.and_then(|a| a.number(row))))
                })
                .collect::<Vec<_>>()
        })
        .collect();
    occurrences.par_sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
    let mut stats = vec![Stats::default(); groups];
    for run in occurrences.chunk_by(|a, b| a.0 == b.0 && a.1 == b.1) {
        let s = &mut stats[run[0].0 as usize];
        s.per_entity.push(run.len() as u32);
        for (_, _, value) in run {
            s.rows += 1;
            if let Some(value) = value {
                s.amounts += 1;
                s.sum += super::amount::to_micros(*value);
                s.min = Some(s.min.map_or(*value, |m| m.min(*value)));
                s.max = Some(s.max.map_or(*value, |m| m.max(*value)));
            }
        }
    }
    stats
}

/// Evaluates a formula expression; `None` is null (missing data, division by zero).
fn compute(
    expr: &Expr,
    aggregate: &dyn Fn(&Aggregate) -> Option<f64>,
    results: &BTreeMap<String, MetricResult>,
) -> Option<f64> {
    let value = match expr {
        Expr::Literal(Literal::Number(value)) => Some(*value),
        Expr::Literal(_) | Expr::List(_) | Expr::Field(_) => None,
        Expr::Aggregate(a) => aggregate(a),
        Expr::Scalar(reference) => results
            .get(&reference.metric)
            .and_then(|r| r.scalar(&reference.scalar)),
        Expr::Unary(UnaryOp::Neg, inner) => compute(inner, aggregate, results).map(|v| -v),
        Expr::Unary(UnaryOp::Not, _) => None,
        Expr::Binary(op, left, right) => {
            let (a, b) = (
                compute(left, aggregate, results)?,
                compute(right, aggregate, results)?,
            );
            match op {
                BinaryOp::Add => Some(a + b),
                BinaryOp::Sub => Some(a - b),
                BinaryOp::Mul => Some(a * b),
                BinaryOp::Div => (b != 0.0).then(|| a / b),
                BinaryOp::Rem => (b != 0.0).then(|| a % b),
                _ => None,
            }
        }
        Expr::Call(function, args) => {
            let mut values = args.iter().map(|a| compute(a, aggregate, results));
            match function {
                Function::Abs => values.next().flatten().map(f64::abs),
                Function::Round => {
                    let value = values.next().flatten();
                    let digits = values.next().flatten().unwrap_or(0.0).clamp(-15.0, 15.0) as i32;
                    value.map(|v| (v * 10f64.powi(digits)).round() / 10f64.powi(digits))
                }
                Function::Coalesce => values.flatten().next(),
                Function::Min => values.flatten().reduce(f64::min),
                Function::Max => values.flatten().reduce(f64::max),
                _ => None,
            }
        }
    };
    value.filter(|v| v.is_finite())
}
