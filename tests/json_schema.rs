//! The published JSON Schemas (`schemas/check.schema.json`, `schemas/plan.schema.json`) hold
//! for real output: clean and defective datasets, a zip, corrupt media, several datasets at
//! once, suppressed findings, plans with and without datasets, unknown prices and gates. A key
//! renamed or a type changed in the code fails here until the schema (and its version) follow.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use common::{Fixture, ROOT};
use jsonschema::{Registry, Validator};
use serde_json::Value;

fn schema(name: &str) -> Value {
    let text = fs::read_to_string(Path::new(ROOT).join("schemas").join(name)).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Validators for both schemas; the plan schema refers to the check schema's definitions,
/// which are registered under its `$id` (nothing is fetched).
fn validators() -> (Validator, Validator) {
    let check = schema("check.schema.json");
    let plan = schema("plan.schema.json");
    let id = check["$id"].as_str().unwrap().to_owned();
    let check_validator = jsonschema::options()
        .build(&check)
        .expect("check.schema.json is a valid schema");
    let registry = Registry::new()
        .add(id, check)
        .and_then(|r| r.prepare())
        .expect("check.schema.json registers");
    let plan_validator = jsonschema::options()
        .with_registry(&registry)
        .build(&plan)
        .expect("plan.schema.json is a valid schema");
    (check_validator, plan_validator)
}

fn output(dir: &Path, args: &[&str]) -> Value {
    let out = Command::cargo_bin("wanft")
        .unwrap()
        .current_dir(dir)
        .env_remove("DASHSCOPE_API_KEY")
        .env_remove("WANFT_REGION")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.code().is_some_and(|c| c <= 1),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("one JSON document")
}

fn assert_valid(validator: &Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{what} does not follow the schema:\n{}",
        errors.join("\n")
    );
}

#[test]
fn check_output_follows_the_published_schema() {
    let (check, _) = validators();
    let examples = Path::new(ROOT).join("examples");

    // One clean set, the project's two sets in one document, kf2v.
    let doc = output(&examples, &["check", "i2v-train"]);
    assert_valid(&check, &doc, "a clean set");
    let several = output(&examples, &["check"]);
    assert!(several["datasets"].as_array().is_some_and(|d| d.len() == 2));
    assert_valid(&check, &several, "two sets");
    let kf2v = output(
        &examples,
        &["check", "kf2v-train", "--model", "wan2.2-kf2v-flash"],
    );
    assert_valid(&check, &kf2v, "a kf2v set");

    // Defects: a missing file, an unreferenced one, corrupt media, a bad JSON line; one rule
    // ignored (a suppressed entry); the same set as a zip.
    let fx = Fixture::i2v();
    fs::copy(fx.path("clip01.mp4"), fx.path("extra.mp4")).unwrap();
    fx.remove("clip05.mp4");
    fx.write("clip06.mp4", b"not a video at all");
    fx.write("clip07_first.jpg", [0xFF, 0xD8, 0xFF]);
    let mut text = String::from_utf8(fx.read("data.jsonl")).unwrap();
    text.push_str("{\"prompt\": \n");
    fx.set_manifest(text);
    let dir = fx.root.parent().unwrap();
    let doc = output(dir, &["check", "dataset", "--ignore", "P012"]);
    assert!(doc["summary"]["errors"].as_u64().unwrap() >= 3, "{doc:#}");
    assert!(
        doc["suppressed"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["rule"] == "P012")
    );
    assert!(
        doc["media"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["error"].is_string())
    );
    assert_valid(&check, &doc, "a defective set");
    let zip = fx.zip();
    let doc = output(dir, &["check", zip.to_str().unwrap()]);
    assert_eq!(doc["input"]["source"], "zip");
    assert_valid(&check, &doc, "a zip");

    // The schema is not vacuous: a renamed key and a wrong type are refused.
    let mut broken = doc.clone();
    broken["summary"]["error_count"] = broken["summary"]["errors"].take();
    broken["summary"].as_object_mut().unwrap().remove("errors");
    assert!(!check.is_valid(&broken), "a missing summary.errors passes");
    let mut broken = doc.clone();
    broken["findings"][0]["line"] = Value::String("3".into());
    assert!(!check.is_valid(&broken), "a string line passes");
}

#[test]
fn plan_output_follows_the_published_schema() {
    let (_, plan) = validators();
    let examples = Path::new(ROOT).join("examples");

    let doc = output(&examples, &["plan"]);
    assert_valid(&plan, &doc, "the example project's plan");
    let doc = output(
        &examples,
        &[
            "plan",
            "i2v-train",
            "--region",
            "ap-southeast-1",
            "--max-cost",
            "0.5",
            "--max-steps",
            "10",
        ],
    );
    assert_eq!(doc["gates"].as_array().unwrap().len(), 2);
    assert_valid(&plan, &doc, "a plan with gates");
    // No price published (wan2.7 in Singapore): the fee is unknown, and an H finding says so.
    let doc = output(
        &examples,
        &[
            "plan",
            "--clip-seconds",
            "3.4,11.5",
            "--model",
            "wan2.7-i2v",
            "--region",
            "ap-southeast-1",
        ],
    );
    assert!(doc["fee"]["all_clips"].is_null());
    assert_valid(&plan, &doc, "a plan without a price");
    // Hyper-parameters the platform refuses, with one finding suppressed.
    let doc = output(
        &examples,
        &[
            "plan",
            "--clip-seconds",
            "4",
            "--region",
            "cn-beijing",
            "--lora-rank",
            "3",
        ],
    );
    assert_eq!(doc["summary"]["ok"], false);
    assert_valid(&plan, &doc, "a refused plan");

    let mut broken = doc.clone();
    broken["fee"]["all_clips"] = Value::from(1.5);
    assert!(!plan.is_valid(&broken), "a fee as a float passes");
}
