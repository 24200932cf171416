//! The README is executable: its lifecycle and emulator blocks (each marked
//! `<!-- readme-test: NAME -->`) are taken from README.md and run as written with bash against
//! the emulator, so the README cannot drift from the tool. Both finish in well under a minute
//! at the emulator's default clock (asserted with a wide margin: under a minute each).

mod cli_api_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cli_api_support::common::{ROOT, copy_dir};
use cli_api_support::{KEY, assert_no_key};
use wanft::emulator::{BlockingEmulator, DEFAULT_TIME_SCALE, EmulatorConfig};

const BINARY: &str = env!("CARGO_BIN_EXE_wanft");
/// What "well under a minute" is held to, with room for a loaded machine.
const BUDGET: Duration = Duration::from_secs(60);

/// The shell block that follows `<!-- readme-test: NAME -->` in README.md.
fn block(name: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(ROOT).join("README.md")).unwrap();
    let marker = format!("<!-- readme-test: {name} -->");
    let after = readme
        .split_once(&marker)
        .unwrap_or_else(|| panic!("README.md has no {marker}"))
        .1;
    let body = after
        .trim_start()
        .strip_prefix("```sh\n")
        .unwrap_or_else(|| panic!("{marker} is not followed by a ```sh block"));
    body.split_once("\n```")
        .expect("the block ends")
        .0
        .to_owned()
}

/// A scratch folder holding a copy of the bundled examples, as a checkout does.
fn checkout() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let examples = Path::new(ROOT).join("examples");
    let copy = dir.path().join("examples");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(examples.join("wanft.toml"), copy.join("wanft.toml")).unwrap();
    for set in ["i2v-train", "i2v-val"] {
        copy_dir(&examples.join(set), &copy.join(set));
    }
    let root = dir.path().to_owned();
    (dir, root)
}

/// `bash` running `script` in `dir`, with the built `wanft` first on the PATH and nothing of
/// wanft's configured from outside.
fn bash(dir: &Path, cache: &Path, script: &str) -> Command {
    let bin = Path::new(BINARY).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("bash");
    cmd.args(["-euo", "pipefail", "-c", script])
        .current_dir(dir)
        .env("PATH", path)
        .env("WANFT_CACHE_DIR", cache)
        .env("WANFT_CREDENTIALS", cache.join("none.toml"))
        .env("NO_COLOR", "1")
        .env_remove("DASHSCOPE_API_KEY")
        .env_remove("WANFT_REGION")
        .env_remove("WANFT_BASE_URL");
    cmd
}

#[test]
fn the_lifecycle_block_runs_as_written() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let emulator = BlockingEmulator::start(EmulatorConfig {
        time_scale: DEFAULT_TIME_SCALE,
        ..EmulatorConfig::new(KEY)
    })
    .expect("emulator starts");
    let (_dir, root) = checkout();
    let cache = tempfile::tempdir().unwrap();
    let script = block("lifecycle");
    assert!(script.contains("wanft jobs create"), "{script}");
    let mut cmd = bash(&root, cache.path(), &script);
    // The user's own environment: a key, and the emulator standing in for the platform.
    cmd.env("DASHSCOPE_API_KEY", KEY)
        .env("WANFT_BASE_URL", emulator.base_url());
    let started = Instant::now();
    let output = cmd.output().unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_no_key(&stdout, &stderr);
    assert!(output.status.success(), "{script}\n{stdout}\n{stderr}");
    assert!(took < BUDGET, "the lifecycle took {took:?}");
    assert!(stdout.contains("##FT_COMPLETE##"), "{stdout}");
    assert!(root.join("sample.mp4").is_file(), "{stdout}\n{stderr}");
    let previews = std::fs::read_dir(root.join("previews")).unwrap().count();
    assert!(previews > 0);
}

#[test]
fn the_emulator_block_runs_as_written() {
    let (_dir, root) = checkout();
    let cache = tempfile::tempdir().unwrap();
    let script = block("emulator");
    assert!(script.contains("wanft emulator --detach"), "{script}");
    // Stop the emulator however the block ends (it stops it itself when all goes well).
    let guarded =
        format!("trap 'kill \"${{WANFT_EMULATOR_PID:-}}\" 2>/dev/null || true' EXIT\n{script}");
    let started = Instant::now();
    let output = bash(&root, cache.path(), &guarded).output().unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script}\n{stdout}\n{stderr}");
    assert!(took < BUDGET, "the emulator block took {took:?}");
    assert!(stdout.contains("Done"), "{stdout}");
    let runs = root.join("examples/wanft-runs");
    let job = std::fs::read_dir(&runs)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let samples = std::fs::read_dir(job.join("samples")).unwrap().count();
    assert_eq!(samples, 3, "one sample per validation image");
}
