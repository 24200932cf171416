//! Video synthesis with deployed LoRA models, and task polling (spec §6.18–§6.20).
//!
//! Conventions where the spec is silent: a `model` that names no deployment → 404
//! `ModelNotFound`; a deployment not yet `RUNNING` → 400 `UnsupportedOperation`; a first-frame
//! model called on the key-frame endpoint (or the reverse) → 400 `InvalidParameter`. Input URLs
//! are not fetched (the emulator is offline); `data:` URLs are decoded and checked.
//!
//! What a model accepts (durations, resolutions, image size, prompt length, request rates) comes
//! from the model table ([`crate::models`]); the constants here are the endpoints' own rules.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{Map, Value, json};

use super::{BodyFields, JsonObject, PathParams, output};
use crate::emulator::Shared;
use crate::emulator::blobs::{public_base, signed_url};
use crate::emulator::error::{ApiError, RequestId};
use crate::emulator::state::{DeploymentStatus, TaskRecord, TaskStatus};
use crate::media::{self, Sniffed};
use crate::models::{self, ModelProfile, TaskType, synthesis};

/// The header without which synthesis is refused.
const ASYNC_HEADER: &str = "x-dashscope-async";

/// Resolutions offered when the model table lists none (undocumented models).
const ALL_RESOLUTIONS: [&str; 3] = ["480P", "720P", "1080P"];

/// The two synthesis endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    /// `video-generation/video-synthesis`: `input.img_url`.
    FirstFrame,
    /// `image2video/video-synthesis`: `input.first_frame_url` (+ `last_frame_url`).
    KeyFrames,
}

impl Endpoint {
    fn task(self) -> TaskType {
        match self {
            Endpoint::FirstFrame => TaskType::I2v,
            Endpoint::KeyFrames => TaskType::Kf2v,
        }
    }

    fn path(self) -> &'static str {
        match self {
            Endpoint::FirstFrame => "video-generation/video-synthesis",
            Endpoint::KeyFrames => "image2video/video-synthesis",
        }
    }
}

/// `POST /api/v1/services/aigc/video-generation/video-synthesis`.
pub async fn submit_first_frame(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    submit(Endpoint::FirstFrame, &shared, &request_id, &headers, &body)
}

/// `POST /api/v1/services/aigc/image2video/video-synthesis`.
pub async fn submit_key_frames(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    headers: HeaderMap,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    submit(Endpoint::KeyFrames, &shared, &request_id, &headers, &body)
}

/// What a valid submission asks for.
struct Submission {
    prompt: Option<String>,
    duration: u32,
    resolution_class: u32,
}

fn submit(
    endpoint: Endpoint,
    shared: &Shared,
    request_id: &RequestId,
    headers: &HeaderMap,
    body: &Map<String, Value>,
) -> Result<Response, ApiError> {
    let asynchronous = headers
        .get(ASYNC_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("enable"));
    if !asynchronous {
        return Err(ApiError::access_denied(
            "current user api does not support synchronous calls",
        ));
    }
    let model_name = body.required_str("model")?;
    let deployment = shared
        .store
        .read(|state, now| {
            state
                .deployment(model_name)
                .map(|d| (d.clone(), d.status_at(now, &state.timings)))
        })?
        .ok_or_else(ApiError::model_not_found)?;
    let (deployment, status) = deployment;
    if status != DeploymentStatus::Running {
        return Err(ApiError::unsupported_operation(format!(
            "The model {model_name} is not ready: its deployment is still PENDING"
        )));
    }
    if deployment.task != endpoint.task() {
        return Err(ApiError::invalid_parameter(format!(
            "The model {model_name} is a {} model and does not support the {} API",
            deployment.task,
            endpoint.path()
        )));
    }
    let profile = models::find(&deployment.base_model).ok_or_else(|| {
        ApiError::internal(format!("unknown base model {}", deployment.base_model))
    })?;
    let submission = check_submission(endpoint, profile, body)?;
    if let Some(limiter) = &shared.rate_limits {
        limiter.admit(
            &format!("video-submit:{model_name}"),
            profile.video_submits_per_second,
        )?;
    }
    let task_id = shared.store.write(|state, now| {
        if shared.rate_limits.is_some() {
            let in_flight = state
                .db
                .tasks
                .iter()
                .filter(|t| {
                    t.model == model_name
                        && t.status_at(now, &state.timings) != TaskStatus::Succeeded
                })
                .count();
            let limit = profile.concurrent_video_tasks;
            if in_flight >= usize::try_from(limit).unwrap_or(usize::MAX) {
                return Err(ApiError::throttled(
                    "Throttling.AllocationQuota",
                    format!("Too many tasks in flight for {model_name} (limit {limit})."),
                    1,
                ));
            }
        }
        let prompt_limit = match endpoint {
            Endpoint::FirstFrame => profile.max_prompt_chars,
            Endpoint::KeyFrames => synthesis::KF2V_MAX_PROMPT_CHARS,
        };
        // A prompt over the limit is truncated, not refused (spec §6.18).
        let actual_prompt = if deployment.use_input_prompt {
            submission
                .prompt
                .as_ref()
                .map(|p| p.chars().take(prompt_limit).collect())
        } else {
            deployment.lora_prompt_default.clone()
        };
        let task = TaskRecord {
            task_id: state.new_uuid(),
            task: endpoint.task(),
            model: model_name.to_owned(),
            submitted: now,
            orig_prompt: submission.prompt.clone(),
            actual_prompt,
            duration: submission.duration,
            resolution_class: submission.resolution_class,
        };
        let task_id = task.task_id.clone();
        state.db.tasks.push(task);
        Ok(task_id)
    })?;
    Ok(output(
        request_id,
        json!({ "task_id": task_id, "task_status": "PENDING" }),
    ))
}

/// Checks `input` and `parameters` against the endpoint's and the model's rules.
fn check_submission(
    endpoint: Endpoint,
    profile: &ModelProfile,
    body: &Map<String, Value>,
) -> Result<Submission, ApiError> {
    let empty = Map::new();
    let input = body
        .optional_object("input")?
        .ok_or_else(|| ApiError::invalid_parameter("Missing required parameter: input"))?;
    let parameters = body.optional_object("parameters")?.unwrap_or(&empty);
    match endpoint {
        Endpoint::FirstFrame => {
            check_image(input, "img_url", profile.max_input_image_bytes, true)?;
        }
        Endpoint::KeyFrames => {
            check_image(
                input,
                "first_frame_url",
                synthesis::KF2V_MAX_IMAGE_BYTES,
                true,
            )?;
            check_image(
                input,
                "last_frame_url",
                synthesis::KF2V_MAX_IMAGE_BYTES,
                false,
            )?;
        }
    }
    let prompt = input.optional_str("prompt")?.map(str::to_owned);
    if let Some(negative) = input.optional_str("negative_prompt")?
        && negative.chars().count() > synthesis::MAX_NEGATIVE_PROMPT_CHARS
    {
        return Err(ApiError::invalid_parameter(format!(
            "The parameter input.negative_prompt is longer than {} characters",
            synthesis::MAX_NEGATIVE_PROMPT_CHARS
        )));
    }
    input.optional_str("audio_url")?;
    let resolutions: &[&str] = match endpoint {
        Endpoint::KeyFrames => &synthesis::KF2V_RESOLUTIONS,
        Endpoint::FirstFrame if profile.lora_resolutions.is_empty() => &ALL_RESOLUTIONS,
        Endpoint::FirstFrame => profile.lora_resolutions,
    };
    let resolution = parameters.optional_str("resolution")?.unwrap_or("720P");
    if !resolutions.contains(&resolution) {
        return Err(ApiError::invalid_parameter(format!(
            "The resolution {resolution} is not supported by {}, use one of {}",
            profile.name,
            resolutions.join(", ")
        )));
    }
    let (durations, default_duration): (&[u32], u32) = match endpoint {
        Endpoint::FirstFrame => (profile.lora_durations, profile.default_lora_duration),
        Endpoint::KeyFrames => (&[synthesis::KF2V_DURATION], synthesis::KF2V_DURATION),
    };
    let duration = match parameters.optional_int("duration")? {
        None => default_duration,
        Some(d) => u32::try_from(d)
            .ok()
            .filter(|d| durations.contains(d))
            .ok_or_else(|| {
                let allowed: Vec<String> = durations.iter().map(u32::to_string).collect();
                ApiError::invalid_parameter(format!(
                    "The duration {d} is not supported by {}, use one of {}",
                    profile.name,
                    allowed.join(", ")
                ))
            })?,
    };
    if let Some(seed) = parameters.optional_int("seed")?
        && !(0..=i64::from(synthesis::MAX_SEED)).contains(&seed)
    {
        return Err(ApiError::invalid_parameter(format!(
            "The parameter seed: {seed} is invalid, it must be from 0 to {}",
            synthesis::MAX_SEED
        )));
    }
    parameters.optional_bool("prompt_extend")?;
    parameters.optional_bool("watermark")?;
    Ok(Submission {
        prompt,
        duration,
        resolution_class: resolution.trim_end_matches('P').parse().unwrap_or(720),
    })
}

/// Checks an image input: an http(s) or `oss://` URL (not fetched), or a `data:` URL whose
/// bytes must be an accepted image within the size and side limits.
fn check_image(
    input: &Map<String, Value>,
    key: &str,
    max_bytes: u64,
    required: bool,
) -> Result<(), ApiError> {
    let Some(url) = input.optional_str(key)? else {
        return if required {
            Err(ApiError::invalid_parameter(format!(
                "Missing required parameter: input.{key}"
            )))
        } else {
            Ok(())
        };
    };
    let invalid =
        |why: String| ApiError::invalid_parameter(format!("The parameter input.{key} {why}"));
    if let Some(data) = url.strip_prefix("data:") {
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        let bytes = decode_data_url(data, max_bytes).map_err(invalid)?;
        return check_image_bytes(&bytes).map_err(invalid);
    }
    let remote = ["http://", "https://", "oss://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme));
    match remote {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        _ => Err(invalid(
            "must be an http(s) URL, an oss:// URL or a data:<mime>;base64,<data> URL".into(),
        )),
    }
}

/// Decodes the part of a `data:` URL after `data:`, refusing more than `max_bytes` before
/// allocating for it.
fn decode_data_url(data: &str, max_bytes: usize) -> Result<Vec<u8>, String> {
    let (meta, payload) = data
        .split_once(',')
        .ok_or("is a data: URL without a comma before its data")?;
    if !meta.to_ascii_lowercase().ends_with(";base64") {
        return Err("must be a base64 data: URL (data:<mime>;base64,<data>)".into());
    }
    let payload = payload.trim();
    if payload.len() / 4 * 3 > max_bytes.saturating_add(3) {
        return Err(format!("holds an image larger than {max_bytes} bytes"));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(payload)
        .map_err(|e| format!("is not valid base64 ({e})"))?;
    if bytes.len() > max_bytes {
        return Err(format!("holds an image larger than {max_bytes} bytes"));
    }
    Ok(bytes)
}

/// The bytes must be a JPEG, PNG (without alpha), BMP or WEBP image with sides in range.
fn check_image_bytes(bytes: &[u8]) -> Result<(), String> {
    let head = &bytes[..bytes.len().min(media::SNIFF_LEN)];
    match media::sniff(head) {
        Sniffed::Image(format) if format.accepted() => {}
        Sniffed::Image(format) => {
            return Err(format!(
                "is a {} image, which is not accepted",
                format.name()
            ));
        }
        _ => return Err("is not a JPEG, PNG, BMP or WEBP image".into()),
    }
    if crate::media::image::png_has_alpha(bytes) {
        return Err("is a PNG with an alpha channel, which is not accepted".into());
    }
    let size =
        imagesize::blob_size(bytes).map_err(|_| "has unreadable image dimensions".to_owned())?;
    let sides = synthesis::IMAGE_SIDE_PIXELS;
    for side in [size.width, size.height] {
        if !u32::try_from(side).is_ok_and(|side| sides.contains(&side)) {
            return Err(format!(
                "is {}×{} pixels; each side must be from {} to {} pixels",
                size.width,
                size.height,
                sides.start(),
                sides.end()
            ));
        }
    }
    Ok(())
}

/// `GET /api/v1/tasks/{task_id}`. Unknown or expired ids answer 200 with `UNKNOWN`.
pub async fn get(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    headers: HeaderMap,
    PathParams(task_id): PathParams<String>,
) -> Result<Response, ApiError> {
    let base = public_base(&headers, &shared);
    let body = shared.store.read(|state, now| {
        let timings = &state.timings;
        let Some(task) = state
            .db
            .tasks
            .iter()
            .find(|t| t.task_id == task_id)
            .filter(|t| t.alive_at(now))
        else {
            return json!({
                "request_id": request_id,
                "output": { "task_id": task_id, "task_status": "UNKNOWN" },
            });
        };
        let status = task.status_at(now, timings);
        let mut out = json!({
            "task_id": task.task_id,
            "task_status": match status {
                TaskStatus::Pending => "PENDING",
                TaskStatus::Running => "RUNNING",
                TaskStatus::Succeeded => "SUCCEEDED",
            },
            "submit_time": task.submitted.task_format(),
        });
        if status != TaskStatus::Pending {
            out["scheduled_time"] = json!(task.scheduled_at(timings).task_format());
        }
        if let Some(prompt) = &task.orig_prompt {
            out["orig_prompt"] = json!(prompt);
        }
        if let Some(prompt) = &task.actual_prompt {
            out["actual_prompt"] = json!(prompt);
        }
        let mut body = json!({ "request_id": request_id, "output": out });
        if status == TaskStatus::Succeeded {
            let finished = task.finished_at(timings);
            body["output"]["end_time"] = json!(finished.task_format());
            body["output"]["video_url"] = json!(signed_url(
                &base,
                &state.db.account.blob_secret,
                &format!("tasks/{}.mp4", task.task_id),
                finished,
            ));
            body["usage"] = json!({
                "video_duration": task.duration,
                "video_count": 1,
                "SR": task.resolution_class,
            });
            // First-frame tasks also carry the seed's `duration` (spec §6.20, §8.10).
            if task.task == TaskType::I2v {
                body["usage"]["duration"] = json!(task.duration);
            }
        }
        body
    })?;
    Ok(Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_urls_are_bounded_before_decoding() {
        let small = base64::engine::general_purpose::STANDARD.encode([1u8; 30]);
        assert_eq!(
            decode_data_url(&format!("image/png;base64,{small}"), 100),
            Ok(vec![1u8; 30])
        );
        assert!(
            decode_data_url(&format!("image/png;base64,{small}"), 10)
                .unwrap_err()
                .contains("larger than 10")
        );
        assert!(
            decode_data_url("image/png,raw", 100)
                .unwrap_err()
                .contains("base64")
        );
        assert!(
            decode_data_url("image/png;base64", 100)
                .unwrap_err()
                .contains("comma")
        );
        assert!(
            decode_data_url("image/png;base64,@@@@", 100)
                .unwrap_err()
                .contains("not valid base64")
        );
    }

    #[test]
    fn image_bytes_are_sniffed_and_measured() {
        let jpeg = crate::emulator::blobs::PREVIEW_JPEG;
        assert_eq!(check_image_bytes(jpeg), Ok(()));
        assert!(
            check_image_bytes(b"GIF89a....")
                .unwrap_err()
                .contains("GIF image, which is not accepted")
        );
        assert!(
            check_image_bytes(b"%PDF-1.7 ....")
                .unwrap_err()
                .contains("not a JPEG")
        );
        // A PNG header declaring 100×100 RGB: too small.
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&100u32.to_be_bytes());
        png.extend_from_slice(&100u32.to_be_bytes());
        png.extend_from_slice(&[8, 2, 0, 0, 0]);
        assert!(check_image_bytes(&png).unwrap_err().contains("100×100"));
        png[COLOUR_TYPE_INDEX] = 6;
        assert!(check_image_bytes(&png).unwrap_err().contains("alpha"));
    }

    const COLOUR_TYPE_INDEX: usize = 25;
}
