//! The progress of `wanft run`, kept in the project (`.wanft/run.json`), so that a second run
//! after Ctrl-C, a crash or a lost connection resumes where the first stopped.
//!
//! Everything that creates something on the platform is written down *before* the request is
//! sent (the intent, with what existed before it) and again once the answer is in (the id). A
//! run that finds an intent without an id looks the resource up instead of creating it again.
//! The file is replaced whole through a temporary file renamed into place, so a kill at any
//! moment leaves the old state or the new one, never half of one.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::dataset::Role;
use crate::lock::{self, FileLock, Mode};
use crate::models::Region;
use crate::small_file;

/// Folder of the project holding wanft's local state.
pub const STATE_DIR: &str = ".wanft";
/// The run's state file inside [`STATE_DIR`].
pub const FILE_NAME: &str = "run.json";
/// Format version written in the file.
const VERSION: u32 = 1;
/// Largest state file read; far above any real one (it bounds memory on a damaged file).
const MAX_STATE_BYTES: u64 = 4 << 20;

/// One dataset zip, uploaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Upload {
    pub role: Role,
    /// The dataset as configured.
    pub dataset: PathBuf,
    pub sha256: String,
    pub file_id: String,
}

/// The job: asked for (the ids that existed before), then created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobStep {
    /// Jobs of the model that existed before the create was sent.
    pub before: Vec<String>,
    /// The `job_name` the create sends (spec §8.5): unique, so the job is found by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finetuned_output: Option<String>,
    /// The last status seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Billed tokens (`usage`), once the job ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<u64>,
}

/// The previews downloaded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Previews {
    pub dir: PathBuf,
    pub files: Vec<PathBuf>,
    /// The checkpoint gallery page (validation prompt × checkpoint) in `dir`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<PathBuf>,
}

/// The checkpoint chosen, and its export when it needs one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportStep {
    pub checkpoint: String,
    /// True when it is the final checkpoint: the job's `finetuned_output` deploys it as is.
    pub is_final: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// The deployable name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_name: Option<String>,
}

/// The deployment: asked for, then created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployStep {
    pub model_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployed_model: Option<String>,
    /// Whether it uses each call's prompt (no prompt templates were configured).
    #[serde(default)]
    pub use_input_prompt: bool,
}

/// One sample video.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The image it starts from (a dataset member, or a URL).
    pub image: String,
    /// Set before the request is sent: a sample submitted but without a task id was maybe
    /// billed, and is not sent again.
    pub submitted: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video: Option<PathBuf>,
    /// Billed seconds of video.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

/// Everything a run has done so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunState {
    pub version: u32,
    /// What the run is for: region, host, model, the datasets' SHA-256 and the hyper-parameters.
    /// A state for another fingerprint belongs to another run.
    pub fingerprint: String,
    pub region: Region,
    pub base_url: String,
    pub model: String,
    #[serde(default)]
    pub uploads: Vec<Upload>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job: Option<JobStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previews: Option<Previews>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub export: Option<ExportStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment: Option<DeployStep>,
    #[serde(default)]
    pub samples: Vec<Sample>,
}

impl RunState {
    pub fn new(fingerprint: String, region: Region, base_url: String, model: &str) -> RunState {
        RunState {
            version: VERSION,
            fingerprint,
            region,
            base_url,
            model: model.to_owned(),
            uploads: Vec::new(),
            job: None,
            previews: None,
            export: None,
            deployment: None,
            samples: Vec::new(),
        }
    }

    pub fn job_id(&self) -> Option<&str> {
        self.job.as_ref().and_then(|j| j.job_id.as_deref())
    }
}

/// Why the state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: io::Error },
    #[error("{} is damaged ({why}); move it away to start over", path.display())]
    Damaged { path: PathBuf, why: String },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: io::Error },
}

/// The state file of the project whose root is `root`.
pub fn path_in(root: &Path) -> PathBuf {
    root.join(STATE_DIR).join(FILE_NAME)
}

/// The state at `path`, if there is one.
pub fn load(path: &Path) -> Result<Option<RunState>, StateError> {
    let Some(bytes) = read_state_file(path).map_err(|source| StateError::Read {
        path: path.to_owned(),
        source,
    })?
    else {
        return Ok(None);
    };
    let damaged = |why: String| StateError::Damaged {
        path: path.to_owned(),
        why,
    };
    let state: RunState = serde_json::from_slice(&bytes).map_err(|e| damaged(e.to_string()))?;
    if state.version > VERSION {
        return Err(damaged(format!(
            "written by a newer wanft (format {})",
            state.version
        )));
    }
    Ok(Some(state))
}

/// Reads a state file (`None` when absent) through the bounded, regular-file-only reader, so
/// that a planted FIFO or device cannot hang or exhaust the run.
fn read_state_file(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match small_file::read(path, MAX_STATE_BYTES) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Writes `state` to `path` atomically (and the `.wanft/.gitignore` that keeps the folder out
/// of commits).
pub fn save(path: &Path, state: &RunState) -> Result<(), StateError> {
    let failed = |source| StateError::Write {
        path: path.to_owned(),
        source,
    };
    let dir = state_dir(path).map_err(failed)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".run-")
        .suffix(".json")
        .tempfile_in(dir)
        .map_err(failed)?;
    serde_json::to_writer_pretty(&mut temp, state).map_err(|e| failed(e.into()))?;
    temp.write_all(b"\n").map_err(failed)?;
    temp.as_file().sync_all().map_err(failed)?;
    temp.persist(path).map_err(|e| failed(e.error))?;
    Ok(())
}

/// The folder of the state file `path`, made if missing, with the `.gitignore` that keeps it
/// out of commits (local state: ids of this account, paths of this machine).
fn state_dir(path: &Path) -> io::Result<&Path> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let ignore = dir.join(".gitignore");
    if !ignore.exists() {
        std::fs::write(&ignore, "*\n")?;
    }
    Ok(dir)
}

/// Takes the project's run lock (`.wanft/.run.json.wanft-lock`, beside the state file): `None`
/// when another process holds it. One run at a time per project: two would each create what
/// the other is creating. The lock file lives in the project, not in the cache folder, so that
/// runs with different cache folders, or naming the project through different paths, still
/// exclude each other; the lock goes with the process, however it ends.
pub fn try_lock(path: &Path) -> Result<Option<FileLock>, StateError> {
    let failed = |source| StateError::Write {
        path: path.to_owned(),
        source,
    };
    state_dir(path).map_err(failed)?;
    let lock_path = lock::beside(path);
    FileLock::try_acquire(&lock_path, Mode::Exclusive).map_err(|source| StateError::Write {
        path: lock_path,
        source,
    })
}

/// Moves the state at `path` aside as `run-<label>.json`, keeping the record of an earlier run.
pub fn archive(path: &Path, label: &str) -> Result<PathBuf, StateError> {
    let safe: String = label
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let target = path.with_file_name(format!("run-{safe}.json"));
    std::fs::rename(path, &target).map_err(|source| StateError::Write {
        path: target.clone(),
        source,
    })?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_and_damage_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        assert!(load(&path).unwrap().is_none());
        let mut state = RunState::new("fp".into(), Region::CnBeijing, "http://h".into(), "m");
        state.job = Some(JobStep {
            before: vec!["ft-1".into()],
            job_id: Some("ft-2".into()),
            ..JobStep::default()
        });
        save(&path, &state).unwrap();
        assert_eq!(load(&path).unwrap(), Some(state.clone()));
        assert!(dir.path().join(".wanft/.gitignore").is_file());

        std::fs::write(&path, b"{\"version\":1").unwrap();
        assert!(matches!(load(&path), Err(StateError::Damaged { .. })));
        std::fs::write(&path, vec![b' '; (MAX_STATE_BYTES + 1) as usize]).unwrap();
        assert!(matches!(load(&path), Err(StateError::Read { .. })));

        save(&path, &state).unwrap();
        let kept = archive(&path, "ft-2").unwrap();
        assert!(kept.ends_with("run-ft-2.json") && !path.exists());
    }

    #[test]
    fn one_process_holds_the_run_lock_of_a_project() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        let held = try_lock(&path).unwrap();
        assert!(held.is_some());
        assert!(dir.path().join(".wanft/.gitignore").is_file());
        // The same project through another spelling of its path is the same lock.
        let roundabout = path_in(&dir.path().join(".wanft/.."));
        assert!(try_lock(&roundabout).unwrap().is_none());
        drop(held);
        assert!(try_lock(&roundabout).unwrap().is_some());
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let path = path_in(dir.path());
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        assert!(matches!(load(&path), Err(StateError::Read { .. })));
    }
}
