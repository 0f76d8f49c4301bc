//! The seam between what to compute and how.

use crate::{Plan, Report};

/// A way to evaluate a plan: the in-process engine, a SQL warehouse, a distributed engine.
///
/// Every backend returns the same [`Report`] for the same plan and data; the differential tests
/// hold them to that.
pub trait Backend {
    /// Why an evaluation failed.
    type Error: std::error::Error + Send + Sync + 'static;

    /// Evaluates the named metrics of `plan` (all of them when `metrics` is empty).
    fn evaluate(&self, plan: &Plan, metrics: &[String]) -> Result<Report, Self::Error>;
}
