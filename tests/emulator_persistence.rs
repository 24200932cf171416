//! `--state-dir`: state and uploads survive a restart.

mod emulator_support;

use emulator_support::{billable_seconds, config, expected_tokens, start, training_zip};
use md5::{Digest, Md5};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wanft::emulator::EmulatorConfig;

fn persistent(dir: &std::path::Path) -> EmulatorConfig {
    EmulatorConfig {
        state_dir: Some(dir.to_path_buf()),
        ..config()
    }
}

async fn clock_ms(h: &emulator_support::Harness) -> i64 {
    let clock: Value = h
        .client
        .get(h.url("/__emulator/clock"))
        .send()
        .await
        .expect("clock")
        .json()
        .await
        .expect("json");
    clock["now_ms"].as_i64().expect("now_ms")
}

#[tokio::test]
async fn state_and_files_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dataset = training_zip(12);
    let (file_id, job_id, before_ms) = {
        let h = start(persistent(dir.path())).await;
        let file_id = h.upload("train.zip", dataset.clone()).await;
        let job_id = h
            .start_job(12, json!({ "n_epochs": 10, "eval_epochs": 5 }))
            .await;
        h.advance(100.0).await;
        assert_eq!(h.job_status(&job_id).await, "RUNNING");
        let before = clock_ms(&h).await;
        h.emulator.shutdown().await;
        (file_id, job_id, before)
    };
    let saved: Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("state.json")).expect("state.json written"),
    )
    .expect("state.json is JSON");
    assert_eq!(saved["jobs"].as_array().map(Vec::len), Some(1));

    let h = start(persistent(dir.path())).await;
    assert!(
        clock_ms(&h).await >= before_ms,
        "emulated time went backwards"
    );
    let (status, file) = h.get(&format!("/compatible-mode/v1/files/{file_id}")).await;
    assert_eq!(status, StatusCode::OK, "{file}");
    assert_eq!(file["bytes"], dataset.len());
    let (_, native) = h.get(&format!("/api/v1/files/{file_id}")).await;
    assert_eq!(native["data"]["md5"], hex::encode(Md5::digest(&dataset)));
    let url = native["data"]["url"].as_str().expect("url");
    let content = h
        .client
        .get(url)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("body");
    assert_eq!(content.as_ref(), dataset.as_slice());

    // The job resumes where it was and finishes.
    assert_eq!(h.job_status(&job_id).await, "RUNNING");
    h.advance(3600.0).await;
    let job = h.job(&job_id).await;
    assert_eq!(job["status"], "SUCCEEDED");
    // start_job bills the first 12 clips of the i2v example at max_pixels 36864, 10 epochs.
    assert_eq!(
        job["usage"],
        expected_tokens(billable_seconds("i2v-train", 12, 10), 36864, 10)
    );

    // Same seed after a restart: new ids must still not collide with stored ones.
    let second = h.upload("again.zip", vec![1, 2, 3]).await;
    assert_ne!(second, file_id);
    let (_, listing) = h.get("/compatible-mode/v1/files").await;
    assert_eq!(listing["data"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn a_corrupt_state_file_refuses_to_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("state.json"), b"{ not json").expect("write");
    let error = wanft::emulator::serve(persistent(dir.path()))
        .await
        .expect_err("refuses a corrupt state");
    assert!(format!("{error:#}").contains("state.json"), "{error:#}");
}
