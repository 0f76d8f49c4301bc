//! The validated plan of a tenure project and the result model.
//!
//! A [`Plan`] is what the DSL produces from `metrics.toml` once every name is resolved and every
//! expression type-checked: a typed description of what to compute that knows nothing of text,
//! spans or TOML. Backends (the in-process engine, a SQL generator) consume a plan and produce a
//! [`report::Report`]. Keeping both ends of that seam in this small crate is what lets a backend
//! be added without touching the parser, and the parser be changed without touching a backend.

mod analysis;
pub mod backend;
pub mod cohort_revenue;
pub mod derive;
pub mod expr;
pub mod figures;
pub mod funnel;
pub mod health;
pub mod norms;
pub mod plan;
pub mod report;
pub mod schema;
mod stats;
pub mod time;

pub use backend::Backend;
pub use expr::{Aggregate, AggregateKind, BinaryOp, Expr, Field, Function, Literal, ScalarRef, UnaryOp};
pub use plan::*;
pub use report::*;
pub use time::{Duration, DurationUnit, Grain, Unit, WeekStart};
