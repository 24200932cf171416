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
