//! Metric evaluation over a loaded [`Dataset`](crate::Dataset).

pub mod activation;
pub mod amount;
pub mod cohort;
pub mod cohort_revenue;
pub mod crr;
pub mod formula;
pub mod funnel;
pub mod health;
pub mod lifecycle;
pub mod retention;
pub mod revenue;
pub mod stickiness;
pub mod survey;
pub mod uplift;
pub mod value;
pub mod winback;

use rayon::prelude::*;

use crate::eval::CHUNK_ROWS;

/// The distinct (entity, period of `grain`) pairs in which an entity has event `event` on or
/// before `as_of`, sorted by entity, then period.
fn active_periods(data: &crate::Dataset, event: usize, grain: tenure_plan::Grain) -> Vec<(u32, i32)> {
    let store = &data.store;
    let mask = data.event_mask(event);
    let chunks = store.len().div_ceil(CHUNK_ROWS);
    let mut active: Vec<(u32, i32)> = (0..chunks)
        .into_par_iter()
        .flat_map_iter(|chunk| {
            (chunk * CHUNK_ROWS..((chunk + 1) * CHUNK_ROWS).min(store.len()))
                .filter(|row| mask[*row] && store.day[*row] <= data.as_of_day)
                .map(|row| {
                    (
                        store.entity[row],
                        data.calendar.period_index(grain, store.day[row]),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    active.par_sort_unstable();
    active.dedup();
    active
}

/// Splits `rows` into a few contiguous pieces (two per thread), folds each into its own state
/// of `size` slots with `fold`, and merges the states slot by slot with `merge`, in parallel over
/// slot ranges.
fn fold_pieces<T, F, M>(rows: usize, size: usize, empty: T, fold: F, merge: M) -> Vec<T>
where
    T: Copy + Send + Sync,
    F: Fn(&mut [T], usize) + Sync,
    M: Fn(&mut T, T) + Sync,
{
    let pieces = (rayon::current_num_threads() * 2).clamp(1, rows.div_ceil(CHUNK_ROWS).max(1));
    let piece_rows = rows.div_ceil(pieces).max(1);
    let mut states: Vec<Vec<T>> = (0..pieces)
        .into_par_iter()
        .map(|piece| {
            let mut state = vec![empty; size];
            for row in piece * piece_rows..((piece + 1) * piece_rows).min(rows) {
                fold(&mut state, row);
            }
            state
        })
        .collect();
    let mut merged = states.swap_remove(0);
    merged
        .par_chunks_mut(CHUNK_ROWS)
        .enumerate()
        .for_each(|(chunk, slots)| {
            let range = chunk * CHUNK_ROWS..chunk * CHUNK_ROWS + slots.len();
            for state in &states {
                for (slot, other) in slots.iter_mut().zip(&state[range.clone()]) {
                    merge(slot, *other);
                }
            }
        });
    merged
}

/// Folds rows into one value per entity, in parallel, merging with `merge`.
///
/// `merge` must be associative and commutative (min, max, or): the result is then the same for
/// any thread count and any split of the rows.
pub fn per_entity<T, F, M>(rows: usize, entities: usize, empty: T, fold: F, merge: M) -> Vec<T>
where
    T: Copy + Send + Sync,
    F: Fn(&mut [T], usize) + Sync,
    M: Fn(&mut T, T) + Sync,
{
    fold_pieces(rows, entities, empty, fold, merge)
}

/// Whether a window that ends at `instant` is over by `as_of`: its local day is on or before
/// `as_of` (a window without end, `i64::MAX`, never is).
pub(crate) fn over_by_as_of(data: &crate::Dataset, clock: &mut crate::calendar::Clock, instant: i64) -> bool {
    instant != i64::MAX && clock.local_day(instant) <= data.as_of_day
}

/// Per entity, the time of its first row of `event` in its window (`window` gives the first and
/// the last instant, both included; a window that ends before it starts skips the entity), on
/// or before `as_of`; `i64::MAX` when there is none.
pub(crate) fn first_in_window(
    data: &crate::Dataset,
    event: usize,
    window: impl Fn(usize) -> (i64, i64) + Sync,
) -> Vec<i64> {
    let store = &data.store;
    let mask = data.event_mask(event);
    per_entity(
        store.len(),
        store.entities.len(),
        i64::MAX,
        |state, row| {
            if !mask[row] || store.day[row] > data.as_of_day {
                return;
            }
            let entity = store.entity[row] as usize;
            let (from, until) = window(entity);
            let time = store.time[row];
            if from <= time && time <= until && time < state[entity] {
                state[entity] = time;
            }
        },
        |left, right| *left = (*left).min(right),
    )
}

/// Folds rows into `words` 64-bit words of flags per entity (entity `e` owns words
/// `e * words .. (e + 1) * words`), in parallel, merged by bitwise or.
pub fn per_entity_bits<F>(rows: usize, entities: usize, words: usize, fold: F) -> Vec<u64>
where
    F: Fn(&mut [u64], usize) + Sync,
{
    fold_pieces(rows, entities * words, 0u64, fold, |left, right| *left |= right)
}
