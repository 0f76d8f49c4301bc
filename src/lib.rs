//! tenure: retention metrics from one `metrics.toml`.
//!
//! The pipeline is **text → config model → validated plan → backend → result**:
//! [`dsl`] turns `metrics.toml` into a [`plan::Plan`], a backend (the in-process [`engine`] for
//! files, the SQL of [`sql`] run by [`warehouse`] for tables) evaluates it, and every backend
//! returns the same [`plan::Report`].
//!
//! ```no_run
//! let project = tenure::Project::open("metrics.toml").expect("a valid config");
//! let report = project.run().expect("readable data");
//! println!("{}", report.as_of);
//! ```

pub use tenure_dsl as dsl;
pub use tenure_engine as engine;
pub use tenure_plan as plan;
pub use tenure_sql as sql;
pub use tenure_warehouse as warehouse;

pub use tenure_plan::{MetricResult, Plan, Report};

pub mod tidy;

use std::path::Path;

/// Why a project could not be opened or run.
#[derive(Debug)]
pub enum Error {
    /// The config could not be read or is invalid (render it with `ConfigError::render`).
    Config(dsl::LoadError),
    /// What the config names outside itself is not there: a missing file, column, attribute or
    /// plugin library (render it with `ConfigError::render`: each mistake is placed at its
    /// config line).
    Inputs(dsl::ConfigError),
    /// The data could not be loaded.
    Engine(engine::EngineError),
    /// The database the sources name failed (unreachable, credentials, a statement).
    Warehouse(warehouse::WarehouseError),
    /// A plugin segment could not label the entities.
    Segment(String),
    /// Record batches handed over in memory do not fit the project (a source it does not have).
    InMemory(String),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Config(dsl::LoadError::Invalid(error)) => f.write_str(&error.render()),
            Error::Config(error) => write!(f, "{error}"),
            Error::Inputs(error) => f.write_str(&error.render()),
            Error::Engine(error) => write!(f, "{error}"),
            Error::Warehouse(error) => write!(f, "{error}"),
            Error::Segment(error) | Error::InMemory(error) => f.write_str(error),
        }
    }
}

impl std::error::Error for Error {}

/// A validated project, ready to run.
#[derive(Debug, Clone)]
pub struct Project {
    /// The validated plan.
    pub plan: Plan,
    /// Where the config names its inputs, to place mistakes about them at its lines.
    places: dsl::Places,
    /// How in-process loading splits its work.
    load_options: engine::LoadOptions,
}

impl Project {
    /// The same project, loading its data with its work split as `options` says (the defaults
    /// otherwise; tests split tiny files as large ones are).
    pub fn with_load_options(mut self, options: engine::LoadOptions) -> Project {
        self.load_options = options;
        self
    }

    /// Reads and validates a config file.
    pub fn open(path: impl AsRef<Path>) -> Result<Project, Error> {
        let dsl::Config { plan, places } = dsl::open_file(path.as_ref()).map_err(Error::Config)?;
        Ok(Project {
            plan,
            places,
            load_options: engine::LoadOptions::default(),
        })
    }

    /// Validates config text; relative source paths resolve against `base_dir`.
    pub fn from_str(text: &str, base_dir: impl AsRef<Path>) -> Result<Project, Error> {
        let dsl::Config { plan, places } = dsl::open_str(text, "metrics.toml", base_dir.as_ref())
            .map_err(|e| Error::Config(dsl::LoadError::Invalid(e)))?;
        Ok(Project {
            plan,
            places,
            load_options: engine::LoadOptions::default(),
        })
    }

    /// Checks what the config names outside itself: that every source can be opened and has the
    /// columns the config names (reading headers, footers and schemas but no rows; JSON Lines,
    /// which has no header: the keys of every line), and that every plugin library can be
    /// loaded. Each mistake is a diagnostic at the config line that names it.
    pub fn check_inputs(&self) -> Result<(), Error> {
        self.check_inputs_with(engine::JsonLinesKeys::Scan)
    }

    fn check_inputs_with(&self, json_lines: engine::JsonLinesKeys) -> Result<(), Error> {
        self.check_before_run(json_lines, Some(&[]), &engine::Inputs::new())
    }

    /// With sources on a connection: that every metric can be computed there (`E0304` for each
    /// that cannot, at its `[metrics.<name>]` header). Needs neither the data nor the server.
    pub fn check_backend(&self) -> Result<(), Error> {
        let refused = self.refused(&[])?;
        self.places
            .check_inputs_and_metrics(&[], &[], &refused)
            .map_err(Error::Inputs)
    }

    /// The checks of [`Project::check_inputs`], and with sources on a connection, that the
    /// metrics (`metrics`, all when empty) can be computed there.
    /// `metrics` is `None` when no metric runs (labelling a segment).
    /// Sources `inputs` holds are checked by the columns of their batches.
    fn check_before_run(
        &self,
        json_lines: engine::JsonLinesKeys,
        metrics: Option<&[String]>,
        inputs: &engine::Inputs,
    ) -> Result<(), Error> {
        let mut schemas = engine::inspect_sources(&self.plan, json_lines, inputs);
        let tables_to_inspect = self
            .plan
            .event_sources
            .iter()
            .chain(&self.plan.entity_source)
            .any(|source| source.file().is_none() && !inputs.contains(&source.name));
        if tables_to_inspect {
            schemas.extend(
                warehouse::inspect_tables(&self.plan)
                    .into_iter()
                    .filter(|schema| !inputs.contains(&schema.source)),
            );
        }
        let plugins = engine::check_plugins(&self.plan);
        // Sources in several places are the run's error to report, not a check's.
        let refused = match metrics {
            Some(metrics) => self.refused(metrics).unwrap_or_default(),
            None => Vec::new(),
        };
        self.places
            .check_inputs_and_metrics(&schemas, &plugins, &refused)
            .map_err(Error::Inputs)
    }

    /// The metrics (`metrics`, all when empty) the sources' connection cannot compute; none
    /// when the sources are files.
    fn refused(&self, metrics: &[String]) -> Result<Vec<plan::schema::MetricProblem>, Error> {
        Ok(match self.connection()? {
            Some(connection) => warehouse::refusals(&self.plan, connection, metrics),
            None => Vec::new(),
        })
    }

    /// Loads the data once, for evaluating several metrics, after the checks of
    /// [`Project::check_inputs`] (a JSON Lines file's keys are checked as it is read).
    pub fn load(&self) -> Result<engine::Dataset, Error> {
        self.load_with_progress(&engine::progress::NoProgress)
    }

    /// [`Project::load`], reporting how far reading has got (the CLI draws a progress bar).
    pub fn load_with_progress(
        &self,
        progress: &dyn engine::progress::ReadProgress,
    ) -> Result<engine::Dataset, Error> {
        // Loading reads a JSON Lines file's keys anyway; scanning them first would read the
        // file twice. A property no source has is reported once it is read.
        self.check_inputs_with(engine::JsonLinesKeys::Skip)?;
        engine::Dataset::load_with_inputs(&self.plan, progress, &engine::Inputs::new(), self.load_options)
            .map_err(Error::Engine)
    }

    /// Computes every metric where the data is: with the in-process engine over files, or as
    /// SQL on the connection the sources' tables are in.
    pub fn run(&self) -> Result<Report, Error> {
        self.run_metrics(&[])
    }

    /// [`Project::run`] for the named metrics only (all when `metrics` is empty).
    pub fn run_metrics(&self, metrics: &[String]) -> Result<Report, Error> {
        self.run_with_inputs(&engine::Inputs::new(), metrics, &engine::progress::NoProgress)
    }

    /// The connection the sources' tables are in; `None` when the sources are files.
    pub fn connection(&self) -> Result<Option<&plan::Connection>, Error> {
        warehouse::connection_of(&self.plan).map_err(Error::Warehouse)
    }

    /// Checks the tables' columns against the config and that every named metric (all when
    /// `metrics` is empty) can be computed on `connection` (`E0304` for each that cannot), then
    /// computes them there as SQL.
    pub fn run_on_connection(
        &self,
        connection: &plan::Connection,
        metrics: &[String],
    ) -> Result<Report, Error> {
        self.check_before_run(engine::JsonLinesKeys::Skip, Some(metrics), &engine::Inputs::new())?;
        warehouse::run(&self.plan, connection, metrics).map_err(Error::Warehouse)
    }

    /// Each entity's label of plugin segment `segment`, by id: computed in process over files,
    /// or from figures the connection computes when the sources are tables.
    pub fn segment_labels(&self, segment: &str) -> Result<Vec<(String, Option<String>)>, Error> {
        match self.connection()? {
            Some(connection) => {
                self.check_before_run(engine::JsonLinesKeys::Skip, None, &engine::Inputs::new())?;
                warehouse::segment_labels(&self.plan, connection, segment).map_err(Error::Warehouse)
            }
            None => self.load()?.segment_labels(segment).map_err(Error::Segment),
        }
    }

    /// Computes the named metrics (all when `metrics` is empty) in process, reading the sources
    /// `inputs` holds from its record batches (an embedder's data frames) and the others from
    /// their files. Their columns are checked as a file's are, mistakes placed at the config's
    /// lines; a source `inputs` names that the config does not have is an error. Without any
    /// input, it runs where the sources are: in process over files, or as SQL on their
    /// connection.
    ///
    /// `progress` hears how reading goes and may stop an in-process run (a
    /// [`engine::progress::StopSignal`] that another thread gives on Ctrl-C): the run then ends
    /// with [`engine::EngineError::Stopped`] after the part or metric under way. A run on a
    /// connection is not stopped.
    pub fn run_with_inputs(
        &self,
        inputs: &engine::Inputs,
        metrics: &[String],
        progress: &dyn engine::progress::ReadProgress,
    ) -> Result<Report, Error> {
        if inputs.is_empty() {
            if let Some(connection) = self.connection()? {
                return self.run_on_connection(connection, metrics);
            }
            return Self::evaluated(&self.load_with_progress(progress)?, metrics, progress);
        }
        if let Some(unknown) = inputs.names().find(|name| {
            !self
                .plan
                .event_sources
                .iter()
                .chain(&self.plan.entity_source)
                .any(|source| source.name == *name)
        }) {
            return Err(Error::InMemory(format!(
                "no source `{unknown}` in this project to read from memory"
            )));
        }
        self.check_before_run(engine::JsonLinesKeys::Skip, Some(&[]), inputs)?;
        let dataset = engine::Dataset::load_with_inputs(&self.plan, progress, inputs, self.load_options)
            .map_err(Error::Engine)?;
        Self::evaluated(&dataset, metrics, progress)
    }

    /// The named metrics of `dataset`, or [`engine::EngineError::Stopped`] when `progress` asked
    /// to stop on the way.
    fn evaluated(
        dataset: &engine::Dataset,
        metrics: &[String],
        progress: &dyn engine::progress::ReadProgress,
    ) -> Result<Report, Error> {
        let report = dataset.evaluate_with(metrics, progress);
        if progress.stop_requested() {
            return Err(Error::Engine(engine::EngineError::Stopped));
        }
        Ok(report)
    }

    /// Computes the named metrics (all when `metrics` is empty) on any backend.
    pub fn run_on<B: plan::Backend>(&self, backend: &B, metrics: &[String]) -> Result<Report, B::Error> {
        backend.evaluate(&self.plan, metrics)
    }
}
