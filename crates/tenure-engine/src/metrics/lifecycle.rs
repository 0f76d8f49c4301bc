//! `type = "lifecycle"`: each period's active entities as new, returning and resurrecting, and
//! the entities gone dormant (docs/config.md, `type = "lifecycle"`).

use tenure_plan::figures::{Labels, LifecycleCounts};
use tenure_plan::{Lifecycle, LifecycleResult, Segment};

use super::cohort::entity_segment;
use crate::Dataset;
use crate::eval::Compiled;

/// Computes one lifecycle table, and one per breakdown value with `by`.
pub fn evaluate(data: &Dataset, metric: &Lifecycle) -> LifecycleResult {
    let store = &data.store;
    let calendar = data.calendar;
    let active = super::active_periods(data, metric.active, metric.grain);
    let labels = Labels {
        grain: metric.grain,
        week_start: calendar.week_start,
    };
    let last = calendar.period_index(metric.grain, data.as_of_day);
    let Some(first) = active.iter().map(|(_, period)| *period).min() else {
        let segments = (!metric.by.is_empty()).then(Vec::new);
        return LifecycleResult::from_counts(&[], segments, labels);
    };
    let complete = |period: i32| calendar.period_last_day(metric.grain, period) <= data.as_of_day;
    let overall = table(&active, first, last, complete);
    let segments = (!metric.by.is_empty()).then(|| {
        let keys = Compiled::fields(&metric.by, store);
        let mut groups: Vec<(Segment, Vec<(u32, i32)>)> = Vec::new();
        for periods in active.chunk_by(|a, b| a.0 == b.0) {
            let segment = entity_segment(&keys, store, periods[0].0);
            match groups.iter_mut().find(|(known, _)| *known == segment) {
                Some((_, pairs)) => pairs.extend_from_slice(periods),
                None => groups.push((segment, periods.to_vec())),
            }
        }
        groups.sort_by(|a, b| a.0.sort_cmp(&b.0));
        groups
            .into_iter()
            .map(|(segment, pairs)| (segment, table(&pairs, first, last, complete)))
            .collect()
    });
    LifecycleResult::from_counts(&overall, segments, labels)
}

/// The counts of periods `first ..= last` from `active`, (entity, period) pairs sorted by
/// entity then period, without repeats.
fn table(
    active: &[(u32, i32)],
    first: i32,
    last: i32,
    complete: impl Fn(i32) -> bool,
) -> Vec<LifecycleCounts> {
    let mut counts: Vec<LifecycleCounts> = (first..=last)
        .map(|period| LifecycleCounts {
            period,
            complete: complete(period),
            ..LifecycleCounts::default()
        })
        .collect();
    let row_of = |period: i32| (period >= first && period <= last).then(|| (period - first) as usize);
    for periods in active.chunk_by(|a, b| a.0 == b.0) {
        for (index, (_, period)) in periods.iter().enumerate() {
            if let Some(row) = row_of(*period) {
                let counts = &mut counts[row];
                match index.checked_sub(1).map(|before| periods[before].1) {
                    None => counts.new += 1,
                    Some(previous) if previous == period - 1 => counts.returning += 1,
                    Some(_) => counts.resurrecting += 1,
                }
            }
            let next = periods.get(index + 1).map(|(_, next)| *next);
            if next != Some(period + 1)
                && let Some(row) = row_of(period + 1)
            {
                counts[row].dormant += 1;
            }
        }
    }
    counts
}
