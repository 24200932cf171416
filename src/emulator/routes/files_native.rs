//! Native file endpoints (spec §6.2, §6.4): `data` envelope, UUID ids, per-file quota failures
//! inside a 200.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::uploads::{self, Upload};
use super::{PathParams, QueryParams, data};
use crate::emulator::Shared;
use crate::emulator::blobs::{public_base, signed_url};
use crate::emulator::clock::EmuTime;
use crate::emulator::digests;
use crate::emulator::error::{ApiError, RequestId};
use crate::emulator::state::{Account, FileRecord};

/// Purposes of the native upload; `fine-tune` when omitted (Tool default).
const PURPOSES: [&str; 3] = ["fine-tune", "file-extract", "batch"];
const DEFAULT_PURPOSE: &str = "fine-tune";
/// Region of the native file API (Beijing).
const REGION: &str = "cn-beijing";

/// The native file record. `gmt_create` uses the job timestamp format (undocumented).
fn file_record(file: &FileRecord, account: &Account, base: &str, now: EmuTime) -> Value {
    // Only URL-safe characters in the link; the real name is in `name`.
    let safe_name: String = file
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let url = signed_url(
        base,
        &account.blob_secret,
        &format!("files/{}/{safe_name}", file.id),
        now,
    );
    json!({
        "file_id": file.id,
        "name": file.filename,
        "description": file.description.clone().unwrap_or_default(),
        "size": file.bytes,
        "md5": file.md5.clone().unwrap_or_default(),
        "gmt_create": file.created.job_format(),
        "url": url,
        "id": file.number,
        "region": REGION,
        "user_id": account.user_id,
        "api_key_id": account.api_key_id,
        "purpose": file.purpose,
    })
}

/// `POST /api/v1/files`: repeatable `files`, `purpose`, `descriptions` (the n-th description goes
/// with the n-th file; a single one goes with all).
pub async fn upload(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    mut upload: Upload,
) -> Result<Response, ApiError> {
    let mut received = Vec::new();
    let mut purpose = None;
    let mut descriptions = Vec::new();
    while let Some(field) = upload
        .multipart
        .next_field()
        .await
        .map_err(uploads::malformed)?
    {
        match field.name() {
            Some("files") => received.push(
                uploads::receive_file(
                    field,
                    shared.store.blob_dir(),
                    &shared.limits,
                    &mut upload.progress,
                )
                .await?,
            ),
            Some("purpose") => {
                purpose = Some(uploads::receive_text(field, &mut upload.progress).await?);
            }
            Some("descriptions") => {
                descriptions.push(uploads::receive_text(field, &mut upload.progress).await?);
            }
            _ => uploads::discard(field, &mut upload.progress).await?,
        }
    }
    if received.is_empty() {
        return Err(ApiError::invalid_parameter("File not found."));
    }
    let purpose = purpose.unwrap_or_else(|| DEFAULT_PURPOSE.to_owned());
    if !PURPOSES.contains(&purpose.as_str()) {
        return Err(ApiError::invalid_parameter(format!(
            "The purpose {purpose} is not supported, it must be one of {}",
            PURPOSES.join(", ")
        )));
    }
    let description_for = |index: usize| match descriptions.as_slice() {
        [] => None,
        [only] => Some(only.clone()),
        many => many.get(index).cloned(),
    };
    let outcome = shared.store.write(|state, now| {
        let mut uploaded = Vec::new();
        let mut failed = Vec::new();
        for (index, file) in received.into_iter().enumerate() {
            let name = file.filename.clone();
            if let Err(quota) = uploads::check_quota(state, file.bytes, &shared.limits) {
                failed.push(json!({ "name": name, "code": quota.code, "message": quota.message }));
                continue;
            }
            let id = state.new_uuid();
            let record = uploads::store(
                state,
                shared.store.blob_dir(),
                file,
                id,
                &purpose,
                description_for(index),
                now,
            )?;
            uploaded.push(json!({ "name": name, "file_id": record.id }));
        }
        Ok((uploaded, failed))
    })?;
    let (uploaded, failed) = outcome;
    for entry in &uploaded {
        if let Some(id) = entry["file_id"].as_str() {
            digests::schedule(&shared, id.to_owned());
        }
    }
    Ok(data(
        &request_id,
        json!({ "uploaded_files": uploaded, "failed_uploads": failed }),
    ))
}

/// `GET /api/v1/files/{file_id}`.
pub async fn get(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    headers: HeaderMap,
    PathParams(file_id): PathParams<String>,
) -> Result<Response, ApiError> {
    let base = public_base(&headers, &shared);
    digests::md5_of(&shared, &file_id).await?;
    let record = shared
        .store
        .read(|state, now| {
            state
                .file(&file_id)
                .map(|f| file_record(f, &state.db.account, &base, now))
        })?
        .ok_or_else(ApiError::not_found)?;
    Ok(data(&request_id, record))
}

/// `GET /api/v1/files`: `page_no` (default 1), `page_size` (1–100, default 10), upload order.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    headers: HeaderMap,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let page = params.page(10, 100)?;
    let base = public_base(&headers, &shared);
    let listed: Vec<String> = shared.store.read(|state, _| {
        page.slice(&state.db.files)
            .iter()
            .map(|f| f.id.clone())
            .collect()
    })?;
    for file_id in &listed {
        match digests::md5_of(&shared, file_id).await {
            // Deleted since: it drops out of the listing below.
            Err(e) if e.status == StatusCode::NOT_FOUND => {}
            other => {
                other?;
            }
        }
    }
    let listing = shared.store.read(|state, now| {
        let files: Vec<Value> = page
            .slice(&state.db.files)
            .iter()
            .map(|f| file_record(f, &state.db.account, &base, now))
            .collect();
        page.listing("files", state.db.files.len(), files)
    })?;
    Ok(data(&request_id, listing))
}

/// `DELETE /api/v1/files/{file_id}`: answers only the request id.
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams(file_id): PathParams<String>,
) -> Result<Response, ApiError> {
    uploads::delete(&shared, &file_id)?;
    Ok(axum::Json(json!({ "request_id": request_id })).into_response())
}
