//! `wanft emulator` as a process: the URL line, a call, a clean stop, and the key rules.

mod emulator_support;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

use reqwest::StatusCode;

const BINARY: &str = env!("CARGO_BIN_EXE_wanft");
const CLI_KEY: &str = "sk-cli-secret-4242";

#[test]
fn serves_on_a_free_port_and_stops_on_sigterm() {
    let mut child = Command::new(BINARY)
        .args([
            "emulator",
            "--port",
            "0",
            "--time-scale",
            "0",
            "--seed",
            "3",
        ])
        .env("DASHSCOPE_API_KEY", CLI_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("wanft starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    stdout.read_line(&mut line).expect("first line");
    let base = line
        .trim()
        .strip_prefix("wanft emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let (with_key, without_key) = runtime.block_on(async {
        let client = emulator_support::client();
        let url = format!("{base}/api/v1/fine-tunes");
        let with_key = client
            .get(&url)
            .bearer_auth(CLI_KEY)
            .send()
            .await
            .expect("answered");
        let without_key = client.get(&url).send().await.expect("answered");
        (with_key.status(), without_key.status())
    });
    assert_eq!(with_key, StatusCode::OK);
    assert_eq!(without_key, StatusCode::UNAUTHORIZED);

    let terminated = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let status = child.wait().expect("wanft exits");
    assert!(
        status.success(),
        "SIGTERM should stop it cleanly: {status:?}"
    );
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).expect("stdout");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr)
        .expect("stderr");
    for output in [&line, &rest, &stderr] {
        assert!(!output.contains(CLI_KEY), "the key was printed: {output}");
    }
}

#[test]
fn refuses_to_start_without_a_key() {
    let output = Command::new(BINARY)
        .args(["emulator", "--port", "0"])
        .env_remove("DASHSCOPE_API_KEY")
        .output()
        .expect("wanft runs");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--api-key") && stderr.contains("DASHSCOPE_API_KEY"),
        "{stderr}"
    );
    assert!(output.stdout.is_empty(), "no URL line without a key");
}

#[test]
fn help_never_shows_the_key() {
    let output = Command::new(BINARY)
        .args(["emulator", "--help"])
        .env("DASHSCOPE_API_KEY", CLI_KEY)
        .output()
        .expect("wanft runs");
    assert!(output.status.success());
    let help = String::from_utf8_lossy(&output.stdout);
    assert!(
        help.contains("--time-scale") && help.contains("--state-dir"),
        "{help}"
    );
    assert!(!help.contains(CLI_KEY), "{help}");
}
