//! The facts a plan takes from datasets on disk: training clips with their durations and the
//! size of the validation set, read by the [`check`](crate::check) pipeline.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Clip;
use super::split::split_decimal;
use crate::check::{self, CheckError, CheckOptions};
use crate::dataset::{Mode, ModeChoice, Role};
use crate::hyper::ResolvedHyperParams;
use crate::media::MediaInfo;
use crate::models::{ModelProfile, TaskType};
use crate::progress::Progress;
use crate::rules::Severity;

/// How to read the datasets.
pub struct DatasetOptions<'a> {
    pub model: &'static ModelProfile,
    /// The task, when known (`[dataset] mode`); otherwise inferred from the lines.
    pub task: Option<TaskType>,
    pub trigger: Option<String>,
    /// The job's hyper-parameters (`max_pixels` and the split rules depend on them).
    pub hyper: &'a ResolvedHyperParams,
    pub progress: &'a dyn Progress,
}

/// One dataset as checked: enough to say whether `wanft check` has something to report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DatasetSummary {
    pub path: PathBuf,
    pub role: Role,
    pub samples: usize,
    pub errors: usize,
    pub warnings: usize,
}

/// What the plan needs from the datasets.
#[derive(Debug, Clone, PartialEq)]
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
    let check_options = |role: Role| CheckOptions {
        model: options.model,
        mode: match (options.task, role) {
            (Some(task), role) => Some(ModeChoice::Exact(Mode { task, role })),
            (None, Role::Validation) => Some(ModeChoice::Validation),
            (None, Role::Training) => None,
        },
        trigger: options.trigger.clone(),
        max_pixels: Some(u64::from(options.hyper.max_pixels)),
        split: split_decimal(options.hyper.split),
        max_split_val: u64::from(options.hyper.max_split_val_dataset_sample),
        validation_given: !validation.is_empty(),
        deep: false,
        progress: options.progress,
    };

    let mut datasets = Datasets {
        training: Vec::new(),
        validation_count: None,
        summaries: Vec::new(),
    };
    let prefix_names = training.len() > 1;
    for path in training {
        let report = check::run(path, &check_options(Role::Training))?;
        let prefix = match path.file_name() {
            Some(name) if prefix_names => format!("{}/", name.to_string_lossy()),
            _ => String::new(),
        };
        datasets
            .training
            .extend(sample_clips(&report).map(|clip| Clip {
                path: format!("{prefix}{}", clip.path),
                ..clip
            }));
        datasets
            .summaries
            .push(summary(path, Role::Training, &report));
    }
    for path in validation {
        let report = check::run(path, &check_options(Role::Validation))?;
        *datasets.validation_count.get_or_insert(0) += report.summary.samples;
        datasets
            .summaries
            .push(summary(path, Role::Validation, &report));
    }
    Ok(datasets)
}

/// One clip per training sample, in sample order. Unlike [`check::CheckReport::clips`] (each
/// file once, resolved files only), a clip that two lines share counts twice and an unresolved
/// one counts with an unknown duration: steps are counted per sample, and a missing file must
/// make the fee a lower bound rather than vanish from it.
fn sample_clips(report: &check::CheckReport) -> impl Iterator<Item = Clip> + '_ {
    report
        .references
        .iter()
        .filter(|r| r.field.wants_video())
        .map(|r| Clip {
            path: r.entry.clone().unwrap_or_else(|| r.written.clone()),
            duration_s: r
                .entry
                .as_deref()
                .and_then(|entry| report.media.get(entry))
                .and_then(|probed| match &probed.result {
                    Ok(MediaInfo::Video(video)) => video.duration_s,
                    _ => None,
                }),
        })
}

fn summary(path: &Path, role: Role, report: &check::CheckReport) -> DatasetSummary {
    DatasetSummary {
        path: path.to_owned(),
        role,
        samples: report.summary.samples,
        errors: report.findings.count(Severity::Error),
        warnings: report.findings.count(Severity::Warning),
    }
}
