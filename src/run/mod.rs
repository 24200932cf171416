//! `wanft run`: one flow from a project (or a dataset folder) to a tuned model, without money
//! leaking between the steps.
//!
//! ```text
//! check ─► plan (gates) ─► pack ─► [consent] ─► upload ─► create ─► train (wait, log tail)
//!       ─► previews ─► export (a chosen non-final checkpoint) ─► deploy ─► generate samples
//! ```
//!
//! - What the user decided carries through: the job is created with the plan's `n_epochs`
//!   (flag, else wanft.toml, else the plan's 800-step recommendation), never the platform's
//!   silent default; the fee is stated before anything is spent, and spent only with consent
//!   ([`crate::spend`]).
//! - Resumable: progress is written to `.wanft/run.json` ([`state`]) before and after every
//!   request that creates something, so a run killed at any point and started again uploads,
//!   creates and deploys nothing twice: uploads are found in the ledger, a job whose answer was
//!   lost is found among the jobs created after the recorded survey, a deployment of the model
//!   is adopted, an export already asked for is followed.
//! - `--until STEP` stops early; `--dry-run` ([`dry`]) lists every request it would send and
//!   the fee, and sends nothing.

pub mod dry;
mod local;
pub mod origin;
mod remote;
pub mod state;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use rust_decimal::Decimal;

use crate::api::ApiError;
use crate::api::Client;
use crate::api::failure::FailureReason;
use crate::api::jobs::JobStatus;
use crate::check::CheckError;
use crate::config::Config;
use crate::hyper::HyperParams;
use crate::models::ModelProfile;
use crate::pack::cached::CacheError;
use crate::plan::{Gates, Money, Plan, Readiness};
use crate::progress::Progress;
use crate::rules::{Findings, RuleSelection};
use crate::spend::{Consent, EpochsOrigin, Spending};
use state::{RunState, StateError};

/// The steps of a run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    Check,
    Plan,
    Pack,
    Upload,
    Create,
    Train,
    Previews,
    Export,
    Deploy,
    Generate,
}

impl Step {
    pub const ALL: [Step; 10] = [
        Step::Check,
        Step::Plan,
        Step::Pack,
        Step::Upload,
        Step::Create,
        Step::Train,
        Step::Previews,
        Step::Export,
        Step::Deploy,
        Step::Generate,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Step::Check => "check",
            Step::Plan => "plan",
            Step::Pack => "pack",
            Step::Upload => "upload",
            Step::Create => "create",
            Step::Train => "train",
            Step::Previews => "previews",
            Step::Export => "export",
            Step::Deploy => "deploy",
            Step::Generate => "generate",
        }
    }

    /// The step before this one (`None` for the first).
    pub fn before(self) -> Option<Step> {
        let i = Step::ALL.iter().position(|s| *s == self)?;
        i.checked_sub(1).map(|j| Step::ALL[j])
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Step {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Step::ALL
            .into_iter()
            .find(|step| step.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Step::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown step `{s}`; expected one of {}", names.join(", "))
            })
    }
}

/// What the run works on.
#[derive(Debug, Clone)]
pub struct Project {
    /// The folder holding `.wanft/` (the folder of wanft.toml, else the current folder).
    pub root: PathBuf,
    pub config: Config,
    pub model: &'static ModelProfile,
    /// Training sets (folders or zips).
    pub training: Vec<PathBuf>,
    /// Validation sets; their images are also what the sample videos start from.
    pub validation: Vec<PathBuf>,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The hyper-parameters given (wanft.toml overridden by flags); `n_epochs` unset means the
    /// plan's recommendation.
    pub hyper: HyperParams,
    /// Where `n_epochs` came from, when given.
    pub epochs_origin: Option<EpochsOrigin>,
    /// Price per 1,000 tokens replacing the price list's.
    pub price: Option<Decimal>,
    pub gates: Gates,
    pub consent: Consent,
    /// The checkpoint to deploy; `None`: the final one.
    pub checkpoint: Option<String>,
    /// The last step to run.
    pub until: Step,
    /// Where previews and samples go; `None`: `wanft-runs/<job id>/` in the project.
    pub out_dir: Option<PathBuf>,
    /// Deploy so that each call's prompt is used verbatim (the validation prompts).
    pub use_input_prompt: bool,
    /// Resolution and length of the sample videos (`None`: the model's default).
    pub resolution: String,
    pub duration: Option<u32>,
    /// Longest time between two looks at something running.
    pub poll: Duration,
    /// Abandon (and retry) a transfer that moves no byte for this long.
    pub stall_timeout: Duration,
    /// Start another job although the state belongs to an earlier run of other settings.
    pub new_run: bool,
    /// Rule configuration of the checks (wanft.toml's `[rules]` and flags); `None`: every rule
    /// at its own severity.
    pub rules: Option<Arc<RuleSelection>>,
}

/// How far a job's training is, estimated from the log's running token counter (the platform
/// reports no step count; the counter is not the billed figure, spec §5.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Training {
    pub job_id: String,
    pub status: JobStatus,
    /// Steps done, estimated; `None` before the first counter line.
    pub step: Option<u64>,
    pub total_steps: u64,
    pub steps_per_epoch: u64,
}

/// Receives what the run does, to show it. The run never prints.
pub trait Reporter: Sync {
    /// Progress bars of the long local and transfer phases.
    fn progress(&self) -> &dyn Progress;
    /// A step did something worth a line.
    fn step(&self, step: Step, message: &str);
    /// Something the user should know.
    fn note(&self, message: &str);
    /// Findings of a dataset (errors and warnings).
    fn findings(&self, dataset: &Path, findings: &Findings);
    /// What the run is about to spend (printed whether or not consent is asked).
    fn spending(&self, spendings: &[Spending]);
    /// Asks the person at the terminal to approve `spendings`.
    fn confirm(&self, spendings: &[Spending]) -> bool;
    /// New lines of the job's log.
    fn log_lines(&self, lines: &[String]);
    /// Training moved on.
    fn training(&self, progress: &Training);
}

/// Why a run stopped before its last step.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// `--until` reached.
    Until(Step),
    /// The datasets have errors, the hyper-parameters would be rejected, or a gate failed.
    NotReady(Readiness),
    /// Consent was not given (declined at the terminal, or refused by the rules of
    /// [`crate::spend`]); `step` was not started.
    Refused { step: Step, reason: String },
    /// The job ended FAILED or CANCELED.
    JobEnded {
        job_id: String,
        status: JobStatus,
        reason: FailureReason,
    },
    /// The export of the chosen checkpoint did not succeed.
    ExportFailed { checkpoint: String, status: String },
    /// The deployment settled in another state than RUNNING.
    DeploymentFailed {
        deployed_model: String,
        status: String,
    },
    /// Some samples failed or are unknown.
    SamplesIncomplete { failed: usize },
}

impl Stop {
    /// True when the run did what was asked (`--until` is a success).
    pub fn is_success(&self) -> bool {
        matches!(self, Stop::Until(_))
    }
}

/// A request `--dry-run` would send.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlannedRequest {
    pub step: &'static str,
    pub method: &'static str,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
    /// What it is for, how often, and when it is skipped.
    pub note: String,
}

/// The outcome of a run.
#[derive(Debug, Clone)]
pub struct RunReport {
    /// `None` when every step was done.
    pub stop: Option<Stop>,
    pub plan: Option<Plan>,
    pub state: Option<RunState>,
    pub state_path: PathBuf,
    /// Where the previews and samples are.
    pub out_dir: Option<PathBuf>,
    /// The fee of the job's `usage` (the billing basis), when known.
    pub billed: Option<Money>,
    /// `--dry-run`: the requests it would send.
    pub requests: Vec<PlannedRequest>,
}

impl RunReport {
    /// True when the run did what was asked.
    pub fn succeeded(&self) -> bool {
        self.stop.as_ref().is_none_or(Stop::is_success)
    }
}

/// Why a run could not go on (as opposed to a [`Stop`]).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot check `{}`: {source}", path.display())]
    Check {
        path: PathBuf,
        #[source]
        source: CheckError,
    },
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    State(#[from] StateError),
    /// Another run holds the project's lock (see [`state::try_lock`]).
    #[error(
        "another `wanft run` is working on this project ({}); wait for it to end",
        state.display()
    )]
    Busy { state: PathBuf },
    #[error("{0}")]
    Invalid(String),
}

/// Runs the flow against the API of `client`, from the project's datasets up to
/// `options.until`.
pub async fn run(
    client: &Client,
    project: &Project,
    options: &RunOptions,
    reporter: &dyn Reporter,
) -> Result<RunReport, RunError> {
    // One run per project at a time, taken before any work so that a second run is refused
    // at once (a run that stops before uploading creates nothing and needs no lock).
    let state_path = state::path_in(&project.root);
    let _lock = if options.until >= Step::Upload {
        Some(state::try_lock(&state_path)?.ok_or(RunError::Busy { state: state_path })?)
    } else {
        None
    };
    let local = match local::prepare(project, options, client.region(), reporter, true)? {
        local::Prepared::Stopped(report) => return Ok(*report),
        local::Prepared::Ready(local) => local,
    };
    remote::run(client, project, options, reporter, *local).await
}
