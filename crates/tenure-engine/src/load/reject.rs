//! Why a row is rejected: one model for every reader. The row sink (text rows), the Arrow batch
//! path and the entity loader run the same checks, in the same order (entity, event, time,
//! amounts), and count or report a [`Rejection`] the same way (docs/config.md, "Bad rows").

use tenure_plan::{BadRowPolicy, RejectReason, Source, TimeFormat};

use super::{AMOUNT_LIMIT, EARLIEST_TIME, SourceCounts, TIME_LIMIT, parse_time};
use crate::calendar::{Clock, MICROS_PER_DAY, day_label};
use crate::error::EngineError;
use crate::store::trimmed;

/// A rejected row: the reason it is counted under, and what its message says.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Rejection {
    /// The entity id is absent or blank.
    MissingEntity,
    /// The event name is absent or blank.
    MissingEvent,
    /// The time is absent or blank.
    MissingTime,
    /// A time text the source's `time_format` does not read.
    UnreadableTime {
        /// The text, trimmed.
        text: String,
        /// The source's format.
        format: TimeFormat,
    },
    /// A wall-clock time (µs since the epoch) the project's zone cannot place.
    UnplaceableTime(i64),
    /// A time (µs since the epoch) outside 1900-01-01 to 2199-12-31.
    TimeOutOfRange(i64),
    /// A value of an amount column that is not a finite number within ±10¹⁵.
    BadAmount {
        /// The column.
        column: String,
        /// The value as the file holds it.
        value: String,
    },
    /// A row the reader could not split into fields.
    Malformed(String),
    /// Bytes that are not UTF-8.
    BadEncoding(String),
}

impl Rejection {
    /// The reason the row is counted under.
    pub(crate) fn reason(&self) -> RejectReason {
        match self {
            Rejection::MissingEntity => RejectReason::MissingEntity,
            Rejection::MissingEvent => RejectReason::MissingEvent,
            Rejection::MissingTime => RejectReason::MissingTime,
            Rejection::UnreadableTime { .. }
            | Rejection::UnplaceableTime(_)
            | Rejection::TimeOutOfRange(_) => RejectReason::BadTime,
            Rejection::BadAmount { .. } => RejectReason::BadAmount,
            Rejection::Malformed(_) => RejectReason::MalformedRow,
            Rejection::BadEncoding(_) => RejectReason::BadEncoding,
        }
    }

    /// What is wrong with the row, for the message of `on_bad_row = "fail"`.
    pub(crate) fn detail(&self) -> String {
        match self {
            Rejection::MissingEntity => "the entity id is empty".to_string(),
            Rejection::MissingEvent => "the event name is empty".to_string(),
            Rejection::MissingTime => "the time is empty".to_string(),
            Rejection::UnreadableTime { text, format } => {
                let hint = match format {
                    TimeFormat::Auto if text.bytes().all(|b| b.is_ascii_digit()) => {
                        " (epoch numbers need time_format = \"epoch_s\" or \"epoch_ms\")"
                    }
                    _ => "",
                };
                format!("cannot read time `{text}`{hint}")
            }
            Rejection::UnplaceableTime(local) => format!("local time {local} µs is out of range"),
            Rejection::TimeOutOfRange(micros) => format!(
                "time {} is outside the supported range 1900-01-01 to 2199-12-31",
                day_label(micros.div_euclid(MICROS_PER_DAY) as i32)
            ),
            Rejection::BadAmount { column, value } => {
                format!("amount column `{column}` holds `{value}`, not a finite number within ±10¹⁵")
            }
            Rejection::Malformed(detail) | Rejection::BadEncoding(detail) => detail.clone(),
        }
    }
}

/// An entity id or event name, trimmed; `missing` when it is absent or blank.
pub(super) fn required(value: Option<&str>, missing: Rejection) -> Result<&str, Rejection> {
    match value.map(trimmed) {
        Some(text) if !text.is_empty() => Ok(text),
        _ => Err(missing),
    }
}

/// An instant within the supported range.
pub(super) fn time_in_range(micros: i64) -> Result<i64, Rejection> {
    if (EARLIEST_TIME..TIME_LIMIT).contains(&micros) {
        Ok(micros)
    } else {
        Err(Rejection::TimeOutOfRange(micros))
    }
}

/// A time read from text per `format` (blank is missing), within the supported range.
pub(super) fn time_from_text(text: &str, format: TimeFormat, clock: &mut Clock) -> Result<i64, Rejection> {
    let text = trimmed(text);
    if text.is_empty() {
        return Err(Rejection::MissingTime);
    }
    let micros = parse_time(text, format, clock).map_err(|_| Rejection::UnreadableTime {
        text: text.to_string(),
        format,
    })?;
    time_in_range(micros)
}

/// A wall-clock time placed in the project's zone, within the supported range.
pub(super) fn time_from_local(local: i64, clock: &mut Clock) -> Result<i64, Rejection> {
    let micros = clock
        .local_to_utc(local)
        .ok_or(Rejection::UnplaceableTime(local))?;
    time_in_range(micros)
}

/// Checks a text value of amount column `column`: blank, or a number within ±10¹⁵.
pub(super) fn amount_text(column: &str, text: &str) -> Result<(), Rejection> {
    let text = trimmed(text);
    if text.is_empty() || crate::store::parse_number(text).is_some_and(|v| v.abs() <= AMOUNT_LIMIT) {
        Ok(())
    } else {
        Err(Rejection::BadAmount {
            column: column.to_string(),
            value: text.to_string(),
        })
    }
}

/// Checks a typed value of amount column `column`: a finite number within ±10¹⁵.
pub(super) fn amount_number(column: &str, value: f64) -> Result<(), Rejection> {
    if value.is_finite() && value.abs() <= AMOUNT_LIMIT {
        Ok(())
    } else {
        Err(Rejection::BadAmount {
            column: column.to_string(),
            value: value.to_string(),
        })
    }
}

/// Counts a rejected row of `source` (already counted as read), or fails under
/// `on_bad_row = "fail"` with the row's line and what is wrong with it.
pub(super) fn count_rejection(
    counts: &mut SourceCounts,
    policy: BadRowPolicy,
    source: &Source,
    line: u64,
    rejection: Rejection,
) -> Result<(), EngineError> {
    let reason = rejection.reason();
    *counts.rejected.entry(reason).or_insert(0) += 1;
    match policy {
        BadRowPolicy::Skip => Ok(()),
        BadRowPolicy::Fail => Err(EngineError::BadRow {
            source_name: source.name.clone(),
            location: source.relation.to_string(),
            row: line,
            reason,
            detail: rejection.detail(),
        }),
    }
}
