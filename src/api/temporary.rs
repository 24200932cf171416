//! Temporary uploads of generation inputs (spec §8.7), as the official clients make them:
//! `GET /api/v1/uploads?action=getPolicy&model=M` answers a signed POST policy for the region's
//! storage; the file goes there as an OSS form (no API key: the policy is the credential); the
//! call then names it `oss://<key>` and sends `X-DashScope-OssResourceResolve: enable`
//! ([`super::generation::OSS_RESOLVE_HEADER`]). The object resolves for 48 hours.

use reqwest::multipart::{Form, Part};
use reqwest::{Method, Url};
use serde::Deserialize;

use super::client::Client;
use super::error::ApiError;
use super::images::LocalImage;
use super::retry;

const UPLOADS: [&str; 3] = ["api", "v1", "uploads"];

/// The signed policy of `getPolicy` (field names as the platform sends them).
#[derive(Debug, Clone, Deserialize)]
struct Policy {
    policy: String,
    signature: String,
    upload_dir: String,
    upload_host: String,
    oss_access_key_id: String,
    #[serde(default = "private_acl")]
    x_oss_object_acl: String,
    #[serde(default = "forbid_overwrite")]
    x_oss_forbid_overwrite: String,
    #[serde(default)]
    max_file_size_mb: Option<u64>,
}

fn private_acl() -> String {
    "private".into()
}

fn forbid_overwrite() -> String {
    "true".into()
}

/// Why a temporary upload failed: getting the policy (the platform may not offer one, and the
/// caller may fall back on inlining) or the upload itself.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    #[error("cannot get an upload policy: {0}")]
    Policy(ApiError),
    #[error("{0}")]
    Upload(ApiError),
}

impl From<UploadError> for ApiError {
    fn from(error: UploadError) -> Self {
        match error {
            UploadError::Policy(e) | UploadError::Upload(e) => e,
        }
    }
}

/// Uploads `image` for a call to `model` and returns its `oss://` URL.
pub async fn upload(
    client: &Client,
    model: &str,
    image: &LocalImage,
) -> Result<String, UploadError> {
    let query = [
        ("action", "getPolicy".to_owned()),
        ("model", model.to_owned()),
    ];
    let policy: Policy = client
        .get_output(&UPLOADS, &query)
        .await
        .map_err(UploadError::Policy)?;
    let invalid = |why: String| UploadError::Upload(ApiError::Invalid(why));
    if let Some(mb) = policy.max_file_size_mb
        && image.bytes.len() as u64 > mb.saturating_mul(1 << 20)
    {
        return Err(invalid(format!(
            "{} is {} bytes; temporary uploads take at most {mb} MB",
            image.file_name,
            image.bytes.len()
        )));
    }
    let host = Url::parse(&policy.upload_host)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| invalid("the upload policy names no http(s) upload host".into()))?;
    let key = format!(
        "{}/{}",
        policy.upload_dir.trim_end_matches('/'),
        object_name(&image.file_name, image.mime())
    );
    let operation = format!("POST {}", host.path());
    retry::run(client.retry_policy(), client.observer(), &operation, |_| {
        let form = Form::new()
            .text("OSSAccessKeyId", policy.oss_access_key_id.clone())
            .text("Signature", policy.signature.clone())
            .text("policy", policy.policy.clone())
            .text("key", key.clone())
            .text("x-oss-object-acl", policy.x_oss_object_acl.clone())
            .text(
                "x-oss-forbid-overwrite",
                policy.x_oss_forbid_overwrite.clone(),
            )
            .text("success_action_status", "200")
            .text("x-oss-content-type", image.mime());
        let part = Part::bytes(image.bytes.clone())
            .file_name(object_name(&image.file_name, image.mime()))
            .mime_str(image.mime())
            .expect("a valid MIME type");
        // The policy is the credential: the API key never goes to the storage host.
        let request = client
            .unauthenticated(Method::POST, host.clone())
            .timeout(client.timeout())
            .multipart(form.part("file", part));
        let host = host.clone();
        async move { client.exchange(&Method::POST, &host, request).await }
    })
    .await
    .map_err(UploadError::Upload)?;
    Ok(format!("oss://{key}"))
}

/// A safe object name from a file name: ASCII letters, digits, `.`, `_`, `-`.
fn object_name(file_name: &str, mime: &str) -> String {
    let cleaned: String = file_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.');
    if cleaned.is_empty() {
        let extension = mime.rsplit('/').next().unwrap_or("bin");
        format!("image.{extension}")
    } else {
        cleaned.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_safe() {
        assert_eq!(
            object_name("frame 1 (a).png", "image/png"),
            "frame_1__a_.png"
        );
        assert_eq!(object_name("图.jpg", "image/jpeg"), "_.jpg");
        assert_eq!(object_name("..", "image/jpeg"), "image.jpeg");
        assert_eq!(object_name("../x.png", "image/png"), "_x.png");
    }
}
