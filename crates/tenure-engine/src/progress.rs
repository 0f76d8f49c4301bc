//! How far reading has got, for a front end that wants to show it (the CLI draws a bar), and a
//! way for it to stop a run (an embedder's Ctrl-C).

/// Receives reading progress, and may ask a run to stop. Called from several threads at once
/// when a source is read in parallel parts. Every method does nothing by default.
pub trait ReadProgress: Sync {
    /// Source `source` starts: `total` bytes to read (file bytes for CSV and JSON Lines,
    /// compressed row-group bytes for Parquet).
    fn start(&self, source: &str, total: u64) {
        let _ = (source, total);
    }

    /// `bytes` more of the current source were read.
    fn advance(&self, bytes: u64) {
        let _ = bytes;
    }

    /// The current source is read.
    fn finish(&self) {}

    /// Whether the run should stop: asked before each part read is stored, after loading and
    /// before each metric. Loading then ends with [`crate::EngineError::Stopped`], and
    /// evaluation leaves the metrics not computed yet out of its report.
    fn stop_requested(&self) -> bool {
        false
    }
}

/// A request to stop a run, shared between the thread that runs it and one that may stop it.
/// As a [`ReadProgress`] it reports nothing and asks to stop once [`StopSignal::stop`] was
/// called.
#[derive(Debug, Clone, Default)]
pub struct StopSignal(std::sync::Arc<std::sync::atomic::AtomicBool>);

impl StopSignal {
    /// A signal not given yet.
    pub fn new() -> StopSignal {
        StopSignal::default()
    }

    /// Asks the run to stop at its next check.
    pub fn stop(&self) {
        self.0.store(true, std::sync::atomic::Ordering::Relaxed);
    }
}

impl ReadProgress for StopSignal {
    fn stop_requested(&self) -> bool {
        self.0.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// No progress reporting.
pub struct NoProgress;

impl ReadProgress for NoProgress {}

/// A reader that reports the bytes passing through it, in steps of at least 1 MiB.
pub(crate) struct ProgressReader<'p, R> {
    pub(crate) inner: R,
    pub(crate) progress: &'p dyn ReadProgress,
    pending: u64,
}

impl<'p, R> ProgressReader<'p, R> {
    pub(crate) fn new(inner: R, progress: &'p dyn ReadProgress) -> Self {
        ProgressReader {
            inner,
            progress,
            pending: 0,
        }
    }
}

impl<R: std::io::Read> std::io::Read for ProgressReader<'_, R> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        let read = self.inner.read(buffer)?;
        self.pending += read as u64;
        if self.pending >= 1 << 20 || read == 0 {
            self.progress.advance(self.pending);
            self.pending = 0;
        }
        Ok(read)
    }
}

impl<R: std::io::BufRead> std::io::BufRead for ProgressReader<'_, R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amount: usize) {
        self.inner.consume(amount);
        self.pending += amount as u64;
        if self.pending >= 1 << 20 {
            self.progress.advance(self.pending);
            self.pending = 0;
        }
    }
}

impl<R> Drop for ProgressReader<'_, R> {
    fn drop(&mut self) {
        if self.pending > 0 {
            self.progress.advance(self.pending);
        }
    }
}
