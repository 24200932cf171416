//! A byte progress bar (size, rate, time left) on stderr, for uploads, hashing and downloads.
//! Drawn only on a terminal, like every bar of wanft.

use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A [`wanft::progress::Progress`] counting bytes.
pub struct ByteBar {
    bar: Mutex<Option<ProgressBar>>,
    enabled: bool,
}

impl ByteBar {
    /// A bar that draws only when `enabled` and stderr is a terminal.
    pub fn new(enabled: bool) -> ByteBar {
        ByteBar {
            bar: Mutex::new(None),
            enabled,
        }
    }
}

impl wanft::progress::Progress for ByteBar {
    fn begin(&self, label: &str, total: u64) {
        if !self.enabled {
            return;
        }
        // An unknown total (a download without Content-Length) shows a counter, not a bar.
        let (length, template) = match total {
            0 => (None, "{msg:>12} {bytes} {binary_bytes_per_sec} {elapsed}"),
            _ => (
                Some(total),
                "{msg:>12} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}",
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
