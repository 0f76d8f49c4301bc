//! The in-process backend of tenure.
//!
//! [`Dataset::load`] reads the plan's sources into a columnar store in memory, applying
//! the quality rules and counting every row; [`Dataset::evaluate`] computes metrics over it with
//! rayon. Results are independent of row order and thread count: per-entity states merge with
//! order-free operations (min, max, or), and ties are broken by row content.

pub(crate) mod calendar;
pub(crate) mod codes;
pub mod error;
pub(crate) mod eval;
pub(crate) mod load;
pub(crate) mod memory;
pub(crate) mod metrics;
pub(crate) mod plugin_file;
pub mod progress;
pub(crate) mod recent_texts;
pub(crate) mod segments;
pub(crate) mod store;
#[cfg(test)]
mod test_random;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use rayon::prelude::*;
use tenure_plan::{Field, InputSummary, MetricKind, MetricResult, Plan, Report, SourceSummary};

pub use error::EngineError;
pub use load::{Inputs, JsonLinesKeys, LoadOptions, inspect_sources};
pub use plugin_file::check_plugins;
pub use segments::{AttributeValues, EntityFigures, label_entities};
pub use tenure_plugin::NO_DAY;

use calendar::Calendar;
use store::EventStore;

/// The row accounting of a run: per source, and totals over the event sources.
fn input_summary(counts: &load::LoadCounts, excluded_by_source: &[u64]) -> InputSummary {
    let mut input = InputSummary {
        rejected: tenure_plan::RejectReason::zero_counts(),
        ..InputSummary::default()
    };
    for (source, excluded) in counts.sources.iter().zip(excluded_by_source) {
        let kept = source.rows - source.rejected_total() - source.duplicates - excluded;
        let summary = SourceSummary {
            kind: source.kind,
            rows: source.rows,
            rejected: source.rejected.clone(),
            duplicates: source.duplicates,
            excluded: *excluded,
            kept,
        };
        if source.kind == "events" {
            input.rows += summary.rows;
            for (reason, n) in &summary.rejected {
                *input.rejected.entry(*reason).or_insert(0) += n;
            }
            input.duplicates += summary.duplicates;
            input.excluded += summary.excluded;
            input.kept += summary.kept;
        }
        input.sources.insert(source.name.clone(), summary);
    }
    input
}

/// Loaded, cleaned event data, ready for any number of metrics.
pub struct Dataset {
    /// The plan the data was loaded for.
    pub(crate) plan: Plan,
    /// Kept rows.
    pub(crate) store: EventStore,
    /// Row accounting.
    input: InputSummary,
    /// Observation end as a local day.
    pub(crate) as_of_day: i32,
    /// The earliest local day of any kept row.
    pub(crate) first_day: i32,
    /// The project's calendar.
    pub(crate) calendar: Calendar,
    masks: Mutex<BTreeMap<usize, Arc<Vec<bool>>>>,
    assignments: Mutex<BTreeMap<usize, Arc<metrics::cohort::Assignment>>>,
    /// Why each failed segment failed, by segment name.
    segment_errors: BTreeMap<String, String>,
    /// The labels at each period's start of the segments labelled so, one entry per grain a
    /// breakdown reads them at.
    period_start_labels: Vec<segments::PeriodStartLabels>,
}

impl Dataset {
    /// Reads every source of `plan` and applies its quality rules.
    pub fn load(plan: &Plan) -> Result<Dataset, EngineError> {
        Dataset::load_with_progress(plan, &progress::NoProgress)
    }

    /// [`Dataset::load`], reporting how far reading has got to `progress`.
    pub fn load_with_progress(
        plan: &Plan,
        progress: &dyn progress::ReadProgress,
    ) -> Result<Dataset, EngineError> {
        Dataset::load_with_inputs(plan, progress, &Inputs::new(), LoadOptions::default())
    }

    /// [`Dataset::load_with_progress`], reading the sources `inputs` holds from its record
    /// batches instead of their files or tables, with its work split as `options` says.
    pub fn load_with_inputs(
        plan: &Plan,
        progress: &dyn progress::ReadProgress,
        inputs: &Inputs,
        options: LoadOptions,
    ) -> Result<Dataset, EngineError> {
        let load::Loaded {
            mut store,
            counts,
            duplicates,
        } = load::load(
            plan,
            &plan.property_columns(),
            &plan.amount_columns(),
            progress,
            inputs,
            options,
        )?;
        if progress.stop_requested() {
            return Err(EngineError::Stopped);
        }
        // Duplicates go first, then the exclude rule over the rows left; both are dropped from
        // the store in one pass.
        let mut excluded_by_source = vec![0u64; counts.sources.len()];
        let excluded = plan
            .quality
            .exclude
            .as_ref()
            .map(|exclude| eval::row_mask(exclude, &store));
        let dropped: Option<Vec<bool>> = match (duplicates, excluded) {
            (None, None) => None,
            (Some(duplicates), None) => Some(duplicates),
            (duplicates, Some(mut excluded)) => {
                // A duplicate is counted as such, not as excluded too.
                if let Some(duplicates) = &duplicates {
                    excluded
                        .par_iter_mut()
                        .zip(duplicates)
                        .for_each(|(excluded, duplicate)| *excluded &= !duplicate);
                }
                for (source, count) in counts.sources.iter().zip(&mut excluded_by_source) {
                    *count = excluded[source.stored.clone()].par_iter().filter(|e| **e).count() as u64;
                }
                if let Some(duplicates) = duplicates {
                    excluded
                        .par_iter_mut()
                        .zip(duplicates)
                        .for_each(|(drop, duplicate)| *drop |= duplicate);
                }
                Some(excluded)
            }
        };
        if let Some(dropped) = dropped {
            store.drop_rows(&dropped);
        }
        let first_day = store.day.par_iter().copied().min().unwrap_or(0);
        let last_day = store.day.par_iter().copied().max().unwrap_or(0);
        let as_of_day = plan
            .project
            .as_of
            .map_or(last_day, tenure_plan::time::days_from_date);
        let mut has_entity = metrics::per_entity(
            store.len(),
            store.entities.len(),
            false,
            |seen, row| seen[store.entity[row] as usize] = true,
            |left, right| *left |= right,
        );
        if plan.entity_source.is_some() {
            // Entities from the attribute source exist even without events.
            has_entity.iter_mut().for_each(|e| *e = true);
        }
        let mut input = input_summary(&counts, &excluded_by_source);
        input.entities = has_entity.iter().filter(|e| **e).count() as u64;
        let mut dataset = Dataset {
            plan: plan.clone(),
            store,
            input,
            as_of_day,
            first_day,
            calendar: Calendar {
                week_start: plan.project.week_start,
            },
            masks: Mutex::new(BTreeMap::new()),
            assignments: Mutex::new(BTreeMap::new()),
            segment_errors: BTreeMap::new(),
            period_start_labels: Vec::new(),
        };
        // Segments are labels per entity from plugins; a plugin that fails fails only the
        // metrics whose cohorts use its segment.
        for segment in &plan.segments {
            match segments::compute(&dataset, segment) {
                Ok(column) => dataset.store.segments.push((segment.name.clone(), column)),
                Err(error) => {
                    dataset.segment_errors.insert(segment.name.clone(), error);
                }
            }
        }
        dataset.label_at_period_starts();
        Ok(dataset)
    }

    /// Labels the segments labelled at each period's start, at the start of every period of
    /// each grain a breakdown reads them at: a cohort's grain, a revenue metric's grain.
    fn label_at_period_starts(&mut self) {
        let plan = &self.plan;
        let mut grains: Vec<tenure_plan::Grain> = Vec::new();
        let breakdowns = plan
            .cohorts
            .iter()
            .map(|cohort| (cohort.grain, &cohort.by))
            .chain(plan.metrics.iter().filter_map(|metric| match &metric.kind {
                MetricKind::Revenue(revenue) => Some((revenue.grain, &revenue.by)),
                _ => None,
            }));
        for (grain, by) in breakdowns {
            if plan.period_start_segments(by).next().is_some() && !grains.contains(&grain) {
                grains.push(grain);
            }
        }
        let segments: Vec<&tenure_plan::SegmentDef> = plan
            .segments
            .iter()
            .filter(|segment| segment.at_period_start && !self.segment_errors.contains_key(&segment.name))
            .collect();
        let computed: Vec<_> = grains
            .into_iter()
            .map(|grain| segments::PeriodStartLabels::compute(self, grain, &segments))
            .collect();
        for result in computed {
            match result {
                Ok(labels) => self.period_start_labels.push(labels),
                Err((segment, error)) => {
                    self.segment_errors.insert(segment, error);
                }
            }
        }
    }

    /// The labels at the start of each period of `grain`, when a breakdown at that grain reads
    /// a segment labelled so.
    pub(crate) fn labels_at_period_start(
        &self,
        grain: tenure_plan::Grain,
    ) -> Option<&segments::PeriodStartLabels> {
        self.period_start_labels
            .iter()
            .find(|labels| labels.grain() == grain)
    }

    /// Rows that are occurrences of value event `event` (computed once, then cached).
    pub fn event_mask(&self, event: usize) -> Arc<Vec<bool>> {
        if let Some(mask) = self.masks.lock().map(|m| m.get(&event).cloned()).ok().flatten() {
            return mask;
        }
        let mask = Arc::new(eval::row_mask(&self.plan.events[event].filter, &self.store));
        if let Ok(mut masks) = self.masks.lock() {
            masks.insert(event, mask.clone());
        }
        mask
    }

    /// The entities of cohort `cohort` placed in its rows (computed once, then cached: several
    /// metrics usually share a cohort).
    pub fn assignment(&self, cohort: usize) -> Arc<metrics::cohort::Assignment> {
        if let Some(found) = self
            .assignments
            .lock()
            .map(|a| a.get(&cohort).cloned())
            .ok()
            .flatten()
        {
            return found;
        }
        let assignment = Arc::new(metrics::cohort::assign(self, &self.plan.cohorts[cohort]));
        if let Ok(mut assignments) = self.assignments.lock() {
            assignments.insert(cohort, assignment.clone());
        }
        assignment
    }

    /// How the input rows were accounted for.
    pub fn input(&self) -> &InputSummary {
        &self.input
    }

    /// Every entity's label of segment `name`, by entity id in ascending order (`None` where
    /// the plugin gave no label); why not, when the segment is unknown or its plugin failed.
    pub fn segment_labels(&self, name: &str) -> Result<Vec<(String, Option<String>)>, String> {
        if let Some(error) = self.segment_errors.get(name) {
            return Err(error.clone());
        }
        let Some((_, column)) = self.store.segments.iter().find(|(n, _)| n == name) else {
            return Err(format!("no segment named `{name}`"));
        };
        let mut labels: Vec<(String, Option<String>)> = self
            .store
            .entities
            .values()
            .iter()
            .enumerate()
            .map(|(entity, id)| {
                let label = match eval::column_value(column, entity) {
                    eval::Val::Str(text) => Some(text.into_owned()),
                    _ => None,
                };
                (id.to_string(), label)
            })
            .collect();
        labels.sort();
        Ok(labels)
    }

    /// Why each segment whose plugin failed failed, by segment name.
    pub fn segment_errors(&self) -> &BTreeMap<String, String> {
        &self.segment_errors
    }

    /// Observation end as `YYYY-MM-DD`.
    pub fn as_of(&self) -> String {
        calendar::day_label(self.as_of_day)
    }

    /// Computes one metric of the plan by name (and the metrics it reads, not returned).
    pub fn evaluate_metric(&self, name: &str) -> Option<MetricResult> {
        self.evaluate(&[name.to_string()]).metrics.remove(name)
    }

    /// Computes the named metrics (all when `only` is empty) into a report.
    ///
    /// Metrics that formulas read are computed first, even when not asked for.
    pub fn evaluate(&self, only: &[String]) -> Report {
        self.evaluate_with(only, &progress::NoProgress)
    }

    /// [`Dataset::evaluate`], asking `progress` before each metric whether to stop: the report
    /// then holds only the metrics computed before (the caller that stopped the run knows).
    pub fn evaluate_with(&self, only: &[String], progress: &dyn progress::ReadProgress) -> Report {
        let mut results: BTreeMap<String, MetricResult> = BTreeMap::new();
        for index in self.plan.evaluation_order(only) {
            if progress.stop_requested() {
                break;
            }
            let metric = &self.plan.metrics[index];
            if let Some(error) = self.failed_segment(&metric.kind) {
                let failed = tenure_plan::FailedMetric {
                    kind: metric.kind.type_name().to_string(),
                    error,
                };
                results.insert(metric.name.clone(), MetricResult::Failed(failed));
                continue;
            }
            let result = match &metric.kind {
                MetricKind::Retention(retention) => {
                    MetricResult::Retention(metrics::retention::evaluate(self, retention))
                }
                MetricKind::Activation(activation) => {
                    MetricResult::Activation(metrics::activation::evaluate(self, activation))
                }
                MetricKind::Revenue(revenue) => {
                    MetricResult::Revenue(metrics::revenue::evaluate(self, revenue))
                }
                MetricKind::CohortRevenue(revenue) => {
                    MetricResult::CohortRevenue(metrics::cohort_revenue::evaluate(self, revenue))
                }
                MetricKind::Funnel(funnel) => MetricResult::Funnel(metrics::funnel::evaluate(self, funnel)),
                MetricKind::Crr(crr) => MetricResult::Crr(metrics::crr::evaluate(self, crr)),
                MetricKind::Lifecycle(lifecycle) => {
                    MetricResult::Lifecycle(metrics::lifecycle::evaluate(self, lifecycle))
                }
                MetricKind::Stickiness(stickiness) => {
                    MetricResult::Stickiness(metrics::stickiness::evaluate(self, stickiness))
                }
                MetricKind::Survey(survey) => MetricResult::Survey(metrics::survey::evaluate(self, survey)),
                MetricKind::Health(health) => MetricResult::Health(metrics::health::evaluate(self, health)),
                MetricKind::Winback(winback) => {
                    MetricResult::Winback(metrics::winback::evaluate(self, winback))
                }
                MetricKind::Uplift(uplift) => match self.plan.uplift_retention(uplift) {
                    Some(retention) => {
                        MetricResult::Uplift(metrics::uplift::evaluate(self, uplift, retention))
                    }
                    None => MetricResult::Failed(tenure_plan::FailedMetric {
                        kind: "uplift".to_string(),
                        error: format!("retention metric `{}` is not in the plan", uplift.retention),
                    }),
                },
                MetricKind::Formula(formula) => {
                    MetricResult::Formula(metrics::formula::evaluate(self, formula, &results))
                }
                MetricKind::Ltv(ltv) => MetricResult::Ltv(metrics::value::ltv(self, ltv, &results)),
                MetricKind::Payback(payback) => {
                    MetricResult::Payback(metrics::value::payback(payback, &results))
                }
            };
            results.insert(metric.name.clone(), result);
        }
        results.retain(|name, _| only.is_empty() || only.contains(name));
        Report {
            tenure: env!("CARGO_PKG_VERSION").to_string(),
            backend: "engine".to_string(),
            as_of: self.as_of(),
            input: self.input.clone(),
            metrics: results,
        }
    }

    /// The error of a failed segment the metric's cohort uses, if any.
    fn failed_segment(&self, kind: &MetricKind) -> Option<String> {
        let cohort = match kind {
            MetricKind::Retention(r) => Some(r.cohort),
            MetricKind::Activation(a) => Some(a.cohort),
            MetricKind::CohortRevenue(r) => Some(r.cohort),
            MetricKind::Funnel(f) => Some(f.cohort),
            MetricKind::Formula(f) => f.cohort,
            _ => None,
        };
        let fields = match (kind, cohort) {
            (_, Some(cohort)) => {
                let cohort = &self.plan.cohorts[cohort];
                let mut fields = cohort.by.clone();
                if let Some(filter) = &cohort.filter {
                    fields.extend(filter.fields());
                }
                fields
            }
            (MetricKind::Revenue(revenue), None) => revenue.by.clone(),
            (MetricKind::Lifecycle(lifecycle), None) => lifecycle.by.clone(),
            _ => return None,
        };
        fields.iter().find_map(|field| match field {
            Field::Segment(name) => self.segment_errors.get(name).cloned(),
            _ => None,
        })
    }
}

/// The in-process backend: loads the plan's files into memory and evaluates with rayon.
#[derive(Debug, Clone, Copy, Default)]
pub struct InProcess;

impl tenure_plan::Backend for InProcess {
    type Error = EngineError;

    fn evaluate(&self, plan: &Plan, metrics: &[String]) -> Result<Report, EngineError> {
        Ok(Dataset::load(plan)?.evaluate(metrics))
    }
}
