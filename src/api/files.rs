//! Uploaded files in both APIs (spec §6.1–§6.4): Singapore's OpenAI-compatible one and
//! Beijing's native one, behind one [`RemoteFile`] record.

use chrono::DateTime;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{Call, Client};
use super::error::ApiError;
use crate::models::Region;

/// Which file API a region uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileApi {
    /// `/api/v1/files`, form field `files`, `data` envelope, UUID ids (Beijing).
    Native,
    /// `/compatible-mode/v1/files`, form field `file`, bare OpenAI objects (Singapore).
    Compatible,
}

impl FileApi {
    pub fn for_region(region: Region) -> FileApi {
        match region {
            Region::CnBeijing => FileApi::Native,
            Region::ApSoutheast1 => FileApi::Compatible,
        }
    }

    /// Path of the collection.
    pub(crate) fn collection(self) -> &'static [&'static str] {
        match self {
            FileApi::Native => &["api", "v1", "files"],
            FileApi::Compatible => &["compatible-mode", "v1", "files"],
        }
    }

    /// Name of the multipart field holding the file.
    pub(crate) fn file_field(self) -> &'static str {
        match self {
            FileApi::Native => "files",
            FileApi::Compatible => "file",
        }
    }
}

/// An uploaded file, whichever API described it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemoteFile {
    pub id: String,
    pub name: Option<String>,
    pub bytes: Option<u64>,
    pub purpose: Option<String>,
    /// Compatible mode: `processed` (ready) or `processing` (still being ingested).
    pub status: Option<String>,
    /// As the API wrote it (`gmt_create`), or Unix seconds (`created_at`) shown in UTC.
    pub created: Option<String>,
    /// Native only.
    pub md5: Option<String>,
    pub description: Option<String>,
}

impl RemoteFile {
    /// True while compatible mode is still ingesting the file.
    pub fn is_processing(&self) -> bool {
        self.status.as_deref() == Some("processing")
    }
}

/// The OpenAI file object (spec §6.1, §6.3).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct CompatibleFile {
    pub id: String,
    pub bytes: Option<u64>,
    pub filename: Option<String>,
    pub purpose: Option<String>,
    pub status: Option<String>,
    pub created_at: Option<Value>,
}

impl From<CompatibleFile> for RemoteFile {
    fn from(f: CompatibleFile) -> Self {
        RemoteFile {
            id: f.id,
            name: f.filename,
            bytes: f.bytes,
            purpose: f.purpose,
            status: f.status,
            created: f.created_at.as_ref().and_then(unix_seconds_text),
            md5: None,
            description: None,
        }
    }
}

/// Unix seconds as `2025-11-11 11:22:22 UTC`; any other value as written.
fn unix_seconds_text(value: &Value) -> Option<String> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .and_then(|s| DateTime::from_timestamp(s, 0))
            .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
            .or_else(|| Some(n.to_string())),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// The native file record (spec §6.4).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NativeFile {
    file_id: String,
    name: Option<String>,
    description: Option<String>,
    size: Option<u64>,
    md5: Option<String>,
    gmt_create: Option<String>,
    purpose: Option<String>,
}

impl From<NativeFile> for RemoteFile {
    fn from(f: NativeFile) -> Self {
        RemoteFile {
            id: f.file_id,
            name: f.name,
            bytes: f.size,
            purpose: f.purpose,
            status: None,
            created: f.gmt_create,
            md5: f.md5.filter(|m| !m.is_empty()),
            description: f.description.filter(|d| !d.is_empty()),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CompatibleListing {
    has_more: bool,
    data: Vec<CompatibleFile>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NativeListing {
    total: Option<u64>,
    files: Vec<NativeFile>,
}

/// Largest page each API serves.
const NATIVE_PAGE: usize = 100;
const COMPATIBLE_PAGE: usize = 2000;

fn path_of(api: FileApi, id: &str) -> Vec<&str> {
    let mut path = api.collection().to_vec();
    path.push(id);
    path
}

/// `GET …/files/{id}`.
pub async fn get_file(client: &Client, id: &str) -> Result<RemoteFile, ApiError> {
    let api = FileApi::for_region(client.region());
    let path = path_of(api, id);
    match api {
        FileApi::Native => client
            .get_data::<NativeFile>(&path, &[])
            .await
            .map(RemoteFile::from),
        FileApi::Compatible => client
            .repeatable::<CompatibleFile>(Call::new(&Method::GET, &path))
            .await
            .map(RemoteFile::from),
    }
}

/// The first `limit` files, in the API's order, walking its pages.
pub async fn list_files(client: &Client, limit: usize) -> Result<Vec<RemoteFile>, ApiError> {
    let api = FileApi::for_region(client.region());
    let mut files: Vec<RemoteFile> = Vec::new();
    match api {
        FileApi::Native => {
            for page in 1.. {
                let wanted = limit.saturating_sub(files.len()).min(NATIVE_PAGE);
                if wanted == 0 {
                    break;
                }
                let query = [
                    ("page_no", page.to_string()),
                    ("page_size", NATIVE_PAGE.to_string()),
                ];
                let listing: NativeListing = client.get_data(api.collection(), &query).await?;
                let got = listing.files.len();
                files.extend(listing.files.into_iter().take(wanted).map(RemoteFile::from));
                let seen = (page * NATIVE_PAGE) as u64;
                if got < NATIVE_PAGE || listing.total.is_some_and(|t| t <= seen) {
                    break;
                }
            }
        }
        FileApi::Compatible => loop {
            let wanted = limit.saturating_sub(files.len()).min(COMPATIBLE_PAGE);
            if wanted == 0 {
                break;
            }
            let mut query = vec![("limit", wanted.to_string())];
            if let Some(last) = files.last() {
                query.push(("after", last.id.clone()));
            }
            let call = Call::new(&Method::GET, api.collection()).query(&query);
            let listing: CompatibleListing = client.repeatable(call).await?;
            let empty = listing.data.is_empty();
            files.extend(listing.data.into_iter().map(RemoteFile::from));
            if !listing.has_more || empty {
                break;
            }
        },
    }
    files.truncate(limit);
    Ok(files)
}

/// `DELETE …/files/{id}`.
pub async fn delete_file(client: &Client, id: &str) -> Result<(), ApiError> {
    let api = FileApi::for_region(client.region());
    let path = path_of(api, id);
    // Native answers `{"request_id"}` only, compatible mode `{"deleted": true, …}`.
    let answer: Value = client.repeatable(Call::new(&Method::DELETE, &path)).await?;
    if answer.get("deleted") == Some(&Value::Bool(false)) {
        return Err(ApiError::decode(
            client.operation(&Method::DELETE, &path),
            "the server answered `deleted: false`",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_records_become_one_shape() {
        let compatible: CompatibleFile = serde_json::from_str(
            r#"{"id":"file-ft-1","object":"file","bytes":73310369,"filename":"t.zip",
                "purpose":"fine-tune","status":"processed","created_at":1766127125,"extra":1}"#,
        )
        .unwrap();
        let file = RemoteFile::from(compatible);
        assert_eq!(file.bytes, Some(73_310_369));
        assert_eq!(file.created.as_deref(), Some("2025-12-19 06:52:05 UTC"));
        assert!(!file.is_processing());

        let native: NativeFile = serde_json::from_str(
            r#"{"file_id":"3bff1ef7","name":"t.zip","size":12,"md5":"","gmt_create":"2025-11-11 11:22:22"}"#,
        )
        .unwrap();
        let file = RemoteFile::from(native);
        assert_eq!((file.id.as_str(), file.bytes), ("3bff1ef7", Some(12)));
        assert_eq!(file.md5, None, "an empty md5 is not yet computed");
        let sparse: CompatibleFile = serde_json::from_str(r#"{"id":"file-ft-2"}"#).unwrap();
        assert_eq!(RemoteFile::from(sparse).bytes, None);
    }
}
