//! `type = "crr"`: classic customer retention rate (E − N) / S (docs/config.md, `type = "crr"`).

use tenure_plan::figures::{CrrCounts, Labels};
use tenure_plan::{Crr, CrrResult};

use crate::Dataset;

/// Computes one CRR table.
pub fn evaluate(data: &Dataset, metric: &Crr) -> CrrResult {
    let calendar = data.calendar;
    let active = super::active_periods(data, metric.active, metric.grain);
    let last = calendar.period_index(metric.grain, data.as_of_day);
    let Some(first) = active.iter().map(|(_, p)| *p).min().filter(|f| *f < last) else {
        return CrrResult::from_counts(
            &[],
            Labels {
                grain: metric.grain,
                week_start: calendar.week_start,
            },
        );
    };
    let rows = (last - first) as usize;
    let (mut start, mut end, mut new) = (vec![0u64; rows], vec![0u64; rows], vec![0u64; rows]);
    let row_of = |period: i32| (period > first && period <= last).then(|| (period - first - 1) as usize);
    for periods in active.chunk_by(|a, b| a.0 == b.0) {
        if let Some(row) = row_of(periods[0].1) {
            new[row] += 1;
        }
        for (_, period) in periods {
            if let Some(row) = row_of(*period) {
                end[row] += 1;
            }
            if let Some(row) = row_of(period + 1) {
                start[row] += 1;
            }
        }
    }
    let counts: Vec<CrrCounts> = (0..rows)
        .map(|row| {
            let period = first + 1 + row as i32;
            CrrCounts {
                period,
                complete: calendar.period_last_day(metric.grain, period) <= data.as_of_day,
                start: start[row],
                end: end[row],
                new: new[row],
            }
        })
        .collect();
    let labels = Labels {
        grain: metric.grain,
        week_start: calendar.week_start,
    };
    CrrResult::from_counts(&counts, labels)
}
