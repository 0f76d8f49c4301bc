//! `type = "retention"`: n-day, unbounded and bracket retention (docs/config.md, `type = "retention"`).

use tenure_plan::figures::{RowCounts, retention_totals};
use tenure_plan::{Align, Periods, Retention, RetentionMode, RetentionResult, RetentionRow, Segment, Unit};

use rayon::prelude::*;

use super::amount::AmountReader;
use super::cohort::{Assignment, NO_DAY, NO_GROUP};
use super::{per_entity, per_entity_bits};
use crate::Dataset;
use crate::calendar::{MonthTable, month_last_day};
use crate::memory::{PREFETCH_ROWS, prefetch};

/// How offsets are measured for one metric.
struct Offsets<'a> {
    unit: Unit,
    align: Align,
    data: &'a Dataset,
    months: MonthTable,
}

impl Offsets<'_> {
    /// The offset of a return on local day `day` for an entity that started on `d0`.
    #[inline]
    fn offset(&self, d0: i32, day: i32) -> i32 {
        match (self.unit, self.align) {
            (Unit::Day, _) => day - d0,
            (Unit::Week, Align::Entity) => (day - d0).div_euclid(7),
            (Unit::Week, Align::Calendar) => {
                self.data.calendar.week_index(day) - self.data.calendar.week_index(d0)
            }
            (Unit::Month, _) => self.months.get(day) - self.months.get(d0),
        }
    }

    /// The last local day of period `k` for an entity that started on `d0`.
    fn period_end(&self, d0: i32, k: u32) -> i64 {
        let k = i64::from(k);
        match (self.unit, self.align) {
            (Unit::Day, _) => i64::from(d0) + k,
            (Unit::Week, Align::Entity) => i64::from(d0) + 7 * k + 6,
            (Unit::Week, Align::Calendar) => {
                let week = i64::from(self.data.calendar.week_index(d0)) + k;
                i64::from(self.data.calendar.week_first_day(week as i32)) + 6
            }
            (Unit::Month, _) => i64::from(month_last_day(self.months.get(d0) + k as i32)),
        }
    }
}

/// What each entity's returns amount to.
enum Returned<'a> {
    /// Unbounded mode: the largest offset of a return (−1 for none), against the periods.
    Latest { latest: Vec<i32>, periods: &'a [u32] },
    /// N-day and bracket modes: `words` words of one bit per cell, per entity.
    Cells { bits: Vec<u64>, words: usize },
}

impl Returned<'_> {
    /// Whether `entity` counts as retained in cell `cell`.
    #[inline]
    fn retained(&self, entity: usize, cell: usize) -> bool {
        match self {
            Returned::Latest { latest, periods } => latest[entity] >= periods[cell] as i32,
            Returned::Cells { bits, words } => bits[entity * words + cell / 64] & (1 << (cell % 64)) != 0,
        }
    }
}

/// Entities one task of the per-cohort count handles at least.
const ENTITIES_PER_TALLY: usize = 1 << 14;

/// Members, retained and eligible counts per cohort row and cell, and totals over rows.
struct Tally {
    cells: usize,
    sizes: Vec<u64>,
    /// Per row and cell (`row * cells + cell`).
    kept: Vec<u64>,
    eligible: Vec<u64>,
    /// Per row and cell: retained members who are eligible (what the total rows add up).
    retained_eligible: Vec<u64>,
}

impl Tally {
    fn new(groups: usize, cells: usize) -> Tally {
        Tally {
            cells,
            sizes: vec![0; groups],
            kept: vec![0; groups * cells],
            eligible: vec![0; groups * cells],
            retained_eligible: vec![0; groups * cells],
        }
    }

    /// Counts a member of row `group`; `cell` says whether it is retained and eligible there.
    #[inline]
    fn add(&mut self, group: usize, cell: impl Fn(usize) -> (bool, bool)) {
        self.sizes[group] += 1;
        let row = group * self.cells..(group + 1) * self.cells;
        let kept = &mut self.kept[row.clone()];
        let eligible = &mut self.eligible[row.clone()];
        let retained_eligible = &mut self.retained_eligible[row];
        for index in 0..self.cells {
            let (is_retained, is_eligible) = cell(index);
            kept[index] += u64::from(is_retained);
            eligible[index] += u64::from(is_eligible);
            retained_eligible[index] += u64::from(is_retained && is_eligible);
        }
    }

    /// The counts of both (sums, so the split of entities does not matter).
    fn merged(mut self, other: Tally) -> Tally {
        let pairs = [
            (&mut self.sizes, &other.sizes),
            (&mut self.kept, &other.kept),
            (&mut self.eligible, &other.eligible),
            (&mut self.retained_eligible, &other.retained_eligible),
        ];
        for (mine, theirs) in pairs {
            mine.iter_mut().zip(theirs).for_each(|(m, t)| *m += t);
        }
        self
    }
}

/// Each cohort member's outcome in each column of a retention metric: retained, and eligible.
pub(crate) struct MemberCells<'a> {
    data: &'a Dataset,
    offsets: Offsets<'a>,
    returned: Returned<'a>,
    /// The last period of each column.
    ends: Vec<u32>,
}

impl MemberCells<'_> {
    /// Whether member `entity` (which started on local day `d0`) is retained in column `cell`,
    /// and whether that column's last period is over by `as_of`.
    #[inline]
    pub(crate) fn cell(&self, entity: usize, d0: i32, cell: usize) -> (bool, bool) {
        let end = self.offsets.period_end(d0, self.ends[cell]);
        (
            self.returned.retained(entity, cell),
            end <= i64::from(self.data.as_of_day),
        )
    }
}

/// Which cells of `metric` a return at offset o fills: `words` words of one bit per cell, for o
/// up to `max_needed`, the largest offset any cell needs (unbounded mode marks none: it compares
/// the latest offset with each column's first period).
struct CellMarks {
    cells_at: Vec<u64>,
    words: usize,
    max_needed: usize,
}

impl CellMarks {
    fn of(metric: &Retention) -> CellMarks {
        let cells = metric.mode.cell_count();
        let max_needed = (0..cells).map(|i| metric.mode.last_period(i)).max().unwrap_or(0) as usize;
        let words = cells.div_ceil(64).max(1);
        let mut cells_at = vec![0u64; (max_needed + 1) * words];
        let mut mark = |offset: usize, cell: usize| cells_at[offset * words + cell / 64] |= 1 << (cell % 64);
        match &metric.mode {
            RetentionMode::NDay(periods) => {
                for (cell, k) in periods.iter().enumerate() {
                    mark(*k as usize, cell);
                }
            }
            RetentionMode::Bracket(brackets) => {
                for (cell, (a, b)) in brackets.iter().enumerate() {
                    for offset in *a..=*b {
                        mark(offset as usize, cell);
                    }
                }
            }
            RetentionMode::Unbounded(_) => {}
        }
        CellMarks {
            cells_at,
            words,
            max_needed,
        }
    }
}

/// Finds every cohort member's returns for `metric`.
pub(crate) fn member_cells<'a>(
    data: &'a Dataset,
    metric: &'a Retention,
    assignment: &Assignment,
) -> MemberCells<'a> {
    let store = &data.store;
    let returns = data.event_mask(metric.return_event);
    let offsets = Offsets {
        unit: metric.unit,
        align: metric.align,
        data,
        months: MonthTable::new(data.first_day, data.as_of_day),
    };
    let CellMarks {
        cells_at,
        words,
        max_needed,
    } = CellMarks::of(metric);
    // The offset of each row that is a return of a member, when within the table.
    let offset_of = |row: usize| -> Option<i32> {
        if !returns[row] || store.day[row] > data.as_of_day {
            return None;
        }
        let d0 = assignment.d0[store.entity[row] as usize];
        if d0 == NO_DAY {
            return None;
        }
        let offset = offsets.offset(d0, store.day[row]);
        (offset >= 0).then_some(offset)
    };
    let returned = match &metric.mode {
        RetentionMode::Unbounded(periods) => Returned::Latest {
            latest: per_entity(
                store.len(),
                store.entities.len(),
                -1i32,
                |latest, row| {
                    if let Some(offset) = offset_of(row) {
                        let slot = &mut latest[store.entity[row] as usize];
                        *slot = (*slot).max(offset);
                    }
                },
                |left, right| *left = (*left).max(right),
            ),
            periods,
        },
        RetentionMode::NDay(_) | RetentionMode::Bracket(_) => Returned::Cells {
            bits: per_entity_bits(store.len(), store.entities.len(), words, |bits, row| {
                if let Some(ahead) = store.entity.get(row + PREFETCH_ROWS) {
                    prefetch(&assignment.d0, *ahead as usize);
                    prefetch(bits, *ahead as usize * words);
                }
                if let Some(offset) = offset_of(row)
                    && offset as usize <= max_needed
                {
                    let entity = store.entity[row] as usize;
                    let at = offset as usize * words;
                    for (word, mask) in bits[entity * words..(entity + 1) * words]
                        .iter_mut()
                        .zip(&cells_at[at..at + words])
                    {
                        *word |= mask;
                    }
                }
            }),
            words,
        },
    };
    let ends = (0..metric.mode.cell_count())
        .map(|cell| metric.mode.last_period(cell))
        .collect();
    MemberCells {
        data,
        offsets,
        returned,
        ends,
    }
}

/// Computes one retention table.
pub fn evaluate(data: &Dataset, metric: &Retention) -> RetentionResult {
    let cohort = &data.plan.cohorts[metric.cohort];
    if cohort.recurring {
        let memberships = super::cohort::memberships(data, cohort);
        let tally = recurring_tally(data, metric, &memberships);
        return table(data, metric, &memberships.groups, tally, None);
    }
    let assignment = data.assignment(metric.cohort);
    let store = &data.store;
    let cells = metric.mode.cell_count();
    let members = member_cells(data, metric, &assignment);
    let groups = assignment.groups.len();
    let tally = (0..store.entities.len())
        .into_par_iter()
        .with_min_len(ENTITIES_PER_TALLY)
        .fold(
            || Tally::new(groups, cells),
            |mut tally, entity| {
                let group = assignment.group_of[entity];
                if group != NO_GROUP {
                    let d0 = assignment.d0[entity];
                    tally.add(group as usize, |cell| members.cell(entity, d0, cell));
                }
                tally
            },
        )
        .reduce(|| Tally::new(groups, cells), Tally::merged);
    let money = metric
        .value
        .map(|event| cohort_revenue(data, &assignment, &members.offsets, metric, event));
    table(data, metric, &assignment.groups, tally, money)
}

/// Each membership of a recurring cohort counted in its row: retained in a column when the
/// entity has a return at the column's offsets from that membership's start day, eligible when
/// the column's last period from that day is over by `as_of`.
fn recurring_tally(data: &Dataset, metric: &Retention, memberships: &super::cohort::Memberships) -> Tally {
    let offsets = Offsets {
        unit: metric.unit,
        align: metric.align,
        data,
        months: MonthTable::new(data.first_day, data.as_of_day),
    };
    // Each entity's distinct local days with a return, on or before as_of, sorted.
    let return_days = super::active_periods(data, metric.return_event, tenure_plan::Grain::Day);
    let marks = CellMarks::of(metric);
    let cells = metric.mode.cell_count();
    let ends: Vec<u32> = (0..cells).map(|cell| metric.mode.last_period(cell)).collect();
    let groups = memberships.groups.len();
    memberships
        .members
        .par_chunks(ENTITIES_PER_TALLY)
        .fold(
            || Tally::new(groups, cells),
            |mut tally, chunk| {
                let mut bits = vec![0u64; marks.words];
                for &(entity, group, d0) in chunk {
                    let from = return_days.partition_point(|(e, day)| (*e, *day) < (entity, d0));
                    let days = return_days[from..]
                        .iter()
                        .take_while(|(e, _)| *e == entity)
                        .map(|(_, day)| offsets.offset(d0, *day));
                    bits.fill(0);
                    let mut latest = -1;
                    for offset in days {
                        latest = latest.max(offset);
                        if (0..=marks.max_needed as i32).contains(&offset) {
                            let at = offset as usize * marks.words;
                            for (word, mask) in bits.iter_mut().zip(&marks.cells_at[at..at + marks.words]) {
                                *word |= mask;
                            }
                        }
                    }
                    tally.add(group as usize, |cell| {
                        let retained = match &metric.mode {
                            RetentionMode::Unbounded(periods) => latest >= periods[cell] as i32,
                            _ => bits[cell / 64] & (1 << (cell % 64)) != 0,
                        };
                        let over = offsets.period_end(d0, ends[cell]) <= i64::from(data.as_of_day);
                        (retained, over)
                    });
                }
                tally
            },
        )
        .reduce(|| Tally::new(groups, cells), Tally::merged)
}

/// The table of `metric` from its rows' counts (and money, with `value`).
fn table(
    data: &Dataset,
    metric: &Retention,
    groups: &[super::cohort::GroupKey],
    tally: Tally,
    money: Option<CohortRevenue>,
) -> RetentionResult {
    let cohort = &data.plan.cohorts[metric.cohort];
    let cells = metric.mode.cell_count();
    let Tally {
        sizes,
        kept,
        eligible,
        retained_eligible,
        ..
    } = tally;
    fn row_of(counts: &[u64], cells: usize, group: usize) -> &[u64] {
        &counts[group * cells..(group + 1) * cells]
    }
    let cohort_grain = cohort.grain;
    let rows = groups
        .iter()
        .enumerate()
        .map(|(group, key)| {
            let row = RetentionRow::from_counts(
                data.calendar.period_label(cohort_grain, key.period),
                key.segment.clone(),
                sizes[group],
                row_of(&kept, cells, group).to_vec(),
                row_of(&eligible, cells, group).to_vec(),
            );
            match &money {
                Some(m) => row.with_money(&m.revenue[group], &m.cumulative[group]),
                None => row,
            }
        })
        .collect();
    let counts: Vec<(Option<Segment>, RowCounts)> = groups
        .iter()
        .enumerate()
        .map(|(group, key)| {
            let counts = RowCounts {
                size: sizes[group],
                retained_eligible: row_of(&retained_eligible, cells, group).to_vec(),
                eligible: row_of(&eligible, cells, group).to_vec(),
                money: money
                    .as_ref()
                    .map(|m| (m.revenue[group].clone(), m.eligible_cumulative[group].clone())),
            };
            (key.segment.clone(), counts)
        })
        .collect();
    let (total, totals) = retention_totals(&counts, cells, money.is_some(), !cohort.by.is_empty());
    let mut result = RetentionResult {
        kind: "retention",
        mode: metric.mode.as_str(),
        unit: metric.unit.as_str(),
        align: metric.align.as_str(),
        periods: match &metric.mode {
            RetentionMode::NDay(periods) | RetentionMode::Unbounded(periods) => {
                Periods::Offsets(periods.clone())
            }
            RetentionMode::Bracket(brackets) => {
                Periods::Brackets(brackets.iter().map(|(a, b)| [*a, *b]).collect())
            }
        },
        cohorts: rows,
        total,
        totals,
        benchmark: None,
    };
    result.benchmark = metric.benchmark.as_ref().map(|norm| norm.judge(&result));
    result
}

/// Revenue of a cohort's members by retention column, in micro-units.
struct CohortRevenue {
    /// Per group and column: revenue in the column's periods.
    revenue: Vec<Vec<i128>>,
    /// Per group and column: revenue from offset 0 through the column's last period.
    cumulative: Vec<Vec<i128>>,
    /// Per group and column: the same cumulative revenue, of members eligible for the column
    /// only.
    eligible_cumulative: Vec<Vec<i128>>,
}

fn cohort_revenue(
    data: &Dataset,
    assignment: &Assignment,
    offsets: &Offsets<'_>,
    metric: &Retention,
    event: usize,
) -> CohortRevenue {
    let store = &data.store;
    let mask = data.event_mask(event);
    let cells = metric.mode.cell_count();
    let groups = assignment.groups.len();
    let mut result = CohortRevenue {
        revenue: vec![vec![0; cells]; groups],
        cumulative: vec![vec![0; cells]; groups],
        eligible_cumulative: vec![vec![0; cells]; groups],
    };
    let Some(amount) = data.plan.events[event].amount.as_ref() else {
        return result;
    };
    let amounts = AmountReader::new(data, amount);
    for (row, _) in mask.iter().enumerate().filter(|(_, hit)| **hit) {
        let entity = store.entity[row] as usize;
        let group = assignment.group_of[entity];
        if group == NO_GROUP || store.day[row] > data.as_of_day {
            continue;
        }
        let d0 = assignment.d0[entity];
        let offset = offsets.offset(d0, store.day[row]);
        let Some(micros) = amounts.micros(row).filter(|_| offset >= 0) else {
            continue;
        };
        for cell in 0..cells {
            let in_cell = match &metric.mode {
                RetentionMode::NDay(periods) => offset == periods[cell] as i32,
                RetentionMode::Unbounded(periods) => offset >= periods[cell] as i32,
                RetentionMode::Bracket(brackets) => {
                    (brackets[cell].0 as i32..=brackets[cell].1 as i32).contains(&offset)
                }
            };
            if in_cell {
                result.revenue[group as usize][cell] += micros;
            }
            let last = metric.mode.last_period(cell);
            if offset <= last as i32 {
                result.cumulative[group as usize][cell] += micros;
                if offsets.period_end(d0, last) <= i64::from(data.as_of_day) {
                    result.eligible_cumulative[group as usize][cell] += micros;
                }
            }
        }
    }
    result
}
