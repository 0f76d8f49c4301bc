//! Property columns: typed once loaded (`Column`), built part by part while reading
//! (`ColumnBuilder`), numbers kept sparse when most rows have none.

use super::{Codes, Interner, NULL_CODE};

/// A typed column, decided after loading from the values seen.
#[derive(Debug, Clone)]
pub enum Column {
    /// Dictionary-encoded text; [`NULL_CODE`] marks a missing value.
    Text {
        /// One code per row.
        codes: Codes,
        /// Distinct values in code order.
        dict: Vec<Box<str>>,
    },
    /// Numbers, all finite; NaN marks a missing value (half the size of `Option<f64>`).
    Number(Vec<f64>),
    /// Numbers of a column that is mostly empty, such as the amount of the few events that
    /// carry one.
    Sparse(SparseNumbers),
    /// Booleans; `None` is missing.
    Bool(Vec<Option<bool>>),
}

/// The numbers of a mostly empty column: a bit per row tells whether the row has a value, and
/// only the values are kept — about 8 bytes per value instead of 8 per row.
#[derive(Debug, Clone, Default)]
pub struct SparseNumbers {
    len: usize,
    /// Bit `row % 64` of word `row / 64` is set when the row has a value.
    present: Vec<u64>,
    /// How many values the rows before each word hold (filled by [`SparseNumbers::seal`]).
    before: Vec<u64>,
    values: Vec<f64>,
}

impl SparseNumbers {
    /// Appends a row: a value, or NaN for none.
    #[inline]
    fn push(&mut self, value: f64) {
        let word = self.len / 64;
        if word == self.present.len() {
            self.present.push(0);
        }
        if !value.is_nan() {
            self.present[word] |= 1 << (self.len % 64);
            self.values.push(value);
        }
        self.len += 1;
    }

    /// Appends rows: values, or NaN for none.
    fn extend(&mut self, rows: impl IntoIterator<Item = f64>) {
        rows.into_iter().for_each(|value| self.push(value));
    }

    /// A sealed column of `rows` (NaN for none).
    fn sealed(rows: impl IntoIterator<Item = f64>) -> SparseNumbers {
        let mut numbers = SparseNumbers::default();
        numbers.extend(rows);
        numbers.seal();
        numbers
    }

    /// Counts the values before each word, so that [`SparseNumbers::get`] finds a row's value.
    fn seal(&mut self) {
        let mut total = 0u64;
        self.before.clear();
        self.before.extend(self.present.iter().map(|word| {
            let before = total;
            total += u64::from(word.count_ones());
            before
        }));
    }

    /// The value of row `row`, if it has one (once sealed).
    #[inline]
    pub fn get(&self, row: usize) -> Option<f64> {
        let word = *self.present.get(row / 64)?;
        let bit = 1u64 << (row % 64);
        if word & bit == 0 {
            return None;
        }
        let index = self.before.get(row / 64)? + u64::from((word & (bit - 1)).count_ones());
        self.values.get(index as usize).copied()
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Every row in order, NaN for the rows without a value (sealed or not).
    fn rows(&self) -> impl Iterator<Item = f64> + '_ {
        let mut values = self.values.iter();
        (0..self.len).map(move |row| {
            if self.present[row / 64] & (1 << (row % 64)) == 0 {
                f64::NAN
            } else {
                values.next().copied().unwrap_or(f64::NAN)
            }
        })
    }

    /// Every row, NaN for the rows without a value.
    fn to_dense(&self) -> Vec<f64> {
        self.rows().collect()
    }

    /// How many values the rows before `row` hold (once sealed; `row` up to the length).
    fn rank(&self, row: usize) -> usize {
        let (word, bit) = (row / 64, row % 64);
        match (self.before.get(word), self.present.get(word)) {
            (Some(before), Some(bits)) => {
                *before as usize + (bits & ((1u64 << bit) - 1)).count_ones() as usize
            }
            _ => self.values.len(),
        }
    }

    /// The presence bits of rows `row .. row + count` (`count` at most 64), the first row's in
    /// the lowest bit.
    fn bits_at(&self, row: usize, count: usize) -> u64 {
        let (word, shift) = (row / 64, row % 64);
        let mut bits = self.present[word] >> shift;
        if shift > 0 && shift + count > 64 {
            bits |= self.present[word + 1] << (64 - shift);
        }
        if count < 64 {
            bits & ((1u64 << count) - 1)
        } else {
            bits
        }
    }

    /// Keeps the rows of `kept`: each run's values are copied at once and its presence bits a
    /// word at a time.
    fn compact(&mut self, kept: &KeptRuns) {
        self.seal();
        let mut values = Vec::with_capacity(self.values.len());
        let mut present = BitWriter::with_capacity(kept.rows.div_ceil(64));
        for run in &kept.runs {
            values.extend_from_slice(&self.values[self.rank(run.start)..self.rank(run.end)]);
            let mut row = run.start;
            while row < run.end {
                let count = (run.end - row).min(64);
                present.push(self.bits_at(row, count), count);
                row += count;
            }
        }
        *self = SparseNumbers {
            len: kept.rows,
            present: present.finish(),
            before: Vec::new(),
            values,
        };
        self.seal();
    }
}

/// Appends bits to a vector of 64-bit words, the first bit in the lowest bit of the first word.
struct BitWriter {
    words: Vec<u64>,
    /// The bits of the word being filled.
    pending: u64,
    /// How many bits of `pending` are filled (less than 64).
    filled: usize,
}

impl BitWriter {
    fn with_capacity(words: usize) -> BitWriter {
        BitWriter {
            words: Vec::with_capacity(words),
            pending: 0,
            filled: 0,
        }
    }

    /// Appends the `count` low bits of `bits` (`count` at most 64, the bits above it zero).
    fn push(&mut self, bits: u64, count: usize) {
        self.pending |= bits << self.filled;
        if self.filled + count >= 64 {
            self.words.push(self.pending);
            // The bits that did not fit, if any.
            self.pending = if self.filled == 0 {
                0
            } else {
                bits >> (64 - self.filled)
            };
            self.filled = self.filled + count - 64;
        } else {
            self.filled += count;
        }
    }

    /// The words, the last one partly filled if the bits end inside it.
    fn finish(mut self) -> Vec<u64> {
        if self.filled > 0 {
            self.words.push(self.pending);
        }
        self.words
    }
}

/// The rows a compaction keeps, as runs of consecutive rows in order: dropped rows are few
/// (duplicates, excluded rows), so each column moves a run at a time instead of testing every
/// row.
#[derive(Debug, Default)]
pub struct KeptRuns {
    runs: Vec<std::ops::Range<usize>>,
    /// How many rows the runs hold.
    rows: usize,
}

impl KeptRuns {
    /// The rows where `drop` is false, found in pieces on the rayon pool; the dropped rows are
    /// looked for eight at a time.
    pub fn of(drop: &[bool]) -> KeptRuns {
        use rayon::prelude::*;
        const PIECE: usize = 1 << 20;
        let pieces: Vec<Vec<std::ops::Range<usize>>> = drop
            .par_chunks(PIECE)
            .enumerate()
            .map(|(piece, drop)| {
                let first = piece * PIECE;
                let mut runs = Vec::new();
                let mut start = 0;
                let mut dropped = |row: usize, runs: &mut Vec<_>| {
                    if row > start {
                        runs.push(first + start..first + row);
                    }
                    start = row + 1;
                };
                let mut eights = drop.chunks_exact(8);
                for (index, eight) in eights.by_ref().enumerate() {
                    let mut flags = u64::from_le_bytes(std::array::from_fn(|i| u8::from(eight[i])));
                    while flags != 0 {
                        dropped(index * 8 + flags.trailing_zeros() as usize / 8, &mut runs);
                        flags &= flags - 1;
                    }
                }
                let tail = drop.len() - eights.remainder().len();
                for (offset, flag) in eights.remainder().iter().enumerate() {
                    if *flag {
                        dropped(tail + offset, &mut runs);
                    }
                }
                if drop.len() > start {
                    runs.push(first + start..first + drop.len());
                }
                runs
            })
            .collect();
        let runs: Vec<std::ops::Range<usize>> = pieces.into_iter().flatten().collect();
        let rows = runs.iter().map(|run| run.len()).sum();
        KeptRuns { runs, rows }
    }
}

/// A number column is built sparse while at most one row in `SPARSE_SHARE` has a value.
const SPARSE_SHARE: usize = 4;

impl Column {
    /// Orders the values of rows `a` and `b`: missing first, numbers by value, text by its
    /// characters, false before true.
    pub fn compare_rows(&self, a: usize, b: usize) -> std::cmp::Ordering {
        match self {
            Column::Text { codes, dict } => {
                let text = |row: usize| {
                    let code = codes.get(row).unwrap_or(NULL_CODE);
                    (code != NULL_CODE).then(|| &*dict[code as usize])
                };
                text(a).cmp(&text(b))
            }
            Column::Number(_) | Column::Sparse(_) => match (self.number(a), self.number(b)) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (x, y) => x.is_some().cmp(&y.is_some()),
            },
            Column::Bool(values) => values[a].cmp(&values[b]),
        }
    }

    /// How many rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Text { codes, .. } => codes.len(),
            Column::Number(values) => values.len(),
            Column::Sparse(numbers) => numbers.len(),
            Column::Bool(values) => values.len(),
        }
    }

    /// The number of row `row` of a number column (`None` when missing or not a number column).
    #[inline]
    pub fn number(&self, row: usize) -> Option<f64> {
        match self {
            Column::Number(values) => values.get(row).copied().filter(|v| !v.is_nan()),
            Column::Sparse(numbers) => numbers.get(row),
            _ => None,
        }
    }

    /// Keeps the rows of `kept`, in place.
    pub fn compact(&mut self, kept: &KeptRuns) {
        match self {
            Column::Text { codes, .. } => codes.compact(kept),
            Column::Number(values) => compact(values, kept),
            Column::Sparse(numbers) => numbers.compact(kept),
            Column::Bool(values) => compact(values, kept),
        }
    }
}

/// Keeps the values of the rows of `kept`, moving each run down in place (no new memory).
pub fn compact<T: Copy>(values: &mut Vec<T>, kept: &KeptRuns) {
    let mut len = 0;
    for run in &kept.runs {
        if run.start != len {
            values.copy_within(run.clone(), len);
        }
        len += run.len();
    }
    values.truncate(len);
}

/// Builds one column from parts read in parallel. Text is interned (its type is inferred in
/// [`ColumnBuilder::finish`]); values of typed columns (Parquet, Arrow) stay numbers or booleans.
/// A column fed both text and typed values becomes text, typed values written as text.
#[derive(Debug, Clone)]
pub enum ColumnBuilder {
    /// Interned text; [`NULL_CODE`] marks a missing value.
    Text {
        /// One code per row.
        codes: Codes,
        /// The distinct values.
        interner: Interner,
    },
    /// Numbers from a typed column; NaN marks a missing value.
    Number(Vec<f64>),
    /// Numbers from a typed column that has values on few rows, appended part by part.
    Sparse(SparseNumbers),
    /// Booleans from a typed column.
    Bool(Vec<Option<bool>>),
}

impl Default for ColumnBuilder {
    fn default() -> Self {
        ColumnBuilder::Text {
            codes: Codes::default(),
            interner: Interner::default(),
        }
    }
}

impl ColumnBuilder {
    /// Appends a text value (`None` or empty text is missing).
    #[inline]
    pub fn push(&mut self, value: Option<&str>) {
        let code = match value {
            Some(text) if !text.is_empty() => self.intern(text),
            _ => NULL_CODE,
        };
        self.push_code(code);
    }

    /// The code of a text value, for [`ColumnBuilder::push_code`]; turns a typed column into text.
    #[inline]
    pub fn intern(&mut self, value: &str) -> u32 {
        match self {
            ColumnBuilder::Text { interner, .. } => interner.intern(value),
            _ => {
                self.make_text();
                self.intern(value)
            }
        }
    }

    /// Appends a text value by the code [`ColumnBuilder::intern`] gave it (or [`NULL_CODE`]).
    #[inline]
    pub fn push_code(&mut self, code: u32) {
        match self {
            ColumnBuilder::Text { codes, .. } => codes.push(code),
            _ => {
                self.make_text();
                self.push_code(code);
            }
        }
    }

    /// Appends the codes [`ColumnBuilder::intern`] gave (or [`NULL_CODE`]) of the rows whose
    /// `kept` is true, in order.
    pub fn extend_codes(&mut self, codes: &[u32], kept: &[bool]) {
        match self {
            ColumnBuilder::Text { codes: column, .. } => column.extend_kept(codes, kept),
            _ => {
                self.make_text();
                self.extend_codes(codes, kept);
            }
        }
    }

    /// Appends a number of a typed column (`None`, or a value that is not finite, is missing).
    #[inline]
    pub fn push_number(&mut self, value: Option<f64>) {
        let value = value.filter(|v| v.is_finite());
        match (self.numbers_mut(), value) {
            (Some(values), _) => values.push(value.unwrap_or(f64::NAN)),
            (None, Some(number)) => self.push(Some(&number.to_string())),
            (None, None) => self.push_missing(),
        }
    }

    /// Appends a boolean of a typed column.
    #[inline]
    pub fn push_bool(&mut self, value: Option<bool>) {
        match (self.bools_mut(), value) {
            (Some(values), _) => values.push(value),
            (None, Some(flag)) => self.push(Some(if flag { "true" } else { "false" })),
            (None, None) => self.push_missing(),
        }
    }

    /// Whether nothing, not even a type, has been given to the builder yet.
    fn is_blank(&self) -> bool {
        matches!(self, ColumnBuilder::Text { codes, interner } if codes.is_empty() && interner.is_empty())
    }

    /// The values of a number column, for appending many at once (NaN for missing); a blank
    /// builder becomes a number column. `None` when the column holds text or booleans.
    pub fn numbers_mut(&mut self) -> Option<&mut Vec<f64>> {
        if self.is_blank() {
            *self = ColumnBuilder::Number(Vec::new());
        }
        if let ColumnBuilder::Sparse(numbers) = self {
            *self = ColumnBuilder::Number(numbers.to_dense());
        }
        match self {
            ColumnBuilder::Number(values) => Some(values),
            _ => None,
        }
    }

    /// The values of a boolean column; a blank builder becomes a boolean column. `None` when
    /// the column holds text or numbers.
    fn bools_mut(&mut self) -> Option<&mut Vec<Option<bool>>> {
        if self.is_blank() {
            *self = ColumnBuilder::Bool(Vec::new());
        }
        match self {
            ColumnBuilder::Bool(values) => Some(values),
            _ => None,
        }
    }

    /// Appends a missing value.
    pub fn push_missing(&mut self) {
        match self {
            ColumnBuilder::Text { codes, .. } => codes.push(NULL_CODE),
            ColumnBuilder::Number(values) => values.push(f64::NAN),
            ColumnBuilder::Sparse(numbers) => numbers.push(f64::NAN),
            ColumnBuilder::Bool(values) => values.push(None),
        }
    }

    /// Rewrites a typed column as text.
    fn make_text(&mut self) {
        let mut interner = Interner::default();
        let mut code_of = |value: f64| {
            if value.is_nan() {
                NULL_CODE
            } else {
                interner.intern(&value.to_string())
            }
        };
        let codes: Vec<u32> = match self {
            ColumnBuilder::Text { .. } => return,
            ColumnBuilder::Number(values) => values.iter().map(|v| code_of(*v)).collect(),
            ColumnBuilder::Sparse(numbers) => numbers.rows().map(code_of).collect(),
            ColumnBuilder::Bool(values) => values
                .iter()
                .map(|v| v.map_or(NULL_CODE, |b| interner.intern(if b { "true" } else { "false" })))
                .collect(),
        };
        *self = ColumnBuilder::Text {
            codes: Codes::from(codes),
            interner,
        };
    }

    /// Appends missing values until the column has `len` rows.
    pub fn pad_to(&mut self, len: usize) {
        while self.len() < len {
            self.push_missing();
        }
    }

    /// Appends every row of `other`, leaving it empty (its memory kept for reuse). A number
    /// column whose first part has a value on at most one row in four is kept sparse until it
    /// has values on more than one row in two.
    pub fn append(&mut self, other: &mut ColumnBuilder) {
        match (&mut *self, &mut *other) {
            (ColumnBuilder::Number(values), ColumnBuilder::Number(more)) => values.append(more),
            (this, ColumnBuilder::Number(more)) if this.is_blank() => {
                let present = more.iter().filter(|v| !v.is_nan()).count();
                if present * SPARSE_SHARE <= more.len() {
                    let mut numbers = SparseNumbers::default();
                    numbers.extend(more.drain(..));
                    *self = ColumnBuilder::Sparse(numbers);
                } else {
                    *self = ColumnBuilder::Number(std::mem::take(more));
                }
            }
            (ColumnBuilder::Sparse(numbers), ColumnBuilder::Number(more)) => {
                numbers.extend(more.drain(..));
                if numbers.values.len() * 2 > numbers.len {
                    *self = ColumnBuilder::Number(numbers.to_dense());
                }
            }
            (ColumnBuilder::Bool(values), ColumnBuilder::Bool(more)) => values.append(more),
            (this, other) if this.is_blank() && !other.is_text() => {
                *self = std::mem::take(other);
            }
            (_, other) => {
                self.make_text();
                other.make_text();
                let (
                    ColumnBuilder::Text { codes, interner },
                    ColumnBuilder::Text {
                        codes: more,
                        interner: dict,
                    },
                ) = (&mut *self, other)
                else {
                    return;
                };
                let translated: Vec<u32> = dict.values().iter().map(|v| interner.intern(v)).collect();
                codes.extend_translated(more, &translated);
                more.clear();
                dict.clear();
            }
        }
    }

    /// Reserves room for `additional` more rows.
    pub fn reserve(&mut self, additional: usize) {
        match self {
            ColumnBuilder::Text { codes, .. } => codes.reserve(additional),
            ColumnBuilder::Number(values) => values.reserve(additional),
            // The room a sparse column needs is not known in advance.
            ColumnBuilder::Sparse(_) => {}
            ColumnBuilder::Bool(values) => values.reserve(additional),
        }
    }

    fn is_text(&self) -> bool {
        matches!(self, ColumnBuilder::Text { .. })
    }

    /// Places a text value at `row`, growing the column with missing values as needed.
    pub fn set(&mut self, row: usize, value: Option<&str>) {
        self.pad_to(row + 1);
        let code = match value {
            Some(text) if !text.is_empty() => self.intern(text),
            _ => NULL_CODE,
        };
        if let ColumnBuilder::Text { codes, .. } = self {
            codes.set(row, code);
        }
    }

    /// Number of rows so far.
    pub fn len(&self) -> usize {
        match self {
            ColumnBuilder::Text { codes, .. } => codes.len(),
            ColumnBuilder::Number(values) => values.len(),
            ColumnBuilder::Sparse(numbers) => numbers.len(),
            ColumnBuilder::Bool(values) => values.len(),
        }
    }

    /// The column. Text becomes a number column if every value is a number, a boolean column
    /// if every value is `true`/`false`, and stays text otherwise; each distinct value is
    /// parsed once.
    pub fn finish(self) -> Column {
        let (codes, dict) = match self {
            ColumnBuilder::Number(values) => return Column::Number(values),
            ColumnBuilder::Sparse(mut numbers) => {
                numbers.seal();
                return Column::Sparse(numbers);
            }
            ColumnBuilder::Bool(values) => return Column::Bool(values),
            ColumnBuilder::Text { codes, interner } => (codes, interner.into_values()),
        };
        if !dict.is_empty() {
            let numbers: Option<Vec<f64>> = dict.iter().map(|v| parse_number(v)).collect();
            if let Some(numbers) = numbers {
                let number = |code: u32| (code != NULL_CODE).then(|| numbers[code as usize]);
                let present = codes.iter().filter(|code| *code != NULL_CODE).count();
                let rows = codes.iter().map(|code| number(code).unwrap_or(f64::NAN));
                if present * SPARSE_SHARE <= codes.len() {
                    return Column::Sparse(SparseNumbers::sealed(rows));
                }
                return Column::Number(rows.collect());
            }
            let bools: Option<Vec<bool>> = dict
                .iter()
                .map(|v| match &**v {
                    "true" | "TRUE" | "True" => Some(true),
                    "false" | "FALSE" | "False" => Some(false),
                    _ => None,
                })
                .collect();
            if let Some(bools) = bools {
                let values = codes
                    .iter()
                    .map(|code| (code != NULL_CODE).then(|| bools[code as usize]))
                    .collect();
                return Column::Bool(values);
            }
        }
        Column::Text { codes, dict }
    }
}

/// `text` without leading and trailing whitespace, as `str::trim` has it; text that starts and
/// ends with a visible ASCII character (ids, names and times almost always do) is returned as it
/// is without a scan.
#[inline]
pub fn trimmed(text: &str) -> &str {
    let visible = |byte: Option<&u8>| byte.is_some_and(|b| (0x21..0x80).contains(b));
    let bytes = text.as_bytes();
    if visible(bytes.first()) && visible(bytes.last()) {
        text
    } else {
        text.trim()
    }
}

/// Parses a number written in decimal or scientific notation (not `inf`, `nan` or hex).
pub fn parse_number(text: &str) -> Option<f64> {
    let text = trimmed(text);
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    if body.is_empty() || !body.as_bytes()[0].is_ascii_digit() && !body.starts_with('.') {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(values: &[Option<f64>]) -> ColumnBuilder {
        let mut builder = ColumnBuilder::default();
        values.iter().for_each(|v| builder.push_number(*v));
        builder
    }

    fn numbers_of(column: Column) -> Vec<Option<f64>> {
        match column {
            Column::Number(values) => values.iter().map(|v| (!v.is_nan()).then_some(*v)).collect(),
            Column::Sparse(numbers) => (0..numbers.len()).map(|row| numbers.get(row)).collect(),
            other => panic!("expected numbers, got {other:?}"),
        }
    }

    fn texts(values: &[Option<&str>]) -> ColumnBuilder {
        let mut builder = ColumnBuilder::default();
        values.iter().for_each(|v| builder.push(*v));
        builder
    }

    #[test]
    fn typed_parts_stay_typed_and_text_parts_are_inferred() {
        // Two number parts append as numbers; the column is a number column.
        let mut column = ColumnBuilder::default();
        column.append(&mut numbers(&[Some(1.5), None]));
        column.append(&mut numbers(&[Some(2.0)]));
        assert_eq!(numbers_of(column.finish()), vec![Some(1.5), None, Some(2.0)]);
        // Numbers then numeric text (a CSV source after a Parquet one): text "3", "1.5"... all
        // parse, so the column is still numbers.
        let mut column = ColumnBuilder::default();
        column.append(&mut numbers(&[Some(1.5), Some(3.0)]));
        column.append(&mut texts(&[Some("4"), None]));
        assert_eq!(
            numbers_of(column.finish()),
            vec![Some(1.5), Some(3.0), Some(4.0), None]
        );
    }

    #[test]
    fn mixing_numbers_with_words_gives_text_with_numbers_written_out() {
        let mut column = ColumnBuilder::default();
        column.append(&mut texts(&[Some("n/a")]));
        column.append(&mut numbers(&[Some(2.5), None, Some(3.0)]));
        let Column::Text { codes, dict } = column.finish() else {
            panic!("expected text");
        };
        let values: Vec<Option<&str>> = codes
            .iter()
            .map(|c| (c != NULL_CODE).then(|| &*dict[c as usize]))
            .collect();
        assert_eq!(values, vec![Some("n/a"), Some("2.5"), None, Some("3")]);
    }

    #[test]
    fn mostly_empty_number_columns_are_kept_sparse_until_half_full() {
        // 1 value in 8 rows: sparse. Rows 0..8 then 8..16.
        let sparse_part = |at: usize| {
            let values: Vec<Option<f64>> = (0..8).map(|i| (i == at).then_some(i as f64 + 0.5)).collect();
            numbers(&values)
        };
        let mut column = ColumnBuilder::default();
        column.append(&mut sparse_part(3));
        column.append(&mut sparse_part(7));
        assert!(matches!(column, ColumnBuilder::Sparse(_)));
        let mut finished = column.clone().finish();
        let Column::Sparse(_) = &finished else {
            panic!("expected a sparse column, got {finished:?}");
        };
        // Values at rows 3 (3.5) and 15 (7.5); row 16 is past the end.
        assert_eq!(finished.number(3), Some(3.5));
        assert_eq!(finished.number(15), Some(7.5));
        assert_eq!(finished.number(4), None);
        assert_eq!(finished.number(16), None);
        assert_eq!(finished.len(), 16);
        // Dropping rows 0..4 moves 3.5 out and 7.5 to row 11.
        let mut drop = vec![false; 16];
        drop[..4].iter_mut().for_each(|d| *d = true);
        finished.compact(&KeptRuns::of(&drop));
        let mut expected = vec![None; 12];
        expected[11] = Some(7.5);
        assert_eq!(numbers_of(finished), expected);
        // A full part of 16 rows makes 18 values in 32 rows, more than half: dense again.
        column.append(&mut numbers(&[Some(1.0); 16]));
        assert!(matches!(column, ColumnBuilder::Number(_)));
        let dense = numbers_of(column.finish());
        assert_eq!(
            (dense[3], dense[4], dense[15], dense[31]),
            (Some(3.5), None, Some(7.5), Some(1.0))
        );
    }

    #[test]
    fn sparse_numbers_cross_words_and_turn_into_text() {
        // Values on every 50th of 200 rows span four 64-row words: 0, 50, 100, 150.
        let values: Vec<Option<f64>> = (0..200).map(|i| (i % 50 == 0).then_some(i as f64)).collect();
        let mut column = ColumnBuilder::default();
        column.append(&mut numbers(&values));
        assert_eq!(numbers_of(column.clone().finish()), values);
        // Words after numbers (a CSV part after a Parquet one) make the column text.
        column.append(&mut texts(&[Some("n/a")]));
        let Column::Text { codes, dict } = column.finish() else {
            panic!("expected text");
        };
        assert_eq!(codes.len(), 201);
        assert_eq!(&*dict[codes.get(150).unwrap_or(NULL_CODE) as usize], "150");
        assert_eq!(codes.get(1).unwrap_or(0), NULL_CODE);
    }

    #[test]
    fn mostly_empty_numeric_text_becomes_a_sparse_column() {
        // 1 number in 5 rows of text (a CSV amount column): sparse, values kept.
        let column = texts(&[None, Some("2.5"), None, None, None]).finish();
        assert!(matches!(column, Column::Sparse(_)));
        assert_eq!(numbers_of(column), vec![None, Some(2.5), None, None, None]);
    }

    #[test]
    fn trimming_keeps_what_str_trim_keeps() {
        let cases = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\tacc_1\n",
            "acc_1",
            "~x~",
            "\u{a0}acc\u{3000}",
            "é",
            " é ",
            "x\u{85}",
            "\u{7f}",
            "\u{1f}acc",
        ];
        for text in cases {
            assert_eq!(trimmed(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn compaction_by_runs_keeps_what_a_row_by_row_filter_keeps() {
        // Masks of 2 000 rows (runs cross the 64-row words at every offset and the eight-row
        // groups the runs are found by), dropping about one row in `every`, plus the edges:
        // nothing dropped, everything dropped, the first and the last row dropped.
        let mut random = crate::test_random::Xorshift::new();
        let mut next = move || random.next();
        let mut masks: Vec<Vec<bool>> = [2u64, 5, 30, 200]
            .iter()
            .map(|every| (0..2000).map(|_| next() % every == 0).collect())
            .collect();
        masks.push(vec![false; 2000]);
        masks.push(vec![true; 2000]);
        masks.push((0..2000).map(|row| row == 0 || row == 1999).collect());
        // A value on about one row in five, so that the column stays sparse.
        let values: Vec<Option<f64>> = (0..2000)
            .map(|row| (next() % 5 == 0).then_some(row as f64))
            .collect();
        for drop in &masks {
            let expected: Vec<Option<f64>> = values
                .iter()
                .zip(drop)
                .filter(|(_, dropped)| !**dropped)
                .map(|(value, _)| *value)
                .collect();
            let kept = KeptRuns::of(drop);
            assert_eq!(kept.rows, expected.len());
            let mut column = ColumnBuilder::default();
            column.append(&mut numbers(&values));
            let mut finished = column.finish();
            assert!(matches!(finished, Column::Sparse(_)), "{finished:?}");
            finished.compact(&kept);
            assert_eq!(numbers_of(finished), expected);
            let mut rows: Vec<usize> = (0..2000).collect();
            compact(&mut rows, &kept);
            let expected_rows: Vec<usize> = (0..2000).filter(|row| !drop[*row]).collect();
            assert_eq!(rows, expected_rows);
        }
    }

    #[test]
    fn bits_are_written_across_words_whatever_the_offset() {
        // 3, 64, 61 and 1 bits: the second push starts at bit 3 and spills into word two.
        let mut writer = BitWriter::with_capacity(3);
        writer.push(0b101, 3);
        writer.push(u64::MAX, 64);
        writer.push(0, 61);
        writer.push(1, 1);
        assert_eq!(writer.finish(), vec![u64::MAX << 3 | 0b101, 0b111, 1]);
    }

    #[test]
    fn appending_empties_the_part_and_compact_drops_rows_in_place() {
        let mut part = numbers(&[Some(1.0), Some(2.0), Some(3.0)]);
        let mut column = ColumnBuilder::default();
        column.append(&mut part);
        assert_eq!(part.len(), 0);
        let mut finished = column.finish();
        finished.compact(&KeptRuns::of(&[false, true, false]));
        assert_eq!(numbers_of(finished), vec![Some(1.0), Some(3.0)]);
    }
}
