//! `wanft plan` on datasets read from disk: the bundled examples, as flags and through
//! wanft.toml, and the invariants that tie the clips to the totals.

mod common;
mod support;

use std::fs;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;

fn example(name: &str) -> String {
    Path::new(common::ROOT)
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

fn plan_json(dir: &Path, args: &[&str]) -> Value {
    let output = cargo_bin_cmd!("wanft")
        .arg("plan")
        .args(args)
        .args(["--format", "json"])
        .current_dir(dir)
        .output()
        .expect("wanft runs");
    assert!(
        output.status.code() != Some(2),
        "plan could not run: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("valid JSON on stdout")
}

/// Tokens, billable seconds and unknown durations must follow from the per-clip figures.
fn assert_totals_follow_from_clips(doc: &Value) {
    let clips = doc["clips"].as_array().expect("clips");
    let seconds: u64 = clips
        .iter()
        .map(|c| c["billable_s"].as_u64().unwrap_or(0))
        .sum();
    let unknown = clips.iter().filter(|c| c["billable_s"].is_null()).count();
    let max_pixels = doc["hyper_parameters"]["max_pixels"].as_u64().unwrap();
    let n_epochs = doc["hyper_parameters"]["n_epochs"].as_u64().unwrap();
    assert_eq!(doc["tokens"]["billable_seconds"], seconds);
    assert_eq!(doc["tokens"]["unknown_durations"], unknown);
    assert_eq!(
        doc["tokens"]["all_clips"],
        (seconds * max_pixels * n_epochs).div_ceil(1024)
    );
    assert_eq!(doc["fee"]["lower_bound_only"], unknown > 0);
}

#[test]
fn a_training_folder_is_split_automatically() {
    let dir = tempfile::tempdir().unwrap();
    let doc = plan_json(
        dir.path(),
        &[&example("i2v-train"), "--region", "cn-beijing"],
    );
    assert_eq!(doc["datasets"][0]["role"], "training");
    assert_eq!(doc["datasets"][0]["samples"], 20);
    // 20 samples, split 0.9 → 2 split off, 18 train, batch 2 → 9 steps per epoch.
    assert_eq!(doc["counts"]["supplied"], 20);
    assert_eq!(doc["counts"]["validation"], 2);
    assert_eq!(doc["counts"]["validation_source"], "auto_split");
    assert_eq!(doc["steps"]["per_epoch"], 9);
    assert_eq!(doc["steps"]["n_epochs"], 89);
    let clips = doc["clips"].as_array().unwrap();
    assert_eq!(clips.len(), 20);
    assert_eq!(clips[0]["path"], "clip01.mp4");
    assert_eq!(clips[19]["path"], "clip20.mp4");
    assert_totals_follow_from_clips(&doc);
}

#[test]
fn a_validation_set_disables_the_split() {
    let dir = tempfile::tempdir().unwrap();
    let doc = plan_json(
        dir.path(),
        &[
            &example("i2v-train"),
            "--validation",
            &example("i2v-val"),
            "--region",
            "ap-southeast-1",
            "--n-epochs",
            "100",
        ],
    );
    assert_eq!(doc["datasets"][1]["role"], "validation");
    assert_eq!(doc["counts"]["training"], 20);
    assert_eq!(doc["counts"]["validation"], 3);
    assert_eq!(doc["counts"]["validation_source"], "given");
    assert_eq!(doc["steps"]["total"], 1000);
    assert!(doc["fee"]["without_split_validation"].is_null());
    assert_totals_follow_from_clips(&doc);
}

#[test]
fn dataset_paths_in_the_file_are_relative_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    common::copy_dir(Path::new(&example("i2v-train")), &project.join("train"));
    common::copy_dir(Path::new(&example("i2v-val")), &project.join("val"));
    fs::write(
        project.join("wanft.toml"),
        "region = \"cn-beijing\"\n[dataset]\ntraining = \"train\"\nvalidation = \"val\"\n",
    )
    .unwrap();

    // Run from the parent folder: the paths must resolve against the file, not the cwd.
    let doc = plan_json(dir.path(), &["--config", "project/wanft.toml"]);
    let training = doc["datasets"][0]["path"].as_str().unwrap();
    assert!(Path::new(training).ends_with("project/train"), "{training}");
    assert_eq!(doc["counts"]["training"], 20);
    assert_eq!(doc["counts"]["validation"], 3);

    // A DATASET argument replaces the file's training set.
    let kf2v = plan_json(
        dir.path(),
        &[
            "--config",
            "project/wanft.toml",
            &example("kf2v-train"),
            "--model",
            "wan2.2-kf2v-flash",
        ],
    );
    assert_eq!(kf2v["counts"]["training"], 10);
}

#[test]
fn a_missing_dataset_cannot_be_planned() {
    let dir = tempfile::tempdir().unwrap();
    cargo_bin_cmd!("wanft")
        .args(["plan", "no-such-folder", "--region", "cn-beijing"])
        .current_dir(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("no-such-folder"));
}

/// ffprobe's duration rounded half up, then capped, as the platform bills it (spec §5.1).
fn ffprobe_billable_seconds(clip: &Path, cap: u64) -> u64 {
    let seconds = support::ffprobe::video_stream(clip)
        .duration_s
        .expect("ffprobe reads the clip's duration");
    ((seconds + 0.5).floor() as u64).min(cap)
}

#[test]
fn real_clip_durations_give_the_real_bill() {
    // Independent of wanft's own probe: ffprobe's durations, the spec's formula (§5.1).
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(common::ROOT).join("examples/i2v-train");
    let manifest = fs::read_to_string(root.join("data.jsonl")).unwrap();
    let seconds: u64 = manifest
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .map(|v| ffprobe_billable_seconds(&root.join(v["video_path"].as_str().unwrap()), 10))
        .sum();
    let doc = plan_json(
        dir.path(),
        &[
            &example("i2v-train"),
            "--region",
            "cn-beijing",
            "--n-epochs",
            "100",
        ],
    );
    assert_eq!(doc["tokens"]["billable_seconds"], seconds);
    let tokens = seconds * 36 * 100; // max_pixels 36864 / 1024 = 36
    assert_eq!(doc["tokens"]["all_clips"], tokens);
    assert_eq!(doc["tokens"]["unknown_durations"], 0);
    // ¥0.32 per 1,000 tokens, exact: tokens × 32 / 100,000 yuan.
    let fee = rust_decimal::Decimal::from(tokens * 32) / rust_decimal::Decimal::from(100_000);
    assert_eq!(
        doc["fee"]["all_clips"]["amount"],
        fee.normalize().to_string()
    );
}

#[test]
fn lossless_cuts_are_billed_as_they_play() {
    // Twenty 7.1 s cuts that keep up to 2 s of hidden frames each: billed 7 s each (spec §8.12),
    // as ffprobe's duration and the spec's formula give, not by their stored samples.
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("cuts");
    common::copy_dir(&Path::new(common::ROOT).join("examples/i2v-train"), &data);
    let source = dir.path().join("source.mp4");
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=24:duration=12",
        "-f",
        "lavfi",
        "-i",
        "sine=duration=12",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "48",
        "-c:a",
        "aac",
        source.to_str().unwrap(),
    ]);
    let manifest = fs::read_to_string(data.join("data.jsonl")).unwrap();
    let mut expected = 0;
    for line in manifest.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        let clip = data.join(v["video_path"].as_str().unwrap());
        common::ffmpeg(&[
            "-ss",
            "2.7",
            "-i",
            source.to_str().unwrap(),
            "-t",
            "7.1",
            "-c",
            "copy",
            clip.to_str().unwrap(),
        ]);
        expected += ffprobe_billable_seconds(&clip, 10);
    }
    assert_eq!(expected, 20 * 7);
    let doc = plan_json(
        dir.path(),
        &[
            data.to_str().unwrap(),
            "--region",
            "cn-beijing",
            "--n-epochs",
            "100",
        ],
    );
    assert_eq!(doc["tokens"]["billable_seconds"], expected);
    for clip in doc["clips"].as_array().unwrap() {
        let seconds = clip["duration_s"].as_f64().unwrap();
        assert!((seconds - 7.1).abs() < 0.05, "{clip}");
    }
    assert_totals_follow_from_clips(&doc);
}
