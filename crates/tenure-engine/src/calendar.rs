//! Instants, local days and calendar periods in the project's time zone.
//!
//! Times are microseconds since the Unix epoch (UTC). A *local day* is the number of days since
//! 1970-01-01 of the calendar date in the project's zone. Period indexes (weeks, months,
//! quarters) are whole numbers that differ by one between consecutive periods, so offsets are
//! plain subtractions in the hot loops.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use tenure_plan::{Grain, TimeFormat, WeekStart};

/// Microseconds in a day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;
const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// Converts between instants and local calendar days, caching zone offsets by the hour.
#[derive(Debug, Clone)]
pub struct Clock {
    tz: Tz,
    is_utc: bool,
    utc_cache: Option<(i64, i64)>,
    local_cache: Option<(i64, i64)>,
}

impl Clock {
    /// A clock for a zone.
    pub fn new(tz: Tz) -> Self {
        Clock {
            tz,
            is_utc: tz == chrono_tz::UTC,
            utc_cache: None,
            local_cache: None,
        }
    }

    /// The zone's offset from UTC at an instant, in microseconds.
    pub fn offset_at(&mut self, micros: i64) -> i64 {
        if self.is_utc {
            return 0;
        }
        let hour = micros.div_euclid(MICROS_PER_HOUR);
        if let Some((cached_hour, offset)) = self.utc_cache
            && cached_hour == hour
        {
            return offset;
        }
        let offset = chrono::DateTime::from_timestamp_micros(micros)
            .map(|utc| {
                self.tz
                    .offset_from_utc_datetime(&utc.naive_utc())
                    .fix()
                    .local_minus_utc() as i64
                    * 1_000_000
            })
            .unwrap_or(0);
        // Zone transitions since 1970 fall on whole UTC hours, so one offset serves an hour.
        self.utc_cache = Some((hour, offset));
        offset
    }

    /// The local day of an instant.
    pub fn local_day(&mut self, micros: i64) -> i32 {
        let offset = self.offset_at(micros);
        (micros + offset).div_euclid(MICROS_PER_DAY) as i32
    }

    /// The instant of a local wall-clock time, in microseconds since the epoch.
    ///
    /// A time repeated by a backward shift takes its earlier instant; a time skipped by a
    /// forward shift is read with the offset in force just before the gap.
    pub fn local_to_utc(&mut self, local_micros: i64) -> Option<i64> {
        if self.is_utc {
            return Some(local_micros);
        }
        let hour = local_micros.div_euclid(MICROS_PER_HOUR);
        if let Some((cached_hour, offset)) = self.local_cache
            && cached_hour == hour
        {
            return Some(local_micros - offset);
        }
        let naive = chrono::DateTime::from_timestamp_micros(local_micros)?.naive_utc();
        let offset = match self.tz.offset_from_local_datetime(&naive) {
            chrono::LocalResult::Single(offset) => offset.fix().local_minus_utc() as i64,
            chrono::LocalResult::Ambiguous(earliest, _) => earliest.fix().local_minus_utc() as i64,
            chrono::LocalResult::None => {
                let before = naive - chrono::Duration::hours(3);
                self.tz.offset_from_utc_datetime(&before).fix().local_minus_utc() as i64
            }
        } * 1_000_000;
        self.local_cache = Some((hour, offset));
        Some(local_micros - offset)
    }
}

/// Why a time value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadTime;

/// Parses a time value per SPEC §1 into microseconds since the epoch (UTC).
pub fn parse_time(text: &str, format: TimeFormat, clock: &mut Clock) -> Result<i64, BadTime> {
    let text = text.trim();
    match format {
        TimeFormat::EpochSeconds => parse_epoch(text, 1_000_000.0),
        TimeFormat::EpochMillis => parse_epoch(text, 1_000.0),
        TimeFormat::Auto => parse_calendar_time(text, clock),
    }
}

fn parse_epoch(text: &str, scale: f64) -> Result<i64, BadTime> {
    if let Ok(whole) = text.parse::<i64>() {
        return whole.checked_mul(scale as i64).ok_or(BadTime);
    }
    let value: f64 = text.parse().map_err(|_| BadTime)?;
    let micros = (value * scale).round();
    if micros.is_finite() && micros.abs() < 9.0e18 {
        Ok(micros as i64)
    } else {
        Err(BadTime)
    }
}

fn digits(bytes: &[u8], start: usize, count: usize) -> Result<i64, BadTime> {
    let slice = bytes.get(start..start + count).ok_or(BadTime)?;
    slice.iter().try_fold(0i64, |acc, b| {
        if b.is_ascii_digit() {
            Ok(acc * 10 + i64::from(b - b'0'))
        } else {
            Err(BadTime)
        }
    })
}

fn parse_calendar_time(text: &str, clock: &mut Clock) -> Result<i64, BadTime> {
    let bytes = text.as_bytes();
    if bytes.len() < 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(BadTime);
    }
    let date = NaiveDate::from_ymd_opt(
        digits(bytes, 0, 4)? as i32,
        digits(bytes, 5, 2)? as u32,
        digits(bytes, 8, 2)? as u32,
    )
    .ok_or(BadTime)?;
    let day = tenure_plan::time::days_from_date(date) as i64;
    if bytes.len() == 10 {
        return clock.local_to_utc(day * MICROS_PER_DAY).ok_or(BadTime);
    }
    if !matches!(bytes[10], b'T' | b't' | b' ') || bytes.len() < 19 || bytes[13] != b':' || bytes[16] != b':'
    {
        return Err(BadTime);
    }
    let (hour, minute, second) = (
        digits(bytes, 11, 2)?,
        digits(bytes, 14, 2)?,
        digits(bytes, 17, 2)?,
    );
    if hour > 23 || minute > 59 || second > 60 {
        return Err(BadTime);
    }
    let mut position = 19;
    let mut fraction_micros = 0i64;
    if bytes.get(position) == Some(&b'.') {
        position += 1;
        let start = position;
        while position < bytes.len() && bytes[position].is_ascii_digit() {
            if position - start < 6 {
                fraction_micros = fraction_micros * 10 + i64::from(bytes[position] - b'0');
            }
            position += 1;
        }
        let used = (position - start).min(6);
        if position == start {
            return Err(BadTime);
        }
        fraction_micros *= 10i64.pow((6 - used) as u32);
    }
    let local =
        day * MICROS_PER_DAY + (hour * 3600 + minute * 60 + second.min(59)) * 1_000_000 + fraction_micros;
    let zone = &bytes[position..];
    match zone {
        [] => clock.local_to_utc(local).ok_or(BadTime),
        [b'Z' | b'z'] => Ok(local),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hours, minutes) = match rest {
                [_, _] => (digits(rest, 0, 2)?, 0),
                [_, _, b':', _, _] => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                [_, _, _, _] => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                _ => return Err(BadTime),
            };
            if hours > 23 || minutes > 59 {
                return Err(BadTime);
            }
            let offset = (hours * 3600 + minutes * 60) * 1_000_000;
            Ok(if *sign == b'+' {
                local - offset
            } else {
                local + offset
            })
        }
        _ => Err(BadTime),
    }
}

/// The calendar of a project: week start and period arithmetic over local days.
#[derive(Debug, Clone, Copy)]
pub struct Calendar {
    /// The first day of the week.
    pub week_start: WeekStart,
}

impl Calendar {
    /// Index of the week containing `day`; consecutive weeks differ by one.
    pub fn week_index(self, day: i32) -> i32 {
        // 1970-01-01 was a Thursday: Monday 1969-12-29 is day −3, Sunday 1969-12-28 is day −4.
        let shift = match self.week_start {
            WeekStart::Monday => 3,
            WeekStart::Sunday => 4,
        };
        (day + shift).div_euclid(7)
    }

    /// The first local day of week `index`.
    pub fn week_first_day(self, index: i32) -> i32 {
        let shift = match self.week_start {
            WeekStart::Monday => 3,
            WeekStart::Sunday => 4,
        };
        index * 7 - shift
    }

    /// Index of the period of `grain` containing `day`.
    pub fn period_index(self, grain: Grain, day: i32) -> i32 {
        match grain {
            Grain::Day => day,
            Grain::Week => self.week_index(day),
            Grain::Month => month_index(day),
            Grain::Quarter => month_index(day).div_euclid(3),
        }
    }

    /// The first local day of period `index` of `grain`.
    pub fn period_first_day(self, grain: Grain, index: i32) -> i32 {
        match grain {
            Grain::Day => index,
            Grain::Week => self.week_first_day(index),
            Grain::Month => month_last_day(index - 1).saturating_add(1),
            Grain::Quarter => month_last_day(index * 3 - 1).saturating_add(1),
        }
    }

    /// The last local day of period `index` of `grain`.
    pub fn period_last_day(self, grain: Grain, index: i32) -> i32 {
        self.period_first_day(grain, index + 1) - 1
    }

    /// The label of a period: `YYYY-MM-DD` for days and weeks, `YYYY-MM`, `YYYY-Qn`.
    pub fn period_label(self, grain: Grain, index: i32) -> String {
        match grain {
            Grain::Day => day_label(index),
            Grain::Week => day_label(self.week_first_day(index)),
            Grain::Month => format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1),
            Grain::Quarter => format!("{:04}-Q{}", index.div_euclid(4), index.rem_euclid(4) + 1),
        }
    }
}

/// `YYYY-MM-DD` of a local day.
pub fn day_label(day: i32) -> String {
    tenure_plan::time::date_from_days(day).map_or_else(|| format!("day {day}"), |d| d.to_string())
}

/// `year × 12 + month − 1` of a local day.
pub fn month_index(day: i32) -> i32 {
    match tenure_plan::time::date_from_days(day) {
        Some(date) => date.year() * 12 + date.month0() as i32,
        None => 0,
    }
}

/// The last local day of month `index` (`year × 12 + month − 1`).
pub fn month_last_day(index: i32) -> i32 {
    let next = index + 1;
    NaiveDate::from_ymd_opt(next.div_euclid(12), next.rem_euclid(12) as u32 + 1, 1)
        .map_or(i32::MAX, |first| tenure_plan::time::days_from_date(first) - 1)
}

/// A table of month indexes for a span of local days, for hot loops.
#[derive(Debug, Clone)]
pub struct MonthTable {
    first_day: i32,
    months: Vec<i32>,
}

impl MonthTable {
    /// Covers `first_day..=last_day`.
    pub fn new(first_day: i32, last_day: i32) -> Self {
        let months = (first_day..=last_day.max(first_day)).map(month_index).collect();
        MonthTable { first_day, months }
    }

    /// The month index of `day` (computed directly outside the table's span).
    #[inline]
    pub fn get(&self, day: i32) -> i32 {
        let index = day.wrapping_sub(self.first_day);
        match usize::try_from(index).ok().and_then(|i| self.months.get(i)) {
            Some(month) => *month,
            None => month_index(day),
        }
    }
}

/// Local wall-clock microseconds of an instant plus a calendar amount, back in UTC.
pub fn add_calendar(clock: &mut Clock, micros: i64, duration: tenure_plan::Duration) -> i64 {
    use tenure_plan::DurationUnit;
    let count = i64::from(duration.count);
    match duration.unit {
        DurationUnit::Hour => micros.saturating_add(count.saturating_mul(MICROS_PER_HOUR)),
        DurationUnit::Day | DurationUnit::Week | DurationUnit::Month => {
            let local = micros + clock.offset_at(micros);
            let shifted = match duration.unit {
                DurationUnit::Day => count
                    .checked_mul(MICROS_PER_DAY)
                    .and_then(|d| local.checked_add(d)),
                DurationUnit::Week => count
                    .checked_mul(7 * MICROS_PER_DAY)
                    .and_then(|d| local.checked_add(d)),
                _ => chrono::DateTime::from_timestamp_micros(local).and_then(|dt| {
                    let naive: NaiveDateTime = dt.naive_utc();
                    naive
                        .checked_add_months(chrono::Months::new(duration.count))
                        .map(|n| n.and_utc().timestamp_micros())
                }),
            };
            shifted
                .and_then(|local| clock.local_to_utc(local))
                .unwrap_or(i64::MAX)
        }
    }
}

/// A local day plus a calendar amount (days, weeks or months; hours round down to days).
pub fn add_calendar_days(day: i32, duration: tenure_plan::Duration) -> i32 {
    use tenure_plan::DurationUnit;
    let count = i32::try_from(duration.count).unwrap_or(i32::MAX);
    match duration.unit {
        DurationUnit::Hour => day.saturating_add(count / 24),
        DurationUnit::Day => day.saturating_add(count),
        DurationUnit::Week => day.saturating_add(count.saturating_mul(7)),
        DurationUnit::Month => tenure_plan::time::date_from_days(day)
            .and_then(|d| d.checked_add_months(chrono::Months::new(duration.count)))
            .map_or(i32::MAX, tenure_plan::time::days_from_date),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Clock {
        Clock::new(chrono_tz::UTC)
    }

    #[test]
    fn parses_every_spec_format() {
        let mut clock = utc();
        let base = 1_735_693_200_000_000; // 2025-01-01T01:00:00Z
        assert_eq!(
            parse_time("2025-01-01T01:00:00Z", TimeFormat::Auto, &mut clock),
            Ok(base)
        );
        assert_eq!(
            parse_time("2025-01-01T04:00:00+03:00", TimeFormat::Auto, &mut clock),
            Ok(base)
        );
        assert_eq!(
            parse_time("2025-01-01 01:00:00", TimeFormat::Auto, &mut clock),
            Ok(base)
        );
        assert_eq!(
            parse_time("2025-01-01 01:00:00.25Z", TimeFormat::Auto, &mut clock),
            Ok(base + 250_000)
        );
        assert_eq!(
            parse_time("2024-12-31T20:00:00-0500", TimeFormat::Auto, &mut clock),
            Ok(base)
        );
        assert_eq!(
            parse_time("2025-01-01", TimeFormat::Auto, &mut clock),
            Ok(base - 3_600_000_000)
        );
        assert_eq!(
            parse_time("1735693200", TimeFormat::EpochSeconds, &mut clock),
            Ok(base)
        );
        assert_eq!(
            parse_time("1735693200000", TimeFormat::EpochMillis, &mut clock),
            Ok(base)
        );
        for bad in [
            "",
            "yesterday",
            "2025-13-01",
            "2025-01-01T25:00:00",
            "2025-01-01T01:00:00+3",
            "1735693200",
        ] {
            assert_eq!(
                parse_time(bad, TimeFormat::Auto, &mut clock),
                Err(BadTime),
                "{bad}"
            );
        }
    }

    #[test]
    fn zone_less_times_are_local() {
        let mut tokyo = Clock::new(chrono_tz::Asia::Tokyo);
        // 2025-01-01 08:00 in Tokyo (UTC+9) is 2024-12-31 23:00 UTC, local day 2025-01-01.
        let micros = parse_time("2025-01-01 08:00:00", TimeFormat::Auto, &mut tokyo).unwrap();
        assert_eq!(micros, 1_735_686_000_000_000);
        assert_eq!(day_label(tokyo.local_day(micros)), "2025-01-01");
        assert_eq!(day_label(utc().local_day(micros)), "2024-12-31");
    }

    #[test]
    fn weeks_months_quarters() {
        let monday = Calendar {
            week_start: WeekStart::Monday,
        };
        let sunday = Calendar {
            week_start: WeekStart::Sunday,
        };
        let day = tenure_plan::time::days_from_date(NaiveDate::from_ymd_opt(2025, 1, 5).unwrap()); // a Sunday
        assert_eq!(
            monday.period_label(Grain::Week, monday.week_index(day)),
            "2024-12-30"
        );
        assert_eq!(
            sunday.period_label(Grain::Week, sunday.week_index(day)),
            "2025-01-05"
        );
        assert_eq!(monday.period_label(Grain::Month, month_index(day)), "2025-01");
        assert_eq!(
            monday.period_label(Grain::Quarter, monday.period_index(Grain::Quarter, day)),
            "2025-Q1"
        );
        assert_eq!(day_label(month_last_day(month_index(day) + 1)), "2025-02-28");
    }
}
