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

use super::{BodyFields, JsonObject, PathParams, oss, output};
use crate::emulator::Shared;
use crate::emulator::blobs::{public_base, signed_url};
use crate::emulator::error::{ApiError, RequestId};
use crate::emulator::state::{DeploymentStatus, TaskRecord, TaskStatus};
use crate::media::{self, Sniffed};
use crate::models::{self, GenerationProtocol, ModelProfile, TaskType, synthesis};

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
    /// `oss://` inputs still to resolve: field, key and size limit.
    oss_inputs: Vec<OssInput>,
}

/// An `oss://` image input, resolved once the shape of the whole request has been checked.
struct OssInput {
    field: String,
    key: String,
    max_bytes: u64,
}

/// Resolves the `oss://` inputs (spec §8.7): only with the resolve header, only objects
/// uploaded here less than 48 hours ago, and their bytes must be an accepted image. Returns
/// their keys.
fn resolve_oss_inputs(
    shared: &Shared,
    headers: &HeaderMap,
    inputs: &[OssInput],
) -> Result<Vec<String>, ApiError> {
    if inputs.is_empty() {
        return Ok(Vec::new());
    }
    let enabled = headers
        .get(oss::RESOLVE_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("enable"));
    let now = shared.store.now();
    let mut keys = Vec::new();
    for input in inputs {
        let invalid = |why: String| {
            ApiError::invalid_parameter(format!("The parameter {} {why}", input.field))
        };
        if !enabled {
            return Err(invalid(
                "is an oss:// URL, which needs the header X-DashScope-OssResourceResolve: enable"
                    .into(),
            ));
        }
        let bytes = oss::resolve(shared, &input.key, input.max_bytes, now).map_err(invalid)?;
        check_image_bytes(&bytes).map_err(invalid)?;
        keys.push(input.key.clone());
    }
    Ok(keys)
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
    let profile = models::find(&deployment.base_model).ok_or_else(|| {
        ApiError::internal(format!("unknown base model {}", deployment.base_model))
    })?;
    let protocol = profile.generation_protocol;
    match protocol {
        // wan2.7 (spec §8.9): first frame and key frames alike on video-generation, as media[].
        GenerationProtocol::Media if endpoint == Endpoint::KeyFrames => {
            return Err(ApiError::invalid_parameter(format!(
                "The model {model_name} takes input.media[] on video-generation/video-synthesis; \
                 the {} API does not support it",
                endpoint.path()
            )));
        }
        GenerationProtocol::Media => {}
        GenerationProtocol::FrameUrls if deployment.task != endpoint.task() => {
            return Err(ApiError::invalid_parameter(format!(
                "The model {model_name} is a {} model and does not support the {} API",
                deployment.task,
                endpoint.path()
            )));
        }
        GenerationProtocol::FrameUrls => {}
    }
    let submission = check_submission(endpoint, profile, deployment.task, body)?;
    let oss_keys = resolve_oss_inputs(shared, headers, &submission.oss_inputs)?;
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
            task: deployment.task,
            model: model_name.to_owned(),
            submitted: now,
            orig_prompt: submission.prompt.clone(),
            actual_prompt,
            duration: submission.duration,
            resolution_class: submission.resolution_class,
        };
        let task_id = task.task_id.clone();
        state.db.tasks.push(task);
        for object in state
            .db
            .oss_objects
            .iter_mut()
            .filter(|o| oss_keys.contains(&o.key))
        {
            object.resolved_by.push(task_id.clone());
        }
        Ok(task_id)
    })?;
    Ok(output(
        request_id,
        json!({ "task_id": task_id, "task_status": "PENDING" }),
    ))
}

/// The legacy frame keys of §6.18–§6.19, which wan2.7 deployments refuse.
const FRAME_URL_KEYS: [&str; 3] = ["img_url", "first_frame_url", "last_frame_url"];
/// `media[]` item types of wan2.7 (spec §8.9).
const MEDIA_TYPES: [&str; 4] = ["first_frame", "last_frame", "driving_audio", "first_clip"];

/// Checks `input` and `parameters` against the endpoint's, the protocol's and the model's rules;
/// `task` is what the deployed model generates from.
fn check_submission(
    endpoint: Endpoint,
    profile: &ModelProfile,
    task: TaskType,
    body: &Map<String, Value>,
) -> Result<Submission, ApiError> {
    let empty = Map::new();
    let input = body
        .optional_object("input")?
        .ok_or_else(|| ApiError::invalid_parameter("Missing required parameter: input"))?;
    let parameters = body.optional_object("parameters")?.unwrap_or(&empty);
    let mut oss_inputs = Vec::new();
    match (profile.generation_protocol, endpoint) {
        (GenerationProtocol::Media, _) => {
            if let Some(key) = FRAME_URL_KEYS.iter().find(|k| input.contains_key(**k)) {
                return Err(ApiError::invalid_parameter(format!(
                    "The parameter input.{key} is not supported by {}: pass the frames as \
                     input.media[] items {{type, url}} (first_frame, last_frame)",
                    profile.name
                )));
            }
            check_media(input, profile, task, &mut oss_inputs)?;
        }
        (GenerationProtocol::FrameUrls, _) if input.contains_key("media") => {
            return Err(ApiError::invalid_parameter(format!(
                "The parameter input.media is not supported by {}: it takes {}",
                profile.name,
                match endpoint {
                    Endpoint::FirstFrame => "input.img_url",
                    Endpoint::KeyFrames => "input.first_frame_url and input.last_frame_url",
                }
            )));
        }
        (GenerationProtocol::FrameUrls, Endpoint::FirstFrame) => {
            check_image(
                input,
                "img_url",
                profile.max_input_image_bytes,
                true,
                &mut oss_inputs,
            )?;
        }
        (GenerationProtocol::FrameUrls, Endpoint::KeyFrames) => {
            check_image(
                input,
                "first_frame_url",
                synthesis::KF2V_MAX_IMAGE_BYTES,
                true,
                &mut oss_inputs,
            )?;
            check_image(
                input,
                "last_frame_url",
                synthesis::KF2V_MAX_IMAGE_BYTES,
                false,
                &mut oss_inputs,
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
        oss_inputs,
    })
}

/// Checks `input.media[]`: `{type, url}` items, exactly one `first_frame`, a `last_frame`
/// only for key-frame deployments, images checked as the other shapes' are.
fn check_media(
    input: &Map<String, Value>,
    profile: &ModelProfile,
    task: TaskType,
    oss_inputs: &mut Vec<OssInput>,
) -> Result<(), ApiError> {
    let invalid =
        |why: String| ApiError::invalid_parameter(format!("The parameter input.media {why}"));
    let items = match input.get("media") {
        None | Some(Value::Null) => {
            return Err(ApiError::invalid_parameter(
                "Missing required parameter: input.media",
            ));
        }
        Some(Value::Array(items)) => items,
        Some(_) => return Err(invalid("must be an array of {type, url} objects".into())),
    };
    let mut seen = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let item = item
            .as_object()
            .ok_or_else(|| invalid(format!("item {index} must be an object {{type, url}}")))?;
        let kind = item.required_str("type").map_err(|_| {
            invalid(format!(
                "item {index} needs a type ({})",
                MEDIA_TYPES.join(", ")
            ))
        })?;
        if !MEDIA_TYPES.contains(&kind) {
            return Err(invalid(format!(
                "item {index} has the type {kind}; use one of {}",
                MEDIA_TYPES.join(", ")
            )));
        }
        if seen.contains(&kind) {
            return Err(invalid(format!("holds more than one {kind}")));
        }
        seen.push(kind);
        if kind == "last_frame" && task != TaskType::Kf2v {
            return Err(invalid(
                "holds a last_frame, but this deployment generates from a first frame only (i2v)"
                    .into(),
            ));
        }
        let field = format!("input.media[{index}].url");
        if matches!(kind, "first_frame" | "last_frame") {
            let url = item.optional_str("url")?;
            check_image_url(url, &field, profile.max_input_image_bytes, true, oss_inputs)?;
        } else {
            item.required_str("url").map_err(|_| {
                ApiError::invalid_parameter(format!("Missing required parameter: {field}"))
            })?;
        }
    }
    if !seen.contains(&"first_frame") {
        return Err(invalid("needs a first_frame item".into()));
    }
    Ok(())
}

/// Checks an image input: an http(s) URL (not fetched), an `oss://` URL (resolved later, see
/// [`resolve_oss_inputs`]), or a `data:` URL whose bytes must be an accepted image within the
/// size and side limits.
fn check_image(
    input: &Map<String, Value>,
    key: &str,
    max_bytes: u64,
    required: bool,
    oss_inputs: &mut Vec<OssInput>,
) -> Result<(), ApiError> {
    let url = input.optional_str(key)?;
    check_image_url(
        url,
        &format!("input.{key}"),
        max_bytes,
        required,
        oss_inputs,
    )
}

/// [`check_image`] of a value already taken out of the request; `field` names it in messages.
fn check_image_url(
    url: Option<&str>,
    field: &str,
    max_bytes: u64,
    required: bool,
    oss_inputs: &mut Vec<OssInput>,
) -> Result<(), ApiError> {
    let Some(url) = url else {
        return if required {
            Err(ApiError::invalid_parameter(format!(
                "Missing required parameter: {field}"
            )))
        } else {
            Ok(())
        };
    };
    let invalid = |why: String| ApiError::invalid_parameter(format!("The parameter {field} {why}"));
    if let Some(data) = url.strip_prefix("data:") {
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        let bytes = decode_data_url(data, max_bytes).map_err(invalid)?;
        return check_image_bytes(&bytes).map_err(invalid);
    }
    if let Some(object) = url.strip_prefix("oss://") {
        if object.is_empty() || object.starts_with('/') {
            return Err(invalid("is an oss:// URL without an object key".into()));
        }
        oss_inputs.push(OssInput {
            field: field.to_owned(),
            key: object.to_owned(),
            max_bytes,
        });
        return Ok(());
    }
    let remote = ["http://", "https://"]
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
