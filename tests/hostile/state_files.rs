//! State and config files planted as a FIFO or as `/dev/zero`: the upload ledger, a pack
//! manifest, wanft.toml, the credentials file and the emulator's state. Each command answers
//! promptly (a FIFO used to hang it forever) and within a memory cap (`/dev/zero` used to be read
//! until memory ran out), with a message naming what the file is.

use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command as StdCommand;
use std::time::{Duration, Instant};

use crate::cli_api_support::common;
use crate::cli_api_support::{Cli, KEY, fast_clock};

/// Far above what any of these commands needs (they stay under 100 MB), far below what reading
/// `/dev/zero` takes: address space, so that growth fails fast instead of swapping.
const ADDRESS_SPACE: u64 = 4 << 30;
/// Generous for a loaded 2-core machine; a FIFO used to block forever.
const DEADLINE: Duration = Duration::from_secs(20);

enum Plant {
    Fifo,
    DevZero,
}

fn plant(path: &Path, what: &Plant) {
    let _ = std::fs::remove_file(path);
    match what {
        Plant::Fifo => {
            let status = StdCommand::new("mkfifo").arg(path).status().unwrap();
            assert!(status.success());
        }
        Plant::DevZero => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
    }
}

fn expected_kind(what: &Plant) -> &'static str {
    match what {
        Plant::Fifo => "it is a FIFO (named pipe), not a regular file",
        Plant::DevZero => "it is a character device, not a regular file",
    }
}

/// Runs `cmd` with an address-space cap and a deadline; returns the exit code and both streams.
fn run_capped(mut cmd: StdCommand) -> (Option<i32>, String, String) {
    // SAFETY: setrlimit is async-signal-safe, the only call made between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: ADDRESS_SPACE,
                rlim_max: ADDRESS_SPACE,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let started = Instant::now();
    let output = assert_cmd::Command::from_std(cmd)
        .timeout(DEADLINE)
        .output()
        .expect("runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        elapsed < DEADLINE,
        "still running after {elapsed:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (output.status.code(), stdout, stderr)
}

fn wanft(cli: &Cli, args: &[&str]) -> StdCommand {
    let mut cmd = StdCommand::new(env!("CARGO_BIN_EXE_wanft"));
    cmd.current_dir(cli.work.path())
        .env("DASHSCOPE_API_KEY", KEY)
        .env("WANFT_CACHE_DIR", cli.cache.path())
        .env(
            "WANFT_CREDENTIALS",
            cli.work.path().join("no-credentials.toml"),
        )
        .env("NO_COLOR", "1")
        .args(args);
    cmd
}

fn upload_args<'a>(cli: &'a Cli, zip: &'a str) -> Vec<&'a str> {
    vec![
        "upload",
        zip,
        "--region",
        "ap-southeast-1",
        "--base-url",
        &cli.base,
        "--retry-delay",
        "10ms",
    ]
}

#[test]
fn a_planted_ledger_is_ignored_with_a_reason_and_replaced() {
    let cli = Cli::start(fast_clock());
    let zip = cli.example_zip("i2v-train");
    let zip = zip.to_str().unwrap();
    for what in [Plant::Fifo, Plant::DevZero] {
        let ledger = cli.cache.path().join("uploads.json");
        plant(&ledger, &what);
        let (code, _, stderr) = run_capped(wanft(&cli, &upload_args(&cli, zip)));
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.contains("ignoring the upload ledger"), "{stderr}");
        assert!(stderr.contains(expected_kind(&what)), "{stderr}");
        // The upload was recorded in a real ledger, replacing what was planted.
        assert!(std::fs::symlink_metadata(&ledger).unwrap().is_file());
    }
}

#[test]
fn a_planted_pack_manifest_is_not_trusted_and_does_not_hang_upload() {
    let cli = Cli::start(fast_clock());
    let zip = cli.example_zip("i2v-val");
    let manifest = wanft::pack::manifest::path_for(&zip);
    for what in [Plant::Fifo, Plant::DevZero] {
        plant(&manifest, &what);
        let (code, stdout, stderr) =
            run_capped(wanft(&cli, &upload_args(&cli, zip.to_str().unwrap())));
        assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    }
}

#[test]
fn a_planted_wanft_toml_is_a_clear_error() {
    let cli = Cli::start(fast_clock());
    let dataset = Path::new(common::ROOT).join("examples/i2v-val");
    for what in [Plant::Fifo, Plant::DevZero] {
        plant(&cli.work.path().join("wanft.toml"), &what);
        let (code, _, stderr) = run_capped(wanft(
            &cli,
            &["check", dataset.to_str().unwrap(), "--mode", "validation"],
        ));
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("wanft.toml"), "{stderr}");
        assert!(stderr.contains(expected_kind(&what)), "{stderr}");
    }
}

#[test]
fn a_planted_credentials_file_is_a_clear_error() {
    let cli = Cli::start(fast_clock());
    let credentials = cli.work.path().join("credentials.toml");
    for what in [Plant::Fifo, Plant::DevZero] {
        plant(&credentials, &what);
        let mut cmd = wanft(
            &cli,
            &[
                "files",
                "list",
                "--region",
                "ap-southeast-1",
                "--base-url",
                &cli.base,
            ],
        );
        cmd.env_remove("DASHSCOPE_API_KEY")
            .env("WANFT_CREDENTIALS", &credentials);
        let (code, _, stderr) = run_capped(cmd);
        assert_eq!(code, Some(2), "{stderr}");
        assert!(stderr.contains("credentials.toml"), "{stderr}");
        assert!(stderr.contains(expected_kind(&what)), "{stderr}");
    }
}

#[test]
fn a_planted_emulator_state_is_a_clear_error() {
    let cli = Cli::start(fast_clock());
    let state_dir = cli.work.path().join("state");
    std::fs::create_dir(&state_dir).unwrap();
    for what in [Plant::Fifo, Plant::DevZero] {
        plant(&state_dir.join("state.json"), &what);
        let (code, _, stderr) = run_capped(wanft(
            &cli,
            &[
                "emulator",
                "--port",
                "0",
                "--state-dir",
                state_dir.to_str().unwrap(),
            ],
        ));
        assert_ne!(code, Some(0), "{stderr}");
        assert!(stderr.contains("state.json"), "{stderr}");
        assert!(stderr.contains(expected_kind(&what)), "{stderr}");
    }
}
