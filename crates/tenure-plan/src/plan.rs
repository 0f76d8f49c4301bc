//! What to compute: sources, quality rules, value events, cohorts and metrics, all resolved.

use std::path::PathBuf;

use crate::{Duration, Expr, Grain, Unit, WeekStart};

/// A whole validated project: the input of every backend.
#[derive(Debug, Clone)]
pub struct Plan {
    /// `[project]`.
    pub project: Project,
    /// `[connections.*]`, in name order: the databases table sources are in.
    pub connections: Vec<Connection>,
    /// Event sources, concatenated in this order.
    pub event_sources: Vec<Source>,
    /// The optional entity-attribute source.
    pub entity_source: Option<Source>,
    /// `[quality]`.
    pub quality: Quality,
    /// `[events.*]`, in name order; referenced by index ([`EventId`]).
    pub events: Vec<ValueEvent>,
    /// `[cohorts.*]`, in name order; referenced by index ([`CohortId`]).
    pub cohorts: Vec<Cohort>,
    /// `[metrics.*]`, in the order the config lists them.
    pub metrics: Vec<Metric>,
    /// `[segments.*]`, in name order: labels from plugins, read as `segment.<name>`.
    pub segments: Vec<SegmentDef>,
}

/// A segment: a plugin that labels every entity.
#[derive(Debug, Clone)]
pub struct SegmentDef {
    /// The `[segments.<name>]` name.
    pub name: String,
    /// The plugin that computes it.
    pub plugin: PluginDef,
    /// The plugin's params as JSON text.
    pub params: String,
    /// The value event whose recency, frequency and amounts the plugin sees (all events if none).
    pub event: Option<EventId>,
    /// Labelled at the start of each period a breakdown reads it in, from the data before that
    /// day only, instead of once as of `as_of` (docs/config.md, `as_of = "period_start"`).
    pub at_period_start: bool,
}

/// A native plugin library.
#[derive(Debug, Clone)]
pub struct PluginDef {
    /// The `[plugins.<name>]` name.
    pub name: String,
    /// The library file, resolved.
    pub path: PathBuf,
    /// Lower-case hex SHA-256 the file must have, if pinned.
    pub sha256: Option<String>,
}

/// Index of a value event in [`Plan::events`].
pub type EventId = usize;
/// Index of a cohort in [`Plan::cohorts`].
pub type CohortId = usize;

/// Project-wide settings.
#[derive(Debug, Clone)]
pub struct Project {
    /// Display name.
    pub name: String,
    /// The IANA time zone in which calendar days, weeks and months are taken.
    pub timezone: chrono_tz::Tz,
    /// The first day of a calendar week.
    pub week_start: WeekStart,
    /// Observation end (inclusive); `None` means the local date of the last kept event.
    pub as_of: Option<chrono::NaiveDate>,
}

/// A database that holds tables (`[connections.<name>]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    /// The `[connections.<name>]` name.
    pub name: String,
    /// The database engine.
    pub kind: ConnectionKind,
    /// Where it listens.
    pub url: Option<String>,
    /// The database (or catalog) of the tables.
    pub database: Option<String>,
    /// The user to connect as.
    pub user: Option<String>,
    /// The environment variable that holds the password (never the password itself).
    pub password_env: Option<String>,
}

/// Database engines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionKind {
    /// ClickHouse.
    ClickHouse,
    /// PostgreSQL.
    Postgres,
    /// Spark SQL.
    Spark,
    /// DuckDB.
    DuckDb,
}

impl ConnectionKind {
    /// The config spelling of the kind (`kind = "…"`), also the SQL dialect's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionKind::ClickHouse => "clickhouse",
            ConnectionKind::Postgres => "postgres",
            ConnectionKind::Spark => "spark",
            ConnectionKind::DuckDb => "duckdb",
        }
    }
}

/// What kind of rows a source holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    /// One row per event.
    Events,
    /// One row per entity with its attributes.
    Entities,
}

/// The file format of a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    JsonLines,
    /// Apache Parquet.
    Parquet,
    /// Apache Arrow IPC file format (Feather v2).
    ArrowIpc,
}

impl Format {
    /// The config spelling of the format.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::JsonLines => "jsonl",
            Format::Parquet => "parquet",
            Format::ArrowIpc => "arrow",
        }
    }
}

/// How zone-less numeric or textual time values are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeFormat {
    /// RFC 3339, `YYYY-MM-DD HH:MM:SS[.f][Z|±HH:MM]` or `YYYY-MM-DD`.
    Auto,
    /// Seconds since the Unix epoch.
    EpochSeconds,
    /// Milliseconds since the Unix epoch.
    EpochMillis,
}

/// Where a source's rows are: a file, or a table of a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Relation {
    /// A file read in process.
    File {
        /// The file, resolved against the config's folder.
        path: PathBuf,
        /// Its format.
        format: Format,
    },
    /// A table (or view) of a `[connections.<name>]` database, read where it lives.
    Table {
        /// The `[connections.<name>]` name.
        connection: String,
        /// The table's name as the database knows it (`schema.table` where the database has
        /// schemas).
        table: String,
    },
}

impl std::fmt::Display for Relation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Relation::File { path, .. } => write!(f, "{}", path.display()),
            Relation::Table { connection, table } => write!(f, "table {table} of connection {connection}"),
        }
    }
}

/// One source of rows and how its columns map onto the data model.
#[derive(Debug, Clone)]
pub struct Source {
    /// The `[sources.<name>]` name.
    pub name: String,
    /// Events or entity attributes.
    pub kind: SourceKind,
    /// Where the rows are.
    pub relation: Relation,
    /// Column holding the entity id.
    pub entity_column: String,
    /// Column holding the event time (event sources only).
    pub time_column: String,
    /// Column holding the event name (event sources only).
    pub event_column: String,
    /// How time values are read.
    pub time_format: TimeFormat,
}

impl Source {
    /// The file and its format, for a source that is a file.
    pub fn file(&self) -> Option<(&std::path::Path, Format)> {
        match &self.relation {
            Relation::File { path, format } => Some((path, *format)),
            Relation::Table { .. } => None,
        }
    }
}

/// What to do with a row that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadRowPolicy {
    /// Drop it and count it by reason.
    Skip,
    /// Stop the run with the file, row number and reason.
    Fail,
}

/// Data-hygiene rules applied while loading.
#[derive(Debug, Clone)]
pub struct Quality {
    /// Drop rows equal in every column.
    pub dedupe: bool,
    /// Rows for which this is true are dropped (bots, test accounts).
    pub exclude: Option<Expr>,
    /// Unreadable rows: skip and count, or fail.
    pub on_bad_row: BadRowPolicy,
}

/// A named value event: a predicate over event rows and an optional amount.
#[derive(Debug, Clone)]
pub struct ValueEvent {
    /// The `[events.<name>]` name.
    pub name: String,
    /// Rows for which this is true are occurrences of the event.
    pub filter: Expr,
    /// A numeric expression per occurrence (revenue, quantity).
    pub amount: Option<Expr>,
}

/// A cohort definition.
#[derive(Debug, Clone)]
pub struct Cohort {
    /// The `[cohorts.<name>]` name.
    pub name: String,
    /// What sets an entity's `t0`.
    pub start: CohortStart,
    /// Period of `t0` that labels the cohort.
    pub grain: Grain,
    /// Entities kept in the cohort (over `attr.*` and the start event's `props.*`).
    pub filter: Option<Expr>,
    /// Breakdown keys: one cohort row per distinct combination. With `did`, the last one is
    /// [`crate::Field::Did`].
    pub by: Vec<crate::Field>,
    /// A behavioural split of the rows: whether each member did an event soon after its start.
    pub did: Option<Did>,
    /// Recurring (docs/config.md, `recurring`): an entity is a member of every cohort period in
    /// which it had a start event, from its first start event of that period, instead of only
    /// of the period of its first one. Only an event start can recur.
    pub recurring: bool,
}

/// A cohort's behavioural split (docs/config.md, `did`): a member's value is `true` when its
/// first `event` at or after t0 comes within `within` of t0, `false` when it did not and the
/// window has ended by `as_of`, and null while the window is still open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Did {
    /// The value event.
    pub event: EventId,
    /// The window after t0.
    pub within: Duration,
}

/// What starts an entity's membership of a cohort.
#[derive(Debug, Clone, PartialEq)]
pub enum CohortStart {
    /// The first occurrence of a value event.
    Event(EventId),
    /// A date attribute of the entity (`attr.<column>`): `t0` is that day's local midnight, and
    /// entities without any event are members too.
    Attribute(String),
}

impl CohortStart {
    /// The start event, when the cohort starts at one.
    pub fn event(&self) -> Option<EventId> {
        match self {
            CohortStart::Event(event) => Some(*event),
            CohortStart::Attribute(_) => None,
        }
    }
}

/// A metric to compute.
#[derive(Debug, Clone)]
pub struct Metric {
    /// The `[metrics.<name>]` name.
    pub name: String,
    /// One line saying what the metric means, if the config gives one.
    pub description: Option<String>,
    /// What it computes.
    pub kind: MetricKind,
}

/// The metric types this version evaluates.
#[derive(Debug, Clone)]
pub enum MetricKind {
    /// Cohort retention (VRR, URR, login retention).
    Retention(Retention),
    /// Value activation rate and time to value.
    Activation(Activation),
    /// MRR movements, NRR, GRR, revenue and customer churn.
    Revenue(Revenue),
    /// A `revenue` metric with `cohort`: each cohort's revenue since its start, against its first
    /// period's.
    CohortRevenue(CohortRevenue),
    /// Of a cohort's members, those who went through ordered steps within a window.
    Funnel(Funnel),
    /// Classic customer retention rate (E − N) / S.
    Crr(Crr),
    /// Active entities per period as new, returning, resurrecting, and those gone dormant.
    Lifecycle(Lifecycle),
    /// Daily, weekly and monthly active entities, and active days per period.
    Stickiness(Stickiness),
    /// NPS, CSAT or CES from response events, overall and per period.
    Survey(Survey),
    /// A retention figure of a treatment group against a control group.
    Uplift(Uplift),
    /// Of the entities dormant at each period's start, the share that came back.
    Winback(Winback),
    /// A score per entity from weighted signals, banded; the entities at risk.
    Health(Health),
    /// An arithmetic formula over aggregates, constants and other metrics' scalars.
    Formula(Formula),
    /// Customer lifetime value.
    Ltv(Ltv),
    /// CAC payback period.
    Payback(Payback),
}

impl MetricKind {
    /// The config spelling of the metric type.
    pub fn type_name(&self) -> &'static str {
        match self {
            MetricKind::Retention(_) => "retention",
            MetricKind::Activation(_) => "activation",
            MetricKind::Revenue(_) | MetricKind::CohortRevenue(_) => "revenue",
            MetricKind::Funnel(_) => "funnel",
            MetricKind::Crr(_) => "crr",
            MetricKind::Lifecycle(_) => "lifecycle",
            MetricKind::Stickiness(_) => "stickiness",
            MetricKind::Survey(_) => "survey",
            MetricKind::Uplift(_) => "uplift",
            MetricKind::Winback(_) => "winback",
            MetricKind::Health(_) => "health",
            MetricKind::Formula(_) => "formula",
            MetricKind::Ltv(_) => "ltv",
            MetricKind::Payback(_) => "payback",
        }
    }

    /// The scalars the metric exposes to formulas, such as `nrr` or `rate_30`.
    pub fn scalars(&self) -> Vec<String> {
        let names: &[&str] = match self {
            MetricKind::Retention(retention) => {
                let mut names = vec!["size".to_string()];
                let mode = &retention.mode;
                for cell in (0..mode.cell_count()).map(|index| mode.cell_label(index)) {
                    names.push(format!("rate_{cell}"));
                    names.push(format!("retained_{cell}"));
                    names.push(format!("eligible_{cell}"));
                }
                return names;
            }
            MetricKind::Activation(_) => &["size", "activated", "eligible", "rate", "median_days"],
            MetricKind::Revenue(_) => &[
                "nrr",
                "grr",
                "nrr_last",
                "grr_last",
                "nrr_window",
                "revenue_churn_rate",
                "customer_churn_rate",
                "customer_churn_rate_last",
                "mrr_last",
                "customers_last",
                "arpa_last",
                "start",
                "new",
                "expansion",
                "contraction",
                "churned",
                "reactivation",
                "end",
                "customers_start",
                "customers_churned",
                "customers_end",
                "start_last",
                "new_last",
                "expansion_last",
                "contraction_last",
                "churned_last",
                "reactivation_last",
                "end_last",
                "customers_start_last",
                "customers_churned_last",
                "customers_end_last",
            ],
            MetricKind::CohortRevenue(_) | MetricKind::Funnel(_) => &[],
            MetricKind::Crr(_) => &["crr", "crr_last"],
            MetricKind::Lifecycle(_) => &[
                "active_last",
                "new_last",
                "returning_last",
                "resurrecting_last",
                "dormant_last",
            ],
            MetricKind::Stickiness(_) => &[
                "dau_last",
                "wau_last",
                "mau_last",
                "dau_mau_last",
                "dau_mau_mean",
                "share_at_least_last",
            ],
            MetricKind::Survey(_) => &["score", "score_last", "responses", "respondents", "response_rate"],
            MetricKind::Uplift(_) => &UPLIFT_SCALARS,
            MetricKind::Winback(_) => &["rate", "rate_last", "dormant_last", "returned_last"],
            MetricKind::Health(_) => &["mean_score", "at_risk", "at_risk_share", "revenue_at_risk"],
            MetricKind::Formula(formula) if formula.grain.is_none() && formula.cohort.is_none() => &["value"],
            MetricKind::Formula(_) => &["last"],
            MetricKind::Ltv(_) | MetricKind::Payback(_) => &["value"],
        };
        names.iter().map(|n| n.to_string()).collect()
    }

    /// Other metrics this one reads scalars of.
    pub fn dependencies(&self) -> Vec<String> {
        let mut names = Vec::new();
        match self {
            MetricKind::Formula(formula) => formula.expr.walk(&mut |e| {
                if let Expr::Scalar(reference) = e
                    && !names.contains(&reference.metric)
                {
                    names.push(reference.metric.clone());
                }
            }),
            MetricKind::Ltv(Ltv {
                form: LtvForm::Subscription { revenue, .. },
                ..
            })
            | MetricKind::Payback(Payback { revenue, .. }) => names.push(revenue.clone()),
            _ => {}
        }
        names
    }
}

/// A `type = "formula"` metric.
#[derive(Debug, Clone)]
pub struct Formula {
    /// The arithmetic expression.
    pub expr: Expr,
    /// Evaluate once per calendar period, aggregates seeing only that period's rows.
    pub grain: Option<Grain>,
    /// Evaluate once per cohort row, aggregates seeing only its members' rows.
    pub cohort: Option<CohortId>,
    /// How the value reads to people.
    pub format: ValueFormat,
}

/// How a formula's value is shown: the figure is the same, the reading differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueFormat {
    /// A plain number, up to four decimals.
    #[default]
    Number,
    /// A ratio shown as a percentage (0.25 → 25.0%).
    Percent,
    /// An amount of money, two decimals.
    Money,
}

impl ValueFormat {
    /// The name used in the config and the JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueFormat::Number => "number",
            ValueFormat::Percent => "percent",
            ValueFormat::Money => "money",
        }
    }
}

/// A `type = "ltv"` metric.
#[derive(Debug, Clone)]
pub struct Ltv {
    /// How lifetime value is estimated.
    pub form: LtvForm,
    /// Gross margin as a fraction (0.8 = 80 %).
    pub margin: f64,
}

/// The two standard LTV formulas.
#[derive(Debug, Clone)]
pub enum LtvForm {
    /// Average order value × margin × orders per customer − cost to serve.
    Orders {
        /// The order event (with `amount`).
        order: EventId,
        /// Cost to serve one customer over its lifetime.
        cost_to_serve: f64,
    },
    /// ARPA × margin ÷ customer churn rate.
    Subscription {
        /// The revenue metric that gives ARPA and churn.
        revenue: String,
        /// Complete periods over which customer churn is pooled.
        churn_window: u32,
    },
}

/// A `type = "payback"` metric.
#[derive(Debug, Clone)]
pub struct Payback {
    /// The revenue metric that gives ARPA.
    pub revenue: String,
    /// Customer acquisition cost.
    pub cac: f64,
    /// Gross margin as a fraction.
    pub margin: f64,
}

/// A `type = "revenue"` metric.
#[derive(Debug, Clone)]
pub struct Revenue {
    /// The value event whose `amount` is revenue.
    pub event: EventId,
    /// Period of the movements table.
    pub grain: Grain,
    /// A comeback after a longer gap than this counts as new revenue, not reactivation.
    pub reactivation_within: Option<Duration>,
    /// Number of months a payment covers (an annual invoice: 12); spread evenly over them.
    pub spread: Option<Expr>,
    /// Trailing window of the `nrr_window` figure, in periods of `grain`.
    pub window_periods: Option<u32>,
    /// The window as written (`12mo`).
    pub window: Option<Duration>,
    /// Breakdown keys (`attr.*`, `segment.*`): one movements table per combination of values.
    pub by: Vec<crate::Field>,
}

/// A `type = "revenue"` metric with `cohort` (docs/config.md, "Revenue retention by cohort"):
/// its periods are the cohort's grain.
#[derive(Debug, Clone)]
pub struct CohortRevenue {
    /// The cohort whose rows are followed.
    pub cohort: CohortId,
    /// The value event whose `amount` is revenue.
    pub event: EventId,
    /// Number of months a payment covers, spread evenly over them.
    pub spread: Option<Expr>,
}

/// A `type = "funnel"` metric (docs/config.md, `type = "funnel"`).
#[derive(Debug, Clone)]
pub struct Funnel {
    /// The cohort whose members enter at their start.
    pub cohort: CohortId,
    /// The steps' value events, in order.
    pub steps: Vec<EventId>,
    /// The window after `t0` inside which every step must fall.
    pub within: Duration,
}

/// A `type = "crr"` metric.
#[derive(Debug, Clone)]
pub struct Crr {
    /// The value event that makes an entity active in a period.
    pub active: EventId,
    /// Period of the table.
    pub grain: Grain,
}

/// A `type = "lifecycle"` metric.
#[derive(Debug, Clone)]
pub struct Lifecycle {
    /// The value event that makes an entity active in a period.
    pub active: EventId,
    /// Period of the table.
    pub grain: Grain,
    /// Breakdown keys (`attr.*`, `segment.*`): one table per combination of values.
    pub by: Vec<crate::Field>,
}

/// A `type = "health"` metric (docs/config.md, `type = "health"`).
#[derive(Debug, Clone)]
pub struct Health {
    /// The value event that makes an entity a customer to score.
    pub active: EventId,
    /// Entities with an `active` event in this many days up to the date are scored.
    pub population_days: u32,
    /// The days up to the date that the signals read.
    pub window_days: u32,
    /// Bands from the best down; the last starts at 0.
    pub bands: Vec<HealthBand>,
    /// The index in `bands` of the band listed as at risk.
    pub at_risk: usize,
    /// An amount event whose amounts in the window are each entity's revenue at stake.
    pub revenue: Option<EventId>,
    /// Also score the population this many days before `as_of`.
    pub backtest_days: Option<u32>,
    /// Also score the population at the last day of each of this many complete periods of this
    /// grain up to `as_of` (docs/config.md, health `history`).
    pub history: Option<(Grain, u32)>,
    /// Breakdown keys (`attr.*`, `segment.*`): the bands per combination of values.
    pub by: Vec<crate::Field>,
    /// The signals, in name order.
    pub components: Vec<HealthComponent>,
}

/// A band of health scores: those from `min` up to the next better band's `min`.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthBand {
    /// The band's name.
    pub name: String,
    /// The lowest score in the band.
    pub min: f64,
}

/// One weighted signal of a health score.
#[derive(Debug, Clone)]
pub struct HealthComponent {
    /// The component's name.
    pub name: String,
    /// What is measured.
    pub signal: Signal,
    /// The weight as written (the score divides by the sum of the weights present).
    pub weight: f64,
    /// How a value becomes a score from 0 to 100.
    pub scoring: Scoring,
}

/// What a health component measures per entity, at a date.
#[derive(Debug, Clone)]
pub enum Signal {
    /// Rows of the event in the window.
    Count(EventId),
    /// Days from the last row of the event to the date.
    Recency(EventId),
    /// Days since the last row over the median days between the entity's event days.
    FrequencyBreak(EventId),
    /// The event's amounts summed over the window.
    Amount(EventId),
    /// The event's amounts in the window over those in the window before.
    Trend(EventId),
    /// A number of the entity's latest row of the event.
    Latest {
        /// The value event.
        event: EventId,
        /// The number each row gives.
        value: Expr,
    },
    /// A number attribute of the entity.
    Attribute(crate::Field),
}

/// How a health signal's value becomes a score from 0 to 100.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scoring {
    /// Linear from `worst` (0) to `best` (100), held within 0 to 100.
    Scale {
        /// The value scored 0.
        worst: f64,
        /// The value scored 100.
        best: f64,
    },
    /// The value's mid-rank percentile among the population's values.
    Percentile {
        /// Whether higher values are better.
        higher_is_better: bool,
    },
}

/// A `type = "winback"` metric (docs/config.md, `type = "winback"`).
#[derive(Debug, Clone)]
pub struct Winback {
    /// The value event whose absence makes an entity dormant and whose return wins it back.
    pub active: EventId,
    /// Days without the event, at least, that make an entity dormant.
    pub dormant_days: u32,
    /// Days from a period's first day within which a return counts.
    pub within_days: u32,
    /// The periods whose first days are the dates counted.
    pub grain: Grain,
    /// Breakdown keys (`attr.*`, `segment.*`): one table per combination of values.
    pub by: Vec<crate::Field>,
}

/// A `type = "survey"` metric.
#[derive(Debug, Clone)]
pub struct Survey {
    /// With a cohort: the figures per cohort row (its period and breakdown values, then `by`), of
    /// the answers of its members.
    pub cohort: Option<usize>,
    /// A breakdown of each answer and ask by its entity's revenue of this amount event in the
    /// 30 days up to it, in bands with these lower bounds (docs/config.md, `revenue_bands`).
    pub revenue_bands: Option<(EventId, Vec<f64>)>,
    /// NPS, CSAT or CES, with its scale.
    pub scale: SurveyScale,
    /// The value event whose rows are responses.
    pub response: EventId,
    /// Each response's score (a number expression over the response row).
    pub score: Expr,
    /// The value event whose rows ask entities to respond, for the response rate.
    pub asked: Option<EventId>,
    /// Per period too, when set.
    pub grain: Option<Grain>,
    /// Breakdown keys (`attr.*`, `segment.*`): the figures per combination of the entity's values.
    pub by: Vec<crate::Field>,
    /// Close the loop: the value event that follows up negative answers, and the hours it must
    /// come within.
    pub follow_up: Option<(EventId, u32)>,
    /// Each period's change in score for the entities that answered in it and in the period
    /// before (needs `grain`).
    pub waves: bool,
}

/// The scalars an uplift exposes to formulas: its overall figures.
pub const UPLIFT_SCALARS: [&str; 7] = [
    "uplift",
    "relative_uplift",
    "low",
    "high",
    "p_value",
    "treatment_rate",
    "control_rate",
];

/// A `type = "uplift"` metric: one column of a retention metric, treatment against control.
#[derive(Debug, Clone)]
pub struct Uplift {
    /// The retention metric whose members and returns are compared (its name).
    pub retention: String,
    /// The compared column of that metric.
    pub cell: usize,
    /// How each entity's group is found.
    pub groups: UpliftGroups,
    /// The group value of the treated entities.
    pub treatment: String,
    /// The group value of the control entities.
    pub control: String,
}

/// Where an uplift reads each entity's group.
#[derive(Debug, Clone)]
pub enum UpliftGroups {
    /// An entity attribute (`attr.<column>`).
    Attribute(crate::Field),
    /// The variant property (`props.<column>`) of the entity's assignment events.
    Assignment {
        /// The value event whose rows assign entities.
        event: EventId,
        /// The property that names the group.
        variant: crate::Field,
    },
}

/// A survey's scale and how its answers are read (docs/config.md, `type = "survey"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SurveyScale {
    /// Net Promoter Score: 0–10; 9–10 promoters, 7–8 passives, 0–6 detractors.
    Nps,
    /// Customer satisfaction: 1–`max`; the top two answers satisfied, the bottom two not.
    Csat {
        /// The highest answer (5 on the usual scale).
        max: u32,
    },
    /// Customer effort: 1–7, 7 the easiest; 5–7 easy, 1–3 difficult.
    Ces,
}

/// Where an answer falls on its scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// A promoter, a satisfied customer, an easy experience.
    Positive,
    /// A passive, a neutral answer.
    Neutral,
    /// A detractor, a dissatisfied customer, a difficult experience.
    Negative,
}

impl SurveyScale {
    /// The config spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyScale::Nps => "nps",
            SurveyScale::Csat { .. } => "csat",
            SurveyScale::Ces => "ces",
        }
    }

    /// The lowest and the highest answer.
    pub fn range(self) -> (u32, u32) {
        match self {
            SurveyScale::Nps => (0, 10),
            SurveyScale::Csat { max } => (1, max),
            SurveyScale::Ces => (1, 7),
        }
    }

    /// The lowest positive answer and the highest negative one; those between are neutral.
    pub fn thresholds(self) -> (u32, u32) {
        match self {
            SurveyScale::Nps => (9, 6),
            SurveyScale::Csat { max } => (max - 1, 2),
            SurveyScale::Ces => (5, 3),
        }
    }

    /// The answer `score` gives, `None` when it is not a whole number on the scale.
    pub fn answer(self, score: f64) -> Option<Answer> {
        let (low, high) = self.range();
        if score.fract() != 0.0 || score < f64::from(low) || score > f64::from(high) {
            return None;
        }
        let (positive, negative) = self.thresholds();
        Some(if score >= f64::from(positive) {
            Answer::Positive
        } else if score <= f64::from(negative) {
            Answer::Negative
        } else {
            Answer::Neutral
        })
    }
}

/// A `type = "stickiness"` metric.
#[derive(Debug, Clone)]
pub struct Stickiness {
    /// The value event that makes an entity active on a day.
    pub active: EventId,
    /// The period whose active days are counted (week or month).
    pub grain: Grain,
    /// With it, the share of a period's active entities active on at least this many days.
    pub at_least: Option<u32>,
}

/// How retention counts a return in period k.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RetentionMode {
    /// A return with offset exactly k, for each listed k.
    NDay(Vec<u32>),
    /// A return with offset ≥ k ("k and after"), for each listed k.
    Unbounded(Vec<u32>),
    /// A return with offset in `[a, b]`, for each listed bracket.
    Bracket(Vec<(u32, u32)>),
}

impl RetentionMode {
    /// The config spelling of the mode.
    pub fn as_str(&self) -> &'static str {
        match self {
            RetentionMode::NDay(_) => "n-day",
            RetentionMode::Unbounded(_) => "unbounded",
            RetentionMode::Bracket(_) => "bracket",
        }
    }

    /// How many columns (periods or brackets) the metric reports.
    pub fn cell_count(&self) -> usize {
        match self {
            RetentionMode::NDay(periods) | RetentionMode::Unbounded(periods) => periods.len(),
            RetentionMode::Bracket(brackets) => brackets.len(),
        }
    }

    /// Column `index`'s label, as in scalar names: the offset `k`, or `a_b` for a bracket.
    pub fn cell_label(&self, index: usize) -> String {
        match self {
            RetentionMode::NDay(periods) | RetentionMode::Unbounded(periods) => periods[index].to_string(),
            RetentionMode::Bracket(brackets) => format!("{}_{}", brackets[index].0, brackets[index].1),
        }
    }

    /// The last period whose completion the cell at `index` waits for.
    pub fn last_period(&self, index: usize) -> u32 {
        match self {
            RetentionMode::NDay(periods) | RetentionMode::Unbounded(periods) => periods[index],
            RetentionMode::Bracket(brackets) => brackets[index].1,
        }
    }
}

/// How offsets are aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// From the entity's own `t0`.
    Entity,
    /// Differences of calendar period indexes.
    Calendar,
}

impl Align {
    /// The config spelling of the alignment.
    pub fn as_str(self) -> &'static str {
        match self {
            Align::Entity => "entity",
            Align::Calendar => "calendar",
        }
    }
}

/// A `type = "retention"` metric.
#[derive(Debug, Clone)]
pub struct Retention {
    /// The cohort definition.
    pub cohort: CohortId,
    /// The value event that counts as a return.
    pub return_event: EventId,
    /// n-day, unbounded or bracket, with its periods.
    pub mode: RetentionMode,
    /// Offset unit.
    pub unit: Unit,
    /// Offset alignment.
    pub align: Align,
    /// An amount event whose revenue is reported per cohort and period (the realised LTV curve).
    pub value: Option<EventId>,
    /// The norm (built in, or a `[benchmarks.<name>]` table) whose day columns are judged.
    pub benchmark: Option<crate::norms::Norm>,
}

/// A `type = "activation"` metric.
#[derive(Debug, Clone)]
pub struct Activation {
    /// The cohort definition.
    pub cohort: CohortId,
    /// The value event that counts as activation.
    pub reached: EventId,
    /// The window after `t0` inside which the first `reached` must fall.
    pub within: Duration,
}
