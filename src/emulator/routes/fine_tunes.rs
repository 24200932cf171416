//! Fine-tuning jobs (spec §6.5–§6.10).

use std::collections::BTreeMap;
use std::sync::Arc;

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::StreamExt;
use serde_json::{Map, Value, json};

use super::{BodyFields, JsonObject, PathParams, QueryParams, output};
use crate::emulator::Shared;
use crate::emulator::Timings;
use crate::emulator::clock::EmuTime;
use crate::emulator::error::{ApiError, RequestId};
use crate::emulator::hyper_params;
use crate::emulator::job::{JobRecord, JobStatus};
use crate::emulator::state::{Account, State as AccountState};
use crate::models;

/// The only training type (LoRA).
const EFFICIENT_SFT: &str = "efficient_sft";

/// Data sources beside the file-id arrays (spec §8.5): the route for data beyond the 1 GB zip
/// limit, as OSS mounts. Not emulated; answered with a message that says so.
const DATASET_KEYS: [&str; 2] = ["training_datasets", "validation_datasets"];

/// Longest `job_name` / `model_name` accepted (undocumented; a generous bound).
const MAX_NAME_CHARS: usize = 256;

/// An optional name field: a non-empty string of at most [`MAX_NAME_CHARS`].
fn optional_name(body: &Map<String, Value>, key: &str) -> Result<Option<String>, ApiError> {
    match body.optional_str(key)? {
        None => Ok(None),
        Some(name) if name.trim().is_empty() || name.chars().count() > MAX_NAME_CHARS => {
            Err(ApiError::invalid_parameter(format!(
                "The parameter {key} must be a non-empty string of at most {MAX_NAME_CHARS} characters"
            )))
        }
        Some(name) => Ok(Some(name.to_owned())),
    }
}

/// The refusal of `training_datasets` / `validation_datasets`, naming what to do instead.
fn dataset_sources_refusal(body: &Map<String, Value>, key: &str) -> ApiError {
    let oss_mount = body
        .get(key)
        .and_then(Value::as_array)
        .is_some_and(|items| {
            items
                .iter()
                .any(|i| i.get("data_source_type").and_then(Value::as_str) == Some("oss_mount"))
        });
    let what = if oss_mount {
        "OSS-mounted datasets (data_source_type oss_mount) are not supported here"
    } else {
        "dataset sources are not supported here"
    };
    ApiError::invalid_parameter(format!(
        "The parameter {key} is not supported: {what}. Upload each dataset as a zip of at most \
         1 GB and pass the file ids as training_file_ids / validation_file_ids"
    ))
}

/// The job record of spec §6.5; `detailed` adds the GET/list fields of §6.6.
pub fn job_record(
    job: &JobRecord,
    account: &Account,
    now: EmuTime,
    timings: &Timings,
    detailed: bool,
) -> Value {
    let status = job.status_at(now, timings);
    let mut record = json!({
        "job_id": job.job_id,
        "job_name": job.job_name.as_deref().unwrap_or(&job.job_id),
        "status": status.as_str(),
        "finetuned_output": job.finetuned_output(),
        "model": job.model,
        "base_model": job.model,
        "training_file_ids": job.training_file_ids,
        "validation_file_ids": job.validation_file_ids,
        "hyper_parameters": job.hyper,
        "training_type": EFFICIENT_SFT,
        "create_time": job.created.job_format(),
        "workspace_id": account.workspace_id,
        "user_identity": account.user_id,
        "modifier": account.user_id,
        "creator": account.user_id,
        "group": "llm",
        "max_output_cnt": job.hyper.save_total_limit,
    });
    if let Some(name) = &job.model_name {
        record["model_name"] = json!(name);
    }
    if detailed {
        if let Some(end) = job.end_time(timings).filter(|_| status.is_terminal()) {
            record["end_time"] = json!(end.job_format());
        }
        record["output_cnt"] = json!(job.kept_checkpoints_at(now, timings).len());
        record["usage"] = json!(job.usage_at(now, timings));
    }
    record
}

/// Whether a job in `status` counts against the job quota (spec §8.2: "running or
/// succeeded"; queued and cancelling jobs are counted too, the conservative reading).
fn counts_against_quota(status: JobStatus) -> bool {
    !matches!(status, JobStatus::Failed | JobStatus::Canceled)
}

/// The job named by a path, or 404.
pub fn find_job<'a>(state: &'a AccountState, job_id: &str) -> Result<&'a JobRecord, ApiError> {
    state.job(job_id).ok_or_else(ApiError::not_found)
}

/// A list of file ids; `required` refuses an absent or empty list.
fn file_ids(body: &Map<String, Value>, key: &str, required: bool) -> Result<Vec<String>, ApiError> {
    let ids = match body.get(key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| {
                ApiError::invalid_parameter(format!(
                    "The parameter {key} must be an array of file ids"
                ))
            })?,
        Some(_) => {
            return Err(ApiError::invalid_parameter(format!(
                "The parameter {key} must be an array of file ids"
            )));
        }
    };
    if required && ids.is_empty() {
        return Err(ApiError::invalid_parameter(format!(
            "The parameter {key} must not be empty"
        )));
    }
    Ok(ids)
}

/// `POST /api/v1/fine-tunes`, with every create-time check of spec §4.4.
pub async fn create(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    if let Some(key) = DATASET_KEYS.iter().find(|k| body.contains_key(**k)) {
        return Err(dataset_sources_refusal(&body, key));
    }
    let model_name = body.required_str("model")?;
    let model = models::find(model_name).ok_or_else(|| {
        ApiError::invalid_parameter(format!(
            "The model {model_name} does not support fine-tuning"
        ))
    })?;
    // Optional since 2026 (spec §8.5); the only value for Wan models.
    let training_type = body.optional_str("training_type")?.unwrap_or(EFFICIENT_SFT);
    if training_type != EFFICIENT_SFT {
        return Err(ApiError::invalid_parameter(format!(
            "The model {model_name} does not support training_type: {training_type}"
        )));
    }
    let job_name = optional_name(&body, "job_name")?;
    let model_name = optional_name(&body, "model_name")?;
    let training_file_ids = file_ids(&body, "training_file_ids", true)?;
    let validation_file_ids = file_ids(&body, "validation_file_ids", false)?;
    let hyper = hyper_params::from_request(
        model,
        body.get("hyper_parameters"),
        !validation_file_ids.is_empty(),
    )
    .map_err(ApiError::invalid_parameter)?;
    let record = shared.store.write(|state, now| {
        let counted = state
            .db
            .jobs
            .iter()
            .filter(|j| counts_against_quota(j.status_at(now, &state.timings)))
            .count();
        if counted >= models::JOB_QUOTA {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "Throttling",
                format!(
                    "Only {} fine-tune job in running or succeeded allowed per user.",
                    models::JOB_QUOTA
                ),
            ));
        }
        for id in training_file_ids.iter().chain(&validation_file_ids) {
            match state.file(id) {
                None => return Err(ApiError::invalid_parameter(format!("File not found: {id}"))),
                Some(file) if file.purpose != "fine-tune" => {
                    return Err(ApiError::invalid_parameter(format!(
                        "The file {id} was uploaded with purpose {}, not fine-tune",
                        file.purpose
                    )));
                }
                Some(_) => {}
            }
        }
        let job = JobRecord {
            job_id: state.new_job_id(now),
            job_name,
            model_name,
            model: model.name.to_owned(),
            training_file_ids,
            validation_file_ids,
            hyper,
            created: now,
            run: None,
            cancel_requested: None,
            exports: BTreeMap::new(),
            injected_failure: shared.faults.doom_job(),
        };
        let record = job_record(&job, &state.db.account, now, &state.timings, false);
        state.db.jobs.push(job);
        Ok(record)
    })?;
    Ok(output(&request_id, record))
}

/// `GET /api/v1/fine-tunes/{job_id}`.
pub async fn get(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams(job_id): PathParams<String>,
) -> Result<Response, ApiError> {
    let record = shared.store.read(|state, now| {
        find_job(state, &job_id)
            .map(|job| job_record(job, &state.db.account, now, &state.timings, true))
    })??;
    Ok(output(&request_id, record))
}

/// `GET /api/v1/fine-tunes`: `page_no`, `page_size` (≤ 100), `model`; newest first.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let page = params.page(10, 100)?;
    let model = params.text("model").filter(|m| !m.is_empty());
    let listing = shared.store.read(|state, now| {
        let matching: Vec<&JobRecord> = state
            .db
            .jobs
            .iter()
            .rev()
            .filter(|j| model.is_none_or(|m| j.model == m))
            .collect();
        let jobs: Vec<Value> = page
            .slice(&matching)
            .iter()
            .map(|job| job_record(job, &state.db.account, now, &state.timings, true))
            .collect();
        page.listing("jobs", matching.len(), jobs)
    })?;
    Ok(output(&request_id, listing))
}

/// Lines a log page holds when `line` is not given, and at most (spec §8.1).
pub const LOG_PAGE_DEFAULT: u64 = 100;
pub const LOG_PAGE_MAX: u64 = 1000;

/// `GET /api/v1/fine-tunes/{job_id}/logs?offset=N&line=M`: skips the first `offset` lines
/// (default 0; past the end: no lines) and returns at most `line` (default 100, at most 1000);
/// `total` counts every line (spec §8.1).
pub async fn logs(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams(job_id): PathParams<String>,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let offset = params.integer("offset", 0, 0..=u64::MAX)?;
    let line = params.integer("line", LOG_PAGE_DEFAULT, 1..=LOG_PAGE_MAX)?;
    let lines = shared.store.read(|state, now| {
        find_job(state, &job_id).map(|job| job.logs_at(now, &state.timings))
    })??;
    let total = lines.len();
    let start = usize::try_from(offset).unwrap_or(usize::MAX).min(total);
    let end = start
        .saturating_add(usize::try_from(line).unwrap_or(usize::MAX))
        .min(total);
    Ok(output(
        &request_id,
        json!({ "total": total, "logs": &lines[start..end] }),
    ))
}

/// How often the event stream looks at its job, in real time.
const EVENT_POLL: Duration = Duration::from_millis(100);

/// What the event stream has told its client so far.
struct StreamState {
    shared: Arc<Shared>,
    job_id: String,
    /// Log lines sent.
    offset: usize,
    /// Status last sent.
    status: Option<&'static str>,
    done: bool,
}

/// `GET /api/v1/fine-tunes/{job_id}/stream`: the job's events as server-sent events, the path
/// the official Python SDK reads (`FineTunes.stream_events`). The payload is undocumented; the
/// emulator sends one JSON object per status change (`{job_id, status}`) and per log line
/// (`{job_id, status, offset, line}`), and ends the stream once the job has ended and every
/// line is out. An unknown job is a 404 before the stream starts; a job deleted meanwhile ends
/// it with an `event:error` frame, as the SDK expects errors.
pub async fn events(
    State(shared): State<Arc<Shared>>,
    PathParams(job_id): PathParams<String>,
) -> Result<Response, ApiError> {
    shared
        .store
        .read(|state, _| find_job(state, &job_id).map(|_| ()))??;
    let start = StreamState {
        shared,
        job_id,
        offset: 0,
        status: None,
        done: false,
    };
    let stream = futures_util::stream::unfold(start, |mut at| async move {
        if at.done {
            return None;
        }
        if at.offset > 0 || at.status.is_some() {
            tokio::time::sleep(EVENT_POLL).await;
        }
        let events = at.next_events();
        Some((futures_util::stream::iter(events), at))
    })
    .flatten()
    .map(Ok::<_, Infallible>);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

impl StreamState {
    /// The events since the last look.
    fn next_events(&mut self) -> Vec<Event> {
        let job_id = self.job_id.clone();
        let seen = self.shared.store.read(|state, now| {
            state.job(&job_id).map(|job| {
                let status = job.status_at(now, &state.timings);
                (status, job.logs_at(now, &state.timings))
            })
        });
        let Ok(Some((status, lines))) = seen else {
            self.done = true;
            let body = json!({ "code": "NotFound", "message": "Not found.", "job_id": job_id });
            return vec![Event::default().event("error").data(body.to_string())];
        };
        let mut events = Vec::new();
        if self.status != Some(status.as_str()) {
            self.status = Some(status.as_str());
            events.push(
                Event::default()
                    .data(json!({ "job_id": job_id, "status": status.as_str() }).to_string()),
            );
        }
        for line in lines.iter().skip(self.offset) {
            events.push(
                Event::default().data(
                    json!({
                        "job_id": job_id,
                        "status": status.as_str(),
                        "offset": self.offset,
                        "line": line,
                    })
                    .to_string(),
                ),
            );
            self.offset += 1;
        }
        self.done = status.is_terminal();
        events
    }
}

/// `POST /api/v1/fine-tunes/{job_id}/cancel`: `CANCELING`, then `CANCELED`, billing the steps
/// run so far. Terminal jobs: 400 `UnsupportedOperation`. Cancelling twice is harmless.
pub async fn cancel(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams(job_id): PathParams<String>,
) -> Result<Response, ApiError> {
    shared.store.write(|state, now| {
        let timings = state.timings.clone();
        let job = state.job_mut(&job_id).ok_or_else(ApiError::not_found)?;
        let status = job.status_at(now, &timings);
        if status.is_terminal() {
            return Err(ApiError::unsupported_operation(format!(
                "The job {job_id} is {} and cannot be canceled",
                status.as_str()
            )));
        }
        if status != JobStatus::Canceling {
            job.cancel_requested = Some(now);
        }
        Ok(())
    })?;
    Ok(output(&request_id, json!({ "status": "success" })))
}

/// `DELETE /api/v1/fine-tunes/{job_id}`: only terminal jobs (else 400 `UnsupportedOperation`).
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams(job_id): PathParams<String>,
) -> Result<Response, ApiError> {
    shared.store.write(|state, now| {
        let index = state
            .db
            .jobs
            .iter()
            .position(|j| j.job_id == job_id)
            .ok_or_else(ApiError::not_found)?;
        let status = state.db.jobs[index].status_at(now, &state.timings);
        if !status.is_terminal() {
            return Err(ApiError::unsupported_operation(format!(
                "The job {job_id} is {}; only finished jobs can be deleted",
                status.as_str()
            )));
        }
        state.db.jobs.remove(index);
        Ok(())
    })?;
    Ok(output(&request_id, json!({ "status": "success" })))
}
