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

pub const TIMING_DAMAGED: Rule = Rule {
    code: "M019",
    name: "timing-damaged",
    severity: Warning,
    summary: "A clip's timing makes no sense: a zero timescale, a sample longer than the whole \
              track, sample tables that disagree with each other or with the track header, \
              zero-length samples, an edit list that presents nothing or that players read \
              differently.",
    why: "The duration the platform measures (and bills) and the frames it trains on depend on \
          this timing; damaged timing makes both unpredictable.",
    fix: "Remux the clip so that its timing is rewritten (ffmpeg -i in.mp4 -c copy out.mp4), or \
          re-encode it (`wanft pack --fix`).",
};

pub const ENCRYPTED: Rule = Rule {
    code: "M020",
    name: "encrypted-track",
    severity: Error,
    summary: "A clip's video track is encrypted (`encv`, DRM).",
    why: "The platform has no key to decrypt it: the clip cannot be decoded.",
    fix: "Use an unprotected copy of the clip.",
};

pub const CODEC_CONFIG: Rule = Rule {
    code: "M021",
    name: "codec-config-invalid",
    severity: Error,
    summary: "A clip's decoder configuration (`avcC` for H.264, `hvcC` for H.265) does not parse.",
    why: "A decoder cannot start without the parameter sets this record carries.",
    fix: "Re-export the clip from its source, or re-encode it (`wanft pack --fix`).",
};

pub const CONTAINER_DURATION: Rule = Rule {
    code: "M022",
    name: "container-duration-differs",
    severity: Warning,
    summary: "A clip's container lasts more than half a second longer or shorter than its video \
              stream (audio longer than the video, a timestamp offset).",
    why: "Undocumented which one the platform bills; wanft bills the video stream's duration \
          (spec §8.12) and shows both.",
    fix: "Cut the other tracks to the video (ffmpeg -i in.mp4 -map 0:v -c copy out.mp4, or \
          -shortest when encoding).",
};

pub const EXIF_ROTATED: Rule = Rule {
    code: "M023",
    name: "exif-rotated-image",
    severity: Warning,
    summary: "An image's EXIF orientation turns it by 90° (phone photos).",
    why: "Undocumented whether the platform applies EXIF orientation: the frame may reach \
          training turned relative to how viewers show it. Aspect checks consider both readings.",
    fix: "Bake the orientation into the pixels (ffmpeg -i in.jpg out.png applies it and drops \
          the tag).",
};

pub const EDIT_LIST_GAP: Rule = Rule {
    code: "M024",
    name: "edit-list-gap",
    severity: Warning,
    summary: "A clip starts with an empty edit: nothing is shown for its first tenth of a second \
              or more.",
    why: "Players show black or the first frame for that time, and the stream starts late \
          against the container: tools disagree on the clip's duration, and the first frame the \
          platform pairs with the prompt may not be the one expected.",
    fix: "Remux without the offset (ffmpeg -i in.mp4 -c copy out.mp4 rewrites the edit list), or \
          re-encode (`wanft pack --fix`).",
};

pub const VARIABLE_FRAME_RATE: Rule = Rule {
    code: "M025",
    name: "variable-frame-rate",
    severity: Info,
    summary: "A clip has a variable frame rate (its frames last different times).",
    why: "Undocumented: the platform resamples clips to the model's frame rate; uneven frame \
          times can make motion uneven.",
    fix: "Nothing is required; for even motion re-encode at a constant rate (ffmpeg -i in.mp4 \
          -fps_mode cfr -r 30 out.mp4).",
};

pub const DEEP_DISAGREES: Rule = Rule {
    code: "M026",
    name: "deep-timing-disagrees",
    severity: Warning,
    summary: "With --deep: the frames ffmpeg decodes, or their time span, disagree with what the \
              headers say.",
    why: "The headers are what the duration rules and the bill are computed from; when the \
          decode differs, one of them is wrong about what the platform will see.",
    fix: "Re-encode the clip (`wanft pack --fix`) so that headers and content agree.",
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
    &TIMING_DAMAGED,
    &ENCRYPTED,
    &CODEC_CONFIG,
    &CONTAINER_DURATION,
    &EXIF_ROTATED,
    &EDIT_LIST_GAP,
    &VARIABLE_FRAME_RATE,
    &DEEP_DISAGREES,
];

use std::collections::BTreeMap;

use crate::check::Context;
use crate::dataset::PathField;
use crate::media::ffmpeg::FrameTiming;
use crate::media::{Expect, ImageInfo, MediaError, MediaInfo, VideoInfo, exif};
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
                // Pixel counts are what the decoder hands the trainer: the coded size (§8.12).
                if u64::from(v.coded_width) * u64::from(v.coded_height) > max_pixels {
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
    if let Some(orientation) = img.exif_orientation.filter(|&o| exif::swaps_sides(o)) {
        findings.push(Finding::new(
            &EXIF_ROTATED,
            at.clone(),
            format!(
                "its EXIF orientation ({orientation}) says it is shown {}: stored {}×{}, shown \
                 {}×{} by viewers that apply it",
                exif::describe(orientation),
                img.width,
                img.height,
                img.height,
                img.width
            ),
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
    check_dimensions(v.coded_width, v.coded_height, "clip", at.clone(), findings);
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
            at.clone(),
            "the frame rate cannot be determined from the headers",
        ));
    }
    check_video_integrity(v, at, findings);
}

/// `--deep`: what the decoded frames say against the headers (M026, and M025 when only the
/// decode shows a variable frame rate).
pub fn deep_timing(name: &str, v: &VideoInfo, decoded: &FrameTiming) -> Vec<Finding> {
    let at = Location::file(name);
    let mut found = Vec::new();
    let mut disagreements = Vec::new();
    if let Some(frames) = v.frame_count.filter(|&f| f != decoded.count) {
        disagreements.push(format!(
            "the headers present {frames} frames, ffmpeg decodes {}",
            decoded.count
        ));
    }
    // Edits may end mid-frame and writers round: a few frames of slack, at least a quarter second.
    let frame = v.fps.map_or(0.05, |fps| 1.0 / fps);
    let slack = (3.0 * frame).max(0.25);
    if let Some(duration) = v.duration_s {
        // With a leading empty edit, tools differ on whether the gap counts (M024 says so).
        let gap = v.leading_gap_s.unwrap_or(0.0);
        let near = |seconds: f64| (seconds - decoded.span_s).abs() <= slack;
        if !near(duration) && !near(duration - gap) {
            disagreements.push(format!(
                "the headers give {duration:.2} s, the decoded frames span {:.2} s",
                decoded.span_s
            ));
        }
    }
    if !disagreements.is_empty() {
        found.push(Finding::new(
            &DEEP_DISAGREES,
            at.clone(),
            format!(
                "{}; billed as {:.2} s",
                disagreements.join("; "),
                v.duration_s.unwrap_or(0.0)
            ),
        ));
    }
    if decoded.variable_rate() && !v.variable_frame_rate {
        found.push(Finding::new(
            &VARIABLE_FRAME_RATE,
            at,
            format!(
                "variable frame rate: decoded frames come {:.1} to {:.1} ms apart",
                decoded.shortest_interval_s.unwrap_or(0.0) * 1000.0,
                decoded.longest_interval_s.unwrap_or(0.0) * 1000.0
            ),
        ));
    }
    found
}

/// Longest leading empty edit that is not worth a warning (writers leave a few milliseconds
/// when audio starts first).
const GAP_TOLERANCE_S: f64 = 0.1;

/// The container may differ from the video stream by this much before it is worth saying.
const CONTAINER_TOLERANCE_S: f64 = 0.5;

/// Timing damage, encryption, decoder configuration, and what the timing means for the bill.
fn check_video_integrity(v: &VideoInfo, at: Location, findings: &mut Findings) {
    for problem in &v.timing_problems {
        findings.push(Finding::new(&TIMING_DAMAGED, at.clone(), problem.clone()));
    }
    if v.encrypted {
        findings.push(Finding::new(
            &ENCRYPTED,
            at.clone(),
            format!(
                "the video track is encrypted ({} inside 'encv'); the platform cannot decode it",
                v.codec_name()
            ),
        ));
    }
    if let Some(problem) = &v.codec_config_problem {
        findings.push(Finding::new(&CODEC_CONFIG, at.clone(), problem.clone()));
    }
    if let Some(gap) = v.leading_gap_s.filter(|&gap| gap >= GAP_TOLERANCE_S) {
        findings.push(Finding::new(
            &EDIT_LIST_GAP,
            at.clone(),
            format!(
                "the first {gap:.2} s show no picture (an empty edit before the first frame); \
                 the video stream is measured at {:.2} s",
                v.duration_s.unwrap_or(0.0)
            ),
        ));
    }
    if let (Some(video), Some(container)) = (v.duration_s, v.container_duration_s)
        && (container - video).abs() > CONTAINER_TOLERANCE_S
    {
        findings.push(Finding::new(
            &CONTAINER_DURATION,
            at.clone(),
            format!(
                "the container lasts {container:.2} s but the video stream {video:.2} s; \
                 billed as {video:.2} s (the video stream's), which the platform does not \
                 document"
            ),
        ));
    }
    if v.variable_frame_rate {
        findings.push(Finding::new(
            &VARIABLE_FRAME_RATE,
            at,
            match v.fps {
                Some(fps) => format!("variable frame rate, {fps:.2} fps on average"),
                None => "variable frame rate".to_string(),
            },
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

/// M012: a first or last frame shaped differently from its clip. A clip is measured as displayed
/// (pixel aspect and rotation applied); an image as stored and, when its EXIF orientation turns
/// it by 90°, turned too: it is reported only when no reading matches.
fn check_aspect_ratios(cx: &Context, findings: &mut Findings) {
    let readings = |entry: Option<&str>| -> Vec<(u32, u32)> {
        let readings = match cx.media_of(entry.unwrap_or_default()) {
            Some(Ok(MediaInfo::Image(image))) => image.readings(),
            Some(Ok(info)) => vec![info.dimensions()],
            _ => Vec::new(),
        };
        readings
            .into_iter()
            .filter(|&(w, h)| w > 0 && h > 0)
            .collect()
    };
    for (i, sample) in cx.dataset.samples.iter().enumerate() {
        let Some(&(vw, vh)) = readings(cx.references.entry_for(i, PathField::Video)).first() else {
            continue;
        };
        let clip_ratio = f64::from(vw) / f64::from(vh);
        let differs = |&(w, h): &(u32, u32)| {
            let ratio = f64::from(w) / f64::from(h);
            (ratio - clip_ratio).abs() / clip_ratio > ASPECT_TOLERANCE
        };
        for field in [PathField::FirstFrame, PathField::LastFrame] {
            let frame = readings(cx.references.entry_for(i, field));
            if frame.is_empty() || !frame.iter().all(differs) {
                continue;
            }
            let (iw, ih) = frame[0];
            let ratio = f64::from(iw) / f64::from(ih);
            let turned = if frame.len() > 1 {
                " (turned by its EXIF orientation, it does not match either)"
            } else {
                ""
            };
            findings.push(Finding::new(
                &ASPECT_MISMATCH,
                cx.dataset.location_of(sample),
                format!(
                    "{} is {iw}×{ih} (ratio {ratio:.3}){turned} but its clip is displayed \
                     {vw}×{vh} (ratio {clip_ratio:.3})",
                    field.key()
                ),
            ));
        }
    }
}
