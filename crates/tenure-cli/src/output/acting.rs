//! Tables of the metrics that lead to action: uplift, win-back and health.

use std::fmt::Write;

use tenure::plan::health::{BandCounts, HealthResult};
use tenure::plan::{UpliftComparison, UpliftGroup, UpliftResult, WinbackPeriod, WinbackResult, WinbackTotal};

use super::grid::{Grid, GridColumn};
use super::table::{CohortKeys, Style, money, notes, optional_percent, period_cell, segment_heading};

pub(super) fn winback_tables(out: &mut String, winback: &WinbackResult, style: Style) {
    winback_table(out, &winback.periods, &winback.total, style);
    for segment in winback.segments.iter().flatten() {
        let _ = writeln!(out, "{}", segment_heading(&segment.segment));
        winback_table(out, &segment.periods, &segment.total, style);
    }
}

fn winback_table(out: &mut String, periods: &[WinbackPeriod], total: &WinbackTotal, style: Style) {
    let mut grid = Grid::new(vec![
        GridColumn::key("period"),
        GridColumn::figure("dormant"),
        GridColumn::figure("back"),
        GridColumn::figure("rate"),
    ]);
    for p in periods {
        grid.row(vec![
            period_cell(&p.period, p.complete),
            p.dormant.to_string(),
            p.returned.to_string(),
            optional_percent(p.rate),
        ]);
    }
    grid.row(vec![
        "total".to_string(),
        total.dormant.to_string(),
        total.returned.to_string(),
        optional_percent(total.rate),
    ]);
    out.push_str(&grid.render(style.width));
    let mut summary = vec!["total: periods whose window is over".to_string()];
    if periods.iter().any(|p| !p.complete) {
        summary.push("* window not over by as_of".to_string());
    }
    notes(out, &summary, style.width);
}

pub(super) fn uplift_table(out: &mut String, uplift: &UpliftResult, style: Style) {
    let keys = CohortKeys::of(uplift.cohorts.iter().map(|row| &row.segment));
    let mut columns = keys.columns();
    for name in [
        "treated",
        "rate",
        "control",
        "rate",
        "uplift",
        "95 % interval",
        "p",
    ] {
        columns.push(GridColumn::figure(name));
    }
    let mut grid = Grid::new(columns);
    let mut small = false;
    let mut row = |mut cells: Vec<String>, c: &UpliftComparison| {
        let count = |g: &UpliftGroup| format!("{}/{}", g.retained, g.eligible);
        let points = |value: f64| format!("{:+.1} pp", value * 100.0);
        small |= c.small;
        cells.extend([
            count(&c.treatment),
            optional_percent(c.treatment.rate),
            count(&c.control),
            optional_percent(c.control.rate),
            c.uplift.map_or("–".to_string(), points),
            match (c.low, c.high) {
                (Some(low), Some(high)) => format!("{} to {}", points(low), points(high)),
                _ => "–".to_string(),
            },
            c.p_value.map_or("–".to_string(), |p| {
                format!("{p:.3}{}", if c.small { " !" } else { "" })
            }),
        ]);
        grid.row(cells);
    };
    for cohort in &uplift.cohorts {
        row(keys.cells(&cohort.cohort, &cohort.segment), &cohort.comparison);
    }
    row(keys.cells("total", &None), &uplift.total);
    out.push_str(&grid.render(style.width));
    let mut summary = vec!["retained/eligible members; pp = percentage points".to_string()];
    if small {
        summary.push("! a group too small for the interval to be trusted".to_string());
    }
    if uplift.ungrouped > 0 || uplift.conflicting > 0 {
        summary.push(format!(
            "left out: {} members in neither group, {} assigned to both",
            uplift.ungrouped, uplift.conflicting
        ));
    }
    notes(out, &summary, style.width);
}

/// Entities listed at most in the terminal table (JSON and CSV list every one).
const AT_RISK_SHOWN: usize = 20;

pub(super) fn health_table(out: &mut String, health: &HealthResult, style: Style) {
    let _ = writeln!(
        out,
        "scores on {} ({} days of signals)",
        health.date, health.window_days
    );
    bands_grid(out, &health.scores, style);
    for segment in health.segments.iter().flatten() {
        let _ = writeln!(out, "{}", segment_heading(&segment.segment));
        bands_grid(out, &segment.scores, style);
    }
    let _ = writeln!(
        out,
        "at risk ({}): {} entities, by revenue at stake",
        health.at_risk_band,
        health.at_risk.len()
    );
    let mut columns = vec![
        GridColumn::key("entity"),
        GridColumn::figure("score"),
        GridColumn::figure("revenue"),
        GridColumn::figure("days since"),
    ];
    for component in &health.components {
        columns.push(GridColumn::figure(&component.name));
    }
    let mut grid = Grid::new(columns);
    for entity in health.at_risk.iter().take(AT_RISK_SHOWN) {
        let mut cells = vec![
            entity.entity.clone(),
            format!("{:.1}", entity.score),
            money(Some(entity.revenue)),
            entity.days_since_active.to_string(),
        ];
        cells.extend(
            entity
                .contributions
                .values()
                .map(|part| part.map_or("–".to_string(), |part| format!("{part:.1}"))),
        );
        grid.row(cells);
    }
    out.push_str(&grid.render(style.width));
    let mut summary = vec!["component columns: points each adds to the score".to_string()];
    if health.at_risk.len() > AT_RISK_SHOWN {
        summary.push(format!(
            "{} more in --format json or csv",
            health.at_risk.len() - AT_RISK_SHOWN
        ));
    }
    notes(out, &summary, style.width);
    if let Some(backtest) = &health.backtest {
        let _ = writeln!(
            out,
            "backtest: scored on {}, churned = no activity in the {} days since",
            backtest.date, backtest.days
        );
        let mut grid = Grid::new(vec![
            GridColumn::key("band then"),
            GridColumn::figure("entities"),
            GridColumn::figure("churned"),
            GridColumn::figure("churn rate"),
        ]);
        for band in &backtest.churn {
            grid.row(vec![
                band.band.clone(),
                band.entities.to_string(),
                band.churned.to_string(),
                optional_percent(band.rate),
            ]);
        }
        out.push_str(&grid.render(style.width));
    }
    if let Some(history) = &health.history {
        let _ = writeln!(out, "history: entities per band at the end of each period");
        let mut columns = vec![GridColumn::key("period"), GridColumn::key("scored on")];
        columns.extend(health.bands.iter().map(|band| GridColumn::figure(&band.name)));
        columns.extend([GridColumn::figure("unscored"), GridColumn::figure("mean score")]);
        let mut grid = Grid::new(columns);
        for period in history {
            let mut cells = vec![period.period.clone(), period.date.clone()];
            cells.extend(
                period
                    .scores
                    .distribution
                    .iter()
                    .map(|row| row.entities.to_string()),
            );
            cells.push(period.scores.unscored.to_string());
            cells.push(
                period
                    .scores
                    .mean_score
                    .map_or("–".to_string(), |m| format!("{m:.1}")),
            );
            grid.row(cells);
        }
        out.push_str(&grid.render(style.width));
    }
}

/// One population's bands.
fn bands_grid(out: &mut String, scores: &BandCounts, style: Style) {
    let mut grid = Grid::new(vec![
        GridColumn::key("band"),
        GridColumn::figure("entities"),
        GridColumn::figure("share"),
        GridColumn::figure("revenue"),
    ]);
    for row in &scores.distribution {
        grid.row(vec![
            row.band.clone(),
            row.entities.to_string(),
            optional_percent(row.share),
            money(Some(row.revenue)),
        ]);
    }
    out.push_str(&grid.render(style.width));
    let mean = scores.mean_score.map_or("–".to_string(), |m| format!("{m:.1}"));
    let mut summary = vec![format!(
        "{} entities scored, mean score {mean}",
        scores.population - scores.unscored
    )];
    if scores.unscored > 0 {
        summary.push(format!("{} without any signal", scores.unscored));
    }
    notes(out, &summary, style.width);
}
