//! OpenAI-compatible file endpoints (spec §6.1, §6.3): bare OpenAI objects, `file-ft-…` ids.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::uploads::{self, Upload};
use super::{PathParams, QueryParams};
use crate::emulator::Shared;
use crate::emulator::error::ApiError;
use crate::emulator::state::FileRecord;

/// The only purpose this endpoint accepts.
const FINE_TUNE: &str = "fine-tune";

/// The OpenAI file object.
fn file_object(file: &FileRecord) -> Value {
    json!({
        "id": file.id,
        "object": "file",
        "bytes": file.bytes,
        "filename": file.filename,
        "purpose": file.purpose,
        "status": "processed",
        "created_at": file.created.unix_seconds(),
    })
}

/// `POST /compatible-mode/v1/files`: one `file` part and `purpose=fine-tune`.
pub async fn upload(
    State(shared): State<Arc<Shared>>,
    mut upload: Upload,
) -> Result<Response, ApiError> {
    upload.refuse_oversized(&shared.limits)?;
    let mut received = None;
    let mut purpose = None;
    while let Some(field) = upload
        .multipart
        .next_field()
        .await
        .map_err(uploads::malformed)?
    {
        match field.name() {
            Some("file") if received.is_some() => {
                return Err(ApiError::invalid_parameter(
                    "Only one file may be uploaded per request.",
                ));
            }
            Some("file") => {
                received = Some(
                    uploads::receive_file(
                        field,
                        shared.store.blob_dir(),
                        &shared.limits,
                        &mut upload.progress,
                    )
                    .await?,
                );
            }
            Some("purpose") => {
                purpose = Some(uploads::receive_text(field, &mut upload.progress).await?);
            }
            _ => uploads::discard(field, &mut upload.progress).await?,
        }
    }
    let file =
        received.ok_or_else(|| ApiError::invalid_parameter("Missing required parameter: file"))?;
    match purpose.as_deref() {
        Some(FINE_TUNE) => {}
        None => {
            return Err(ApiError::invalid_parameter(
                "Missing required parameter: purpose",
            ));
        }
        Some(other) => {
            return Err(ApiError::invalid_parameter(format!(
                "The purpose {other} is not supported, it must be {FINE_TUNE}"
            )));
        }
    }
    let record = shared.store.write(|state, now| {
        uploads::check_quota(state, file.bytes, &shared.limits)?;
        let id = state.new_compatible_file_id();
        uploads::store(
            state,
            shared.store.blob_dir(),
            file,
            id,
            FINE_TUNE,
            None,
            now,
        )
    })?;
    Ok(Json(file_object(&record)).into_response())
}

/// `GET /compatible-mode/v1/files/{file_id}`.
pub async fn get(
    State(shared): State<Arc<Shared>>,
    PathParams(file_id): PathParams<String>,
) -> Result<Response, ApiError> {
    let object = shared
        .store
        .read(|state, _| state.file(&file_id).map(file_object))?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(object).into_response())
}

/// Largest and default `limit` of the listing.
const MAX_LIMIT: u64 = 2000;

/// `GET /compatible-mode/v1/files`: cursor paging with `after` and `limit`, in upload order,
/// filtered by `purpose`, `create_after`, `create_before` (Unix seconds, exclusive).
pub async fn list(
    State(shared): State<Arc<Shared>>,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let limit = params.integer("limit", MAX_LIMIT, 1..=MAX_LIMIT)? as usize;
    let created_after = params.integer("create_after", 0, 0..=i64::MAX as u64)? as i64;
    let created_before =
        params.integer("create_before", i64::MAX as u64, 0..=i64::MAX as u64)? as i64;
    let purpose = params.text("purpose").filter(|p| !p.is_empty());
    let after = params.text("after").filter(|a| !a.is_empty());
    let listing = shared.store.read(|state, _| {
        let matching: Vec<&FileRecord> = state
            .db
            .files
            .iter()
            .filter(|f| purpose.is_none_or(|p| f.purpose == p))
            .filter(|f| {
                let created = f.created.unix_seconds();
                created > created_after && created < created_before
            })
            .collect();
        let start = match after {
            None => 0,
            Some(cursor) => {
                matching
                    .iter()
                    .position(|f| f.id == cursor)
                    .ok_or_else(|| {
                        ApiError::invalid_parameter(format!(
                            "The parameter after: {cursor} is not a known file id"
                        ))
                    })?
                    + 1
            }
        };
        let rest = &matching[start..];
        let page: Vec<Value> = rest.iter().take(limit).map(|f| file_object(f)).collect();
        Ok::<_, ApiError>(json!({
            "object": "list",
            "has_more": rest.len() > limit,
            "data": page,
        }))
    })??;
    Ok(Json(listing).into_response())
}

/// `DELETE /compatible-mode/v1/files/{file_id}`.
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    PathParams(file_id): PathParams<String>,
) -> Result<Response, ApiError> {
    uploads::delete(&shared, &file_id)?;
    Ok(Json(json!({ "object": "file", "deleted": true, "id": file_id })).into_response())
}
