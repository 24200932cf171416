//! Downloading signed links (preview videos, generated videos) to a file, atomically.
//!
//! The links point at object storage, not at the API: they are fetched **without** the API key.
//! The body streams to a temporary file beside the destination, renamed into place once complete,
//! so an interrupted download never leaves a half file under the final name. Retried like any
//! safe call; watched for stalls like an upload.

use std::path::Path;
use std::time::Duration;

use reqwest::{Method, Url};
use tokio::io::AsyncWriteExt;

use super::client::Client;
use super::error::ApiError;
use super::retry;
use super::transfer::{self, Limits, Meter};
use crate::progress::Progress;

/// Downloads `url` to `dest`; returns the bytes written.
pub async fn download(
    client: &Client,
    url: &str,
    dest: &Path,
    stall_timeout: Duration,
    progress: &dyn Progress,
) -> Result<u64, ApiError> {
    let url = Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| {
            ApiError::Invalid(format!(
                "cannot download `{}`: not an http(s) link",
                client.redact(url)
            ))
        })?;
    let dir = dest
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| ApiError::local(format!("cannot create {}", dir.display()), e))?;
    let operation = format!("GET {}", url.path());
    retry::run(client.retry_policy(), client.observer(), &operation, |_| {
        attempt(client, &url, dir, dest, stall_timeout, progress, &operation)
    })
    .await
}

async fn attempt(
    client: &Client,
    url: &Url,
    dir: &Path,
    dest: &Path,
    stall_timeout: Duration,
    progress: &dyn Progress,
    operation: &str,
) -> Result<u64, ApiError> {
    let local = |what: &str, e| ApiError::local(format!("cannot {what} {}", dest.display()), e);
    let mut builder = tempfile::Builder::new();
    builder.prefix(".wanft-download-");
    // A download is an ordinary file, not a private temporary one (0600 by default).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let temp = builder.tempfile_in(dir).map_err(|e| local("write", e))?;
    let std_file = temp.as_file().try_clone().map_err(|e| local("write", e))?;
    let meter = Meter::new();
    let transfer = async {
        let mut response = client
            .send(&Method::GET, url, client.anonymous(url.clone()))
            .await?;
        progress.begin("downloading", response.content_length().unwrap_or(0));
        let expected = response.content_length();
        let mut file = tokio::fs::File::from_std(std_file);
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| client.transport_error(operation, &e))?
        {
            file.write_all(&chunk)
                .await
                .map_err(|e| local("write", e))?;
            meter.advance(chunk.len() as u64);
        }
        file.flush().await.map_err(|e| local("write", e))?;
        file.sync_all().await.map_err(|e| local("write", e))?;
        let written = meter.moved();
        match expected {
            Some(expected) if expected != written => Err(ApiError::Transport {
                operation: operation.to_owned(),
                stage: super::error::Stage::Exchange,
                detail: format!("the download ended after {written} of {expected} bytes"),
            }),
            _ => Ok(written),
        }
    };
    let limits = Limits {
        stall: stall_timeout,
        answer: stall_timeout,
    };
    let result = transfer::watch(transfer, &meter, limits, progress, operation, 0).await;
    progress.end();
    let written = result?;
    temp.persist(dest).map_err(|e| local("write", e.error))?;
    Ok(written)
}
