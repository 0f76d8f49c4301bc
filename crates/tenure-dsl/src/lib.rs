//! `metrics.toml` and its expression language: parsing, diagnostics and validation.
//!
//! The entry points are [`load_file`] and [`load_str`], which turn config text into a validated
//! [`tenure_plan::Plan`] or a [`ConfigError`] holding every problem found. Nothing here reads
//! event data or computes a metric.

mod data;
pub mod diagnostic;
pub mod expr;
pub mod model;
pub mod suggest;
mod validate;

use std::path::Path;

pub use diagnostic::{Code, ConfigError, Diagnostic};
pub use tenure_plan::Plan;

/// Why a config could not be turned into a plan.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path as given.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file was read but is not a valid config.
    #[error(transparent)]
    Invalid(#[from] ConfigError),
}

/// A validated config: its plan, and where the config names what the plan reads from the data,
/// so that a mismatch with the data can be reported at the config line.
#[derive(Debug, Clone)]
pub struct Config {
    /// The validated plan.
    pub plan: Plan,
    /// Where the config names columns and plugin libraries.
    pub places: Places,
}

/// Where a config names what it reads outside itself (sources' columns, plugin libraries), with
/// the text needed to render a diagnostic there.
#[derive(Debug, Clone)]
pub struct Places {
    references: data::DataReferences,
    file_name: String,
    text: String,
}

impl Places {
    /// Compares what the config names with what the host found: the sources' shapes (as a
    /// backend describes them) and the plugin libraries' problems. Every unreadable source,
    /// missing or unreadable column and unloadable library is one diagnostic, at the place in the
    /// config that names it.
    pub fn check_inputs(
        &self,
        schemas: &[tenure_plan::schema::SourceSchema],
        plugins: &[tenure_plan::schema::PluginProblem],
    ) -> Result<(), ConfigError> {
        self.check_inputs_and_metrics(schemas, plugins, &[])
    }

    /// [`Places::check_inputs`], and every metric the backend that will run the plan cannot
    /// compute, at its `[metrics.<name>]` header.
    pub fn check_inputs_and_metrics(
        &self,
        schemas: &[tenure_plan::schema::SourceSchema],
        plugins: &[tenure_plan::schema::PluginProblem],
        metrics: &[tenure_plan::schema::MetricProblem],
    ) -> Result<(), ConfigError> {
        let mut diagnostics = self.references.check(schemas);
        diagnostics.extend(self.references.check_plugins(plugins));
        diagnostics.extend(self.references.check_metrics(metrics));
        diagnostics.sort_by_key(|d| d.span.as_ref().map_or(usize::MAX, |s| s.start));
        diagnostics.dedup();
        if diagnostics.is_empty() {
            return Ok(());
        }
        Err(ConfigError {
            file_name: self.file_name.clone(),
            text: self.text.clone(),
            diagnostics,
        })
    }
}

/// Reads and validates a config file; relative source paths resolve against its folder.
pub fn open_file(path: &Path) -> Result<Config, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(open_str(&text, &path.display().to_string(), base)?)
}

/// Validates config text; `file_name` is used in diagnostics, `base_dir` to resolve paths.
pub fn open_str(text: &str, file_name: &str, base_dir: &Path) -> Result<Config, ConfigError> {
    match validate::validate(text, base_dir) {
        Ok((plan, references)) => Ok(Config {
            plan,
            places: Places {
                references,
                file_name: file_name.to_string(),
                text: text.to_string(),
            },
        }),
        Err(diagnostics) => Err(ConfigError {
            file_name: file_name.to_string(),
            text: text.to_string(),
            diagnostics,
        }),
    }
}

/// [`open_file`], keeping only the plan.
pub fn load_file(path: &Path) -> Result<Plan, LoadError> {
    open_file(path).map(|config| config.plan)
}

/// [`open_str`], keeping only the plan.
pub fn load_str(text: &str, file_name: &str, base_dir: &Path) -> Result<Plan, ConfigError> {
    open_str(text, file_name, base_dir).map(|config| config.plan)
}

/// The JSON Schema of `metrics.toml`, for editors and TOML language servers.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(model::ConfigFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
