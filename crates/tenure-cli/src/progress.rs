//! A progress bar on standard error for reads that take more than a moment.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tenure::engine::progress::ReadProgress;

/// How long a read runs before its bar appears: short reads never draw one.
const SHOW_AFTER: Duration = Duration::from_millis(500);

/// One bar per source, hidden until the read has taken [`SHOW_AFTER`].
#[derive(Default)]
pub struct TerminalProgress {
    current: Mutex<Option<(ProgressBar, Instant, bool)>>,
}

impl ReadProgress for TerminalProgress {
    fn start(&self, source: &str, total: u64) {
        let style = ProgressStyle::with_template(
            "{prefix} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden())
            .with_style(style)
            .with_prefix(format!("reading {source}"));
        if let Ok(mut current) = self.current.lock() {
            *current = Some((bar, Instant::now(), false));
        }
    }

    fn advance(&self, bytes: u64) {
        if let Ok(mut current) = self.current.lock()
            && let Some((bar, started, shown)) = current.as_mut()
        {
            bar.inc(bytes);
            if !*shown && started.elapsed() >= SHOW_AFTER {
                *shown = true;
                bar.set_draw_target(ProgressDrawTarget::stderr());
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut current) = self.current.lock()
            && let Some((bar, _, _)) = current.take()
        {
            bar.finish_and_clear();
        }
    }
}
