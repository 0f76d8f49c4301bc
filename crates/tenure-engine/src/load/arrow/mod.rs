//! Arrow record batches (Parquet, Arrow IPC, batches handed over in memory) into the loader's
//! sinks, a column at a time.
//!
//! `layout` picks a schema's columns; `values` reads scalars and interns text once per
//! dictionary value; `times` reads time columns; `fingerprints` hashes rows for exact
//! de-duplication; `events` checks and appends event batches, `entities` attribute batches.
//! Timestamps and dates arrive as instants, without parsing text, and no row allocates.

mod entities;
mod events;
mod fingerprints;
mod layout;
mod times;
mod values;

pub(in crate::load) use entities::read_entity_batches;
pub(in crate::load) use events::{BatchMemos, read_batches};
pub(in crate::load) use layout::{Layout, supported};
