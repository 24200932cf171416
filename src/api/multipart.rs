//! Sending one file through the file API of the client's region (spec §6.1, §6.2), streamed.
//!
//! The file is never read into memory: a blocking thread reads it in [`CHUNK`]s, at most
//! [`READ_AHEAD`] chunks ahead of the connection, hashing them on the way when asked, and the
//! multipart body is a stream of those chunks with its length declared up front. The body has no
//! overall time limit but a stall timeout ([`transfer::watch`]). After a broken connection, a
//! stall or a transient refusal the whole upload starts again from the file on disk: a failed
//! upload creates nothing the platform would use. The server's idea of the size is checked
//! against the file's, and Beijing's per-file `failed_uploads` are errors.

use std::io::{self, Read};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use reqwest::multipart::{Form, Part};
use reqwest::{Body, Method, Url};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use super::client::Client;
use super::error::ApiError;
use super::files::{self, CompatibleFile, FileApi, RemoteFile};
use super::retry;
use super::transfer::{self, Limits, Meter};
use crate::progress::Progress;

/// Bytes read from disk at a time.
const CHUNK: usize = 256 * 1024;
/// Chunks read ahead of the connection: with [`CHUNK`], the memory an upload holds.
const READ_AHEAD: usize = 8;
/// The only purpose used for datasets.
const PURPOSE: &str = "fine-tune";
/// Shortest wait for the answer once the whole body is sent: the platform stores a large file
/// before answering, which can take longer than an ordinary call's `--timeout`.
const MIN_ANSWER_WAIT: Duration = Duration::from_secs(300);
/// Compatible mode may still be ingesting a file after answering: how often, and how many
/// times, to look again.
const PROCESSING_POLL: Duration = Duration::from_secs(2);
const PROCESSING_POLLS: u32 = 300;

/// How to send a file.
pub struct SendOptions<'a> {
    /// Fail (and retry) when no byte is accepted for this long.
    pub stall_timeout: Duration,
    /// Also compute the SHA-256 of the bytes as they are read.
    pub hash: bool,
    pub progress: &'a dyn Progress,
}

/// A file the server accepted and described.
#[derive(Debug, Clone)]
pub struct Sent {
    pub file: RemoteFile,
    /// With [`SendOptions::hash`]: SHA-256 of what was sent, lowercase hex.
    pub sha256: Option<String>,
}

/// Uploads the file at `path` with the name it has on disk.
pub async fn send_file(
    client: &Client,
    path: &Path,
    options: &SendOptions<'_>,
) -> Result<Sent, ApiError> {
    let api = FileApi::for_region(client.region());
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| ApiError::Invalid(format!("{} is not a file", path.display())))?;
    let bytes = std::fs::metadata(path)
        .map_err(|e| ApiError::local(format!("cannot read {}", path.display()), e))?
        .len();
    let url = client.url(api.collection());
    let operation = client.operation(&Method::POST, api.collection());
    let upload = Upload {
        client,
        api,
        path,
        file_name: &file_name,
        bytes,
        url: &url,
        operation: &operation,
        options,
    };
    let (file, sha256) = retry::run(client.retry_policy(), client.observer(), &operation, |_| {
        upload.attempt()
    })
    .await?;
    let file = confirm(client, api, file, bytes).await?;
    Ok(Sent { file, sha256 })
}

/// Everything one attempt needs.
struct Upload<'a> {
    client: &'a Client,
    api: FileApi,
    path: &'a Path,
    file_name: &'a str,
    bytes: u64,
    url: &'a Url,
    operation: &'a str,
    options: &'a SendOptions<'a>,
}

impl Upload<'_> {
    async fn attempt(&self) -> Result<(RemoteFile, Option<String>), ApiError> {
        let progress = self.options.progress;
        let meter = Meter::new();
        let reader = Reader::spawn(self.path, self.bytes, self.options.hash, meter.clone());
        let part = Part::stream_with_length(Body::wrap_stream(reader.body), self.bytes)
            .file_name(self.file_name.to_owned())
            .mime_str("application/zip")
            .map_err(|e| ApiError::Invalid(e.to_string()))?;
        let form = Form::new()
            .text("purpose", PURPOSE)
            .part(self.api.file_field(), part);
        let request = self
            .client
            .authorised(Method::POST, self.url.clone())
            .multipart(form);
        let limits = Limits {
            stall: self.options.stall_timeout,
            answer: self.client.timeout().max(MIN_ANSWER_WAIT),
        };
        progress.begin("uploading", self.bytes);
        let exchange = self.client.exchange(&Method::POST, self.url, request);
        let answer = transfer::watch(
            exchange,
            &meter,
            limits,
            progress,
            self.operation,
            self.bytes,
        )
        .await;
        progress.end();
        // A read error caused whatever the connection reported, and retrying will not fix it.
        if let Some(error) = reader
            .failure
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            return Err(ApiError::local(
                format!("cannot read {}", self.path.display()),
                error,
            ));
        }
        let file = self.parse(&answer?)?;
        let sha256 = match reader.done.await {
            Ok(Reading::Complete(digest)) => digest,
            // The server answered before taking the whole body: its size check below tells.
            Ok(Reading::Abandoned) | Err(_) => None,
        };
        Ok((file, sha256))
    }

    /// The uploaded file, from either API's answer.
    fn parse(&self, body: &[u8]) -> Result<RemoteFile, ApiError> {
        match self.api {
            FileApi::Compatible => {
                let file: CompatibleFile = self.client.decode(self.operation, body)?;
                if file.id.is_empty() {
                    return Err(ApiError::decode(
                        self.operation,
                        "the answer has no file id",
                    ));
                }
                Ok(RemoteFile::from(file))
            }
            FileApi::Native => {
                let answer: NativeAnswer = self.client.decode(self.operation, body)?;
                if let Some(failed) = answer.data.failed_uploads.into_iter().next() {
                    return Err(ApiError::UploadRefused {
                        name: failed.name.unwrap_or_else(|| self.file_name.to_owned()),
                        code: failed.code.unwrap_or_else(|| "unknown".into()),
                        message: self.client.redact(&failed.message.unwrap_or_default()),
                    });
                }
                let uploaded = answer
                    .data
                    .uploaded_files
                    .into_iter()
                    .find(|f| !f.file_id.is_empty())
                    .ok_or_else(|| {
                        ApiError::decode(self.operation, "the answer lists no uploaded file")
                    })?;
                Ok(RemoteFile {
                    id: uploaded.file_id,
                    name: uploaded.name,
                    bytes: None,
                    purpose: Some(PURPOSE.into()),
                    status: None,
                    created: None,
                    md5: None,
                    description: None,
                })
            }
        }
    }
}

/// `{"request_id", "data": {"uploaded_files", "failed_uploads"}}` (spec §6.2).
#[derive(Debug, Deserialize)]
struct NativeAnswer {
    data: NativeUploads,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NativeUploads {
    uploaded_files: Vec<NativeUploaded>,
    failed_uploads: Vec<NativeFailed>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NativeUploaded {
    name: Option<String>,
    file_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct NativeFailed {
    name: Option<String>,
    code: Option<String>,
    message: Option<String>,
}

/// Waits while compatible mode ingests the file, then checks the size the server reports
/// (Beijing's upload answer has none: its file record does).
async fn confirm(
    client: &Client,
    api: FileApi,
    uploaded: RemoteFile,
    local: u64,
) -> Result<RemoteFile, ApiError> {
    let mut file = match api {
        FileApi::Native => {
            let described = files::get_file(client, &uploaded.id).await?;
            RemoteFile {
                name: described.name.clone().or(uploaded.name),
                ..described
            }
        }
        FileApi::Compatible => uploaded,
    };
    let mut polls = 0;
    while file.is_processing() && polls < PROCESSING_POLLS {
        tokio::time::sleep(PROCESSING_POLL).await;
        file = files::get_file(client, &file.id).await?;
        polls += 1;
    }
    match file.bytes {
        Some(remote) if remote != local => Err(ApiError::SizeMismatch {
            file_id: file.id,
            local,
            remote,
        }),
        _ => Ok(file),
    }
}

/// How the reading thread ended.
enum Reading {
    /// Every byte was read and handed over; the digest when hashing.
    Complete(Option<String>),
    /// The connection stopped taking chunks.
    Abandoned,
}

/// The thread reading the file for one attempt, and the body stream it feeds.
struct Reader {
    body: futures_util::stream::BoxStream<'static, io::Result<Bytes>>,
    done: tokio::task::JoinHandle<Reading>,
    /// Set before the stream fails with a read error.
    failure: Arc<Mutex<Option<io::Error>>>,
}

impl Reader {
    fn spawn(path: &Path, total: u64, hash: bool, meter: Arc<Meter>) -> Reader {
        let (chunks, mut received) = mpsc::channel::<io::Result<Bytes>>(READ_AHEAD);
        let failure = Arc::new(Mutex::new(None));
        let path = path.to_owned();
        let failure_slot = failure.clone();
        let done =
            tokio::task::spawn_blocking(move || match read_file(&path, total, hash, &chunks) {
                Ok(reading) => reading,
                Err(error) => {
                    let shown = io::Error::new(error.kind(), error.to_string());
                    *failure_slot.lock().unwrap_or_else(PoisonError::into_inner) = Some(error);
                    let _ = chunks.blocking_send(Err(shown));
                    Reading::Abandoned
                }
            });
        let body = futures_util::stream::poll_fn(move |cx| {
            received.poll_recv(cx).map(|item| {
                if let Some(Ok(chunk)) = &item {
                    meter.advance(chunk.len() as u64);
                    if meter.moved() >= total {
                        meter.finish();
                    }
                }
                item
            })
        });
        Reader {
            body: Box::pin(body),
            done,
            failure,
        }
    }
}

/// Reads exactly `total` bytes of the file into `chunks`.
fn read_file(
    path: &Path,
    total: u64,
    hash: bool,
    chunks: &mpsc::Sender<io::Result<Bytes>>,
) -> io::Result<Reading> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = hash.then(Sha256::new);
    let mut left = total;
    while left > 0 {
        let size = usize::try_from(left).map_or(CHUNK, |l| l.min(CHUNK));
        let mut chunk = vec![0u8; size];
        file.read_exact(&mut chunk).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file became shorter while it was being uploaded",
            ),
            _ => e,
        })?;
        if let Some(hasher) = hasher.as_mut() {
            hasher.update(&chunk);
        }
        left -= size as u64;
        if chunks.blocking_send(Ok(Bytes::from(chunk))).is_err() {
            return Ok(Reading::Abandoned);
        }
    }
    Ok(Reading::Complete(hasher.map(|h| hex::encode(h.finalize()))))
}
