//! `type = "ltv"` and `type = "payback"`: the field's standard formulas in one line of config.

use std::collections::BTreeMap;

use tenure_plan::{
    Aggregate, AggregateKind, Formula, Ltv, LtvForm, LtvResult, MetricResult, Payback, PaybackResult,
    RevenuePeriod,
};

use crate::Dataset;

/// ARPA of the last complete period of a revenue metric.
fn arpa(results: &BTreeMap<String, MetricResult>, revenue: &str) -> Option<f64> {
    results.get(revenue)?.scalar("arpa_last")
}

/// Computes a lifetime value.
pub fn ltv(data: &Dataset, metric: &Ltv, results: &BTreeMap<String, MetricResult>) -> LtvResult {
    let margin = metric.margin;
    match &metric.form {
        LtvForm::Orders { order, cost_to_serve } => {
            // average order × margin × orders per customer − cost to serve, as one formula.
            let aggregate = |kind| tenure_plan::Expr::Aggregate(Aggregate { kind, event: *order });
            let scalar = |expr| {
                let formula = Formula {
                    expr,
                    grain: None,
                    cohort: None,
                    format: tenure_plan::ValueFormat::Number,
                };
                match super::formula::evaluate(data, &formula, results).value {
                    tenure_plan::FormulaValue::Single(value) => value,
                    tenure_plan::FormulaValue::Grouped => None,
                }
            };
            let average_order = scalar(aggregate(AggregateKind::Avg));
            let orders = scalar(aggregate(AggregateKind::Count));
            let customers = scalar(aggregate(AggregateKind::Entities(1)));
            let orders_per_customer = match (orders, customers) {
                (Some(o), Some(c)) if c > 0.0 => Some(o / c),
                _ => None,
            };
            let value = match (average_order, orders_per_customer) {
                (Some(a), Some(o)) => Some(a * margin * o - cost_to_serve),
                _ => None,
            };
            LtvResult {
                kind: "ltv",
                form: "orders",
                value,
                margin,
                average_order,
                orders_per_customer,
                cost_to_serve: Some(*cost_to_serve),
                arpa: None,
                churn_rate: None,
            }
        }
        LtvForm::Subscription {
            revenue,
            churn_window,
        } => {
            let arpa = arpa(results, revenue);
            // Customer churn pooled over the last `churn_window` complete periods.
            let churn_rate = match results.get(revenue) {
                Some(MetricResult::Revenue(table)) => {
                    let complete: Vec<&RevenuePeriod> = table.periods.iter().filter(|p| p.complete).collect();
                    let window = &complete[complete.len().saturating_sub(*churn_window as usize)..];
                    let start: u64 = window.iter().map(|p| p.customers_start).sum();
                    let churned: u64 = window.iter().map(|p| p.customers_churned).sum();
                    (start > 0).then(|| churned as f64 / start as f64)
                }
                _ => None,
            };
            let value = match (arpa, churn_rate) {
                (Some(a), Some(c)) if c > 0.0 => Some(a * margin / c),
                _ => None,
            };
            LtvResult {
                kind: "ltv",
                form: "subscription",
                value,
                margin,
                average_order: None,
                orders_per_customer: None,
                cost_to_serve: None,
                arpa,
                churn_rate,
            }
        }
    }
}

/// Computes a payback period in periods of the revenue metric's grain.
pub fn payback(metric: &Payback, results: &BTreeMap<String, MetricResult>) -> PaybackResult {
    let arpa = arpa(results, &metric.revenue);
    let unit = match results.get(&metric.revenue) {
        Some(MetricResult::Revenue(table)) => table.grain,
        _ => "month",
    };
    let value = arpa
        .map(|a| a * metric.margin)
        .filter(|profit| *profit > 0.0)
        .map(|profit| metric.cac / profit);
    PaybackResult {
        kind: "payback",
        value,
        unit,
        cac: metric.cac,
        arpa,
        margin: metric.margin,
    }
}
