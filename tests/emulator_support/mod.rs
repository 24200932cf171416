//! Shared harness of the emulator tests: start an emulator, talk to it with plain reqwest, build
//! dataset zips in memory.
#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::io::{Cursor, Write};

use reqwest::StatusCode;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use wanft::emulator::{EmulatorConfig, RunningEmulator, serve};

/// The key every test emulator accepts.
pub const KEY: &str = "sk-emulator-test-key";

/// A frozen clock (tests move it with [`Harness::advance`]), a fixed seed, default timings.
pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        time_scale: 0.0,
        seed: Some(7),
        ..EmulatorConfig::new(KEY)
    }
}

/// A running emulator and a client for it.
pub struct Harness {
    pub emulator: RunningEmulator,
    pub client: reqwest::Client,
    pub base: String,
}

/// A reqwest client; installs the crypto provider reqwest needs even for plain HTTP.
pub fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder().build().expect("reqwest client")
}

pub async fn start(config: EmulatorConfig) -> Harness {
    let emulator = serve(config).await.expect("emulator starts");
    let base = emulator.base_url();
    Harness {
        emulator,
        client: client(),
        base,
    }
}

/// Status and JSON body of a response (`Null` when the body is not JSON).
pub async fn parts(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, body)
}

impl Harness {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("GET answered");
        parts(response).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        let response = self
            .client
            .delete(self.url(path))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("DELETE answered");
        parts(response).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(KEY)
            .json(body)
            .send()
            .await
            .expect("POST answered");
        parts(response).await
    }

    /// POST with `X-DashScope-Async: enable`, as synthesis requires.
    pub async fn post_async(&self, path: &str, body: &Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(KEY)
            .header("X-DashScope-Async", "enable")
            .json(body)
            .send()
            .await
            .expect("POST answered");
        parts(response).await
    }

    /// Uploads through the compatible-mode endpoint; returns the file id.
    pub async fn upload(&self, name: &str, bytes: Vec<u8>) -> String {
        let (status, body) = self.upload_compatible(name, bytes).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["id"].as_str().expect("file id").to_owned()
    }

    pub async fn upload_compatible(&self, name: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let form = Form::new()
            .part("file", Part::bytes(bytes).file_name(name.to_owned()))
            .text("purpose", "fine-tune");
        let response = self
            .client
            .post(self.url("/compatible-mode/v1/files"))
            .bearer_auth(KEY)
            .multipart(form)
            .send()
            .await
            .expect("upload answered");
        parts(response).await
    }

    /// Moves emulated time forward.
    pub async fn advance(&self, seconds: f64) {
        let response = self
            .client
            .post(self.url("/__emulator/clock"))
            .json(&json!({ "advance_seconds": seconds }))
            .send()
            .await
            .expect("clock answered");
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// Replaces the fault settings.
    pub async fn set_faults(&self, settings: Value) {
        let response = self
            .client
            .post(self.url("/__emulator/faults"))
            .json(&settings)
            .send()
            .await
            .expect("faults answered");
        assert_eq!(response.status(), StatusCode::OK);
    }

    /// Creates a job; returns its `output`.
    pub async fn create_job(&self, body: Value) -> Value {
        let (status, response) = self.post("/api/v1/fine-tunes", &body).await;
        assert_eq!(status, StatusCode::OK, "{response}");
        response["output"].clone()
    }

    pub async fn job(&self, job_id: &str) -> Value {
        let (status, body) = self.get(&format!("/api/v1/fine-tunes/{job_id}")).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["output"].clone()
    }

    pub async fn job_status(&self, job_id: &str) -> String {
        self.job(job_id).await["status"]
            .as_str()
            .expect("status")
            .to_owned()
    }

    /// Uploads a valid training set and creates a default wan2.5 job with `hyper`; returns the
    /// job id.
    pub async fn start_job(&self, samples: usize, hyper: Value) -> String {
        let file_id = self
            .upload("train.zip", dataset_zip(samples, Some(4.6)))
            .await;
        let job = self
            .create_job(json!({
                "model": "wan2.5-i2v-preview",
                "training_file_ids": [file_id],
                "training_type": "efficient_sft",
                "hyper_parameters": hyper,
            }))
            .await;
        job["job_id"].as_str().expect("job id").to_owned()
    }

    /// Brings a job started by [`Harness::start_job`] to `SUCCEEDED` (default timings).
    pub async fn finish_job(&self, job_id: &str) {
        self.advance(3600.0).await;
        assert_eq!(self.job_status(job_id).await, "SUCCEEDED");
    }
}

/// A zip of the given members.
pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        writer
            .start_file(*name, zip::write::SimpleFileOptions::default())
            .expect("zip member");
        writer.write_all(bytes).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

const FAKE_JPEG: &[u8] = b"\xFF\xD8\xFF fake";
const FAKE_MP4: &[u8] = b"\0\0\0\x18ftypmp42 fake";

/// A zip holding `data.jsonl` made of `lines` and the fake media `members`.
fn manifest_zip(lines: &[Value], members: &[(String, &[u8])]) -> Vec<u8> {
    let manifest: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let mut all: Vec<(&str, &[u8])> = members.iter().map(|(n, b)| (n.as_str(), *b)).collect();
    all.push(("data.jsonl", manifest.as_bytes()));
    zip_of(&all)
}

/// An i2v training zip of `samples` lines, each clip declaring `duration` seconds if given.
/// Media bytes are fake: the emulator does not probe media yet.
pub fn dataset_zip(samples: usize, duration: Option<f64>) -> Vec<u8> {
    let mut lines = Vec::new();
    let mut members = Vec::new();
    for i in 0..samples {
        let mut line = json!({
            "prompt": format!("The video begins showing subject {i}. Then the q7zx3k effect begins."),
            "first_frame_path": format!("clip{i:02}_first.jpg"),
            "video_path": format!("clip{i:02}.mp4"),
        });
        if let Some(seconds) = duration {
            line["duration"] = json!(seconds);
        }
        lines.push(line);
        members.push((format!("clip{i:02}_first.jpg"), FAKE_JPEG));
        members.push((format!("clip{i:02}.mp4"), FAKE_MP4));
    }
    manifest_zip(&lines, &members)
}

/// An i2v validation zip of `samples` lines (images only), prompts `validation prompt <i>`.
pub fn validation_zip(samples: usize) -> Vec<u8> {
    let lines: Vec<Value> = (0..samples)
        .map(|i| json!({ "prompt": format!("validation prompt {i}"), "first_frame_path": format!("val{i:02}.jpg") }))
        .collect();
    let members: Vec<(String, &[u8])> = (0..samples)
        .map(|i| (format!("val{i:02}.jpg"), FAKE_JPEG))
        .collect();
    manifest_zip(&lines, &members)
}

/// Tokens of spec §5.1 for `clips` clips billed `seconds` each.
pub fn expected_tokens(clips: u64, seconds: u64, max_pixels: u64, n_epochs: u64) -> u64 {
    (clips * seconds * max_pixels * n_epochs).div_ceil(1024)
}
