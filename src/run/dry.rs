//! `wanft run --dry-run`: the requests a run would send, and the fee, without sending any (and
//! without an API key). The datasets are checked and planned; the zips are laid out to know
//! their size, not written.

use serde_json::json;

use super::local::{self, Local, Prepared};
use super::{PlannedRequest, Project, Reporter, RunError, RunOptions, RunReport, Step};
use crate::api::files::FileApi;
use crate::api::generation::{Endpoint, Synthesis};
use crate::api::jobs::NewJob;
use crate::dataset::Role;
use crate::models::Region;
use crate::report::human_bytes;

/// Plans the run for `region` and the API host `base_url` (`None`: the region's) and lists the
/// requests it would send, up to `options.until`.
pub fn dry_run(
    project: &Project,
    options: &RunOptions,
    region: Region,
    base_url: Option<&str>,
    reporter: &dyn Reporter,
) -> Result<RunReport, RunError> {
    let local = match local::prepare(project, options, region, reporter, false)? {
        Prepared::Stopped(report) => return Ok(*report),
        Prepared::Ready(local) => local,
    };
    let base = base_url
        .unwrap_or(region.base_url())
        .trim_end_matches('/')
        .to_owned();
    let requests = requests(project, options, region, &base, &local);
    Ok(RunReport {
        stop: None,
        plan: Some(local.plan),
        state: None,
        state_path: local.state_path,
        out_dir: None,
        billed: None,
        requests,
    })
}

fn requests(
    project: &Project,
    options: &RunOptions,
    region: Region,
    base: &str,
    local: &Local,
) -> Vec<PlannedRequest> {
    let url = |path: &str| format!("{base}/{path}");
    let until = options.until;
    let mut out = Vec::new();
    let mut add = |step: Step, method, path: String, body, note: String| {
        if step <= until {
            out.push(PlannedRequest {
                step: step.as_str(),
                method,
                url: url(&path),
                body,
                note,
            });
        }
    };
    let files = FileApi::for_region(region).collection().join("/");
    let mut placeholders = (Vec::new(), Vec::new());
    for set in local.sets() {
        let name = set
            .zip
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let id = format!("<file id of {name}>");
        match set.role {
            Role::Training => placeholders.0.push(id),
            Role::Validation => placeholders.1.push(id),
        }
        add(
            Step::Upload,
            "POST",
            files.clone(),
            None,
            format!(
                "multipart upload of {name} ({}, {}), packed from {}; skipped when the upload \
                 ledger or the run's state shows it is already there",
                human_bytes(set.size),
                match set.role {
                    Role::Training => "training",
                    Role::Validation => "validation",
                },
                set.path.display()
            ),
        );
    }
    let job = NewJob {
        model: project.model,
        training_file_ids: placeholders.0,
        validation_file_ids: placeholders.1,
        hyper_parameters: local.job_hyper.clone(),
        job_name: Some("<wanft-… unique, recorded before it is sent>".into()),
        model_name: None,
    };
    add(
        Step::Create,
        "GET",
        format!(
            "api/v1/fine-tunes?page_no=1&page_size=100&model={}",
            project.model.name
        ),
        None,
        "the jobs that exist before the create (to find the job if its answer is lost)".into(),
    );
    add(
        Step::Create,
        "POST",
        "api/v1/fine-tunes".into(),
        Some(job.body()),
        format!("creates the job; billed: {}", local::plan_line(&local.plan)),
    );
    add(
        Step::Train,
        "GET",
        "api/v1/fine-tunes/<job id>".into(),
        None,
        format!(
            "until the job ends, at most {} s apart (quicker while it is young); with \
             GET …/logs for the log tail",
            options.poll.as_secs_f64()
        ),
    );
    add(
        Step::Previews,
        "GET",
        "api/v1/fine-tunes/<job id>/validation-results".into(),
        None,
        "then GET …/validation-details/<checkpoint> per checkpoint, and each preview video \
         (signed links, no key) downloaded"
            .into(),
    );
    let exported = options.checkpoint.is_some();
    add(
        Step::Export,
        "GET",
        "api/v1/fine-tunes/<job id>/checkpoints".into(),
        None,
        if exported {
            "then GET …/export/<checkpoint>?model_name=<job id>-<checkpoint>, followed until \
             it ends"
                .into()
        } else {
            "the final checkpoint is the job's finetuned_output: nothing to export".into()
        },
    );
    let model_name = if exported {
        "<exported model name>"
    } else {
        "<finetuned_output>"
    };
    add(
        Step::Deploy,
        "POST",
        "api/v1/deployments".into(),
        Some(json!({
            "model_name": model_name,
            "capacity": 1,
            "plan": "lora",
            "aigc_config": "<[deploy] of wanft.toml, or use_input_prompt: true>",
        })),
        "unless the model is deployed already; then GET …/deployments/<id> until RUNNING \
         (deploying is free, spec §5.3)"
            .into(),
    );
    let samples = local
        .validation
        .iter()
        .map(|v| v.report.dataset.samples.len())
        .sum::<usize>();
    let count = if local.validation.is_empty() {
        local.plan.samples.validation
    } else {
        samples
    };
    let synthesis = Synthesis {
        model: "<deployed_model>".into(),
        endpoint: Endpoint::choose(project.config.dataset.mode, false, Some(project.model)),
        first_frame: "data:image/…;base64,<validation image>".into(),
        last_frame: None,
        prompt: None,
        negative_prompt: None,
        resolution: options.resolution.clone(),
        duration: options.duration,
        seed: None,
    };
    let path = synthesis_path(synthesis.endpoint);
    add(
        Step::Generate,
        "POST",
        path,
        Some(synthesis.body()),
        format!(
            "{count} times, one per validation image; billed per second of video; then GET \
             api/v1/tasks/<task id> until each ends, and the videos downloaded"
        ),
    );
    out
}

fn synthesis_path(endpoint: Endpoint) -> String {
    endpoint.path().join("/")
}
