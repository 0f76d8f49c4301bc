//! `type = "activation"`: value activation rate and time to value (docs/config.md, `type = "activation"`).

use tenure_plan::{Activation, ActivationResult, ActivationRow, ActivationSegmentTotal, ActivationTotal};

use crate::Dataset;
use crate::calendar::{Clock, add_calendar};

/// Computes one activation table.
pub fn evaluate(data: &Dataset, metric: &Activation) -> ActivationResult {
    let cohort = &data.plan.cohorts[metric.cohort];
    let assignment = data.assignment(metric.cohort);
    // The first `reached` at or after t0, up to as_of.
    let first = super::first_in_window(data, metric.reached, |entity| assignment.since_start(entity));
    let mut clock = Clock::new(data.plan.project.timezone);
    let groups = assignment.groups.len();
    let mut size = vec![0u64; groups];
    let mut activated = vec![0u64; groups];
    let mut eligible = vec![0u64; groups];
    let mut activated_eligible = vec![0u64; groups];
    let mut delays: Vec<Vec<i64>> = vec![Vec::new(); groups];
    for entity in assignment.members() {
        let group = assignment.group_of[entity] as usize;
        let t0 = assignment.t0[entity];
        let deadline = add_calendar(&mut clock, t0, metric.within);
        let is_eligible = super::over_by_as_of(data, &mut clock, deadline);
        let is_activated = first[entity] != i64::MAX && first[entity] <= deadline;
        size[group] += 1;
        eligible[group] += u64::from(is_eligible);
        if is_activated {
            activated[group] += 1;
            activated_eligible[group] += u64::from(is_eligible);
            delays[group].push(first[entity] - t0);
        }
    }
    // The total of the groups `pick` selects: counts summed, the median over all their delays.
    let total_of = |pick: &dyn Fn(usize) -> bool| {
        let chosen: Vec<usize> = (0..groups).filter(|group| pick(*group)).collect();
        let sum = |counts: &[u64]| chosen.iter().map(|group| counts[*group]).sum::<u64>();
        let mut all: Vec<i64> = chosen
            .iter()
            .flat_map(|group| delays[*group].iter().copied())
            .collect();
        ActivationTotal::from_counts(
            sum(&size),
            sum(&activated_eligible),
            sum(&eligible),
            median_micros(&mut all),
        )
    };
    let total = total_of(&|_| true);
    let values = assignment.segment_values();
    let totals = (!cohort.by.is_empty()).then(|| {
        values
            .iter()
            .map(|value| ActivationSegmentTotal {
                segment: (*value).clone(),
                total: total_of(&|group| assignment.groups[group].segment.as_ref() == Some(*value)),
            })
            .collect()
    });
    let cohorts = assignment
        .groups
        .iter()
        .enumerate()
        .map(|(group, key)| {
            ActivationRow::from_counts(
                data.calendar.period_label(cohort.grain, key.period),
                key.segment.clone(),
                size[group],
                activated[group],
                eligible[group],
                median_micros(&mut delays[group]),
            )
        })
        .collect();
    ActivationResult {
        kind: "activation",
        within: metric.within.to_string(),
        cohorts,
        total,
        totals,
    }
}

/// The median of durations in microseconds; the mean of the middle two for even counts.
pub(crate) fn median_micros(values: &mut [i64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let middle = values.len() / 2;
    Some(if values.len() % 2 == 1 {
        values[middle] as f64
    } else {
        (values[middle - 1] as f64 + values[middle] as f64) / 2.0
    })
}
