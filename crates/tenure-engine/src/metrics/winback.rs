//! `type = "winback"`: on the first day of each period, the entities dormant for at least
//! `dormant` days, and the share of them back within `within` days (docs/config.md,
//! `type = "winback"`).

use tenure_plan::figures::{Labels, WinbackCounts};
use tenure_plan::{Grain, Segment, Winback, WinbackResult};

use super::cohort::entity_segment;
use crate::Dataset;
use crate::eval::Compiled;

/// Computes one win-back table, and one per breakdown value with `by`.
pub fn evaluate(data: &Dataset, metric: &Winback) -> WinbackResult {
    let store = &data.store;
    let calendar = data.calendar;
    // Each entity's distinct days with the event, up to `as_of`, sorted.
    let days = super::active_periods(data, metric.active, Grain::Day);
    let labels = Labels {
        grain: metric.grain,
        week_start: calendar.week_start,
    };
    // The dates counted: the first day of every period that starts after the first event day,
    // through the period of `as_of`.
    let first = days.iter().map(|(_, day)| *day).min();
    let last = calendar.period_index(metric.grain, data.as_of_day);
    let periods: Vec<(i32, i32)> = first
        .map(|day| calendar.period_index(metric.grain, day) + 1..=last)
        .into_iter()
        .flatten()
        .map(|period| (period, calendar.period_first_day(metric.grain, period)))
        .collect();
    let table = |days: &[(u32, i32)]| count(days, &periods, metric, data.as_of_day);
    let overall = table(&days);
    let segments = (!metric.by.is_empty()).then(|| {
        let keys = Compiled::fields(&metric.by, store);
        let mut groups: Vec<(Segment, Vec<(u32, i32)>)> = Vec::new();
        for entity_days in days.chunk_by(|a, b| a.0 == b.0) {
            let segment = entity_segment(&keys, store, entity_days[0].0);
            match groups.iter_mut().find(|(known, _)| *known == segment) {
                Some((_, pairs)) => pairs.extend_from_slice(entity_days),
                None => groups.push((segment, entity_days.to_vec())),
            }
        }
        groups.sort_by(|a, b| a.0.sort_cmp(&b.0));
        groups
            .into_iter()
            .map(|(segment, pairs)| (segment, table(&pairs)))
            .collect()
    });
    WinbackResult::from_counts(metric, &overall, segments, labels)
}

/// The counts of each period in `periods` ((index, first day), ascending) over `days`, (entity,
/// day) pairs sorted by entity then day, without repeats.
///
/// Between two consecutive event days `previous < next` of an entity, the last event day before
/// a date `s` is `previous` for every `s` in `previous + 1 ..= next`; the entity is dormant on
/// `s` when `s − previous ≥ dormant`, and back within the window when `next ≤ s + within − 1`.
/// After its last event day, it is dormant from `last + dormant` on and not back.
fn count(
    days: &[(u32, i32)],
    periods: &[(i32, i32)],
    metric: &Winback,
    as_of_day: i32,
) -> Vec<WinbackCounts> {
    let (dormant, within) = (metric.dormant_days as i32, metric.within_days as i32);
    let mut counts: Vec<WinbackCounts> = periods
        .iter()
        .map(|(period, start)| WinbackCounts {
            period: *period,
            complete: start + within - 1 <= as_of_day,
            ..WinbackCounts::default()
        })
        .collect();
    for entity_days in days.chunk_by(|a, b| a.0 == b.0) {
        for (index, (_, previous)) in entity_days.iter().enumerate() {
            let next = entity_days.get(index + 1).map(|(_, day)| *day);
            let from = previous + dormant;
            let to = next.unwrap_or(as_of_day);
            if from > to {
                continue;
            }
            let first = periods.partition_point(|(_, start)| *start < from);
            for (row, (_, start)) in periods.iter().enumerate().skip(first) {
                if *start > to {
                    break;
                }
                counts[row].dormant += 1;
                counts[row].returned += u64::from(next.is_some_and(|next| next < start + within));
            }
        }
    }
    counts
}
