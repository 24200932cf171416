//! When to try a call again, and how long to wait first.
//!
//! Calls safe to repeat (GET, DELETE, uploads, which at worst leave an unreferenced file) are
//! retried on connection failures, timeouts, stalls, 429 rate limits and 5xx, with exponential
//! backoff and jitter, honouring `Retry-After` up to a cap. A 429 `Throttling` without suffix is
//! the creation quota (spec §7.2), which waiting does not fix. Calls that create something go
//! through [`super::create`] instead, which never repeats them blindly.

use std::future::Future;
use std::time::Duration;

use super::error::{ApiError, Stage};
use super::events::{Event, Observer};

/// How many times to retry and how long to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Longest computed wait.
    pub max_delay: Duration,
    /// Longest wait a server's `Retry-After` can impose.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            base_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `retry + 1`: the server's `Retry-After` when given (capped),
    /// else `base_delay × 2^retry` (capped), half of it fixed and half random so that clients
    /// failing together do not retry together.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.max_retry_after);
        }
        let factor = 2u32.saturating_pow(retry.min(30));
        let ceiling = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = ceiling / 2;
        half + half.mul_f64(rand::random::<f64>())
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Give up: trying again cannot help.
    Final,
    /// Nothing was done by the server: try again, after the server's delay if it gave one.
    Retry(Option<Duration>),
    /// The server may have acted on the request; the answer was lost.
    Ambiguous,
}

/// How a failure of a call that is safe to repeat is handled.
pub(crate) fn classify(error: &ApiError) -> Verdict {
    match error {
        ApiError::Http(failure) => match failure.status {
            429 if failure.code.as_deref() == Some("Throttling") => Verdict::Final,
            408 | 429 | 500..=599 => Verdict::Retry(failure.retry_after),
            _ => Verdict::Final,
        },
        ApiError::Transport { .. } | ApiError::Stalled { .. } => Verdict::Retry(None),
        _ => Verdict::Final,
    }
}

/// How a failure of a call that creates something is handled: a refusal the server answered
/// before acting (429) is retried, anything that may have reached the handler is ambiguous.
pub(crate) fn classify_create(error: &ApiError) -> Verdict {
    match error {
        ApiError::Http(failure) if failure.status >= 500 => Verdict::Ambiguous,
        ApiError::Transport {
            stage: Stage::Exchange | Stage::Timeout,
            ..
        } => Verdict::Ambiguous,
        _ => classify(error),
    }
}

/// Runs `attempt` until it succeeds, fails for good, or the retries run out. `attempt` gets the
/// number of retries so far (0 for the first attempt).
pub(crate) async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    observer: &dyn Observer,
    operation: &str,
    mut attempt: F,
) -> Result<T, ApiError>
where
    F: FnMut(u32) -> Fut,
    Fut: Future<Output = Result<T, ApiError>>,
{
    let mut retry = 0;
    loop {
        let error = match attempt(retry).await {
            Ok(value) => return Ok(value),
            Err(error) => error,
        };
        match classify(&error) {
            Verdict::Retry(retry_after) if retry < policy.retries => {
                let delay = policy.delay(retry, retry_after);
                retry += 1;
                announce(policy, observer, operation, &error, delay, retry);
                tokio::time::sleep(delay).await;
            }
            _ => return Err(error),
        }
    }
}

/// Tells the observer that retry number `retry` starts after `delay`.
pub(crate) fn announce(
    policy: &RetryPolicy,
    observer: &dyn Observer,
    operation: &str,
    error: &ApiError,
    delay: Duration,
    retry: u32,
) {
    observer.event(&Event::Retrying {
        operation,
        reason: &error.to_string(),
        delay,
        retry,
        retries: policy.retries,
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;
    use crate::api::error::HttpFailure;
    use crate::api::events::Quiet;
    use crate::models::Region;

    fn http(status: u16, code: Option<&str>, retry_after: Option<u64>) -> ApiError {
        ApiError::Http(Box::new(HttpFailure {
            method: "GET".into(),
            path: "/x".into(),
            region: Region::CnBeijing,
            status,
            code: code.map(str::to_owned),
            message: None,
            request_id: None,
            retry_after: retry_after.map(Duration::from_secs),
        }))
    }

    fn transport(stage: Stage) -> ApiError {
        ApiError::Transport {
            operation: "GET /x".into(),
            stage,
            detail: "reset".into(),
        }
    }

    #[test]
    fn delays_grow_with_jitter_and_respect_caps() {
        let policy = RetryPolicy::default();
        for retry in 0..8 {
            let ceiling = (Duration::from_secs(1) * 2u32.pow(retry)).min(policy.max_delay);
            let delay = policy.delay(retry, None);
            assert!(
                delay >= ceiling / 2 && delay <= ceiling,
                "{retry}: {delay:?}"
            );
        }
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
        assert_eq!(
            policy.delay(0, Some(Duration::from_secs(9999))),
            policy.max_retry_after
        );
        assert!(policy.delay(u32::MAX, None) <= policy.max_delay);
    }

    #[test]
    fn safe_calls_retry_transient_failures_only() {
        assert_eq!(classify(&http(503, None, None)), Verdict::Retry(None));
        assert_eq!(
            classify(&http(429, Some("Throttling.RateQuota"), Some(3))),
            Verdict::Retry(Some(Duration::from_secs(3)))
        );
        assert_eq!(
            classify(&http(429, Some("Throttling"), None)),
            Verdict::Final
        );
        assert_eq!(
            classify(&http(401, Some("InvalidApiKey"), None)),
            Verdict::Final
        );
        assert_eq!(classify(&http(404, None, None)), Verdict::Final);
        assert_eq!(classify(&transport(Stage::Exchange)), Verdict::Retry(None));
        assert_eq!(classify(&ApiError::Invalid("x".into())), Verdict::Final);
    }

    #[test]
    fn creates_treat_lost_answers_as_ambiguous() {
        assert_eq!(classify_create(&http(500, None, None)), Verdict::Ambiguous);
        assert_eq!(
            classify_create(&transport(Stage::Exchange)),
            Verdict::Ambiguous
        );
        assert_eq!(
            classify_create(&transport(Stage::Timeout)),
            Verdict::Ambiguous
        );
        assert_eq!(
            classify_create(&transport(Stage::Connect)),
            Verdict::Retry(None)
        );
        assert_eq!(
            classify_create(&http(429, Some("Throttling.RateQuota"), None)),
            Verdict::Retry(None)
        );
        assert_eq!(
            classify_create(&http(409, Some("Conflict"), None)),
            Verdict::Final
        );
    }

    #[tokio::test]
    async fn run_stops_after_the_last_retry() {
        let policy = RetryPolicy {
            retries: 2,
            base_delay: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let attempts = AtomicU32::new(0);
        let result: Result<(), _> = run(&policy, &Quiet, "GET /x", |_| {
            attempts.fetch_add(1, Ordering::SeqCst);
            async { Err(http(503, None, None)) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(attempts.load(Ordering::SeqCst), 3);

        let attempts = AtomicU32::new(0);
        let result = run(&policy, &Quiet, "GET /x", |retry| {
            attempts.fetch_add(1, Ordering::SeqCst);
            async move {
                if retry == 0 {
                    Err(transport(Stage::Connect))
                } else {
                    Ok(retry)
                }
            }
        })
        .await;
        assert_eq!(result.unwrap(), 1);
        assert_eq!(attempts.load(Ordering::SeqCst), 2);

        let attempts = AtomicU32::new(0);
        let result: Result<(), _> = run(&policy, &Quiet, "GET /x", |_| {
            attempts.fetch_add(1, Ordering::SeqCst);
            async { Err(http(400, None, None)) }
        })
        .await;
        assert!(result.is_err());
        assert_eq!(attempts.load(Ordering::SeqCst), 1, "4xx is final");
    }
}
