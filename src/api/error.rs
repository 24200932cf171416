//! Errors of the API client: what the platform answered, or why no answer came.
//!
//! Every message is built from strings the client has already scrubbed of the API key (see
//! [`Secret::redact`](super::secret::Secret::redact)); no variant holds a request, its headers or
//! a `reqwest::Error`, so neither `Display` nor `Debug` can print the key.

use std::fmt;
use std::time::Duration;

use serde_json::Value;

use super::jobs::JobQuota;
use super::secret::KeyError;
use crate::models::Region;

/// A request the platform refused with a non-2xx status (spec §7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpFailure {
    /// `GET`, `POST`…
    pub method: String,
    /// Path of the call, relative to the host, without the query.
    pub path: String,
    pub region: Region,
    pub status: u16,
    /// Platform error code (`InvalidApiKey`, `Throttling.RateQuota`…), from either error shape.
    pub code: Option<String>,
    pub message: Option<String>,
    pub request_id: Option<String>,
    /// `Retry-After`, when the server sent one.
    pub retry_after: Option<Duration>,
}

impl fmt::Display for HttpFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: HTTP {}", self.method, self.path, self.status)?;
        if let Some(code) = &self.code {
            write!(f, " {code}")?;
        }
        if let Some(message) = &self.message {
            write!(f, ": {message}")?;
        }
        if let Some(id) = &self.request_id {
            write!(f, " (request id {id})")?;
        }
        Ok(())
    }
}

/// The job quota is used up: the platform refused a create with 429 `Throttling`, or the check
/// before spending found every slot taken (spec §8.2).
#[derive(Debug, Clone)]
pub struct JobQuotaFull {
    /// The platform's refusal; `None` when the check before spending found the quota full.
    pub refusal: Option<HttpFailure>,
    /// The jobs that count, oldest first; `None` when they could not be listed.
    pub quota: Option<JobQuota>,
}

impl fmt::Display for JobQuotaFull {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.quota {
            Some(quota) => write!(
                f,
                "job quota reached: {} jobs are running or succeeded, and the account allows {}",
                quota.counted.len(),
                quota.limit
            )?,
            None => write!(
                f,
                "job quota reached: the account allows {} running or succeeded jobs",
                crate::models::JOB_QUOTA
            )?,
        }
        if let Some(refusal) = &self.refusal {
            write!(f, " ({refusal})")?;
        }
        if let Some(quota) = &self.quota {
            for job in &quota.counted {
                write!(
                    f,
                    "\n  {}  {:<9}  {}  {}",
                    job.job_id,
                    job.status.as_str(),
                    job.model.as_deref().unwrap_or("-"),
                    job.create_time.as_deref().unwrap_or("-")
                )?;
            }
        }
        Ok(())
    }
}

impl JobQuotaFull {
    fn hint(&self) -> String {
        let finished: Vec<&str> = self
            .quota
            .iter()
            .flat_map(|q| &q.counted)
            .filter(|j| j.status.is_terminal())
            .map(|j| j.job_id.as_str())
            .collect();
        let example = match finished.first() {
            Some(oldest) => format!(", oldest first (`wanft jobs delete {oldest}`)"),
            None => String::new(),
        };
        format!(
            "a quota, not a rate limit: waiting does not lift it. Delete succeeded jobs whose \
             models you no longer need{example}; running and queued jobs count until they end \
             (`wanft jobs cancel` stops one, billing the tokens used so far)"
        )
    }
}

/// How far a request got before its connection failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// No connection was made: nothing reached the server.
    Connect,
    /// The request may have reached the server; no (complete) answer came back.
    Exchange,
    /// No answer within the time limit; the request may have reached the server.
    Timeout,
}

/// Everything that can go wrong in a call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Http(Box<HttpFailure>),
    /// The account's job quota is used up (spec §8.2): its own error, since waiting does not
    /// lift it and the remedy is deleting jobs.
    #[error("{0}")]
    JobQuota(Box<JobQuotaFull>),
    #[error("{operation}: {detail}")]
    Transport {
        operation: String,
        stage: Stage,
        detail: String,
    },
    #[error(
        "{operation}: no bytes accepted for {} s ({sent} of {total} bytes sent)",
        idle.as_secs()
    )]
    Stalled {
        operation: String,
        idle: Duration,
        sent: u64,
        total: u64,
    },
    /// A per-file failure inside a 200 answer (Beijing's `failed_uploads`, spec §6.2).
    #[error("upload of {name} refused: {code}: {message}")]
    UploadRefused {
        name: String,
        code: String,
        message: String,
    },
    #[error("{operation}: unexpected answer: {detail}")]
    Decode { operation: String, detail: String },
    #[error(
        "uploaded file {file_id} holds {remote} bytes on the server, but the local file has {local}"
    )]
    SizeMismatch {
        file_id: String,
        local: u64,
        remote: u64,
    },
    /// A create call failed in a way that leaves its outcome unknown, and the resource cannot be
    /// looked up, so it is not sent again.
    #[error("{operation}: the request may have been accepted ({detail}); not sent again")]
    Ambiguous { operation: String, detail: String },
    #[error("{context}: {source}")]
    Local {
        context: String,
        source: std::io::Error,
    },
    /// Refused locally, before anything was sent.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Key(#[from] KeyError),
}

impl ApiError {
    pub(crate) fn decode(operation: impl Into<String>, detail: impl fmt::Display) -> ApiError {
        ApiError::Decode {
            operation: operation.into(),
            detail: detail.to_string(),
        }
    }

    pub(crate) fn local(context: impl Into<String>, source: std::io::Error) -> ApiError {
        ApiError::Local {
            context: context.into(),
            source,
        }
    }

    /// The HTTP failure, when the platform answered with an error status.
    pub fn http(&self) -> Option<&HttpFailure> {
        match self {
            ApiError::Http(failure) => Some(failure),
            ApiError::JobQuota(full) => full.refusal.as_ref(),
            _ => None,
        }
    }

    /// The platform's error code, when there is one.
    pub fn code(&self) -> Option<&str> {
        match self {
            ApiError::Http(failure) => failure.code.as_deref(),
            ApiError::JobQuota(_) => Some("Throttling"),
            ApiError::UploadRefused { code, .. } => Some(code),
            _ => None,
        }
    }

    /// True for a 404: the resource does not exist (or not in this region).
    pub fn is_not_found(&self) -> bool {
        self.http().is_some_and(|f| f.status == 404)
    }

    /// What the user can do about it, when wanft knows.
    pub fn hint(&self) -> Option<String> {
        match self {
            ApiError::Http(failure) => http_hint(failure),
            ApiError::JobQuota(full) => Some(full.hint()),
            ApiError::UploadRefused { code, .. } => code_hint(code, None),
            ApiError::Transport {
                stage: Stage::Connect,
                ..
            } => Some("check the network, --region and --base-url".into()),
            ApiError::Stalled { .. } => Some(
                "the network stopped moving data; try again, or raise --stall-timeout on a slow link"
                    .into(),
            ),
            ApiError::SizeMismatch { file_id, .. } => Some(format!(
                "the upload is damaged: delete it with `wanft files delete {file_id}` and upload again"
            )),
            ApiError::Ambiguous { .. } => Some(
                "list what exists before trying again, so that nothing is created (or billed) twice"
                    .into(),
            ),
            _ => None,
        }
    }
}

/// Paths of the management APIs that the 2026 Chinese pages call Beijing-only (spec §8.4).
const MANAGEMENT_PATHS: [&str; 2] = ["/api/v1/fine-tunes", "/api/v1/deployments"];

/// A 403/404 from a management call in Singapore may mean "console only" (spec §8.4).
fn console_only_hint(failure: &HttpFailure) -> Option<String> {
    let management = MANAGEMENT_PATHS
        .iter()
        .any(|p| failure.path.ends_with(p) || failure.path.contains(&format!("{p}/")));
    (failure.region == Region::ApSoutheast1 && matches!(failure.status, 403 | 404) && management)
        .then(|| {
            format!(
                "this call may be console-only in {}: the 2026 documentation opens job, \
                 checkpoint and deployment management in Beijing only, so manage them in the \
                 Model Studio console there; or the id does not exist in this region",
                failure.region
            )
        })
}

fn http_hint(failure: &HttpFailure) -> Option<String> {
    if let Some(hint) = console_only_hint(failure) {
        return Some(hint);
    }
    if let Some(hint) = failure
        .code
        .as_deref()
        .and_then(|code| code_hint(code, Some(failure.region)))
    {
        return Some(hint);
    }
    match failure.status {
        401 => code_hint("InvalidApiKey", Some(failure.region)),
        404 => code_hint("NotFound", Some(failure.region)),
        500..=599 => code_hint("InternalError", Some(failure.region)),
        _ => None,
    }
}

/// Advice for the error codes of spec §7.2.
fn code_hint(code: &str, region: Option<Region>) -> Option<String> {
    let in_region = region.map(|r| format!(" ({r})")).unwrap_or_default();
    let hint = match code {
        "InvalidApiKey" => format!(
            "key and region do not match: keys are bound to one region{in_region}; check {} and --region",
            super::secret::KEY_ENV
        ),
        "Throttling" => "creation quota reached: delete unused jobs (`wanft jobs delete`) or \
                         deployed models (`wanft deploy delete`)"
            .into(),
        "Throttling.RateQuota" | "Throttling.AllocationQuota" => {
            "request rate limit: wait a moment and run the command again".into()
        }
        "Arrearage" => {
            "the account has an overdue payment: settle it in the Alibaba Cloud console".into()
        }
        "AccessDenied" => "the key has no permission, or the model is not activated for \
                           this account"
            .into(),
        "NotFound" | "ModelNotFound" => format!(
            "it does not exist{in_region}: ids are bound to the region they were created in"
        ),
        "Conflict" => "a deployment of this model already exists: see `wanft deploy list`".into(),
        "BadRequest.TooLarge" | "BadRequest.TooMany" => {
            "the file storage quota is used up: delete files with `wanft files delete`".into()
        }
        "InternalError" => {
            "a fault on the platform's side: try again later, and quote the request id if it persists"
                .into()
        }
        "UnsupportedOperation" => {
            "the resource's current state does not allow this; look at its status first".into()
        }
        _ => return None,
    };
    Some(hint)
}

/// Longest code, message or request id kept from an error body: a server may send anything.
const MAX_ERROR_FIELD_CHARS: usize = 1000;
/// Longest non-JSON error body kept as the message (an HTML error page).
const MAX_ERROR_PAGE_CHARS: usize = 200;

/// `code`, `message` and `request_id` of an error body in either shape of spec §7.1: native
/// `{"request_id","code","message"}` or OpenAI `{"error":{"message","type","code"}}`.
pub(crate) fn parse_error_body(body: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let Ok(Value::Object(object)) = serde_json::from_slice::<Value>(body) else {
        let text = String::from_utf8_lossy(body);
        let text = text.trim();
        let message = (!text.is_empty()).then(|| shorten(text, MAX_ERROR_PAGE_CHARS));
        return (None, message, None);
    };
    let text = |v: Option<&Value>| match v {
        Some(Value::String(s)) if !s.is_empty() => Some(shorten(s, MAX_ERROR_FIELD_CHARS)),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let request_id = text(object.get("request_id"));
    let nested = object.get("error").and_then(Value::as_object);
    let code = text(object.get("code"))
        .or_else(|| nested.and_then(|e| text(e.get("code")).or_else(|| text(e.get("type")))));
    let message =
        text(object.get("message")).or_else(|| nested.and_then(|e| text(e.get("message"))));
    (code, message, request_id)
}

/// `text` cut to at most `max` characters, marked with `…` when cut.
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(status: u16, code: Option<&str>) -> ApiError {
        ApiError::Http(Box::new(HttpFailure {
            method: "GET".into(),
            path: "/api/v1/fine-tunes".into(),
            region: Region::ApSoutheast1,
            status,
            code: code.map(str::to_owned),
            message: Some("Invalid API-key provided.".into()),
            request_id: Some("req-1".into()),
            retry_after: None,
        }))
    }

    #[test]
    fn both_error_shapes_are_read() {
        let native =
            br#"{"request_id":"r1","code":"InvalidParameter","message":"File not found."}"#;
        assert_eq!(
            parse_error_body(native),
            (
                Some("InvalidParameter".into()),
                Some("File not found.".into()),
                Some("r1".into())
            )
        );
        let openai = br#"{"error":{"message":"Not found.","type":"not_found_error","param":null,"code":"NotFound"},"request_id":"r2"}"#;
        assert_eq!(
            parse_error_body(openai),
            (
                Some("NotFound".into()),
                Some("Not found.".into()),
                Some("r2".into())
            )
        );
        let untyped = br#"{"error":{"message":"busy","type":"server_error","code":null}}"#;
        assert_eq!(parse_error_body(untyped).0.as_deref(), Some("server_error"));
        assert_eq!(
            parse_error_body(b"<html>Bad Gateway</html>"),
            (None, Some("<html>Bad Gateway</html>".into()), None)
        );
        assert_eq!(parse_error_body(b""), (None, None, None));
    }

    #[test]
    fn display_carries_status_code_message_and_request_id() {
        let shown = failure(401, Some("InvalidApiKey")).to_string();
        assert_eq!(
            shown,
            "GET /api/v1/fine-tunes: HTTP 401 InvalidApiKey: Invalid API-key provided. (request id req-1)"
        );
    }

    #[test]
    fn hints_follow_the_code_then_the_status() {
        let hint = failure(401, Some("InvalidApiKey")).hint().unwrap();
        assert!(
            hint.contains("bound to one region (ap-southeast-1)"),
            "{hint}"
        );
        assert!(
            failure(401, None)
                .hint()
                .unwrap()
                .contains("key and region")
        );
        assert!(
            failure(429, Some("Throttling"))
                .hint()
                .unwrap()
                .contains("delete unused jobs")
        );
        assert!(
            failure(400, Some("Arrearage"))
                .hint()
                .unwrap()
                .contains("payment")
        );
        assert!(failure(503, None).hint().unwrap().contains("request id"));
        assert_eq!(failure(400, Some("InvalidParameter")).hint(), None);
        // Singapore management calls answered 403/404 may be console-only (§8.4).
        for status in [403, 404] {
            let hint = failure(status, Some("AccessDenied")).hint().unwrap();
            assert!(hint.contains("console-only in ap-southeast-1"), "{hint}");
        }
        let ApiError::Http(mut beijing) = failure(404, Some("NotFound")) else {
            unreachable!()
        };
        beijing.region = Region::CnBeijing;
        let hint = ApiError::Http(beijing.clone()).hint().unwrap();
        assert!(!hint.contains("console"), "{hint}");
        beijing.region = Region::ApSoutheast1;
        beijing.path = "/api/v1/services/aigc/video-generation/video-synthesis".into();
        let hint = ApiError::Http(beijing).hint().unwrap();
        assert!(
            !hint.contains("console"),
            "generation is not management: {hint}"
        );
    }

    #[test]
    fn shorten_counts_characters() {
        assert_eq!(shorten("héllo", 10), "héllo");
        assert_eq!(shorten("héllo", 2), "hé…");
    }
}
