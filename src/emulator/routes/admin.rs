//! Admin endpoints for tests and scripts. No API key; not part of the platform.
//!
//! - `GET /__emulator/faults` → the fault settings.
//! - `POST /__emulator/faults` with a [`FaultSettings`] JSON object → replaces them (omitted
//!   fields are off); answers the new settings. E.g. `{"unavailable_next": 3}`,
//!   `{"cut_upload_at": 0.5}`, `{"cut_next_uploads": 1}`, `{"lose_next_create": 1}`, `{}` to
//!   switch everything off.
//! - `GET /__emulator/clock` → `{"now", "now_ms", "time_scale"}` in emulated time.
//! - `POST /__emulator/clock` with `{"advance_seconds": N}` → moves emulated time forward.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::JsonObject;
use crate::emulator::Shared;
use crate::emulator::error::ApiError;
use crate::emulator::faults::FaultSettings;

pub async fn get_faults(State(shared): State<Arc<Shared>>) -> Json<FaultSettings> {
    Json(shared.faults.settings())
}

pub async fn set_faults(
    State(shared): State<Arc<Shared>>,
    JsonObject(body): JsonObject,
) -> Result<Json<FaultSettings>, ApiError> {
    let settings: FaultSettings = serde_json::from_value(Value::Object(body))
        .map_err(|e| ApiError::invalid_parameter(format!("Invalid fault settings: {e}")))?;
    settings.validate().map_err(ApiError::invalid_parameter)?;
    shared.faults.replace(settings.clone());
    Ok(Json(settings))
}

fn clock_report(shared: &Shared) -> Json<Value> {
    let now = shared.store.now();
    Json(json!({
        "now": now.iso_millis(),
        "now_ms": now.millis(),
        "time_scale": shared.store.clock().scale(),
    }))
}

pub async fn get_clock(State(shared): State<Arc<Shared>>) -> Json<Value> {
    clock_report(&shared)
}

pub async fn advance_clock(
    State(shared): State<Arc<Shared>>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let seconds = body
        .get("advance_seconds")
        .and_then(Value::as_f64)
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1e12)
        .ok_or_else(|| {
            ApiError::invalid_parameter("advance_seconds must be a non-negative number of seconds")
        })?;
    shared
        .store
        .clock()
        .advance(Duration::from_secs_f64(seconds));
    Ok(clock_report(&shared))
}
