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
    name: "fps-unknown",
    severity: Warning,
    summary: "A clip's frame rate cannot be determined from its headers.",
    why: "Undocumented: clips are resampled to the model's frame rate; without one the result \
          is unpredictable.",
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
