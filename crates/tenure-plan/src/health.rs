//! From each entity's measured signals to a health score, its band, the bands' counts, the list
//! of entities at risk and the backtest (docs/config.md, `type = "health"`). A backend measures
//! the signals; everything after is here, so every backend scores alike.

use std::collections::BTreeMap;

use crate::plan::{Health, Scoring};
use crate::report::Segment;

/// One entity of the scored population, as a backend measured it at a date.
#[derive(Debug, Clone, PartialEq)]
pub struct EntitySignals {
    /// The entity id.
    pub entity: String,
    /// Each component's value, in the metric's component order; `None` when the entity has
    /// none (no row to read, nothing to divide by).
    pub values: Vec<Option<f64>>,
    /// Days from the entity's last `active` event to the date.
    pub days_since_active: i64,
    /// Revenue at stake: the `revenue` event's amounts in the window, in micro-units.
    pub revenue_micros: i128,
    /// The breakdown values, with `by`.
    pub segment: Option<Segment>,
    /// Backtest only: whether the entity had no `active` event after the date, up to `as_of`.
    pub churned: bool,
}

/// The health table at one date.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HealthResult {
    /// Always `"health"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The date scored (`as_of`).
    pub date: String,
    /// Days up to the date the signals read.
    pub window_days: u32,
    /// Days up to the date in which an `active` event puts an entity in the population.
    pub population_days: u32,
    /// The bands, best first.
    pub bands: Vec<BandInfo>,
    /// The components with their weights divided by the sum of the weights.
    pub components: Vec<ComponentInfo>,
    /// The scores at the date.
    #[serde(flatten)]
    pub scores: BandCounts,
    /// With `by`: the bands per combination of values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<HealthSegment>>,
    /// The band whose entities are listed in `at_risk`.
    pub at_risk_band: String,
    /// The entities of the at-risk band, by revenue at stake (most first), then score.
    pub at_risk: Vec<AtRisk>,
    /// With `backtest`: the population scored earlier, and what became of each band.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backtest: Option<Backtest>,
    /// With `history`: the bands at the end of each past period, oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history: Option<Vec<HealthPeriod>>,
}

/// The bands of the population scored at the last day of one period (docs/config.md, health
/// `history`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HealthPeriod {
    /// The period's label (`2025-03`, a week's first day, `2025-Q1`, …).
    pub period: String,
    /// The day scored: the period's last day.
    pub date: String,
    /// The scores at that day.
    #[serde(flatten)]
    pub scores: BandCounts,
    /// With `by`: the bands per combination of values at that day.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<HealthSegment>>,
}

impl HealthPeriod {
    /// Scores `population`, measured at the last day (`date`) of `period`, into bands.
    pub fn from_signals(
        metric: &Health,
        period: String,
        date: String,
        population: &[EntitySignals],
    ) -> HealthPeriod {
        let scored = score(metric, population);
        HealthPeriod {
            period,
            date,
            scores: band_counts(metric, population.iter().zip(&scored)),
            segments: segment_counts(metric, population, &scored),
        }
    }
}

/// A band as the report names it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BandInfo {
    /// The band's name.
    pub name: String,
    /// The lowest score in it.
    pub min: f64,
}

/// A component as the report names it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ComponentInfo {
    /// The component's name.
    pub name: String,
    /// Its weight as a share of all weights.
    pub weight: f64,
}

/// How a population's scores fall into bands.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BandCounts {
    /// Entities in the population.
    pub population: u64,
    /// Entities without a value for any component: no score, no band.
    pub unscored: u64,
    /// The mean score of the scored entities.
    pub mean_score: Option<f64>,
    /// One row per band, best first.
    pub distribution: Vec<BandRow>,
}

/// One band's entities.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BandRow {
    /// The band.
    pub band: String,
    /// Entities in it.
    pub entities: u64,
    /// Their share of the scored entities.
    pub share: Option<f64>,
    /// Their revenue at stake.
    pub revenue: f64,
}

/// One breakdown value's bands.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HealthSegment {
    /// The breakdown values.
    pub segment: Segment,
    /// Its entities' bands.
    #[serde(flatten)]
    pub scores: BandCounts,
}

/// An entity of the at-risk band.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AtRisk {
    /// The entity id.
    pub entity: String,
    /// Its score.
    pub score: f64,
    /// Revenue at stake.
    pub revenue: f64,
    /// Days since its last `active` event.
    pub days_since_active: i64,
    /// Each component's part of the score (its score × its share of the weights present); they
    /// add up to the score. `null` for a component the entity has no value for.
    pub contributions: BTreeMap<String, Option<f64>>,
}

/// The population scored `days` before `as_of`, and what became of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Backtest {
    /// The date scored.
    pub date: String,
    /// Days from it to `as_of`.
    pub days: u32,
    /// The scores then.
    #[serde(flatten)]
    pub scores: BandCounts,
    /// Per band then: the entities without an `active` event since.
    pub churn: Vec<BandChurn>,
    /// How many entities went from each band then to each band at `as_of` (`null`: no longer in
    /// the population, or unscored).
    pub transitions: Vec<Transition>,
}

/// One band's churn in a backtest.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BandChurn {
    /// The band at the backtest date.
    pub band: String,
    /// Its entities.
    pub entities: u64,
    /// Of those, the ones without an `active` event after the date.
    pub churned: u64,
    /// Churned ÷ entities.
    pub rate: Option<f64>,
}

/// Entities that moved from one band to another.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Transition {
    /// The band at the backtest date.
    pub from: String,
    /// The band at `as_of`, `null` when the entity is not scored then.
    pub to: Option<String>,
    /// How many entities.
    pub entities: u64,
}

/// One entity's score: the score, its band, and each component's contribution.
struct Scored {
    score: f64,
    band: usize,
    contributions: Vec<Option<f64>>,
}

/// Scores a population: each component's value to 0–100 by its rule, then the weighted mean
/// over the components the entity has a value for.
fn score(metric: &Health, population: &[EntitySignals]) -> Vec<Option<Scored>> {
    // Per component, the population's values in order, for percentiles.
    let sorted: Vec<Vec<f64>> = (0..metric.components.len())
        .map(|component| {
            let mut values: Vec<f64> = population.iter().filter_map(|e| e.values[component]).collect();
            values.sort_by(f64::total_cmp);
            values
        })
        .collect();
    population
        .iter()
        .map(|entity| {
            let parts: Vec<Option<(f64, f64)>> = metric
                .components
                .iter()
                .zip(&entity.values)
                .zip(&sorted)
                .map(|((component, value), sorted)| {
                    value.map(|value| {
                        (
                            component.weight,
                            component_score(component.scoring, value, sorted),
                        )
                    })
                })
                .collect();
            let weights: f64 = parts.iter().flatten().map(|(weight, _)| weight).sum();
            if weights == 0.0 {
                return None;
            }
            let contributions: Vec<Option<f64>> = parts
                .iter()
                .map(|part| part.map(|(weight, score)| weight / weights * score))
                .collect();
            let score = contributions.iter().flatten().sum::<f64>().clamp(0.0, 100.0);
            let band = metric
                .bands
                .iter()
                .position(|band| score >= band.min)
                .unwrap_or(metric.bands.len() - 1);
            Some(Scored {
                score,
                band,
                contributions,
            })
        })
        .collect()
}

/// A value's score from 0 to 100: on the scale, or its mid-rank percentile in `sorted` (the
/// share of values ranked below it, plus half of those equal to it, itself included).
pub(crate) fn component_score(scoring: Scoring, value: f64, sorted: &[f64]) -> f64 {
    match scoring {
        Scoring::Scale { worst, best } => ((value - worst) / (best - worst)).clamp(0.0, 1.0) * 100.0,
        Scoring::Percentile { higher_is_better } => {
            let below = sorted.partition_point(|v| *v < value);
            let equal = sorted[below..].partition_point(|v| *v <= value);
            let above = sorted.len() - below - equal;
            let better_than = if higher_is_better { below } else { above };
            (better_than as f64 + equal as f64 / 2.0) / sorted.len() as f64 * 100.0
        }
    }
}

fn money(micros: i128) -> f64 {
    crate::figures::from_micros(micros)
}

/// With `by`, the bands' counts of each combination of values, in the order of values.
fn segment_counts(
    metric: &Health,
    population: &[EntitySignals],
    scored: &[Option<Scored>],
) -> Option<Vec<HealthSegment>> {
    (!metric.by.is_empty()).then(|| {
        let mut values: Vec<&Segment> = population.iter().filter_map(|e| e.segment.as_ref()).collect();
        values.sort_by(|a, b| a.sort_cmp(b));
        values.dedup();
        values
            .into_iter()
            .map(|segment| HealthSegment {
                segment: segment.clone(),
                scores: band_counts(
                    metric,
                    population
                        .iter()
                        .zip(scored)
                        .filter(|(e, _)| e.segment.as_ref() == Some(segment)),
                ),
            })
            .collect()
    })
}

/// The bands' counts of `scored` entities (with their revenue in micro-units).
fn band_counts<'a>(
    metric: &Health,
    scored: impl Iterator<Item = (&'a EntitySignals, &'a Option<Scored>)>,
) -> BandCounts {
    let bands = metric.bands.len();
    let (mut entities, mut revenue) = (vec![0u64; bands], vec![0i128; bands]);
    let (mut population, mut unscored, mut sum) = (0u64, 0u64, 0.0);
    for (entity, scored) in scored {
        population += 1;
        match scored {
            Some(scored) => {
                entities[scored.band] += 1;
                revenue[scored.band] += entity.revenue_micros;
                sum += scored.score;
            }
            None => unscored += 1,
        }
    }
    let count = population - unscored;
    BandCounts {
        population,
        unscored,
        mean_score: (count > 0).then(|| sum / count as f64),
        distribution: metric
            .bands
            .iter()
            .enumerate()
            .map(|(index, band)| BandRow {
                band: band.name.clone(),
                entities: entities[index],
                share: (count > 0).then(|| entities[index] as f64 / count as f64),
                revenue: money(revenue[index]),
            })
            .collect(),
    }
}

impl HealthResult {
    /// The health table of `metric` from the population measured at `date` (each entity once,
    /// in id order), and with `backtest` the one measured at the backtest date.
    pub fn from_signals(
        metric: &Health,
        date: String,
        population: &[EntitySignals],
        backtest: Option<(String, &[EntitySignals])>,
    ) -> HealthResult {
        let scored = score(metric, population);
        let scores = band_counts(metric, population.iter().zip(&scored));
        let segments = segment_counts(metric, population, &scored);
        let mut at_risk: Vec<AtRisk> = population
            .iter()
            .zip(&scored)
            .filter_map(|(entity, scored)| {
                let scored = scored.as_ref().filter(|s| s.band == metric.at_risk)?;
                Some(AtRisk {
                    entity: entity.entity.clone(),
                    score: scored.score,
                    revenue: money(entity.revenue_micros),
                    days_since_active: entity.days_since_active,
                    contributions: metric
                        .components
                        .iter()
                        .zip(&scored.contributions)
                        .map(|(component, part)| (component.name.clone(), *part))
                        .collect(),
                })
            })
            .collect();
        at_risk.sort_by(|a, b| {
            b.revenue
                .total_cmp(&a.revenue)
                .then(a.score.total_cmp(&b.score))
                .then_with(|| a.entity.cmp(&b.entity))
        });
        let backtest = backtest.map(|(date, earlier)| {
            let then = score(metric, earlier);
            let now: BTreeMap<&str, usize> = population
                .iter()
                .zip(&scored)
                .filter_map(|(e, s)| s.as_ref().map(|s| (e.entity.as_str(), s.band)))
                .collect();
            let bands = metric.bands.len();
            let (mut entities, mut churned) = (vec![0u64; bands], vec![0u64; bands]);
            let mut moves: BTreeMap<(usize, usize), u64> = BTreeMap::new();
            for (entity, scored) in earlier.iter().zip(&then) {
                let Some(scored) = scored else { continue };
                entities[scored.band] += 1;
                churned[scored.band] += u64::from(entity.churned);
                let to = now.get(entity.entity.as_str()).copied().unwrap_or(bands);
                *moves.entry((scored.band, to)).or_default() += 1;
            }
            Backtest {
                date,
                days: metric.backtest_days.unwrap_or(0),
                scores: band_counts(metric, earlier.iter().zip(&then)),
                churn: metric
                    .bands
                    .iter()
                    .enumerate()
                    .map(|(index, band)| BandChurn {
                        band: band.name.clone(),
                        entities: entities[index],
                        churned: churned[index],
                        rate: (entities[index] > 0).then(|| churned[index] as f64 / entities[index] as f64),
                    })
                    .collect(),
                transitions: moves
                    .into_iter()
                    .map(|((from, to), entities)| Transition {
                        from: metric.bands[from].name.clone(),
                        to: metric.bands.get(to).map(|band| band.name.clone()),
                        entities,
                    })
                    .collect(),
            }
        });
        let weights: f64 = metric.components.iter().map(|c| c.weight).sum();
        HealthResult {
            kind: "health",
            date,
            window_days: metric.window_days,
            population_days: metric.population_days,
            bands: metric
                .bands
                .iter()
                .map(|band| BandInfo {
                    name: band.name.clone(),
                    min: band.min,
                })
                .collect(),
            components: metric
                .components
                .iter()
                .map(|c| ComponentInfo {
                    name: c.name.clone(),
                    weight: c.weight / weights,
                })
                .collect(),
            scores,
            segments,
            at_risk_band: metric.bands[metric.at_risk].name.clone(),
            at_risk,
            backtest,
            history: None,
        }
    }

    /// A scalar for formulas (`mean_score`, `at_risk`, `at_risk_share`, `revenue_at_risk`).
    pub fn scalar(&self, name: &str) -> Option<f64> {
        let row = self
            .scores
            .distribution
            .iter()
            .find(|row| row.band == self.at_risk_band)?;
        match name {
            "mean_score" => self.scores.mean_score,
            "at_risk" => Some(row.entities as f64),
            "at_risk_share" => row.share,
            "revenue_at_risk" => Some(row.revenue),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_mid_ranks() {
        // Values 1, 2, 2, 4: a 2 is above one value and level with two (itself included):
        // (1 + 2/2) / 4 = 50; the 4 is above three: (3 + 1/2) / 4 = 87.5. Lower is better: the
        // 1 is below three: 87.5.
        let sorted = [1.0, 2.0, 2.0, 4.0];
        let higher = Scoring::Percentile {
            higher_is_better: true,
        };
        let lower = Scoring::Percentile {
            higher_is_better: false,
        };
        assert_eq!(component_score(higher, 2.0, &sorted), 50.0);
        assert_eq!(component_score(higher, 4.0, &sorted), 87.5);
        assert_eq!(component_score(lower, 1.0, &sorted), 87.5);
        // A scale from 30 (worst) to 0 (best): 6 scores 80; beyond either end is held.
        let scale = Scoring::Scale {
            worst: 30.0,
            best: 0.0,
        };
        assert!((component_score(scale, 6.0, &[]) - 80.0).abs() < 1e-12);
        assert_eq!(component_score(scale, 45.0, &[]), 0.0);
        assert_eq!(component_score(scale, -3.0, &[]), 100.0);
    }
}
