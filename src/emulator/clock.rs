//! The accelerated clock: emulated time runs `time_scale` times faster than real time.
//!
//! Every state transition of the emulator is a function of emulated time, so a job that takes
//! hours on the platform finishes in seconds here. A scale of 0 freezes the clock; it then moves
//! only when told to (`POST /__emulator/clock`), which lets tests step through a lifecycle
//! deterministically.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A point in emulated time: milliseconds since the Unix epoch, UTC.
///
/// The platform does not document the time zone of its timestamps; the emulator prints UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EmuTime(i64);

impl EmuTime {
    /// The earliest representable instant, used as "always already past".
    pub const MIN: EmuTime = EmuTime(i64::MIN);

    #[cfg(test)]
    pub fn from_millis(millis: i64) -> Self {
        EmuTime(millis)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// Real wall-clock time now.
    pub fn wall_now() -> Self {
        EmuTime(Utc::now().timestamp_millis())
    }

    /// This instant moved `span` later (saturating).
    pub fn plus(self, span: Duration) -> Self {
        let millis = i64::try_from(span.as_millis()).unwrap_or(i64::MAX);
        EmuTime(self.0.saturating_add(millis))
    }

    /// The instant `fraction` (0..=1) of the way through `span` after this one, rounded up to the
    /// millisecond so that an event is never reported before it happens.
    pub fn plus_fraction(self, span: Duration, fraction: f64) -> Self {
        let millis = (span.as_millis() as f64 * fraction.clamp(0.0, 1.0)).ceil();
        EmuTime(self.0.saturating_add(millis as i64))
    }

    /// Time elapsed from `earlier` to this instant; zero if `earlier` is later.
    pub fn since(self, earlier: EmuTime) -> Duration {
        Duration::from_millis(u64::try_from(self.0.saturating_sub(earlier.0)).unwrap_or(0))
    }

    /// Whole Unix seconds (compatible-mode `created_at`, signed-URL `Expires`).
    pub fn unix_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    fn datetime(self) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.0).unwrap_or_default()
    }

    /// Job timestamps: `2025-11-11 11:22:22`.
    pub fn job_format(self) -> String {
        self.datetime().format("%Y-%m-%d %H:%M:%S").to_string()
    }

    /// Checkpoint timestamps: `2025-11-11T13:42:31`.
    pub fn iso_seconds(self) -> String {
        self.datetime().format("%Y-%m-%dT%H:%M:%S").to_string()
    }

    /// Deployment timestamps: `2025-11-11T17:46:53.294`.
    pub fn iso_millis(self) -> String {
        self.datetime().format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
    }

    /// Task timestamps: `2025-11-12 11:03:33.672`.
    pub fn task_format(self) -> String {
        self.datetime().format("%Y-%m-%d %H:%M:%S%.3f").to_string()
    }

    /// Log-line timestamps: `2025-11-11 11:23:37,315`.
    pub fn log_format(self) -> String {
        let dt = self.datetime();
        format!(
            "{},{:03}",
            dt.format("%Y-%m-%d %H:%M:%S"),
            dt.timestamp_subsec_millis()
        )
    }

    /// The HTTP `Date` form: `Wed, 12 Nov 2025 11:03:33 GMT`.
    pub fn http_date(self) -> String {
        self.datetime()
            .format("%a, %d %b %Y %H:%M:%S GMT")
            .to_string()
    }

    /// The minute stamp inside job ids: `202511111122`.
    pub fn id_stamp(self) -> String {
        self.datetime().format("%Y%m%d%H%M").to_string()
    }
}

/// The emulator's clock. Cheap to read from any thread.
#[derive(Debug)]
pub struct Clock {
    scale: f64,
    anchor: Mutex<Anchor>,
}

/// Emulated time `emulated` corresponded to real instant `real`.
#[derive(Debug, Clone, Copy)]
struct Anchor {
    real: Instant,
    emulated: EmuTime,
}

impl Clock {
    /// A clock reading `start` now and running `scale` times faster than real time (0 = frozen).
    pub fn new(start: EmuTime, scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            0.0
        };
        Clock {
            scale,
            anchor: Mutex::new(Anchor {
                real: Instant::now(),
                emulated: start,
            }),
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// The current emulated time.
    pub fn now(&self) -> EmuTime {
        let anchor = *self.anchor.lock().unwrap_or_else(|e| e.into_inner());
        let real_elapsed = anchor.real.elapsed().as_secs_f64();
        let emulated_ms = (real_elapsed * self.scale * 1000.0).floor();
        EmuTime(anchor.emulated.0.saturating_add(emulated_ms as i64))
    }

    /// Moves emulated time forward by `span` and returns the new time.
    pub fn advance(&self, span: Duration) -> EmuTime {
        let now = self.now();
        let moved = now.plus(span);
        *self.anchor.lock().unwrap_or_else(|e| e.into_inner()) = Anchor {
            real: Instant::now(),
            emulated: moved,
        };
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_follow_each_resource() {
        // 2025-11-11 11:22:22.294 UTC
        let t = EmuTime::from_millis(1_762_860_142_294);
        assert_eq!(t.job_format(), "2025-11-11 11:22:22");
        assert_eq!(t.iso_seconds(), "2025-11-11T11:22:22");
        assert_eq!(t.iso_millis(), "2025-11-11T11:22:22.294");
        assert_eq!(t.task_format(), "2025-11-11 11:22:22.294");
        assert_eq!(t.log_format(), "2025-11-11 11:22:22,294");
        assert_eq!(t.id_stamp(), "202511111122");
        assert_eq!(t.unix_seconds(), 1_762_860_142);
    }

    #[test]
    fn frozen_clock_moves_only_when_advanced() {
        let start = EmuTime::from_millis(1_000_000);
        let clock = Clock::new(start, 0.0);
        assert_eq!(clock.now(), start);
        let later = clock.advance(Duration::from_secs(90));
        assert_eq!(later, EmuTime::from_millis(1_090_000));
        assert_eq!(clock.now(), later);
    }

    #[test]
    fn fractions_round_up_and_clamp() {
        let t = EmuTime::from_millis(0);
        let span = Duration::from_millis(10);
        assert_eq!(t.plus_fraction(span, 0.25), EmuTime::from_millis(3));
        assert_eq!(t.plus_fraction(span, 7.0), EmuTime::from_millis(10));
        assert_eq!(
            EmuTime::from_millis(5).since(EmuTime::from_millis(9)),
            Duration::ZERO
        );
    }
}
