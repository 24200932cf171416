//! The `wanft check`, `rules` and `explain` commands as users run them: exit codes, output
//! formats, error messages.

mod common;

use assert_cmd::Command;
use common::{Fixture, ROOT, copy_dir};
use predicates::prelude::*;
use serde_json::Value;

fn wanft() -> Command {
    let mut cmd = Command::cargo_bin("wanft").unwrap();
    cmd.current_dir(ROOT).env_remove("DASHSCOPE_API_KEY");
    cmd
}

#[test]
fn clean_example_exits_zero_with_a_summary() {
    wanft()
        .args(["check", "examples/i2v-train"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("20 samples (i2v training"))
        .stdout(predicate::str::contains("0 errors"));
}

#[test]
fn progress_and_notes_stay_off_stderr_when_not_a_terminal() {
    wanft()
        .args(["check", "examples/i2v-train"])
        .assert()
        .code(0)
        .stderr(predicate::str::is_empty());
}

#[test]
fn json_report_follows_the_schema() {
    let out = wanft()
        .args([
            "check",
            "examples/kf2v-train",
            "--model",
            "wan2.2-kf2v-flash",
        ])
        .args(["--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&out).expect("stdout is one JSON document");
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["tool"]["name"], "wanft");
    assert_eq!(doc["input"]["mode"]["task"], "kf2v");
    assert_eq!(doc["summary"]["samples"], 10);
    let findings = doc["findings"].as_array().unwrap();
    assert!(findings.iter().any(|f| f["rule"] == "S002"));
    for f in findings {
        for key in [
            "rule", "name", "severity", "file", "line", "message", "hint",
        ] {
            assert!(f.get(key).is_some(), "finding lacks {key}: {f}");
        }
    }
    let media = doc["media"].as_array().unwrap();
    assert_eq!(media.len(), 30, "10 clips and 20 frames");
    assert!(
        media
            .iter()
            .any(|m| m["kind"] == "video" && m["width"].is_u64())
    );
}

#[test]
fn errors_exit_one_and_are_located() {
    let fx = Fixture::i2v();
    fx.set_field(2, "video_path", "missing.mp4");
    wanft()
        .arg("check")
        .arg(&fx.root)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("data.jsonl"))
        .stdout(predicate::str::contains("P001"))
        .stdout(predicate::str::contains("missing.mp4"));
}

#[test]
fn strict_turns_warnings_into_failure() {
    let fx = Fixture::i2v();
    fx.write("leftover.txt", "notes");
    wanft().arg("check").arg(&fx.root).assert().code(0);
    wanft()
        .arg("check")
        .arg(&fx.root)
        .arg("--strict")
        .assert()
        .code(1);
}

#[test]
fn missing_input_exits_two_with_a_clear_message() {
    wanft()
        .args(["check", "no/such/dataset"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("does not exist"))
        .stderr(predicate::str::contains("panicked").not());
}

#[test]
fn unknown_model_exits_two_and_lists_the_known_ones() {
    wanft()
        .args(["check", "examples/i2v-train", "--model", "wan9"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("wan2.2-kf2v-flash"));
}

#[test]
fn truncated_zip_exits_two() {
    let fx = Fixture::i2v();
    let zip = fx.zip();
    let bytes = std::fs::read(&zip).unwrap();
    std::fs::write(&zip, &bytes[..bytes.len() / 2]).unwrap();
    wanft()
        .arg("check")
        .arg(&zip)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a readable zip archive"));
}

#[test]
fn explain_prints_what_why_and_fix() {
    wanft()
        .args(["explain", "J009"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("invalid-json"))
        .stdout(predicate::str::contains("Why it matters"))
        .stdout(predicate::str::contains("How to fix it"));
    wanft()
        .args(["explain", "path-case-mismatch"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("P002"));
    wanft().args(["explain", "Z999"]).assert().code(2);
    // A decode-level rule names the wanft.toml keys that set its thresholds.
    wanft()
        .args(["explain", "D003"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("[deep]"))
        .stdout(predicate::str::contains("cut_difference = 25.0"))
        .stdout(predicate::str::contains("cut_ratio = 4.0"));
}

#[test]
fn deep_thresholds_come_from_wanft_toml() {
    // Three moving clips: no D004 at the default static_motion; every one is "static" once
    // wanft.toml asks for more motion than any clip has.
    let fx = Fixture::i2v();
    let lines = fx.lines();
    fx.set_lines(&lines[..3]);
    let config = fx.root.parent().unwrap().join("wanft.toml");
    let check = |deep: &str| {
        std::fs::write(
            &config,
            format!("[dataset]\ntraining = \"dataset\"\n{deep}"),
        )
        .unwrap();
        let out = wanft()
            .current_dir(fx.root.parent().unwrap())
            .args(["check", "--deep", "--format", "json"])
            .output()
            .unwrap();
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        doc["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["rule"] == "D004")
            .count()
    };
    assert_eq!(check(""), 0);
    assert_eq!(check("[deep]\nstatic_motion = 250.0\n"), 3);
    // A bad value is an error naming it, not a silent default.
    std::fs::write(&config, "[deep]\nblack_share = 2.0\n").unwrap();
    wanft()
        .current_dir(fx.root.parent().unwrap())
        .args(["check", "--deep"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a share"));
    // Without ffmpeg, --deep is a clear error, not a silent header-only check.
    wanft()
        .args(["check", "examples/i2v-train", "--deep"])
        .env("WANFT_FFMPEG", "/nonexistent/ffmpeg")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("ffmpeg, which is not installed"));
}

#[test]
fn rules_lists_every_rule() {
    let out = wanft()
        .args(["rules", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let rules: Vec<Value> = serde_json::from_slice(&out).unwrap();
    assert_eq!(rules.len(), wanft::rules::all().len());
    let text = wanft()
        .arg("rules")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(text).unwrap();
    assert!(text.contains("M011") && text.contains("media-truncated"));
}

#[test]
fn colour_follows_the_flag() {
    let fx = Fixture::i2v();
    fx.set_field(0, "video_path", "missing.mp4");
    let plain = wanft().arg("check").arg(&fx.root).output().unwrap();
    assert!(!String::from_utf8_lossy(&plain.stdout).contains('\u{1b}'));
    let coloured = wanft()
        .arg("check")
        .arg(&fx.root)
        .args(["--color", "always"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&coloured.stdout).contains('\u{1b}'));
}

#[test]
fn github_annotations_point_at_files_and_lines() {
    let fx = Fixture::i2v();
    fx.set_field(2, "video_path", "missing.mp4");
    let out = wanft()
        .arg("check")
        .arg(&fx.root)
        .args(["--format", "github"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    let data_jsonl = fx.root.join("data.jsonl").display().to_string();
    let line = text
        .lines()
        .find(|l| l.starts_with("::error ") && l.contains("P001"))
        .expect("an error annotation");
    assert!(
        line.contains(&format!("file={data_jsonl},line=3,")),
        "{line}"
    );
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("::notice title=wanft check::")
    );
}

#[test]
fn github_and_sarif_paths_are_relative_to_the_repository_root() {
    let repo = tempfile::tempdir().unwrap();
    std::fs::create_dir(repo.path().join(".git")).unwrap();
    let datasets = repo.path().join("data").join("effect");
    copy_dir(
        &std::path::Path::new(ROOT).join("examples/i2v-train"),
        &datasets,
    );
    let line = std::fs::read_to_string(datasets.join("data.jsonl")).unwrap();
    std::fs::write(
        datasets.join("data.jsonl"),
        line.replacen("clip03.mp4", "missing.mp4", 1),
    )
    .unwrap();
    // Run from a subfolder of the repository: paths are still from its root.
    let out = wanft()
        .current_dir(repo.path().join("data"))
        .args(["check", "effect", "--format", "github"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("file=data/effect/data.jsonl,line=3,"),
        "{text}"
    );
    let out = wanft()
        .current_dir(repo.path().join("data"))
        .args(["check", "effect", "--format", "sarif"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let log: Value = serde_json::from_slice(&out).unwrap();
    let uris: Vec<&str> = log["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert!(uris.contains(&"data/effect/data.jsonl"), "{uris:?}");
}

#[test]
fn sarif_log_lists_rules_and_results() {
    let fx = Fixture::i2v();
    fx.set_field(2, "video_path", "missing.mp4");
    let out = wanft()
        .arg("check")
        .arg(&fx.root)
        .args(["--format", "sarif"])
        .assert()
        .code(1)
        .get_output()
        .stdout
        .clone();
    let log: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), wanft::rules::all().len());
    let result = run["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ruleId"] == "P001")
        .expect("the missing file");
    assert_eq!(result["level"], "error");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    assert_eq!(rules[index]["id"], "P001");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["region"]["startLine"], 3);
    assert!(
        location["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("data.jsonl")
    );
}

#[test]
fn without_a_path_the_project_file_says_what_to_check() {
    let examples = std::path::Path::new(ROOT).join("examples");
    let out = wanft()
        .current_dir(&examples)
        .arg("check")
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("20 samples (i2v training"), "{text}");
    assert!(text.contains("3 samples (i2v validation"), "{text}");
    // Both datasets in one JSON document, and in one SARIF run.
    let out = wanft()
        .current_dir(&examples)
        .args(["check", "--format", "json"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let doc: Value = serde_json::from_slice(&out).unwrap();
    let datasets = doc["datasets"].as_array().expect("several datasets");
    let paths: Vec<&str> = datasets
        .iter()
        .map(|d| d["input"]["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.len() == 2 && paths[0].ends_with("i2v-train") && paths[1].ends_with("i2v-val"),
        "{paths:?}"
    );
    assert_eq!(datasets[1]["input"]["mode"]["role"], "validation");
    assert_eq!(doc["summary"]["datasets"], 2);
    assert_eq!(doc["summary"]["errors"], 0);
    let out = wanft()
        .current_dir(&examples)
        .args(["check", "--format", "sarif"])
        .assert()
        .code(0)
        .get_output()
        .stdout
        .clone();
    let log: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(log["runs"].as_array().unwrap().len(), 1);
    // A trigger from wanft.toml applies: drop it from one prompt of a copy.
    let fx = Fixture::i2v();
    let p = fx.lines()[0]["prompt"]
        .as_str()
        .unwrap()
        .replace("v7nq2r ", "");
    fx.set_field(0, "prompt", &p);
    std::fs::write(
        fx.root.parent().unwrap().join("wanft.toml"),
        "[dataset]\ntraining = \"dataset\"\ntrigger = \"v7nq2r\"\n",
    )
    .unwrap();
    wanft()
        .current_dir(fx.root.parent().unwrap())
        .arg("check")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[T003]"));
}

#[test]
fn configured_validation_prompts_are_held_to_the_training_effect() {
    let dir = tempfile::tempdir().unwrap();
    let examples = std::path::Path::new(ROOT).join("examples");
    for set in ["i2v-train", "i2v-val"] {
        common::copy_dir(&examples.join(set), &dir.path().join(set));
    }
    std::fs::write(
        dir.path().join("wanft.toml"),
        "[dataset]\ntraining = \"i2v-train\"\nvalidation = \"i2v-val\"\n",
    )
    .unwrap();
    let manifest = dir.path().join("i2v-val/data.jsonl");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replacen("slow motion", "real time", 1)).unwrap();
    wanft()
        .current_dir(dir.path())
        .arg("check")
        .assert()
        .code(0)
        .stdout(predicate::str::contains("warning[T004]"))
        .stdout(predicate::str::contains("the training set's prompts"));
}

#[test]
fn json_media_entries_carry_coded_and_display_sizes() {
    // clip01, remuxed with square pixels stretched 4:3 and turned 90°: coded 320×240,
    // displayed 240×427; its first frame gains an EXIF orientation.
    let fx = Fixture::i2v();
    common::ffmpeg(&[
        "-i",
        fx.path("clip01.mp4").to_str().unwrap(),
        "-c",
        "copy",
        "-aspect",
        "16:9",
        "-metadata:s:v:0",
        "rotate=270",
        fx.path("turned.mp4").to_str().unwrap(),
    ]);
    fx.remove("clip01.mp4");
    fx.set_field(0, "video_path", "turned.mp4");
    let out = wanft()
        .args(["check", fx.root.to_str().unwrap(), "--format", "json"])
        .output()
        .unwrap();
    let doc: Value = serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    let media = doc["media"].as_array().unwrap();
    let clip = media.iter().find(|m| m["path"] == "turned.mp4").unwrap();
    assert_eq!(
        (clip["coded_width"].as_u64(), clip["coded_height"].as_u64()),
        (Some(320), Some(240))
    );
    assert_eq!(clip["rotation"], 90);
    assert_eq!(clip["pixel_aspect"], serde_json::json!([4, 3]));
    assert_eq!(
        (
            clip["display_width"].as_u64(),
            clip["display_height"].as_u64()
        ),
        (Some(240), Some(427))
    );
    for key in [
        "duration_s",
        "frame_count",
        "sample_count",
        "media_duration_s",
        "container_duration_s",
    ] {
        assert!(clip[key].is_number(), "{key}: {clip}");
    }
    let image = media.iter().find(|m| m["kind"] == "image").unwrap();
    assert!(
        image.as_object().unwrap().contains_key("exif_orientation"),
        "{image}"
    );
    // The aspect rule compares the display size: 240×427 against a 320×240 first frame.
    let findings = doc["findings"].as_array().unwrap();
    assert!(
        findings
            .iter()
            .any(|f| f["rule"] == "M012" && f["message"].as_str().unwrap().contains("240×427")),
        "{findings:#?}"
    );
}
