//! Reading reports its progress: for every source, the bytes reported add up to the total
//! announced, whether the file is read in one pass or in parallel parts.

mod common;

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::{ArrayRef, StringArray};
use common::{Fixture, config, parquet_bytes};
use tenure::engine::progress::ReadProgress;

/// Records (source, announced total, bytes reported) per source.
#[derive(Default)]
struct Recorder {
    sources: Mutex<Vec<(String, u64)>>,
    done: AtomicU64,
    finished: Mutex<Vec<u64>>,
}

impl ReadProgress for Recorder {
    fn start(&self, source: &str, total: u64) {
        self.sources.lock().unwrap().push((source.to_string(), total));
        self.done.store(0, Ordering::SeqCst);
    }

    fn advance(&self, bytes: u64) {
        self.done.fetch_add(bytes, Ordering::SeqCst);
    }

    fn finish(&self) {
        self.finished
            .lock()
            .unwrap()
            .push(self.done.load(Ordering::SeqCst));
    }
}

const RETENTION: &str = "[cohorts.weekly]\nstart = \"report\"\ngrain = \"week\"\n\
    [metrics.m]\ntype = \"retention\"\ncohort = \"weekly\"\nreturn = \"any\"\nperiods = [0, 1]";

/// Loads `config` on a pool of `threads`; returns (source, total, reported) per source.
fn recorded(fixture: &Fixture, config: &str, threads: usize) -> Vec<(String, u64, u64)> {
    let project = tenure::Project::from_str(config, fixture.path()).unwrap();
    let recorder = Recorder::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| project.load_with_progress(&recorder)).unwrap();
    let sources = recorder.sources.into_inner().unwrap();
    let finished = recorder.finished.into_inner().unwrap();
    assert_eq!(sources.len(), finished.len(), "every started source finishes");
    sources
        .into_iter()
        .zip(finished)
        .map(|((name, total), done)| (name, total, done))
        .collect()
}

fn events(rows: usize) -> String {
    let mut text = String::from("id,ts,event\n");
    for i in 0..rows {
        text.push_str(&format!(
            "e{},2025-01-{:02}T10:00:00Z,report\n",
            i % 17,
            1 + i % 28
        ));
    }
    text
}

#[test]
fn csv_progress_adds_up_in_one_pass_and_in_parts() {
    let fixture = Fixture::new();
    let text = events(500);
    fixture.file("events.csv", &text);
    let config = config("as_of = \"2025-01-31\"", RETENTION);
    let size = text.len() as u64;
    for threads in [1, 2] {
        assert_eq!(
            recorded(&fixture, &config, threads),
            vec![("events".to_string(), size, size)],
            "{threads} threads"
        );
    }
}

#[test]
fn json_lines_and_parquet_progress_adds_up() {
    let fixture = Fixture::new();
    let lines: String = (0..300)
        .map(|i| {
            format!(
                "{{\"id\":\"e{}\",\"ts\":\"2025-01-0{}T10:00:00Z\",\"event\":\"report\"}}\n",
                i % 5,
                1 + i % 9
            )
        })
        .collect();
    fixture.file("events.jsonl", &lines);
    let jsonl = config("as_of = \"2025-01-31\"", RETENTION).replace("events.csv", "events.jsonl");
    let size = lines.len() as u64;
    assert_eq!(
        recorded(&fixture, &jsonl, 2),
        vec![("events".to_string(), size, size)]
    );

    let columns: Vec<(&str, ArrayRef)> = vec![
        ("id", Arc::new(StringArray::from(vec!["a"; 1000]))),
        (
            "ts",
            Arc::new(StringArray::from(vec!["2025-01-06T10:00:00Z"; 1000])),
        ),
        ("event", Arc::new(StringArray::from(vec!["report"; 1000]))),
    ];
    std::fs::write(
        fixture.path().join("events.parquet"),
        parquet_bytes(columns, Some(100)),
    )
    .unwrap();
    let parquet = config("as_of = \"2025-01-31\"", RETENTION).replace("events.csv", "events.parquet");
    for threads in [1, 2] {
        let recorded = recorded(&fixture, &parquet, threads);
        assert_eq!(recorded.len(), 1);
        let (_, total, done) = &recorded[0];
        assert!(*total > 0);
        assert_eq!(total, done, "{threads} threads");
    }
}
