//! Progress bars on stderr: drawn only on a terminal, never in CI logs or pipes.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// What a bar counts when a phase starts with [`wanft::progress::Progress::begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Items,
    Bytes,
}

/// A [`wanft::progress::Progress`] drawn with indicatif.
pub struct Bar {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
    unit: Unit,
}

impl Bar {
    /// A bar counting items (files), drawn only when `enabled` and stderr is a terminal.
    pub fn new(enabled: bool) -> Bar {
        Bar {
            bar: Mutex::new(None),
            enabled,
            unit: Unit::Items,
        }
    }

    /// A bar counting bytes (size, rate, time left), for uploads, hashing and downloads.
    pub fn bytes(enabled: bool) -> Bar {
        Bar {
            unit: Unit::Bytes,
            ..Bar::new(enabled)
        }
    }

    fn start(&self, label: &str, total: u64, unit: Unit) {
        if !self.enabled {
            return;
        }
        // An unknown total (a download without Content-Length) shows a counter, not a bar.
        let (length, template) = match (unit, total) {
            (Unit::Items, _) => (Some(total), "{msg:>14} [{bar:30}] {pos}/{len} {elapsed}"),
            (Unit::Bytes, 0) => (None, "{msg:>14} {bytes} {bytes_per_sec} {elapsed}"),
            (Unit::Bytes, _) => (
                Some(total),
                "{msg:>14} [{bar:18}] {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
            ),
        };
        let bar = ProgressBar::with_draw_target(length, ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(label.to_string());
        if let Ok(mut slot) = self.bar.lock()
            && let Some(previous) = slot.replace(bar)
        {
            previous.finish_and_clear();
        }
    }
}

impl wanft::progress::Progress for Bar {
    fn begin(&self, label: &str, total: u64) {
        self.start(label, total, self.unit);
    }

    fn begin_bytes(&self, label: &str, total: u64) {
        self.start(label, total, Unit::Bytes);
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
