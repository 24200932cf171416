//! The request-rate limits of spec §7.3, enforced only with `--enforce-rate-limits`.
//!
//! Sliding one-second windows in real time. File and task-polling limits apply here, by path;
//! the per-model submission and concurrency limits need the request body, so the synthesis
//! handler applies them through [`RateLimiter::admit`].

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Shared;
use super::error::ApiError;

const WINDOW: Duration = Duration::from_secs(1);

/// Recent requests per bucket.
#[derive(Debug, Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl RateLimiter {
    /// Admits one request into `bucket` unless `per_second` were admitted in the last second.
    pub fn admit(&self, bucket: &str, per_second: u32) -> Result<(), ApiError> {
        self.admit_at(bucket, per_second, Instant::now())
    }

    fn admit_at(&self, bucket: &str, per_second: u32, now: Instant) -> Result<(), ApiError> {
        let mut windows = self.windows.lock().unwrap_or_else(PoisonError::into_inner);
        let window = windows.entry(bucket.to_owned()).or_default();
        while window
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= WINDOW)
        {
            window.pop_front();
        }
        if window.len() >= per_second as usize {
            return Err(ApiError::throttled(
                "Throttling.RateQuota",
                format!(
                    "Requests rate limit exceeded ({per_second} per second), please try again later."
                ),
                1,
            ));
        }
        window.push_back(now);
        Ok(())
    }
}

/// The bucket and per-second limit of a request, when spec §7.3 gives one.
fn bucket_for(method: &Method, path: &str) -> Option<(&'static str, u32)> {
    if path == "/compatible-mode/v1/files" && method == Method::POST {
        Some(("file-upload", 3))
    } else if path.starts_with("/compatible-mode/v1/files") {
        Some(("file-query", 10))
    } else if path.starts_with("/api/v1/tasks/") {
        Some(("task-poll", 20))
    } else {
        None
    }
}

/// Middleware: 429 `Throttling.RateQuota` once a bucket is full.
pub async fn enforce(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    if let Some(limiter) = &shared.rate_limits
        && let Some((bucket, per_second)) = bucket_for(request.method(), request.uri().path())
        && let Err(refusal) = limiter.admit(bucket, per_second)
    {
        return refusal.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_slides() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.admit_at("b", 3, t0).is_ok());
        }
        let refused = limiter.admit_at("b", 3, t0 + Duration::from_millis(999));
        assert_eq!(refused.map_err(|e| e.retry_after), Err(Some(1)));
        assert!(limiter.admit_at("other", 3, t0).is_ok());
        assert!(limiter.admit_at("b", 3, t0 + WINDOW).is_ok());
    }

    #[test]
    fn buckets_follow_the_spec() {
        assert_eq!(
            bucket_for(&Method::POST, "/compatible-mode/v1/files"),
            Some(("file-upload", 3))
        );
        assert_eq!(
            bucket_for(&Method::GET, "/compatible-mode/v1/files/x"),
            Some(("file-query", 10))
        );
        assert_eq!(
            bucket_for(&Method::GET, "/api/v1/tasks/abc"),
            Some(("task-poll", 20))
        );
        assert_eq!(bucket_for(&Method::GET, "/api/v1/fine-tunes"), None);
    }
}
