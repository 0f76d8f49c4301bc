//! The table of a funnel: per cohort row, each step's share of the members and of the step
//! before, and the median days it took.

use tenure::plan::funnel::{FunnelResult, FunnelStep};

use super::grid::{Grid, GridColumn};
use super::table::{CohortKeys, Style, notes, optional_percent, total_rows};

pub(super) fn funnel_table(out: &mut String, table: &FunnelResult, style: Style) {
    let keys = CohortKeys::of(table.cohorts.iter().map(|row| &row.segment));
    let mut columns = keys.columns();
    columns.extend(["size", "eligible"].map(GridColumn::figure));
    for name in &table.steps {
        columns.push(GridColumn::figure(name.as_str()));
        columns.push(GridColumn::figure("of prev"));
        columns.push(GridColumn::figure("days"));
    }
    let mut grid = Grid::new(columns);
    let step_cells = |cells: &mut Vec<String>, steps: &[FunnelStep]| {
        for step in steps {
            cells.push(format!("{} {}", optional_percent(step.rate), step.reached));
            cells.push(optional_percent(step.step_rate));
            cells.push(step.median_days.map_or("–".to_string(), |d| format!("{d:.1}")));
        }
    };
    for row in &table.cohorts {
        let mut cells = keys.cells(&row.cohort, &row.segment);
        cells.extend([row.size.to_string(), row.eligible.to_string()]);
        step_cells(&mut cells, &row.steps);
        grid.row(cells);
    }
    let per_value = table.totals.iter().flatten().map(|t| (&t.segment, &t.total));
    let totals = total_rows(per_value, &table.total);
    for (segment, total) in totals {
        let mut cells = keys.cells("total", &segment);
        cells.extend([total.size.to_string(), total.eligible.to_string()]);
        step_cells(&mut cells, &total.steps);
        grid.row(cells);
    }
    out.push_str(&grid.render(style.width));
    notes(
        out,
        &[
            "each step: share of the members and how many reached it".to_string(),
            "of prev: share of those at the step before".to_string(),
            "days: median from the step before".to_string(),
            format!("total: members whose {} window is over", table.within),
        ],
        style.width,
    );
}
