//! What differs between SQL engines: quoting, time zones, calendar arithmetic, number series.
//! Everything else the compiler writes is plain SQL that the four engines read alike.

use tenure_plan::{DurationUnit, Format};

/// The interval keyword of a calendar unit, and how many of it a duration's count is.
fn interval(count: u32, unit: DurationUnit) -> (u64, &'static str) {
    match unit {
        DurationUnit::Hour => (u64::from(count), "HOUR"),
        DurationUnit::Day => (u64::from(count), "DAY"),
        DurationUnit::Week => (u64::from(count) * 7, "DAY"),
        DurationUnit::Month => (u64::from(count), "MONTH"),
    }
}

/// One SQL engine's spelling of what the compiler needs.
pub trait Dialect {
    /// The dialect's name, as `tenure sql --dialect` takes it.
    fn name(&self) -> &'static str;

    /// A quoted identifier: any name, even one holding quotes, spaces or keywords.
    fn identifier(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    /// A table as the config names it (`schema.table` or `table`), each part quoted.
    fn table(&self, name: &str) -> String {
        name.split('.')
            .map(|part| self.identifier(part))
            .collect::<Vec<_>>()
            .join(".")
    }

    /// A quoted text literal: any text, even one holding quotes, backslashes or comment markers.
    fn string(&self, text: &str) -> String {
        format!("'{}'", text.replace('\'', "''"))
    }

    /// The keyword (with its trailing space) that has a CTE computed once however often the
    /// statement reads it, where the engine would otherwise compute it at every reference.
    fn materialized(&self) -> &'static str {
        ""
    }

    /// What follows a statement to enable what it uses (ClickHouse's `SETTINGS`).
    fn statement_settings(&self) -> &'static str {
        ""
    }

    /// A relation of `entity` and `label` (text) holding `rows`: a segment's labels, computed
    /// outside the database.
    fn labels(&self, rows: &[(String, Option<String>)]) -> String {
        let text = self.text("NULL");
        if rows.is_empty() {
            return format!("SELECT {text} AS entity, {text} AS label WHERE 1 = 0");
        }
        let values: Vec<String> = rows
            .iter()
            .map(|(entity, label)| {
                let label = label.as_deref().map_or(text.clone(), |l| self.string(l));
                format!("({}, {label})", self.string(entity))
            })
            .collect();
        format!(
            "SELECT entity, label FROM (VALUES {}) AS labels(entity, label)",
            values.join(", ")
        )
    }

    /// The relation a file source reads, where the engine can read files itself.
    fn file(&self, _path: &str, _format: Format) -> Option<String> {
        None
    }

    /// An instant from a time column's value (a timestamp with zone, or text in RFC 3339).
    fn instant(&self, value: &str) -> String;

    /// The local calendar date of `instant` in the zone `zone` (a quoted literal).
    fn local_date(&self, instant: &str, zone: &str) -> String;

    /// The instant of the local midnight that starts date `date` in zone `zone` (a quoted
    /// literal).
    fn local_midnight(&self, date: &str, zone: &str) -> String;

    /// The date after `date`.
    fn next_day(&self, date: &str) -> String {
        format!("({date} + 1)")
    }

    /// Days from 1970-01-01 to `date`.
    fn days_since_epoch(&self, date: &str) -> String;

    /// The date `months` (a whole-number expression) calendar months after `date`: the same day
    /// of the month, or the month's last day where it has no such day.
    fn add_months(&self, date: &str, months: &str) -> String;

    /// `year × 12 + month − 1` of `date`.
    fn month_index(&self, date: &str) -> String {
        format!(
            "(CAST(EXTRACT(YEAR FROM {date}) AS BIGINT) * 12 + CAST(EXTRACT(MONTH FROM {date}) AS BIGINT) - 1)"
        )
    }

    /// A date literal.
    fn date(&self, text: &str) -> String {
        format!("DATE '{text}'")
    }

    /// Whether text `haystack` contains text `needle`.
    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("(strpos({haystack}, {needle}) > 0)")
    }

    /// A value as text (for checking what a column holds).
    fn text(&self, value: &str) -> String {
        format!("CAST({value} AS VARCHAR)")
    }

    /// Text that holds a number, as a floating-point number.
    fn to_double(&self, text: &str) -> String {
        format!("CAST({text} AS DOUBLE)")
    }

    /// A typed null: an exact integer of micro-units (`decimal`) or a floating-point number.
    fn typed_null(&self, decimal: bool) -> String {
        if decimal {
            "CAST(NULL AS DECIMAL(38, 0))".to_string()
        } else {
            self.to_double("NULL")
        }
    }

    /// Whether all of text `value` matches the regular expression `pattern` (a quoted literal).
    fn full_match(&self, value: &str, pattern: &str) -> String;

    /// `value` of the previous (`offset` −1) or next (+1) row of the window ordered by `order`
    /// within `partition`; null where there is none.
    fn neighbour(&self, value: &str, offset: i8, partition: &str, order: &str) -> String {
        let function = if offset < 0 { "lag" } else { "lead" };
        format!("{function}({value}) OVER (PARTITION BY {partition} ORDER BY {order})")
    }

    /// Microseconds from instant `from` to instant `to`.
    fn micros_between(&self, from: &str, to: &str) -> String;

    /// The instant `count` calendar `unit`s after `instant`: hours are elapsed time; days,
    /// weeks and months are added to the wall-clock time in the zone `zone` (a quoted literal).
    fn add_local(&self, instant: &str, zone: &str, count: u32, unit: DurationUnit) -> String;

    /// The median of `value` over a group (the mean of the middle two for an even count).
    fn median(&self, value: &str) -> String;

    /// A query giving one row per whole number from `from` to `to` (inclusive), in a column
    /// `period`, reading `from` and `to` from the one row of `relation`.
    fn series(&self, from: &str, to: &str, relation: &str) -> String {
        self.series_of("", from, to, relation)
    }

    /// A query giving, for each row of `relation`, one row per whole number from `from` to `to`
    /// (inclusive) in a column `period`, after `columns` of that row (`""`, or `"a, b, "`).
    fn series_of(&self, columns: &str, from: &str, to: &str, relation: &str) -> String;

    /// An exact integer of micro-units in the dialect's widest exact integer type, for integer
    /// arithmetic (`%`) on it.
    fn wide_integer(&self, value: &str) -> String {
        format!("CAST({value} AS DECIMAL(38, 0))")
    }

    /// `dividend ÷ divisor` for exact integers where `divisor` divides `dividend`, exactly.
    fn exact_quotient(&self, dividend: &str, divisor: &str) -> String {
        format!("CAST(({dividend}) / ({divisor}) AS DECIMAL(38, 0))")
    }

    /// An exact integer as the type of micro-unit amounts (a decimal of scale 0).
    fn micros_type(&self, value: &str) -> String {
        format!("CAST({value} AS DECIMAL(38, 0))")
    }
}

/// DuckDB, which also reads CSV, JSON Lines and Parquet files itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct DuckDb;

impl Dialect for DuckDb {
    fn name(&self) -> &'static str {
        "duckdb"
    }

    fn file(&self, path: &str, format: Format) -> Option<String> {
        // A folder of Parquet parts (a path ending in `/`): every `.parquet` file under it.
        let path = match format {
            Format::Parquet if path.ends_with('/') => self.string(&format!("{path}**/*.parquet")),
            _ => self.string(path),
        };
        match format {
            // As text, as the in-process engine reads CSV, so that duplicates compare alike.
            Format::Csv => Some(format!("read_csv({path}, header = true, all_varchar = true)")),
            Format::JsonLines => Some(format!("read_json({path}, format = 'newline_delimited')")),
            Format::Parquet => Some(format!("read_parquet({path})")),
            Format::ArrowIpc => None,
        }
    }

    fn instant(&self, value: &str) -> String {
        format!("TRY_CAST({value} AS TIMESTAMPTZ)")
    }

    fn local_date(&self, instant: &str, zone: &str) -> String {
        format!("CAST(timezone({zone}, {instant}) AS DATE)")
    }

    fn local_midnight(&self, date: &str, zone: &str) -> String {
        format!("timezone({zone}, CAST({date} AS TIMESTAMP))")
    }

    fn days_since_epoch(&self, date: &str) -> String {
        format!("CAST({date} - DATE '1970-01-01' AS BIGINT)")
    }

    fn add_months(&self, date: &str, months: &str) -> String {
        format!("CAST({date} + to_months(CAST({months} AS INTEGER)) AS DATE)")
    }

    fn series_of(&self, columns: &str, from: &str, to: &str, relation: &str) -> String {
        format!("SELECT {columns}unnest(range({from}, {to} + 1)) AS period FROM {relation}")
    }

    fn wide_integer(&self, value: &str) -> String {
        format!("CAST({value} AS HUGEINT)")
    }

    fn exact_quotient(&self, dividend: &str, divisor: &str) -> String {
        // `/` divides in floating point; `//` is integer division.
        format!("CAST(({dividend}) // ({divisor}) AS DECIMAL(38, 0))")
    }

    fn micros_between(&self, from: &str, to: &str) -> String {
        format!("(epoch_us({to}) - epoch_us({from}))")
    }

    fn full_match(&self, value: &str, pattern: &str) -> String {
        format!("regexp_full_match({value}, {pattern})")
    }

    fn add_local(&self, instant: &str, zone: &str, count: u32, unit: DurationUnit) -> String {
        let (n, keyword) = interval(count, unit);
        match unit {
            DurationUnit::Hour => format!("({instant} + INTERVAL {n} HOUR)"),
            _ => format!("timezone({zone}, timezone({zone}, {instant}) + INTERVAL {n} {keyword})"),
        }
    }

    fn median(&self, value: &str) -> String {
        format!("median({value})")
    }
}

/// PostgreSQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct Postgres;

impl Dialect for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn instant(&self, value: &str) -> String {
        format!("CAST({value} AS TIMESTAMPTZ)")
    }

    fn local_date(&self, instant: &str, zone: &str) -> String {
        format!("CAST(({instant} AT TIME ZONE {zone}) AS DATE)")
    }

    fn local_midnight(&self, date: &str, zone: &str) -> String {
        format!("(CAST({date} AS TIMESTAMP) AT TIME ZONE {zone})")
    }

    fn days_since_epoch(&self, date: &str) -> String {
        format!("CAST({date} - DATE '1970-01-01' AS BIGINT)")
    }

    fn add_months(&self, date: &str, months: &str) -> String {
        format!("CAST({date} + make_interval(months => CAST({months} AS INTEGER)) AS DATE)")
    }

    fn series_of(&self, columns: &str, from: &str, to: &str, relation: &str) -> String {
        format!("SELECT {columns}generate_series({from}, {to}) AS period FROM {relation}")
    }

    fn micros_between(&self, from: &str, to: &str) -> String {
        format!("CAST(EXTRACT(EPOCH FROM ({to} - {from})) * 1000000 AS BIGINT)")
    }

    fn text(&self, value: &str) -> String {
        format!("CAST({value} AS TEXT)")
    }

    fn to_double(&self, text: &str) -> String {
        format!("CAST({text} AS DOUBLE PRECISION)")
    }

    fn full_match(&self, value: &str, pattern: &str) -> String {
        format!("({value} ~ ('^(?:' || {pattern} || ')$'))")
    }

    fn add_local(&self, instant: &str, zone: &str, count: u32, unit: DurationUnit) -> String {
        let (n, keyword) = interval(count, unit);
        match unit {
            DurationUnit::Hour => format!("({instant} + INTERVAL '{n} {keyword}')"),
            _ => {
                format!("((({instant} AT TIME ZONE {zone}) + INTERVAL '{n} {keyword}') AT TIME ZONE {zone})")
            }
        }
    }

    fn median(&self, value: &str) -> String {
        format!("percentile_cont(0.5) WITHIN GROUP (ORDER BY {value})")
    }
}

/// ClickHouse.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClickHouse;

impl Dialect for ClickHouse {
    fn name(&self) -> &'static str {
        "clickhouse"
    }

    fn materialized(&self) -> &'static str {
        // ClickHouse inlines a CTE at every reference; the rows are read and deduplicated once.
        "MATERIALIZED "
    }

    fn labels(&self, rows: &[(String, Option<String>)]) -> String {
        let values: Vec<String> = rows
            .iter()
            .map(|(entity, label)| {
                let label = label.as_deref().map_or("NULL".to_string(), |l| self.string(l));
                format!("({}, {label})", self.string(entity))
            })
            .collect();
        if values.is_empty() {
            return "SELECT CAST(NULL AS Nullable(String)) AS entity, CAST(NULL AS Nullable(String)) AS label \
                    WHERE 1 = 0"
                .to_string();
        }
        format!(
            "SELECT entity, label FROM values('entity String, label Nullable(String)', {})",
            values.join(", ")
        )
    }

    fn statement_settings(&self) -> &'static str {
        // Without `join_use_nulls`, a LEFT JOIN fills a missing row with the column types'
        // defaults (0, ''), not NULL, and a member with no return would read as back at offset 0.
        "\nSETTINGS enable_materialized_cte = 1, join_use_nulls = 1, cast_keep_nullable = 1"
    }

    fn identifier(&self, name: &str) -> String {
        // ClickHouse reads backslash escapes inside quoted names too.
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\"\""))
    }

    fn string(&self, text: &str) -> String {
        // ClickHouse reads backslash escapes inside literals.
        format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
    }

    fn instant(&self, value: &str) -> String {
        format!("parseDateTime64BestEffortOrNull(toString({value}), 6, 'UTC')")
    }

    fn local_date(&self, instant: &str, zone: &str) -> String {
        format!("toDate({instant}, {zone})")
    }

    fn local_midnight(&self, date: &str, zone: &str) -> String {
        format!("toDateTime64(toString({date}), 6, {zone})")
    }

    fn days_since_epoch(&self, date: &str) -> String {
        format!("toInt64(toRelativeDayNum({date}) - toRelativeDayNum(toDate('1970-01-01')))")
    }

    fn add_months(&self, date: &str, months: &str) -> String {
        format!("addMonths({date}, {months})")
    }

    fn month_index(&self, date: &str) -> String {
        format!("(toInt64(toYear({date})) * 12 + toInt64(toMonth({date})) - 1)")
    }

    fn date(&self, text: &str) -> String {
        format!("toDate('{text}')")
    }

    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("(position({haystack}, {needle}) > 0)")
    }

    fn series_of(&self, columns: &str, from: &str, to: &str, relation: &str) -> String {
        format!(
            "SELECT {columns}arrayJoin(range(toInt64({from}), toInt64({to}) + 1)) AS period FROM {relation}"
        )
    }

    fn wide_integer(&self, value: &str) -> String {
        format!("toInt128({value})")
    }

    fn exact_quotient(&self, dividend: &str, divisor: &str) -> String {
        format!("intDiv({dividend}, {divisor})")
    }

    fn micros_type(&self, value: &str) -> String {
        // `CAST` does not convert the wide integers to decimals.
        format!("toDecimal128({value}, 0)")
    }

    fn micros_between(&self, from: &str, to: &str) -> String {
        format!("dateDiff('microsecond', {from}, {to})")
    }

    fn text(&self, value: &str) -> String {
        format!("toString({value})")
    }

    fn typed_null(&self, decimal: bool) -> String {
        let inner = if decimal { "Decimal(38, 0)" } else { "Float64" };
        format!("CAST(NULL AS Nullable({inner}))")
    }

    fn neighbour(&self, value: &str, offset: i8, partition: &str, order: &str) -> String {
        // The frame must hold the whole partition, and the value be nullable: otherwise the
        // missing neighbour is the type's default, not null.
        let function = if offset < 0 { "lagInFrame" } else { "leadInFrame" };
        format!(
            "{function}(toNullable({value})) OVER (PARTITION BY {partition} ORDER BY {order} \
             ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
        )
    }

    fn full_match(&self, value: &str, pattern: &str) -> String {
        format!("match({value}, concat('^(?:', {pattern}, ')$'))")
    }

    fn add_local(&self, instant: &str, zone: &str, count: u32, unit: DurationUnit) -> String {
        // A DateTime64 shown in the zone adds days and months in that zone's calendar.
        let (n, _) = interval(count, unit);
        match unit {
            DurationUnit::Hour => format!("addHours({instant}, {n})"),
            DurationUnit::Month => format!("addMonths(toTimeZone({instant}, {zone}), {n})"),
            _ => format!("addDays(toTimeZone({instant}, {zone}), {n})"),
        }
    }

    fn median(&self, value: &str) -> String {
        format!("quantileExactInclusive(0.5)({value})")
    }
}

/// Spark SQL.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spark;

impl Dialect for Spark {
    fn name(&self) -> &'static str {
        "spark"
    }

    fn identifier(&self, name: &str) -> String {
        format!("`{}`", name.replace('`', "``"))
    }

    fn string(&self, text: &str) -> String {
        // Spark reads backslash escapes inside literals.
        format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
    }

    fn instant(&self, value: &str) -> String {
        format!("CAST({value} AS TIMESTAMP)")
    }

    fn local_date(&self, instant: &str, zone: &str) -> String {
        format!("to_date(from_utc_timestamp({instant}, {zone}))")
    }

    fn local_midnight(&self, date: &str, zone: &str) -> String {
        format!("to_utc_timestamp(CAST({date} AS TIMESTAMP), {zone})")
    }

    fn next_day(&self, date: &str) -> String {
        format!("date_add({date}, 1)")
    }

    fn days_since_epoch(&self, date: &str) -> String {
        format!("CAST(datediff({date}, DATE '1970-01-01') AS BIGINT)")
    }

    fn add_months(&self, date: &str, months: &str) -> String {
        format!("add_months({date}, CAST({months} AS INT))")
    }

    fn contains(&self, haystack: &str, needle: &str) -> String {
        format!("(instr({haystack}, {needle}) > 0)")
    }

    fn series_of(&self, columns: &str, from: &str, to: &str, relation: &str) -> String {
        format!(
            "SELECT {columns}explode(sequence({from}, {to})) AS period FROM {relation} WHERE {from} <= {to}"
        )
    }

    fn micros_between(&self, from: &str, to: &str) -> String {
        format!("(unix_micros({to}) - unix_micros({from}))")
    }

    fn text(&self, value: &str) -> String {
        format!("CAST({value} AS STRING)")
    }

    fn full_match(&self, value: &str, pattern: &str) -> String {
        format!("({value} RLIKE concat('^(?:', {pattern}, ')$'))")
    }

    fn add_local(&self, instant: &str, zone: &str, count: u32, unit: DurationUnit) -> String {
        let (n, keyword) = interval(count, unit);
        match unit {
            DurationUnit::Hour => format!("({instant} + INTERVAL {n} HOURS)"),
            _ => format!(
                "to_utc_timestamp(from_utc_timestamp({instant}, {zone}) + INTERVAL {n} {keyword}S, {zone})"
            ),
        }
    }

    fn median(&self, value: &str) -> String {
        format!("percentile({value}, 0.5)")
    }
}

/// The dialect named `name` (`clickhouse`, `spark`, `postgres`, `duckdb`).
pub fn by_name(name: &str) -> Option<&'static dyn Dialect> {
    match name {
        "duckdb" => Some(&DuckDb),
        "postgres" | "postgresql" => Some(&Postgres),
        "clickhouse" => Some(&ClickHouse),
        "spark" => Some(&Spark),
        _ => None,
    }
}

/// The names [`by_name`] takes.
pub const NAMES: [&str; 4] = ["clickhouse", "spark", "postgres", "duckdb"];
