//! A text grid: key columns on the left, figures right-aligned, folded into several blocks when
//! it is wider than the page, each block repeating the key columns.

use std::fmt::Write;

/// Spaces between two columns.
const GAP: usize = 2;

/// One column of a grid.
pub struct GridColumn {
    title: String,
    /// Figures are right-aligned; keys (cohort, period, segment) left-aligned.
    figure: bool,
    /// Marked columns (the cells of a cohort triangle) share one width, so the triangle reads
    /// as a regular grid.
    marked: bool,
}

impl GridColumn {
    /// A left-aligned key column.
    pub fn key(title: impl Into<String>) -> GridColumn {
        GridColumn {
            title: title.into(),
            figure: false,
            marked: false,
        }
    }

    /// A right-aligned figure column. Its cells end with a marker character (`*` or a space)
    /// so that the digits of marked and unmarked cells line up; the title lines up with them.
    pub fn marked(title: impl Into<String>) -> GridColumn {
        GridColumn {
            title: format!("{} ", title.into()),
            figure: true,
            marked: true,
        }
    }

    /// A right-aligned figure column without markers.
    pub fn figure(title: impl Into<String>) -> GridColumn {
        GridColumn {
            title: title.into(),
            figure: true,
            marked: false,
        }
    }
}

/// Rows of cells under columns; key columns come first.
pub struct Grid {
    columns: Vec<GridColumn>,
    rows: Vec<Vec<String>>,
}

impl Grid {
    /// An empty grid with these columns.
    pub fn new(columns: Vec<GridColumn>) -> Grid {
        Grid {
            columns,
            rows: Vec::new(),
        }
    }

    /// Adds a row; it must have one cell per column.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells);
    }

    /// The grid as lines no wider than `width` where possible: when the figures do not fit
    /// beside the keys, they are split into blocks, one under the other, separated by a blank
    /// line. No line ends with a space.
    pub fn render(&self, width: usize) -> String {
        let widths: Vec<usize> = self
            .columns
            .iter()
            .enumerate()
            .map(|(index, column)| {
                self.rows
                    .iter()
                    .map(|row| visible_width(&row[index]))
                    .chain([column.title.chars().count()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let marked_width = (0..widths.len())
            .filter(|i| self.columns[*i].marked)
            .map(|i| widths[i])
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = widths
            .iter()
            .zip(&self.columns)
            .map(|(width, column)| if column.marked { marked_width } else { *width })
            .collect();
        let keys: Vec<usize> = (0..self.columns.len())
            .filter(|i| !self.columns[*i].figure)
            .collect();
        let figures: Vec<usize> = (0..self.columns.len())
            .filter(|i| self.columns[*i].figure)
            .collect();
        let keys_width: usize = keys.iter().map(|i| widths[*i] + GAP).sum();
        let mut blocks: Vec<Vec<usize>> = Vec::new();
        let mut block: Vec<usize> = Vec::new();
        let mut used = keys_width;
        for &index in &figures {
            if !block.is_empty() && used + widths[index] > width {
                blocks.push(std::mem::take(&mut block));
                used = keys_width;
            }
            block.push(index);
            used += widths[index] + GAP;
        }
        blocks.push(block);
        let mut out = String::new();
        for (number, block) in blocks.iter().enumerate() {
            if number > 0 {
                out.push('\n');
            }
            let shown: Vec<usize> = keys.iter().chain(block).copied().collect();
            let titles: Vec<&str> = self.columns.iter().map(|c| c.title.as_str()).collect();
            self.line(&mut out, &shown, &widths, &titles);
            for row in &self.rows {
                let cells: Vec<&str> = row.iter().map(String::as_str).collect();
                self.line(&mut out, &shown, &widths, &cells);
            }
        }
        out
    }

    fn line(&self, out: &mut String, shown: &[usize], widths: &[usize], cells: &[&str]) {
        let mut line = String::new();
        for (position, &index) in shown.iter().enumerate() {
            if position > 0 {
                line.push_str(&" ".repeat(GAP));
            }
            let padding = " ".repeat(widths[index].saturating_sub(visible_width(cells[index])));
            if self.columns[index].figure {
                let _ = write!(line, "{padding}{}", cells[index]);
            } else {
                let _ = write!(line, "{}{padding}", cells[index]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The columns `text` takes on a terminal: its characters, less the colour sequences
/// (`ESC [ … m`) a shaded cell carries.
fn visible_width(text: &str) -> usize {
    let mut width = 0;
    let mut in_sequence = false;
    for c in text.chars() {
        match (in_sequence, c) {
            (false, '\u{1b}') => in_sequence = true,
            (false, _) => width += 1,
            (true, 'm') => in_sequence = false,
            (true, _) => {}
        }
    }
    width
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> Grid {
        let mut grid = Grid::new(vec![
            GridColumn::key("cohort"),
            GridColumn::figure("size"),
            GridColumn::marked("d0"),
            GridColumn::marked("d1"),
        ]);
        grid.row(vec![
            "2025-01".into(),
            "12".into(),
            "100.0% ".into(),
            "50.0%*".into(),
        ]);
        grid.row(vec!["total".into(), "3".into(), "9.0% ".into(), "· ".into()]);
        grid
    }

    #[test]
    fn figures_line_up_on_the_right_and_no_line_ends_in_a_space() {
        // cohort is 7 wide; size 4; d0 and d1 7 (the widest cell); two spaces between.
        assert_eq!(
            grid().render(120),
            "cohort   size      d0       d1\n\
             2025-01    12  100.0%    50.0%*\n\
             total       3    9.0%        ·\n"
        );
    }

    #[test]
    fn colour_sequences_take_no_width() {
        // The shaded cell is 6 columns wide on screen, as wide as the column: no padding.
        let mut grid = Grid::new(vec![GridColumn::key("cohort"), GridColumn::marked("d0")]);
        grid.row(vec![
            "2025-01".into(),
            "\u{1b}[48;2;0;34;78m50.0% \u{1b}[0m".into(),
        ]);
        grid.row(vec!["total".into(), "9.0% ".into()]);
        assert_eq!(
            grid.render(120),
            "cohort      d0\n2025-01  \u{1b}[48;2;0;34;78m50.0% \u{1b}[0m\ntotal     9.0%\n"
        );
    }

    #[test]
    fn a_grid_wider_than_the_page_folds_into_blocks_that_repeat_the_keys() {
        // keys take 9, size 6, d0 9: 24 fit in 25; d1 would need 33.
        assert_eq!(
            grid().render(25),
            "cohort   size      d0\n\
             2025-01    12  100.0%\n\
             total       3    9.0%\n\
             \n\
             cohort       d1\n\
             2025-01   50.0%*\n\
             total         ·\n"
        );
    }
}
