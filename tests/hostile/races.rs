//! Concurrent wanft processes on one output or one ledger: packs take turns and leave a zip
//! with its own manifest, uploads of one zip upload it once, and no output is left half done.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::cli_api_support::common::Fixture;
use crate::cli_api_support::{Cli, KEY, fast_clock};
use sha2::{Digest, Sha256};
use wanft::lock::{FileLock, Mode};
use wanft::pack::manifest::{PackManifest, path_for};

fn sha256_of(path: &Path) -> String {
    hex::encode(Sha256::digest(std::fs::read(path).unwrap()))
}

/// Two different datasets of 10 samples each, cut from the i2v example.
fn two_datasets() -> (Fixture, Fixture) {
    let cut = |range: std::ops::Range<usize>| {
        let fx = Fixture::i2v();
        let lines = fx.lines()[range].to_vec();
        fx.set_lines(&lines);
        fx
    };
    (cut(0..10), cut(10..20))
}

fn wanft_pack(dataset: &Path, out: &Path, cache: &Path, force: bool) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wanft"));
    cmd.env("WANFT_CACHE_DIR", cache)
        .args(["pack", "-q"])
        .arg(dataset)
        .arg("--output")
        .arg(out)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if force {
        cmd.arg("--force");
    }
    cmd
}

/// The pair as a reader holding the output's lock sees it: `None` while either is missing.
fn locked_pair(out: &Path, cache: &Path) -> Option<(PackManifest, String)> {
    let lock_path = wanft::lock::path_in(Some(cache), out);
    let _lock = FileLock::acquire(&lock_path, Mode::Shared, || {}).unwrap();
    let bytes = std::fs::read(path_for(out)).ok()?;
    let manifest: PackManifest = serde_json::from_slice(&bytes).expect("a whole manifest");
    Some((manifest, sha256_of(out)))
}

#[test]
fn thirty_concurrent_packs_to_one_output_leave_a_matching_pair() {
    let (a, b) = two_datasets();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.zip");
    let cache = tempfile::tempdir().unwrap();
    let done = AtomicBool::new(false);
    let pairs_seen = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        // A reader watching the pair the whole time.
        scope.spawn(|| {
            while !done.load(Ordering::Relaxed) {
                if let Some((manifest, sha)) = locked_pair(&out, cache.path()) {
                    assert_eq!(
                        manifest.archive.sha256, sha,
                        "a reader saw a mismatched pair"
                    );
                    pairs_seen.fetch_add(1, Ordering::Relaxed);
                }
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        });
        let children: Vec<_> = (0..30)
            .map(|i| {
                let dataset = if i % 2 == 0 { &a.root } else { &b.root };
                wanft_pack(dataset, &out, cache.path(), true)
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            assert!(
                output.status.success(),
                "{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        done.store(true, Ordering::Relaxed);
    });
    let (manifest, sha) = locked_pair(&out, cache.path()).expect("both written");
    assert_eq!(manifest.archive.sha256, sha);
    assert_eq!(
        manifest.archive.size,
        std::fs::metadata(&out).unwrap().len()
    );
    assert!(pairs_seen.load(Ordering::Relaxed) > 0);
    // Nothing else is left beside them.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["out.zip", "out.zip.manifest.json"]);
}

#[test]
fn pack_without_force_never_overwrites_a_manifest() {
    let (a, _) = two_datasets();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.zip");
    std::fs::write(path_for(&out), b"someone else's manifest").unwrap();
    let cache = tempfile::tempdir().unwrap();
    let output = wanft_pack(&a.root, &out, cache.path(), false)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(
        std::fs::read(path_for(&out)).unwrap(),
        b"someone else's manifest"
    );
    assert!(!out.exists());
}

#[test]
fn a_manifest_that_cannot_be_written_leaves_no_zip() {
    let (a, _) = two_datasets();
    let dir = tempfile::tempdir().unwrap();
    // A name whose zip (and its temporary file) and manifest fit in a file name, but whose
    // manifest's temporary file does not: the manifest write fails as on a full disk.
    let out = dir.path().join(format!("{}.zip", "x".repeat(216)));
    let cache = tempfile::tempdir().unwrap();
    let output = wanft_pack(&a.root, &out, cache.path(), false)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let left: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn three_concurrent_uploads_of_one_zip_upload_it_once() {
    let cli = Cli::start(fast_clock());
    let zip = cli.example_zip("i2v-train");
    let children: Vec<_> = (0..3)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_wanft"))
                .current_dir(cli.work.path())
                .env("DASHSCOPE_API_KEY", KEY)
                .env("WANFT_CACHE_DIR", cli.cache.path())
                .env("NO_COLOR", "1")
                .args(["upload", zip.to_str().unwrap()])
                .args(["--region", "ap-southeast-1", "--base-url", &cli.base])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut ids = Vec::new();
    for child in children {
        let output = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        ids.push(stdout);
    }
    assert_eq!(cli.file_count(), 1, "uploaded once: {ids:?}");
    let ledger = wanft::api::ledger::Ledger::open(&cli.cache.path().join("uploads.json")).0;
    assert_eq!(ledger.entries().len(), 1, "{:?}", ledger.entries());
}
