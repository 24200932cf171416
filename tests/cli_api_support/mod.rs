//! Harness of the CLI tests of the API commands: an emulator on its own thread, a `wanft`
//! command aimed at it (key, region, host, a private cache folder, a scratch working folder),
//! and blocking admin calls.
#![allow(dead_code)] // Each test binary uses a different part of the harness.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::{Value, json};
use wanft::emulator::{BlockingEmulator, EmulatorConfig};

/// A sentinel key: no output of any command may contain it.
pub const KEY: &str = "sk-SENTINEL-7f3a9c-never-print-me";

/// Emulated time runs fast: a default job takes well under a second.
pub fn fast_clock() -> EmulatorConfig {
    EmulatorConfig {
        time_scale: 1200.0,
        seed: Some(5),
        ..EmulatorConfig::new(KEY)
    }
}

/// A frozen clock, moved by [`Cli::advance`].
pub fn frozen_clock() -> EmulatorConfig {
    EmulatorConfig {
        time_scale: 0.0,
        ..fast_clock()
    }
}

pub struct Cli {
    pub emulator: BlockingEmulator,
    pub base: String,
    /// `WANFT_CACHE_DIR` of every command (the upload ledger).
    pub cache: tempfile::TempDir,
    /// Working folder of every command (no stray wanft.toml).
    pub work: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
}

impl Cli {
    pub fn start(config: EmulatorConfig) -> Cli {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let emulator = BlockingEmulator::start(config).expect("emulator starts");
        let base = emulator.base_url();
        Cli {
            emulator,
            base,
            cache: tempfile::tempdir().expect("temp"),
            work: tempfile::tempdir().expect("temp"),
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    /// `wanft ARGS` with the key in the environment and nothing else configured.
    pub fn bare(&self, args: &[&str]) -> Command {
        let mut cmd = Command::cargo_bin("wanft").expect("binary");
        cmd.current_dir(self.work.path())
            .env("DASHSCOPE_API_KEY", KEY)
            .env("WANFT_CACHE_DIR", self.cache.path())
            .env(
                "WANFT_CREDENTIALS",
                self.work.path().join("no-credentials.toml"),
            )
            .env("NO_COLOR", "1")
            .args(args);
        cmd
    }

    /// `wanft ARGS --region REGION --base-url EMULATOR`, quick retries.
    pub fn wanft(&self, region: &str, args: &[&str]) -> Command {
        let mut cmd = self.bare(args);
        cmd.args([
            "--region",
            region,
            "--base-url",
            &self.base,
            "--retry-delay",
            "10ms",
        ]);
        cmd
    }

    /// Runs the command, asserts it exits with `code`, and returns stdout and stderr, both
    /// checked for the key.
    pub fn run(&self, mut cmd: Command, code: i32) -> (String, String) {
        let output = cmd.output().expect("wanft runs");
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_no_key(&stdout, &stderr);
        assert_eq!(
            output.status.code(),
            Some(code),
            "{cmd:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
        (stdout, stderr)
    }

    /// Runs the command expecting success and JSON on stdout.
    pub fn json(&self, mut cmd: Command) -> Value {
        cmd.args(["--format", "json"]);
        let (stdout, stderr) = self.run(cmd, 0);
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"))
    }

    fn admin(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.runtime.block_on(async {
            let mut request = reqwest::Client::new()
                .request(method, format!("{}{path}", self.base))
                .bearer_auth(KEY);
            if let Some(body) = body {
                request = request.json(&body);
            }
            let response = request.send().await.expect("answered");
            assert!(
                response.status().is_success(),
                "{path}: {}",
                response.status()
            );
            response.json().await.expect("JSON")
        })
    }

    pub fn faults(&self, settings: Value) {
        self.admin(reqwest::Method::POST, "/__emulator/faults", Some(settings));
    }

    pub fn advance(&self, seconds: f64) {
        let body = json!({ "advance_seconds": seconds });
        self.admin(reqwest::Method::POST, "/__emulator/clock", Some(body));
    }

    pub fn raw_post(&self, path: &str, body: Value) -> Value {
        self.admin(reqwest::Method::POST, path, Some(body))
    }

    pub fn raw_get(&self, path: &str) -> Value {
        self.admin(reqwest::Method::GET, path, None)
    }

    pub fn file_count(&self) -> usize {
        self.raw_get("/compatible-mode/v1/files")["data"]
            .as_array()
            .map_or(0, Vec::len)
    }

    pub fn job_count(&self) -> u64 {
        self.raw_get("/api/v1/fine-tunes")["output"]["total"]
            .as_u64()
            .expect("total")
    }

    pub fn deployment_count(&self) -> u64 {
        self.raw_get("/api/v1/deployments")["output"]["total"]
            .as_u64()
            .expect("total")
    }

    /// `examples/<name>` zipped into the working folder.
    pub fn example_zip(&self, name: &str) -> PathBuf {
        let out = self.work.path().join(format!("{name}.zip"));
        common::zip_dir(&Path::new(common::ROOT).join("examples").join(name), &out);
        out
    }
}

/// Fails when the key appears in either stream.
pub fn assert_no_key(stdout: &str, stderr: &str) {
    assert!(!stdout.contains(KEY), "the key is on stdout:\n{stdout}");
    assert!(!stderr.contains(KEY), "the key is on stderr:\n{stderr}");
}

#[path = "../common/mod.rs"]
pub mod common;
