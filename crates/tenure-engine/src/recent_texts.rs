//! A small memo of texts met recently and what was worked out from them, for a column of few
//! distinct values read value by value.
//!
//! A Parquet text column written without a dictionary (or past its dictionary's limit) holds
//! its values one after another; event names, plans and user agents repeat on nearly every row.
//! Finding such a text in the memo costs a mix of its length and three 8-byte words and one
//! comparison with the text the slot holds, where hashing it whole and probing the column's
//! hash table costs more. A column of many distinct values (ids) rarely finds its text there:
//! the memo judges itself every [`RecentTexts::TRIAL`] lookups and turns off for good once
//! fewer than three in four were found, after which it costs one branch.
//!
//! Text rows (CSV) do not use it: there hashing a field with xxh3 measured no slower than the
//! memo's lookup.

/// Bits of a slot number: 1 024 slots.
const SLOT_BITS: u32 = 10;

/// One slot: the last text that went there and what was worked out from it.
#[derive(Debug, Clone)]
struct Slot<T> {
    text: Vec<u8>,
    derived: Option<T>,
}

/// Texts met recently, each in the slot its mix picks, with what was worked out from them.
#[derive(Debug, Clone)]
pub(crate) struct RecentTexts<T> {
    slots: Vec<Slot<T>>,
    found: usize,
    missed: usize,
    /// Lookups at the last judgement.
    judged: usize,
    on: bool,
}

impl<T: Copy> Default for RecentTexts<T> {
    fn default() -> Self {
        RecentTexts {
            slots: Vec::new(),
            found: 0,
            missed: 0,
            judged: 0,
            on: true,
        }
    }
}

impl<T: Copy> RecentTexts<T> {
    /// Lookups between two judgements.
    pub(crate) const TRIAL: usize = 4096;

    /// A memo turned off from the start.
    #[cfg(test)]
    pub(crate) fn off() -> Self {
        RecentTexts {
            on: false,
            ..Self::default()
        }
    }

    /// Whether the memo is still used.
    #[inline]
    pub(crate) fn is_on(&self) -> bool {
        self.on
    }

    /// What was remembered for `text`, if its slot holds it; `None` also when the memo is off.
    #[inline]
    pub(crate) fn find(&mut self, text: &[u8]) -> Option<T> {
        if !self.on {
            return None;
        }
        if let Some(slot) = self.slots.get(slot_of(text))
            && let Some(derived) = slot.derived
            && same_text(&slot.text, text)
        {
            self.found += 1;
            return Some(derived);
        }
        self.missed += 1;
        if self.found + self.missed - self.judged >= Self::TRIAL {
            self.judge();
        }
        None
    }

    /// Remembers `derived` for `text` (in place of what its slot held), while the memo is on.
    #[inline]
    pub(crate) fn remember(&mut self, text: &[u8], derived: T) {
        if !self.on {
            return;
        }
        if self.slots.is_empty() {
            self.slots = vec![
                Slot {
                    text: Vec::new(),
                    derived: None
                };
                1 << SLOT_BITS
            ];
        }
        let slot = &mut self.slots[slot_of(text)];
        slot.text.clear();
        slot.text.extend_from_slice(text);
        slot.derived = Some(derived);
    }

    /// Turns the memo off if fewer than three in four lookups found their text.
    fn judge(&mut self) {
        self.judged = self.found + self.missed;
        if self.missed * 4 > self.found + self.missed {
            self.on = false;
            self.slots = Vec::new();
        }
    }
}

/// Whether `a` and `b` hold the same bytes, compared eight at a time in line (texts here are
/// short: a call to `memcmp` for each would cost more than the comparison).
#[inline]
fn same_text(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if n < 8 {
        return a == b;
    }
    // Whole words from the start, then the last eight bytes (overlapping the last word).
    (0..n / 8).all(|i| word_at(a, 8 * i) == word_at(b, 8 * i)) && word_at(a, n - 8) == word_at(b, n - 8)
}

/// The eight bytes of `text` from `at` as a little-endian number (0 past the end).
#[inline]
pub(crate) fn word_at(text: &[u8], at: usize) -> u64 {
    text.get(at..at + 8)
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(0, u64::from_le_bytes)
}

/// The slot of `text`: its length and its first, middle and last eight bytes (the bytes
/// themselves when shorter), mixed by one multiplication.
#[inline]
fn slot_of(text: &[u8]) -> usize {
    let n = text.len();
    let (head, middle, tail) = if n >= 8 {
        (word_at(text, 0), word_at(text, n / 2 - 4), word_at(text, n - 8))
    } else {
        let short = text
            .iter()
            .fold(0u64, |word, byte| (word << 8) | u64::from(*byte));
        (short, 0, 0)
    };
    let mixed =
        (head ^ middle.rotate_left(21) ^ tail.rotate_left(42) ^ n as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (mixed >> (64 - SLOT_BITS)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_random::Xorshift;

    /// What `memo` remembers for `text`, or `derived`, remembered.
    fn get_or(memo: &mut RecentTexts<usize>, text: &[u8], derived: usize) -> usize {
        memo.find(text).unwrap_or_else(|| {
            memo.remember(text, derived);
            derived
        })
    }

    /// 300 distinct texts: empty, shorter than a word, and long ones sharing their head, middle
    /// or tail words with others.
    fn few_texts() -> Vec<Vec<u8>> {
        let mut pool: Vec<Vec<u8>> = vec![Vec::new(), b"a".to_vec(), b"ab".to_vec(), b"abcdefg".to_vec()];
        pool.extend((0..100).map(|i| format!("Mozilla/5.0 (agent {i:03}) Safari/537.36").into_bytes()));
        pool.extend((0..100).map(|i| format!("acc_{i}").into_bytes()));
        pool.extend((0..96).map(|i| format!("event_name_{i:02}_same_tail").into_bytes()));
        pool
    }

    #[test]
    fn texts_sharing_a_slot_are_told_apart() {
        let pool = few_texts();
        let mut slots: Vec<usize> = pool.iter().map(|text| slot_of(text)).collect();
        slots.sort_unstable();
        slots.dedup();
        assert!(slots.len() < pool.len(), "no two texts of the pool share a slot");
        let mut memo = RecentTexts::default();
        let mut random = Xorshift::new();
        for _ in 0..20_000 {
            let index = random.below(pool.len() as u64) as usize;
            // What is found for a text is always what was worked out from that text.
            assert_eq!(get_or(&mut memo, &pool[index], index), index);
        }
        assert!(
            memo.is_on(),
            "300 texts over 20 000 lookups are found in the memo"
        );
        assert!(
            memo.found > 3 * memo.missed,
            "{} found, {} missed",
            memo.found,
            memo.missed
        );
    }

    #[test]
    fn the_memo_turns_off_for_many_distinct_texts() {
        let mut memo = RecentTexts::default();
        for i in 0..RecentTexts::<usize>::TRIAL {
            assert_eq!(get_or(&mut memo, format!("account-{i}").as_bytes(), i), i);
        }
        assert!(!memo.is_on());
        // Off, it finds nothing and works every value out.
        memo.remember(b"account-1", 1);
        assert_eq!(memo.find(b"account-1"), None);
        assert_eq!(get_or(&mut memo, b"account-1", 7), 7);
    }

    #[test]
    fn texts_are_the_same_when_every_byte_is() {
        let text = b"Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";
        for len in 0..text.len() {
            let a = &text[..len];
            assert!(same_text(a, a));
            assert!(!same_text(a, &text[..len + 1]));
            for at in 0..len {
                let mut b = a.to_vec();
                b[at] ^= 1;
                assert!(!same_text(a, &b), "length {len}, byte {at}");
            }
        }
    }
}
