//! Reading values out of Arrow arrays: text (UTF-8, views, dictionaries) without copying where
//! the array holds it, other scalars written as text into reused buffers, and text columns turned
//! into interned codes once per dictionary value.

use std::fmt::Write as _;

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef, StringViewArray};
use arrow_buffer::ArrowNativeType;
use arrow_schema::{DataType, TimeUnit};

use crate::store::{NULL_CODE, trimmed};

/// A dictionary code not worked out yet.
const UNSEEN: u32 = NULL_CODE - 1;

/// What a part remembers of one text column: what was derived from the values of its last
/// dictionary (held, so that the same allocation cannot come back as another dictionary), and
/// the cache of recently seen string views.
#[derive(Default)]
pub(super) struct TextMemo<T> {
    values: Option<ArrayRef>,
    derived: Vec<T>,
    by_view: ViewCache<T>,
}

impl<T: Copy> TextMemo<T> {
    /// The derived values for `values`, written by `make` into the memo's buffer (emptied, its
    /// memory kept from one dictionary to the next) when the dictionary is a new one.
    pub(super) fn for_values(
        &mut self,
        values: &ArrayRef,
        make: impl FnOnce(&ArrayRef, &mut Vec<T>),
    ) -> &mut [T] {
        let same = self
            .values
            .as_ref()
            .is_some_and(|known| std::sync::Arc::ptr_eq(known, values));
        if !same {
            self.derived.clear();
            make(values, &mut self.derived);
            self.values = Some(values.clone());
        }
        &mut self.derived
    }

    /// Each row's value derived from its text by `derive` (`None` for null), through the view
    /// cache, emptied first since `strings` is a new array.
    pub(super) fn derived_by_view<'a>(
        &'a mut self,
        strings: &'a StringViewArray,
        mut derive: impl FnMut(&str) -> T + 'a,
    ) -> impl Iterator<Item = Option<T>> + 'a {
        // The empty text's view is all zero bits, the key every slot starts with.
        self.by_view.reset(derive(""));
        let cache = &mut self.by_view;
        strings.views().iter().enumerate().map(move |(row, view)| {
            strings
                .is_valid(row)
                .then(|| cache.get(*view, || derive(strings.value(row))))
        })
    }

    /// Forgets the dictionary, so that the next batch derives its values again.
    pub(super) fn forget(&mut self) {
        self.values = None;
    }
}

/// A direct-mapped cache of values derived from the rows of one string-view array, keyed by
/// the row's view. In one array equal views hold equal text (a view holds the text's length and
/// either the text itself, up to 12 bytes, or the buffer and offset where it starts), so a text
/// that many rows repeat (an event name, a plan, a user agent read from a dictionary page) is
/// worked out once while it keeps its slot; a text whose slot another took is worked out again.
struct ViewCache<T> {
    slots: Vec<(u128, T)>,
}

impl<T> Default for ViewCache<T> {
    fn default() -> Self {
        ViewCache { slots: Vec::new() }
    }
}

impl<T: Copy> ViewCache<T> {
    /// Slots, as a power of two: enough for the few values of a category column, small enough
    /// to stay in the first-level cache.
    const SLOT_BITS: u32 = 9;

    fn reset(&mut self, empty: T) {
        self.slots.clear();
        self.slots.resize(1 << Self::SLOT_BITS, (0, empty));
    }

    /// The value derived from the text of `view`, by `derive` unless the view's slot holds it.
    #[inline]
    fn get(&mut self, view: u128, derive: impl FnOnce() -> T) -> T {
        let folded = (view as u64) ^ ((view >> 64) as u64).rotate_left(32);
        let slot = (folded.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - Self::SLOT_BITS)) as usize;
        let (key, value) = &mut self.slots[slot];
        if *key != view {
            *value = derive();
            *key = view;
        }
        *value
    }
}

/// The dictionary key of each row of a dictionary array, read in place for the `Int32` keys
/// the Parquet reader is asked for.
pub(super) enum Keys<'a> {
    Int32(&'a [i32]),
    Normalized(Vec<usize>),
}

impl Keys<'_> {
    pub(super) fn of(array: &dyn Array) -> Keys<'_> {
        match array.as_dictionary_opt::<Int32Type>() {
            Some(dictionary) => Keys::Int32(dictionary.keys().values()),
            None => Keys::Normalized(array.as_any_dictionary().normalized_keys()),
        }
    }

    /// The key of row `row` (valid for rows that are not null).
    #[inline]
    pub(super) fn get(&self, row: usize) -> usize {
        match self {
            Keys::Int32(keys) => keys[row] as usize,
            Keys::Normalized(keys) => keys[row],
        }
    }
}

/// A batch column prepared for row access: dictionaries resolved to their keys once per batch.
pub(in crate::load) struct ColumnView {
    array: ArrayRef,
    /// For dictionary columns: the value index of each row.
    keys: Option<Vec<usize>>,
}

impl ColumnView {
    pub(super) fn new(array: ArrayRef) -> ColumnView {
        let keys = match array.data_type() {
            DataType::Dictionary(_, _) => Some(array.as_any_dictionary().normalized_keys()),
            _ => None,
        };
        ColumnView { array, keys }
    }

    /// Writes row `row` as text into `out`; false when the value is null.
    pub(super) fn write(&self, row: usize, out: &mut String) -> bool {
        out.clear();
        if self.array.is_null(row) {
            return false;
        }
        match &self.keys {
            Some(keys) => write_value(self.array.as_any_dictionary().values().as_ref(), keys[row], out),
            None => write_value(self.array.as_ref(), row, out),
        }
    }
}

/// Writes a scalar as text; false for null or an unsupported type.
pub(in crate::load) fn write_value(array: &dyn Array, row: usize, out: &mut String) -> bool {
    if array.is_null(row) {
        return false;
    }
    macro_rules! number {
        ($t:ty) => {{
            let _ = write!(out, "{}", array.as_primitive::<$t>().value(row));
            true
        }};
    }
    match array.data_type() {
        DataType::Utf8 => out.push_str(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => out.push_str(array.as_string::<i64>().value(row)),
        DataType::Utf8View => out.push_str(array.as_string_view().value(row)),
        DataType::Boolean => out.push_str(if array.as_boolean().value(row) {
            "true"
        } else {
            "false"
        }),
        DataType::Int8 => return number!(Int8Type),
        DataType::Int16 => return number!(Int16Type),
        DataType::Int32 => return number!(Int32Type),
        DataType::Int64 => return number!(Int64Type),
        DataType::UInt8 => return number!(UInt8Type),
        DataType::UInt16 => return number!(UInt16Type),
        DataType::UInt32 => return number!(UInt32Type),
        DataType::UInt64 => return number!(UInt64Type),
        DataType::Float32 => return number!(Float32Type),
        DataType::Float64 => return number!(Float64Type),
        DataType::Decimal128(_, scale) => {
            let value = array.as_primitive::<Decimal128Type>().value(row);
            let scale = u32::try_from(*scale).unwrap_or(0);
            let divisor = 10i128.pow(scale.min(38));
            let sign = if value < 0 { "-" } else { "" };
            let (whole, fraction) = (
                value.unsigned_abs() / divisor as u128,
                value.unsigned_abs() % divisor as u128,
            );
            let _ = if scale == 0 {
                write!(out, "{sign}{whole}")
            } else {
                write!(out, "{sign}{whole}.{fraction:0width$}", width = scale as usize)
            };
        }
        DataType::Date32 => {
            let day = array.as_primitive::<Date32Type>().value(row);
            out.push_str(&crate::calendar::day_label(day));
        }
        DataType::Date64 => return number!(Date64Type),
        // Instants as their raw count of the column's unit: exact, and all that de-duplication
        // needs (the time itself is read as an instant, not from this text).
        DataType::Timestamp(TimeUnit::Second, _) => return number!(TimestampSecondType),
        DataType::Timestamp(TimeUnit::Millisecond, _) => return number!(TimestampMillisecondType),
        DataType::Timestamp(TimeUnit::Microsecond, _) => return number!(TimestampMicrosecondType),
        DataType::Timestamp(TimeUnit::Nanosecond, _) => return number!(TimestampNanosecondType),
        DataType::Dictionary(_, _) => {
            let values = array.as_any_dictionary().values();
            return write_value(values.as_ref(), dictionary_key(array, row), out);
        }
        _ => return false,
    }
    true
}

/// The key of row `row` (not null) of a dictionary array, read without decoding the other keys.
pub(in crate::load) fn dictionary_key(array: &dyn Array, row: usize) -> usize {
    macro_rules! key_of {
        ($($t:ty),*) => {
            $(if let Some(dictionary) = array.as_dictionary_opt::<$t>() {
                return dictionary.keys().value(row).as_usize();
            })*
        };
    }
    key_of!(
        Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type, UInt64Type
    );
    array.as_any_dictionary().normalized_keys()[row]
}

/// The text of row `row` of a text-like array (`None` for null), without copying when the
/// array holds UTF-8; other types are written into `scratch`.
pub(super) fn text_at<'a>(array: &'a dyn Array, row: usize, scratch: &'a mut String) -> Option<&'a str> {
    if array.is_null(row) {
        return None;
    }
    match array.data_type() {
        DataType::Utf8 => Some(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => Some(array.as_string::<i64>().value(row)),
        DataType::Utf8View => Some(array.as_string_view().value(row)),
        DataType::Dictionary(_, _) => {
            let values = array.as_any_dictionary().values();
            text_at(values.as_ref(), dictionary_key(array, row), scratch)
        }
        _ => {
            scratch.clear();
            write_value(array, row, scratch).then_some(scratch.as_str())
        }
    }
}

/// Writes into `out` the code of every row of a text column: each distinct value goes through
/// `intern` once per dictionary (for dictionary arrays), once per view while it stays cached
/// (for string views) or once per row; [`NULL_CODE`] for null or, when `trim`, blank values
/// (empty values are always missing).
pub(super) fn text_codes(
    array: &ArrayRef,
    memo: &mut TextMemo<u32>,
    scratch: &mut String,
    trim: bool,
    mut intern: impl FnMut(&str) -> u32,
    out: &mut Vec<u32>,
) {
    let mut code_of = |text: Option<&str>| match text.map(|t| if trim { trimmed(t) } else { t }) {
        Some(text) if !text.is_empty() => intern(text),
        _ => NULL_CODE,
    };
    let rows = array.len();
    out.clear();
    if let DataType::Dictionary(_, _) = array.data_type() {
        let values = array.as_any_dictionary().values();
        let codes = memo.for_values(values, |values, codes| codes.resize(values.len(), UNSEEN));
        let keys = Keys::of(array.as_ref());
        let nulls = array.logical_nulls();
        let strings = values.as_string_opt::<i32>();
        out.extend((0..rows).map(|row| {
            if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                return NULL_CODE;
            }
            let key = keys.get(row);
            if codes[key] == UNSEEN {
                codes[key] = match strings {
                    Some(strings) => code_of(strings.is_valid(key).then(|| strings.value(key))),
                    None => code_of(text_at(values.as_ref(), key, scratch)),
                };
            }
            codes[key]
        }));
        return;
    }
    if let Some(strings) = array.as_string_view_opt() {
        let codes = memo.derived_by_view(strings, |text| code_of(Some(text)));
        out.extend(codes.map(|code| code.unwrap_or(NULL_CODE)));
        return;
    }
    out.extend((0..rows).map(|row| code_of(text_at(array.as_ref(), row, scratch))));
}

/// [`text_codes`] of a key column (entity or event: trimmed, blank is missing), or
/// [`NULL_CODE`] for all `rows` when the file has no such column.
pub(super) fn key_codes(
    array: Option<&ArrayRef>,
    rows: usize,
    memo: &mut TextMemo<u32>,
    scratch: &mut String,
    code: impl FnMut(&str) -> u32,
    out: &mut Vec<u32>,
) {
    match array {
        Some(array) => text_codes(array, memo, scratch, true, code, out),
        None => {
            out.clear();
            out.resize(rows, NULL_CODE);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The codes of `texts` read as `array`, interned in order of first appearance.
    fn codes_of(array: ArrayRef, trim: bool) -> (Vec<u32>, Vec<String>) {
        let mut seen: Vec<String> = Vec::new();
        let mut codes = Vec::new();
        let intern = |text: &str| match seen.iter().position(|s| s == text) {
            Some(code) => code as u32,
            None => {
                seen.push(text.to_string());
                seen.len() as u32 - 1
            }
        };
        text_codes(
            &array,
            &mut TextMemo::default(),
            &mut String::new(),
            trim,
            intern,
            &mut codes,
        );
        (codes, seen)
    }

    #[test]
    fn string_views_get_the_codes_plain_text_gets() {
        use arrow_array::{StringArray, StringViewArray};
        // Short texts (inline in their views), long ones (in the buffers), blanks, empties and
        // nulls, with more distinct values than the view cache has slots, each repeated.
        let texts: Vec<Option<String>> = (0..5000u32)
            .map(|row| match row % 7 {
                0 => None,
                1 => Some(String::new()),
                2 => Some("  ".to_string()),
                3 => Some(format!("a long user agent string number {}", row % 900)),
                _ => Some(format!("acc_{}", (row * 31) % 1300)),
            })
            .collect();
        let plain: ArrayRef = std::sync::Arc::new(StringArray::from(texts.clone()));
        let views: ArrayRef = std::sync::Arc::new(StringViewArray::from(texts));
        for trim in [false, true] {
            assert_eq!(codes_of(views.clone(), trim), codes_of(plain.clone(), trim));
        }
        let (codes, _) = codes_of(views, true);
        assert_eq!(codes[0], NULL_CODE);
        assert_eq!(codes[2], NULL_CODE);
    }
}
