//! Segment plugins on the host side: loading, checking and calling them.
//!
//! A plugin is trusted native code running in this process. The host checks what it can before
//! calling anything: the file's SHA-256 against the pin, the entry symbol of ABI 1, the vtable's
//! size and ABI major. A plugin built with `tenure_plugin::export_segment_plugin!` catches its own
//! panics and reports them as errors; the failure of a segment fails the metrics that use it and
//! nothing else. Libraries are never unloaded (unloading is unsound with thread-locals).

mod period_start;

pub(crate) use period_start::{AtPeriodStart, PeriodStartLabels};

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

/// Attribute columns laid out for the ABI; they borrow the strings of whoever holds them.
struct AttributeColumns<'a> {
    names: Vec<&'a str>,
    text: Vec<Vec<Option<&'a str>>>,
    numbers: Vec<Vec<f64>>,
    present: Vec<Vec<u8>>,
    kinds: Vec<u32>,
}

impl<'a> AttributeColumns<'a> {
    fn new() -> Self {
        AttributeColumns {
            names: Vec::new(),
            text: Vec::new(),
            numbers: Vec::new(),
            present: Vec::new(),
            kinds: Vec::new(),
        }
    }

    fn push_text(&mut self, name: &'a str, values: Vec<Option<&'a str>>) {
        self.names.push(name);
        self.kinds.push(KIND_TEXT);
        self.text.push(values);
        self.numbers.push(Vec::new());
        self.present.push(Vec::new());
    }

    /// A number or boolean column (booleans as 0 and 1); `None` is a missing value.
    fn push_numbers(&mut self, name: &'a str, kind: u32, values: impl Iterator<Item = Option<f64>>) {
        let (numbers, present): (Vec<f64>, Vec<u8>) = values
            .map(|value| (value.unwrap_or(0.0), u8::from(value.is_some())))
            .unzip();
        self.names.push(name);
        self.kinds.push(kind);
        self.text.push(Vec::new());
        self.numbers.push(numbers);
        self.present.push(present);
    }
}

fn attribute_columns(data: &Dataset) -> AttributeColumns<'_> {
    let count = data.store.entities.len();
    let mut columns = AttributeColumns::new();
    for (name, column) in &data.store.attrs {
        match column {
            Column::Text { codes, dict } => {
                let text = (0..count)
                    .map(|e| match codes.get(e) {
                        Some(code) if code != NULL_CODE => Some(&*dict[code as usize]),
                        _ => None,
                    })
                    .collect();
                columns.push_text(name, text);
            }
            Column::Number(_) | Column::Sparse(_) => {
                let values: Vec<Option<f64>> = (0..column.len()).map(|row| column.number(row)).collect();
                columns.push_numbers(
                    name,
                    KIND_NUMBER,
                    (0..count).map(|e| values.get(e).copied().flatten()),
                );
            }
            Column::Bool(flags) => {
                let values: Vec<Option<f64>> =
                    flags.iter().map(|b| b.map(|b| f64::from(u8::from(b)))).collect();
                columns.push_numbers(
                    name,
                    KIND_BOOL,
                    (0..count).map(|e| values.get(e).copied().flatten()),
                );
            }
        }
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

/// What a segment plugin labels entities from, computed outside the engine (by a SQL backend,
/// where the data lives): per entity, in one order throughout, its id, the local days of its
/// first and last event up to `as_of` ([`NO_DAY`] without one), the days from its last event of
/// the segment's `event` to `as_of` (−1 without one), how many such events it had and their
/// amounts' sum, and the entity source's columns.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EntityFigures {
    /// The local day of `as_of` (days since 1970-01-01).
    pub as_of_day: i32,
    /// Entity ids.
    pub ids: Vec<String>,
    /// Local day of each entity's first event.
    pub first_seen_day: Vec<i32>,
    /// Local day of each entity's last event.
    pub last_seen_day: Vec<i32>,
    /// Days from each entity's last event of the segment's `event` to `as_of`.
    pub recency_days: Vec<i32>,
    /// Each entity's number of events of the segment's `event`.
    pub frequency: Vec<u64>,
    /// Each entity's sum of those events' amounts.
    pub monetary: Vec<f64>,
    /// The entity source's columns, by name.
    pub attributes: Vec<(String, AttributeValues)>,
}

/// One column of [`EntityFigures::attributes`], one value per entity.
#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValues {
    /// Text.
    Text(Vec<Option<String>>),
    /// Numbers.
    Number(Vec<Option<f64>>),
    /// Booleans.
    Bool(Vec<Option<bool>>),
}

/// The figures a plugin reads, borrowed from whoever computed them.
struct Figures<'a> {
    as_of_day: i32,
    ids: Vec<&'a str>,
    first_seen: &'a [i32],
    last_seen: &'a [i32],
    recency: &'a [i32],
    frequency: &'a [u64],
    monetary: &'a [f64],
    attributes: &'a AttributeColumns<'a>,
}

/// Each entity's label of `segment`, from figures computed outside the engine, in the order of
/// `figures.ids` (`None` where the plugin gives none). The plugin is loaded, checked and called
/// as for a run over files.
pub fn label_entities(segment: &SegmentDef, figures: &EntityFigures) -> Result<Vec<Option<String>>, String> {
    let entities = figures.ids.len();
    let lengths = [
        figures.first_seen_day.len(),
        figures.last_seen_day.len(),
        figures.recency_days.len(),
        figures.frequency.len(),
        figures.monetary.len(),
    ];
    let unequal = |what: &str| {
        format!(
            "segment `{}`: {what} of another length than the ids",
            segment.name
        )
    };
    if lengths.iter().any(|n| *n != entities) {
        return Err(unequal("figures"));
    }
    let mut attributes = AttributeColumns::new();
    for (name, values) in &figures.attributes {
        match values {
            AttributeValues::Text(text) if text.len() == entities => {
                attributes.push_text(name, text.iter().map(|v| v.as_deref()).collect())
            }
            AttributeValues::Number(numbers) if numbers.len() == entities => {
                attributes.push_numbers(name, KIND_NUMBER, numbers.iter().copied())
            }
            AttributeValues::Bool(flags) if flags.len() == entities => attributes.push_numbers(
                name,
                KIND_BOOL,
                flags.iter().map(|b| b.map(|b| f64::from(u8::from(b)))),
            ),
            _ => return Err(unequal(&format!("attribute `{name}`"))),
        }
    }
    let view = Figures {
        as_of_day: figures.as_of_day,
        ids: figures.ids.iter().map(String::as_str).collect(),
        first_seen: &figures.first_seen_day,
        last_seen: &figures.last_seen_day,
        recency: &figures.recency_days,
        frequency: &figures.frequency,
        monetary: &figures.monetary,
        attributes: &attributes,
    };
    let (codes, dict) = classify(segment, &view)?;
    Ok(codes
        .into_iter()
        .map(|code| (code != NO_LABEL).then(|| dict[code as usize].to_string()))
        .collect())
}

/// Computes a segment as of `as_of`: one label per entity, as a text column indexed by entity
/// code.
pub fn compute(data: &Dataset, segment: &SegmentDef) -> Result<Column, String> {
    let mut labels = labels_as_of(data, segment, &[data.as_of_day])?;
    Ok(labels.pop().unwrap_or(Column::Text {
        codes: Vec::new().into(),
        dict: Vec::new(),
    }))
}

/// The labels of `segment` as of the end of each of `days` (ascending, none after `as_of`),
/// each from the rows up to that day only and with that day as the plugin's `as_of`.
pub(crate) fn labels_as_of(
    data: &Dataset,
    segment: &SegmentDef,
    days: &[i32],
) -> Result<Vec<Column>, String> {
    let store = &data.store;
    let mut figures = RunningFigures::new(store.entities.len());
    let mask = segment.event.map(|event| data.event_mask(event));
    let amounts = segment
        .event
        .and_then(|event| data.plan.events[event].amount.as_ref())
        .map(|amount| AmountReader::new(data, amount));
    let add = |figures: &mut RunningFigures, row: usize| {
        let counted = mask.as_ref().is_none_or(|m| m[row]);
        let amount = amounts.as_ref().and_then(|a| a.number(row));
        figures.add(store.entity[row] as usize, store.day[row], counted, amount);
    };
    let ids: Vec<&str> = store.entities.values().iter().map(|id| &**id).collect();
    let attributes = attribute_columns(data);
    let mut labels = Vec::with_capacity(days.len());
    if let [day] = days {
        for row in (0..store.len()).filter(|row| store.day[*row] <= *day) {
            add(&mut figures, row);
        }
        labels.push(figures.classify(segment, *day, &ids, &attributes)?);
        return Ok(labels);
    }
    // Rows by the first of `days` they count for, then one sweep adding each day's rows.
    let bucket_of = |row: usize| days.partition_point(|day| *day < store.day[row]);
    let mut bounds = vec![0usize; days.len() + 1];
    for row in 0..store.len() {
        let bucket = bucket_of(row);
        if bucket < days.len() {
            bounds[bucket + 1] += 1;
        }
    }
    for bucket in 0..days.len() {
        bounds[bucket + 1] += bounds[bucket];
    }
    let mut order = vec![0u32; bounds[days.len()]];
    let mut next = bounds.clone();
    for row in 0..store.len() {
        let bucket = bucket_of(row);
        if bucket < days.len() {
            order[next[bucket]] = row as u32;
            next[bucket] += 1;
        }
    }
    for (bucket, day) in days.iter().enumerate() {
        for row in &order[bounds[bucket]..bounds[bucket + 1]] {
            add(&mut figures, *row as usize);
        }
        labels.push(figures.classify(segment, *day, &ids, &attributes)?);
    }
    Ok(labels)
}

/// Per entity, what a plugin reads, over the rows added so far.
struct RunningFigures {
    first_seen: Vec<i32>,
    last_seen: Vec<i32>,
    /// The day of the last row of the segment's event.
    last_event: Vec<i32>,
    frequency: Vec<u64>,
    /// The sum of those rows' amounts, in micro-units (exact in any order).
    monetary: Vec<i128>,
}

impl RunningFigures {
    fn new(entities: usize) -> RunningFigures {
        RunningFigures {
            first_seen: vec![NO_DAY; entities],
            last_seen: vec![NO_DAY; entities],
            last_event: vec![NO_DAY; entities],
            frequency: vec![0; entities],
            monetary: vec![0; entities],
        }
    }

    /// One kept row of `entity` on `day`; `counted` when it is an occurrence of the segment's
    /// event, with its amount.
    fn add(&mut self, entity: usize, day: i32, counted: bool, amount: Option<f64>) {
        if self.first_seen[entity] == NO_DAY || day < self.first_seen[entity] {
            self.first_seen[entity] = day;
        }
        self.last_seen[entity] = self.last_seen[entity].max(day);
        if counted {
            self.frequency[entity] += 1;
            self.last_event[entity] = self.last_event[entity].max(day);
            if let Some(value) = amount {
                self.monetary[entity] += to_micros(value);
            }
        }
    }

    /// The plugin's labels of every entity from the rows added so far, as of `as_of_day`.
    fn classify(
        &self,
        segment: &SegmentDef,
        as_of_day: i32,
        ids: &[&str],
        attributes: &AttributeColumns<'_>,
    ) -> Result<Column, String> {
        let recency: Vec<i32> = self
            .last_event
            .iter()
            .map(|d| if *d == NO_DAY { -1 } else { as_of_day - d })
            .collect();
        let monetary: Vec<f64> = self.monetary.iter().copied().map(from_micros).collect();
        let view = Figures {
            as_of_day,
            ids: ids.to_vec(),
            first_seen: &self.first_seen,
            last_seen: &self.last_seen,
            recency: &recency,
            frequency: &self.frequency,
            monetary: &monetary,
            attributes,
        };
        let (codes, dict) = classify(segment, &view)?;
        let codes: Vec<u32> = codes
            .into_iter()
            .map(|c| if c == NO_LABEL { NULL_CODE } else { c })
            .collect();
        Ok(Column::Text {
            codes: codes.into(),
            dict,
        })
    }
}

/// Calls `segment`'s plugin over `figures`: one label code per entity ([`NO_LABEL`] for none),
/// and the labels in code order.
fn classify(segment: &SegmentDef, figures: &Figures<'_>) -> Result<(Vec<u32>, Vec<Box<str>>), String> {
    let describe = |message: String| {
        format!(
            "segment `{}` (plugin `{}`): {message}",
            segment.name, segment.plugin.name
        )
    };
    let vtable = load(&segment.plugin).map_err(describe)?;
    let entities = figures.ids.len();
    let attributes = &figures.attributes;
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
        let entity_ids: Vec<RawStr> = figures.ids[start..end].iter().map(|id| RawStr::new(id)).collect();
        let texts: Vec<Vec<RawStr>> = attributes
            .text
            .iter()
            .map(|column| column.get(start..end).unwrap_or(&[]).iter().map(raw).collect())
            .collect();
        let columns: Vec<RawColumn> = (0..attributes.names.len())
            .map(|c| RawColumn {
                name: RawStr::new(attributes.names[c]),
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
            as_of_day: figures.as_of_day,
            entity: entity_ids.as_ptr(),
            first_seen_day: figures.first_seen[start..].as_ptr(),
            last_seen_day: figures.last_seen[start..].as_ptr(),
            recency_days: figures.recency[start..].as_ptr(),
            frequency: figures.frequency[start..].as_ptr(),
            monetary: figures.monetary[start..].as_ptr(),
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
        .into_values();
    Ok((codes, dict))
}
