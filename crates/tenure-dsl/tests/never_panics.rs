//! The loader turns any text into a plan or into diagnostics: never a panic, never a hang.
//! Checked on generated configs (proptest), on the fuzzing seed corpora and on every input the
//! fuzzers ever found to crash (`fuzz/regressions/`).

use std::path::{Path, PathBuf};

use proptest::prelude::*;

fn load(text: &str) {
    let base = Path::new("/nonexistent-tenure-test");
    if let Err(error) = tenure_dsl::load_str(text, "metrics.toml", base) {
        let rendered = error.render();
        assert!(!rendered.is_empty(), "an error renders as text");
    }
}

/// `PROPTEST_CASES` when set, else 256.
fn case_count() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

const SECTIONS: [&str; 10] = [
    "project",
    "quality",
    "constants",
    "sources",
    "events",
    "cohorts",
    "metrics",
    "segments",
    "plugins",
    "bogus",
];
const NAMES: [&str; 6] = ["events", "a", "vrr", "report", "weekly", "accounts"];
const KEYS: [&str; 40] = [
    "timezone",
    "week_start",
    "as_of",
    "path",
    "kind",
    "format",
    "entity",
    "time",
    "event",
    "time_format",
    "dedupe",
    "exclude",
    "on_bad_row",
    "where",
    "amount",
    "start",
    "grain",
    "by",
    "filter",
    "type",
    "cohort",
    "return",
    "periods",
    "mode",
    "unit",
    "align",
    "value",
    "within",
    "active",
    "expr",
    "window",
    "spread",
    "reactivation_within",
    "plugin",
    "params",
    "sha256",
    "event",
    "churn_window",
    "metric",
    "revenue",
];
const TEXTS: [&str; 32] = [
    "retention",
    "revenue",
    "activation",
    "crr",
    "formula",
    "ltv",
    "payback",
    "n-day",
    "unbounded",
    "bracket",
    "day",
    "week",
    "month",
    "quarter",
    "calendar",
    "entity",
    "exact",
    "fail",
    "UTC",
    "Europe/Paris",
    "Mars/Base",
    "events.csv",
    "a.parquet",
    "event == 'report'",
    "props.x > 1 and attr.y in ['a']",
    "vrr.rate[7] / 2",
    "sum(revenue.new)",
    "30d",
    "12mo",
    "((",
    "2025-13-01",
    "report",
];

fn value() -> impl Strategy<Value = toml::Value> {
    let leaf = prop_oneof![
        prop::sample::select(TEXTS.to_vec()).prop_map(|s| toml::Value::String(s.to_string())),
        "\\PC{0,12}".prop_map(toml::Value::String),
        (-5i64..400).prop_map(toml::Value::Integer),
        any::<f64>().prop_map(toml::Value::Float),
        any::<bool>().prop_map(toml::Value::Boolean),
    ];
    leaf.prop_recursive(2, 12, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(toml::Value::Array),
            prop::collection::vec((prop::sample::select(KEYS.to_vec()), inner), 0..3).prop_map(|pairs| {
                toml::Value::Table(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

type Section = (&'static str, &'static str, Vec<(&'static str, toml::Value)>);

fn config() -> impl Strategy<Value = toml::Table> {
    let section = (
        prop::sample::select(SECTIONS.to_vec()),
        prop::sample::select(NAMES.to_vec()),
        prop::collection::vec((prop::sample::select(KEYS.to_vec()), value()), 0..6),
    );
    prop::collection::vec(section, 0..8).prop_map(|sections: Vec<Section>| {
        let mut root = toml::Table::new();
        for (section, name, pairs) in sections {
            let table: toml::Table = pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
            let named = !matches!(section, "project" | "quality" | "constants");
            let slot = root
                .entry(section.to_string())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let toml::Value::Table(slot) = slot {
                if named {
                    slot.insert(name.to_string(), toml::Value::Table(table));
                } else {
                    slot.extend(table);
                }
            }
        }
        root
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: case_count(), ..ProptestConfig::default() })]

    #[test]
    fn any_text_loads_or_explains(text in "\\PC{0,300}") {
        load(&text);
    }

    #[test]
    fn any_config_shaped_toml_loads_or_explains(config in config()) {
        let text = toml::to_string(&config).unwrap_or_default();
        load(&text);
    }

    /// Syntax errors at any position of a config-shaped file.
    #[test]
    fn damaged_toml_loads_or_explains(config in config(), at in any::<prop::sample::Index>(), insert in "[\\[\\]=\"'{}\n,.#]") {
        let mut text = toml::to_string(&config).unwrap_or_default();
        if !text.is_empty() {
            let mut position = at.index(text.len());
            while !text.is_char_boundary(position) {
                position -= 1;
            }
            text.insert_str(position, &insert);
        }
        load(&text);
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every file of the named fuzzing corpora, which must exist.
fn corpus(folders: &[&str]) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    for folder in folders {
        let dir = repo_root().join(folder);
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            files.push((
                entry.path(),
                std::fs::read(entry.path()).expect("readable corpus file"),
            ));
        }
    }
    files
}

#[test]
fn the_expression_seeds_and_regressions_parse_or_explain() {
    let files = corpus(&["fuzz/corpus/expr", "fuzz/regressions/expr"]);
    assert!(
        files.len() >= 20,
        "the expression seed corpus is in the repository"
    );
    for (_, bytes) in files {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let _ = tenure_dsl::expr::parse(text);
            let _ = tenure_dsl::expr::parse::parse_duration(text);
        }
    }
}

#[test]
fn the_config_seeds_and_regressions_load_or_explain() {
    let files = corpus(&["fuzz/corpus/config", "fuzz/regressions/config"]);
    assert!(files.len() >= 20, "the config seed corpus is in the repository");
    for (_, bytes) in files {
        if let Ok(text) = std::str::from_utf8(&bytes) {
            load(text);
        }
    }
}

/// A 1 MB expression is refused by the length limit, with a diagnostic at its line.
#[test]
fn a_megabyte_expression_is_refused_with_a_diagnostic() {
    let huge = "1 + ".repeat(250_000) + "1";
    let text = format!(
        "[sources.events]\npath = \"e.csv\"\nentity = \"id\"\ntime = \"ts\"\nevent = \"event\"\n\
         [events.big]\nwhere = \"{huge}\"\n"
    );
    let error = tenure_dsl::load_str(&text, "metrics.toml", Path::new("/nonexistent")).expect_err("refused");
    let rendered = error.render();
    assert!(
        rendered.contains("expression is 1000001 bytes long; the limit is 4096"),
        "{}",
        &rendered[..rendered.len().min(2000)]
    );
    assert!(
        rendered.contains("metrics.toml:7:"),
        "{}",
        &rendered[..rendered.len().min(2000)]
    );
}

/// Found by the config fuzzer: a carriage return inside a string put the error's span past the
/// end of the line shown (which drops its trailing `\r`), and the caret width underflowed.
#[test]
fn a_carriage_return_inside_a_string_renders() {
    let error = tenure_dsl::load_str(
        "[project]\ntimezone = \"UT\r\nC\"\n",
        "metrics.toml",
        Path::new("/x"),
    )
    .expect_err("a newline inside a basic string is invalid TOML");
    assert!(error.render().contains("metrics.toml:2:"), "{}", error.render());
}
