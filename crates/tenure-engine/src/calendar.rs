//! Instants, local days and calendar periods in the project's time zone.
//!
//! Times are microseconds since the Unix epoch (UTC). A *local day* is the number of days since
//! 1970-01-01 of the calendar date in the project's zone. Period indexes (weeks, months,
//! quarters) are whole numbers that differ by one between consecutive periods, so offsets are
//! plain subtractions in the hot loops.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use tenure_plan::{Grain, WeekStart};

/// Microseconds in a day.
pub const MICROS_PER_DAY: i64 = 86_400_000_000;
const MICROS_PER_HOUR: i64 = 3_600_000_000;

/// Converts between instants and local calendar days, caching the span of time over which the
/// zone's offset last looked up holds.
#[derive(Debug, Clone)]
pub struct Clock {
    tz: Tz,
    is_utc: bool,
    /// The last span of instants (µs since the epoch, UTC) looked up.
    utc_span: Option<OffsetSpan>,
    /// The last span of wall-clock times (µs since the epoch, local) looked up.
    local_span: Option<OffsetSpan>,
}

/// Times `[start, end)` (µs) over which a zone's offset is `offset` (µs).
#[derive(Debug, Clone, Copy)]
struct OffsetSpan {
    start: i64,
    end: i64,
    offset: i64,
}

impl OffsetSpan {
    /// The offset of `span` if there is one and `at` falls in it.
    #[inline]
    fn offset_in(span: Option<OffsetSpan>, at: i64) -> Option<i64> {
        span.filter(|span| span.start <= at && at < span.end)
            .map(|span| span.offset)
    }
}

const MICROS_PER_SECOND: i64 = 1_000_000;
const SECONDS_PER_HOUR: i64 = 3_600;

/// The span of constant offset around `micros`, within its hour (whole hours counted from the
/// epoch), from `offset_at_second` (the offset in µs at a whole second, `None` out of range).
///
/// Zone transitions fall on whole seconds, but not always on whole hours (St. John's moved its
/// clocks at 00:01 local time until 2011, Lord Howe Island shifts by half an hour), so an hour
/// whose first and last seconds differ is searched for the second where the offset changes.
/// Nowhere does the offset change twice within an hour.
fn span_around(micros: i64, offset_at_second: impl Fn(i64) -> Option<i64>) -> Option<OffsetSpan> {
    let second = micros.div_euclid(MICROS_PER_SECOND);
    let hour_start = second.div_euclid(SECONDS_PER_HOUR) * SECONDS_PER_HOUR;
    let hour_end = hour_start + SECONDS_PER_HOUR;
    let span = |from: i64, to: i64, offset: i64| OffsetSpan {
        start: from.saturating_mul(MICROS_PER_SECOND),
        end: to.saturating_mul(MICROS_PER_SECOND),
        offset,
    };
    let first = offset_at_second(hour_start)?;
    let last = offset_at_second(hour_end - 1)?;
    if first == last {
        return Some(span(hour_start, hour_end, first));
    }
    // The first second with the new offset lies in (low, high].
    let (mut low, mut high) = (hour_start, hour_end - 1);
    while high - low > 1 {
        let middle = low + (high - low) / 2;
        if offset_at_second(middle)? == first {
            low = middle;
        } else {
            high = middle;
        }
    }
    Some(if second < high {
        span(hour_start, high, first)
    } else {
        span(high, hour_end, last)
    })
}

impl Clock {
    /// A clock for a zone.
    pub fn new(tz: Tz) -> Self {
        Clock {
            tz,
            is_utc: tz == chrono_tz::UTC,
            utc_span: None,
            local_span: None,
        }
    }

    /// The zone's offset (µs) at the instant `second` (seconds since the epoch, UTC).
    fn utc_offset(&self, second: i64) -> Option<i64> {
        let utc = chrono::DateTime::from_timestamp(second, 0)?;
        let offset = self.tz.offset_from_utc_datetime(&utc.naive_utc());
        Some(i64::from(offset.fix().local_minus_utc()) * MICROS_PER_SECOND)
    }

    /// The offset (µs) by which the wall-clock time `second` (seconds since the epoch, local)
    /// is read: a time repeated by a backward shift takes its earlier instant; a time skipped
    /// by a forward shift is read with the offset in force just before the gap.
    fn local_offset(&self, second: i64) -> Option<i64> {
        let naive = chrono::DateTime::from_timestamp(second, 0)?.naive_utc();
        let offset = match self.tz.offset_from_local_datetime(&naive) {
            chrono::LocalResult::Single(offset) => offset.fix().local_minus_utc(),
            chrono::LocalResult::Ambiguous(earliest, _) => earliest.fix().local_minus_utc(),
            chrono::LocalResult::None => {
                let before = naive - chrono::Duration::hours(3);
                self.tz.offset_from_utc_datetime(&before).fix().local_minus_utc()
            }
        };
        Some(i64::from(offset) * MICROS_PER_SECOND)
    }

    /// The zone's offset from UTC at an instant, in microseconds (0 out of the calendar's range).
    #[inline]
    pub fn offset_at(&mut self, micros: i64) -> i64 {
        if self.is_utc {
            return 0;
        }
        if let Some(offset) = OffsetSpan::offset_in(self.utc_span, micros) {
            return offset;
        }
        self.look_up_offset(micros)
    }

    /// [`Clock::offset_at`] outside the cached span: looks the span up and caches it.
    #[cold]
    fn look_up_offset(&mut self, micros: i64) -> i64 {
        match span_around(micros, |second| self.utc_offset(second)) {
            Some(span) => {
                self.utc_span = Some(span);
                span.offset
            }
            None => 0,
        }
    }

    /// The local day of an instant.
    #[inline]
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
        if let Some(offset) = OffsetSpan::offset_in(self.local_span, local_micros) {
            return Some(local_micros - offset);
        }
        let span = span_around(local_micros, |second| self.local_offset(second))?;
        self.local_span = Some(span);
        Some(local_micros - span.offset)
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
        (day + self.week_start.shift()).div_euclid(7)
    }

    /// The first local day of week `index`.
    pub fn week_first_day(self, index: i32) -> i32 {
        index * 7 - self.week_start.shift()
    }

    /// Index of the period of `grain` containing `day`.
    pub fn period_index(self, grain: Grain, day: i32) -> i32 {
        match grain {
            Grain::Day => day,
            Grain::Week => self.week_index(day),
            Grain::Month => month_index(day),
            Grain::Quarter => month_index(day).div_euclid(3),
            Grain::Year => month_index(day).div_euclid(12),
        }
    }

    /// The first local day of period `index` of `grain`.
    pub fn period_first_day(self, grain: Grain, index: i32) -> i32 {
        match grain {
            Grain::Day => index,
            Grain::Week => self.week_first_day(index),
            Grain::Month => month_last_day(index - 1).saturating_add(1),
            Grain::Quarter => month_last_day(index * 3 - 1).saturating_add(1),
            Grain::Year => month_last_day(index * 12 - 1).saturating_add(1),
        }
    }

    /// The last local day of period `index` of `grain`.
    pub fn period_last_day(self, grain: Grain, index: i32) -> i32 {
        self.period_first_day(grain, index + 1) - 1
    }

    /// The label of a period: `YYYY-MM-DD` for days and weeks, `YYYY-MM`, `YYYY-Qn`.
    pub fn period_label(self, grain: Grain, index: i32) -> String {
        tenure_plan::time::period_label(grain, self.week_start, index)
    }
}

/// `YYYY-MM-DD` of a local day.
pub fn day_label(day: i32) -> String {
    tenure_plan::time::date_from_days(day).map_or_else(|| format!("day {day}"), |d| d.to_string())
}

/// The day number (days since 1970-01-01) of a date of the proleptic Gregorian calendar, or
/// `None` for a month or day that does not exist (month 13, 30 February). Counted directly
/// (whole 400-year eras, then years of the era from March, so that the leap day ends a year),
/// not through a date type: time text is read row by row.
pub fn civil_day(year: i32, month: u32, day: u32) -> Option<i32> {
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days_in_month = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if day == 0 || day > days_in_month {
        return None;
    }
    let (month, day) = (month as i32, day as i32);
    // Years start on 1 March: January and February count with the year before.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    // 719 468 days from 0000-03-01 to 1970-01-01.
    Some(era * 146_097 + day_of_era - 719_468)
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

    #[test]
    fn civil_days_agree_with_chrono_on_every_date_and_refuse_the_rest() {
        // Every year from 1600 to 2400 (leap centuries 1600, 2000, 2400; common 1700, 1900,
        // 2100), months 0 to 13 and days 0 to 32: valid dates count as chrono counts them,
        // invalid ones are refused by both.
        for year in 1600..=2400 {
            for month in 0..=13 {
                for day in 0..=32 {
                    let expected =
                        NaiveDate::from_ymd_opt(year, month, day).map(tenure_plan::time::days_from_date);
                    assert_eq!(civil_day(year, month, day), expected, "{year}-{month}-{day}");
                }
            }
        }
        assert_eq!(civil_day(1970, 1, 1), Some(0));
        assert_eq!(civil_day(2000, 3, 1), Some(11_017));
    }

    fn utc() -> Clock {
        Clock::new(chrono_tz::UTC)
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

    /// Microseconds of a UTC time written `YYYY-MM-DDTHH:MM:SSZ`.
    fn at(text: &str) -> i64 {
        crate::load::parse_time(text, tenure_plan::TimeFormat::Auto, &mut utc()).unwrap()
    }

    #[test]
    fn a_transition_off_the_hour_changes_the_day_at_its_second_in_any_row_order() {
        // St. John's sprang forward at 00:01 NST on 2010-03-14, 03:31 UTC: at 03:20 UTC it was
        // 23:50 on the 13th (−3:30), at 03:40 UTC 01:10 on the 14th (−2:30).
        let (before, after) = (at("2010-03-14T03:20:00Z"), at("2010-03-14T03:40:00Z"));
        for order in [[before, after], [after, before]] {
            let mut clock = Clock::new(chrono_tz::America::St_Johns);
            for time in order {
                let (offset, day) = (clock.offset_at(time), clock.local_day(time));
                if time == before {
                    assert_eq!((offset, day_label(day).as_str()), (-12_600_000_000, "2010-03-13"));
                } else {
                    assert_eq!((offset, day_label(day).as_str()), (-9_000_000_000, "2010-03-14"));
                }
            }
        }
        // Wall-clock times on either side of the skipped minutes 00:01–01:01, and one inside
        // them (read with the offset before the gap).
        let mut clock = Clock::new(chrono_tz::America::St_Johns);
        let local = |text: &str| at(text);
        assert_eq!(
            clock.local_to_utc(local("2010-03-14T01:30:00Z")),
            Some(at("2010-03-14T04:00:00Z"))
        );
        assert_eq!(
            clock.local_to_utc(local("2010-03-14T00:00:30Z")),
            Some(at("2010-03-14T03:30:30Z"))
        );
        assert_eq!(
            clock.local_to_utc(local("2010-03-14T00:30:00Z")),
            Some(at("2010-03-14T04:00:00Z"))
        );
    }

    #[test]
    fn cached_offsets_match_lookups_at_every_instant_of_a_year() {
        // Zones with transitions on and off the hour, and half-hour shifts; instants every
        // 7 minutes of 2010, forwards and backwards, so the cache meets each transition from
        // both sides.
        let zones = [
            chrono_tz::America::St_Johns,
            chrono_tz::Australia::Lord_Howe,
            chrono_tz::Europe::Berlin,
            chrono_tz::America::New_York,
            chrono_tz::Asia::Tehran,
        ];
        let start = at("2010-01-01T00:00:00Z");
        let step = 7 * 60 * 1_000_000;
        let count: i64 = 365 * 24 * 60 / 7;
        let forwards = (0..count).collect::<Vec<_>>();
        let backwards = forwards.iter().rev().copied().collect::<Vec<_>>();
        for (tz, order) in zones
            .into_iter()
            .flat_map(|tz| [(tz, &forwards), (tz, &backwards)])
        {
            let mut clock = Clock::new(tz);
            let reference = Clock::new(tz);
            for &i in order {
                let time = start + i * step + 13_000_000;
                let expected = reference.utc_offset(time.div_euclid(MICROS_PER_SECOND)).unwrap();
                assert_eq!(clock.offset_at(time), expected, "{tz} at {time}");
                let expected_utc = time
                    - reference
                        .local_offset(time.div_euclid(MICROS_PER_SECOND))
                        .unwrap();
                assert_eq!(clock.local_to_utc(time), Some(expected_utc), "{tz} local {time}");
            }
        }
    }
}
