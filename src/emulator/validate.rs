//! Data processing: a job's datasets judged by the crate's rule engine, exactly as `wanft check`
//! judges them (design: "what passes locally passes the emulator").
//!
//! Every zip of the job goes through [`check::run`] with the job's model, the mode its role and
//! task imply, and the job's `max_pixels` and split settings. Any error-severity finding fails the
//! job, unbilled, and its log names the findings in the check format (`CODE file:line: message`).
//! Otherwise the job trains on the samples found: the probed clip durations are billed, and the
//! samples' prompts become the validation previews.

use std::path::Path;

use super::job::{DataOutcome, JobRecord};
use super::state::FileRecord;
use super::training::TrainingPlan;
use crate::check::{self, CheckError, CheckOptions, CheckReport, Clip};
use crate::dataset::{Mode, ModeChoice, Role, SourceError};
use crate::models::{self, ModelProfile};
use crate::plan::{self, ClipBilling};
use crate::rules::{self, Finding, Location, Severity};

/// Problems a failed job's log lists one by one; the rest are counted.
const LISTED_PROBLEMS: usize = 20;

/// A finding in the check format: `CODE file:line: message` (`<dataset>` for the whole set).
fn check_line(finding: &Finding) -> String {
    format!(
        "{} {}: {}",
        finding.rule.code, finding.location, finding.message
    )
}

/// Runs data processing for `job`, whose files are stored under `blob_dir`.
pub fn process_data(job: &JobRecord, files: &[FileRecord], blob_dir: &Path) -> DataOutcome {
    let Some(model) = models::find(&job.model) else {
        return DataOutcome::Rejected {
            problems: vec![format!("unknown model {}", job.model)],
            unlisted: 0,
        };
    };
    let mut data = JobData::default();
    let datasets = job
        .training_file_ids
        .iter()
        .map(|id| (id, Role::Training))
        .chain(
            job.validation_file_ids
                .iter()
                .map(|id| (id, Role::Validation)),
        );
    for (file_id, role) in datasets {
        let label = format!("{} file {file_id}", role_name(role));
        let Some(file) = files.iter().find(|f| &f.id == file_id) else {
            data.problem(|| format!("{label} no longer exists"));
            continue;
        };
        let label = format!("{label} ({})", file.filename);
        match judge(job, model, role, &blob_dir.join(&file.id)) {
            Ok(report) => data.add(job, role, &label, &report),
            Err(problem) => data.problem(|| format!("{label}: {problem}")),
        }
    }
    if job.training_file_ids.len() > 1 && data.training_samples < rules::size::MIN_SAMPLES {
        let finding = Finding::new(
            &rules::size::TOO_FEW,
            Location::dataset(),
            format!(
                "{} training sample(s) in {} training files together; at least {} are required",
                data.training_samples,
                job.training_file_ids.len(),
                rules::size::MIN_SAMPLES
            ),
        );
        data.problem(|| check_line(&finding));
    }
    if data.problems.is_empty() && job.injected_failure {
        data.problem(|| "internal error (injected by the job_fail_rate fault)".into());
    }
    data.into_outcome(job, model)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Training => "training",
        Role::Validation => "validation",
    }
}

/// Checks one stored zip as a dataset of `job` in `role`.
fn judge(
    job: &JobRecord,
    model: &'static ModelProfile,
    role: Role,
    path: &Path,
) -> Result<CheckReport, String> {
    let mode = Mode {
        task: job.hyper.task(model),
        role,
    };
    let options = CheckOptions {
        mode: Some(ModeChoice::Exact(mode)),
        validation_given: !job.validation_file_ids.is_empty(),
        ..CheckOptions::for_job(model, &job.hyper)
    };
    check::run(path, &options).map_err(|error| match error {
        CheckError::Source(SourceError::BadZip { reason, .. }) => {
            format!("not a readable zip archive: {reason}")
        }
        // The other errors name the emulator's own storage path, which means nothing to a
        // client.
        _ => "the stored file cannot be read".into(),
    })
}

/// What the datasets of a job hold, gathered zip by zip.
#[derive(Default)]
struct JobData {
    /// The first [`LISTED_PROBLEMS`] problems, worded for the log.
    problems: Vec<String>,
    /// Problems beyond those.
    unlisted: usize,
    training_samples: usize,
    training_prompts: Vec<String>,
    validation_samples: usize,
    validation_prompts: Vec<String>,
    /// One clip per training sample, zip by zip.
    clips: Vec<Clip>,
}

impl JobData {
    /// Records a problem, worded only if it is listed.
    fn problem(&mut self, describe: impl FnOnce() -> String) {
        if self.problems.len() < LISTED_PROBLEMS {
            self.problems.push(describe());
        } else {
            self.unlisted += 1;
        }
    }

    /// Takes in the check of one zip, labelled `label` in problems.
    fn add(&mut self, job: &JobRecord, role: Role, label: &str, report: &CheckReport) {
        // With several training zips the sample count is judged on their union, afterwards.
        let per_zip_count_applies = job.training_file_ids.len() == 1;
        let errors = report.findings.iter().filter(|f| {
            f.severity == Severity::Error
                && (per_zip_count_applies || f.rule != &rules::size::TOO_FEW)
        });
        for finding in errors {
            self.problem(|| format!("{label}: {}", check_line(finding)));
        }
        // Findings beyond the per-rule cap are only counted by the check.
        let kept = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count();
        self.unlisted += report.findings.count(Severity::Error) - kept;
        let prompts = report
            .dataset
            .samples
            .iter()
            .map(|sample| sample.prompt.text().unwrap_or_default().to_owned());
        match role {
            Role::Training => {
                self.training_samples += report.dataset.samples.len();
                self.training_prompts.extend(prompts);
                self.clips.extend(report.clips());
            }
            Role::Validation => {
                self.validation_samples += report.dataset.samples.len();
                self.validation_prompts.extend(prompts);
            }
        }
    }

    /// The verdict: rejected with the problems found, or accepted with a training plan.
    fn into_outcome(mut self, job: &JobRecord, model: &ModelProfile) -> DataOutcome {
        if !self.problems.is_empty() || self.unlisted > 0 {
            return DataOutcome::Rejected {
                problems: self.problems,
                unlisted: self.unlisted,
            };
        }
        let validation = (!job.validation_file_ids.is_empty()).then_some(self.validation_samples);
        let billed: Vec<ClipBilling> = self
            .clips
            .iter()
            .map(|clip| plan::bill(clip, model.max_clip_seconds))
            .collect();
        let plan = match TrainingPlan::new(&job.hyper, self.training_samples, validation, &billed) {
            Ok(plan) => plan,
            Err(problem) => {
                return DataOutcome::Rejected {
                    problems: vec![problem],
                    unlisted: 0,
                };
            }
        };
        if validation.is_none() {
            // Auto-split: the last lines of the training data become the validation set.
            let split_at = self
                .training_prompts
                .len()
                .saturating_sub(plan.validation_samples);
            self.validation_prompts = self.training_prompts.split_off(split_at);
        }
        // A clip can be readable yet of unknown length (a warning for `wanft check`): it bills
        // 0 s, as `wanft plan` counts it, and the log says so.
        let unknown: Vec<&str> = billed
            .iter()
            .filter(|clip| clip.billable_s.is_none())
            .map(|clip| clip.path.as_str())
            .collect();
        DataOutcome::Accepted {
            plan,
            validation_prompts: self.validation_prompts,
            billing_note: rules::hyper::durations_unknown(&unknown).map(|f| check_line(&f)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_lines_name_code_place_and_message() {
        let line = Finding::new(
            &rules::manifest::MISSING,
            Location::line("data.jsonl", 3).with_column(7),
            "oops",
        );
        assert_eq!(check_line(&line), "J001 data.jsonl:3:7: oops");
        let whole = Finding::new(&rules::size::TOO_FEW, Location::dataset(), "4 samples");
        assert_eq!(check_line(&whole), "S001 <dataset>: 4 samples");
    }
}
