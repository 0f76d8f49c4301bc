//! `type = "stickiness"`: DAU, WAU, MAU and DAU ÷ MAU per day, and each week's or month's
//! active entities by their number of active days (docs/config.md, `type = "stickiness"`).

use tenure_plan::figures::{ActiveDays, DayCounts, Labels};
use tenure_plan::time::period_length;
use tenure_plan::{Grain, Stickiness, StickinessResult};

use crate::Dataset;

/// Days in the rolling windows of WAU and MAU, each ending on the day it is counted for.
const WEEK_DAYS: i32 = 7;
const MONTH_DAYS: i32 = 30;

/// Computes one stickiness table.
pub fn evaluate(data: &Dataset, metric: &Stickiness) -> StickinessResult {
    let calendar = data.calendar;
    let labels = Labels {
        grain: metric.grain,
        week_start: calendar.week_start,
    };
    // Distinct (entity, day) pairs of activity, sorted by entity then day.
    let active = super::active_periods(data, metric.active, Grain::Day);
    let Some(first) = active.iter().map(|(_, day)| *day).min() else {
        return StickinessResult::from_counts(&[], &[], metric.at_least, labels);
    };
    let last = data.as_of_day;
    let days = (last - first + 1) as usize;
    let mut dau = vec![0u64; days];
    // Each entity adds 1 to the days its windows cover, once however many of its active days
    // cover a day: differences at the start and after the end of each newly covered stretch.
    let mut week_changes = vec![0i64; days + 1];
    let mut month_changes = vec![0i64; days + 1];
    let cover = |changes: &mut [i64], covered_until: &mut i32, day: i32, length: i32| {
        let from = day.max(*covered_until + 1);
        let to = (day + length - 1).min(last);
        if from <= to {
            changes[(from - first) as usize] += 1;
            changes[(to - first + 1) as usize] -= 1;
        }
        *covered_until = (*covered_until).max(day + length - 1);
    };
    for entity_days in active.chunk_by(|a, b| a.0 == b.0) {
        let (mut week_until, mut month_until) = (i32::MIN / 2, i32::MIN / 2);
        for &(_, day) in entity_days {
            dau[(day - first) as usize] += 1;
            cover(&mut week_changes, &mut week_until, day, WEEK_DAYS);
            cover(&mut month_changes, &mut month_until, day, MONTH_DAYS);
        }
    }
    let (mut wau, mut mau) = (0i64, 0i64);
    let daily: Vec<DayCounts> = (0..days)
        .map(|index| {
            wau += week_changes[index];
            mau += month_changes[index];
            DayCounts {
                day: first + index as i32,
                dau: dau[index],
                wau: wau as u64,
                mau: mau as u64,
            }
        })
        .collect();
    // Each period's active entities by their count of active days in it.
    let period_of = |day: i32| calendar.period_index(metric.grain, day);
    let (first_period, last_period) = (period_of(first), period_of(last));
    let mut periods: Vec<ActiveDays> = (first_period..=last_period)
        .map(|period| ActiveDays {
            period,
            complete: calendar.period_last_day(metric.grain, period) <= last,
            counts: vec![0; period_length(metric.grain, period).max(0) as usize],
        })
        .collect();
    for entity_days in active.chunk_by(|a, b| a.0 == b.0) {
        for in_period in entity_days.chunk_by(|a, b| period_of(a.1) == period_of(b.1)) {
            let row = &mut periods[(period_of(in_period[0].1) - first_period) as usize];
            row.counts[in_period.len() - 1] += 1;
        }
    }
    StickinessResult::from_counts(&daily, &periods, metric.at_least, labels)
}
