//! Datasets built to make wanft slow or greedy: a folder of thousands of long names whose
//! manifest misses them all (the "did you mean" search used to compare every miss with every
//! file, quadratically in the name length too).

use std::time::{Duration, Instant};

use crate::cli_api_support::common::Fixture;
use wanft::check;

/// Generous for a loaded 2-core machine; the search used to take minutes here.
const DEADLINE: Duration = Duration::from_secs(10);

fn long_name(i: usize, length: usize) -> String {
    let stem = format!("clip{i:06}_");
    format!("{stem}{}.mp4", "x".repeat(length - stem.len() - 4))
}

#[test]
fn did_you_mean_over_a_folder_of_long_names_is_bounded() {
    let fixture = Fixture::i2v();
    let folder = fixture.path("videos");
    std::fs::create_dir_all(&folder).unwrap();
    // Names as long as suggestions go (their search is bounded by work) and far longer ones
    // (never compared), all in one folder with one extension.
    let files = 8_000;
    for i in 0..files {
        let length = if i % 2 == 0 { 120 } else { 240 };
        std::fs::write(folder.join(long_name(i, length)), b"").unwrap();
    }
    // Every line points one character away from a file: each is a miss worth a suggestion.
    let written = |i: usize| {
        let mut name = long_name(i, if i.is_multiple_of(2) { 120 } else { 240 });
        name.replace_range(7..8, "_");
        format!("videos/{name}")
    };
    let mut lines = fixture.lines();
    let template = lines[0].clone();
    lines.clear();
    for i in 0..400 {
        let mut line = template.clone();
        line.insert("video_path".into(), written(i).into());
        lines.push(line);
    }
    fixture.set_lines(&lines);

    let started = Instant::now();
    let report = check::run(&fixture.root, &fixture.options()).expect("checks");
    let elapsed = started.elapsed();
    assert!(elapsed < DEADLINE, "took {elapsed:?}");
    let misses: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule.code == "P001")
        .collect();
    assert!(!misses.is_empty());
    // The first short names still get their suggestion.
    let first = misses
        .iter()
        .find(|f| f.message.ends_with(&written(0)))
        .expect("line 1 is reported");
    assert!(
        first
            .effective_hint()
            .starts_with("did you mean videos/clip000000_"),
        "{}",
        first.effective_hint()
    );
}

/// Every hostile zip of the corpus is refused by `check`, `check --deep` and `pack` with exit
/// status 1, the rule that refuses it named, promptly (the shared-deflate bomb used to pass
/// after 19 s, and --deep used to stage gigabytes of it).
#[test]
fn every_hostile_zip_is_refused_with_exit_1_promptly() {
    let fx = Fixture::i2v();
    let dir = tempfile::tempdir().unwrap();
    for hostile in crate::cli_api_support::common::raw_zip::hostile_corpus(&fx.root) {
        let zip = dir.path().join(format!("{}.zip", hostile.code));
        std::fs::write(&zip, &hostile.bytes).unwrap();
        let out = dir.path().join(format!("{}-packed.zip", hostile.code));
        let runs: [&[&str]; 3] = [
            &["check"],
            &["check", "--deep"],
            &["pack", "--output", out.to_str().unwrap()],
        ];
        for args in runs {
            let started = Instant::now();
            let output = assert_cmd::Command::cargo_bin("wanft")
                .unwrap()
                .args(args)
                .arg(&zip)
                .env("NO_COLOR", "1")
                .env("WANFT_CACHE_DIR", dir.path().join("cache"))
                .current_dir(dir.path())
                .timeout(DEADLINE)
                .output()
                .unwrap();
            let elapsed = started.elapsed();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let stderr = String::from_utf8_lossy(&output.stderr);
            let label = format!("{} ({}), {args:?}", hostile.code, hostile.label);
            assert_eq!(output.status.code(), Some(1), "{label}\n{stdout}\n{stderr}");
            assert!(
                stdout.contains(hostile.code) || stderr.contains(hostile.code),
                "{label}\n{stdout}\n{stderr}"
            );
            assert!(elapsed < DEADLINE, "{label}: {elapsed:?}");
            assert!(!out.exists(), "{label}: nothing is written");
        }
    }
}
