//! Time values as text (docs/config.md, "Time values"): ISO 8601 dates and times with or
//! without a zone, and epoch seconds or milliseconds, read into microseconds since the epoch.
//! Calendar arithmetic on the instants read is `crate::calendar`'s.

use tenure_plan::TimeFormat;

use crate::calendar::{Clock, MICROS_PER_DAY, civil_day};
use crate::store::trimmed;

/// Why a time value could not be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadTime;

/// Parses a time value (docs/config.md, "Time values") into microseconds since the epoch (UTC).
pub fn parse_time(text: &str, format: TimeFormat, clock: &mut Clock) -> Result<i64, BadTime> {
    let text = trimmed(text);
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
    let day = civil_day(
        digits(bytes, 0, 4)? as i32,
        digits(bytes, 5, 2)? as u32,
        digits(bytes, 8, 2)? as u32,
    )
    .ok_or(BadTime)? as i64;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::day_label;

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
}
