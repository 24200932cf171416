//! `wanft.toml` from the command line: lookup, precedence (file < flag), errors, `wanft init`.

use std::fs;
use std::path::Path;

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;

fn wanft(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    cargo_bin_cmd!("wanft")
        .args(args)
        .current_dir(dir)
        .env_remove("DASHSCOPE_API_KEY")
        .assert()
}

fn plan_json(dir: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "plan",
        "--clip-seconds",
        "5,5,5,5,5,5,5,5,5,5,5,5",
        "--format",
        "json",
    ];
    args.extend(extra);
    let assert = wanft(dir, &args);
    serde_json::from_slice(&assert.get_output().stdout).expect("valid JSON on stdout")
}

const PROJECT: &str = r#"
model = "wan2.2-i2v-flash"
region = "ap-southeast-1"

[hyper_parameters]
n_epochs = 300
eval_epochs = 30

[plan]
max_steps = 100000
"#;

#[test]
fn the_file_is_read_and_flags_override_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("wanft.toml"), PROJECT).unwrap();

    let from_file = plan_json(dir.path(), &[]);
    assert_eq!(from_file["inputs"]["model"], "wan2.2-i2v-flash");
    assert_eq!(from_file["inputs"]["region"], "ap-southeast-1");
    assert_eq!(from_file["hyper_parameters"]["n_epochs"], 300);
    assert_eq!(from_file["hyper_parameters"]["eval_epochs"], 30);
    assert_eq!(from_file["gates"][0]["limit"], "100000");

    let flagged = plan_json(
        dir.path(),
        &[
            "--n-epochs",
            "250",
            "--region",
            "cn-beijing",
            "--max-steps",
            "7",
        ],
    );
    assert_eq!(flagged["hyper_parameters"]["n_epochs"], 250);
    // Keys the flags leave alone still come from the file.
    assert_eq!(flagged["hyper_parameters"]["eval_epochs"], 30);
    assert_eq!(flagged["inputs"]["region"], "cn-beijing");
    assert_eq!(flagged["inputs"]["model"], "wan2.2-i2v-flash");
    assert_eq!(flagged["gates"][0]["limit"], "7");
    assert_eq!(flagged["gates"][0]["status"], "exceeded");
}

#[test]
fn the_gate_of_the_file_sets_the_exit_code() {
    let dir = tempfile::tempdir().unwrap();
    let tight = PROJECT.replace("max_steps = 100000", "max_steps = 10");
    fs::write(dir.path().join("wanft.toml"), tight).unwrap();
    wanft(
        dir.path(),
        &["plan", "--clip-seconds", "5,5,5,5,5,5,5,5,5,5,5,5"],
    )
    .code(1);
    wanft(
        dir.path(),
        &[
            "plan",
            "--clip-seconds",
            "5,5,5,5,5,5,5,5,5,5,5,5",
            "--max-steps",
            "900",
        ],
    )
    .code(0);
}

#[test]
fn an_explicit_config_path_is_used() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("sub")).unwrap();
    fs::write(dir.path().join("sub/project.toml"), PROJECT).unwrap();
    let doc = plan_json(dir.path(), &["--config", "sub/project.toml"]);
    assert_eq!(doc["hyper_parameters"]["n_epochs"], 300);
    wanft(
        dir.path(),
        &["plan", "--clip-seconds", "5", "--config", "missing.toml"],
    )
    .code(2)
    .stderr(predicate::str::contains("missing.toml"));
}

#[test]
fn an_unknown_key_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let typo = PROJECT.replace("n_epochs = 300", "n_epoch = 300");
    fs::write(dir.path().join("wanft.toml"), typo).unwrap();
    wanft(dir.path(), &["plan", "--clip-seconds", "5"])
        .code(2)
        .stderr(predicate::str::contains("wanft.toml:6:1"))
        .stderr(predicate::str::contains("unknown field `n_epoch`"));
}

#[test]
fn a_bad_value_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = PROJECT.replace("n_epochs = 300", "n_epochs = \"many\"");
    fs::write(dir.path().join("wanft.toml"), bad).unwrap();
    wanft(dir.path(), &["plan", "--clip-seconds", "5"])
        .code(2)
        .stderr(predicate::str::contains("wanft.toml:6:"));
}

#[test]
fn the_api_key_is_refused_and_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "sk-config-test-0123456789";
    fs::write(
        dir.path().join("wanft.toml"),
        format!("{PROJECT}\n[api]\napi_key = \"{secret}\"\n"),
    )
    .unwrap();
    let assert = wanft(dir.path(), &["plan", "--clip-seconds", "5"])
        .code(2)
        .stderr(predicate::str::contains("DASHSCOPE_API_KEY"));
    let output = assert.get_output();
    let all = [output.stdout.clone(), output.stderr.clone()].concat();
    assert!(!String::from_utf8_lossy(&all).contains(secret));
}

#[test]
fn init_then_plan() {
    let dir = tempfile::tempdir().unwrap();
    wanft(dir.path(), &["init"])
        .code(0)
        .stderr(predicate::str::contains("wanft.toml"));
    let written = fs::read_to_string(dir.path().join("wanft.toml")).unwrap();
    assert!(written.contains("[hyper_parameters]"));

    // The template's model and region are used; durations come from the flag.
    let doc = plan_json(dir.path(), &[]);
    assert_eq!(doc["inputs"]["model"], "wan2.5-i2v-preview");
    assert_eq!(doc["inputs"]["region"], "cn-beijing");
    assert_eq!(doc["summary"]["errors"], 0);

    // A second init refuses to overwrite an edited file; --force does.
    fs::write(dir.path().join("wanft.toml"), "# edited\n").unwrap();
    wanft(dir.path(), &["init"])
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(
        fs::read_to_string(dir.path().join("wanft.toml")).unwrap(),
        "# edited\n"
    );
    wanft(dir.path(), &["init", "--force"]).code(0);
    assert_eq!(
        fs::read_to_string(dir.path().join("wanft.toml")).unwrap(),
        written
    );
}
