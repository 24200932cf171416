//! Receiving and storing uploaded files, for both file APIs.
//!
//! Multipart bodies are streamed: each file part goes through a bounded channel to a blocking
//! thread that writes it to a temporary file next to the blobs, renamed into place once the
//! record exists. Memory stays at a few chunks whatever the upload size, and disk writes run in
//! parallel with receiving. The MD5 of native records is computed after the upload has been
//! answered ([`Digests`]): on this class of machine MD5 runs at about a third of loopback speed.
//! A part abandoned half-way (client gone, size limit, injected cut) leaves nothing behind: the
//! temporary file is deleted on drop.
//!
//! [`Digests`]: crate::emulator::digests::Digests

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, Multipart};
use axum::extract::{FromRequest, Request};
use axum::http::{HeaderMap, StatusCode, header};
use tokio::sync::mpsc;

use crate::emulator::clock::EmuTime;
use crate::emulator::connection::{ConnectionControl, abort_connection};
use crate::emulator::error::ApiError;
use crate::emulator::routes::multipart_guard::{self, Guarded};
use crate::emulator::state::{FileRecord, State};
use crate::emulator::{Shared, UploadLimits};

/// Chunks in flight between the connection and the disk writer.
const SINK_DEPTH: usize = 16;
/// Buffer of the disk writer.
const WRITE_BUFFER: usize = 1 << 20;
/// Multipart framing allowed on top of the file itself before a declared length is refused.
const MULTIPART_SLACK: u64 = 1 << 20;
/// Longest text field (`purpose`, `descriptions`).
const MAX_TEXT_FIELD: usize = 64 * 1024;
/// Where an injected cut falls when the body has no `Content-Length` (chunked).
const CUT_WITHOUT_LENGTH: u64 = 1 << 20;

/// A multipart upload request, with what fault injection needs to cut it.
pub struct Upload {
    pub multipart: Multipart,
    pub progress: BodyProgress,
    /// `Content-Length` of the whole body, when declared.
    pub declared_length: Option<u64>,
}

impl FromRequest<Arc<Shared>> for Upload {
    type Rejection = ApiError;

    async fn from_request(request: Request, shared: &Arc<Shared>) -> Result<Self, ApiError> {
        let control = request.extensions().get::<ConnectionControl>().cloned();
        let declared_length = content_length(request.headers());
        let cut_after = shared
            .faults
            .upload_cut()
            .map(|fraction| match declared_length {
                Some(length) => (length as f64 * fraction) as u64,
                None => CUT_WITHOUT_LENGTH,
            });
        // The framing is held to limits before the parser buffers any of it.
        let boundary = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| multer::parse_boundary(v).ok());
        let request = match boundary {
            Some(boundary) => request
                .map(|body| Body::from_stream(Guarded::new(body.into_data_stream(), &boundary))),
            None => request, // refused as it is by the parser
        };
        let multipart = Multipart::from_request(request, shared)
            .await
            .map_err(|e| ApiError::invalid_parameter(e.body_text()))?;
        Ok(Upload {
            multipart,
            progress: BodyProgress {
                received: 0,
                cut_after,
                control,
            },
            declared_length,
        })
    }
}

impl Upload {
    /// Refuses a body whose declared length already shows a file over the size limit, before
    /// reading any of it.
    pub fn refuse_oversized(&self, limits: &UploadLimits) -> Result<(), ApiError> {
        match self.declared_length {
            Some(length) if length > limits.max_file_bytes.saturating_add(MULTIPART_SLACK) => {
                Err(file_too_large(limits))
            }
            _ => Ok(()),
        }
    }
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

/// A multipart framing error, as the platform words it (a limit of the guard, by name).
pub fn malformed(err: axum::extract::multipart::MultipartError) -> ApiError {
    let why = match multipart_guard::refused_in(&err) {
        Some(refused) => refused.to_string(),
        None => err.body_text(),
    };
    ApiError::invalid_parameter(format!("The multipart body is malformed: {why}"))
}

fn file_too_large(limits: &UploadLimits) -> ApiError {
    ApiError::invalid_parameter(format!(
        "The file exceeds the maximum size of {} bytes.",
        limits.max_file_bytes
    ))
}

/// Bytes received so far, and where an injected cut resets the connection.
pub struct BodyProgress {
    received: u64,
    cut_after: Option<u64>,
    control: Option<ConnectionControl>,
}

impl BodyProgress {
    async fn record(&mut self, bytes: usize) -> Result<(), ApiError> {
        self.received += bytes as u64;
        match self.cut_after {
            Some(cut) if self.received >= cut => Err(abort_connection(self.control.as_ref()).await),
            _ => Ok(()),
        }
    }
}

/// A file part written to a temporary file, not yet a stored file.
pub struct ReceivedFile {
    pub filename: String,
    pub bytes: u64,
    temp: tempfile::NamedTempFile,
}

impl ReceivedFile {
    /// Moves the file to its blob path.
    pub fn store_as(self, path: &Path) -> Result<(), ApiError> {
        self.temp
            .persist(path)
            .map(drop)
            .map_err(|e| ApiError::internal(format!("the upload could not be stored: {}", e.error)))
    }
}

/// What the disk writer hands back.
struct Written {
    temp: tempfile::NamedTempFile,
    bytes: u64,
}

/// Streams a file part to a temporary file in `dir`, refusing it past `limits.max_file_bytes`.
pub async fn receive_file(
    mut field: Field<'_>,
    dir: &Path,
    limits: &UploadLimits,
    progress: &mut BodyProgress,
) -> Result<ReceivedFile, ApiError> {
    let filename = field
        .file_name()
        .filter(|n| !n.is_empty())
        .unwrap_or("file")
        .to_owned();
    let (chunks, writer) = spawn_writer(dir.to_path_buf());
    let mut received = 0u64;
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        received += chunk.len() as u64;
        if received > limits.max_file_bytes {
            return Err(file_too_large(limits));
        }
        progress.record(chunk.len()).await?;
        if chunks.send(chunk).await.is_err() {
            // The writer stopped early; its result says why.
            break;
        }
    }
    drop(chunks);
    let written = writer
        .await
        .map_err(|e| ApiError::internal(format!("the upload writer failed: {e}")))?
        .map_err(|e| ApiError::internal(format!("the upload could not be written: {e}")))?;
    Ok(ReceivedFile {
        filename,
        bytes: written.bytes,
        temp: written.temp,
    })
}

/// A blocking thread writing what arrives on the returned channel.
fn spawn_writer(
    dir: PathBuf,
) -> (
    mpsc::Sender<Bytes>,
    tokio::task::JoinHandle<std::io::Result<Written>>,
) {
    let (sender, mut receiver) = mpsc::channel::<Bytes>(SINK_DEPTH);
    let writer = tokio::task::spawn_blocking(move || {
        let mut temp = tempfile::Builder::new()
            .prefix(".upload-")
            .tempfile_in(&dir)?;
        let mut bytes = 0u64;
        {
            let mut out = BufWriter::with_capacity(WRITE_BUFFER, temp.as_file_mut());
            while let Some(chunk) = receiver.blocking_recv() {
                out.write_all(&chunk)?;
                bytes += chunk.len() as u64;
            }
            out.flush()?;
        }
        Ok(Written { temp, bytes })
    });
    (sender, writer)
}

/// Reads a short text part.
pub async fn receive_text(
    mut field: Field<'_>,
    progress: &mut BodyProgress,
) -> Result<String, ApiError> {
    let name = field.name().unwrap_or("").to_owned();
    let mut text = Vec::new();
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        progress.record(chunk.len()).await?;
        if text.len() + chunk.len() > MAX_TEXT_FIELD {
            return Err(ApiError::invalid_parameter(format!(
                "The form field {name} is longer than {MAX_TEXT_FIELD} bytes."
            )));
        }
        text.extend_from_slice(&chunk);
    }
    String::from_utf8(text)
        .map_err(|_| ApiError::invalid_parameter(format!("The form field {name} is not UTF-8.")))
}

/// Skips a part the endpoint does not use.
pub async fn discard(mut field: Field<'_>, progress: &mut BodyProgress) -> Result<(), ApiError> {
    while let Some(chunk) = field.chunk().await.map_err(malformed)? {
        progress.record(chunk.len()).await?;
    }
    Ok(())
}

/// Why the account cannot take one more file (spec §6.2 codes and messages).
pub fn check_quota(state: &State, incoming: u64, limits: &UploadLimits) -> Result<(), ApiError> {
    let files = &state.db.files;
    if files.len() >= limits.max_files {
        return Err(quota_error(
            "BadRequest.TooMany",
            format!(
                "Out of number, <{}> of <{}> files has been uploaded.",
                files.len(),
                limits.max_files
            ),
        ));
    }
    let used: u64 = files.iter().map(|f| f.bytes).sum();
    if used.saturating_add(incoming) > limits.max_total_bytes {
        return Err(quota_error(
            "BadRequest.TooLarge",
            format!(
                "Out of space, <{used}> B of <{}> B storage space has been used.",
                limits.max_total_bytes
            ),
        ));
    }
    Ok(())
}

fn quota_error(code: &'static str, message: String) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, code, message)
}

/// Records a received file under a fresh id and moves it into place.
pub fn store(
    state: &mut State,
    blob_dir: &Path,
    file: ReceivedFile,
    id: String,
    purpose: &str,
    description: Option<String>,
    now: EmuTime,
) -> Result<FileRecord, ApiError> {
    let record = FileRecord {
        id,
        filename: file.filename.clone(),
        purpose: purpose.to_owned(),
        bytes: file.bytes,
        md5: None,
        created: now,
        description,
        number: state.db.next_file_number,
    };
    file.store_as(&blob_dir.join(&record.id))?;
    state.db.next_file_number += 1;
    state.db.files.push(record.clone());
    Ok(record)
}

/// Deletes a file record and its blob; `NotFound` when unknown.
pub fn delete(shared: &Shared, file_id: &str) -> Result<(), ApiError> {
    shared.store.write(|state, _| {
        let index = state
            .db
            .files
            .iter()
            .position(|f| f.id == file_id)
            .ok_or_else(ApiError::not_found)?;
        state.db.files.remove(index);
        Ok(())
    })?;
    shared.digests.forget(file_id);
    // The record is gone: a leftover blob is unreachable, so a failed removal is not an error.
    let _ = std::fs::remove_file(shared.store.blob_dir().join(file_id));
    Ok(())
}
