//! The records of a CSV input after its header, as byte slices with the place of each field.
//!
//! Most machine-written logs end lines with a newline alone and quote a field, if at all, as a
//! whole and without quotes or newlines inside it (`a,"b, c",d`). Such text is one record per
//! line, so it is split here directly, in one pass that finds its commas, quotes and newline
//! sixteen bytes at a time (one vector compare per separator on x86-64), without a copy (a
//! quoted field is the bytes between its quotes). At the first line this cannot split — a quote
//! inside a field or an escaped one, a quoted field running past its line — or the first
//! carriage return read, the rest of the input goes to the `csv` crate's parser, which handles
//! every form of quoting and every line terminator. Both give the same records, skip blank lines
//! and number lines alike (a test compares them on random text): a record's line is the one
//! after the previous record's end, so a record after blank lines is given the first blank
//! line's number, as the `csv` crate gives it.

use std::io::{Chain, Cursor, Read};
use std::ops::Range;

use super::reject::Rejection;
use super::{UnreadableRows, read_error};
use crate::error::EngineError;
use tenure_plan::Source;

/// Bytes read from the input at a time.
const BLOCK_BYTES: usize = 1 << 20;

/// The records of one CSV input (no header): split plainly until the text needs the parser.
pub(super) struct Records<R: Read> {
    plain: Option<PlainRecords<R>>,
    parsed: Option<ParsedRecords<R>>,
    /// The quote characters of the records split plainly, once the parser took over.
    plain_quotes: u64,
}

impl<R: Read> Records<R> {
    /// The records of `input`, whose first byte starts line `first_line`.
    pub(super) fn new(input: R, first_line: u64) -> Records<R> {
        Records::with_block_bytes(input, first_line, BLOCK_BYTES)
    }

    /// The records of `input`, read `block_bytes` at a time.
    fn with_block_bytes(input: R, first_line: u64, block_bytes: usize) -> Records<R> {
        Records {
            plain: Some(PlainRecords::new(input, first_line, block_bytes)),
            parsed: None,
            plain_quotes: 0,
        }
    }

    /// The next record: its line and its bytes, with the place of each field in the bytes in
    /// `spans`. Records the parser cannot read are counted as malformed in `sink`.
    pub(super) fn next(
        &mut self,
        source: &Source,
        spans: &mut Vec<Range<usize>>,
        sink: &mut impl UnreadableRows,
    ) -> Result<Option<(u64, &[u8])>, EngineError> {
        if let Some(plain) = &mut self.plain {
            let split = plain.advance(spans).map_err(|e| read_error(source, e))?;
            if !split {
                self.hand_to_parser();
            }
        }
        if let Some(plain) = &mut self.plain {
            return Ok(plain.current());
        }
        let Some(parsed) = &mut self.parsed else {
            return Ok(None);
        };
        parsed.next(source, spans, sink)
    }

    /// How many quote characters the records read so far hold.
    pub(super) fn quotes(&self) -> u64 {
        let plain = self
            .plain
            .as_ref()
            .map_or(self.plain_quotes, |plain| plain.quotes);
        plain
            + self
                .parsed
                .as_ref()
                .map_or(0, |parsed| parsed.reader.get_ref().quotes)
    }

    /// Hands the rest of the input, from the next record on, to the parser.
    fn hand_to_parser(&mut self) {
        if let Some(plain) = self.plain.take() {
            self.plain_quotes = plain.quotes;
            // The parser starts where the last record ended: at the blank lines skipped since,
            // which it counts in the lines of the records after the next, as it would have.
            let lines_before = plain.record_line - 1;
            let blank_lines = (plain.line - plain.record_line) as usize;
            let mut rest = vec![b'\n'; blank_lines];
            rest.extend_from_slice(&plain.buffer[plain.start..plain.filled]);
            let counter = QuoteCounter {
                inner: Cursor::new(rest).chain(plain.input),
                quotes: 0,
            };
            let reader = csv::ReaderBuilder::new()
                .flexible(true)
                .has_headers(false)
                .buffer_capacity(BLOCK_BYTES)
                .from_reader(counter);
            self.parsed = Some(ParsedRecords {
                reader,
                record: csv::ByteRecord::new(),
                lines_before,
            });
        }
    }
}

/// Records split at newlines, and at commas outside whole-field quotes.
struct PlainRecords<R> {
    input: R,
    buffer: Vec<u8>,
    /// `buffer[start..filled]` is read and not yet returned; `start` is a record's start.
    start: usize,
    filled: usize,
    /// The current record's line and place in `buffer`, once [`PlainRecords::advance`] found
    /// one.
    record: Option<(u64, Range<usize>)>,
    /// Whether the input is read to its end.
    ended: bool,
    /// The line of the byte at `start`.
    line: u64,
    /// The line the next record is given: the one after the previous record's end.
    record_line: u64,
    /// Bytes read from `input` at a time.
    block_bytes: usize,
    /// The quote characters of the records returned.
    quotes: u64,
}

impl<R: Read> PlainRecords<R> {
    fn new(input: R, first_line: u64, block_bytes: usize) -> PlainRecords<R> {
        PlainRecords {
            input,
            buffer: Vec::new(),
            start: 0,
            filled: 0,
            record: None,
            ended: false,
            line: first_line,
            record_line: first_line,
            block_bytes,
            quotes: 0,
        }
    }

    /// Finds the next non-blank line and puts the places of its fields in `spans`, reading more
    /// of the input as needed; `false` when the line cannot be split plainly or the bytes read
    /// hold a carriage return first (the line then stays unread, at `start`).
    fn advance(&mut self, spans: &mut Vec<Range<usize>>) -> std::io::Result<bool> {
        self.record = None;
        loop {
            let unread = &self.buffer[self.start..self.filled];
            match split_line(unread, self.ended, spans) {
                Split::Line { end: 0, .. } if unread.is_empty() => return Ok(true),
                Split::Line { end: 0, .. } => {
                    self.start += 1;
                    self.line += 1;
                }
                Split::Line { end, quotes } => {
                    self.quotes += quotes;
                    self.record = Some((self.record_line, self.start..self.start + end));
                    self.start = (self.start + end + 1).min(self.filled);
                    self.line += 1;
                    self.record_line = self.line;
                    return Ok(true);
                }
                Split::NeedsParser => return Ok(false),
                Split::Unterminated => {
                    if self.fill()? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// The record [`PlainRecords::advance`] found.
    fn current(&self) -> Option<(u64, &[u8])> {
        let (line, range) = self.record.clone()?;
        Some((line, &self.buffer[range]))
    }

    /// Moves the unread bytes to the front and reads more after them; `true` when the new
    /// bytes hold a carriage return. A line longer than a block is scanned again from its start
    /// after each fill, so at least as many bytes as are held are read: the scans of one line
    /// add up to a few times its length, not its length squared.
    fn fill(&mut self) -> std::io::Result<bool> {
        self.buffer.copy_within(self.start..self.filled, 0);
        self.filled -= self.start;
        self.start = 0;
        let wanted = self.filled + self.block_bytes.max(self.filled);
        if self.buffer.len() < wanted {
            self.buffer.resize(wanted, 0);
        }
        let before = self.filled;
        loop {
            match self.input.read(&mut self.buffer[self.filled..]) {
                Ok(0) => {
                    self.ended = true;
                    break;
                }
                Ok(read) => {
                    self.filled += read;
                    if self.filled == self.buffer.len() {
                        break;
                    }
                }
                Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
                Err(error) => return Err(error),
            }
        }
        Ok(memchr::memchr(b'\r', &self.buffer[before..self.filled]).is_some())
    }
}

/// What [`split_line`] found at the start of some text.
enum Split {
    /// A line ending at `end` (a newline, or the end of the input), its fields in the spans,
    /// holding `quotes` quote characters; `end` is 0 for a blank line.
    Line { end: usize, quotes: u64 },
    /// The text ends before the line does; more input is needed.
    Unterminated,
    /// A quote out of place, or a quoted field running past its line.
    NeedsParser,
}

/// Splits the line at the start of `text` (the whole of it when no newline ends it and the
/// input has `ended`), putting the places of its fields in `spans`. A line splits when every
/// quote it holds is around a whole field.
///
/// Only commas, quotes and newlines matter, so the text is read sixteen bytes at a time and only
/// the places of those bytes are visited.
fn split_line(text: &[u8], ended: bool, spans: &mut Vec<Range<usize>>) -> Split {
    spans.clear();
    let mut state = FieldState::Plain { start: 0 };
    let mut quotes = 0;
    let mut blocks = text.chunks_exact(16);
    let mut offset = 0;
    for block in &mut blocks {
        let mut found = separators(block.try_into().unwrap_or(&[0; 16]));
        while found != 0 {
            let at = offset + found.trailing_zeros() as usize;
            found &= found - 1;
            match text[at] {
                b'\n' => return state.end_line(at, quotes, spans),
                byte => match state.step(byte, at, spans, &mut quotes) {
                    Some(next) => state = next,
                    None => return Split::NeedsParser,
                },
            }
        }
        offset += 16;
    }
    for (at, byte) in blocks.remainder().iter().enumerate() {
        let at = offset + at;
        match byte {
            b'\n' => return state.end_line(at, quotes, spans),
            b',' | b'"' => match state.step(*byte, at, spans, &mut quotes) {
                Some(next) => state = next,
                None => return Split::NeedsParser,
            },
            _ => {}
        }
    }
    if ended {
        state.end_line(text.len(), quotes, spans)
    } else {
        Split::Unterminated
    }
}

/// The commas, quotes and newlines among 16 bytes: bit `i` is set when byte `i` is one.
#[cfg(target_arch = "x86_64")]
#[inline]
fn separators(block: &[u8; 16]) -> u32 {
    use std::arch::x86_64::{
        _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is part of every x86-64 target, and the load reads the 16 bytes of `block`
    // (unaligned loads are allowed).
    unsafe {
        let bytes = _mm_loadu_si128(block.as_ptr().cast());
        let equal = |byte: u8| _mm_cmpeq_epi8(bytes, _mm_set1_epi8(byte as i8));
        let found = _mm_or_si128(_mm_or_si128(equal(b','), equal(b'"')), equal(b'\n'));
        _mm_movemask_epi8(found) as u32
    }
}

/// The commas, quotes and newlines among 16 bytes: bit `i` is set when byte `i` is one.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn separators(block: &[u8; 16]) -> u32 {
    separators_in_words(block)
}

/// [`separators`] from two 8-byte words, for machines without SSE2.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn separators_in_words(block: &[u8; 16]) -> u32 {
    use crate::recent_texts::word_at;
    u32::from(separator_bits(word_at(block, 0))) | u32::from(separator_bits(word_at(block, 8))) << 8
}

/// The commas, quotes and newlines among the bytes of `word` (little-endian): bit `i` is set
/// when byte `i` is one.
#[cfg(any(test, not(target_arch = "x86_64")))]
fn separator_bits(word: u64) -> u8 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const LOW_BITS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of every zero byte: a byte's low seven bits plus 0x7f reach its high bit
    // unless all are zero; or-ing in the byte itself covers a set high bit. No sum carries.
    let zero_bytes = |word: u64| !(((word & LOW_BITS) + LOW_BITS) | word | LOW_BITS);
    let found = zero_bytes(word ^ (u64::from(b',') * ONES))
        | zero_bytes(word ^ (u64::from(b'"') * ONES))
        | zero_bytes(word ^ (u64::from(b'\n') * ONES));
    // One bit per byte, moved to the bottom of its byte, then gathered into the top byte.
    ((found >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u8
}

/// Where [`split_line`] is within the current field.
#[derive(Clone, Copy)]
enum FieldState {
    /// In a field not quoted, which began at `start`.
    Plain { start: usize },
    /// Inside a field quoted at `open`.
    Quoted { open: usize },
    /// After the closing quote (at `close`) of a field quoted at `open`.
    Closed { open: usize, close: usize },
}

impl FieldState {
    /// The state after a comma or quote `byte` at `at`; `None` for a quote out of place.
    #[inline]
    fn step(
        self,
        byte: u8,
        at: usize,
        spans: &mut Vec<Range<usize>>,
        quotes: &mut u64,
    ) -> Option<FieldState> {
        match (self, byte) {
            (FieldState::Plain { start }, b',') => {
                spans.push(start..at);
                Some(FieldState::Plain { start: at + 1 })
            }
            (FieldState::Plain { start }, _) if start == at => Some(FieldState::Quoted { open: at }),
            (FieldState::Quoted { .. }, b',') => Some(self),
            (FieldState::Quoted { open }, _) => {
                *quotes += 2;
                Some(FieldState::Closed { open, close: at })
            }
            (FieldState::Closed { open, close }, b',') if at == close + 1 => {
                spans.push(open + 1..close);
                Some(FieldState::Plain { start: at + 1 })
            }
            _ => None,
        }
    }

    /// The line ending at `end` in this state, its last field put in `spans`.
    fn end_line(self, end: usize, quotes: u64, spans: &mut Vec<Range<usize>>) -> Split {
        match self {
            FieldState::Plain { start } => spans.push(start..end),
            FieldState::Closed { open, close } if close + 1 == end => spans.push(open + 1..close),
            FieldState::Closed { .. } | FieldState::Quoted { .. } => return Split::NeedsParser,
        }
        Split::Line { end, quotes }
    }
}

/// Records read by the `csv` crate's parser, after the plain records before them.
struct ParsedRecords<R> {
    reader: csv::Reader<QuoteCounter<Chain<Cursor<Vec<u8>>, R>>>,
    record: csv::ByteRecord,
    /// Lines before the parser's first byte.
    lines_before: u64,
}

impl<R: Read> ParsedRecords<R> {
    fn next(
        &mut self,
        source: &Source,
        spans: &mut Vec<Range<usize>>,
        sink: &mut impl UnreadableRows,
    ) -> Result<Option<(u64, &[u8])>, EngineError> {
        loop {
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return Ok(None),
                Ok(true) => break,
                Err(error) if matches!(error.kind(), csv::ErrorKind::Io(_)) => {
                    return Err(read_error(source, error));
                }
                Err(error) => {
                    let line = self.lines_before + error.position().map_or(1, |p| p.line());
                    sink.reject_unreadable(line, Rejection::Malformed(error.to_string()))?;
                }
            }
        }
        spans.clear();
        spans.extend((0..self.record.len()).filter_map(|i| self.record.range(i)));
        let line = self.lines_before + self.record.position().map_or(1, |p| p.line());
        Ok(Some((line, self.record.as_slice())))
    }
}

/// A reader that counts the quote characters passing through it.
struct QuoteCounter<R> {
    inner: R,
    quotes: u64,
}

impl<R: Read> Read for QuoteCounter<R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.quotes += count_quotes(&buffer[..read]);
        Ok(read)
    }
}

/// How many quote characters `bytes` holds. Counted in one-byte lanes over runs of 255 bytes
/// (no lane can overflow), which the compiler turns into whole-register compares: a count
/// per byte into a 64-bit total takes several times longer.
fn count_quotes(bytes: &[u8]) -> u64 {
    bytes
        .chunks(255)
        .map(|run| u64::from(run.iter().fold(0u8, |n, byte| n + u8::from(*byte == b'"'))))
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::SourceCounts;
    use tenure_plan::{BadRowPolicy, Format, SourceKind, TimeFormat};

    /// The separators of `bytes` one byte at a time: bit `i` for byte `i`.
    fn separators_one_by_one(bytes: &[u8]) -> u32 {
        let is_separator = |byte: &u8| matches!(byte, b',' | b'"' | b'\n');
        bytes
            .iter()
            .enumerate()
            .filter(|(_, byte)| is_separator(byte))
            .fold(0, |mask, (at, _)| mask | 1 << at)
    }

    #[test]
    fn separators_are_found_in_every_place() {
        // Every byte value in every place, and random blocks drawn mostly from separators.
        let mut random = crate::test_random::Xorshift::new();
        let alphabet = [b',', b'"', b'\n', b'a', b'\r', 0, 0x80, 0xff, b'+', b'l'];
        for round in 0..20_000u32 {
            let mut block = [0u8; 16];
            for byte in &mut block {
                *byte = alphabet[random.below(alphabet.len() as u64) as usize];
            }
            if round < 256 * 16 {
                block[(round % 16) as usize] = (round / 16) as u8;
            }
            assert_eq!(separators(&block), separators_one_by_one(&block), "{block:?}");
            assert_eq!(
                separators_in_words(&block),
                separators_one_by_one(&block),
                "{block:?}"
            );
        }
    }

    fn source() -> Source {
        Source {
            name: "events".into(),
            kind: SourceKind::Events,
            relation: tenure_plan::Relation::File {
                path: "events.csv".into(),
                format: Format::Csv,
            },
            entity_column: "id".into(),
            time_column: "ts".into(),
            event_column: "event".into(),
            time_format: TimeFormat::Auto,
        }
    }

    /// Counts what the parser could not read.
    struct Counts(SourceCounts, Source);

    impl UnreadableRows for Counts {
        fn accounting(&mut self) -> (&mut SourceCounts, BadRowPolicy, &Source) {
            (&mut self.0, BadRowPolicy::Skip, &self.1)
        }
    }

    /// Records as lines and fields.
    type Lines = Vec<(u64, Vec<Vec<u8>>)>;

    /// Every record of `text` as `Records` splits it (line and fields), with the quotes counted.
    fn split(text: &[u8], first_line: u64, block_bytes: usize) -> (Lines, u64) {
        let source = source();
        let mut counts = Counts(SourceCounts::new("events", "events"), source.clone());
        let mut records = Records::with_block_bytes(text, first_line, block_bytes);
        let mut spans = Vec::new();
        let mut out = Vec::new();
        while let Some((line, bytes)) = records.next(&source, &mut spans, &mut counts).unwrap() {
            out.push((
                line,
                spans.iter().map(|span| bytes[span.clone()].to_vec()).collect(),
            ));
        }
        (out, records.quotes())
    }

    /// Every record of `text` as the `csv` crate alone reads it.
    fn parse(text: &[u8], first_line: u64) -> Lines {
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(false)
            .from_reader(text);
        let mut out = Vec::new();
        for record in reader.byte_records() {
            let record = record.unwrap();
            let line = first_line - 1 + record.position().unwrap().line();
            out.push((line, record.iter().map(<[u8]>::to_vec).collect()));
        }
        out
    }

    fn fields(line: u64, values: &[&str]) -> (u64, Vec<Vec<u8>>) {
        (line, values.iter().map(|v| v.as_bytes().to_vec()).collect())
    }

    #[test]
    fn plain_text_is_split_at_newlines_and_commas_skipping_blank_lines() {
        // Line 12 is blank and skipped (the record after it is given its number, as the csv
        // crate numbers it); the last line has no newline; ",," is three empty fields.
        let (records, quotes) = split(b"a,b\nc, d\n\n,,\nlast", 10, 4);
        assert_eq!(
            records,
            vec![
                fields(10, &["a", "b"]),
                fields(11, &["c", " d"]),
                fields(12, &["", "", ""]),
                fields(14, &["last"]),
            ]
        );
        assert_eq!(quotes, 0);
        assert_eq!(split(b"", 1, 4).0, Vec::new());
        assert_eq!(split(b"\n\n", 1, 4).0, Vec::new());
    }

    #[test]
    fn whole_quoted_fields_are_split_plainly() {
        // The quotes around a whole field are dropped; commas inside them are text; "" is an
        // empty field. Four quoted fields hold 8 quotes.
        let (records, quotes) = split(b"\"a, b\",c,\"\"\n\"x\",\"\"", 1, 64);
        assert_eq!(
            records,
            vec![fields(1, &["a, b", "c", ""]), fields(2, &["x", ""])]
        );
        assert_eq!(quotes, 8);
    }

    #[test]
    fn a_line_that_needs_the_parser_hands_it_the_rest() {
        // Line 2's quoted field runs past its line: line 2 on goes to the parser, which reads
        // the quoted comma and newline.
        let text = b"a,b\nc,\"d,\ne\"\nf,g\n";
        let (records, quotes) = split(text, 1, 4);
        assert_eq!(
            records,
            vec![
                fields(1, &["a", "b"]),
                fields(2, &["c", "d,\ne"]),
                fields(4, &["f", "g"])
            ]
        );
        assert_eq!(quotes, 2);
        assert_eq!(records, parse(text, 1));
    }

    #[test]
    fn any_text_splits_as_the_csv_crate_parses_it() {
        // Random texts over a small alphabet (commas, newlines, spaces, quotes, a two-byte
        // character; every fourth text also carriage returns; every other text is made of
        // whole quoted fields more often), read in blocks of 1 to 16 bytes: the same records on
        // the same lines, and the same quote count, as the csv crate gives.
        let mut random = crate::test_random::Xorshift::new();
        let mut next = move || random.next();
        for case in 0..3_000 {
            let alphabet: &[&[u8]] = match case % 4 {
                0 => &[b"a", b",", b"\n", b" ", "é".as_bytes(), b"\"", b"\r"],
                1 => &[b"a", b"b", b",", b"\n", b" ", "é".as_bytes(), b"\""],
                _ => &[
                    b"a",
                    b",\"b\"",
                    b",\"\"",
                    b",\"a, b\"\n",
                    b",",
                    b"\n",
                    "é".as_bytes(),
                ],
            };
            let length = (next() % 40) as usize;
            let text: Vec<u8> = (0..length)
                .flat_map(|_| {
                    alphabet[(next() % alphabet.len() as u64) as usize]
                        .iter()
                        .copied()
                })
                .collect();
            let block = 1 + (next() % 16) as usize;
            let (records, quotes) = split(&text, 1, block);
            let context = format!("{:?} in blocks of {block}", String::from_utf8_lossy(&text));
            assert_eq!(records, parse(&text, 1), "{context}");
            assert_eq!(quotes, count_quotes(&text), "{context}");
        }
    }

    #[test]
    fn quotes_are_counted_across_runs_of_255_bytes() {
        assert_eq!(count_quotes(b""), 0);
        assert_eq!(count_quotes(b"a,\"b, c\",d"), 2);
        // 600 quotes: the runs of 255 + 255 + 90 bytes each count all of theirs.
        assert_eq!(count_quotes(&[b'"'; 600]), 600);
        // Every third byte of 1 000 is a quote: 334 of them (bytes 0, 3, …, 999).
        let every_third: Vec<u8> = (0..1000).map(|i| if i % 3 == 0 { b'"' } else { b'x' }).collect();
        assert_eq!(count_quotes(&every_third), 334);
    }
}
