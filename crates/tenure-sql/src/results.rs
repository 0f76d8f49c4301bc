//! The rows a statement returns, read back into the report's results.
//!
//! Each statement of [`crate::compile`] returns counts (and exact micro-unit sums); the rates,
//! ratios and labels follow by `tenure_plan::figures`, the rules the in-process engine uses too.

use std::collections::BTreeMap;

use tenure_plan::cohort_revenue::{CohortRevenueCell, CohortRevenueCounts, CohortRevenueResult, LastPeriod};
use tenure_plan::derive::{self, OrderFigures};
use tenure_plan::figures::{
    ActiveDays, CrrCounts, DayCounts, FollowUpCounts, Labels, LifecycleCounts, Movements, RowCounts,
    SurveyCounts, SurveyPeriodCounts, UpliftCounts, WaveCounts, WinbackCounts, retention_totals,
};
use tenure_plan::funnel::{
    FunnelCounts, FunnelResult, FunnelRow, FunnelSegmentTotal, FunnelTotal, StepCounts,
};
use tenure_plan::time::period_length;
use tenure_plan::{
    ActivationResult, ActivationRow, ActivationSegmentTotal, ActivationTotal, CrrResult, Field,
    FormulaResult, FormulaRow, FormulaValue, InputSummary, LifecycleResult, Ltv, LtvForm, MetricKind,
    MetricResult, Periods, Plan, RejectReason, RetentionMode, RetentionResult, RetentionRow, Revenue,
    RevenueResult, ScalarValue, Segment, SourceSummary, Stickiness, StickinessResult,
};

/// What an engine returned for one statement: the column names, and each value as the engine
/// writes it in text (`None` for NULL).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rows {
    /// Column names, in order.
    pub columns: Vec<String>,
    /// One entry per row, one value per column.
    pub values: Vec<Vec<Option<String>>>,
}

/// How an attribute's values read in the report: the type of its column where the data lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueType {
    /// Numbers (integers, decimals, floating point).
    Number,
    /// `true` / `false`.
    Bool,
    /// Anything else, as text.
    #[default]
    Text,
}

/// The types of the entity source's attribute columns, by column name; a column not named is
/// text.
pub type AttributeTypes = BTreeMap<String, ValueType>;

/// A statement's rows that do not have the shape the statement gives them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the rows returned for metric `{metric}` are not what its statement selects: {detail}")]
pub struct ShapeError {
    /// The metric.
    pub metric: String,
    /// What was wrong.
    pub detail: String,
}

impl Rows {
    /// Each row, to be read by column name; an error if a row has another number of values
    /// than there are columns.
    pub fn rows(&self) -> Result<Vec<Row<'_>>, String> {
        if let Some(values) = self.values.iter().find(|v| v.len() != self.columns.len()) {
            return Err(format!(
                "a row of {} values under {} columns",
                values.len(),
                self.columns.len()
            ));
        }
        Ok(self
            .values
            .iter()
            .map(|values| Row { rows: self, values })
            .collect())
    }
}

/// One row of [`Rows`], read by column name as an engine writes values in text.
pub struct Row<'a> {
    rows: &'a Rows,
    values: &'a [Option<String>],
}

impl Row<'_> {
    /// The value of `column` as text; `None` for NULL.
    pub fn text(&self, column: &str) -> Result<Option<&str>, String> {
        let index = self
            .rows
            .columns
            .iter()
            .position(|c| c == column)
            .ok_or_else(|| format!("no column `{column}`"))?;
        Ok(self.values.get(index).and_then(|v| v.as_deref()))
    }

    /// The value of `column` as a whole number; `None` for NULL.
    pub fn whole(&self, column: &str) -> Result<Option<i128>, String> {
        let Some(text) = self.text(column)? else {
            return Ok(None);
        };
        // Decimal sums may come back with a zero fraction (`12.000000`).
        let whole = text.split_once('.').map_or(text, |(whole, fraction)| {
            if fraction.bytes().all(|b| b == b'0') {
                whole
            } else {
                text
            }
        });
        whole
            .parse()
            .map(Some)
            .map_err(|_| format!("`{column}` holds `{text}`, not a whole number"))
    }

    /// A whole number; NULL is 0, as SQL's `sum` over no rows is NULL.
    fn integer(&self, column: &str) -> Result<i128, String> {
        Ok(self.whole(column)?.unwrap_or(0))
    }

    fn count(&self, column: &str) -> Result<u64, String> {
        let value = self.integer(column)?;
        u64::try_from(value).map_err(|_| format!("`{column}` holds {value}, not a count"))
    }

    fn index(&self, column: &str) -> Result<i32, String> {
        let value = self.integer(column)?;
        i32::try_from(value).map_err(|_| format!("`{column}` holds {value}, out of range"))
    }

    /// The value of `column` as a number; `None` for NULL (and NaN).
    pub fn number(&self, column: &str) -> Result<Option<f64>, String> {
        match self.text(column)? {
            None => Ok(None),
            Some(text) => match text {
                "NaN" | "nan" => Ok(None),
                _ => text
                    .parse()
                    .map(Some)
                    .map_err(|_| format!("`{column}` holds `{text}`, not a number")),
            },
        }
    }

    /// The breakdown values of a cohort row (`by_<i>`), typed as their columns are.
    fn segment(&self, by: &[Field], types: &AttributeTypes) -> Result<Option<Segment>, String> {
        if by.is_empty() {
            return Ok(None);
        }
        let mut values = Vec::with_capacity(by.len());
        for (index, field) in by.iter().enumerate() {
            let column = format!("by_{index}");
            let value_type = match field {
                Field::Attr(name) => types.get(name).copied().unwrap_or_default(),
                Field::Did(_) => ValueType::Bool,
                _ => ValueType::Text,
            };
            let value = match (self.text(&column)?, value_type) {
                (None, _) => ScalarValue::Null,
                (Some(text), ValueType::Number) => ScalarValue::Number(
                    text.parse()
                        .map_err(|_| format!("`{column}` holds `{text}`, not a number"))?,
                ),
                (Some(_), ValueType::Bool) => ScalarValue::Bool(self.flag(&column)?),
                (Some(text), ValueType::Text) => ScalarValue::String(text.to_string()),
            };
            values.push((field.to_string(), value));
        }
        Ok(Some(Segment(values)))
    }

    /// The value of `column` as a truth value, as each engine spells one; `None` for NULL.
    pub fn truth(&self, column: &str) -> Result<Option<bool>, String> {
        match self.text(column)? {
            None => Ok(None),
            Some("1" | "t" | "true" | "TRUE" | "True") => Ok(Some(true)),
            Some("0" | "f" | "false" | "FALSE" | "False") => Ok(Some(false)),
            Some(other) => Err(format!("`{column}` holds {:?}, not a truth value", Some(other))),
        }
    }

    fn flag(&self, column: &str) -> Result<bool, String> {
        self.truth(column)?
            .ok_or_else(|| format!("`{column}` holds None, not a truth value"))
    }
}

/// The result of metric `name` from the rows its statement returned.
/// `types` gives the attribute columns' types, for the values of a breakdown.
pub fn read_result(
    plan: &Plan,
    name: &str,
    rows: &Rows,
    types: &AttributeTypes,
) -> Result<MetricResult, ShapeError> {
    let shape_error = |detail: String| ShapeError {
        metric: name.to_string(),
        detail,
    };
    let metric = plan
        .metrics
        .iter()
        .find(|m| m.name == name)
        .ok_or_else(|| shape_error("the plan has no such metric".to_string()))?;
    let each = rows.rows().map_err(shape_error)?;
    let week_start = plan.project.week_start;
    let result = match &metric.kind {
        MetricKind::Retention(retention) => {
            let grain = plan.cohorts[retention.cohort].grain;
            let labels = Labels { grain, week_start };
            let by = &plan.cohorts[retention.cohort].by;
            retention_result(retention, labels, by, types, &each).map(MetricResult::Retention)
        }
        MetricKind::Activation(activation) => {
            let grain = plan.cohorts[activation.cohort].grain;
            let labels = Labels { grain, week_start };
            let by = &plan.cohorts[activation.cohort].by;
            activation_result(activation, labels, by, types, &each).map(MetricResult::Activation)
        }
        MetricKind::Revenue(revenue) => {
            let labels = Labels {
                grain: revenue.grain,
                week_start,
            };
            revenue_result(labels, revenue, types, &each).map(MetricResult::Revenue)
        }
        MetricKind::Funnel(funnel) => {
            let cohort = &plan.cohorts[funnel.cohort];
            let labels = Labels {
                grain: cohort.grain,
                week_start,
            };
            let names: Vec<String> = funnel
                .steps
                .iter()
                .map(|event| plan.events[*event].name.clone())
                .collect();
            funnel_result(funnel, &names, labels, &cohort.by, types, &each).map(MetricResult::Funnel)
        }
        MetricKind::CohortRevenue(metric) => {
            let cohort = &plan.cohorts[metric.cohort];
            let labels = Labels {
                grain: cohort.grain,
                week_start,
            };
            cohort_revenue_result(&cohort.name, labels, &cohort.by, types, &each)
                .map(MetricResult::CohortRevenue)
        }
        MetricKind::Lifecycle(lifecycle) => {
            let labels = Labels {
                grain: lifecycle.grain,
                week_start,
            };
            lifecycle_result(labels, &lifecycle.by, types, &each).map(MetricResult::Lifecycle)
        }
        MetricKind::Stickiness(stickiness) => {
            let labels = Labels {
                grain: stickiness.grain,
                week_start,
            };
            stickiness_result(stickiness, labels, &each).map(MetricResult::Stickiness)
        }
        MetricKind::Crr(crr) => {
            let labels = Labels {
                grain: crr.grain,
                week_start,
            };
            crr_result(labels, &each).map(MetricResult::Crr)
        }
        MetricKind::Formula(formula) => {
            formula_result(plan, formula, week_start, &each).map(MetricResult::Formula)
        }
        MetricKind::Survey(survey) => {
            survey_result(survey, week_start, types, &each).map(MetricResult::Survey)
        }
        MetricKind::Winback(winback) => {
            let labels = Labels {
                grain: winback.grain,
                week_start,
            };
            winback_result(winback, labels, types, &each).map(MetricResult::Winback)
        }
        MetricKind::Uplift(uplift) => match plan.uplift_retention(uplift) {
            Some(retention) => {
                let cohort = &plan.cohorts[retention.cohort];
                let labels = Labels {
                    grain: cohort.grain,
                    week_start,
                };
                uplift_result(uplift, retention, labels, &cohort.by, types, &each).map(MetricResult::Uplift)
            }
            None => Err(format!(
                "retention metric `{}` is not in the plan",
                uplift.retention
            )),
        },
        MetricKind::Ltv(Ltv {
            form: LtvForm::Orders { cost_to_serve, .. },
            margin,
        }) => orders_ltv(&each, *margin, *cost_to_serve).map(MetricResult::Ltv),
        other => Err(format!("a `{}` metric has no statement", other.type_name())),
    };
    result.map_err(shape_error)
}

fn retention_result(
    metric: &tenure_plan::Retention,
    labels: Labels,
    by: &[Field],
    types: &AttributeTypes,
    rows: &[Row<'_>],
) -> Result<RetentionResult, String> {
    let (columns, periods) = match &metric.mode {
        RetentionMode::NDay(periods) | RetentionMode::Unbounded(periods) => {
            (periods.len(), Periods::Offsets(periods.clone()))
        }
        RetentionMode::Bracket(brackets) => (
            brackets.len(),
            Periods::Brackets(brackets.iter().map(|(a, b)| [*a, *b]).collect()),
        ),
    };
    let valued = metric.value.is_some();
    let mut cohorts = Vec::with_capacity(rows.len());
    let mut counts = Vec::with_capacity(rows.len());
    for row in rows {
        let column_counts = |prefix: &str| -> Result<Vec<u64>, String> {
            (0..columns)
                .map(|column| row.count(&format!("{prefix}_{column}")))
                .collect()
        };
        let column_micros = |prefix: &str| -> Result<Vec<i128>, String> {
            (0..columns)
                .map(|column| row.integer(&format!("{prefix}_{column}")))
                .collect()
        };
        let (retained, eligible) = (column_counts("retained")?, column_counts("eligible")?);
        let members = row.count("size")?;
        let period = row.index("cohort_period")?;
        let segment = row.segment(by, types)?;
        let mut cohort = RetentionRow::from_counts(
            labels.of(period),
            segment.clone(),
            members,
            retained,
            eligible.clone(),
        );
        let mut money = None;
        if valued {
            let revenue = column_micros("revenue_micros")?;
            cohort = cohort.with_money(&revenue, &column_micros("cumulative_micros")?);
            money = Some((revenue, column_micros("eligible_cumulative_micros")?));
        }
        counts.push((
            segment,
            RowCounts {
                size: members,
                retained_eligible: column_counts("retained_eligible")?,
                eligible,
                money,
            },
        ));
        cohorts.push((period, cohort));
    }
    let cohorts = in_engine_order(cohorts, |row| &row.segment);
    let (total, totals) = retention_totals(&counts, columns, valued, !by.is_empty());
    let mut result = RetentionResult {
        kind: "retention",
        mode: metric.mode.as_str(),
        unit: metric.unit.as_str(),
        align: metric.align.as_str(),
        periods,
        cohorts,
        total,
        totals,
        benchmark: None,
    };
    result.benchmark = metric.benchmark.as_ref().map(|norm| norm.judge(&result));
    Ok(result)
}

fn activation_result(
    metric: &tenure_plan::Activation,
    labels: Labels,
    by: &[Field],
    types: &AttributeTypes,
    rows: &[Row<'_>],
) -> Result<ActivationResult, String> {
    let mut cohorts = Vec::new();
    let mut total = None;
    let mut totals = Vec::new();
    for row in rows {
        if row.flag("all_cohorts")? {
            let counts = ActivationTotal::from_counts(
                row.count("size")?,
                row.count("activated_eligible")?,
                row.count("eligible")?,
                row.number("median_delay_us")?,
            );
            // With `by`, a total of one breakdown value has its values (`all_values` 0).
            match row.segment(by, types)? {
                Some(segment) if !row.flag("all_values")? => totals.push(ActivationSegmentTotal {
                    segment,
                    total: counts,
                }),
                _ => total = Some(counts),
            }
        } else {
            let period = row.index("cohort_period")?;
            cohorts.push((
                period,
                ActivationRow::from_counts(
                    labels.of(period),
                    row.segment(by, types)?,
                    row.count("size")?,
                    row.count("activated")?,
                    row.count("eligible")?,
                    row.number("median_delay_us")?,
                ),
            ));
        }
    }
    let cohorts = in_engine_order(cohorts, |row| &row.segment);
    Ok(ActivationResult {
        kind: "activation",
        within: metric.within.to_string(),
        cohorts,
        total: total.unwrap_or_else(|| ActivationTotal::from_counts(0, 0, 0, None)),
        totals: (!by.is_empty()).then(|| {
            totals.sort_by(|a, b| a.segment.sort_cmp(&b.segment));
            totals
        }),
    })
}

/// A funnel: rows as activation's (`all_cohorts`, `all_values`), with per step `k`
/// `reached_k`, `reached_eligible_k` and `median_delay_us_k`.
fn funnel_result(
    metric: &tenure_plan::Funnel,
    names: &[String],
    labels: Labels,
    by: &[Field],
    types: &AttributeTypes,
    rows: &[Row<'_>],
) -> Result<FunnelResult, String> {
    let counts_of = |row: &Row<'_>| -> Result<FunnelCounts, String> {
        Ok(FunnelCounts {
            size: row.count("size")?,
            eligible: row.count("eligible")?,
            steps: (0..names.len())
                .map(|k| {
                    Ok(StepCounts {
                        reached: row.count(&format!("reached_{k}"))?,
                        reached_eligible: row.count(&format!("reached_eligible_{k}"))?,
                        median_micros: row.number(&format!("median_delay_us_{k}"))?,
                    })
                })
                .collect::<Result<_, String>>()?,
        })
    };
    let mut cohorts = Vec::new();
    let mut total = None;
    let mut totals = Vec::new();
    for row in rows {
        let counts = counts_of(row)?;
        if row.flag("all_cohorts")? {
            let counted = FunnelTotal::from_counts(names, &counts);
            match row.segment(by, types)? {
                Some(segment) if !row.flag("all_values")? => totals.push(FunnelSegmentTotal {
                    segment,
                    total: counted,
                }),
                _ => total = Some(counted),
            }
        } else {
            let period = row.index("cohort_period")?;
            cohorts.push((
                period,
                FunnelRow::from_counts(labels.of(period), row.segment(by, types)?, names, &counts),
            ));
        }
    }
    totals.sort_by(|a, b| a.segment.sort_cmp(&b.segment));
    Ok(FunnelResult {
        kind: "funnel",
        within: metric.within.to_string(),
        steps: names.to_vec(),
        cohorts: in_engine_order(cohorts, |row| &row.segment),
        total: total.unwrap_or_else(|| {
            FunnelTotal::from_counts(
                names,
                &FunnelCounts {
                    steps: vec![StepCounts::default(); names.len()],
                    ..FunnelCounts::default()
                },
            )
        }),
        totals: (!by.is_empty()).then_some(totals),
    })
}

/// Cohort rows in the engine's order: by period, then by breakdown values
/// ([`Segment::sort_cmp`]: null, booleans, numbers, text).
fn in_engine_order<T>(mut rows: Vec<(i32, T)>, segment: impl Fn(&T) -> &Option<Segment>) -> Vec<T> {
    rows.sort_by(|(a, left), (b, right)| {
        a.cmp(b).then_with(|| match (segment(left), segment(right)) {
            (Some(l), Some(r)) => l.sort_cmp(r),
            _ => std::cmp::Ordering::Equal,
        })
    });
    rows.into_iter().map(|(_, row)| row).collect()
}

/// Revenue retention by cohort: a row with `k` −1 counts a cohort row's members, the others
/// its periods since the start with revenue (the periods without are zeros).
fn cohort_revenue_result(
    cohort: &str,
    labels: Labels,
    by: &[Field],
    types: &AttributeTypes,
    rows: &[Row<'_>],
) -> Result<CohortRevenueResult, String> {
    let mut counts: Vec<(i32, CohortRevenueCounts)> = Vec::new();
    let mut last = None;
    for row in rows {
        let (last_period, after) = (row.index("last_period")?, row.index("period_after_as_of")?);
        last = Some(LastPeriod {
            index: last_period,
            complete: after > last_period,
        });
        let (period, segment) = (row.index("cohort_period")?, row.segment(by, types)?);
        let position = match counts
            .iter()
            .position(|(known, row)| *known == period && row.segment == segment)
        {
            Some(position) => position,
            None => {
                let width = usize::try_from(last_period - period + 1).unwrap_or(0);
                counts.push((
                    period,
                    CohortRevenueCounts {
                        period,
                        segment,
                        size: 0,
                        cells: vec![CohortRevenueCell::default(); width],
                    },
                ));
                counts.len() - 1
            }
        };
        let counts = &mut counts[position].1;
        let k = row.index("k")?;
        if k < 0 {
            counts.size += row.count("members")?;
            continue;
        }
        let cell = usize::try_from(k)
            .ok()
            .and_then(|k| counts.cells.get_mut(k))
            .ok_or_else(|| format!("period {k} since the start is outside the table"))?;
        *cell = CohortRevenueCell {
            revenue: row.integer("revenue_micros")?,
            customers: row.count("customers")?,
            starting_revenue: row.integer("starting_micros")?,
            gross_revenue: row.integer("gross_micros")?,
            starting_customers: row.count("starting_customers")?,
        };
    }
    let rows = in_engine_order(counts, |row| &row.segment);
    // Without a member there is no row, and the table has no period either.
    let last = last.unwrap_or(LastPeriod {
        index: i32::MIN,
        complete: false,
    });
    Ok(CohortRevenueResult::from_counts(
        cohort,
        &rows,
        labels,
        last,
        !by.is_empty(),
    ))
}

/// The revenue table, and with `by` one per breakdown value over the same periods: the rows
/// with `overall` 1 are the whole table's, the others a breakdown value's periods with any
/// movement (the periods without are all zero).
fn revenue_result(
    labels: Labels,
    revenue: &Revenue,
    types: &AttributeTypes,
    rows: &[Row<'_>],
) -> Result<RevenueResult, String> {
    let (windowed, by) = (revenue.window_periods.is_some(), &revenue.by);
    let (overall, groups) = split_tables(
        rows,
        by,
        types,
        |row| {
            Ok(Movements {
                period: row.index("period")?,
                complete: row.flag("complete")?,
                start: row.integer("start_micros")?,
                new: row.integer("new_micros")?,
                expansion: row.integer("expansion_micros")?,
                contraction: row.integer("contraction_micros")?,
                churned: row.integer("churned_micros")?,
                reactivation: row.integer("reactivation_micros")?,
                end: row.integer("end_micros")?,
                customers_start: row.count("customers_start")?,
                customers_churned: row.count("customers_churned")?,
                customers_end: row.count("customers_end")?,
                window_base: if windowed {
                    row.integer("window_base_micros")?
                } else {
                    0
                },
                window_now: if windowed {
                    row.integer("window_now_micros")?
                } else {
                    0
                },
            })
        },
        |m: &Movements| m.period,
    )?;
    let mut result = RevenueResult::from_movements(&overall, labels, windowed);
    if revenue.spread.is_none() {
        // Every row carries the same median (see `revenue::statement`).
        let median_gap = match rows.first() {
            Some(row) => row.number("median_gap")?,
            None => None,
        };
        result.warn_of_billing_gap(median_gap);
    }
    if by.is_empty() || overall.is_empty() {
        return Ok(result);
    }
    let tables = groups.into_iter().map(|(segment, movements)| {
        let every_period: Vec<Movements> = overall
            .iter()
            .map(|all| {
                movements
                    .iter()
                    .find(|m| m.period == all.period)
                    .copied()
                    .unwrap_or(Movements {
                        period: all.period,
                        complete: all.complete,
                        ..Movements::default()
                    })
            })
            .collect();
        RevenueResult::from_movements(&every_period, labels, windowed).into_segment(segment)
    });
    result.segments = Some(tables.collect());
    Ok(result)
}

/// The whole table's periods, and each breakdown value's.
type Tables<T> = (Vec<T>, Vec<(Segment, Vec<T>)>);

/// The rows of a per-period table, read by `read`: those of the whole table (with `overall` 1,
/// or all of them without `by`) in the order of `period`, and each breakdown value's in the
/// engine's order of values.
fn split_tables<T>(
    rows: &[Row<'_>],
    by: &[Field],
    types: &AttributeTypes,
    read: impl Fn(&Row<'_>) -> Result<T, String>,
    period: fn(&T) -> i32,
) -> Result<Tables<T>, String> {
    let mut overall = Vec::new();
    let mut groups: Vec<(Segment, Vec<T>)> = Vec::new();
    for row in rows {
        let figures = read(row)?;
        match row.segment(by, types)? {
            Some(segment) if !row.flag("overall")? => {
                match groups.iter_mut().find(|(known, _)| *known == segment) {
                    Some((_, periods)) => periods.push(figures),
                    None => groups.push((segment, vec![figures])),
                }
            }
            _ => overall.push(figures),
        }
    }
    overall.sort_by_key(period);
    groups.sort_by(|(a, _), (b, _)| a.sort_cmp(b));
    Ok((overall, groups))
}

fn lifecycle_result(
    labels: Labels,
    by: &[Field],
    types: &AttributeTypes,
    rows: &[Row<'_>],
) -> Result<LifecycleResult, String> {
    let (overall, groups) = split_tables(
        rows,
        by,
        types,
        |row| {
            Ok(LifecycleCounts {
                period: row.index("period")?,
                complete: row.flag("complete")?,
                new: row.count("new_count")?,
                returning: row.count("returning_count")?,
                resurrecting: row.count("resurrecting_count")?,
                dormant: row.count("dormant_count")?,
            })
        },
        |m: &LifecycleCounts| m.period,
    )?;
    let segments = (!by.is_empty()).then_some(groups);
    Ok(LifecycleResult::from_counts(&overall, segments, labels))
}

fn winback_result(
    metric: &tenure_plan::Winback,
    labels: Labels,
    types: &AttributeTypes,
    rows: &[Row<'_>],
) -> Result<tenure_plan::WinbackResult, String> {
    let (overall, groups) = split_tables(
        rows,
        &metric.by,
        types,
        |row| {
            Ok(WinbackCounts {
                period: row.index("period")?,
                complete: row.flag("complete")?,
                dormant: row.count("dormant_count")?,
                returned: row.count("returned_count")?,
            })
        },
        |m: &WinbackCounts| m.period,
    )?;
    let segments = (!metric.by.is_empty()).then_some(groups);
    Ok(tenure_plan::WinbackResult::from_counts(
        metric, &overall, segments, labels,
    ))
}

/// The stickiness tables from the day rows (`part` 0) and the period rows (`part` 1, one per
/// period and number of active days with any entity, or one with `days_count` 0).
fn stickiness_result(
    metric: &Stickiness,
    labels: Labels,
    rows: &[Row<'_>],
) -> Result<StickinessResult, String> {
    let mut days = Vec::new();
    let mut periods: Vec<ActiveDays> = Vec::new();
    for row in rows {
        let index = row.index("at_index")?;
        if row.count("part")? == 0 {
            days.push(DayCounts {
                day: index,
                dau: row.count("dau")?,
                wau: row.count("wau")?,
                mau: row.count("mau")?,
            });
            continue;
        }
        if periods.last().is_none_or(|p| p.period != index) {
            periods.push(ActiveDays {
                period: index,
                complete: row.flag("complete")?,
                counts: vec![0; period_length(metric.grain, index).max(0) as usize],
            });
        }
        let Some(period) = periods.last_mut() else {
            continue;
        };
        let days_count = row.count("days_count")? as usize;
        if days_count > 0 {
            let slot = period
                .counts
                .get_mut(days_count - 1)
                .ok_or_else(|| format!("period {index} has no day {days_count}"))?;
            *slot = row.count("entities")?;
        }
    }
    Ok(StickinessResult::from_counts(
        &days,
        &periods,
        metric.at_least,
        labels,
    ))
}

fn crr_result(labels: Labels, rows: &[Row<'_>]) -> Result<CrrResult, String> {
    let counts = rows
        .iter()
        .map(|row| {
            Ok(CrrCounts {
                period: row.index("period")?,
                complete: row.flag("complete")?,
                start: row.count("start_s")?,
                end: row.count("end_e")?,
                new: row.count("new_n")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(CrrResult::from_counts(&counts, labels))
}

/// A survey's figures: the row of every answer (`overall` 1), its periods, then with `by` each
/// value's row of every answer and its periods with any row (the others are zeros).
fn survey_result(
    survey: &tenure_plan::Survey,
    week_start: tenure_plan::WeekStart,
    types: &AttributeTypes,
    rows: &[Row<'_>],
) -> Result<tenure_plan::SurveyResult, String> {
    let counts = |row: &Row<'_>| -> Result<SurveyCounts, String> {
        Ok(SurveyCounts {
            responses: row.count("responses")?,
            respondents: row.count("respondents")?,
            invalid: row.count("invalid")?,
            positive: row.count("positive")?,
            neutral: row.count("neutral")?,
            negative: row.count("negative")?,
            score_sum: row.count("score_sum")?,
            asked: match survey.asked {
                Some(_) => Some(row.count("asked")?),
                None => None,
            },
            follow_up: match survey.follow_up {
                Some(_) => Some(FollowUpCounts {
                    followed: row.count("followed_up")?,
                    median_micros: row.number("follow_up_median_micros")?,
                }),
                None => None,
            },
        })
    };
    let period_of = |row: &Row<'_>, counts: SurveyCounts| -> Result<SurveyPeriodCounts, String> {
        let wave = match survey.waves {
            true => {
                let side = |name: &str| -> Result<SurveyCounts, String> {
                    let entities = row.count("wave_entities")?;
                    let positive = row.count(&format!("wave_{name}_positive"))?;
                    let negative = row.count(&format!("wave_{name}_negative"))?;
                    Ok(SurveyCounts {
                        responses: entities,
                        positive,
                        negative,
                        neutral: entities.saturating_sub(positive + negative),
                        score_sum: row.count(&format!("wave_{name}_score_sum"))?,
                        ..SurveyCounts::default()
                    })
                };
                Some(WaveCounts {
                    before: side("before")?,
                    now: side("now")?,
                })
            }
            false => None,
        };
        Ok(SurveyPeriodCounts {
            period: row.index("period")?,
            complete: row.flag("complete")?,
            counts,
            wave,
        })
    };
    let mut total = None;
    let mut periods: Vec<SurveyPeriodCounts> = Vec::new();
    let mut values: Vec<(Segment, SurveyCounts, Vec<SurveyPeriodCounts>)> = Vec::new();
    for row in rows {
        let counted = counts(row)?;
        let whole = row.flag("overall")?;
        if !row.flag("per_value")? {
            match whole {
                true => total = Some(counted),
                false => periods.push(period_of(row, counted)?),
            }
            continue;
        }
        let segment = row
            .segment(&survey.by, types)?
            .ok_or("a value's row without breakdown values")?;
        let at = match values.iter().position(|(known, _, _)| *known == segment) {
            Some(at) => at,
            None => {
                values.push((segment, SurveyCounts::default(), Vec::new()));
                values.len() - 1
            }
        };
        match whole {
            true => values[at].1 = counted,
            false => values[at].2.push(period_of(row, counted)?),
        }
    }
    let total = total.ok_or("no row of every answer")?;
    periods.sort_by_key(|p| p.period);
    values.sort_by(|a, b| a.0.sort_cmp(&b.0));
    let none = SurveyCounts {
        asked: survey.asked.map(|_| 0),
        follow_up: survey.follow_up.map(|_| FollowUpCounts::default()),
        ..SurveyCounts::default()
    };
    let segments = (!survey.by.is_empty()).then(|| {
        values
            .into_iter()
            .map(|(segment, total, own)| {
                // Every period of the whole survey, zeros where the value has no row.
                let filled = survey.grain.map(|_| {
                    periods
                        .iter()
                        .map(|p| SurveyPeriodCounts {
                            counts: own
                                .iter()
                                .find(|o| o.period == p.period)
                                .map_or(none, |o| o.counts),
                            ..*p
                        })
                        .collect()
                });
                (segment, total, filled)
            })
            .collect()
    });
    let labels = survey.grain.map(|grain| Labels { grain, week_start });
    Ok(tenure_plan::SurveyResult::from_counts(
        survey.scale,
        &total,
        labels.map(|_| periods.as_slice()),
        labels,
        segments,
    ))
}

/// An uplift from its rows: one per cohort row and group value, with the members whose
/// assignments conflict apart.
fn uplift_result(
    uplift: &tenure_plan::Uplift,
    retention: &tenure_plan::Retention,
    labels: Labels,
    by: &[Field],
    types: &AttributeTypes,
    rows: &[Row<'_>],
) -> Result<tenure_plan::UpliftResult, String> {
    let mut cohorts: Vec<(i32, Option<Segment>, UpliftCounts, UpliftCounts)> = Vec::new();
    let (mut ungrouped, mut conflicting) = (0, 0);
    for row in rows {
        let period = row.index("cohort_period")?;
        let segment = row.segment(by, types)?;
        let at = match cohorts
            .iter()
            .position(|(p, s, _, _)| *p == period && *s == segment)
        {
            Some(at) => at,
            None => {
                cohorts.push((period, segment, UpliftCounts::default(), UpliftCounts::default()));
                cohorts.len() - 1
            }
        };
        let counts = UpliftCounts {
            members: row.count("members")?,
            eligible: row.count("eligible")?,
            retained: row.count("retained")?,
        };
        if row.flag("conflicting")? {
            conflicting += counts.members;
            continue;
        }
        let variant = match (&uplift.groups, row.text("variant")?) {
            (_, None) => None,
            (tenure_plan::UpliftGroups::Attribute(Field::Attr(name)), Some(text)) => {
                match types.get(name).copied().unwrap_or_default() {
                    ValueType::Bool => row.truth("variant")?.map(|flag| flag.to_string()),
                    _ => Some(variant_text(text)),
                }
            }
            (_, Some(text)) => Some(variant_text(text)),
        };
        let (_, _, treatment, control) = &mut cohorts[at];
        match variant {
            Some(value) if value == uplift.treatment => *treatment = treatment.plus(counts),
            Some(value) if value == uplift.control => *control = control.plus(counts),
            _ => ungrouped += counts.members,
        }
    }
    let rows = in_engine_order(
        cohorts
            .into_iter()
            .map(|(period, segment, t, c)| (period, (labels.of(period), segment, t, c)))
            .collect(),
        |row| &row.1,
    );
    Ok(tenure_plan::UpliftResult::from_counts(
        uplift,
        retention,
        rows,
        ungrouped,
        conflicting,
    ))
}

/// A group value as the engine spells it: a number without a fraction has no decimals.
fn variant_text(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(number) if number.is_finite() => {
            tenure_plan::figures::group_text(&ScalarValue::Number(number)).unwrap_or_default()
        }
        _ => text.to_string(),
    }
}

/// An orders-form LTV from its one row of order figures, as the engine derives it.
fn orders_ltv(rows: &[Row<'_>], margin: f64, cost_to_serve: f64) -> Result<tenure_plan::LtvResult, String> {
    let [row] = rows else {
        return Err(format!("{} rows for an orders LTV", rows.len()));
    };
    let figures = OrderFigures {
        average_order: row.number("average_order")?,
        orders: row.number("orders")?,
        customers: row.number("customers")?,
    };
    Ok(derive::orders_ltv(figures, margin, cost_to_serve))
}

fn formula_result(
    plan: &Plan,
    formula: &tenure_plan::Formula,
    week_start: tenure_plan::WeekStart,
    rows: &[Row<'_>],
) -> Result<FormulaResult, String> {
    let format = formula.format.as_str();
    if let (None, Some(cohort)) = (formula.grain, formula.cohort) {
        let labels = Labels {
            grain: plan.cohorts[cohort].grain,
            week_start,
        };
        let mut cohorts = rows
            .iter()
            .map(|row| Ok((row.index("grp")?, row.number("value")?)))
            .collect::<Result<Vec<_>, String>>()?;
        cohorts.sort_by_key(|(period, _)| *period);
        return Ok(FormulaResult {
            kind: "formula",
            grain: None,
            format,
            value: FormulaValue::Grouped,
            rows: Some(
                cohorts
                    .into_iter()
                    .map(|(period, value)| FormulaRow {
                        period: None,
                        complete: None,
                        cohort: Some(labels.of(period)),
                        segment: None,
                        value,
                    })
                    .collect(),
            ),
        });
    }
    let Some(grain) = formula.grain else {
        let value = match rows {
            [row] => row.number("value")?,
            _ => return Err(format!("{} rows for a formula over the whole window", rows.len())),
        };
        return Ok(FormulaResult {
            kind: "formula",
            grain: None,
            format,
            value: FormulaValue::Single(value),
            rows: None,
        });
    };
    let labels = Labels { grain, week_start };
    let rows = rows
        .iter()
        .map(|row| {
            Ok(FormulaRow {
                period: Some(labels.of(row.index("grp")?)),
                complete: Some(row.flag("complete")?),
                cohort: None,
                segment: None,
                value: row.number("value")?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(FormulaResult {
        kind: "formula",
        grain: Some(grain.as_str()),
        format,
        value: FormulaValue::Grouped,
        rows: Some(rows),
    })
}

/// `as_of` and the row accounting from the row the [`crate::accounting`] statement returned.
pub fn read_input(plan: &Plan, rows: &Rows) -> Result<(String, InputSummary), ShapeError> {
    let shape_error = |detail: String| ShapeError {
        metric: "(input accounting)".to_string(),
        detail,
    };
    let each = rows.rows().map_err(shape_error)?;
    let [row] = each.as_slice() else {
        return Err(shape_error(format!("{} rows instead of one", rows.values.len())));
    };
    let read = || -> Result<(String, InputSummary), String> {
        // A date may come back with a time of day (Spark's text of a date has none, others may).
        let as_of = row
            .text("as_of")?
            .map(|text| text.chars().take(10).collect::<String>())
            .ok_or("`as_of` is null: the source has no readable rows")?;
        let rows_read = row.count("rows_read")?;
        let mut rejected = RejectReason::zero_counts();
        for reason in RejectReason::ALL {
            rejected.insert(reason, row.count(reason.as_str())?);
        }
        let unreadable: u64 = rejected.values().sum();
        let readable = row.count("readable")?;
        let kept = row.count("kept")?;
        let duplicates = rows_read
            .checked_sub(unreadable)
            .and_then(|readable_rows| readable_rows.checked_sub(readable))
            .ok_or("more distinct readable rows than readable rows")?;
        let excluded = readable
            .checked_sub(kept)
            .ok_or("more kept rows than readable rows")?;
        let source = SourceSummary {
            kind: "events",
            rows: rows_read,
            rejected: rejected.clone(),
            duplicates,
            excluded,
            kept,
        };
        let mut sources: BTreeMap<String, SourceSummary> = plan
            .event_sources
            .iter()
            .map(|s| (s.name.clone(), source.clone()))
            .collect();
        if let Some(entity_source) = &plan.entity_source {
            let rows = row.count("entity_rows_read")?;
            let missing = row.count("entity_missing")?;
            let kept = row.count("entity_kept")?;
            let mut rejected = RejectReason::zero_counts();
            rejected.insert(RejectReason::MissingEntity, missing);
            let duplicates = rows
                .checked_sub(missing)
                .and_then(|with_id| with_id.checked_sub(kept))
                .ok_or("more distinct entity ids than rows with one")?;
            sources.insert(
                entity_source.name.clone(),
                SourceSummary {
                    kind: "entities",
                    rows,
                    rejected,
                    duplicates,
                    excluded: 0,
                    kept,
                },
            );
        }
        Ok((
            as_of,
            InputSummary {
                rows: rows_read,
                rejected,
                duplicates,
                excluded,
                kept,
                entities: row.count("entities")?,
                sources,
            },
        ))
    };
    read().map_err(shape_error)
}
