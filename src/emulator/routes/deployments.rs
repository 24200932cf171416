//! LoRA deployments (spec §6.15–§6.17), plus a paged listing the spec does not document.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use serde_json::{Value, json};

use super::{BodyFields, JsonObject, PathParams, QueryParams, output};
use crate::emulator::Shared;
use crate::emulator::Timings;
use crate::emulator::clock::EmuTime;
use crate::emulator::error::{ApiError, RequestId};
use crate::emulator::job::{ExportStatus, JobStatus};
use crate::emulator::state::{Account, DeploymentRecord, DeploymentStatus, State as AccountState};
use crate::models::{self, TaskType};

/// The only deployment plan for Wan LoRA models.
const LORA: &str = "lora";

/// The deployment record of spec §6.15 with the status `status`.
fn deployment_record(
    deployment: &DeploymentRecord,
    account: &Account,
    status: &str,
    modified: EmuTime,
) -> Value {
    json!({
        "deployed_model": deployment.deployed_model,
        "gmt_create": deployment.created.iso_millis(),
        "gmt_modified": modified.iso_millis(),
        "status": status,
        "model_name": deployment.model_name,
        "base_model": deployment.base_model,
        "workspace_id": account.workspace_id,
        "charge_type": "post_paid",
        "creator": account.user_id,
        "modifier": account.user_id,
        "plan": LORA,
    })
}

/// The record as of `now`.
fn current_record(
    deployment: &DeploymentRecord,
    account: &Account,
    now: EmuTime,
    timings: &Timings,
) -> Value {
    match deployment.status_at(now, timings) {
        DeploymentStatus::Pending => {
            deployment_record(deployment, account, "PENDING", deployment.created)
        }
        DeploymentStatus::Running => deployment_record(
            deployment,
            account,
            "RUNNING",
            deployment.running_since(timings),
        ),
    }
}

/// The deployable model named `model_name`: a succeeded job's `finetuned_output` or an exported
/// checkpoint. Returns its base model and task.
fn resolve_model(
    state: &AccountState,
    model_name: &str,
    now: EmuTime,
) -> Result<(String, TaskType), ApiError> {
    let timings = &state.timings;
    for job in &state.db.jobs {
        // Models are checked at job creation; an unknown one can only come from an edited state.
        let task = models::find(&job.model).map_or(TaskType::I2v, |p| job.hyper.task(p));
        if job.finetuned_output() == model_name {
            let status = job.status_at(now, timings);
            if status != JobStatus::Succeeded {
                return Err(ApiError::unsupported_operation(format!(
                    "The job {} is {}; its model can be deployed once it has succeeded",
                    job.job_id,
                    status.as_str()
                )));
            }
            return Ok((job.model.clone(), task));
        }
        for (step, export) in &job.exports {
            if job.exported_model_name(*step) == model_name {
                if job.export_status_at(export, now, timings) != ExportStatus::Succeeded {
                    return Err(ApiError::unsupported_operation(format!(
                        "The export of {model_name} has not finished yet"
                    )));
                }
                return Ok((job.model.clone(), task));
            }
        }
    }
    Err(ApiError::not_found())
}

/// `POST /api/v1/deployments`.
pub async fn create(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let model_name = body.required_str("model_name")?.to_owned();
    let capacity = body
        .optional_int("capacity")?
        .ok_or_else(|| ApiError::invalid_parameter("Missing required parameter: capacity"))?;
    let capacity = u32::try_from(capacity)
        .ok()
        .filter(|c| *c >= 1)
        .ok_or_else(|| {
            ApiError::invalid_parameter(format!(
                "The parameter capacity: {capacity} is invalid, it must be a positive integer"
            ))
        })?;
    let plan = body.required_str("plan")?;
    if plan != LORA {
        return Err(ApiError::invalid_parameter(format!(
            "The plan {plan} is not supported, it must be {LORA}"
        )));
    }
    // Optional (spec §8.6): the official SDK cannot send it. Without it the platform's
    // default prompt handling applies; the emulator's convention is the caller's prompt.
    let (use_input_prompt, lora_prompt_default) = match body.optional_object("aigc_config")? {
        None => (true, None),
        Some(aigc) => {
            let use_input_prompt = aigc.optional_bool("use_input_prompt")?.ok_or_else(|| {
                ApiError::invalid_parameter(
                    "Missing required parameter: aigc_config.use_input_prompt",
                )
            })?;
            // The templates matter only when the caller's prompt is ignored.
            if !use_input_prompt {
                for key in ["prompt", "lora_prompt_default"] {
                    aigc.required_str(key).map_err(|_| {
                        ApiError::invalid_parameter(format!(
                            "Missing required parameter: aigc_config.{key} (required when use_input_prompt is false)"
                        ))
                    })?;
                }
            }
            let default = aigc.optional_str("lora_prompt_default")?.map(str::to_owned);
            (use_input_prompt, default)
        }
    };
    let record = shared.store.write(|state, now| {
        let (base_model, task) = resolve_model(state, &model_name, now)?;
        if state.deployment(&model_name).is_some() {
            return Err(ApiError::conflict(format!(
                "A deployment of model {model_name} already exists."
            )));
        }
        let deployment = DeploymentRecord {
            deployed_model: model_name.clone(),
            model_name: model_name.clone(),
            base_model,
            task,
            capacity,
            created: now,
            use_input_prompt,
            lora_prompt_default,
        };
        let record = current_record(&deployment, &state.db.account, now, &state.timings);
        state.db.deployments.push(deployment);
        Ok(record)
    })?;
    Ok(output(&request_id, record))
}

/// `GET /api/v1/deployments/{deployed_model}`.
pub async fn get(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams(deployed_model): PathParams<String>,
) -> Result<Response, ApiError> {
    let record = shared
        .store
        .read(|state, now| {
            state
                .deployment(&deployed_model)
                .map(|d| current_record(d, &state.db.account, now, &state.timings))
        })?
        .ok_or_else(ApiError::not_found)?;
    Ok(output(&request_id, record))
}

/// `GET /api/v1/deployments` (not in the spec): `page_no`, `page_size` (≤ 100), newest first,
/// `output.{page_no, page_size, total, deployments[]}`.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    params: QueryParams,
) -> Result<Response, ApiError> {
    let page = params.page(10, 100)?;
    let listing = shared.store.read(|state, now| {
        let newest_first: Vec<&DeploymentRecord> = state.db.deployments.iter().rev().collect();
        let items: Vec<Value> = page
            .slice(&newest_first)
            .iter()
            .map(|d| current_record(d, &state.db.account, now, &state.timings))
            .collect();
        page.listing("deployments", newest_first.len(), items)
    })?;
    Ok(output(&request_id, listing))
}

/// `DELETE /api/v1/deployments/{deployed_model}`: answers the record with `DELETING`; the
/// deployment is gone at once (later calls: 404).
pub async fn delete(
    State(shared): State<Arc<Shared>>,
    request_id: RequestId,
    PathParams(deployed_model): PathParams<String>,
) -> Result<Response, ApiError> {
    let record = shared.store.write(|state, now| {
        let index = state
            .db
            .deployments
            .iter()
            .position(|d| d.deployed_model == deployed_model)
            .ok_or_else(ApiError::not_found)?;
        let deployment = state.db.deployments.remove(index);
        Ok(deployment_record(
            &deployment,
            &state.db.account,
            "DELETING",
            now,
        ))
    })?;
    Ok(output(&request_id, record))
}
