//! The steps of a run that talk to the API: consent, upload, create, train, previews, export,
//! deploy, generate. Each records what it did in the state file before moving on (and, for a
//! create, what existed before it), so that a killed run resumes without doing anything twice.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest as _, Sha256};

use super::local::Local;
use super::state::{self, DeployStep, ExportStep, JobStep, Previews, RunState, Sample, Upload};
use super::{Project, Reporter, RunError, RunOptions, RunReport, Step, Stop, Training};
use crate::api::checkpoints::{self, ExportStatus};
use crate::api::deployments::{self, AigcConfig, DeploymentStatus, NewDeployment};
use crate::api::download::download;
use crate::api::failure::failure_reason;
use crate::api::gallery::{self, GalleryOptions};
use crate::api::generation::{self, Endpoint, InferenceRules, Synthesis, TaskStatus};
use crate::api::images::{LocalImage, LocalImages, prepare_local};
use crate::api::jobs::{self, Job, JobStatus, LogCursor, NewJob};
use crate::api::ledger::Ledger;
use crate::api::poll::Poll;
use crate::api::upload::{ZipUpload, upload_zip};
use crate::api::{ApiError, Client, files};
use crate::dataset::{Field, Role};
use crate::models::{self, ModelProfile};
use crate::plan::Money;
use crate::plan::billing;
use crate::spend::{self, Decision, EpochsOrigin, Spending};

/// Folder of the project holding each run's previews and samples.
pub const RUNS_DIR: &str = "wanft-runs";
/// Log lines shown of a job already under way when the run starts following it.
const TAIL_ON_RESUME: usize = 10;

pub(super) async fn run(
    client: &Client,
    project: &Project,
    options: &RunOptions,
    reporter: &dyn Reporter,
    local: Local,
) -> Result<RunReport, RunError> {
    let fingerprint = fingerprint(client, project.model, &local);
    let state = open_state(
        &local.state_path,
        fingerprint,
        client,
        project.model,
        options.new_run,
        reporter,
    )?;
    let mut flow = Flow {
        client,
        project,
        options,
        reporter,
        local,
        state,
        until: options.until,
        refused: None,
        billed: None,
        created_here: false,
    };
    let stop = flow.steps().await?;
    let out_dir = flow.state.job_id().map(|id| flow.out_dir(id));
    Ok(RunReport {
        stop,
        billed: flow.billed,
        plan: Some(flow.local.plan),
        state_path: flow.local.state_path,
        state: Some(flow.state),
        out_dir,
        requests: Vec::new(),
    })
}

/// What the run is for: a state of another fingerprint belongs to another run.
fn fingerprint(client: &Client, model: &ModelProfile, local: &Local) -> String {
    let mut hasher = Sha256::new();
    let mut add = |part: &str| {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    };
    add(client.region().id());
    add(&client.base_url());
    add(model.name);
    for set in local.sets() {
        add(match set.role {
            Role::Training => "training",
            Role::Validation => "validation",
        });
        add(set.sha256.as_deref().unwrap_or(""));
    }
    add(&serde_json::to_string(&local.job_hyper.for_request(model)).unwrap_or_default());
    hex::encode(hasher.finalize())
}

/// The state to continue from: the saved one when it is this run's, else a new one (an earlier
/// run's state is kept aside when its job ended or `--new-run` asks for another job).
fn open_state(
    path: &Path,
    fingerprint: String,
    client: &Client,
    model: &ModelProfile,
    new_run: bool,
    reporter: &dyn Reporter,
) -> Result<RunState, RunError> {
    let fresh = || {
        RunState::new(
            fingerprint.clone(),
            client.region(),
            client.base_url(),
            model.name,
        )
    };
    let Some(old) = state::load(path)? else {
        return Ok(fresh());
    };
    let job = old.job.as_ref();
    if old.fingerprint == fingerprint && !new_run {
        if let Some(id) = old.job_id() {
            reporter.note(&format!(
                "resuming the run of job {id} ({})",
                path.display()
            ));
        }
        return Ok(old);
    }
    let Some(job) = job else {
        reporter.note("the datasets or settings changed since the last run; starting afresh");
        return Ok(fresh());
    };
    let label = job.job_id.clone().unwrap_or_else(|| "unfinished".into());
    let ended = matches!(job.status.as_deref(), Some("FAILED" | "CANCELED"));
    if new_run || ended {
        let kept = state::archive(path, &label)?;
        reporter.note(&format!(
            "starting a new run; the record of job {label} is kept in {}",
            kept.display()
        ));
        return Ok(fresh());
    }
    Err(RunError::Invalid(format!(
        "{} belongs to the run of job {label}, made with other datasets or settings; restore \
         them to resume it, or pass --new-run to start another job (billed again; the old record \
         is kept)",
        path.display()
    )))
}

struct Flow<'a> {
    client: &'a Client,
    project: &'a Project,
    options: &'a RunOptions,
    reporter: &'a dyn Reporter,
    local: Local,
    state: RunState,
    /// The last step to run (lowered when consent for a later one is refused).
    until: Step,
    /// Why `until` was lowered.
    refused: Option<Stop>,
    billed: Option<Money>,
    /// The job was created by this process (its whole log is new to the user).
    created_here: bool,
}

/// `Ok(None)`: go on; `Ok(Some(stop))`: stop here.
type Next = Result<Option<Stop>, RunError>;

impl Flow<'_> {
    async fn steps(&mut self) -> Next {
        if let Some(stop) = self.consent() {
            return Ok(Some(stop));
        }
        if self.until >= Step::Create && self.state.job.is_none() {
            // Nothing is uploaded for a job that cannot be created (spec §8.2).
            match jobs::ensure_job_quota(self.client).await {
                Ok(_) => {}
                Err(e) if e.http().is_some_and(|f| matches!(f.status, 403 | 404)) => {
                    self.reporter.note(&format!(
                        "could not count the jobs against the job quota: {e}"
                    ));
                }
                Err(e) => return Err(e.into()),
            }
        }
        for step in [
            Step::Upload,
            Step::Create,
            Step::Train,
            Step::Previews,
            Step::Export,
            Step::Deploy,
            Step::Generate,
        ] {
            let outcome = match step {
                Step::Upload => self.upload().await?,
                Step::Create => self.create().await?,
                Step::Train => self.train().await?,
                Step::Previews => self.previews().await?,
                Step::Export => self.export().await?,
                Step::Deploy => self.deploy().await?,
                _ => self.generate().await?,
            };
            if outcome.is_some() {
                return Ok(outcome);
            }
            if step == self.until && step != Step::Generate {
                return Ok(self.refused.take().or(Some(Stop::Until(step))));
            }
        }
        Ok(None)
    }

    fn save(&self) -> Result<(), RunError> {
        Ok(state::save(&self.local.state_path, &self.state)?)
    }

    fn out_dir(&self, job_id: &str) -> PathBuf {
        self.options
            .out_dir
            .clone()
            .unwrap_or_else(|| self.project.root.join(RUNS_DIR).join(job_id))
    }

    fn job_id(&self) -> Result<String, RunError> {
        self.state
            .job_id()
            .map(str::to_owned)
            .ok_or_else(|| RunError::Invalid("no job yet".into()))
    }

    /// States what the steps still to come will spend and asks for consent once; a refused
    /// create stops the run before anything is sent, a refused deploy or generate lowers
    /// `until` to the step before.
    fn consent(&mut self) -> Option<Stop> {
        let mut pending: Vec<(Step, Spending)> = Vec::new();
        if self.until >= Step::Create && self.state.job.is_none() {
            let origin = self.options.epochs_origin.unwrap_or(EpochsOrigin::Plan);
            pending.push((Step::Create, spend::job(&self.local.plan, origin)));
        }
        let deployed = self
            .state
            .deployment
            .as_ref()
            .is_some_and(|d| d.deployed_model.is_some());
        if self.until >= Step::Deploy && !deployed {
            pending.push((Step::Deploy, spend::deployment("the tuned model")));
        }
        let images = self.sample_count();
        let done = self
            .state
            .samples
            .iter()
            .filter(|s| s.video.is_some())
            .count();
        if self.until >= Step::Generate && images > done {
            pending.push((
                Step::Generate,
                spend::generation(
                    images - done,
                    self.options.duration,
                    &self.options.resolution,
                ),
            ));
        }
        if pending.is_empty() {
            return None;
        }
        let statements: Vec<Spending> = pending.iter().map(|(_, s)| s.clone()).collect();
        self.reporter.spending(&statements);
        let mut ask: Vec<(Step, Spending)> = Vec::new();
        for (step, spending) in pending {
            match self.options.consent.decide(&spending) {
                Decision::Proceed => {}
                Decision::Ask => ask.push((step, spending)),
                Decision::Refuse(reason) => {
                    let stop = Stop::Refused { step, reason };
                    match step.before() {
                        Some(before) if step > Step::Create => {
                            self.until = self.until.min(before);
                            self.refused = Some(stop);
                            ask.retain(|(s, _)| *s < step);
                            break;
                        }
                        _ => return Some(stop),
                    }
                }
            }
        }
        if ask.is_empty() {
            return None;
        }
        let asked: Vec<Spending> = ask.iter().map(|(_, s)| s.clone()).collect();
        if self.reporter.confirm(&asked) {
            return None;
        }
        Some(Stop::Refused {
            step: ask[0].0,
            reason: "declined at the prompt".into(),
        })
    }

    /// Images the samples start from: the validation sets' lines, else the previews'.
    fn sample_count(&self) -> usize {
        if self.local.validation.is_empty() {
            self.local.plan.samples.validation
        } else {
            self.local
                .validation
                .iter()
                .map(|v| v.report.dataset.samples.len())
                .sum()
        }
    }

    async fn upload(&mut self) -> Next {
        let ledger_path = Ledger::default_path();
        let mut ledger = ledger_path.as_deref().map(|p| {
            let (ledger, warning) = Ledger::open(p);
            if let Some(warning) = warning {
                self.reporter.note(&warning);
            }
            ledger
        });
        if ledger.is_none() {
            self.reporter
                .note("no cache folder: uploads are not remembered (set WANFT_CACHE_DIR)");
        }
        let sets: Vec<(Role, PathBuf, PathBuf, String)> = self
            .local
            .sets()
            .map(|s| {
                (
                    s.role,
                    s.path.clone(),
                    s.zip.clone(),
                    s.sha256.clone().unwrap_or_default(),
                )
            })
            .collect();
        for (role, dataset, zip, sha256) in sets {
            let recorded = self
                .state
                .uploads
                .iter()
                .position(|u| u.sha256 == sha256 && u.role == role);
            if let Some(i) = recorded {
                let id = self.state.uploads[i].file_id.clone();
                match files::get_file(self.client, &id).await {
                    Ok(_) => {
                        self.reporter.step(
                            Step::Upload,
                            &format!("{} is uploaded as {id}", dataset.display()),
                        );
                        continue;
                    }
                    Err(e) if e.is_not_found() => {
                        self.reporter.note(&format!(
                            "the upload {id} of {} is gone from the server; uploading again",
                            dataset.display()
                        ));
                        self.state.uploads.remove(i);
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            let report = upload_zip(
                self.client,
                ZipUpload {
                    path: &zip,
                    force: false,
                    ledger: ledger.as_mut(),
                    stall_timeout: self.options.stall_timeout,
                    progress: self.reporter.progress(),
                },
            )
            .await?;
            for note in &report.notes {
                self.reporter.note(note);
            }
            self.reporter.step(
                Step::Upload,
                &format!(
                    "{} {} as {}",
                    dataset.display(),
                    if report.reused {
                        "was already uploaded (ledger)"
                    } else {
                        "uploaded"
                    },
                    report.id
                ),
            );
            self.state.uploads.push(Upload {
                role,
                dataset,
                sha256: report.sha256.clone(),
                file_id: report.id.clone(),
            });
            self.save()?;
        }
        Ok(None)
    }

    fn new_job(&self) -> NewJob {
        let ids = |role: Role| -> Vec<String> {
            self.local
                .sets()
                .filter(|s| s.role == role)
                .filter_map(|s| {
                    let sha = s.sha256.as_deref()?;
                    self.state
                        .uploads
                        .iter()
                        .find(|u| u.role == role && u.sha256 == sha)
                        .map(|u| u.file_id.clone())
                })
                .collect()
        };
        NewJob {
            model: self.project.model,
            training_file_ids: ids(Role::Training),
            validation_file_ids: ids(Role::Validation),
            hyper_parameters: self.local.job_hyper.clone(),
            // The name recorded before the create: how a later run finds this very job.
            job_name: self.state.job.as_ref().and_then(|j| j.job_name.clone()),
            model_name: None,
        }
    }

    async fn create(&mut self) -> Next {
        if let Some(id) = self.state.job_id() {
            self.reporter.step(
                Step::Create,
                &format!("job {id} was created by an earlier run"),
            );
            return Ok(None);
        }
        if let Some(intent) = &self.state.job {
            let new_job = self.new_job();
            // The last run was stopped while creating: look before sending again.
            let before: HashSet<String> = intent.before.iter().cloned().collect();
            if let Some(job) = jobs::find_created(self.client, &new_job, &before).await? {
                self.reporter.note(&format!(
                    "job {} had been created by the interrupted run; not created again",
                    job.job_id
                ));
                self.record_job(&job)?;
                return Ok(None);
            }
        }
        let before = jobs::recent_job_ids(self.client, self.project.model).await?;
        self.state.job = Some(JobStep {
            before,
            job_name: Some(jobs::unique_job_name()),
            ..JobStep::default()
        });
        self.save()?;
        let new_job = self.new_job();
        let job = jobs::create_job(self.client, &new_job).await?;
        self.created_here = true;
        self.record_job(&job)?;
        let hyper = &new_job.hyper_parameters;
        self.reporter.step(
            Step::Create,
            &format!(
                "job {} created (n_epochs {}, eval_epochs {})",
                job.job_id,
                hyper.n_epochs.unwrap_or_default(),
                hyper.eval_epochs.unwrap_or_default()
            ),
        );
        Ok(None)
    }

    fn record_job(&mut self, job: &Job) -> Result<(), RunError> {
        let step = self.state.job.get_or_insert_with(JobStep::default);
        step.job_id = Some(job.job_id.clone());
        step.finetuned_output = job.finetuned_output.clone();
        step.status = Some(job.status.as_str().to_owned());
        self.save()
    }

    async fn train(&mut self) -> Next {
        let job_id = self.job_id()?;
        let poll = Poll::new(self.options.poll);
        let plan = &self.local.plan;
        let planned_tokens = plan.all_clips.tokens.max(1);
        let (total_steps, per_epoch) = (plan.steps.total, plan.steps.per_epoch);
        let mut cursor = LogCursor::new(job_id.clone());
        let mut logs: Vec<String> = Vec::new();
        let mut cursor_started = false;
        let mut stepped: Option<u64> = None;
        let mut last_status: Option<JobStatus> = None;
        loop {
            let job = jobs::get_job(self.client, &job_id).await?;
            // Read after the status, so that the last lines of an ended job are not missed.
            let fresh = cursor.next_lines(self.client).await?;
            if let Some(at) = fresh.iter().rev().find_map(|l| step_line(l)) {
                stepped = Some(at);
            }
            // Step lines feed the progress bar, not the tail.
            let tail: Vec<String> = fresh
                .iter()
                .filter(|l| step_line(l).is_none())
                .cloned()
                .collect();
            // A job this run did not create shows the end of its log, not all of it again.
            let shown = if cursor_started || self.created_here {
                &tail[..]
            } else {
                &tail[tail.len().saturating_sub(TAIL_ON_RESUME)..]
            };
            cursor_started = true;
            if !shown.is_empty() {
                self.reporter.log_lines(shown);
            }
            logs.extend(fresh);
            if last_status.as_ref() != Some(&job.status) {
                self.reporter
                    .step(Step::Train, &format!("job {job_id} {}", job.status));
                if let Some(step) = self.state.job.as_mut() {
                    step.status = Some(job.status.as_str().to_owned());
                    step.finetuned_output = job.finetuned_output.clone();
                }
                self.save()?;
                last_status = Some(job.status.clone());
            }
            let consumed = logs.iter().rev().find_map(|l| consumed_tokens(l));
            let step = match job.status {
                JobStatus::Succeeded => Some(total_steps),
                _ => stepped.or_else(|| {
                    consumed.map(|t| {
                        (u128::from(t) * u128::from(total_steps) / planned_tokens)
                            .min(u128::from(total_steps)) as u64
                    })
                }),
            };
            self.reporter.training(&Training {
                job_id: job_id.clone(),
                status: job.status.clone(),
                step,
                total_steps,
                steps_per_epoch: per_epoch,
            });
            if job.status.is_terminal() {
                if let Some(record) = self.state.job.as_mut() {
                    record.usage = job.usage;
                }
                self.save()?;
                self.billed = billed(&self.local.plan, job.usage);
                if job.status == JobStatus::Succeeded {
                    return Ok(None);
                }
                return Ok(Some(Stop::JobEnded {
                    job_id,
                    status: job.status,
                    reason: failure_reason(&logs),
                }));
            }
            tokio::time::sleep(poll.next_delay()).await;
        }
    }

    async fn previews(&mut self) -> Next {
        let job_id = self.job_id()?;
        if let Some(previews) = &self.state.previews {
            self.reporter.step(
                Step::Previews,
                &format!("previews are in {}", previews.dir.display()),
            );
            return Ok(None);
        }
        // The checkpoint gallery: every preview downloaded (resumable) and a page of
        // validation prompt × checkpoint with each one's step, expiry and export command.
        let dir = self.out_dir(&job_id).join("previews");
        let options = GalleryOptions {
            dir: &dir,
            stall_timeout: self.options.stall_timeout,
            command_flags: gallery::command_flags(self.client),
            progress: self.reporter.progress(),
        };
        let built = gallery::write_gallery(self.client, &job_id, &options).await?;
        for missing in &built.missing {
            self.reporter
                .note(&format!("preview not downloaded: {missing}"));
        }
        self.reporter.step(
            Step::Previews,
            &format!(
                "{} preview videos in {}; the gallery is {}",
                built.videos.len(),
                dir.display(),
                built.page.display()
            ),
        );
        // With a preview missing, the next run tries again (what is there is kept).
        if built.missing.is_empty() {
            self.state.previews = Some(Previews {
                dir,
                files: built.videos,
                page: Some(built.page),
            });
            self.save()?;
        }
        Ok(None)
    }

    async fn export(&mut self) -> Next {
        let job_id = self.job_id()?;
        let finetuned_output = self
            .state
            .job
            .as_ref()
            .and_then(|j| j.finetuned_output.clone())
            .ok_or_else(|| RunError::Invalid(format!("job {job_id} names no finetuned_output")))?;
        let listed = checkpoints::checkpoints(self.client, &job_id).await?;
        let last = listed.last().map(|c| c.checkpoint.clone());
        let chosen = match (&self.options.checkpoint, &last) {
            (Some(asked), _) => {
                if !listed.iter().any(|c| &c.checkpoint == asked) {
                    let names: Vec<&str> = listed.iter().map(|c| c.checkpoint.as_str()).collect();
                    return Err(RunError::Invalid(format!(
                        "job {job_id} has no checkpoint {asked}; it has {}",
                        if names.is_empty() {
                            "none".to_owned()
                        } else {
                            names.join(", ")
                        }
                    )));
                }
                asked.clone()
            }
            (None, Some(last)) => last.clone(),
            (None, None) => "final".to_owned(),
        };
        if let Some(done) = &self.state.export
            && done.checkpoint == chosen
            && done.model_name.is_some()
        {
            return Ok(None);
        }
        if self.options.checkpoint.is_none() || Some(&chosen) == last.as_ref() {
            self.reporter.step(
                Step::Export,
                &format!(
                    "{chosen} is the final checkpoint: the job's model {finetuned_output} deploys \
                     it as is (nothing to export)"
                ),
            );
            self.replace_export(ExportStep {
                checkpoint: chosen,
                is_final: true,
                display_name: None,
                model_name: Some(finetuned_output),
            })?;
            return Ok(None);
        }
        let display_name = format!("{job_id}-{chosen}");
        let listed_chosen = listed.iter().find(|c| c.checkpoint == chosen);
        let already = listed_chosen.is_some_and(|c| c.export_requested());
        // An unexported checkpoint past its expiry can no longer be exported (spec §8.3).
        if let Some(c) = listed_chosen
            && !already
            && let Some(expired) = checkpoints::expiring_soon(
                std::slice::from_ref(c),
                self.client.server_now(),
                Duration::ZERO,
            )
            .first()
            .map(|e| e.expires_at)
        {
            return Err(RunError::Invalid(format!(
                "{chosen} of job {job_id} expired unexported at {expired}: it can no longer be \
                 exported (spec §8.3); choose another with --checkpoint, or the final one"
            )));
        }
        self.replace_export(ExportStep {
            checkpoint: chosen.clone(),
            is_final: false,
            display_name: Some(display_name.clone()),
            model_name: None,
        })?;
        if already {
            self.reporter.note(&format!(
                "the export of {chosen} was asked for already; following it"
            ));
        } else {
            checkpoints::export(self.client, &job_id, &chosen, &display_name).await?;
            self.reporter
                .step(Step::Export, &format!("export of {chosen} started"));
        }
        let poll = Poll::new(self.options.poll);
        let exported = loop {
            let c = checkpoints::find_checkpoint(self.client, &job_id, &chosen).await?;
            if c.status.is_terminal() {
                break c;
            }
            tokio::time::sleep(poll.next_delay()).await;
        };
        match (&exported.status, exported.model_name) {
            (ExportStatus::Succeeded, Some(model_name)) => {
                self.reporter
                    .step(Step::Export, &format!("{chosen} exported as {model_name}"));
                if let Some(export) = self.state.export.as_mut() {
                    export.model_name = Some(model_name);
                }
                self.save()?;
                Ok(None)
            }
            (status, _) => Ok(Some(Stop::ExportFailed {
                checkpoint: chosen,
                status: status.as_str().to_owned(),
            })),
        }
    }

    /// Records the chosen checkpoint; a different choice than the last run's also forgets that
    /// run's deployment and samples (the deployment stays listed for clean-up).
    fn replace_export(&mut self, export: ExportStep) -> Result<(), RunError> {
        if let Some(old) = &self.state.export
            && old.checkpoint != export.checkpoint
        {
            if let Some(deployed) = self
                .state
                .deployment
                .as_ref()
                .and_then(|d| d.deployed_model.clone())
            {
                self.reporter.note(&format!(
                    "{} was deployed for {}; it keeps running until deleted (`wanft deploy \
                     delete {deployed}`)",
                    deployed, old.checkpoint
                ));
            }
            self.state.deployment = None;
            self.state.samples.clear();
        }
        self.state.export = Some(export);
        self.save()
    }

    fn aigc_config(&self) -> (AigcConfig, bool) {
        let section = &self.project.config.deploy;
        let templates = section
            .prompt
            .as_deref()
            .is_some_and(|p| !p.trim().is_empty())
            && section
                .lora_prompt_default
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty());
        let use_input =
            self.options.use_input_prompt || section.use_input_prompt == Some(true) || !templates;
        let config = AigcConfig {
            use_input_prompt: use_input,
            prompt: section.prompt.clone().filter(|_| !use_input),
            lora_prompt_default: section.lora_prompt_default.clone().filter(|_| !use_input),
        };
        (config, use_input)
    }

    async fn deploy(&mut self) -> Next {
        let model_name = self
            .state
            .export
            .as_ref()
            .and_then(|e| e.model_name.clone())
            .ok_or_else(|| RunError::Invalid("no model to deploy yet".into()))?;
        let recorded = self
            .state
            .deployment
            .as_ref()
            .filter(|d| d.model_name == model_name)
            .and_then(|d| d.deployed_model.clone());
        let mut deployed = None;
        if let Some(id) = recorded {
            match deployments::get_deployment(self.client, &id).await {
                Ok(d) => deployed = Some(d),
                Err(e) if e.is_not_found() => {
                    self.reporter.note(&format!(
                        "deployment {id} is gone (deleted?); deploying {model_name} again"
                    ));
                    self.state.samples.clear();
                }
                Err(e) => return Err(e.into()),
            }
        }
        if deployed.is_none() {
            // One deployment per model: one made by an interrupted run (or by hand) is adopted.
            deployed = deployments::all_deployments(self.client)
                .await?
                .into_iter()
                .find(|d| {
                    (d.model_name.as_deref() == Some(&model_name) || d.deployed_model == model_name)
                        && d.status != DeploymentStatus::Deleting
                });
            if let Some(d) = &deployed {
                self.reporter.note(&format!(
                    "{model_name} is already deployed as {}; not deployed again",
                    d.deployed_model
                ));
            }
        }
        let (aigc_config, use_input_prompt) = self.aigc_config();
        let deployment = match deployed {
            Some(d) => d,
            None => {
                if use_input_prompt && !self.options.use_input_prompt {
                    self.reporter.note(
                        "no [deploy] prompt templates in wanft.toml: the deployment uses each \
                         call's prompt (the samples send their validation prompts)",
                    );
                }
                self.state.deployment = Some(DeployStep {
                    model_name: model_name.clone(),
                    deployed_model: None,
                    use_input_prompt,
                });
                self.save()?;
                let request = NewDeployment {
                    model_name: model_name.clone(),
                    capacity: 1,
                    aigc_config: Some(aigc_config),
                };
                let d = deployments::create_deployment(self.client, &request).await?;
                self.reporter.step(
                    Step::Deploy,
                    &format!("deployment {} created", d.deployed_model),
                );
                d
            }
        };
        self.state.deployment = Some(DeployStep {
            model_name,
            deployed_model: Some(deployment.deployed_model.clone()),
            use_input_prompt: self
                .state
                .deployment
                .as_ref()
                .map_or(use_input_prompt, |d| d.use_input_prompt),
        });
        self.save()?;
        let id = deployment.deployed_model.clone();
        let poll = Poll::new(self.options.poll);
        let mut current = deployment;
        let mut last = None;
        loop {
            if last.as_ref() != Some(&current.status) {
                self.reporter
                    .step(Step::Deploy, &format!("deployment {id} {}", current.status));
                last = Some(current.status.clone());
            }
            if current.status.is_settled() {
                break;
            }
            tokio::time::sleep(poll.next_delay()).await;
            current = deployments::get_deployment(self.client, &id).await?;
        }
        if current.status == DeploymentStatus::Running {
            Ok(None)
        } else {
            Ok(Some(Stop::DeploymentFailed {
                deployed_model: id,
                status: current.status.as_str().to_owned(),
            }))
        }
    }

    /// The images the samples start from: every validation line (its first frame, last frame
    /// and prompt), else the previews' frames of the chosen checkpoint.
    async fn sample_images(
        &self,
        base: Option<&ModelProfile>,
    ) -> Result<Vec<SampleImage>, RunError> {
        let endpoint_rules = |last: bool| {
            let endpoint = Endpoint::choose(self.project.config.dataset.mode, last, base);
            (endpoint, InferenceRules::of(endpoint, base))
        };
        let mut images = Vec::new();
        for set in &self.local.validation {
            let dataset = &set.report.dataset;
            let prefix = match set.path.file_name() {
                Some(name) if self.local.validation.len() > 1 => {
                    format!("{}-", name.to_string_lossy())
                }
                _ => String::new(),
            };
            for sample in &dataset.samples {
                let Some(first) = sample.first_frame.text() else {
                    continue;
                };
                let last = sample.last_frame.text();
                let (endpoint, rules) = endpoint_rules(last.is_some());
                let read = |written: &str| -> Result<Frame, ApiError> {
                    let name = dataset.resolve_name(written);
                    let entry = dataset.source.get(&name).ok_or_else(|| {
                        ApiError::Invalid(format!("{name} is not in {}", set.path.display()))
                    })?;
                    let bytes = dataset
                        .source
                        .read_entry(entry, rules.max_image_bytes + 1)
                        .map_err(|e| ApiError::local(format!("cannot read {name}"), e))?;
                    let file_name = name.rsplit('/').next().unwrap_or(&name);
                    LocalImage::from_bytes(file_name, bytes, rules.max_image_bytes)
                        .map(Frame::Local)
                };
                let key = format!("{prefix}{first}");
                let urls = read(first).and_then(|f| Ok((f, last.map(read).transpose()?)));
                images.push(SampleImage {
                    stem: stem_of(&key),
                    key,
                    endpoint,
                    frames: urls,
                    prompt: match &sample.prompt {
                        Field::Text(p) => Some(p.clone()),
                        _ => None,
                    },
                });
            }
        }
        if self.local.validation.is_empty() {
            let job_id = self.job_id()?;
            let checkpoint = self
                .state
                .export
                .as_ref()
                .map(|e| e.checkpoint.clone())
                .unwrap_or_default();
            let (endpoint, _) = endpoint_rules(false);
            for (i, preview) in checkpoints::previews(self.client, &job_id, &checkpoint)
                .await?
                .into_iter()
                .enumerate()
            {
                let Some(url) = preview.first_frame_path else {
                    continue;
                };
                let key = format!("validation-{:02}", i + 1);
                images.push(SampleImage {
                    stem: key.clone(),
                    key,
                    endpoint,
                    frames: Ok((Frame::Url(url), None)),
                    prompt: preview.prompt,
                });
            }
        }
        Ok(images)
    }

    async fn generate(&mut self) -> Next {
        let deployment = self
            .state
            .deployment
            .clone()
            .and_then(|d| Some((d.deployed_model?, d.use_input_prompt)));
        let Some((deployed_model, use_input_prompt)) = deployment else {
            return Err(RunError::Invalid("no deployment yet".into()));
        };
        let job_id = self.job_id()?;
        let dir = self.out_dir(&job_id).join("samples");
        let base = deployments::get_deployment(self.client, &deployed_model)
            .await?
            .base_model
            .as_deref()
            .and_then(models::find)
            .or(Some(self.project.model));
        let images = self.sample_images(base).await?;
        let mut failed = 0;
        // Submit every pending sample first (they render in parallel), then wait for each.
        for image in &images {
            let index = match self.state.samples.iter().position(|s| s.image == image.key) {
                Some(i) => i,
                None => {
                    self.state.samples.push(Sample {
                        image: image.key.clone(),
                        ..Sample::default()
                    });
                    self.state.samples.len() - 1
                }
            };
            let sample = &self.state.samples[index];
            if sample.video.as_ref().is_some_and(|v| v.is_file()) || sample.task_id.is_some() {
                continue;
            }
            if sample.submitted {
                self.reporter.note(&format!(
                    "the sample of {} may have been submitted by the interrupted run (no answer \
                     was recorded); it is not sent again, so that it is not billed twice",
                    image.key
                ));
                failed += 1;
                continue;
            }
            let (first, last) = match &image.frames {
                Ok(frames) => frames,
                Err(e) => {
                    self.reporter
                        .note(&format!("no sample of {}: {e}", image.key));
                    failed += 1;
                    continue;
                }
            };
            let first = self.frame_url(&deployed_model, first).await?;
            let last = match last {
                Some(frame) => Some(self.frame_url(&deployed_model, frame).await?),
                None => None,
            };
            let synthesis = Synthesis {
                model: deployed_model.clone(),
                endpoint: image.endpoint,
                first_frame: first,
                last_frame: last,
                prompt: image.prompt.clone().filter(|_| use_input_prompt),
                negative_prompt: None,
                resolution: self.options.resolution.clone(),
                duration: self.options.duration,
                seed: None,
            };
            synthesis.check(&InferenceRules::of(image.endpoint, base))?;
            self.state.samples[index].submitted = true;
            self.save()?;
            let task = generation::submit(self.client, &synthesis).await?;
            self.reporter.step(
                Step::Generate,
                &format!("sample of {} submitted as task {}", image.key, task.task_id),
            );
            self.state.samples[index].task_id = Some(task.task_id);
            self.save()?;
        }
        let poll = Poll::new(self.options.poll);
        for image in &images {
            let Some(index) = self.state.samples.iter().position(|s| s.image == image.key) else {
                continue;
            };
            let sample = self.state.samples[index].clone();
            if sample.video.as_ref().is_some_and(|v| v.is_file()) {
                continue;
            }
            let Some(task_id) = sample.task_id else {
                continue;
            };
            let task = loop {
                let task = generation::get_task(self.client, &task_id).await?;
                if task.task_status.is_terminal() {
                    break task;
                }
                tokio::time::sleep(poll.next_delay()).await;
            };
            let record = &mut self.state.samples[index];
            record.status = Some(task.task_status.as_str().to_owned());
            record.seconds = task.usage.as_ref().and_then(|u| u.seconds());
            match (&task.task_status, task.video_url.as_deref()) {
                (TaskStatus::Succeeded, Some(url)) => {
                    let path = dir.join(format!("{}.mp4", image.stem));
                    download(
                        self.client,
                        url,
                        &path,
                        self.options.stall_timeout,
                        self.reporter.progress(),
                    )
                    .await?;
                    self.reporter.step(
                        Step::Generate,
                        &format!("sample of {} saved as {}", image.key, path.display()),
                    );
                    self.state.samples[index].video = Some(path);
                }
                (status, _) => {
                    failed += 1;
                    self.reporter.note(&format!(
                        "the sample of {} ended {status}{}",
                        image.key,
                        match (&task.code, &task.message) {
                            (Some(code), Some(message)) => format!(": {code}: {message}"),
                            (_, Some(message)) => format!(": {message}"),
                            _ => String::new(),
                        }
                    ));
                }
            }
            self.save()?;
        }
        Ok((failed > 0).then_some(Stop::SamplesIncomplete { failed }))
    }
}

impl Flow<'_> {
    /// The URL a frame is sent as: a local image uploaded temporarily (`oss://`, spec §8.7),
    /// else inline.
    async fn frame_url(&self, deployed_model: &str, frame: &Frame) -> Result<String, RunError> {
        match frame {
            Frame::Url(url) => Ok(url.clone()),
            Frame::Local(image) => {
                let prepared =
                    prepare_local(self.client, deployed_model, image, LocalImages::Upload).await?;
                if let Some(note) = prepared.note {
                    self.reporter.note(&note);
                }
                Ok(prepared.url)
            }
        }
    }
}

/// A frame of a sample: a URL the platform already has, or a local image.
enum Frame {
    Url(String),
    Local(LocalImage),
}

/// An image a sample video starts from.
struct SampleImage {
    /// Its name in the state (the validation member, or `validation-NN`).
    key: String,
    /// The sample's file name, without `.mp4`.
    stem: String,
    endpoint: Endpoint,
    /// First and last frame, or why the image cannot be sent.
    frames: Result<(Frame, Option<Frame>), ApiError>,
    prompt: Option<String>,
}

/// `val01.jpg` → `val01`; folders become `-`.
fn stem_of(key: &str) -> String {
    let without_ext = match key.rsplit_once('.') {
        Some((stem, ext)) if !ext.contains('/') => stem,
        _ => key,
    };
    without_ext
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// The step of a progress line (`… - INFO - step 450/1000, epoch 45/100`).
fn step_line(line: &str) -> Option<u64> {
    let text = line.rsplit(" - ").next()?;
    let (step, _) = text.strip_prefix("step ")?.split_once('/')?;
    step.parse().ok()
}

/// The running token counter of a log line (` Actual number of consumed tokens is N !`).
fn consumed_tokens(line: &str) -> Option<u64> {
    let rest = line.split("consumed tokens is").nth(1)?;
    rest.trim().trim_end_matches('!').trim().parse().ok()
}

/// The fee of `usage` tokens at the plan's price.
fn billed(plan: &crate::plan::Plan, usage: Option<u64>) -> Option<Money> {
    let price = plan.price?;
    let fee = billing::fee(u128::from(usage?), price.per_1k_tokens.amount)?;
    Some(Money::new(fee, plan.region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_stems_are_read() {
        assert_eq!(
            consumed_tokens(" Actual number of consumed tokens is 215040 !"),
            Some(215_040)
        );
        assert_eq!(consumed_tokens("2025 - INFO - start"), None);
        assert_eq!(
            step_line("2026-11-27 22:18:55,227 - INFO - step 88/1000, epoch 9/100"),
            Some(88)
        );
        assert_eq!(step_line("2026 - INFO - start to process data"), None);
        assert_eq!(stem_of("val01.jpg"), "val01");
        assert_eq!(stem_of("image/val 01.png"), "image-val-01");
        assert_eq!(stem_of("i2v-val-val02.png"), "i2v-val-val02");
    }
}
