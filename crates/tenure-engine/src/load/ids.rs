//! Entity ids, interned across parts without a cache miss per row.
//!
//! Logs of many customers hold hundreds of thousands of distinct ids, and a hash table of them
//! does not fit in a core's cache: interning ids one row at a time, each part into its own
//! table and then into the store's, costs a cache miss or two per row. Instead a part notes its
//! ids with their hashes, already grouped by [`SHARDS`] ranges of hash ([`PendingIds`]); about
//! a million at a time, each group is interned into its shard of one table shared by every part
//! ([`SharedIds`]), and a shard is small enough to stay in cache while its group is resolved.
//! Codes handed out that way depend on which part got there first, so [`IdOrder`] renumbers
//! them in file order as parts are merged: the first row of an id gives it the next code,
//! exactly as interning row by row would.

use std::sync::Mutex;

use crate::memory::{PREFETCH_ROWS, prefetch};
use crate::store::{CodeTable, IdKey, Interner, text_hash};

/// How many shards the shared table has (a power of two). Fewer shards make noting an id
/// cheaper (a part writes its pending ids to fewer places at once); more keep each shard small
/// enough for a core's cache at larger id counts. At 456 k ids, noting and resolving took 70–85 %
/// of the CPU time with 32 shards that it took with 256 (16: 56 %; 8: resolving slows again).
const SHARDS: usize = 32;

/// A code not assigned yet.
const UNASSIGNED: u32 = u32::MAX;

/// The shard of a hash: bits a shard's table does not place ids by (it takes the low bits,
/// and no shard grows to 2³² slots).
#[inline]
fn shard_of(hash: u64) -> usize {
    (hash >> 32) as usize & (SHARDS - 1)
}

/// String `index` of strings stored end to end in `bytes`, the end of each in `ends`.
#[inline]
fn stored_at<'a>(bytes: &'a [u8], ends: &[usize], index: usize) -> &'a [u8] {
    let start = if index == 0 { 0 } else { ends[index - 1] };
    &bytes[start..ends[index]]
}

/// The id stored in a shard (its `bytes` and `ends`) under provisional code `code`.
#[inline]
fn stored_under<'a>(bytes: &'a [u8], ends: &[usize], code: u32) -> &'a [u8] {
    stored_at(bytes, ends, (code >> SHARD_BITS) as usize)
}

/// One noted id: 32 bytes, the id itself inline when it is short.
#[derive(Debug, Clone, Copy)]
struct PendingId {
    hash: u64,
    /// Its index among the part's pending ids.
    index: u32,
    /// For an id longer than its key: its index among the long ids.
    long: u32,
    key: IdKey,
}

/// Ids a part has seen and not resolved yet, already grouped by the shard they belong to.
#[derive(Debug)]
pub(super) struct PendingIds {
    by_shard: Vec<Vec<PendingId>>,
    count: u32,
    /// Ids longer than a key, stored end to end.
    long_bytes: Vec<u8>,
    long_ends: Vec<usize>,
}

impl Default for PendingIds {
    fn default() -> Self {
        PendingIds {
            by_shard: (0..SHARDS).map(|_| Vec::new()).collect(),
            count: 0,
            long_bytes: Vec::new(),
            long_ends: Vec::new(),
        }
    }
}

impl PendingIds {
    /// Notes `id`; returns its index among the pending ids.
    #[inline]
    pub(super) fn push(&mut self, id: &str) -> u32 {
        let bytes = id.as_bytes();
        let hash = text_hash(bytes);
        let key = IdKey::of(bytes);
        let long = if key.is_whole() {
            0
        } else {
            self.long_bytes.extend_from_slice(bytes);
            self.long_ends.push(self.long_bytes.len());
            (self.long_ends.len() - 1) as u32
        };
        let index = self.count;
        self.by_shard[shard_of(hash)].push(PendingId {
            hash,
            index,
            long,
            key,
        });
        self.count += 1;
        index
    }

    /// How many ids are pending.
    pub(super) fn len(&self) -> usize {
        self.count as usize
    }

    /// The bytes of a pending id.
    fn bytes_of<'a>(&'a self, id: &'a PendingId) -> &'a [u8] {
        match id.key.whole() {
            Some(whole) => whole,
            None => stored_at(&self.long_bytes, &self.long_ends, id.long as usize),
        }
    }

    /// Forgets the pending ids, keeping the memory.
    pub(super) fn clear(&mut self) {
        self.by_shard.iter_mut().for_each(Vec::clear);
        self.count = 0;
        self.long_bytes.clear();
        self.long_ends.clear();
    }
}

/// Bits of a provisional code that name its shard: a code is its id's index in the shard,
/// shifted left, with the shard below, so that the code tells where the id is stored.
const SHARD_BITS: u32 = SHARDS.trailing_zeros();

/// One shard of [`SharedIds`]: its ids, stored end to end, and a table of their provisional
/// codes.
#[derive(Debug, Default)]
struct Shard {
    table: CodeTable,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Shard {
    fn get(&self, index: usize) -> &[u8] {
        stored_at(&self.bytes, &self.ends, index)
    }

    /// The code of pending id `id` of `pending`, given the next one of the shard (numbered
    /// `shard`) if it is new.
    #[inline]
    fn intern(&mut self, id: &PendingId, pending: &PendingIds, shard: usize) -> u32 {
        let Shard { table, bytes, ends } = self;
        if let Some(code) = table.find(id.hash, &id.key, |code| {
            stored_under(bytes, ends, code) == pending.bytes_of(id)
        }) {
            return code;
        }
        // Codes run out at 2²⁷ ids in a shard, 4 billion in all, far more than fit in memory.
        let code = ((ends.len() as u32) << SHARD_BITS) | shard as u32;
        bytes.extend_from_slice(pending.bytes_of(id));
        ends.push(bytes.len());
        table.insert(id.hash, id.key, code, |code| stored_under(bytes, ends, code));
        code
    }
}

/// Entity ids of every event source, interned by parts reading in parallel. Its codes are
/// provisional: an id's place in its shard (see [`SHARD_BITS`]), which depends on the order in
/// which parts happened to resolve their ids; see [`IdOrder`].
#[derive(Debug)]
pub(super) struct SharedIds {
    shards: Vec<Mutex<Shard>>,
}

impl Default for SharedIds {
    fn default() -> Self {
        SharedIds {
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
        }
    }
}

impl SharedIds {
    /// Interns every pending id, shard by shard; `codes` receives the provisional code of each
    /// pending index. The pending ids are left in place (the caller clears them).
    pub(super) fn resolve(&self, pending: &PendingIds, codes: &mut Vec<u32>) {
        codes.clear();
        codes.resize(pending.len(), UNASSIGNED);
        for (shard_index, group) in pending.by_shard.iter().enumerate() {
            if group.is_empty() {
                continue;
            }
            // A panic elsewhere cannot leave a shard half-written: interning one id is the only
            // thing done under the lock, and it does not unwind midway.
            let mut shard = self.shards[shard_index].lock().unwrap_or_else(|e| e.into_inner());
            for (at, id) in group.iter().enumerate() {
                if let Some(ahead) = group.get(at + PREFETCH_ROWS) {
                    shard.table.prefetch(ahead.hash);
                }
                codes[id.index as usize] = shard.intern(id, pending, shard_index);
            }
        }
    }

    /// How many distinct ids the table holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().map(|s| s.ends.len()).unwrap_or(0))
            .sum()
    }
}

/// Final entity codes: each provisional code gets the next final code at the first row that
/// carries it, rows taken in store order.
#[derive(Debug, Default)]
pub(super) struct IdOrder {
    final_code: Vec<u32>,
    /// Provisional codes in final-code order.
    order: Vec<u32>,
}

impl IdOrder {
    /// Appends to `out` the final code of each row's provisional code in `rows`.
    pub(super) fn renumber(&mut self, rows: &[u32], out: &mut Vec<u32>) {
        out.extend(rows.iter().enumerate().map(|(row, &provisional)| {
            if let Some(ahead) = rows.get(row + PREFETCH_ROWS) {
                prefetch(&self.final_code, *ahead as usize);
            }
            let slot = provisional as usize;
            if slot >= self.final_code.len() {
                self.final_code.resize(slot + 1, UNASSIGNED);
            }
            if self.final_code[slot] == UNASSIGNED {
                self.final_code[slot] = self.order.len() as u32;
                self.order.push(provisional);
            }
            self.final_code[slot]
        }));
    }

    /// The ids of every final code, in code order.
    pub(super) fn into_interner(self, ids: SharedIds) -> Interner {
        let shards: Vec<Shard> = ids
            .shards
            .into_iter()
            .map(|shard| shard.into_inner().unwrap_or_else(|e| e.into_inner()))
            .collect();
        let mut interner = Interner::with_capacity(self.order.len());
        for provisional in self.order {
            let shard = &shards[provisional as usize & (SHARDS - 1)];
            let index = (provisional >> SHARD_BITS) as usize;
            // Ids come from `&str`s, so the bytes are valid UTF-8.
            let id = std::str::from_utf8(shard.get(index)).unwrap_or_default();
            interner.intern(id);
        }
        interner
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(ids: &SharedIds, values: &[&str]) -> Vec<u32> {
        let mut pending = PendingIds::default();
        let noted: Vec<u32> = values.iter().map(|v| pending.push(v)).collect();
        assert_eq!(noted, (0..values.len() as u32).collect::<Vec<_>>());
        let mut codes = Vec::new();
        ids.resolve(&pending, &mut codes);
        codes
    }

    #[test]
    fn the_same_id_gets_the_same_code_across_parts_and_final_codes_follow_rows() {
        let ids = SharedIds::default();
        // The second part resolves first: provisional codes follow that order.
        let second = resolve(
            &ids,
            &["carol", "a-long-identifier-of-40-bytes-or-so-xxxxxx", "bob"],
        );
        let first = resolve(
            &ids,
            &[
                "bob",
                "alice",
                "bob",
                "a-long-identifier-of-40-bytes-or-so-xxxxxx",
            ],
        );
        assert_eq!(first[0], first[2]);
        assert_eq!(first[0], second[2]);
        assert_eq!(first[3], second[1]);
        assert_eq!(ids.len(), 4);
        // Merged in file order: first part, then second.
        let mut order = IdOrder::default();
        let mut rows = Vec::new();
        order.renumber(&first, &mut rows);
        order.renumber(&second, &mut rows);
        // bob 0, alice 1, long 2, carol 3 — first appearance in file order.
        assert_eq!(rows, vec![0, 1, 0, 2, 3, 2, 0]);
        let interner = order.into_interner(ids);
        let names: Vec<&str> = interner.values().iter().map(|v| &**v).collect();
        assert_eq!(
            names,
            [
                "bob",
                "alice",
                "a-long-identifier-of-40-bytes-or-so-xxxxxx",
                "carol"
            ]
        );
    }

    #[test]
    fn many_ids_spread_over_shards_keep_distinct_codes() {
        let ids = SharedIds::default();
        let values: Vec<String> = (0..20_000).map(|i| format!("acc_{i:06}")).collect();
        let refs: Vec<&str> = values.iter().map(|v| v.as_str()).collect();
        let codes = resolve(&ids, &refs);
        let again = resolve(&ids, &refs);
        assert_eq!(codes, again);
        let distinct: std::collections::HashSet<u32> = codes.iter().copied().collect();
        assert_eq!(distinct.len(), 20_000);
        // Ids with a shared 11-byte head are told apart by the whole string.
        let long = resolve(&ids, &["prefix-abcd-1", "prefix-abcd-2", "prefix-abcd-1"]);
        assert_ne!(long[0], long[1]);
        assert_eq!(long[0], long[2]);
    }
}
