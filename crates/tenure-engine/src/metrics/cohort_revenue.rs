//! `type = "revenue"` with `cohort`: each cohort row's revenue per period since its start
//! (docs/config.md, "Revenue retention by cohort").

use tenure_plan::CohortRevenue;
use tenure_plan::cohort_revenue::{CohortRevenueCell, CohortRevenueCounts, CohortRevenueResult, LastPeriod};
use tenure_plan::figures::Labels;

use super::cohort::NO_GROUP;
use super::revenue::revenue_cells;
use crate::Dataset;

/// Counts each cohort row's revenue per period since its start, through the period of `as_of`.
pub fn evaluate(data: &Dataset, metric: &CohortRevenue) -> CohortRevenueResult {
    let cohort = &data.plan.cohorts[metric.cohort];
    let grain = cohort.grain;
    let assignment = data.assignment(metric.cohort);
    let calendar = data.calendar;
    let last = LastPeriod {
        index: calendar.period_index(grain, data.as_of_day),
        complete: calendar.period_last_day(grain, calendar.period_index(grain, data.as_of_day))
            <= data.as_of_day,
    };
    let mut rows: Vec<CohortRevenueCounts> = assignment
        .groups
        .iter()
        .map(|key| CohortRevenueCounts {
            period: key.period,
            segment: key.segment.clone(),
            size: 0,
            cells: vec![CohortRevenueCell::default(); (last.index - key.period + 1).max(0) as usize],
        })
        .collect();
    for entity in assignment.members() {
        rows[assignment.group_of[entity] as usize].size += 1;
    }
    let cells = revenue_cells(data, metric.event, grain, metric.spread.as_ref());
    for entity_cells in cells.chunk_by(|a, b| a.entity == b.entity) {
        let group = assignment.group_of[entity_cells[0].entity as usize];
        if group == NO_GROUP {
            continue;
        }
        let row = &mut rows[group as usize];
        // A period whose sum is zero or less (refunds) counts as no revenue.
        let paid = entity_cells.iter().filter(|cell| cell.micros > 0);
        let base = paid
            .clone()
            .find(|cell| cell.period == row.period)
            .map_or(0, |cell| cell.micros);
        for cell in paid.filter(|cell| cell.period >= row.period && cell.period <= last.index) {
            let counts = &mut row.cells[(cell.period - row.period) as usize];
            counts.revenue += cell.micros;
            counts.customers += 1;
            if base > 0 {
                counts.starting_revenue += cell.micros;
                counts.gross_revenue += cell.micros.min(base);
                counts.starting_customers += 1;
            }
        }
    }
    let labels = Labels {
        grain,
        week_start: calendar.week_start,
    };
    CohortRevenueResult::from_counts(&cohort.name, &rows, labels, last, !cohort.by.is_empty())
}
