//! The table of revenue retention by cohort: one triangle each for NRR, GRR and logo retention.

use std::fmt::Write;

use tenure::plan::cohort_revenue::{CohortRevenuePeriod, CohortRevenueResult, CohortRevenueTotal};

use super::grid::{Grid, GridColumn};
use super::table::{CohortKeys, Style, money, notes, optional_percent, total_rows};

/// One figure of a cohort cell and of a total cell.
struct Figure {
    title: &'static str,
    cell: fn(&CohortRevenuePeriod) -> Option<f64>,
    total: fn(&CohortRevenueTotal) -> Option<f64>,
}

const FIGURES: [Figure; 3] = [
    Figure {
        title: "net revenue retention (NRR): the starting customers' revenue ÷ theirs in period 0",
        cell: |p| p.nrr,
        total: |t| t.nrr,
    },
    Figure {
        title: "gross revenue retention (GRR): the same, each customer capped at period 0's revenue",
        cell: |p| p.grr,
        total: |t| t.grr,
    },
    Figure {
        title: "logo retention: starting customers still paying ÷ starting customers",
        cell: |p| p.logo_retention,
        total: |t| t.logo_retention,
    },
];

pub(super) fn cohort_revenue_table(out: &mut String, table: &CohortRevenueResult, style: Style) {
    let letter = table.grain.chars().next().unwrap_or('m');
    let keys = CohortKeys::of(table.cohorts.iter().map(|row| &row.segment));
    let width = table.total.len();
    let labels: Vec<String> = (0..width).map(|k| format!("{letter}{k}")).collect();
    let mut incomplete = false;
    for figure in &FIGURES {
        let _ = writeln!(out, "  {}", figure.title);
        let mut columns = keys.columns();
        columns.extend(["size", "payers", "start"].map(GridColumn::figure));
        columns.extend(labels.iter().map(GridColumn::marked));
        let mut grid = Grid::new(columns);
        for row in &table.cohorts {
            let mut cells = keys.cells(&row.cohort, &row.segment);
            cells.extend([
                row.size.to_string(),
                row.customers_start.to_string(),
                money(Some(row.revenue_start)),
            ]);
            for k in 0..width {
                cells.push(match row.periods.get(k) {
                    Some(period) => {
                        incomplete |= !period.complete;
                        let mark = if period.complete { ' ' } else { '*' };
                        format!("{}{mark}", optional_percent((figure.cell)(period)))
                    }
                    None => String::new(),
                });
            }
            grid.row(cells);
        }
        let per_value = table.totals.iter().flatten().map(|t| (&t.segment, &t.total));
        let totals = total_rows(per_value, &table.total);
        for (segment, total) in totals {
            let mut cells = keys.cells("total", &segment);
            let base = total.first();
            cells.extend([String::new(), String::new(), money(base.map(|t| t.revenue_start))]);
            cells.extend(
                total
                    .iter()
                    .map(|t| format!("{} ", optional_percent((figure.total)(t)))),
            );
            cells.resize(keys.columns().len() + 3 + width, String::new());
            grid.row(cells);
        }
        out.push_str(&grid.render(style.width));
    }
    let mut summary = vec![
        "payers: members with revenue in period 0 (the starting customers)".to_string(),
        "total: cohort rows whose period is over".to_string(),
    ];
    if incomplete {
        summary.push("* period not over by as_of".to_string());
    }
    notes(out, &summary, style.width);
}
