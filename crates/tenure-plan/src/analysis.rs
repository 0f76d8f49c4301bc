//! What every backend needs to know about a plan before it evaluates it: which columns the plan
//! reads, and in which order its metrics are computed.

use std::collections::BTreeSet;

use crate::{Expr, Field, MetricKind, Plan};

impl Plan {
    /// Every field any expression of the plan reads, and every `by` key (which are fields too).
    fn for_each_field(&self, visit: &mut impl FnMut(&Field)) {
        if let Some(exclude) = &self.quality.exclude {
            exclude.for_each_field(visit);
        }
        for event in &self.events {
            event.filter.for_each_field(visit);
            if let Some(amount) = &event.amount {
                amount.for_each_field(visit);
            }
        }
        for cohort in &self.cohorts {
            if let crate::CohortStart::Attribute(column) = &cohort.start {
                visit(&Field::Attr(column.clone()));
            }
            if let Some(filter) = &cohort.filter {
                filter.for_each_field(visit);
            }
            cohort.by.iter().for_each(&mut *visit);
        }
        for metric in &self.metrics {
            match &metric.kind {
                MetricKind::Revenue(revenue) => {
                    if let Some(spread) = &revenue.spread {
                        spread.for_each_field(visit);
                    }
                    revenue.by.iter().for_each(&mut *visit);
                }
                MetricKind::CohortRevenue(revenue) => {
                    if let Some(spread) = &revenue.spread {
                        spread.for_each_field(visit);
                    }
                }
                MetricKind::Lifecycle(lifecycle) => lifecycle.by.iter().for_each(&mut *visit),
                MetricKind::Winback(winback) => winback.by.iter().for_each(&mut *visit),
                MetricKind::Health(health) => {
                    health.by.iter().for_each(&mut *visit);
                    for component in &health.components {
                        match &component.signal {
                            crate::Signal::Latest { value, .. } => value.for_each_field(visit),
                            crate::Signal::Attribute(field) => visit(field),
                            _ => {}
                        }
                    }
                }
                MetricKind::Survey(survey) => {
                    survey.score.for_each_field(visit);
                    survey.by.iter().for_each(&mut *visit);
                }
                MetricKind::Uplift(uplift) => match &uplift.groups {
                    crate::UpliftGroups::Attribute(field) => visit(field),
                    crate::UpliftGroups::Assignment { variant, .. } => visit(variant),
                },
                _ => {}
            }
        }
    }

    /// The names of the fields `pick` accepts, over every field the plan reads.
    fn columns(&self, pick: impl Fn(&Field) -> Option<&String>) -> BTreeSet<String> {
        let mut columns = BTreeSet::new();
        self.for_each_field(&mut |field| {
            if let Some(name) = pick(field) {
                columns.insert(name.clone());
            }
        });
        columns
    }

    /// The event sources' property columns (`props.*`) the plan reads.
    pub fn property_columns(&self) -> BTreeSet<String> {
        self.columns(|field| match field {
            Field::Prop(name) => Some(name),
            _ => None,
        })
    }

    /// The entity source's attribute columns (`attr.*`) the plan reads.
    pub fn attribute_columns(&self) -> BTreeSet<String> {
        self.columns(|field| match field {
            Field::Attr(name) => Some(name),
            _ => None,
        })
    }

    /// Property columns used directly as a value event's amount: their values must be numbers
    /// (a value that is not counts as a `bad_amount` row).
    pub fn amount_columns(&self) -> BTreeSet<String> {
        self.events
            .iter()
            .filter_map(|event| match &event.amount {
                Some(Expr::Field(Field::Prop(name))) => Some(name.clone()),
                _ => None,
            })
            .collect()
    }

    /// The fields metric `kind` breaks its figures down by: its cohort's `by`, or its own.
    pub fn breakdown<'a>(&'a self, kind: &'a MetricKind) -> &'a [Field] {
        match kind {
            MetricKind::Retention(retention) => &self.cohorts[retention.cohort].by,
            MetricKind::Activation(activation) => &self.cohorts[activation.cohort].by,
            MetricKind::CohortRevenue(revenue) => &self.cohorts[revenue.cohort].by,
            MetricKind::Funnel(funnel) => &self.cohorts[funnel.cohort].by,
            MetricKind::Formula(formula) => formula.cohort.map_or(&[], |cohort| &self.cohorts[cohort].by),
            MetricKind::Revenue(revenue) => &revenue.by,
            MetricKind::Lifecycle(lifecycle) => &lifecycle.by,
            MetricKind::Winback(winback) => &winback.by,
            MetricKind::Health(health) => &health.by,
            MetricKind::Survey(survey) => &survey.by,
            MetricKind::Uplift(uplift) => self
                .uplift_retention(uplift)
                .map_or(&[], |retention| &self.cohorts[retention.cohort].by),
            MetricKind::Crr(_) | MetricKind::Stickiness(_) | MetricKind::Ltv(_) | MetricKind::Payback(_) => {
                &[]
            }
        }
    }

    /// The segments among `fields` that are labelled at each period's start
    /// ([`crate::SegmentDef::at_period_start`]).
    pub fn period_start_segments<'a>(&'a self, fields: &'a [Field]) -> impl Iterator<Item = &'a str> + 'a {
        fields.iter().filter_map(|field| match field {
            Field::Segment(name) => self
                .segments
                .iter()
                .any(|segment| segment.name == *name && segment.at_period_start)
                .then_some(name.as_str()),
            _ => None,
        })
    }

    /// The retention metric an uplift compares a column of.
    pub fn uplift_retention(&self, uplift: &crate::Uplift) -> Option<&crate::Retention> {
        self.metrics.iter().find_map(|metric| match &metric.kind {
            MetricKind::Retention(retention) if metric.name == uplift.retention => Some(retention),
            _ => None,
        })
    }

    /// Indexes into [`Plan::metrics`] of the metrics to compute for `only` (every metric when
    /// empty), each after the metrics whose scalars it reads.
    pub fn evaluation_order(&self, only: &[String]) -> Vec<usize> {
        let metrics = &self.metrics;
        let mut order = Vec::new();
        let mut visiting = vec![false; metrics.len()];
        fn visit(index: usize, metrics: &[crate::Metric], order: &mut Vec<usize>, visiting: &mut [bool]) {
            if order.contains(&index) || visiting[index] {
                return;
            }
            visiting[index] = true;
            for dependency in metrics[index].kind.dependencies() {
                if let Some(d) = metrics.iter().position(|m| m.name == dependency) {
                    visit(d, metrics, order, visiting);
                }
            }
            order.push(index);
        }
        for (index, metric) in metrics.iter().enumerate() {
            if only.is_empty() || only.contains(&metric.name) {
                visit(index, metrics, &mut order, &mut visiting);
            }
        }
        order
    }
}
