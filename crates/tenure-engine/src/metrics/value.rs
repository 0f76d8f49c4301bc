//! `type = "ltv"` and `type = "payback"`: the engine supplies the order figures; the formulas
//! themselves are the plan's (`tenure_plan::derive`), shared by every backend.

use std::collections::BTreeMap;

use tenure_plan::derive::{self, OrderFigures};
use tenure_plan::{
    Aggregate, AggregateKind, Formula, Ltv, LtvForm, LtvResult, MetricResult, Payback, PaybackResult,
};

use crate::Dataset;

/// Computes a lifetime value.
pub fn ltv(data: &Dataset, metric: &Ltv, results: &BTreeMap<String, MetricResult>) -> LtvResult {
    match &metric.form {
        LtvForm::Orders { order, cost_to_serve } => {
            let aggregate = |kind| {
                let formula = Formula {
                    expr: tenure_plan::Expr::Aggregate(Aggregate { kind, event: *order }),
                    grain: None,
                    cohort: None,
                    format: tenure_plan::ValueFormat::Number,
                };
                match super::formula::evaluate(data, &formula, results).value {
                    tenure_plan::FormulaValue::Single(value) => value,
                    tenure_plan::FormulaValue::Grouped => None,
                }
            };
            let figures = OrderFigures {
                average_order: aggregate(AggregateKind::Avg),
                orders: aggregate(AggregateKind::Count),
                customers: aggregate(AggregateKind::Entities(1)),
            };
            derive::orders_ltv(figures, metric.margin, *cost_to_serve)
        }
        LtvForm::Subscription {
            revenue,
            churn_window,
        } => derive::subscription_ltv(results.get(revenue), metric.margin, *churn_window),
    }
}

/// Computes a payback period in periods of the revenue metric's grain.
pub fn payback(metric: &Payback, results: &BTreeMap<String, MetricResult>) -> PaybackResult {
    derive::payback(metric, results)
}
