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

use std::hash::{BuildHasherDefault, Hasher};

use rayon::prelude::*;
use xxhash_rust::xxh3::{xxh3_64, xxh3_128_with_seed};

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

fn partition_of(fingerprint: u128) -> usize {
    (fingerprint >> (128 - PARTITION_BITS)) as usize
}

/// Bits of an entry that hold the row; the fingerprint bits below its partition bits and above
/// these are the ones compared (96 of them, 108 with the partition: two distinct rows among a
/// billion share them with a probability of about 2·10⁻¹⁵).
const ROW_BITS: u32 = 32;

/// A part row's entry: its fingerprint without the partition bits, its row in the low bits.
#[inline]
fn entry(fingerprint: u128, row: u32) -> u128 {
    ((fingerprint << PARTITION_BITS) >> ROW_BITS << ROW_BITS) | u128::from(row)
}

/// The compared part of an entry.
#[inline]
fn key_of(entry: u128) -> u128 {
    entry >> ROW_BITS
}

/// The fingerprints of one part's rows, grouped by partition (rows in order within each).
#[derive(Debug, Default)]
pub(crate) struct PartitionedRows {
    /// Where each partition starts in `entries`; `PARTITIONS + 1` entries.
    offsets: Vec<u32>,
    /// [`entry`] of each row (counted from the part's first row), by partition.
    entries: Vec<u128>,
}

impl PartitionedRows {
    /// Groups `fingerprints` (one per row, in row order) by partition.
    pub(crate) fn new(fingerprints: &[u128]) -> PartitionedRows {
        let mut offsets = vec![0u32; PARTITIONS + 1];
        for fingerprint in fingerprints {
            offsets[partition_of(*fingerprint) + 1] += 1;
        }
        for p in 0..PARTITIONS {
            offsets[p + 1] += offsets[p];
        }
        let mut next = offsets.clone();
        let mut entries = vec![0u128; fingerprints.len()];
        crate::memory::prefer_huge_pages(&entries);
        for (row, fingerprint) in fingerprints.iter().enumerate() {
            let slot = &mut next[partition_of(*fingerprint)];
            entries[*slot as usize] = entry(*fingerprint, row as u32);
            *slot += 1;
        }
        PartitionedRows { offsets, entries }
    }

    /// The compared fingerprint bits and the row of each row in partition `p`.
    fn partition(&self, p: usize) -> impl Iterator<Item = (u128, u32)> + '_ {
        let range = self.offsets[p] as usize..self.offsets[p + 1] as usize;
        self.entries[range]
            .iter()
            .map(|entry| (key_of(*entry), *entry as u32))
    }

    fn partition_len(&self, p: usize) -> usize {
        (self.offsets[p + 1] - self.offsets[p]) as usize
    }
}

/// Fingerprints are already uniform hashes: the low 64 bits of a key serve as the table hash.
#[derive(Default)]
struct FingerprintHasher(u64);

impl Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.0 = (self.0.rotate_left(5) ^ u64::from(*byte)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
        }
    }

    fn write_u128(&mut self, value: u128) {
        self.0 = value as u64;
    }
}

type FingerprintSet = std::collections::HashSet<u128, BuildHasherDefault<FingerprintHasher>>;

/// Marks every row whose fingerprint an earlier row has. `parts` are the parts in file order,
/// each with the store row of its first row; the mask covers `rows` store rows.
pub(crate) fn duplicate_mask(parts: &[(usize, PartitionedRows)], rows: usize) -> Vec<bool> {
    let duplicates: Vec<Vec<u32>> = (0..PARTITIONS)
        .into_par_iter()
        .map_init(FingerprintSet::default, |seen, p| {
            seen.clear();
            seen.reserve(parts.iter().map(|(_, part)| part.partition_len(p)).sum());
            let mut duplicates = Vec::new();
            for (first_row, part) in parts {
                for (fingerprint, row) in part.partition(p) {
                    if !seen.insert(fingerprint) {
                        duplicates.push((first_row + row as usize) as u32);
                    }
                }
            }
            duplicates
        })
        .collect();
    let mut mask = vec![false; rows];
    for row in duplicates.into_iter().flatten() {
        mask[row as usize] = true;
    }
    mask
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn entries_keep_their_row_and_the_fingerprint_bits_above_it() {
        let fingerprint = text_hash(7, "row");
        let partitioned = PartitionedRows::new(&[fingerprint, 0, fingerprint ^ (1 << 40)]);
        let p = partition_of(fingerprint);
        let rows: Vec<(u128, u32)> = partitioned.partition(p).collect();
        // Rows 0 and 2 share the partition (the bits that differ are below it) and differ in
        // a compared bit; row 1 is elsewhere unless its partition happens to be the same.
        let keys: Vec<u32> = rows.iter().map(|(_, row)| *row).filter(|r| *r != 1).collect();
        assert_eq!(keys, vec![0, 2]);
        let key = |row: u32| rows.iter().find(|(_, r)| *r == row).map(|(k, _)| *k);
        assert_ne!(key(0), key(2));
        // Bits below the row bits are not compared: a difference there alone is not seen.
        assert_eq!(key_of(entry(fingerprint ^ 1, 5)), key_of(entry(fingerprint, 9)));
        assert_eq!(entry(fingerprint, 9) as u32, 9);
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
