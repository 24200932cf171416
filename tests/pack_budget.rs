//! The 1 GB upload limit: a dataset whose zip would exceed it is refused before anything is
//! written, naming the largest files and what `--fix` would save.

mod common;
mod pack_helpers;

use std::fs;

use common::Fixture;
use pack_helpers::{Scratch, names_in};
use predicates::prelude::*;
use serde_json::Value;

/// The example dataset with three clips padded, sparsely, to 400 MB each: a 1.2 GB zip that
/// costs no disk space. The clips are still valid (check reports nothing about them).
fn oversized() -> Fixture {
    let fixture = Fixture::i2v();
    for (clip, mb) in [
        ("clip03.mp4", 420u64),
        ("clip07.mp4", 400),
        ("clip11.mp4", 410),
    ] {
        let file = fs::File::options()
            .write(true)
            .open(fixture.path(clip))
            .unwrap();
        file.set_len(mb * 1_000_000).unwrap();
    }
    fixture
}

#[test]
fn a_zip_over_the_limit_is_refused_naming_the_largest_files() {
    let fixture = oversized();
    let scratch = Scratch::new();
    let output = scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(scratch.zip("train.zip"))
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "over the upload limit of 1,073,741,824 bytes",
        ))
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(output).unwrap();
    let largest = text
        .lines()
        .find(|l| l.contains("largest:"))
        .unwrap_or_else(|| panic!("no list of the largest files in:\n{text}"));
    let order: Vec<usize> = ["clip03.mp4", "clip11.mp4", "clip07.mp4"]
        .iter()
        .map(|clip| {
            largest
                .find(clip)
                .unwrap_or_else(|| panic!("{clip} missing: {largest}"))
        })
        .collect();
    assert!(
        order.windows(2).all(|w| w[0] < w[1]),
        "not biggest first: {largest}"
    );
    // The example clips are above max_pixels: --fix would shrink them.
    assert!(text.contains("--fix would downscale"), "{text}");
    assert!(names_in(&scratch.out).is_empty(), "nothing may be written");
}

#[test]
fn the_refusal_is_in_the_json_summary() {
    let fixture = oversized();
    let scratch = Scratch::new();
    let output = scratch
        .wanft()
        .arg("pack")
        .arg(&fixture.root)
        .arg("-o")
        .arg(scratch.zip("train.zip"))
        .args(["--format", "json"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&output).unwrap();
    assert_eq!(doc["status"], "refused");
    let over = &doc["datasets"][0]["refusal"]["over_budget"];
    assert_eq!(over["limit"], 1_073_741_824u64);
    assert!(over["size"].as_u64().unwrap() > 1_230_000_000);
    assert_eq!(over["largest"][0]["name"], "clip03.mp4");
    assert_eq!(over["largest"][0]["bytes"], 420_000_000u64);
    let estimate = &over["fix_estimate"];
    let saved = estimate["saved"].as_u64().unwrap();
    assert!(
        saved > 0 && saved < over["size"].as_u64().unwrap(),
        "{estimate}"
    );
    assert_eq!(estimate["clips_downscaled"], 20);
    assert_eq!(doc["datasets"][0]["archive"], Value::Null);
    assert!(names_in(&scratch.out).is_empty());
}
