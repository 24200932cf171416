//! Shared harness of the API client tests: an emulator on a frozen clock, a client for it in
//! either region style, admin calls (clock, faults), dataset zips on disk and an observer that
//! records what the client reports.
#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use wanft::api::{Client, ClientConfig, Event, Observer, RetryPolicy, Secret};
use wanft::emulator::{EmulatorConfig, RunningEmulator, serve};
use wanft::models::Region;

#[path = "../common/mod.rs"]
pub mod common;

/// The key the test emulators accept.
pub const KEY: &str = "sk-api-test-SENTINEL-4b1d";

/// A frozen clock (tests move it), a fixed seed, default timings.
pub fn config() -> EmulatorConfig {
    EmulatorConfig {
        time_scale: 0.0,
        seed: Some(11),
        ..EmulatorConfig::new(KEY)
    }
}

/// Retries quick enough for tests: the schedule is under test, not the waiting.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        retries: 6,
        base_delay: Duration::from_millis(5),
        max_delay: Duration::from_millis(50),
        max_retry_after: Duration::from_secs(2),
    }
}

/// A running emulator and a plain HTTP client for its admin endpoints.
pub struct Emu {
    pub emulator: RunningEmulator,
    pub base: String,
    admin: reqwest::Client,
}

pub async fn start(config: EmulatorConfig) -> Emu {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = serve(config).await.expect("emulator starts");
    let base = emulator.base_url();
    Emu {
        emulator,
        base,
        admin: reqwest::Client::new(),
    }
}

impl Emu {
    /// A client of this emulator in `region`'s style, with `observer`.
    pub fn client_with(&self, region: Region, key: &str, observer: Arc<dyn Observer>) -> Client {
        let mut config = ClientConfig::new(region, Secret::new(key).expect("key"));
        config.base_url = Some(self.base.clone());
        config.retry = fast_retries();
        config.timeout = Duration::from_secs(30);
        config.observer = observer;
        Client::new(config).expect("client")
    }

    pub fn client(&self, region: Region) -> Client {
        self.client_with(region, KEY, Arc::new(wanft::api::Quiet))
    }

    /// Moves emulated time forward.
    pub async fn advance(&self, seconds: f64) {
        let response = self
            .admin
            .post(format!("{}/__emulator/clock", self.base))
            .json(&json!({ "advance_seconds": seconds }))
            .send()
            .await
            .expect("clock answered");
        assert!(response.status().is_success());
    }

    /// Replaces the fault settings.
    pub async fn faults(&self, settings: Value) {
        set_faults(&self.admin, &self.base, settings).await;
    }

    /// A raw authorised GET, to check the emulator's state independently of the client.
    pub async fn raw_get(&self, path: &str) -> Value {
        self.admin
            .get(format!("{}{path}", self.base))
            .bearer_auth(KEY)
            .send()
            .await
            .expect("answered")
            .json()
            .await
            .expect("JSON")
    }

    /// Files the emulator holds (compatible-mode listing covers both id styles).
    pub async fn file_count(&self) -> usize {
        self.raw_get("/compatible-mode/v1/files").await["data"]
            .as_array()
            .map_or(0, Vec::len)
    }

    pub async fn job_count(&self) -> u64 {
        self.raw_get("/api/v1/fine-tunes").await["output"]["total"]
            .as_u64()
            .expect("total")
    }

    pub async fn deployment_count(&self) -> u64 {
        self.raw_get("/api/v1/deployments").await["output"]["total"]
            .as_u64()
            .expect("total")
    }
}

pub async fn set_faults(admin: &reqwest::Client, base: &str, settings: Value) {
    let response = admin
        .post(format!("{base}/__emulator/faults"))
        .json(&settings)
        .send()
        .await
        .expect("faults answered");
    assert!(response.status().is_success(), "{settings}");
}

/// Records every event as a line of text.
#[derive(Default)]
pub struct Recorder {
    pub lines: Mutex<Vec<String>>,
}

impl Recorder {
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().expect("lock").clone()
    }

    pub fn count(&self, prefix: &str) -> usize {
        self.lines()
            .iter()
            .filter(|l| l.starts_with(prefix))
            .count()
    }
}

impl Observer for Recorder {
    fn event(&self, event: &Event<'_>) {
        let line = match event {
            Event::Retrying { reason, delay, .. } => {
                format!("retrying after {} ms: {reason}", delay.as_millis())
            }
            Event::LookingUp { operation } => format!("looking up {operation}"),
            Event::Recovered { id, .. } => format!("recovered {id}"),
            Event::Sending { method, url } => format!("sending {method} {url}"),
            Event::Received { status, .. } => format!("received {status}"),
            Event::Body { text } => format!("body {text}"),
        };
        self.lines.lock().expect("lock").push(line);
    }
}

/// `examples/<name>` zipped into `dir/<name>.zip`.
pub fn example_zip(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(format!("{name}.zip"));
    common::zip_dir(&Path::new(common::ROOT).join("examples").join(name), &out);
    out
}

/// A file of `size` pseudo-random bytes.
pub fn noise_file(dir: &Path, name: &str, size: usize) -> PathBuf {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let bytes: Vec<u8> = (0..size)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    path
}

/// SHA-256 of a file, lowercase hex.
pub fn sha256_of(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).expect("read")))
}

/// An example image of the i2v set, a valid generation input.
pub fn example_image() -> PathBuf {
    Path::new(common::ROOT).join("examples/i2v-train/clip01_first.jpg")
}
