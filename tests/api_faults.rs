//! The client under injected faults: cut and stalled uploads, 503 bursts, throttling, lost
//! create answers, quota refusals, a wrong key and an unreachable host.

mod api_support;

use std::sync::Arc;
use std::time::Duration;

use api_support::{
    Emu, KEY, Recorder, config, example_zip, noise_file, set_faults, sha256_of, start,
};
use serde_json::json;
use wanft::api::deployments::{self, AigcConfig, NewDeployment};
use wanft::api::files;
use wanft::api::generation::{self, Endpoint, Synthesis};
use wanft::api::jobs::{self, NewJob};
use wanft::api::multipart::{SendOptions, send_file};
use wanft::api::{ApiError, Client, ClientConfig, Event, Observer, Secret, Stage};
use wanft::emulator::{EmulatorConfig, UploadLimits};
use wanft::hyper::HyperParams;
use wanft::models::{self, Region};
use wanft::progress::Silent;

/// On the first retry, replaces the emulator's faults with `next`, synchronously, so that the
/// retry already sees them.
struct SwitchFaultsOnRetry {
    base: String,
    next: serde_json::Value,
    done: std::sync::atomic::AtomicBool,
    record: Recorder,
}

impl Observer for SwitchFaultsOnRetry {
    fn event(&self, event: &Event<'_>) {
        self.record.event(event);
        if matches!(event, Event::Retrying { .. })
            && !self.done.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            let handle = tokio::runtime::Handle::current();
            tokio::task::block_in_place(|| {
                handle.block_on(set_faults(
                    &reqwest::Client::new(),
                    &self.base,
                    self.next.clone(),
                ))
            });
        }
    }
}

fn switching(emu: &Emu, next: serde_json::Value) -> Arc<SwitchFaultsOnRetry> {
    Arc::new(SwitchFaultsOnRetry {
        base: emu.base.clone(),
        next,
        done: false.into(),
        record: Recorder::default(),
    })
}

fn options(stall: Duration) -> SendOptions<'static> {
    SendOptions {
        stall_timeout: stall,
        hash: true,
        progress: &Silent,
    }
}

async fn survives_a_cut_and_a_burst(region: Region) {
    let emu = start(config()).await;
    let observer = switching(&emu, json!({ "unavailable_next": 3 }));
    let client = emu.client_with(region, KEY, observer.clone());
    let dir = tempfile::tempdir().unwrap();
    let zip = noise_file(dir.path(), "train.zip", 6 << 20);
    emu.faults(json!({ "cut_upload_at": 0.5 })).await;

    let sent = send_file(&client, &zip, &options(Duration::from_secs(60)))
        .await
        .expect("the upload survives");

    let retries = observer.record.count("retrying");
    assert_eq!(
        retries,
        4,
        "one cut, three 503s: {:?}",
        observer.record.lines()
    );
    // Every 503 of the burst was served. (The client may see one as a reset rather than as a
    // 503: the emulator answers before reading the body, and a busy machine can make the body
    // write fail first. Either way the attempt is retried.)
    let remaining = emu.raw_get("/__emulator/faults").await;
    assert_eq!(remaining["unavailable_next"], 0, "{remaining}");
    assert_eq!(emu.file_count().await, 1, "exactly one file afterwards");
    let listed = files::list_files(&client, 10).await.unwrap();
    assert_eq!(listed[0].id, sent.file.id);
    assert_eq!(listed[0].bytes, Some(6 << 20));
    assert_eq!(sent.sha256.as_deref(), Some(sha256_of(&zip).as_str()));
    if region == Region::CnBeijing {
        // The native record links to the stored bytes: they are the file's.
        let record = emu
            .raw_get(&format!("/api/v1/files/{}", sent.file.id))
            .await;
        let url = record["data"]["url"].as_str().expect("url");
        let stored = reqwest::get(url).await.unwrap().bytes().await.unwrap();
        assert_eq!(stored.as_ref(), std::fs::read(&zip).unwrap());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_survives_a_cut_at_half_and_a_503_burst_singapore() {
    survives_a_cut_and_a_burst(Region::ApSoutheast1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_survives_a_cut_at_half_and_a_503_burst_beijing() {
    survives_a_cut_and_a_burst(Region::CnBeijing).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_upload_is_abandoned_and_retried() {
    let emu = start(config()).await;
    // The server sits on the request without reading it: the body backs up and stalls.
    emu.faults(json!({ "latency_ms": 60_000 })).await;
    let observer = switching(&emu, json!({}));
    let client = emu.client_with(Region::ApSoutheast1, KEY, observer.clone());
    let dir = tempfile::tempdir().unwrap();
    // Larger than what loopback socket buffers absorb.
    let zip = noise_file(dir.path(), "big.zip", 48 << 20);

    let sent = send_file(&client, &zip, &options(Duration::from_millis(500)))
        .await
        .expect("the retry goes through");
    let lines = observer.record.lines();
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("retrying") && l.contains("no bytes accepted")),
        "{lines:?}"
    );
    assert_eq!(emu.file_count().await, 1);
    assert_eq!(sent.file.bytes, Some(48 << 20));
}

#[tokio::test]
async fn a_stall_that_never_ends_fails_with_a_hint() {
    let emu = start(config()).await;
    emu.faults(json!({ "latency_ms": 60_000 })).await;
    let mut client_config = ClientConfig::new(Region::ApSoutheast1, Secret::new(KEY).unwrap());
    client_config.base_url = Some(emu.base.clone());
    client_config.retry = api_support::fast_retries();
    client_config.retry.retries = 1;
    let client = Client::new(client_config).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let zip = noise_file(dir.path(), "big.zip", 48 << 20);
    let err = send_file(&client, &zip, &options(Duration::from_millis(300)))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ApiError::Stalled { total, .. } if total == 48 << 20),
        "{err}"
    );
    assert!(err.hint().unwrap().contains("--stall-timeout"));
}

async fn quota_refusal(region: Region) -> ApiError {
    let emu = start(EmulatorConfig {
        limits: UploadLimits {
            max_files: 1,
            ..UploadLimits::default()
        },
        ..config()
    })
    .await;
    let client = emu.client(region);
    let dir = tempfile::tempdir().unwrap();
    let zip = example_zip(dir.path(), "i2v-val");
    send_file(&client, &zip, &options(Duration::from_secs(30)))
        .await
        .expect("the first file fits");
    let err = send_file(&client, &zip, &options(Duration::from_secs(30)))
        .await
        .unwrap_err();
    assert_eq!(emu.file_count().await, 1);
    err
}

#[tokio::test]
async fn beijing_failed_uploads_are_errors_with_code_and_message() {
    let err = quota_refusal(Region::CnBeijing).await;
    assert!(matches!(err, ApiError::UploadRefused { .. }), "{err:?}");
    assert_eq!(err.code(), Some("BadRequest.TooMany"));
    let shown = err.to_string();
    assert!(shown.contains("Out of number, <1> of <1> files"), "{shown}");
    assert!(err.hint().unwrap().contains("wanft files delete"));
}

#[tokio::test]
async fn singapore_quota_refusals_keep_their_code() {
    let err = quota_refusal(Region::ApSoutheast1).await;
    assert_eq!(err.code(), Some("BadRequest.TooMany"), "{err:?}");
    assert_eq!(err.http().map(|f| f.status), Some(400));
}

async fn uploaded(client: &Client) -> String {
    let dir = tempfile::tempdir().unwrap();
    let zip = example_zip(dir.path(), "i2v-train");
    send_file(client, &zip, &options(Duration::from_secs(30)))
        .await
        .unwrap()
        .file
        .id
}

fn job_for(file_id: String) -> NewJob {
    NewJob {
        model: models::find("wan2.5-i2v-preview").unwrap(),
        training_file_ids: vec![file_id],
        validation_file_ids: vec![],
        hyper_parameters: HyperParams {
            n_epochs: Some(200),
            eval_epochs: Some(20),
            ..HyperParams::default()
        },
        job_name: None,
        model_name: None,
    }
}

/// Uploads the example set, trains a job on it and returns the model name (frozen clock).
async fn finished_model(emu: &Emu, client: &Client) -> String {
    let job = jobs::create_job(client, &job_for(uploaded(client).await))
        .await
        .unwrap();
    emu.advance(3600.0).await;
    jobs::get_job(client, &job.job_id)
        .await
        .unwrap()
        .finetuned_output
        .unwrap()
}

/// A deployment of `model_name` that uses the caller's prompts.
fn deployment_of(model_name: &str) -> NewDeployment {
    NewDeployment {
        model_name: model_name.to_owned(),
        capacity: 1,
        aigc_config: Some(AigcConfig {
            use_input_prompt: true,
            ..AigcConfig::default()
        }),
    }
}

#[tokio::test]
async fn a_lost_job_create_is_found_not_repeated() {
    let emu = start(config()).await;
    let recorder = Arc::new(Recorder::default());
    let client = emu.client_with(Region::ApSoutheast1, KEY, recorder.clone());
    let file_id = uploaded(&client).await;
    // An identical older job must not be mistaken for the lost one.
    let older = jobs::create_job(&client, &job_for(file_id.clone()))
        .await
        .unwrap();

    emu.faults(json!({ "lose_next_create": 1 })).await;
    let job = jobs::create_job(&client, &job_for(file_id)).await.unwrap();

    assert_ne!(job.job_id, older.job_id);
    assert_eq!(emu.job_count().await, 2, "one job per create call");
    assert_eq!(recorder.count("looking up"), 1);
    assert!(
        recorder
            .lines()
            .contains(&format!("recovered {}", job.job_id))
    );
}

#[tokio::test]
async fn a_lost_deployment_create_is_found_not_repeated() {
    let emu = start(config()).await;
    let recorder = Arc::new(Recorder::default());
    let client = emu.client_with(Region::CnBeijing, KEY, recorder.clone());
    let model_name = finished_model(&emu, &client).await;

    emu.faults(json!({ "lose_next_create": 1 })).await;
    let deployment = deployments::create_deployment(&client, &deployment_of(&model_name))
        .await
        .expect("recovered, not a 409");
    assert_eq!(deployment.model_name.as_deref(), Some(model_name.as_str()));
    assert_eq!(emu.deployment_count().await, 1);
    assert!(
        recorder
            .lines()
            .contains(&format!("recovered {}", deployment.deployed_model))
    );
}

#[tokio::test]
async fn a_lost_synthesis_is_not_sent_again() {
    let emu = start(config()).await;
    let recorder = Arc::new(Recorder::default());
    let client = emu.client_with(Region::CnBeijing, KEY, recorder.clone());
    let model_name = finished_model(&emu, &client).await;
    let deployment = deployments::create_deployment(&client, &deployment_of(&model_name))
        .await
        .unwrap();
    emu.advance(300.0).await;

    emu.faults(json!({ "lose_next_create": 1 })).await;
    let synthesis = Synthesis {
        model: deployment.deployed_model,
        endpoint: Endpoint::I2v,
        first_frame: "https://example.invalid/frame.jpg".into(),
        last_frame: None,
        prompt: None,
        negative_prompt: None,
        resolution: "720P".into(),
        duration: None,
        seed: None,
    };
    let err = generation::submit(&client, &synthesis).await.unwrap_err();
    assert!(matches!(err, ApiError::Ambiguous { .. }), "{err:?}");
    assert!(err.hint().unwrap().contains("billed"));
    let posts = recorder
        .lines()
        .iter()
        .filter(|l| l.starts_with("sending POST") && l.ends_with("/video-synthesis"))
        .count();
    assert_eq!(posts, 1, "sent once: {:?}", recorder.lines());
}

#[tokio::test]
async fn throttling_honours_retry_after_and_the_quota_is_final() {
    let emu = start(config()).await;
    emu.faults(json!({ "throttle_rate": 1.0, "retry_after_seconds": 1 }))
        .await;
    let recorder = Arc::new(Recorder::default());
    let mut client_config = ClientConfig::new(Region::CnBeijing, Secret::new(KEY).unwrap());
    client_config.base_url = Some(emu.base.clone());
    client_config.retry = api_support::fast_retries();
    client_config.retry.retries = 2;
    client_config.observer = recorder.clone();
    let client = Client::new(client_config).unwrap();
    let err = jobs::get_job(&client, "ft-x").await.unwrap_err();
    assert_eq!(err.code(), Some("Throttling.RateQuota"), "{err}");
    let waits: Vec<String> = recorder
        .lines()
        .into_iter()
        .filter(|l| l.starts_with("retrying"))
        .collect();
    assert_eq!(waits.len(), 2);
    assert!(
        waits
            .iter()
            .all(|l| l.starts_with("retrying after 1000 ms")),
        "{waits:?}"
    );
}

#[tokio::test]
async fn a_wrong_key_is_final_and_explained() {
    let emu = start(config()).await;
    let recorder = Arc::new(Recorder::default());
    let client = emu.client_with(Region::ApSoutheast1, "sk-wrong-key", recorder.clone());
    let err = jobs::get_job(&client, "ft-x").await.unwrap_err();
    assert_eq!(err.http().map(|f| f.status), Some(401));
    assert_eq!(err.code(), Some("InvalidApiKey"));
    assert!(err.hint().unwrap().contains("keys are bound to one region"));
    assert_eq!(recorder.count("sending"), 1, "a 401 is not retried");
}

#[tokio::test]
async fn an_unreachable_host_is_retried_then_reported() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let recorder = Arc::new(Recorder::default());
    let mut client_config = ClientConfig::new(Region::CnBeijing, Secret::new(KEY).unwrap());
    client_config.base_url = Some(format!("http://127.0.0.1:{port}"));
    client_config.retry = api_support::fast_retries();
    client_config.observer = recorder.clone();
    let client = Client::new(client_config).unwrap();
    let err = jobs::get_job(&client, "ft-x").await.unwrap_err();
    assert!(
        matches!(
            err,
            ApiError::Transport {
                stage: Stage::Connect,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(recorder.count("retrying"), 6);
    assert!(!format!("{err} {err:?}").contains(KEY));
}
