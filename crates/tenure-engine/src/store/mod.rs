//! The columnar in-memory store: interned ids, typed property columns, one row per kept event.

pub use crate::codes::Codes;

/// The code of a missing value in a text column.
pub const NULL_CODE: u32 = u32::MAX;

mod columns;
mod interner;

pub use columns::{Column, ColumnBuilder, KeptRuns, compact, parse_number, trimmed};
pub use interner::Interner;
pub(crate) use interner::{CodeTable, IdKey, text_hash};

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
    pub event: Codes,
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

    /// Reserves room for `additional` more rows in the row columns.
    pub fn reserve(&mut self, additional: usize) {
        self.entity.reserve(additional);
        self.time.reserve(additional);
        self.day.reserve(additional);
        self.event.reserve(additional);
    }

    /// Orders rows `a` and `b` by what they hold — event name, then each property in order
    /// (missing first, numbers by value, text by its characters) — never by where they sit, so
    /// that ties on time break the same way whatever the input order. Rows equal here differ in
    /// nothing any metric reads.
    pub fn compare_content(&self, a: usize, b: usize) -> std::cmp::Ordering {
        let name = |row: usize| self.event.get(row).map(|code| self.event_names.get(code));
        let names = name(a).cmp(&name(b));
        self.props.iter().fold(names, |order, (_, column)| {
            order.then_with(|| column.compare_rows(a, b))
        })
    }

    /// Drops the rows where `drop` is true, in place; columns are compacted in parallel.
    pub fn drop_rows(&mut self, drop: &[bool]) {
        let EventStore {
            entity,
            time,
            day,
            event,
            props,
            ..
        } = self;
        let kept = &KeptRuns::of(drop);
        rayon::scope(|scope| {
            scope.spawn(|_| compact(entity, kept));
            scope.spawn(|_| compact(time, kept));
            scope.spawn(|_| compact(day, kept));
            scope.spawn(|_| event.compact(kept));
            for (_, column) in props.iter_mut() {
                scope.spawn(|_| column.compact(kept));
            }
        });
    }
}
