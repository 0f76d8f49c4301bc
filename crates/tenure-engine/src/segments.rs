//! Segment plugins on the host side: loading, checking and calling them.
//!
//! A plugin is trusted native code running in this process. The host checks what it can before
//! calling anything: the file's SHA-256 against the pin, the entry symbol of ABI 1, the vtable's
//! size and ABI major. A plugin built with `tenure_plugin::export_segment_plugin!` catches its own
//! panics and reports them as errors; the failure of a segment fails the metrics that use it and
//! nothing else. Libraries are never unloaded (unloading is unsound with thread-locals).

use std::collections::HashMap;
use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

use rayon::prelude::*;
use tenure_plan::schema::LibraryProblem;
use tenure_plan::{PluginDef, SegmentDef};
use tenure_plugin::{
    ABI_MAJOR, FLAG_THREAD_SAFE, FLAG_WHOLE_POPULATION, KIND_BOOL, KIND_NUMBER, KIND_TEXT, NO_DAY, NO_LABEL,
    PluginVTable, RawBatch, RawColumn, RawErrorSink, RawOutput, RawStr, STATUS_OK,
};

use crate::Dataset;
use crate::metrics::amount::{AmountReader, from_micros, to_micros};
use crate::store::{Column, Interner, NULL_CODE};

/// Entities per call for plugins that label entities independently.
const BATCH: usize = 8192;

/// Loaded plugins by path, kept for the life of the process.
fn loaded() -> &'static Mutex<HashMap<PathBuf, usize>> {
    static LOADED: OnceLock<Mutex<HashMap<PathBuf, usize>>> = OnceLock::new();
    LOADED.get_or_init(|| Mutex::new(HashMap::new()))
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Loads (once) and checks a plugin library; returns its vtable.
pub fn load(plugin: &PluginDef) -> Result<&'static PluginVTable, String> {
    // Checked again here, not only by `validate`: the file can change in between.
    let path = crate::plugin_file::library_file(plugin).map_err(|problem| match problem {
        LibraryProblem::NotFound { tried } => format!("no plugin library at {}", tried.join(", ")),
        LibraryProblem::NotALibrary { path } => format!("{path} is not a shared library"),
        LibraryProblem::UnsafePermissions { refusal } => refusal,
    })?;
    let plugin = &PluginDef {
        path,
        ..plugin.clone()
    };
    // The pin is checked on every use, also of a library loaded before.
    if let Some(pin) = &plugin.sha256 {
        let bytes =
            std::fs::read(&plugin.path).map_err(|e| format!("cannot read {}: {e}", plugin.path.display()))?;
        let actual = sha256_hex(&bytes);
        if actual != *pin {
            return Err(format!(
                "{} has sha256 {actual}, but the config pins {pin}; refusing to load it",
                plugin.path.display()
            ));
        }
    }
    let mut table = loaded().lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(address) = table.get(&plugin.path) {
        // SAFETY: stored below from a vtable checked once; libraries are never unloaded.
        return Ok(unsafe { &*(*address as *const PluginVTable) });
    }
    // SAFETY: loading runs the library's initialisers: the plugin is trusted native code, as
    // documented, and the sha256 pin is how a config guards which file that is.
    let library = unsafe { libloading::Library::new(&plugin.path) }
        .map_err(|e| format!("cannot load {}: {e}", plugin.path.display()))?;
    let library: &'static libloading::Library = Box::leak(Box::new(library));
    let symbol = format!("tenure_segment_plugin_v{ABI_MAJOR}\0");
    // SAFETY: the ABI-1 entry point has this signature by definition of the ABI.
    let entry = unsafe { library.get::<unsafe extern "C" fn() -> *const PluginVTable>(symbol.as_bytes()) };
    let entry = match entry {
        Ok(entry) => entry,
        Err(_) => {
            let other = (0..16u32).filter(|v| *v != ABI_MAJOR).find(|v| {
                let name = format!("tenure_segment_plugin_v{v}\0");
                // SAFETY: only looked up, never called.
                unsafe { library.get::<*const c_void>(name.as_bytes()) }.is_ok()
            });
            return Err(match other {
                Some(v) => format!(
                    "{} was built for plugin ABI {v}; this tenure speaks ABI {ABI_MAJOR}",
                    plugin.path.display()
                ),
                None => format!(
                    "{} is not a tenure plugin: it exports no `tenure_segment_plugin_v{ABI_MAJOR}`",
                    plugin.path.display()
                ),
            });
        }
    };
    // SAFETY: calling the entry point of ABI 1; it returns a static vtable or null.
    let vtable = unsafe { entry() };
    // SAFETY: non-null vtables of ABI 1 point to a PluginVTable that lives as long as the library.
    let vtable =
        unsafe { vtable.as_ref() }.ok_or_else(|| format!("{} returned no vtable", plugin.path.display()))?;
    if vtable.abi_major != ABI_MAJOR || vtable.size < std::mem::size_of::<PluginVTable>() {
        return Err(format!(
            "{} reports plugin ABI {}.{} with a {}-byte vtable; this tenure speaks ABI {ABI_MAJOR}",
            plugin.path.display(),
            vtable.abi_major,
            vtable.abi_minor,
            vtable.size
        ));
    }
    table.insert(plugin.path.clone(), vtable as *const PluginVTable as usize);
    Ok(vtable)
}

/// Per-call error slot handed to the plugin.
struct ErrorSlot(Mutex<Option<String>>);

unsafe extern "C" fn report_error(context: *mut c_void, message: RawStr) {
    // SAFETY: `context` is the `ErrorSlot` of this call; `message` lives for the call.
    let (slot, text) = unsafe {
        (
            &*(context as *const ErrorSlot),
            message.as_str().unwrap_or("(invalid UTF-8)"),
        )
    };
    *slot.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(text.to_string());
}

unsafe extern "C" fn intern_label(context: *mut c_void, label: RawStr) -> u32 {
    // SAFETY: `context` is the labels' `Mutex<Interner>`; `label` lives for the call.
    let (labels, text) = unsafe { (&*(context as *const Mutex<Interner>), label.as_str()) };
    match text {
        Some(text) => labels.lock().unwrap_or_else(|p| p.into_inner()).intern(text),
        None => NO_LABEL,
    }
}

impl ErrorSlot {
    fn sink(&self) -> RawErrorSink {
        RawErrorSink {
            context: self as *const ErrorSlot as *mut c_void,
            report: report_error,
        }
    }

    fn take(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Attribute columns laid out for the ABI; they borrow the store's strings.
struct AttributeColumns<'a> {
    names: Vec<String>,
    text: Vec<Vec<Option<&'a str>>>,
    numbers: Vec<Vec<f64>>,
    present: Vec<Vec<u8>>,
    kinds: Vec<u32>,
}

fn attribute_columns(data: &Dataset) -> AttributeColumns<'_> {
    let count = data.store.entities.len();
    let mut columns = AttributeColumns {
        names: Vec::new(),
        text: Vec::new(),
        numbers: Vec::new(),
        present: Vec::new(),
        kinds: Vec::new(),
    };
    for (name, column) in &data.store.attrs {
        let (kind, values): (u32, Vec<Option<f64>>) = match column {
            Column::Text { codes, dict } => {
                let text = (0..count)
                    .map(|e| match codes.get(e) {
                        Some(code) if code != NULL_CODE => Some(&*dict[code as usize]),
                        _ => None,
                    })
                    .collect();
                columns.names.push(name.clone());
                columns.kinds.push(KIND_TEXT);
                columns.text.push(text);
                columns.numbers.push(Vec::new());
                columns.present.push(Vec::new());
                continue;
            }
            Column::Number(_) | Column::Sparse(_) => (
                KIND_NUMBER,
                (0..column.len()).map(|row| column.number(row)).collect(),
            ),
            Column::Bool(flags) => (
                KIND_BOOL,
                flags.iter().map(|b| b.map(|b| f64::from(u8::from(b)))).collect(),
            ),
        };
        let value = |e: usize| values.get(e).copied().flatten();
        columns.names.push(name.clone());
        columns.kinds.push(kind);
        columns.text.push(Vec::new());
        columns
            .numbers
            .push((0..count).map(|e| value(e).unwrap_or(0.0)).collect());
        columns
            .present
            .push((0..count).map(|e| u8::from(value(e).is_some())).collect());
    }
    columns
}

/// A pointer to `values[start..]`, or null when the column does not use this array.
fn tail<T>(values: &[T], start: usize) -> *const T {
    match values.get(start..) {
        Some(rest) if !rest.is_empty() => rest.as_ptr(),
        _ => std::ptr::null(),
    }
}

/// Computes a segment: one label per entity, as a text column indexed by entity code.
pub fn compute(data: &Dataset, segment: &SegmentDef) -> Result<Column, String> {
    let describe = |message: String| {
        format!(
            "segment `{}` (plugin `{}`): {message}",
            segment.name, segment.plugin.name
        )
    };
    let vtable = load(&segment.plugin).map_err(describe)?;
    let store = &data.store;
    let entities = store.entities.len();
    // Features per entity.
    let mut first_seen = vec![NO_DAY; entities];
    let mut last_seen = vec![NO_DAY; entities];
    for row in 0..store.len() {
        let (entity, day) = (store.entity[row] as usize, store.day[row]);
        if day > data.as_of_day {
            continue;
        }
        if first_seen[entity] == NO_DAY || day < first_seen[entity] {
            first_seen[entity] = day;
        }
        last_seen[entity] = last_seen[entity].max(day);
    }
    let mut last_event = vec![NO_DAY; entities];
    let mut frequency = vec![0u64; entities];
    let mut monetary = vec![0i128; entities];
    let mask = segment.event.map(|event| data.event_mask(event));
    let amounts = segment
        .event
        .and_then(|event| data.plan.events[event].amount.as_ref())
        .map(|amount| AmountReader::new(data, amount));
    for row in 0..store.len() {
        if store.day[row] > data.as_of_day || mask.as_ref().is_some_and(|m| !m[row]) {
            continue;
        }
        let entity = store.entity[row] as usize;
        frequency[entity] += 1;
        last_event[entity] = last_event[entity].max(store.day[row]);
        if let Some(value) = amounts.as_ref().and_then(|a| a.number(row)) {
            monetary[entity] += to_micros(value);
        }
    }
    let recency: Vec<i32> = last_event
        .iter()
        .map(|d| if *d == NO_DAY { -1 } else { data.as_of_day - d })
        .collect();
    let monetary: Vec<f64> = monetary.into_iter().map(from_micros).collect();
    let ids = store.entities.values();
    let attributes = attribute_columns(data);
    let params = segment.params.clone();
    // Create the plugin's state.
    let errors = ErrorSlot(Mutex::new(None));
    // SAFETY: the params string and the sink live for the call.
    let state = unsafe { (vtable.create)(RawStr::new(&params), &errors.sink()) };
    if state.is_null() {
        return Err(describe(
            errors
                .take()
                .unwrap_or_else(|| "the plugin refused its params".into()),
        ));
    }
    let labels = Mutex::new(Interner::default());
    let whole = vtable.flags & FLAG_WHOLE_POPULATION != 0;
    let ranges: Vec<(usize, usize)> = if whole || entities == 0 {
        vec![(0, entities)]
    } else {
        (0..entities)
            .step_by(BATCH)
            .map(|start| (start, (start + BATCH).min(entities)))
            .collect()
    };
    let state_address = state as usize;
    let classify = vtable.classify;
    let call = |(start, end): (usize, usize)| -> Result<Vec<u32>, String> {
        // Raw views are built per batch, on the calling thread: they only borrow the store.
        let raw = |value: &Option<&str>| value.map_or(RawStr::NULL, RawStr::new);
        let entity_ids: Vec<RawStr> = ids[start..end].iter().map(|id| RawStr::new(id)).collect();
        let texts: Vec<Vec<RawStr>> = attributes
            .text
            .iter()
            .map(|column| column.get(start..end).unwrap_or(&[]).iter().map(raw).collect())
            .collect();
        let columns: Vec<RawColumn> = (0..attributes.names.len())
            .map(|c| RawColumn {
                name: RawStr::new(&attributes.names[c]),
                kind: attributes.kinds[c],
                text: tail(&texts[c], 0),
                numbers: tail(&attributes.numbers[c], start),
                present: tail(&attributes.present[c], start),
            })
            .collect();
        let len = end - start;
        let batch = RawBatch {
            size: std::mem::size_of::<RawBatch>(),
            len,
            as_of_day: data.as_of_day,
            entity: entity_ids.as_ptr(),
            first_seen_day: first_seen[start..].as_ptr(),
            last_seen_day: last_seen[start..].as_ptr(),
            recency_days: recency[start..].as_ptr(),
            frequency: frequency[start..].as_ptr(),
            monetary: monetary[start..].as_ptr(),
            columns: columns.as_ptr(),
            column_count: columns.len(),
        };
        let mut codes = vec![NO_LABEL; len];
        let mut output = RawOutput {
            size: std::mem::size_of::<RawOutput>(),
            labels: codes.as_mut_ptr(),
            capacity: len,
            written: 0,
            context: &labels as *const Mutex<Interner> as *mut c_void,
            intern: intern_label,
        };
        let errors = ErrorSlot(Mutex::new(None));
        // SAFETY: every pointer in `batch` and `output` is valid for `len` elements for the call;
        // the state came from this plugin's `create`.
        let status = unsafe { classify(state_address as *mut c_void, &batch, &mut output, &errors.sink()) };
        if status != STATUS_OK {
            return Err(errors
                .take()
                .unwrap_or_else(|| format!("classify failed with status {status}")));
        }
        if output.written != len {
            return Err(format!(
                "the plugin returned {} labels for {len} entities",
                output.written
            ));
        }
        Ok(codes)
    };
    let results: Vec<Result<Vec<u32>, String>> = if vtable.flags & FLAG_THREAD_SAFE != 0 && ranges.len() > 1 {
        ranges.par_iter().map(|r| call(*r)).collect()
    } else {
        ranges.iter().map(|r| call(*r)).collect()
    };
    // SAFETY: the state came from `create` and is destroyed once, after every call returned.
    unsafe { (vtable.destroy)(state) };
    let mut codes = Vec::with_capacity(entities);
    for result in results {
        codes.extend(result.map_err(describe)?);
    }
    let dict = labels
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .values()
        .to_vec();
    let codes: Vec<u32> = codes
        .into_iter()
        .map(|c| if c == NO_LABEL { NULL_CODE } else { c })
        .collect();
    Ok(Column::Text {
        codes: codes.into(),
        dict,
    })
}
