//! Metric evaluation over a loaded [`Dataset`](crate::Dataset).

pub mod activation;
pub mod amount;
pub mod cohort;
pub mod crr;
pub mod formula;
pub mod retention;
pub mod revenue;
pub mod value;

use rayon::prelude::*;

use crate::eval::CHUNK_ROWS;

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
    let chunks = rows.div_ceil(CHUNK_ROWS);
    (0..chunks)
        .into_par_iter()
        .fold(
            || vec![empty; entities],
            |mut state, chunk| {
                let end = ((chunk + 1) * CHUNK_ROWS).min(rows);
                for row in chunk * CHUNK_ROWS..end {
                    fold(&mut state, row);
                }
                state
            },
        )
        .reduce(
            || vec![empty; entities],
            |mut left, right| {
                for (l, r) in left.iter_mut().zip(right) {
                    merge(l, r);
                }
                left
            },
        )
}
