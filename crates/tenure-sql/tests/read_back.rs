//! Rows as an engine returns them (text, NULLs, decimal sums with a zero fraction) read back into
//! the report's results, with the figures worked out by hand.

use std::path::Path;

use tenure_plan::{MetricResult, RejectReason, ScalarValue};
use tenure_sql::{AttributeTypes, Rows, ValueType, read_input, read_result};

const PROJECT: &str = r#"
[project]
timezone = "UTC"
as_of = "2025-03-31"

[connections.warehouse]
kind = "postgres"

[sources.events]
table = "events"
entity = "account_id"
time = "ts"
event = "event"

[events.value]
where = "event == 'export'"

[events.payment]
where = "event == 'invoice_paid'"
amount = "props.amount"

[cohorts.monthly]
start = "value"
grain = "month"

[metrics.vrr]
type = "retention"
cohort = "monthly"
return = "value"
unit = "month"
periods = [0, 1]

[metrics.mrr]
type = "revenue"
amount = "payment"
grain = "month"

[metrics.nrr_cohorts]
type = "revenue"
amount = "payment"
cohort = "monthly"

[metrics.crr]
type = "crr"
active = "value"
grain = "month"
"#;

fn plan() -> tenure_plan::Plan {
    tenure_dsl::load_str(PROJECT, "metrics.toml", Path::new(".")).unwrap_or_else(|e| panic!("{}", e.render()))
}

fn rows(columns: &[&str], values: &[&[Option<&str>]]) -> Rows {
    Rows {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        values: values
            .iter()
            .map(|row| row.iter().map(|v| v.map(str::to_string)).collect())
            .collect(),
    }
}

#[test]
fn retention_rows_become_rates_and_an_eligible_only_total() {
    // Month 2025-01 (index 2025 × 12 + 0 = 24300): 4 members, 3 back in month 0, 2 in month 1,
    // all eligible. Month 2025-03 (24302): 2 members, 1 back in month 0; month 1 is April,
    // not over by 2025-03-31, so none is eligible for it (1 retained there is not counted).
    let answer = rows(
        &[
            "cohort_period",
            "size",
            "retained_0",
            "eligible_0",
            "retained_eligible_0",
            "retained_1",
            "eligible_1",
            "retained_eligible_1",
        ],
        &[
            &[
                Some("24300"),
                Some("4"),
                Some("3"),
                Some("4"),
                Some("3"),
                Some("2"),
                Some("4"),
                Some("2"),
            ],
            &[
                Some("24302"),
                Some("2"),
                Some("1"),
                Some("2"),
                Some("1"),
                Some("1"),
                Some("0"),
                Some("0"),
            ],
        ],
    );
    let MetricResult::Retention(result) =
        read_result(&plan(), "vrr", &answer, &AttributeTypes::new()).unwrap()
    else {
        panic!("a retention result");
    };
    assert_eq!(result.cohorts[0].cohort, "2025-01");
    assert_eq!(result.cohorts[0].rate, [Some(0.75), Some(0.5)]); // 3/4, 2/4
    assert_eq!(result.cohorts[1].cohort, "2025-03");
    // 1/2, then no member eligible: no rate yet, though one member is already back.
    assert_eq!(result.cohorts[1].rate, [Some(0.5), None]);
    assert_eq!(result.cohorts[1].retained, [1, 1]);
    assert_eq!(result.total.size, 6);
    assert_eq!(result.total.retained, [4, 2]);
    assert_eq!(result.total.eligible, [6, 4]);
    // (3 + 1) / (4 + 2) and 2 / 4: the total counts eligible members only.
    assert_eq!(result.total.rate, [Some(4.0 / 6.0), Some(0.5)]);
}

#[test]
fn revenue_rows_in_micro_units_become_money_and_ratios() {
    // February: 100.00 at the start, 10.50 of expansion, 20.00 churned; March incomplete? No:
    // as_of is 2025-03-31, the last day of March, so both months are complete.
    let columns = [
        "period",
        "complete",
        "start_micros",
        "new_micros",
        "expansion_micros",
        "contraction_micros",
        "churned_micros",
        "reactivation_micros",
        "end_micros",
        "customers_start",
        "customers_churned",
        "customers_end",
        "median_gap",
    ];
    let answer = rows(
        &columns,
        &[
            &[
                Some("24301"),
                Some("t"),
                Some("100000000"),
                Some("0"),
                Some("10500000.000000"),
                Some("0"),
                Some("20000000"),
                Some("0"),
                Some("90500000"),
                Some("4"),
                Some("1"),
                Some("3"),
                Some("2.5"),
            ],
            &[
                Some("24302"),
                Some("true"),
                Some("90500000"),
                Some("5000000"),
                Some("0"),
                Some("500000"),
                Some("0"),
                Some("0"),
                Some("95000000"),
                Some("3"),
                Some("0"),
                Some("4"),
                Some("2.5"),
            ],
        ],
    );
    let MetricResult::Revenue(result) = read_result(&plan(), "mrr", &answer, &AttributeTypes::new()).unwrap()
    else {
        panic!("a revenue result");
    };
    let february = &result.periods[0];
    assert_eq!(
        (february.period.as_str(), february.start, february.expansion),
        ("2025-02", 100.0, 10.5)
    );
    assert_eq!(february.grr, Some(0.8)); // (100 − 20) / 100
    assert_eq!(february.nrr, Some(0.905)); // (100 − 20 + 10.5) / 100
    assert_eq!(february.customer_churn_rate, Some(0.25)); // 1 / 4
    // Pooled over both months: retained 80 + 90 = 170, expansion 10.5, starts 190.5.
    assert_eq!(result.grr, Some(170.0 / 190.5));
    assert_eq!(result.nrr, Some(180.5 / 190.5));
    assert_eq!(result.grr_last, Some(90.0 / 90.5));
    // Payments a median of 2.5 months apart: longer than a period, so the table warns.
    assert_eq!(result.warnings.len(), 1);
    assert!(
        result.warnings[0].contains("a median of 2.5 months apart"),
        "{:?}",
        result.warnings
    );
}

#[test]
fn cohort_revenue_rows_fill_missing_periods_with_zeros() {
    // As of 2025-03-31 (period 24302; the day after is in April, 24303: March is over). January
    // (24300): 3 members, 2 paying 150.00 in month 0; month 1 has no row (nobody paid); month 2
    // one starting customer pays 120.00, capped at its 100.00, and a late payer 30.00.
    let columns = [
        "cohort_period",
        "k",
        "members",
        "revenue_micros",
        "customers",
        "starting_micros",
        "gross_micros",
        "starting_customers",
        "last_period",
        "period_after_as_of",
    ];
    let row = |values: [&'static str; 8]| -> Vec<Option<&'static str>> {
        values
            .into_iter()
            .map(Some)
            .chain([Some("24302"), Some("24303")])
            .collect()
    };
    let values = [
        row(["24300", "-1", "3", "0", "0", "0", "0", "0"]),
        row(["24300", "0", "0", "150000000", "2", "150000000", "150000000", "2"]),
        row([
            "24300",
            "2",
            "0",
            "150000000.000000",
            "2",
            "120000000",
            "100000000",
            "1",
        ]),
    ];
    let values: Vec<&[Option<&str>]> = values.iter().map(Vec::as_slice).collect();
    let MetricResult::CohortRevenue(result) = read_result(
        &plan(),
        "nrr_cohorts",
        &rows(&columns, &values),
        &AttributeTypes::new(),
    )
    .unwrap() else {
        panic!("a revenue-by-cohort result");
    };
    let january = &result.cohorts[0];
    assert_eq!(
        (january.cohort.as_str(), january.size, january.customers_start),
        ("2025-01", 3, 2)
    );
    assert_eq!(january.periods.len(), 3);
    assert_eq!(
        (january.periods[1].revenue, january.periods[1].nrr),
        (0.0, Some(0.0))
    );
    // Month 2: NRR 120/150, GRR 100/150, logo 1/2; all three months are over.
    let march = &january.periods[2];
    assert_eq!((march.revenue, march.customers, march.complete), (150.0, 2, true));
    assert_eq!(
        (march.nrr, march.grr, march.logo_retention),
        (Some(0.8), Some(100.0 / 150.0), Some(0.5))
    );
    assert_eq!(result.total[2].cohorts, 1);
}

#[test]
fn crr_rows_become_the_pooled_rate() {
    // February: S 10, E 9, N 2 → (9 − 2) / 10 = 0.7. March: S 9, E 8, N 0 → 8/9.
    let answer = rows(
        &["period", "complete", "start_s", "end_e", "new_n"],
        &[
            &[Some("24301"), Some("1"), Some("10"), Some("9"), Some("2")],
            &[Some("24302"), Some("1"), Some("9"), Some("8"), Some("0")],
        ],
    );
    let MetricResult::Crr(result) = read_result(&plan(), "crr", &answer, &AttributeTypes::new()).unwrap()
    else {
        panic!("a CRR result");
    };
    assert_eq!(result.periods[0].crr, Some(0.7));
    assert_eq!(result.crr, Some(15.0 / 19.0)); // (7 + 8) / (10 + 9)
    assert_eq!(result.crr_last, Some(8.0 / 9.0));
}

#[test]
fn the_accounting_row_adds_up_as_the_engine_counts() {
    // 20 rows read: 1 without an entity, 2 with a bad amount, so 17 readable; 15 distinct
    // (2 duplicates), of which 12 kept (3 excluded).
    let mut columns = vec!["as_of", "rows_read"];
    columns.extend(RejectReason::ALL.iter().map(|r| r.as_str()));
    columns.extend(["readable", "kept", "entities"]);
    let mut values = vec![Some("2025-03-31"), Some("20")];
    for reason in RejectReason::ALL {
        values.push(Some(match reason {
            RejectReason::MissingEntity => "1",
            RejectReason::BadAmount => "2",
            _ => "0",
        }));
    }
    values.extend([Some("15"), Some("12"), Some("5")]);
    let (as_of, input) = read_input(&plan(), &rows(&columns, &[&values])).unwrap();
    assert_eq!(as_of, "2025-03-31");
    assert_eq!(
        (input.rows, input.duplicates, input.excluded, input.kept),
        (20, 2, 3, 12)
    );
    assert_eq!(input.rejected[&RejectReason::BadAmount], 2);
    assert_eq!(input.entities, 5);
    assert_eq!(input.sources["events"].kept, 12);
}

#[test]
fn rows_of_the_wrong_shape_are_an_error_not_a_result() {
    let answer = rows(&["period", "complete"], &[&[Some("24301"), Some("t")]]);
    let error = read_result(&plan(), "crr", &answer, &AttributeTypes::new()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "the rows returned for metric `crr` are not what its statement selects: no column `start_s`"
    );
    let answer = rows(
        &["period", "complete", "start_s", "end_e", "new_n"],
        &[&[Some("24301"), Some("maybe"), Some("1"), Some("1"), Some("0")]],
    );
    let error = read_result(&plan(), "crr", &answer, &AttributeTypes::new()).unwrap_err();
    assert!(
        error
            .to_string()
            .ends_with("`complete` holds Some(\"maybe\"), not a truth value"),
        "{error}"
    );
}

#[test]
fn breakdown_values_are_typed_as_their_columns_and_rows_sorted_as_the_engine_sorts() {
    let text = PROJECT.replace(
        "[cohorts.monthly]\nstart = \"value\"\ngrain = \"month\"\n",
        "[cohorts.monthly]\nstart = \"value\"\ngrain = \"month\"\nby = [\"attr.seats\", \"attr.plan\"]\n",
    ) + "[sources.accounts]\nkind = \"entities\"\ntable = \"accounts\"\nentity = \"id\"\n";
    let plan = tenure_dsl::load_str(&text, "metrics.toml", Path::new("."))
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let mut types = AttributeTypes::new();
    types.insert("seats".to_string(), ValueType::Number);
    // Rows as an engine may order them: `seats` 10 before 9 (as text), a null `plan`.
    let columns = [
        "cohort_period",
        "by_0",
        "by_1",
        "size",
        "retained_0",
        "eligible_0",
        "retained_eligible_0",
        "retained_1",
        "eligible_1",
        "retained_eligible_1",
    ];
    let answer = rows(
        &columns,
        &[
            &[
                Some("24300"),
                Some("10"),
                Some("pro"),
                Some("2"),
                Some("1"),
                Some("2"),
                Some("1"),
                Some("0"),
                Some("2"),
                Some("0"),
            ],
            &[
                Some("24300"),
                Some("9"),
                None,
                Some("1"),
                Some("1"),
                Some("1"),
                Some("1"),
                Some("1"),
                Some("1"),
                Some("1"),
            ],
            &[
                Some("24299"),
                None,
                Some("free"),
                Some("1"),
                Some("0"),
                Some("1"),
                Some("0"),
                Some("0"),
                Some("1"),
                Some("0"),
            ],
        ],
    );
    let MetricResult::Retention(result) = read_result(&plan, "vrr", &answer, &types).unwrap() else {
        panic!("a retention result");
    };
    let keys: Vec<(String, Vec<(String, ScalarValue)>)> = result
        .cohorts
        .iter()
        .map(|row| (row.cohort.clone(), row.segment.clone().unwrap().0))
        .collect();
    let seats = |value| ("attr.seats".to_string(), value);
    let plan_of = |value| ("attr.plan".to_string(), value);
    assert_eq!(
        keys,
        [
            (
                "2024-12".to_string(),
                vec![
                    seats(ScalarValue::Null),
                    plan_of(ScalarValue::String("free".into()))
                ]
            ),
            (
                "2025-01".to_string(),
                vec![seats(ScalarValue::Number(9.0)), plan_of(ScalarValue::Null)]
            ),
            (
                "2025-01".to_string(),
                vec![
                    seats(ScalarValue::Number(10.0)),
                    plan_of(ScalarValue::String("pro".into()))
                ]
            ),
        ]
    );
    assert_eq!(result.total.size, 4); // 2 + 1 + 1
}
