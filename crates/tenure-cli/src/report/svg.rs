//! Charts as inline SVG: a cohort heatmap, lines over periods, stacked bars, a bridge and
//! intervals. Each chart is a string of SVG whose colours come from the page's stylesheet
//! (classes `s0` … `s5`, `axis`, `grid`), so the light and dark themes both apply, except the
//! heatmap's scale, which is fixed (cividis) and picks a readable text colour per cell.

use std::fmt::Write;

/// How a figure reads on an axis or in a cell.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Format {
    /// A share, written as a percentage.
    Percent,
    /// A count or another plain number.
    Number,
    /// An amount of money.
    Money,
}

impl Format {
    /// `value` as people read it: `85.2%`, `1,234`, `1.2k`.
    pub(crate) fn text(self, value: f64) -> String {
        // A loss of nothing is drawn as −0.0; it reads as 0.
        let value = if value == 0.0 { 0.0 } else { value };
        match self {
            Format::Percent => format!("{:.1}%", value * 100.0),
            Format::Number | Format::Money => short_number(value),
        }
    }
}

/// A number in at most four significant characters and a suffix: `950`, `12.5k`, `3.1M`.
fn short_number(value: f64) -> String {
    let magnitude = value.abs();
    let (scaled, suffix) = if magnitude >= 1e9 {
        (value / 1e9, "G")
    } else if magnitude >= 1e6 {
        (value / 1e6, "M")
    } else if magnitude >= 1e4 {
        (value / 1e3, "k")
    } else {
        (value, "")
    };
    if suffix.is_empty() && scaled.fract() == 0.0 {
        format!("{scaled:.0}")
    } else if scaled.abs() >= 100.0 {
        format!("{scaled:.0}{suffix}")
    } else {
        format!("{scaled:.1}{suffix}")
    }
}

/// Text made safe inside SVG or HTML, in element content and in quoted attributes.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Cividis (a sequential scale readable with every common colour-vision deficiency), as nine
/// stops from 0 to 1.
const CIVIDIS: [(u8, u8, u8); 9] = [
    (0x00, 0x22, 0x4e),
    (0x12, 0x35, 0x70),
    (0x3b, 0x49, 0x6c),
    (0x57, 0x5d, 0x6d),
    (0x70, 0x71, 0x73),
    (0x8a, 0x87, 0x79),
    (0xa6, 0x9d, 0x75),
    (0xc4, 0xb5, 0x6c),
    (0xfe, 0xe8, 0x38),
];

/// The colour of `t` in 0..=1 on the cividis scale, as `#rrggbb`, and whether dark text reads
/// on it.
pub(crate) fn cividis(t: f64) -> (String, bool) {
    let (r, g, b) = cividis_rgb(t);
    (format!("#{r:02x}{g:02x}{b:02x}"), dark_text_reads_on(r, g, b))
}

/// The colour of `t` in 0..=1 on the cividis scale (out of range and NaN at the ends).
pub(crate) fn cividis_rgb(t: f64) -> (u8, u8, u8) {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let position = t * (CIVIDIS.len() - 1) as f64;
    let low = (position.floor() as usize).min(CIVIDIS.len() - 2);
    let fraction = position - low as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * fraction).round() as u8;
    let (a, b) = (CIVIDIS[low], CIVIDIS[low + 1]);
    (mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Whether dark text reads on a background of this colour (by its luminance, with the sRGB
/// weights and without the gamma curve: enough to choose between dark and light).
pub(crate) fn dark_text_reads_on(r: u8, g: u8, b: u8) -> bool {
    0.2126 * f64::from(r) + 0.7152 * f64::from(g) + 0.0722 * f64::from(b) > 128.0
}

/// One cell of a heatmap.
pub(crate) struct HeatCell {
    /// The figure that colours the cell; `None` leaves it empty (nothing observable yet).
    pub value: Option<f64>,
    /// What the cell says.
    pub text: String,
    /// What hovering the cell says: the counts behind the figure.
    pub detail: String,
    /// Whether the figure is final (every member's period is over).
    pub complete: bool,
}

/// One row of a heatmap.
pub(crate) struct HeatRow {
    /// The row's label (cohort and breakdown values).
    pub label: String,
    /// The row's size, written after the label.
    pub size: String,
    /// One cell per column.
    pub cells: Vec<HeatCell>,
    /// A total row is set apart by a rule above it.
    pub total: bool,
}

/// A cohort heatmap: rows of cells under column titles, each cell coloured by its value over
/// `domain` (values beyond it take the end colours). Incomplete cells are hatched and outlined
/// with a dashed line; empty ones are a dotted outline.
pub(crate) fn heatmap(columns: &[String], rows: &[HeatRow], domain: (f64, f64)) -> String {
    const CELL_W: f64 = 58.0;
    const CELL_H: f64 = 22.0;
    const LABEL_W: f64 = 190.0;
    const SIZE_W: f64 = 56.0;
    const TOP: f64 = 24.0;
    let width = LABEL_W + SIZE_W + CELL_W * columns.len() as f64 + 4.0;
    let height = TOP + CELL_H * rows.len() as f64 + 8.0;
    let mut svg = open(width, height, "heatmap");
    let _ = write!(
        svg,
        "<defs><pattern id=\"hatch\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" \
         patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"none\"/>\
         <line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#ffffff\" stroke-opacity=\"0.45\" stroke-width=\"2\"/>\
         </pattern></defs>"
    );
    let _ = write!(
        svg,
        "<text class=\"axis\" x=\"{}\" y=\"16\" text-anchor=\"end\">size</text>",
        LABEL_W + SIZE_W - 6.0
    );
    for (index, title) in columns.iter().enumerate() {
        let x = LABEL_W + SIZE_W + CELL_W * index as f64 + CELL_W / 2.0;
        let _ = write!(
            svg,
            "<text class=\"axis\" x=\"{x}\" y=\"16\" text-anchor=\"middle\">{}</text>",
            escape(title)
        );
    }
    let span = (domain.1 - domain.0).max(f64::EPSILON);
    for (r, row) in rows.iter().enumerate() {
        let y = TOP + CELL_H * r as f64;
        if row.total {
            let _ = write!(
                svg,
                "<line class=\"rule\" x1=\"0\" x2=\"{width}\" y1=\"{y}\" y2=\"{y}\"/>"
            );
        }
        let _ = write!(
            svg,
            "<text class=\"label{}\" x=\"0\" y=\"{}\">{}</text>\
             <text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            if row.total { " strong" } else { "" },
            y + 15.0,
            escape(&row.label),
            LABEL_W + SIZE_W - 6.0,
            y + 15.0,
            escape(&row.size)
        );
        for (c, cell) in row.cells.iter().enumerate() {
            let x = LABEL_W + SIZE_W + CELL_W * c as f64;
            let data = format!(
                "data-row=\"{r}\" data-column=\"{c}\" data-value=\"{}\" data-complete=\"{}\"",
                cell.value.map_or(String::new(), |v| v.to_string()),
                cell.complete
            );
            let Some(value) = cell.value else {
                let _ = write!(
                    svg,
                    "<g class=\"cell empty\" {data}><title>{}</title>\
                     <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"void\"/>\
                     <text class=\"muted\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">·</text></g>",
                    escape(&cell.detail),
                    x + 1.0,
                    y + 1.0,
                    CELL_W - 2.0,
                    CELL_H - 2.0,
                    x + CELL_W / 2.0,
                    y + 15.0
                );
                continue;
            };
            let (fill, dark_text) = cividis((value - domain.0) / span);
            let state = if cell.complete { "complete" } else { "incomplete" };
            let _ = write!(
                svg,
                "<g class=\"cell {state}\" {data}><title>{}</title>\
                 <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{fill}\"/>",
                escape(&cell.detail),
                x + 1.0,
                y + 1.0,
                CELL_W - 2.0,
                CELL_H - 2.0,
            );
            if !cell.complete {
                let _ = write!(
                    svg,
                    "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"url(#hatch)\" \
                     stroke=\"currentColor\" stroke-dasharray=\"3 2\"/>",
                    x + 1.5,
                    y + 1.5,
                    CELL_W - 3.0,
                    CELL_H - 3.0,
                );
            }
            let _ = write!(
                svg,
                "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" fill=\"{}\">{}</text></g>",
                x + CELL_W / 2.0,
                y + 15.0,
                if dark_text { "#111111" } else { "#ffffff" },
                escape(&cell.text)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One line of a line chart.
pub(crate) struct Series {
    /// The name in the legend (and on hover).
    pub name: String,
    /// One point per x position; `None` breaks the line.
    pub points: Vec<Option<f64>>,
    /// How the line is drawn.
    pub style: LineStyle,
}

/// How a line is drawn.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum LineStyle {
    /// A coloured line, the n-th colour of the palette, in the legend.
    Colour(usize),
    /// A thin faint line (one cohort among many), not in the legend.
    Faint,
    /// The bold line that summarises the faint ones.
    Bold,
}

/// A shaded range at one x position (the norms of a column).
pub(crate) struct Band {
    /// The x position.
    pub at: usize,
    /// The range.
    pub low: f64,
    /// The range.
    pub high: f64,
}

/// Plot area of the charts over periods.
const PLOT_W: f64 = 640.0;
const PLOT_H: f64 = 220.0;
const LEFT: f64 = 56.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 44.0;

/// A y axis from `min` to `max` with about five round ticks.
struct Axis {
    min: f64,
    max: f64,
    ticks: Vec<f64>,
    format: Format,
}

impl Axis {
    fn new(low: f64, high: f64, format: Format) -> Axis {
        let (low, high) = if (high - low).abs() < f64::EPSILON {
            (low.min(0.0), if high > 0.0 { high * 1.1 } else { 1.0 })
        } else {
            (low, high)
        };
        let raw = (high - low) / 5.0;
        let power = 10f64.powf(raw.log10().floor());
        let step = [1.0, 2.0, 2.5, 5.0, 10.0]
            .iter()
            .map(|m| m * power)
            .find(|s| *s >= raw)
            .unwrap_or(10.0 * power);
        let min = (low / step).floor() * step;
        let max = (high / step).ceil() * step;
        let ticks = (0..=((max - min) / step).round() as i64)
            .map(|i| min + step * i as f64)
            .collect();
        Axis {
            min,
            max,
            ticks,
            format,
        }
    }

    fn y(&self, value: f64) -> f64 {
        TOP + PLOT_H - (value - self.min) / (self.max - self.min) * PLOT_H
    }

    /// Grid lines and tick labels.
    fn draw(&self, svg: &mut String) {
        for tick in &self.ticks {
            let y = self.y(*tick);
            let _ = write!(
                svg,
                "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{y}\" y2=\"{y}\"/>\
                 <text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
                LEFT + PLOT_W,
                LEFT - 6.0,
                y + 4.0,
                self.format.text(*tick)
            );
        }
    }
}

/// The x position of slot `index` of `count`, each slot centred in its share of the width.
fn slot_x(index: usize, count: usize) -> f64 {
    LEFT + PLOT_W * (index as f64 + 0.5) / count.max(1) as f64
}

/// Period labels under the plot, thinned so that they do not overlap.
fn x_labels(svg: &mut String, labels: &[String]) {
    let widest = labels.iter().map(|l| l.chars().count()).max().unwrap_or(1) as f64 * 6.2 + 6.0;
    let room = PLOT_W / labels.len().max(1) as f64;
    let every = (widest / room).ceil().max(1.0) as usize;
    for (index, label) in labels.iter().enumerate() {
        if index % every != 0 {
            continue;
        }
        let _ = write!(
            svg,
            "<text class=\"axis\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
            slot_x(index, labels.len()),
            TOP + PLOT_H + 16.0,
            escape(label)
        );
    }
}

/// A legend row under the plot.
fn legend(svg: &mut String, entries: &[(String, String)]) {
    let mut x = LEFT;
    for (class, name) in entries {
        let _ = write!(
            svg,
            "<rect class=\"{class}\" x=\"{x}\" y=\"{}\" width=\"12\" height=\"12\"/>\
             <text class=\"axis\" x=\"{}\" y=\"{}\">{}</text>",
            TOP + PLOT_H + 26.0,
            x + 16.0,
            TOP + PLOT_H + 36.0,
            escape(name)
        );
        x += 28.0 + name.chars().count() as f64 * 7.0;
    }
}

fn open(width: f64, height: f64, class: &str) -> String {
    format!(
        "<svg class=\"chart {class}\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" \
         width=\"{width}\" height=\"{height}\" role=\"img\">"
    )
}

/// Lines over x positions, with shaded bands drawn behind them.
pub(crate) fn lines(labels: &[String], series: &[Series], bands: &[Band], format: Format) -> String {
    let values = series
        .iter()
        .flat_map(|s| s.points.iter().flatten())
        .chain(bands.iter().flat_map(|b| [&b.low, &b.high]));
    let (low, high) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    let (low, high) = if low.is_finite() {
        (low.min(0.0), high)
    } else {
        (0.0, 1.0)
    };
    let high = if format == Format::Percent {
        high.max(1.0).min(high.max(0.05))
    } else {
        high
    };
    let axis = Axis::new(low, high, format);
    let mut svg = open(LEFT + PLOT_W + 8.0, TOP + PLOT_H + BOTTOM, "lines");
    axis.draw(&mut svg);
    let count = labels.len();
    for band in bands {
        let x = slot_x(band.at, count);
        let half = (PLOT_W / count.max(1) as f64 * 0.35).min(18.0);
        let _ = write!(
            svg,
            "<rect class=\"band\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"><title>norm {} – {}</title></rect>",
            x - half,
            axis.y(band.high),
            half * 2.0,
            (axis.y(band.low) - axis.y(band.high)).max(1.0),
            format.text(band.low),
            format.text(band.high)
        );
    }
    let mut entries = Vec::new();
    // Faint lines first, so that the bold and coloured ones are drawn over them.
    let mut ordered: Vec<&Series> = series.iter().filter(|s| s.style == LineStyle::Faint).collect();
    ordered.extend(series.iter().filter(|s| s.style != LineStyle::Faint));
    for line in ordered {
        let class = match line.style {
            LineStyle::Colour(n) => format!("line s{}", n % 6),
            LineStyle::Faint => "line faint".to_string(),
            LineStyle::Bold => "line bold".to_string(),
        };
        let mut path = String::new();
        let mut pen_down = false;
        for (index, point) in line.points.iter().enumerate() {
            match point {
                Some(value) => {
                    let command = if pen_down { 'L' } else { 'M' };
                    let _ = write!(path, "{command}{:.1},{:.1}", slot_x(index, count), axis.y(*value));
                    pen_down = true;
                }
                None => pen_down = false,
            }
        }
        let _ = write!(
            svg,
            "<path class=\"{class}\" d=\"{path}\"><title>{}</title></path>",
            escape(&line.name)
        );
        if line.style != LineStyle::Faint {
            // Points, so that a line of one period is seen too.
            for (index, point) in line.points.iter().enumerate() {
                if let Some(value) = point {
                    let _ = write!(
                        svg,
                        "<circle class=\"{class}\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\"><title>{} {}: {}</title></circle>",
                        slot_x(index, count),
                        axis.y(*value),
                        escape(&line.name),
                        escape(&labels[index]),
                        format.text(*value)
                    );
                }
            }
            let swatch = match line.style {
                LineStyle::Colour(n) => format!("fill s{}", n % 6),
                _ => "fill bold".to_string(),
            };
            entries.push((swatch, line.name.clone()));
        }
    }
    x_labels(&mut svg, labels);
    legend(&mut svg, &entries);
    svg.push_str("</svg>");
    svg
}

/// One layer of stacked bars: a value per x position, drawn up when positive and down when
/// negative, in the n-th colour.
pub(crate) struct Layer {
    /// The name in the legend.
    pub name: String,
    /// One value per x position.
    pub values: Vec<f64>,
    /// The palette colour.
    pub colour: usize,
}

/// Bars per x position, the layers stacked away from zero (positive ones up, negative down).
pub(crate) fn stacked_bars(labels: &[String], layers: &[Layer], format: Format) -> String {
    let count = labels.len();
    let up: Vec<f64> = (0..count)
        .map(|i| layers.iter().map(|l| l.values[i].max(0.0)).sum())
        .collect();
    let down: Vec<f64> = (0..count)
        .map(|i| layers.iter().map(|l| l.values[i].min(0.0)).sum())
        .collect();
    let high = up.iter().copied().fold(0.0, f64::max);
    let low = down.iter().copied().fold(0.0, f64::min);
    let axis = Axis::new(low, high, format);
    let mut svg = open(LEFT + PLOT_W + 8.0, TOP + PLOT_H + BOTTOM, "bars");
    axis.draw(&mut svg);
    let slot = PLOT_W / count.max(1) as f64;
    let bar = (slot * 0.7).max(1.0);
    for (index, label) in labels.iter().enumerate() {
        let (mut above, mut below) = (0.0, 0.0);
        let x = slot_x(index, count) - bar / 2.0;
        for layer in layers {
            let value = layer.values[index];
            if value == 0.0 {
                continue;
            }
            let (from, to) = if value > 0.0 {
                above += value;
                (above - value, above)
            } else {
                below += value;
                (below - value, below)
            };
            let (top, bottom) = (axis.y(from.max(to)), axis.y(from.min(to)));
            let _ = write!(
                svg,
                "<rect class=\"fill s{}\" x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar:.1}\" height=\"{:.1}\">\
                 <title>{} {}: {}</title></rect>",
                layer.colour % 6,
                (bottom - top).max(0.5),
                escape(label),
                escape(&layer.name),
                format.text(value)
            );
        }
    }
    let zero = axis.y(0.0);
    let _ = write!(
        svg,
        "<line class=\"rule\" x1=\"{LEFT}\" x2=\"{}\" y1=\"{zero}\" y2=\"{zero}\"/>",
        LEFT + PLOT_W
    );
    x_labels(&mut svg, labels);
    let entries: Vec<(String, String)> = layers
        .iter()
        .map(|l| (format!("fill s{}", l.colour % 6), l.name.clone()))
        .collect();
    legend(&mut svg, &entries);
    svg.push_str("</svg>");
    svg
}

/// One step of a bridge.
pub(crate) enum Step {
    /// A level drawn from zero (the start and the end).
    Level(String, f64),
    /// A change drawn from the running level: up when positive, down when negative.
    Change(String, f64),
}

/// A bridge (waterfall): from a starting level through each change to the final level.
pub(crate) fn bridge(steps: &[Step], format: Format) -> String {
    let mut level = 0.0;
    let mut spans = Vec::with_capacity(steps.len());
    for step in steps {
        match step {
            Step::Level(name, value) => {
                level = *value;
                spans.push((name.as_str(), 0.0, *value, "fill level", *value));
            }
            Step::Change(name, change) => {
                let class = if *change >= 0.0 { "fill gain" } else { "fill loss" };
                spans.push((name.as_str(), level, level + change, class, *change));
                level += change;
            }
        }
    }
    let high = spans.iter().map(|s| s.1.max(s.2)).fold(0.0, f64::max);
    let low = spans.iter().map(|s| s.1.min(s.2)).fold(0.0, f64::min);
    let axis = Axis::new(low, high, format);
    let mut svg = open(LEFT + PLOT_W + 8.0, TOP + PLOT_H + BOTTOM - 14.0, "bridge");
    axis.draw(&mut svg);
    let count = spans.len();
    let bar = PLOT_W / count.max(1) as f64 * 0.6;
    for (index, (name, from, to, class, figure)) in spans.iter().enumerate() {
        let x = slot_x(index, count) - bar / 2.0;
        let (top, bottom) = (axis.y(from.max(*to)), axis.y(from.min(*to)));
        let _ = write!(
            svg,
            "<rect class=\"{class}\" x=\"{x:.1}\" y=\"{top:.1}\" width=\"{bar:.1}\" height=\"{:.1}\">\
             <title>{}: {}</title></rect>\
             <text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            (bottom - top).max(0.5),
            escape(name),
            format.text(*figure),
            x + bar / 2.0,
            top - 4.0,
            format.text(*figure)
        );
    }
    let labels: Vec<String> = spans.iter().map(|s| s.0.to_string()).collect();
    x_labels(&mut svg, &labels);
    svg.push_str("</svg>");
    svg
}

/// One row of an interval plot.
pub(crate) struct Interval {
    /// The row's label.
    pub label: String,
    /// The estimate.
    pub point: Option<f64>,
    /// The interval's ends.
    pub low: Option<f64>,
    /// The interval's ends.
    pub high: Option<f64>,
}

/// Estimates with their intervals, one row each, around a zero line.
pub(crate) fn intervals(rows: &[Interval], format: Format) -> String {
    const ROW: f64 = 22.0;
    const LABEL: f64 = 150.0;
    const WIDTH: f64 = 480.0;
    let values = rows.iter().flat_map(|r| [r.low, r.high, r.point]).flatten();
    let (low, high) = values.fold((0.0f64, 0.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let reach = low.abs().max(high.abs()).max(0.01) * 1.1;
    let x = |value: f64| LABEL + WIDTH / 2.0 + value / reach * WIDTH / 2.0;
    let height = ROW * rows.len() as f64 + 30.0;
    let mut svg = open(LABEL + WIDTH + 10.0, height, "intervals");
    let _ = write!(
        svg,
        "<line class=\"rule\" x1=\"{0}\" x2=\"{0}\" y1=\"4\" y2=\"{1}\"/>\
         <text class=\"axis\" x=\"{0}\" y=\"{2}\" text-anchor=\"middle\">0</text>\
         <text class=\"axis\" x=\"{3}\" y=\"{2}\" text-anchor=\"middle\">{4}</text>\
         <text class=\"axis\" x=\"{5}\" y=\"{2}\" text-anchor=\"middle\">{6}</text>",
        x(0.0),
        height - 24.0,
        height - 8.0,
        x(-reach / 1.1),
        format.text(-reach / 1.1),
        x(reach / 1.1),
        format.text(reach / 1.1)
    );
    for (index, row) in rows.iter().enumerate() {
        let y = 4.0 + ROW * index as f64 + ROW / 2.0;
        let _ = write!(
            svg,
            "<text class=\"label\" x=\"0\" y=\"{}\">{}</text>",
            y + 4.0,
            escape(&row.label)
        );
        if let (Some(low), Some(high)) = (row.low, row.high) {
            let _ = write!(
                svg,
                "<line class=\"line s0\" x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{y}\" y2=\"{y}\"/>",
                x(low),
                x(high)
            );
        }
        if let Some(point) = row.point {
            let _ = write!(
                svg,
                "<circle class=\"fill s0\" cx=\"{:.1}\" cy=\"{y}\" r=\"4\"><title>{}: {} ({} to {})</title></circle>",
                x(point),
                escape(&row.label),
                format.text(point),
                row.low.map_or("–".to_string(), |v| format.text(v)),
                row.high.map_or("–".to_string(), |v| format.text(v))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_short_and_shares_as_percentages() {
        assert_eq!(Format::Number.text(950.0), "950");
        assert_eq!(Format::Number.text(12_500.0), "12.5k");
        assert_eq!(Format::Money.text(3_140_000.0), "3.1M");
        assert_eq!(Format::Number.text(2.25), "2.2");
        assert_eq!(Format::Percent.text(0.8525), "85.2%");
    }

    #[test]
    fn the_scale_runs_from_dark_blue_to_yellow_and_text_reads_on_it() {
        assert_eq!(cividis(0.0), ("#00224e".to_string(), false));
        assert_eq!(cividis(1.0), ("#fee838".to_string(), true));
        // Half-way between the 5th and 6th stops.
        assert_eq!(cividis(0.5625).0, "#7d7c76");
        assert_eq!(cividis(f64::NAN).0, "#00224e");
    }

    #[test]
    fn axes_end_on_round_ticks() {
        let axis = Axis::new(0.0, 0.87, Format::Percent);
        assert_eq!((axis.min, axis.max), (0.0, 1.0));
        assert_eq!(axis.ticks.len(), 6);
        // A range of 540 in five steps wants 108 each: the round step above is 200.
        let axis = Axis::new(-130.0, 410.0, Format::Money);
        assert_eq!((axis.min, axis.max), (-200.0, 600.0));
        assert_eq!(axis.ticks, vec![-200.0, 0.0, 200.0, 400.0, 600.0]);
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
