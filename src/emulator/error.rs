//! Platform error bodies (spec §7) and the envelope middleware that gives every response its
//! `request_id`.
//!
//! Handlers return [`ApiError`]; it renders to an empty response carrying the error in its
//! extensions, and [`envelope`] — which knows the request id and whether the path is native or
//! compatible-mode — writes the body. That keeps one rendering for every error source (handlers,
//! auth, faults, rate limits).

use std::borrow::Cow;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Shared;

/// An error answered the way the platform answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Cow<'static, str>,
    pub message: String,
    /// Seconds for a `Retry-After` header (throttling).
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code: Cow::Borrowed(code),
            message: message.into(),
            retry_after: None,
        }
    }

    /// 400 `InvalidParameter`: a missing or invalid parameter.
    pub fn invalid_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidParameter", message)
    }

    /// 400 `UnsupportedOperation`: the resource's state forbids the operation.
    pub fn unsupported_operation(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "UnsupportedOperation", message)
    }

    /// 404 `NotFound` with the platform's exact message.
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", "Not found.")
    }

    /// 404 `ModelNotFound`: a generation call names no deployment.
    pub fn model_not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "ModelNotFound", "Model not exist.")
    }

    /// 409 `Conflict`.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, "Conflict", message)
    }

    /// 403 `AccessDenied`.
    pub fn access_denied(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "AccessDenied", message)
    }

    /// 401 `InvalidApiKey`. The message never repeats what was presented.
    pub fn invalid_api_key() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidApiKey",
            "Invalid API-key provided.",
        )
    }

    /// 500 `InternalError`.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "InternalError", message)
    }

    /// 429 with a `Retry-After` header.
    pub fn throttled(code: &'static str, message: impl Into<String>, retry_after: u64) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, code, message)
        }
    }
}

/// What [`envelope`] needs to write an error body.
#[derive(Debug, Clone)]
struct PendingErrorBody {
    code: Cow<'static, str>,
    message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status.into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(PendingErrorBody {
            code: self.code,
            message: self.message,
        });
        response
    }
}

/// The two families of endpoints differ in how they shape errors (spec §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorStyle {
    /// `{"request_id","code","message"}`.
    Native,
    /// OpenAI style: `{"error":{"message","type","param","code"}}` (plus `request_id`).
    Compatible,
}

impl ErrorStyle {
    pub fn for_path(path: &str) -> Self {
        if path.starts_with("/compatible-mode/") {
            ErrorStyle::Compatible
        } else {
            ErrorStyle::Native
        }
    }
}

/// The id of the request being served; every native response body carries it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(transparent)]
pub struct RequestId(pub String);

impl<S: Send + Sync> FromRequestParts<S> for RequestId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestId>()
            .cloned()
            .ok_or_else(|| ApiError::internal("request id missing: the envelope layer is absent"))
    }
}

/// Outermost middleware of the API: mints the request id, renders error bodies, and sends
/// the id as `x-request-id` (the OpenAI SDK reads it, spec §8.7) and the emulated time as
/// `Date` (clients judge expiry by the server's clock, which runs fast here).
pub async fn envelope(
    State(shared): State<Arc<Shared>>,
    mut request: Request,
    next: Next,
) -> Response {
    let request_id = RequestId(shared.mint_request_id());
    let style = ErrorStyle::for_path(request.uri().path());
    request.extensions_mut().insert(request_id.clone());
    let mut response = next.run(request).await;
    if let Some(error) = response.extensions_mut().remove::<PendingErrorBody>() {
        response = render_error(response, &request_id, style, error);
    }
    let headers = response.headers_mut();
    if let Ok(id) = HeaderValue::from_str(&request_id.0) {
        headers.insert(REQUEST_ID_HEADER, id);
    }
    if let Ok(date) = HeaderValue::from_str(&shared.store.now().http_date()) {
        headers.insert(header::DATE, date);
    }
    response
}

/// The response header that repeats the body's `request_id`.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

fn render_error(
    response: Response,
    request_id: &RequestId,
    style: ErrorStyle,
    error: PendingErrorBody,
) -> Response {
    let (mut parts, _) = response.into_parts();
    let body = match style {
        ErrorStyle::Native => json!({
            "request_id": request_id,
            "code": error.code,
            "message": error.message,
        }),
        ErrorStyle::Compatible => json!({
            "error": {
                "message": error.message,
                "type": openai_error_type(parts.status),
                "param": null,
                "code": error.code,
            },
            "request_id": request_id,
        }),
    };
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body.to_string()))
}

fn openai_error_type(status: StatusCode) -> &'static str {
    match status {
        StatusCode::UNAUTHORIZED => "authentication_error",
        StatusCode::FORBIDDEN => "permission_error",
        StatusCode::NOT_FOUND => "not_found_error",
        StatusCode::TOO_MANY_REQUESTS => "rate_limit_error",
        s if s.is_server_error() => "server_error",
        _ => "invalid_request_error",
    }
}
