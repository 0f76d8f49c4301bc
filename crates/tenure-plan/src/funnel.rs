//! Funnels: of a cohort's members, those who went through ordered steps within a window of their
//! start (docs/config.md, `type = "funnel"`). Backends count per cohort row; the rates follow
//! here, the same for all.

use crate::figures::median_days;
use crate::report::Segment;

/// One step's counts in a cohort row or a total, as a backend found them.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub struct StepCounts {
    /// Members who reached the step within the window.
    pub reached: u64,
    /// Of them, those whose window is over by `as_of`.
    pub reached_eligible: u64,
    /// Median time from the step before (the start for the first) to this one, in
    /// microseconds, over the members who reached it.
    pub median_micros: Option<f64>,
}

/// A cohort row's (or a total's) counts.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct FunnelCounts {
    /// Members.
    pub size: u64,
    /// Members whose window is over by `as_of`.
    pub eligible: u64,
    /// One per step, in order.
    pub steps: Vec<StepCounts>,
}

/// A `type = "funnel"` metric's table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunnelResult {
    /// Always `"funnel"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The window from the start, as written (`14d`).
    pub within: String,
    /// The steps' value events, in order.
    pub steps: Vec<String>,
    /// One row per cohort (and breakdown value).
    pub cohorts: Vec<FunnelRow>,
    /// Every row together, over eligible members.
    pub total: FunnelTotal,
    /// With a cohort broken down `by`: each breakdown value's total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Vec<FunnelSegmentTotal>>,
}

/// One cohort row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunnelRow {
    /// Cohort label.
    pub cohort: String,
    /// Breakdown values, or `null` without `by`.
    pub segment: Option<Segment>,
    /// Members.
    pub size: u64,
    /// Members whose window is over.
    pub eligible: u64,
    /// Each step: `reached` of every member, `rate` = reached ÷ size (as activation's rows).
    pub steps: Vec<FunnelStep>,
}

/// A total row: counts of eligible members only.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunnelTotal {
    /// Members of the rows summed.
    pub size: u64,
    /// Of them, those whose window is over.
    pub eligible: u64,
    /// Each step: `reached` of eligible members, `rate` = reached ÷ eligible.
    pub steps: Vec<FunnelStep>,
}

/// The total of one breakdown value's rows.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunnelSegmentTotal {
    /// The breakdown values.
    pub segment: Segment,
    /// Its total, by the rule of the overall total.
    pub total: FunnelTotal,
}

/// One step of a row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FunnelStep {
    /// The step's value event.
    pub step: String,
    /// Members who reached it.
    pub reached: u64,
    /// Share of the row's members (of eligible members in a total); `null` when none is eligible.
    pub rate: Option<f64>,
    /// Share of those who reached the step before (the members, for the first step); `null`
    /// when none is eligible or nobody reached the step before.
    pub step_rate: Option<f64>,
    /// Median days from the step before (from the start, for the first) to this one.
    pub median_days: Option<f64>,
}

/// The steps of a row: `reached` picks the count, `base` is the first step's denominator.
fn steps(names: &[String], counts: &FunnelCounts, eligible_only: bool) -> Vec<FunnelStep> {
    let base = if eligible_only {
        counts.eligible
    } else {
        counts.size
    };
    let open = counts.eligible > 0;
    let mut before = base;
    names
        .iter()
        .zip(&counts.steps)
        .map(|(name, step)| {
            let reached = if eligible_only {
                step.reached_eligible
            } else {
                step.reached
            };
            let share =
                |denominator: u64| (open && denominator > 0).then(|| reached as f64 / denominator as f64);
            let result = FunnelStep {
                step: name.clone(),
                reached,
                rate: share(base),
                step_rate: share(before),
                median_days: median_days(step.median_micros),
            };
            before = reached;
            result
        })
        .collect()
}

impl FunnelRow {
    /// A cohort row from its counts.
    pub fn from_counts(
        cohort: String,
        segment: Option<Segment>,
        names: &[String],
        counts: &FunnelCounts,
    ) -> FunnelRow {
        FunnelRow {
            cohort,
            segment,
            size: counts.size,
            eligible: counts.eligible,
            steps: steps(names, counts, false),
        }
    }
}

impl FunnelTotal {
    /// A total row from its counts.
    pub fn from_counts(names: &[String], counts: &FunnelCounts) -> FunnelTotal {
        FunnelTotal {
            size: counts.size,
            eligible: counts.eligible,
            steps: steps(names, counts, true),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_shares_of_the_members_and_of_the_step_before() {
        let names = vec!["a".to_string(), "b".to_string()];
        // 10 members, 8 eligible; 6 reached a (5 eligible), 3 reached b (2 eligible).
        let step = |reached, reached_eligible| StepCounts {
            reached,
            reached_eligible,
            median_micros: Some(86_400_000_000.0),
        };
        let counts = FunnelCounts {
            size: 10,
            eligible: 8,
            steps: vec![step(6, 5), step(3, 2)],
        };
        let row = FunnelRow::from_counts("2025-01".to_string(), None, &names, &counts);
        assert_eq!(
            (row.steps[0].rate, row.steps[0].step_rate),
            (Some(0.6), Some(0.6))
        );
        assert_eq!(
            (row.steps[1].rate, row.steps[1].step_rate),
            (Some(0.3), Some(0.5))
        );
        assert_eq!(row.steps[1].median_days, Some(1.0));
        let total = FunnelTotal::from_counts(&names, &counts);
        assert_eq!(
            (total.steps[0].reached, total.steps[0].rate),
            (5, Some(5.0 / 8.0))
        );
        assert_eq!(total.steps[1].step_rate, Some(2.0 / 5.0));
        // Nobody eligible: no rates.
        let none = FunnelCounts {
            eligible: 0,
            ..counts
        };
        assert_eq!(
            FunnelRow::from_counts(String::new(), None, &names, &none).steps[0].rate,
            None
        );
    }
}
