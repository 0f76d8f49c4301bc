//! Metrics derived from other figures: LTV and payback, computed the same way whichever backend
//! produced the figures they start from (docs/config.md, `type = "ltv"` and `type = "payback"`).

use std::collections::BTreeMap;

use crate::{LtvResult, MetricResult, Payback, PaybackResult, RevenuePeriod};

/// The aggregates of the order event an orders-form LTV starts from.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrderFigures {
    /// The average amount of an order (`avg(order.amount)`).
    pub average_order: Option<f64>,
    /// How many orders there are (`count(order)`).
    pub orders: Option<f64>,
    /// How many entities ordered at least once (`entities(order)`).
    pub customers: Option<f64>,
}

/// Orders-form LTV: average order × margin × orders per customer − cost to serve.
pub fn orders_ltv(figures: OrderFigures, margin: f64, cost_to_serve: f64) -> LtvResult {
    let orders_per_customer = match (figures.orders, figures.customers) {
        (Some(orders), Some(customers)) if customers > 0.0 => Some(orders / customers),
        _ => None,
    };
    let value = match (figures.average_order, orders_per_customer) {
        (Some(average), Some(per_customer)) => Some(average * margin * per_customer - cost_to_serve),
        _ => None,
    };
    LtvResult {
        kind: "ltv",
        form: "orders",
        value,
        margin,
        average_order: figures.average_order,
        orders_per_customer,
        cost_to_serve: Some(cost_to_serve),
        arpa: None,
        churn_rate: None,
    }
}

/// Subscription-form LTV from a revenue metric's result: ARPA of its last complete period ×
/// margin ÷ customer churn pooled over its last `churn_window` complete periods.
pub fn subscription_ltv(revenue: Option<&MetricResult>, margin: f64, churn_window: u32) -> LtvResult {
    let arpa = revenue.and_then(|r| r.scalar("arpa_last"));
    let churn_rate = match revenue {
        Some(MetricResult::Revenue(table)) => {
            let complete: Vec<&RevenuePeriod> = table.periods.iter().filter(|p| p.complete).collect();
            let window = &complete[complete.len().saturating_sub(churn_window as usize)..];
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

/// CAC payback in periods of the revenue metric's grain: CAC ÷ (ARPA × margin).
pub fn payback(metric: &Payback, results: &BTreeMap<String, MetricResult>) -> PaybackResult {
    let revenue = results.get(&metric.revenue);
    let arpa = revenue.and_then(|r| r.scalar("arpa_last"));
    let unit = match revenue {
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
