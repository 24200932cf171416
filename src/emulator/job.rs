//! A fine-tuning job and its timeline (spec §6.5–§6.14).
//!
//! A job stores only the instants at which something was decided: created, started (when its data
//! processing began and the datasets were judged), cancellation requested, exports requested.
//! Status, progress, logs, checkpoints and usage are all functions of emulated time over those
//! instants and the [`Timings`], so they never drift and need no background ticking.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Timings;
use super::clock::EmuTime;
use super::training::{TrainingPlan, consumed_tokens, kept_checkpoints};
use crate::hyper::ResolvedHyperParams;

/// Job status (spec §6.5); the last three are terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Pending,
    Queuing,
    Running,
    Canceling,
    Succeeded,
    Failed,
    Canceled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Pending => "PENDING",
            JobStatus::Queuing => "QUEUING",
            JobStatus::Running => "RUNNING",
            JobStatus::Canceling => "CANCELING",
            JobStatus::Succeeded => "SUCCEEDED",
            JobStatus::Failed => "FAILED",
            JobStatus::Canceled => "CANCELED",
        }
    }

    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Succeeded | JobStatus::Failed | JobStatus::Canceled
        )
    }
}

/// Export status of a checkpoint (spec §6.14).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportStatus {
    Pending,
    Processing,
    Succeeded,
}

impl ExportStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Pending => "PENDING",
            ExportStatus::Processing => "PROCESSING",
            ExportStatus::Succeeded => "SUCCEEDED",
        }
    }
}

/// One fine-tuning job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    /// `job_name` as given at create (spec §8.5); the job id when none was.
    #[serde(default)]
    pub job_name: Option<String>,
    /// `model_name` as given at create (spec §8.5), echoed in the record.
    #[serde(default)]
    pub model_name: Option<String>,
    /// Base model name.
    pub model: String,
    pub training_file_ids: Vec<String>,
    pub validation_file_ids: Vec<String>,
    /// The values the job trains with (defaults applied), echoed as `hyper_parameters`.
    pub hyper: ResolvedHyperParams,
    pub created: EmuTime,
    /// Set when the job takes the account's training slot and its data processing starts.
    pub run: Option<Run>,
    pub cancel_requested: Option<EmuTime>,
    /// Exports requested, by checkpoint step.
    pub exports: BTreeMap<u64, Export>,
    /// Set by the `job_fail_rate` fault: the job fails when its data processing ends.
    #[serde(default)]
    pub injected_failure: bool,
}

/// The part of a job decided when its data processing started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Run {
    pub started: EmuTime,
    pub outcome: DataOutcome,
}

/// What data processing concluded about the job's datasets.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum DataOutcome {
    /// The datasets have errors: the job fails, unbilled.
    Rejected {
        /// The first problems, one log line each (findings in the check format).
        problems: Vec<String>,
        /// Problems found beyond those listed.
        unlisted: usize,
    },
    /// Training goes ahead as planned.
    Accepted {
        plan: TrainingPlan,
        /// Prompts of the validation lines; every checkpoint previews one video per line.
        validation_prompts: Vec<String>,
        /// Set when some clips could not be billed (unknown duration), in the check format.
        billing_note: Option<String>,
    },
}

/// A requested checkpoint export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Export {
    /// The `model_name` given at export (`model_display_name`).
    pub display_name: String,
    pub requested: EmuTime,
}

/// Most training-progress lines one job logs: one per step up to this many steps, else one
/// every few steps. Real logs run to thousands of lines, which is why they are paged (§8.1).
const MAX_STEP_LINES: u64 = 2000;

/// A dated log line before formatting.
enum LogLine {
    Info(String),
    Error(String),
    /// Printed without timestamp or level, like the platform's token counters.
    Bare(String),
}

impl JobRecord {
    /// Name of the resulting model: `<base model>-<job_id>`.
    pub fn finetuned_output(&self) -> String {
        format!("{}-{}", self.model, self.job_id)
    }

    /// Deployable name of an exported checkpoint: `<finetuned_output>-c<step>`.
    pub fn exported_model_name(&self, step: u64) -> String {
        format!("{}-c{step}", self.finetuned_output())
    }

    /// Earliest instant the job may take the training slot.
    pub fn eligible_at(&self, timings: &Timings) -> EmuTime {
        self.created
            .plus(timings.job_pending)
            .plus(timings.job_queuing)
    }

    fn plan(&self) -> Option<&TrainingPlan> {
        match &self.run.as_ref()?.outcome {
            DataOutcome::Accepted { plan, .. } => Some(plan),
            DataOutcome::Rejected { .. } => None,
        }
    }

    fn data_processed_at(&self, timings: &Timings) -> Option<EmuTime> {
        Some(self.run.as_ref()?.started.plus(timings.data_processing))
    }

    /// Start of the training window (the end is `training` later).
    fn training_started_at(&self, timings: &Timings) -> Option<EmuTime> {
        self.plan()?;
        self.data_processed_at(timings)
    }

    /// When the job ends unless cancelled.
    fn natural_end(&self, timings: &Timings) -> Option<EmuTime> {
        let processed = self.data_processed_at(timings)?;
        Some(match self.plan() {
            Some(_) => processed.plus(timings.training).plus(timings.delivery),
            None => processed,
        })
    }

    /// When the job reaches (or reached) its terminal status, if that is decided yet.
    pub fn end_time(&self, timings: &Timings) -> Option<EmuTime> {
        match self.cancel_requested {
            Some(cancel) => Some(cancel.plus(timings.canceling)),
            None => self.natural_end(timings),
        }
    }

    pub fn status_at(&self, now: EmuTime, timings: &Timings) -> JobStatus {
        if let Some(cancel) = self.cancel_requested.filter(|c| now >= *c) {
            return if now < cancel.plus(timings.canceling) {
                JobStatus::Canceling
            } else {
                JobStatus::Canceled
            };
        }
        match (&self.run, self.natural_end(timings)) {
            (None, _) if now < self.created.plus(timings.job_pending) => JobStatus::Pending,
            (None, _) => JobStatus::Queuing,
            (Some(_), Some(end)) if now < end => JobStatus::Running,
            (Some(_), _) if self.plan().is_some() => JobStatus::Succeeded,
            (Some(_), _) => JobStatus::Failed,
        }
    }

    /// Training steps completed by `now`; progress stops when cancellation is requested.
    pub fn steps_done_at(&self, now: EmuTime, timings: &Timings) -> u64 {
        let (Some(plan), Some(start)) = (self.plan(), self.training_started_at(timings)) else {
            return 0;
        };
        let now = self.cancel_requested.map_or(now, |c| now.min(c));
        if now < start {
            return 0;
        }
        let training_ms = timings.training.as_millis();
        if training_ms == 0 {
            return plan.total_steps;
        }
        let elapsed_ms = now.since(start).as_millis().min(training_ms);
        (u128::from(plan.total_steps) * elapsed_ms / training_ms) as u64
    }

    /// The instant training completes `step`.
    fn step_reached_at(&self, step: u64, timings: &Timings) -> Option<EmuTime> {
        let plan = self.plan()?;
        let start = self.training_started_at(timings)?;
        let fraction = step as f64 / plan.total_steps.max(1) as f64;
        Some(start.plus_fraction(timings.training, fraction))
    }

    /// Checkpoints retained at `now` (the last `save_total_limit` of those saved), ascending.
    pub fn kept_checkpoints_at(&self, now: EmuTime, timings: &Timings) -> Vec<u64> {
        let Some(plan) = self.plan() else {
            return Vec::new();
        };
        let done = self.steps_done_at(now, timings);
        let reached: Vec<u64> = plan
            .checkpoint_steps
            .iter()
            .copied()
            .take_while(|s| *s <= done)
            .collect();
        kept_checkpoints(&reached, self.hyper.save_total_limit).to_vec()
    }

    /// When checkpoint `step` was saved (its `create_time`).
    pub fn checkpoint_saved_at(&self, step: u64, timings: &Timings) -> EmuTime {
        self.step_reached_at(step, timings).unwrap_or(self.created)
    }

    /// Training tokens consumed by `now`: the job's `usage` (0 for failed jobs).
    pub fn usage_at(&self, now: EmuTime, timings: &Timings) -> u64 {
        match self.plan() {
            Some(plan) => consumed_tokens(
                plan.tokens,
                self.steps_done_at(now, timings),
                plan.total_steps,
            ),
            None => 0,
        }
    }

    /// Prompts of the validation lines previewed at every checkpoint.
    pub fn validation_prompts(&self) -> &[String] {
        match self.run.as_ref().map(|r| &r.outcome) {
            Some(DataOutcome::Accepted {
                validation_prompts, ..
            }) => validation_prompts,
            _ => &[],
        }
    }

    pub fn export_status_at(
        &self,
        export: &Export,
        now: EmuTime,
        timings: &Timings,
    ) -> ExportStatus {
        let processing = export.requested.plus(timings.export_queue);
        if now < processing {
            ExportStatus::Pending
        } else if now < processing.plus(timings.export_run) {
            ExportStatus::Processing
        } else {
            ExportStatus::Succeeded
        }
    }

    /// The job log at `now` (spec §6.8): milestone lines in order, with running token counters.
    pub fn logs_at(&self, now: EmuTime, timings: &Timings) -> Vec<String> {
        let mut events = self.log_events(timings);
        if let Some(cancel) = self.cancel_requested {
            events.retain(|(at, _)| *at <= cancel);
            events.push((
                cancel,
                LogLine::Info("cancel requested, stopping the job".into()),
            ));
            events.push((
                cancel.plus(timings.canceling),
                LogLine::Info("finetune-job canceled".into()),
            ));
        }
        // Stable: lines logged at the same instant keep their order.
        events.sort_by_key(|(at, _)| *at);
        events
            .into_iter()
            .take_while(|(at, _)| *at <= now)
            .map(|(at, line)| match line {
                LogLine::Info(text) => format!("{} - INFO - {text}", at.log_format()),
                LogLine::Error(text) => format!("{} - ERROR - {text}", at.log_format()),
                LogLine::Bare(text) => text,
            })
            .collect()
    }

    /// Every line the job's run will log, dated.
    fn log_events(&self, timings: &Timings) -> Vec<(EmuTime, LogLine)> {
        let Some(run) = &self.run else {
            return Vec::new();
        };
        let processed = run.started.plus(timings.data_processing);
        let mut events = vec![(run.started, LogLine::Info("start to process data".into()))];
        match &run.outcome {
            DataOutcome::Rejected { problems, unlisted } => {
                let more = (*unlisted > 0).then(|| format!("… and {unlisted} more problems"));
                for problem in problems.iter().chain(&more) {
                    events.push((
                        processed,
                        LogLine::Error(format!("data process failed: {problem}")),
                    ));
                }
                events.push((processed, LogLine::Info("finetune-job failed".into())));
            }
            DataOutcome::Accepted {
                plan, billing_note, ..
            } => {
                events.push((
                    processed,
                    LogLine::Info(format!(
                        "{} training samples, {} validation samples, {} steps per epoch, {} steps, \
                         {} billable seconds of video",
                        plan.train_samples,
                        plan.validation_samples,
                        plan.steps_per_epoch,
                        plan.total_steps,
                        plan.billable_seconds
                    )),
                ));
                if let Some(note) = billing_note {
                    events.push((processed, LogLine::Info(note.clone())));
                }
                events.push((
                    processed,
                    LogLine::Info("data process succeeded, start to fine-tune".into()),
                ));
                let stride = plan.total_steps.div_ceil(MAX_STEP_LINES).max(1);
                let progress = (stride..plan.total_steps)
                    .step_by(usize::try_from(stride).unwrap_or(usize::MAX))
                    .chain(std::iter::once(plan.total_steps));
                for step in progress {
                    let at = self.step_reached_at(step, timings).unwrap_or(processed);
                    let epoch = step.div_ceil(plan.steps_per_epoch.max(1));
                    events.push((
                        at,
                        LogLine::Info(format!(
                            "step {step}/{}, epoch {epoch}/{}",
                            plan.total_steps, self.hyper.n_epochs
                        )),
                    ));
                }
                for step in &plan.checkpoint_steps {
                    let at = self.step_reached_at(*step, timings).unwrap_or(processed);
                    let tokens = consumed_tokens(plan.tokens, *step, plan.total_steps);
                    events.push((
                        at,
                        LogLine::Bare(format!(" Actual number of consumed tokens is {tokens} !")),
                    ));
                }
                let trained = processed.plus(timings.training);
                let delivered = trained.plus(timings.delivery);
                events.push((
                    trained,
                    LogLine::Bare(format!(
                        " use checkpoint-{} as final checkpoint",
                        plan.total_steps
                    )),
                ));
                events.push((
                    trained,
                    LogLine::Info(format!("training usage {}", plan.tokens)),
                ));
                let milestones = [
                    (
                        0.0,
                        "fine-tuned output got, start to transfer it for inference",
                    ),
                    (
                        1.0 / 3.0,
                        "transfer for inference succeeded, start to deliver it for inference",
                    ),
                    (2.0 / 3.0, "start to save checkpoint"),
                ];
                for (fraction, text) in milestones {
                    let at = trained.plus_fraction(timings.delivery, fraction);
                    events.push((at, LogLine::Info(text.into())));
                }
                events.push((delivered, LogLine::Info("finetune-job succeeded".into())));
                events.push((delivered, LogLine::Info("##FT_COMPLETE##".into())));
            }
        }
        events
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::HyperParams;
    use crate::models::find;
    use std::time::Duration;

    fn timings() -> Timings {
        Timings {
            job_pending: Duration::from_secs(10),
            job_queuing: Duration::from_secs(10),
            data_processing: Duration::from_secs(30),
            training: Duration::from_secs(100),
            delivery: Duration::from_secs(30),
            canceling: Duration::from_secs(10),
            ..Timings::default()
        }
    }

    fn job(outcome: Option<DataOutcome>) -> JobRecord {
        let model = find("wan2.5-i2v-preview").expect("known model");
        let hyper = HyperParams {
            n_epochs: Some(10),
            eval_epochs: Some(5),
            save_total_limit: Some(1),
            ..HyperParams::default()
        }
        .resolve(model);
        JobRecord {
            job_id: "ft-202501010000-abcd".into(),
            job_name: None,
            model_name: None,
            model: model.name.into(),
            training_file_ids: vec!["f".into()],
            validation_file_ids: vec![],
            hyper,
            created: EmuTime::from_millis(0),
            run: outcome.map(|outcome| Run {
                started: EmuTime::from_millis(20_000),
                outcome,
            }),
            cancel_requested: None,
            exports: BTreeMap::new(),
            injected_failure: false,
        }
    }

    fn accepted() -> DataOutcome {
        DataOutcome::Accepted {
            plan: TrainingPlan {
                train_samples: 20,
                validation_samples: 0,
                steps_per_epoch: 10,
                total_steps: 100,
                checkpoint_steps: vec![50, 100],
                billable_seconds: 100,
                tokens: 1000,
            },
            validation_prompts: vec![],
            billing_note: None,
        }
    }

    fn at(seconds: i64) -> EmuTime {
        EmuTime::from_millis(seconds * 1000)
    }

    #[test]
    fn status_follows_the_timeline() {
        let t = timings();
        let waiting = job(None);
        assert_eq!(waiting.status_at(at(5), &t), JobStatus::Pending);
        assert_eq!(waiting.status_at(at(500), &t), JobStatus::Queuing);
        let ok = job(Some(accepted()));
        // Started at 20 s: data until 50 s, training until 150 s, delivery until 180 s.
        assert_eq!(ok.status_at(at(100), &t), JobStatus::Running);
        assert_eq!(ok.status_at(at(180), &t), JobStatus::Succeeded);
        assert_eq!(ok.end_time(&t), Some(at(180)));
        let bad = job(Some(DataOutcome::Rejected {
            problems: vec!["J001 data.jsonl: no data.jsonl".into()],
            unlisted: 0,
        }));
        assert_eq!(bad.status_at(at(49), &t), JobStatus::Running);
        assert_eq!(bad.status_at(at(50), &t), JobStatus::Failed);
        assert_eq!(bad.usage_at(at(50), &t), 0);
    }

    #[test]
    fn progress_checkpoints_and_usage() {
        let t = timings();
        let ok = job(Some(accepted()));
        assert_eq!(ok.steps_done_at(at(50), &t), 0);
        assert_eq!(ok.steps_done_at(at(100), &t), 50);
        assert_eq!(ok.kept_checkpoints_at(at(99), &t), Vec::<u64>::new());
        assert_eq!(ok.kept_checkpoints_at(at(100), &t), vec![50]);
        // save_total_limit 1: the final checkpoint replaces the first.
        assert_eq!(ok.kept_checkpoints_at(at(150), &t), vec![100]);
        assert_eq!(ok.usage_at(at(75), &t), 250);
        assert_eq!(ok.usage_at(at(999), &t), 1000);
    }

    #[test]
    fn rejected_jobs_log_each_problem_and_count_the_rest() {
        let t = timings();
        let bad = job(Some(DataOutcome::Rejected {
            problems: vec!["S001 <dataset>: 4 training sample(s)".into()],
            unlisted: 7,
        }));
        let logs = bad.logs_at(at(999), &t);
        let errors: Vec<&str> = logs
            .iter()
            .filter_map(|l| l.split_once(" - ERROR - ").map(|(_, text)| text))
            .collect();
        assert_eq!(
            errors,
            [
                "data process failed: S001 <dataset>: 4 training sample(s)",
                "data process failed: … and 7 more problems"
            ]
        );
        assert!(
            logs.last()
                .is_some_and(|l| l.ends_with("finetune-job failed"))
        );
    }

    #[test]
    fn cancellation_freezes_progress() {
        let t = timings();
        let mut ok = job(Some(accepted()));
        ok.cancel_requested = Some(at(75));
        assert_eq!(ok.status_at(at(80), &t), JobStatus::Canceling);
        assert_eq!(ok.status_at(at(85), &t), JobStatus::Canceled);
        assert_eq!(ok.usage_at(at(999), &t), 250);
        assert_eq!(ok.end_time(&t), Some(at(85)));
        let logs = ok.logs_at(at(999), &t);
        assert_eq!(
            logs.last().map(|l| l.ends_with("finetune-job canceled")),
            Some(true)
        );
        assert!(!logs.iter().any(|l| l.contains("##FT_COMPLETE##")));
    }

    #[test]
    fn logs_carry_milestones_in_order() {
        let t = timings();
        let logs = job(Some(accepted())).logs_at(at(999), &t);
        let position = |needle: &str| {
            logs.iter()
                .position(|l| l.contains(needle))
                .unwrap_or_else(|| panic!("missing `{needle}` in {logs:#?}"))
        };
        let order = [
            "data process succeeded, start to fine-tune",
            " Actual number of consumed tokens is 500 !",
            " Actual number of consumed tokens is 1000 !",
            "fine-tuned output got, start to transfer it for inference",
            "transfer for inference succeeded, start to deliver it for inference",
            "start to save checkpoint",
            "finetune-job succeeded",
            "##FT_COMPLETE##",
        ];
        let positions: Vec<usize> = order.iter().map(|n| position(n)).collect();
        assert!(positions.windows(2).all(|w| w[0] < w[1]), "{logs:#?}");
        assert!(
            logs[0].starts_with("1970-01-01 00:00:20,000 - INFO - "),
            "{}",
            logs[0]
        );
        assert_eq!(
            logs[position("consumed tokens is 500")],
            " Actual number of consumed tokens is 500 !"
        );
        // Halfway through training only the first counter is out.
        let partial = job(Some(accepted())).logs_at(at(100), &t);
        assert!(partial.iter().any(|l| l.contains("is 500 !")));
        assert!(!partial.iter().any(|l| l.contains("is 1000 !")));
    }
}
