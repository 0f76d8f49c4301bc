//! `type = "revenue"`: MRR movements, NRR, GRR, revenue and customer churn (docs/config.md, `type = "revenue"`).

use rayon::prelude::*;
use tenure_plan::figures::{Labels, Movements};
use tenure_plan::{Duration, DurationUnit, Expr, Grain, Revenue, RevenueResult, RevenueSegment, Segment};

use super::amount::AmountReader;
use super::cohort::{entity_segment, entity_segment_at};
use crate::Dataset;
use crate::calendar::{add_calendar_days, month_index};
use crate::eval::{CHUNK_ROWS, Compiled};
use crate::segments::PeriodStartLabels;
use std::collections::HashMap;

/// Revenue of one entity in one period, in micro-units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cell {
    /// Entity code.
    pub entity: u32,
    /// Period index of the grain.
    pub period: i32,
    /// Revenue in micro-units.
    pub micros: i128,
}

/// r(e, p) of value event `event` at `grain`, for every entity and period with revenue, sorted by
/// entity then period; with `spread`, each payment spread over the months it covers (periods
/// after `as_of` included).
pub fn revenue_cells(data: &Dataset, event: usize, grain: Grain, spread: Option<&Expr>) -> Vec<Cell> {
    let store = &data.store;
    let mask = data.event_mask(event);
    let Some(amount) = data.plan.events[event].amount.as_ref() else {
        return Vec::new();
    };
    let amounts = AmountReader::new(data, amount);
    let months = spread.map(|spread| AmountReader::new(data, spread));
    let chunks = store.len().div_ceil(CHUNK_ROWS);
    let mut cells: Vec<Cell> = (0..chunks)
        .into_par_iter()
        .flat_map_iter(|chunk| {
            let mut out = Vec::new();
            for row in chunk * CHUNK_ROWS..((chunk + 1) * CHUNK_ROWS).min(store.len()) {
                if !mask[row] || store.day[row] > data.as_of_day {
                    continue;
                }
                let Some(micros) = amounts.micros(row) else {
                    continue;
                };
                let entity = store.entity[row];
                match &months {
                    None => out.push(Cell {
                        entity,
                        period: data.calendar.period_index(grain, store.day[row]),
                        micros,
                    }),
                    Some(months) => {
                        let n = months
                            .number(row)
                            .map_or(1, |m| m.round().clamp(1.0, 1200.0) as i128);
                        if matches!(grain, Grain::Day | Grain::Week) {
                            spread_over_days(data, grain, entity, store.day[row], micros, n, &mut out);
                            continue;
                        }
                        // Spread over n calendar months from the payment's month; the remainder
                        // of the integer division goes to the first months, so nothing is lost.
                        let first = month_index(store.day[row]);
                        let (base, remainder) = (micros.div_euclid(n), micros.rem_euclid(n));
                        for offset in 0..n {
                            let month = first + offset as i32;
                            let period = match grain {
                                Grain::Quarter => month.div_euclid(3),
                                Grain::Year => month.div_euclid(12),
                                _ => month,
                            };
                            out.push(Cell {
                                entity,
                                period,
                                micros: base + i128::from(offset < remainder),
                            });
                        }
                    }
                }
            }
            out
        })
        .collect();
    cells.par_sort_unstable();
    // Merge cells of the same entity and period (exact integer sums).
    cells.dedup_by(|later, kept| {
        if later.entity == kept.entity && later.period == kept.period {
            kept.micros += later.micros;
            true
        } else {
            false
        }
    });
    cells
}

/// The cells of one payment of `micros` on local day `day` covering `months` calendar months,
/// over day or week periods: the payment covers the days from `day` up to the same day
/// `months` later (the month's last day where it has no such day), each covered day takes an
/// equal share in whole micro-units, the first days one more each until the remainder is used
/// up, and a period takes the shares of its covered days (docs/config.md, `spread`).
fn spread_over_days(
    data: &Dataset,
    grain: Grain,
    entity: u32,
    day: i32,
    micros: i128,
    months: i128,
    out: &mut Vec<Cell>,
) {
    let months = Duration {
        count: u32::try_from(months).unwrap_or(1),
        unit: DurationUnit::Month,
    };
    let end = add_calendar_days(day, months);
    let length = i128::from(end - day).max(1);
    let (share, remainder) = (micros.div_euclid(length), micros.rem_euclid(length));
    let mut period = data.calendar.period_index(grain, day);
    loop {
        let first = data.calendar.period_first_day(grain, period).max(day);
        let after = data.calendar.period_first_day(grain, period + 1).min(end);
        if first >= end {
            break;
        }
        // Covered days `low..high`, counted from the payment's day.
        let (low, high) = (i128::from(first - day), i128::from(after - day));
        out.push(Cell {
            entity,
            period,
            micros: (high - low) * share + (high.min(remainder) - low).max(0),
        });
        period += 1;
    }
}

/// The median, over every entity's consecutive periods with revenue above zero, of the periods
/// between them; `None` when no entity paid in two periods.
fn median_billing_gap(cells: &[Cell]) -> Option<f64> {
    let mut gaps: Vec<i64> = cells
        .iter()
        .filter(|c| c.micros > 0)
        .collect::<Vec<_>>()
        .windows(2)
        .filter(|pair| pair[0].entity == pair[1].entity)
        .map(|pair| i64::from(pair[1].period) - i64::from(pair[0].period))
        .collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    let middle = gaps.len() / 2;
    Some(if gaps.len() % 2 == 1 {
        gaps[middle] as f64
    } else {
        (gaps[middle - 1] + gaps[middle]) as f64 / 2.0
    })
}

/// Computes one revenue table, and one per breakdown value with `by`.
pub fn evaluate(data: &Dataset, metric: &Revenue) -> RevenueResult {
    let grain = metric.grain;
    let cells = revenue_cells(data, metric.event, grain, metric.spread.as_ref());
    let last = data.calendar.period_index(grain, data.as_of_day);
    let first = cells.iter().filter(|c| c.micros > 0).map(|c| c.period).min();
    let Some(first) = first.filter(|f| *f < last) else {
        // No period after the first with revenue: an empty table, with the keys of a full one.
        let labels = Labels {
            grain,
            week_start: data.calendar.week_start,
        };
        return RevenueResult::from_movements(&[], labels, metric.window_periods.is_some());
    };
    let mut result = table(data, metric, &cells, first, last, |_, _| true);
    if metric.spread.is_none() {
        result.warn_of_billing_gap(median_billing_gap(&cells));
    }
    if !metric.by.is_empty() {
        result.segments = Some(by_segment(data, metric, &cells, first, last));
    }
    result
}

/// The tables of each breakdown value; every table covers the same periods.
fn by_segment(
    data: &Dataset,
    metric: &Revenue,
    cells: &[Cell],
    first: i32,
    last: i32,
) -> Vec<RevenueSegment> {
    let keys = Compiled::fields(&metric.by, &data.store);
    if data.plan.period_start_segments(&metric.by).next().is_some()
        && let Some(labels) = data.labels_at_period_start(metric.grain)
    {
        return by_segment_at_period_starts(data, metric, cells, first, last, &keys, labels);
    }
    let mut groups: Vec<(Segment, Vec<Cell>)> = Vec::new();
    for entity_cells in cells.chunk_by(|a, b| a.entity == b.entity) {
        let segment = entity_segment(&keys, &data.store, entity_cells[0].entity);
        match groups.iter_mut().find(|(s, _)| *s == segment) {
            Some((_, group)) => group.extend_from_slice(entity_cells),
            None => groups.push((segment, entity_cells.to_vec())),
        }
    }
    groups.sort_by(|a, b| a.0.sort_cmp(&b.0));
    groups
        .into_iter()
        .map(|(segment, cells)| table(data, metric, &cells, first, last, |_, _| true).into_segment(segment))
        .collect()
}

/// [`by_segment`] when the breakdown reads a segment labelled at each period's start: each
/// period's figures of an entity count in the table of the values it had when that period
/// began, so an entity can move between tables from one period to the next.
fn by_segment_at_period_starts(
    data: &Dataset,
    metric: &Revenue,
    cells: &[Cell],
    first: i32,
    last: i32,
    keys: &[(String, Compiled)],
    labels: &PeriodStartLabels,
) -> Vec<RevenueSegment> {
    // Every row's values for every entity with revenue: (entity, period) -> group.
    let mut segments: Vec<Segment> = Vec::new();
    let mut group_of: HashMap<(u32, i32), usize> = HashMap::new();
    for entity_cells in cells.chunk_by(|a, b| a.entity == b.entity) {
        let entity = entity_cells[0].entity;
        for period in first + 1..=last {
            let segment = entity_segment_at(keys, &data.store, entity, labels, period);
            let group = match segments.iter().position(|known| *known == segment) {
                Some(group) => group,
                None => {
                    segments.push(segment);
                    segments.len() - 1
                }
            };
            group_of.insert((entity, period), group);
        }
    }
    let mut order: Vec<usize> = (0..segments.len()).collect();
    order.sort_by(|a, b| segments[*a].sort_cmp(&segments[*b]));
    order
        .into_iter()
        .map(|group| {
            let keep = |entity: u32, period: i32| group_of.get(&(entity, period)) == Some(&group);
            table(data, metric, cells, first, last, keep).into_segment(segments[group].clone())
        })
        .collect()
}

/// The movements table of `cells` (sorted by entity, then period) over periods first+1 ..= last,
/// counting an entity's figures of a period only where `keep(entity, period)`.
fn table(
    data: &Dataset,
    metric: &Revenue,
    cells: &[Cell],
    first: i32,
    last: i32,
    keep: impl Fn(u32, i32) -> bool,
) -> RevenueResult {
    let grain = metric.grain;
    let calendar = data.calendar;
    // A period's revenue that nets to zero or below (refunds) counts as no revenue.
    let positive = |cell: &Cell| cell.micros > 0;
    let rows = (last - first) as usize; // rows for periods first+1 ..= last
    let mut table = vec![Movements::default(); rows];
    let row_of = |entity: u32, period: i32| -> Option<usize> {
        (period > first && period <= last && keep(entity, period)).then(|| (period - first - 1) as usize)
    };
    for entity_cells in cells.chunk_by(|a, b| a.entity == b.entity) {
        let entity = entity_cells[0].entity;
        let paid: Vec<&Cell> = entity_cells.iter().filter(|c| positive(c)).collect();
        let revenue_at = |period: i32| -> i128 {
            paid.binary_search_by_key(&period, |c| c.period)
                .map_or(0, |i| paid[i].micros)
        };
        for (index, cell) in paid.iter().enumerate() {
            let (period, now) = (cell.period, cell.micros);
            // As this period's revenue.
            if let Some(row) = row_of(entity, period) {
                table[row].end += now;
                table[row].customers_end += 1;
                let previous = index.checked_sub(1).map(|i| paid[i].period);
                match previous {
                    Some(p) if p == period - 1 => {
                        let before = paid[index - 1].micros;
                        if now > before {
                            table[row].expansion += now - before;
                        } else if now < before {
                            table[row].contraction += before - now;
                        }
                    }
                    None => table[row].new += now,
                    Some(p) => {
                        let absent_from = calendar.period_first_day(grain, p + 1);
                        let back_on = calendar.period_first_day(grain, period);
                        let too_long = metric
                            .reactivation_within
                            .is_some_and(|within| back_on > add_calendar_days(absent_from, within));
                        if too_long {
                            table[row].new += now;
                        } else {
                            table[row].reactivation += now;
                        }
                    }
                }
            }
            // As the previous period's revenue of the next period.
            if let Some(row) = row_of(entity, period + 1) {
                table[row].start += now;
                table[row].customers_start += 1;
                if revenue_at(period + 1) == 0 {
                    table[row].churned += now;
                    table[row].customers_churned += 1;
                }
            }
            // As the base of the trailing window.
            if let Some(window) = metric.window_periods
                && let Some(row) = row_of(entity, period + window as i32)
            {
                table[row].window_base += now;
                table[row].window_now += revenue_at(period + window as i32);
            }
        }
    }
    for (row, movements) in table.iter_mut().enumerate() {
        movements.period = first + 1 + row as i32;
        movements.complete = calendar.period_last_day(grain, movements.period) <= data.as_of_day;
    }
    let labels = Labels {
        grain,
        week_start: calendar.week_start,
    };
    RevenueResult::from_movements(&table, labels, metric.window_periods.is_some())
}
