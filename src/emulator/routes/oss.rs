//! Temporary uploads of generation inputs (spec §8.7), as the official SDKs perform them:
//!
//! 1. `GET /api/v1/uploads?action=getPolicy&model=M` (with the key) answers a signed POST
//!    policy: `upload_host`, `upload_dir`, `policy`, `signature`, `oss_access_key_id`, …;
//! 2. the file is POSTed as an OSS-style form (`OSSAccessKeyId`, `Signature`, `policy`, `key`,
//!    …, then `file`) to `upload_host`, here `POST /oss` on the emulator, with no key;
//! 3. the call references it as `oss://<key>` and sends `X-DashScope-OssResourceResolve:
//!    enable`; the synthesis endpoints resolve it ([`resolve`]) for 48 hours.
//!
//! The policy is signed with the account's secret (SHA-256, an emulator convention; OSS uses
//! HMAC-SHA1): a form whose policy, signature, key prefix, expiry or size does not hold is
//! refused with an OSS-style XML error, like the real storage.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::multipart::Multipart;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::{QueryParams, output};
use crate::emulator::Shared;
use crate::emulator::blobs::public_base;
use crate::emulator::clock::EmuTime;
use crate::emulator::error::{ApiError, RequestId};
use crate::emulator::state::OssObject;

/// The bucket every temporary upload lands in (as on the platform).
const BUCKET: &str = "dashscope-instant";
/// A policy may be used this long after it was handed out.
const POLICY_LIFETIME: Duration = Duration::from_secs(300);
/// Uploaded objects resolve this long (spec §8.7: 48 h).
pub const OBJECT_LIFETIME: Duration = Duration::from_secs(48 * 3600);
/// Largest temporary upload, in MB (the largest input image is 20 MB).
const MAX_FILE_MB: u64 = 25;
/// The header without which `oss://` inputs are not resolved.
pub const RESOLVE_HEADER: &str = "x-dashscope-ossresourceresolve";
/// Longest form text field (policies are a few hundred bytes).
const MAX_FIELD_BYTES: usize = 16 * 1024;
/// Body limit of the upload route: the largest file plus the form around it.
pub const UPLOAD_BODY_LIMIT: usize = (MAX_FILE_MB as usize + 1) << 20;

fn sign(secret: &str, policy: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(b"\noss-policy\n");
    hasher.update(policy.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&hasher.finalize()[..20])
}

fn access_key_id(secret: &str) -> String {
    let digest = Sha256::digest(format!("{secret}\naccess-key").as_bytes());
    format!("LTAI5t{}", &hex::encode(digest)[..18])
}

/// `GET /api/v1/uploads?action=getPolicy&model=…`.
pub async fn get_policy(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    headers: HeaderMap,
    params: QueryParams,
) -> Result<Response, ApiError> {
    if params.text("action") != Some("getPolicy") {
        return Err(ApiError::invalid_parameter(
            "The parameter action must be getPolicy",
        ));
    }
    let model = params
        .text("model")
        .filter(|m| !m.trim().is_empty())
        .ok_or_else(|| ApiError::invalid_parameter("Missing required parameter: model"))?;
    let base = public_base(&headers, &shared);
    let (secret, upload_dir, now) = shared.store.write(|state, now| {
        let unique = state.new_uuid();
        let dir = format!(
            "{BUCKET}/{}/{}/{unique}",
            state.db.account.workspace_id,
            now.id_stamp(),
        );
        Ok((state.db.account.blob_secret.clone(), dir, now))
    })?;
    let expiration = now.plus(POLICY_LIFETIME);
    let document = json!({
        "expiration": expiration.iso_millis(),
        "conditions": [
            ["starts-with", "$key", format!("{upload_dir}/")],
            ["content-length-range", 0, MAX_FILE_MB << 20],
        ],
        "model": model,
    });
    let policy = base64::engine::general_purpose::STANDARD.encode(document.to_string());
    Ok(output(
        &request_id,
        json!({
            "policy": policy,
            "signature": sign(&secret, &policy),
            "upload_dir": upload_dir,
            "upload_host": format!("{base}/oss"),
            "expire_in_seconds": POLICY_LIFETIME.as_secs(),
            "max_file_size_mb": MAX_FILE_MB,
            "capacity_limit_mb": 999_999_999,
            "oss_access_key_id": access_key_id(&secret),
            "x_oss_object_acl": "private",
            "x_oss_forbid_overwrite": "true",
        }),
    ))
}

/// An OSS-style refusal, answered as XML.
#[derive(Debug)]
struct OssRefusal {
    status: StatusCode,
    code: &'static str,
    message: String,
}

fn oss_error(status: StatusCode, code: &'static str, message: &str) -> OssRefusal {
    OssRefusal {
        status,
        code,
        message: message.to_owned(),
    }
}

impl IntoResponse for OssRefusal {
    fn into_response(self) -> Response {
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error>\n  <Code>{}</Code>\n  \
             <Message>{}</Message>\n</Error>\n",
            self.code, self.message
        );
        (
            self.status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/xml"),
            )],
            body,
        )
            .into_response()
    }
}

/// The form of one upload, as received.
#[derive(Default)]
struct Form {
    access_key_id: Option<String>,
    signature: Option<String>,
    policy: Option<String>,
    key: Option<String>,
    forbid_overwrite: bool,
    content_type: Option<String>,
    file: Option<Bytes>,
}

async fn read_form(mut multipart: Multipart) -> Result<Form, OssRefusal> {
    let bad = |message: &str| oss_error(StatusCode::BAD_REQUEST, "InvalidArgument", message);
    let mut form = Form::default();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => return Ok(form),
            Err(e) => return Err(bad(&format!("The form is malformed: {}", e.body_text()))),
        };
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            // OSS ignores fields after the file.
            let bytes = field.bytes().await.map_err(|e| {
                oss_error(StatusCode::BAD_REQUEST, "InvalidArgument", &e.body_text())
            })?;
            form.file = Some(bytes);
            return Ok(form);
        }
        let value = field
            .bytes()
            .await
            .map_err(|e| bad(&e.body_text()))
            .and_then(|b| {
                if b.len() > MAX_FIELD_BYTES {
                    return Err(bad(&format!("The form field {name} is too long.")));
                }
                String::from_utf8(b.to_vec()).map_err(|_| bad("A form field is not UTF-8."))
            })?;
        match name.to_ascii_lowercase().as_str() {
            "ossaccesskeyid" => form.access_key_id = Some(value),
            "signature" => form.signature = Some(value),
            "policy" => form.policy = Some(value),
            "key" => form.key = Some(value),
            "x-oss-forbid-overwrite" => form.forbid_overwrite = value.eq_ignore_ascii_case("true"),
            "x-oss-content-type" | "content-type" => form.content_type = Some(value),
            _ => {}
        }
    }
}

/// `POST /oss`: stores the file of a signed form under its key.
pub async fn upload(State(shared): State<Arc<Shared>>, multipart: Multipart) -> Response {
    let form = match read_form(multipart).await {
        Ok(form) => form,
        Err(refusal) => return refusal.into_response(),
    };
    match store(&shared, form).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(refusal) => refusal.into_response(),
    }
}

async fn store(shared: &Shared, form: Form) -> Result<(), OssRefusal> {
    let denied = |message: &str| oss_error(StatusCode::FORBIDDEN, "AccessDenied", message);
    let (Some(access_key_id), Some(signature), Some(policy), Some(key), Some(file)) = (
        form.access_key_id,
        form.signature,
        form.policy,
        form.key,
        form.file,
    ) else {
        return Err(oss_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgument",
            "The form needs OSSAccessKeyId, Signature, policy, key and file.",
        ));
    };
    let secret = shared
        .store
        .read(|state, _| state.db.account.blob_secret.clone())
        .map_err(|_| denied("The account is not available."))?;
    if access_key_id != self::access_key_id(&secret) {
        return Err(denied("The OSS Access Key Id you provided does not exist."));
    }
    if signature != sign(&secret, &policy) {
        return Err(denied(
            "The request signature we calculated does not match the signature you provided.",
        ));
    }
    let document: Value = base64::engine::general_purpose::STANDARD
        .decode(policy.as_bytes())
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| denied("The policy is not valid."))?;
    let prefix = document["conditions"][0][2].as_str().unwrap_or_default();
    let max = document["conditions"][1][2].as_u64().unwrap_or(0);
    let expiration = document["expiration"].as_str().unwrap_or_default();
    if prefix.is_empty() || !key.starts_with(prefix) || key.len() == prefix.len() {
        return Err(denied(
            "Invalid according to Policy: Policy Condition failed: [\"starts-with\", \"$key\"]",
        ));
    }
    if key.contains("..") || key.contains('\\') || key.chars().any(char::is_control) {
        return Err(oss_error(
            StatusCode::BAD_REQUEST,
            "InvalidObjectName",
            "The specified object name is not valid.",
        ));
    }
    if file.len() as u64 > max {
        return Err(oss_error(
            StatusCode::BAD_REQUEST,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size.",
        ));
    }
    // Written beside its place outside the state lock, renamed into place under it.
    let path = shared.store.blob_dir().join(OssObject::blob_name(&key));
    let staged = tempfile::NamedTempFile::new_in(shared.store.blob_dir())
        .and_then(|mut temp| {
            std::io::Write::write_all(&mut temp, &file)?;
            Ok(temp)
        })
        .map_err(|e| {
            oss_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                &format!("cannot store the object: {e}"),
            )
        })?;
    let written = shared.store.write(|state, now| {
        if now.iso_millis().as_str() > expiration {
            return Ok(Err(denied("Invalid according to Policy: Policy expired.")));
        }
        if form.forbid_overwrite && state.oss_object(&key, now).is_some() {
            return Ok(Err(oss_error(
                StatusCode::CONFLICT,
                "FileAlreadyExists",
                "The object you specified already exists and can not be overwritten.",
            )));
        }
        if let Err(e) = staged.persist(&path) {
            return Err(ApiError::internal(format!("cannot store the object: {e}")));
        }
        state.db.oss_objects.retain(|o| o.key != key);
        state.db.oss_objects.push(OssObject {
            key: key.clone(),
            bytes: file.len() as u64,
            content_type: form.content_type.clone(),
            uploaded: now,
            resolved_by: Vec::new(),
        });
        Ok(Ok(()))
    });
    match written {
        Ok(result) => result,
        Err(e) => Err(oss_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            &e.message,
        )),
    }
}

/// The bytes behind `oss://<key>` for a synthesis input, at most `max_bytes`: an object
/// uploaded through a policy of this account less than 48 hours ago.
pub fn resolve(
    shared: &Shared,
    key: &str,
    max_bytes: u64,
    now: EmuTime,
) -> Result<Vec<u8>, String> {
    let known = shared
        .store
        .read(|state, _| state.oss_object(key, now).map(|o| o.bytes))
        .map_err(|e| e.message)?;
    let Some(size) = known else {
        return Err(format!(
            "cannot be resolved: oss://{key} was not uploaded here, or is older than 48 hours"
        ));
    };
    if size > max_bytes {
        return Err(format!("holds an image larger than {max_bytes} bytes"));
    }
    std::fs::read(shared.store.blob_dir().join(OssObject::blob_name(key)))
        .map_err(|e| format!("cannot be read: {e}"))
}

/// Lists the temporary uploads and the tasks that resolved them (`GET /__emulator/oss`), so
/// tests can see which inputs a call really used.
pub async fn list_objects(State(shared): State<Arc<Shared>>) -> Result<Response, ApiError> {
    let objects = shared.store.read(|state, _| {
        state
            .db
            .oss_objects
            .iter()
            .map(|o| {
                json!({
                    "url": format!("oss://{}", o.key),
                    "bytes": o.bytes,
                    "content_type": o.content_type,
                    "resolved_by": o.resolved_by,
                })
            })
            .collect::<Vec<Value>>()
    })?;
    Ok(axum::Json(json!({ "objects": objects })).into_response())
}
