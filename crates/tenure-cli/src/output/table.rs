//! Terminal tables: one per metric, in the order the config lists them.

use std::fmt::Write;

use tenure::plan::{
    ActivationResult, CrrResult, FormulaResult, FormulaValue, Grain, LifecyclePeriod, LifecycleResult,
    Metric, MetricKind, MetricResult, Periods, Plan, Report, RetentionResult, RevenueResult, Segment,
    StickinessResult, SurveyFigures, SurveyPeriod, SurveyResult,
};

use super::acting;
use super::grid::{Grid, GridColumn};
use tenure::plan::norms::{JudgedColumn, Verdict};

/// What a cohort cell shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Show {
    /// The retained (activated) share.
    Rates,
    /// Retained of eligible members, as `retained/eligible`.
    Counts,
    /// Both.
    Both,
}

/// How tables are drawn.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// What cohort cells show.
    pub show: Show,
    /// The page width tables fold to.
    pub width: usize,
    /// Retention cells shaded by their rate (a terminal that shows colour).
    pub colour: bool,
}

/// `cell` on a background of the cividis scale at `rate` (the report's heatmap colours), when
/// `style` shades cells; as it is otherwise.
fn shaded(cell: String, rate: Option<f64>, style: Style) -> String {
    match rate {
        Some(rate) if style.colour => {
            let (r, g, b) = crate::report::svg::cividis_rgb(rate);
            let text = if crate::report::svg::dark_text_reads_on(r, g, b) {
                30
            } else {
                97
            };
            // The marker's blank stays outside the shade, so that no line ends with a space.
            let figure = cell.trim_end();
            let blank = &cell[figure.len()..];
            format!("\u{1b}[48;2;{r};{g};{b};{text}m{figure}\u{1b}[0m{blank}")
        }
        _ => cell,
    }
}

/// Renders every metric of the report for a terminal, in the config's order.
pub fn render(report: &Report, plan: &Plan, style: Style) -> String {
    let mut out = String::new();
    for metric in &plan.metrics {
        let Some(result) = report.metrics.get(&metric.name) else {
            continue;
        };
        let _ = writeln!(out, "{}", heading(metric, plan));
        match result {
            MetricResult::Retention(table) => retention(&mut out, table, &report.as_of, style),
            MetricResult::Activation(table) => activation(&mut out, table, style),
            MetricResult::Funnel(table) => super::funnel::funnel_table(&mut out, table, style),
            MetricResult::Revenue(table) => revenue(&mut out, table, style),
            MetricResult::CohortRevenue(table) => {
                super::revenue_cohorts::cohort_revenue_table(&mut out, table, style)
            }
            MetricResult::Crr(table) => crr(&mut out, table, style),
            MetricResult::Lifecycle(table) => lifecycle(&mut out, table, style),
            MetricResult::Stickiness(table) => stickiness(&mut out, table, style),
            MetricResult::Survey(survey) => survey_table(&mut out, survey, style),
            MetricResult::Uplift(uplift) => acting::uplift_table(&mut out, uplift, style),
            MetricResult::Winback(winback) => acting::winback_tables(&mut out, winback, style),
            MetricResult::Health(health) => acting::health_table(&mut out, health, style),
            MetricResult::Formula(result) => formula(&mut out, result, style),
            MetricResult::Ltv(result) => {
                let inputs = match result.form {
                    "orders" => format!(
                        "average order {} × margin {} × {} orders per customer − cost to serve {}",
                        money(result.average_order),
                        percent(result.margin),
                        result
                            .orders_per_customer
                            .map_or("–".to_string(), |o| format!("{o:.2}")),
                        money(result.cost_to_serve)
                    ),
                    _ => format!(
                        "ARPA {} × margin {} ÷ customer churn {}",
                        money(result.arpa),
                        percent(result.margin),
                        optional_percent(result.churn_rate)
                    ),
                };
                let _ = writeln!(out, "  LTV {}  = {inputs}", money(result.value));
            }
            MetricResult::Payback(result) => {
                let _ = writeln!(
                    out,
                    "  payback {} {}s  = CAC {} ÷ (ARPA {} × margin {})",
                    result.value.map_or("–".to_string(), |v| format!("{v:.1}")),
                    result.unit,
                    money(Some(result.cac)),
                    money(result.arpa),
                    percent(result.margin)
                );
            }
            MetricResult::Failed(failed) => {
                let _ = writeln!(out, "  failed: {}", failed.error);
            }
        }
        out.push('\n');
    }
    out
}

/// The metric's name with its description, then what the table shows, on a second line.
pub(crate) fn heading(metric: &Metric, plan: &Plan) -> String {
    let name = &metric.name;
    let detail = match &metric.kind {
        MetricKind::Retention(r) => {
            let cohort = &plan.cohorts[r.cohort];
            format!(
                "{} retention of `{}`, by {} cohort of {}",
                r.mode.as_str(),
                plan.events[r.return_event].name,
                cohort.grain.as_str(),
                cohort_start(cohort, plan)
            )
        }
        MetricKind::Activation(a) => {
            let cohort = &plan.cohorts[a.cohort];
            format!(
                "activation: first `{}` within {} of {}, by {} cohort",
                plan.events[a.reached].name,
                a.within,
                cohort_start(cohort, plan),
                cohort.grain.as_str()
            )
        }
        MetricKind::Revenue(r) => format!(
            "revenue movements of `{}` by {}{}",
            plan.events[r.event].name,
            r.grain.as_str(),
            spread_note(r.spread.is_some(), r.grain)
        ),
        MetricKind::Funnel(f) => {
            let cohort = &plan.cohorts[f.cohort];
            let steps: Vec<String> = f
                .steps
                .iter()
                .map(|event| format!("`{}`", plan.events[*event].name))
                .collect();
            format!(
                "funnel: {} → {} within {}, by {} cohort",
                cohort_start(cohort, plan),
                steps.join(" → "),
                f.within,
                cohort.grain.as_str()
            )
        }
        MetricKind::CohortRevenue(r) => {
            let cohort = &plan.cohorts[r.cohort];
            format!(
                "revenue of `{}` by {} cohort of {}, per {} since the start{}",
                plan.events[r.event].name,
                cohort.grain.as_str(),
                cohort_start(cohort, plan),
                cohort.grain.as_str(),
                spread_note(r.spread.is_some(), cohort.grain)
            )
        }
        MetricKind::Crr(c) => format!(
            "customer retention rate (E − N) / S of `{}` by {}",
            plan.events[c.active].name,
            c.grain.as_str()
        ),
        MetricKind::Lifecycle(l) => format!(
            "lifecycle of entities with `{}` by {}: new, returning, resurrecting; dormant below zero",
            plan.events[l.active].name,
            l.grain.as_str()
        ),
        MetricKind::Stickiness(st) => format!(
            "stickiness of `{}`: DAU, WAU (7 days), MAU (30 days) and DAU/MAU; active days per {}",
            plan.events[st.active].name,
            st.grain.as_str()
        ),
        MetricKind::Survey(survey) => format!(
            "{} from `{}`{}",
            survey.scale.as_str().to_uppercase(),
            plan.events[survey.response].name,
            survey
                .grain
                .map_or(String::new(), |g| format!(", per {}", g.as_str()))
        ),
        MetricKind::Health(h) => format!(
            "health score of entities with `{}` in the last {} days, from {} signals over {} days",
            plan.events[h.active].name,
            h.population_days,
            h.components.len(),
            h.window_days
        ),
        MetricKind::Winback(w) => format!(
            "win-back: entities without `{}` for {}+ days on the first day of each {}, and those back within {} days",
            plan.events[w.active].name,
            w.dormant_days,
            w.grain.as_str(),
            w.within_days
        ),
        MetricKind::Uplift(uplift) => format!(
            "uplift of `{}` column {}: `{}` against `{}`, 95 % interval (Newcombe)",
            uplift.retention,
            plan.uplift_retention(uplift)
                .map_or(String::new(), |r| r.mode.cell_label(uplift.cell)),
            uplift.treatment,
            uplift.control
        ),
        MetricKind::Formula(_) | MetricKind::Ltv(_) | MetricKind::Payback(_) => String::new(),
    };
    let mut text = match &metric.description {
        Some(description) => format!("{name} — {description}"),
        None => name.to_string(),
    };
    if !detail.is_empty() {
        text.push('\n');
        text.push_str(&detail);
    }
    text
}

/// What starts a cohort, for headings: ``first `signup` `` or `` `attr.signed_at` ``.
/// How a revenue heading says its payments are spread (docs/config.md, `spread`).
fn spread_note(spread: bool, grain: Grain) -> &'static str {
    match (spread, grain) {
        (false, _) => "",
        (true, Grain::Day | Grain::Week) => ", each payment spread over the days it covers",
        (true, _) => ", multi-month payments spread over their months",
    }
}

fn cohort_start(cohort: &tenure::plan::Cohort, plan: &Plan) -> String {
    match &cohort.start {
        tenure::plan::CohortStart::Event(event) if cohort.recurring => format!(
            "any `{}`, once per {} (recurring)",
            plan.events[*event].name,
            cohort.grain.as_str()
        ),
        tenure::plan::CohortStart::Event(event) => format!("first `{}`", plan.events[*event].name),
        tenure::plan::CohortStart::Attribute(column) => format!("`attr.{column}`"),
    }
}

fn segment_text(segment: &Option<Segment>) -> String {
    segment.as_ref().map_or(String::new(), values_text)
}

/// Breakdown values as a label: `pro · 10`.
pub(crate) fn values_text(segment: &Segment) -> String {
    segment
        .0
        .iter()
        .map(|(_, v)| v.to_string())
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The key columns of a cohort table: the cohort, and its segment when some row has one.
pub(super) struct CohortKeys {
    segmented: bool,
}

impl CohortKeys {
    pub(super) fn of<'a>(mut segments: impl Iterator<Item = &'a Option<Segment>>) -> CohortKeys {
        CohortKeys {
            segmented: segments.any(|s| s.is_some()),
        }
    }

    pub(super) fn columns(&self) -> Vec<GridColumn> {
        let mut columns = vec![GridColumn::key("cohort")];
        if self.segmented {
            columns.push(GridColumn::key("segment"));
        }
        columns
    }

    pub(super) fn cells(&self, cohort: &str, segment: &Option<Segment>) -> Vec<String> {
        let mut cells = vec![cohort.to_string()];
        if self.segmented {
            cells.push(segment_text(segment));
        }
        cells
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0)
}

pub(crate) fn optional_percent(rate: Option<f64>) -> String {
    rate.map_or("–".to_string(), percent)
}

pub(crate) fn money(value: Option<f64>) -> String {
    value.map_or("–".to_string(), |v| format!("{v:.2}"))
}

/// A cell's marker: `*` when the period is not over for every member.
fn marker(incomplete: bool) -> char {
    if incomplete { '*' } else { ' ' }
}

/// A cohort cell: the rate, the count it is the share of (`retained/base`), or both, as
/// `style.show` asks. The base is a row's size, and the total row's eligible members.
fn share_cell(rate: Option<f64>, retained: u64, base: u64, show: Show) -> String {
    match show {
        Show::Rates => optional_percent(rate),
        Show::Counts => format!("{retained}/{base}"),
        Show::Both => format!("{} {retained}/{base}", optional_percent(rate)),
    }
}

const INCOMPLETE_NOTE: &str = "* period not yet over for every member by";

/// Writes notes under a table, three spaces apart, starting a new line before a note that would
/// cross the page width.
pub(super) fn notes(out: &mut String, notes: &[String], width: usize) {
    let mut line = String::new();
    for note in notes.iter().filter(|n| !n.is_empty()) {
        if !line.is_empty() && line.chars().count() + 3 + note.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push_str("   ");
        }
        line.push_str(note);
    }
    if !line.is_empty() {
        out.push_str(&line);
        out.push('\n');
    }
}

/// The column titles of a retention table: `d7`, `w1+`, `d8-30`.
pub(crate) fn column_labels(table: &RetentionResult) -> Vec<String> {
    let letter = table.unit.chars().next().unwrap_or('d');
    table.periods.labels(letter, table.mode == "unbounded")
}

fn retention(out: &mut String, table: &RetentionResult, as_of: &str, style: Style) {
    let labels = column_labels(table);
    let keys = CohortKeys::of(table.cohorts.iter().map(|c| &c.segment));
    let columns = || {
        let mut columns = keys.columns();
        columns.push(GridColumn::figure("size"));
        columns.extend(labels.iter().map(GridColumn::marked));
        columns
    };
    let mut grid = Grid::new(columns());
    let mut incomplete = false;
    // With `benchmark`, a judged cell carries its verdict: ↑ above the band, = within, ↓ below.
    let judged = |index: usize, verdict: &dyn Fn(&JudgedColumn) -> Option<Verdict>| -> &'static str {
        let periods = match &table.periods {
            Periods::Offsets(offsets) => offsets.as_slice(),
            Periods::Brackets(_) => &[],
        };
        let column = table
            .benchmark
            .iter()
            .flat_map(|b| &b.cells)
            .find(|c| periods.get(index) == Some(&c.day));
        match column.and_then(verdict) {
            Some(Verdict::Above) => "↑",
            Some(Verdict::Within) => "=",
            Some(Verdict::Below) => "↓",
            None => "",
        }
    };
    for (row_index, row) in table.cohorts.iter().enumerate() {
        let mut cells = keys.cells(&row.cohort, &row.segment);
        cells.push(row.size.to_string());
        for index in 0..labels.len() {
            let eligible = row.eligible[index];
            incomplete |= eligible < row.size;
            cells.push(if eligible == 0 {
                "· ".to_string()
            } else {
                let cell = share_cell(row.rate[index], row.retained[index], row.size, style.show);
                let verdict = judged(index, &|c| c.cohorts.get(row_index).copied().flatten());
                shaded(
                    format!("{cell}{verdict}{}", marker(eligible < row.size)),
                    row.rate[index],
                    style,
                )
            });
        }
        grid.row(cells);
    }
    // A total row per breakdown value, then the total of all.
    for (segment, total) in total_rows(
        table.totals.iter().flatten().map(|t| (&t.segment, &t.total)),
        &table.total,
    ) {
        let mut cells = keys.cells("total", &segment);
        cells.push(total.size.to_string());
        let overall = segment.is_none();
        for (index, rate) in total.rate.iter().enumerate() {
            cells.push(match rate {
                None => "· ".to_string(),
                Some(_) => shaded(
                    format!(
                        "{}{} ",
                        share_cell(*rate, total.retained[index], total.eligible[index], style.show),
                        if overall { judged(index, &|c| c.total) } else { "" }
                    ),
                    *rate,
                    style,
                ),
            });
        }
        grid.row(cells);
    }
    out.push_str(&grid.render(style.width));
    let mut footer = Vec::new();
    if incomplete {
        footer.push(format!("{INCOMPLETE_NOTE} {as_of}"));
        footer.push("· not yet observable".to_string());
        footer.push("total: eligible members only".to_string());
    }
    if style.show != Show::Rates {
        footer.push("n/m: retained of members (total: of eligible members)".to_string());
    }
    if let Some(benchmark) = &table.benchmark {
        let bands: Vec<String> = benchmark
            .cells
            .iter()
            .map(|c| format!("d{} {:.0}–{:.0}%", c.day, c.low * 100.0, c.high * 100.0))
            .collect();
        footer.push(format!(
            "benchmark `{}` ({} norms): {}; ↑ above, = within, ↓ below",
            benchmark.name,
            benchmark.segment,
            bands.join(", ")
        ));
    }
    notes(out, &footer, style.width);
    if table.cohorts.iter().any(|c| c.ltv.is_some()) {
        let _ = writeln!(
            out,
            "\nrealised revenue per member, cumulative from the start through each column (the LTV curve)"
        );
        let mut grid = Grid::new(columns());
        let mut marked = false;
        for row in &table.cohorts {
            let mut cells = keys.cells(&row.cohort, &row.segment);
            cells.push(row.size.to_string());
            for (index, value) in row.ltv.iter().flatten().enumerate() {
                let eligible = row.eligible[index];
                marked |= eligible > 0 && eligible < row.size;
                cells.push(match value {
                    None => "· ".to_string(),
                    Some(value) => format!("{value:.2}{}", marker(eligible < row.size)),
                });
            }
            grid.row(cells);
        }
        for (segment, total) in total_rows(
            table.totals.iter().flatten().map(|t| (&t.segment, &t.total)),
            &table.total,
        ) {
            let mut cells = keys.cells("total", &segment);
            cells.push(total.size.to_string());
            for value in total.ltv.iter().flatten() {
                cells.push(value.map_or("· ".to_string(), |v| format!("{v:.2} ")));
            }
            grid.row(cells);
        }
        out.push_str(&grid.render(style.width));
        let mut footer = Vec::new();
        if marked {
            footer.push(format!("{INCOMPLETE_NOTE} {as_of}"));
        }
        footer.push("· not yet observable".to_string());
        footer.push("total: per eligible member".to_string());
        notes(out, &footer, style.width);
    }
}

/// A table's total rows: one per breakdown value, then the total of all (no segment).
pub(super) fn total_rows<'a, T>(
    per_value: impl Iterator<Item = (&'a Segment, &'a T)>,
    all: &'a T,
) -> impl Iterator<Item = (Option<Segment>, &'a T)> {
    per_value
        .map(|(value, total)| (Some(value.clone()), total))
        .chain(std::iter::once((None, all)))
}

fn activation(out: &mut String, table: &ActivationResult, style: Style) {
    let keys = CohortKeys::of(table.cohorts.iter().map(|c| &c.segment));
    let counts = style.show != Show::Rates;
    let mut columns = keys.columns();
    columns.push(GridColumn::figure("size"));
    if counts {
        columns.push(GridColumn::figure("eligible"));
    }
    columns.push(GridColumn::figure("activated"));
    if style.show != Show::Counts {
        columns.push(GridColumn::marked("rate"));
    }
    columns.push(GridColumn::figure("median days"));
    let mut grid = Grid::new(columns);
    let median = |days: Option<f64>| days.map_or("–".to_string(), |d| format!("{d:.1}"));
    let mut incomplete = false;
    let add = |cells: &mut Vec<String>, eligible: u64, activated: u64, rate: Option<f64>, mark: bool| {
        if counts {
            cells.push(eligible.to_string());
        }
        cells.push(activated.to_string());
        if style.show != Show::Counts {
            cells.push(format!(
                "{}{}",
                rate.map_or("·".to_string(), percent),
                marker(mark)
            ));
        }
    };
    for row in &table.cohorts {
        let mut cells = keys.cells(&row.cohort, &row.segment);
        cells.push(row.size.to_string());
        let mark = row.eligible < row.size;
        incomplete |= mark;
        add(&mut cells, row.eligible, row.activated, row.rate, mark);
        cells.push(median(row.median_days));
        grid.row(cells);
    }
    // A total row per breakdown value, then the total of all.
    let per_value = table.totals.iter().flatten().map(|t| (&t.segment, &t.total));
    for (segment, total) in total_rows(per_value, &table.total) {
        let mut cells = keys.cells("total", &segment);
        cells.push(total.size.to_string());
        add(&mut cells, total.eligible, total.activated, total.rate, false);
        cells.push(median(total.median_days));
        grid.row(cells);
    }
    out.push_str(&grid.render(style.width));
    if incomplete {
        let footer = [
            "* window not yet over for every member".to_string(),
            "total: eligible members only".to_string(),
        ];
        notes(out, &footer, style.width);
    }
}

/// A period label, marked `*` when the period is not over by `as_of`.
pub(super) fn period_cell(period: &str, complete: bool) -> String {
    format!("{period}{}", if complete { "" } else { "*" })
}

fn revenue(out: &mut String, table: &RevenueResult, style: Style) {
    revenue_table(out, table, style);
    for segment in table.segments.iter().flatten() {
        let name = segment_heading(&segment.segment);
        let part = RevenueResult {
            periods: segment.periods.clone(),
            nrr: segment.nrr,
            grr: segment.grr,
            nrr_last: segment.nrr_last,
            grr_last: segment.grr_last,
            nrr_window: None,
            segments: None,
            warnings: Vec::new(),
            ..table.clone()
        };
        let _ = writeln!(out, "\n{name}:");
        revenue_table(out, &part, style);
    }
}

fn revenue_table(out: &mut String, table: &RevenueResult, style: Style) {
    let mut columns = vec![GridColumn::key("period")];
    columns.extend(
        [
            "start",
            "new",
            "expansion",
            "contraction",
            "churned",
            "reactivation",
            "end",
            "GRR",
            "NRR",
            "logo churn",
        ]
        .map(GridColumn::figure),
    );
    let mut grid = Grid::new(columns);
    for p in &table.periods {
        let mut cells = vec![period_cell(&p.period, p.complete)];
        cells.extend(
            [
                p.start,
                p.new,
                p.expansion,
                p.contraction,
                p.churned,
                p.reactivation,
                p.end,
            ]
            .map(|amount| format!("{amount:.2}")),
        );
        cells.extend([p.grr, p.nrr, p.customer_churn_rate].map(optional_percent));
        grid.row(cells);
    }
    out.push_str(&grid.render(style.width));
    let mut summary = vec![
        format!(
            "NRR {} · GRR {} over complete periods;",
            optional_percent(table.nrr),
            optional_percent(table.grr)
        ),
        format!(
            "last complete period: NRR {} · GRR {}",
            optional_percent(table.nrr_last),
            optional_percent(table.grr_last)
        ),
    ];
    if let Some(window) = table.nrr_window {
        summary.push(format!("· trailing-window NRR {}", optional_percent(window)));
    }
    if table.periods.iter().any(|p| !p.complete) {
        summary.push("* period not over by as_of".to_string());
    }
    notes(out, &summary, style.width);
    for warning in &table.warnings {
        let _ = writeln!(out, "warning: {warning}");
    }
}

fn crr(out: &mut String, table: &CrrResult, style: Style) {
    let mut grid = Grid::new(vec![
        GridColumn::key("period"),
        GridColumn::figure("start S"),
        GridColumn::figure("end E"),
        GridColumn::figure("new N"),
        GridColumn::figure("CRR"),
    ]);
    for p in &table.periods {
        grid.row(vec![
            period_cell(&p.period, p.complete),
            p.start.to_string(),
            p.end.to_string(),
            p.new.to_string(),
            optional_percent(p.crr),
        ]);
    }
    out.push_str(&grid.render(style.width));
    let mut summary = vec![
        format!("CRR {} over complete periods;", optional_percent(table.crr)),
        format!("last complete period {}", optional_percent(table.crr_last)),
    ];
    if table.periods.iter().any(|p| !p.complete) {
        summary.push("* period not over by as_of".to_string());
    }
    notes(out, &summary, style.width);
}

fn survey_table(out: &mut String, survey: &SurveyResult, style: Style) {
    survey_grid(out, survey, &survey.total, survey.periods.as_deref(), style);
    for segment in survey.segments.iter().flatten() {
        let _ = writeln!(out, "{}", segment_heading(&segment.segment));
        survey_grid(out, survey, &segment.total, segment.periods.as_deref(), style);
    }
}

/// One survey table: its periods, then its total.
fn survey_grid(
    out: &mut String,
    survey: &SurveyResult,
    total: &SurveyFigures,
    periods: Option<&[SurveyPeriod]>,
    style: Style,
) {
    let (positive, neutral, negative) = match survey.scale {
        "nps" => ("promoters", "passives", "detractors"),
        "csat" => ("satisfied", "neutral", "dissatisfied"),
        _ => ("easy", "neutral", "difficult"),
    };
    let asked = total.asked.is_some();
    let scale = survey.scale.to_uppercase();
    let mut columns = vec![
        GridColumn::key("period"),
        GridColumn::figure("responses"),
        GridColumn::figure("respondents"),
        GridColumn::figure(positive),
        GridColumn::figure(neutral),
        GridColumn::figure(negative),
        GridColumn::figure(&scale),
        GridColumn::figure("invalid"),
    ];
    if asked {
        columns.push(GridColumn::figure("response rate"));
    }
    let followed = total.follow_up.is_some();
    if followed {
        columns.push(GridColumn::figure("followed up"));
        columns.push(GridColumn::figure("median h"));
    }
    let waves = periods.into_iter().flatten().any(|p| p.wave.is_some());
    if waves {
        columns.push(GridColumn::figure("same"));
        columns.push(GridColumn::figure("change"));
    }
    let mut grid = Grid::new(columns);
    let show = |score: Option<f64>| match survey.scale {
        "nps" => score.map_or("–".to_string(), |s| format!("{s:.1}")),
        "csat" => optional_percent(score),
        _ => score.map_or("–".to_string(), |s| format!("{s:.2}")),
    };
    let score = |f: &SurveyFigures| show(f.score);
    let row = |label: String, f: &SurveyFigures| {
        let mut cells = vec![
            label,
            f.responses.to_string(),
            f.respondents.to_string(),
            f.positive.to_string(),
            f.neutral.to_string(),
            f.negative.to_string(),
            score(f),
            f.invalid.to_string(),
        ];
        if asked {
            cells.push(optional_percent(f.response_rate));
        }
        if let Some(follow_up) = &f.follow_up {
            cells.push(optional_percent(follow_up.rate));
            cells.push(
                follow_up
                    .median_hours
                    .map_or("–".to_string(), |h| format!("{h:.1}")),
            );
        }
        cells
    };
    for p in periods.into_iter().flatten() {
        let mut cells = row(period_cell(&p.period, p.complete), &p.figures);
        if let Some(wave) = &p.wave {
            cells.push(wave.entities.to_string());
            cells.push(match (wave.change, survey.scale) {
                (Some(change), "csat") => format!("{:+.1} pp", change * 100.0),
                (Some(change), "nps") => format!("{change:+.1}"),
                (Some(change), _) => format!("{change:+.2}"),
                (None, _) => "–".to_string(),
            });
        }
        grid.row(cells);
    }
    let mut last = row("total".to_string(), total);
    if waves {
        last.extend(["".to_string(), "".to_string()]);
    }
    grid.row(last);
    out.push_str(&grid.render(style.width));
    let mut summary = Vec::new();
    if followed {
        summary.push("followed up: negative answers followed up in the time allowed".to_string());
    }
    if waves {
        summary.push(
            "same: entities that also answered the period before; change: their score now − then".to_string(),
        );
    }
    if periods.into_iter().flatten().any(|p| !p.complete) {
        summary.push("* period not over by as_of".to_string());
    }
    notes(out, &summary, style.width);
}

/// A breakdown value as the heading of its table: `attr.plan = pro, …`.
pub(super) fn segment_heading(segment: &Segment) -> String {
    segment
        .0
        .iter()
        .map(|(key, value)| format!("{key} = {value}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn lifecycle(out: &mut String, table: &LifecycleResult, style: Style) {
    lifecycle_table(out, &table.periods, style);
    for segment in table.segments.iter().flatten() {
        let name = segment_heading(&segment.segment);
        let _ = writeln!(out, "\n{name}:");
        lifecycle_table(out, &segment.periods, style);
    }
}

fn lifecycle_table(out: &mut String, periods: &[LifecyclePeriod], style: Style) {
    let mut grid = Grid::new(vec![
        GridColumn::key("period"),
        GridColumn::figure("active"),
        GridColumn::figure("new"),
        GridColumn::figure("returning"),
        GridColumn::figure("resurrecting"),
        GridColumn::figure("dormant"),
    ]);
    for p in periods {
        grid.row(vec![
            period_cell(&p.period, p.complete),
            p.active.to_string(),
            p.new.to_string(),
            p.returning.to_string(),
            p.resurrecting.to_string(),
            if p.dormant == 0 {
                "0".to_string()
            } else {
                format!("−{}", p.dormant)
            },
        ]);
    }
    out.push_str(&grid.render(style.width));
    let mut summary = vec!["active = new + returning + resurrecting".to_string()];
    if periods.iter().any(|p| !p.complete) {
        summary.push("* period not over by as_of".to_string());
    }
    notes(out, &summary, style.width);
}

/// Days of the daily table shown: the last four weeks (JSON and CSV have every day).
const STICKINESS_DAYS_SHOWN: usize = 28;

fn stickiness(out: &mut String, table: &StickinessResult, style: Style) {
    let mut grid = Grid::new(
        ["day", "DAU", "WAU", "MAU", "DAU/MAU"]
            .into_iter()
            .enumerate()
            .map(|(i, name)| {
                if i == 0 {
                    GridColumn::key(name)
                } else {
                    GridColumn::figure(name)
                }
            })
            .collect(),
    );
    let shown = table.days.len().saturating_sub(STICKINESS_DAYS_SHOWN);
    for d in &table.days[shown..] {
        grid.row(vec![
            d.day.clone(),
            d.dau.to_string(),
            d.wau.to_string(),
            d.mau.to_string(),
            optional_percent(d.dau_mau),
        ]);
    }
    out.push_str(&grid.render(style.width));
    let mut summary = vec![format!(
        "DAU/MAU {} on average over the last 30 days",
        optional_percent(table.dau_mau_mean)
    )];
    if shown > 0 {
        summary.push(format!(
            "the last {STICKINESS_DAYS_SHOWN} days of {}",
            table.days.len()
        ));
    }
    notes(out, &summary, style.width);
    let longest = table
        .periods
        .iter()
        .map(|p| p.days_active.len())
        .max()
        .unwrap_or(0);
    let mut columns = vec![GridColumn::key(table.grain), GridColumn::figure("active")];
    columns.extend((1..=longest).map(|days| GridColumn::figure(format!("{days}d"))));
    if let Some(n) = table.at_least {
        columns.push(GridColumn::figure(format!("≥ {n}d")));
    }
    let mut grid = Grid::new(columns);
    for p in &table.periods {
        let mut cells = vec![period_cell(&p.period, p.complete), p.active.to_string()];
        cells.extend((0..longest).map(|i| p.days_active.get(i).map_or(String::new(), u64::to_string)));
        if table.at_least.is_some() {
            cells.push(optional_percent(p.share_at_least.flatten()));
        }
        grid.row(cells);
    }
    out.push('\n');
    out.push_str(&grid.render(style.width));
    let mut summary = vec![format!(
        "entities by their number of active days in the {}",
        table.grain
    )];
    if table.periods.iter().any(|p| !p.complete) {
        summary.push("* period not over by as_of".to_string());
    }
    notes(out, &summary, style.width);
}

/// A formula value as its `format` says: `number` (up to four decimals), `percent`, `money`.
fn formula_value(value: Option<f64>, format: &str) -> String {
    let Some(value) = value else {
        return "–".to_string();
    };
    match format {
        "percent" => percent(value),
        "money" => format!("{value:.2}"),
        _ => {
            let text = format!("{value:.4}");
            let text = text.trim_end_matches('0').trim_end_matches('.');
            if text == "-0" {
                "0".to_string()
            } else {
                text.to_string()
            }
        }
    }
}

fn formula(out: &mut String, result: &FormulaResult, style: Style) {
    let Some(rows) = &result.rows else {
        let value = match result.value {
            FormulaValue::Single(value) => value,
            FormulaValue::Grouped => None,
        };
        let _ = writeln!(out, "  {}", formula_value(value, result.format));
        return;
    };
    let by_period = rows.iter().any(|r| r.period.is_some());
    let segmented = rows.iter().any(|r| r.segment.is_some());
    let mut columns = vec![GridColumn::key(if by_period { "period" } else { "cohort" })];
    if segmented {
        columns.push(GridColumn::key("segment"));
    }
    columns.push(GridColumn::figure("value"));
    let mut grid = Grid::new(columns);
    for row in rows {
        let label = match (&row.period, &row.cohort) {
            (Some(period), _) => period_cell(period, row.complete.unwrap_or(true)),
            (None, Some(cohort)) => cohort.clone(),
            (None, None) => String::new(),
        };
        let mut cells = vec![label];
        if segmented {
            cells.push(segment_text(&row.segment));
        }
        cells.push(formula_value(row.value, result.format));
        grid.row(cells);
    }
    out.push_str(&grid.render(style.width));
    if rows.iter().any(|r| r.complete == Some(false)) {
        let _ = writeln!(out, "* period not over by as_of");
    }
}
