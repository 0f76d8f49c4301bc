//! Cohort assignment: each entity's `t0`, its cohort period and its breakdown values.

use tenure_plan::{Cohort, CohortStart, ScalarValue, Segment};

use super::per_entity;
use crate::Dataset;
use crate::eval::{CHUNK_ROWS, Compiled, FieldSource, Slot, StoreRow, Val, column_value, eval};
use crate::memory::{PREFETCH_ROWS, prefetch};
use crate::segments::{AtPeriodStart, PeriodStartLabels};
use rayon::prelude::*;

/// No cohort.
pub const NO_GROUP: u32 = u32::MAX;

/// The start day of an entity in no cohort.
pub const NO_DAY: i32 = i32::MIN;

/// The cohort row an entity belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupKey {
    /// Period index of the cohort grain.
    pub period: i32,
    /// Breakdown values, `None` without `by`.
    pub segment: Option<Segment>,
}

/// Entities placed in cohort rows.
#[derive(Debug, Clone)]
pub struct Assignment {
    /// Cohort rows, sorted by period then segment.
    pub groups: Vec<GroupKey>,
    /// Group per entity code, [`NO_GROUP`] when the entity is in no cohort.
    pub group_of: Vec<u32>,
    /// `t0` per entity (microseconds UTC); meaningful where `group_of` is set.
    pub t0: Vec<i64>,
    /// Local day of `t0` per entity; [`NO_DAY`] when the entity is in no cohort, so that a
    /// per-row pass can tell membership and start day from one read.
    pub d0: Vec<i32>,
}

impl Assignment {
    /// The window of [`super::first_in_window`] from an entity's `t0` on: from `t0` without end
    /// for a member, an empty one for an entity in no cohort.
    pub(crate) fn since_start(&self, entity: usize) -> (i64, i64) {
        match self.group_of[entity] {
            NO_GROUP => (i64::MAX, i64::MIN),
            _ => (self.t0[entity], i64::MAX),
        }
    }

    /// Entity codes in a cohort.
    pub fn members(&self) -> impl Iterator<Item = usize> + '_ {
        self.group_of
            .iter()
            .enumerate()
            .filter(|(_, g)| **g != NO_GROUP)
            .map(|(e, _)| e)
    }

    /// The distinct breakdown values of the rows, in the report's order of values.
    pub fn segment_values(&self) -> Vec<&Segment> {
        let mut values: Vec<&Segment> = self
            .groups
            .iter()
            .filter_map(|key| key.segment.as_ref())
            .collect();
        values.sort_by(|a, b| a.sort_cmp(b));
        values.dedup();
        values
    }
}

/// Assigns every entity with a start event (or start date) on or before `as_of` to its cohort
/// row.
pub fn assign(data: &Dataset, cohort: &Cohort) -> Assignment {
    let assignment = match &cohort.start {
        CohortStart::Event(start) => assign_by_event(data, cohort, *start),
        CohortStart::Attribute(column) => assign_by_date(data, cohort, column),
    };
    match &cohort.did {
        Some(did) => split_by_did(data, did, assignment),
        None => assignment,
    }
}

/// Places each member again, its last breakdown value (`did.<event>`, null until now) replaced
/// by whether it did `did.event` within `did.within` of its `t0`: true when its first such
/// event at or after `t0` is at most the deadline, false when not and the deadline's local day
/// is on or before `as_of`, null while the window is still open (docs/config.md, `did`).
fn split_by_did(data: &Dataset, did: &tenure_plan::Did, assignment: Assignment) -> Assignment {
    let first = super::first_in_window(data, did.event, |entity| assignment.since_start(entity));
    let timezone = data.plan.project.timezone;
    let place = |entity: usize| -> Option<(i64, i32, i32, Option<Segment>)> {
        let group = assignment.group_of[entity];
        if group == NO_GROUP {
            return None;
        }
        let t0 = assignment.t0[entity];
        let mut clock = crate::calendar::Clock::new(timezone);
        let deadline = crate::calendar::add_calendar(&mut clock, t0, did.within);
        let value = if first[entity] != i64::MAX && first[entity] <= deadline {
            ScalarValue::Bool(true)
        } else if super::over_by_as_of(data, &mut clock, deadline) {
            ScalarValue::Bool(false)
        } else {
            ScalarValue::Null
        };
        let key = &assignment.groups[group as usize];
        let mut segment = key.segment.clone().unwrap_or(Segment(Vec::new()));
        if let Some(last) = segment.0.last_mut() {
            last.1 = value;
        }
        Some((t0, assignment.d0[entity], key.period, Some(segment)))
    };
    placed(data.store.entities.len(), place)
}

/// Assigns by the first start event on or before `as_of`.
fn assign_by_event(data: &Dataset, cohort: &Cohort, start: tenure_plan::EventId) -> Assignment {
    let store = &data.store;
    let starts = data.event_mask(start);
    let entities = store.entities.len();
    // The first start event: earliest time, ties broken by row content, never by row order
    // (rows of equal content differ in nothing a metric reads, so either may be taken).
    const NONE: (i64, u32) = (i64::MAX, u32::MAX);
    let earlier = |candidate: (i64, u32), current: (i64, u32)| {
        current == NONE
            || candidate.0 < current.0
            || (candidate.0 == current.0
                && store
                    .compare_content(candidate.1 as usize, current.1 as usize)
                    .then(candidate.1.cmp(&current.1))
                    .is_lt())
    };
    let first = per_entity(
        store.len(),
        entities,
        NONE,
        |state, row| {
            let ahead = row + PREFETCH_ROWS;
            if starts.get(ahead).is_some_and(|start| *start) {
                prefetch(state, store.entity[ahead] as usize);
            }
            if starts[row] && store.day[row] <= data.as_of_day {
                let entity = store.entity[row] as usize;
                let candidate = (store.time[row], row as u32);
                if earlier(candidate, state[entity]) {
                    state[entity] = candidate;
                }
            }
        },
        |left, right| {
            if right != NONE && earlier(right, *left) {
                *left = right
            }
        },
    );
    // Each piece of entities places its own: the filter, the start day and the breakdown values
    // read the store at each entity's first start row, at random. Cohort rows are numbered as a
    // piece meets them and renumbered into one set afterwards; the final order is sorted.
    let placer = StartPlacer::new(data, cohort);
    let place = |entity: usize| -> Option<(i64, i32, i32, Option<Segment>)> {
        let (time, row) = first[entity];
        if (time, row) == NONE {
            return None;
        }
        placer.place(time, row as usize)
    };
    placed(entities, place)
}

/// A cohort's filter and breakdown, compiled, to place an entity at one of its start rows.
struct StartPlacer<'a> {
    data: &'a Dataset,
    grain: tenure_plan::Grain,
    filter: Option<Compiled>,
    by: Vec<(String, Compiled)>,
    /// The labels the breakdown reads at the start of the cohort period, when it reads any.
    at_period_start: Option<&'a PeriodStartLabels>,
}

impl<'a> StartPlacer<'a> {
    fn new(data: &'a Dataset, cohort: &Cohort) -> StartPlacer<'a> {
        StartPlacer {
            data,
            grain: cohort.grain,
            filter: cohort.filter.as_ref().map(|f| Compiled::new(f, &data.store)),
            by: Compiled::fields(&cohort.by, &data.store),
            at_period_start: period_start_labels(data, cohort),
        }
    }

    /// The `t0`, start day, cohort period and breakdown values of a start at `row` (at
    /// `time`), or none when the cohort's filter leaves it out.
    fn place(&self, time: i64, row: usize) -> Option<(i64, i32, i32, Option<Segment>)> {
        let source = StoreRow {
            store: &self.data.store,
            row,
        };
        if let Some(filter) = &self.filter
            && eval(filter, &source) != Val::Bool(true)
        {
            return None;
        }
        let day = source.local_day(time);
        let period = self.data.calendar.period_index(self.grain, day);
        let segment = (!self.by.is_empty()).then(|| match self.at_period_start {
            Some(labels) => {
                let entity = self.data.store.entity[row] as usize;
                let source = AtPeriodStart {
                    source,
                    labels,
                    period,
                    entity,
                };
                segment_of(&self.by, &source)
            }
            None => segment_of(&self.by, &source),
        });
        Some((time, day, period, segment))
    }
}

/// The breakdown values `by` reads from `source`.
fn segment_of<'a>(by: &'a [(String, Compiled)], source: &impl FieldSource<'a>) -> Segment {
    Segment(
        by.iter()
            .map(|(name, expr)| (name.clone(), scalar(eval(expr, source))))
            .collect(),
    )
}

/// The labels at the start of each of `cohort`'s periods, when its breakdown reads a segment
/// labelled so.
fn period_start_labels<'a>(data: &'a Dataset, cohort: &Cohort) -> Option<&'a PeriodStartLabels> {
    data.plan.period_start_segments(&cohort.by).next()?;
    data.labels_at_period_start(cohort.grain)
}

/// A recurring cohort's members (docs/config.md, `recurring`): one membership per entity and
/// cohort period in which it had a start event on or before `as_of`, from its first start event
/// of that period.
pub(crate) struct Memberships {
    /// Cohort rows, sorted by period then segment.
    pub(crate) groups: Vec<GroupKey>,
    /// `(entity, cohort row, local start day)`, sorted by entity, then start day.
    pub(crate) members: Vec<(u32, u32, i32)>,
}

/// Places every start of a recurring cohort: the first start event of each entity in each
/// cohort period (earliest time, ties by row content as for a cohort's first start), kept when
/// the cohort's filter holds on that row, with the breakdown values read there.
pub(crate) fn memberships(data: &Dataset, cohort: &Cohort) -> Memberships {
    let Some(start) = cohort.start.event() else {
        return Memberships {
            groups: Vec::new(),
            members: Vec::new(),
        };
    };
    let store = &data.store;
    let starts = data.event_mask(start);
    let chunks = store.len().div_ceil(CHUNK_ROWS);
    let mut firsts: Vec<(u32, i32, i64, u32)> = (0..chunks)
        .into_par_iter()
        .flat_map_iter(|chunk| {
            (chunk * CHUNK_ROWS..((chunk + 1) * CHUNK_ROWS).min(store.len()))
                .filter(|row| starts[*row] && store.day[*row] <= data.as_of_day)
                .map(|row| {
                    let period = data.calendar.period_index(cohort.grain, store.day[row]);
                    (store.entity[row], period, store.time[row], row as u32)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    firsts.par_sort_unstable_by(|a, b| {
        (a.0, a.1, a.2)
            .cmp(&(b.0, b.1, b.2))
            .then_with(|| store.compare_content(a.3 as usize, b.3 as usize))
            .then(a.3.cmp(&b.3))
    });
    firsts.dedup_by_key(|first| (first.0, first.1));
    let placer = StartPlacer::new(data, cohort);
    let placed: Vec<Option<(i32, i32, Option<Segment>)>> = firsts
        .par_iter()
        .map(|(_, _, time, row)| {
            placer
                .place(*time, *row as usize)
                .map(|(_, day, period, segment)| (day, period, segment))
        })
        .collect();
    let mut keys = CohortKeys::default();
    let members: Vec<(u32, u32, i32)> = firsts
        .iter()
        .zip(placed)
        .filter_map(|(first, placed)| {
            let (day, period, segment) = placed?;
            Some((first.0, keys.index_of(period, segment), day))
        })
        .collect();
    let (groups, position) = keys.into_sorted();
    Memberships {
        groups,
        members: members
            .into_iter()
            .map(|(entity, key, day)| (entity, position[key as usize], day))
            .collect(),
    }
}

/// Assigns every entity whose date attribute `column` is on or before `as_of`: `t0` is the local
/// midnight that starts that day; the filter and the breakdown read the entity's attributes and
/// segments.
fn assign_by_date(data: &Dataset, cohort: &Cohort, column: &str) -> Assignment {
    let store = &data.store;
    let date = Compiled::fields(&[tenure_plan::Field::Attr(column.to_string())], store);
    let filter = cohort.filter.as_ref().map(|f| Compiled::new(f, store));
    let by = Compiled::fields(&cohort.by, store);
    let at_period_start = period_start_labels(data, cohort);
    let place = |entity: usize| -> Option<(i64, i32, i32, Option<Segment>)> {
        let fields = EntityFields { store, entity };
        let day = match eval(&date[0].1, &fields) {
            Val::Date(day) | Val::Time(_, day) => day,
            Val::Str(text) => chrono::NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
                .map(tenure_plan::time::days_from_date)
                .ok()?,
            _ => return None,
        };
        if day > data.as_of_day {
            return None;
        }
        if let Some(filter) = &filter
            && eval(filter, &fields) != Val::Bool(true)
        {
            return None;
        }
        let midnight = i64::from(day) * crate::calendar::MICROS_PER_DAY;
        let time = crate::calendar::Clock::new(data.plan.project.timezone)
            .local_to_utc(midnight)
            .unwrap_or(midnight);
        let period = data.calendar.period_index(cohort.grain, day);
        let segment = (!by.is_empty()).then(|| match at_period_start {
            Some(labels) => entity_segment_at(&by, store, entity as u32, labels, period),
            None => entity_segment(&by, store, entity as u32),
        });
        Some((time, day, period, segment))
    };
    placed(store.entities.len(), place)
}

/// Places every entity by `place` (its `t0`, start day, cohort period and breakdown values, or
/// none), in parallel pieces, and numbers the cohort rows in their sorted order.
fn placed(
    entities: usize,
    place: impl Fn(usize) -> Option<(i64, i32, i32, Option<Segment>)> + Sync,
) -> Assignment {
    let pieces: Vec<PlacedPiece> = (0..entities.div_ceil(ENTITIES_PER_PIECE))
        .into_par_iter()
        .map(|piece| {
            let range = piece * ENTITIES_PER_PIECE..((piece + 1) * ENTITIES_PER_PIECE).min(entities);
            let mut placed = PlacedPiece {
                keys: CohortKeys::default(),
                key_of: vec![NO_GROUP; range.len()],
                t0: vec![0i64; range.len()],
                d0: vec![NO_DAY; range.len()],
            };
            for (at, entity) in range.enumerate() {
                if let Some((time, day, period, segment)) = place(entity) {
                    placed.t0[at] = time;
                    placed.d0[at] = day;
                    placed.key_of[at] = placed.keys.index_of(period, segment);
                }
            }
            placed
        })
        .collect();
    let PlacedPiece { keys, key_of, t0, d0 } = PlacedPiece::merge(pieces);
    let (groups, group_of_key) = keys.into_sorted();
    let group_of = key_of
        .iter()
        .map(|key| match *key {
            NO_GROUP => NO_GROUP,
            key => group_of_key[key as usize],
        })
        .collect();
    Assignment {
        groups,
        group_of,
        t0,
        d0,
    }
}

/// Entities placed per parallel piece of [`assign`].
const ENTITIES_PER_PIECE: usize = 1 << 14;

/// What one piece of entities placed: cohort rows numbered as the piece met them, and per
/// entity of the piece its row, `t0` and start day.
struct PlacedPiece {
    keys: CohortKeys,
    key_of: Vec<u32>,
    t0: Vec<i64>,
    d0: Vec<i32>,
}

impl PlacedPiece {
    /// The pieces one after another, their cohort rows renumbered into one set.
    fn merge(pieces: Vec<PlacedPiece>) -> PlacedPiece {
        let entities = pieces.iter().map(|piece| piece.key_of.len()).sum();
        let mut merged = PlacedPiece {
            keys: CohortKeys::default(),
            key_of: Vec::with_capacity(entities),
            t0: Vec::with_capacity(entities),
            d0: Vec::with_capacity(entities),
        };
        for piece in pieces {
            let mut renumbered = vec![0u32; piece.keys.count as usize];
            for (period, segments) in piece.keys.by_period {
                for (segment, index) in segments {
                    renumbered[index as usize] = merged.keys.index_of(period, segment);
                }
            }
            merged.key_of.extend(piece.key_of.iter().map(|key| match *key {
                NO_GROUP => NO_GROUP,
                key => renumbered[key as usize],
            }));
            merged.t0.extend(piece.t0);
            merged.d0.extend(piece.d0);
        }
        merged
    }
}

/// The distinct cohort rows met so far, each with the index it was given when first met.
#[derive(Default)]
struct CohortKeys {
    /// Per period: its segments, sorted, with their indices.
    by_period: std::collections::BTreeMap<i32, Vec<(Option<Segment>, u32)>>,
    count: u32,
}

impl CohortKeys {
    /// The index of cohort row (`period`, `segment`), a new one if it was not met before.
    fn index_of(&mut self, period: i32, segment: Option<Segment>) -> u32 {
        let segments = self.by_period.entry(period).or_default();
        match segments.binary_search_by(|(known, _)| compare_segments(known, &segment)) {
            Ok(at) => segments[at].1,
            Err(at) => {
                segments.insert(at, (segment, self.count));
                self.count += 1;
                self.count - 1
            }
        }
    }

    /// The cohort rows sorted by period then segment, and the position there of each index.
    fn into_sorted(self) -> (Vec<GroupKey>, Vec<u32>) {
        let mut position = vec![0u32; self.count as usize];
        let mut groups = Vec::with_capacity(self.count as usize);
        for (period, segments) in self.by_period {
            for (segment, index) in segments {
                position[index as usize] = groups.len() as u32;
                groups.push(GroupKey { period, segment });
            }
        }
        (groups, position)
    }
}

fn compare_segments(a: &Option<Segment>, b: &Option<Segment>) -> std::cmp::Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.sort_cmp(b),
        (None, None) => std::cmp::Ordering::Equal,
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
    }
}

/// A breakdown value as it appears in output.
pub fn scalar(value: Val<'_>) -> ScalarValue {
    match value {
        Val::Null | Val::List(_) => ScalarValue::Null,
        Val::Bool(flag) => ScalarValue::Bool(flag),
        Val::Num(number) => ScalarValue::Number(number),
        Val::Str(text) => ScalarValue::String(text.into_owned()),
        Val::Date(day) | Val::Time(_, day) => ScalarValue::String(crate::calendar::day_label(day)),
    }
}

/// The breakdown values `keys` (from [`Compiled::fields`]) give entity `entity`: its
/// attributes and segment labels, for metrics broken down per entity (revenue, lifecycle).
pub(crate) fn entity_segment(
    keys: &[(String, Compiled)],
    store: &crate::store::EventStore,
    entity: u32,
) -> Segment {
    let fields = EntityFields {
        store,
        entity: entity as usize,
    };
    segment_of(keys, &fields)
}

/// [`entity_segment`] at the start of `period`: segments labelled at a period's start read
/// their label then (`labels`).
pub(crate) fn entity_segment_at(
    keys: &[(String, Compiled)],
    store: &crate::store::EventStore,
    entity: u32,
    labels: &PeriodStartLabels,
    period: i32,
) -> Segment {
    let source = AtPeriodStart {
        source: EntityFields {
            store,
            entity: entity as usize,
        },
        labels,
        period,
        entity: entity as usize,
    };
    segment_of(keys, &source)
}

/// The per-entity attribute and segment values, for breakdowns of per-entity metrics.
struct EntityFields<'a> {
    store: &'a crate::store::EventStore,
    entity: usize,
}

impl<'a> FieldSource<'a> for EntityFields<'a> {
    fn get(&self, slot: Slot) -> Val<'a> {
        match slot {
            Slot::Attr(index) => column_value(&self.store.attrs[index].1, self.entity),
            Slot::Segment(index) => column_value(&self.store.segments[index].1, self.entity),
            Slot::Entity => Val::Str(std::borrow::Cow::Borrowed(
                self.store.entities.get(self.entity as u32),
            )),
            _ => Val::Null,
        }
    }

    fn local_day(&self, micros: i64) -> i32 {
        micros.div_euclid(crate::calendar::MICROS_PER_DAY) as i32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(name: &str) -> Option<Segment> {
        Some(Segment(vec![(
            "plan".to_string(),
            ScalarValue::String(name.to_string()),
        )]))
    }

    #[test]
    fn cohort_rows_are_found_again_and_sorted_by_period_then_segment() {
        let mut keys = CohortKeys::default();
        // Met in this order: (5, pro), (3, basic), (5, basic), (5, pro) again, (3, basic) again.
        let met = [
            keys.index_of(5, plan("pro")),
            keys.index_of(3, plan("basic")),
            keys.index_of(5, plan("basic")),
            keys.index_of(5, plan("pro")),
            keys.index_of(3, plan("basic")),
        ];
        assert_eq!(met, [0, 1, 2, 0, 1]);
        let (groups, position) = keys.into_sorted();
        let order: Vec<(i32, Option<Segment>)> = groups.into_iter().map(|g| (g.period, g.segment)).collect();
        assert_eq!(order, [(3, plan("basic")), (5, plan("basic")), (5, plan("pro"))]);
        // Index 0 (5, pro) is row 2, index 1 (3, basic) row 0, index 2 (5, basic) row 1.
        assert_eq!(position, [2, 0, 1]);
    }

    #[test]
    fn pieces_placed_apart_merge_into_one_numbering() {
        // Piece one: entity 0 in (5, pro), entity 1 in none, entity 2 in (3, basic).
        let mut one = PlacedPiece {
            keys: CohortKeys::default(),
            key_of: vec![0; 3],
            t0: vec![50, 0, 30],
            d0: vec![5, NO_DAY, 3],
        };
        one.key_of = vec![
            one.keys.index_of(5, plan("pro")),
            NO_GROUP,
            one.keys.index_of(3, plan("basic")),
        ];
        // Piece two meets (3, basic) first, then a row of its own, (7, pro).
        let mut two = PlacedPiece {
            keys: CohortKeys::default(),
            key_of: vec![0; 2],
            t0: vec![31, 70],
            d0: vec![3, 7],
        };
        two.key_of = vec![
            two.keys.index_of(3, plan("basic")),
            two.keys.index_of(7, plan("pro")),
        ];
        assert_eq!(two.key_of, [0, 1]);
        let merged = PlacedPiece::merge(vec![one, two]);
        let (groups, position) = merged.keys.into_sorted();
        let rows: Vec<(i32, Option<Segment>)> = groups.into_iter().map(|g| (g.period, g.segment)).collect();
        assert_eq!(rows, [(3, plan("basic")), (5, plan("pro")), (7, plan("pro"))]);
        let row_of: Vec<Option<u32>> = merged
            .key_of
            .iter()
            .map(|key| (*key != NO_GROUP).then(|| position[*key as usize]))
            .collect();
        // Entities 2 and 3 share (3, basic) although each piece numbered it apart.
        assert_eq!(row_of, [Some(1), None, Some(0), Some(0), Some(2)]);
        assert_eq!(merged.t0, [50, 0, 30, 31, 70]);
        assert_eq!(merged.d0, [5, NO_DAY, 3, 3, 7]);
    }
}
