//! Watching a long transfer: bytes moved, progress, and the stall timeout.
//!
//! A 1 GB upload on a slow link can take an hour, so it gets no overall time limit; instead it
//! fails when no byte has moved for the stall timeout. The body stream (which must be `'static`)
//! only bumps a shared [`Meter`]; [`watch`] runs beside the transfer, forwards the count to the
//! caller's progress reporter and enforces the limits.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::error::{ApiError, Stage};
use crate::progress::Progress;

/// How often the watcher looks at the meter (at most).
const TICK: Duration = Duration::from_millis(100);
/// Marks "the body has not been fully handed over yet".
const NOT_FINISHED: u64 = u64::MAX;

/// Bytes moved and when they last moved; shared by the body stream and the watcher.
#[derive(Debug)]
pub(crate) struct Meter {
    started: Instant,
    moved: AtomicU64,
    /// Milliseconds from `started` to the last move.
    last_move_ms: AtomicU64,
    /// Milliseconds from `started` to the end of the body, or [`NOT_FINISHED`].
    finished_ms: AtomicU64,
}

impl Meter {
    pub fn new() -> Arc<Meter> {
        Arc::new(Meter {
            started: Instant::now(),
            moved: AtomicU64::new(0),
            last_move_ms: AtomicU64::new(0),
            finished_ms: AtomicU64::new(NOT_FINISHED),
        })
    }

    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX - 1)
    }

    /// `n` more bytes moved.
    pub fn advance(&self, n: u64) {
        self.moved.fetch_add(n, Ordering::Relaxed);
        self.last_move_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    /// The whole body has been handed over; what remains is waiting for the answer.
    pub fn finish(&self) {
        self.finished_ms.store(self.now_ms(), Ordering::Relaxed);
    }

    pub fn moved(&self) -> u64 {
        self.moved.load(Ordering::Relaxed)
    }

    fn since_ms(&self, mark: u64) -> Duration {
        Duration::from_millis(self.now_ms().saturating_sub(mark))
    }
}

/// The limits [`watch`] enforces.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Longest time without a byte moving, while the body is being sent (or read).
    pub stall: Duration,
    /// Longest wait for the answer once the whole body is sent.
    pub answer: Duration,
}

/// Runs `transfer`, reporting `meter`'s bytes to `progress` and failing it when it stalls.
pub(crate) async fn watch<T>(
    transfer: impl Future<Output = Result<T, ApiError>>,
    meter: &Meter,
    limits: Limits,
    progress: &dyn Progress,
    operation: &str,
    total: u64,
) -> Result<T, ApiError> {
    let tick = (limits.stall / 4).clamp(Duration::from_millis(10), TICK);
    let mut ticks = tokio::time::interval(tick);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut reported = 0;
    let mut report = |progress: &dyn Progress| {
        let moved = meter.moved();
        if moved > reported {
            progress.advance(moved - reported);
            reported = moved;
        }
    };
    tokio::pin!(transfer);
    loop {
        tokio::select! {
            result = &mut transfer => {
                report(progress);
                return result;
            }
            _ = ticks.tick() => {
                report(progress);
                let finished = meter.finished_ms.load(Ordering::Relaxed);
                if finished == NOT_FINISHED {
                    let idle = meter.since_ms(meter.last_move_ms.load(Ordering::Relaxed));
                    if idle >= limits.stall {
                        return Err(ApiError::Stalled {
                            operation: operation.to_owned(),
                            idle,
                            sent: meter.moved(),
                            total,
                        });
                    }
                } else if meter.since_ms(finished) >= limits.answer {
                    return Err(ApiError::Transport {
                        operation: operation.to_owned(),
                        stage: Stage::Timeout,
                        detail: format!(
                            "no answer {} s after the whole body was sent",
                            limits.answer.as_secs()
                        ),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::progress::Silent;

    const LIMITS: Limits = Limits {
        stall: Duration::from_millis(50),
        answer: Duration::from_millis(50),
    };

    #[tokio::test]
    async fn a_silent_transfer_stalls() {
        let meter = Meter::new();
        meter.advance(5);
        let never = std::future::pending::<Result<(), ApiError>>();
        let err = watch(never, &meter, LIMITS, &Silent, "POST /f", 10)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ApiError::Stalled {
                    sent: 5,
                    total: 10,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_finished_body_waits_for_the_answer_limit() {
        let meter = Meter::new();
        meter.finish();
        let never = std::future::pending::<Result<(), ApiError>>();
        let err = watch(never, &meter, LIMITS, &Silent, "POST /f", 0)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                ApiError::Transport {
                    stage: Stage::Timeout,
                    ..
                }
            ),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn a_moving_transfer_completes_and_reports_every_byte() {
        struct Count(AtomicU64);
        impl Progress for Count {
            fn advance(&self, n: u64) {
                self.0.fetch_add(n, Ordering::Relaxed);
            }
        }
        let meter = Meter::new();
        let counted = Count(AtomicU64::new(0));
        let transfer = async {
            for _ in 0..6 {
                tokio::time::sleep(Duration::from_millis(20)).await;
                meter.advance(100);
            }
            Ok::<_, ApiError>(7)
        };
        // Generous limits: this test is about counting, not timing.
        let limits = Limits {
            stall: Duration::from_secs(30),
            answer: Duration::from_secs(30),
        };
        let value = watch(transfer, &meter, limits, &counted, "POST /f", 600)
            .await
            .unwrap();
        assert_eq!(value, 7);
        assert_eq!(counted.0.load(Ordering::Relaxed), 600);
    }
}
