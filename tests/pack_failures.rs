//! Packs that fail midway: a write error, a kill, a cancellation. None may leave an `OUT.zip`,
//! none may leave a temporary file that could pass for one, and none may touch the source.

mod common;
mod pack_helpers;

use std::fs;
use std::path::Path;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use common::Fixture;
use pack_helpers::{Scratch, names_in, temp_files, tree_digest};
use predicates::prelude::*;

/// The example dataset with one clip padded (sparsely: cheap to make, real bytes to copy) to
/// `bytes`, so that packing it takes long enough to be interrupted. The probes accept it.
fn large_dataset(bytes: u64) -> Fixture {
    let fixture = Fixture::i2v();
    let clip = fs::File::options()
        .write(true)
        .open(fixture.path("clip01.mp4"))
        .unwrap();
    clip.set_len(bytes).unwrap();
    fixture
}

fn spawn_pack(scratch: &Scratch, dataset: &Path, zip: &Path) -> Child {
    let bin = assert_cmd::cargo::cargo_bin("wanft");
    Process::new(bin)
        .arg("pack")
        .arg(dataset)
        .arg("-o")
        .arg(zip)
        .env("WANFT_CACHE_DIR", &scratch.cache)
        .env_remove("DASHSCOPE_API_KEY")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the pack has a temporary file with data in it, and returns its name. Fails the
/// test if the pack ends first (the dataset was too small to catch it in the act).
fn wait_for_temp_file(child: &mut Child, dir: &Path) -> String {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        for name in temp_files(dir) {
            if fs::metadata(dir.join(&name)).is_ok_and(|m| m.len() > 1 << 20) {
                return name;
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the pack ended before it could be interrupted"
        );
        assert!(Instant::now() < deadline, "no temporary file appeared");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_write_error_leaves_no_zip_and_no_temporary_file() {
    let fixture = Fixture::i2v();
    let before = tree_digest(&fixture.root);
    let scratch = Scratch::new();
    let zip = scratch.zip("train.zip");
    // A file size limit makes the kernel refuse writes past 200 kB (EFBIG), like a full disk.
    let bin = assert_cmd::cargo::cargo_bin("wanft");
    let output = Process::new("prlimit")
        .arg("--fsize=200000")
        .arg(bin)
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(&zip)
        .env("WANFT_CACHE_DIR", &scratch.cache)
        .output()
        .expect("prlimit (util-linux) must be installed");
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("File too large"), "{stderr}");
    assert!(
        names_in(&scratch.out).is_empty(),
        "{:?}",
        names_in(&scratch.out)
    );
    assert_eq!(tree_digest(&fixture.root), before, "the source was touched");
}

#[test]
fn a_killed_pack_leaves_no_zip_and_the_next_run_clears_its_debris() {
    let fixture = large_dataset(300 << 20);
    let before = tree_digest(&fixture.root);
    let scratch = Scratch::new();
    let zip = scratch.zip("train.zip");
    let mut child = spawn_pack(&scratch, &fixture.root, &zip);
    let temp = wait_for_temp_file(&mut child, &scratch.out);
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();

    assert!(!zip.exists(), "a killed pack produced a zip");
    // What is left cannot pass for the result: hidden, marked, not a .zip.
    assert_eq!(names_in(&scratch.out), std::slice::from_ref(&temp));
    assert!(temp.starts_with(".train.zip.wanft-tmp-"), "{temp}");
    assert!(!temp.ends_with(".zip"));
    assert_eq!(tree_digest(&fixture.root), before, "the source was touched");

    scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(&zip)
        .assert()
        .code(0);
    assert_eq!(
        names_in(&scratch.out),
        ["train.zip", "train.zip.manifest.json"],
        "the abandoned temporary file was not removed"
    );
}

#[test]
fn a_terminated_pack_cleans_up_after_itself() {
    let fixture = large_dataset(300 << 20);
    let before = tree_digest(&fixture.root);
    let scratch = Scratch::new();
    let zip = scratch.zip("train.zip");
    let mut child = spawn_pack(&scratch, &fixture.root, &zip);
    wait_for_temp_file(&mut child, &scratch.out);
    // The shell's own `kill`: /bin/kill (procps) is not on every CI image.
    let kill = Process::new("sh")
        .args(["-c", &format!("kill -TERM {}", child.id())])
        .status()
        .unwrap();
    assert!(kill.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stderr).contains("interrupted"));
    assert!(
        names_in(&scratch.out).is_empty(),
        "{:?}",
        names_in(&scratch.out)
    );
    assert_eq!(tree_digest(&fixture.root), before, "the source was touched");
}

#[test]
fn a_missing_output_folder_is_an_error_before_any_work() {
    let fixture = Fixture::i2v();
    let scratch = Scratch::new();
    scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(scratch.out.join("no/such/folder/train.zip"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no/such/folder"));
}
