//! Progress bars on stderr: drawn only on a terminal, never in CI logs or pipes.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::sync::Mutex;

/// A [`wanft::progress::Progress`] drawn with indicatif.
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl Bar {
    /// A bar that draws only when `enabled` and stderr is a terminal.
    pub fn new(enabled: bool) -> Bar {
        Bar {
            bar: Mutex::new(None),
            enabled,
        }
    }

    fn start(&self, label: &str, total: u64, template: &str) {
        if !self.enabled {
            return;
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_string());
        if let Ok(mut slot) = self.bar.lock() {
            *slot = Some(bar);
        }
    }
}

impl wanft::progress::Progress for Bar {
    fn begin(&self, label: &str, total: u64) {
        self.start(label, total, "{msg:>14} [{bar:30}] {pos}/{len} {elapsed}");
    }

    fn begin_bytes(&self, label: &str, total: u64) {
        self.start(
            label,
            total,
            "{msg:>14} [{bar:18}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        );
    }

    fn advance(&self, n: u64) {
        if let Ok(slot) = self.bar.lock()
            && let Some(bar) = slot.as_ref()
        {
            bar.inc(n);
        }
    }

    fn end(&self) {
        if let Ok(mut slot) = self.bar.lock()
            && let Some(bar) = slot.take()
        {
            bar.finish_and_clear();
        }
    }
}
