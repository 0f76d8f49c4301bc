//! The columnar in-memory store: interned ids, typed property columns, one row per kept event.

use rustc_hash::FxHashMap;

/// The code of a missing value in a text column.
pub const NULL_CODE: u32 = u32::MAX;

/// Assigns dense `u32` codes to distinct strings.
#[derive(Debug, Default, Clone)]
pub struct Interner {
    codes: FxHashMap<Box<str>, u32>,
    values: Vec<Box<str>>,
}

impl Interner {
    /// The code of `value`, assigning the next one if it is new.
    #[inline]
    pub fn intern(&mut self, value: &str) -> u32 {
        if let Some(code) = self.codes.get(value) {
            return *code;
        }
        let code = self.values.len() as u32;
        self.values.push(value.into());
        self.codes.insert(value.into(), code);
        code
    }

    /// The code of `value`, if it has one.
    pub fn lookup(&self, value: &str) -> Option<u32> {
        self.codes.get(value).copied()
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

    /// All strings in code order.
    pub fn values(&self) -> &[Box<str>] {
        &self.values
    }
}

/// A typed column, decided after loading from the values seen.
#[derive(Debug, Clone)]
pub enum Column {
    /// Dictionary-encoded text; [`NULL_CODE`] marks a missing value.
    Text {
        /// One code per row.
        codes: Vec<u32>,
        /// Distinct values in code order.
        dict: Vec<Box<str>>,
    },
    /// Numbers; `None` is missing.
    Number(Vec<Option<f64>>),
    /// Booleans; `None` is missing.
    Bool(Vec<Option<bool>>),
}

impl Column {
    /// How many rows.
    pub fn len(&self) -> usize {
        match self {
            Column::Text { codes, .. } => codes.len(),
            Column::Number(values) => values.len(),
            Column::Bool(values) => values.len(),
        }
    }

    /// Whether the column has no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps the rows at `rows`, in that order.
    pub fn gather(&self, rows: &[u32]) -> Column {
        match self {
            Column::Text { codes, dict } => Column::Text {
                codes: rows.iter().map(|r| codes[*r as usize]).collect(),
                dict: dict.clone(),
            },
            Column::Number(values) => Column::Number(rows.iter().map(|r| values[*r as usize]).collect()),
            Column::Bool(values) => Column::Bool(rows.iter().map(|r| values[*r as usize]).collect()),
        }
    }
}

/// Builds a column from text values; the type is chosen in [`ColumnBuilder::finish`].
#[derive(Debug, Default, Clone)]
pub struct ColumnBuilder {
    codes: Vec<u32>,
    interner: Interner,
}

impl ColumnBuilder {
    /// Appends a value (`None` or empty text is missing).
    #[inline]
    pub fn push(&mut self, value: Option<&str>) {
        let code = match value {
            Some(text) if !text.is_empty() => self.interner.intern(text),
            _ => NULL_CODE,
        };
        self.codes.push(code);
    }

    /// Appends missing values until the column has `len` rows.
    pub fn pad_to(&mut self, len: usize) {
        self.codes.resize(len, NULL_CODE);
    }

    /// Appends the rows of `other` for which `keep` is true (all rows without `keep`).
    pub fn append(&mut self, other: ColumnBuilder, keep: Option<&[bool]>) {
        let codes: Vec<u32> = other
            .interner
            .values()
            .iter()
            .map(|v| self.interner.intern(v))
            .collect();
        let translate = |code: u32| {
            if code == NULL_CODE {
                NULL_CODE
            } else {
                codes[code as usize]
            }
        };
        match keep {
            None => self.codes.extend(other.codes.iter().map(|c| translate(*c))),
            Some(keep) => self.codes.extend(
                other
                    .codes
                    .iter()
                    .zip(keep)
                    .filter(|(_, k)| **k)
                    .map(|(c, _)| translate(*c)),
            ),
        }
    }

    /// Places a value at `row`, growing the column with missing values as needed.
    pub fn set(&mut self, row: usize, value: Option<&str>) {
        if self.codes.len() <= row {
            self.codes.resize(row + 1, NULL_CODE);
        }
        self.codes[row] = match value {
            Some(text) if !text.is_empty() => self.interner.intern(text),
            _ => NULL_CODE,
        };
    }

    /// Number of rows so far.
    pub fn len(&self) -> usize {
        self.codes.len()
    }

    /// Whether the builder has no rows.
    pub fn is_empty(&self) -> bool {
        self.codes.is_empty()
    }

    /// A number column if every value is a number, a boolean column if every value is
    /// `true`/`false`, text otherwise. Each distinct value is parsed once.
    pub fn finish(self) -> Column {
        let dict = self.interner.values;
        if !dict.is_empty() {
            let numbers: Option<Vec<f64>> = dict.iter().map(|v| parse_number(v)).collect();
            if let Some(numbers) = numbers {
                let values = self
                    .codes
                    .iter()
                    .map(|code| (*code != NULL_CODE).then(|| numbers[*code as usize]))
                    .collect();
                return Column::Number(values);
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
                let values = self
                    .codes
                    .iter()
                    .map(|code| (*code != NULL_CODE).then(|| bools[*code as usize]))
                    .collect();
                return Column::Bool(values);
            }
        }
        Column::Text {
            codes: self.codes,
            dict,
        }
    }
}

/// Parses a number written in decimal or scientific notation (not `inf`, `nan` or hex).
pub fn parse_number(text: &str) -> Option<f64> {
    let text = text.trim();
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    if body.is_empty() || !body.as_bytes()[0].is_ascii_digit() && !body.starts_with('.') {
        return None;
    }
    text.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Every kept event row, column by column, plus the entities and their attributes.
#[derive(Debug, Default)]
pub struct EventStore {
    /// Entity code per row.
    pub entity: Vec<u32>,
    /// Time per row, microseconds since the epoch (UTC).
    pub time: Vec<i64>,
    /// Local day per row (days since 1970-01-01 in the project zone).
    pub day: Vec<i32>,
    /// Event-name code per row.
    pub event: Vec<u32>,
    /// A content hash per row: equal rows have equal values, so ties break the same way
    /// whatever the input order.
    pub tiebreak: Vec<u64>,
    /// Entity ids by code.
    pub entities: Interner,
    /// Event names by code.
    pub event_names: Interner,
    /// Property columns the config reads, by name.
    pub props: Vec<(String, Column)>,
    /// Entity attributes, indexed by entity code.
    pub attrs: Vec<(String, Column)>,
    /// Segment labels from plugins, indexed by entity code.
    pub segments: Vec<(String, Column)>,
}

impl EventStore {
    /// Number of event rows.
    pub fn len(&self) -> usize {
        self.entity.len()
    }

    /// Whether there are no event rows.
    pub fn is_empty(&self) -> bool {
        self.entity.is_empty()
    }

    /// Keeps the rows at `rows` (ascending), dropping the others.
    pub fn retain_rows(&mut self, rows: &[u32]) {
        fn gather<T: Copy>(values: &[T], rows: &[u32]) -> Vec<T> {
            rows.iter().map(|r| values[*r as usize]).collect()
        }
        self.entity = gather(&self.entity, rows);
        self.time = gather(&self.time, rows);
        self.day = gather(&self.day, rows);
        self.event = gather(&self.event, rows);
        self.tiebreak = gather(&self.tiebreak, rows);
        for (_, column) in &mut self.props {
            *column = column.gather(rows);
        }
    }
}
