//! Fault injection: the failures a client must survive, on demand and reproducibly.
//!
//! Set at start-up (`--fail-rate`, `--throttle-rate`, …) or at run time through the admin
//! endpoint `POST /__emulator/faults`, whose JSON body *replaces* the settings (omitted fields are
//! off). All randomness comes from a generator seeded by `--seed`.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::Method;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use super::Shared;
use super::connection::{ConnectionControl, abort_connection};
use super::error::ApiError;

/// Where the uploads counted by `cut_next_uploads` are cut.
const COUNTED_CUT_AT: f64 = 0.5;

/// What to break, and how often.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultSettings {
    /// Probability (0–1) that an API request fails with 500 `InternalError`.
    pub server_error_rate: f64,
    /// Probability (0–1) that an API request is refused with 429 `Throttling.RateQuota`.
    pub throttle_rate: f64,
    /// Probability (0–1) that a new job fails (`FAILED`, unbilled) when its data processing ends,
    /// whatever its datasets.
    pub job_fail_rate: f64,
    /// `Retry-After` seconds sent with injected 429s.
    pub retry_after_seconds: u64,
    /// The next N API requests fail with 503 (a burst of unavailability).
    pub unavailable_next: u32,
    /// Delay added before every API request is handled, in real milliseconds.
    pub latency_ms: u64,
    /// Reset the connection of every upload once this fraction (0–1, exclusive) of its body has
    /// arrived.
    pub cut_upload_at: Option<f64>,
    /// The next N successful create calls (job, deployment, video synthesis) take effect, but
    /// their connection is reset instead of answered.
    pub lose_next_create: u32,
    /// The next N uploads are reset halfway through their body, then uploads go through again
    /// (unless `cut_upload_at` cuts them all): a client that retries a cut upload must end with
    /// one file.
    pub cut_next_uploads: u32,
}

impl Default for FaultSettings {
    fn default() -> Self {
        FaultSettings {
            server_error_rate: 0.0,
            throttle_rate: 0.0,
            job_fail_rate: 0.0,
            retry_after_seconds: 1,
            unavailable_next: 0,
            latency_ms: 0,
            cut_upload_at: None,
            lose_next_create: 0,
            cut_next_uploads: 0,
        }
    }
}

impl FaultSettings {
    /// Checks the ranges; the error names the offending field.
    pub fn validate(&self) -> Result<(), String> {
        let rates = [
            ("server_error_rate", self.server_error_rate),
            ("throttle_rate", self.throttle_rate),
            ("job_fail_rate", self.job_fail_rate),
        ];
        for (name, rate) in rates {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        if let Some(cut) = self.cut_upload_at
            && !(cut > 0.0 && cut < 1.0)
        {
            return Err(format!(
                "cut_upload_at must be between 0 and 1 (exclusive), got {cut}"
            ));
        }
        Ok(())
    }
}

/// The live settings and the seeded generator behind them.
#[derive(Debug)]
pub struct FaultInjector {
    settings: Mutex<FaultSettings>,
    rng: Mutex<StdRng>,
}

/// What happens to one request before its handler runs.
struct Verdict {
    latency: Duration,
    refusal: Option<ApiError>,
}

impl FaultInjector {
    pub fn new(settings: FaultSettings, seed: u64) -> Self {
        FaultInjector {
            settings: Mutex::new(settings),
            rng: Mutex::new(StdRng::seed_from_u64(seed)),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FaultSettings> {
        self.settings.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn settings(&self) -> FaultSettings {
        self.lock().clone()
    }

    pub fn replace(&self, settings: FaultSettings) {
        *self.lock() = settings;
    }

    /// Fraction of an upload's body after which its connection is reset, if set (consuming
    /// one of `cut_next_uploads`).
    pub fn upload_cut(&self) -> Option<f64> {
        let mut settings = self.lock();
        if settings.cut_next_uploads > 0 {
            settings.cut_next_uploads -= 1;
            return Some(COUNTED_CUT_AT);
        }
        settings.cut_upload_at
    }

    fn judge(&self) -> Verdict {
        let mut settings = self.lock();
        let latency = Duration::from_millis(settings.latency_ms);
        let refusal = if settings.unavailable_next > 0 {
            settings.unavailable_next -= 1;
            Some(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is temporarily unavailable, please try again later.",
            ))
        } else {
            let mut rng = self.rng.lock().unwrap_or_else(PoisonError::into_inner);
            if settings.throttle_rate > 0.0 && rng.random_bool(settings.throttle_rate) {
                Some(ApiError::throttled(
                    "Throttling.RateQuota",
                    "Requests rate limit exceeded, please try again later.",
                    settings.retry_after_seconds,
                ))
            } else if settings.server_error_rate > 0.0
                && rng.random_bool(settings.server_error_rate)
            {
                Some(ApiError::internal(
                    "An internal error has occurred, please try again later or contact service support.",
                ))
            } else {
                None
            }
        };
        Verdict { latency, refusal }
    }

    /// Whether a job being created is doomed to fail (`job_fail_rate`).
    pub fn doom_job(&self) -> bool {
        let rate = self.lock().job_fail_rate;
        rate > 0.0
            && self
                .rng
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .random_bool(rate)
    }

    /// Consumes one "lost create", if any is pending.
    fn take_lost_create(&self) -> bool {
        let mut settings = self.lock();
        if settings.lose_next_create > 0 {
            settings.lose_next_create -= 1;
            true
        } else {
            false
        }
    }
}

/// Calls whose response "lose next create" drops.
const CREATE_PATHS: [&str; 4] = [
    "/api/v1/fine-tunes",
    "/api/v1/deployments",
    "/api/v1/services/aigc/video-generation/video-synthesis",
    "/api/v1/services/aigc/image2video/video-synthesis",
];

fn is_create(request: &Request) -> bool {
    request.method() == Method::POST
        && CREATE_PATHS.contains(&request.uri().path().trim_end_matches('/'))
}

/// Middleware applying the faults to API calls.
pub async fn inject(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let verdict = shared.faults.judge();
    if !verdict.latency.is_zero() {
        tokio::time::sleep(verdict.latency).await;
    }
    if let Some(refusal) = verdict.refusal {
        return refusal.into_response();
    }
    let create = is_create(&request);
    let control = request.extensions().get::<ConnectionControl>().cloned();
    let response = next.run(request).await;
    if create && response.status().is_success() && shared.faults.take_lost_create() {
        return abort_connection(control.as_ref()).await.into_response();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bursts_count_down_and_rates_are_seeded() {
        let injector = FaultInjector::new(
            FaultSettings {
                unavailable_next: 2,
                ..FaultSettings::default()
            },
            1,
        );
        let statuses: Vec<_> = (0..3)
            .map(|_| injector.judge().refusal.map(|e| e.status))
            .collect();
        assert_eq!(
            statuses,
            vec![
                Some(StatusCode::SERVICE_UNAVAILABLE),
                Some(StatusCode::SERVICE_UNAVAILABLE),
                None
            ]
        );
        let outcomes = |seed| {
            let injector = FaultInjector::new(
                FaultSettings {
                    server_error_rate: 0.5,
                    ..FaultSettings::default()
                },
                seed,
            );
            (0..64)
                .map(|_| injector.judge().refusal.is_some())
                .collect::<Vec<_>>()
        };
        let first = outcomes(9);
        assert_eq!(first, outcomes(9));
        assert!(first.contains(&true) && first.contains(&false));
    }

    #[test]
    fn counted_upload_cuts_run_out() {
        let injector = FaultInjector::new(
            FaultSettings {
                cut_next_uploads: 2,
                ..FaultSettings::default()
            },
            1,
        );
        let cuts: Vec<_> = (0..3).map(|_| injector.upload_cut()).collect();
        assert_eq!(cuts, [Some(COUNTED_CUT_AT), Some(COUNTED_CUT_AT), None]);
    }

    #[test]
    fn settings_are_range_checked() {
        let bad = FaultSettings {
            cut_upload_at: Some(1.0),
            ..FaultSettings::default()
        };
        assert!(bad.validate().unwrap_err().contains("cut_upload_at"));
        let bad = FaultSettings {
            throttle_rate: 1.5,
            ..FaultSettings::default()
        };
        assert!(bad.validate().unwrap_err().contains("throttle_rate"));
        assert_eq!(FaultSettings::default().validate(), Ok(()));
    }
}
