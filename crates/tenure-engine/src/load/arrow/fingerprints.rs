//! Row fingerprints of Arrow batches, column by column (the hashes are `dedupe`'s): a typed
//! loop per column, dictionary values hashed once per dictionary and string views once while
//! they stay cached.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{Array, ArrayRef};
use arrow_schema::{DataType, TimeUnit};

use super::values::{Keys, TextMemo};
use crate::load::dedupe::{TypedKind, text_hash, typed_hash};
use crate::memory::{PREFETCH_ROWS, prefetch};

/// Adds each row's contribution from `array` (a column with hash seed `seed`) to `fingerprints`.
pub(super) fn add_hashes(array: &ArrayRef, seed: u64, memo: &mut TextMemo<u128>, fingerprints: &mut [u128]) {
    macro_rules! typed {
        ($t:ty, $kind:expr, $bits:expr) => {
            typed!($t, $kind, $bits, seed)
        };
        ($t:ty, $kind:expr, $bits:expr, $seed:expr) => {{
            let values = array.as_primitive::<$t>();
            let add = |sum: &mut u128, value| *sum = sum.wrapping_add(typed_hash($seed, $kind, $bits(value)));
            match values.nulls().filter(|nulls| nulls.null_count() > 0) {
                None => fingerprints
                    .iter_mut()
                    .zip(values.values().iter())
                    .for_each(|(sum, value)| add(sum, *value)),
                Some(nulls) => {
                    for (row, sum) in fingerprints.iter_mut().enumerate() {
                        if nulls.is_valid(row) {
                            add(sum, values.value(row));
                        }
                    }
                }
            }
        }};
    }
    let integer = |value: i128| value as u128;
    match array.data_type() {
        DataType::Dictionary(_, _) => {
            let dictionary = array.as_any_dictionary();
            let values = dictionary.values();
            let hashes = memo.for_values(values, |values, hashes| {
                hashes.resize(values.len(), 0);
                add_hashes(values, seed, &mut TextMemo::default(), hashes);
            });
            let keys = Keys::of(array.as_ref());
            let rows = fingerprints.len();
            // A dictionary of many values (ids) outgrows a core's cache, and rows reach it in
            // no particular order: each row asks for the hash of the row some rows ahead.
            let ahead = |row: usize| {
                if row + PREFETCH_ROWS < rows {
                    prefetch(hashes, keys.get(row + PREFETCH_ROWS));
                }
            };
            match array.logical_nulls().filter(|nulls| nulls.null_count() > 0) {
                None => {
                    for (row, sum) in fingerprints.iter_mut().enumerate() {
                        ahead(row);
                        *sum = sum.wrapping_add(hashes[keys.get(row)]);
                    }
                }
                Some(nulls) => {
                    for (row, sum) in fingerprints.iter_mut().enumerate() {
                        ahead(row);
                        if nulls.is_valid(row) {
                            *sum = sum.wrapping_add(hashes[keys.get(row)]);
                        }
                    }
                }
            }
        }
        DataType::Utf8 => add_text_hashes(array.as_string::<i32>().iter(), seed, fingerprints),
        DataType::LargeUtf8 => add_text_hashes(array.as_string::<i64>().iter(), seed, fingerprints),
        DataType::Utf8View => {
            let hashes = memo.derived_by_view(array.as_string_view(), |text| text_hash(seed, text));
            for (sum, hash) in fingerprints.iter_mut().zip(hashes) {
                if let Some(hash) = hash {
                    *sum = sum.wrapping_add(hash);
                }
            }
        }
        DataType::Boolean => {
            let values = array.as_boolean();
            for (row, sum) in fingerprints.iter_mut().enumerate() {
                if !values.is_null(row) {
                    let bits = u128::from(values.value(row));
                    *sum = sum.wrapping_add(typed_hash(seed, TypedKind::Boolean, bits));
                }
            }
        }
        DataType::Int8 => typed!(Int8Type, TypedKind::Integer, |v: i8| integer(v.into())),
        DataType::Int16 => typed!(Int16Type, TypedKind::Integer, |v: i16| integer(v.into())),
        DataType::Int32 => typed!(Int32Type, TypedKind::Integer, |v: i32| integer(v.into())),
        DataType::Int64 => typed!(Int64Type, TypedKind::Integer, |v: i64| integer(v.into())),
        DataType::UInt8 => typed!(UInt8Type, TypedKind::Integer, |v: u8| integer(v.into())),
        DataType::UInt16 => typed!(UInt16Type, TypedKind::Integer, |v: u16| integer(v.into())),
        DataType::UInt32 => typed!(UInt32Type, TypedKind::Integer, |v: u32| integer(v.into())),
        DataType::UInt64 => typed!(UInt64Type, TypedKind::Integer, |v: u64| integer(v.into())),
        DataType::Float32 => typed!(Float32Type, TypedKind::Float, |v: f32| u128::from(
            f64::from(v).to_bits()
        )),
        DataType::Float64 => typed!(Float64Type, TypedKind::Float, |v: f64| u128::from(v.to_bits())),
        DataType::Decimal128(_, scale) => {
            let scaled = seed.wrapping_add(*scale as u64);
            typed!(Decimal128Type, TypedKind::Decimal, |v: i128| v as u128, scaled)
        }
        DataType::Date32 => typed!(Date32Type, TypedKind::Date, |v: i32| integer(v.into())),
        DataType::Date64 => typed!(Date64Type, TypedKind::DateMillis, |v: i64| integer(v.into())),
        DataType::Timestamp(TimeUnit::Second, _) => {
            typed!(
                TimestampSecondType,
                TypedKind::TimestampSeconds,
                |v: i64| integer(v.into())
            )
        }
        DataType::Timestamp(TimeUnit::Millisecond, _) => {
            typed!(TimestampMillisecondType, TypedKind::TimestampMillis, |v: i64| {
                integer(v.into())
            })
        }
        DataType::Timestamp(TimeUnit::Microsecond, _) => {
            typed!(TimestampMicrosecondType, TypedKind::TimestampMicros, |v: i64| {
                integer(v.into())
            })
        }
        DataType::Timestamp(TimeUnit::Nanosecond, _) => {
            typed!(TimestampNanosecondType, TypedKind::TimestampNanos, |v: i64| {
                integer(v.into())
            })
        }
        // Types tenure cannot read take no part in comparing rows.
        _ => {}
    }
}

/// Adds each row's contribution from a text column (its values in row order, `None` for null).
fn add_text_hashes<'a>(values: impl Iterator<Item = Option<&'a str>>, seed: u64, fingerprints: &mut [u128]) {
    for (sum, value) in fingerprints.iter_mut().zip(values) {
        if let Some(text) = value {
            *sum = sum.wrapping_add(text_hash(seed, text));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{StringArray, StringViewArray};

    use super::*;

    #[test]
    fn string_views_hash_as_plain_text_does() {
        // Short (inline) and long texts, empties and nulls, more distinct than the cache holds.
        let texts: Vec<Option<String>> = (0..3000u32)
            .map(|row| match row % 5 {
                0 => None,
                1 => Some(String::new()),
                2 => Some(format!("Mozilla/5.0 (compatible; crawler number {})", row % 700)),
                _ => Some(format!("acc_{}", (row * 17) % 1100)),
            })
            .collect();
        let plain: ArrayRef = Arc::new(StringArray::from(texts.clone()));
        let views: ArrayRef = Arc::new(StringViewArray::from(texts));
        let hashed = |array: &ArrayRef| {
            let mut sums = vec![7u128; array.len()];
            add_hashes(array, 42, &mut TextMemo::default(), &mut sums);
            sums
        };
        let expected = hashed(&plain);
        assert_ne!(expected[2], expected[3]);
        assert_eq!(hashed(&views), expected);
    }
}
