//! Code columns kept as narrow as their largest code allows.
//!
//! Event names and most text properties have a few distinct values, yet a `u32` per row took
//! 4 bytes of every row of each such column. A [`Codes`] column holds one byte per row while
//! its codes stay below 255, two below 65 535, and widens once, in place of the whole column,
//! when a larger code arrives.

use rayon::prelude::*;

use crate::eval::CHUNK_ROWS;
use crate::store::NULL_CODE;

/// An unsigned width codes can be stored in; its largest value marks a missing value.
trait Width: Copy + Send + Sync + 'static {
    /// The stored form of [`NULL_CODE`].
    const MISSING: Self;

    /// The stored form of `code`, if it fits this width.
    fn store(code: u32) -> Option<Self>;

    /// The code a stored value stands for.
    fn code(self) -> u32;
}

macro_rules! narrow_width {
    ($t:ty) => {
        impl Width for $t {
            const MISSING: $t = <$t>::MAX;

            #[inline]
            fn store(code: u32) -> Option<$t> {
                if code == NULL_CODE {
                    Some(<$t>::MAX)
                } else {
                    <$t>::try_from(code).ok().filter(|c| *c != <$t>::MAX)
                }
            }

            #[inline]
            fn code(self) -> u32 {
                if self == <$t>::MAX {
                    NULL_CODE
                } else {
                    u32::from(self)
                }
            }
        }
    };
}

narrow_width!(u8);
narrow_width!(u16);

impl Width for u32 {
    const MISSING: u32 = NULL_CODE;

    #[inline]
    fn store(code: u32) -> Option<u32> {
        Some(code)
    }

    #[inline]
    fn code(self) -> u32 {
        self
    }
}

/// One code per row (or [`NULL_CODE`] for a missing value), stored in 1, 2 or 4 bytes.
#[derive(Debug, Clone)]
pub enum Codes {
    /// Codes below 255.
    Narrow(Vec<u8>),
    /// Codes below 65 535.
    Medium(Vec<u16>),
    /// Any code.
    Wide(Vec<u32>),
}

impl Default for Codes {
    fn default() -> Self {
        Codes::Narrow(Vec::new())
    }
}

/// Runs `$body` with `$values` bound to the column's vector, whatever its width.
macro_rules! each_width {
    ($codes:expr, $values:ident => $body:expr) => {
        match $codes {
            Codes::Narrow($values) => $body,
            Codes::Medium($values) => $body,
            Codes::Wide($values) => $body,
        }
    };
}

impl From<Vec<u32>> for Codes {
    /// The codes in the narrowest width that holds them all.
    fn from(codes: Vec<u32>) -> Codes {
        let largest = codes.iter().copied().filter(|c| *c != NULL_CODE).max();
        let mut column = Codes::default();
        column.widen_for(largest.unwrap_or(0));
        match &mut column {
            Codes::Wide(values) => *values = codes,
            narrow => each_width!(narrow, values => extend_stored(values, codes.iter().copied())),
        }
        column
    }
}

/// The stored form of `code` in a width already wide enough for it.
#[inline]
fn stored<W: Width>(code: u32) -> W {
    W::store(code).unwrap_or(W::MISSING)
}

/// Appends `codes` to `values`, whose width is wide enough for them.
#[inline]
fn extend_stored<W: Width>(values: &mut Vec<W>, codes: impl Iterator<Item = u32>) {
    values.extend(codes.map(stored::<W>));
}

impl Codes {
    /// How many rows.
    pub fn len(&self) -> usize {
        each_width!(self, values => values.len())
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The code of row `row` ([`NULL_CODE`] when missing), `None` past the end.
    #[inline]
    pub fn get(&self, row: usize) -> Option<u32> {
        each_width!(self, values => values.get(row).map(|v| v.code()))
    }

    /// Every code, in row order.
    pub fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(|row| self.get(row).unwrap_or(NULL_CODE))
    }

    /// `f` of every row's code, in row order, computed in parallel.
    pub fn par_map<T: Send>(&self, f: impl Fn(u32) -> T + Sync + Send) -> Vec<T> {
        each_width!(self, values => values
            .par_iter()
            .with_min_len(CHUNK_ROWS)
            .map(|v| f(v.code()))
            .collect())
    }

    /// Whether `code` fits the current width.
    fn fits(&self, code: u32) -> bool {
        match self {
            Codes::Narrow(_) => u8::store(code).is_some(),
            Codes::Medium(_) => u16::store(code).is_some(),
            Codes::Wide(_) => true,
        }
    }

    /// Widens the column, if needed, so that it can hold `code`.
    fn widen_for(&mut self, code: u32) {
        if self.fits(code) {
            return;
        }
        // The room reserved for rows to come is kept.
        let capacity = each_width!(&*self, values => values.capacity());
        let mut wider = if u16::store(code).is_some() {
            Codes::Medium(Vec::with_capacity(capacity))
        } else {
            Codes::Wide(Vec::with_capacity(capacity))
        };
        each_width!(&mut wider, values => extend_stored(values, self.iter()));
        *self = wider;
    }

    /// Appends a code.
    #[inline]
    pub fn push(&mut self, code: u32) {
        if !self.fits(code) {
            self.widen_for(code);
        }
        each_width!(self, values => values.push(stored(code)));
    }

    /// Appends the codes of `codes` whose `kept` is true, in order.
    pub fn extend_kept(&mut self, codes: &[u32], kept: &[bool]) {
        let kept_codes = || codes.iter().zip(kept).filter(|(_, k)| **k).map(|(code, _)| *code);
        if let Some(largest) = kept_codes().filter(|c| *c != NULL_CODE).max() {
            self.widen_for(largest);
        }
        each_width!(self, values => extend_stored(values, kept_codes()))
    }

    /// Sets the code of row `row` (which must exist).
    pub fn set(&mut self, row: usize, code: u32) {
        self.widen_for(code);
        each_width!(self, values => if let Some(value) = values.get_mut(row) {
            *value = stored(code);
        })
    }

    /// Appends `rows`, each code `c` written as `translate[c]` (missing values stay missing).
    pub fn extend_translated(&mut self, rows: &Codes, translate: &[u32]) {
        each_width!(rows, more => self.extend_mapped(more.iter().map(|c| c.code()), translate))
    }

    /// Appends `rows` of `u32` codes, each `c` written as `translate[c]`.
    pub fn extend_translated_u32(&mut self, rows: &[u32], translate: &[u32]) {
        self.extend_mapped(rows.iter().copied(), translate)
    }

    /// Appends `codes`, each `c` written as `translate[c]`; a missing code, past the end of any
    /// table, stays missing.
    fn extend_mapped(&mut self, codes: impl Iterator<Item = u32>, translate: &[u32]) {
        if let Some(largest) = translate.iter().copied().max() {
            self.widen_for(largest);
        }
        let target = |code: u32| translate.get(code as usize).copied().unwrap_or(NULL_CODE);
        each_width!(self, values => extend_stored(values, codes.map(target)))
    }

    /// Empties the column, keeping its memory.
    pub fn clear(&mut self) {
        each_width!(self, values => values.clear())
    }

    /// Reserves room for `additional` more rows.
    pub fn reserve(&mut self, additional: usize) {
        each_width!(self, values => values.reserve(additional))
    }

    /// Keeps the rows of `kept`, in place.
    pub fn compact(&mut self, kept: &crate::store::KeptRuns) {
        each_width!(self, values => crate::store::compact(values, kept))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_widen_when_a_larger_code_arrives_and_keep_missing_values() {
        let mut codes = Codes::default();
        codes.push(3);
        codes.push(NULL_CODE);
        codes.push(254);
        assert!(matches!(codes, Codes::Narrow(_)));
        // 255 is the narrow form of a missing value: the code 255 needs two bytes.
        codes.push(255);
        assert!(matches!(codes, Codes::Medium(_)));
        codes.push(70_000);
        assert!(matches!(codes, Codes::Wide(_)));
        let all: Vec<u32> = codes.iter().collect();
        assert_eq!(all, vec![3, NULL_CODE, 254, 255, 70_000]);
        assert_eq!(codes.get(5), None);
    }

    #[test]
    fn translated_rows_take_the_width_of_their_largest_code() {
        // Part codes 0, 1, missing, 1 translated through [40, 300]: 40, 300, missing, 300.
        let part = Codes::from(vec![0, 1, NULL_CODE, 1]);
        assert!(matches!(part, Codes::Narrow(_)));
        let mut column = Codes::from(vec![7]);
        column.extend_translated(&part, &[40, 300]);
        assert!(matches!(column, Codes::Medium(_)));
        let all: Vec<u32> = column.iter().collect();
        assert_eq!(all, vec![7, 40, 300, NULL_CODE, 300]);
        column.extend_translated_u32(&[1, 0], &[2, 9]);
        assert_eq!(column.par_map(|c| c).len(), 7);
        assert_eq!(column.get(5), Some(9));
        assert_eq!(column.get(6), Some(2));
        column.set(0, NULL_CODE);
        column.compact(&crate::store::KeptRuns::of(&[
            false, true, false, false, true, false, false,
        ]));
        let kept: Vec<u32> = column.iter().collect();
        assert_eq!(kept, vec![NULL_CODE, 300, NULL_CODE, 9, 2]);
    }

    #[test]
    fn kept_codes_are_appended_in_order_and_widen_only_for_what_is_kept() {
        let mut column = Codes::from(vec![5]);
        // 70 000 is on a dropped row: the kept codes 3, missing, 254 still fit one byte.
        column.extend_kept(&[3, 70_000, NULL_CODE, 254], &[true, false, true, true]);
        assert!(matches!(column, Codes::Narrow(_)));
        assert_eq!(column.iter().collect::<Vec<_>>(), vec![5, 3, NULL_CODE, 254]);
        // A kept 300 needs two bytes; the codes already there keep their values.
        column.extend_kept(&[300, 1], &[true, true]);
        assert!(matches!(column, Codes::Medium(_)));
        assert_eq!(
            column.iter().collect::<Vec<_>>(),
            vec![5, 3, NULL_CODE, 254, 300, 1]
        );
        column.extend_kept(&[9, 9], &[false, false]);
        assert_eq!(column.len(), 6);
    }
}
