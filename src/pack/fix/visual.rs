//! Fixes that follow from what `check --deep` saw: a clip with cuts is cut to its longest shot,
//! dark bars are cropped away, and first/last-frame images follow their clip: cropped the same
//! way, or (`--derive-frames`) taken from the clip itself when they are not its frames.
//!
//! A cut that moves frame 0 (the longest shot is not the first) or the last frame changes what
//! the paired images must show, so it is made only when those images are derived too
//! (`--derive-frames`) or there is none to follow.

use std::collections::{BTreeMap, BTreeSet};

use super::{
    ClipEdit, CropBox, Derive, ImageTarget, Job, Limits, MediaFacts, Target, Trim, free_name,
};
use crate::check::CheckReport;
use crate::deep::{ClipReport, FrameCheck, Role};
use crate::media::MediaInfo;
use crate::rules::deep::longest_shot;

/// Adds the clip edits and frame-image fixes of `report`'s deep analysis to `jobs`.
pub(super) fn plan(
    report: &CheckReport,
    limits: Limits,
    derive_frames: bool,
    jobs: &mut Vec<Job>,
    taken: &mut BTreeSet<String>,
) {
    let Some(deep) = &report.deep else { return };
    let member_of: BTreeMap<&str, &str> = report
        .pack_plan
        .media
        .iter()
        .map(|(m, entry)| (entry.as_str(), m.name.as_str()))
        .collect();
    // The images paired with each clip, and the clips each image is paired with.
    let mut paired: BTreeMap<&str, Vec<&FrameCheck>> = BTreeMap::new();
    let mut clips_of_image: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for check in &deep.frame_checks {
        paired.entry(check.clip.as_str()).or_default().push(check);
        clips_of_image
            .entry(check.image.as_str())
            .or_default()
            .insert(check.clip.as_str());
    }
    for (clip_name, clip) in &deep.clips {
        let Some(member) = member_of.get(clip_name.as_str()) else {
            continue;
        };
        let checks = paired
            .get(clip_name.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let (edit, reasons) = clip_edit(clip, checks, derive_frames);
        if edit != ClipEdit::default() {
            add_clip_edit(
                report, jobs, taken, clip_name, member, edit, reasons, limits,
            );
        }
        for check in checks {
            // An image shared by clips cannot follow them all.
            if clips_of_image
                .get(check.image.as_str())
                .is_some_and(|c| c.len() > 1)
            {
                continue;
            }
            let Some(image_member) = member_of.get(check.image.as_str()) else {
                continue;
            };
            let moved = match check.role {
                Role::First => edit.shot.is_some_and(|(start, _)| start > 0.0),
                Role::Last => edit.shot.is_some_and(|(_, end)| {
                    end < clip.frames as f64 * clip.seconds_per_frame - 1e-6
                }),
            };
            let frame = match check.role {
                Role::First => "frame 0",
                Role::Last => "the last frame",
            };
            let (image_edit, derive, reason) = if derive_frames
                && (check.comparison.cause.is_some() || moved || edit.crop.is_some())
            {
                let why = match &check.comparison.cause {
                    Some(cause) => format!("the supplied image was not it: {}", cause.label()),
                    None => "the clip was cut or cropped".to_string(),
                };
                (
                    ClipEdit::default(),
                    Some(Derive {
                        clip: clip_name.clone(),
                        last: check.role == Role::Last,
                    }),
                    format!("taken from {frame} of {clip_name} as fixed ({why})"),
                )
            } else if let (Some(crop), None) = (edit.crop, &check.comparison.cause) {
                (
                    ClipEdit {
                        shot: None,
                        crop: Some(crop),
                    },
                    None,
                    format!("cropped like {clip_name} (dark bars)"),
                )
            } else {
                continue;
            };
            add_image_job(
                report,
                jobs,
                taken,
                &check.image,
                image_member,
                image_edit,
                derive,
                reason,
            );
        }
    }
}

/// What to change in a clip, and why: the crop always, the shot when the images can follow.
fn clip_edit(
    clip: &ClipReport,
    checks: &[&FrameCheck],
    derive_frames: bool,
) -> (ClipEdit, Vec<String>) {
    let mut edit = ClipEdit::default();
    let mut reasons = Vec::new();
    let bars = clip.bars;
    if bars.any() {
        edit.crop = Some(CropBox {
            x: bars.left,
            y: bars.top,
            w: 1.0 - bars.left - bars.right,
            h: 1.0 - bars.top - bars.bottom,
        });
        reasons.push(format!(
            "dark bars cropped away (top {:.0}%, bottom {:.0}%, left {:.0}%, right {:.0}%)",
            bars.top * 100.0,
            bars.bottom * 100.0,
            bars.left * 100.0,
            bars.right * 100.0
        ));
    }
    if !clip.cuts.is_empty() {
        let (start, end) = longest_shot(clip);
        let total = clip.frames as f64 * clip.seconds_per_frame;
        let moves_first = start > 0.0 && checks.iter().any(|c| c.role == Role::First);
        let moves_last = end < total - 1e-6 && checks.iter().any(|c| c.role == Role::Last);
        if derive_frames || !(moves_first || moves_last) {
            edit.shot = Some((start, end));
            let cuts: Vec<String> = clip
                .cuts
                .iter()
                .map(|c| format!("{:.2} s", c.time_s))
                .collect();
            reasons.push(format!(
                "cut at {}: kept the longest shot, {start:.2}–{end:.2} s",
                cuts.join(", ")
            ));
        }
    }
    (edit, reasons)
}

#[allow(clippy::too_many_arguments)]
fn add_clip_edit(
    report: &CheckReport,
    jobs: &mut Vec<Job>,
    taken: &mut BTreeSet<String>,
    clip: &str,
    member: &str,
    edit: ClipEdit,
    reasons: Vec<String>,
    limits: Limits,
) {
    let probed = report.media.get(clip);
    let fps = match probed.map(|p| &p.result) {
        Some(Ok(MediaInfo::Video(v))) => v.fps,
        _ => None,
    };
    let index = match jobs.iter().position(|j| j.entry == clip) {
        Some(i) => i,
        None => {
            let Some(probed) = probed else { return };
            let renamed = free_name(member, "mp4", taken);
            jobs.push(Job {
                entry: clip.to_string(),
                member: member.to_string(),
                renamed,
                target: Target::Video,
                reasons: Vec::new(),
                before: MediaFacts::of(probed.size, &probed.result),
                trim: None,
                edit: ClipEdit::default(),
                derive: None,
            });
            jobs.len() - 1
        }
    };
    let job = &mut jobs[index];
    job.reasons.extend(reasons);
    job.edit = edit;
    if let Some((start, end)) = edit.shot {
        // The maximum duration now applies to the shot kept.
        job.trim = (end - start > f64::from(limits.max_seconds))
            .then(|| Trim::to(limits.max_seconds, fps));
    }
}

#[allow(clippy::too_many_arguments)]
fn add_image_job(
    report: &CheckReport,
    jobs: &mut Vec<Job>,
    taken: &mut BTreeSet<String>,
    image: &str,
    member: &str,
    edit: ClipEdit,
    derive: Option<Derive>,
    reason: String,
) {
    let Some(probed) = report.media.get(image) else {
        return;
    };
    let ext = crate::rules::paths::extension(member);
    let target = if matches!(ext.as_str(), "jpg" | "jpeg") {
        ImageTarget::Jpeg
    } else {
        ImageTarget::Png
    };
    // The image's own fix (a format or size one) is replaced: this one writes it anew.
    jobs.retain(|j| j.entry != image);
    let renamed = free_name(member, target.extension(), taken);
    jobs.push(Job {
        entry: image.to_string(),
        member: member.to_string(),
        renamed,
        target: Target::Image(target),
        reasons: vec![reason],
        before: MediaFacts::of(probed.size, &probed.result),
        trim: None,
        edit,
        derive,
    });
}
