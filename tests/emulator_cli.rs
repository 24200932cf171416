//! `wanft emulator` as a process: the URL line, a call, a clean stop, the key rules, and
//! `--detach`.

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

/// The status of `GET /api/v1/fine-tunes` on `base` with `key` (and without one).
fn statuses(base: &str, key: &str) -> (StatusCode, StatusCode) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = emulator_support::client();
        let url = format!("{base}/api/v1/fine-tunes");
        let with_key = client
            .get(&url)
            .bearer_auth(key)
            .send()
            .await
            .expect("answered");
        let without_key = client.get(&url).send().await.expect("answered");
        (with_key.status(), without_key.status())
    })
}

#[test]
fn without_a_key_it_makes_one_up_and_prints_it() {
    let mut child = Command::new(BINARY)
        .args(["emulator", "--port", "0", "--time-scale", "0"])
        .env_remove("DASHSCOPE_API_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("wanft starts");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let (mut first, mut second) = (String::new(), String::new());
    stdout.read_line(&mut first).expect("first line");
    stdout.read_line(&mut second).expect("second line");
    let base = first
        .trim()
        .strip_prefix("wanft emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected first line: {first:?}"))
        .to_owned();
    let key = second
        .split("export DASHSCOPE_API_KEY=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no key on the second line: {second:?}"))
        .to_owned();
    assert!(key.starts_with("sk-emulator-") && key.len() > 20, "{key}");
    assert!(
        second.contains(&format!("WANFT_BASE_URL={base}")),
        "{second}"
    );
    assert_eq!(
        statuses(&base, &key),
        (StatusCode::OK, StatusCode::UNAUTHORIZED)
    );
    child.kill().expect("stopped");
    child.wait().expect("reaped");
}

#[test]
fn detached_it_prints_its_exports_and_runs_until_killed() {
    let output = Command::new(BINARY)
        .args(["emulator", "--detach", "--time-scale", "0"])
        .env_remove("DASHSCOPE_API_KEY")
        .output()
        .expect("wanft runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let export = |name: &str| {
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("export {name}=")))
            .unwrap_or_else(|| panic!("no {name} in {stdout}"))
            .to_owned()
    };
    let (base, key, pid) = (
        export("WANFT_BASE_URL"),
        export("DASHSCOPE_API_KEY"),
        export("WANFT_EMULATOR_PID"),
    );
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    // The parent has exited; the emulator answers on its own.
    assert_eq!(
        statuses(&base, &key),
        (StatusCode::OK, StatusCode::UNAUTHORIZED)
    );
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    // It stops listening.
    let address = base.trim_start_matches("http://").to_owned();
    let stopped = (0..200).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(25));
        std::net::TcpStream::connect(&address).is_err()
    });
    assert!(stopped, "the detached emulator still listens after SIGTERM");
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
