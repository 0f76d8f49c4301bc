//! `type = "uplift"`: one column of a retention metric, a treatment group against a control
//! group, per cohort row and pooled (docs/config.md, `type = "uplift"`).

use tenure_plan::figures::{UpliftCounts, group_text};
use tenure_plan::{Expr, Retention, ScalarValue, Uplift, UpliftGroups, UpliftResult};

use super::cohort::{NO_GROUP, entity_segment};
use super::retention::member_cells;
use crate::Dataset;
use crate::eval::{Compiled, StoreRow, eval};

/// What an entity's group is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Treatment,
    Control,
    /// Another value, or none.
    Other,
    /// Assignment events that name more than one group.
    Conflicting,
}

/// Computes one uplift.
pub fn evaluate(data: &Dataset, metric: &Uplift, retention: &Retention) -> UpliftResult {
    let assignment = data.assignment(retention.cohort);
    let cohort = &data.plan.cohorts[retention.cohort];
    let members = member_cells(data, retention, &assignment);
    let sides = sides(data, metric);
    let groups = assignment.groups.len();
    let mut counts = vec![(UpliftCounts::default(), UpliftCounts::default()); groups];
    let (mut ungrouped, mut conflicting) = (0, 0);
    for entity in assignment.members() {
        let group = assignment.group_of[entity];
        debug_assert_ne!(group, NO_GROUP);
        let row = &mut counts[group as usize];
        let tally = match sides[entity] {
            Side::Treatment => &mut row.0,
            Side::Control => &mut row.1,
            Side::Other => {
                ungrouped += 1;
                continue;
            }
            Side::Conflicting => {
                conflicting += 1;
                continue;
            }
        };
        let (retained, eligible) = members.cell(entity, assignment.d0[entity], metric.cell);
        tally.members += 1;
        tally.eligible += u64::from(eligible);
        tally.retained += u64::from(retained && eligible);
    }
    let rows = assignment
        .groups
        .iter()
        .zip(counts)
        .map(|(key, (treatment, control))| {
            let label = data.calendar.period_label(cohort.grain, key.period);
            (label, key.segment.clone(), treatment, control)
        })
        .collect();
    UpliftResult::from_counts(metric, retention, rows, ungrouped, conflicting)
}

/// Each entity's side of the comparison.
fn sides(data: &Dataset, metric: &Uplift) -> Vec<Side> {
    let store = &data.store;
    let side = |value: &ScalarValue| match group_text(value) {
        Some(text) if text == metric.treatment => Side::Treatment,
        Some(text) if text == metric.control => Side::Control,
        _ => Side::Other,
    };
    match &metric.groups {
        UpliftGroups::Attribute(field) => {
            let keys = Compiled::fields(std::slice::from_ref(field), store);
            (0..store.entities.len() as u32)
                .map(|entity| side(&entity_segment(&keys, store, entity).0[0].1))
                .collect()
        }
        UpliftGroups::Assignment { event, variant } => {
            // Every value an entity's assignment rows name, up to `as_of`; rows without a value
            // are not assignments. Two different values make the entity conflicting, whatever
            // the order of its rows.
            let assigned = data.event_mask(*event);
            let variant = Compiled::new(&Expr::Field(variant.clone()), store);
            let mut named: Vec<Option<String>> = vec![None; store.entities.len()];
            let mut sides = vec![Side::Other; store.entities.len()];
            for row in (0..store.len()).filter(|row| assigned[*row] && store.day[*row] <= data.as_of_day) {
                let value = super::cohort::scalar(eval(&variant, &StoreRow { store, row }));
                let Some(text) = group_text(&value) else {
                    continue;
                };
                let entity = store.entity[row] as usize;
                match &named[entity] {
                    None => {
                        sides[entity] = side(&value);
                        named[entity] = Some(text);
                    }
                    Some(known) if *known != text => sides[entity] = Side::Conflicting,
                    Some(_) => {}
                }
            }
            sides
        }
    }
}
