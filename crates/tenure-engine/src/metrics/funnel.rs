//! `type = "funnel"`: of a cohort's members, those who went through ordered steps within a
//! window of their start (docs/config.md, `type = "funnel"`).

use tenure_plan::Funnel;
use tenure_plan::funnel::{
    FunnelCounts, FunnelResult, FunnelRow, FunnelSegmentTotal, FunnelTotal, StepCounts,
};

use super::activation::median_micros;
use super::cohort::NO_GROUP;
use crate::Dataset;
use crate::calendar::{Clock, add_calendar};

/// What one member did: whether its window is over, and when it reached each step.
struct Walk {
    group: usize,
    eligible: bool,
    /// Per step, the time it was reached (µs), `None` once a step was missed.
    reached: Vec<Option<i64>>,
    t0: i64,
}

/// Counts one funnel table.
pub fn evaluate(data: &Dataset, metric: &Funnel) -> FunnelResult {
    let cohort = &data.plan.cohorts[metric.cohort];
    let assignment = data.assignment(metric.cohort);
    let store = &data.store;
    let mut clock = Clock::new(data.plan.project.timezone);
    let deadline: Vec<i64> = (0..store.entities.len())
        .map(|entity| match assignment.group_of[entity] {
            NO_GROUP => i64::MIN,
            _ => add_calendar(&mut clock, assignment.t0[entity], metric.within),
        })
        .collect();
    // Step k is the first of its event at or after step k − 1 (t0 for the first step), within
    // the window and on or before as_of.
    let mut previous: Vec<i64> = assignment.t0.clone();
    let mut steps: Vec<Vec<i64>> = Vec::new();
    for event in &metric.steps {
        let first = super::first_in_window(data, *event, |entity| {
            match (assignment.group_of[entity], previous[entity]) {
                (NO_GROUP, _) | (_, i64::MAX) => (i64::MAX, i64::MIN),
                (_, from) => (from, deadline[entity]),
            }
        });
        previous.clone_from(&first);
        steps.push(first);
    }
    let walks: Vec<Walk> = assignment
        .members()
        .map(|entity| Walk {
            group: assignment.group_of[entity] as usize,
            eligible: super::over_by_as_of(data, &mut clock, deadline[entity]),
            reached: steps
                .iter()
                .map(|times| (times[entity] != i64::MAX).then_some(times[entity]))
                .collect(),
            t0: assignment.t0[entity],
        })
        .collect();
    let names: Vec<String> = metric
        .steps
        .iter()
        .map(|event| data.plan.events[*event].name.clone())
        .collect();
    let mut by_group: Vec<Vec<&Walk>> = vec![Vec::new(); assignment.groups.len()];
    for walk in &walks {
        by_group[walk.group].push(walk);
    }
    let counts_of = |pick: &dyn Fn(usize) -> bool| {
        let chosen: Vec<&Walk> = (0..by_group.len())
            .filter(|group| pick(*group))
            .flat_map(|group| by_group[group].iter().copied())
            .collect();
        let steps = (0..metric.steps.len())
            .map(|k| {
                let mut delays: Vec<i64> = Vec::new();
                let mut counts = StepCounts::default();
                for walk in &chosen {
                    let Some(time) = walk.reached[k] else { continue };
                    let before = if k == 0 {
                        walk.t0
                    } else {
                        walk.reached[k - 1].unwrap_or(walk.t0)
                    };
                    counts.reached += 1;
                    counts.reached_eligible += u64::from(walk.eligible);
                    delays.push(time - before);
                }
                counts.median_micros = median_micros(&mut delays);
                counts
            })
            .collect();
        FunnelCounts {
            size: chosen.len() as u64,
            eligible: chosen.iter().filter(|walk| walk.eligible).count() as u64,
            steps,
        }
    };
    let cohorts = assignment
        .groups
        .iter()
        .enumerate()
        .map(|(group, key)| {
            FunnelRow::from_counts(
                data.calendar.period_label(cohort.grain, key.period),
                key.segment.clone(),
                &names,
                &counts_of(&|g| g == group),
            )
        })
        .collect();
    let values = assignment.segment_values();
    let totals = (!cohort.by.is_empty()).then(|| {
        values
            .iter()
            .map(|value| FunnelSegmentTotal {
                segment: (*value).clone(),
                total: FunnelTotal::from_counts(
                    &names,
                    &counts_of(&|group| assignment.groups[group].segment.as_ref() == Some(*value)),
                ),
            })
            .collect()
    });
    FunnelResult {
        kind: "funnel",
        within: metric.within.to_string(),
        steps: names.clone(),
        cohorts,
        total: FunnelTotal::from_counts(&names, &counts_of(&|_| true)),
        totals,
    }
}
