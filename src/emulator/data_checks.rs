//! Data processing off the request path: each new job's datasets are checked on a worker
//! thread as soon as the job exists, outside the state lock, and the outcome waits there until
//! the job's turn comes.
//!
//! A check can take seconds (a large or hostile zip); done under the lock, on a request's
//! thread, it stalled every request, admin ones included. Now the lock is only held to look the
//! outcome up. Emulated time stays exact: a request that would see a job whose turn has come
//! first waits, without holding anything, for that job's check ([`DataChecks::settle`]), so a
//! job still starts at the instant its timeline says, however long its check took.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::clock::EmuTime;
use super::job::{DataOutcome, JobRecord};
use super::state::FileRecord;
use super::validate::process_data;

/// How long a request waits for checks due by now before going ahead without them (the jobs
/// concerned then start later, when their checks are done).
const SETTLE_LIMIT: Duration = Duration::from_secs(60);

/// One job's check, as queued.
struct Request {
    job: JobRecord,
    files: Vec<FileRecord>,
}

enum Entry {
    /// Queued or running; the job may start from `due`.
    Pending { due: EmuTime },
    Done {
        outcome: DataOutcome,
        /// The job's files that existed when it was checked.
        files: Vec<String>,
    },
}

#[derive(Default)]
struct Shared {
    entries: Mutex<HashMap<String, Entry>>,
    done: tokio::sync::Notify,
}

/// The worker and what it has found.
pub struct DataChecks {
    shared: Arc<Shared>,
    queue: Mutex<mpsc::Sender<Request>>,
}

impl std::fmt::Debug for DataChecks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataChecks").finish_non_exhaustive()
    }
}

/// What [`DataChecks::outcome`] knows of a job.
pub enum Known {
    Ready(DataOutcome),
    /// Still being checked (or queued again because a file was deleted meanwhile).
    Pending,
}

impl DataChecks {
    /// Starts the worker, which checks the zips in `blob_dir`.
    pub fn start(blob_dir: PathBuf) -> DataChecks {
        let shared = Arc::new(Shared::default());
        let (sender, receiver) = mpsc::channel::<Request>();
        let worker = shared.clone();
        std::thread::Builder::new()
            .name("wanft-emulator-data-checks".into())
            .spawn(move || {
                // Ends when the store (and so the sender) is dropped.
                while let Ok(Request { job, files }) = receiver.recv() {
                    // A check that panics must not leave its job (and every request waiting
                    // for it) pending: the job fails instead, saying so.
                    let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        process_data(&job, &files, &blob_dir)
                    }));
                    let outcome = checked.unwrap_or_else(|_| DataOutcome::Rejected {
                        problems: vec!["internal error while checking the datasets".into()],
                        unlisted: 0,
                    });
                    let entry = Entry::Done {
                        outcome,
                        files: files.into_iter().map(|f| f.id).collect(),
                    };
                    worker
                        .entries
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(job.job_id.clone(), entry);
                    worker.done.notify_waiters();
                }
            })
            .expect("the data-check thread starts");
        DataChecks {
            shared,
            queue: Mutex::new(sender),
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.shared
            .entries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues the check of `job` (with the files it names, as they are now) unless it is known.
    pub fn ensure(&self, job: &JobRecord, all_files: &[FileRecord], due: EmuTime) {
        if self.entries().contains_key(&job.job_id) {
            return;
        }
        self.queue_check(job, all_files, due);
    }

    fn queue_check(&self, job: &JobRecord, all_files: &[FileRecord], due: EmuTime) {
        let wanted: Vec<&String> = job
            .training_file_ids
            .iter()
            .chain(&job.validation_file_ids)
            .collect();
        let files = all_files
            .iter()
            .filter(|f| wanted.contains(&&f.id))
            .cloned()
            .collect();
        self.entries()
            .insert(job.job_id.clone(), Entry::Pending { due });
        let request = Request {
            job: job.clone(),
            files,
        };
        // A worker that is gone leaves the entry pending: requests stop waiting after
        // SETTLE_LIMIT and the job never starts, which shows.
        let _ = self
            .queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(request);
    }

    /// The outcome of `job`'s check, taken out once ready. A file of the job that existed when
    /// it was checked and is gone now makes the outcome stale: the job is checked again.
    pub fn outcome(&self, job: &JobRecord, all_files: &[FileRecord], due: EmuTime) -> Known {
        let mut entries = self.entries();
        let stale = match entries.get(&job.job_id) {
            None => true,
            Some(Entry::Pending { .. }) => return Known::Pending,
            Some(Entry::Done { files, .. }) => files
                .iter()
                .any(|id| !all_files.iter().any(|f| &f.id == id)),
        };
        if stale {
            entries.remove(&job.job_id);
            drop(entries);
            self.queue_check(job, all_files, due);
            return Known::Pending;
        }
        match entries.remove(&job.job_id) {
            Some(Entry::Done { outcome, .. }) => Known::Ready(outcome),
            _ => Known::Pending,
        }
    }

    /// Waits, holding nothing, until no check of a job due by `now` is pending (at most
    /// [`SETTLE_LIMIT`]).
    pub async fn settle(&self, now: EmuTime) {
        let _ = tokio::time::timeout(SETTLE_LIMIT, async {
            loop {
                let done = self.shared.done.notified();
                tokio::pin!(done);
                // Registered before looking, so that a check finishing in between wakes us.
                done.as_mut().enable();
                let waiting = self
                    .entries()
                    .values()
                    .any(|e| matches!(e, Entry::Pending { due } if *due <= now));
                if !waiting {
                    return;
                }
                done.await;
            }
        })
        .await;
    }
}
