//! `S` rules: sample counts and the size of the upload.

use super::{Rule, Severity::*};

pub const TOO_FEW: Rule = Rule {
    code: "S001",
    name: "too-few-samples",
    severity: Error,
    summary: "Fewer than 10 training samples.",
    why: "The platform requires at least 10 training samples.",
    fix: "Add samples; 20–100 are recommended.",
};

pub const FEW: Rule = Rule {
    code: "S002",
    name: "few-samples",
    severity: Warning,
    summary: "10 to 19 training samples.",
    why: "Accepted, but 20–100 samples are recommended for a LoRA that generalises.",
    fix: "Add samples with varied subjects and compositions.",
};

pub const MANY: Rule = Rule {
    code: "S003",
    name: "many-samples",
    severity: Info,
    summary: "More than 100 training samples.",
    why: "No maximum is stated, but more samples cost more tokens per epoch; 20–100 is the \
          recommended range.",
    fix: "Nothing is required; `wanft plan` shows what the extra samples cost.",
};

pub const FEW_AFTER_SPLIT: Rule = Rule {
    code: "S004",
    name: "few-after-split",
    severity: Warning,
    summary: "After the automatic validation split, fewer than 10 samples remain for training.",
    why: "Without a validation zip the platform moves up to 5 samples to validation (split, \
          max_split_val_dataset_sample).",
    fix: "Add samples, or supply a validation set so that no training sample is split off.",
};

pub const ZIP_TOO_LARGE: Rule = Rule {
    code: "S005",
    name: "zip-too-large",
    severity: Error,
    summary: "The upload zip is larger than 1 GB (1,073,741,824 bytes).",
    why: "The file API refuses uploads above 1 GB.",
    fix: "Downscale or trim clips (`wanft pack --fix`), or split the samples over several zips.",
};

pub const ZIP_NEAR_LIMIT: Rule = Rule {
    code: "S006",
    name: "zip-near-limit",
    severity: Warning,
    summary: "The upload zip is larger than 1,000,000,000 bytes, close to the 1 GB limit.",
    why: "Whether the limit is 10^9 bytes or 1 GiB is not stated; between the two the upload may \
          be refused.",
    fix: "Keep the zip under 10^9 bytes (`wanft pack --fix` downscales clips above max_pixels).",
};

pub const RULES: &[&Rule] = &[
    &TOO_FEW,
    &FEW,
    &MANY,
    &FEW_AFTER_SPLIT,
    &ZIP_TOO_LARGE,
    &ZIP_NEAR_LIMIT,
];

use crate::check::{Context, PackPlan};
use crate::dataset::{Role, SourceKind};
use crate::rules::{Finding, Findings, Location};
use crate::split::auto_split;

/// Fewest training samples the platform accepts.
pub const MIN_SAMPLES: usize = 10;
/// Below this many, a warning (20–100 recommended).
pub const RECOMMENDED_MIN: usize = 20;
/// Above this many, an info.
pub const RECOMMENDED_MAX: usize = 100;
/// The upload limit: 1 GB as the file API counts it (1 GiB).
pub const ZIP_LIMIT: u64 = 1_073_741_824;
/// Above this, a warning: "1 GB" may mean 10^9 bytes.
pub const ZIP_WARN: u64 = 1_000_000_000;

/// Sample counts and the size of the upload.
pub fn check(cx: &Context, plan: &PackPlan, findings: &mut Findings) {
    let dataset = cx.dataset;
    let n = dataset.samples.len();
    if dataset.mode.role == Role::Training && n > 0 {
        if n < MIN_SAMPLES {
            findings.push(Finding::new(
                &TOO_FEW,
                Location::dataset(),
                format!("{n} training sample(s); at least {MIN_SAMPLES} are required"),
            ));
        } else if n < RECOMMENDED_MIN {
            findings.push(Finding::new(
                &FEW,
                Location::dataset(),
                format!(
                    "{n} training samples; {RECOMMENDED_MIN}–{RECOMMENDED_MAX} are recommended"
                ),
            ));
        } else if n > RECOMMENDED_MAX {
            findings.push(Finding::new(
                &MANY,
                Location::dataset(),
                format!(
                    "{n} training samples; {RECOMMENDED_MIN}–{RECOMMENDED_MAX} are recommended"
                ),
            ));
        }
        if n >= MIN_SAMPLES && !cx.options.validation_given {
            let (train, val) = auto_split(n as u64, cx.options.split, cx.options.max_split_val);
            if (train as usize) < MIN_SAMPLES {
                findings.push(Finding::new(
                    &FEW_AFTER_SPLIT,
                    Location::dataset(),
                    format!(
                        "the automatic split moves {val} of {n} samples to validation, leaving {train} for training"
                    ),
                ));
            }
        }
    }
    let (size, what) = match dataset.source.kind() {
        SourceKind::Zip => (dataset.source.archive_len().unwrap_or(0), "the zip is"),
        SourceKind::Folder => (plan.archive_size(), "the packed zip will be"),
    };
    let (rule, limit) = if size > ZIP_LIMIT {
        (&ZIP_TOO_LARGE, ZIP_LIMIT)
    } else if size > ZIP_WARN {
        (&ZIP_NEAR_LIMIT, ZIP_WARN)
    } else {
        return;
    };
    let mut biggest: Vec<_> = plan.media.iter().map(|(m, _)| m).collect();
    biggest.sort_by_key(|m| std::cmp::Reverse(m.compressed_size));
    let top: Vec<String> = biggest
        .iter()
        .take(3)
        .map(|m| {
            format!(
                "{} ({})",
                m.name,
                crate::report::human_bytes(m.compressed_size)
            )
        })
        .collect();
    findings.push(Finding::new(
        rule,
        Location::dataset(),
        format!(
            "{what} {size} bytes, over {limit}; largest files: {}",
            top.join(", ")
        ),
    ));
}
