//! `tenure._tenure`: the native half of the Python package `tenure` (python/tenure/ is the
//! other half, which builds the report objects and data frames). It opens projects, runs them
//! with the interpreter lock released, and returns the report as the JSON contract and the tidy
//! long form; errors become Python exceptions (docs/python.md).

use std::path::PathBuf;

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

create_exception!(
    _tenure,
    ConfigError,
    PyException,
    "The config is invalid, or names inputs that are not there: the message is the rendered diagnostics, `diagnostics` the list of them."
);
create_exception!(
    _tenure,
    DataError,
    PyException,
    "The data could not be read or computed: a file, a connection, a plugin."
);

/// A validated project, ready to run.
#[pyclass(module = "tenure._tenure", name = "Project", frozen)]
struct Project {
    inner: tenure::Project,
}

#[pymethods]
impl Project {
    /// Reads and validates the config at `path`.
    #[new]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<Project> {
        let inner = py
            .detach(|| tenure::Project::open(&path))
            .map_err(|error| python_error(py, error))?;
        Ok(Project { inner })
    }

    /// Validates config text; relative paths in it are read from `base_dir`.
    #[staticmethod]
    #[pyo3(signature = (text, base_dir = None))]
    fn from_str(py: Python<'_>, text: &str, base_dir: Option<PathBuf>) -> PyResult<Project> {
        let base = base_dir.unwrap_or_else(|| PathBuf::from("."));
        let inner = tenure::Project::from_str(text, &base).map_err(|error| python_error(py, error))?;
        Ok(Project { inner })
    }

    /// The project's name.
    #[getter]
    fn name(&self) -> String {
        self.inner.plan.project.name.clone()
    }

    /// The metrics' names, in the config's order.
    #[getter]
    fn metrics(&self) -> Vec<String> {
        self.inner.plan.metrics.iter().map(|m| m.name.clone()).collect()
    }

    /// Computes the named metrics (all when `None`): the report as JSON text and its figures in
    /// the tidy long form, one 7-tuple per figure. `inputs` maps source names to Arrow data
    /// (any object with `__arrow_c_stream__`) read instead of those sources' files or tables.
    #[pyo3(signature = (metrics = None, inputs = None))]
    fn run(
        &self,
        py: Python<'_>,
        metrics: Option<Vec<String>>,
        inputs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<(String, Vec<[String; 7]>)> {
        let metrics = metrics.unwrap_or_default();
        if let Some(unknown) = metrics
            .iter()
            .find(|name| !self.inner.plan.metrics.iter().any(|m| &m.name == *name))
        {
            return Err(pyo3::exceptions::PyKeyError::new_err(format!(
                "no metric `{unknown}` in this project; it has: {}",
                self.metrics().join(", ")
            )));
        }
        let mut memory = tenure::engine::Inputs::new();
        for (name, data) in inputs.into_iter().flatten() {
            let name: String = name.extract()?;
            let (schema, batches) = arrow_batches(&name, &data)?;
            memory
                .insert(&name, schema, batches)
                .map_err(DataError::new_err)?;
        }
        let stop = tenure::engine::progress::StopSignal::new();
        let report = interruptible(py, &stop, || self.inner.run_with_inputs(&memory, &metrics, &stop))?
            .map_err(|error| python_error(py, error))?;
        let json = serde_json::to_string(&report)
            .map_err(|error| DataError::new_err(format!("the report could not be written: {error}")))?;
        Ok((json, tenure::tidy::records(&report)))
    }

    /// The names of the event sources, in the config's order.
    #[getter]
    fn event_sources(&self) -> Vec<String> {
        self.inner
            .plan
            .event_sources
            .iter()
            .map(|s| s.name.clone())
            .collect()
    }

    /// The name of the entity-attribute source, if the config has one.
    #[getter]
    fn entity_source(&self) -> Option<String> {
        self.inner.plan.entity_source.as_ref().map(|s| s.name.clone())
    }

    /// Each named metric's SQL in `dialect` (all metrics when `None`): a dict from metric name
    /// to its statement, or to the reason it is not compiled.
    #[pyo3(signature = (dialect, metrics = None))]
    fn sql<'py>(
        &self,
        py: Python<'py>,
        dialect: &str,
        metrics: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let Some(dialect) = tenure::sql::by_name(dialect) else {
            return Err(pyo3::exceptions::PyValueError::new_err(format!(
                "unknown dialect `{dialect}`: duckdb, postgres, clickhouse or spark"
            )));
        };
        let names = metrics.unwrap_or_else(|| self.metrics());
        let statements = PyDict::new(py);
        for name in names {
            let compiled = tenure::sql::compile(&self.inner.plan, &name, dialect);
            match compiled {
                Ok(sql) => statements.set_item(&name, (true, sql))?,
                Err(reason) => statements.set_item(&name, (false, reason.to_string()))?,
            }
        }
        Ok(statements)
    }
}

/// Every record batch of `data`, read through the Arrow C stream interface
/// (`__arrow_c_stream__`: pyarrow tables and readers, polars and pandas data frames). The
/// columns are not copied: the batches keep the producer's buffers.
fn arrow_batches(
    source: &str,
    data: &Bound<'_, PyAny>,
) -> PyResult<(arrow_schema::SchemaRef, Vec<arrow_array::RecordBatch>)> {
    use arrow_array::RecordBatchReader;
    use arrow_array::ffi_stream::{FFI_ArrowArrayStream, RecordBatchStreamReader};
    use pyo3::types::PyCapsule;

    if !data.hasattr("__arrow_c_stream__")? {
        return Err(pyo3::exceptions::PyTypeError::new_err(format!(
            "source `{source}`: a {} is not Arrow data; pass a pyarrow Table or RecordBatchReader, or a polars or pandas DataFrame",
            data.get_type().name()?
        )));
    }
    let capsule = data.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>().map_err(|_| {
        pyo3::exceptions::PyTypeError::new_err(format!(
            "source `{source}`: __arrow_c_stream__ did not return a capsule"
        ))
    })?;
    let pointer = capsule
        .pointer_checked(Some(c"arrow_array_stream"))
        .map_err(|_| {
            pyo3::exceptions::PyTypeError::new_err(format!(
                "source `{source}`: __arrow_c_stream__ returned a capsule that is not an `arrow_array_stream`"
            ))
        })?;
    // SAFETY: the capsule holds an `ArrowArrayStream` (checked by its name, as the PyCapsule
    // interface specifies); `from_raw` moves the stream out and leaves a released one behind,
    // which the capsule's destructor then leaves alone.
    let reader =
        unsafe { RecordBatchStreamReader::from_raw(pointer.cast::<FFI_ArrowArrayStream>().as_ptr()) }
            .map_err(|error| DataError::new_err(format!("source `{source}`: {error}")))?;
    let schema = reader.schema();
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| DataError::new_err(format!("source `{source}`: {error}")))?;
    Ok((schema, batches))
}

/// The Python exception for a failed open or run: [`ConfigError`] with its diagnostics for a
/// config or input mistake, [`DataError`] for the rest.
/// Runs `work` on a thread of its own with the interpreter lock released, while this thread
/// looks for signals (Ctrl-C) every 50 ms: when a signal handler raises (KeyboardInterrupt),
/// `stop` asks the run to stop, the work is waited for (it ends after the part or metric under
/// way) and the handler's exception is raised, so no run goes on in the background.
fn interruptible<T: Send>(
    py: Python<'_>,
    stop: &tenure::engine::progress::StopSignal,
    work: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    use std::sync::mpsc::{RecvTimeoutError, channel};
    py.detach(|| {
        std::thread::scope(|scope| {
            let (sender, receiver) = channel();
            scope.spawn(move || {
                let _ = sender.send(work());
            });
            loop {
                match receiver.recv_timeout(std::time::Duration::from_millis(50)) {
                    Ok(result) => return Ok(result),
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(DataError::new_err("the run ended without a result"));
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                }
                if let Err(interrupt) = Python::attach(|py| py.check_signals()) {
                    stop.stop();
                    let _ = receiver.recv();
                    return Err(interrupt);
                }
            }
        })
    })
}

fn python_error(py: Python<'_>, error: tenure::Error) -> PyErr {
    let config = match &error {
        tenure::Error::Config(tenure::dsl::LoadError::Invalid(invalid)) => Some(invalid),
        tenure::Error::Inputs(invalid) => Some(invalid),
        _ => None,
    };
    let Some(config) = config else {
        return DataError::new_err(error.to_string());
    };
    let raised = ConfigError::new_err(config.render());
    let diagnostics = PyList::empty(py);
    for diagnostic in &config.diagnostics {
        let item = PyDict::new(py);
        let place = diagnostic
            .span
            .as_ref()
            .map(|span| tenure::dsl::diagnostic::locate(&config.text, span.start));
        let filled = item.set_item("code", diagnostic.code.as_str()).and_then(|()| {
            item.set_item("message", &diagnostic.message)?;
            item.set_item("file", &config.file_name)?;
            item.set_item("line", place.map(|(line, _, _)| line))?;
            item.set_item("column", place.map(|(_, column, _)| column))?;
            item.set_item("help", diagnostic.help.as_deref())?;
            diagnostics.append(item)
        });
        if let Err(error) = filled {
            return error;
        }
    }
    if let Err(error) = raised.value(py).setattr("diagnostics", diagnostics) {
        return error;
    }
    raised
}

/// The module `tenure._tenure`.
#[pymodule]
fn _tenure(module: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = module.py();
    module.add_class::<Project>()?;
    module.add("ConfigError", py.get_type::<ConfigError>())?;
    module.add("DataError", py.get_type::<DataError>())?;
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
