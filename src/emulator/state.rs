//! The account's state — files, jobs, deployments, tasks — its training-slot scheduler, and its
//! persistence.
//!
//! All access goes through [`Store::read`] and [`Store::write`], which first bring the state up
//! to the current emulated time (`State::advance`) and, when anything changed, save it. The
//! lock is a plain mutex never held across an `.await`, nor during data processing: each job's
//! datasets are checked on a worker thread from the moment the job exists
//! ([`super::data_checks`]), and `advance` only takes the outcome.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

use super::Timings;
use super::clock::{Clock, EmuTime};
use super::data_checks::{DataChecks, Known};
use super::error::ApiError;
use super::ids::IdMinter;
use super::job::{JobRecord, Run};
use crate::models::TaskType;
use crate::small_file;

/// Version of the persisted layout; bumped on incompatible changes (2: hyper-parameters and
/// data-processing outcomes as the rule engine and planner give them).
const STATE_FORMAT: u32 = 2;
const STATE_FILE: &str = "state.json";
/// Largest state file loaded: far above what 10,000 files and their jobs take.
const MAX_STATE_BYTES: u64 = 512 << 20;
const BLOB_DIR: &str = "files";

/// Everything the emulator remembers; serialised as `state.json` with `--state-dir`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Db {
    pub format: u32,
    /// Latest emulated time handed out, so that time never runs backwards across restarts.
    pub clock: EmuTime,
    pub account: Account,
    /// In upload order.
    pub files: Vec<FileRecord>,
    /// In creation order.
    pub jobs: Vec<JobRecord>,
    pub deployments: Vec<DeploymentRecord>,
    pub tasks: Vec<TaskRecord>,
    /// Native file records carry a numeric `id` next to their UUID.
    pub next_file_number: u64,
    /// Temporary uploads of generation inputs (spec §8.7).
    #[serde(default)]
    pub oss_objects: Vec<OssObject>,
}

/// A temporary upload (`oss://<key>`), resolvable for 48 hours.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OssObject {
    pub key: String,
    pub bytes: u64,
    pub content_type: Option<String>,
    pub uploaded: EmuTime,
    /// Tasks whose inputs named it, in order.
    pub resolved_by: Vec<String>,
}

impl OssObject {
    /// Its file in the blob directory: keys are paths, so they are hashed into one name.
    pub fn blob_name(key: &str) -> String {
        use sha2::Digest;
        format!("oss-{}", hex::encode(sha2::Sha256::digest(key.as_bytes())))
    }

    pub fn alive_at(&self, now: EmuTime) -> bool {
        now < self.uploaded.plus(super::routes::oss::OBJECT_LIFETIME)
    }
}

/// The single account the emulator serves.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Account {
    pub workspace_id: String,
    /// `user_identity`, `creator`, `modifier`, native `user_id`.
    pub user_id: String,
    pub api_key_id: String,
    /// Signs blob URLs (see `blobs`).
    pub blob_secret: String,
}

/// An uploaded file, whichever endpoint received it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileRecord {
    pub id: String,
    pub filename: String,
    pub purpose: String,
    pub bytes: u64,
    /// Hex MD5 of the content; `None` until [`super::digests::Digests`] has computed it.
    #[serde(default)]
    pub md5: Option<String>,
    pub created: EmuTime,
    pub description: Option<String>,
    pub number: u64,
}

/// A LoRA deployment (spec §6.15).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeploymentRecord {
    pub deployed_model: String,
    pub model_name: String,
    pub base_model: String,
    /// What the deployed model generates from: first frame (i2v) or first and last (kf2v).
    pub task: TaskType,
    pub capacity: u32,
    pub created: EmuTime,
    pub use_input_prompt: bool,
    pub lora_prompt_default: Option<String>,
}

/// Deployment status (spec §6.16); the emulator uses the first two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeploymentStatus {
    Pending,
    Running,
}

impl DeploymentRecord {
    pub fn running_since(&self, timings: &Timings) -> EmuTime {
        self.created.plus(timings.deployment)
    }

    pub fn status_at(&self, now: EmuTime, timings: &Timings) -> DeploymentStatus {
        if now < self.running_since(timings) {
            DeploymentStatus::Pending
        } else {
            DeploymentStatus::Running
        }
    }
}

/// A video-synthesis task (spec §6.18–§6.20).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskRecord {
    pub task_id: String,
    pub task: TaskType,
    pub model: String,
    pub submitted: EmuTime,
    pub orig_prompt: Option<String>,
    pub actual_prompt: Option<String>,
    /// Seconds of generated video.
    pub duration: u32,
    /// Resolution class: 480, 720 or 1080.
    pub resolution_class: u32,
}

/// Task ids and result URLs live 24 hours (spec §6.20).
pub const TASK_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// Task status (spec §6.20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskStatus {
    Pending,
    Running,
    Succeeded,
}

impl TaskRecord {
    pub fn scheduled_at(&self, timings: &Timings) -> EmuTime {
        self.submitted.plus(timings.task_queue)
    }

    pub fn finished_at(&self, timings: &Timings) -> EmuTime {
        self.scheduled_at(timings).plus(timings.task_run)
    }

    pub fn status_at(&self, now: EmuTime, timings: &Timings) -> TaskStatus {
        if now < self.scheduled_at(timings) {
            TaskStatus::Pending
        } else if now < self.finished_at(timings) {
            TaskStatus::Running
        } else {
            TaskStatus::Succeeded
        }
    }

    /// False once the id is older than [`TASK_RETENTION`]; the platform then answers `UNKNOWN`.
    pub fn alive_at(&self, now: EmuTime) -> bool {
        now < self.submitted.plus(TASK_RETENTION)
    }
}

/// The state a request works on: the data plus the id generator.
#[derive(Debug)]
pub struct State {
    pub db: Db,
    pub ids: IdMinter,
    pub timings: Timings,
}

impl State {
    fn new(seed: u64, timings: Timings, now: EmuTime) -> Self {
        let mut ids = IdMinter::new(seed);
        let account = Account {
            workspace_id: ids.workspace_id(),
            user_id: ids.account_number(),
            api_key_id: ids.account_number(),
            blob_secret: ids.secret(),
        };
        State {
            db: Db {
                format: STATE_FORMAT,
                clock: now,
                account,
                files: Vec::new(),
                jobs: Vec::new(),
                deployments: Vec::new(),
                tasks: Vec::new(),
                next_file_number: 1,
                oss_objects: Vec::new(),
            },
            ids,
            timings,
        }
    }

    pub fn file(&self, id: &str) -> Option<&FileRecord> {
        self.db.files.iter().find(|f| f.id == id)
    }

    pub fn job(&self, id: &str) -> Option<&JobRecord> {
        self.db.jobs.iter().find(|j| j.job_id == id)
    }

    pub fn job_mut(&mut self, id: &str) -> Option<&mut JobRecord> {
        self.db.jobs.iter_mut().find(|j| j.job_id == id)
    }

    /// The temporary upload under `key`, while it resolves.
    pub fn oss_object(&self, key: &str, now: EmuTime) -> Option<&OssObject> {
        self.db
            .oss_objects
            .iter()
            .find(|o| o.key == key && o.alive_at(now))
    }

    pub fn deployment(&self, deployed_model: &str) -> Option<&DeploymentRecord> {
        self.db
            .deployments
            .iter()
            .find(|d| d.deployed_model == deployed_model)
    }

    /// Mints ids with `mint` until one is not taken (seeded runs restarted on the same state
    /// would otherwise repeat ids).
    fn unique_id(&mut self, mint: impl Fn(&mut IdMinter) -> String) -> String {
        loop {
            let id = mint(&mut self.ids);
            let taken = self.file(&id).is_some()
                || self.job(&id).is_some()
                || self.db.tasks.iter().any(|t| t.task_id == id);
            if !taken {
                return id;
            }
        }
    }

    pub fn new_compatible_file_id(&mut self) -> String {
        self.unique_id(IdMinter::compatible_file_id)
    }

    pub fn new_uuid(&mut self) -> String {
        self.unique_id(IdMinter::uuid)
    }

    pub fn new_job_id(&mut self, created: EmuTime) -> String {
        self.unique_id(|ids| ids.job_id(created))
    }

    /// Brings the state to `now`: gives the training slot to the jobs whose turn has come, in
    /// creation order, with the outcome of their data processing. A job whose check is not done
    /// yet waits (requests settle the checks due first: [`Store::settle`]). Returns true when
    /// anything changed.
    fn advance(&mut self, now: EmuTime, checks: &DataChecks) -> bool {
        let mut changed = false;
        if now > self.db.clock {
            self.db.clock = now;
        }
        loop {
            // One job trains at a time (spec §7.3): the slot frees when the last started job ends.
            let slot_free_at = self
                .db
                .jobs
                .iter()
                .filter(|j| j.run.is_some())
                .filter_map(|j| j.end_time(&self.timings))
                .max()
                .unwrap_or(EmuTime::MIN);
            if slot_free_at > now {
                break;
            }
            let next = self
                .db
                .jobs
                .iter()
                .enumerate()
                .filter(|(_, j)| j.run.is_none() && j.cancel_requested.is_none())
                .map(|(i, j)| (i, j.eligible_at(&self.timings).max(slot_free_at)))
                .min_by_key(|(i, start)| (*start, *i));
            let Some((index, start)) = next.filter(|(_, start)| *start <= now) else {
                break;
            };
            let job = &self.db.jobs[index];
            let outcome = match checks.outcome(job, &self.db.files, job.eligible_at(&self.timings))
            {
                Known::Ready(outcome) => outcome,
                Known::Pending => break,
            };
            self.db.jobs[index].run = Some(Run {
                started: start,
                outcome,
            });
            changed = true;
        }
        changed
    }
}

/// Where the state lives: a directory kept across restarts, or a scratch directory for blobs.
#[derive(Debug)]
enum Storage {
    Persistent { state_file: PathBuf },
    Ephemeral { _scratch: tempfile::TempDir },
}

/// The state behind its lock, with the clock and the blob directory.
#[derive(Debug)]
pub struct Store {
    state: Mutex<State>,
    checks: DataChecks,
    clock: Clock,
    blob_dir: PathBuf,
    storage: Storage,
}

impl Store {
    /// Opens the state in `state_dir` (creating it) or, without one, in memory with blobs in a
    /// scratch directory removed on drop.
    pub fn open(
        state_dir: Option<&Path>,
        seed: u64,
        timings: Timings,
        time_scale: f64,
    ) -> Result<Self> {
        let wall = EmuTime::wall_now();
        let (state, blob_dir, storage) = match state_dir {
            Some(dir) => {
                let blob_dir = dir.join(BLOB_DIR);
                fs::create_dir_all(&blob_dir).with_context(|| {
                    format!("cannot create the state directory {}", dir.display())
                })?;
                let state_file = dir.join(STATE_FILE);
                let state = match small_file::read(&state_file, MAX_STATE_BYTES) {
                    Ok(bytes) => {
                        let db = load_db(&bytes)
                            .with_context(|| format!("cannot load {}", state_file.display()))?;
                        State {
                            db,
                            ids: IdMinter::new(seed),
                            timings: timings.clone(),
                        }
                    }
                    Err(e) if e.is_not_found() => State::new(seed, timings.clone(), wall),
                    Err(e) => {
                        return Err(e)
                            .with_context(|| format!("cannot read {}", state_file.display()));
                    }
                };
                (state, blob_dir, Storage::Persistent { state_file })
            }
            None => {
                let scratch = tempfile::Builder::new()
                    .prefix("wanft-emulator-")
                    .tempdir()
                    .context("cannot create a scratch directory for uploads")?;
                let blob_dir = scratch.path().to_path_buf();
                let state = State::new(seed, timings.clone(), wall);
                (state, blob_dir, Storage::Ephemeral { _scratch: scratch })
            }
        };
        // Emulated time may have run ahead of the wall clock before a restart: never go back.
        let clock = Clock::new(state.db.clock.max(wall), time_scale);
        let store = Store {
            state: Mutex::new(state),
            clock,
            checks: DataChecks::start(blob_dir.clone()),
            blob_dir,
            storage,
        };
        store.queue_checks(&store.lock());
        store
            .save(&store.lock().db)
            .context("cannot write the state")?;
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn now(&self) -> EmuTime {
        self.clock.now()
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Directory holding uploaded files, one per file id.
    pub fn blob_dir(&self) -> &Path {
        &self.blob_dir
    }

    /// Waits, holding nothing, until the data checks of the jobs due by now are done, so that
    /// the next [`Store::read`] or [`Store::write`] sees them start on time.
    pub async fn settle(&self) {
        self.checks.settle(self.now()).await;
    }

    /// Queues the data checks of jobs not started yet (new ones, or loaded from disk).
    fn queue_checks(&self, state: &State) {
        for job in state.db.jobs.iter().filter(|j| j.run.is_none()) {
            self.checks
                .ensure(job, &state.db.files, job.eligible_at(&state.timings));
        }
    }

    /// Runs `f` on the state as of now.
    pub fn read<R>(&self, f: impl FnOnce(&State, EmuTime) -> R) -> Result<R, ApiError> {
        let now = self.now();
        let mut state = self.lock();
        if state.advance(now, &self.checks) {
            self.save(&state.db).map_err(save_failed)?;
        }
        Ok(f(&state, now))
    }

    /// Runs `f` on the state as of now and saves the state if `f` succeeds. `f` must check
    /// before it mutates: a failed `f` leaves its changes unsaved.
    pub fn write<R>(
        &self,
        f: impl FnOnce(&mut State, EmuTime) -> Result<R, ApiError>,
    ) -> Result<R, ApiError> {
        let now = self.now();
        let mut state = self.lock();
        state.advance(now, &self.checks);
        let result = f(&mut state, now)?;
        self.queue_checks(&state);
        self.save(&state.db).map_err(save_failed)?;
        Ok(result)
    }

    /// Writes `state.json` atomically (temporary file, then rename). No-op in memory.
    fn save(&self, db: &Db) -> Result<()> {
        let Storage::Persistent { state_file } = &self.storage else {
            return Ok(());
        };
        let dir = state_file.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        serde_json::to_writer(&mut temp, db)?;
        temp.as_file_mut().flush()?;
        temp.as_file().sync_all()?;
        temp.persist(state_file)?;
        Ok(())
    }
}

fn load_db(bytes: &[u8]) -> Result<Db> {
    let db: Db = serde_json::from_slice(bytes)?;
    if db.format != STATE_FORMAT {
        bail!(
            "state format {} is not supported (expected {STATE_FORMAT}); use a new --state-dir",
            db.format
        );
    }
    Ok(db)
}

fn save_failed(err: anyhow::Error) -> ApiError {
    ApiError::internal(format!("the emulator could not save its state: {err:#}"))
}
