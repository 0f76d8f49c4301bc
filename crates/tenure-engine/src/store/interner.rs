//! Strings to dense codes: the keys and hash table shared by every interning path, and the
//! `Interner` that keeps the strings in code order.

/// Bytes of a string kept in its table slot, so that most lookups compare without following a
/// pointer (ids are usually this short).
const INLINE: usize = 11;

/// What a table slot holds of a string: its length (saturated at 255) and its first bytes,
/// zero-padded — compared as a fixed-size value, without a call to `memcmp`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdKey {
    len: u8,
    head: [u8; INLINE],
}

impl IdKey {
    /// The key of the empty string.
    pub(crate) const EMPTY: IdKey = IdKey {
        len: 0,
        head: [0; INLINE],
    };

    /// The key of `value`.
    #[inline]
    pub(crate) fn of(value: &[u8]) -> IdKey {
        let bytes = inline_prefix(value).to_le_bytes();
        let mut head = [0u8; INLINE];
        head.copy_from_slice(&bytes[..INLINE]);
        IdKey {
            len: value.len().min(usize::from(u8::MAX)) as u8,
            head,
        }
    }

    /// Whether the key holds the whole string (so equal keys mean equal strings).
    #[inline]
    pub(crate) fn is_whole(&self) -> bool {
        usize::from(self.len) <= INLINE
    }

    /// The string, when the key holds all of it.
    pub(crate) fn whole(&self) -> Option<&[u8]> {
        self.is_whole().then(|| &self.head[..usize::from(self.len)])
    }
}

/// The first [`INLINE`] bytes of `value` (fewer if it is shorter) as a little-endian number,
/// zero above them: read with a few loads that may overlap, not byte by byte, so that building
/// a key calls no `memcpy` and its bytes are not stored piecemeal and then read back whole.
#[inline]
fn inline_prefix(value: &[u8]) -> u128 {
    let n = value.len().min(INLINE);
    let byte = |at: usize| u128::from(value[at]) << (8 * at);
    match n {
        0 => 0,
        1..=3 => byte(0) | byte(n / 2) | byte(n - 1),
        4..=7 => {
            let low = u32::from_le_bytes([value[0], value[1], value[2], value[3]]);
            let high = u32::from_le_bytes([value[n - 4], value[n - 3], value[n - 2], value[n - 1]]);
            u128::from(low) | (u128::from(high) << (8 * (n - 4)))
        }
        _ => {
            let mut low = [0u8; 8];
            low.copy_from_slice(&value[..8]);
            let mut high = [0u8; 8];
            high.copy_from_slice(&value[n - 8..n]);
            u128::from(u64::from_le_bytes(low)) | (u128::from(u64::from_le_bytes(high)) << (8 * (n - 8)))
        }
    }
}

/// A table slot of 16 bytes: the string's code and key.
#[derive(Debug, Clone, Copy)]
struct Slot {
    code: u32,
    key: IdKey,
}

/// The code of a free slot (no string gets it).
const FREE: u32 = u32::MAX;

const FREE_SLOT: Slot = Slot {
    code: FREE,
    key: IdKey::EMPTY,
};

/// The hash by which strings are found in a [`CodeTable`].
#[inline]
pub(crate) fn text_hash(value: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(value)
}

/// A hash table from strings to codes; the strings themselves are kept by its owner, which
/// hands them in as `stored` (code → bytes) for strings longer than their key.
///
/// Strings are hashed with xxh3 (ids tend to share long prefixes, on which multiply-rotate
/// hashes cluster) and found in 16-byte slots holding the code and the first 11 bytes, so a
/// lookup of a short id reads one slot and follows no pointer. Slots are found by the hash's
/// low bits and probed linearly (the table is at most half full), so the slot of a string can
/// be asked for before it is needed ([`CodeTable::prefetch`]).
#[derive(Debug, Default, Clone)]
pub(crate) struct CodeTable {
    slots: Vec<Slot>,
    len: usize,
}

impl CodeTable {
    /// An empty table with room for `codes` codes.
    pub(crate) fn with_capacity(codes: usize) -> CodeTable {
        let size = if codes == 0 {
            0
        } else {
            (codes * 2).next_power_of_two()
        };
        CodeTable {
            slots: vec![FREE_SLOT; size],
            len: 0,
        }
    }

    /// Asks for the cache line where the string with `hash` would be found.
    #[inline]
    pub(crate) fn prefetch(&self, hash: u64) {
        if !self.slots.is_empty() {
            crate::memory::prefetch(&self.slots, hash as usize & (self.slots.len() - 1));
        }
    }

    /// The code of the string with `hash` and `key`, if it has one; `same(code)` tells whether
    /// a candidate's stored string is the one sought (asked only of strings longer than a key).
    #[inline]
    pub(crate) fn find(&self, hash: u64, key: &IdKey, same: impl Fn(u32) -> bool) -> Option<u32> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        loop {
            let slot = &self.slots[at];
            if slot.code == FREE {
                return None;
            }
            if slot.key == *key && (key.is_whole() || same(slot.code)) {
                return Some(slot.code);
            }
            at = (at + 1) & mask;
        }
    }

    /// Records `code` for the string with `hash` and `key` (not in the table yet); `stored`
    /// gives the strings of codes whose key is not the whole string, to rehash on growth.
    #[inline]
    pub(crate) fn insert<'s>(&mut self, hash: u64, key: IdKey, code: u32, stored: impl Fn(u32) -> &'s [u8]) {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow(stored);
        }
        self.place(hash, Slot { code, key });
        self.len += 1;
    }

    /// Puts `slot` in the first free slot from its hash's place.
    #[inline]
    fn place(&mut self, hash: u64, slot: Slot) {
        let mask = self.slots.len() - 1;
        let mut at = hash as usize & mask;
        while self.slots[at].code != FREE {
            at = (at + 1) & mask;
        }
        self.slots[at] = slot;
    }

    /// Doubles the table (or makes its first one), placing every string again.
    #[cold]
    fn grow<'s>(&mut self, stored: impl Fn(u32) -> &'s [u8]) {
        let size = (self.slots.len() * 2).max(64);
        let old = std::mem::replace(&mut self.slots, vec![FREE_SLOT; size]);
        for slot in old.into_iter().filter(|slot| slot.code != FREE) {
            let hash = match slot.key.whole() {
                Some(whole) => text_hash(whole),
                None => text_hash(stored(slot.code)),
            };
            self.place(hash, slot);
        }
    }

    /// Forgets every code, keeping the memory.
    pub(crate) fn clear(&mut self) {
        self.slots.fill(FREE_SLOT);
        self.len = 0;
    }
}

/// Assigns dense `u32` codes to distinct strings, each stored once (see [`CodeTable`]).
#[derive(Debug, Default, Clone)]
pub struct Interner {
    table: CodeTable,
    values: Vec<Box<str>>,
}

impl Interner {
    /// An empty interner with room for `strings` strings.
    pub fn with_capacity(strings: usize) -> Interner {
        Interner {
            table: CodeTable::with_capacity(strings),
            values: Vec::with_capacity(strings),
        }
    }

    /// The code of `value`, assigning the next one if it is new.
    #[inline]
    pub fn intern(&mut self, value: &str) -> u32 {
        let hash = text_hash(value.as_bytes());
        let key = IdKey::of(value.as_bytes());
        let values = &self.values;
        if let Some(code) = self.table.find(hash, &key, |c| *values[c as usize] == *value) {
            return code;
        }
        let code = self.values.len() as u32;
        self.table
            .insert(hash, key, code, |c| values[c as usize].as_bytes());
        self.values.push(value.into());
        code
    }

    /// The string of a code.
    #[inline]
    pub fn get(&self, code: u32) -> &str {
        &self.values[code as usize]
    }

    /// How many distinct strings.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether nothing was interned.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Forgets every string, keeping the table's memory for the next ones.
    pub fn clear(&mut self) {
        self.table.clear();
        self.values.clear();
    }

    /// All strings in code order.
    pub fn values(&self) -> &[Box<str>] {
        &self.values
    }

    /// All strings in code order, taking them.
    pub fn into_values(self) -> Vec<Box<str>> {
        self.values
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_the_first_bytes_of_every_length_zero_padded() {
        let text = b"abcdefghijklmnopqrstu";
        for len in 0..=text.len() {
            let value = &text[..len];
            let shown = len.min(INLINE);
            let mut head = [0u8; INLINE];
            head[..shown].copy_from_slice(&value[..shown]);
            let key = IdKey::of(value);
            assert_eq!(key.head, head, "length {len}");
            assert_eq!(usize::from(key.len), len);
            assert_eq!(key.whole(), (len <= INLINE).then_some(value));
        }
        assert_eq!(IdKey::of(&[7u8; 300]).len, u8::MAX);
        assert_eq!(IdKey::of(b""), IdKey::EMPTY);
    }
}
