//! Exact de-duplication by row fingerprints.
//!
//! A row's fingerprint is the wrapping sum, over its non-empty columns, of a 128-bit hash of the
//! column's name (as the hash seed) and value. A sum does not depend on column order, so rows
//! of files with their columns in another order compare equal, and each column can be hashed in
//! its own loop (or once per dictionary value). Text is hashed as its bytes, in every format;
//! a typed value (a Parquet number or timestamp) is hashed as its type and value.
//!
//! Rows are compared by fingerprint: every part sorts its rows' fingerprints into partitions by
//! their top bits as it is read; at the end each partition goes through its own small hash set,
//! in parallel, visiting parts in file order so that the first occurrence is the one kept.

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_128_with_seed};

use crate::memory::{PREFETCH_ROWS, prefetch};

/// The hash seed of a column, from its name.
pub(crate) fn column_seed(name: &str) -> u64 {
    xxh3_64(name.as_bytes())
}

/// The contribution of a text value to its row's fingerprint (nothing when empty).
#[inline]
pub(crate) fn text_hash(seed: u64, value: &str) -> u128 {
    if value.is_empty() {
        0
    } else {
        xxh3_128_with_seed(value.as_bytes(), seed)
    }
}

/// Kinds of typed values, so that equal bits of different types hash apart.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TypedKind {
    Integer = 1,
    Float = 2,
    Boolean = 3,
    Decimal = 4,
    Date = 5,
    DateMillis = 6,
    TimestampSeconds = 7,
    TimestampMillis = 8,
    TimestampMicros = 9,
    TimestampNanos = 10,
}

/// The contribution of a typed value (its bits as an `i128`/`u128`) to its row's fingerprint.
#[inline]
pub(crate) fn typed_hash(seed: u64, kind: TypedKind, bits: u128) -> u128 {
    let seed = seed ^ (kind as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    match u64::try_from(bits) {
        // Most values fit 64 bits: xxh3 has a shorter path for 8 bytes.
        Ok(small) => xxh3_128_with_seed(&small.to_le_bytes(), seed),
        Err(_) => xxh3_128_with_seed(&bits.to_le_bytes(), seed),
    }
}

/// How many leading bits of a fingerprint choose its partition.
const PARTITION_BITS: u32 = 12;
const PARTITIONS: usize = 1 << PARTITION_BITS;

fn partition_of(fingerprint: u128) -> u16 {
    (fingerprint >> (128 - PARTITION_BITS)) as u16
}

/// The compared bits of a fingerprint: the 64 below its partition bits. With the partition,
/// 76 bits tell rows apart: two distinct rows among a billion share them with a probability of
/// about 7·10⁻⁶, among a hundred million of about 7·10⁻⁸.
#[inline]
fn key_of(fingerprint: u128) -> u64 {
    (fingerprint << PARTITION_BITS >> 64) as u64
}

/// How many rows' fingerprints a part groups at a time, at most (and one batch more): the
/// keys of a block (1 MiB) stay in a core's cache while they are sorted into partitions, where
/// a row group of millions of rows would scatter them over tens of megabytes.
pub(crate) const BLOCK_ROWS: usize = 1 << 17;

/// The fingerprints of a block of consecutive rows of a part, grouped by partition (rows in
/// order within each).
///
/// A row's place is not stored with its key: the partition of each row, in row order, is
/// enough to find the row of the `k`-th key of a partition again (10 bytes a row in all).
#[derive(Debug, Default)]
pub(crate) struct PartitionedRows {
    /// Where each partition starts in `keys`; `PARTITIONS + 1` entries.
    offsets: Vec<u32>,
    /// [`key_of`] each row's fingerprint, by partition.
    keys: Vec<u64>,
    /// The partition of each row, in row order.
    partitions: Vec<u16>,
}

impl PartitionedRows {
    /// Groups `fingerprints` (one per row, in row order) by partition.
    pub(crate) fn new(fingerprints: &[u128]) -> PartitionedRows {
        let partitions: Vec<u16> = fingerprints.iter().map(|f| partition_of(*f)).collect();
        let mut offsets = vec![0u32; PARTITIONS + 1];
        for partition in &partitions {
            offsets[usize::from(*partition) + 1] += 1;
        }
        for p in 0..PARTITIONS {
            offsets[p + 1] += offsets[p];
        }
        let mut next = offsets.clone();
        let mut keys = vec![0u64; fingerprints.len()];
        for (fingerprint, partition) in fingerprints.iter().zip(&partitions) {
            let slot = &mut next[usize::from(*partition)];
            keys[*slot as usize] = key_of(*fingerprint);
            *slot += 1;
        }
        PartitionedRows {
            offsets,
            keys,
            partitions,
        }
    }

    /// How many rows the block holds.
    pub(crate) fn rows(&self) -> usize {
        self.partitions.len()
    }

    /// The keys of partition `p`, its rows in order.
    fn partition(&self, p: usize) -> &[u64] {
        &self.keys[self.offsets[p] as usize..self.offsets[p + 1] as usize]
    }

    /// Sets `mask[row]` for each row that is the `k`-th of partition `p`, for every `(p, k)` of
    /// `places` (sorted).
    fn mark_rows(&self, places: &[(u16, u32)], mask: &mut [bool]) {
        // Per partition, where its marked places start in `places`.
        let mut cursor = vec![u32::MAX; PARTITIONS];
        for (i, (p, _)) in places.iter().enumerate().rev() {
            cursor[usize::from(*p)] = i as u32;
        }
        let mut seen = vec![0u32; PARTITIONS];
        for (row, partition) in self.partitions.iter().enumerate() {
            let p = usize::from(*partition);
            let k = seen[p];
            seen[p] += 1;
            let next = cursor[p] as usize;
            if let Some((marked_p, marked_k)) = places.get(next)
                && usize::from(*marked_p) == p
                && *marked_k == k
            {
                mask[row] = true;
                cursor[p] += 1;
            }
        }
    }
}

/// The keys of one partition seen so far. Keys are already uniform hashes, so a key's low bits
/// are its place: an open-addressing table probed linearly and at most half full, whose slot
/// for a key can be asked for ahead of time ([`KeySet::prefetch`]). Zero marks a free slot (a
/// zero key is remembered apart), and only the slots used are cleared for the next partition.
#[derive(Default)]
struct KeySet {
    slots: Vec<u64>,
    /// The table's size in use, less one (a power of two less one).
    mask: usize,
    used: Vec<u32>,
    has_zero: bool,
}

impl KeySet {
    /// Empties the set and makes room for `keys` keys; no more than that may be inserted
    /// before the next reset (the table would fill up).
    fn reset(&mut self, keys: usize) {
        for at in self.used.drain(..) {
            self.slots[at as usize] = 0;
        }
        self.has_zero = false;
        let size = (keys * 2).next_power_of_two().max(16);
        if size > self.slots.len() {
            self.slots = vec![0; size];
        }
        self.mask = size - 1;
    }

    /// Asks for the slot where `key` would be found.
    #[inline]
    fn prefetch(&self, key: u64) {
        prefetch(&self.slots, key as usize & self.mask);
    }

    /// Adds `key`; whether it was new.
    #[inline]
    fn insert(&mut self, key: u64) -> bool {
        if key == 0 {
            return !std::mem::replace(&mut self.has_zero, true);
        }
        debug_assert!(
            self.used.len() <= self.mask / 2,
            "more keys than the set was reset for"
        );
        let mut at = key as usize & self.mask;
        loop {
            let slot = self.slots[at];
            if slot == key {
                return false;
            }
            if slot == 0 {
                self.slots[at] = key;
                self.used.push(at as u32);
                return true;
            }
            at = (at + 1) & self.mask;
        }
    }
}

/// Marks every row whose fingerprint an earlier row has. `parts` are the parts in file order,
/// each with the store row of its first row; the mask covers `rows` store rows.
pub(crate) fn duplicate_mask(parts: &[(usize, PartitionedRows)], rows: usize) -> Vec<bool> {
    // Per partition, the (part, place in the part's partition) of each repeated key.
    let repeats: Vec<Vec<(u32, u32)>> = (0..PARTITIONS)
        .into_par_iter()
        .map_init(KeySet::default, |seen, p| {
            seen.reset(parts.iter().map(|(_, part)| part.partition(p).len()).sum());
            let mut repeats = Vec::new();
            for (index, (_, part)) in parts.iter().enumerate() {
                let keys = part.partition(p);
                for (k, key) in keys.iter().enumerate() {
                    if let Some(ahead) = keys.get(k + PREFETCH_ROWS) {
                        seen.prefetch(*ahead);
                    }
                    if !seen.insert(*key) {
                        repeats.push((index as u32, k as u32));
                    }
                }
            }
            repeats
        })
        .collect();
    // Per part, its repeated places sorted by partition, then by place.
    let mut places: Vec<Vec<(u16, u32)>> = vec![Vec::new(); parts.len()];
    for (p, repeats) in repeats.into_iter().enumerate() {
        for (index, k) in repeats {
            places[index as usize].push((p as u16, k));
        }
    }
    let mut mask = vec![false; rows];
    // Each part's rows of the mask, split off in turn (parts are in store order).
    let mut rest: &mut [bool] = &mut mask;
    let mut rest_start = 0;
    let mut pieces = Vec::with_capacity(parts.len());
    for (first_row, part) in parts {
        let (_, from_part) = std::mem::take(&mut rest).split_at_mut(first_row - rest_start);
        let (piece, after) = from_part.split_at_mut(part.partitions.len());
        rest = after;
        rest_start = first_row + part.partitions.len();
        pieces.push((part, piece));
    }
    pieces
        .into_par_iter()
        .zip(places)
        .filter(|(_, places)| !places.is_empty())
        .for_each(|((part, piece), places)| part.mark_rows(&places, piece));
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_set_finds_repeats_and_forgets_them_when_reset() {
        let mut set = KeySet::default();
        set.reset(1_000);
        // Keys that share their low bits probe past each other; zero is a key like any other.
        let keys = [0u64, 1, 1 << 40, 2 << 40, 3 << 40 | 1, 7, 0, 1 << 40, 7];
        let new: Vec<bool> = keys.iter().map(|k| set.insert(*k)).collect();
        assert_eq!(new, [true, true, true, true, true, true, false, false, false]);
        // A smaller table next: nothing of the previous partition is left in it.
        set.reset(3);
        assert!(set.insert(1 << 40));
        assert!(set.insert(0));
        assert!(!set.insert(1 << 40));
        // Room is made for as many keys as a partition holds, never fewer.
        set.reset(5_000);
        let many: Vec<bool> = (0..5_000u64).map(|k| set.insert(k * 0x9e37_79b9)).collect();
        assert!(many.iter().all(|n| *n));
        assert!(!set.insert(4_999 * 0x9e37_79b9));
    }

    #[test]
    fn the_first_occurrence_is_kept_across_parts_and_partitions() {
        // Part one: a, b, a; part two: b, c. Rows 2 (a again) and 3 (b again) are duplicates.
        let (a, b, c) = (text_hash(1, "a"), text_hash(1, "b"), text_hash(1, "c"));
        let parts = vec![
            (0, PartitionedRows::new(&[a, b, a])),
            (3, PartitionedRows::new(&[b, c])),
        ];
        assert_eq!(duplicate_mask(&parts, 5), vec![false, false, true, true, false]);
    }

    #[test]
    fn keys_are_the_64_bits_below_the_partition() {
        let fingerprint = text_hash(7, "row");
        // Bits 127..116 choose the partition, 115..52 are compared, the 52 below are not.
        assert_eq!(key_of(fingerprint ^ 1), key_of(fingerprint));
        assert_eq!(key_of(fingerprint ^ (1 << 51)), key_of(fingerprint));
        assert_ne!(key_of(fingerprint ^ (1 << 52)), key_of(fingerprint));
        assert_ne!(key_of(fingerprint ^ (1 << 115)), key_of(fingerprint));
        assert_eq!(key_of(fingerprint ^ (1 << 116)), key_of(fingerprint));
        assert_ne!(partition_of(fingerprint ^ (1 << 116)), partition_of(fingerprint));
    }

    #[test]
    fn repeated_rows_are_found_back_among_many_parts_and_partitions() {
        // Three parts of 5 000 rows, values cycling over 7 001: row i repeats row i - 7 001.
        let fingerprint = |i: usize| text_hash(1, &format!("v{}", i % 7_001));
        let parts: Vec<(usize, PartitionedRows)> = (0..3)
            .map(|part| {
                let rows: Vec<u128> = (part * 5_000..(part + 1) * 5_000).map(fingerprint).collect();
                (part * 5_000, PartitionedRows::new(&rows))
            })
            .collect();
        let expected: Vec<bool> = (0..15_000).map(|i| i >= 7_001).collect();
        assert_eq!(duplicate_mask(&parts, 15_000), expected);
    }

    #[test]
    fn fingerprints_do_not_depend_on_column_order_but_on_which_column_holds_a_value() {
        let (user, plan) = (column_seed("user"), column_seed("plan"));
        let one = text_hash(user, "u1").wrapping_add(text_hash(plan, "pro"));
        let same = text_hash(plan, "pro").wrapping_add(text_hash(user, "u1"));
        let swapped = text_hash(user, "pro").wrapping_add(text_hash(plan, "u1"));
        assert_eq!(one, same);
        assert_ne!(one, swapped);
        assert_eq!(text_hash(user, ""), 0);
        assert_ne!(
            typed_hash(user, TypedKind::Integer, 5),
            typed_hash(user, TypedKind::Float, 5)
        );
    }
}
