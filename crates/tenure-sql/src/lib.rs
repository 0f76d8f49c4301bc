//! A tenure plan compiled to SQL: one statement per metric, readable and runnable by hand, in the
//! dialect of the engine where the data lives (ClickHouse, Spark SQL, PostgreSQL, DuckDB).
//!
//! Each statement is a chain of named CTEs that follow the plan's steps: the sources' rows
//! (`source_rows`), the rows that are readable (`readable_rows`), without the excluded ones
//! (`kept_rows`), each row's local date (`local_rows`, `dated_rows`), then the metric's own
//! steps. What is not translated yet is refused with the reason (a [`Refusal`]), never
//! approximated. docs/backends.md lists what compiles.

mod activation;
mod breakdown;
mod calendar;
mod cohort;
mod cohort_revenue;
mod crr;
mod dialect;
mod expr;
mod figure;
mod formula;
mod funnel;
mod input;
mod lifecycle;
mod results;
mod retention;
mod revenue;
mod segment;
mod stickiness;
mod survey;
mod uplift;
mod winback;

pub use dialect::{ClickHouse, Dialect, DuckDb, NAMES, Postgres, Spark, by_name};
pub use results::{AttributeTypes, Row, Rows, ShapeError, ValueType, read_input, read_result};

use std::collections::BTreeMap;

use tenure_plan::{Aggregate, AggregateKind, Expr, MetricKind, Plan, ScalarRef};

/// Why a metric has no SQL (yet, or by nature).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("metric `{metric}` is not compiled to {dialect} SQL: {reason}")]
pub struct Refusal {
    /// The metric.
    pub metric: String,
    /// The dialect asked for.
    pub dialect: &'static str,
    /// Why, in a phrase.
    pub reason: String,
}

/// The SQL statement that computes metric `name` of `plan` in `dialect`.
///
/// A retention statement returns one row per cohort: `cohort_period` (the index of the cohort's
/// period), `size`, and for each column `i` of the table `retained_i`, `eligible_i` and
/// `retained_eligible_i` (members retained and eligible, what the total row adds up).
///
/// An activation statement returns one row per cohort and a last row for all cohorts together
/// (`all_cohorts` 1): `cohort_period`, `all_cohorts`, `size`, `activated`, `eligible`,
/// `activated_eligible` and `median_delay_us`, the median time from `t0` to the first `reached`
/// of activated members, in microseconds.
///
/// A revenue statement returns one row per period after the first with revenue, up to the period
/// of `as_of`: `period`, `complete`, and in micro-units (10⁻⁶, exact integers) `start_micros`,
/// `new_micros`, `expansion_micros`, `contraction_micros`, `churned_micros`,
/// `reactivation_micros`, `end_micros`, then `customers_start`, `customers_churned`,
/// `customers_end`; the ratios follow from them. With `by`, those rows have `overall` 1 and null
/// `by_<i>`, followed by rows with `overall` 0 per breakdown value (`by_<i>`) and period in which
/// its entities moved money.
///
/// A retention statement with `value` also returns, per column `i`, `revenue_micros_i`,
/// `cumulative_micros_i` and `eligible_cumulative_micros_i`.
///
/// A formula statement returns `grp`, `complete` and `value`: one row for the whole window, one
/// per period from the first with any of its events through the period of `as_of`, or one per
/// cohort period. An orders-form LTV statement returns one row of `average_order`, `orders` and
/// `customers`.
///
/// A lifecycle statement returns one row per period from the first with activity through the
/// period of `as_of`: `period`, `complete`, `new_count`, `returning_count`,
/// `resurrecting_count` and `dormant_count`; with `by`, as a revenue statement does, `overall`
/// rows then rows per breakdown value and period with any count.
///
/// A stickiness statement returns, in `part` 0, one row per day from the first with activity
/// through `as_of` (`at_index` the day since 1970-01-01, `dau`, `wau`, `mau`), then in `part` 1
/// one row per period and number of active days (`at_index` the period, `complete`,
/// `days_count`, `entities`; a period nobody was active in has one row with `days_count` 0).
///
/// A survey statement returns a row of every answer up to `as_of` (`per_value` 0, `overall` 1),
/// then with `grain` one per period from the first with an answer (or an ask) through the
/// period of `as_of` (`overall` 0); with `by` the same per breakdown value (`per_value` 1,
/// `by_<i>`, a value's periods only where it has a row): `period`, `complete`, `responses`,
/// `respondents`, `invalid`, `positive`, `neutral`, `negative`, `score_sum` (the sum of the
/// scores on the scale) and `asked` (null without `asked`).
///
/// A CRR statement returns one row per period after the first with activity, up to the period
/// of `as_of`: `period` (the period's index: days since 1970-01-01, weeks since the week of
/// 1970-01-01, `year × 12 + month − 1`, or `year × 4 + quarter − 1`), `complete`, `start_s`,
/// `end_e` and `new_n`, as the `crr` table of docs/config.md.
pub fn compile(plan: &Plan, name: &str, dialect: &dyn Dialect) -> Result<String, Refusal> {
    compile_with(plan, name, dialect, &Known::default())
}

/// The figure another metric's result has for a scalar reference (`revenue.nrr`), `None` when
/// it has none.
pub type Scalars<'a> = dyn Fn(&ScalarRef) -> Option<f64> + 'a;

/// Each entity's label of a plugin segment, by segment name: `(id, label)`, `None` where the
/// plugin gave none.
pub type SegmentLabels = BTreeMap<String, Vec<(String, Option<String>)>>;

/// What a run knows before it sends a metric's statement, which [`compile`] alone does not.
#[derive(Default, Clone, Copy)]
pub struct Known<'a> {
    /// Other metrics' figures: a formula's references to them (`revenue.nrr`) become literals
    /// (null where there is none, as in the engine).
    pub scalars: Option<&'a Scalars<'a>>,
    /// Plugin segments' labels, computed in process from [`segment_figures`]: a cohort broken
    /// down by such a segment joins them as a relation of the statement.
    pub labels: Option<&'a SegmentLabels>,
}

/// [`compile`], for a run that already has what [`Known`] holds.
pub fn compile_with(
    plan: &Plan,
    name: &str,
    dialect: &dyn Dialect,
    known: &Known<'_>,
) -> Result<String, Refusal> {
    compile_statement(plan, name, dialect, known)
}

/// The statement of the figures plugin segment `segment` labels entities from, one row per entity
/// known to the run (of a readable event row or the entity source), by id: `entity`,
/// `first_seen` and `last_seen` (days since 1970-01-01 of its first and last event up to
/// `as_of`, null without one), `frequency`, `last_event` and `monetary_micros` (of the segment's
/// `event` up to `as_of`), `as_of_day`, and `attr_<i>` for each of `attributes` (the entity
/// source's columns the plugin sees).
pub fn segment_figures(
    plan: &Plan,
    segment: &str,
    attributes: &[String],
    dialect: &dyn Dialect,
) -> Result<String, Refusal> {
    let body = segment::figures(plan, segment, attributes, dialect).map_err(|reason| Refusal {
        metric: format!("(segment {segment})"),
        dialect: dialect.name(),
        reason,
    })?;
    Ok(format!(
        "-- tenure {}: figures of segment `{segment}`, {} dialect\n{body}\n",
        env!("CARGO_PKG_VERSION"),
        dialect.name()
    ))
}

fn compile_statement(
    plan: &Plan,
    name: &str,
    dialect: &dyn Dialect,
    known: &Known<'_>,
) -> Result<String, Refusal> {
    let body = body(plan, name, dialect, known).map_err(|reason| Refusal {
        metric: name.to_string(),
        dialect: dialect.name(),
        reason,
    })?;
    let Some(metric) = plan.metrics.iter().find(|m| m.name == name) else {
        return Ok(body);
    };
    let mut heading = format!(
        "-- tenure {}: metric `{name}` ({}), {} dialect\n",
        env!("CARGO_PKG_VERSION"),
        metric.kind.type_name(),
        dialect.name()
    );
    if known.labels.is_none() {
        for field in plan.breakdown(&metric.kind) {
            if let tenure_plan::Field::Segment(segment) = field {
                heading.push_str(&format!(
                    "-- reads table {}: each entity's label of plugin segment `{segment}` \
                     (columns entity, label), as `tenure segment --name {segment}` prints them\n",
                    crate::labels_table(segment)
                ));
            }
        }
    }
    Ok(format!("{heading}{body}\n"))
}

/// The table a statement printed on its own reads plugin segment `segment`'s labels from
/// (columns `entity` and `label`): a plugin labels entities in process, so a pipeline that runs
/// the statement stores them there first (docs/backends.md, "Plugin segments").
pub fn labels_table(segment: &str) -> String {
    format!("tenure_segment_{segment}")
}

/// Metric `name`'s statement without its heading comment, or why there is none.
pub(crate) fn body(
    plan: &Plan,
    name: &str,
    dialect: &dyn Dialect,
    known: &Known<'_>,
) -> Result<String, String> {
    let Some(metric) = plan.metrics.iter().find(|m| m.name == name) else {
        return Err("the plan has no such metric".to_string());
    };
    if let Some(segment) = plan.period_start_segments(plan.breakdown(&metric.kind)).next() {
        return Err(format!(
            "segment `{segment}` is labelled at each period's start: its plugin runs once per \
             period over the data before that day, in process, and a statement reads one label \
             per entity; `tenure run` on the files computes it"
        ));
    }
    match &metric.kind {
        MetricKind::Crr(crr) => crr::statement(plan, crr, dialect),
        MetricKind::Lifecycle(lifecycle) => lifecycle::statement(plan, lifecycle, dialect, known.labels),
        MetricKind::Stickiness(stickiness) => stickiness::statement(plan, stickiness, dialect),
        MetricKind::Survey(survey) => survey::statement(plan, survey, dialect, known.labels),
        MetricKind::Uplift(uplift) => uplift::statement(plan, uplift, dialect, known.labels),
        MetricKind::Winback(winback) => winback::statement(plan, winback, dialect, known.labels),
        MetricKind::Health(_) => Err(
            "a health score is not translated to SQL yet: it ranks every entity of the population \
             against the others and lists the ones at risk one by one, which the statements here do \
             not return; `tenure run` on the files computes it"
                .to_string(),
        ),
        MetricKind::Retention(retention) => retention::statement(plan, retention, dialect, known.labels),
        MetricKind::Activation(activation) => activation::statement(plan, activation, dialect, known.labels),
        MetricKind::Revenue(revenue) => revenue::statement(plan, revenue, dialect, known.labels),
        MetricKind::CohortRevenue(metric) => cohort_revenue::statement(plan, metric, dialect, known.labels),
        MetricKind::Funnel(funnel) => funnel::statement(plan, funnel, dialect, known.labels),
        MetricKind::Formula(formula) => formula::statement(plan, formula, dialect, known.scalars),
        MetricKind::Ltv(tenure_plan::Ltv {
            form: tenure_plan::LtvForm::Orders { order, .. },
            ..
        }) => {
            let aggregate = |kind| Expr::Aggregate(Aggregate { kind, event: *order });
            let (average, orders, customers) = (
                aggregate(AggregateKind::Avg),
                aggregate(AggregateKind::Count),
                aggregate(AggregateKind::Entities(1)),
            );
            formula::values_statement(
                plan,
                &[
                    ("average_order", &average),
                    ("orders", &orders),
                    ("customers", &customers),
                ],
                formula::Groups::Whole,
                dialect,
                None,
            )
        }
        MetricKind::Ltv(tenure_plan::Ltv {
            form:
                tenure_plan::LtvForm::Subscription {
                    revenue,
                    churn_window,
                },
            margin,
        }) => figure::subscription_ltv(plan, revenue, *churn_window, *margin, dialect),
        MetricKind::Payback(payback) => {
            figure::payback(plan, &payback.revenue, payback.cac, payback.margin, dialect)
        }
    }
}

/// The statement that accounts for the input rows and finds `as_of`, in `dialect`; its row is
/// read by [`read_input`].
pub fn accounting(plan: &Plan, dialect: &dyn Dialect) -> Result<String, Refusal> {
    let body = input::accounting(plan, dialect).map_err(|reason| Refusal {
        metric: "(input accounting)".to_string(),
        dialect: dialect.name(),
        reason,
    })?;
    Ok(format!(
        "-- tenure {}: input accounting, {} dialect\n{body}\n",
        env!("CARGO_PKG_VERSION"),
        dialect.name()
    ))
}
