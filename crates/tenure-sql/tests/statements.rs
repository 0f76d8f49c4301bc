//! The SQL each dialect gets, pinned as snapshots so that a change to it is seen in review, and
//! the quoting of names and texts that reach it from a config.

use std::path::Path;

use tenure_sql::{ClickHouse, Dialect, DuckDb, Postgres, Spark};

/// A project whose events are a table of a connection, with a CRR by week and one by month.
const WAREHOUSE: &str = r#"
[project]
timezone = "Europe/Moscow"
week_start = "sunday"
as_of = "2025-06-30"

[connections.warehouse]
kind = "postgres"

[sources.events]
table = "analytics.events"
entity = "account_id"
time = "ts"
event = "event"

[quality]
dedupe = "exact"
exclude = "lower(props.user_agent) contains 'bot'"

[events.value]
where = "event in ['report_created', 'export']"

[metrics.crr_week]
type = "crr"
active = "value"
grain = "week"

[metrics.crr_month]
type = "crr"
active = "value"
grain = "month"

[cohorts.weekly]
start = "value"
grain = "week"

[events.payment]
where = "event == 'invoice_paid'"
amount = "props.amount"

[metrics.mrr]
type = "revenue"
amount = "payment"
grain = "quarter"

[metrics.mrr_within]
type = "revenue"
amount = "payment"
grain = "month"
reactivation_within = "3mo"
window = "12mo"

[metrics.lifecycle]
type = "lifecycle"
active = "value"
grain = "week"

[metrics.stickiness]
type = "stickiness"
active = "value"
grain = "month"
at_least = 3

[metrics.arpa]
type = "formula"
formula = "sum(payment.amount) / entities(payment, at_least = 1)"
grain = "month"

[metrics.var]
type = "activation"
cohort = "weekly"
reached = "value"
within = "1mo"

[metrics.vrr]
type = "retention"
cohort = "weekly"
return = "value"
mode = "bracket"
unit = "week"
align = "calendar"
brackets = [[0, 0], [1, 4]]
"#;

/// Pins the statement of `metric` of the warehouse project in each dialect.
fn snapshot_in_every_dialect(metric: &str) {
    let plan = plan(WAREHOUSE);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        let sql = tenure_sql::compile(&plan, metric, dialect).unwrap();
        insta::assert_snapshot!(format!("{metric}_{}", dialect.name()), sql);
    }
}

fn plan(text: &str) -> tenure_plan::Plan {
    tenure_dsl::load_str(text, "metrics.toml", Path::new(".")).unwrap_or_else(|e| panic!("{}", e.render()))
}

#[test]
fn a_crr_metric_in_every_dialect() {
    snapshot_in_every_dialect("crr_week");
}

#[test]
fn a_retention_metric_in_every_dialect() {
    snapshot_in_every_dialect("vrr");
}

#[test]
fn an_activation_metric_in_every_dialect() {
    snapshot_in_every_dialect("var");
}

#[test]
fn a_revenue_metric_in_every_dialect() {
    snapshot_in_every_dialect("mrr");
}

#[test]
fn a_revenue_metric_with_reactivation_and_a_window_in_every_dialect() {
    snapshot_in_every_dialect("mrr_within");
}

#[test]
fn a_lifecycle_metric_in_every_dialect() {
    snapshot_in_every_dialect("lifecycle");
}

#[test]
fn a_stickiness_metric_in_every_dialect() {
    snapshot_in_every_dialect("stickiness");
}

#[test]
fn a_formula_metric_in_every_dialect() {
    snapshot_in_every_dialect("arpa");
}

#[test]
fn the_input_accounting_in_every_dialect() {
    let plan = plan(WAREHOUSE);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        let sql = tenure_sql::accounting(&plan, dialect).unwrap();
        insta::assert_snapshot!(format!("accounting_{}", dialect.name()), sql);
    }
}

/// The warehouse project with an entity table, a cohort broken down by two attributes and
/// revenue by one.
fn with_entities() -> String {
    format!(
        "{WAREHOUSE}\n[sources.accounts]\nkind = \"entities\"\ntable = \"crm.accounts\"\nentity = \"id\"\n\
         [cohorts.by_plan]\nstart = \"value\"\ngrain = \"month\"\nby = [\"attr.plan\", \"attr.seats\"]\n\
         [metrics.vrr_by_plan]\ntype = \"retention\"\ncohort = \"by_plan\"\nreturn = \"value\"\nunit = \"month\"\n\
         periods = [1]\n[metrics.var_by_plan]\ntype = \"activation\"\ncohort = \"by_plan\"\nreached = \"value\"\n\
         within = \"14d\"\n[metrics.mrr_by_plan]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"month\"\n\
         window = \"3mo\"\nby = [\"attr.plan\"]\n[metrics.lifecycle_by_plan]\ntype = \"lifecycle\"\nactive = \"value\"\n\
         by = [\"attr.plan\", \"attr.seats\"]\n"
    )
}

#[test]
fn breakdowns_by_attributes_and_the_entity_accounting_in_every_dialect() {
    let plan = plan(&with_entities());
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        for metric in ["vrr_by_plan", "var_by_plan", "mrr_by_plan", "lifecycle_by_plan"] {
            let sql = tenure_sql::compile(&plan, metric, dialect).unwrap();
            insta::assert_snapshot!(format!("{metric}_{}", dialect.name()), sql);
        }
        let sql = tenure_sql::accounting(&plan, dialect).unwrap();
        insta::assert_snapshot!(format!("accounting_with_entities_{}", dialect.name()), sql);
    }
}

#[test]
fn revenue_per_cohort_a_formula_per_cohort_and_an_orders_ltv_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[metrics.vrr_value]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"value\"\n\
         unit = \"week\"\nperiods = [0, 4]\nvalue = \"payment\"\n\
         [metrics.payments_per_member]\ntype = \"formula\"\nformula = \"count(payment) / entities(payment)\"\n\
         cohort = \"weekly\"\n\
         [metrics.ltv_orders]\ntype = \"ltv\"\nform = \"orders\"\norder = \"payment\"\nmargin = 0.6\n"
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        for metric in ["vrr_value", "payments_per_member", "ltv_orders"] {
            let sql = tenure_sql::compile(&plan, metric, dialect).unwrap();
            insta::assert_snapshot!(format!("{metric}_{}", dialect.name()), sql);
        }
    }
}

#[test]
fn a_breakdown_by_a_plugin_segment_joins_the_labels_the_run_computed_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[plugins.rfm]\npath = \"tenure_rfm\"\n[segments.rfm]\nplugin = \"rfm\"\nevent = \"payment\"\n\
         [cohorts.by_rfm]\nstart = \"value\"\ngrain = \"month\"\nby = [\"segment.rfm\"]\n\
         [metrics.vrr_by_rfm]\ntype = \"retention\"\ncohort = \"by_rfm\"\nreturn = \"value\"\nunit = \"month\"\n\
         periods = [1]\n[metrics.mrr_by_rfm]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"week\"\n\
         by = [\"segment.rfm\"]\n"
    );
    let plan = plan(&text);
    // Alone, the statement cannot know the labels: it says where they come from.
    let refusal = tenure_sql::compile(&plan, "vrr_by_rfm", &DuckDb).unwrap_err();
    assert_eq!(
        refusal.reason,
        "a breakdown by `segment.rfm`: its plugin labels entities in process, so `tenure run` on a \
         connection computes the labels and sends them with the statement"
    );
    let mut labels = tenure_sql::SegmentLabels::new();
    labels.insert(
        "rfm".to_string(),
        vec![
            ("acc_1".to_string(), Some("champions".to_string())),
            ("it's".to_string(), None),
        ],
    );
    let known = tenure_sql::Known {
        scalars: None,
        labels: Some(&labels),
    };
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        let sql = tenure_sql::compile_with(&plan, "vrr_by_rfm", dialect, &known).unwrap();
        insta::assert_snapshot!(format!("vrr_by_rfm_{}", dialect.name()), sql);
        let sql = tenure_sql::compile_with(&plan, "mrr_by_rfm", dialect, &known).unwrap();
        insta::assert_snapshot!(format!("mrr_by_rfm_{}", dialect.name()), sql);
        let figures = tenure_sql::segment_figures(&plan, "rfm", &["plan".to_string()], dialect).unwrap();
        insta::assert_snapshot!(format!("segment_figures_{}", dialect.name()), figures);
    }
}

#[test]
fn duckdb_reads_a_file_source_itself_and_other_dialects_refuse_it() {
    let text = WAREHOUSE.replace("table = \"analytics.events\"", "path = \"events.csv\"");
    let plan = plan(&text);
    let sql = tenure_sql::compile(&plan, "crr_week", &DuckDb).unwrap();
    assert!(
        sql.contains(
            "FROM (SELECT DISTINCT * FROM read_csv('./events.csv', header = true, all_varchar = true))"
        ),
        "{sql}"
    );
    let refusal = tenure_sql::compile(&plan, "crr_week", &Postgres).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "metric `crr_week` is not compiled to postgres SQL: the postgres dialect reads tables, not files"
    );
}

#[test]
fn metrics_not_translated_yet_are_refused_with_the_reason() {
    let text = format!(
        "{WAREHOUSE}\n[metrics.payback]\ntype = \"payback\"\nrevenue = \"mrr\"\ncac = 100\nmargin = 0.5\n\
         [metrics.nrr_share]\ntype = \"formula\"\nformula = \"mrr.nrr / 2\"\n"
    );
    let refusal = tenure_sql::compile(&plan(&text), "payback", &DuckDb).unwrap_err();
    assert_eq!(
        refusal.reason,
        "it has no statement of its own: it derives from metric `mrr`'s figures, and `tenure run` \
         on a connection computes it from that metric's rows"
    );
    let refusal = tenure_sql::compile(&plan(&text), "nrr_share", &DuckDb).unwrap_err();
    assert_eq!(
        refusal.reason,
        "it reads another metric's figure (`mrr.nrr`), known only once that metric has run: \
         `tenure run` on a connection computes it"
    );
    // Once that metric has run, its figure is a literal of the statement (null where it has none).
    let nrr = |reference: &tenure_plan::ScalarRef| (reference.scalar == "nrr").then_some(1.25);
    let known = tenure_sql::Known {
        scalars: Some(&nrr),
        labels: None,
    };
    let sql = tenure_sql::compile_with(&plan(&text), "nrr_share", &DuckDb, &known).unwrap();
    assert!(
        sql.contains("ELSE CAST(1.25 AS DOUBLE) / CAST(2.0 AS DOUBLE) END AS value"),
        "{sql}"
    );
    let text = WAREHOUSE.replace(
        "grain = \"quarter\"",
        "grain = \"quarter\"\nreactivation_within = \"45d\"",
    );
    let refusal = tenure_sql::compile(&plan(&text), "mrr", &DuckDb).unwrap_err();
    assert_eq!(
        refusal.reason,
        "`reactivation_within = \"45d\"` over quarter periods is not translated to SQL yet (durations \
         in days or weeks over day and week periods, in months over month and quarter periods, are)"
    );
    // A cohort broken down by a property (its value at the start event) is not translated yet.
    let text = WAREHOUSE.replace(
        "[cohorts.weekly]\nstart = \"value\"\ngrain = \"week\"\n",
        "[cohorts.weekly]\nstart = \"value\"\ngrain = \"week\"\nby = [\"props.plan\"]\n",
    );
    let refusal = tenure_sql::compile(&plan(&text), "vrr", &DuckDb).unwrap_err();
    assert_eq!(
        refusal.reason,
        "a breakdown by `props.plan` (a value at the start event) is not translated to SQL yet"
    );
    // An expression form the compiler does not translate is refused, not approximated.
    let text = WAREHOUSE.replace("lower(props.user_agent) contains 'bot'", "props.score > 3");
    let refusal = tenure_sql::compile(&plan(&text), "crr_week", &DuckDb).unwrap_err();
    assert_eq!(refusal.reason, "the operator Gt (not yet translated to SQL)");
}

#[test]
fn names_and_texts_are_quoted_for_each_dialect() {
    let hostile_name = "we\"ird`name";
    let hostile_text = "it's a \\ back'slash -- /* not a comment */";
    assert_eq!(DuckDb.identifier(hostile_name), "\"we\"\"ird`name\"");
    assert_eq!(Postgres.identifier(hostile_name), "\"we\"\"ird`name\"");
    assert_eq!(ClickHouse.identifier(hostile_name), "\"we\"\"ird`name\"");
    assert_eq!(Spark.identifier(hostile_name), "`we\"ird``name`");
    // Standard SQL doubles the quote; ClickHouse and Spark read backslash escapes.
    assert_eq!(
        DuckDb.string(hostile_text),
        "'it''s a \\ back''slash -- /* not a comment */'"
    );
    assert_eq!(
        Postgres.string(hostile_text),
        "'it''s a \\ back''slash -- /* not a comment */'"
    );
    assert_eq!(
        ClickHouse.string(hostile_text),
        "'it\\'s a \\\\ back\\'slash -- /* not a comment */'"
    );
    assert_eq!(
        Spark.string(hostile_text),
        "'it\\'s a \\\\ back\\'slash -- /* not a comment */'"
    );
}
