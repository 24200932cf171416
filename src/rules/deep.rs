//! `D` rules: what the decoded pictures show (`wanft check --deep`). The measures come from
//! [`crate::deep`]; their thresholds are `[deep]` in wanft.toml ([`crate::deep::Settings`]).

use std::collections::BTreeMap;

use super::{Finding, Findings, Location, Rule, Severity::*};
use crate::deep::compare::Cause;
use crate::deep::{ClipReport, DeepReport, FrameCheck, Role, Settings};
use crate::media::VideoInfo;

pub const FIRST_FRAME_MISMATCH: Rule = Rule {
    code: "D001",
    name: "first-frame-mismatch",
    severity: Warning,
    summary: "With --deep: a first-frame image is not the clip's decoded frame 0 (compared as \
              displayed, rotation and pixel aspect applied); the likely cause is named: another \
              frame, a crop, a resize, other colours, another clip.",
    why: "The model learns to continue the first-frame image into the clip. When the image is \
          not frame 0, every sample teaches a jump at the start, and the tuned model reproduces \
          it. DashScope is the only platform that asks for a separate first-frame file, so this \
          mistake is common.",
    fix: "Export frame 0 of the clip itself (ffmpeg -i clip.mp4 -frames:v 1 clip_first.png), \
          or run `wanft pack --fix --derive-frames`.",
};

pub const LAST_FRAME_MISMATCH: Rule = Rule {
    code: "D002",
    name: "last-frame-mismatch",
    severity: Warning,
    summary: "With --deep: a kf2v last-frame image is not the clip's last decoded frame; the \
              likely cause is named.",
    why: "kf2v training interpolates from the first to the last frame: a last frame that the \
          clip does not end on teaches a jump at the end.",
    fix: "Export the clip's last frame (ffmpeg -sseof -0.1 -i clip.mp4 -update 1 -frames:v 1 \
          clip_last.png), or run `wanft pack --fix --derive-frames`.",
};

pub const SCENE_CUT: Rule = Rule {
    code: "D003",
    name: "scene-cut",
    severity: Warning,
    summary: "With --deep: a clip cuts to another shot (the time of each cut is given).",
    why: "An image-to-video model continues one shot; a cut teaches it to jump to unrelated \
          content mid-video, and the first-frame image describes only the first shot.",
    fix: "Trim the clip to one shot, or run `wanft pack --fix`, which keeps the longest shot.",
};

pub const STATIC_CLIP: Rule = Rule {
    code: "D004",
    name: "static-clip",
    severity: Warning,
    summary: "With --deep: a clip hardly moves (its motion score, how far the picture ever gets \
              from frame 0, is under `static_motion`).",
    why: "Still or near-still clips teach the model to output still video: the classic \"my \
          i2v LoRA produces a still picture\". They are billed like moving ones.",
    fix: "Replace the clip with one where the effect visibly moves, or drop it.",
};

pub const BLACK_FRAMES: Rule = Rule {
    code: "D005",
    name: "black-frames",
    severity: Warning,
    summary: "With --deep: a clip has black frames or fades from or to black (where and how long).",
    why: "Black lead-ins and fades are learned as part of the effect, and a black frame 0 makes \
          the first-frame image meaningless; the seconds are billed.",
    fix: "Trim the black frames and fades (ffmpeg -ss START -i clip.mp4 …).",
};

pub const LETTERBOX: Rule = Rule {
    code: "D006",
    name: "letterbox-bars",
    severity: Warning,
    summary: "With --deep: a clip has dark bars along its edges in every frame (letterbox or \
              pillarbox).",
    why: "The model learns the bars as part of the picture and adds them to its outputs; the \
          bars also take pixels from max_pixels.",
    fix: "Crop the bars (ffmpeg -vf cropdetect, then crop=…), or run `wanft pack --fix`.",
};

pub const STATIC_OVERLAY: Rule = Rule {
    code: "D007",
    name: "static-overlay",
    severity: Warning,
    summary: "With --deep: a region of a clip never changes while the rest moves: a logo, \
              watermark, timecode or subtitle band burned into the picture.",
    why: "Burned-in overlays appear in every frame, so the LoRA learns them and stamps them \
          onto its outputs.",
    fix: "Use a clean source, or crop the overlay away (ffmpeg -vf crop=…).",
};

pub const DUPLICATE_CLIP: Rule = Rule {
    code: "D008",
    name: "duplicate-clip",
    severity: Warning,
    summary: "With --deep: a clip shows (nearly) the same frames as another clip of the set, \
              under another name, size or encoding.",
    why: "Every duplicate second is billed again and weighs the repeated footage twice in \
          training.",
    fix: "Remove the duplicate (or replace it with new footage).",
};

pub const DUPLICATE_FIRST_FRAME: Rule = Rule {
    code: "D009",
    name: "duplicate-frame-image",
    severity: Warning,
    summary: "With --deep: two samples' first (or last) frame images show the same picture \
              while their clips differ.",
    why: "The same starting picture leading to different clips gives the model contradicting \
          examples; in a validation set it renders the same preview twice.",
    fix: "Check that each sample uses its own clip's frame.",
};

pub const VALIDATION_LEAK: Rule = Rule {
    code: "D010",
    name: "validation-leak",
    severity: Warning,
    summary: "With --deep: a validation image is a frame (or first-frame image) of the training \
              set.",
    why: "Previews rendered from pictures the model trained on look better than the model is, \
          so they mislead the choice of checkpoint.",
    fix: "Use validation images the training set does not contain.",
};

pub const RULES: &[&Rule] = &[
    &FIRST_FRAME_MISMATCH,
    &LAST_FRAME_MISMATCH,
    &SCENE_CUT,
    &STATIC_CLIP,
    &BLACK_FRAMES,
    &LETTERBOX,
    &STATIC_OVERLAY,
    &DUPLICATE_CLIP,
    &DUPLICATE_FIRST_FRAME,
    &VALIDATION_LEAK,
];

/// Findings of the `D` rules from a deep pass; `videos` gives each clip's display size.
pub fn check(
    report: &DeepReport,
    videos: &BTreeMap<&str, &VideoInfo>,
    settings: &Settings,
    findings: &mut Findings,
) {
    for check in &report.frame_checks {
        if let Some(finding) = frame_finding(check, settings) {
            findings.push(finding);
        }
    }
    for (name, clip) in &report.clips {
        clip_findings(
            name,
            clip,
            videos.get(name.as_str()).copied(),
            settings,
            findings,
        );
    }
    for d in &report.duplicates {
        let seconds = report
            .clips
            .get(&d.clip)
            .map(|c| c.frames as f64 * c.seconds_per_frame)
            .unwrap_or(0.0);
        findings.push(
            Finding::new(
                &DUPLICATE_CLIP,
                Location::file(&d.clip),
                format!(
                    "shows the same footage as {} ({:.0}% of its sampled frames are frames of \
                     it): {seconds:.1} s trained and billed twice",
                    d.of,
                    d.share * 100.0
                ),
            )
            .hint(format!("Remove {} or {} from the set.", d.clip, d.of)),
        );
    }
    for same in &report.same_pictures {
        findings.push(Finding::new(
            &DUPLICATE_FIRST_FRAME,
            Location::file(&same.image),
            format!(
                "shows the same picture as {} ({} of 128 hash bits differ)",
                same.of, same.distance
            ),
        ));
    }
    for leak in &report.leaks {
        let where_ = match leak.frame {
            Some((frame, time)) => format!(
                "frame {frame} ({time:.2} s) of the training clip {}",
                leak.source
            ),
            None => format!("the training set's image {}", leak.source),
        };
        findings.push(Finding::new(
            &VALIDATION_LEAK,
            Location::file(&leak.image),
            format!("is {where_}: its previews show a picture the model trained on"),
        ));
    }
}

fn frame_finding(check: &FrameCheck, settings: &Settings) -> Option<Finding> {
    let c = &check.comparison;
    let cause = c.cause.as_ref()?;
    let (rule, frame) = match check.role {
        Role::First => (&FIRST_FRAME_MISMATCH, "frame 0".to_string()),
        Role::Last => (&LAST_FRAME_MISMATCH, "the last frame".to_string()),
    };
    let clip = &check.clip;
    let message = match cause {
        Cause::OtherFrame {
            frame: index,
            time_s,
            similarity,
        } => format!(
            "is not {frame} of {clip} (similarity {:.2}) but frame {index} at {time_s:.2} s \
             (similarity {similarity:.2}); likely cause: another frame",
            c.similarity
        ),
        Cause::Crop { region, similarity } => format!(
            "is a crop of {frame} of {clip}: it shows {:.0}% × {:.0}% of the picture from \
             {:.0}%, {:.0}% (similarity {similarity:.2}, {:.2} uncropped); likely cause: crop",
            region.w * 100.0,
            region.h * 100.0,
            region.x * 100.0,
            region.y * 100.0,
            c.similarity
        ),
        Cause::Stretched {
            image_aspect,
            frame_aspect,
        } => format!(
            "is {frame} of {clip} stretched to another shape ({image_aspect:.3}:1, the clip \
             shows {frame_aspect:.3}:1); likely cause: resize"
        ),
        Cause::Blurred { similarity } => format!(
            "is {frame} of {clip} at a much lower resolution (similarity {:.2}, {similarity:.2} \
             when both are blurred); likely cause: resize",
            c.similarity
        ),
        Cause::Colour {
            image_mean,
            frame_mean,
        } => format!(
            "shows {frame} of {clip} in other colours (mean RGB {} against {}, difference \
             {:.1} over {:.0}); likely cause: colour (graded, converted or re-encoded)",
            rgb(image_mean),
            rgb(frame_mean),
            c.colour_difference,
            settings.frame_colour_difference
        ),
        Cause::OtherClip { clip: other } => format!(
            "is not {frame} of {clip} (similarity {:.2}) but a frame of {other}; likely cause: \
             the image of another sample",
            c.similarity
        ),
        Cause::Unknown => format!(
            "does not show {frame} of {clip} (similarity {:.2}, at least {:.2} expected); \
             likely cause: another picture",
            c.similarity, settings.frame_similarity
        ),
    };
    let exif = if check.exif_applied {
        " (compared as its EXIF orientation shows it)"
    } else {
        ""
    };
    Some(Finding::new(
        rule,
        Location::file(&check.image),
        format!("{message}{exif}"),
    ))
}

fn rgb(mean: &[f64; 3]) -> String {
    format!("{:.0}/{:.0}/{:.0}", mean[0], mean[1], mean[2])
}

fn clip_findings(
    name: &str,
    clip: &ClipReport,
    video: Option<&VideoInfo>,
    settings: &Settings,
    findings: &mut Findings,
) {
    let at = || Location::file(name);
    if !clip.cuts.is_empty() {
        let list: Vec<String> = clip
            .cuts
            .iter()
            .map(|c| format!("{:.2} s (frame {})", c.time_s, c.frame))
            .collect();
        let (start, end) = longest_shot(clip);
        findings.push(
            Finding::new(
                &SCENE_CUT,
                at(),
                format!(
                    "cuts to another shot at {}; the longest shot runs {:.2}–{:.2} s",
                    list.join(", "),
                    start,
                    end
                ),
            )
            .hint(format!(
                "Keep one shot (ffmpeg -ss {start:.2} -to {end:.2} -i {name} …), or run \
                 `wanft pack --fix`, which keeps the longest."
            )),
        );
    }
    if clip.frames > 1 && clip.motion < settings.static_motion {
        findings.push(Finding::new(
            &STATIC_CLIP,
            at(),
            format!(
                "hardly moves: motion score {:.2} (the picture never gets further than that \
                 from frame 0; clips under {:.1} count as static)",
                clip.motion, settings.static_motion
            ),
        ));
    }
    let mut dark = Vec::new();
    for run in &clip.black_runs {
        let span = format!(
            "{:.2} s of black frames ({} frames)",
            run.seconds, run.frames
        );
        dark.push(match (run.at_start, run.at_end) {
            (true, true) => format!("is black throughout ({span})"),
            (true, false) => format!("starts with {span}"),
            (false, true) => format!("ends with {span}"),
            _ => format!("has {span} at {:.2} s", run.start_s),
        });
    }
    for fade in &clip.fades {
        dark.push(match fade.fade_in {
            true => format!(
                "fades in from black over {:.2} s from {:.2} s",
                fade.seconds, fade.start_s
            ),
            false => format!(
                "fades out to black over {:.2} s from {:.2} s",
                fade.seconds, fade.start_s
            ),
        });
    }
    if !dark.is_empty() {
        findings.push(Finding::new(&BLACK_FRAMES, at(), dark.join("; ")));
    }
    if clip.bars.any() {
        let (w, h) = video.map_or((0, 0), |v| (v.display_width, v.display_height));
        let mut sides = Vec::new();
        for (share, side, of) in [
            (clip.bars.top, "top", h),
            (clip.bars.bottom, "bottom", h),
            (clip.bars.left, "left", w),
            (clip.bars.right, "right", w),
        ] {
            if share > 0.0 {
                sides.push(format!(
                    "{:.0}% at the {side} (about {} px)",
                    share * 100.0,
                    (share * f64::from(of)).round()
                ));
            }
        }
        let kind = if clip.bars.top > 0.0 || clip.bars.bottom > 0.0 {
            if clip.bars.left > 0.0 || clip.bars.right > 0.0 {
                "windowbox"
            } else {
                "letterbox"
            }
        } else {
            "pillarbox"
        };
        findings.push(Finding::new(
            &LETTERBOX,
            at(),
            format!(
                "has dark bars in every frame ({kind}): {}",
                sides.join(", ")
            ),
        ));
    }
    for overlay in &clip.overlays {
        let (w, h) = video.map_or((0, 0), |v| (v.display_width, v.display_height));
        findings.push(Finding::new(
            &STATIC_OVERLAY,
            at(),
            format!(
                "has a region that never changes while the rest moves, in {} (about {}×{} px \
                 at {}, {}; {:.1}% of the picture): a logo, watermark or burned-in text",
                overlay.place(),
                (overlay.w * f64::from(w)).round(),
                (overlay.h * f64::from(h)).round(),
                (overlay.x * f64::from(w)).round(),
                (overlay.y * f64::from(h)).round(),
                overlay.share * 100.0
            ),
        ));
    }
}

/// Start and end (seconds) of a clip's longest shot.
pub fn longest_shot(clip: &ClipReport) -> (f64, f64) {
    let (a, b) = clip
        .shots()
        .into_iter()
        .max_by_key(|(a, b)| (b - a, std::cmp::Reverse(*a)))
        .unwrap_or((0, clip.frames));
    (
        a as f64 * clip.seconds_per_frame,
        b as f64 * clip.seconds_per_frame,
    )
}
