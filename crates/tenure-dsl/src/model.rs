//! The serde model of `metrics.toml` (docs/config.md), with spans kept for diagnostics.
//!
//! Each table is deserialised on its own, so one bad metric does not hide the errors of the next.
//! The same types generate the JSON Schema printed by `tenure schema`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::ops::Range;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

/// A value and the byte range it was written at.
#[derive(Debug, Clone, PartialEq)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Byte range in the config text.
    pub span: Range<usize>,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = toml::Spanned::<T>::deserialize(deserializer)?;
        let span = spanned.span();
        Ok(Spanned {
            value: spanned.into_inner(),
            span,
        })
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }

    fn inline_schema() -> bool {
        T::inline_schema()
    }
}

/// The whole file. Used for the JSON Schema; validation reads each table separately.
#[derive(Debug, JsonSchema)]
#[schemars(title = "tenure metrics.toml", deny_unknown_fields)]
pub struct ConfigFile {
    /// Project-wide settings.
    pub project: Option<ProjectConfig>,
    /// Input files or tables: event sources and an optional entity-attribute source.
    pub sources: BTreeMap<String, SourceConfig>,
    /// Databases whose tables sources read.
    pub connections: Option<BTreeMap<String, ConnectionConfig>>,
    /// Data-hygiene rules.
    pub quality: Option<QualityConfig>,
    /// Named numbers usable in every expression.
    pub constants: Option<BTreeMap<String, f64>>,
    /// Value events: named predicates over event rows.
    pub events: Option<BTreeMap<String, EventConfig>>,
    /// Cohort definitions.
    pub cohorts: Option<BTreeMap<String, CohortConfig>>,
    /// The metrics to compute.
    pub metrics: Option<BTreeMap<String, MetricConfig>>,
    /// Segments computed by plugins, read as `segment.<name>`.
    pub segments: Option<BTreeMap<String, SegmentConfig>>,
    /// Native plugin libraries.
    pub plugins: Option<BTreeMap<String, PluginConfig>>,
    /// Retention norms of your own, for a retention metric's `benchmark`.
    pub benchmarks: Option<BTreeMap<String, BenchmarkConfig>>,
}

/// `[benchmarks.<name>]`: the usual day-N retention of a population you compare with.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BenchmarkConfig {
    /// Who the bands describe (default: the benchmark's name).
    pub segment: Option<String>,
    /// One band per day offset: `{ day = 7, low = 0.40, high = 0.55 }`.
    pub bands: Spanned<Vec<BandConfig>>,
}

/// One band of a `[benchmarks.<name>]` table.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BandConfig {
    /// The day offset (a `periods` entry of a retention metric with `unit = "day"`).
    pub day: Spanned<i64>,
    /// The usual rate's low end, a share from 0 to 1.
    pub low: Spanned<f64>,
    /// The usual rate's high end, a share from 0 to 1, at least `low`.
    pub high: Spanned<f64>,
}

/// `[segments.<name>]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SegmentConfig {
    /// The `[plugins.<name>]` that computes the segment.
    pub plugin: Spanned<String>,
    /// The value event whose recency, frequency and amounts the plugin sees (default: every event).
    pub event: Option<Spanned<String>>,
    /// Passed to the plugin as JSON; the plugin checks them.
    pub params: Option<serde_json::Value>,
    /// When the labels a breakdown reads are taken (default `as_of`).
    pub as_of: Option<SegmentAsOfConfig>,
}

/// `[segments.<name>] as_of`: when an entity's label is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SegmentAsOfConfig {
    /// Once, from the data up to the project's `as_of`.
    AsOf,
    /// At the start of each period a breakdown reads, from the data before that day.
    PeriodStart,
}

/// `[plugins.<name>]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    /// The library, relative to the config; the platform prefix and suffix (`lib…so`) may be omitted.
    pub path: Spanned<String>,
    /// Hex SHA-256 of the library: a different file is refused.
    pub sha256: Option<Spanned<String>>,
}

/// `[project]`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    /// Display name of the project.
    pub name: Option<Spanned<String>>,
    /// IANA time zone for calendar days, weeks and months (default `UTC`).
    pub timezone: Option<Spanned<String>>,
    /// First day of the week (default `monday`).
    pub week_start: Option<Spanned<WeekStartConfig>>,
    /// Observation end `YYYY-MM-DD` (default: the local date of the last kept event).
    pub as_of: Option<Spanned<String>>,
}

/// First day of a calendar week.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WeekStartConfig {
    /// ISO weeks.
    Monday,
    /// US weeks.
    Sunday,
}

/// `[sources.<name>]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// `events` (default) or `entities` (one row of attributes per entity).
    pub kind: Option<Spanned<SourceKindConfig>>,
    /// File path, relative to the config file (a file source).
    pub path: Option<Spanned<String>>,
    /// The table (or view) to read, in the database of `connection` (a table source).
    pub table: Option<Spanned<String>>,
    /// The `[connections.<name>]` a `table` is in (may be left out when there is one).
    pub connection: Option<Spanned<String>>,
    /// File format; inferred from the extension when absent.
    pub format: Option<Spanned<FormatConfig>>,
    /// Column holding the entity id.
    pub entity: Spanned<String>,
    /// Column holding the event time (event sources).
    pub time: Option<Spanned<String>>,
    /// Column holding the event name (event sources).
    pub event: Option<Spanned<String>>,
    /// How to read time values (default `auto`).
    pub time_format: Option<Spanned<TimeFormatConfig>>,
}

/// `[connections.<name>]`: a database that holds tables sources name. Secrets are never written
/// here: `password_env` names the environment variable that holds the password.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConnectionConfig {
    /// The database engine.
    pub kind: Spanned<ConnectionKindConfig>,
    /// Where it listens (`http://localhost:8123`, `postgres://db.internal:5432`, `sc://spark:15002`).
    pub url: Option<Spanned<String>>,
    /// The database (or catalog) that holds the tables.
    pub database: Option<Spanned<String>>,
    /// The user to connect as.
    pub user: Option<Spanned<String>>,
    /// The environment variable that holds the password.
    pub password_env: Option<Spanned<String>>,
}

/// Database engines a connection may name.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConnectionKindConfig {
    /// ClickHouse.
    Clickhouse,
    /// PostgreSQL.
    Postgres,
    /// Spark SQL.
    Spark,
    /// DuckDB.
    Duckdb,
}

/// What a source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceKindConfig {
    /// One row per event.
    Events,
    /// One row per entity.
    Entities,
}

/// File formats.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FormatConfig {
    /// CSV with a header row.
    Csv,
    /// JSON Lines.
    #[serde(alias = "ndjson")]
    Jsonl,
    /// Apache Parquet.
    Parquet,
    /// Apache Arrow IPC file format (Feather v2).
    #[serde(alias = "feather", alias = "ipc")]
    Arrow,
}

/// Time value formats.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimeFormatConfig {
    /// RFC 3339, `YYYY-MM-DD HH:MM:SS[.f][Z|±HH:MM]` or `YYYY-MM-DD`.
    Auto,
    /// Seconds since the Unix epoch.
    EpochS,
    /// Milliseconds since the Unix epoch.
    EpochMs,
}

/// `[quality]`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QualityConfig {
    /// `exact` drops rows equal in every column; `none` (default) keeps them.
    pub dedupe: Option<Spanned<DedupeConfig>>,
    /// Rows for which this expression is true are dropped.
    pub exclude: Option<Spanned<String>>,
    /// `skip` (default) counts unreadable rows by reason; `fail` stops the run.
    pub on_bad_row: Option<Spanned<BadRowConfig>>,
}

/// Duplicate handling.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DedupeConfig {
    /// Drop rows equal in every column.
    Exact,
    /// Keep every row.
    None,
}

/// Unreadable-row handling.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BadRowConfig {
    /// Drop and count.
    Skip,
    /// Stop the run.
    Fail,
}

/// `[events.<name>]`: a value event.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventConfig {
    /// Rows for which this expression is true are occurrences of the event.
    #[serde(rename = "where")]
    pub filter: Spanned<String>,
    /// A numeric expression per occurrence, such as `props.amount`.
    pub amount: Option<Spanned<String>>,
}

/// `[cohorts.<name>]`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CohortConfig {
    /// The value event whose first occurrence puts an entity in a cohort, or `attr.<column>`: a
    /// date attribute (every entity with one is a member, with or without events).
    pub start: Spanned<String>,
    /// `day`, `week`, `month` or `quarter`.
    pub grain: Spanned<GrainConfig>,
    /// Entities kept (over `attr.*` and the start event's `props.*`).
    #[serde(rename = "where")]
    pub filter: Option<Spanned<String>>,
    /// Breakdown keys: `attr.<column>`, `props.<column>` (of the start event), `segment.<name>`.
    pub by: Option<Vec<Spanned<String>>>,
    /// A value event: splits the rows by whether each member did it within `did_within` of its
    /// start (a breakdown `did.<event>`: true, false, or null while the window is open).
    pub did: Option<Spanned<String>>,
    /// The window after the start for `did`: `7d`, `2w`, `1mo`, `48h`.
    pub did_within: Option<Spanned<String>>,
    /// Every period with a start event starts a membership (recurring retention), not only the
    /// first occurrence; default false.
    pub recurring: Option<Spanned<bool>>,
}

/// Calendar periods.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GrainConfig {
    /// Days.
    Day,
    /// Weeks per `week_start`.
    Week,
    /// Calendar months.
    Month,
    /// Calendar quarters.
    Quarter,
    /// Calendar years.
    Year,
}

/// `[metrics.<name>]`, by `type`.
#[derive(Debug, JsonSchema)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum MetricConfig {
    /// Cohort retention: VRR, URR, login retention.
    Retention(RetentionConfig),
    /// Value activation rate and time to value.
    Activation(ActivationConfig),
    /// Of a cohort's members, those who went through ordered steps within a window.
    Funnel(FunnelConfig),
    /// MRR movements, NRR, GRR, revenue and customer churn.
    Revenue(RevenueConfig),
    /// Classic customer retention rate (E − N) / S.
    Crr(CrrConfig),
    /// Active entities per period as new, returning, resurrecting; and those gone dormant.
    Lifecycle(LifecycleConfig),
    /// DAU, WAU, MAU and DAU ÷ MAU per day; active days per week or month.
    Stickiness(StickinessConfig),
    /// NPS, CSAT or CES from response events.
    Survey(SurveyConfig),
    /// A retention figure of a treatment group against a control group, with its interval.
    Uplift(UpliftConfig),
    /// Of the entities dormant at each period's start, the share that came back.
    Winback(WinbackConfig),
    /// A score per entity from weighted signals, banded; the accounts at risk.
    Health(HealthConfig),
    /// Arithmetic over aggregates, constants and other metrics' scalars.
    Formula(FormulaConfig),
    /// Customer lifetime value.
    Ltv(LtvConfig),
    /// CAC payback period.
    Payback(PaybackConfig),
}

/// The metric types, for `type = …` suggestions.
pub const METRIC_TYPES: [&str; 14] = [
    "retention",
    "activation",
    "funnel",
    "revenue",
    "crr",
    "lifecycle",
    "stickiness",
    "survey",
    "uplift",
    "winback",
    "health",
    "formula",
    "ltv",
    "payback",
];

/// A number, or the name of a `[constants]` entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum NumberOrConstant {
    /// A literal number.
    Number(f64),
    /// A constant's name.
    Constant(String),
}

/// `type = "formula"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FormulaConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// Arithmetic over `count(e)`, `entities(e, at_least = n)`, `sum|avg|min|max(e.amount)`,
    /// constants and other metrics' scalars (`revenue.nrr`).
    pub formula: Spanned<String>,
    /// Evaluate once per calendar period; aggregates see only that period's rows.
    pub grain: Option<Spanned<GrainConfig>>,
    /// Evaluate once per cohort row; aggregates see only its members' rows.
    pub cohort: Option<Spanned<String>>,
    /// How the value reads: `number` (default), `percent` (a ratio, 0.25 → 25.0%) or `money`.
    pub format: Option<Spanned<ValueFormatConfig>>,
}

/// How a formula's value is shown.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ValueFormatConfig {
    /// A plain number, up to four decimals.
    Number,
    /// A ratio shown as a percentage.
    Percent,
    /// An amount, two decimals.
    Money,
}

/// The two standard LTV formulas.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LtvFormConfig {
    /// Average order value × margin × orders per customer − cost to serve.
    Orders,
    /// ARPA × margin ÷ customer churn rate.
    Subscription,
}

/// `type = "ltv"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LtvConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// `orders` or `subscription`.
    pub form: Spanned<LtvFormConfig>,
    /// Gross margin as a fraction (0.8 = 80 %), or a constant's name.
    pub margin: Spanned<NumberOrConstant>,
    /// Orders form: the order event (with `amount`).
    pub order: Option<Spanned<String>>,
    /// Orders form: cost to serve one customer over its lifetime (default 0).
    pub cost_to_serve: Option<Spanned<NumberOrConstant>>,
    /// Subscription form: the revenue metric that gives ARPA and churn.
    pub revenue: Option<Spanned<String>>,
    /// Subscription form: complete periods over which churn is pooled (default 3).
    pub churn_window: Option<Spanned<u32>>,
}

/// `type = "payback"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaybackConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The revenue metric that gives ARPA.
    pub revenue: Spanned<String>,
    /// Customer acquisition cost, or a constant's name.
    pub cac: Spanned<NumberOrConstant>,
    /// Gross margin as a fraction, or a constant's name.
    pub margin: Spanned<NumberOrConstant>,
}

/// `type = "revenue"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RevenueConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The value event whose `amount` is revenue (it must define `amount`).
    pub amount: Spanned<String>,
    /// Period of the movements table (default `month`).
    pub grain: Option<Spanned<GrainConfig>>,
    /// A comeback after a gap longer than this counts as new, not reactivation (default: never).
    pub reactivation_within: Option<Spanned<String>>,
    /// Months a payment covers, as an expression (`props.months`): spread evenly over them.
    pub spread: Option<Spanned<String>>,
    /// Trailing window for `nrr_window`, such as `12mo`.
    pub window: Option<Spanned<String>>,
    /// Breakdown keys, `attr.<column>` or `segment.<name>`: one table per combination of values.
    pub by: Option<Vec<Spanned<String>>>,
    /// A cohort: the table follows each cohort row's revenue per period since its start instead.
    pub cohort: Option<Spanned<String>>,
}

/// `type = "crr"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CrrConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The value event that makes an entity active in a period.
    pub active: Spanned<String>,
    /// Period of the table (default `month`).
    pub grain: Option<Spanned<GrainConfig>>,
}

/// `type = "lifecycle"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The value event that makes an entity active in a period.
    pub active: Spanned<String>,
    /// Period of the table (default `month`).
    pub grain: Option<Spanned<GrainConfig>>,
    /// Breakdown keys, `attr.<column>` or `segment.<name>`: one table per combination of values.
    pub by: Option<Vec<Spanned<String>>>,
}

/// `type = "stickiness"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StickinessConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The value event that makes an entity active on a day.
    pub active: Spanned<String>,
    /// The period whose active days are counted: `week` (default) or `month`.
    pub grain: Option<Spanned<GrainConfig>>,
    /// The N of "active on at least N days of the period": adds each period's share.
    pub at_least: Option<Spanned<u32>>,
}

/// `type = "survey"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// `nps` (0–10), `csat` (1–`max`) or `ces` (1–7).
    pub scale: Spanned<ScaleConfig>,
    /// The highest CSAT answer (default 5, at least 5).
    pub max: Option<Spanned<u32>>,
    /// The value event whose rows are responses.
    pub response: Spanned<String>,
    /// Each response's score: a number expression over the response row (`props.score`).
    pub score: Spanned<String>,
    /// The value event whose rows ask entities to respond: adds the response rate.
    pub asked: Option<Spanned<String>>,
    /// Figures per period too: `day`, `week`, `month`, `quarter` or `year`.
    pub grain: Option<Spanned<GrainConfig>>,
    /// Breakdown keys, `attr.<column>` or `segment.<name>`: the figures per combination of values.
    pub by: Option<Vec<Spanned<String>>>,
    /// A cohort: the figures per cohort row, of the answers of its members.
    pub cohort: Option<Spanned<String>>,
    /// An amount event: with `revenue_bands`, each answer and ask is broken down by its entity's
    /// revenue in the 30 days up to it.
    pub revenue: Option<Spanned<String>>,
    /// With `revenue`: the bands' lower bounds above 0, ascending (`[100, 1000]`).
    pub revenue_bands: Option<Spanned<Vec<f64>>>,
    /// Close the loop: the value event that follows up a negative answer.
    pub follow_up: Option<Spanned<String>>,
    /// With `follow_up`: the time a follow-up must come within (`48h`, `2d`, `1w`).
    pub follow_up_within: Option<Spanned<String>>,
    /// With `grain`: each period's change in score for the entities that also answered the
    /// period before.
    pub waves: Option<Spanned<bool>>,
}

/// `type = "uplift"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpliftConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The retention metric whose members and returns are compared.
    pub retention: Spanned<String>,
    /// The column compared: an offset of the metric's `periods`, or the first offset of one of
    /// its `brackets`.
    pub period: Spanned<i64>,
    /// The entity attribute that names each entity's group (`attr.variant`).
    pub group: Option<Spanned<String>>,
    /// The value event that assigns entities to groups (instead of `group`).
    pub assignment: Option<Spanned<String>>,
    /// With `assignment`: the property of the assignment row that names the group
    /// (`props.variant`).
    pub variant: Option<Spanned<String>>,
    /// The group's value of the treated entities.
    pub treatment: Spanned<String>,
    /// The group's value of the control entities.
    pub control: Spanned<String>,
}

/// `type = "health"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The value event that makes an entity a customer to score.
    pub active: Spanned<String>,
    /// Entities with an `active` event in this many days up to the date are scored (default
    /// `90d`).
    pub population: Option<Spanned<String>>,
    /// The trailing window the signals read, in days or weeks (default `30d`).
    pub window: Option<Spanned<String>>,
    /// Bands from the best down: `[{ name = "green", min = 70 }, …]`, the last with `min = 0`
    /// (default green 70, yellow 40, red 0).
    pub bands: Option<Spanned<Vec<HealthBandConfig>>>,
    /// The band whose entities are listed as at risk (default: the last).
    pub at_risk: Option<Spanned<String>>,
    /// An amount event: each entity's revenue in the window is its revenue at stake.
    pub revenue: Option<Spanned<String>>,
    /// Also score the population this long before `as_of`, and report what became of each band.
    pub backtest: Option<Spanned<String>>,
    /// Also score the population at the last day of each past period of this grain: the bands'
    /// history.
    pub history: Option<Spanned<GrainConfig>>,
    /// With `history`: how many complete periods up to `as_of` (default 6, at most 120).
    pub history_periods: Option<Spanned<i64>>,
    /// Breakdown keys, `attr.<column>` or `segment.<name>`: the bands per combination of values.
    pub by: Option<Vec<Spanned<String>>>,
    /// The signals, by name, each scored from 0 to 100 and weighted.
    pub components: Spanned<BTreeMap<String, HealthComponentConfig>>,
}

/// One band of a health score.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthBandConfig {
    /// The band's name.
    pub name: Spanned<String>,
    /// The lowest score in the band.
    pub min: Spanned<f64>,
}

/// One signal of a health score.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthComponentConfig {
    /// What is measured per entity.
    pub signal: Spanned<SignalConfig>,
    /// The value event the signal reads (every signal but `attribute`).
    pub event: Option<Spanned<String>>,
    /// `latest`: the number each row gives (`props.score`); `attribute`: `attr.<column>`.
    pub value: Option<Spanned<String>>,
    /// The component's weight; weights are divided by their sum.
    pub weight: Spanned<f64>,
    /// `[worst, best]`: the value scored 0 and the one scored 100, linear between.
    pub scale: Option<Spanned<Vec<f64>>>,
    /// Score by rank in the population instead: `higher` or `lower` values are better.
    pub percentile: Option<Spanned<BetterConfig>>,
}

/// A health signal.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignalConfig {
    /// Rows of the event in the window.
    Count,
    /// Days since the last row of the event.
    Recency,
    /// Days since the last row over the entity's own median days between rows.
    FrequencyBreak,
    /// The event's amounts summed over the window.
    Amount,
    /// The amounts of the window over those of the window before.
    Trend,
    /// `value` of the entity's latest row of the event.
    Latest,
    /// A number attribute of the entity.
    Attribute,
}

/// Which values rank best.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum BetterConfig {
    /// Higher values are better.
    Higher,
    /// Lower values are better.
    Lower,
}

/// `type = "winback"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WinbackConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The value event whose absence makes an entity dormant, and whose return wins it back.
    pub active: Spanned<String>,
    /// How long without the event makes an entity dormant, in days or weeks (`30d`, `8w`).
    pub dormant: Spanned<String>,
    /// How soon after a period's start a return counts, in days or weeks.
    pub within: Spanned<String>,
    /// The periods whose first day is the date of each count (default `month`).
    pub grain: Option<Spanned<GrainConfig>>,
    /// Breakdown keys, `attr.<column>` or `segment.<name>`: one table per combination of values.
    pub by: Option<Vec<Spanned<String>>>,
}

/// A survey's scale.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScaleConfig {
    /// Net Promoter Score, 0–10.
    Nps,
    /// Customer satisfaction, 1–`max`.
    Csat,
    /// Customer effort, 1–7.
    Ces,
}

/// `type = "retention"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The cohort definition.
    pub cohort: Spanned<String>,
    /// The value event that counts as a return.
    #[serde(rename = "return")]
    pub return_event: Spanned<String>,
    /// `n-day` (default), `unbounded` or `bracket`.
    pub mode: Option<Spanned<ModeConfig>>,
    /// `day` (default), `week` or `month`.
    pub unit: Option<Spanned<UnitConfig>>,
    /// `entity` (default) or `calendar`.
    pub align: Option<Spanned<AlignConfig>>,
    /// Offsets k for `n-day` and `unbounded`, ascending.
    pub periods: Option<Spanned<Vec<i64>>>,
    /// Inclusive `[a, b]` offset ranges for `bracket`, ascending.
    pub brackets: Option<Spanned<Vec<Vec<i64>>>>,
    /// An amount event: adds the cohort's revenue and cumulative revenue per member (LTV curve).
    pub value: Option<Spanned<String>>,
    /// A norm to judge the day columns against: a published one (`b2c`, `b2b`, `enterprise`,
    /// `individuals`: 7-, 30- and 90-day bands) or a `[benchmarks.<name>]` table.
    pub benchmark: Option<Spanned<String>>,
}

/// Retention modes.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ModeConfig {
    /// Returned exactly in period k.
    NDay,
    /// Returned in period k or later.
    Unbounded,
    /// Returned inside a bracket of periods.
    Bracket,
}

/// Retention offset units.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum UnitConfig {
    /// Calendar days.
    Day,
    /// Weeks.
    Week,
    /// Calendar months.
    Month,
}

/// Retention offset alignment.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlignConfig {
    /// From each entity's own start.
    Entity,
    /// By calendar period.
    Calendar,
}

/// `type = "funnel"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunnelConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The cohort whose members enter the funnel at their start.
    pub cohort: Spanned<String>,
    /// The value events of the steps after the start, in order.
    pub steps: Spanned<Vec<Spanned<String>>>,
    /// The window after the cohort start inside which every step must fall, such as `14d`.
    pub within: Spanned<String>,
}

/// `type = "activation"`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivationConfig {
    /// The metric type (read before this table).
    #[serde(rename = "type")]
    #[schemars(skip)]
    pub kind: Spanned<String>,
    /// One line saying what the metric means.
    pub description: Option<String>,
    /// The cohort definition.
    pub cohort: Spanned<String>,
    /// The value event that counts as activation.
    pub reached: Spanned<String>,
    /// The window after the cohort start, such as `7d`, `2w`, `1mo` or `48h`.
    pub within: Spanned<String>,
}
