//! Another metric's figure (`revenue.nrr`, `vrr.rate_30`) computed in SQL from that metric's
//! own statement, so that a formula, LTV or payback statement runs on its own, as `tenure sql`
//! prints it (docs/config.md, "Scalars"; docs/backends.md).
//!
//! The metric's statement becomes a CTE (`<name>_rows`), read by one aggregate query that
//! returns the figure as column `figure`. Every figure is computed as the report computes it
//! from the same rows: sums of exact integers (micro-units, counts), then one division in
//! double precision, so the figure is the engine's to the last bit.

use tenure_plan::{Ltv, LtvForm, MetricKind, Plan, RetentionMode, ScalarRef, SurveyScale};

use crate::Dialect;
use crate::formula::Groups;

/// CTE `rows_name` holding metric `metric`'s own statement as a relation.
pub(crate) fn metric_rows(
    plan: &Plan,
    metric: &str,
    rows_name: &str,
    dialect: &dyn Dialect,
) -> Result<(String, String), String> {
    let body = crate::body(plan, metric, dialect, &crate::Known::default())
        .map_err(|reason| format!("it reads metric `{metric}`, whose statement is not compiled: {reason}"))?;
    // The settings of a statement close the outermost one only.
    let body = body.strip_suffix(dialect.statement_settings()).unwrap_or(&body);
    Ok((
        rows_name.to_string(),
        format!("SELECT * FROM (\n{body}\n) AS metric_rows"),
    ))
}

/// CTEs defining relation `name`: one row whose column `figure` is `reference`'s value (null
/// where the engine's report has none).
pub(crate) fn ctes(
    plan: &Plan,
    reference: &ScalarRef,
    name: &str,
    dialect: &dyn Dialect,
) -> Result<Vec<(String, String)>, String> {
    let unknown = || {
        format!(
            "metric `{}` has no figure `{}`",
            reference.metric, reference.scalar
        )
    };
    let metric = plan
        .metrics
        .iter()
        .find(|m| m.name == reference.metric)
        .ok_or_else(unknown)?;
    let rows = format!("{name}_rows");
    let mut ctes = vec![metric_rows(plan, &metric.name, &rows, dialect)?];
    let figures = Figures { dialect };
    let scalar = reference.scalar.as_str();
    let query = match &metric.kind {
        MetricKind::Revenue(revenue) => {
            let filter = if revenue.by.is_empty() {
                ""
            } else {
                " WHERE m.overall = 1"
            };
            revenue_figure(&figures, scalar, revenue.window_periods.is_some())
                .map(|pick| figures.per_period(&rows, filter, pick, "figure"))
        }
        MetricKind::Crr(_) => {
            crr_figure(&figures, scalar).map(|pick| figures.per_period(&rows, "", pick, "figure"))
        }
        MetricKind::Lifecycle(lifecycle) => {
            let filter = if lifecycle.by.is_empty() {
                ""
            } else {
                " WHERE m.overall = 1"
            };
            lifecycle_figure(&figures, scalar).map(|pick| figures.per_period(&rows, filter, pick, "figure"))
        }
        MetricKind::Retention(retention) => retention_figure(&figures, &retention.mode, scalar)
            .map(|figure| format!("SELECT {figure} AS figure FROM {rows} AS m")),
        MetricKind::Activation(activation) => {
            let filter = match plan.cohorts[activation.cohort].by.is_empty() {
                true => "m.all_cohorts = 1",
                false => "m.all_cohorts = 1 AND m.all_values = 1",
            };
            activation_figure(&figures, scalar, filter)
                .map(|figure| format!("SELECT {figure} AS figure FROM {rows} AS m"))
        }
        MetricKind::Stickiness(stickiness) => {
            stickiness_figure(&figures, scalar, stickiness.at_least).map(|figure| {
                format!(
                    "SELECT {figure} AS figure FROM {rows} AS m CROSS JOIN (SELECT \
                     max(CASE WHEN part = 0 THEN at_index END) AS last_day, \
                     max(CASE WHEN part = 1 AND complete THEN at_index END) AS last_period \
                     FROM {rows}) AS marks"
                )
            })
        }
        MetricKind::Formula(formula) => {
            let whole = matches!(Groups::of(formula), Groups::Whole);
            match (scalar, whole) {
                ("value", true) => Some(format!("SELECT max(m.value) AS figure FROM {rows} AS m")),
                ("last", false) => Some(format!(
                    "SELECT max(CASE WHEN m.grp = marks.last_grp THEN m.value END) AS figure \
                     FROM {rows} AS m CROSS JOIN (SELECT max(grp) AS last_grp FROM {rows}) AS marks"
                )),
                ("value" | "last", _) => Some(format!("SELECT {} AS figure", figures.null())),
                _ => None,
            }
        }
        MetricKind::Ltv(Ltv {
            form: LtvForm::Orders { cost_to_serve, .. },
            margin,
        }) if scalar == "value" => {
            // Average order × margin × orders per customer − cost to serve.
            Some(format!(
                "SELECT max(CASE WHEN m.customers > 0 THEN m.average_order * {} * (m.orders / m.customers) - {} END) \
                 AS figure FROM {rows} AS m",
                figures.number(*margin),
                figures.number(*cost_to_serve)
            ))
        }
        MetricKind::Ltv(_) | MetricKind::Payback(_) if scalar == "value" => {
            Some(format!("SELECT max(m.value) AS figure FROM {rows} AS m"))
        }
        MetricKind::Ltv(_)
        | MetricKind::Payback(_)
        | MetricKind::CohortRevenue(_)
        | MetricKind::Funnel(_) => None,
        MetricKind::Winback(winback) => {
            let filter = if winback.by.is_empty() {
                ""
            } else {
                " WHERE m.overall = 1"
            };
            winback_figure(&figures, scalar).map(|pick| figures.per_period(&rows, filter, pick, "figure"))
        }
        MetricKind::Health(_) => {
            return Err(format!(
                "it reads `{}.{scalar}`, a health score's figure, which is not translated to SQL yet",
                reference.metric
            ));
        }
        MetricKind::Uplift(_) => {
            return Err(format!(
                "it reads `{}.{scalar}`: an uplift's figures come from its interval and test, \
                 which the report computes from the groups' counts, not SQL; `tenure run` on a \
                 connection computes it",
                reference.metric
            ));
        }
        MetricKind::Survey(survey) => {
            let whole = |value: String| {
                format!(
                    "SELECT max(CASE WHEN m.per_value = 0 AND m.overall = 1 THEN {value} END) AS figure FROM {rows} AS m"
                )
            };
            let score = survey_score(&figures, survey.scale);
            match scalar {
                "score" => Some(whole(score)),
                "responses" | "respondents" => Some(whole(figures.double(&format!("m.{scalar}")))),
                "response_rate" => Some(whole(figures.ratio("m.respondents", "m.asked"))),
                "score_last" => Some(figures.per_period(
                    &rows,
                    " WHERE m.per_value = 0 AND m.overall = 0",
                    Pick::Last(score),
                    "figure",
                )),
                _ => None,
            }
        }
    };
    let query = match query {
        Some(query) => query,
        None if scalar == "dau_mau_mean" => {
            return Err(format!(
                "it reads `{}.dau_mau_mean`, a mean of 30 daily ratios whose order of addition SQL \
                 does not fix, so its last bits could differ from the engine's: `tenure run` on a \
                 connection computes it",
                reference.metric
            ));
        }
        None => return Err(unknown()),
    };
    ctes.push((name.to_string(), query));
    Ok(ctes)
}

/// Expressions over a metric's rows `m`, in one dialect.
struct Figures<'a> {
    dialect: &'a dyn Dialect,
}

/// Which row of a per-period table a figure reads.
enum Pick {
    /// The last complete period.
    Last(String),
    /// The first complete period.
    First(String),
    /// Summed over the complete periods: an exact integer sum and the figure from it
    /// (`{sum}` in the second stands for the sum).
    Pooled(Vec<(&'static str, String)>, String),
}

impl Figures<'_> {
    fn double(&self, value: &str) -> String {
        self.dialect.to_double(value)
    }

    fn number(&self, value: f64) -> String {
        if value.is_finite() {
            self.double(&format!("{value:?}"))
        } else {
            self.null()
        }
    }

    /// No figure, typed as one.
    fn null(&self) -> String {
        self.dialect.typed_null(false)
    }

    /// `numerator ÷ denominator` in double precision, null where the denominator is zero.
    fn ratio(&self, numerator: &str, denominator: &str) -> String {
        format!(
            "CASE WHEN {denominator} = 0 THEN NULL ELSE {} / {} END",
            self.double(numerator),
            self.double(denominator)
        )
    }

    /// Micro-units as money.
    fn money(&self, micros: &str) -> String {
        format!("({} / 1000000.0)", self.double(micros))
    }

    /// The query of a per-period table's figure: rows `m` of relation `rows` (those of
    /// `filter`), with the first and last complete periods as `marks`.
    fn per_period(&self, rows: &str, filter: &str, pick: Pick, column: &str) -> String {
        let marks = format!(
            "(SELECT min(CASE WHEN m.complete THEN m.period END) AS first_period, \
             max(CASE WHEN m.complete THEN m.period END) AS last_period FROM {rows} AS m{filter}) AS marks"
        );
        let figure = match pick {
            Pick::Last(value) => format!("max(CASE WHEN m.period = marks.last_period THEN {value} END)"),
            Pick::First(value) => format!("max(CASE WHEN m.period = marks.first_period THEN {value} END)"),
            Pick::Pooled(sums, figure) => {
                let mut figure = figure;
                for (name, value) in sums {
                    figure = figure.replace(
                        &format!("{{{name}}}"),
                        &format!("sum(CASE WHEN m.complete THEN {value} ELSE 0 END)"),
                    );
                }
                // No complete period: no figure (a sum over nothing is zero in some engines).
                format!("CASE WHEN max(marks.last_period) IS NULL THEN NULL ELSE {figure} END")
            }
        };
        format!("SELECT {figure} AS {column} FROM {rows} AS m CROSS JOIN {marks}{filter}")
    }
}

/// A revenue metric's figure (docs/config.md, `type = "revenue"`, "Scalars").
fn revenue_figure(f: &Figures<'_>, scalar: &str, windowed: bool) -> Option<Pick> {
    let retained = "m.start_micros - m.churned_micros - m.contraction_micros";
    let net = format!("{retained} + m.expansion_micros");
    let pooled = |numerator: &str, denominator: &str| {
        Pick::Pooled(
            vec![
                ("numerator", numerator.to_string()),
                ("denominator", denominator.to_string()),
            ],
            f.ratio("{numerator}", "{denominator}"),
        )
    };
    let movement = |figure: &str| -> Option<(String, bool)> {
        Some(match figure {
            "start" | "new" | "expansion" | "contraction" | "churned" | "reactivation" | "end" => {
                (format!("m.{figure}_micros"), true)
            }
            "customers_start" | "customers_churned" | "customers_end" => (format!("m.{figure}"), false),
            _ => return None,
        })
    };
    let as_figure = |(value, money): (String, bool)| match money {
        true => f.money(&value),
        false => f.double(&value),
    };
    Some(match scalar {
        "nrr" => pooled(&net, "m.start_micros"),
        "grr" => pooled(retained, "m.start_micros"),
        "nrr_last" => Pick::Last(f.ratio(&net, "m.start_micros")),
        "grr_last" => Pick::Last(f.ratio(retained, "m.start_micros")),
        "nrr_window" if windowed => Pick::Last(f.ratio("m.window_now_micros", "m.window_base_micros")),
        "nrr_window" => Pick::Last(f.null()),
        "revenue_churn_rate" => pooled("m.churned_micros + m.contraction_micros", "m.start_micros"),
        "customer_churn_rate" => pooled("m.customers_churned", "m.customers_start"),
        "customer_churn_rate_last" => Pick::Last(f.ratio("m.customers_churned", "m.customers_start")),
        "mrr_last" => Pick::Last(f.money("m.end_micros")),
        "customers_last" => Pick::Last(f.double("m.customers_end")),
        "arpa_last" => Pick::Last(arpa(f)),
        "start" | "customers_start" => Pick::First(as_figure(movement(scalar)?)),
        "end" | "customers_end" => Pick::Last(as_figure(movement(scalar)?)),
        _ => match scalar.strip_suffix("_last") {
            Some(figure) => Pick::Last(as_figure(movement(figure)?)),
            None => {
                let (value, money) = movement(scalar)?;
                let sum = match money {
                    true => f.money("{sum}"),
                    false => f.double("{sum}"),
                };
                Pick::Pooled(vec![("sum", value)], sum)
            }
        },
    })
}

/// ARPA of a revenue row: its MRR per paying customer, null without one.
fn arpa(f: &Figures<'_>) -> String {
    format!(
        "CASE WHEN m.customers_end = 0 THEN NULL ELSE {} / {} END",
        f.money("m.end_micros"),
        f.double("m.customers_end")
    )
}

/// A CRR metric's figure: pooled over the complete periods, or of the last one.
fn crr_figure(f: &Figures<'_>, scalar: &str) -> Option<Pick> {
    Some(match scalar {
        "crr" => Pick::Pooled(
            vec![
                ("retained", "m.end_e - m.new_n".to_string()),
                ("starts", "m.start_s".to_string()),
            ],
            f.ratio("{retained}", "{starts}"),
        ),
        "crr_last" => Pick::Last(f.ratio("m.end_e - m.new_n", "m.start_s")),
        _ => return None,
    })
}

/// A lifecycle metric's count in its last complete period.
fn lifecycle_figure(f: &Figures<'_>, scalar: &str) -> Option<Pick> {
    let count = match scalar {
        "active_last" => "m.new_count + m.returning_count + m.resurrecting_count",
        "new_last" => "m.new_count",
        "returning_last" => "m.returning_count",
        "resurrecting_last" => "m.resurrecting_count",
        "dormant_last" => "m.dormant_count",
        _ => return None,
    };
    Some(Pick::Last(f.double(count)))
}

/// A win-back table's figure: the rate pooled over the complete periods, or the last one's.
fn winback_figure(f: &Figures<'_>, scalar: &str) -> Option<Pick> {
    let rate = f.ratio("m.returned_count", "m.dormant_count");
    Some(match scalar {
        "rate" => Pick::Pooled(
            vec![
                ("returned", "m.returned_count".to_string()),
                ("dormant", "m.dormant_count".to_string()),
            ],
            f.ratio("{returned}", "{dormant}"),
        ),
        "rate_last" => Pick::Last(rate),
        "dormant_last" => Pick::Last(f.double("m.dormant_count")),
        "returned_last" => Pick::Last(f.double("m.returned_count")),
        _ => return None,
    })
}

/// A retention table's total-row figure: every cohort row summed, eligible members only.
fn retention_figure(f: &Figures<'_>, mode: &RetentionMode, scalar: &str) -> Option<String> {
    let sum = |column: String| format!("coalesce(sum({column}), 0)");
    if scalar == "size" {
        return Some(f.double(&sum("m.size".to_string())));
    }
    let (figure, cell) = scalar.split_once('_')?;
    let cells: Vec<String> = match mode {
        RetentionMode::NDay(periods) | RetentionMode::Unbounded(periods) => {
            periods.iter().map(u32::to_string).collect()
        }
        RetentionMode::Bracket(brackets) => brackets.iter().map(|(a, b)| format!("{a}_{b}")).collect(),
    };
    let index = cells.iter().position(|c| c == cell)?;
    let retained = sum(format!("m.retained_eligible_{index}"));
    let eligible = sum(format!("m.eligible_{index}"));
    Some(match figure {
        "rate" => f.ratio(&retained, &eligible),
        "retained" => f.double(&retained),
        "eligible" => f.double(&eligible),
        _ => return None,
    })
}

/// An activation table's total-row figure, from the row of all cohorts (and all values).
fn activation_figure(f: &Figures<'_>, scalar: &str, total: &str) -> Option<String> {
    let of_total = |column: &str| format!("max(CASE WHEN {total} THEN m.{column} END)");
    let count = |column: &str| f.double(&format!("coalesce({}, 0)", of_total(column)));
    Some(match scalar {
        "size" => count("size"),
        "activated" => count("activated_eligible"),
        "eligible" => count("eligible"),
        "rate" => f.ratio(&of_total("activated_eligible"), &of_total("eligible")),
        "median_days" => format!("({} / 86400000000.0)", f.double(&of_total("median_delay_us"))),
        _ => return None,
    })
}

/// A stickiness figure: of the last day (`part` 0), or of the last complete period (`part` 1).
fn stickiness_figure(f: &Figures<'_>, scalar: &str, at_least: Option<u32>) -> Option<String> {
    let of_day = |column: &str| {
        format!("max(CASE WHEN m.part = 0 AND m.at_index = marks.last_day THEN m.{column} END)")
    };
    Some(match scalar {
        "dau_last" | "wau_last" | "mau_last" => f.double(&of_day(&scalar[..3])),
        "dau_mau_last" => f.ratio(&of_day("dau"), &of_day("mau")),
        "share_at_least_last" => {
            let Some(at_least) = at_least else {
                return Some(f.null());
            };
            let in_period = "m.part = 1 AND m.at_index = marks.last_period";
            f.ratio(
                &format!(
                    "sum(CASE WHEN {in_period} AND m.days_count >= {at_least} THEN m.entities ELSE 0 END)"
                ),
                &format!("sum(CASE WHEN {in_period} THEN m.entities ELSE 0 END)"),
            )
        }
        _ => return None,
    })
}

/// The statement of a subscription-form LTV over revenue metric `revenue`'s statement: one row
/// of `arpa` (MRR per customer in its last complete period), `churn_rate` (customers churned ÷
/// customers at start, pooled over the last `churn_window` complete periods) and `value` (ARPA ×
/// margin ÷ churn rate), as docs/config.md defines `type = "ltv"`.
pub(crate) fn subscription_ltv(
    plan: &Plan,
    revenue: &str,
    churn_window: u32,
    margin: f64,
    dialect: &dyn Dialect,
) -> Result<String, String> {
    let f = Figures { dialect };
    let (filter, mut ctes) = revenue_rows(plan, revenue, dialect)?;
    ctes.push((
        "recent".to_string(),
        format!(
            "SELECT m.customers_start AS customers_start, m.customers_churned AS customers_churned, \
             row_number() OVER (ORDER BY m.period DESC) AS back FROM {REVENUE_ROWS} AS m WHERE m.complete{}",
            filter.replace(" WHERE", " AND")
        ),
    ));
    ctes.push((
        "churn".to_string(),
        format!(
            "SELECT {} AS churn_rate FROM recent WHERE back <= {churn_window}",
            f.ratio(
                "coalesce(sum(customers_churned), 0)",
                "coalesce(sum(customers_start), 0)"
            )
        ),
    ));
    let value = format!(
        "CASE WHEN churn.churn_rate > 0 THEN arpa.arpa * {} / churn.churn_rate END",
        f.number(margin)
    );
    Ok(crate::input::with(
        &ctes,
        &format!(
            "SELECT arpa.arpa AS arpa, churn.churn_rate AS churn_rate, {value} AS value\nFROM arpa CROSS JOIN churn"
        ),
        dialect,
    ))
}

/// The statement of a payback over revenue metric `revenue`'s statement: one row of `arpa` and
/// `value`, CAC ÷ (ARPA × margin) in periods of the revenue metric's grain, null unless the
/// margin per period is positive (docs/config.md, `type = "payback"`).
pub(crate) fn payback(
    plan: &Plan,
    revenue: &str,
    cac: f64,
    margin: f64,
    dialect: &dyn Dialect,
) -> Result<String, String> {
    let f = Figures { dialect };
    let (_, ctes) = revenue_rows(plan, revenue, dialect)?;
    let profit = format!("arpa.arpa * {}", f.number(margin));
    Ok(crate::input::with(
        &ctes,
        &format!(
            "SELECT arpa.arpa AS arpa, CASE WHEN {profit} > 0 THEN {} / ({profit}) END AS value\nFROM arpa",
            f.number(cac)
        ),
        dialect,
    ))
}

/// A named CTE: its name and its query.
type Cte = (String, String);

/// The CTE of a derived metric's revenue rows.
const REVENUE_ROWS: &str = "revenue_rows";

/// CTEs of revenue metric `revenue`'s rows ([`REVENUE_ROWS`]) and `arpa` (its ARPA in the last
/// complete period), and the filter of its whole-table rows.
fn revenue_rows(
    plan: &Plan,
    revenue: &str,
    dialect: &dyn Dialect,
) -> Result<(&'static str, Vec<Cte>), String> {
    let f = Figures { dialect };
    let Some(MetricKind::Revenue(metric)) = plan.metrics.iter().find(|m| m.name == revenue).map(|m| &m.kind)
    else {
        return Err(format!("metric `{revenue}` is not a revenue metric"));
    };
    let filter = if metric.by.is_empty() {
        ""
    } else {
        " WHERE m.overall = 1"
    };
    let arpa = f.per_period(REVENUE_ROWS, filter, Pick::Last(arpa(&f)), "arpa");
    Ok((
        filter,
        vec![
            metric_rows(plan, revenue, REVENUE_ROWS, dialect)?,
            ("arpa".to_string(), arpa),
        ],
    ))
}

/// A survey row's score (docs/config.md, `type = "survey"`): NPS (positive − negative) ÷
/// responses × 100, CSAT positive ÷ responses, CES the mean score; null without responses.
fn survey_score(f: &Figures<'_>, scale: SurveyScale) -> String {
    let numerator = match scale {
        SurveyScale::Nps => format!("({} - {})", f.double("m.positive"), f.double("m.negative")),
        SurveyScale::Csat { .. } => f.double("m.positive"),
        SurveyScale::Ces => f.double("m.score_sum"),
    };
    let scaled = match scale {
        SurveyScale::Nps => " * 100.0",
        _ => "",
    };
    format!(
        "CASE WHEN m.responses = 0 THEN NULL ELSE {numerator} / {}{scaled} END",
        f.double("m.responses")
    )
}
