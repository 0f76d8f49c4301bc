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
fn a_revenue_metric_with_spread_payments_in_every_dialect() {
    // Over calendar months by quarter, and over the days each payment covers by week.
    for (name, grain) in [("mrr_spread", "quarter"), ("mrr_spread_weekly", "week")] {
        let text = format!(
            "{WAREHOUSE}\n[metrics.{name}]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"{grain}\"\n\
             spread = \"props.months\"\n"
        );
        let plan = plan(&text);
        let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
        for dialect in dialects {
            let sql = tenure_sql::compile(&plan, name, dialect).unwrap();
            insta::assert_snapshot!(format!("{name}_{}", dialect.name()), sql);
        }
    }
}

#[test]
fn revenue_retention_by_cohort_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[cohorts.payers]\nstart = \"payment\"\ngrain = \"month\"\n\
         [metrics.nrr_cohorts]\ntype = \"revenue\"\namount = \"payment\"\ncohort = \"payers\"\n"
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        let sql = tenure_sql::compile(&plan, "nrr_cohorts", dialect).unwrap();
        insta::assert_snapshot!(format!("nrr_cohorts_{}", dialect.name()), sql);
    }
}

#[test]
fn a_funnel_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[metrics.onboarding]\ntype = \"funnel\"\ncohort = \"weekly\"\n\
         steps = [\"value\", \"payment\"]\nwithin = \"14d\"\n"
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        let sql = tenure_sql::compile(&plan, "onboarding", dialect).unwrap();
        insta::assert_snapshot!(format!("funnel_{}", dialect.name()), sql);
    }
}

#[test]
fn a_cohort_split_by_what_members_did_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[cohorts.paid_soon]\nstart = \"value\"\ngrain = \"month\"\ndid = \"payment\"\n\
         did_within = \"14d\"\n[metrics.var_paid_soon]\ntype = \"activation\"\ncohort = \"paid_soon\"\n\
         reached = \"value\"\nwithin = \"1mo\"\n"
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        let sql = tenure_sql::compile(&plan, "var_paid_soon", dialect).unwrap();
        insta::assert_snapshot!(format!("did_cohort_{}", dialect.name()), sql);
    }
}

#[test]
fn recurring_retention_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[cohorts.every_week]\nstart = \"value\"\ngrain = \"week\"\nrecurring = true\n\
         [metrics.recurring_vrr]\ntype = \"retention\"\ncohort = \"every_week\"\nreturn = \"value\"\n\
         unit = \"week\"\nperiods = [0, 1, 4]\n"
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        let sql = tenure_sql::compile(&plan, "recurring_vrr", dialect).unwrap();
        insta::assert_snapshot!(format!("recurring_retention_{}", dialect.name()), sql);
    }
}

#[test]
fn if_in_a_value_event_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[events.plan_value]\nwhere = \"event == if(lower(props.plan) == 'free', 'login', 'report_created')\"\n\
         [metrics.crr_plan_value]\ntype = \"crr\"\nactive = \"plan_value\"\ngrain = \"month\"\n"
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        let sql = tenure_sql::compile(&plan, "crr_plan_value", dialect).unwrap();
        assert!(sql.contains("CASE WHEN"), "{sql}");
        insta::assert_snapshot!(format!("if_value_event_{}", dialect.name()), sql);
    }
}

#[test]
fn a_survey_metric_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[events.answer]\nwhere = \"event == 'nps_answered'\"\n\
         [metrics.nps]\ntype = \"survey\"\nscale = \"nps\"\nresponse = \"answer\"\nscore = \"props.score\"\n\
         asked = \"value\"\ngrain = \"month\"\n\
         [metrics.nps_followed_up]\ntype = \"survey\"\nscale = \"nps\"\nresponse = \"answer\"\n\
         score = \"props.score\"\ngrain = \"month\"\nfollow_up = \"value\"\nfollow_up_within = \"48h\"\nwaves = true\n"
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        for metric in ["nps", "nps_followed_up"] {
            let sql = tenure_sql::compile(&plan, metric, dialect).unwrap();
            insta::assert_snapshot!(format!("{metric}_{}", dialect.name()), sql);
        }
    }
}

#[test]
fn uplifts_by_attribute_and_by_assignment_in_every_dialect() {
    let text = format!(
        "{}\n[events.assigned]\nwhere = \"event == 'experiment'\"\n\
         [metrics.by_attribute]\ntype = \"uplift\"\nretention = \"vrr_by_plan\"\nperiod = 1\n\
         group = \"attr.arm\"\ntreatment = \"email\"\ncontrol = \"none\"\n\
         [metrics.by_assignment]\ntype = \"uplift\"\nretention = \"vrr_by_plan\"\nperiod = 1\n\
         assignment = \"assigned\"\nvariant = \"props.variant\"\ntreatment = \"B\"\ncontrol = \"A\"\n",
        with_entities()
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        for metric in ["by_attribute", "by_assignment"] {
            let sql = tenure_sql::compile(&plan, metric, dialect).unwrap();
            insta::assert_snapshot!(format!("uplift_{metric}_{}", dialect.name()), sql);
        }
    }
}

#[test]
fn winbacks_by_month_by_week_and_by_attribute_in_every_dialect() {
    let text = format!(
        "{}\n[metrics.winback_month]\ntype = \"winback\"\nactive = \"value\"\ndormant = \"30d\"\nwithin = \"2w\"\n\
         [metrics.winback_week_by_plan]\ntype = \"winback\"\nactive = \"value\"\ndormant = \"14d\"\nwithin = \"7d\"\n\
         grain = \"week\"\nby = [\"attr.plan\"]\n",
        with_entities()
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        for metric in ["winback_month", "winback_week_by_plan"] {
            let sql = tenure_sql::compile(&plan, metric, dialect).unwrap();
            insta::assert_snapshot!(format!("{metric}_{}", dialect.name()), sql);
        }
    }
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
fn a_breakdown_by_a_plugin_segment_joins_its_labels_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[plugins.rfm]\npath = \"tenure_rfm\"\n[segments.rfm]\nplugin = \"rfm\"\nevent = \"payment\"\n\
         [cohorts.by_rfm]\nstart = \"value\"\ngrain = \"month\"\nby = [\"segment.rfm\"]\n\
         [metrics.vrr_by_rfm]\ntype = \"retention\"\ncohort = \"by_rfm\"\nreturn = \"value\"\nunit = \"month\"\n\
         periods = [1]\n[metrics.mrr_by_rfm]\ntype = \"revenue\"\namount = \"payment\"\ngrain = \"week\"\n\
         by = [\"segment.rfm\"]\n"
    );
    let plan = plan(&text);
    // Alone, the statement cannot know the labels: it reads them from the segment's table, and
    // says so in its heading.
    for metric in ["vrr_by_rfm", "mrr_by_rfm"] {
        let sql = tenure_sql::compile(&plan, metric, &Spark).unwrap();
        assert!(
            sql.contains(
                "-- reads table tenure_segment_rfm: each entity's label of plugin segment `rfm` \
                 (columns entity, label), as `tenure segment --name rfm` prints them\n"
            ),
            "{sql}"
        );
        assert!(
            sql.contains("SELECT entity, label FROM `tenure_segment_rfm`"),
            "{sql}"
        );
    }
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
fn figures_of_other_metrics_are_computed_by_the_statement_itself_in_every_dialect() {
    let text = format!(
        "{WAREHOUSE}\n[metrics.payback]\ntype = \"payback\"\nrevenue = \"mrr\"\ncac = 100\nmargin = 0.5\n\
         [metrics.ltv]\ntype = \"ltv\"\nform = \"subscription\"\nrevenue = \"mrr\"\nmargin = 0.5\nchurn_window = 2\n\
         [metrics.nrr_share]\ntype = \"formula\"\nformula = \"mrr.nrr / 2 + vrr.rate_1_4 - lifecycle.dormant_last\"\n\
         [metrics.sticky_mean]\ntype = \"formula\"\nformula = \"stickiness.dau_mau_mean\"\n"
    );
    let plan = plan(&text);
    let dialects: [&dyn Dialect; 4] = [&ClickHouse, &Spark, &Postgres, &DuckDb];
    for dialect in dialects {
        for metric in ["payback", "ltv", "nrr_share"] {
            let sql = tenure_sql::compile(&plan, metric, dialect).unwrap();
            insta::assert_snapshot!(format!("{metric}_{}", dialect.name()), sql);
        }
    }
    // The statement of the metric read is a relation of the reading one.
    let sql = tenure_sql::compile(&plan, "nrr_share", &DuckDb).unwrap();
    assert!(
        sql.contains("figure_0_rows AS (\n  SELECT * FROM (\nWITH\n"),
        "{sql}"
    );
    assert!(
        sql.contains("FROM groups CROSS JOIN figure_0 CROSS JOIN figure_1 CROSS JOIN figure_2"),
        "{sql}"
    );
    // A mean of daily ratios is not reproduced to the last bit in SQL: refused, with the reason.
    let refusal = tenure_sql::compile(&plan, "sticky_mean", &DuckDb).unwrap_err();
    assert_eq!(
        refusal.reason,
        "it reads `stickiness.dau_mau_mean`, a mean of 30 daily ratios whose order of addition SQL \
         does not fix, so its last bits could differ from the engine's: `tenure run` on a connection \
         computes it"
    );
    // Once that metric has run, its figure is a literal of the statement (null where it has none).
    let nrr = |reference: &tenure_plan::ScalarRef| (reference.scalar == "nrr").then_some(1.25);
    let known = tenure_sql::Known {
        scalars: Some(&nrr),
        labels: None,
    };
    let sql = tenure_sql::compile_with(&plan, "nrr_share", &DuckDb, &known).unwrap();
    assert!(
        sql.contains("(CASE WHEN CAST(2.0 AS DOUBLE) = 0 THEN NULL ELSE CAST(1.25 AS DOUBLE) / CAST(2.0 AS DOUBLE) END + CAST(NULL AS DOUBLE))"),
        "{sql}"
    );
}

#[test]
fn metrics_not_translated_yet_are_refused_with_the_reason() {
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
    // A segment labelled at each period's start is labelled once per period in process; a
    // statement reads one label per entity.
    let text = format!(
        "{WAREHOUSE}\n[plugins.rfm]\npath = \"tenure_rfm\"\n[segments.rfm_then]\nplugin = \"rfm\"\n\
         event = \"payment\"\nas_of = \"period_start\"\n\
         [cohorts.by_rfm_then]\nstart = \"value\"\ngrain = \"month\"\nby = [\"segment.rfm_then\"]\n\
         [metrics.vrr_by_rfm_then]\ntype = \"retention\"\ncohort = \"by_rfm_then\"\nreturn = \"value\"\n\
         unit = \"month\"\nperiods = [1]\n[metrics.mrr_by_rfm_then]\ntype = \"revenue\"\namount = \"payment\"\n\
         by = [\"segment.rfm_then\"]\n"
    );
    for metric in ["vrr_by_rfm_then", "mrr_by_rfm_then"] {
        let refusal = tenure_sql::compile(&plan(&text), metric, &DuckDb).unwrap_err();
        assert_eq!(
            refusal.reason,
            "segment `rfm_then` is labelled at each period's start: its plugin runs once per period \
             over the data before that day, in process, and a statement reads one label per entity; \
             `tenure run` on the files computes it"
        );
    }
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
    assert_eq!(ClickHouse.identifier("back\\slash"), "\"back\\\\slash\"");
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
