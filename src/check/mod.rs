//! `check`: load a dataset, probe its media, run every rule, summarise.
//!
//! The same entry point serves `wanft check`, the pre-flight of `pack` and `upload`, `plan`
//! (for clip durations) and the emulator's data processing, so that what passes here passes
//! everywhere.

mod probe;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::dataset::{Dataset, Mode, ModeChoice, Role, SourceError, SourceKind};
use crate::media::ffmpeg::Ffmpeg;
use crate::media::{MediaError, MediaInfo};
use crate::models::ModelProfile;
use crate::pack::layout::{self, PlannedMember};
use crate::progress::{Progress, Silent};
use crate::rules::paths::References;
use crate::rules::{self, Findings, RuleSelection};
use crate::split;

pub use probe::{Probed, probe_all};

/// What to check a dataset against.
pub struct CheckOptions<'a> {
    pub model: &'static ModelProfile,
    /// Force the mode instead of inferring it from the fields.
    pub mode: Option<ModeChoice>,
    /// The trigger word every prompt must contain, if known.
    pub trigger: Option<String>,
    /// The effect sentence every prompt must end with (a validation set is held to its
    /// training set's: [`CheckReport::effect_sentence`]); inferred from the prompts when unset.
    pub effect: Option<String>,
    /// `max_pixels` the job will use (defaults to the model's).
    pub max_pixels: Option<u64>,
    /// `split` and `max_split_val_dataset_sample`, for the post-split sample count.
    pub split: Decimal,
    pub max_split_val: u64,
    /// True when a separate validation set will be supplied (no automatic split).
    pub validation_given: bool,
    /// Also decode every stream with ffmpeg.
    pub deep: bool,
    /// With `deep`: the `D` rules' thresholds, report pictures, the training set's frames.
    pub analysis: crate::deep::Options,
    /// Rule configuration (select, ignore, per-path ignores, severities, baseline); `None`:
    /// every rule at its own severity, as the platform and the emulator judge.
    pub rules: Option<Arc<RuleSelection>>,
    /// The dataset's path relative to the project, `/`-separated: what per-path ignores and
    /// baselines match.
    pub dataset_label: Option<String>,
    pub progress: &'a dyn Progress,
}

impl CheckOptions<'_> {
    /// Defaults for `model`: inferred mode, no trigger, model defaults, no deep decode.
    pub fn new(model: &'static ModelProfile) -> CheckOptions<'static> {
        CheckOptions {
            model,
            mode: None,
            trigger: None,
            effect: None,
            max_pixels: None,
            split: split::DEFAULT_SPLIT,
            max_split_val: split::DEFAULT_MAX_VAL,
            validation_given: false,
            deep: false,
            analysis: crate::deep::Options::default(),
            rules: None,
            dataset_label: None,
            progress: &Silent,
        }
    }

    /// Options for checking a dataset that a job with these hyper-parameters will train on.
    pub fn for_job(
        model: &'static ModelProfile,
        hyper: &crate::hyper::ResolvedHyperParams,
    ) -> CheckOptions<'static> {
        CheckOptions {
            max_pixels: Some(u64::from(hyper.max_pixels)),
            split: crate::plan::split::split_decimal(hyper.split),
            max_split_val: u64::from(hyper.max_split_val_dataset_sample),
            ..CheckOptions::new(model)
        }
    }

    pub fn effective_max_pixels(&self) -> u64 {
        self.max_pixels.unwrap_or(self.model.max_pixels_default)
    }
}

/// Everything the rules look at.
pub struct Context<'a> {
    pub dataset: &'a Dataset,
    pub options: &'a CheckOptions<'a>,
    pub references: &'a References,
    pub media: &'a BTreeMap<String, Probed>,
}

impl Context<'_> {
    /// The probe result of a dataset entry, if it was probed.
    pub fn media_of(&self, entry: &str) -> Option<&Result<MediaInfo, MediaError>> {
        self.media.get(entry).map(|p| &p.result)
    }
}

/// One clip, as `plan` and the emulator need it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Clip {
    /// Dataset-relative name.
    pub path: String,
    /// Seconds, when the header could be read.
    pub duration_s: Option<f64>,
}

/// The outcome of a check.
pub struct CheckReport {
    pub dataset: Dataset,
    pub references: References,
    pub media: BTreeMap<String, Probed>,
    pub findings: Findings,
    pub summary: Summary,
    /// The members `pack` would write, in order, with data.jsonl's encoded bytes.
    pub pack_plan: PackPlan,
    /// The effect sentence the prompts were held to, if one was given or found.
    pub effect_sentence: Option<String>,
    /// With `--deep`: what the decoded pictures showed.
    pub deep: Option<crate::deep::DeepReport>,
}

/// What `pack` would write for this dataset.
#[derive(Debug, Clone)]
pub struct PackPlan {
    pub manifest: PlannedMember,
    /// Encoded data.jsonl, as it will be stored.
    pub manifest_data: Vec<u8>,
    /// The media members, sorted by name, with the source entry each comes from.
    pub media: Vec<(PlannedMember, String)>,
}

impl PackPlan {
    /// Members in archive order: data.jsonl first, then media by name.
    pub fn members(&self) -> Vec<PlannedMember> {
        std::iter::once(self.manifest.clone())
            .chain(self.media.iter().map(|(m, _)| m.clone()))
            .collect()
    }

    /// Exact size of the zip `pack` would write.
    pub fn archive_size(&self) -> u64 {
        layout::archive_size(&self.members())
    }
}

/// The one-line summary of a check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub source: SourceKind,
    pub mode: Mode,
    pub mode_inferred: bool,
    pub model: &'static str,
    pub samples: usize,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
    /// Findings the rule configuration hid (select, ignore, per-path ignores, baseline).
    pub suppressed: usize,
    pub videos: usize,
    pub images: usize,
    /// Sum of the readable clip durations, in seconds.
    pub total_duration_s: f64,
    /// Size of the zip: the file's own size for a zip source, else the exact size `pack` will
    /// produce.
    pub zip_size: u64,
    /// For zip sources: what `pack` would rebuild it to.
    pub repacked_size: u64,
}

impl CheckReport {
    /// One clip per training sample, in sample order, with its duration. A clip that two lines
    /// share counts twice and an unresolved one counts with an unknown duration: steps and
    /// billing are per sample, and a missing file must make the fee a lower bound rather than
    /// vanish from it.
    pub fn clips(&self) -> Vec<Clip> {
        self.references
            .iter()
            .filter(|r| r.field.wants_video())
            .map(|r| Clip {
                path: r.entry.clone().unwrap_or_else(|| r.written.clone()),
                duration_s: r
                    .entry
                    .as_deref()
                    .and_then(|entry| self.media.get(entry))
                    .and_then(|probed| match &probed.result {
                        Ok(MediaInfo::Video(video)) => video.duration_s,
                        _ => None,
                    }),
            })
            .collect()
    }

    /// True when any error was found.
    pub fn has_errors(&self) -> bool {
        self.findings.has_errors()
    }
}

/// Why a check could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum CheckError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(
        "--deep decodes every file with ffmpeg, which is not installed (apt-get install ffmpeg, or set WANFT_FFMPEG)"
    )]
    NoFfmpeg,
}

/// Checks the dataset at `path` (a folder or a .zip).
pub fn run(path: &Path, options: &CheckOptions) -> Result<CheckReport, CheckError> {
    let ffmpeg = match options.deep {
        true => Some(Ffmpeg::find().ok_or(CheckError::NoFfmpeg)?),
        false => None,
    };
    let mut findings = match &options.rules {
        Some(selection) => Findings::scoped(selection.clone(), options.dataset_label.clone()),
        None => Findings::new(),
    };
    let dataset = Dataset::load(
        path,
        options.mode,
        options.model.default_task(),
        &mut findings,
    )?;
    rules::archive::check(&dataset.source, &mut findings);
    let references = rules::paths::check(&dataset, &mut findings);
    let media = probe_all(&dataset, &references, options.progress);
    let cx = Context {
        dataset: &dataset,
        options,
        references: &references,
        media: &media,
    };
    rules::manifest::check(&cx, &mut findings);
    rules::media::check(&cx, &mut findings);
    let deep = ffmpeg
        .as_ref()
        .map(|ffmpeg| probe::deep_check(&cx, ffmpeg, &mut findings));
    // Every member read whole so far had its CRC-32 checked; the damaged ones are reported.
    rules::archive::check_damage(&dataset.source, &mut findings);
    let effect_sentence = rules::prompts::check(&cx, &mut findings);
    let pack_plan = pack_plan(&dataset, &references);
    rules::size::check(&cx, &pack_plan, &mut findings);
    findings.finish();
    let summary = summarize(&dataset, options, &media, &findings, &pack_plan);
    Ok(CheckReport {
        dataset,
        references,
        media,
        findings,
        summary,
        pack_plan,
        effect_sentence,
        deep,
    })
}

/// data.jsonl as `pack` writes it (known fields only, paths normalised), then every referenced
/// file once.
fn pack_plan(dataset: &Dataset, references: &References) -> PackPlan {
    let manifest_bytes = dataset.normalized_manifest();
    let (manifest, manifest_data) = layout::text_member(crate::dataset::MANIFEST, &manifest_bytes);
    let mut media: BTreeMap<String, (PlannedMember, String)> = BTreeMap::new();
    for r in references.iter() {
        let Some(entry_name) = &r.entry else { continue };
        let Some(entry) = dataset.source.get(entry_name) else {
            continue;
        };
        let member = crate::dataset::member_name(&r.written);
        media.entry(member.clone()).or_insert_with(|| {
            (
                PlannedMember::stored(member, entry.size),
                entry_name.clone(),
            )
        });
    }
    PackPlan {
        manifest,
        manifest_data,
        media: media.into_values().collect(),
    }
}

fn summarize(
    dataset: &Dataset,
    options: &CheckOptions,
    media: &BTreeMap<String, Probed>,
    findings: &Findings,
    plan: &PackPlan,
) -> Summary {
    let mut videos = 0;
    let mut images = 0;
    let mut total = 0.0;
    for p in media.values() {
        match &p.result {
            Ok(MediaInfo::Video(v)) => {
                videos += 1;
                total += v.duration_s.unwrap_or(0.0);
            }
            Ok(MediaInfo::Image(_)) => images += 1,
            Err(_) => {}
        }
    }
    let repacked_size = plan.archive_size();
    Summary {
        source: dataset.source.kind(),
        mode: dataset.mode,
        mode_inferred: dataset.mode_inferred,
        model: options.model.name,
        samples: dataset.samples.len(),
        errors: findings.count(rules::Severity::Error),
        warnings: findings.count(rules::Severity::Warning),
        infos: findings.count(rules::Severity::Info),
        suppressed: findings.hidden_count(),
        videos,
        images,
        total_duration_s: total,
        zip_size: dataset.source.archive_len().unwrap_or(repacked_size),
        repacked_size,
    }
}

/// Whether a dataset's role is training.
pub fn is_training(dataset: &Dataset) -> bool {
    dataset.mode.role == Role::Training
}
