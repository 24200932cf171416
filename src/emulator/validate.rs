//! Dataset validation at the start of a job's data processing.
//!
//! **Interim implementation.** The lead engineer is building the real rule engine (`wanft check`),
//! exposed as a library call returning findings (rule code, severity, file, line, message).
//! [`validate_zip`] will be routed through it, so that the emulator fails a job for exactly the
//! error-severity findings `wanft check` reports. Until then it performs only the structural checks
//! the emulator cannot work without: the zip opens, `data.jsonl` sits at its root, every line is a
//! JSON object with the columns the model requires, and every referenced member exists.
//!
//! Media is not probed yet. Clip durations, needed for billing, come from an optional
//! `"duration"` (seconds) on each training line and default to [`ASSUMED_CLIP_SECONDS`]; the job
//! log says so.

use std::collections::HashSet;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use serde_json::{Map, Value};

use crate::models::{ModelProfile, TaskType};

/// Name and location of the manifest inside every dataset zip (spec §2.1).
pub const MANIFEST_NAME: &str = "data.jsonl";

/// Largest `data.jsonl` the platform accepts (spec §2.5); also bounds what is read into memory.
pub const MAX_MANIFEST_BYTES: u64 = 20 * 1024 * 1024;

/// Billing duration of a clip whose line has no `"duration"`, until media probing lands.
pub const ASSUMED_CLIP_SECONDS: f64 = 5.0;

/// Fewest training samples the platform trains on (spec §2.5).
pub const MIN_TRAINING_SAMPLES: usize = 10;

/// Whether a zip was attached as training or validation data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DatasetRole {
    Training,
    Validation,
}

/// What data processing learned from one zip.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZipVerdict {
    /// Problems that fail the job, one sentence each (`line 3: ...`).
    pub errors: Vec<String>,
    /// Sample lines (non-blank lines of `data.jsonl`).
    pub sample_count: usize,
    /// Billing duration of each training clip, in line order (empty for validation zips).
    pub clip_seconds: Vec<f64>,
    /// How many entries of `clip_seconds` came from [`ASSUMED_CLIP_SECONDS`].
    pub assumed_durations: usize,
    /// Prompt of each sample, in line order; validation previews show them.
    pub prompts: Vec<String>,
}

/// Checks one dataset zip the way data processing does, and counts its samples.
///
/// Never panics and never allocates by a size read from the archive: `data.jsonl` is read
/// through a [`MAX_MANIFEST_BYTES`] window.
pub fn validate_zip(path: &Path, role: DatasetRole, model: &ModelProfile) -> ZipVerdict {
    let mut verdict = ZipVerdict::default();
    let archive = File::open(path)
        .map_err(|e| format!("the file cannot be read: {e}"))
        .and_then(|file| {
            zip::ZipArchive::new(file).map_err(|e| format!("not a valid zip archive: {e}"))
        });
    let mut archive = match archive {
        Ok(archive) => archive,
        Err(problem) => {
            verdict.errors.push(problem);
            return verdict;
        }
    };
    // A name that cannot be decoded cannot be referenced either: leave it out.
    let members: HashSet<String> = archive
        .file_names()
        .filter_map(Result::ok)
        .map(|name| name.into_owned())
        .collect();
    let manifest = match read_manifest(&mut archive, &members) {
        Ok(bytes) => bytes,
        Err(problem) => {
            verdict.errors.push(problem);
            return verdict;
        }
    };
    let required = required_columns(role, model.default_task());
    for (index, line) in BufReader::new(manifest.as_slice()).split(b'\n').enumerate() {
        let number = index + 1;
        let Ok(line) = line else { break };
        let line = line.strip_suffix(b"\r").unwrap_or(&line);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        verdict.sample_count += 1;
        match serde_json::from_slice::<Value>(line) {
            Ok(Value::Object(object)) => {
                check_line(number, &object, role, &required, &members, &mut verdict)
            }
            Ok(_) => verdict
                .errors
                .push(format!("line {number}: not a JSON object")),
            Err(e) => verdict
                .errors
                .push(format!("line {number}: invalid JSON ({e})")),
        }
    }
    if verdict.sample_count == 0 {
        verdict
            .errors
            .push(format!("{MANIFEST_NAME} holds no samples"));
    }
    verdict
}

/// Reads `data.jsonl` from the zip root, bounded by [`MAX_MANIFEST_BYTES`].
fn read_manifest(
    archive: &mut zip::ZipArchive<File>,
    members: &HashSet<String>,
) -> Result<Vec<u8>, String> {
    if !members.contains(MANIFEST_NAME) {
        let nested = members
            .iter()
            .filter(|m| m.ends_with(&format!("/{MANIFEST_NAME}")))
            .min();
        return Err(match nested {
            Some(nested) => format!(
                "{MANIFEST_NAME} must sit at the zip root, found `{nested}` (re-zip from inside the folder)"
            ),
            None => format!("{MANIFEST_NAME} not found at the zip root"),
        });
    }
    let member = archive
        .by_name(MANIFEST_NAME)
        .map_err(|e| format!("{MANIFEST_NAME} cannot be read: {e}"))?;
    let mut bytes = Vec::new();
    member
        .take(MAX_MANIFEST_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("{MANIFEST_NAME} cannot be read: {e}"))?;
    if bytes.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(format!(
            "{MANIFEST_NAME} is larger than {MAX_MANIFEST_BYTES} bytes"
        ));
    }
    Ok(bytes)
}

/// The columns of spec §2.3 a line must carry.
fn required_columns(role: DatasetRole, task: TaskType) -> Vec<&'static str> {
    let mut columns = vec!["prompt", "first_frame_path"];
    if task == TaskType::Kf2v {
        columns.push("last_frame_path");
    }
    if role == DatasetRole::Training {
        columns.push("video_path");
    }
    columns
}

/// Columns that name a member of the zip.
const PATH_COLUMNS: [&str; 3] = ["first_frame_path", "last_frame_path", "video_path"];

fn check_line(
    number: usize,
    object: &Map<String, Value>,
    role: DatasetRole,
    required: &[&str],
    members: &HashSet<String>,
    verdict: &mut ZipVerdict,
) {
    for column in required {
        if !object.contains_key(*column) {
            verdict.errors.push(format!(
                "line {number}: required field `{column}` is missing"
            ));
        }
    }
    for column in PATH_COLUMNS {
        match object.get(column) {
            None => {}
            Some(Value::String(member)) if members.contains(member) => {}
            Some(Value::String(member)) => verdict.errors.push(format!(
                "line {number}: `{column}` refers to `{member}`, which is not in the zip"
            )),
            Some(_) => verdict
                .errors
                .push(format!("line {number}: `{column}` must be a string")),
        }
    }
    match object.get("prompt") {
        Some(Value::String(prompt)) => verdict.prompts.push(prompt.clone()),
        Some(_) => {
            verdict
                .errors
                .push(format!("line {number}: `prompt` must be a string"));
            verdict.prompts.push(String::new());
        }
        None => verdict.prompts.push(String::new()),
    }
    if role == DatasetRole::Training && object.contains_key("video_path") {
        match object.get("duration") {
            None => {
                verdict.clip_seconds.push(ASSUMED_CLIP_SECONDS);
                verdict.assumed_durations += 1;
            }
            Some(value) => match value.as_f64().filter(|d| d.is_finite() && *d >= 0.0) {
                Some(seconds) => verdict.clip_seconds.push(seconds),
                None => verdict.errors.push(format!(
                    "line {number}: `duration` must be a non-negative number of seconds"
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn zip_with(members: &[(&str, &[u8])]) -> tempfile::NamedTempFile {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        {
            let mut writer = zip::ZipWriter::new(file.as_file_mut());
            for (name, bytes) in members {
                writer
                    .start_file(*name, zip::write::SimpleFileOptions::default())
                    .expect("start member");
                writer.write_all(bytes).expect("write member");
            }
            writer.finish().expect("finish zip");
        }
        file
    }

    fn model() -> &'static ModelProfile {
        crate::models::find("wan2.5-i2v-preview").expect("known model")
    }

    #[test]
    fn counts_samples_and_reads_durations() {
        let manifest = concat!(
            r#"{"prompt":"a","first_frame_path":"a.jpg","video_path":"a.mp4","duration":3.4}"#,
            "\n\n",
            r#"{"prompt":"b","first_frame_path":"a.jpg","video_path":"a.mp4"}"#,
            "\r\n"
        );
        let zip = zip_with(&[
            ("data.jsonl", manifest.as_bytes()),
            ("a.jpg", b"x"),
            ("a.mp4", b"y"),
        ]);
        let verdict = validate_zip(zip.path(), DatasetRole::Training, model());
        assert_eq!(verdict.errors, Vec::<String>::new());
        assert_eq!(verdict.sample_count, 2);
        assert_eq!(verdict.clip_seconds, vec![3.4, ASSUMED_CLIP_SECONDS]);
        assert_eq!(verdict.assumed_durations, 1);
        assert_eq!(verdict.prompts, vec!["a", "b"]);
    }

    #[test]
    fn reports_structural_problems_by_line() {
        let manifest = concat!(
            r#"{"prompt":"a","first_frame_path":"missing.jpg","video_path":"a.mp4"}"#,
            "\n[1,2]\n",
            r#"{"prompt":"c","video_path":"a.mp4","duration":-1}"#,
            "\n{oops\n"
        );
        let zip = zip_with(&[("data.jsonl", manifest.as_bytes()), ("a.mp4", b"y")]);
        let verdict = validate_zip(zip.path(), DatasetRole::Training, model());
        assert_eq!(verdict.sample_count, 4);
        let joined = verdict.errors.join("\n");
        assert!(
            joined.contains("line 1: `first_frame_path` refers to `missing.jpg`"),
            "{joined}"
        );
        assert!(joined.contains("line 2: not a JSON object"), "{joined}");
        assert!(
            joined.contains("line 3: required field `first_frame_path` is missing"),
            "{joined}"
        );
        assert!(joined.contains("line 3: `duration` must be"), "{joined}");
        assert!(joined.contains("line 4: invalid JSON"), "{joined}");
    }

    #[test]
    fn validation_lines_need_no_video() {
        let manifest = r#"{"prompt":"v","first_frame_path":"v.jpg"}"#;
        let zip = zip_with(&[("data.jsonl", manifest.as_bytes()), ("v.jpg", b"x")]);
        let verdict = validate_zip(zip.path(), DatasetRole::Validation, model());
        assert!(verdict.errors.is_empty(), "{:?}", verdict.errors);
        assert!(verdict.clip_seconds.is_empty());
        let as_training = validate_zip(zip.path(), DatasetRole::Training, model());
        assert_eq!(
            as_training.errors,
            vec!["line 1: required field `video_path` is missing"]
        );
    }

    #[test]
    fn kf2v_models_need_a_last_frame() {
        let kf2v = crate::models::find("wan2.2-kf2v-flash").expect("known model");
        let manifest = r#"{"prompt":"v","first_frame_path":"v.jpg"}"#;
        let zip = zip_with(&[("data.jsonl", manifest.as_bytes()), ("v.jpg", b"x")]);
        let verdict = validate_zip(zip.path(), DatasetRole::Validation, kf2v);
        assert_eq!(
            verdict.errors,
            vec!["line 1: required field `last_frame_path` is missing"]
        );
    }

    #[test]
    fn manifest_must_sit_at_the_root() {
        let nested = zip_with(&[("mydata/data.jsonl", b"{}")]);
        let verdict = validate_zip(nested.path(), DatasetRole::Training, model());
        assert_eq!(verdict.errors.len(), 1);
        assert!(
            verdict.errors[0].contains("found `mydata/data.jsonl`"),
            "{:?}",
            verdict.errors
        );
        let missing = zip_with(&[("a.mp4", b"y")]);
        let verdict = validate_zip(missing.path(), DatasetRole::Training, model());
        assert_eq!(verdict.errors, vec!["data.jsonl not found at the zip root"]);
    }

    #[test]
    fn garbage_is_not_a_zip() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        file.write_all(b"definitely not a zip").expect("write");
        let verdict = validate_zip(file.path(), DatasetRole::Training, model());
        assert_eq!(verdict.sample_count, 0);
        assert!(
            verdict.errors[0].starts_with("not a valid zip archive"),
            "{:?}",
            verdict.errors
        );
    }
}
