//! From counted figures to results: the arithmetic every backend shares once it has counted.
//!
//! A backend counts (members retained, money moved, entities active per period); the rates,
//! ratios, totals and labels of the report follow from those counts by the rules here, so the
//! in-process engine and a SQL backend cannot disagree on them (docs/config.md, "Output").

use crate::plan::SurveyScale;
use crate::report::{
    ActivationRow, ActivationTotal, CrrPeriod, CrrResult, FollowUpFigures, LifecyclePeriod, LifecycleResult,
    LifecycleSegment, RetentionRow, RetentionTotal, RevenuePeriod, RevenueResult, RevenueSegment,
    ScalarValue, Segment, SegmentTotal, StickinessDay, StickinessPeriod, StickinessResult, SurveyFigures,
    SurveyPeriod, SurveyResult, SurveySegment, UpliftComparison, UpliftGroup, UpliftResult, UpliftRow,
    WaveFigures, WinbackPeriod, WinbackResult, WinbackSegment, WinbackTotal,
};
use crate::time::{Grain, WeekStart, period_label};

/// A money figure in exact micro-units (10⁻⁶) as a number.
pub fn from_micros(micros: i128) -> f64 {
    micros as f64 / 1_000_000.0
}

/// Money back in micro-units: exact for any amount [`from_micros`] gave.
pub(crate) fn to_micros(money: f64) -> i128 {
    (money * 1_000_000.0).round() as i128
}

/// A ratio of two micro-unit sums; `None` when the denominator is zero.
pub fn ratio(numerator: i128, denominator: i128) -> Option<f64> {
    (denominator != 0).then(|| numerator as f64 / denominator as f64)
}

/// A share of two counts; `None` when the denominator is zero.
fn share(numerator: u64, denominator: u64) -> Option<f64> {
    (denominator > 0).then(|| numerator as f64 / denominator as f64)
}

/// The calendar a backend's period indexes are labelled in.
#[derive(Debug, Clone, Copy)]
pub struct Labels {
    /// The grain of the periods.
    pub grain: Grain,
    /// The project's first day of the week.
    pub week_start: WeekStart,
}

impl Labels {
    /// The label of period `index`.
    pub fn of(self, index: i32) -> String {
        period_label(self.grain, self.week_start, index)
    }
}

/// One period's money movements, in micro-units, and customer counts
/// (docs/config.md, `type = "revenue"`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Movements {
    /// The period's index.
    pub period: i32,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// MRR of the previous period.
    pub start: i128,
    /// MRR of customers paying for the first time (or back after too long).
    pub new: i128,
    /// Growth of continuing customers.
    pub expansion: i128,
    /// Decline of continuing customers.
    pub contraction: i128,
    /// MRR of customers who paid in the previous period and not in this one.
    pub churned: i128,
    /// MRR of customers back after a gap.
    pub reactivation: i128,
    /// MRR of this period.
    pub end: i128,
    /// Customers paying in the previous period.
    pub customers_start: u64,
    /// Of those, customers not paying in this one.
    pub customers_churned: u64,
    /// Customers paying in this period.
    pub customers_end: u64,
    /// With a `window`: MRR of the period `window` periods back.
    pub window_base: i128,
    /// With a `window`: the same customers' MRR now.
    pub window_now: i128,
}

impl RevenuePeriod {
    /// A period's row from its movements; `windowed` when the metric has a `window`.
    pub fn from_movements(m: &Movements, labels: Labels, windowed: bool) -> RevenuePeriod {
        let retained = m.start - m.churned - m.contraction;
        RevenuePeriod {
            period: labels.of(m.period),
            complete: m.complete,
            start: from_micros(m.start),
            new: from_micros(m.new),
            expansion: from_micros(m.expansion),
            contraction: from_micros(m.contraction),
            churned: from_micros(m.churned),
            reactivation: from_micros(m.reactivation),
            end: from_micros(m.end),
            customers_end: m.customers_end,
            grr: ratio(retained, m.start),
            nrr: ratio(retained + m.expansion, m.start),
            customers_start: m.customers_start,
            customers_churned: m.customers_churned,
            customer_churn_rate: share(m.customers_churned, m.customers_start),
            revenue_churn_rate: ratio(m.churned + m.contraction, m.start),
            nrr_window: windowed.then(|| ratio(m.window_now, m.window_base)),
        }
    }
}

impl RevenueResult {
    /// The table of consecutive periods' movements; NRR and GRR pool the complete periods.
    pub fn from_movements(movements: &[Movements], labels: Labels, windowed: bool) -> RevenueResult {
        let periods: Vec<RevenuePeriod> = movements
            .iter()
            .map(|m| RevenuePeriod::from_movements(m, labels, windowed))
            .collect();
        let complete: Vec<&Movements> = movements.iter().filter(|m| m.complete).collect();
        let sum = |f: fn(&Movements) -> i128| complete.iter().map(|m| f(m)).sum::<i128>();
        let starts = sum(|m| m.start);
        let retained = sum(|m| m.start - m.churned - m.contraction);
        let last_complete = periods.iter().rfind(|p| p.complete);
        RevenueResult {
            kind: "revenue",
            grain: labels.grain.as_str(),
            nrr: ratio(retained + sum(|m| m.expansion), starts),
            grr: ratio(retained, starts),
            nrr_last: last_complete.and_then(|p| p.nrr),
            grr_last: last_complete.and_then(|p| p.grr),
            nrr_window: windowed.then(|| last_complete.and_then(|p| p.nrr_window.flatten())),
            periods,
            segments: None,
            warnings: Vec::new(),
        }
    }

    /// Warns when customers' payments are typically further apart than one period of the
    /// table: `median_gap` is the median, over every customer's consecutive paid periods, of
    /// the periods between them (docs/config.md, "Payments longer than a period").
    pub fn warn_of_billing_gap(&mut self, median_gap: Option<f64>) {
        let Some(gap) = median_gap.filter(|gap| *gap > 1.0) else {
            return;
        };
        let unit = self.grain;
        self.warnings.push(format!(
            "a customer's consecutive payments are a median of {gap} {unit}s apart: every {unit} \
             between two payments counts as churn and the next payment as reactivation; give \
             `spread` to spread each payment over the months it covers"
        ));
    }

    /// This table as the table of breakdown value `segment`.
    pub fn into_segment(self, segment: Segment) -> RevenueSegment {
        RevenueSegment {
            segment,
            periods: self.periods,
            nrr: self.nrr,
            grr: self.grr,
            nrr_last: self.nrr_last,
            grr_last: self.grr_last,
        }
    }
}

/// One period of a CRR table, counted (docs/config.md, `type = "crr"`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CrrCounts {
    /// The period's index.
    pub period: i32,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// S: entities active in the previous period.
    pub start: u64,
    /// E: entities active in this period.
    pub end: u64,
    /// N: entities whose first activity is in this period.
    pub new: u64,
}

impl CrrResult {
    /// The table of consecutive periods' counts; the whole-window CRR pools the complete ones.
    pub fn from_counts(counts: &[CrrCounts], labels: Labels) -> CrrResult {
        let periods: Vec<CrrPeriod> = counts
            .iter()
            .map(|c| CrrPeriod {
                period: labels.of(c.period),
                complete: c.complete,
                start: c.start,
                end: c.end,
                new: c.new,
                crr: (c.start > 0).then(|| (c.end as f64 - c.new as f64) / c.start as f64),
            })
            .collect();
        let complete: Vec<&CrrPeriod> = periods.iter().filter(|p| p.complete).collect();
        let retained: u64 = complete.iter().map(|p| p.end - p.new).sum();
        let starts: u64 = complete.iter().map(|p| p.start).sum();
        CrrResult {
            kind: "crr",
            grain: labels.grain.as_str(),
            crr: share(retained, starts),
            crr_last: complete.last().and_then(|p| p.crr),
            periods,
        }
    }
}

/// One period of a lifecycle table, counted (docs/config.md, `type = "lifecycle"`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LifecycleCounts {
    /// The period's index.
    pub period: i32,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// Entities active for the first time.
    pub new: u64,
    /// Entities active in this period and the previous one.
    pub returning: u64,
    /// Entities active now, not in the previous period, and before it.
    pub resurrecting: u64,
    /// Entities active in the previous period and not in this one.
    pub dormant: u64,
}

impl LifecyclePeriod {
    /// The period's row: `active` is new + returning + resurrecting.
    pub fn from_counts(counts: &LifecycleCounts, labels: Labels) -> LifecyclePeriod {
        LifecyclePeriod {
            period: labels.of(counts.period),
            complete: counts.complete,
            active: counts.new + counts.returning + counts.resurrecting,
            new: counts.new,
            returning: counts.returning,
            resurrecting: counts.resurrecting,
            dormant: counts.dormant,
        }
    }
}

impl LifecycleResult {
    /// The table of `overall`'s periods, with one table per breakdown value of `segments` (each
    /// over the same periods; a period a value has no counts for is all zero).
    pub fn from_counts(
        overall: &[LifecycleCounts],
        segments: Option<Vec<(Segment, Vec<LifecycleCounts>)>>,
        labels: Labels,
    ) -> LifecycleResult {
        let rows = |counts: &[LifecycleCounts]| -> Vec<LifecyclePeriod> {
            overall
                .iter()
                .map(|all| {
                    let found = counts.iter().find(|c| c.period == all.period);
                    let zero = LifecycleCounts {
                        period: all.period,
                        complete: all.complete,
                        ..LifecycleCounts::default()
                    };
                    LifecyclePeriod::from_counts(found.unwrap_or(&zero), labels)
                })
                .collect()
        };
        LifecycleResult {
            kind: "lifecycle",
            grain: labels.grain.as_str(),
            periods: rows(overall),
            segments: segments.map(|groups| {
                groups
                    .into_iter()
                    .map(|(segment, counts)| LifecycleSegment {
                        segment,
                        periods: rows(&counts),
                    })
                    .collect()
            }),
        }
    }
}

/// Active entities on one day and in the windows ending on it (docs/config.md,
/// `type = "stickiness"`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct DayCounts {
    /// The day, in days since 1970-01-01.
    pub day: i32,
    /// Active on the day.
    pub dau: u64,
    /// Active on the day or the 6 before.
    pub wau: u64,
    /// Active on the day or the 29 before.
    pub mau: u64,
}

/// Entities of one period by their number of active days in it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ActiveDays {
    /// The period's index.
    pub period: i32,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// `counts[i]`: entities active on exactly `i + 1` days of the period.
    pub counts: Vec<u64>,
}

impl StickinessResult {
    /// The tables from daily counts (in day order) and per-period histograms; `at_least` as
    /// the metric's.
    pub fn from_counts(
        days: &[DayCounts],
        periods: &[ActiveDays],
        at_least: Option<u32>,
        labels: Labels,
    ) -> StickinessResult {
        let days: Vec<StickinessDay> = days
            .iter()
            .map(|d| StickinessDay {
                day: period_label(Grain::Day, labels.week_start, d.day),
                dau: d.dau,
                wau: d.wau,
                mau: d.mau,
                dau_mau: share(d.dau, d.mau),
            })
            .collect();
        let recent: Vec<f64> = days.iter().rev().take(30).filter_map(|d| d.dau_mau).collect();
        let dau_mau_mean = (!recent.is_empty()).then(|| recent.iter().sum::<f64>() / recent.len() as f64);
        let periods = periods
            .iter()
            .map(|p| {
                let active: u64 = p.counts.iter().sum();
                StickinessPeriod {
                    period: labels.of(p.period),
                    complete: p.complete,
                    active,
                    days_active: p.counts.clone(),
                    share_at_least: at_least.map(|n| {
                        let enough: u64 = p.counts.iter().skip(n.saturating_sub(1) as usize).sum();
                        share(enough, active)
                    }),
                }
            })
            .collect();
        StickinessResult {
            kind: "stickiness",
            grain: labels.grain.as_str(),
            at_least,
            days,
            periods,
            dau_mau_mean,
        }
    }
}

impl RetentionRow {
    /// A cohort's row from its counts: each rate is retained ÷ size, `None` where no member is
    /// eligible (docs/config.md, `type = "retention"`); no revenue.
    pub fn from_counts(
        cohort: String,
        segment: Option<Segment>,
        size: u64,
        retained: Vec<u64>,
        eligible: Vec<u64>,
    ) -> RetentionRow {
        RetentionRow {
            cohort,
            segment,
            size,
            rate: retained
                .iter()
                .zip(&eligible)
                .map(|(r, e)| (*e > 0).then(|| *r as f64 / size as f64))
                .collect(),
            retained,
            eligible,
            revenue: None,
            ltv: None,
        }
    }
}

impl RetentionRow {
    /// This row with `value`'s money, from exact micro-unit sums per column: `revenue` in the
    /// column's periods and `ltv`, the cumulative sum ÷ size; both `None` where no member is
    /// eligible, as the rate.
    pub fn with_money(self, revenue_micros: &[i128], cumulative_micros: &[i128]) -> RetentionRow {
        let observed = |column: usize, value: f64| (self.eligible[column] > 0).then_some(value);
        let revenue = revenue_micros
            .iter()
            .enumerate()
            .map(|(column, micros)| observed(column, from_micros(*micros)))
            .collect();
        let ltv = cumulative_micros
            .iter()
            .enumerate()
            .map(|(column, micros)| observed(column, from_micros(*micros) / self.size as f64))
            .collect();
        RetentionRow {
            revenue: Some(revenue),
            ltv: Some(ltv),
            ..self
        }
    }
}

impl RetentionTotal {
    /// The total row with `value`'s money, from exact micro-unit sums per column: `revenue` of
    /// every cohort, and `ltv` per eligible member from the eligible members' cumulative sums
    /// (`None` where nobody is eligible).
    pub fn with_money(self, revenue_micros: &[i128], eligible_cumulative_micros: &[i128]) -> RetentionTotal {
        let revenue = revenue_micros.iter().map(|micros| from_micros(*micros)).collect();
        let ltv = eligible_cumulative_micros
            .iter()
            .zip(&self.eligible)
            .map(|(sum, members)| (*members > 0).then(|| from_micros(*sum) / *members as f64))
            .collect();
        RetentionTotal {
            revenue: Some(revenue),
            ltv: Some(ltv),
            ..self
        }
    }
}

/// What one cohort row adds to the total rows, per column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowCounts {
    /// Members.
    pub size: u64,
    /// Members retained and eligible.
    pub retained_eligible: Vec<u64>,
    /// Members eligible.
    pub eligible: Vec<u64>,
    /// With `value`, in micro-units: the revenue in the column's periods, and the cumulative
    /// revenue of eligible members.
    pub money: Option<(Vec<i128>, Vec<i128>)>,
}

/// The total row of `rows`, and when the cohort is `broken_down` one total row per breakdown
/// value in the order of values ([`Segment::sort_cmp`]; none without rows): every total counts
/// eligible members only. `valued` says the table has `value`'s money.
pub fn retention_totals(
    rows: &[(Option<Segment>, RowCounts)],
    columns: usize,
    valued: bool,
    broken_down: bool,
) -> (RetentionTotal, Option<Vec<SegmentTotal>>) {
    let total_of = |rows: &mut dyn Iterator<Item = &RowCounts>| {
        let mut sum = RowCounts {
            size: 0,
            retained_eligible: vec![0; columns],
            eligible: vec![0; columns],
            money: valued.then(|| (vec![0; columns], vec![0; columns])),
        };
        for row in rows {
            sum.size += row.size;
            let add = |into: &mut [u64], from: &[u64]| into.iter_mut().zip(from).for_each(|(i, f)| *i += f);
            add(&mut sum.retained_eligible, &row.retained_eligible);
            add(&mut sum.eligible, &row.eligible);
            if let (Some((revenue, cumulative)), Some((into_revenue, into_cumulative))) =
                (&row.money, &mut sum.money)
            {
                into_revenue.iter_mut().zip(revenue).for_each(|(i, f)| *i += f);
                into_cumulative
                    .iter_mut()
                    .zip(cumulative)
                    .for_each(|(i, f)| *i += f);
            }
        }
        let total = RetentionTotal::from_counts(sum.size, sum.retained_eligible, sum.eligible);
        match sum.money {
            Some((revenue, cumulative)) => total.with_money(&revenue, &cumulative),
            None => total,
        }
    };
    let total = total_of(&mut rows.iter().map(|(_, counts)| counts));
    let mut values: Vec<&Segment> = Vec::new();
    for segment in rows.iter().filter_map(|(segment, _)| segment.as_ref()) {
        if !values.contains(&segment) {
            values.push(segment);
        }
    }
    values.sort_by(|a, b| a.sort_cmp(b));
    let totals = broken_down.then(|| {
        values
            .into_iter()
            .map(|value| SegmentTotal {
                segment: value.clone(),
                total: total_of(
                    &mut rows
                        .iter()
                        .filter(|(segment, _)| segment.as_ref() == Some(value))
                        .map(|(_, counts)| counts),
                ),
            })
            .collect()
    });
    (total, totals)
}

impl RetentionTotal {
    /// The total row: `retained` counts eligible members only, and each rate is retained ÷
    /// eligible, `None` where no member is eligible; no revenue.
    pub fn from_counts(size: u64, retained: Vec<u64>, eligible: Vec<u64>) -> RetentionTotal {
        RetentionTotal {
            size,
            rate: retained
                .iter()
                .zip(&eligible)
                .map(|(r, e)| share(*r, *e))
                .collect(),
            retained,
            eligible,
            revenue: None,
            ltv: None,
        }
    }
}

/// Microseconds in a day.
const MICROS_PER_DAY: f64 = 86_400_000_000.0;

/// A median time to value in microseconds, in days.
pub fn median_days(median_micros: Option<f64>) -> Option<f64> {
    median_micros.map(|micros| micros / MICROS_PER_DAY)
}

impl ActivationRow {
    /// A cohort's row from its counts: the rate is activated ÷ size, `None` when no member is
    /// eligible.
    pub fn from_counts(
        cohort: String,
        segment: Option<Segment>,
        size: u64,
        activated: u64,
        eligible: u64,
        median_micros: Option<f64>,
    ) -> ActivationRow {
        ActivationRow {
            cohort,
            segment,
            size,
            activated,
            eligible,
            rate: (eligible > 0).then(|| activated as f64 / size as f64),
            median_days: median_days(median_micros),
        }
    }
}

impl ActivationTotal {
    /// The total row: `activated` counts eligible members only, and the rate is activated ÷
    /// eligible, `None` when no member is eligible.
    pub fn from_counts(
        size: u64,
        activated: u64,
        eligible: u64,
        median_micros: Option<f64>,
    ) -> ActivationTotal {
        ActivationTotal {
            size,
            activated,
            eligible,
            rate: share(activated, eligible),
            median_days: median_days(median_micros),
        }
    }
}

/// A survey's counts over some responses (docs/config.md, `type = "survey"`).
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct SurveyCounts {
    /// Responses with a score on the scale.
    pub responses: u64,
    /// Entities with such a response.
    pub respondents: u64,
    /// Responses without a score on the scale.
    pub invalid: u64,
    /// Positive, neutral and negative answers.
    pub positive: u64,
    /// See [`SurveyCounts::positive`].
    pub neutral: u64,
    /// See [`SurveyCounts::positive`].
    pub negative: u64,
    /// The sum of the scores on the scale (whole numbers, so exact).
    pub score_sum: u64,
    /// With `asked`: entities asked.
    pub asked: Option<u64>,
    /// With `follow_up`: how the negative answers were followed up.
    pub follow_up: Option<FollowUpCounts>,
}

/// How a survey's negative answers were followed up.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct FollowUpCounts {
    /// Negative answers followed up within the time allowed.
    pub followed: u64,
    /// The median time, in microseconds, from a negative answer to its follow-up, over the
    /// answers followed up at all by `as_of`.
    pub median_micros: Option<f64>,
}

/// One period's survey counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SurveyPeriodCounts {
    /// The period's index.
    pub period: i32,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// Its counts.
    pub counts: SurveyCounts,
    /// With `waves`: the latest answers of the entities that answered in this period and in
    /// the one before.
    pub wave: Option<WaveCounts>,
}

/// The latest answers, in two consecutive periods, of the entities that answered in both.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct WaveCounts {
    /// The period before (its `responses` is the number of entities).
    pub before: SurveyCounts,
    /// This period.
    pub now: SurveyCounts,
}

impl SurveyFigures {
    /// The figures of `counts` on `scale`.
    pub fn from_counts(counts: &SurveyCounts, scale: SurveyScale) -> SurveyFigures {
        let score = (counts.responses > 0).then(|| {
            let responses = counts.responses as f64;
            match scale {
                SurveyScale::Nps => (counts.positive as f64 - counts.negative as f64) / responses * 100.0,
                SurveyScale::Csat { .. } => counts.positive as f64 / responses,
                SurveyScale::Ces => counts.score_sum as f64 / responses,
            }
        });
        SurveyFigures {
            responses: counts.responses,
            respondents: counts.respondents,
            invalid: counts.invalid,
            positive: counts.positive,
            neutral: counts.neutral,
            negative: counts.negative,
            score,
            asked: counts.asked,
            response_rate: counts.asked.and_then(|asked| share(counts.respondents, asked)),
            follow_up: counts.follow_up.map(|follow_up| FollowUpFigures {
                followed: follow_up.followed,
                rate: share(follow_up.followed, counts.negative),
                median_hours: follow_up.median_micros.map(|micros| micros / 3_600_000_000.0),
            }),
        }
    }
}

/// A breakdown value's survey counts: its values, its total, and with a grain its periods.
pub type SurveySegmentCounts = (Segment, SurveyCounts, Option<Vec<SurveyPeriodCounts>>);

impl SurveyResult {
    /// The result from the counts of every answer, with a grain of each period (`labels` names
    /// them), and with `by` of each breakdown value.
    pub fn from_counts(
        scale: SurveyScale,
        total: &SurveyCounts,
        periods: Option<&[SurveyPeriodCounts]>,
        labels: Option<Labels>,
        segments: Option<Vec<SurveySegmentCounts>>,
    ) -> SurveyResult {
        let rows = |periods: Option<&[SurveyPeriodCounts]>| -> Option<Vec<SurveyPeriod>> {
            let labels = labels?;
            Some(
                periods?
                    .iter()
                    .map(|row| SurveyPeriod {
                        period: labels.of(row.period),
                        complete: row.complete,
                        figures: SurveyFigures::from_counts(&row.counts, scale),
                        wave: row.wave.map(|wave| {
                            let before = SurveyFigures::from_counts(&wave.before, scale).score;
                            let now = SurveyFigures::from_counts(&wave.now, scale).score;
                            WaveFigures {
                                entities: wave.now.responses,
                                before,
                                now,
                                change: now.zip(before).map(|(now, before)| now - before),
                            }
                        }),
                    })
                    .collect(),
            )
        };
        SurveyResult {
            kind: "survey",
            scale: scale.as_str(),
            grain: labels.map(|labels| labels.grain.as_str()),
            total: SurveyFigures::from_counts(total, scale),
            periods: rows(periods),
            segments: segments.map(|segments| {
                segments
                    .into_iter()
                    .map(|(segment, total, periods)| SurveySegment {
                        segment,
                        total: SurveyFigures::from_counts(&total, scale),
                        periods: rows(periods.as_deref()),
                    })
                    .collect()
            }),
        }
    }
}

/// One uplift group's counts over some cohort members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpliftCounts {
    /// Members in the group.
    pub members: u64,
    /// Members whose compared column is over by `as_of`.
    pub eligible: u64,
    /// Eligible members retained in the column.
    pub retained: u64,
}

impl UpliftCounts {
    /// Both counts added.
    pub fn plus(self, other: UpliftCounts) -> UpliftCounts {
        UpliftCounts {
            members: self.members + other.members,
            eligible: self.eligible + other.eligible,
            retained: self.retained + other.retained,
        }
    }

    fn group(self) -> UpliftGroup {
        UpliftGroup {
            members: self.members,
            eligible: self.eligible,
            retained: self.retained,
            rate: share(self.retained, self.eligible),
        }
    }

    /// Whether the group is too small for a normal approximation to mean much: fewer than 30
    /// eligible members, or fewer than 5 retained or 5 not retained.
    fn small(self) -> bool {
        self.eligible < 30 || self.retained < 5 || self.eligible - self.retained < 5
    }
}

impl UpliftComparison {
    /// The comparison of a treatment group with a control group: the difference of their
    /// retained shares, Newcombe's hybrid score interval at 95 % and the pooled z-test's
    /// two-sided p-value (docs/config.md, `type = "uplift"`).
    pub fn from_counts(treatment: UpliftCounts, control: UpliftCounts) -> UpliftComparison {
        let both = (treatment.eligible > 0 && control.eligible > 0).then_some((
            (treatment.retained, treatment.eligible),
            (control.retained, control.eligible),
        ));
        let treated = treatment.group();
        let untreated = control.group();
        let uplift = treated.rate.zip(untreated.rate).map(|(t, c)| t - c);
        let interval = both.map(|(t, c)| crate::stats::newcombe(t, c, crate::stats::Z_95));
        UpliftComparison {
            relative_uplift: uplift
                .zip(untreated.rate)
                .and_then(|(u, c)| (c > 0.0).then(|| u / c)),
            uplift,
            low: interval.map(|(low, _)| low),
            high: interval.map(|(_, high)| high),
            p_value: both.map(|(t, c)| crate::stats::two_proportion_p_value(t, c)),
            small: treatment.small() || control.small(),
            treatment: treated,
            control: untreated,
        }
    }
}

/// One cohort row's counts of an uplift: its label, breakdown values, and the treatment's and the
/// control's counts.
pub type UpliftRowCounts = (String, Option<Segment>, UpliftCounts, UpliftCounts);

impl UpliftResult {
    /// The uplift of `metric` (which compares a column of `retention`) from each cohort row's
    /// counts, in cohort order, and the members left out.
    pub fn from_counts(
        metric: &crate::Uplift,
        retention: &crate::Retention,
        rows: Vec<UpliftRowCounts>,
        ungrouped: u64,
        conflicting: u64,
    ) -> UpliftResult {
        let (treatment, control) = rows.iter().fold(
            (UpliftCounts::default(), UpliftCounts::default()),
            |(t, c), (_, _, row_t, row_c)| (t.plus(*row_t), c.plus(*row_c)),
        );
        UpliftResult {
            kind: "uplift",
            retention: metric.retention.clone(),
            period: retention.mode.cell_label(metric.cell),
            treatment: metric.treatment.clone(),
            control: metric.control.clone(),
            method: "newcombe",
            confidence: 0.95,
            cohorts: rows
                .into_iter()
                .map(|(cohort, segment, treatment, control)| UpliftRow {
                    cohort,
                    segment,
                    comparison: UpliftComparison::from_counts(treatment, control),
                })
                .collect(),
            total: UpliftComparison::from_counts(treatment, control),
            ungrouped,
            conflicting,
        }
    }
}

/// A group value as the config writes `treatment` and `control`: text as it is, a whole number
/// without decimals, `true` or `false`; `None` for a missing value.
pub fn group_text(value: &ScalarValue) -> Option<String> {
    match value {
        ScalarValue::Null => None,
        ScalarValue::Bool(flag) => Some(flag.to_string()),
        ScalarValue::Number(number) if number.fract() == 0.0 && number.abs() < 1e15 => {
            Some(format!("{}", *number as i64))
        }
        ScalarValue::Number(number) => Some(number.to_string()),
        ScalarValue::String(text) => Some(text.clone()),
    }
}

/// One period's win-back counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WinbackCounts {
    /// Period index.
    pub period: i32,
    /// Whether the return window of the period's first day is over by `as_of`.
    pub complete: bool,
    /// Entities dormant on the period's first day.
    pub dormant: u64,
    /// Of those, the entities back within the window.
    pub returned: u64,
}

/// One breakdown value's win-back counts, over the whole table's periods.
pub type WinbackSegmentCounts = (Segment, Vec<WinbackCounts>);

impl WinbackResult {
    /// The win-back table of `metric` from its periods' counts, and with `by` each value's.
    pub fn from_counts(
        metric: &crate::Winback,
        periods: &[WinbackCounts],
        segments: Option<Vec<WinbackSegmentCounts>>,
        labels: Labels,
    ) -> WinbackResult {
        // Each table over the whole table's periods; a period a value has no counts for is zero.
        let rows = |counts: &[WinbackCounts]| -> (Vec<WinbackPeriod>, WinbackTotal) {
            let counts: Vec<WinbackCounts> = periods
                .iter()
                .map(|all| {
                    let found = counts.iter().find(|c| c.period == all.period);
                    found.copied().unwrap_or(WinbackCounts {
                        dormant: 0,
                        returned: 0,
                        ..*all
                    })
                })
                .collect();
            let complete = counts.iter().filter(|c| c.complete);
            let (dormant, returned) = complete.fold((0, 0), |(d, r), c| (d + c.dormant, r + c.returned));
            let periods = counts
                .iter()
                .map(|c| WinbackPeriod {
                    period: labels.of(c.period),
                    complete: c.complete,
                    dormant: c.dormant,
                    returned: c.returned,
                    rate: share(c.returned, c.dormant),
                })
                .collect();
            let total = WinbackTotal {
                dormant,
                returned,
                rate: share(returned, dormant),
            };
            (periods, total)
        };
        let (periods, total) = rows(periods);
        WinbackResult {
            kind: "winback",
            dormant_days: metric.dormant_days,
            within_days: metric.within_days,
            grain: metric.grain.as_str(),
            periods,
            total,
            segments: segments.map(|segments| {
                segments
                    .into_iter()
                    .map(|(segment, counts)| {
                        let (periods, total) = rows(&counts);
                        WinbackSegment {
                            segment,
                            periods,
                            total,
                        }
                    })
                    .collect()
            }),
        }
    }
}
