//! A flat text column of one Parquet row group decoded whole, into one dictionary of the values
//! it holds.
//!
//! Writers keep a column chunk dictionary-encoded only while its dictionary stays small (1 MB
//! by default) and write the rest of the chunk as plain values, so a column of many distinct
//! ids is mostly plain in large files. Asked for a dictionary, the Arrow reader then builds one
//! for every batch of plain values, and a reader of the batches meets each id again in every
//! batch. This decoder reads the whole chunk first and gives each distinct value of the chunk
//! one place in one dictionary shared by all of its batches: the dictionary page's values, then
//! each plain value not met before, found through a hash table whose slot of the value some
//! values ahead is asked for early. A column of few distinct values finds most of its values in
//! a small memo of recent ones first, without hashing them ([`RecentTexts`]).
//!
//! It handles what writers produce for such columns: data pages v1 and v2, plain and
//! dictionary encodings, the definition levels of an optional column; [`decodable`] tells
//! whether a chunk is one of those, and other chunks are left to the Arrow reader.

use std::fs::File;
use std::sync::Arc;

use arrow_array::types::Int32Type;
use arrow_array::{ArrayRef, DictionaryArray, Int32Array, StringArray};
use arrow_buffer::{Buffer, NullBuffer, OffsetBuffer, ScalarBuffer};
use parquet::basic::{Encoding, Type as PhysicalType};
use parquet::column::page::{Page, PageReader};
use parquet::file::metadata::ColumnChunkMetaData;
use parquet::file::serialized_reader::SerializedPageReader;
use xxhash_rust::xxh3::xxh3_64;

use crate::memory::PREFETCH_ROWS;
use crate::recent_texts::RecentTexts;
use crate::store::{CodeTable, IdKey};

/// Whether [`TextChunk::decode`] can decode `column`: byte arrays, not nested, at most
/// optional, in the encodings it knows. `BIT_PACKED` is accepted because parquet-mr (Spark,
/// Hive) names it for the levels of every column without repetition, which no page stores; a
/// page whose definition levels really are bit-packed fails to decode, and the chunk is then
/// left to the Arrow reader.
// `BIT_PACKED` is deprecated for writing, not for reading what parquet-mr wrote.
#[allow(deprecated)]
pub(super) fn decodable(column: &ColumnChunkMetaData) -> bool {
    let descriptor = column.column_descr();
    column.column_type() == PhysicalType::BYTE_ARRAY
        && descriptor.max_rep_level() == 0
        && descriptor.max_def_level() <= 1
        && column.encodings().all(|encoding| {
            matches!(
                encoding,
                Encoding::PLAIN
                    | Encoding::PLAIN_DICTIONARY
                    | Encoding::RLE_DICTIONARY
                    | Encoding::RLE
                    | Encoding::BIT_PACKED
            )
        })
}

/// Why a chunk could not be decoded (a damaged file).
pub(super) type DecodeError = String;

/// The distinct values of a chunk, each once, with a table to find them by.
struct ChunkValues {
    bytes: Vec<u8>,
    offsets: Vec<i32>,
    table: CodeTable,
}

impl ChunkValues {
    /// Empty values with room for `values` of them.
    fn with_capacity(values: usize) -> ChunkValues {
        ChunkValues {
            offsets: vec![0],
            table: CodeTable::with_capacity(values),
            bytes: Vec::new(),
        }
    }

    /// Asks for the slot where a value of hash `hash` is looked up first.
    #[inline]
    fn prefetch(&self, hash: u64) {
        self.table.prefetch(hash);
    }

    /// The index of `value` (of hash `hash`), added if new.
    #[inline]
    fn index_of(&mut self, value: &[u8], hash: u64) -> Result<i32, DecodeError> {
        let key = IdKey::of(value);
        let (bytes, offsets) = (&self.bytes, &self.offsets);
        if let Some(index) = self
            .table
            .find(hash, &key, |index| value_at(bytes, offsets, index) == value)
        {
            return Ok(index as i32);
        }
        let index = offsets.len() - 1;
        self.bytes.extend_from_slice(value);
        let end = i32::try_from(self.bytes.len())
            .map_err(|_| "a row group holds over 2 GiB of text".to_string())?;
        self.offsets.push(end);
        let (bytes, offsets) = (&self.bytes, &self.offsets);
        self.table
            .insert(hash, key, index as u32, |index| value_at(bytes, offsets, index));
        Ok(index as i32)
    }

    /// The values as an array, or an error if one is not UTF-8.
    fn into_array(self) -> Result<StringArray, DecodeError> {
        let offsets = OffsetBuffer::new(ScalarBuffer::from(self.offsets));
        StringArray::try_new(offsets, Buffer::from_vec(self.bytes), None)
            .map_err(|e| format!("a text value is not UTF-8: {e}"))
    }
}

/// Value `index` of values stored end to end in `bytes`, delimited by Arrow-style `offsets`.
fn value_at<'a>(bytes: &'a [u8], offsets: &[i32], index: u32) -> &'a [u8] {
    let index = index as usize;
    &bytes[offsets[index] as usize..offsets[index + 1] as usize]
}

/// A decoded column chunk: per row, the index of its value in the chunk's dictionary.
pub(super) struct TextChunk {
    array: DictionaryArray<Int32Type>,
}

impl TextChunk {
    /// Decodes `column` (a chunk [`decodable`] accepts) of a row group of `rows` rows of `file`.
    pub(super) fn decode(
        file: File,
        column: &ColumnChunkMetaData,
        rows: usize,
    ) -> Result<TextChunk, DecodeError> {
        let mut pages =
            SerializedPageReader::new(Arc::new(file), column, rows, None).map_err(|e| e.to_string())?;
        let mut decoder = ChunkDecoder::new(column.column_descr().max_def_level() == 1, rows);
        while let Some(page) = pages.get_next_page().map_err(|e| e.to_string())? {
            decoder.page(&page)?;
        }
        decoder.finish()
    }

    /// Rows `offset .. offset + rows` as a dictionary array whose values are the chunk's; an
    /// error if the chunk has fewer rows.
    pub(super) fn slice(&self, offset: usize, rows: usize) -> Result<ArrayRef, DecodeError> {
        if offset + rows > self.array.len() {
            return Err(format!(
                "the column chunk holds {} rows, not {}",
                self.array.len(),
                offset + rows
            ));
        }
        Ok(Arc::new(self.array.slice(offset, rows)))
    }
}

/// The state of one chunk's decoding, page after page.
struct ChunkDecoder {
    /// Whether the column is optional (its pages have definition levels).
    optional: bool,
    /// The rows of the chunk, from the row group's metadata.
    rows: usize,
    values: ChunkValues,
    /// The index in `values` of each value of the dictionary page.
    dictionary: Vec<i32>,
    /// Per row so far, the index of its value (0 for rows without one).
    keys: Vec<i32>,
    /// Per row so far, whether it has a value; empty while every row has.
    valid: Vec<bool>,
    /// Per row of the current page, whether it has a value (optional columns only).
    defined: Vec<bool>,
    scratch: Vec<u32>,
    hashes: Vec<u64>,
    recent: RecentTexts<i32>,
}

impl ChunkDecoder {
    fn new(optional: bool, rows: usize) -> ChunkDecoder {
        ChunkDecoder {
            optional,
            rows,
            values: ChunkValues::with_capacity(1 << 14),
            dictionary: Vec::new(),
            keys: Vec::with_capacity(rows),
            valid: Vec::new(),
            defined: Vec::new(),
            scratch: Vec::new(),
            hashes: Vec::new(),
            recent: RecentTexts::default(),
        }
    }

    /// Takes in one page of the chunk.
    fn page(&mut self, page: &Page) -> Result<(), DecodeError> {
        let (buf, rows, encoding, values_at) = match page {
            Page::DictionaryPage { buf, num_values, .. } => return self.dictionary_page(buf, *num_values),
            Page::DataPage {
                buf,
                num_values,
                encoding,
                def_level_encoding,
                ..
            } => {
                let rows = self.page_rows(*num_values)?;
                let mut values_at = 0;
                if self.optional {
                    if *def_level_encoding != Encoding::RLE {
                        return Err(format!("definition levels encoded as {def_level_encoding}"));
                    }
                    let length = read_u32(buf, 0)? as usize;
                    self.read_levels(buf.get(4..4 + length), rows)?;
                    values_at = 4 + length;
                }
                (buf, rows, *encoding, values_at)
            }
            Page::DataPageV2 {
                buf,
                num_values,
                encoding,
                def_levels_byte_len,
                rep_levels_byte_len,
                ..
            } => {
                let rows = self.page_rows(*num_values)?;
                let levels_at = *rep_levels_byte_len as usize;
                let values_at = levels_at + *def_levels_byte_len as usize;
                if self.optional {
                    self.read_levels(buf.get(levels_at..values_at), rows)?;
                }
                (buf, rows, *encoding, values_at)
            }
        };
        let data = buf.get(values_at..).ok_or("values past the page's end")?;
        let count = if self.optional {
            self.defined.iter().filter(|d| **d).count()
        } else {
            rows
        };
        let first = self.keys.len();
        self.push_values(encoding, data, count)?;
        if self.optional {
            self.spread_over_rows(first);
        }
        Ok(())
    }

    /// A data page's row count, checked against the rows the chunk has left (a damaged header
    /// must not make the decoder ask for memory it will not fill).
    fn page_rows(&self, num_values: u32) -> Result<usize, DecodeError> {
        let left = self.rows.saturating_sub(self.keys.len());
        usize::try_from(num_values)
            .ok()
            .filter(|rows| *rows <= left)
            .ok_or_else(|| format!("a page of {num_values} rows where the chunk has {left} left"))
    }

    /// Takes in the dictionary page's `count` values.
    fn dictionary_page(&mut self, buf: &[u8], count: u32) -> Result<(), DecodeError> {
        let spans = plain_spans(buf, count as usize)?;
        if self.values.offsets.len() == 1 {
            // Room for the dictionary and as many plain values again as a quarter of it.
            self.values = ChunkValues::with_capacity(spans.len() + spans.len() / 4 + 1024);
        }
        self.dictionary.clear();
        for (start, end) in spans {
            let value = &buf[start as usize..end as usize];
            self.dictionary.push(self.values.index_of(value, xxh3_64(value))?);
        }
        Ok(())
    }

    /// Reads the definition levels (one bit wide) of a page of `rows` rows into `defined`.
    fn read_levels(&mut self, levels: Option<&[u8]>, rows: usize) -> Result<(), DecodeError> {
        let levels = levels.ok_or("definition levels past the page's end")?;
        self.scratch.clear();
        read_hybrid(levels, 1, rows, &mut self.scratch)?;
        self.defined.clear();
        self.defined.extend(self.scratch.iter().map(|level| *level == 1));
        Ok(())
    }

    /// Appends to `keys` the index of each of the page's `count` values, encoded in `data`.
    fn push_values(&mut self, encoding: Encoding, data: &[u8], count: usize) -> Result<(), DecodeError> {
        match encoding {
            Encoding::PLAIN => {
                let spans = plain_spans(data, count)?;
                for block in spans.chunks(RecentTexts::<i32>::TRIAL) {
                    if self.recent.is_on() {
                        self.push_plain_recent(data, block)?;
                    } else {
                        self.push_plain_hashed(data, block)?;
                    }
                }
            }
            Encoding::PLAIN_DICTIONARY | Encoding::RLE_DICTIONARY => {
                let (&bit_width, runs) = data.split_first().ok_or("an empty dictionary-encoded page")?;
                self.scratch.clear();
                read_hybrid(runs, u32::from(bit_width), count, &mut self.scratch)?;
                for index in &self.scratch {
                    let key = self
                        .dictionary
                        .get(*index as usize)
                        .ok_or_else(|| format!("dictionary index {index} is out of range"))?;
                    self.keys.push(*key);
                }
            }
            other => return Err(format!("values encoded as {other}")),
        }
        Ok(())
    }

    /// Appends the index of each plain value of `data` at `spans`, found through the memo of
    /// recent values where it can be.
    fn push_plain_recent(&mut self, data: &[u8], spans: &[(u32, u32)]) -> Result<(), DecodeError> {
        for (start, end) in spans {
            let value = &data[*start as usize..*end as usize];
            let index = match self.recent.find(value) {
                Some(index) => index,
                None => {
                    let index = self.values.index_of(value, xxh3_64(value))?;
                    self.recent.remember(value, index);
                    index
                }
            };
            self.keys.push(index);
        }
        Ok(())
    }

    /// Appends the index of each plain value of `data` at `spans`, each hashed and looked up,
    /// the table slot of the value some values ahead asked for early.
    fn push_plain_hashed(&mut self, data: &[u8], spans: &[(u32, u32)]) -> Result<(), DecodeError> {
        let value = |(start, end): (u32, u32)| &data[start as usize..end as usize];
        self.hashes.clear();
        self.hashes.extend(spans.iter().map(|span| xxh3_64(value(*span))));
        for (i, span) in spans.iter().enumerate() {
            if let Some(ahead) = self.hashes.get(i + PREFETCH_ROWS) {
                self.values.prefetch(*ahead);
            }
            self.keys
                .push(self.values.index_of(value(*span), self.hashes[i])?);
        }
        Ok(())
    }

    /// Spreads the keys of the page whose first row is `first` over its rows, a 0 for each row
    /// without a value, once some row has none.
    fn spread_over_rows(&mut self, first: usize) {
        let all_defined = !self.defined.contains(&false);
        if self.valid.is_empty() && all_defined {
            return;
        }
        if self.valid.is_empty() {
            self.valid.resize(first, true);
        }
        let page_keys = self.keys.split_off(first);
        let mut next = page_keys.into_iter();
        for has_value in &self.defined {
            self.keys
                .push(if *has_value { next.next().unwrap_or(0) } else { 0 });
        }
        self.valid.extend_from_slice(&self.defined);
    }

    /// The decoded chunk, checked to hold all of its rows.
    fn finish(self) -> Result<TextChunk, DecodeError> {
        let rows = self.rows;
        if self.keys.len() != rows {
            return Err(format!(
                "the column chunk holds {} of its {rows} rows",
                self.keys.len()
            ));
        }
        let nulls = (!self.valid.is_empty()).then(|| NullBuffer::from(self.valid));
        let keys = Int32Array::new(ScalarBuffer::from(self.keys), nulls);
        let values: ArrayRef = Arc::new(self.values.into_array()?);
        Ok(TextChunk {
            array: checked_dictionary(keys, values)?,
        })
    }
}

/// `keys` into `values` as a dictionary array, its keys checked by one pass that the compiler
/// vectorizes (Arrow's own check tests each key's validity in turn, which cost some 1 % of a
/// run when made for every batch).
fn checked_dictionary(keys: Int32Array, values: ArrayRef) -> Result<DictionaryArray<Int32Type>, DecodeError> {
    let (smallest, largest) = keys
        .values()
        .iter()
        .fold((0, 0), |(low, high), key| (low.min(*key), high.max(*key)));
    if smallest < 0 || largest as usize >= values.len() {
        // Rows without a value may hold any key: leave those to Arrow's check.
        return DictionaryArray::try_new(keys, values).map_err(|e| e.to_string());
    }
    // SAFETY: every key, of a row with a value or not, indexes `values` (checked just above).
    Ok(unsafe { DictionaryArray::new_unchecked(keys, values) })
}

/// A little-endian `u32` at `at`.
fn read_u32(data: &[u8], at: usize) -> Result<u32, DecodeError> {
    let bytes = data.get(at..at + 4).ok_or("a length past the page's end")?;
    Ok(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// Where each of `count` plain byte arrays (a 4-byte length, then the bytes) lies in `data`.
fn plain_spans(data: &[u8], count: usize) -> Result<Vec<(u32, u32)>, DecodeError> {
    // Each value takes at least its 4-byte length: a larger count is damage, not a reason to
    // ask for memory.
    if count > data.len() / 4 {
        return Err(format!("{count} values in {} bytes", data.len()));
    }
    let mut spans = Vec::with_capacity(count);
    let mut at = 0usize;
    for _ in 0..count {
        let length = read_u32(data, at)? as usize;
        let start = at + 4;
        let end = start + length;
        if end > data.len() {
            return Err("a value past the page's end".to_string());
        }
        spans.push((start as u32, end as u32));
        at = end;
    }
    Ok(spans)
}

/// Decodes `count` values of `bit_width` bits from Parquet's RLE / bit-packing hybrid
/// encoding into `out`.
fn read_hybrid(data: &[u8], bit_width: u32, count: usize, out: &mut Vec<u32>) -> Result<(), DecodeError> {
    if bit_width > 32 {
        return Err(format!("a bit width of {bit_width}"));
    }
    let target = out.len() + count;
    let mut at = 0usize;
    let value_bytes = bit_width.div_ceil(8) as usize;
    let mask = if bit_width == 32 {
        u64::from(u32::MAX)
    } else {
        (1u64 << bit_width) - 1
    };
    while out.len() < target {
        // The run header, an unsigned LEB128 number.
        let mut header = 0u64;
        let mut shift = 0;
        loop {
            let byte = *data.get(at).ok_or("encoded values end early")?;
            at += 1;
            header |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
            if shift > 56 {
                return Err("a run header is too long".to_string());
            }
        }
        let left = target - out.len();
        if header & 1 == 0 {
            // One value, repeated.
            let repeats = (header >> 1) as usize;
            let bytes = data.get(at..at + value_bytes).ok_or("encoded values end early")?;
            at += value_bytes;
            let value = bytes
                .iter()
                .rev()
                .fold(0u32, |value, byte| (value << 8) | u32::from(*byte));
            out.extend(std::iter::repeat_n(value, repeats.min(left)));
        } else {
            // Groups of eight values, bit-packed least significant bit first.
            let values = (header >> 1) as usize * 8;
            let bytes = (values * bit_width as usize).div_ceil(8);
            let packed = data.get(at..at + bytes).ok_or("encoded values end early")?;
            at += bytes;
            for i in 0..values.min(left) {
                let bit = i * bit_width as usize;
                let from = bit / 8;
                let mut word = [0u8; 8];
                let available = (packed.len() - from).min(8);
                word[..available].copy_from_slice(&packed[from..from + available]);
                out.push(((u64::from_le_bytes(word) >> (bit % 8)) & mask) as u32);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::Array;

    #[test]
    fn hybrid_runs_decode_repeats_and_bit_packed_groups() {
        // A run of 3 five times (header 5 << 1 = 10, the value in one byte), then one group (header
        // 1 << 1 | 1 = 3) of the eight 3-bit values 0..8, least significant bit first:
        // 0b10_001_000, 0b1_100_011_0, 0b111_110_10.
        let data = [10, 3, 3, 0b1000_1000, 0b1100_0110, 0b1111_1010];
        let mut out = Vec::new();
        read_hybrid(&data, 3, 13, &mut out).unwrap();
        assert_eq!(out, vec![3, 3, 3, 3, 3, 0, 1, 2, 3, 4, 5, 6, 7]);
        // Values past the count (the last group's padding) are not read.
        let mut out = Vec::new();
        read_hybrid(&data, 3, 7, &mut out).unwrap();
        assert_eq!(out, vec![3, 3, 3, 3, 3, 0, 1]);
        // A two-byte repeated value is little-endian: 0x0102 = 258, three times.
        let mut out = Vec::new();
        read_hybrid(&[6, 0x02, 0x01], 9, 3, &mut out).unwrap();
        assert_eq!(out, vec![258, 258, 258]);
    }

    #[test]
    fn damaged_runs_and_values_are_errors_not_panics() {
        let mut out = Vec::new();
        assert!(read_hybrid(&[10], 3, 5, &mut out).is_err());
        assert!(read_hybrid(&[3, 0xff], 3, 8, &mut out).is_err());
        assert!(read_hybrid(&[0x80; 12], 3, 1, &mut out).is_err());
        assert!(read_hybrid(&[2, 0], 33, 1, &mut out).is_err());
        assert!(plain_spans(&[5, 0, 0, 0, b'a'], 1).is_err());
        assert!(plain_spans(&[1, 0], 1).is_err());
        // A count no page could hold is refused before anything is allocated for it.
        assert!(plain_spans(&[0; 8], usize::MAX / 2).is_err());
    }

    #[test]
    fn a_page_may_not_hold_more_rows_than_its_chunk_has_left() {
        let decoder = ChunkDecoder::new(false, 10);
        assert_eq!(decoder.page_rows(10), Ok(10));
        assert!(decoder.page_rows(11).is_err());
        assert!(decoder.page_rows(u32::MAX).is_err());
    }

    #[test]
    fn plain_values_are_found_after_their_lengths() {
        let data = [2, 0, 0, 0, b'a', b'b', 0, 0, 0, 0, 1, 0, 0, 0, b'c'];
        assert_eq!(plain_spans(&data, 3).unwrap(), vec![(4, 6), (10, 10), (14, 15)]);
    }

    #[test]
    fn chunk_values_are_kept_once_and_found_again_after_the_table_grows() {
        let mut values = ChunkValues::with_capacity(1);
        let ids: Vec<String> = (0..5000).map(|i| format!("account-{i}")).collect();
        let first: Vec<i32> = ids
            .iter()
            .map(|id| values.index_of(id.as_bytes(), xxh3_64(id.as_bytes())).unwrap())
            .collect();
        assert_eq!(first, (0..5000).collect::<Vec<i32>>());
        let again: Vec<i32> = ids
            .iter()
            .rev()
            .map(|id| values.index_of(id.as_bytes(), xxh3_64(id.as_bytes())).unwrap())
            .collect();
        assert_eq!(again, (0..5000).rev().collect::<Vec<i32>>());
        let array = values.into_array().unwrap();
        assert_eq!(array.len(), 5000);
        assert_eq!(array.value(4999), "account-4999");
    }

    /// A plain page's bytes for `values`: each a 4-byte little-endian length, then its bytes.
    fn plain_page(values: &[Vec<u8>]) -> Vec<u8> {
        let mut page = Vec::new();
        for value in values {
            page.extend_from_slice(&(value.len() as u32).to_le_bytes());
            page.extend_from_slice(value);
        }
        page
    }

    /// The keys `values` decode to as one plain page, with the memo of recent values on or off,
    /// each checked to name its own value in the chunk's values; and whether the memo stayed on.
    fn decoded_keys(values: &[Vec<u8>], memo: bool) -> (Vec<i32>, bool) {
        let mut decoder = ChunkDecoder::new(false, values.len());
        if !memo {
            decoder.recent = RecentTexts::off();
        }
        decoder
            .push_values(Encoding::PLAIN, &plain_page(values), values.len())
            .unwrap();
        for (key, value) in decoder.keys.iter().zip(values) {
            let stored = value_at(&decoder.values.bytes, &decoder.values.offsets, *key as u32);
            assert_eq!(stored, value.as_slice());
        }
        (decoder.keys, decoder.recent.is_on())
    }

    #[test]
    fn plain_values_get_the_same_keys_with_or_without_the_memo_of_recent_values() {
        // A column of few values (found in the memo) and one of many (the memo turns off).
        let mut random = crate::test_random::Xorshift::new();
        let few: Vec<Vec<u8>> = (0..20_000)
            .map(|_| format!("Mozilla/5.0 (agent {:03}) Safari/537.36", random.below(300)).into_bytes())
            .collect();
        let (with_memo, stayed_on) = decoded_keys(&few, true);
        assert!(stayed_on);
        assert_eq!(with_memo, decoded_keys(&few, false).0);
        let many: Vec<Vec<u8>> = (0..10_000).map(|i| format!("account-{i}").into_bytes()).collect();
        let (keys, stayed_on) = decoded_keys(&many, true);
        assert!(!stayed_on);
        assert_eq!(keys, (0..10_000).collect::<Vec<i32>>());
    }

    #[test]
    fn a_value_that_is_not_utf8_fails_the_chunk() {
        let mut values = ChunkValues::with_capacity(4);
        values.index_of(b"ok", xxh3_64(b"ok")).unwrap();
        values.index_of(&[0xff, 0xfe], xxh3_64(&[0xff, 0xfe])).unwrap();
        let error = values.into_array().unwrap_err();
        assert!(error.starts_with("a text value is not UTF-8"), "{error}");
    }
}
