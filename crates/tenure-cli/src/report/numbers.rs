//! The numbers under each chart: a metric's figures of the long CSV form, as an HTML table with
//! one row per (cohort, segment, period) and one column per measure, and the same figures as a
//! CSV file to download (a `data:` address, so the page stays one file).

use std::fmt::Write;

use super::svg::escape;
use tenure::tidy::{Record, to_csv};

/// Fields of a [`Record`].
const COHORT: usize = 2;
const SEGMENT: usize = 3;
const PERIOD: usize = 4;
const MEASURE: usize = 5;
const VALUE: usize = 6;

/// The table of `records` (one metric's), and a link that downloads them as `<metric>.csv`.
pub(crate) fn table(metric: &str, records: &[Record]) -> String {
    let keys: Vec<(usize, &str)> = [(COHORT, "cohort"), (SEGMENT, "segment"), (PERIOD, "period")]
        .into_iter()
        .filter(|(field, _)| records.iter().any(|r| !r[*field].is_empty()))
        .collect();
    let mut measures: Vec<&str> = Vec::new();
    let mut rows: Vec<(Vec<&str>, Vec<Option<&str>>)> = Vec::new();
    let mut row_of: std::collections::HashMap<Vec<&str>, usize> = std::collections::HashMap::new();
    for record in records {
        let measure = match measures.iter().position(|m| *m == record[MEASURE]) {
            Some(index) => index,
            None => {
                measures.push(&record[MEASURE]);
                measures.len() - 1
            }
        };
        let key: Vec<&str> = keys.iter().map(|(field, _)| record[*field].as_str()).collect();
        let row = *row_of.entry(key.clone()).or_insert_with(|| {
            rows.push((key, Vec::new()));
            rows.len() - 1
        });
        let values = &mut rows[row].1;
        if values.len() <= measure {
            values.resize(measure + 1, None);
        }
        values[measure] = Some(&record[VALUE]);
    }
    let mut html = String::from("<div class=\"scroll\"><table class=\"numbers\"><thead><tr>");
    for (_, title) in &keys {
        let _ = write!(html, "<th scope=\"col\">{title}</th>");
    }
    for measure in &measures {
        let _ = write!(
            html,
            "<th scope=\"col\" class=\"figure\">{}</th>",
            escape(measure)
        );
    }
    html.push_str("</tr></thead><tbody>");
    for (key, values) in &rows {
        html.push_str("<tr>");
        for (index, cell) in key.iter().enumerate() {
            let tag = if index == 0 { "th scope=\"row\"" } else { "td" };
            let close = if index == 0 { "th" } else { "td" };
            let _ = write!(html, "<{tag}>{}</{close}>", escape(cell));
        }
        for index in 0..measures.len() {
            let value = values.get(index).copied().flatten().unwrap_or("");
            let _ = write!(html, "<td class=\"figure\">{}</td>", escape(value));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    let _ = write!(
        html,
        "<p><a class=\"download\" download=\"{}.csv\" href=\"data:text/csv;charset=utf-8,{}\">Download these figures as CSV</a></p>",
        escape(metric),
        percent_encoded(&to_csv(records))
    );
    html
}

/// `text` with every byte outside the unreserved set of RFC 3986 written as `%XX`.
fn percent_encoded(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(cohort: &str, period: &str, measure: &str, value: &str) -> Record {
        [
            "kept".into(),
            "retention".into(),
            cohort.into(),
            String::new(),
            period.into(),
            measure.into(),
            value.into(),
        ]
    }

    #[test]
    fn figures_are_pivoted_into_one_row_per_cell_and_one_column_per_measure() {
        let records = vec![
            record("2025-01", "7", "size", "3"),
            record("2025-01", "7", "rate", "0.5"),
            record("2025-02", "7", "size", "1"),
        ];
        let html = table("kept", &records);
        // The segment column is empty everywhere and left out; 2025-02 has no rate.
        assert!(html.contains(
            "<tr><th scope=\"col\">cohort</th><th scope=\"col\">period</th>\
             <th scope=\"col\" class=\"figure\">size</th><th scope=\"col\" class=\"figure\">rate</th></tr>"
        ));
        assert!(html.contains(
            "<tr><th scope=\"row\">2025-01</th><td>7</td><td class=\"figure\">3</td><td class=\"figure\">0.5</td></tr>"
        ));
        assert!(html.contains(
            "<tr><th scope=\"row\">2025-02</th><td>7</td><td class=\"figure\">1</td><td class=\"figure\"></td></tr>"
        ));
        assert!(html.contains("download=\"kept.csv\""));
    }

    #[test]
    fn csv_text_is_percent_encoded_for_the_address() {
        assert_eq!(percent_encoded("a,b\n\"é\""), "a%2Cb%0A%22%C3%A9%22");
    }
}
