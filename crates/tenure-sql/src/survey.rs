//! `type = "survey"`: NPS, CSAT or CES from response events, overall and per period, and per
//! breakdown value with `by` (docs/config.md, `type = "survey"`).

use tenure_plan::{Expr, Field, Plan, Survey};

use crate::calendar::{date_period, row_period};
use crate::expr::row_sql;
use crate::input::{Amount, dated_rows, with};
use crate::{Dialect, SegmentLabels, breakdown};

/// The figures over relation `met` (one row per answer, `is_answer` 1, and per ask, `is_ask`
/// 1), in the columns the reader expects; `asked` is null without an ask event. With follow-ups
/// allowed `within` microseconds (`met` then has each answer's `delay`), also `followed_up`
/// and `follow_up_median_micros`.
fn figures(asked: bool, within: Option<i64>, dialect: &dyn Dialect) -> String {
    let asked = match asked {
        true => "count(DISTINCT CASE WHEN is_ask = 1 THEN entity END)",
        false => "NULL",
    };
    let follow_up = match within {
        Some(within) => {
            let delays = "CASE WHEN answer = -1 THEN delay END";
            format!(
                ", sum(CASE WHEN answer = -1 AND delay <= {within} THEN 1 ELSE 0 END) AS followed_up, \
                 CASE WHEN count({delays}) = 0 THEN NULL ELSE {} END AS follow_up_median_micros",
                dialect.median(delays)
            )
        }
        None => String::new(),
    };
    format!(
        "count(valid_score) AS responses, \
         count(DISTINCT CASE WHEN valid_score IS NOT NULL THEN entity END) AS respondents, \
         sum(CASE WHEN is_answer = 1 AND valid_score IS NULL THEN 1 ELSE 0 END) AS invalid, \
         sum(CASE WHEN answer = 1 THEN 1 ELSE 0 END) AS positive, \
         sum(CASE WHEN answer = 0 THEN 1 ELSE 0 END) AS neutral, \
         sum(CASE WHEN answer = -1 THEN 1 ELSE 0 END) AS negative, \
         CAST(coalesce(sum(valid_score), 0) AS BIGINT) AS score_sum, \
         {asked} AS asked{follow_up}"
    )
}

const COLUMNS: [&str; 8] = [
    "responses",
    "respondents",
    "invalid",
    "positive",
    "neutral",
    "negative",
    "score_sum",
    "asked",
];

/// The counts of a survey wave, as the statement names them.
pub(crate) const WAVE_COLUMNS: [&str; 7] = [
    "wave_entities",
    "wave_before_positive",
    "wave_before_negative",
    "wave_before_score_sum",
    "wave_now_positive",
    "wave_now_negative",
    "wave_now_score_sum",
];

pub(crate) fn statement(
    plan: &Plan,
    survey: &Survey,
    dialect: &dyn Dialect,
    labels: Option<&SegmentLabels>,
) -> Result<String, String> {
    if survey.cohort.is_some() {
        return Err("a survey per cohort is not translated to SQL yet".to_string());
    }
    if survey.revenue_bands.is_some() {
        return Err("a survey by revenue band is not translated to SQL yet".to_string());
    }
    let Expr::Field(Field::Prop(column)) = &survey.score else {
        return Err("a `score` other than a property column is not translated to SQL yet".to_string());
    };
    let mut ctes = dated_rows(plan, dialect)?;
    let response = row_sql(&plan.events[survey.response].filter, dialect)?;
    let period = match survey.grain {
        Some(grain) => row_period(plan, grain, dialect),
        None => "0".to_string(),
    };
    let (low, high) = survey.scale.range();
    let (positive, negative) = survey.scale.thresholds();
    let score = Amount::of(column, dialect).number();
    // Each answer (a whole number on the scale is valid: 1 positive, 0 neutral, -1 negative),
    // and each ask.
    let valid_score = format!(
        "CASE WHEN {score} = floor({score}) AND {score} >= {low} AND {score} <= {high} THEN {score} END"
    );
    let answers = format!(
        "SELECT entity, {period} AS period, {valid_score} AS valid_score FROM dated_rows CROSS JOIN as_of \
         WHERE dated_rows.local_day <= as_of.as_of AND ({response})"
    );
    let (answers, delay, ask_delay) = match survey.follow_up {
        None => (answers, "", String::new()),
        Some((event, _)) => {
            // Each answer's time to the entity's first follow-up at or after it.
            let follow_up = row_sql(&plan.events[event].filter, dialect)?;
            ctes.push((
                "answers".to_string(),
                format!(
                    "SELECT row_number() OVER (ORDER BY entity, time) AS answer_id, entity, time, {period} AS period, \
                     {valid_score} AS valid_score FROM dated_rows CROSS JOIN as_of \
                     WHERE dated_rows.local_day <= as_of.as_of AND ({response})"
                ),
            ));
            ctes.push((
                "follow_ups".to_string(),
                format!(
                    "SELECT entity AS follow_entity, time AS follow_time FROM dated_rows CROSS JOIN as_of \
                     WHERE dated_rows.local_day <= as_of.as_of AND ({follow_up})"
                ),
            ));
            ctes.push((
                "answer_delays".to_string(),
                format!(
                    "SELECT a.answer_id AS delayed_id, min(CASE WHEN f.follow_time >= a.time THEN {} END) AS delay \
                     FROM answers AS a LEFT JOIN follow_ups AS f ON f.follow_entity = a.entity GROUP BY a.answer_id",
                    dialect.micros_between("a.time", "f.follow_time")
                ),
            ));
            // A double, as the asks' null delay is: whole microseconds stay exact.
            (
                format!(
                    "SELECT a.entity AS entity, a.period AS period, a.valid_score AS valid_score, {} AS delay \
                     FROM answers AS a LEFT JOIN answer_delays AS d ON d.delayed_id = a.answer_id",
                    dialect.to_double("d.delay")
                ),
                ", delay",
                format!(", {} AS delay", dialect.typed_null(false)),
            )
        }
    };
    let mut met = format!(
        "SELECT entity, period, 1 AS is_answer, 0 AS is_ask, valid_score, CASE WHEN valid_score >= {positive} \
         THEN 1 WHEN valid_score <= {negative} THEN -1 WHEN valid_score IS NOT NULL THEN 0 END AS answer{delay} \
         FROM ({answers}) AS scored"
    );
    if let Some(event) = survey.asked {
        let filter = row_sql(&plan.events[event].filter, dialect)?;
        met.push_str(&format!(
            "\n  UNION ALL\n  SELECT entity, {period} AS period, 0 AS is_answer, 1 AS is_ask, {} AS valid_score, \
             NULL AS answer{ask_delay} FROM dated_rows CROSS JOIN as_of \
             WHERE dated_rows.local_day <= as_of.as_of AND ({filter})",
            dialect.typed_null(false)
        ));
    }
    let by = survey.by.len();
    let keys = breakdown::keys(by);
    if by == 0 {
        ctes.push(("met".to_string(), met));
    } else {
        let breakdown = breakdown::join(plan, &survey.by, "rows_met.entity", dialect, labels)?;
        ctes.push(("rows_met".to_string(), met));
        ctes.extend(breakdown.ctes);
        ctes.push((
            "met".to_string(),
            format!(
                "SELECT rows_met.entity AS entity, period, is_answer, is_ask, valid_score, answer{delay}{} \
                 FROM rows_met{}",
                breakdown.columns, breakdown.joins
            ),
        ));
    }
    // With waves: each entity's latest answer on the scale per period, paired with its latest
    // of the period before.
    let waves = survey.waves && survey.grain.is_some();
    if waves {
        if by > 0 {
            return Err("`waves` with `by` is not translated to SQL yet".to_string());
        }
        ctes.push((
            "wave_answers".to_string(),
            format!(
                "SELECT entity, period, valid_score, CASE WHEN valid_score >= {positive} THEN 1 \
                 WHEN valid_score <= {negative} THEN -1 ELSE 0 END AS answer, row_number() OVER \
                 (PARTITION BY entity, period ORDER BY time DESC, valid_score DESC) AS latest_rank \
                 FROM (SELECT entity, time, {period} AS period, {valid_score} AS valid_score FROM dated_rows \
                 CROSS JOIN as_of WHERE dated_rows.local_day <= as_of.as_of AND ({response})) AS timed \
                 WHERE valid_score IS NOT NULL"
            ),
        ));
        ctes.push((
            "wave_pairs".to_string(),
            "SELECT n.period AS wave_period, n.answer AS now_answer, n.valid_score AS now_score, \
             b.answer AS before_answer, b.valid_score AS before_score FROM wave_answers AS n \
             JOIN wave_answers AS b ON b.entity = n.entity AND b.period = n.period - 1 \
             WHERE n.latest_rank = 1 AND b.latest_rank = 1"
                .to_string(),
        ));
        let mut sums = vec!["count(*) AS wave_entities".to_string()];
        for side in ["before", "now"] {
            sums.push(format!(
                "sum(CASE WHEN {side}_answer = 1 THEN 1 ELSE 0 END) AS wave_{side}_positive"
            ));
            sums.push(format!(
                "sum(CASE WHEN {side}_answer = -1 THEN 1 ELSE 0 END) AS wave_{side}_negative"
            ));
            sums.push(format!(
                "CAST(sum({side}_score) AS BIGINT) AS wave_{side}_score_sum"
            ));
        }
        ctes.push((
            "wave_counts".to_string(),
            format!(
                "SELECT wave_period, {} FROM wave_pairs GROUP BY wave_period",
                sums.join(", ")
            ),
        ));
    }
    let wave_zeros: String = if waves {
        WAVE_COLUMNS.iter().map(|c| format!(", 0 AS {c}")).collect()
    } else {
        String::new()
    };
    let within = survey
        .follow_up
        .map(|(_, hours)| i64::from(hours) * 3_600_000_000);
    let figures = figures(survey.asked.is_some(), within, dialect);
    let nulls: String = (0..by).map(|index| format!(", NULL AS by_{index}")).collect();
    let mut parts = vec![format!(
        "SELECT 0 AS per_value, 1 AS overall, 0 AS period, 1 = 1 AS complete, {}{nulls}{wave_zeros} FROM met",
        figures
    )];
    if by > 0 {
        parts.push(format!(
            "SELECT 1 AS per_value, 1 AS overall, 0 AS period, 1 = 1 AS complete, {}{keys} FROM met GROUP BY {}",
            figures,
            &keys[2..]
        ));
    }
    if let Some(grain) = survey.grain {
        // Every period from the first with an answer or an ask through the period of as_of.
        ctes.push((
            "bounds".to_string(),
            format!(
                "SELECT coalesce((SELECT CASE WHEN count(*) = 0 THEN NULL ELSE min(period) END FROM met), {last}) \
                 AS first_period, {last} AS last_period, {} AS period_after_as_of FROM as_of",
                date_period(plan, grain, &dialect.next_day("as_of"), dialect),
                last = date_period(plan, grain, "as_of", dialect),
            ),
        ));
        ctes.push((
            "periods".to_string(),
            dialect.series("first_period", "last_period", "bounds"),
        ));
        ctes.push((
            "per_period".to_string(),
            format!(
                "SELECT period AS met_period, {} FROM met GROUP BY period",
                figures
            ),
        ));
        let complete = "periods.period < bounds.period_after_as_of AS complete";
        let mut each: Vec<String> = COLUMNS
            .iter()
            .map(|c| match (*c, survey.asked) {
                ("asked", None) => "NULL AS asked".to_string(),
                (c, _) => format!("coalesce(per_period.{c}, 0) AS {c}"),
            })
            .collect();
        if within.is_some() {
            each.push("coalesce(per_period.followed_up, 0) AS followed_up".to_string());
            each.push("per_period.follow_up_median_micros AS follow_up_median_micros".to_string());
        }
        let (wave_columns, wave_join) = if waves {
            let columns: String = WAVE_COLUMNS
                .iter()
                .map(|c| format!(", coalesce(wave_counts.{c}, 0) AS {c}"))
                .collect();
            (
                columns,
                " LEFT JOIN wave_counts ON wave_counts.wave_period = periods.period",
            )
        } else {
            (String::new(), "")
        };
        parts.push(format!(
            "SELECT 0 AS per_value, 0 AS overall, periods.period AS period, {complete}, {}{nulls}{wave_columns}\n  \
             FROM periods CROSS JOIN bounds LEFT JOIN per_period ON per_period.met_period = periods.period{wave_join}",
            each.join(", ")
        ));
        if by > 0 {
            // Each value's periods with any row; the reader fills the others with zeros.
            ctes.push((
                "value_periods".to_string(),
                format!(
                    "SELECT period AS met_period, {}{keys} FROM met GROUP BY period{keys}",
                    figures
                ),
            ));
            let follow_up_columns: &[&str] = match within {
                Some(_) => &["followed_up", "follow_up_median_micros"],
                None => &[],
            };
            let each: Vec<String> = COLUMNS
                .iter()
                .chain(follow_up_columns)
                .map(|c| format!("value_periods.{c} AS {c}"))
                .collect();
            parts.push(format!(
                "SELECT 1 AS per_value, 0 AS overall, periods.period AS period, {complete}, {}{}\n  \
                 FROM periods CROSS JOIN bounds JOIN value_periods ON value_periods.met_period = periods.period",
                each.join(", "),
                keys.replace(", by_", ", value_periods.by_")
            ));
        }
    }
    let query = format!(
        "SELECT * FROM (\n{}\n) AS figures\nORDER BY per_value, overall DESC, period",
        parts.join("\nUNION ALL\n")
    );
    Ok(with(&ctes, &query, dialect))
}
