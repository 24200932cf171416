//! `wanft plan` end to end: exit codes, gates at their thresholds, the JSON schema.

use assert_cmd::cargo::cargo_bin_cmd;
use predicates::prelude::*;
use serde_json::Value;

/// Spec §5.2 example A as a "what if" plan: wan2.2-i2v-flash in Beijing, clips of 3.4 s and
/// 6.5 s, 400 epochs, a validation set given → 400 steps, 819,200 tokens, ¥49.152.
const EXAMPLE_A: &[&str] = &[
    "plan",
    "--model",
    "wan2.2-i2v-flash",
    "--region",
    "cn-beijing",
    "--clip-seconds",
    "3.4,6.5",
    "--validation-samples",
    "1",
    "--n-epochs",
    "400",
    "--eval-epochs",
    "40",
];

/// Runs `wanft` in an empty folder (so no wanft.toml is picked up).
fn wanft(args: &[&str]) -> assert_cmd::assert::Assert {
    let dir = tempfile::tempdir().expect("temporary folder");
    cargo_bin_cmd!("wanft")
        .args(args)
        .current_dir(dir.path())
        .env_remove("DASHSCOPE_API_KEY")
        .assert()
}

fn with(extra: &[&str]) -> Vec<String> {
    EXAMPLE_A
        .iter()
        .chain(extra)
        .map(|s| (*s).to_owned())
        .collect()
}

fn run(args: &[String]) -> assert_cmd::assert::Assert {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    wanft(&args)
}

fn json(args: &[String]) -> Value {
    let mut args = args.to_vec();
    args.extend(["--format".to_owned(), "json".to_owned()]);
    let output = run(&args).get_output().stdout.clone();
    serde_json::from_slice(&output).expect("valid JSON on stdout")
}

#[test]
fn text_report_shows_the_spec_figures() {
    run(&with(&[]))
        .code(0)
        .stdout(predicate::str::contains("¥49.152"))
        .stdout(predicate::str::contains("819,200"))
        .stdout(predicate::str::contains("400 steps"));
}

#[test]
fn cost_gate_flips_exactly_at_the_threshold() {
    run(&with(&["--max-cost", "49.152"])).code(0);
    run(&with(&["--max-cost", "49.151"]))
        .code(1)
        .stdout(predicate::str::contains("exceeded"));
}

#[test]
fn steps_gate_flips_exactly_at_the_threshold() {
    run(&with(&["--max-steps", "400"])).code(0);
    run(&with(&["--max-steps", "399"])).code(1);
}

#[test]
fn unknown_price_fails_the_cost_gate_until_a_price_is_given() {
    let base = [
        "plan",
        "--model",
        "wan2.7-i2v",
        "--region",
        "ap-southeast-1",
        "--clip-seconds",
        "10",
        "--validation-samples",
        "1",
        "--n-epochs",
        "800",
        "--eval-epochs",
        "80",
    ];
    wanft(&base)
        .code(0)
        .stdout(predicate::str::contains("unknown"))
        .stdout(predicate::str::contains("H012"));
    let gated: Vec<&str> = base.iter().copied().chain(["--max-cost", "1000"]).collect();
    wanft(&gated).code(1);
    // 10 s × 100 × 800 = 800,000 tokens at $0.5 per 1K = $400.
    let priced: Vec<&str> = gated.iter().copied().chain(["--price", "0.5"]).collect();
    wanft(&priced)
        .code(0)
        .stdout(predicate::str::contains("$400"));
}

#[test]
fn error_findings_exit_1_and_are_listed_with_codes() {
    run(&with(&["--lora-rank", "48"]))
        .code(1)
        .stdout(predicate::str::contains("error[H004]"));
    run(&with(&["--max-pixels", "1000", "--save-total-limit", "0"]))
        .code(1)
        .stdout(predicate::str::contains("error[H003]"))
        .stdout(predicate::str::contains("error[H008]"));
}

#[test]
fn json_follows_the_documented_schema() {
    let doc = json(&with(&["--max-cost", "100", "--max-steps", "399"]));
    assert_eq!(doc["schema_version"], 1);
    assert_eq!(doc["inputs"]["model"], "wan2.2-i2v-flash");
    assert_eq!(doc["inputs"]["region"], "cn-beijing");
    assert_eq!(doc["counts"]["training"], 2);
    assert_eq!(doc["counts"]["validation_source"], "given");
    assert_eq!(doc["steps"]["total"], 400);
    assert_eq!(doc["checkpoints"]["count"], 10);
    assert_eq!(doc["clips"].as_array().map(Vec::len), Some(2));
    assert_eq!(doc["tokens"]["all_clips"], 819_200);
    assert_eq!(doc["fee"]["all_clips"]["amount"], "49.152");
    assert_eq!(doc["table"][0]["target_steps"], 800);
    assert_eq!(doc["gates"][0]["status"], "passed");
    assert_eq!(doc["gates"][1]["status"], "exceeded");
    assert_eq!(doc["summary"]["ok"], false);
    assert!(doc["findings"].as_array().is_some());
}

#[test]
fn auto_split_reports_both_bounds() {
    let doc = json(
        &[
            "plan",
            "--model",
            "wan2.5-i2v-preview",
            "--region",
            "cn-beijing",
            "--clip-seconds",
            "5,5,5,5,5,5,5,5,5,5,5,5,5,5,10",
        ]
        .map(str::to_owned),
    );
    // §4.3: 15 samples, split 0.9 → 2 split off; the lower bound drops the longest two.
    assert_eq!(doc["counts"]["validation"], 2);
    assert_eq!(doc["tokens"]["billable_seconds"], 80);
    let n_epochs = doc["steps"]["n_epochs"].as_u64().unwrap();
    assert_eq!(n_epochs, 115); // 13 training → 7 steps per epoch → ceil(800 / 7).
    assert_eq!(
        doc["tokens"]["without_split_validation"].as_u64(),
        Some(65 * 36 * n_epochs)
    );
}

#[test]
fn cannot_run_without_a_region_or_clips() {
    wanft(&["plan", "--clip-seconds", "3"])
        .code(2)
        .stderr(predicate::str::contains("--region"));
    wanft(&["plan", "--region", "cn-beijing"])
        .code(2)
        .stderr(predicate::str::contains("--clip-seconds"));
    wanft(&["plan", "--region", "cn-beijing", "--clip-seconds", "-1"]).code(2);
    wanft(&[
        "plan",
        "--region",
        "cn-beijing",
        "--clip-seconds",
        "3",
        "--model",
        "wan9",
    ])
    .code(2)
    .stderr(predicate::str::contains("wan2.5-i2v-preview"));
}

#[test]
fn the_api_key_never_appears() {
    let secret = "sk-plan-test-0123456789";
    let output = cargo_bin_cmd!("wanft")
        .args(EXAMPLE_A)
        .args(["-v", "--format", "json"])
        .env("DASHSCOPE_API_KEY", secret)
        .current_dir(tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    assert!(output.status.success());
    let all = [output.stdout, output.stderr].concat();
    assert!(!String::from_utf8_lossy(&all).contains(secret));
}

/// A copy of `examples/i2v-train` whose first prompt is empty, plus a line that is not JSON.
fn broken_dataset() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temporary folder");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/i2v-train");
    for entry in std::fs::read_dir(&root).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
    }
    let manifest = dir.path().join("data.jsonl");
    let text = std::fs::read_to_string(&manifest).unwrap();
    let text = text.replacen("{\"prompt\":\"", "{\"prompt\":\"\",\"was\":\"", 1) + "{not json\n";
    std::fs::write(&manifest, text).unwrap();
    dir
}

#[test]
fn dataset_errors_make_the_plan_not_ready_with_or_without_gates() {
    let broken = broken_dataset();
    let path = broken.path().to_str().unwrap();
    let base = ["plan", path, "--region", "cn-beijing"];
    wanft(&base)
        .code(1)
        .stdout(predicate::str::contains("Not ready"))
        .stdout(predicate::str::contains("2 errors (2 in the datasets"))
        .stdout(predicate::str::contains("T001"));
    // A budget gate that holds does not approve a dataset the platform rejects.
    let gated = [&base[..], &["--max-cost", "100000"]].concat();
    let assert = wanft(&gated).code(1);
    let doc: Value = {
        let json = [&gated[..], &["--format", "json"]].concat();
        serde_json::from_slice(&wanft(&json).code(1).get_output().stdout).unwrap()
    };
    drop(assert);
    assert_eq!(doc["summary"]["ok"], false);
    assert_eq!(doc["summary"]["dataset_errors"], 2);
    assert_eq!(doc["gates"][0]["status"], "passed");
    let rules: Vec<&str> = doc["datasets"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"T001"), "{rules:?}");
}
