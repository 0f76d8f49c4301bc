//! Segments labelled at the start of each period (docs/config.md, `as_of = "period_start"`):
//! a breakdown reads, for each period, the label an entity had when that period began, computed
//! by the plugin from the rows before that day only.

use tenure_plan::{Grain, SegmentDef};

use crate::Dataset;
use crate::eval::{FieldSource, Slot, Val, column_value};
use crate::store::Column;

/// The labels of every segment labelled at a period's start, at the start of each period of one
/// grain, from the period of the first kept row through the period of `as_of`.
pub(crate) struct PeriodStartLabels {
    grain: Grain,
    first_period: i32,
    /// Per segment: its position in `EventStore::segments`, and its labels at the start of each
    /// period from `first_period` on.
    segments: Vec<(usize, Vec<Column>)>,
}

impl PeriodStartLabels {
    /// Calls each segment's plugin once per period of `grain`, as of the day before the period's
    /// first day; a failing plugin gives its segment's name and why.
    pub(crate) fn compute(
        data: &Dataset,
        grain: Grain,
        segments: &[&SegmentDef],
    ) -> Result<PeriodStartLabels, (String, String)> {
        let calendar = data.calendar;
        let last_period = calendar.period_index(grain, data.as_of_day);
        let first_period = calendar.period_index(grain, data.first_day.min(data.as_of_day));
        let days: Vec<i32> = (first_period..=last_period)
            .map(|period| calendar.period_first_day(grain, period) - 1)
            .collect();
        let mut labelled = Vec::with_capacity(segments.len());
        for segment in segments {
            let Some(slot) = data
                .store
                .segments
                .iter()
                .position(|(name, _)| *name == segment.name)
            else {
                continue;
            };
            let columns =
                super::labels_as_of(data, segment, &days).map_err(|error| (segment.name.clone(), error))?;
            labelled.push((slot, columns));
        }
        Ok(PeriodStartLabels {
            grain,
            first_period,
            segments: labelled,
        })
    }

    /// The grain whose periods these labels start.
    pub(crate) fn grain(&self) -> Grain {
        self.grain
    }

    /// The label of `entity` for segment `slot` at the start of `period`; `None` when that
    /// segment is not labelled at a period's start.
    fn label(&self, slot: usize, period: i32, entity: usize) -> Option<Val<'_>> {
        let (_, columns) = self.segments.iter().find(|(s, _)| *s == slot)?;
        let column = usize::try_from(period - self.first_period)
            .ok()
            .and_then(|at| columns.get(at));
        Some(column.map_or(Val::Null, |column| column_value(column, entity)))
    }
}

/// A field source whose segments labelled at a period's start read their label at the start
/// of `period`; every other field is read from `source`.
pub(crate) struct AtPeriodStart<'a, S> {
    pub(crate) source: S,
    pub(crate) labels: &'a PeriodStartLabels,
    pub(crate) period: i32,
    pub(crate) entity: usize,
}

impl<'a, S: FieldSource<'a>> FieldSource<'a> for AtPeriodStart<'a, S> {
    fn get(&self, slot: Slot) -> Val<'a> {
        if let Slot::Segment(index) = slot
            && let Some(value) = self.labels.label(index, self.period, self.entity)
        {
            return value;
        }
        self.source.get(slot)
    }

    fn local_day(&self, micros: i64) -> i32 {
        self.source.local_day(micros)
    }
}
