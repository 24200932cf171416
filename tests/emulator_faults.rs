//! Fault injection (set through `POST /__emulator/faults`) and its reproducibility.

mod emulator_support;

use emulator_support::{KEY, config, start, training_zip};
use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::json;
use wanft::emulator::{EmulatorConfig, FaultSettings};

#[tokio::test]
async fn unavailability_bursts_then_recovers() {
    let h = start(config()).await;
    h.set_faults(json!({ "unavailable_next": 2 })).await;
    for _ in 0..2 {
        let (status, body) = h.get("/api/v1/fine-tunes").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(body["code"], "ServiceUnavailable");
        assert!(body["request_id"].is_string());
    }
    let (status, _) = h.get("/api/v1/fine-tunes").await;
    assert_eq!(status, StatusCode::OK);
    // Admin endpoints are never faulted.
    let faults: FaultSettings = h
        .client
        .get(h.url("/__emulator/faults"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("settings");
    assert_eq!(faults.unavailable_next, 0);
}

#[tokio::test]
async fn throttling_carries_retry_after() {
    let h = start(config()).await;
    h.set_faults(json!({ "throttle_rate": 1.0, "retry_after_seconds": 3 }))
        .await;
    let response = h
        .client
        .get(h.url("/compatible-mode/v1/files"))
        .bearer_auth(KEY)
        .send()
        .await
        .expect("answered");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "3");
    let (_, body) = emulator_support::parts(response).await;
    assert_eq!(body["error"]["code"], "Throttling.RateQuota");
    h.set_faults(json!({})).await;
    let (status, _) = h.get("/compatible-mode/v1/files").await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn server_errors_follow_the_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let h = start(EmulatorConfig {
            seed: Some(seed),
            faults: FaultSettings {
                server_error_rate: 0.5,
                ..FaultSettings::default()
            },
            ..config()
        })
        .await;
        let mut statuses = Vec::new();
        for _ in 0..32 {
            let (status, body) = h.get("/api/v1/fine-tunes").await;
            if status == StatusCode::INTERNAL_SERVER_ERROR {
                assert_eq!(body["code"], "InternalError");
            }
            statuses.push(status.as_u16());
        }
        statuses
    }
    let first = statuses(11).await;
    assert_eq!(first, statuses(11).await, "same seed, same faults");
    assert!(first.contains(&500) && first.contains(&200), "{first:?}");
    assert_ne!(first, statuses(12).await);
}

#[tokio::test]
async fn a_cut_upload_breaks_the_request_and_leaves_nothing() {
    let state_dir = tempfile::tempdir().expect("temp dir");
    let h = start(EmulatorConfig {
        state_dir: Some(state_dir.path().to_path_buf()),
        ..config()
    })
    .await;
    h.set_faults(json!({ "cut_upload_at": 0.5 })).await;
    let form = Form::new().text("purpose", "fine-tune").part(
        "file",
        Part::bytes(vec![9u8; 8 << 20]).file_name("train.zip"),
    );
    let result = h
        .client
        .post(h.url("/compatible-mode/v1/files"))
        .bearer_auth(KEY)
        .multipart(form)
        .send()
        .await;
    let error = result.expect_err("the connection is reset mid-upload");
    assert!(
        error.is_request() || error.is_body() || error.is_connect(),
        "{error:?}"
    );

    h.set_faults(json!({})).await;
    let (_, listing) = h.get("/compatible-mode/v1/files").await;
    assert_eq!(listing["data"], json!([]));
    // The partial file is removed by the upload's writer thread once it sees the connection
    // gone; give it a moment.
    let blob_dir = state_dir.path().join("files");
    let mut leftovers = Vec::new();
    for _ in 0..500 {
        leftovers = std::fs::read_dir(&blob_dir)
            .expect("blob dir")
            .collect::<Result<Vec<_>, _>>()
            .expect("entries");
        if leftovers.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        leftovers.is_empty(),
        "partial upload left behind: {leftovers:?}"
    );
    // With the fault off, the same upload goes through.
    let id = h.upload("train.zip", vec![9u8; 8 << 20]).await;
    assert!(id.starts_with("file-ft-"));
}

#[tokio::test]
async fn a_lost_create_still_creates_the_job() {
    let h = start(config()).await;
    let file_id = h.upload("train.zip", training_zip(12)).await;
    let body = json!({
        "model": "wan2.5-i2v-preview",
        "training_file_ids": [file_id],
        "training_type": "efficient_sft",
    });
    h.set_faults(json!({ "lose_next_create": 1 })).await;
    // A refused create does not consume the fault.
    let (status, _) = h
        .post("/api/v1/fine-tunes", &json!({ "model": "nope" }))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let lost = h
        .client
        .post(h.url("/api/v1/fine-tunes"))
        .bearer_auth(KEY)
        .json(&body)
        .send()
        .await;
    assert!(
        lost.is_err(),
        "the response should have been lost: {lost:?}"
    );
    let (_, listing) = h.get("/api/v1/fine-tunes").await;
    assert_eq!(
        listing["output"]["total"], 1,
        "the job exists although the client saw an error"
    );
    let (status, _) = h.post("/api/v1/fine-tunes", &body).await;
    assert_eq!(status, StatusCode::OK, "only the next create is lost");
    let (_, listing) = h.get("/api/v1/fine-tunes").await;
    assert_eq!(listing["output"]["total"], 2);
}

#[tokio::test]
async fn doomed_jobs_fail_unbilled() {
    let h = start(EmulatorConfig {
        faults: FaultSettings {
            job_fail_rate: 1.0,
            ..FaultSettings::default()
        },
        ..config()
    })
    .await;
    let job_id = h
        .start_job(12, json!({ "n_epochs": 10, "eval_epochs": 5 }))
        .await;
    h.advance(3600.0).await;
    let job = h.job(&job_id).await;
    assert_eq!(
        (job["status"].as_str(), job["usage"].as_u64()),
        (Some("FAILED"), Some(0))
    );
    let (_, logs) = h.get(&format!("/api/v1/fine-tunes/{job_id}/logs")).await;
    assert!(logs.to_string().contains("job_fail_rate"), "{logs}");
}

#[tokio::test]
async fn latency_delays_without_failing_and_settings_are_checked() {
    let h = start(config()).await;
    h.set_faults(json!({ "latency_ms": 20 })).await;
    let (status, _) = h.get("/api/v1/fine-tunes").await;
    assert_eq!(status, StatusCode::OK);
    for invalid in [
        json!({ "server_error_rate": 2.0 }),
        json!({ "cut_upload_at": 0 }),
        json!({ "no_such_fault": 1 }),
    ] {
        let response = h
            .client
            .post(h.url("/__emulator/faults"))
            .json(&invalid)
            .send()
            .await
            .expect("answered");
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{invalid}");
    }
    let current: FaultSettings = h
        .client
        .get(h.url("/__emulator/faults"))
        .send()
        .await
        .expect("answered")
        .json()
        .await
        .expect("settings");
    assert_eq!(current.latency_ms, 20, "refused settings change nothing");
}
