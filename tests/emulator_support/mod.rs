//! Shared harness of the emulator tests: start an emulator, talk to it with plain reqwest, build
//! dataset zips in memory from the bundled example datasets (real media), and work out what
//! they bill independently of the crate (ffprobe and the arithmetic of spec §5.1).
#![allow(dead_code)] // Each test binary uses a different part of the harness.

#[path = "../support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::fs;
use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

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

    /// Uploads the first `samples` (at most 20) of the i2v example and creates a default wan2.5
    /// job with `hyper`; returns the job id.
    pub async fn start_job(&self, samples: usize, hyper: Value) -> String {
        let file_id = self.upload("train.zip", training_zip(samples)).await;
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

/// A zip of the given members, in order.
pub fn zip_of<N: AsRef<str>, B: AsRef<[u8]>>(members: &[(N, B)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, bytes) in members {
        writer
            .start_file(name.as_ref(), zip::write::SimpleFileOptions::default())
            .expect("zip member");
        writer.write_all(bytes.as_ref()).expect("zip write");
    }
    writer.finish().expect("zip finish").into_inner()
}

/// The folder of a bundled example dataset (`i2v-train`: 20 samples, `i2v-val`: 3,
/// `kf2v-train`: 10).
pub fn example_dir(example: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(example)
}

/// The first `lines` lines of an example's data.jsonl, parsed.
pub fn example_lines(example: &str, lines: usize) -> Vec<Value> {
    let manifest =
        fs::read_to_string(example_dir(example).join("data.jsonl")).expect("example data.jsonl");
    let parsed: Vec<Value> = manifest
        .lines()
        .take(lines)
        .map(|line| serde_json::from_str(line).expect("example line is JSON"))
        .collect();
    assert_eq!(
        parsed.len(),
        lines,
        "{example} has fewer than {lines} samples"
    );
    parsed
}

/// The media paths a line references, in field order.
fn referenced(line: &Value) -> impl Iterator<Item = &str> {
    ["first_frame_path", "last_frame_path", "video_path"]
        .into_iter()
        .filter_map(|key| line[key].as_str())
}

/// The first `lines` samples of an example, zipped with the files they reference.
pub fn example_zip(example: &str, lines: usize) -> Vec<u8> {
    let dir = example_dir(example);
    let kept = example_lines(example, lines);
    let manifest: String = kept.iter().map(|line| format!("{line}\n")).collect();
    let mut members = vec![("data.jsonl".to_owned(), manifest.into_bytes())];
    for path in kept.iter().flat_map(referenced) {
        let bytes = fs::read(dir.join(path)).expect("example media");
        members.push((path.to_owned(), bytes));
    }
    zip_of(&members)
}

/// An i2v training zip: the first `samples` (at most 20) samples of the i2v example.
pub fn training_zip(samples: usize) -> Vec<u8> {
    example_zip("i2v-train", samples)
}

/// An i2v validation zip: the first `samples` (at most 3) lines of the validation example.
pub fn validation_zip(samples: usize) -> Vec<u8> {
    example_zip("i2v-val", samples)
}

/// ffprobe's duration of a clip, remembered: every test of a binary bills the same examples.
fn clip_seconds(path: &Path) -> f64 {
    static PROBED: Mutex<BTreeMap<PathBuf, f64>> = Mutex::new(BTreeMap::new());
    let mut probed = PROBED.lock().unwrap_or_else(PoisonError::into_inner);
    *probed.entry(path.to_owned()).or_insert_with(|| {
        support::ffprobe::video_stream(path)
            .duration_s
            .expect("ffprobe reads the example clip's duration")
    })
}

/// Seconds billed for the clips of an example's first `lines` samples under a cap of `cap`
/// seconds, from ffprobe's durations: each rounded to the nearest second, halves up, then
/// capped (spec §5.1).
pub fn billable_seconds(example: &str, lines: usize, cap: u64) -> u64 {
    let dir = example_dir(example);
    example_lines(example, lines)
        .iter()
        .filter_map(|line| line["video_path"].as_str())
        .map(|clip| ((clip_seconds(&dir.join(clip)) + 0.5).floor() as u64).min(cap))
        .sum()
}

/// Tokens of spec §5.1: `ceil(billable seconds × max_pixels × n_epochs / 1024)`.
pub fn expected_tokens(billable_seconds: u64, max_pixels: u64, n_epochs: u64) -> u64 {
    (billable_seconds * max_pixels * n_epochs).div_ceil(1024)
}
