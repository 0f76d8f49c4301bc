//! Calendar vocabulary shared by the plan and the backends.

use serde::Serialize;

/// The granularity of a cohort or of a per-period metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Grain {
    /// One calendar day.
    Day,
    /// One calendar week, starting on the project's `week_start`.
    Week,
    /// One calendar month.
    Month,
    /// One calendar quarter (Jan–Mar is Q1).
    Quarter,
    /// One calendar year.
    Year,
}

impl Grain {
    /// The config spelling of the grain.
    pub fn as_str(self) -> &'static str {
        match self {
            Grain::Day => "day",
            Grain::Week => "week",
            Grain::Month => "month",
            Grain::Quarter => "quarter",
            Grain::Year => "year",
        }
    }
}

/// The unit in which retention offsets are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Whole calendar days.
    Day,
    /// Weeks: days `div 7`, or calendar weeks with `align = calendar`.
    Week,
    /// Calendar months.
    Month,
}

impl Unit {
    /// The config spelling of the unit.
    pub fn as_str(self) -> &'static str {
        match self {
            Unit::Day => "day",
            Unit::Week => "week",
            Unit::Month => "month",
        }
    }
}

/// The first day of a calendar week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeekStart {
    /// ISO weeks.
    Monday,
    /// US-style weeks.
    Sunday,
}

/// The unit of a duration literal such as `30d`, `12w` or `6mo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DurationUnit {
    /// Hours (`h`): exact elapsed time.
    Hour,
    /// Calendar days (`d`) in the project's time zone.
    Day,
    /// Calendar weeks (`w`) of seven days.
    Week,
    /// Calendar months (`mo`).
    Month,
}

/// A duration literal: a count of calendar units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Duration {
    /// How many units.
    pub count: u32,
    /// Which unit.
    pub unit: DurationUnit,
}

impl std::fmt::Display for Duration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let suffix = match self.unit {
            DurationUnit::Hour => "h",
            DurationUnit::Day => "d",
            DurationUnit::Week => "w",
            DurationUnit::Month => "mo",
        };
        write!(f, "{}{}", self.count, suffix)
    }
}

/// Days from 0001-01-01 (chrono's day 1 of the common era) to 1970-01-01.
pub const UNIX_EPOCH_DAYS_FROM_CE: i32 = 719_163;

/// Converts days since 1970-01-01 to a calendar date.
pub fn date_from_days(days: i32) -> Option<chrono::NaiveDate> {
    chrono::NaiveDate::from_num_days_from_ce_opt(days.checked_add(UNIX_EPOCH_DAYS_FROM_CE)?)
}

/// Converts a calendar date to days since 1970-01-01.
pub fn days_from_date(date: chrono::NaiveDate) -> i32 {
    use chrono::Datelike;
    date.num_days_from_ce() - UNIX_EPOCH_DAYS_FROM_CE
}

/// The number of days of period `index` of `grain` (as the calendar numbers periods: days since
/// 1970-01-01, weeks, `year × 12 + month − 1`, `year × 4 + quarter − 1`, years).
pub fn period_length(grain: Grain, index: i32) -> i32 {
    let months = |first_month: i32, count: i32| {
        let start = |month: i32| {
            chrono::NaiveDate::from_ymd_opt(month.div_euclid(12), month.rem_euclid(12) as u32 + 1, 1)
                .map_or(0, days_from_date)
        };
        start(first_month + count) - start(first_month)
    };
    match grain {
        Grain::Day => 1,
        Grain::Week => 7,
        Grain::Month => months(index, 1),
        Grain::Quarter => months(index * 3, 3),
        Grain::Year => months(index * 12, 12),
    }
}

impl WeekStart {
    /// Days from the first day of week 0 to 1970-01-01 (a Thursday): the Monday before is day
    /// −3, the Sunday before day −4. Week `i` starts on day `7 × i − shift`.
    pub fn shift(self) -> i32 {
        match self {
            WeekStart::Monday => 3,
            WeekStart::Sunday => 4,
        }
    }
}

/// The label of period `index` of `grain`: `YYYY-MM-DD` (a day, or a week's first day),
/// `YYYY-MM` or `YYYY-Qn` (docs/config.md, "Output"). Period indexes count days since
/// 1970-01-01, weeks since the week holding it, `year × 12 + month − 1`, `year × 4 + quarter − 1`.
pub fn period_label(grain: Grain, week_start: WeekStart, index: i32) -> String {
    let day_label = |day: i32| date_from_days(day).map_or_else(|| format!("day {day}"), |d| d.to_string());
    match grain {
        Grain::Day => day_label(index),
        Grain::Week => day_label(index * 7 - week_start.shift()),
        Grain::Month => format!("{:04}-{:02}", index.div_euclid(12), index.rem_euclid(12) + 1),
        Grain::Quarter => format!("{:04}-Q{}", index.div_euclid(4), index.rem_euclid(4) + 1),
        Grain::Year => format!("{index:04}"),
    }
}
