//! Embedding tenure: open a config, load its data once, and read one figure.
//!
//! `cargo run --example embed` runs it on the repository's example project from any folder;
//! `cargo run --example embed -- path/to/metrics.toml` on another project.

use std::path::PathBuf;
use std::process::ExitCode;

use tenure::plan::MetricResult;

fn main() -> ExitCode {
    // The example project sits next to this crate's manifest, wherever the program is run from.
    let config = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("metrics.toml"));
    match run(&config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // A config mistake renders as the CLI shows it: code, file:line:col, caret, hint.
            eprint!("{error}");
            if !error.to_string().ends_with('\n') {
                eprintln!();
            }
            ExitCode::FAILURE
        }
    }
}

fn run(config: &std::path::Path) -> Result<(), tenure::Error> {
    let project = tenure::Project::open(config)?;
    let dataset = project.load()?;
    println!(
        "{} kept rows, {} entities, as of {}",
        dataset.input().kept,
        dataset.input().entities,
        dataset.as_of()
    );

    // The 30-day value retention over every cohort whose day 30 is over (the `total` row).
    let Some(MetricResult::Retention(vrr)) = dataset.evaluate_metric("vrr") else {
        println!("no retention metric named `vrr` in {}", config.display());
        return Ok(());
    };
    let column = match &vrr.periods {
        tenure::plan::Periods::Offsets(days) => days.iter().position(|d| *d == 30),
        tenure::plan::Periods::Brackets(_) => None,
    };
    if let Some(column) = column {
        let rate = vrr.total.rate[column].map_or("n/a".to_string(), |r| format!("{:.1}%", r * 100.0));
        println!(
            "day-30 value retention: {rate} ({} of {} eligible accounts)",
            vrr.total.retained[column], vrr.total.eligible[column]
        );
    }
    Ok(())
}
