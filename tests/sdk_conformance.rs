//! The emulator against the official clients: `tests/conformance/sdk_lifecycle.py` drives it
//! with the `dashscope` and `openai` Python packages (pinned in
//! `tests/conformance/requirements.txt`) through files, fine-tunes with paged logs and the
//! event stream, deployments and video synthesis. A call an SDK makes that the emulator cannot
//! answer fails the script, and this test.
//!
//! Python comes from `WANFT_CONFORMANCE_PYTHON` (set by `.ci/run`), else
//! `.venv-conformance/bin/python` at the repository root (`scripts/conformance-venv.sh` makes
//! it). Without it the test fails, saying how to make it: it is never skipped.

mod cli_api_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use cli_api_support::{KEY, common};
use wanft::emulator::{BlockingEmulator, EmulatorConfig};

fn python() -> PathBuf {
    let python = std::env::var_os("WANFT_CONFORMANCE_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(common::ROOT).join(".venv-conformance/bin/python"));
    assert!(
        python.is_file(),
        "no Python for the official-client conformance test at {}: run \
         scripts/conformance-venv.sh (as .ci/run does), or point WANFT_CONFORMANCE_PYTHON at a \
         Python with the packages of tests/conformance/requirements.txt",
        python.display()
    );
    python
}

#[test]
fn the_official_clients_run_the_whole_lifecycle_against_the_emulator() {
    let python = python();
    let emulator = BlockingEmulator::start(EmulatorConfig {
        // A default job in about half a second, so the event stream runs to its end quickly.
        time_scale: 600.0,
        seed: Some(3),
        ..EmulatorConfig::new(KEY)
    })
    .expect("emulator starts");
    let work = tempfile::tempdir().unwrap();
    let zip = work.path().join("wan-i2v-training-dataset.zip");
    let examples = Path::new(common::ROOT).join("examples");
    common::zip_dir(&examples.join("i2v-train"), &zip);
    let output = Command::new(&python)
        .arg(Path::new(common::ROOT).join("tests/conformance/sdk_lifecycle.py"))
        .env("WANFT_EMULATOR_BASE", emulator.base_url())
        .env("WANFT_EMULATOR_KEY", KEY)
        .env("WANFT_TRAINING_ZIP", &zip)
        .env(
            "WANFT_FIRST_FRAME",
            examples.join("i2v-train/clip01_first.jpg"),
        )
        .env("NO_PROXY", "127.0.0.1")
        .env_remove("DASHSCOPE_HTTP_BASE_URL")
        .current_dir(work.path())
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the official clients failed against the emulator:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains("conformance: every call answered"),
        "{stdout}"
    );
}
