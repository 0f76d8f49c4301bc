//! What comes back: the result model every backend fills and the JSON contract serialises.

use crate::figures::{from_micros, ratio, to_micros};
use std::collections::BTreeMap;

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The whole result of a run: the JSON contract of docs/config.md, "Output".
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    /// The tenure version that produced it.
    pub tenure: String,
    /// Where the figures were computed: `engine` (in process), or the connection's kind
    /// (`postgres`, `clickhouse`) when the SQL backend ran them where the data lives.
    pub backend: String,
    /// Observation end, `YYYY-MM-DD`.
    pub as_of: String,
    /// How the input rows were accounted for.
    pub input: InputSummary,
    /// One result per metric, by metric name.
    pub metrics: BTreeMap<String, MetricResult>,
}

/// Why a row could not be read (docs/config.md, `[quality]`). Variants are in the order of their
/// names, which is the order of the keys of `input.rejected`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// An amount that is not a finite number within ±10¹⁵.
    BadAmount,
    /// Bytes that are not UTF-8.
    BadEncoding,
    /// A time that cannot be read, or outside 1900–2199.
    BadTime,
    /// Another number of CSV fields than the header's, or a JSON line that is not an object.
    MalformedRow,
    /// An empty entity id.
    MissingEntity,
    /// An empty event name.
    MissingEvent,
    /// An empty time.
    MissingTime,
}

impl RejectReason {
    /// Every reason, in the order of their names.
    pub const ALL: [RejectReason; 7] = [
        RejectReason::BadAmount,
        RejectReason::BadEncoding,
        RejectReason::BadTime,
        RejectReason::MalformedRow,
        RejectReason::MissingEntity,
        RejectReason::MissingEvent,
        RejectReason::MissingTime,
    ];

    /// The reason's name in the JSON contract.
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::BadAmount => "bad_amount",
            RejectReason::BadEncoding => "bad_encoding",
            RejectReason::BadTime => "bad_time",
            RejectReason::MalformedRow => "malformed_row",
            RejectReason::MissingEntity => "missing_entity",
            RejectReason::MissingEvent => "missing_event",
            RejectReason::MissingTime => "missing_time",
        }
    }

    /// A count of zero for every reason.
    pub fn zero_counts() -> BTreeMap<RejectReason, u64> {
        RejectReason::ALL.iter().map(|r| (*r, 0)).collect()
    }
}

impl std::fmt::Display for RejectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RejectReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

/// Row accounting of a run.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct InputSummary {
    /// Event rows read from every event source.
    pub rows: u64,
    /// Rows that could not be read, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Rows dropped as exact duplicates of an earlier row.
    pub duplicates: u64,
    /// Rows dropped by the `exclude` rule.
    pub excluded: u64,
    /// Rows used by the metrics: `rows − rejected − duplicates − excluded`.
    pub kept: u64,
    /// Distinct entities (from events and from the entity source).
    pub entities: u64,
    /// The same accounting for each source, by source name (event sources and the entity
    /// source). The event sources' figures add up to the totals above.
    pub sources: BTreeMap<String, SourceSummary>,
}

/// Row accounting of one source: `rows = kept + duplicates + excluded + Σ rejected`.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct SourceSummary {
    /// `"events"` or `"entities"`.
    pub kind: &'static str,
    /// Rows read from the file (excluding a CSV header line).
    pub rows: u64,
    /// Rows that could not be read, by reason.
    pub rejected: BTreeMap<RejectReason, u64>,
    /// Rows dropped as duplicates: exact duplicates of an earlier event row (in this source or an
    /// earlier one), or a repeated entity id in the entity source (its first row is kept).
    pub duplicates: u64,
    /// Rows dropped by the `exclude` rule (event sources only).
    pub excluded: u64,
    /// Rows used.
    pub kept: u64,
}

/// One metric's outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum MetricResult {
    /// A retention table.
    Retention(RetentionResult),
    /// An activation table.
    Activation(ActivationResult),
    /// A funnel's table.
    Funnel(crate::funnel::FunnelResult),
    /// A revenue movements table.
    Revenue(RevenueResult),
    /// Revenue retention by cohort.
    CohortRevenue(crate::cohort_revenue::CohortRevenueResult),
    /// A customer retention rate table.
    Crr(CrrResult),
    /// A lifecycle table.
    Lifecycle(LifecycleResult),
    /// A `survey` metric's figures.
    Survey(SurveyResult),
    /// A treatment group's retention against a control group's.
    Uplift(UpliftResult),
    /// Dormant entities per period and the share won back.
    Winback(WinbackResult),
    /// Health scores in bands, and the entities at risk.
    Health(crate::health::HealthResult),
    /// Daily active counts and active days per period.
    Stickiness(StickinessResult),
    /// A formula's value or rows.
    Formula(FormulaResult),
    /// A lifetime value estimate.
    Ltv(LtvResult),
    /// A payback period.
    Payback(PaybackResult),
    /// The metric could not be computed; the rest of the run went on.
    Failed(FailedMetric),
}

/// A metric that failed, with the reason.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FailedMetric {
    /// The metric type.
    #[serde(rename = "type")]
    pub kind: String,
    /// What went wrong.
    pub error: String,
}

/// A scalar value as it appears in output: a segment label or attribute.
#[derive(Debug, Clone, PartialEq, PartialOrd)]
pub enum ScalarValue {
    /// Missing.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// Text.
    String(String),
}

impl ScalarValue {
    /// Total order for sorting rows: null, booleans, numbers, text.
    pub fn sort_cmp(&self, other: &ScalarValue) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        fn rank(value: &ScalarValue) -> u8 {
            match value {
                ScalarValue::Null => 0,
                ScalarValue::Bool(_) => 1,
                ScalarValue::Number(_) => 2,
                ScalarValue::String(_) => 3,
            }
        }
        match (self, other) {
            (ScalarValue::Bool(a), ScalarValue::Bool(b)) => a.cmp(b),
            (ScalarValue::Number(a), ScalarValue::Number(b)) => a.total_cmp(b),
            (ScalarValue::String(a), ScalarValue::String(b)) => a.cmp(b),
            _ => rank(self).cmp(&rank(other)).then(Ordering::Equal),
        }
    }
}

impl std::fmt::Display for ScalarValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScalarValue::Null => f.write_str("null"),
            ScalarValue::Bool(value) => write!(f, "{value}"),
            ScalarValue::Number(value) => write!(f, "{value}"),
            ScalarValue::String(value) => f.write_str(value),
        }
    }
}

impl Serialize for ScalarValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            ScalarValue::Null => serializer.serialize_none(),
            ScalarValue::Bool(value) => serializer.serialize_bool(*value),
            ScalarValue::Number(value) => serializer.serialize_f64(*value),
            ScalarValue::String(value) => serializer.serialize_str(value),
        }
    }
}

/// The breakdown values of one cohort row, in `by` order; serialised as an object.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Segment(pub Vec<(String, ScalarValue)>);

impl Segment {
    /// Total order for sorting rows.
    pub fn sort_cmp(&self, other: &Segment) -> std::cmp::Ordering {
        for ((_, a), (_, b)) in self.0.iter().zip(&other.0) {
            let order = a.sort_cmp(b);
            if order != std::cmp::Ordering::Equal {
                return order;
            }
        }
        self.0.len().cmp(&other.0.len())
    }
}

impl Serialize for Segment {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in &self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

/// The columns of a retention table: offsets or brackets.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Periods {
    /// `n-day` and `unbounded`: the offsets k.
    Offsets(Vec<u32>),
    /// `bracket`: inclusive `[a, b]` pairs.
    Brackets(Vec<[u32; 2]>),
}

impl Periods {
    /// Column headings such as `d7`, `w1+` or `d8-30`.
    pub fn labels(&self, unit_letter: char, unbounded: bool) -> Vec<String> {
        match self {
            Periods::Offsets(offsets) => offsets
                .iter()
                .map(|k| format!("{unit_letter}{k}{}", if unbounded { "+" } else { "" }))
                .collect(),
            Periods::Brackets(brackets) => brackets
                .iter()
                .map(|[a, b]| format!("{unit_letter}{a}-{b}"))
                .collect(),
        }
    }
}

/// A `retention` metric's table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RetentionResult {
    /// Always `"retention"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `n-day`, `unbounded` or `bracket`.
    pub mode: &'static str,
    /// `day`, `week` or `month`.
    pub unit: &'static str,
    /// `entity` or `calendar`.
    pub align: &'static str,
    /// The table's columns.
    pub periods: Periods,
    /// One row per (cohort, segment), ascending.
    pub cohorts: Vec<RetentionRow>,
    /// All cohorts together, eligible entities only.
    pub total: RetentionTotal,
    /// With `by`: the total row of each breakdown value's cohort rows, in the rows' order of
    /// values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Vec<SegmentTotal>>,
    /// With `benchmark`: the judged columns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub benchmark: Option<crate::norms::Benchmark>,
}

/// The total row of one breakdown value of a retention table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SegmentTotal {
    /// The breakdown values.
    pub segment: Segment,
    /// Its cohort rows together, eligible entities only.
    #[serde(flatten)]
    pub total: RetentionTotal,
}

/// One cohort row of a retention table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RetentionRow {
    /// Cohort label (`YYYY-MM-DD`, `YYYY-MM`, `YYYY-Qn`).
    pub cohort: String,
    /// Breakdown values, or `null` without `by`.
    pub segment: Option<Segment>,
    /// Entities in the cohort.
    pub size: u64,
    /// Entities retained, per column.
    pub retained: Vec<u64>,
    /// Entities whose period is complete by `as_of`, per column.
    pub eligible: Vec<u64>,
    /// `retained / size`, per column; `null` where no member is eligible (nothing of the column
    /// can be observed yet).
    pub rate: Vec<Option<f64>>,
    /// With `value`: the cohort's revenue in each column's periods; `null` where no member is
    /// eligible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue: Option<Vec<Option<f64>>>,
    /// With `value`: revenue from offset 0 through each column's last period, per member;
    /// `null` where no member is eligible.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ltv: Option<Vec<Option<f64>>>,
}

/// The `total` row of a retention table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RetentionTotal {
    /// Entities in every cohort.
    pub size: u64,
    /// Entities retained and eligible, per column.
    pub retained: Vec<u64>,
    /// Eligible entities, per column.
    pub eligible: Vec<u64>,
    /// `retained / eligible`, per column; `null` where nobody is eligible yet.
    pub rate: Vec<Option<f64>>,
    /// With `value`: revenue of every cohort in each column's periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revenue: Option<Vec<f64>>,
    /// With `value`: cumulative revenue per eligible member through each column's last period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ltv: Option<Vec<Option<f64>>>,
}

/// An `activation` metric's table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActivationResult {
    /// Always `"activation"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The window, as written (`7d`).
    pub within: String,
    /// One row per (cohort, segment), ascending.
    pub cohorts: Vec<ActivationRow>,
    /// All cohorts together, eligible entities only.
    pub total: ActivationTotal,
    /// With `by`: the total row of each breakdown value's cohort rows, in the rows' order of
    /// values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub totals: Option<Vec<ActivationSegmentTotal>>,
}

/// The total row of one breakdown value of an activation table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActivationSegmentTotal {
    /// The breakdown values.
    pub segment: Segment,
    /// Its cohort rows together: activated and rate over eligible members, the median over
    /// every activated member.
    #[serde(flatten)]
    pub total: ActivationTotal,
}

/// One cohort row of an activation table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActivationRow {
    /// Cohort label.
    pub cohort: String,
    /// Breakdown values, or `null` without `by`.
    pub segment: Option<Segment>,
    /// Entities in the cohort.
    pub size: u64,
    /// Entities whose first `reached` falls inside the window.
    pub activated: u64,
    /// Entities whose window has ended by `as_of`.
    pub eligible: u64,
    /// `activated / size`; `null` when no member is eligible (no window has ended yet).
    pub rate: Option<f64>,
    /// Median time from `t0` to the first `reached` of activated entities, in days.
    pub median_days: Option<f64>,
}

/// The `total` row of an activation table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ActivationTotal {
    /// Entities in every cohort.
    pub size: u64,
    /// Entities activated and eligible.
    pub activated: u64,
    /// Eligible entities.
    pub eligible: u64,
    /// `activated / eligible`; `null` when nobody is eligible.
    pub rate: Option<f64>,
    /// Median time to value over all activated entities, in days.
    pub median_days: Option<f64>,
}

/// A `revenue` metric's table (docs/config.md, `type = "revenue"`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RevenueResult {
    /// Always `"revenue"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `day`, `week`, `month` or `quarter`.
    pub grain: &'static str,
    /// One row per period after the first one with revenue, up to the period of `as_of`.
    pub periods: Vec<RevenuePeriod>,
    /// Whole-window NRR: Σ (start − churned − contraction + expansion) / Σ start.
    pub nrr: Option<f64>,
    /// Whole-window GRR: Σ (start − churned − contraction) / Σ start.
    pub grr: Option<f64>,
    /// NRR of the last complete period.
    pub nrr_last: Option<f64>,
    /// GRR of the last complete period.
    pub grr_last: Option<f64>,
    /// Trailing-window NRR of the last complete period: present with `window` only, `null`
    /// when no complete period has a base `window` before it (the data is shorter).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nrr_window: Option<Option<f64>>,
    /// With `by`: the same table for the entities of each breakdown value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<RevenueSegment>>,
    /// What a reader should know before trusting the table: a grain shorter than the customers'
    /// typical interval between payments (docs/config.md, "Payments longer than a period").
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

/// The revenue table of one breakdown value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RevenueSegment {
    /// The breakdown values.
    pub segment: Segment,
    /// Periods, as in the overall table.
    pub periods: Vec<RevenuePeriod>,
    /// Whole-window NRR of these entities.
    pub nrr: Option<f64>,
    /// Whole-window GRR of these entities.
    pub grr: Option<f64>,
    /// NRR of the last complete period.
    pub nrr_last: Option<f64>,
    /// GRR of the last complete period.
    pub grr_last: Option<f64>,
}

/// One period of a revenue table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RevenuePeriod {
    /// Period label.
    pub period: String,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// Revenue in the previous period of the entities that had some.
    pub start: f64,
    /// Revenue of entities whose first revenue is in this period.
    pub new: f64,
    /// Growth of entities that had revenue in the previous period.
    pub expansion: f64,
    /// Decline of entities that still have revenue.
    pub contraction: f64,
    /// Previous-period revenue of entities that have none now.
    pub churned: f64,
    /// Revenue of entities that come back after a period without.
    pub reactivation: f64,
    /// Total revenue of the period: start − churned − contraction + expansion + new + reactivation.
    pub end: f64,
    /// Entities with revenue in the period.
    pub customers_end: u64,
    /// (start − churned − contraction) / start.
    pub grr: Option<f64>,
    /// (start − churned − contraction + expansion) / start.
    pub nrr: Option<f64>,
    /// Entities with revenue in the previous period.
    pub customers_start: u64,
    /// Of those, entities with none now.
    pub customers_churned: u64,
    /// customers_churned / customers_start.
    pub customer_churn_rate: Option<f64>,
    /// (churned + contraction) / start.
    pub revenue_churn_rate: Option<f64>,
    /// Revenue now of the entities that paid `window` ago ÷ their revenue then: present with
    /// `window` only, `null` when nobody paid `window` ago.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nrr_window: Option<Option<f64>>,
}

/// A `crr` metric's table (docs/config.md, `type = "crr"`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CrrResult {
    /// Always `"crr"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `day`, `week`, `month` or `quarter`.
    pub grain: &'static str,
    /// One row per period after the first one with activity.
    pub periods: Vec<CrrPeriod>,
    /// Whole-window CRR: Σ (E − N) / Σ S.
    pub crr: Option<f64>,
    /// CRR of the last complete period.
    pub crr_last: Option<f64>,
}

/// One period of a CRR table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CrrPeriod {
    /// Period label.
    pub period: String,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// S: entities active in the previous period.
    pub start: u64,
    /// E: entities active in this period.
    pub end: u64,
    /// N: entities whose first activity is in this period.
    pub new: u64,
    /// (E − N) / S.
    pub crr: Option<f64>,
}

/// A `survey` metric's figures (docs/config.md, `type = "survey"`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SurveyResult {
    /// Always `"survey"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `nps`, `csat` or `ces`.
    pub scale: &'static str,
    /// The period of `periods`; `null` without `grain`.
    pub grain: Option<&'static str>,
    /// Every response up to `as_of`.
    pub total: SurveyFigures,
    /// With `grain`: one row per period from the first with a response (or an ask) through the
    /// period of `as_of`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periods: Option<Vec<SurveyPeriod>>,
    /// With `by`: the figures of each combination of values, over the same periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<SurveySegment>>,
}

/// A `winback` metric's figures (docs/config.md, `type = "winback"`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WinbackResult {
    /// Always `"winback"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Days without the value event that make an entity dormant.
    pub dormant_days: u32,
    /// Days from a period's first day within which a return counts.
    pub within_days: u32,
    /// The period whose first day is each row's date.
    pub grain: &'static str,
    /// One row per period whose first day is after the first value event, through the period
    /// of `as_of`.
    pub periods: Vec<WinbackPeriod>,
    /// The complete periods pooled.
    pub total: WinbackTotal,
    /// With `by`: the same table per combination of values.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<WinbackSegment>>,
}

/// One breakdown value's win-back table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WinbackSegment {
    /// The breakdown values.
    pub segment: Segment,
    /// Its periods, the same as the whole table's.
    pub periods: Vec<WinbackPeriod>,
    /// Its complete periods pooled.
    pub total: WinbackTotal,
}

/// One period of a win-back table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WinbackPeriod {
    /// Period label.
    pub period: String,
    /// Whether the return window of the period's first day has ended by `as_of`.
    pub complete: bool,
    /// Entities dormant on the period's first day.
    pub dormant: u64,
    /// Of those, the entities back within the window.
    pub returned: u64,
    /// Returned ÷ dormant; `null` without dormant entities.
    pub rate: Option<f64>,
}

/// Complete periods pooled: an entity counts once per period it is dormant in.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WinbackTotal {
    /// Dormant entities, summed over the complete periods.
    pub dormant: u64,
    /// Returned entities, summed over the complete periods.
    pub returned: u64,
    /// Returned ÷ dormant.
    pub rate: Option<f64>,
}

/// An `uplift` metric's figures (docs/config.md, `type = "uplift"`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UpliftResult {
    /// Always `"uplift"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The retention metric compared.
    pub retention: String,
    /// The compared column, labelled like the retention metric's (`30`, `8_30`).
    pub period: String,
    /// The treatment group's value.
    pub treatment: String,
    /// The control group's value.
    pub control: String,
    /// How the interval is computed: `"newcombe"` (the hybrid score interval).
    pub method: &'static str,
    /// The interval's confidence level.
    pub confidence: f64,
    /// One row per cohort row of the retention metric.
    pub cohorts: Vec<UpliftRow>,
    /// Every cohort row pooled: each group's eligible and retained members summed.
    pub total: UpliftComparison,
    /// Cohort members in neither group (another value, or none).
    pub ungrouped: u64,
    /// Cohort members whose assignment events name more than one group: left out of both.
    pub conflicting: u64,
}

/// One cohort row of an uplift.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UpliftRow {
    /// Cohort period label.
    pub cohort: String,
    /// Breakdown values of the cohort row, when the cohort has `by`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<Segment>,
    /// The comparison over this row's members.
    #[serde(flatten)]
    pub comparison: UpliftComparison,
}

/// A treatment group's retained share against a control group's.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UpliftComparison {
    /// The treated members.
    pub treatment: UpliftGroup,
    /// The control members.
    pub control: UpliftGroup,
    /// Treatment rate − control rate; `null` when a group has no eligible member.
    pub uplift: Option<f64>,
    /// The uplift ÷ the control rate; `null` when that rate is 0 or unknown.
    pub relative_uplift: Option<f64>,
    /// The interval's low end.
    pub low: Option<f64>,
    /// The interval's high end.
    pub high: Option<f64>,
    /// Two-sided p-value of the pooled two-proportion z-test.
    pub p_value: Option<f64>,
    /// A group has fewer than 30 eligible members, or fewer than 5 retained or 5 not retained:
    /// too few for the interval and the p-value to be trusted.
    pub small: bool,
}

/// One group of an uplift comparison.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct UpliftGroup {
    /// Members of the cohort rows in the group.
    pub members: u64,
    /// Members whose column is over by `as_of`.
    pub eligible: u64,
    /// Eligible members retained in the column.
    pub retained: u64,
    /// Retained ÷ eligible; `null` without eligible members.
    pub rate: Option<f64>,
}

/// One breakdown value's survey figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SurveySegment {
    /// The breakdown values.
    pub segment: Segment,
    /// Every answer of its entities up to `as_of`.
    pub total: SurveyFigures,
    /// With `grain`: its periods, the same as the whole survey's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub periods: Option<Vec<SurveyPeriod>>,
}

/// One period of a survey.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SurveyPeriod {
    /// Period label.
    pub period: String,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// The period's figures.
    #[serde(flatten)]
    pub figures: SurveyFigures,
    /// With `waves`: the change for the entities that answered in this period and the one
    /// before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wave: Option<WaveFigures>,
}

/// A survey wave against the one before, over the same entities (each one's latest answer in
/// each period).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WaveFigures {
    /// Entities that answered (on the scale) in both periods.
    pub entities: u64,
    /// Their score in the period before.
    pub before: Option<f64>,
    /// Their score in this period.
    pub now: Option<f64>,
    /// Now − before.
    pub change: Option<f64>,
}

/// A survey's figures over some responses.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SurveyFigures {
    /// Responses with a whole-number score on the scale.
    pub responses: u64,
    /// Entities with at least one such response.
    pub respondents: u64,
    /// Responses whose score is missing, not a number, not whole, or off the scale.
    pub invalid: u64,
    /// Promoters (NPS), satisfied (CSAT), easy (CES).
    pub positive: u64,
    /// Passives (NPS), neutral answers (CSAT, CES).
    pub neutral: u64,
    /// Detractors (NPS), dissatisfied (CSAT), difficult (CES).
    pub negative: u64,
    /// NPS: (positive − negative) ÷ responses × 100; CSAT: positive ÷ responses; CES: the mean
    /// score. `null` without responses.
    pub score: Option<f64>,
    /// With `asked`: entities asked.
    pub asked: Option<u64>,
    /// With `asked`: respondents ÷ entities asked (`null` when nobody was asked).
    pub response_rate: Option<f64>,
    /// With `follow_up`: how the negative answers were followed up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub follow_up: Option<FollowUpFigures>,
}

/// How a survey's negative answers were followed up (closing the loop).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FollowUpFigures {
    /// Negative answers followed up within the time allowed.
    pub followed: u64,
    /// Followed ÷ negative answers; `null` without negative answers.
    pub rate: Option<f64>,
    /// The median hours from a negative answer to its follow-up, over those followed up at all
    /// by `as_of` (in the time allowed or later); `null` when none was.
    pub median_hours: Option<f64>,
}

/// A `lifecycle` metric's table (docs/config.md, `type = "lifecycle"`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LifecycleResult {
    /// Always `"lifecycle"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `day`, `week`, `month` or `quarter`.
    pub grain: &'static str,
    /// One row per period from the first with activity through the period of `as_of`.
    pub periods: Vec<LifecyclePeriod>,
    /// With `by`: one table per combination of values, over the same periods.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segments: Option<Vec<LifecycleSegment>>,
}

/// One breakdown value's lifecycle table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LifecycleSegment {
    /// The breakdown values.
    pub segment: Segment,
    /// Periods, as in the overall table.
    pub periods: Vec<LifecyclePeriod>,
}

/// One period of a lifecycle table: `active = new + returning + resurrecting`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LifecyclePeriod {
    /// Period label.
    pub period: String,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// Entities active in this period.
    pub active: u64,
    /// Active for the first time.
    pub new: u64,
    /// Active in this period and the previous one.
    pub returning: u64,
    /// Active in this period, not in the previous one, and in some period before that.
    pub resurrecting: u64,
    /// Active in the previous period and not in this one (drawn below zero).
    pub dormant: u64,
}

/// A `stickiness` metric's tables (docs/config.md, `type = "stickiness"`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StickinessResult {
    /// Always `"stickiness"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The period whose active days are counted: `week` or `month`.
    pub grain: &'static str,
    /// The metric's `at_least`: the N of each period's `share_at_least`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub at_least: Option<u32>,
    /// One row per day from the first with activity through `as_of`.
    pub days: Vec<StickinessDay>,
    /// One row per period from the first with activity through the period of `as_of`.
    pub periods: Vec<StickinessPeriod>,
    /// The mean of `dau_mau` over the last 30 days through `as_of` (fewer when the data is
    /// shorter), days without a ratio left out.
    pub dau_mau_mean: Option<f64>,
}

/// One day of a stickiness table.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StickinessDay {
    /// The day, `YYYY-MM-DD`.
    pub day: String,
    /// Entities active on this day.
    pub dau: u64,
    /// Entities active on this day or the 6 before it.
    pub wau: u64,
    /// Entities active on this day or the 29 before it.
    pub mau: u64,
    /// `dau / mau`, `null` when `mau` is 0.
    pub dau_mau: Option<f64>,
}

/// One period of a stickiness table: how many days of it its active entities were active.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct StickinessPeriod {
    /// Period label.
    pub period: String,
    /// Whether the period has ended by `as_of`.
    pub complete: bool,
    /// Entities active on at least one day of the period.
    pub active: u64,
    /// `days_active[i]`: entities active on exactly `i + 1` days of the period.
    pub days_active: Vec<u64>,
    /// With `at_least`: the share of `active` entities active on at least that many days.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub share_at_least: Option<Option<f64>>,
}

/// A formula's result: one value, or one value per period or cohort row.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FormulaResult {
    /// Always `"formula"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The grain of `rows`, for a per-period formula.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grain: Option<&'static str>,
    /// How the value reads: `number`, `percent` or `money` (the figure itself is unscaled).
    pub format: &'static str,
    /// The value of an ungrouped formula; `null` on division by zero or missing data.
    #[serde(skip_serializing_if = "FormulaValue::is_grouped")]
    pub value: FormulaValue,
    /// Per period or per cohort row, for a grouped formula.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<Vec<FormulaRow>>,
}

/// The value of an ungrouped formula, or a marker that the formula is grouped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FormulaValue {
    /// An ungrouped formula's value (`None` is `null`).
    Single(Option<f64>),
    /// The formula has rows instead.
    Grouped,
}

impl FormulaValue {
    /// Whether the formula is grouped (then `value` is not written).
    pub fn is_grouped(&self) -> bool {
        matches!(self, FormulaValue::Grouped)
    }
}

impl Serialize for FormulaValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FormulaValue::Single(Some(value)) => serializer.serialize_f64(*value),
            _ => serializer.serialize_none(),
        }
    }
}

/// One row of a grouped formula.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FormulaRow {
    /// Period label, for a per-period formula.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub period: Option<String>,
    /// For a per-period formula: whether the period has ended by `as_of`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complete: Option<bool>,
    /// Cohort label, for a per-cohort formula.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cohort: Option<String>,
    /// Breakdown values of the cohort row (per-cohort formulas with `by`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub segment: Option<Segment>,
    /// The value; `null` on division by zero or missing data.
    pub value: Option<f64>,
}

/// A `ltv` metric's estimate and the inputs it used.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LtvResult {
    /// Always `"ltv"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `orders` or `subscription`.
    pub form: &'static str,
    /// The lifetime value; `null` when an input is missing or a divisor is zero.
    pub value: Option<f64>,
    /// Gross margin used.
    pub margin: f64,
    /// Orders form: average order amount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_order: Option<f64>,
    /// Orders form: orders per customer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub orders_per_customer: Option<f64>,
    /// Orders form: cost to serve.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_to_serve: Option<f64>,
    /// Subscription form: average revenue per account in the last complete period.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub arpa: Option<f64>,
    /// Subscription form: customer churn rate pooled over the trailing window.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub churn_rate: Option<f64>,
}

/// A `payback` metric's result.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PaybackResult {
    /// Always `"payback"`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Periods (of the revenue metric's grain) to earn back CAC; `null` if ARPA × margin is 0.
    pub value: Option<f64>,
    /// The period unit of `value`.
    pub unit: &'static str,
    /// CAC used.
    pub cac: f64,
    /// ARPA of the last complete period.
    pub arpa: Option<f64>,
    /// Gross margin used.
    pub margin: f64,
}

/// A movement figure of a revenue table's complete periods by name (docs/config.md, "Reading
/// other metrics"): flows (`new`, `expansion`, `contraction`, `churned`, `reactivation`,
/// `customers_churned`) summed over them, `start` and `customers_start` of the first, `end` and
/// `customers_end` of the last, and each name with `_last` of the last; `None` without a complete
/// period or for another name.
fn movement(complete: &[&RevenuePeriod], name: &str) -> Option<f64> {
    // Money as micro-units, so that a sum over periods is exact, as the SQL backends sum it.
    let figure = |p: &RevenuePeriod, figure: &str| -> Option<i128> {
        Some(match figure {
            "start" => to_micros(p.start),
            "new" => to_micros(p.new),
            "expansion" => to_micros(p.expansion),
            "contraction" => to_micros(p.contraction),
            "churned" => to_micros(p.churned),
            "reactivation" => to_micros(p.reactivation),
            "end" => to_micros(p.end),
            "customers_start" => i128::from(p.customers_start),
            "customers_churned" => i128::from(p.customers_churned),
            "customers_end" => i128::from(p.customers_end),
            _ => return None,
        })
    };
    let value = |sum: i128| match name.starts_with("customers_") {
        true => sum as f64,
        false => from_micros(sum),
    };
    if let Some(of_last) = name.strip_suffix("_last") {
        return figure(complete.last()?, of_last).map(value);
    }
    match name {
        "start" | "customers_start" => figure(complete.first()?, name).map(value),
        "end" | "customers_end" => figure(complete.last()?, name).map(value),
        _ if complete.is_empty() => None,
        _ => complete
            .iter()
            .map(|p| figure(p, name))
            .sum::<Option<i128>>()
            .map(value),
    }
}

impl MetricResult {
    /// The value of a scalar named by [`crate::MetricKind::scalars`]; `None` when it is null.
    pub fn scalar(&self, name: &str) -> Option<f64> {
        match self {
            MetricResult::Retention(table) => {
                if name == "size" {
                    return Some(table.total.size as f64);
                }
                let (figure, cell) = name.split_once('_')?;
                let labels: Vec<String> = match &table.periods {
                    Periods::Offsets(offsets) => offsets.iter().map(u32::to_string).collect(),
                    Periods::Brackets(brackets) => brackets.iter().map(|[a, b]| format!("{a}_{b}")).collect(),
                };
                let index = labels.iter().position(|l| l == cell)?;
                match figure {
                    "rate" => table.total.rate[index],
                    "retained" => Some(table.total.retained[index] as f64),
                    "eligible" => Some(table.total.eligible[index] as f64),
                    _ => None,
                }
            }
            MetricResult::Activation(table) => match name {
                "size" => Some(table.total.size as f64),
                "activated" => Some(table.total.activated as f64),
                "eligible" => Some(table.total.eligible as f64),
                "rate" => table.total.rate,
                "median_days" => table.total.median_days,
                _ => None,
            },
            MetricResult::Revenue(table) => {
                let complete: Vec<&RevenuePeriod> = table.periods.iter().filter(|p| p.complete).collect();
                let last = complete.last();
                // Exact sums over the complete periods, then one division.
                let pooled = |num: fn(&RevenuePeriod) -> i128, den: fn(&RevenuePeriod) -> i128| {
                    ratio(
                        complete.iter().map(|p| num(p)).sum(),
                        complete.iter().map(|p| den(p)).sum(),
                    )
                };
                match name {
                    "nrr" => table.nrr,
                    "grr" => table.grr,
                    "nrr_last" => table.nrr_last,
                    "grr_last" => table.grr_last,
                    "nrr_window" => table.nrr_window.flatten(),
                    "revenue_churn_rate" => pooled(
                        |p| to_micros(p.churned) + to_micros(p.contraction),
                        |p| to_micros(p.start),
                    ),
                    "customer_churn_rate" => pooled(
                        |p| i128::from(p.customers_churned),
                        |p| i128::from(p.customers_start),
                    ),
                    "customer_churn_rate_last" => last.and_then(|p| p.customer_churn_rate),
                    "mrr_last" => last.map(|p| p.end),
                    "customers_last" => last.map(|p| p.customers_end as f64),
                    "arpa_last" => {
                        last.and_then(|p| (p.customers_end > 0).then(|| p.end / p.customers_end as f64))
                    }
                    _ => movement(&complete, name),
                }
            }
            MetricResult::Lifecycle(table) => {
                let last = table.periods.iter().rfind(|p| p.complete)?;
                let count = match name {
                    "active_last" => last.active,
                    "new_last" => last.new,
                    "returning_last" => last.returning,
                    "resurrecting_last" => last.resurrecting,
                    "dormant_last" => last.dormant,
                    _ => return None,
                };
                Some(count as f64)
            }
            MetricResult::Survey(survey) => match name {
                "score" => survey.total.score,
                "responses" => Some(survey.total.responses as f64),
                "respondents" => Some(survey.total.respondents as f64),
                "response_rate" => survey.total.response_rate,
                "score_last" => survey
                    .periods
                    .as_ref()?
                    .iter()
                    .rfind(|p| p.complete)
                    .and_then(|p| p.figures.score),
                _ => None,
            },
            MetricResult::Health(health) => health.scalar(name),
            MetricResult::Winback(winback) => {
                let last = winback.periods.iter().rfind(|p| p.complete);
                match name {
                    "rate" => winback.total.rate,
                    "rate_last" => last.and_then(|p| p.rate),
                    "dormant_last" => last.map(|p| p.dormant as f64),
                    "returned_last" => last.map(|p| p.returned as f64),
                    _ => None,
                }
            }
            MetricResult::Uplift(uplift) => {
                let total = &uplift.total;
                match name {
                    "uplift" => total.uplift,
                    "relative_uplift" => total.relative_uplift,
                    "low" => total.low,
                    "high" => total.high,
                    "p_value" => total.p_value,
                    "treatment_rate" => total.treatment.rate,
                    "control_rate" => total.control.rate,
                    _ => None,
                }
            }
            MetricResult::Stickiness(table) => {
                let day = table.days.last();
                match name {
                    "dau_last" => day.map(|d| d.dau as f64),
                    "wau_last" => day.map(|d| d.wau as f64),
                    "mau_last" => day.map(|d| d.mau as f64),
                    "dau_mau_last" => day.and_then(|d| d.dau_mau),
                    "dau_mau_mean" => table.dau_mau_mean,
                    "share_at_least_last" => table
                        .periods
                        .iter()
                        .rfind(|p| p.complete)
                        .and_then(|p| p.share_at_least.flatten()),
                    _ => None,
                }
            }
            MetricResult::Crr(table) => match name {
                "crr" => table.crr,
                "crr_last" => table.crr_last,
                _ => None,
            },
            MetricResult::Formula(result) => match (name, &result.value, &result.rows) {
                ("value", FormulaValue::Single(value), _) => *value,
                ("last", _, Some(rows)) => rows.last().and_then(|r| r.value),
                _ => None,
            },
            MetricResult::Ltv(result) => (name == "value").then_some(result.value).flatten(),
            MetricResult::Payback(result) => (name == "value").then_some(result.value).flatten(),
            MetricResult::CohortRevenue(_) | MetricResult::Funnel(_) | MetricResult::Failed(_) => None,
        }
    }
}
