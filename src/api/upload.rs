//! Uploading a dataset zip once: the ledger skips a zip already uploaded to the same region and
//! host, and the zip's SHA-256 is found the cheapest way that is still sound.
//!
//! Where the digest comes from, cheapest first: `wanft pack`'s manifest beside the zip; the
//! ledger's record of this very file (same path, size and mtime); hashing the file before the
//! upload, done only when the ledger holds a file of the same size (otherwise no match is
//! possible); else hashing while uploading, in the same read.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use super::client::Client;
use super::error::ApiError;
use super::files;
use super::ledger::{Ledger, LedgerEntry, SourceStamp};
use super::multipart::{self, SendOptions};
use super::transfer::{self, Limits, Meter};
use super::zip_digest;
use crate::lock::{self, FileLock, Mode as LockMode};
use crate::models::Region;
use crate::progress::Progress;

/// What to upload, and how.
pub struct ZipUpload<'a> {
    pub path: &'a Path,
    /// Upload even when the ledger says the zip is already there.
    pub force: bool,
    /// The ledger to consult and update; `None` to do without.
    pub ledger: Option<&'a mut Ledger>,
    pub stall_timeout: Duration,
    pub progress: &'a dyn Progress,
}

/// Where the zip's SHA-256 came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DigestSource {
    PackManifest,
    Ledger,
    /// Hashed before uploading, to look the zip up in the ledger.
    Hashed,
    /// Hashed in the same read as the upload.
    WhileUploading,
}

/// The outcome of [`upload_zip`].
#[derive(Debug, Clone, Serialize)]
pub struct UploadReport {
    pub id: String,
    pub file_name: String,
    pub bytes: u64,
    pub sha256: String,
    pub region: Region,
    pub base_url: String,
    /// True when the ledger's earlier upload was reused and nothing was sent.
    pub reused: bool,
    pub digest_source: DigestSource,
    /// Things the user should know (a damaged ledger, a remembered file gone from the server).
    #[serde(skip)]
    pub notes: Vec<String>,
}

/// A SHA-256 and where it came from; `verified` once it is known to be the file's.
struct Known {
    sha256: String,
    source: DigestSource,
    verified: bool,
}

/// Uploads the zip at `request.path` unless the ledger shows it is already there.
///
/// While it runs, the zip's lock is held shared (a `wanft pack` of that zip waits, so the zip
/// cannot change between hashing and sending), and the ledger's turn for zips of its size is
/// held (a concurrent upload of the same zip waits, then finds this one's entry).
pub async fn upload_zip(client: &Client, request: ZipUpload<'_>) -> Result<UploadReport, ApiError> {
    let ZipUpload {
        path,
        force,
        mut ledger,
        stall_timeout,
        progress,
    } = request;
    let locked = |e| ApiError::local(format!("cannot lock {}", path.display()), e);
    let _zip_lock = FileLock::acquire_async(&lock::path_for(path), LockMode::Shared, || {
        progress.begin("waiting for the wanft pack writing this zip", 0);
    })
    .await
    .map_err(locked)?;
    let stamp = SourceStamp::of(path)
        .map_err(|e| ApiError::local(format!("cannot read {}", path.display()), e))?;
    let _turn = match ledger.as_deref_mut() {
        Some(ledger) => {
            let turn = ledger
                .upload_turn(stamp.bytes, || {
                    progress.begin("waiting for another upload of this zip", 0)
                })
                .await
                .map_err(locked)?;
            ledger.reload();
            Some(turn)
        }
        None => None,
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let region = client.region();
    let base_url = client.base_url();
    let mut notes = Vec::new();

    // The pack manifest's digest is a claim until the file's own bytes confirm it; the ledger's
    // record of this very file (path, size, modification time) is taken as it is.
    let claimed = match zip_digest::from_pack_manifest(path) {
        Ok(claim) => claim,
        Err(why) => {
            notes.push(format!(
                "ignoring the pack manifest {}: {why}",
                crate::pack::manifest::path_for(path).display()
            ));
            None
        }
    };
    let mut digest = claimed
        .map(|sha256| Known {
            sha256,
            source: DigestSource::PackManifest,
            verified: false,
        })
        .or_else(|| {
            let known = ledger.as_deref()?.known_hash(&stamp)?;
            Some(Known {
                sha256: known.to_owned(),
                source: DigestSource::Ledger,
                verified: true,
            })
        });
    if !force && let Some(ledger) = ledger.as_deref() {
        if digest.is_none() && ledger.has_size(stamp.bytes, region, &base_url) {
            let sha256 = hash_file(path, stamp.bytes, progress).await?;
            digest = Some(Known {
                sha256,
                source: DigestSource::Hashed,
                verified: true,
            });
        }
        if let Some(known) = &mut digest
            && !known.verified
            && ledger.find(&known.sha256, region, &base_url).is_some()
        {
            // About to be trusted to skip the upload: confirmed by the bytes first.
            let actual = hash_file(path, stamp.bytes, progress).await?;
            if actual != known.sha256 {
                notes.push(mismatch_note(path));
                known.sha256 = actual;
                known.source = DigestSource::Hashed;
            }
            known.verified = true;
        }
        if let Some(known) = &digest
            && let Some(entry) = ledger.find(&known.sha256, region, &base_url)
        {
            if still_there(client, entry).await? {
                return Ok(UploadReport {
                    id: entry.file_id.clone(),
                    file_name: entry.file_name.clone(),
                    bytes: entry.bytes,
                    sha256: known.sha256.clone(),
                    region,
                    base_url,
                    reused: true,
                    digest_source: known.source,
                    notes,
                });
            }
            notes.push(format!(
                "the earlier upload {} is no longer on the server; uploading again",
                entry.file_id
            ));
        }
    }

    let options = SendOptions {
        stall_timeout,
        hash: digest.as_ref().is_none_or(|known| !known.verified),
        progress,
    };
    let sent = multipart::send_file(client, path, &options).await?;
    let (sha256, digest_source) = match (digest, sent.sha256) {
        (Some(known), _) if known.verified => (known.sha256, known.source),
        (Some(known), Some(actual)) if actual == known.sha256 => (actual, known.source),
        (Some(_), Some(actual)) => {
            notes.push(mismatch_note(path));
            (actual, DigestSource::WhileUploading)
        }
        (None, Some(actual)) => (actual, DigestSource::WhileUploading),
        // The server answered before reading everything; the size check passed, so hash now.
        (_, None) => (
            hash_file(path, stamp.bytes, progress).await?,
            DigestSource::Hashed,
        ),
    };
    let mut report = UploadReport {
        id: sent.file.id.clone(),
        file_name: sent.file.name.clone().unwrap_or(file_name),
        bytes: stamp.bytes,
        sha256,
        region,
        base_url,
        reused: false,
        digest_source,
        notes,
    };
    if let Some(ledger) = ledger {
        let entry = LedgerEntry {
            sha256: report.sha256.clone(),
            bytes: report.bytes,
            region,
            base_url: report.base_url.clone(),
            file_id: report.id.clone(),
            file_name: report.file_name.clone(),
            uploaded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            source: Some(stamp),
        };
        if let Err(e) = ledger.record(entry) {
            report.notes.push(format!(
                "uploaded, but the ledger {} could not be updated: {e}",
                ledger.path().display()
            ));
        }
    }
    Ok(report)
}

fn mismatch_note(zip: &Path) -> String {
    format!(
        "the pack manifest {} does not describe this zip (its SHA-256 differs); it was not \
         trusted",
        crate::pack::manifest::path_for(zip).display()
    )
}

/// Whether the ledger's file still exists on the server with the recorded size.
async fn still_there(client: &Client, entry: &LedgerEntry) -> Result<bool, ApiError> {
    match files::get_file(client, &entry.file_id).await {
        Ok(file) => Ok(file.bytes.is_none_or(|b| b == entry.bytes)),
        Err(e) if e.is_not_found() => Ok(false),
        Err(e) => Err(e),
    }
}

/// SHA-256 of the file, on a blocking thread, with progress.
async fn hash_file(path: &Path, bytes: u64, progress: &dyn Progress) -> Result<String, ApiError> {
    progress.begin("hashing", bytes);
    let meter = Meter::new();
    let owned: PathBuf = path.to_owned();
    let counter = meter.clone();
    let hashing = async move {
        tokio::task::spawn_blocking(move || zip_digest::sha256_file(&owned, &counter))
            .await
            .map_err(|e| ApiError::Invalid(format!("hashing stopped: {e}")))?
            .map_err(|e| ApiError::local("cannot hash the zip", e))
    };
    // A local read cannot stall the way a network can: the limits only bound a hung disk.
    let limits = Limits {
        stall: Duration::from_secs(600),
        answer: Duration::from_secs(600),
    };
    let result = transfer::watch(hashing, &meter, limits, progress, "hashing", bytes).await;
    progress.end();
    result
}
