//! `type = "survey"`: NPS, CSAT or CES from response events, overall and per period, and per
//! breakdown value with `by` (docs/config.md, `type = "survey"`).

use std::collections::BTreeMap;

use tenure_plan::figures::{FollowUpCounts, Labels, SurveyCounts, SurveyPeriodCounts, WaveCounts};
use tenure_plan::{Answer, Grain, ScalarValue, Segment, Survey, SurveyResult};

use super::amount::AmountReader;
use super::cohort::{NO_GROUP, entity_segment};
use crate::Dataset;
use crate::eval::Compiled;

/// One row a survey reads: an ask, or an answer (its whole score and what it says, `None` when
/// it is off the scale).
#[derive(Clone, Copy)]
struct Met {
    entity: u32,
    period: i32,
    time: i64,
    ask: bool,
    answer: Option<Option<(u64, Answer)>>,
    /// An answer's time to the entity's first follow-up at or after it (microseconds), when
    /// the survey follows answers up and there is one by `as_of`.
    delay: Option<i64>,
}

/// Computes one survey's figures.
pub fn evaluate(data: &Dataset, metric: &Survey) -> SurveyResult {
    let store = &data.store;
    let calendar = data.calendar;
    let responses = data.event_mask(metric.response);
    let asked = metric.asked.map(|event| data.event_mask(event));
    let scores = AmountReader::new(data, &metric.score);
    // Each entity's follow-up times up to `as_of`, sorted.
    let follow_ups = metric.follow_up.map(|(event, _)| {
        let mask = data.event_mask(event);
        let mut times: Vec<Vec<i64>> = vec![Vec::new(); store.entities.len()];
        for row in (0..store.len()).filter(|row| mask[*row] && store.day[*row] <= data.as_of_day) {
            times[store.entity[row] as usize].push(store.time[row]);
        }
        times.iter_mut().for_each(|times| times.sort_unstable());
        times
    });
    let mut met = Vec::new();
    for row in 0..store.len() {
        let ask = asked.as_ref().is_some_and(|mask| mask[row]);
        if !(responses[row] || ask) || store.day[row] > data.as_of_day {
            continue;
        }
        let answer = responses[row].then(|| {
            scores
                .number(row)
                .and_then(|score| metric.scale.answer(score).map(|answer| (score as u64, answer)))
        });
        met.push(Met {
            entity: store.entity[row],
            time: store.time[row],
            period: metric
                .grain
                .map_or(0, |grain| calendar.period_index(grain, store.day[row])),
            ask,
            answer,
            delay: follow_ups.as_ref().and_then(|times| {
                let times = &times[store.entity[row] as usize];
                let next = times.partition_point(|time| *time < store.time[row]);
                times.get(next).map(|time| time - store.time[row])
            }),
        });
    }
    let periods = metric.grain.map(|grain| {
        let last = calendar.period_index(grain, data.as_of_day);
        let first = met.iter().map(|m| m.period).min().unwrap_or(last).min(last);
        (grain, first, last)
    });
    let within = metric
        .follow_up
        .map(|(_, hours)| i64::from(hours) * 3_600_000_000);
    let table = |met: &[Met]| tally(met, metric.asked.is_some(), within, metric.waves, periods, data);
    let (total, rows) = table(&met);
    let breakdown = !metric.by.is_empty() || metric.cohort.is_some() || metric.revenue_bands.is_some();
    let segments = breakdown.then(|| {
        let band_of = metric
            .revenue_bands
            .as_ref()
            .map(|(event, bounds)| RevenueBands::new(data, *event, bounds));
        let keys = Compiled::fields(&metric.by, store);
        // With a cohort: each member's cohort row (its label, then the cohort's breakdown
        // values) before the `by` values; entities in no row are left out.
        let cohort = metric
            .cohort
            .map(|index| (data.plan.cohorts[index].grain, data.assignment(index)));
        let cohort_row = |entity: u32| -> Option<Vec<(String, ScalarValue)>> {
            let Some((grain, assignment)) = &cohort else {
                return Some(Vec::new());
            };
            let group = assignment.group_of[entity as usize];
            if group == NO_GROUP {
                return None;
            }
            let key = &assignment.groups[group as usize];
            let label = ScalarValue::String(calendar.period_label(*grain, key.period));
            Some(
                std::iter::once(("cohort".to_string(), label))
                    .chain(key.segment.iter().flat_map(|segment| segment.0.clone()))
                    .collect(),
            )
        };
        // Each entity's values are read once, for all its rows.
        let mut by_entity = met.clone();
        by_entity.sort_by_key(|m| m.entity);
        let mut groups: Vec<(Segment, Vec<Met>)> = Vec::new();
        for rows in by_entity.chunk_by(|a, b| a.entity == b.entity) {
            let Some(mut values) = cohort_row(rows[0].entity) else {
                continue;
            };
            values.extend(entity_segment(&keys, store, rows[0].entity).0);
            // With revenue bands, each row takes its own band after the entity's values.
            let split: Vec<(Segment, &[Met])> = match &band_of {
                None => vec![(Segment(values), rows)],
                Some(bands) => rows
                    .iter()
                    .map(|row| {
                        let mut values = values.clone();
                        values.push(("revenue_band".to_string(), bands.band(row.entity, row.time)));
                        (Segment(values), std::slice::from_ref(row))
                    })
                    .collect(),
            };
            for (segment, rows) in split {
                match groups.iter_mut().find(|(known, _)| *known == segment) {
                    Some((_, known)) => known.extend_from_slice(rows),
                    None => groups.push((segment, rows.to_vec())),
                }
            }
        }
        groups.sort_by(|a, b| a.0.sort_cmp(&b.0));
        groups
            .into_iter()
            .map(|(segment, met)| {
                let (total, rows) = table(&met);
                (segment, total, rows)
            })
            .collect::<Vec<_>>()
    });
    let labels = metric.grain.map(|grain| Labels {
        grain,
        week_start: calendar.week_start,
    });
    SurveyResult::from_counts(metric.scale, &total, rows.as_deref(), labels, segments)
}

/// Each entity's payments of an amount event, to band a survey's rows by the revenue of the 30
/// days up to each (docs/config.md, `revenue_bands`).
struct RevenueBands<'a> {
    /// Per entity, its payments' times (up to `as_of`, sorted) and the running sum of their
    /// micro-units (one more entry, starting at 0).
    payments: Vec<(Vec<i64>, Vec<i128>)>,
    bounds: &'a [f64],
}

impl<'a> RevenueBands<'a> {
    const WINDOW_MICROS: i64 = 30 * crate::calendar::MICROS_PER_DAY;

    fn new(data: &Dataset, event: usize, bounds: &'a [f64]) -> RevenueBands<'a> {
        let store = &data.store;
        let mask = data.event_mask(event);
        let mut rows: Vec<Vec<(i64, i128)>> = vec![Vec::new(); store.entities.len()];
        if let Some(amount) = &data.plan.events[event].amount {
            let amounts = AmountReader::new(data, amount);
            for row in (0..store.len()).filter(|row| mask[*row] && store.day[*row] <= data.as_of_day) {
                if let Some(micros) = amounts.micros(row) {
                    rows[store.entity[row] as usize].push((store.time[row], micros));
                }
            }
        }
        let payments = rows
            .into_iter()
            .map(|mut paid| {
                paid.sort_unstable();
                let times = paid.iter().map(|(time, _)| *time).collect();
                let sums = std::iter::once(0)
                    .chain(paid.iter().scan(0i128, |sum, (_, micros)| {
                        *sum += micros;
                        Some(*sum)
                    }))
                    .collect();
                (times, sums)
            })
            .collect();
        RevenueBands { payments, bounds }
    }

    /// The band of `entity` at `time`: the largest lower bound its revenue of the 30 days up to
    /// `time` (after `time` − 30 days, up to `time` included) reaches, 0 below the first, null
    /// without revenue (a sum of 0 or less).
    fn band(&self, entity: u32, time: i64) -> ScalarValue {
        let (times, sums) = &self.payments[entity as usize];
        let from = times.partition_point(|t| *t <= time - Self::WINDOW_MICROS);
        let to = times.partition_point(|t| *t <= time);
        let micros = sums[to] - sums[from];
        if micros <= 0 {
            return ScalarValue::Null;
        }
        let revenue = tenure_plan::figures::from_micros(micros);
        let bound = self.bounds.iter().rev().find(|bound| revenue >= **bound);
        ScalarValue::Number(bound.copied().unwrap_or(0.0))
    }
}

/// The counts of every row of `met`, and with periods `(grain, first, last)` of each period.
fn tally(
    met: &[Met],
    asked: bool,
    within: Option<i64>,
    waves: bool,
    periods: Option<(Grain, i32, i32)>,
    data: &Dataset,
) -> (SurveyCounts, Option<Vec<SurveyPeriodCounts>>) {
    let total = counts(met.iter(), asked, within);
    // Each entity's latest answer on the scale per period: of answers at the same time, the
    // higher score, whatever the order of the rows.
    let mut latest: BTreeMap<(i32, u32), (i64, u64, Answer)> = BTreeMap::new();
    if waves {
        for m in met {
            if let Some(Some((score, answer))) = m.answer {
                let slot = latest
                    .entry((m.period, m.entity))
                    .or_insert((m.time, score, answer));
                if (m.time, score) > (slot.0, slot.1) {
                    *slot = (m.time, score, answer);
                }
            }
        }
    }
    let rows = periods.map(|(grain, first, last)| {
        let mut by_period: BTreeMap<i32, Vec<&Met>> = BTreeMap::new();
        for m in met {
            by_period.entry(m.period).or_default().push(m);
        }
        (first..=last)
            .map(|period| SurveyPeriodCounts {
                period,
                complete: data.calendar.period_last_day(grain, period) <= data.as_of_day,
                counts: counts(
                    by_period.remove(&period).unwrap_or_default().into_iter(),
                    asked,
                    within,
                ),
                wave: waves.then(|| wave(&latest, period)),
            })
            .collect()
    });
    (total, rows)
}

/// The latest answers (by period, then entity) in `period` and in the period before of the
/// entities with both.
fn wave(latest: &BTreeMap<(i32, u32), (i64, u64, Answer)>, period: i32) -> WaveCounts {
    let mut wave = WaveCounts::default();
    for ((_, entity), now) in latest.range((period, 0)..=(period, u32::MAX)) {
        let Some(before) = latest.get(&(period - 1, *entity)) else {
            continue;
        };
        for (counts, (_, score, answer)) in [(&mut wave.before, before), (&mut wave.now, now)] {
            counts.responses += 1;
            counts.score_sum += score;
            match answer {
                Answer::Positive => counts.positive += 1,
                Answer::Neutral => counts.neutral += 1,
                Answer::Negative => counts.negative += 1,
            }
        }
    }
    wave
}

/// The counts of some rows: answers by what they say, distinct respondents and asked entities,
/// and with follow-ups allowed `within` microseconds, how the negative answers were followed up.
fn counts<'a>(met: impl Iterator<Item = &'a Met>, asked: bool, within: Option<i64>) -> SurveyCounts {
    let mut counts = SurveyCounts::default();
    let (mut respondents, mut asks, mut delays) = (Vec::new(), Vec::new(), Vec::new());
    for m in met {
        if m.ask {
            asks.push(m.entity);
        }
        match m.answer {
            None => {}
            Some(None) => counts.invalid += 1,
            Some(Some((score, answer))) => {
                counts.responses += 1;
                counts.score_sum += score;
                match answer {
                    Answer::Positive => counts.positive += 1,
                    Answer::Neutral => counts.neutral += 1,
                    Answer::Negative => {
                        counts.negative += 1;
                        delays.extend(m.delay);
                    }
                }
                respondents.push(m.entity);
            }
        }
    }
    let distinct = |mut entities: Vec<u32>| {
        entities.sort_unstable();
        entities.dedup();
        entities.len() as u64
    };
    counts.respondents = distinct(respondents);
    counts.asked = asked.then(|| distinct(asks));
    counts.follow_up = within.map(|within| {
        delays.sort_unstable();
        let middle = delays.len() / 2;
        FollowUpCounts {
            followed: delays.iter().filter(|delay| **delay <= within).count() as u64,
            median_micros: match delays.len() {
                0 => None,
                n if n % 2 == 1 => Some(delays[middle] as f64),
                _ => Some((delays[middle - 1] as f64 + delays[middle] as f64) / 2.0),
            },
        }
    });
    counts
}
