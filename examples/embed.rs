//! Embedding tenure: open the example config, load its data once, and read one figure.
//!
//! Run from the repository root: `cargo run --example embed`.

use tenure::plan::MetricResult;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let project = tenure::Project::open("metrics.toml")?;
    let dataset = project.load()?;
    println!(
        "{} kept rows, {} entities, as of {}",
        dataset.input.kept,
        dataset.input.entities,
        dataset.as_of()
    );

    // The 30-day value retention over every cohort whose day 30 is over (the `total` row).
    let Some(MetricResult::Retention(vrr)) = dataset.evaluate_metric("vrr") else {
        return Err("the example config has a retention metric named `vrr`".into());
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
