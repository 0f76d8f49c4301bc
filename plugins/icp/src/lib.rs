//! Ideal Customer Profile fit: weighted rules over entity attributes and the value event's
//! monetary sum; the score is the sum of the weights of the rules an entity meets.
//!
//! Params (JSON):
//!
//! ```json
//! {"rules": [
//!    {"attr": "industry", "in": ["software", "fintech"], "weight": 2},
//!    {"attr": "employees", "min": 50, "max": 5000, "weight": 1},
//!    {"attr": "country", "in": ["US", "DE", "GB"], "weight": 1},
//!    {"monetary_min": 500, "weight": 1}],
//!  "fit": 4, "partial": 2}
//! ```
//!
//! A rule names an attribute with `in` (text values) and/or `min`/`max` (numbers, inclusive), or
//! uses `monetary_min` (the monetary sum over the segment's value event). A missing attribute
//! never matches. Labels: `fit` when the score ≥ `fit`, `partial` when ≥ `partial`, else `no-fit`.

use serde::Deserialize;
use tenure_plugin::{Batch, Labels, SegmentPlugin, export_segment_plugin};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rule {
    attr: Option<String>,
    #[serde(rename = "in")]
    one_of: Option<Vec<String>>,
    min: Option<f64>,
    max: Option<f64>,
    monetary_min: Option<f64>,
    #[serde(default = "one")]
    weight: f64,
}

fn one() -> f64 {
    1.0
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Params {
    rules: Vec<Rule>,
    fit: f64,
    partial: f64,
}

/// The ICP plugin's state: its rules and thresholds.
pub struct Icp {
    params: Params,
}

impl SegmentPlugin for Icp {
    const NAME: &'static str = "icp";

    fn new(params: &str) -> Result<Self, String> {
        let params: Params = serde_json::from_str(params).map_err(|e| format!("invalid icp params: {e}"))?;
        if params.rules.is_empty() {
            return Err("`rules` is empty".into());
        }
        for (index, rule) in params.rules.iter().enumerate() {
            let on_attribute =
                rule.attr.is_some() && (rule.one_of.is_some() || rule.min.is_some() || rule.max.is_some());
            let on_money = rule.attr.is_none() && rule.monetary_min.is_some();
            if !(on_attribute || on_money) {
                return Err(format!(
                    "rule {} needs `attr` with `in`, `min` or `max`, or `monetary_min` alone",
                    index + 1
                ));
            }
        }
        if params.partial > params.fit {
            return Err(format!(
                "`partial` ({}) is above `fit` ({})",
                params.partial, params.fit
            ));
        }
        Ok(Icp { params })
    }

    fn classify(&self, batch: &Batch<'_>, labels: &mut Labels<'_>) -> Result<(), String> {
        let columns: Vec<_> = self
            .params
            .rules
            .iter()
            .map(|rule| rule.attr.as_deref().and_then(|name| batch.attribute(name)))
            .collect();
        for i in 0..batch.len() {
            let mut score = 0.0;
            for (rule, column) in self.params.rules.iter().zip(&columns) {
                let met = match (&rule.attr, column) {
                    (None, _) => rule.monetary_min.is_some_and(|min| batch.monetary(i) >= min),
                    (Some(_), None) => false,
                    (Some(_), Some(column)) => {
                        let in_list = rule
                            .one_of
                            .as_ref()
                            .is_none_or(|list| column.text(i).is_some_and(|v| list.iter().any(|x| *x == *v)));
                        let in_range = if rule.min.is_some() || rule.max.is_some() {
                            column.number(i).is_some_and(|n| {
                                rule.min.is_none_or(|min| n >= min) && rule.max.is_none_or(|max| n <= max)
                            })
                        } else {
                            true
                        };
                        in_list && in_range
                    }
                };
                if met {
                    score += rule.weight;
                }
            }
            let label = if score >= self.params.fit {
                "fit"
            } else if score >= self.params.partial {
                "partial"
            } else {
                "no-fit"
            };
            labels.push(Some(label));
        }
        Ok(())
    }
}

export_segment_plugin!(Icp);
