//! Published retention norms and how a retention table is judged against them
//! (docs/config.md, `benchmark`).

use crate::report::{Periods, RetentionResult};

/// Usual retention rates for one kind of company or population: per day offset, the range the
/// day-N rate usually falls in. Built in ([`built_in`]) or a `[benchmarks.<name>]` table.
#[derive(Debug, Clone, PartialEq)]
pub struct Norm {
    /// The config spelling (`benchmark = "b2b"`, or the `[benchmarks.<name>]` name).
    pub name: String,
    /// Who the bands describe.
    pub segment: String,
    /// The bands, by day.
    pub bands: Vec<Band>,
}

/// The usual range of the day-`day` retention rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Band {
    /// The day offset.
    pub day: u32,
    /// The low end (a share, 0–1).
    pub low: f64,
    /// The high end (a share, 0–1).
    pub high: f64,
}

/// A published norm: its name, who it describes, and its (day, low, high) bands.
type Published = (&'static str, &'static str, [(u32, f64, f64); 3]);

/// The published norms: 7-, 30- and 90-day user retention by kind of company.
const PUBLISHED: [Published; 4] = [
    (
        "b2c",
        "small business / B2C",
        [(7, 0.45, 0.65), (30, 0.25, 0.40), (90, 0.15, 0.25)],
    ),
    (
        "b2b",
        "mid-market B2B",
        [(7, 0.60, 0.75), (30, 0.45, 0.60), (90, 0.30, 0.45)],
    ),
    (
        "enterprise",
        "enterprise",
        [(7, 0.75, 0.90), (30, 0.65, 0.80), (90, 0.55, 0.70)],
    ),
    (
        "individuals",
        "freelancers / individuals",
        [(7, 0.50, 0.70), (30, 0.30, 0.45), (90, 0.18, 0.28)],
    ),
];

/// The names of the built-in norms.
pub fn built_in_names() -> impl Iterator<Item = &'static str> {
    PUBLISHED.iter().map(|(name, _, _)| *name)
}

/// The built-in norm called `name`.
pub fn built_in(name: &str) -> Option<Norm> {
    PUBLISHED
        .iter()
        .find(|(published, _, _)| *published == name)
        .map(|(name, segment, bands)| Norm {
            name: name.to_string(),
            segment: segment.to_string(),
            bands: bands
                .iter()
                .map(|&(day, low, high)| Band { day, low, high })
                .collect(),
        })
}

/// Where a rate falls against a band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Under the band's low end.
    Below,
    /// From the low end to the high end, both included.
    Within,
    /// Over the band's high end.
    Above,
}

impl Verdict {
    /// The spelling in JSON and CSV.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Below => "below",
            Verdict::Within => "within",
            Verdict::Above => "above",
        }
    }

    /// The verdict on `rate` against [`low`, `high`].
    pub fn of(rate: f64, low: f64, high: f64) -> Verdict {
        if rate < low {
            Verdict::Below
        } else if rate > high {
            Verdict::Above
        } else {
            Verdict::Within
        }
    }
}

/// A retention table judged against a norm.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Benchmark {
    /// The norm's name.
    pub name: String,
    /// Who the norm describes.
    pub segment: String,
    /// One per column of the table the norm has a band for.
    pub cells: Vec<JudgedColumn>,
}

/// One judged column: the band and the verdict on the total row and on each cohort row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JudgedColumn {
    /// The day offset.
    pub day: u32,
    /// The band's low end.
    pub low: f64,
    /// The band's high end.
    pub high: f64,
    /// The verdict on the total row's rate (`null` when it has none).
    pub total: Option<Verdict>,
    /// The verdict on each cohort row's rate, in row order (`null` where it has none or the
    /// column is not over for every member).
    pub cohorts: Vec<Option<Verdict>>,
}

impl Norm {
    /// The days of `periods` this norm has a band for, with their column indexes.
    pub fn judged_columns(&self, periods: &[u32]) -> Vec<(usize, Band)> {
        self.bands
            .iter()
            .filter_map(|band| {
                periods
                    .iter()
                    .position(|p| *p == band.day)
                    .map(|column| (column, *band))
            })
            .collect()
    }

    /// `table` judged against this norm, column by column (a table of day offsets).
    pub fn judge(&self, table: &RetentionResult) -> Benchmark {
        let periods: &[u32] = match &table.periods {
            Periods::Offsets(offsets) => offsets,
            Periods::Brackets(_) => &[],
        };
        let cells = self
            .judged_columns(periods)
            .into_iter()
            .map(|(column, Band { day, low, high })| JudgedColumn {
                day,
                low,
                high,
                total: table.total.rate[column].map(|rate| Verdict::of(rate, low, high)),
                cohorts: table
                    .cohorts
                    .iter()
                    .map(|row| {
                        // A cell not over for every member is a lower bound, not a rate to judge.
                        let complete = row.eligible[column] == row.size;
                        row.rate[column]
                            .filter(|_| complete)
                            .map(|rate| Verdict::of(rate, low, high))
                    })
                    .collect(),
            })
            .collect();
        Benchmark {
            name: self.name.clone(),
            segment: self.segment.clone(),
            cells,
        }
    }
}
