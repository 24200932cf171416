//! The facts a plan takes from datasets on disk: training clips with their durations and the
//! size of the validation set, read by the [`check`](crate::check) pipeline.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::Clip;
use crate::check::{self, CheckError, CheckOptions};
use crate::dataset::{Mode, ModeChoice, Role};
use crate::hyper::ResolvedHyperParams;
use crate::models::{ModelProfile, TaskType};
use crate::progress::Progress;
use crate::rules::selection::relative_label;
use crate::rules::{Finding, RuleSelection, Severity};

/// How to read the datasets.
pub struct DatasetOptions<'a> {
    pub model: &'static ModelProfile,
    /// The task, when known (`[dataset] mode`); otherwise inferred from the lines.
    pub task: Option<TaskType>,
    pub trigger: Option<String>,
    /// The job's hyper-parameters (`max_pixels` and the split rules depend on them).
    pub hyper: &'a ResolvedHyperParams,
    /// The rule configuration, and the folder dataset paths are named relative to (per-path
    /// ignores and the baseline match those names); `None`: every rule as the platform judges.
    pub rules: Option<(Arc<RuleSelection>, &'a Path)>,
    pub progress: &'a dyn Progress,
}

/// One dataset as checked: enough to say whether `wanft check` has something to report.
#[derive(Debug, Clone, Serialize)]
pub struct DatasetSummary {
    pub path: PathBuf,
    pub role: Role,
    pub samples: usize,
    pub errors: usize,
    pub warnings: usize,
    /// Its errors and warnings, in report order (the platform rejects a dataset with errors, so
    /// a plan of it is not ready).
    #[serde(skip)]
    pub findings: Vec<Finding>,
}

/// What the plan needs from the datasets.
#[derive(Debug, Clone)]
pub struct Datasets {
    /// Clips of every training set, in order. With several sets, each path is prefixed with
    /// its set's file name so that equal names stay apart.
    pub training: Vec<Clip>,
    /// Samples of the validation sets; `None` when there is none (automatic split).
    pub validation_count: Option<usize>,
    pub summaries: Vec<DatasetSummary>,
}

/// Checks every training and validation set and collects what the plan needs.
pub fn read(
    training: &[&Path],
    validation: &[&Path],
    options: &DatasetOptions,
) -> Result<Datasets, CheckError> {
    let check_options = |path: &Path, role: Role| CheckOptions {
        mode: match (options.task, role) {
            (Some(task), role) => Some(ModeChoice::Exact(Mode { task, role })),
            (None, Role::Validation) => Some(ModeChoice::Validation),
            (None, Role::Training) => None,
        },
        trigger: options.trigger.clone(),
        validation_given: !validation.is_empty(),
        rules: options
            .rules
            .as_ref()
            .map(|(selection, _)| selection.clone()),
        dataset_label: options
            .rules
            .as_ref()
            .map(|(_, project)| relative_label(path, project)),
        progress: options.progress,
        ..CheckOptions::for_job(options.model, options.hyper)
    };

    let mut datasets = Datasets {
        training: Vec::new(),
        validation_count: None,
        summaries: Vec::new(),
    };
    let prefix_names = training.len() > 1;
    for path in training {
        let report = check::run(path, &check_options(path, Role::Training))?;
        let prefix = match path.file_name() {
            Some(name) if prefix_names => format!("{}/", name.to_string_lossy()),
            _ => String::new(),
        };
        datasets
            .training
            .extend(report.clips().into_iter().map(|clip| Clip {
                path: format!("{prefix}{}", clip.path),
                ..clip
            }));
        datasets
            .summaries
            .push(summary(path, Role::Training, &report));
    }
    for path in validation {
        let report = check::run(path, &check_options(path, Role::Validation))?;
        *datasets.validation_count.get_or_insert(0) += report.summary.samples;
        datasets
            .summaries
            .push(summary(path, Role::Validation, &report));
    }
    Ok(datasets)
}

fn summary(path: &Path, role: Role, report: &check::CheckReport) -> DatasetSummary {
    DatasetSummary {
        path: path.to_owned(),
        role,
        samples: report.summary.samples,
        errors: report.findings.count(Severity::Error),
        warnings: report.findings.count(Severity::Warning),
        findings: report
            .findings
            .iter()
            .filter(|f| f.severity != Severity::Info)
            .cloned()
            .collect(),
    }
}
