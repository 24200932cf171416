//! The HTTP surface: one module per resource, plus the extractors and envelopes they share.
//!
//! Layers, outermost first: [`envelope`] (request id, error bodies) on everything; then, on the
//! API routes only, [`auth`], [`ratelimit`] and [`faults`]. Blobs and the admin endpoints need no
//! key and see no faults.
//!
//! [`envelope`]: super::error::envelope
//! [`auth`]: super::auth
//! [`ratelimit`]: super::ratelimit
//! [`faults`]: super::faults

pub mod admin;
pub mod checkpoints;
pub mod deployments;
pub mod files_compat;
pub mod files_native;
pub mod fine_tunes;
pub mod multipart_guard;
pub mod oss;
pub mod tasks;
pub mod uploads;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::error::{self, ApiError, RequestId};
use super::{Shared, auth, blobs, faults, ratelimit};

/// Synthesis bodies may carry `data:` URLs of images up to 20 MB (base64: about 27 MB).
const SYNTHESIS_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Builds the whole application.
pub fn router(shared: Arc<Shared>) -> Router {
    let api = Router::new()
        .route(
            "/compatible-mode/v1/files",
            post(files_compat::upload)
                .layer(DefaultBodyLimit::disable())
                .get(files_compat::list),
        )
        .route(
            "/compatible-mode/v1/files/{file_id}",
            get(files_compat::get).delete(files_compat::delete),
        )
        .route(
            "/api/v1/files",
            post(files_native::upload)
                .layer(DefaultBodyLimit::disable())
                .get(files_native::list),
        )
        .route(
            "/api/v1/files/{file_id}",
            get(files_native::get).delete(files_native::delete),
        )
        .route(
            "/api/v1/fine-tunes",
            post(fine_tunes::create).get(fine_tunes::list),
        )
        .route(
            "/api/v1/fine-tunes/{job_id}",
            get(fine_tunes::get).delete(fine_tunes::delete),
        )
        .route(
            "/api/v1/fine-tunes/{job_id}/cancel",
            post(fine_tunes::cancel),
        )
        .route("/api/v1/fine-tunes/{job_id}/logs", get(fine_tunes::logs))
        .route(
            "/api/v1/fine-tunes/{job_id}/stream",
            get(fine_tunes::events),
        )
        .route(
            "/api/v1/fine-tunes/{job_id}/validation-results",
            get(checkpoints::validation_results),
        )
        .route(
            "/api/v1/fine-tunes/{job_id}/validation-details/{checkpoint}",
            get(checkpoints::validation_details),
        )
        .route(
            "/api/v1/fine-tunes/{job_id}/export/{checkpoint}",
            get(checkpoints::export),
        )
        .route(
            "/api/v1/fine-tunes/{job_id}/checkpoints",
            get(checkpoints::list),
        )
        .route(
            "/api/v1/deployments",
            post(deployments::create).get(deployments::list),
        )
        .route(
            "/api/v1/deployments/{deployed_model}",
            get(deployments::get).delete(deployments::delete),
        )
        .route(
            "/api/v1/services/aigc/video-generation/video-synthesis",
            post(tasks::submit_first_frame).layer(DefaultBodyLimit::max(SYNTHESIS_BODY_LIMIT)),
        )
        .route(
            "/api/v1/services/aigc/image2video/video-synthesis",
            post(tasks::submit_key_frames).layer(DefaultBodyLimit::max(SYNTHESIS_BODY_LIMIT)),
        )
        .route("/api/v1/tasks/{task_id}", get(tasks::get))
        .route("/api/v1/uploads", get(oss::get_policy))
        .layer(from_fn_with_state(shared.clone(), settle_data_checks))
        .layer(from_fn_with_state(shared.clone(), faults::inject))
        .layer(from_fn_with_state(shared.clone(), ratelimit::enforce))
        .layer(from_fn_with_state(shared.clone(), auth::require_api_key));
    let open = Router::new()
        .route("/blobs/{*path}", get(blobs::serve))
        .route(
            "/oss",
            post(oss::upload).layer(DefaultBodyLimit::max(oss::UPLOAD_BODY_LIMIT)),
        )
        .route("/__emulator/oss", get(oss::list_objects))
        .route(
            "/__emulator/faults",
            get(admin::get_faults).post(admin::set_faults),
        )
        .route(
            "/__emulator/clock",
            get(admin::get_clock).post(admin::advance_clock),
        );
    api.merge(open)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(shared.clone(), error::envelope))
        .with_state(shared)
}

async fn not_found() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The method is not allowed for this resource.",
    )
}

/// A native success body: `{"request_id", "output"}`.
pub fn output(request_id: &RequestId, output: impl Serialize) -> Response {
    Json(json!({ "request_id": request_id, "output": output })).into_response()
}

/// A native file-endpoint success body: `{"request_id", "data"}`.
pub fn data(request_id: &RequestId, data: impl Serialize) -> Response {
    Json(json!({ "request_id": request_id, "data": data })).into_response()
}

/// Path parameters, with malformed ones answered as `InvalidParameter`.
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| PathParams(value))
            .map_err(|e| ApiError::invalid_parameter(e.body_text()))
    }
}

/// Query parameters as strings, read with typed helpers that answer `InvalidParameter`.
pub struct QueryParams(pub HashMap<String, String>);

impl<S: Send + Sync> FromRequestParts<S> for QueryParams {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(map)| QueryParams(map))
            .map_err(|e| ApiError::invalid_parameter(e.body_text()))
    }
}

impl QueryParams {
    pub fn text(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(String::as_str)
    }

    /// An integer parameter within `range`, `default` when absent.
    pub fn integer(
        &self,
        key: &str,
        default: u64,
        range: std::ops::RangeInclusive<u64>,
    ) -> Result<u64, ApiError> {
        match self.text(key) {
            None | Some("") => Ok(default),
            Some(raw) => raw
                .parse::<u64>()
                .ok()
                .filter(|v| range.contains(v))
                .ok_or_else(|| {
                    ApiError::invalid_parameter(format!(
                        "The parameter {key}: {raw} is invalid, it must be an integer from {} to {}",
                        range.start(),
                        range.end()
                    ))
                }),
        }
    }

    /// `page_no` (≥ 1, default 1) and `page_size` (1..=`max_size`, default `default_size`).
    pub fn page(&self, default_size: u64, max_size: u64) -> Result<Page, ApiError> {
        Ok(Page {
            number: self.integer("page_no", 1, 1..=u64::from(u32::MAX))?,
            size: self.integer("page_size", default_size, 1..=max_size)?,
        })
    }
}

/// One page of a paged listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub number: u64,
    pub size: u64,
}

impl Page {
    /// The paged envelope the platform answers listings with:
    /// `{page_no, page_size, total, <key>: items}`.
    pub fn listing(&self, key: &str, total: usize, items: Vec<Value>) -> Value {
        let mut doc = Map::new();
        doc.insert("page_no".into(), self.number.into());
        doc.insert("page_size".into(), self.size.into());
        doc.insert("total".into(), total.into());
        doc.insert(key.into(), Value::Array(items));
        Value::Object(doc)
    }

    /// The items of this page.
    pub fn slice<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let start = (self.number - 1).saturating_mul(self.size);
        let start = usize::try_from(start)
            .unwrap_or(usize::MAX)
            .min(items.len());
        let end = start
            .saturating_add(usize::try_from(self.size).unwrap_or(usize::MAX))
            .min(items.len());
        &items[start..end]
    }
}

/// A JSON object request body. Any content type is accepted (clients forget it); invalid JSON,
/// non-objects and oversized bodies are `InvalidParameter`.
pub struct JsonObject(pub Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = Bytes::from_request(request, state).await.map_err(|e| {
            let status = e.status();
            ApiError {
                status,
                ..ApiError::invalid_parameter(e.body_text())
            }
        })?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(object)) => Ok(JsonObject(object)),
            Ok(_) => Err(ApiError::invalid_parameter(
                "The request body must be a JSON object.",
            )),
            Err(e) => Err(ApiError::invalid_parameter(format!(
                "The request body is not valid JSON: {e}"
            ))),
        }
    }
}

/// Typed reads of body fields, answering `InvalidParameter` in the platform's words.
pub trait BodyFields {
    fn required_str(&self, key: &str) -> Result<&str, ApiError>;
    fn optional_str(&self, key: &str) -> Result<Option<&str>, ApiError>;
    fn optional_bool(&self, key: &str) -> Result<Option<bool>, ApiError>;
    fn optional_int(&self, key: &str) -> Result<Option<i64>, ApiError>;
    fn optional_object(&self, key: &str) -> Result<Option<&Map<String, Value>>, ApiError>;
}

fn missing(key: &str) -> ApiError {
    ApiError::invalid_parameter(format!("Missing required parameter: {key}"))
}

fn wrong_type(key: &str, expected: &str) -> ApiError {
    ApiError::invalid_parameter(format!("The parameter {key} must be {expected}"))
}

impl BodyFields for Map<String, Value> {
    fn required_str(&self, key: &str) -> Result<&str, ApiError> {
        self.optional_str(key)?
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| missing(key))
    }

    fn optional_str(&self, key: &str) -> Result<Option<&str>, ApiError> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(wrong_type(key, "a string")),
        }
    }

    fn optional_bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(wrong_type(key, "a boolean")),
        }
    }

    fn optional_int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_i64()
                .map(Some)
                .ok_or_else(|| wrong_type(key, "an integer")),
        }
    }

    fn optional_object(&self, key: &str) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(_) => Err(wrong_type(key, "a JSON object")),
        }
    }
}

/// Before an API request looks at the state: the data checks of jobs due by now are done
/// (waited for without holding the state lock or a thread), so that jobs start on time.
async fn settle_data_checks(
    axum::extract::State(shared): axum::extract::State<Arc<Shared>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    shared.store.settle().await;
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_slice_without_overflow() {
        let items: Vec<u32> = (1..=25).collect();
        let page = |number, size| Page { number, size };
        assert_eq!(page(1, 10).slice(&items), &items[..10]);
        assert_eq!(page(3, 10).slice(&items), &items[20..]);
        assert!(page(4, 10).slice(&items).is_empty());
        assert!(page(u64::MAX, u64::MAX).slice(&items).is_empty());
    }

    #[test]
    fn query_integers_are_range_checked() {
        let params = QueryParams(HashMap::from([
            ("page_no".to_owned(), "0".to_owned()),
            ("page_size".to_owned(), "5".to_owned()),
        ]));
        let err = params.page(10, 100).expect_err("page_no 0");
        assert!(
            err.message.contains("page_no: 0 is invalid"),
            "{}",
            err.message
        );
        assert_eq!(params.integer("page_size", 10, 1..=100), Ok(5));
        assert_eq!(params.integer("absent", 7, 1..=100), Ok(7));
    }
}
