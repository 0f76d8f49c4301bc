//! `type = "health"`: each entity's signals at `as_of` (and at the backtest date), measured from
//! the store; scoring and banding are `tenure_plan::health`'s (docs/config.md, `type = "health"`).

use tenure_plan::health::{EntitySignals, HealthPeriod, HealthResult};
use tenure_plan::{Health, ScalarValue, Signal};

use super::amount::AmountReader;
use super::cohort::entity_segment;
use crate::Dataset;
use crate::calendar::day_label;
use crate::eval::Compiled;

/// Computes one health table.
pub fn evaluate(data: &Dataset, metric: &Health) -> HealthResult {
    let date = data.as_of_day;
    let population = measure(data, metric, date);
    let backtest = metric.backtest_days.map(|days| {
        let then = date - days as i32;
        (day_label(then), measure(data, metric, then))
    });
    let mut result = HealthResult::from_signals(
        metric,
        day_label(date),
        &population,
        backtest
            .as_ref()
            .map(|(label, earlier)| (label.clone(), earlier.as_slice())),
    );
    result.history = metric.history.map(|(grain, periods)| {
        // The last `periods` periods over by `as_of`, each scored at its last day.
        let calendar = data.calendar;
        let current = calendar.period_index(grain, date);
        let latest = if calendar.period_last_day(grain, current) <= date {
            current
        } else {
            current - 1
        };
        (latest - periods as i32 + 1..=latest)
            .map(|period| {
                let last_day = calendar.period_last_day(grain, period);
                HealthPeriod::from_signals(
                    metric,
                    calendar.period_label(grain, period),
                    day_label(last_day),
                    &measure(data, metric, last_day),
                )
            })
            .collect()
    });
    result
}

/// The population at local day `date` (entities with an `active` event in the `population`
/// days up to it) with each one's signals, in entity id order.
fn measure(data: &Dataset, metric: &Health, date: i32) -> Vec<EntitySignals> {
    let store = &data.store;
    let entities = store.entities.len();
    let window = metric.window_days as i32;
    let in_window = |day: i32| day > date - window && day <= date;
    let active = data.event_mask(metric.active);
    // The last `active` day up to the date, and whether there is one after it (up to `as_of`).
    let mut last_active = vec![i32::MIN; entities];
    let mut active_after = vec![false; entities];
    for row in (0..store.len()).filter(|row| active[*row]) {
        let (entity, day) = (store.entity[row] as usize, store.day[row]);
        if day <= date {
            last_active[entity] = last_active[entity].max(day);
        } else if day <= data.as_of_day {
            active_after[entity] = true;
        }
    }
    let values: Vec<Vec<Option<f64>>> = metric
        .components
        .iter()
        .map(|component| signal(data, &component.signal, date, window))
        .collect();
    let revenue = metric.revenue.map(|event| {
        let mut micros = vec![0i128; entities];
        let mask = data.event_mask(event);
        if let Some(amount) = &data.plan.events[event].amount {
            let amounts = AmountReader::new(data, amount);
            for row in (0..store.len()).filter(|row| mask[*row] && in_window(store.day[*row])) {
                micros[store.entity[row] as usize] += amounts.micros(row).unwrap_or(0);
            }
        }
        micros
    });
    let keys = Compiled::fields(&metric.by, store);
    let mut population: Vec<EntitySignals> = (0..entities)
        .filter(|entity| last_active[*entity] > date - metric.population_days as i32)
        .map(|entity| EntitySignals {
            entity: store.entities.get(entity as u32).to_string(),
            values: values.iter().map(|component| component[entity]).collect(),
            days_since_active: i64::from(date - last_active[entity]),
            revenue_micros: revenue.as_ref().map_or(0, |micros| micros[entity]),
            segment: (!metric.by.is_empty()).then(|| entity_segment(&keys, store, entity as u32)),
            churned: !active_after[entity],
        })
        .collect();
    population.sort_by(|a, b| a.entity.cmp(&b.entity));
    population
}

/// Each entity's value of `signal` at local day `date` over a window of `window` days.
fn signal(data: &Dataset, signal: &Signal, date: i32, window: i32) -> Vec<Option<f64>> {
    let store = &data.store;
    let entities = store.entities.len();
    let rows_of = |event: usize| {
        let mask = data.event_mask(event);
        (0..store.len()).filter(move |row| mask[*row] && store.day[*row] <= date)
    };
    let amounts_over = |event: usize, from: i32| -> Vec<i128> {
        let mut micros = vec![0i128; entities];
        if let Some(amount) = &data.plan.events[event].amount {
            let amounts = AmountReader::new(data, amount);
            for row in rows_of(event).filter(|row| store.day[*row] > from && store.day[*row] <= from + window)
            {
                micros[store.entity[row] as usize] += amounts.micros(row).unwrap_or(0);
            }
        }
        micros
    };
    match signal {
        Signal::Count(event) => {
            let mut counts = vec![0u64; entities];
            for row in rows_of(*event).filter(|row| store.day[*row] > date - window) {
                counts[store.entity[row] as usize] += 1;
            }
            counts.into_iter().map(|count| Some(count as f64)).collect()
        }
        Signal::Recency(event) => {
            let mut last = vec![None; entities];
            for row in rows_of(*event) {
                let slot = &mut last[store.entity[row] as usize];
                *slot = Some(slot.map_or(store.day[row], |day: i32| day.max(store.day[row])));
            }
            last.into_iter()
                .map(|day| day.map(|day| f64::from(date - day)))
                .collect()
        }
        Signal::FrequencyBreak(event) => {
            let mut days: Vec<Vec<i32>> = vec![Vec::new(); entities];
            for row in rows_of(*event) {
                days[store.entity[row] as usize].push(store.day[row]);
            }
            days.into_iter()
                .map(|mut days| {
                    days.sort_unstable();
                    days.dedup();
                    let mut gaps: Vec<i32> = days.windows(2).map(|pair| pair[1] - pair[0]).collect();
                    gaps.sort_unstable();
                    let typical = match gaps.len() {
                        0 => return None,
                        n if n % 2 == 1 => f64::from(gaps[n / 2]),
                        n => f64::from(gaps[n / 2 - 1] + gaps[n / 2]) / 2.0,
                    };
                    days.last().map(|last| f64::from(date - last) / typical)
                })
                .collect()
        }
        Signal::Amount(event) => amounts_over(*event, date - window)
            .into_iter()
            .map(|micros| Some(tenure_plan::figures::from_micros(micros)))
            .collect(),
        Signal::Trend(event) => {
            let now = amounts_over(*event, date - window);
            let before = amounts_over(*event, date - 2 * window);
            now.into_iter()
                .zip(before)
                .map(|(now, before)| tenure_plan::figures::ratio(now, before))
                .collect()
        }
        Signal::Latest { event, value } => {
            let numbers = AmountReader::new(data, value);
            // The latest row; of rows at the same time, the larger value, whatever their order.
            let mut latest: Vec<Option<(i64, f64)>> = vec![None; entities];
            for row in rows_of(*event) {
                let Some(number) = numbers.number(row) else {
                    continue;
                };
                let candidate = (store.time[row], number);
                let slot = &mut latest[store.entity[row] as usize];
                if slot.is_none_or(|known| (candidate.0, candidate.1) > known) {
                    *slot = Some(candidate);
                }
            }
            latest
                .into_iter()
                .map(|found| found.map(|(_, number)| number))
                .collect()
        }
        Signal::Attribute(field) => {
            let keys = Compiled::fields(std::slice::from_ref(field), store);
            (0..entities as u32)
                .map(|entity| match entity_segment(&keys, store, entity).0[0].1 {
                    ScalarValue::Number(number) => Some(number),
                    _ => None,
                })
                .collect()
        }
    }
}
