//! `M` rules: what the headers of the images and clips say.

use super::{Rule, Severity::*};

pub const IMAGE_FORMAT: Rule = Rule {
    code: "M001",
    name: "image-format-unsupported",
    severity: Error,
    summary: "An image is not BMP, JPEG, PNG or WEBP (by its bytes or by its extension).",
    why: "The platform decodes only these four formats; others (HEIC, GIF, TIFF, AVIF) fail \
          data processing.",
    fix: "Convert the image to JPEG or PNG (ffmpeg -i in.heic out.png), or run `wanft pack --fix`.",
};

pub const EXTENSION_CONTENT_MISMATCH: Rule = Rule {
    code: "M002",
    name: "extension-content-mismatch",
    severity: Warning,
    summary: "A file's extension disagrees with its content (a PNG named .jpg, a MOV named .mp4).",
    why: "Decoders that trust the extension fail; it usually means a renamed file rather than a \
          converted one.",
    fix: "Rename the file to its real extension (and update data.jsonl), or convert it.",
};

pub const VIDEO_FORMAT: Rule = Rule {
    code: "M003",
    name: "video-format-unsupported",
    severity: Error,
    summary: "A clip is not an MP4 or MOV file (by its bytes or by its extension).",
    why: "The platform reads only MP4 and MOV containers.",
    fix: "Convert the clip to H.264 MP4 (ffmpeg -i in.mkv -c:v libx264 out.mp4), or run \
          `wanft pack --fix`.",
};

pub const TOO_LARGE: Rule = Rule {
    code: "M004",
    name: "resolution-too-large",
    severity: Error,
    summary: "An image or clip is wider or taller than 4096 pixels.",
    why: "The platform rejects media above 4096 px on either side.",
    fix: "Downscale to at most 4096 px per side (ffmpeg -vf scale=…), or run `wanft pack --fix`.",
};

pub const OVER_MAX_PIXELS: Rule = Rule {
    code: "M005",
    name: "over-max-pixels",
    severity: Info,
    summary: "Clips above max_pixels (width × height) will be downscaled by the platform.",
    why: "Training works at max_pixels; larger clips are downscaled (aspect kept), so the extra \
          pixels only cost upload time. Billing uses max_pixels, not the real size.",
    fix: "Nothing is required; `wanft pack --fix` downscales before upload to save time.",
};

pub const TOO_SMALL: Rule = Rule {
    code: "M006",
    name: "resolution-too-small",
    severity: Warning,
    summary: "An image or clip is smaller than the lowest max_pixels of any model, or has a side \
              under 240 px.",
    why: "Undocumented minimum: tiny media are upscaled and blur what the LoRA learns; inference \
          refuses images under 240 px per side.",
    fix: "Use larger source material.",
};

pub const TOO_LONG: Rule = Rule {
    code: "M007",
    name: "clip-too-long",
    severity: Warning,
    summary: "A clip is longer than the model's maximum duration.",
    why: "Frames past the maximum are cut from training (the motion is truncated) and billing is \
          capped at the maximum.",
    fix: "Trim the clip to the maximum (ffmpeg -t 5 …), or run `wanft pack --fix`.",
};

pub const TOO_SHORT: Rule = Rule {
    code: "M008",
    name: "clip-too-short",
    severity: Warning,
    summary: "A clip is shorter than 2 seconds.",
    why: "The platform recommends at least 2 s; very short clips teach little motion.",
    fix: "Use clips of 2 s or more (ideally as long as the intended output).",
};

pub const CODEC: Rule = Rule {
    code: "M009",
    name: "codec-not-h264",
    severity: Warning,
    summary: "A clip is not encoded with H.264.",
    why: "Undocumented: H.264 is the one codec every decoder on the platform is sure to read.",
    fix: "Re-encode with libx264 (ffmpeg -i in.mov -c:v libx264 -pix_fmt yuv420p out.mp4), or \
          run `wanft pack --fix`.",
};

pub const UNREADABLE: Rule = Rule {
    code: "M010",
    name: "media-unreadable",
    severity: Error,
    summary: "A media file cannot be read: empty, not media at all, or a malformed header.",
    why: "The platform fails data processing on a file it cannot decode.",
    fix: "Re-export the file from its source.",
};

pub const TRUNCATED: Rule = Rule {
    code: "M011",
    name: "media-truncated",
    severity: Error,
    summary: "A media file is cut short (an interrupted copy or download).",
    why: "Missing bytes mean missing frames or an undecodable file.",
    fix: "Copy or download the file again and compare its size with the original.",
};

pub const ASPECT_MISMATCH: Rule = Rule {
    code: "M012",
    name: "frame-aspect-mismatch",
    severity: Warning,
    summary: "A first or last frame's aspect ratio differs from its clip's by more than 5 %.",
    why: "Heuristic: the frame should be a frame of the clip; a different shape means a wrong \
          pairing or a crop, and the platform will resize one to the other.",
    fix: "Extract the frame from the clip itself (ffmpeg -i clip.mp4 -frames:v 1 first.png).",
};

pub const NO_VIDEO_TRACK: Rule = Rule {
    code: "M013",
    name: "no-video-track",
    severity: Error,
    summary: "An MP4/MOV file has no video track (audio only, or empty).",
    why: "There is nothing to train on.",
    fix: "Export the clip again with its video stream.",
};

pub const FPS_UNKNOWN: Rule = Rule {
    code: "M014",
    name: "timing-unknown",
    severity: Warning,
    summary: "A clip's duration or frame rate cannot be determined from its headers.",
    why: "Undocumented: clips are resampled to the model's frame rate and billed by duration; \
          without them the result and the cost are unpredictable.",
    fix: "Re-encode with a constant frame rate (ffmpeg -i in.mp4 -r 30 out.mp4).",
};

pub const FRAME_RATES: Rule = Rule {
    code: "M015",
    name: "frame-rates",
    severity: Info,
    summary: "Reports the frame rates found in the clips.",
    why: "Undocumented: the platform resamples clips; mixed frame rates change motion speed \
          between samples.",
    fix: "Nothing is required; consistent frame rates give consistent motion.",
};

pub const DECODE_ERROR: Rule = Rule {
    code: "M016",
    name: "decode-error",
    severity: Error,
    summary: "With --deep: ffmpeg reports errors while decoding the file.",
    why: "Corrupt frames inside a well-formed container pass header checks but break training.",
    fix: "Re-export the file from its source.",
};

pub const LONGER_THAN_OUTPUT: Rule = Rule {
    code: "M017",
    name: "clip-longer-than-output",
    severity: Info,
    summary: "A clip is longer than 5 seconds, the default output duration.",
    why: "Clips should be no longer than the intended output (5 s output → 4–5 s clips).",
    fix: "Nothing is required if you plan 10 s outputs; otherwise trim to 4–5 s.",
};

pub const ROTATED: Rule = Rule {
    code: "M018",
    name: "rotated-clip",
    severity: Info,
    summary: "A clip carries a rotation in its metadata (phone footage).",
    why: "Undocumented whether the platform honours the rotation matrix; the checks use the \
          displayed size.",
    fix: "Bake the rotation in (ffmpeg re-encodes with rotation applied by default).",
};

pub const RULES: &[&Rule] = &[
    &IMAGE_FORMAT,
    &EXTENSION_CONTENT_MISMATCH,
    &VIDEO_FORMAT,
    &TOO_LARGE,
    &OVER_MAX_PIXELS,
    &TOO_SMALL,
    &TOO_LONG,
    &TOO_SHORT,
    &CODEC,
    &UNREADABLE,
    &TRUNCATED,
    &ASPECT_MISMATCH,
    &NO_VIDEO_TRACK,
    &FPS_UNKNOWN,
    &FRAME_RATES,
    &DECODE_ERROR,
    &LONGER_THAN_OUTPUT,
    &ROTATED,
];

use std::collections::BTreeMap;

use crate::check::Context;
use crate::dataset::PathField;
use crate::media::{Expect, ImageInfo, MediaError, MediaInfo, VideoInfo};
use crate::models;
use crate::rules::paths::extension;
use crate::rules::{Finding, Findings, Location};

/// Largest width or height the platform takes.
pub const MAX_SIDE: u32 = 4096;
/// Smallest side inference accepts (spec §6.18); smaller training media are suspicious.
pub const MIN_SIDE: u32 = 240;
/// Recommended minimum clip duration, seconds.
pub const MIN_SECONDS: f64 = 2.0;
/// Default output duration, seconds (clip length advice).
pub const OUTPUT_SECONDS: f64 = 5.0;
/// Aspect ratios of a frame and its clip may differ by this fraction.
pub const ASPECT_TOLERANCE: f64 = 0.05;

const ACCEPTED_VIDEO_EXTENSIONS: [&str; 2] = ["mp4", "mov"];
const ACCEPTED_IMAGE_EXTENSIONS: [&str; 5] = ["bmp", "jpg", "jpeg", "png", "webp"];

/// Per-file media rules, then the per-sample and dataset-wide ones.
pub fn check(cx: &Context, findings: &mut Findings) {
    let max_pixels = cx.options.effective_max_pixels();
    let mut over_max_pixels = Vec::new();
    let mut longer_than_output = Vec::new();
    let mut frame_rates: BTreeMap<String, usize> = BTreeMap::new();
    for (name, probed) in cx.media {
        let at = Location::file(name.clone());
        match (&probed.result, probed.expect) {
            (Err(e), expect) => findings.push(unreadable(e, expect, at)),
            (Ok(MediaInfo::Image(img)), Expect::Image) => check_image(name, img, at, findings),
            (Ok(MediaInfo::Video(v)), Expect::Video) => {
                check_video(cx, name, v, at, findings);
                if u64::from(v.width) * u64::from(v.height) > max_pixels {
                    over_max_pixels.push(name.as_str());
                }
                if v.duration_s.is_some_and(|d| d > OUTPUT_SECONDS) {
                    longer_than_output.push(name.as_str());
                }
                if let Some(fps) = v.fps {
                    *frame_rates.entry(format!("{fps:.3}")).or_default() += 1;
                }
            }
            (Ok(MediaInfo::Image(img)), Expect::Video) => findings.push(Finding::new(
                &VIDEO_FORMAT,
                at,
                format!("this is a {} image, not a video", img.format.name()),
            )),
            (Ok(MediaInfo::Video(v)), Expect::Image) => findings.push(Finding::new(
                &IMAGE_FORMAT,
                at,
                format!("this is a {} video, not an image", v.container.name()),
            )),
        }
    }
    check_aspect_ratios(cx, findings);
    summarize_many(
        findings,
        &OVER_MAX_PIXELS,
        &over_max_pixels,
        &format!("clip(s) exceed max_pixels {max_pixels} and will be downscaled by the platform"),
    );
    // Only clips the model does not truncate anyway are worth the advice.
    if cx.options.model.max_clip_seconds as f64 > OUTPUT_SECONDS {
        summarize_many(
            findings,
            &LONGER_THAN_OUTPUT,
            &longer_than_output,
            "clip(s) are longer than 5 s, the default output duration",
        );
    }
    if !frame_rates.is_empty() {
        let list: Vec<String> = frame_rates
            .iter()
            .map(|(fps, n)| {
                format!(
                    "{} fps × {n}",
                    fps.trim_end_matches('0').trim_end_matches('.')
                )
            })
            .collect();
        findings.push(Finding::new(
            &FRAME_RATES,
            Location::dataset(),
            format!("frame rates: {}", list.join(", ")),
        ));
    }
}

/// One dataset-wide finding naming a few of the files concerned.
fn summarize_many(findings: &mut Findings, rule: &'static Rule, names: &[&str], what: &str) {
    if names.is_empty() {
        return;
    }
    let shown: Vec<&str> = names.iter().take(3).copied().collect();
    let more = if names.len() > shown.len() {
        ", …"
    } else {
        ""
    };
    findings.push(Finding::new(
        rule,
        Location::dataset(),
        format!("{} {what} ({}{more})", names.len(), shown.join(", ")),
    ));
}

fn unreadable(e: &MediaError, expect: Expect, at: Location) -> Finding {
    let format_rule = match expect {
        Expect::Video => &VIDEO_FORMAT,
        Expect::Image => &IMAGE_FORMAT,
    };
    match e {
        MediaError::Truncated(_) => Finding::new(&TRUNCATED, at, e.to_string()),
        MediaError::NoVideoTrack => Finding::new(&NO_VIDEO_TRACK, at, e.to_string()),
        MediaError::UnsupportedFormat(_) => Finding::new(format_rule, at, e.to_string()),
        MediaError::Unrecognized { found: Some(_), .. } => {
            Finding::new(format_rule, at, e.to_string())
        }
        _ => Finding::new(&UNREADABLE, at, e.to_string()),
    }
}

fn check_image(name: &str, img: &ImageInfo, at: Location, findings: &mut Findings) {
    let ext = extension(name);
    if !img.format.accepted() {
        findings.push(Finding::new(
            &IMAGE_FORMAT,
            at.clone(),
            format!("{} images are not accepted", img.format.name()),
        ));
    } else if !ACCEPTED_IMAGE_EXTENSIONS.contains(&ext.as_str()) {
        findings.push(Finding::new(
            &IMAGE_FORMAT,
            at.clone(),
            format!(
                "the extension `.{ext}` is not accepted (use .{})",
                img.format.extensions()[0]
            ),
        ));
    } else if !img.format.extensions().contains(&ext.as_str()) {
        findings.push(Finding::new(
            &EXTENSION_CONTENT_MISMATCH,
            at.clone(),
            format!("named .{ext} but holds a {} image", img.format.name()),
        ));
    }
    if let Some(why) = &img.truncated {
        findings.push(Finding::new(
            &TRUNCATED,
            at.clone(),
            format!("truncated: {why}"),
        ));
    }
    check_dimensions(img.width, img.height, "image", at, findings);
}

fn check_video(cx: &Context, name: &str, v: &VideoInfo, at: Location, findings: &mut Findings) {
    let ext = extension(name);
    if !ACCEPTED_VIDEO_EXTENSIONS.contains(&ext.as_str()) {
        findings.push(Finding::new(
            &VIDEO_FORMAT,
            at.clone(),
            format!(
                "the extension `.{ext}` is not accepted (this is an {} file: use .{})",
                v.container.name(),
                v.container.extensions()[0]
            ),
        ));
    } else if !v.container.extensions().contains(&ext.as_str()) {
        findings.push(Finding::new(
            &EXTENSION_CONTENT_MISMATCH,
            at.clone(),
            format!("named .{ext} but holds a {} file", v.container.name()),
        ));
    }
    if let Some(why) = &v.truncated {
        findings.push(Finding::new(
            &TRUNCATED,
            at.clone(),
            format!("truncated: {why}"),
        ));
    }
    check_dimensions(v.width, v.height, "clip", at.clone(), findings);
    if v.rotation != 0 {
        findings.push(Finding::new(
            &ROTATED,
            at.clone(),
            format!(
                "rotated {}° by its metadata: coded {}×{}, displayed {}×{}",
                v.rotation, v.coded_width, v.coded_height, v.width, v.height
            ),
        ));
    }
    if !v.is_h264() {
        let msg = match &v.codec_fourcc {
            Some(_) => format!("encoded with {}, not H.264", v.codec_name()),
            None => "the codec could not be read from the headers".to_string(),
        };
        findings.push(Finding::new(&CODEC, at.clone(), msg));
    }
    let model = cx.options.model;
    match v.duration_s {
        Some(d) if d > f64::from(model.max_clip_seconds) => findings.push(Finding::new(
            &TOO_LONG,
            at.clone(),
            format!(
                "{d:.2} s is longer than {} s, the maximum for {}{}",
                model.max_clip_seconds,
                model.name,
                if model.cap_assumed { " (assumed)" } else { "" }
            ),
        )),
        Some(d) if d < MIN_SECONDS => findings.push(Finding::new(
            &TOO_SHORT,
            at.clone(),
            format!("{d:.2} s is shorter than the recommended {MIN_SECONDS} s"),
        )),
        Some(_) => {}
        None => findings.push(Finding::new(
            &FPS_UNKNOWN,
            at.clone(),
            "the duration cannot be determined from the headers",
        )),
    }
    if v.duration_s.is_some() && v.fps.is_none() {
        findings.push(Finding::new(
            &FPS_UNKNOWN,
            at,
            "the frame rate cannot be determined from the headers",
        ));
    }
}

fn check_dimensions(w: u32, h: u32, what: &str, at: Location, findings: &mut Findings) {
    if w > MAX_SIDE || h > MAX_SIDE {
        findings.push(Finding::new(
            &TOO_LARGE,
            at,
            format!("{what} is {w}×{h}; the limit is {MAX_SIDE} px per side"),
        ));
        return;
    }
    let lowest = models::lowest_max_pixels();
    if u64::from(w) * u64::from(h) < lowest || w.min(h) < MIN_SIDE {
        findings.push(Finding::new(
            &TOO_SMALL,
            at,
            format!("{what} is {w}×{h}: below {lowest} pixels or under {MIN_SIDE} px on a side"),
        ));
    }
}

/// M012: a first or last frame shaped differently from its clip.
fn check_aspect_ratios(cx: &Context, findings: &mut Findings) {
    let dims = |entry: Option<&str>| -> Option<(u32, u32)> {
        match cx.media_of(entry?)? {
            Ok(info) => Some(info.dimensions()).filter(|&(w, h)| w > 0 && h > 0),
            Err(_) => None,
        }
    };
    for (i, sample) in cx.dataset.samples.iter().enumerate() {
        let Some((vw, vh)) = dims(cx.references.entry_for(i, PathField::Video)) else {
            continue;
        };
        let clip_ratio = f64::from(vw) / f64::from(vh);
        for field in [PathField::FirstFrame, PathField::LastFrame] {
            let Some((iw, ih)) = dims(cx.references.entry_for(i, field)) else {
                continue;
            };
            let ratio = f64::from(iw) / f64::from(ih);
            if (ratio - clip_ratio).abs() / clip_ratio > ASPECT_TOLERANCE {
                findings.push(Finding::new(
                    &ASPECT_MISMATCH,
                    cx.dataset.location_of(sample),
                    format!(
                        "{} is {iw}×{ih} (ratio {ratio:.3}) but its clip is {vw}×{vh} (ratio {clip_ratio:.3})",
                        field.key()
                    ),
                ));
            }
        }
    }
}
