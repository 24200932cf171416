//! How often to look at something that runs on the platform (a job, an export, a deployment, a
//! generation task): fast while the wait is young, slower as it goes on, never slower than the
//! interval the user chose.
//!
//! A job that fails in data processing does so within minutes and a local emulator finishes a
//! job in seconds, yet a real training run takes hours: a fixed interval is either slow to
//! notice the first or wasteful on the second. The delay is a tenth of the time waited so far,
//! between [`FIRST`] and the chosen maximum, so a run of hours costs a few dozen extra looks.

use std::time::{Duration, Instant};

/// The first delays, while the wait is young.
pub const FIRST: Duration = Duration::from_millis(500);
/// The delay is this fraction of the time waited so far.
const FRACTION: u32 = 10;

/// The delays of one wait.
#[derive(Debug, Clone, Copy)]
pub struct Poll {
    started: Instant,
    max: Duration,
}

impl Poll {
    /// A wait starting now whose delays grow to at most `max` (a `max` below [`FIRST`] is kept
    /// as given: the caller asked for quick looks).
    pub fn new(max: Duration) -> Poll {
        Poll {
            started: Instant::now(),
            max,
        }
    }

    /// The delay before the next look.
    pub fn next_delay(&self) -> Duration {
        delay_after(self.started.elapsed(), self.max)
    }

    pub fn max(&self) -> Duration {
        self.max
    }
}

/// The delay after waiting `waited` so far, with delays of at most `max`.
pub fn delay_after(waited: Duration, max: Duration) -> Duration {
    (waited / FRACTION).clamp(FIRST.min(max), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_fast_and_grow_to_the_maximum() {
        let max = Duration::from_secs(60);
        assert_eq!(delay_after(Duration::ZERO, max), FIRST);
        assert_eq!(delay_after(Duration::from_secs(3), max), FIRST);
        assert_eq!(
            delay_after(Duration::from_secs(30), max),
            Duration::from_secs(3)
        );
        assert_eq!(delay_after(Duration::from_secs(3600), max), max);
        let quick = Duration::from_millis(100);
        assert_eq!(delay_after(Duration::from_secs(3600), quick), quick);
    }

    #[test]
    fn an_hour_long_wait_takes_few_looks() {
        let max = Duration::from_secs(60);
        let (mut waited, mut looks) = (Duration::ZERO, 0);
        while waited < Duration::from_secs(3600) {
            waited += delay_after(waited, max);
            looks += 1;
        }
        // A fixed 60 s interval takes 60 looks; the young wait adds a few dozen.
        assert!((60..130).contains(&looks), "{looks} looks");
    }
}
