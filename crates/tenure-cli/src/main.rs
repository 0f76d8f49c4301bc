//! The `tenure` command line.

mod explain;
mod output;
mod progress;
mod report;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Retention metrics from one metrics.toml.
#[derive(Parser)]
#[command(name = "tenure", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Nothing on standard error but errors: no progress bar, no row accounting, no summary
    /// (accepted by every command).
    #[arg(long, short, global = true)]
    quiet: bool,
}

#[derive(Subcommand)]
enum Command {
    /// Evaluate the metrics of a config over its data.
    Run {
        /// The config file.
        #[arg(default_value = "metrics.toml")]
        config: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
        /// Write the result to this file instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
        /// Compute only this metric (repeatable).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// Stop at the first row that cannot be read (as `on_bad_row = "fail"`).
        #[arg(long)]
        strict: bool,
        /// What cohort cells of the table show: rates, retained/eligible counts, or both.
        #[arg(long, value_enum, default_value_t = output::table::Show::Rates)]
        show: output::table::Show,
        /// Shade retention cells by their rate: `auto` when the table goes to a terminal and
        /// `NO_COLOR` is not set.
        #[arg(long, value_enum, default_value_t = Colour::Auto)]
        color: Colour,
    },
    /// Evaluate the metrics and write them as one self-contained HTML page of charts and tables.
    Report {
        /// The config file.
        #[arg(default_value = "metrics.toml")]
        config: PathBuf,
        /// The HTML file to write.
        #[arg(long, default_value = "report.html")]
        out: PathBuf,
        /// Compute and show only this metric (repeatable).
        #[arg(long = "metric")]
        metrics: Vec<String>,
        /// Stop at the first row that cannot be read (as `on_bad_row = "fail"`).
        #[arg(long)]
        strict: bool,
    },
    /// Check a config, and that its sources have the columns it names (no rows are read).
    Validate {
        /// The config file.
        #[arg(default_value = "metrics.toml")]
        config: PathBuf,
        /// Check the config alone, without opening any source, plugin library or connection
        /// (metrics that the sources' connection cannot compute are still reported).
        #[arg(long)]
        no_data: bool,
    },
    /// Say in words what a metric will compute.
    Explain {
        /// The config file.
        #[arg(default_value = "metrics.toml")]
        config: PathBuf,
        /// The metric to explain (all when absent; repeatable).
        #[arg(long = "metric")]
        metrics: Vec<String>,
    },
    /// Write a realistic synthetic SaaS dataset (events and accounts).
    Gen {
        /// Number of accounts.
        #[arg(long, default_value_t = 1000)]
        accounts: u32,
        /// PRNG seed; the same seed always writes the same bytes.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// First day of the window.
        #[arg(long, default_value = "2025-01-01")]
        start: chrono::NaiveDate,
        /// Length of the window in days.
        #[arg(long, default_value_t = 365)]
        days: u32,
        /// Events file format.
        #[arg(long, value_enum, default_value_t = GenFormat::Csv)]
        format: GenFormat,
        /// The business to simulate.
        #[arg(long, value_enum, default_value_t = GenProfile::Saas)]
        profile: GenProfile,
        /// Parquet only: the largest dictionary, in KiB, a column chunk keeps before the writer
        /// falls back to plain pages (1024, the common writers' default).
        #[arg(long, default_value_t = 1024, value_parser = clap::value_parser!(u32).range(1..=1_048_576))]
        parquet_dictionary_kib: u32,
        /// Output folder.
        #[arg(long, default_value = "data")]
        out: PathBuf,
    },
    /// Print every entity's label of a segment, as CSV (entity,label).
    Segment {
        /// The config file.
        #[arg(default_value = "metrics.toml")]
        config: PathBuf,
        /// The segment (a `[segments.<name>]` table).
        #[arg(long)]
        name: String,
    },
    /// Print the SQL that computes metrics where the data lives, one statement per metric.
    Sql {
        /// The config file.
        #[arg(default_value = "metrics.toml")]
        config: PathBuf,
        /// The SQL dialect.
        #[arg(long, default_value = "duckdb", value_parser = tenure::sql::NAMES)]
        dialect: String,
        /// The metric to compile (all when absent; repeatable).
        #[arg(long = "metric", conflicts_with = "input")]
        metrics: Vec<String>,
        /// Print the statement that accounts for the input rows (rows read, rejected by reason,
        /// duplicates, excluded, kept, entities) instead of the metrics'.
        #[arg(long)]
        input: bool,
    },
    /// Print the JSON Schema of metrics.toml (for editors and TOML language servers).
    Schema,
}

/// When `run` shades the cells of its tables.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Colour {
    /// On a terminal, unless `NO_COLOR` is set to anything but the empty text.
    Auto,
    /// Always, also into a file or a pipe.
    Always,
    /// Never.
    Never,
}

/// Result formats of `run`.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Readable tables for a terminal.
    Table,
    /// The stable JSON contract.
    Json,
    /// One tidy row per table cell.
    Csv,
}

#[derive(Clone, Copy, ValueEnum)]
enum GenFormat {
    Csv,
    Jsonl,
    Parquet,
}

/// Businesses `gen` can simulate.
#[derive(Clone, Copy, ValueEnum)]
enum GenProfile {
    /// B2B SaaS: signups, activation, usage, monthly invoices, NPS.
    Saas,
    /// B2B wholesale e-commerce: repeat orders with growing baskets.
    Wholesale,
}

/// Asks glibc to serve blocks of up to 64 MiB from its heaps and to keep up to 512 MiB of
/// freed memory, instead of mapping each large block afresh and unmapping it when freed: a
/// file of many row groups (DuckDB writes 122 880 rows per group) otherwise has the kernel
/// zero new pages for every group's buffers. docs/performance.md has the measurements. The
/// command line owns its process; the library leaves its host's allocator alone.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn keep_freed_memory() {
    use std::os::raw::c_int;
    unsafe extern "C" {
        fn mallopt(param: c_int, value: c_int) -> c_int;
    }
    const M_TRIM_THRESHOLD: c_int = -1;
    const M_MMAP_THRESHOLD: c_int = -3;
    // SAFETY: `mallopt` only sets two thresholds of glibc's allocator, which takes its own
    // lock; it is called before any other thread exists. A refusal leaves the defaults.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 64 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn keep_freed_memory() {}

fn main() -> ExitCode {
    keep_freed_memory();
    let cli = Cli::parse();
    match cli.command {
        Command::Run {
            config,
            format,
            out,
            metrics,
            strict,
            show,
            color,
        } => {
            let colour = match color {
                Colour::Always => true,
                Colour::Never => false,
                Colour::Auto => {
                    out.is_none()
                        && std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|value| value.is_empty())
                }
            };
            let style = output::table::Style {
                show,
                width: output::page_width(),
                colour,
            };
            run(&config, format, out, &metrics, cli.quiet, strict, style)
        }
        Command::Report {
            config,
            out,
            metrics,
            strict,
        } => write_report(&config, &out, &metrics, cli.quiet, strict),
        Command::Validate { config, no_data } => validate(&config, no_data),
        Command::Explain { config, metrics } => match open(&config) {
            Ok(project) => match unknown_metric(&project, &metrics) {
                Some(code) => code,
                None => {
                    print!("{}", explain::explain(&project.plan, &metrics));
                    ExitCode::SUCCESS
                }
            },
            Err(code) => code,
        },
        Command::Gen {
            accounts,
            seed,
            start,
            days,
            format,
            profile,
            parquet_dictionary_kib,
            out,
        } => {
            let options = tenure_gen::Options {
                accounts,
                seed,
                start,
                days,
                format: match format {
                    GenFormat::Csv => tenure_gen::OutputFormat::Csv,
                    GenFormat::Jsonl => tenure_gen::OutputFormat::JsonLines,
                    GenFormat::Parquet => tenure_gen::OutputFormat::Parquet,
                },
                profile: match profile {
                    GenProfile::Saas => tenure_gen::Profile::Saas,
                    GenProfile::Wholesale => tenure_gen::Profile::Wholesale,
                },
                parquet_dictionary_bytes: parquet_dictionary_kib as usize * 1024,
            };
            match tenure_gen::generate(&options, &out) {
                Ok(_) if cli.quiet => ExitCode::SUCCESS,
                Ok(summary) => {
                    eprintln!(
                        "wrote {} events to {} and {} accounts to {}",
                        summary.events,
                        summary.events_path.display(),
                        summary.accounts,
                        summary.accounts_path.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    ExitCode::from(1)
                }
            }
        }
        Command::Segment { config, name } => segment(&config, &name),
        Command::Sql {
            config,
            dialect,
            metrics,
            input,
        } => sql(&config, &dialect, &metrics, input),
        Command::Schema => {
            println!("{}", tenure::dsl::json_schema());
            ExitCode::SUCCESS
        }
    }
}

/// Opens a config, printing diagnostics and returning exit code 2 on failure.
fn open(config: &std::path::Path) -> Result<tenure::Project, ExitCode> {
    tenure::Project::open(config).map_err(|error| {
        match error {
            tenure::Error::Config(tenure::dsl::LoadError::Invalid(invalid)) => {
                eprint!("{}", invalid.render())
            }
            other => eprintln!("error: {other}"),
        }
        ExitCode::from(2)
    })
}

/// Reports an error found while checking the config's inputs or loading the data: exit code 1
/// for the data (E03xx, unreadable rows), 2 when a plugin library named by the config is not
/// there (E0214, a mistake of the config's, as before it runs).
fn data_error(error: &tenure::Error) -> ExitCode {
    match error {
        tenure::Error::Inputs(mistakes) => {
            eprint!("{}", mistakes.render());
            let of_the_config = mistakes.diagnostics.iter().any(|d| !d.code.is_input_mismatch());
            ExitCode::from(if of_the_config { 2 } else { 1 })
        }
        other => {
            eprintln!("error: {other}");
            ExitCode::from(1)
        }
    }
}

fn unknown_metric(project: &tenure::Project, requested: &[String]) -> Option<ExitCode> {
    let names: Vec<&str> = project.plan.metrics.iter().map(|m| m.name.as_str()).collect();
    for name in requested {
        if !names.contains(&name.as_str()) {
            let hint = tenure::dsl::suggest::closest(name, names.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_else(|| format!("; the metrics are: {}", names.join(", ")));
            eprintln!("error: no metric named `{name}`{hint}");
            return Some(ExitCode::from(2));
        }
    }
    None
}

fn validate(config: &std::path::Path, no_data: bool) -> ExitCode {
    match open(config) {
        Ok(project) => {
            let checked = if no_data {
                project.check_backend()
            } else {
                project.check_inputs()
            };
            if let Err(error) = checked {
                return data_error(&error);
            }
            let plan = &project.plan;
            println!(
                "{}: ok — {} source(s), {} value event(s), {} cohort(s), {} metric(s)",
                config.display(),
                plan.event_sources.len() + usize::from(plan.entity_source.is_some()),
                plan.events.len(),
                plan.cohorts.len(),
                plan.metrics.len()
            );
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}

fn run(
    config: &std::path::Path,
    format: Format,
    out: Option<PathBuf>,
    metrics: &[String],
    quiet: bool,
    strict: bool,
    style: output::table::Style,
) -> ExitCode {
    let (project, report) = match compute(config, metrics, quiet, strict) {
        Ok(computed) => computed,
        Err(code) => return code,
    };
    let text = match format {
        Format::Table => output::table::render(&report, &project.plan, style),
        Format::Json => output::json(&report),
        Format::Csv => tenure::tidy::csv(&report),
    };
    let written = match &out {
        Some(path) => std::fs::write(path, text.as_bytes()),
        None => std::io::stdout().lock().write_all(text.as_bytes()),
    };
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: cannot write the result: {error}");
            ExitCode::from(1)
        }
    }
}

/// `tenure report`: the metrics as one HTML page written to `out`.
fn write_report(
    config: &std::path::Path,
    out: &std::path::Path,
    metrics: &[String],
    quiet: bool,
    strict: bool,
) -> ExitCode {
    let (project, report) = match compute(config, metrics, quiet, strict) {
        Ok(computed) => computed,
        Err(code) => return code,
    };
    let html = report::render(&report, &project.plan);
    match std::fs::write(out, html.as_bytes()) {
        Ok(()) => {
            if !quiet {
                eprintln!(
                    "report written to {} ({} kB)",
                    out.display(),
                    html.len().div_ceil(1024)
                );
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: cannot write {}: {error}", out.display());
            ExitCode::from(1)
        }
    }
}

/// Opens the project and computes `metrics` (all when empty) on its files or its connection;
/// the row accounting goes to standard error unless `quiet`.
fn compute(
    config: &std::path::Path,
    metrics: &[String],
    quiet: bool,
    strict: bool,
) -> Result<(tenure::Project, tenure::plan::Report), ExitCode> {
    let mut project = open(config)?;
    if strict {
        project.plan.quality.on_bad_row = tenure::plan::BadRowPolicy::Fail;
    }
    if let Some(code) = unknown_metric(&project, metrics) {
        return Err(code);
    }
    let connection = project.connection().map_err(|error| data_error(&error))?;
    let computed = match connection {
        Some(connection) => project.run_on_connection(connection, metrics),
        // A bar only on a terminal, and never with --quiet: piped or logged runs stay clean.
        None if !quiet && std::io::stderr().is_terminal() => project
            .load_with_progress(&progress::TerminalProgress::default())
            .map(|dataset| dataset.evaluate(metrics)),
        None => project.load().map(|dataset| dataset.evaluate(metrics)),
    };
    let report = computed.map_err(|error| data_error(&error))?;
    if !quiet {
        eprintln!("{}", output::summary(&report, &project.plan));
    }
    Ok((project, report))
}

/// Prints each metric's SQL; a metric that is not compiled is named on standard error with the
/// reason. Exit 1 when a metric asked for by name is not compiled.
fn sql(config: &std::path::Path, dialect: &str, requested: &[String], input: bool) -> ExitCode {
    let project = match open(config) {
        Ok(project) => project,
        Err(code) => return code,
    };
    if let Some(code) = unknown_metric(&project, requested) {
        return code;
    }
    let Some(dialect) = tenure::sql::by_name(dialect) else {
        return ExitCode::from(2);
    };
    if input {
        return match tenure::sql::accounting(&project.plan, dialect) {
            Ok(statement) => match std::io::stdout().lock().write_all(statement.as_bytes()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(1),
            },
            Err(refusal) => {
                eprintln!(
                    "error: the input accounting is not compiled to {} SQL: {}",
                    dialect.name(),
                    refusal.reason
                );
                ExitCode::from(1)
            }
        };
    }
    let mut out = String::new();
    let mut refused_request = false;
    for metric in &project.plan.metrics {
        if !requested.is_empty() && !requested.contains(&metric.name) {
            continue;
        }
        match tenure::sql::compile(&project.plan, &metric.name, dialect) {
            Ok(statement) => {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(&statement);
            }
            Err(refusal) => {
                eprintln!("note: {refusal}");
                refused_request |= !requested.is_empty();
            }
        }
    }
    let written = std::io::stdout().lock().write_all(out.as_bytes());
    if written.is_err() || refused_request {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn segment(config: &std::path::Path, name: &str) -> ExitCode {
    let project = match open(config) {
        Ok(project) => project,
        Err(code) => return code,
    };
    let names: Vec<&str> = project.plan.segments.iter().map(|s| s.name.as_str()).collect();
    if !names.contains(&name) {
        let hint = tenure::dsl::suggest::closest(name, names.iter().copied())
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_default();
        eprintln!("error: no segment named `{name}`{hint}");
        return ExitCode::from(2);
    }
    let labels = match project.segment_labels(name) {
        Ok(labels) => labels,
        Err(error) => return data_error(&error),
    };
    let mut out = String::from("entity,label\n");
    // An entity the plugin gave no label has an empty one.
    for (entity, label) in labels {
        tenure::tidy::push_field(&mut out, &entity);
        out.push(',');
        tenure::tidy::push_field(&mut out, &label.unwrap_or_default());
        out.push('\n');
    }
    match std::io::stdout().lock().write_all(out.as_bytes()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(_) => ExitCode::from(1),
    }
}
