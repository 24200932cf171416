//! Dataset fixtures for the check tests: a bundled example copied into a temporary folder,
//! edited, and checked both as a folder and as a zip.
#![allow(dead_code)] // each test binary uses a different part

pub mod raw_zip;

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};
use std::sync::Arc;

use wanft::check::{self, CheckOptions, CheckReport};
use wanft::models;
use wanft::rules::selection::{Origin, PathPattern};
use wanft::rules::{RuleSelection, Selector, Severity};

pub const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// A finding reduced to what must agree between a folder and its zip.
pub type Brief = (String, Option<String>, Option<usize>, String);

pub struct Fixture {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub model: &'static str,
}

impl Fixture {
    /// A copy of `examples/<name>`.
    pub fn example(name: &str) -> Fixture {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().join("dataset");
        copy_dir(&Path::new(ROOT).join("examples").join(name), &root);
        let model = if name.starts_with("kf2v") {
            "wan2.2-kf2v-flash"
        } else {
            models::DEFAULT_MODEL
        };
        Fixture {
            _dir: dir,
            root,
            model,
        }
    }

    pub fn i2v() -> Fixture {
        Fixture::example("i2v-train")
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn write(&self, rel: &str, bytes: impl AsRef<[u8]>) -> &Self {
        let p = self.path(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
        self
    }

    pub fn read(&self, rel: &str) -> Vec<u8> {
        fs::read(self.path(rel)).unwrap()
    }

    pub fn remove(&self, rel: &str) -> &Self {
        let p = self.path(rel);
        if p.is_dir() {
            fs::remove_dir_all(p).unwrap();
        } else {
            fs::remove_file(p).unwrap();
        }
        self
    }

    pub fn rename(&self, from: &str, to: &str) -> &Self {
        let to = self.path(to);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::rename(self.path(from), to).unwrap();
        self
    }

    /// The data.jsonl lines as JSON objects.
    pub fn lines(&self) -> Vec<Map<String, Value>> {
        String::from_utf8(self.read("data.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    pub fn set_lines(&self, lines: &[Map<String, Value>]) -> &Self {
        let mut text = String::new();
        for l in lines {
            text.push_str(&serde_json::to_string(l).unwrap());
            text.push('\n');
        }
        self.write("data.jsonl", text)
    }

    /// Edits line `i` (0-based) of data.jsonl.
    pub fn edit_line(&self, i: usize, f: impl FnOnce(&mut Map<String, Value>)) -> &Self {
        let mut lines = self.lines();
        f(&mut lines[i]);
        self.set_lines(&lines)
    }

    /// Sets a string field of line `i`.
    pub fn set_field(&self, i: usize, key: &str, value: &str) -> &Self {
        self.edit_line(i, |o| {
            o.insert(key.into(), Value::String(value.into()));
        })
    }

    /// Replaces data.jsonl with raw bytes.
    pub fn set_manifest(&self, bytes: impl AsRef<[u8]>) -> &Self {
        self.write("data.jsonl", bytes)
    }

    pub fn options(&self) -> CheckOptions<'static> {
        CheckOptions::new(models::find(self.model).unwrap())
    }

    pub fn check_with(&self, path: &Path, opts: &CheckOptions) -> CheckReport {
        check::run(path, opts).expect("check runs")
    }

    /// Zips the folder (media stored, text deflated, sorted) next to it.
    pub fn zip(&self) -> PathBuf {
        let out = self.root.with_extension("zip");
        zip_dir(&self.root, &out);
        out
    }

    /// Checks the folder and its zip, asserts they agree, and returns the findings.
    pub fn check_both_with(&self, opts: &CheckOptions) -> Vec<Brief> {
        let folder = briefs(&self.check_with(&self.root, opts));
        let zip = briefs(&self.check_with(&self.zip(), opts));
        assert_eq!(folder, zip, "folder and zip disagree");
        folder
    }

    pub fn check_both(&self) -> Vec<Brief> {
        self.check_both_with(&self.options())
    }

    /// Asserts that `code` is reported (folder and zip alike) and returns the findings.
    pub fn expect(&self, code: &str) -> Vec<Brief> {
        let found = self.check_both();
        assert!(
            found.iter().any(|f| f.0 == code),
            "{code} not reported; got {found:#?}"
        );
        found
    }

    pub fn expect_with(&self, code: &str, opts: &CheckOptions) -> Vec<Brief> {
        let found = self.check_both_with(opts);
        assert!(
            found.iter().any(|f| f.0 == code),
            "{code} not reported; got {found:#?}"
        );
        self.assert_configurable(code, opts);
        found
    }

    /// The rule configuration holds for `code` on this fixture: it can be ignored (and the
    /// suppression says why), selected alone, re-graded, and ignored under a path that matches
    /// its findings but not under one that does not. The check runs once with the configuration
    /// (so `check::run` applies it); the other configurations judge that run's findings again.
    pub fn assert_configurable(&self, code: &str, opts: &CheckOptions) {
        let selector = || vec![Selector::parse(code).unwrap()];
        let flag = Origin::Flag("--test");
        let label = || Some("sets/dataset".to_owned());

        let mut ignore = RuleSelection::default();
        ignore.add_ignore(selector(), flag.clone());
        let options = CheckOptions {
            model: opts.model,
            mode: opts.mode,
            trigger: opts.trigger.clone(),
            effect: opts.effect.clone(),
            max_pixels: opts.max_pixels,
            split: opts.split,
            max_split_val: opts.max_split_val,
            validation_given: opts.validation_given,
            deep: opts.deep,
            analysis: opts.analysis.clone(),
            rules: Some(Arc::new(ignore)),
            dataset_label: label(),
            progress: opts.progress,
        };
        let checked = check::run(&self.root, &options).expect("check runs");
        let run =
            |selection: RuleSelection| checked.findings.rejudged(Arc::new(selection), label());
        let findings = &checked.findings;
        assert!(!findings.has(code), "{code} still reported when ignored");
        let hidden = findings.hidden();
        assert!(
            hidden
                .iter()
                .any(|s| s.finding.rule.code == code && s.reason.contains(code)),
            "{code}: the suppression is not reported with its reason: {hidden:#?}"
        );

        // Selected alone, re-graded, and ignored only under another folder: still reported,
        // alone, at the new severity.
        let own = wanft::rules::find(code).unwrap().severity;
        let other = if own == Severity::Info {
            Severity::Error
        } else {
            Severity::Info
        };
        let mut narrowed = RuleSelection::default();
        narrowed.set_select(selector(), flag.clone());
        narrowed.set_severity(Selector::parse(code).unwrap(), other, flag.clone());
        let elsewhere = PathPattern::parse("other/**").unwrap();
        narrowed.add_path_ignore(&elsewhere, selector(), flag.clone());
        let report = run(narrowed);
        assert!(report.has(code), "{code} not reported when selected");
        for f in report.iter() {
            assert_eq!(
                f.rule.code, code,
                "selecting {code} reported other rules too"
            );
            assert_eq!(f.severity, other, "{code} not re-graded to {other}");
        }

        // Per-path scope: a pattern over the dataset's path covers the files in it and the
        // dataset as a whole.
        let mut here = RuleSelection::default();
        let pattern = PathPattern::parse("sets/dataset/**").unwrap();
        here.add_path_ignore(&pattern, selector(), flag);
        let report = run(here);
        assert!(!report.has(code), "{code} not hidden under its path");
        let reasons = report.hidden();
        assert!(reasons.iter().any(|s| s.reason.contains("sets/dataset/**")));
    }
}

pub fn briefs(report: &CheckReport) -> Vec<Brief> {
    report
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.code.to_string(),
                f.location.file.clone(),
                f.location.line,
                f.message.clone(),
            )
        })
        .collect()
}

pub fn codes(found: &[Brief]) -> Vec<&str> {
    found.iter().map(|f| f.0.as_str()).collect()
}

pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Zips a folder the way a careful user would: sorted names, media stored, text deflated.
pub fn zip_dir(dir: &Path, out: &Path) {
    let mut files = Vec::new();
    collect(dir, dir, &mut files);
    files.sort();
    let mut members: Vec<(String, Vec<u8>)> = Vec::new();
    for rel in files {
        let bytes = fs::read(dir.join(&rel)).unwrap();
        members.push((rel, bytes));
    }
    write_zip(out, &members);
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let p = entry.path();
        let ft = entry.file_type().unwrap();
        if ft.is_dir() {
            collect(root, &p, out);
        } else if ft.is_file() {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            out.push(rel);
        }
    }
}

/// Writes a zip with exactly these member names and contents (names are not sanitised, so
/// hostile archives can be built).
pub fn write_zip(out: &Path, members: &[(String, Vec<u8>)]) {
    let file = fs::File::create(out).unwrap();
    let mut w = zip::ZipWriter::new(file);
    for (name, bytes) in members {
        let method = if name.ends_with(".jsonl") || name.ends_with(".txt") {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap();
}

/// Runs ffmpeg with `args`, panicking with its stderr on failure (CI installs ffmpeg).
/// A clip with a hard cut: the first `first_s` seconds of `a`, then the first `second_s` of `b`
/// (same frame size), encoded with libx264 into `out`.
#[allow(dead_code)]
pub fn hard_cut(a: &Path, b: &Path, first_s: f64, second_s: f64, out: &Path) {
    let graph = format!(
        "[0:v]trim=end={first_s},setpts=PTS-STARTPTS[a];\
         [1:v]trim=end={second_s},setpts=PTS-STARTPTS[b];[a][b]concat=n=2:v=1[v]"
    );
    ffmpeg(&[
        "-i",
        a.to_str().unwrap(),
        "-i",
        b.to_str().unwrap(),
        "-filter_complex",
        &graph,
        "-map",
        "[v]",
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        out.to_str().unwrap(),
    ]);
}

pub fn ffmpeg(args: &[&str]) {
    let out = std::process::Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
