//! `tenure explain`: what a metric will compute, in words, from the validated plan.

use std::fmt::Write;

use tenure::plan::{Align, MetricKind, Plan, RetentionMode, Unit};

/// What a health signal measures, in words.
fn signal_text(signal: &tenure::plan::Signal, plan: &Plan) -> String {
    use tenure::plan::Signal;
    let name = |event: &usize| plan.events[*event].name.clone();
    match signal {
        Signal::Count(e) => format!("rows of `{}` in the window", name(e)),
        Signal::Recency(e) => format!("days since the last `{}`", name(e)),
        Signal::FrequencyBreak(e) => format!(
            "days since the last `{}` over the entity's median days between them",
            name(e)
        ),
        Signal::Amount(e) => format!("`{}` amounts in the window", name(e)),
        Signal::Trend(e) => format!("`{}` amounts in the window over the window before", name(e)),
        Signal::Latest { event, value } => format!("{value} of the latest `{}`", name(event)),
        Signal::Attribute(field) => field.to_string(),
    }
}

/// Explains the named metrics (all when `names` is empty).
pub fn explain(plan: &Plan, names: &[String]) -> String {
    let mut out = String::new();
    for metric in plan
        .metrics
        .iter()
        .filter(|m| names.is_empty() || names.contains(&m.name))
    {
        let _ = writeln!(out, "metric `{}` ({})", metric.name, metric.kind.type_name());
        if let Some(description) = &metric.description {
            let _ = writeln!(out, "  {description}");
        }
        match &metric.kind {
            MetricKind::Retention(r) => {
                cohort(&mut out, plan, r.cohort);
                let event = &plan.events[r.return_event];
                let _ = writeln!(out, "  return: `{}` = {}", event.name, event.filter);
                let unit = match (r.unit, r.align) {
                    (Unit::Day, _) => "calendar days after the start day",
                    (Unit::Week, Align::Entity) => "weeks after the start day (days div 7)",
                    (Unit::Week, Align::Calendar) => "calendar weeks after the start week",
                    (Unit::Month, _) => "calendar months after the start month",
                };
                let rule = match &r.mode {
                    RetentionMode::NDay(periods) => format!(
                        "retained in period k when a return falls exactly k {unit}; k = {}",
                        join(periods.iter())
                    ),
                    RetentionMode::Unbounded(periods) => format!(
                        "retained in period k when a return falls k or more {unit}; k = {}",
                        join(periods.iter())
                    ),
                    RetentionMode::Bracket(brackets) => format!(
                        "retained in a bracket [a, b] when a return falls between a and b {unit}; brackets = {}",
                        brackets
                            .iter()
                            .map(|(a, b)| format!("[{a}, {b}]"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                let _ = writeln!(out, "  {rule}");
                let _ = writeln!(
                    out,
                    "  rate = retained / cohort size; total = retained and eligible / eligible, where eligible means the period has ended by as_of"
                );
            }
            MetricKind::Revenue(r) => {
                let event = &plan.events[r.event];
                let amount = event.amount.as_ref().map_or("?".to_string(), |a| a.to_string());
                let _ = writeln!(
                    out,
                    "  revenue: the amount {amount} of `{}` = {}, summed per entity and {}",
                    event.name,
                    event.filter,
                    r.grain.as_str()
                );
                spread_line(&mut out, r.spread.as_ref());
                let _ = writeln!(
                    out,
                    "  per period after the first with revenue: start, new, expansion, contraction, churned, reactivation, end; GRR, NRR, churn rates"
                );
                match r.reactivation_within {
                    Some(within) => {
                        let _ = writeln!(
                            out,
                            "  a comeback after more than {within} without revenue counts as new, otherwise as reactivation"
                        );
                    }
                    None => {
                        let _ = writeln!(out, "  a comeback after any gap counts as reactivation");
                    }
                }
                if !r.by.is_empty() {
                    let _ = writeln!(
                        out,
                        "  split by {}: besides the overall table, one table per combination of values, over the same periods",
                        join(r.by.iter())
                    );
                }
                if let Some(window) = r.window {
                    let _ = writeln!(
                        out,
                        "  trailing NRR over {window}: revenue now of those who paid {window} ago ÷ their revenue then"
                    );
                }
            }
            MetricKind::Funnel(f) => {
                cohort(&mut out, plan, f.cohort);
                for (k, event) in f.steps.iter().enumerate() {
                    let event = &plan.events[*event];
                    let after = if k == 0 { "t0" } else { "the step before" };
                    let _ = writeln!(
                        out,
                        "  step {}: the first `{}` = {} at or after {after}",
                        k + 1,
                        event.name,
                        event.filter
                    );
                }
                let _ = writeln!(
                    out,
                    "  every step within {} of t0; eligible when that window has ended by as_of",
                    f.within
                );
                let _ = writeln!(
                    out,
                    "  per cohort row: reached per step, rate = reached / size, step rate = reached / reached at the step before, median days between steps; total over eligible members"
                );
            }
            MetricKind::CohortRevenue(r) => {
                cohort(&mut out, plan, r.cohort);
                let event = &plan.events[r.event];
                let amount = event.amount.as_ref().map_or("?".to_string(), |a| a.to_string());
                let grain = plan.cohorts[r.cohort].grain.as_str();
                let _ = writeln!(
                    out,
                    "  revenue: the amount {amount} of `{}` = {}, summed per member and {grain}; a sum of zero or less is none",
                    event.name, event.filter
                );
                spread_line(&mut out, r.spread.as_ref());
                let _ = writeln!(
                    out,
                    "  per cohort row and {grain} k since its start: members' revenue and payers; for the starting customers (revenue in {grain} 0): NRR = revenue in k ÷ revenue in 0, GRR = the same capped per customer at 0's revenue, logo retention = still paying ÷ starting"
                );
                let _ = writeln!(
                    out,
                    "  total = the same sums over the cohort rows whose {grain} k is over by as_of"
                );
            }
            MetricKind::Formula(f) => {
                let _ = writeln!(out, "  value = {}", formula_text(&f.expr, plan));
                match (f.grain, f.cohort) {
                    (Some(grain), _) => {
                        let _ = writeln!(
                            out,
                            "  evaluated once per {}, each aggregate over that period's rows",
                            grain.as_str()
                        );
                    }
                    (None, Some(id)) => cohort(&mut out, plan, id),
                    (None, None) => {
                        let _ = writeln!(out, "  evaluated once over all rows up to as_of");
                    }
                }
                let _ = writeln!(out, "  division by zero or a missing input gives null");
            }
            MetricKind::Ltv(ltv) => match &ltv.form {
                tenure::plan::LtvForm::Orders { order, cost_to_serve } => {
                    let name = &plan.events[*order].name;
                    let _ = writeln!(
                        out,
                        "  avg({name}.amount) × {} × count({name}) / entities({name}) − {cost_to_serve}",
                        ltv.margin
                    );
                }
                tenure::plan::LtvForm::Subscription {
                    revenue,
                    churn_window,
                } => {
                    let _ = writeln!(
                        out,
                        "  {revenue}.arpa_last × {} ÷ customer churn of `{revenue}` pooled over its last {churn_window} complete periods",
                        ltv.margin
                    );
                }
            },
            MetricKind::Payback(p) => {
                let _ = writeln!(
                    out,
                    "  {} ÷ ({}.arpa_last × {}), in periods of `{}`",
                    p.cac, p.revenue, p.margin, p.revenue
                );
            }
            MetricKind::Crr(c) => {
                let event = &plan.events[c.active];
                let _ = writeln!(
                    out,
                    "  per {}: S = entities with `{}` in the previous period, E = in this one, N = first ever in this one; CRR = (E − N) / S",
                    c.grain.as_str(),
                    event.name
                );
            }
            MetricKind::Lifecycle(l) => {
                let event = &plan.events[l.active];
                let _ = writeln!(
                    out,
                    "  per {}: entities with `{}` this period, as new (never before), returning (also in the previous period) or resurrecting (not in the previous period, but before); dormant = in the previous period, not in this one",
                    l.grain.as_str(),
                    event.name
                );
                if !l.by.is_empty() {
                    let keys: Vec<String> = l.by.iter().map(ToString::to_string).collect();
                    let _ = writeln!(out, "  by: {}", keys.join(", "));
                }
            }
            MetricKind::Health(h) => {
                let _ = writeln!(
                    out,
                    "  scored: entities with `{}` in the {} days up to as_of; signals read the {} days up to it",
                    plan.events[h.active].name, h.population_days, h.window_days
                );
                let weights: f64 = h.components.iter().map(|c| c.weight).sum();
                for c in &h.components {
                    let rule = match c.scoring {
                        tenure::plan::Scoring::Scale { worst, best } => {
                            format!("{worst} scores 0, {best} scores 100")
                        }
                        tenure::plan::Scoring::Percentile { higher_is_better } => format!(
                            "percentile in the population, {} values better",
                            if higher_is_better { "higher" } else { "lower" }
                        ),
                    };
                    let _ = writeln!(
                        out,
                        "  component `{}` ({:.0} % of the weight): {}; {rule}",
                        c.name,
                        c.weight / weights * 100.0,
                        signal_text(&c.signal, plan)
                    );
                }
                let bands: Vec<String> = h
                    .bands
                    .iter()
                    .map(|b| format!("{} from {}", b.name, b.min))
                    .collect();
                let _ = writeln!(
                    out,
                    "  score = the weighted mean of the components an entity has a value for; bands: {}",
                    bands.join(", ")
                );
                if let Some(days) = h.backtest_days {
                    let _ = writeln!(
                        out,
                        "  backtest: scored {days} days before as_of; churned = no `{}` since",
                        plan.events[h.active].name
                    );
                }
            }
            MetricKind::Winback(w) => {
                let _ = writeln!(
                    out,
                    "  on the first day of each {}: entities whose last `{}` was {} or more days before are dormant; of those, the share with `{}` within {} days from that day (that day included)",
                    w.grain.as_str(),
                    plan.events[w.active].name,
                    w.dormant_days,
                    plan.events[w.active].name,
                    w.within_days
                );
                let _ = writeln!(out, "  total: the periods whose window is over by as_of, pooled");
                if !w.by.is_empty() {
                    let keys: Vec<String> = w.by.iter().map(ToString::to_string).collect();
                    let _ = writeln!(out, "  by: {}", keys.join(", "));
                }
            }
            MetricKind::Uplift(uplift) => {
                let group = match &uplift.groups {
                    tenure::plan::UpliftGroups::Attribute(field) => format!("`{field}`"),
                    tenure::plan::UpliftGroups::Assignment { event, variant } => format!(
                        "`{variant}` of its `{}` rows (an entity whose rows name two groups is left out)",
                        plan.events[*event].name
                    ),
                };
                let column = plan
                    .uplift_retention(uplift)
                    .map_or(String::new(), |r| r.mode.cell_label(uplift.cell));
                let _ = writeln!(
                    out,
                    "  compares column {column} of retention metric `{}`, per cohort row and pooled",
                    uplift.retention
                );
                let _ = writeln!(
                    out,
                    "  an entity's group: {group}; treatment = \"{}\", control = \"{}\"",
                    uplift.treatment, uplift.control
                );
                let _ = writeln!(
                    out,
                    "  uplift = treatment rate − control rate over eligible members; 95 % interval by \
                     Newcombe's hybrid score method; p-value of the pooled two-proportion z-test"
                );
            }
            MetricKind::Survey(survey) => {
                let (low, high) = survey.scale.range();
                let (positive, negative) = survey.scale.thresholds();
                let score = match survey.scale {
                    tenure::plan::SurveyScale::Nps => "NPS = (positive − negative) ÷ responses × 100",
                    tenure::plan::SurveyScale::Csat { .. } => "CSAT = positive ÷ responses",
                    tenure::plan::SurveyScale::Ces => "CES = the mean score",
                };
                let _ = writeln!(
                    out,
                    "  responses: rows of `{}` whose score is a whole number from {low} to {high}; {positive} and up positive, {negative} and down negative, between neutral; {score}{}",
                    plan.events[survey.response].name,
                    survey
                        .grain
                        .map_or(String::new(), |g| format!("; overall and per {}", g.as_str()))
                );
                if !survey.by.is_empty() {
                    let keys: Vec<String> = survey.by.iter().map(ToString::to_string).collect();
                    let _ = writeln!(out, "  by: {}", keys.join(", "));
                }
                if let Some(asked) = survey.asked {
                    let _ = writeln!(
                        out,
                        "  response rate = respondents ÷ entities with `{}`",
                        plan.events[asked].name
                    );
                }
            }
            MetricKind::Stickiness(st) => {
                let event = &plan.events[st.active];
                let _ = writeln!(
                    out,
                    "  per day: entities with `{}` that day (DAU), in the 7 days ending that day (WAU), in the 30 days (MAU), and DAU ÷ MAU",
                    event.name
                );
                let _ = writeln!(
                    out,
                    "  per {}: its active entities by the number of days of it they were active{}",
                    st.grain.as_str(),
                    st.at_least.map_or(String::new(), |n| format!(
                        "; the share active on at least {n} days"
                    ))
                );
            }
            MetricKind::Activation(a) => {
                cohort(&mut out, plan, a.cohort);
                let event = &plan.events[a.reached];
                let _ = writeln!(out, "  reached: `{}` = {}", event.name, event.filter);
                let _ = writeln!(
                    out,
                    "  activated when the first `{}` at or after the start falls within {}; also the median time to it",
                    event.name, a.within
                );
            }
        }
        out.push('\n');
    }
    let quality = &plan.quality;
    let _ = writeln!(
        out,
        "data: {} event source(s){}; dedupe {}; exclude {}; bad rows {}; calendar in {} with weeks starting {:?}",
        plan.event_sources.len(),
        plan.entity_source.as_ref().map_or(String::new(), |s| format!(
            " + entity attributes from `{}`",
            s.name
        )),
        if quality.dedupe { "exact" } else { "none" },
        quality
            .exclude
            .as_ref()
            .map_or("nothing".to_string(), |e| e.to_string()),
        match quality.on_bad_row {
            tenure::plan::BadRowPolicy::Skip => "skipped and counted",
            tenure::plan::BadRowPolicy::Fail => "stop the run",
        },
        plan.project.timezone.name(),
        plan.project.week_start
    );
    out
}

fn cohort(out: &mut String, plan: &Plan, id: usize) {
    let cohort = &plan.cohorts[id];
    let entry = match &cohort.start {
        tenure::plan::CohortStart::Event(event) => {
            let start = &plan.events[*event];
            if cohort.recurring {
                format!(
                    "at their first `{}` = {} in each {} they have one (recurring)",
                    start.name,
                    start.filter,
                    cohort.grain.as_str()
                )
            } else {
                format!("at their first `{}` = {}", start.name, start.filter)
            }
        }
        tenure::plan::CohortStart::Attribute(column) => {
            format!("on the date in `attr.{column}` (from its local midnight; entities without events too)")
        }
    };
    let _ = writeln!(
        out,
        "  cohort `{}`: entities enter {entry}, grouped by {}",
        cohort.name,
        cohort.grain.as_str()
    );
    if let Some(filter) = &cohort.filter {
        let _ = writeln!(out, "    only entities where {filter}");
    }
    if !cohort.by.is_empty() {
        let _ = writeln!(out, "    split by {}", join(cohort.by.iter()));
    }
    if let Some(did) = &cohort.did {
        let _ = writeln!(
            out,
            "    did.{0}: true when the first `{0}` at or after the start falls within {1}, false when not and that time is over, null until then",
            plan.events[did.event].name, did.within
        );
    }
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|i| i.to_string()).collect::<Vec<_>>().join(", ")
}

/// A formula as written, with value events by name.
pub fn formula_text(expr: &tenure::plan::Expr, plan: &Plan) -> String {
    let mut text = expr.to_string();
    for (index, event) in plan.events.iter().enumerate().rev() {
        text = text.replace(&format!("event#{index}"), &event.name);
    }
    text
}

/// How payments are spread over the months they cover, when they are.
fn spread_line(out: &mut String, spread: Option<&tenure::plan::Expr>) {
    if let Some(spread) = spread {
        let _ = writeln!(
            out,
            "  each payment is spread evenly over {spread} months from its own month"
        );
    }
}
