//! `metrics.toml` and its expression language: parsing, diagnostics and validation.
//!
//! The entry points are [`load_file`] and [`load_str`], which turn config text into a validated
//! [`tenure_plan::Plan`] or a [`ConfigError`] holding every problem found. Nothing here reads
//! event data or computes a metric.

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

/// Reads and validates a config file; relative source paths resolve against its folder.
pub fn load_file(path: &Path) -> Result<Plan, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    Ok(load_str(&text, &path.display().to_string(), base)?)
}

/// Validates config text; `file_name` is used in diagnostics, `base_dir` to resolve paths.
pub fn load_str(text: &str, file_name: &str, base_dir: &Path) -> Result<Plan, ConfigError> {
    validate::validate(text, base_dir).map_err(|diagnostics| ConfigError {
        file_name: file_name.to_string(),
        text: text.to_string(),
        diagnostics,
    })
}

/// The JSON Schema of `metrics.toml`, for editors and TOML language servers.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(model::ConfigFile);
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
