//! Sources handed over in memory as Arrow record batches: the same figures as the same rows in
//! a file, and the same checks of their columns.

use std::sync::Arc;

use arrow_array::{ArrayRef, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};

const CONFIG: &str = r#"
[project]
timezone = "UTC"
as_of = "2025-01-31"

[sources.events]
path = "events.csv"
entity = "id"
time = "ts"
event = "event"

[events.value]
where = "event == 'report'"

[cohorts.weekly]
start = "value"
grain = "week"

[metrics.kept]
type = "retention"
cohort = "weekly"
return = "value"
periods = [0, 7]
"#;

/// a reports on 01-06 and 01-13 (day 7), b on 01-07 only, c has no entity: one week-of-01-06
/// cohort of 2, both back on day 0, a on day 7; one row rejected.
const ROWS: [(Option<&str>, i64, &str); 4] = [
    (Some("a"), 1_736_157_600_000_000, "report"), // 2025-01-06T10:00:00Z
    (Some("a"), 1_736_762_400_000_000, "report"), // 2025-01-13T10:00:00Z
    (Some("b"), 1_736_244_000_000_000, "report"), // 2025-01-07T10:00:00Z
    (None, 1_736_244_000_000_000, "report"),
];

fn batches(split: usize) -> (Arc<Schema>, Vec<RecordBatch>) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Utf8, true),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("event", DataType::Utf8, false),
    ]));
    let batch = |rows: &[(Option<&str>, i64, &str)]| {
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(rows.iter().map(|r| r.0).collect::<Vec<_>>())),
            Arc::new(
                TimestampMicrosecondArray::from(rows.iter().map(|r| r.1).collect::<Vec<_>>())
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from(rows.iter().map(|r| r.2).collect::<Vec<_>>())),
        ];
        RecordBatch::try_new(schema.clone(), columns).unwrap()
    };
    (schema.clone(), vec![batch(&ROWS[..split]), batch(&ROWS[split..])])
}

#[test]
fn batches_in_memory_give_the_figures_of_the_same_rows_in_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("events.csv"),
        "id,ts,event\na,2025-01-06T10:00:00Z,report\na,2025-01-13T10:00:00Z,report\n\
         b,2025-01-07T10:00:00Z,report\n,2025-01-07T10:00:00Z,report\n",
    )
    .unwrap();
    let project = tenure::Project::from_str(CONFIG, dir.path()).unwrap();
    let from_file = project.run().unwrap();
    for split in [1, 3] {
        let (schema, batches) = batches(split);
        let mut inputs = tenure::engine::Inputs::new();
        inputs.insert("events", schema, batches).unwrap();
        let in_memory = project
            .run_with_inputs(&inputs, &[], &tenure::engine::progress::NoProgress)
            .unwrap();
        assert_eq!(in_memory.metrics, from_file.metrics);
        assert_eq!(in_memory.input.rejected, from_file.input.rejected);
        // By hand: 2 members, both retained on day 0 and a on day 7.
        let tenure::MetricResult::Retention(kept) = &in_memory.metrics["kept"] else {
            panic!("a retention table")
        };
        assert_eq!(
            (kept.cohorts[0].size, kept.cohorts[0].retained.clone()),
            (2, vec![2, 1])
        );
        assert_eq!(
            in_memory.input.rejected[&tenure::plan::RejectReason::MissingEntity],
            1
        );
    }
}

#[test]
fn batches_are_checked_like_a_file() {
    let project = tenure::Project::from_str(CONFIG, ".").unwrap();
    // A source the config does not have.
    let (schema, batches) = batches(2);
    let mut inputs = tenure::engine::Inputs::new();
    inputs.insert("orders", schema.clone(), batches.clone()).unwrap();
    let error = project
        .run_with_inputs(&inputs, &[], &tenure::engine::progress::NoProgress)
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "no source `orders` in this project to read from memory"
    );
    // A missing column: the config's diagnostic at the line that names it.
    let narrow = Arc::new(Schema::new(vec![
        schema.field(0).clone(),
        schema.field(1).clone(),
    ]));
    let cut: Vec<RecordBatch> = batches.iter().map(|b| b.project(&[0, 1]).unwrap()).collect();
    let mut inputs = tenure::engine::Inputs::new();
    inputs.insert("events", narrow, cut).unwrap();
    let error = project
        .run_with_inputs(&inputs, &[], &tenure::engine::progress::NoProgress)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("error[E0302]: source `events` has no column `event`"),
        "{error}"
    );
    // Batches whose columns differ from the stream's.
    let mut inputs = tenure::engine::Inputs::new();
    let mixed = vec![batches[0].clone(), batches[1].project(&[0, 1]).unwrap()];
    let refused = inputs.insert("events", schema, mixed).unwrap_err();
    assert!(
        refused.starts_with("source `events`: batch 1 has the columns"),
        "{refused}"
    );
}

#[test]
fn a_stop_signal_given_ends_the_run_stopped_from_memory_and_from_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("events.csv"),
        "id,ts,event\na,2025-01-06T10:00:00Z,report\n",
    )
    .unwrap();
    let project = tenure::Project::from_str(CONFIG, dir.path()).unwrap();
    let stop = tenure::engine::progress::StopSignal::new();
    stop.stop();
    let (schema, batches) = batches(2);
    let mut inputs = tenure::engine::Inputs::new();
    inputs.insert("events", schema, batches).unwrap();
    for inputs in [inputs, tenure::engine::Inputs::new()] {
        let error = project.run_with_inputs(&inputs, &[], &stop).unwrap_err();
        assert!(
            matches!(error, tenure::Error::Engine(tenure::engine::EngineError::Stopped)),
            "{error}"
        );
    }
    // A signal not given stops nothing.
    let report = project
        .run_with_inputs(
            &tenure::engine::Inputs::new(),
            &[],
            &tenure::engine::progress::StopSignal::new(),
        )
        .unwrap();
    assert!(report.metrics.contains_key("kept"));
}
