//! Every endpoint of spec §6 through the client, in both region styles: upload, files, jobs,
//! logs, checkpoints, previews, export, deployments, generation, tasks, cancel and delete.

mod api_support;

use api_support::{Emu, config, example_image, example_zip, start};
use wanft::api::checkpoints::{self, ExportStatus};
use wanft::api::deployments::{self, AigcConfig, DeploymentStatus, NewDeployment};
use wanft::api::download::download;
use wanft::api::files::{self, FileApi};
use wanft::api::generation::{self, Endpoint, InferenceRules, Synthesis, TaskStatus};
use wanft::api::images::image_url;
use wanft::api::jobs::{self, JobQuery, JobStatus, NewJob};
use wanft::api::multipart::{SendOptions, send_file};
use wanft::api::{ApiError, Client};
use wanft::hyper::HyperParams;
use wanft::models::{self, Region};
use wanft::progress::Silent;

const STALL: std::time::Duration = std::time::Duration::from_secs(30);

async fn upload(client: &Client, path: &std::path::Path) -> String {
    let options = SendOptions {
        stall_timeout: STALL,
        hash: true,
        progress: &Silent,
    };
    let sent = send_file(client, path, &options).await.expect("upload");
    assert_eq!(
        sent.sha256.as_deref(),
        Some(api_support::sha256_of(path).as_str())
    );
    assert_eq!(
        sent.file.bytes,
        Some(std::fs::metadata(path).unwrap().len())
    );
    sent.file.id
}

async fn lifecycle(region: Region) {
    let emu: Emu = start(config()).await;
    let client = emu.client(region);
    let dir = tempfile::tempdir().unwrap();
    let model = models::find("wan2.5-i2v-preview").unwrap();

    // Files (§6.1–§6.4).
    let training = upload(&client, &example_zip(dir.path(), "i2v-train")).await;
    let validation = upload(&client, &example_zip(dir.path(), "i2v-val")).await;
    match FileApi::for_region(region) {
        FileApi::Compatible => assert!(training.starts_with("file-ft-"), "{training}"),
        FileApi::Native => assert_eq!(training.len(), 36, "a UUID: {training}"),
    }
    let listed = files::list_files(&client, 100).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, [training.as_str(), validation.as_str()]);
    assert_eq!(files::list_files(&client, 1).await.unwrap().len(), 1);
    let described = files::get_file(&client, &training).await.unwrap();
    assert_eq!(described.name.as_deref(), Some("i2v-train.zip"));

    // Jobs (§6.5–§6.8).
    let new_job = NewJob {
        model,
        training_file_ids: vec![training.clone()],
        validation_file_ids: vec![validation.clone()],
        hyper_parameters: HyperParams {
            n_epochs: Some(100),
            eval_epochs: Some(20),
            ..HyperParams::default()
        },
        job_name: None,
        model_name: None,
    };
    let job = jobs::create_job(&client, &new_job).await.unwrap();
    assert_eq!(job.status, JobStatus::Pending);
    assert_eq!(job.training_file_ids, std::slice::from_ref(&training));
    let query = JobQuery {
        model: Some(model.name.into()),
        page_no: 1,
        page_size: 10,
    };
    let page = jobs::list_jobs(&client, &query).await.unwrap();
    assert_eq!(page.total, Some(1));
    assert_eq!(page.jobs[0].job_id, job.job_id);
    let other_model = JobQuery {
        model: Some("wan2.2-i2v-flash".into()),
        ..query.clone()
    };
    assert!(
        jobs::list_jobs(&client, &other_model)
            .await
            .unwrap()
            .jobs
            .is_empty()
    );

    emu.advance(3600.0).await;
    let done = jobs::get_job(&client, &job.job_id).await.unwrap();
    assert_eq!(done.status, JobStatus::Succeeded, "{done:?}");
    assert!(done.usage.is_some_and(|u| u > 0));
    assert!(done.end_time.is_some());
    let logs = jobs::job_logs(&client, &job.job_id).await.unwrap();
    assert_eq!(
        logs.logs.last().map(|l| l.ends_with("##FT_COMPLETE##")),
        Some(true)
    );
    assert_eq!(logs.total, Some(logs.logs.len() as u64));

    // Checkpoints (§6.11–§6.14).
    let previewed = checkpoints::previewed_checkpoints(&client, &job.job_id)
        .await
        .unwrap();
    let steps: Vec<u64> = previewed
        .iter()
        .filter_map(|c| checkpoints::step_of(c))
        .collect();
    assert!(
        steps.len() >= 2 && steps.windows(2).all(|w| w[0] < w[1]),
        "{previewed:?}"
    );
    let last = previewed.last().unwrap();
    let previews = checkpoints::previews(&client, &job.job_id, last)
        .await
        .unwrap();
    assert_eq!(previews.len(), 3, "one per validation line");
    assert!(
        previews[0]
            .prompt
            .as_deref()
            .unwrap()
            .contains("The video begins")
    );
    let video = dir.path().join("preview.mp4");
    let bytes = download(
        &client,
        previews[0].video_path.as_deref().unwrap(),
        &video,
        STALL,
        &Silent,
    )
    .await
    .unwrap();
    assert_eq!(bytes, std::fs::metadata(&video).unwrap().len());
    assert_eq!(&std::fs::read(&video).unwrap()[4..8], b"ftyp");

    let listed = checkpoints::checkpoints(&client, &job.job_id)
        .await
        .unwrap();
    assert_eq!(listed.len(), previewed.len());
    assert!(listed.iter().all(|c| !c.export_requested()));
    let first = &previewed[0];
    let exported = checkpoints::export(&client, &job.job_id, first, "my_export")
        .await
        .unwrap();
    assert!(exported.export_requested());
    assert_eq!(exported.model_display_name.as_deref(), Some("my_export"));
    emu.advance(120.0).await;
    let exported = checkpoints::find_checkpoint(&client, &job.job_id, first)
        .await
        .unwrap();
    assert_eq!(exported.status, ExportStatus::Succeeded);
    let exported_model = exported.model_name.clone().expect("deployable name");

    // Deployments (§6.15–§6.17).
    let new_deployment = NewDeployment {
        model_name: exported_model.clone(),
        capacity: 1,
        aigc_config: Some(AigcConfig {
            use_input_prompt: true,
            ..AigcConfig::default()
        }),
    };
    let deployment = deployments::create_deployment(&client, &new_deployment)
        .await
        .unwrap();
    assert_eq!(deployment.status, DeploymentStatus::Pending);
    let conflict = deployments::create_deployment(&client, &new_deployment)
        .await
        .unwrap_err();
    assert_eq!(conflict.code(), Some("Conflict"), "{conflict}");
    assert!(conflict.hint().unwrap().contains("deploy list"));
    emu.advance(300.0).await;
    let running = deployments::get_deployment(&client, &deployment.deployed_model)
        .await
        .unwrap();
    assert_eq!(running.status, DeploymentStatus::Running);
    assert_eq!(running.base_model.as_deref(), Some(model.name));
    let all = deployments::all_deployments(&client).await.unwrap();
    assert_eq!(all.len(), 1);

    // Generation (§6.18–§6.20).
    let rules = InferenceRules::of(Endpoint::I2v, Some(model));
    let synthesis = Synthesis {
        model: running.deployed_model.clone(),
        endpoint: Endpoint::I2v,
        first_frame: image_url(example_image().to_str().unwrap(), rules.max_image_bytes).unwrap(),
        last_frame: None,
        prompt: Some("a cat, then the v7nq2r ripple shatter effect".into()),
        negative_prompt: None,
        resolution: "480P".into(),
        duration: Some(5),
        seed: Some(42),
    };
    synthesis.check(&rules).unwrap();
    let task = generation::submit(&client, &synthesis).await.unwrap();
    assert_eq!(task.task_status, TaskStatus::Pending);
    emu.advance(60.0).await;
    let task = generation::get_task(&client, &task.task_id).await.unwrap();
    assert_eq!(task.task_status, TaskStatus::Succeeded, "{task:?}");
    assert_eq!(task.usage.as_ref().and_then(|u| u.sr), Some(480));
    assert_eq!(task.orig_prompt, synthesis.prompt);
    let out = dir.path().join("out/video.mp4");
    download(
        &client,
        task.video_url.as_deref().unwrap(),
        &out,
        STALL,
        &Silent,
    )
    .await
    .unwrap();
    assert_eq!(&std::fs::read(&out).unwrap()[4..8], b"ftyp");
    let unknown = generation::get_task(&client, "no-such-task").await.unwrap();
    assert_eq!(unknown.task_status, TaskStatus::Unknown);

    let deleted = deployments::delete_deployment(&client, &running.deployed_model)
        .await
        .unwrap();
    assert_eq!(deleted.status, DeploymentStatus::Deleting);
    let gone = deployments::get_deployment(&client, &running.deployed_model)
        .await
        .unwrap_err();
    assert!(gone.is_not_found(), "{gone}");

    // Cancel and delete (§6.9, §6.10).
    let second = jobs::create_job(
        &client,
        &NewJob {
            validation_file_ids: vec![],
            ..new_job.clone()
        },
    )
    .await
    .unwrap();
    assert_ne!(second.job_id, job.job_id);
    let early_delete = jobs::delete_job(&client, &second.job_id).await.unwrap_err();
    assert_eq!(early_delete.code(), Some("UnsupportedOperation"));
    jobs::cancel_job(&client, &second.job_id).await.unwrap();
    assert_eq!(
        jobs::get_job(&client, &second.job_id).await.unwrap().status,
        JobStatus::Canceling
    );
    emu.advance(60.0).await;
    assert_eq!(
        jobs::get_job(&client, &second.job_id).await.unwrap().status,
        JobStatus::Canceled
    );
    jobs::delete_job(&client, &second.job_id).await.unwrap();
    let missing = jobs::get_job(&client, &second.job_id).await.unwrap_err();
    assert!(missing.is_not_found());

    files::delete_file(&client, &validation).await.unwrap();
    let missing: ApiError = files::get_file(&client, &validation).await.unwrap_err();
    assert!(missing.is_not_found(), "{missing}");
    assert_eq!(
        missing.code(),
        Some("NotFound"),
        "both error shapes carry the code"
    );
    assert_eq!(files::list_files(&client, 100).await.unwrap().len(), 1);
}

#[tokio::test]
async fn every_endpoint_in_the_singapore_style() {
    lifecycle(Region::ApSoutheast1).await;
}

#[tokio::test]
async fn every_endpoint_in_the_beijing_style() {
    lifecycle(Region::CnBeijing).await;
}

#[tokio::test]
async fn key_frame_generation_uses_its_own_endpoint() {
    let emu = start(config()).await;
    let client = emu.client(Region::CnBeijing);
    let dir = tempfile::tempdir().unwrap();
    let model = models::find("wan2.2-kf2v-flash").unwrap();
    let zip = example_zip(dir.path(), "kf2v-train");
    let training = upload(&client, &zip).await;
    let job = jobs::create_job(
        &client,
        &NewJob {
            model,
            training_file_ids: vec![training],
            validation_file_ids: vec![],
            hyper_parameters: HyperParams::default(),
            job_name: None,
            model_name: None,
        },
    )
    .await
    .unwrap();
    emu.advance(3600.0).await;
    let job = jobs::get_job(&client, &job.job_id).await.unwrap();
    assert_eq!(job.status, JobStatus::Succeeded, "{job:?}");
    let deployment = deployments::create_deployment(
        &client,
        &NewDeployment {
            model_name: job.finetuned_output.clone().unwrap(),
            capacity: 1,
            aigc_config: Some(AigcConfig {
                use_input_prompt: false,
                prompt: Some("describe the subject".into()),
                lora_prompt_default: Some("the subject starts the s86b5p transformation".into()),
            }),
        },
    )
    .await
    .unwrap();
    emu.advance(300.0).await;
    let base = models::find(deployment.base_model.as_deref().unwrap());
    let endpoint = Endpoint::choose(None, false, base);
    assert_eq!(endpoint, Endpoint::Kf2v);
    let rules = InferenceRules::of(endpoint, base);
    let frame = |name: &str| {
        let path = std::path::Path::new(api_support::common::ROOT)
            .join("examples/kf2v-train/image")
            .join(name);
        image_url(path.to_str().unwrap(), rules.max_image_bytes).unwrap()
    };
    let synthesis = Synthesis {
        model: deployment.deployed_model.clone(),
        endpoint,
        first_frame: frame("clip01_first.jpg"),
        last_frame: Some(frame("clip01_last.png")),
        prompt: None,
        negative_prompt: Some("blurry".into()),
        resolution: "720P".into(),
        duration: None,
        seed: None,
    };
    synthesis.check(&rules).unwrap();
    let task = generation::submit(&client, &synthesis).await.unwrap();
    emu.advance(60.0).await;
    let task = generation::get_task(&client, &task.task_id).await.unwrap();
    assert_eq!(task.task_status, TaskStatus::Succeeded, "{task:?}");
    let usage = task.usage.unwrap();
    assert_eq!(
        (usage.seconds(), usage.video_duration),
        (Some(5.0), Some(5.0))
    );
    assert_eq!(
        task.actual_prompt.as_deref(),
        Some("the subject starts the s86b5p transformation"),
        "the deployment's fallback prompt"
    );
}
