//! `type = "activation"`: value activation rate and time to value (docs/config.md, `type = "activation"`).

use tenure_plan::{Activation, ActivationResult, ActivationRow, ActivationTotal};

use super::per_entity;
use crate::Dataset;
use crate::calendar::{Clock, add_calendar};

/// Computes one activation table.
pub fn evaluate(data: &Dataset, metric: &Activation) -> ActivationResult {
    let cohort = &data.plan.cohorts[metric.cohort];
    let assignment = data.assignment(metric.cohort);
    let store = &data.store;
    let reached = data.event_mask(metric.reached);
    // The first `reached` at or after t0, per entity.
    let first = per_entity(
        store.len(),
        store.entities.len(),
        i64::MAX,
        |state, row| {
            if !reached[row] || store.day[row] > data.as_of_day {
                return;
            }
            let entity = store.entity[row] as usize;
            if assignment.group_of[entity] == super::cohort::NO_GROUP {
                return;
            }
            let time = store.time[row];
            if time >= assignment.t0[entity] && time < state[entity] {
                state[entity] = time;
            }
        },
        |left, right| *left = (*left).min(right),
    );
    let mut clock = Clock::new(data.plan.project.timezone);
    let groups = assignment.groups.len();
    let mut size = vec![0u64; groups];
    let mut activated = vec![0u64; groups];
    let mut eligible = vec![0u64; groups];
    let mut delays: Vec<Vec<i64>> = vec![Vec::new(); groups];
    let (mut total_activated, mut total_eligible) = (0u64, 0u64);
    for entity in assignment.members() {
        let group = assignment.group_of[entity] as usize;
        let t0 = assignment.t0[entity];
        let deadline = add_calendar(&mut clock, t0, metric.within);
        let is_eligible = deadline != i64::MAX && clock.local_day(deadline) <= data.as_of_day;
        let is_activated = first[entity] != i64::MAX && first[entity] <= deadline;
        size[group] += 1;
        eligible[group] += u64::from(is_eligible);
        total_eligible += u64::from(is_eligible);
        if is_activated {
            activated[group] += 1;
            total_activated += u64::from(is_eligible);
            delays[group].push(first[entity] - t0);
        }
    }
    let mut all_delays: Vec<i64> = delays.iter().flatten().copied().collect();
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
        total: ActivationTotal::from_counts(
            size.iter().sum(),
            total_activated,
            total_eligible,
            median_micros(&mut all_delays),
        ),
    }
}

/// The median of durations in microseconds; the mean of the middle two for even counts.
fn median_micros(values: &mut [i64]) -> Option<f64> {
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
