//! Progress reporting, decoupled from any terminal library: the library reports, the CLI draws.

/// Receives progress of a long operation. Implementations must be cheap and thread-safe: the
/// methods are called from worker threads.
pub trait Progress: Sync {
    /// A new phase starts; `total` is in the phase's unit (files, bytes).
    fn begin(&self, _label: &str, _total: u64) {}
    /// A new phase counted in bytes (drawn with sizes, rate and time left); by default the
    /// same as [`Progress::begin`].
    fn begin_bytes(&self, label: &str, total: u64) {
        self.begin(label, total);
    }
    /// `n` more units are done.
    fn advance(&self, _n: u64) {}
    /// The phase is over.
    fn end(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
