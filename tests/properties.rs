//! Invariants over generated event logs (proptest). `PROPTEST_CASES` raises the case count
//! locally; CI runs the default of this file (64 cases per property).

mod common;

use common::{Fixture, TextEncoding};
use proptest::prelude::*;
use serde_json::Value;

/// An event: (entity, day 0–70, second of the day, event kind).
type Row = (u8, u16, u32, u8);

const KINDS: [&str; 3] = ["report", "login", "other"];

fn csv(rows: &[Row]) -> String {
    // `other` rows assign their entity to arm A or B (an entity may get both: conflicting).
    let mut text = String::from("id,ts,event,arm\n");
    for (entity, day, second, kind) in rows {
        let time = chrono::DateTime::from_timestamp(
            1_735_689_600 + i64::from(*day) * 86_400 + i64::from(*second),
            0,
        )
        .expect("in range")
        .format("%Y-%m-%dT%H:%M:%SZ");
        let arm = arm(*kind, *second).unwrap_or_default();
        text.push_str(&format!("e{entity},{time},{},{arm}\n", KINDS[*kind as usize]));
    }
    text
}

/// The arm an `other` row assigns its entity to; other rows assign none.
fn arm(kind: u8, second: u32) -> Option<&'static str> {
    (kind == 2).then(|| ["A", "B"][second as usize % 2])
}

fn config(sources: &[&str], dedupe: bool, timezone: &str) -> String {
    let mut text = format!(
        "[project]\ntimezone = \"{timezone}\"\nas_of = \"2025-02-20\"\n[quality]\ndedupe = \"{}\"\n",
        if dedupe { "exact" } else { "none" }
    );
    for source in sources {
        text.push_str(&format!(
            "[sources.{source}]\npath = \"{source}.csv\"\nentity = \"id\"\ntime = \"ts\"\nevent = \"event\"\n"
        ));
    }
    text.push_str(
        r#"
[events.report]
where = "event == 'report'"
[events.active]
where = "event in ['report', 'login']"
[cohorts.weekly]
start = "report"
grain = "week"
[metrics.nday]
type = "retention"
cohort = "weekly"
return = "active"
periods = [0, 1, 2, 3, 7, 14, 30]
[metrics.unbounded]
type = "retention"
cohort = "weekly"
return = "active"
mode = "unbounded"
periods = [0, 1, 2, 3, 7, 14, 30]
[metrics.bracket]
type = "retention"
cohort = "weekly"
return = "active"
mode = "bracket"
brackets = [[0, 0], [1, 3], [4, 14], [7, 30]]
[metrics.weekly]
type = "retention"
cohort = "weekly"
return = "active"
unit = "week"
align = "calendar"
periods = [0, 1, 2, 4]
[cohorts.every_week]
start = "report"
grain = "week"
recurring = true
[metrics.recurring]
type = "retention"
cohort = "every_week"
return = "active"
periods = [0, 1, 7, 14]
[metrics.var]
type = "activation"
cohort = "weekly"
reached = "active"
within = "3d"
[metrics.lifecycle]
type = "lifecycle"
active = "active"
grain = "week"
[events.login]
where = "event == 'login'"
[metrics.funnel]
type = "funnel"
cohort = "weekly"
steps = ["login", "report", "login"]
within = "10d"
[metrics.stickiness]
type = "stickiness"
active = "active"
at_least = 2
[metrics.health]
type = "health"
active = "active"
window = "14d"
backtest = "20d"
[metrics.health.components.usage]
signal = "count"
event = "report"
weight = 2
percentile = "higher"
[metrics.health.components.recency]
signal = "recency"
event = "active"
weight = 1
scale = [14, 0]
[metrics.health.components.rhythm]
signal = "frequency_break"
event = "active"
weight = 1
scale = [3, 1]
[events.assigned]
where = "event == 'other'"
[metrics.uplift]
type = "uplift"
retention = "unbounded"
period = 7
assignment = "assigned"
variant = "props.arm"
treatment = "B"
control = "A"
"#,
    );
    text
}

fn run(rows: &[Row]) -> Value {
    let fixture = Fixture::new();
    fixture.file("events.csv", &csv(rows));
    fixture.run(&config(&["events"], false, "UTC"))
}

fn rows_strategy() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec((0u8..8, 0u16..70, 0u32..86_400, 0u8..3), 1..60)
}

fn shuffled<T: Clone>(rows: &[T], seed: u64) -> Vec<T> {
    let mut rows = rows.to_vec();
    let mut state = seed | 1;
    for i in (1..rows.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        rows.swap(i, (state % (i as u64 + 1)) as usize);
    }
    rows
}

/// `PROPTEST_CASES` when set, else 64.
fn case_count() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

fn numbers(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: case_count(), ..ProptestConfig::default() })]

    #[test]
    fn rates_are_proportions_and_counts_fit(rows in rows_strategy()) {
        let report = run(&rows);
        for (name, metric) in report["metrics"].as_object().unwrap() {
            if metric["type"] != "retention" {
                continue;
            }
            for row in metric["cohorts"].as_array().unwrap() {
                let size = row["size"].as_u64().unwrap();
                for ((retained, eligible), rate) in numbers(&row["retained"]).iter().zip(numbers(&row["eligible"])).zip(row["rate"].as_array().unwrap()) {
                    prop_assert!(*retained <= size && eligible <= size, "{name}: counts above size");
                    // A rate exactly where some member is eligible, and then a proportion.
                    prop_assert_eq!(rate.is_null(), eligible == 0, "{}: rate {} of {} eligible", name, rate, eligible);
                    if let Some(rate) = rate.as_f64() {
                        prop_assert!((0.0..=1.0).contains(&rate), "{name}: rate {rate}");
                    }
                }
            }
            let total = &metric["total"];
            for ((retained, eligible), rate) in numbers(&total["retained"]).iter().zip(numbers(&total["eligible"])).zip(total["rate"].as_array().unwrap()) {
                prop_assert!(retained <= &eligible);
                if let Some(rate) = rate.as_f64() {
                    prop_assert!((0.0..=1.0).contains(&rate));
                }
            }
        }
        let activation = &report["metrics"]["var"];
        for row in activation["cohorts"].as_array().unwrap() {
            prop_assert!(row["activated"].as_u64() <= row["size"].as_u64());
            prop_assert_eq!(row["rate"].is_null(), row["eligible"] == 0);
            if let Some(rate) = row["rate"].as_f64() {
                prop_assert!((0.0..=1.0).contains(&rate));
            }
        }
        // A funnel narrows: each step's members are some of the step before's.
        let funnel = &report["metrics"]["funnel"];
        let rows = funnel["cohorts"].as_array().unwrap().iter().chain(std::iter::once(&funnel["total"]));
        for row in rows {
            let mut before = if row.get("cohort").is_some() { &row["size"] } else { &row["eligible"] }.as_u64().unwrap();
            prop_assert!(row["eligible"].as_u64() <= row["size"].as_u64());
            for step in row["steps"].as_array().unwrap() {
                let reached = step["reached"].as_u64().unwrap();
                prop_assert!(reached <= before, "{} above {}", reached, before);
                prop_assert_eq!(step["rate"].is_null(), row["eligible"] == 0);
                for rate in [&step["rate"], &step["step_rate"]] {
                    if let Some(rate) = rate.as_f64() {
                        prop_assert!((0.0..=1.0).contains(&rate));
                    }
                }
                before = reached;
            }
        }
    }

    #[test]
    fn uplift_groups_partition_the_members(rows in rows_strategy()) {
        let report = run(&rows);
        let uplift = &report["metrics"]["uplift"];
        let retention = &report["metrics"]["unbounded"];
        let members: u64 = retention["cohorts"].as_array().unwrap().iter().map(|c| c["size"].as_u64().unwrap()).sum();
        let total = &uplift["total"];
        let grouped = total["treatment"]["members"].as_u64().unwrap() + total["control"]["members"].as_u64().unwrap();
        prop_assert_eq!(grouped + uplift["ungrouped"].as_u64().unwrap() + uplift["conflicting"].as_u64().unwrap(), members);
        for row in uplift["cohorts"].as_array().unwrap().iter().chain([total]) {
            for side in ["treatment", "control"] {
                let group = &row[side];
                prop_assert!(group["retained"].as_u64() <= group["eligible"].as_u64());
                prop_assert!(group["eligible"].as_u64() <= group["members"].as_u64());
            }
            // The interval, when there is one, holds the uplift.
            if let (Some(low), Some(high), Some(uplift)) = (row["low"].as_f64(), row["high"].as_f64(), row["uplift"].as_f64()) {
                prop_assert!(low <= uplift + 1e-12 && uplift <= high + 1e-12, "{low} {uplift} {high}");
                prop_assert!((-1.0..=1.0).contains(&low) && (-1.0..=1.0).contains(&high));
            }
        }
    }

    #[test]
    fn health_bands_partition_the_population(rows in rows_strategy()) {
        let report = run(&rows);
        let health = &report["metrics"]["health"];
        for scores in [health, &health["backtest"]] {
            let in_bands: u64 = scores["distribution"].as_array().unwrap().iter().map(|b| b["entities"].as_u64().unwrap()).sum();
            prop_assert_eq!(in_bands + scores["unscored"].as_u64().unwrap(), scores["population"].as_u64().unwrap());
        }
        // Every entity at risk is in the at-risk band, with a score in it, and its points add up.
        let red = health["distribution"].as_array().unwrap().iter().find(|b| b["band"] == "red").unwrap();
        prop_assert_eq!(health["at_risk"].as_array().unwrap().len() as u64, red["entities"].as_u64().unwrap());
        for entity in health["at_risk"].as_array().unwrap() {
            let score = entity["score"].as_f64().unwrap();
            prop_assert!((0.0..40.0).contains(&score), "{score}");
            let points: f64 = entity["contributions"].as_object().unwrap().values().filter_map(Value::as_f64).sum();
            prop_assert!((points - score).abs() < 1e-9, "{points} vs {score}");
        }
        // Each band then is followed into some band now, or out of the population.
        let backtest = &health["backtest"];
        let followed: u64 = backtest["transitions"].as_array().unwrap().iter().map(|t| t["entities"].as_u64().unwrap()).sum();
        let scored_then = backtest["population"].as_u64().unwrap() - backtest["unscored"].as_u64().unwrap();
        prop_assert_eq!(followed, scored_then);
    }

    #[test]
    fn lifecycle_parts_add_up(rows in rows_strategy()) {
        let report = run(&rows);
        let periods = report["metrics"]["lifecycle"]["periods"].as_array().unwrap();
        let count = |p: &Value, k: &str| p[k].as_u64().unwrap();
        let mut ever_active = 0;
        for (index, p) in periods.iter().enumerate() {
            // Every active entity is exactly one of new, returning, resurrecting.
            prop_assert_eq!(count(p, "active"), count(p, "new") + count(p, "returning") + count(p, "resurrecting"));
            // Last period's active either came back (returning) or went dormant.
            let before = index.checked_sub(1).map_or(0, |i| count(&periods[i], "active"));
            prop_assert_eq!(before, count(p, "returning") + count(p, "dormant"));
            // Resurrecting entities were active before, so never more than those seen so far.
            prop_assert!(count(p, "resurrecting") + count(p, "returning") <= ever_active);
            ever_active += count(p, "new");
        }
        // Each entity is new once: the new counts add up to the entities ever active.
        let entities: std::collections::BTreeSet<u8> = rows.iter().filter(|r| r.3 < 2 && r.1 <= 50).map(|r| r.0).collect();
        prop_assert_eq!(ever_active, entities.len() as u64);
    }

    #[test]
    fn stickiness_windows_nest_and_histograms_count_the_active(rows in rows_strategy()) {
        let report = run(&rows);
        let sticky = &report["metrics"]["stickiness"];
        let count = |v: &Value, k: &str| v[k].as_u64().unwrap();
        for day in sticky["days"].as_array().unwrap() {
            // Every window holds the shorter ones ending on the same day.
            prop_assert!(count(day, "dau") <= count(day, "wau") && count(day, "wau") <= count(day, "mau"));
        }
        for period in sticky["periods"].as_array().unwrap() {
            let histogram = numbers(&period["days_active"]);
            prop_assert_eq!(histogram.iter().sum::<u64>(), count(period, "active"));
            prop_assert_eq!(histogram.len(), 7);
            // Weekly active entities are the lifecycle's active entities of the same week.
            let same = report["metrics"]["lifecycle"]["periods"].as_array().unwrap().iter()
                .find(|p| p["period"] == period["period"]).map_or(0, |p| count(p, "active"));
            prop_assert_eq!(count(period, "active"), same);
        }
    }

    #[test]
    fn totals_per_breakdown_value_add_up_to_the_total(rows in rows_strategy()) {
        let fixture = Fixture::new();
        fixture.file("events.csv", &csv(&rows));
        // Plans for e0 … e6; e7 has none (its value is null).
        fixture.file("accounts.csv", "id,plan\ne0,a\ne1,a\ne2,b\ne3,a\ne4,c\ne5,b\ne6,c\n");
        let extra = "[sources.accounts]\nkind = \"entities\"\npath = \"accounts.csv\"\nentity = \"id\"\n\
            [cohorts.by_plan]\nstart = \"report\"\ngrain = \"week\"\nby = [\"attr.plan\"]\n\
            [metrics.vrr_by_plan]\ntype = \"retention\"\ncohort = \"by_plan\"\nreturn = \"active\"\nperiods = [0, 1, 7, 14]\n\
            [metrics.var_by_plan]\ntype = \"activation\"\ncohort = \"by_plan\"\nreached = \"active\"\nwithin = \"3d\"\n";
        let report = fixture.run(&format!("{}{extra}", config(&["events"], false, "UTC")));
        for (metric, figures) in [("vrr_by_plan", &["size", "retained", "eligible"][..]), ("var_by_plan", &["size", "activated", "eligible"][..])] {
            let table = &report["metrics"][metric];
            let totals = table["totals"].as_array().unwrap();
            for figure in figures {
                // Counts per column (retention) or one count (activation), summed over values.
                let as_list = |v: &Value| v.as_array().map_or_else(|| vec![v.as_u64().unwrap()], |_| numbers(v));
                let mut sum = vec![0u64; as_list(&table["total"][figure]).len()];
                for total in totals {
                    for (slot, count) in sum.iter_mut().zip(as_list(&total[figure])) {
                        *slot += count;
                    }
                }
                prop_assert_eq!(&sum, &as_list(&table["total"][figure]), "{} {}", metric, figure);
            }
        }
    }

    #[test]
    fn a_recurring_cohort_holds_every_first_time_member(rows in rows_strategy()) {
        // Each entity's first report week is one of the weeks it reported in: every first-time
        // row has a recurring row of the same week at least as large, and the recurring rows'
        // counts fit their sizes.
        let report = run(&rows);
        let first = report["metrics"]["nday"]["cohorts"].as_array().unwrap();
        let recurring = report["metrics"]["recurring"]["cohorts"].as_array().unwrap();
        prop_assert!(recurring.len() >= first.len());
        for row in first {
            let same = recurring.iter().find(|r| r["cohort"] == row["cohort"]);
            prop_assert!(same.is_some(), "no recurring row for {}", row["cohort"]);
            let same = same.unwrap();
            prop_assert!(same["size"].as_u64() >= row["size"].as_u64());
        }
        for row in recurring {
            let size = row["size"].as_u64().unwrap();
            prop_assert!(numbers(&row["retained"]).iter().all(|n| *n <= size));
            prop_assert!(numbers(&row["eligible"]).iter().all(|n| *n <= size));
            // The start is a report, and a report is active: day 0 keeps every member.
            prop_assert_eq!(numbers(&row["retained"])[0], size);
        }
        let total = &report["metrics"]["recurring"]["total"]["size"];
        let sizes: u64 = recurring.iter().map(|r| r["size"].as_u64().unwrap()).sum();
        prop_assert_eq!(total.as_u64(), Some(sizes));
    }

    #[test]
    fn unbounded_is_monotone_and_bounds_n_day(rows in rows_strategy()) {
        let report = run(&rows);
        let nday = report["metrics"]["nday"]["cohorts"].as_array().unwrap();
        let unbounded = report["metrics"]["unbounded"]["cohorts"].as_array().unwrap();
        let bracket = report["metrics"]["bracket"]["cohorts"].as_array().unwrap();
        let periods = [0u64, 1, 2, 3, 7, 14, 30];
        let brackets = [(0u64, 0u64), (1, 3), (4, 14), (7, 30)];
        prop_assert_eq!(nday.len(), unbounded.len());
        for ((n, u), b) in nday.iter().zip(unbounded).zip(bracket) {
            let (n, u, b) = (numbers(&n["retained"]), numbers(&u["retained"]), numbers(&b["retained"]));
            for k in 0..periods.len() {
                prop_assert!(u[k] >= n[k], "unbounded {} < n-day {} at k={}", u[k], n[k], periods[k]);
                if k > 0 {
                    prop_assert!(u[k] <= u[k - 1], "unbounded grows from k={} to k={}", periods[k - 1], periods[k]);
                }
                for (index, (a, z)) in brackets.iter().enumerate() {
                    if (*a..=*z).contains(&periods[k]) {
                        prop_assert!(b[index] >= n[k], "bracket [{a}, {z}] below n-day at {}", periods[k]);
                    }
                }
            }
        }
    }

    #[test]
    fn row_order_does_not_matter(rows in rows_strategy(), seed in any::<u64>()) {
        prop_assert_eq!(run(&rows), run(&shuffled(&rows, seed)));
    }

    #[test]
    fn duplicates_and_split_sources_do_not_matter(rows in rows_strategy(), seed in any::<u64>(), copies in prop::collection::vec(any::<prop::sample::Index>(), 0..10)) {
        let fixture = Fixture::new();
        fixture.file("events.csv", &csv(&rows));
        let plain = fixture.run(&config(&["events"], true, "America/Chicago"));
        // The same rows with some sent twice, shuffled, and split over two files.
        let mut noisy = rows.clone();
        noisy.extend(copies.iter().map(|i| rows[i.index(rows.len())]));
        let noisy = shuffled(&noisy, seed);
        let (web, mobile) = noisy.split_at(noisy.len() / 2);
        let split = Fixture::new();
        split.file("web.csv", &csv(web));
        split.file("mobile.csv", &csv(mobile));
        let deduped = split.run(&config(&["web", "mobile"], true, "America/Chicago"));
        prop_assert_eq!(&plain["metrics"], &deduped["metrics"]);
        let extra = deduped["input"]["duplicates"].as_u64().unwrap() - plain["input"]["duplicates"].as_u64().unwrap();
        prop_assert_eq!(extra, copies.len() as u64);
    }

    #[test]
    fn parquet_and_csv_of_the_same_rows_give_the_same_report(rows in rows_strategy(), copies in prop::collection::vec(any::<prop::sample::Index>(), 0..10), group in 1usize..8, encoding in 0usize..4) {
        // The same rows (some repeated) as CSV text and as Parquet with a typed timestamp column
        // in row groups of `group` rows, text in dictionary pages, plain pages or both: the
        // columnar reader and the text reader must agree on every figure, duplicates included.
        let encoding = [TextEncoding::Dictionary, TextEncoding::FallingBackToPlain, TextEncoding::FallingBackToPlainV2, TextEncoding::Plain][encoding];
        let repeated: Vec<Row> = copies.iter().map(|i| rows[i.index(rows.len())]).collect();
        let rows = [rows, repeated].concat();
        let fixture = Fixture::new();
        fixture.file("events.csv", &csv(&rows));
        let seconds = |(_, day, second, _): &Row| 1_735_689_600 + i64::from(*day) * 86_400 + i64::from(*second);
        let columns: Vec<(&str, arrow_array::ArrayRef)> = vec![
            ("id", std::sync::Arc::new(arrow_array::StringArray::from(
                rows.iter().map(|r| format!("e{}", r.0)).collect::<Vec<_>>(),
            ))),
            ("ts", std::sync::Arc::new(
                arrow_array::TimestampMicrosecondArray::from(
                    rows.iter().map(|r| seconds(r) * 1_000_000).collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            )),
            ("event", std::sync::Arc::new(arrow_array::StringArray::from(
                rows.iter().map(|r| KINDS[r.3 as usize]).collect::<Vec<_>>(),
            ))),
            ("arm", std::sync::Arc::new(arrow_array::StringArray::from(
                rows.iter().map(|r| arm(r.3, r.2)).collect::<Vec<_>>(),
            ))),
        ];
        std::fs::write(fixture.path().join("events.parquet"), common::parquet_bytes_encoded(columns, Some(group), encoding)).unwrap();
        let config = config(&["events"], true, "America/Chicago");
        let from_csv = fixture.run(&config);
        let from_parquet = fixture.run(&config.replace("events.csv", "events.parquet"));
        prop_assert_eq!(&from_csv["metrics"], &from_parquet["metrics"]);
        prop_assert_eq!(&from_csv["input"], &from_parquet["input"]);
    }

    #[test]
    fn thread_count_does_not_matter(rows in rows_strategy()) {
        let fixture = Fixture::new();
        fixture.file("events.csv", &csv(&rows));
        let config = config(&["events"], false, "Asia/Kolkata");
        let in_pool = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| fixture.run(&config))
        };
        prop_assert_eq!(in_pool(1), in_pool(2));
    }
}

/// A payment: (entity, day 0–240, amount in cents from −50.00 (a refund) to 500.00).
type Payment = (u8, u16, i32);

fn payments_csv(payments: &[Payment]) -> String {
    let mut text = String::from("id,ts,event,amount\n");
    for (entity, day, cents) in payments {
        let time = chrono::DateTime::from_timestamp(1_735_689_600 + i64::from(*day) * 86_400 + 3_600, 0)
            .expect("in range")
            .format("%Y-%m-%dT%H:%M:%SZ");
        let sign = if *cents < 0 { "-" } else { "" };
        text.push_str(&format!(
            "e{entity},{time},pay,{sign}{}.{:02}\n",
            cents.abs() / 100,
            cents.abs() % 100
        ));
    }
    text
}

fn payments_strategy() -> impl Strategy<Value = Vec<Payment>> {
    prop::collection::vec((0u8..10, 0u16..240, -5_000i32..50_000), 1..80)
}

const REVENUE: &str = r#"
[project]
as_of = "2025-08-31"
[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"
[events.pay]
where = "event == 'pay'"
amount = "props.amount"
[metrics.month]
type = "revenue"
amount = "pay"
[metrics.week]
type = "revenue"
amount = "pay"
grain = "week"
reactivation_within = "3w"
[metrics.spread]
type = "revenue"
amount = "pay"
spread = "2"
[metrics.week_spread]
type = "revenue"
amount = "pay"
grain = "week"
spread = "2"
[metrics.gains]
type = "formula"
formula = "month.new + month.expansion + month.reactivation"
[metrics.losses_last]
type = "formula"
formula = "month.contraction_last + month.churned_last"
[metrics.quick_ratio]
type = "formula"
formula = "(month.new + month.expansion + month.reactivation) / (month.contraction + month.churned)"
[cohorts.payers]
start = "pay"
grain = "month"
[metrics.by_cohort]
type = "revenue"
amount = "pay"
cohort = "payers"
"#;

/// Checks every revenue period of `report`: the movements identity, start = previous end, and
/// retention rates where they are defined.
fn check_revenue(report: &Value) -> Result<(), TestCaseError> {
    for metric in ["month", "week", "spread", "week_spread"] {
        let mut previous_end: Option<i128> = None;
        for p in report["metrics"][metric]["periods"].as_array().unwrap() {
            let micros = |k: &str| (p[k].as_f64().unwrap() * 1e6).round() as i128;
            let moved = micros("start") - micros("churned") - micros("contraction")
                + micros("expansion")
                + micros("new")
                + micros("reactivation");
            prop_assert_eq!(micros("end"), moved, "{} {}", metric, p["period"]);
            if let Some(end) = previous_end {
                prop_assert_eq!(micros("start"), end, "{} {}", metric, p["period"]);
            }
            previous_end = Some(micros("end"));
            for movement in ["new", "expansion", "contraction", "churned", "reactivation"] {
                prop_assert!(micros(movement) >= 0, "{} {} {}", metric, p["period"], movement);
            }
            for rate in ["grr", "customer_churn_rate", "revenue_churn_rate"] {
                if let Some(rate) = p[rate].as_f64() {
                    prop_assert!(
                        (0.0..=1.0).contains(&rate),
                        "{} {} {} = {}",
                        metric,
                        p["period"],
                        rate,
                        rate
                    );
                }
            }
            if let (Some(nrr), Some(grr)) = (p["nrr"].as_f64(), p["grr"].as_f64()) {
                prop_assert!(
                    nrr >= grr,
                    "{} {}: nrr {} < grr {}",
                    metric,
                    p["period"],
                    nrr,
                    grr
                );
            }
        }
    }
    check_quick_ratio(report)?;
    check_cohort_revenue(report)
}

/// The quick ratio's parts, read by formulas, are the movement figures of the table: sums over
/// its complete periods, and the last complete period's for `_last`.
fn check_quick_ratio(report: &Value) -> Result<(), TestCaseError> {
    let periods = report["metrics"]["month"]["periods"].as_array().unwrap();
    let complete: Vec<&Value> = periods.iter().filter(|p| p["complete"] == true).collect();
    let sum =
        |period: &Value, names: &[&str]| -> f64 { names.iter().map(|n| period[*n].as_f64().unwrap()).sum() };
    let gains: f64 = complete
        .iter()
        .map(|p| sum(p, &["new", "expansion", "reactivation"]))
        .sum();
    let losses: f64 = complete.iter().map(|p| sum(p, &["contraction", "churned"])).sum();
    let value = |name: &str| report["metrics"][name]["value"].as_f64();
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-6 * a.abs().max(1.0);
    if complete.is_empty() {
        return Ok(());
    }
    prop_assert!(
        value("gains").is_some_and(|v| close(v, gains)),
        "gains {:?} vs {}",
        value("gains"),
        gains
    );
    match value("quick_ratio") {
        Some(ratio) => prop_assert!(
            losses > 0.0 && close(ratio, gains / losses),
            "quick {} vs {} / {}",
            ratio,
            gains,
            losses
        ),
        None => prop_assert!(losses == 0.0, "quick ratio null with losses {}", losses),
    }
    let last = complete.last().unwrap();
    let last_losses = sum(last, &["contraction", "churned"]);
    prop_assert!(
        value("losses_last").is_some_and(|v| close(v, last_losses)),
        "losses_last {:?} vs {}",
        value("losses_last"),
        last_losses
    );
    Ok(())
}

/// Revenue by cohort of first payment: shares are proportions (GRR at most NRR, both 1 in the
/// first period), and each calendar month's revenue over the cohort rows is that month's MRR.
fn check_cohort_revenue(report: &Value) -> Result<(), TestCaseError> {
    let micros = |v: &Value| (v.as_f64().unwrap() * 1e6).round() as i128;
    let mut by_month: std::collections::BTreeMap<String, i128> = Default::default();
    for row in report["metrics"]["by_cohort"]["cohorts"].as_array().unwrap() {
        let (year, month) = row["cohort"].as_str().unwrap().split_once('-').unwrap();
        let start = year.parse::<i32>().unwrap() * 12 + month.parse::<i32>().unwrap() - 1;
        for p in row["periods"].as_array().unwrap() {
            let index = start + p["period"].as_i64().unwrap() as i32;
            let label = format!("{:04}-{:02}", index / 12, index % 12 + 1);
            *by_month.entry(label).or_default() += micros(&p["revenue"]);
            let (nrr, grr, logo) = (p["nrr"].as_f64(), p["grr"].as_f64(), p["logo_retention"].as_f64());
            prop_assert_eq!(nrr.is_some(), row["customers_start"].as_u64().unwrap() > 0);
            if let (Some(nrr), Some(grr), Some(logo)) = (nrr, grr, logo) {
                prop_assert!((0.0..=1.0).contains(&grr) && grr <= nrr && (0.0..=1.0).contains(&logo));
                if p["period"] == 0 {
                    prop_assert_eq!((nrr, grr, logo), (1.0, 1.0, 1.0));
                }
            }
        }
    }
    for p in report["metrics"]["month"]["periods"].as_array().unwrap() {
        let month = p["period"].as_str().unwrap();
        prop_assert_eq!(
            by_month.get(month).copied().unwrap_or(0),
            micros(&p["end"]),
            "{}",
            month
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: case_count(), ..ProptestConfig::default() })]

    /// end = start − churned − contraction + expansion + new + reactivation, with refunds in the
    /// data, and the same figures for any row order.
    #[test]
    fn revenue_movements_add_up_for_any_payments(payments in payments_strategy(), seed in any::<u64>()) {
        let fixture = Fixture::new();
        fixture.file("events.csv", &payments_csv(&payments));
        let report = fixture.run(REVENUE);
        check_revenue(&report)?;
        fixture.file("events.csv", &payments_csv(&shuffled(&payments, seed)));
        prop_assert_eq!(fixture.run(REVENUE), report);
    }
}

/// A monthly revenue table broken down by RFM labelled at each period's start, over
/// `payments` up to `as_of`.
fn period_start_config(as_of: &str, by: bool) -> String {
    let by = if by {
        "[metrics.by_rfm]\ntype = \"revenue\"\namount = \"pay\"\nby = [\"segment.rfm\"]\n"
    } else {
        ""
    };
    format!(
        "[project]\nas_of = \"{as_of}\"\n[sources.events]\npath = \"events.csv\"\nentity = \"id\"\ntime = \"ts\"\n\
         event = \"event\"\n[events.pay]\nwhere = \"event == 'pay'\"\namount = \"props.amount\"\n\
         [plugins.rfm]\npath = \"{}\"\n[segments.rfm]\nplugin = \"rfm\"\nevent = \"pay\"\nparams = {{ bins = 2 }}\n\
         as_of = \"period_start\"\n{by}",
        common::library("tenure_rfm")
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: case_count(), ..ProptestConfig::default() })]

    /// A label taken at a period's start never reads a later event: each month's table of
    /// each label holds exactly the revenue of the entities that a run over only the payments
    /// before that month (as of its eve) gives that label.
    #[test]
    fn labels_at_a_period_start_read_only_the_data_before_it(payments in payments_strategy()) {
        let fixture = Fixture::new();
        fixture.file("events.csv", &payments_csv(&payments));
        let report = fixture.run(&period_start_config("2025-08-31", true));
        let micros = |v: &Value| (v.as_f64().unwrap() * 1e6).round() as i128;
        // Each entity's revenue per month (days from 2025-01-01), positive months only.
        let month_of = |day: u16| {
            let date = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(u64::from(day));
            date.format("%Y-%m").to_string()
        };
        let mut revenue: std::collections::BTreeMap<(String, String), i128> = Default::default();
        for (entity, day, cents) in &payments {
            *revenue.entry((month_of(*day), format!("e{entity}"))).or_default() += i128::from(*cents) * 10_000;
        }
        let segments = report["metrics"]["by_rfm"]["segments"].as_array().cloned().unwrap_or_default();
        for row in report["metrics"]["by_rfm"]["periods"].as_array().unwrap() {
            let month = row["period"].as_str().unwrap().to_string();
            let first_day = chrono::NaiveDate::parse_from_str(&format!("{month}-01"), "%Y-%m-%d").unwrap();
            let eve = first_day.pred_opt().unwrap();
            // Only the payments before the month, read as of its eve.
            let before: Vec<Payment> = payments
                .iter()
                .filter(|(_, day, _)| chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap() + chrono::Days::new(u64::from(*day)) <= eve)
                .copied()
                .collect();
            let labels: std::collections::BTreeMap<String, Option<String>> = if before.is_empty() {
                Default::default()
            } else {
                let earlier = Fixture::new();
                earlier.file("events.csv", &payments_csv(&before));
                let config = period_start_config(&eve.to_string(), false);
                let project = tenure::Project::from_str(&config, earlier.path()).unwrap_or_else(|e| panic!("{e}"));
                let dataset = project.load().unwrap_or_else(|e| panic!("{e}"));
                dataset.segment_labels("rfm").unwrap().into_iter().collect()
            };
            for table in &segments {
                let label = table["segment"]["segment.rfm"].as_str().map(str::to_string);
                let expected: i128 = revenue
                    .iter()
                    .filter(|((m, entity), value)| *m == month && **value > 0 && labels.get(entity).cloned().flatten() == label)
                    .map(|(_, value)| *value)
                    .sum();
                let period = table["periods"].as_array().unwrap().iter().find(|p| p["period"] == row["period"]).unwrap();
                prop_assert_eq!(micros(&period["end"]), expected, "{} {:?}", month, label);
            }
        }
    }
}
