//! Rule configuration as users write it, Ruff style: `[rules]` of wanft.toml and the flags
//! (select, ignore, per-path ignores, severities), the baseline, `--statistics`, the JUnit and
//! GitLab formats, and the shell helpers (completions, man page, version).

mod common;

use std::fs;
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use common::Fixture;
use serde_json::Value;

fn wanft(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("wanft").unwrap();
    cmd.current_dir(dir).env_remove("DASHSCOPE_API_KEY");
    cmd
}

/// A project folder holding a training set with two defects: sample 5 names a missing clip
/// (P001, error) and `extra.mp4` is not referenced (P012, warning).
fn project() -> (Fixture, std::path::PathBuf) {
    let fx = Fixture::i2v();
    fs::copy(fx.path("clip01.mp4"), fx.path("extra.mp4")).unwrap();
    fx.remove("clip05.mp4");
    let project = fx.root.parent().unwrap().to_path_buf();
    (fx, project)
}

fn json(cmd: &mut Command) -> (i32, Value) {
    let out = cmd.args(["--format", "json"]).output().unwrap();
    let doc = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    (out.status.code().unwrap(), doc)
}

fn rules_of(doc: &Value) -> Vec<(String, String)> {
    doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn has(doc: &Value, rule: &str) -> bool {
    rules_of(doc).iter().any(|(r, _)| r == rule)
}

#[test]
fn ignore_and_regrade_from_wanft_toml_with_reasons_in_the_json() {
    let (_fx, project) = project();
    let (code, doc) = json(wanft(&project).args(["check", "dataset"]));
    assert_eq!(code, 1, "P001 is an error");
    assert!(has(&doc, "P001") && has(&doc, "P012"));

    fs::write(
        project.join("wanft.toml"),
        "[rules]\nignore = [\"file-not-found\"]\n[rules.severity]\nP012 = \"error\"\n",
    )
    .unwrap();
    let (code, doc) = json(wanft(&project).args(["check", "dataset"]));
    assert!(!has(&doc, "P001"), "ignored by name");
    assert!(
        rules_of(&doc).contains(&("P012".into(), "error".into())),
        "re-graded: {doc:#}"
    );
    assert_eq!(code, 1, "a re-graded error fails the check");
    let suppressed = doc["suppressed"].as_array().unwrap();
    let p001 = suppressed.iter().find(|s| s["rule"] == "P001").unwrap();
    assert_eq!(p001["file"], "data.jsonl");
    assert_eq!(p001["line"], 5);
    let reason = p001["reason"].as_str().unwrap();
    assert!(
        reason.contains("file-not-found") && reason.contains("wanft.toml"),
        "{reason}"
    );
    assert_eq!(doc["summary"]["suppressed"], 1);

    // Flags layer on the file: --select narrows, --severity re-grades back.
    let (code, doc) = json(wanft(&project).args([
        "check",
        "dataset",
        "--select",
        "P012",
        "--severity",
        "P012=warning",
    ]));
    assert_eq!(rules_of(&doc), [("P012".to_owned(), "warning".to_owned())]);
    assert_eq!(code, 0);
}

#[test]
fn per_path_ignores_scope_to_the_dataset_and_its_files() {
    let (_fx, project) = project();
    fs::write(
        project.join("wanft.toml"),
        "[rules.per_path_ignores]\n\"dataset/extra.mp4\" = [\"P012\"]\n\"other/**\" = [\"P001\"]\n",
    )
    .unwrap();
    let (_, doc) = json(wanft(&project).args(["check", "dataset"]));
    assert!(!has(&doc, "P012"), "the file matches");
    assert!(has(&doc, "P001"), "other/** does not cover this set");
    let (code, doc) =
        json(wanft(&project).args(["check", "dataset", "--per-path-ignore", "dataset/**:P001"]));
    assert!(!has(&doc, "P001"));
    assert_eq!(code, 0);
}

#[test]
fn unknown_rules_and_bad_patterns_are_refused_with_the_line() {
    let (_fx, project) = project();
    fs::write(
        project.join("wanft.toml"),
        "\n[rules]\nignore = [\"X123\"]\n",
    )
    .unwrap();
    let out = wanft(&project).args(["check", "dataset"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("wanft.toml:3") && err.contains("X123"),
        "{err}"
    );

    let out = wanft(&project)
        .args(["check", "dataset", "--severity", "P012=fatal"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a severity"));
}

#[test]
fn a_baseline_passes_and_only_a_new_defect_fails() {
    let (fx, project) = project();
    wanft(&project)
        .args(["check", "dataset", "--write-baseline", "baseline.json"])
        .assert()
        .code(0);
    let (code, doc) =
        json(wanft(&project).args(["check", "dataset", "--baseline", "baseline.json"]));
    assert_eq!(code, 0, "{doc:#}");
    assert!(
        rules_of(&doc).iter().all(|(_, s)| s == "info"),
        "only infos left: {doc:#}"
    );

    // A new defect: another missing clip. Only it is reported (and fails).
    fx.remove("clip07.mp4");
    let (code, doc) =
        json(wanft(&project).args(["check", "dataset", "--baseline", "baseline.json"]));
    assert_eq!(code, 1);
    let errors: Vec<&Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] != "info")
        .collect();
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert_eq!(errors[0]["rule"], "P001");
    assert_eq!(errors[0]["line"], 7);

    // From wanft.toml, and --no-baseline shows everything again.
    fs::write(
        project.join("wanft.toml"),
        "[rules]\nbaseline = \"baseline.json\"\n",
    )
    .unwrap();
    let (code, _) = json(wanft(&project).args(["check", "dataset"]));
    assert_eq!(code, 1);
    let (_, doc) = json(wanft(&project).args(["check", "dataset", "--no-baseline"]));
    let p001 = rules_of(&doc).iter().filter(|(r, _)| r == "P001").count();
    assert_eq!(p001, 2);

    let out = wanft(&project)
        .args(["check", "dataset", "--baseline", "missing.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--write-baseline"));
}

/// The plan's own `H` findings follow the configuration too: ignored with the reason in the
/// JSON, re-graded into a failing plan, from flags and from wanft.toml.
#[test]
fn plan_findings_follow_the_rule_configuration() {
    let project = tempfile::tempdir().unwrap();
    let plan = |extra: &[&str]| {
        let mut cmd = wanft(project.path());
        cmd.args([
            "plan",
            "--clip-seconds",
            "4,4,4,4,4,4,4,4,4,4",
            "--region",
            "cn-beijing",
        ])
        .args(["--n-epochs", "10"])
        .args(extra);
        json(&mut cmd)
    };
    let (code, doc) = plan(&[]);
    assert_eq!(code, 0);
    assert!(has(&doc, "H001"), "too few steps: {doc:#}");

    let (code, doc) = plan(&["--ignore", "n-epochs-below-800-steps"]);
    assert_eq!(code, 0);
    assert!(!has(&doc, "H001"));
    let hidden = doc["suppressed"].as_array().unwrap();
    assert!(
        hidden
            .iter()
            .any(|s| s["rule"] == "H001" && s["reason"].as_str().unwrap().contains("--ignore"))
    );

    fs::write(
        project.path().join("wanft.toml"),
        "[rules.severity]\nH001 = \"error\"\n",
    )
    .unwrap();
    let (code, doc) = plan(&[]);
    assert_eq!(code, 1, "an error-graded H001 makes the plan not ready");
    assert!(rules_of(&doc).contains(&("H001".into(), "error".into())));
    assert_eq!(doc["summary"]["ok"], false);
    let (code, _) = plan(&["--select", "M"]);
    assert_eq!(code, 0, "H001 not selected");
}

#[test]
fn statistics_count_findings_per_rule() {
    let (fx, project) = project();
    fs::copy(fx.path("clip01.mp4"), fx.path("extra2.mp4")).unwrap();
    let out = wanft(&project)
        .args(["check", "dataset", "--statistics"])
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().unwrap();
    assert!(first.trim_start().starts_with("2  P012  warning"), "{text}");
    assert!(text.contains("1  P001  error"), "{text}");
    let (_, doc) = json(wanft(&project).args(["check", "dataset", "--statistics"]));
    let rows = doc.as_array().unwrap();
    assert_eq!(rows[0]["code"], "P012");
    assert_eq!(rows[0]["count"], 2);
}

/// Parses the JUnit report with Python's XML parser and checks the elements and attributes the
/// JUnit schema requires, and the counts.
#[test]
fn junit_report_parses_and_counts_failures() {
    let (_fx, project) = project();
    let out = wanft(&project)
        .args(["check", "dataset", "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let report = project.join("report.xml");
    fs::write(&report, &out.stdout).unwrap();
    let script = r#"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
suites = root.findall("testsuite")
assert len(suites) == 1
s = suites[0]
for key in ("name", "tests", "failures", "errors"):
    assert key in s.attrib, key
cases = s.findall("testcase")
assert int(s.attrib["tests"]) == len(cases) == int(root.attrib["tests"])
for c in cases:
    assert c.attrib["name"] and c.attrib["classname"]
failed = [c for c in cases if c.find("failure") is not None]
assert int(s.attrib["failures"]) == len(failed) == 1, len(failed)
f = failed[0]
assert f.attrib["name"] == "P001 file-not-found", f.attrib
assert f.attrib["line"] == "5"
assert "clip05.mp4" in f.find("failure").attrib["message"]
clean = [c for c in cases if c.attrib["name"].endswith("every rule passes")]
assert len(clean) == 19, len(clean)
warned = [c for c in cases if c.attrib["name"] == "P012 unreferenced-file"]
assert len(warned) == 1 and warned[0].find("system-out") is not None
print("ok")
"#;
    let run = Process::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&report)
        .output()
        .expect("python3 runs");
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );

    // --strict turns warnings into failures too.
    let out = wanft(&project)
        .args(["check", "dataset", "--format", "junit", "--strict"])
        .output()
        .unwrap();
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(
        xml.contains("<testsuites name=\"wanft check\" tests=\"23\" failures=\"2\""),
        "{xml}"
    );
}

#[test]
fn gitlab_code_quality_issues_are_unique_and_relative() {
    let (_fx, project) = project();
    let out = wanft(&project)
        .args(["check", "dataset", "--format", "gitlab"])
        .output()
        .unwrap();
    let issues: Value = serde_json::from_slice(&out.stdout).unwrap();
    let issues = issues.as_array().unwrap();
    assert!(issues.len() >= 2);
    let mut prints: Vec<&str> = issues
        .iter()
        .map(|i| i["fingerprint"].as_str().unwrap())
        .collect();
    prints.sort_unstable();
    prints.dedup();
    assert_eq!(prints.len(), issues.len(), "fingerprints are unique");
    let p012 = issues.iter().find(|i| i["check_name"] == "P012").unwrap();
    assert_eq!(p012["severity"], "minor");
    assert_eq!(p012["location"]["path"], "dataset/extra.mp4");
    let p001 = issues.iter().find(|i| i["check_name"] == "P001").unwrap();
    assert_eq!(p001["severity"], "critical");
    assert_eq!(p001["location"]["path"], "dataset/data.jsonl");
    assert_eq!(p001["location"]["lines"]["begin"], 5);
    // The same run twice gives the same fingerprints (GitLab compares them across pipelines).
    let again = wanft(&project)
        .args(["check", "dataset", "--format", "gitlab"])
        .output()
        .unwrap();
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn completions_man_page_and_version() {
    let dir = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let out = wanft(dir.path())
            .args(["completions", shell])
            .output()
            .unwrap();
        assert!(out.status.success(), "{shell}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.contains("--write-baseline"),
            "{shell} completes check's flags"
        );
    }
    // bash accepts the script.
    let script = dir.path().join("wanft.bash");
    let out = wanft(dir.path())
        .args(["completions", "bash"])
        .output()
        .unwrap();
    fs::write(&script, out.stdout).unwrap();
    let status = Process::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(status.success(), "bash -n rejects the completion script");

    let man = wanft(dir.path()).arg("man").output().unwrap();
    let page = String::from_utf8(man.stdout).unwrap();
    assert!(
        page.starts_with(".ie") || page.contains(".TH wanft 1"),
        "{page}"
    );
    wanft(dir.path())
        .args(["man", "--out-dir", "pages"])
        .assert()
        .code(0);
    assert!(dir.path().join("pages/wanft.1").is_file());
    assert!(dir.path().join("pages/wanft-check.1").is_file());

    let version = wanft(dir.path()).arg("--version").output().unwrap();
    let text = String::from_utf8(version.stdout).unwrap();
    assert!(text.starts_with(&format!("wanft {}", env!("CARGO_PKG_VERSION"))));
    assert!(
        text.contains(&format!("prices as of {}", wanft::models::PRICES_AS_OF)),
        "{text}"
    );
    // The commit the binary was built from (when built from a git checkout, as here).
    let head = Process::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(common::ROOT)
        .output()
        .unwrap();
    if head.status.success() {
        let head = String::from_utf8(head.stdout).unwrap();
        assert!(text.contains(head.trim()), "{text} lacks {head}");
    }
}
