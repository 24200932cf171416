//! Downloadable objects behind signed URLs, like the platform's OSS links: checkpoint preview
//! videos and images, generated videos, uploaded files.
//!
//! `GET /blobs/{path}?Expires=<unix s>&Signature=<hex>` needs no API key, as signed URLs do not;
//! the signature (SHA-256 over the account's secret, the path and the expiry) makes a link
//! unforgeable and stops it working once emulated time passes `Expires` (403 `AccessDenied`).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tokio_util::io::ReaderStream;

use super::Shared;
use super::clock::EmuTime;
use super::error::ApiError;

/// A real H.264 MP4 (128×72, 1 s, 30 fps) served for every generated or preview video.
pub const PREVIEW_MP4: &[u8] = include_bytes!("assets/preview.mp4");
/// A real JPEG (256×256) served for every preview first frame.
pub const PREVIEW_JPEG: &[u8] = include_bytes!("assets/frame.jpeg");

/// Signed links live 24 hours (spec §6.12, §6.20).
pub const LINK_LIFETIME: Duration = Duration::from_secs(24 * 3600);

fn signature(secret: &str, path: &str, expires: i64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(b"\n");
    hasher.update(path.as_bytes());
    hasher.update(b"\n");
    hasher.update(expires.to_string().as_bytes());
    hex::encode(&hasher.finalize()[..16])
}

/// A link to blob `path` (no leading slash) valid for [`LINK_LIFETIME`] from `now`.
pub fn signed_url(base: &str, secret: &str, path: &str, now: EmuTime) -> String {
    let expires = now.plus(LINK_LIFETIME).unix_seconds();
    let signature = signature(secret, path, expires);
    format!("{base}/blobs/{path}?Expires={expires}&Signature={signature}")
}

/// The scheme and authority links should use: the `Host` the client called, so that links work
/// through port forwarding, else the listening address.
pub fn public_base(headers: &HeaderMap, shared: &Shared) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()));
    match host {
        Some(host) => format!("http://{host}"),
        None => format!("http://{}", shared.local_addr),
    }
}

/// `GET /blobs/{*path}`.
pub async fn serve(
    State(shared): State<Arc<Shared>>,
    Path(path): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let (secret, now) = shared
        .store
        .read(|state, now| (state.db.account.blob_secret.clone(), now))?;
    let expires: i64 = query
        .get("Expires")
        .and_then(|e| e.parse().ok())
        .ok_or_else(|| ApiError::access_denied("The request is not signed."))?;
    let presented = query.get("Signature").map(String::as_str).unwrap_or("");
    if presented != signature(&secret, &path, expires) {
        return Err(ApiError::access_denied(
            "The request signature does not match.",
        ));
    }
    if now.unix_seconds() > expires {
        return Err(ApiError::access_denied("Request has expired."));
    }
    let segments: Vec<&str> = path.split('/').collect();
    match segments.as_slice() {
        ["files", file_id, _name] => serve_upload(&shared, file_id).await,
        [.., last] if last.ends_with(".mp4") => Ok(static_blob(PREVIEW_MP4, "video/mp4")),
        [.., last] if last.ends_with(".jpeg") => Ok(static_blob(PREVIEW_JPEG, "image/jpeg")),
        _ => Err(ApiError::not_found()),
    }
}

fn static_blob(bytes: &'static [u8], content_type: &'static str) -> Response {
    (
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        bytes,
    )
        .into_response()
}

/// Streams an uploaded file from disk.
async fn serve_upload(shared: &Shared, file_id: &str) -> Result<Response, ApiError> {
    let known = shared
        .store
        .read(|state, _| state.file(file_id).is_some())?;
    if !known {
        return Err(ApiError::not_found());
    }
    let file = tokio::fs::File::open(shared.store.blob_dir().join(file_id))
        .await
        .map_err(|_| ApiError::not_found())?;
    let length = file.metadata().await.map(|m| m.len()).ok();
    let mut response =
        Body::from_stream(ReaderStream::with_capacity(file, 256 * 1024)).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/octet-stream"),
    );
    if let Some(length) = length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_signed_per_path_and_expiry() {
        let now = EmuTime::from_millis(1_000_000);
        let url = signed_url("http://h", "s3cret", "tasks/t.mp4", now);
        let expires = now.plus(LINK_LIFETIME).unix_seconds();
        assert!(url.starts_with(&format!(
            "http://h/blobs/tasks/t.mp4?Expires={expires}&Signature="
        )));
        assert_ne!(
            signature("s3cret", "tasks/t.mp4", expires),
            signature("s3cret", "tasks/u.mp4", expires)
        );
        assert_ne!(
            signature("s3cret", "tasks/t.mp4", expires),
            signature("s3cret", "tasks/t.mp4", expires + 1)
        );
        assert_ne!(
            signature("s3cret", "tasks/t.mp4", expires),
            signature("other", "tasks/t.mp4", expires)
        );
    }

    #[test]
    fn assets_are_real_media() {
        assert_eq!(&PREVIEW_MP4[4..8], b"ftyp");
        assert!(PREVIEW_JPEG.starts_with(&[0xFF, 0xD8, 0xFF]));
    }
}
