//! Names and texts that reach SQL from a config — column and table names, event names in a
//! `where` — stay quoted in every dialect, whatever they hold: each statement still parses as
//! exactly one query (no text closes a literal early, comments out the rest, or starts a second
//! statement).

use std::path::Path;

use proptest::prelude::*;
use sqlparser::dialect::{
    ClickHouseDialect, DatabricksDialect, Dialect as ParserDialect, DuckDbDialect, PostgreSqlDialect,
};
use tenure_sql::{ClickHouse, Dialect, DuckDb, Postgres, Spark};

/// Text as a TOML basic string's content.
fn toml_escaped(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Text as a literal of the expression language: `'…'` with `\'` and `\\`.
fn expression_literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn config(column: &str, table: &str, event_name: &str) -> String {
    let filter = format!("event == {}", expression_literal(event_name));
    format!(
        "[project]\nas_of = \"2025-06-30\"\n[connections.w]\nkind = \"postgres\"\n\
         [sources.events]\ntable = \"{}\"\nentity = \"{}\"\ntime = \"{}\"\nevent = \"{}\"\n\
         [events.value]\nwhere = \"{}\"\n[cohorts.c]\nstart = \"value\"\ngrain = \"week\"\n\
         [metrics.crr]\ntype = \"crr\"\nactive = \"value\"\n\
         [metrics.vrr]\ntype = \"retention\"\ncohort = \"c\"\nreturn = \"value\"\nperiods = [0, 1]\n\
         [metrics.var]\ntype = \"activation\"\ncohort = \"c\"\nreached = \"value\"\nwithin = \"7d\"\n",
        toml_escaped(table),
        toml_escaped(column),
        toml_escaped(&format!("{column} time")),
        toml_escaped(&format!("{column} event")),
        toml_escaped(&filter),
    )
}

/// Names with quotes of every kind, backslashes, comment markers, semicolons and non-ASCII text.
fn hostile() -> impl Strategy<Value = String> {
    proptest::string::string_regex("[a-z'\"`\\\\;\\-/* é€]{1,10}")
        .unwrap()
        .prop_filter("not blank", |s| !s.trim().is_empty())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_dialect_quotes_what_the_config_names(column in hostile(), table in hostile(), event in hostile()) {
        let text = config(&column, &table.replace('.', "_"), &event);
        let plan = tenure_dsl::load_str(&text, "metrics.toml", Path::new("."))
            .unwrap_or_else(|e| panic!("{}\n{text}", e.render()));
        let dialects: [(&dyn Dialect, &dyn ParserDialect); 4] = [
            (&DuckDb, &DuckDbDialect {}),
            (&Postgres, &PostgreSqlDialect {}),
            (&ClickHouse, &ClickHouseDialect {}),
            (&Spark, &DatabricksDialect {}),
        ];
        for metric in ["crr", "vrr", "var"] {
            for (dialect, parser) in dialects {
                let sql = tenure_sql::compile(&plan, metric, dialect).unwrap();
                // The parser's ClickHouse dialect lacks two forms ClickHouse reads (a
                // `MATERIALIZED` CTE and the `SETTINGS` clause), both fixed text tenure writes;
                // what the config names is parsed as written.
                let parsed = match dialect.name() {
                    "clickhouse" => sql
                        .replace(" AS MATERIALIZED (", " AS (")
                        .replace(
                            "\nSETTINGS enable_materialized_cte = 1, join_use_nulls = 1, cast_keep_nullable = 1",
                            "",
                        ),
                    _ => sql.clone(),
                };
                let statements = sqlparser::parser::Parser::parse_sql(parser, &parsed)
                    .unwrap_or_else(|e| panic!("{} SQL does not parse: {e}\n{sql}", dialect.name()));
                prop_assert_eq!(statements.len(), 1, "{}", sql);
                // The event name is in the statement as one literal of the dialect's quoting.
                prop_assert!(sql.contains(&dialect.string(&event)), "{}", sql);
            }
        }
    }
}

/// The check above would see a quote that is not escaped: the parser refuses such SQL, or reads
/// a second statement into it.
#[test]
fn an_unescaped_quote_is_caught_by_the_parser() {
    let naive = "SELECT 1 WHERE event = 'it's'";
    assert!(sqlparser::parser::Parser::parse_sql(&DuckDbDialect {}, naive).is_err());
    let injected = "SELECT 1 WHERE event = 'x'; DROP TABLE events; --'";
    let statements = sqlparser::parser::Parser::parse_sql(&PostgreSqlDialect {}, injected).unwrap();
    assert_eq!(statements.len(), 2);
}
