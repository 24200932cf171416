//! A local emulator of the DashScope fine-tuning API (spec §6), for offline tests and CI.
//!
//! It serves every endpoint with the platform's paths, envelopes, id shapes, status codes and
//! error codes, runs jobs, exports, deployments and generation tasks on an accelerated clock,
//! validates datasets when a job's data processing starts, injects faults on demand and can keep
//! its state across restarts.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use wanft::emulator::{EmulatorConfig, serve};
//! let emulator = serve(EmulatorConfig::new("sk-test")).await?;
//! println!("listening on {}", emulator.base_url());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Layout: `state` (account state, training-slot scheduler, persistence) over `job` (timelines),
//! `training` (the planner's arithmetic for one job), `validate` (data processing through the
//! rule engine of `wanft check`), `hyper_params` (create-time checks through the planner's
//! rules), `clock`, `ids`, `digests`; the HTTP side is `routes` (one module per resource) behind
//! `error::envelope`, `auth`, `ratelimit` and `faults`, served by `connection`. Model facts,
//! inference limits included, come from [`crate::models`].

mod auth;
mod blobs;
mod clock;
mod connection;
mod data_checks;
mod digests;
mod error;
mod faults;
mod hyper_params;
mod ids;
mod job;
mod ratelimit;
mod routes;
mod state;
mod training;
mod validate;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context, Result, anyhow};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

pub use faults::FaultSettings;
/// The limits on multipart framing of uploads (public for the fuzzing harness).
pub use routes::multipart_guard;

use auth::ApiKey;
use faults::FaultInjector;
use ids::IdMinter;
use ratelimit::RateLimiter;
use state::Store;

/// Default speed-up: one emulated minute per real second.
pub const DEFAULT_TIME_SCALE: f64 = 60.0;

/// How long each phase lasts, in *emulated* time.
///
/// The defaults, at [`DEFAULT_TIME_SCALE`], finish a job in about 4.3 real seconds, a deployment
/// in 2 and a generation task in under 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timings {
    /// A new job stays `PENDING` this long…
    pub job_pending: Duration,
    /// …then `QUEUING` at least this long, and until the training slot is free.
    pub job_queuing: Duration,
    /// Data processing (dataset validation) at the start of `RUNNING`.
    pub data_processing: Duration,
    /// Training proper, whatever the number of steps; steps progress linearly over it.
    pub training: Duration,
    /// Transfer and delivery for inference, after training.
    pub delivery: Duration,
    /// `CANCELING` before `CANCELED`.
    pub canceling: Duration,
    /// An export stays `PENDING` this long, then `PROCESSING` for `export_run`.
    pub export_queue: Duration,
    pub export_run: Duration,
    /// A deployment stays `PENDING` this long before `RUNNING`.
    pub deployment: Duration,
    /// A generation task stays `PENDING` this long, then `RUNNING` for `task_run`.
    pub task_queue: Duration,
    pub task_run: Duration,
    /// An unexported checkpoint can be exported until this long after it was saved (spec §8.3:
    /// 15 days in the documented example).
    pub checkpoint_retention: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        let secs = Duration::from_secs;
        Timings {
            job_pending: secs(10),
            job_queuing: secs(10),
            data_processing: secs(30),
            training: secs(180),
            delivery: secs(30),
            canceling: secs(10),
            export_queue: secs(10),
            export_run: secs(50),
            deployment: secs(120),
            task_queue: secs(5),
            task_run: secs(30),
            checkpoint_retention: secs(15 * 24 * 3600),
        }
    }
}

/// Size and count limits of the file store (spec §2.5, §6.2, §6.3; Tool defaults).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadLimits {
    /// Largest single upload: 1 GiB.
    pub max_file_bytes: u64,
    /// Storage quota of the account: 100 GB.
    pub max_total_bytes: u64,
    /// File-count quota of the account: 10,000.
    pub max_files: usize,
}

impl Default for UploadLimits {
    fn default() -> Self {
        UploadLimits {
            max_file_bytes: 1 << 30,
            max_total_bytes: 100 * 1_000_000_000,
            max_files: 10_000,
        }
    }
}

/// Everything `wanft emulator` can be told.
#[derive(Clone)]
pub struct EmulatorConfig {
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// The one accepted API key. Never printed.
    pub api_key: String,
    /// Emulated seconds per real second; 0 freezes the clock (advance it with
    /// `POST /__emulator/clock`).
    pub time_scale: f64,
    pub timings: Timings,
    /// Keep state and uploads here across restarts; in memory when `None`.
    pub state_dir: Option<PathBuf>,
    pub faults: FaultSettings,
    /// Seed of every random choice (ids, faults); random when `None`.
    pub seed: Option<u64>,
    pub limits: UploadLimits,
    /// Enforce the request-rate limits of spec §7.3.
    pub enforce_rate_limits: bool,
}

impl EmulatorConfig {
    /// Defaults: 127.0.0.1 on a free port, default speed, in memory, no faults.
    pub fn new(api_key: impl Into<String>) -> Self {
        EmulatorConfig {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            api_key: api_key.into(),
            time_scale: DEFAULT_TIME_SCALE,
            timings: Timings::default(),
            state_dir: None,
            faults: FaultSettings::default(),
            seed: None,
            limits: UploadLimits::default(),
            enforce_rate_limits: false,
        }
    }
}

impl fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field("bind", &self.bind)
            .field("port", &self.port)
            .field("api_key", &"<redacted>")
            .field("time_scale", &self.time_scale)
            .field("timings", &self.timings)
            .field("state_dir", &self.state_dir)
            .field("faults", &self.faults)
            .field("seed", &self.seed)
            .field("limits", &self.limits)
            .field("enforce_rate_limits", &self.enforce_rate_limits)
            .finish()
    }
}

/// What every handler shares.
#[derive(Debug)]
struct Shared {
    store: Store,
    api_key: ApiKey,
    faults: FaultInjector,
    rate_limits: Option<RateLimiter>,
    digests: digests::Digests,
    limits: UploadLimits,
    /// Where the server listens; links fall back to it when a request has no `Host`.
    local_addr: SocketAddr,
    request_ids: Mutex<IdMinter>,
}

impl Shared {
    /// A fresh request id (UUID) from its own seeded stream, so that resource ids do not
    /// depend on how many requests came before.
    fn mint_request_id(&self) -> String {
        self.request_ids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .uuid()
    }
}

/// A running emulator. Dropping it stops the server; [`RunningEmulator::shutdown`] also waits.
#[derive(Debug)]
pub struct RunningEmulator {
    addr: SocketAddr,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl RunningEmulator {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the base every spec path is relative to.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops accepting, drops open connections and waits until the server is gone.
    pub async fn shutdown(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Starts the emulator; it accepts connections once this returns.
pub async fn serve(config: EmulatorConfig) -> Result<RunningEmulator> {
    if config.api_key.trim().is_empty() {
        return Err(anyhow!("the emulator needs an API key to accept"));
    }
    config
        .faults
        .validate()
        .map_err(|e| anyhow!("invalid fault settings: {e}"))?;
    let seed = config.seed.unwrap_or_else(rand::random);
    let store = Store::open(
        config.state_dir.as_deref(),
        seed,
        config.timings.clone(),
        config.time_scale,
    )?;
    let listener = TcpListener::bind((config.bind, config.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", config.bind, config.port))?;
    let local_addr = listener.local_addr()?;
    let shared = Arc::new(Shared {
        store,
        api_key: ApiKey::new(&config.api_key),
        // Independent streams derived from one seed.
        faults: FaultInjector::new(config.faults.clone(), seed ^ 0x6661_756c_7473),
        rate_limits: config.enforce_rate_limits.then(RateLimiter::default),
        digests: digests::Digests::default(),
        limits: config.limits.clone(),
        local_addr,
        request_ids: Mutex::new(IdMinter::new(seed.wrapping_add(1))),
    });
    let router = routes::router(shared);
    let stop = CancellationToken::new();
    let task = tokio::spawn(connection::accept_loop(listener, router, stop.clone()));
    Ok(RunningEmulator {
        addr: local_addr,
        stop,
        task: Some(task),
    })
}

/// An emulator on its own runtime thread, for synchronous code (tests, examples).
#[derive(Debug)]
pub struct BlockingEmulator {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BlockingEmulator {
    /// Starts the emulator on a new thread and returns once it accepts connections.
    pub fn start(config: EmulatorConfig) -> Result<Self> {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<SocketAddr>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("wanft-emulator".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build();
                let runtime = match runtime {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    match serve(config).await {
                        Ok(running) => {
                            let _ = ready_tx.send(Ok(running.addr()));
                            // Either an explicit stop or the handle being dropped ends the wait.
                            let _ = stop_rx.await;
                            running.shutdown().await;
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                        }
                    }
                });
            })
            .context("cannot spawn the emulator thread")?;
        let addr = ready_rx
            .recv()
            .map_err(|_| anyhow!("the emulator thread exited before starting"))??;
        Ok(BlockingEmulator {
            addr,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops the server and joins its thread.
    pub fn stop(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for BlockingEmulator {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
