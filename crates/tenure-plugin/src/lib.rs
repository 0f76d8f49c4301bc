//! The segment-plugin ABI of tenure.
//!
//! A segment plugin is a `cdylib` that exports one C function, [`ENTRY_SYMBOL`], returning a
//! [`PluginVTable`]. Everything that crosses the boundary is `#[repr(C)]`: plain numbers, raw
//! pointers with lengths, and `extern "C"` function pointers. No Rust `String`, `Vec`, `Box`,
//! trait object or enum crosses it; enumerations cross as `u32`.
//!
//! Ownership: the host allocates every buffer it passes (entity features, the label buffer);
//! the plugin owns its state (from `create`, freed by its own `destroy`); label strings and error
//! messages are copied by the host through callbacks during the call, so no string outlives it.
//!
//! Versioning: the ABI major is part of the entry symbol's name, so a plugin built for another
//! major simply has no matching symbol. Every struct that may grow starts with `size`, its size in
//! bytes as built; later minor versions only append fields, and a reader checks `size` before
//! reading a field added after [`ABI_MINOR`] 0.
//!
//! A plugin author implements [`SegmentPlugin`] and calls [`export_segment_plugin!`]; the macro
//! writes the `extern "C"` functions, catching any panic at the boundary.

use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The ABI major version: a change that breaks existing plugins.
pub const ABI_MAJOR: u32 = 1;
/// The ABI minor version: fields appended to the end of size-prefixed structs.
pub const ABI_MINOR: u32 = 0;
/// The exported entry point of an ABI-1 plugin (`unsafe extern "C" fn() -> *const PluginVTable`).
pub const ENTRY_SYMBOL: &str = "tenure_segment_plugin_v1";
/// A label code meaning "no label" (the entity's segment is null).
pub const NO_LABEL: u32 = u32::MAX;
/// A day meaning "never" in day columns.
pub const NO_DAY: i32 = i32::MIN;

/// `flags`: `classify` may run on several host threads at once, on distinct batches.
pub const FLAG_THREAD_SAFE: u32 = 1;
/// `flags`: `classify` must see every entity in one batch (ranks, quantiles).
pub const FLAG_WHOLE_POPULATION: u32 = 2;

/// `RawColumn::kind`: text values in `text`.
pub const KIND_TEXT: u32 = 0;
/// `RawColumn::kind`: numbers in `numbers`.
pub const KIND_NUMBER: u32 = 1;
/// `RawColumn::kind`: booleans as 0.0 / 1.0 in `numbers`.
pub const KIND_BOOL: u32 = 2;

/// `classify` returned normally.
pub const STATUS_OK: i32 = 0;
/// `classify` failed and reported why.
pub const STATUS_ERROR: i32 = 1;
/// `classify` panicked; the panic message was reported.
pub const STATUS_PANIC: i32 = 2;

/// A borrowed UTF-8 string: a pointer and a length in bytes. Null pointer = missing.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct RawStr {
    /// First byte, or null for a missing value.
    pub ptr: *const u8,
    /// Length in bytes.
    pub len: usize,
}

impl RawStr {
    /// Borrows `text` for the duration of a call.
    pub fn new(text: &str) -> RawStr {
        RawStr {
            ptr: text.as_ptr(),
            len: text.len(),
        }
    }

    /// A missing value.
    pub const NULL: RawStr = RawStr {
        ptr: std::ptr::null(),
        len: 0,
    };

    /// The string, if present and valid UTF-8.
    ///
    /// # Safety
    /// `ptr` must be null or point to `len` readable bytes that live for `'a`.
    pub unsafe fn as_str<'a>(self) -> Option<&'a str> {
        if self.ptr.is_null() {
            return None;
        }
        // SAFETY: the caller guarantees `len` readable bytes at `ptr` for `'a`.
        let bytes = unsafe { std::slice::from_raw_parts(self.ptr, self.len) };
        std::str::from_utf8(bytes).ok()
    }
}

/// One entity attribute column of a batch.
#[repr(C)]
pub struct RawColumn {
    /// The attribute's name (`attr.<name>` in the config).
    pub name: RawStr,
    /// [`KIND_TEXT`], [`KIND_NUMBER`] or [`KIND_BOOL`].
    pub kind: u32,
    /// `len` text values (missing = null `RawStr`) for text columns, else null.
    pub text: *const RawStr,
    /// `len` numbers for number and bool columns, else null.
    pub numbers: *const f64,
    /// `len` flags, 1 where `numbers` holds a value, for number and bool columns, else null.
    pub present: *const u8,
}

/// The features of a batch of entities, column by column; every array has `len` elements.
#[repr(C)]
pub struct RawBatch {
    /// Size of this struct in bytes, as built by the host.
    pub size: usize,
    /// Number of entities.
    pub len: usize,
    /// The observation end, as days since 1970-01-01.
    pub as_of_day: i32,
    /// Entity ids.
    pub entity: *const RawStr,
    /// Local day of the entity's first kept event ([`NO_DAY`] if none).
    pub first_seen_day: *const i32,
    /// Local day of the entity's last kept event up to `as_of` ([`NO_DAY`] if none).
    pub last_seen_day: *const i32,
    /// Days from the last occurrence of the segment's value event to `as_of` (−1 if none).
    pub recency_days: *const i32,
    /// Occurrences of the segment's value event up to `as_of`.
    pub frequency: *const u64,
    /// Sum of the value event's amounts up to `as_of` (0 without an amount).
    pub monetary: *const f64,
    /// Entity attribute columns.
    pub columns: *const RawColumn,
    /// Number of attribute columns.
    pub column_count: usize,
}

/// Where `classify` writes one label code per entity.
#[repr(C)]
pub struct RawOutput {
    /// Size of this struct in bytes, as built by the host.
    pub size: usize,
    /// The host's buffer of `capacity` label codes.
    pub labels: *mut u32,
    /// The buffer's length: the batch's `len`.
    pub capacity: usize,
    /// Set by the plugin: how many labels it produced (the host checks it equals `len`).
    pub written: usize,
    /// Host context for `intern`.
    pub context: *mut c_void,
    /// Copies a label string into the host and returns its code.
    pub intern: unsafe extern "C" fn(context: *mut c_void, label: RawStr) -> u32,
}

/// Where a plugin reports an error message; the host copies it during the call.
#[repr(C)]
pub struct RawErrorSink {
    /// Host context.
    pub context: *mut c_void,
    /// Copies `message` into the host.
    pub report: unsafe extern "C" fn(context: *mut c_void, message: RawStr),
}

/// What a plugin exports.
#[repr(C)]
pub struct PluginVTable {
    /// Size of this struct in bytes, as built by the plugin.
    pub size: usize,
    /// The plugin's [`ABI_MAJOR`].
    pub abi_major: u32,
    /// The plugin's [`ABI_MINOR`].
    pub abi_minor: u32,
    /// The plugin's name (static in the plugin).
    pub name: RawStr,
    /// [`FLAG_THREAD_SAFE`] and/or [`FLAG_WHOLE_POPULATION`].
    pub flags: u32,
    /// Parses `params` (JSON text) into the plugin's state; null on error (reported to `errors`).
    pub create: unsafe extern "C" fn(params: RawStr, errors: *const RawErrorSink) -> *mut c_void,
    /// Labels a batch; returns a `STATUS_*` code.
    pub classify: unsafe extern "C" fn(
        state: *mut c_void,
        batch: *const RawBatch,
        output: *mut RawOutput,
        errors: *const RawErrorSink,
    ) -> i32,
    /// Frees the state from `create`.
    pub destroy: unsafe extern "C" fn(state: *mut c_void),
}

// ---- the safe side ------------------------------------------------------------------------

/// A segment plugin, written in safe Rust.
pub trait SegmentPlugin: Sized + Send + Sync + 'static {
    /// The plugin's name.
    const NAME: &'static str;
    /// Whether `classify` may run on several threads at once (it must not start threads).
    const THREAD_SAFE: bool = true;
    /// Whether `classify` must see every entity at once (for ranks and quantiles).
    const WHOLE_POPULATION: bool = false;

    /// Parses the `params` of the segment (JSON text); an error message is shown to the user.
    fn new(params: &str) -> Result<Self, String>;

    /// Pushes exactly one label (or `None`) per entity of the batch, in order.
    fn classify(&self, batch: &Batch<'_>, labels: &mut Labels<'_>) -> Result<(), String>;
}

/// A read-only view of a [`RawBatch`].
pub struct Batch<'a> {
    raw: &'a RawBatch,
}

impl<'a> Batch<'a> {
    /// Wraps a batch from the host.
    ///
    /// # Safety
    /// Every pointer of `raw` must be valid for `raw.len` elements for `'a`, as the host
    /// guarantees for the duration of a `classify` call.
    pub unsafe fn new(raw: &'a RawBatch) -> Batch<'a> {
        Batch { raw }
    }

    fn slice<T>(&self, ptr: *const T) -> &'a [T] {
        if ptr.is_null() || self.raw.len == 0 {
            return &[];
        }
        // SAFETY: `Batch::new`'s contract: the host keeps `len` elements alive for `'a`.
        unsafe { std::slice::from_raw_parts(ptr, self.raw.len) }
    }

    /// Number of entities.
    pub fn len(&self) -> usize {
        self.raw.len
    }

    /// Whether the batch is empty.
    pub fn is_empty(&self) -> bool {
        self.raw.len == 0
    }

    /// The observation end, days since 1970-01-01.
    pub fn as_of_day(&self) -> i32 {
        self.raw.as_of_day
    }

    /// Entity id of entity `i`.
    pub fn entity(&self, i: usize) -> &'a str {
        // SAFETY: the host passes valid UTF-8 that lives for the call.
        self.slice(self.raw.entity)
            .get(i)
            .and_then(|s| unsafe { s.as_str() })
            .unwrap_or("")
    }

    /// Days since the last occurrence of the value event, if it ever occurred.
    pub fn recency_days(&self, i: usize) -> Option<i32> {
        self.slice(self.raw.recency_days)
            .get(i)
            .copied()
            .filter(|d| *d >= 0)
    }

    /// Occurrences of the value event.
    pub fn frequency(&self, i: usize) -> u64 {
        self.slice(self.raw.frequency).get(i).copied().unwrap_or(0)
    }

    /// Sum of the value event's amounts.
    pub fn monetary(&self, i: usize) -> f64 {
        self.slice(self.raw.monetary).get(i).copied().unwrap_or(0.0)
    }

    /// Local day of the first kept event, if any.
    pub fn first_seen_day(&self, i: usize) -> Option<i32> {
        self.slice(self.raw.first_seen_day)
            .get(i)
            .copied()
            .filter(|d| *d != NO_DAY)
    }

    /// Local day of the last kept event, if any.
    pub fn last_seen_day(&self, i: usize) -> Option<i32> {
        self.slice(self.raw.last_seen_day)
            .get(i)
            .copied()
            .filter(|d| *d != NO_DAY)
    }

    /// The attribute column `name`, if the entity source has it.
    pub fn attribute(&self, name: &str) -> Option<Attribute<'a>> {
        let columns: &'a [RawColumn] = if self.raw.columns.is_null() || self.raw.column_count == 0 {
            &[]
        } else {
            // SAFETY: the host passes `column_count` columns that live for the call.
            unsafe { std::slice::from_raw_parts(self.raw.columns, self.raw.column_count) }
        };
        // SAFETY: column names are valid UTF-8 that live for the call.
        let column = columns
            .iter()
            .find(|c| unsafe { c.name.as_str() } == Some(name))?;
        Some(Attribute {
            kind: column.kind,
            text: self.slice(column.text),
            numbers: self.slice(column.numbers),
            present: self.slice(column.present),
        })
    }
}

/// One attribute column of a batch.
pub struct Attribute<'a> {
    kind: u32,
    text: &'a [RawStr],
    numbers: &'a [f64],
    present: &'a [u8],
}

impl<'a> Attribute<'a> {
    /// The value of entity `i` as text (numbers are formatted).
    pub fn text(&self, i: usize) -> Option<std::borrow::Cow<'a, str>> {
        if self.kind == KIND_TEXT {
            // SAFETY: the host passes valid UTF-8 that lives for the call.
            return self
                .text
                .get(i)
                .and_then(|s| unsafe { s.as_str() })
                .map(std::borrow::Cow::Borrowed);
        }
        self.number(i).map(|n| {
            let text = if self.kind == KIND_BOOL {
                (n != 0.0).to_string()
            } else {
                n.to_string()
            };
            std::borrow::Cow::Owned(text)
        })
    }

    /// The value of entity `i` as a number (text is parsed).
    pub fn number(&self, i: usize) -> Option<f64> {
        if self.kind == KIND_TEXT {
            return self.text(i).and_then(|t| t.trim().parse().ok());
        }
        (self.present.get(i) == Some(&1)).then(|| self.numbers[i])
    }
}

/// The labels a plugin produces for a batch.
pub struct Labels<'a> {
    raw: &'a mut RawOutput,
}

impl<'a> Labels<'a> {
    /// Wraps the host's output.
    ///
    /// # Safety
    /// `raw.labels` must be valid for `raw.capacity` writes for `'a`.
    pub unsafe fn new(raw: &'a mut RawOutput) -> Labels<'a> {
        raw.written = 0;
        Labels { raw }
    }

    /// Appends the next entity's label. Labels beyond the batch's length are counted, not
    /// written, so the host can report a plugin that returns too many.
    pub fn push(&mut self, label: Option<&str>) {
        let code = match label {
            // SAFETY: the host's `intern` copies the label during the call.
            Some(text) => unsafe { (self.raw.intern)(self.raw.context, RawStr::new(text)) },
            None => NO_LABEL,
        };
        if self.raw.written < self.raw.capacity {
            // SAFETY: `written < capacity`, within the host's buffer.
            unsafe { self.raw.labels.add(self.raw.written).write(code) };
        }
        self.raw.written += 1;
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let text = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic payload".to_string());
    format!("the plugin panicked: {text}")
}

/// Reports `message` to the host's error sink.
///
/// # Safety
/// `errors` must be null or a valid sink for the duration of the call.
unsafe fn report(errors: *const RawErrorSink, message: &str) {
    // SAFETY: the caller guarantees a valid sink (or null).
    if let Some(sink) = unsafe { errors.as_ref() } {
        // SAFETY: the host copies the message during the call.
        unsafe { (sink.report)(sink.context, RawStr::new(message)) };
    }
}

/// `create` for plugin type `T`.
///
/// # Safety
/// Called by the host with a valid params string and error sink.
pub unsafe extern "C" fn create<T: SegmentPlugin>(
    params: RawStr,
    errors: *const RawErrorSink,
) -> *mut c_void {
    // SAFETY: the host passes a valid UTF-8 string for the call.
    let params = unsafe { params.as_str() }.unwrap_or("{}");
    match catch_unwind(AssertUnwindSafe(|| T::new(params))) {
        Ok(Ok(state)) => Box::into_raw(Box::new(state)).cast(),
        Ok(Err(message)) => {
            // SAFETY: forwarded from the host.
            unsafe { report(errors, &message) };
            std::ptr::null_mut()
        }
        Err(payload) => {
            // SAFETY: forwarded from the host.
            unsafe { report(errors, &panic_message(&*payload)) };
            std::ptr::null_mut()
        }
    }
}

/// `classify` for plugin type `T`.
///
/// # Safety
/// Called by the host with a state from `create::<T>` and valid batch, output and sink.
pub unsafe extern "C" fn classify<T: SegmentPlugin>(
    state: *mut c_void,
    batch: *const RawBatch,
    output: *mut RawOutput,
    errors: *const RawErrorSink,
) -> i32 {
    let result = catch_unwind(AssertUnwindSafe(|| {
        // SAFETY: the host's contract for a classify call.
        let (plugin, batch, output) = unsafe { (&*(state as *const T), &*batch, &mut *output) };
        // SAFETY: as above.
        let (batch, mut labels) = unsafe { (Batch::new(batch), Labels::new(output)) };
        plugin.classify(&batch, &mut labels)
    }));
    match result {
        Ok(Ok(())) => STATUS_OK,
        Ok(Err(message)) => {
            // SAFETY: forwarded from the host.
            unsafe { report(errors, &message) };
            STATUS_ERROR
        }
        Err(payload) => {
            // SAFETY: forwarded from the host.
            unsafe { report(errors, &panic_message(&*payload)) };
            STATUS_PANIC
        }
    }
}

/// `destroy` for plugin type `T`.
///
/// # Safety
/// Called once by the host with a state from `create::<T>`.
pub unsafe extern "C" fn destroy<T: SegmentPlugin>(state: *mut c_void) {
    if !state.is_null() {
        // SAFETY: `state` came from `Box::into_raw` in `create::<T>`; a panic in Drop stays here.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            drop(unsafe { Box::from_raw(state.cast::<T>()) })
        }));
    }
}

/// The vtable of plugin type `T`, allocated once per load and never freed.
pub fn vtable<T: SegmentPlugin>() -> *const PluginVTable {
    let flags = if T::THREAD_SAFE { FLAG_THREAD_SAFE } else { 0 }
        | if T::WHOLE_POPULATION {
            FLAG_WHOLE_POPULATION
        } else {
            0
        };
    Box::leak(Box::new(PluginVTable {
        size: std::mem::size_of::<PluginVTable>(),
        abi_major: ABI_MAJOR,
        abi_minor: ABI_MINOR,
        name: RawStr::new(T::NAME),
        flags,
        create: create::<T>,
        classify: classify::<T>,
        destroy: destroy::<T>,
    }))
}

/// Exports a [`SegmentPlugin`] type as this library's plugin.
///
/// ```ignore
/// struct Tier;
/// impl tenure_plugin::SegmentPlugin for Tier { /* … */ }
/// tenure_plugin::export_segment_plugin!(Tier);
/// ```
#[macro_export]
macro_rules! export_segment_plugin {
    ($plugin:ty) => {
        /// The tenure segment-plugin entry point (ABI 1).
        #[unsafe(no_mangle)]
        pub extern "C" fn tenure_segment_plugin_v1() -> *const $crate::PluginVTable {
            $crate::vtable::<$plugin>()
        }
    };
}
