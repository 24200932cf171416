//! Checkpoints: previews, export and export status (spec §6.11–§6.14).

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::fine_tunes::find_job;
use super::{PathParams, QueryParams, output};
use crate::emulator::Shared;
use crate::emulator::blobs::{public_base, signed_url};
use crate::emulator::clock::EmuTime;
use crate::emulator::error::{ApiError, RequestId};
use crate::emulator::job::{Export, ExportStatus, JobRecord, JobStatus};
use crate::emulator::state::State as AccountState;

const CHECKPOINT_PREFIX: &str = "checkpoint-";

fn checkpoint_name(step: u64) -> String {
    format!("{CHECKPOINT_PREFIX}{step}")
}

/// The step of `checkpoint-<step>`.
fn parse_checkpoint(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(CHECKPOINT_PREFIX)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Checkpoints with previews: the kept checkpoints of a `SUCCEEDED` job, none before.
fn previewed_checkpoints(state: &AccountState, job: &JobRecord, now: EmuTime) -> Vec<u64> {
    if job.status_at(now, &state.timings) == JobStatus::Succeeded {
        job.kept_checkpoints_at(now, &state.timings)
    } else {
        Vec::new()
    }
}

/// `GET …/validation-results`: `[{"checkpoint"}]`, empty until the job has succeeded, in the
/// platform's string order (`checkpoint-160` before `checkpoint-20`).
pub async fn validation_results(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams(job_id): PathParams<String>,
) -> Result<Response, ApiError> {
    let names = shared.store.read(|state, now| {
        let job = find_job(state, &job_id)?;
        let mut names: Vec<String> = previewed_checkpoints(state, job, now)
            .into_iter()
            .map(checkpoint_name)
            .collect();
        names.sort();
        Ok::<_, ApiError>(names)
    })??;
    let items: Vec<Value> = names.iter().map(|n| json!({ "checkpoint": n })).collect();
    Ok(output(&request_id, items))
}

/// `GET …/validation-details/{checkpoint}`: one preview per validation line, paged.
pub async fn validation_details(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    headers: HeaderMap,
    PathParams((job_id, checkpoint)): PathParams<(String, String)>,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let page = params.page(10, 100)?;
    let base = public_base(&headers, &shared);
    let details = shared.store.read(|state, now| {
        let job = find_job(state, &job_id)?;
        let step = parse_checkpoint(&checkpoint)
            .filter(|s| previewed_checkpoints(state, job, now).contains(s))
            .ok_or_else(ApiError::not_found)?;
        let secret = &state.db.account.blob_secret;
        let prompts = job.validation_prompts();
        let first = (page.number - 1).saturating_mul(page.size);
        let list: Vec<Value> = page
            .slice(prompts)
            .iter()
            .zip(first..)
            .map(|(prompt, index)| {
                let stem = format!("previews/{job_id}/{}/{index}", checkpoint_name(step));
                json!({
                    "video_path": signed_url(&base, secret, &format!("{stem}.mp4"), now),
                    "prompt": prompt,
                    "first_frame_path": signed_url(&base, secret, &format!("{stem}.jpeg"), now),
                })
            })
            .collect();
        Ok::<_, ApiError>(page.listing("list", prompts.len(), list))
    })??;
    Ok(output(&request_id, details))
}

/// A display name: letters (any script), digits, `_` and `-`.
fn valid_display_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
}

/// `GET …/export/{checkpoint}?model_name=…`: starts an export (`output: true`). Exporting the
/// same checkpoint again under the same name is accepted and changes nothing.
pub async fn export(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams((job_id, checkpoint)): PathParams<(String, String)>,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let display_name = params
        .text("model_name")
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ApiError::invalid_parameter("Missing required parameter: model_name"))?
        .to_owned();
    if !valid_display_name(&display_name) {
        return Err(ApiError::invalid_parameter(format!(
            "The model_name {display_name} is invalid: use letters, digits, _ and -"
        )));
    }
    shared.store.write(|state, now| {
        let job = find_job(state, &job_id)?;
        let status = job.status_at(now, &state.timings);
        if status != JobStatus::Succeeded {
            return Err(ApiError::unsupported_operation(format!(
                "The job {job_id} is {}; checkpoints can be exported once it has succeeded",
                status.as_str()
            )));
        }
        let step = parse_checkpoint(&checkpoint)
            .filter(|s| job.kept_checkpoints_at(now, &state.timings).contains(s))
            .ok_or_else(ApiError::not_found)?;
        let expires = job
            .checkpoint_saved_at(step, &state.timings)
            .plus(state.timings.checkpoint_retention);
        if !job.exports.contains_key(&step) && now >= expires {
            return Err(ApiError::unsupported_operation(format!(
                "The checkpoint {checkpoint} expired at {} and can no longer be exported",
                expires.iso_seconds()
            )));
        }
        if let Some(existing) = job.exports.get(&step) {
            return if existing.display_name == display_name {
                Ok(())
            } else {
                Err(ApiError::unsupported_operation(format!(
                    "The checkpoint {checkpoint} is already exported as {}",
                    existing.display_name
                )))
            };
        }
        let taken = state
            .db
            .jobs
            .iter()
            .flat_map(|j| j.exports.values())
            .any(|e| e.display_name == display_name);
        if taken {
            return Err(ApiError::invalid_parameter(format!(
                "The model_name {display_name} already exists"
            )));
        }
        let job = state.job_mut(&job_id).ok_or_else(ApiError::not_found)?;
        job.exports.insert(
            step,
            Export {
                display_name,
                requested: now,
            },
        );
        Ok(())
    })?;
    Ok(output(&request_id, true))
}

/// `GET …/checkpoints`: every kept checkpoint with its export status, identity and expiry
/// (spec §8.3), by step, descending.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams(job_id): PathParams<String>,
) -> Result<Response, ApiError> {
    let items = shared.store.read(|state, now| {
        let job = find_job(state, &job_id)?;
        let timings = &state.timings;
        let items: Vec<Value> = job
            .kept_checkpoints_at(now, timings)
            .into_iter()
            .rev()
            .map(|step| {
                let name = checkpoint_name(step);
                let saved = job.checkpoint_saved_at(step, timings);
                let mut item = json!({
                    "create_time": saved.iso_seconds(),
                    "expire_time": saved.plus(timings.checkpoint_retention).iso_seconds(),
                    "checkpoint_id": format!("{}:{name}", job.job_id),
                    "step": step,
                    "full_name": format!("{}-{name}", job.job_id),
                    "job_id": job.job_id,
                    "checkpoint": name,
                    "status": ExportStatus::Pending.as_str(),
                });
                if let Some(export) = job.exports.get(&step) {
                    let status = job.export_status_at(export, now, timings);
                    item["status"] = json!(status.as_str());
                    item["model_display_name"] = json!(export.display_name);
                    if status == ExportStatus::Succeeded {
                        item["model_name"] = json!(job.exported_model_name(step));
                    }
                }
                item
            })
            .collect();
        Ok::<_, ApiError>(items)
    })??;
    Ok(output(&request_id, items))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkpoint_names_round_trip() {
        assert_eq!(parse_checkpoint(&checkpoint_name(160)), Some(160));
        assert_eq!(parse_checkpoint("checkpoint-"), None);
        assert_eq!(parse_checkpoint("checkpoint-+1"), None);
        assert_eq!(parse_checkpoint("ckpt-1"), None);
    }

    #[test]
    fn display_names_allow_any_letters() {
        assert!(valid_display_name("my_model-2"));
        assert!(valid_display_name("模型一"));
        assert!(!valid_display_name("my model"));
        assert!(!valid_display_name(""));
    }
}
