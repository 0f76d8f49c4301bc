//! Revenue retention by cohort: each cohort row's revenue in the periods since its start, against
//! its first period's (docs/config.md, "Revenue retention by cohort"). Backends count per cohort
//! row and period; the shares, completeness and total rows follow here, the same for all.

use crate::figures::{Labels, from_micros, ratio};
use crate::report::Segment;

/// One cohort row's counts, as a backend found them.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortRevenueCounts {
    /// Index of the cohort's period (the cohort's grain).
    pub period: i32,
    /// Breakdown values of the row, `None` without `by`.
    pub segment: Option<Segment>,
    /// Members of the row.
    pub size: u64,
    /// Per period since the start (0, 1, …), through the period of `as_of`; missing periods
    /// count as zeros.
    pub cells: Vec<CohortRevenueCell>,
}

/// What a cohort row's members paid in one period since their start, in micro-units.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CohortRevenueCell {
    /// Σ r(e, P + k) over every member.
    pub revenue: i128,
    /// Members with revenue in the period.
    pub customers: u64,
    /// Σ r(e, P + k) over the starting customers (revenue in period 0).
    pub starting_revenue: i128,
    /// Σ min(r(e, P + k), r(e, P)) over the starting customers.
    pub gross_revenue: i128,
    /// Starting customers with revenue in the period.
    pub starting_customers: u64,
}

impl CohortRevenueCell {
    fn add(&mut self, other: &CohortRevenueCell) {
        self.revenue += other.revenue;
        self.customers += other.customers;
        self.starting_revenue += other.starting_revenue;
        self.gross_revenue += other.gross_revenue;
        self.starting_customers += other.starting_customers;
    }
}

/// Where the report's periods end: the period of `as_of`, and whether it has ended too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LastPeriod {
    /// Index of the period holding `as_of`.
    pub index: i32,
    /// Whether that period's last day is `as_of` (it is over).
    pub complete: bool,
}

/// A `revenue` metric with `cohort`: its table (docs/config.md, "Revenue retention by cohort").
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortRevenueResult {
    /// Always `"revenue"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The cohort the rows follow.
    pub cohort: String,
    /// The cohort's grain, which is the periods' too.
    pub grain: &'static str,
    /// One row per cohort (and breakdown value), oldest first.
    pub cohorts: Vec<CohortRevenueRow>,
    /// Every row together, per period since the start, over rows whose period is over.
    pub total: Vec<CohortRevenueTotal>,
    /// With a cohort broken down `by`: the total of each breakdown value's rows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Vec<CohortRevenueSegmentTotal>>,
}

/// One cohort row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortRevenueRow {
    /// Cohort label.
    pub cohort: String,
    /// Breakdown values, or `null` without `by`.
    pub segment: Option<Segment>,
    /// Members.
    pub size: u64,
    /// Members with revenue in the cohort's first period.
    pub customers_start: u64,
    /// Their revenue then: the base of `nrr` and `grr`.
    pub revenue_start: f64,
    /// Period 0, 1, … since the start, through the period of `as_of`.
    pub periods: Vec<CohortRevenuePeriod>,
}

/// One period of a cohort row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortRevenuePeriod {
    /// Periods since the cohort's own.
    pub period: u32,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// Revenue of every member in the period.
    pub revenue: f64,
    /// Members with revenue in the period.
    pub customers: u64,
    /// Net revenue retention: the starting customers' revenue now ÷ theirs in period 0.
    pub nrr: Option<f64>,
    /// Gross revenue retention: the same with each customer capped at their period-0 revenue.
    pub grr: Option<f64>,
    /// Starting customers with revenue now ÷ starting customers.
    pub logo_retention: Option<f64>,
}

/// The total of one period since the start, over the cohort rows for which it is over.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortRevenueTotal {
    /// Periods since the start.
    pub period: u32,
    /// Cohort rows for which this period is over (the rows summed).
    pub cohorts: u64,
    /// Their starting customers' revenue in period 0.
    pub revenue_start: f64,
    /// Their starting customers' revenue in this period.
    pub revenue: f64,
    /// Σ revenue now ÷ Σ revenue in period 0, over those rows.
    pub nrr: Option<f64>,
    /// The same, capped per customer at period 0's revenue.
    pub grr: Option<f64>,
    /// Σ starting customers still paying ÷ Σ starting customers.
    pub logo_retention: Option<f64>,
}

/// The total rows of one breakdown value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CohortRevenueSegmentTotal {
    /// The breakdown values.
    pub segment: Segment,
    /// Per period since the start, as the overall total.
    pub total: Vec<CohortRevenueTotal>,
}

impl CohortRevenueResult {
    /// The table of `rows` (sorted by period, then breakdown values), whose periods end at
    /// `last`. `cohort` names the cohort; `broken_down` says it has `by`.
    pub fn from_counts(
        cohort: &str,
        rows: &[CohortRevenueCounts],
        labels: Labels,
        last: LastPeriod,
        broken_down: bool,
    ) -> CohortRevenueResult {
        // A cell is over when its period is before the period of as_of, or that one has ended.
        let complete = |row: &CohortRevenueCounts, k: usize| {
            let period = row.period + k as i32;
            period < last.index || (period == last.index && last.complete)
        };
        let width = |row: &CohortRevenueCounts| (last.index - row.period + 1).max(0) as usize;
        let cell = |row: &CohortRevenueCounts, k: usize| row.cells.get(k).copied().unwrap_or_default();
        let cohorts = rows
            .iter()
            .map(|row| {
                let start = cell(row, 0);
                CohortRevenueRow {
                    cohort: labels.of(row.period),
                    segment: row.segment.clone(),
                    size: row.size,
                    customers_start: start.customers,
                    revenue_start: from_micros(start.revenue),
                    periods: (0..width(row))
                        .map(|k| {
                            let now = cell(row, k);
                            CohortRevenuePeriod {
                                period: k as u32,
                                complete: complete(row, k),
                                revenue: from_micros(now.revenue),
                                customers: now.customers,
                                nrr: ratio(now.starting_revenue, start.revenue),
                                grr: ratio(now.gross_revenue, start.revenue),
                                logo_retention: share(now.starting_customers, start.customers),
                            }
                        })
                        .collect(),
                }
            })
            .collect();
        let total_of = |rows: &mut dyn Iterator<Item = &CohortRevenueCounts>| {
            let rows: Vec<&CohortRevenueCounts> = rows.collect();
            let widest = rows.iter().map(|row| width(row)).max().unwrap_or(0);
            (0..widest)
                .map(|k| {
                    let (mut start, mut now, mut cohorts) =
                        (CohortRevenueCell::default(), CohortRevenueCell::default(), 0);
                    for row in rows.iter().filter(|row| k < width(row) && complete(row, k)) {
                        start.add(&cell(row, 0));
                        now.add(&cell(row, k));
                        cohorts += 1;
                    }
                    CohortRevenueTotal {
                        period: k as u32,
                        cohorts,
                        revenue_start: from_micros(start.revenue),
                        revenue: from_micros(now.starting_revenue),
                        nrr: ratio(now.starting_revenue, start.revenue),
                        grr: ratio(now.gross_revenue, start.revenue),
                        logo_retention: share(now.starting_customers, start.customers),
                    }
                })
                .collect::<Vec<_>>()
        };
        let total = total_of(&mut rows.iter());
        let totals = broken_down.then(|| {
            let mut values: Vec<&Segment> = Vec::new();
            for segment in rows.iter().filter_map(|row| row.segment.as_ref()) {
                if !values.contains(&segment) {
                    values.push(segment);
                }
            }
            values.sort_by(|a, b| a.sort_cmp(b));
            values
                .into_iter()
                .map(|value| CohortRevenueSegmentTotal {
                    segment: value.clone(),
                    total: total_of(&mut rows.iter().filter(|row| row.segment.as_ref() == Some(value))),
                })
                .collect()
        });
        CohortRevenueResult {
            kind: "revenue",
            cohort: cohort.to_string(),
            grain: labels.grain.as_str(),
            cohorts,
            total,
            totals,
        }
    }
}

fn share(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{Grain, WeekStart};

    fn cell(revenue: i128, customers: u64, starting: i128, gross: i128, kept: u64) -> CohortRevenueCell {
        CohortRevenueCell {
            revenue,
            customers,
            starting_revenue: starting,
            gross_revenue: gross,
            starting_customers: kept,
        }
    }

    #[test]
    fn shares_follow_the_starting_customers_and_totals_only_sum_periods_that_are_over() {
        let labels = Labels {
            grain: Grain::Month,
            week_start: WeekStart::Monday,
        };
        // 2025-01 (index 24300): two customers paying 100 and 50 in month 0; in month 1 the first
        // pays 150 (expansion), the second nothing, and a late payer 30.
        // 2025-02: one customer paying 40, then 20.
        let jan = 2025 * 12;
        let rows = vec![
            CohortRevenueCounts {
                period: jan,
                segment: None,
                size: 3,
                cells: vec![
                    cell(150_000_000, 2, 150_000_000, 150_000_000, 2),
                    cell(180_000_000, 2, 150_000_000, 100_000_000, 1),
                ],
            },
            CohortRevenueCounts {
                period: jan + 1,
                segment: None,
                size: 1,
                cells: vec![
                    cell(40_000_000, 1, 40_000_000, 40_000_000, 1),
                    cell(20_000_000, 1, 20_000_000, 20_000_000, 1),
                ],
            },
        ];
        // as_of is in March 2025, which is not over: January has months 0–2, February 0–1.
        let last = LastPeriod {
            index: jan + 2,
            complete: false,
        };
        let result = CohortRevenueResult::from_counts("first_payment", &rows, labels, last, false);
        let january = &result.cohorts[0];
        assert_eq!(
            (
                january.cohort.as_str(),
                january.customers_start,
                january.revenue_start
            ),
            ("2025-01", 2, 150.0)
        );
        assert_eq!(january.periods.len(), 3);
        // Month 1: nrr 150/150, grr 100/150 (the first capped at 100, the second gone), logo 1/2.
        let month1 = &january.periods[1];
        assert_eq!(
            (month1.revenue, month1.customers, month1.complete),
            (180.0, 2, true)
        );
        assert_eq!(month1.nrr, Some(1.0));
        assert_eq!(month1.grr, Some(100.0 / 150.0));
        assert_eq!(month1.logo_retention, Some(0.5));
        // Month 2 of January is March: not over, no revenue counted yet.
        assert_eq!(
            (january.periods[2].complete, january.periods[2].revenue),
            (false, 0.0)
        );
        // February's month 1 is March: not over.
        assert!(!result.cohorts[1].periods[1].complete);
        // Total month 1: only January is over → 150/150; month 0: both → (150+40)/(150+40).
        assert_eq!(result.total[0].cohorts, 2);
        assert_eq!(result.total[0].nrr, Some(1.0));
        assert_eq!(
            (result.total[1].cohorts, result.total[1].grr),
            (1, Some(100.0 / 150.0))
        );
        // Month 2: no row has it over.
        assert_eq!((result.total[2].cohorts, result.total[2].nrr), (0, None));
    }
}
