//! The ffmpeg arguments of each fix, and the arithmetic of the sizes they produce.
//!
//! Every encode is single-threaded (decoder, filters and encoder), which keeps its output the
//! same on any machine with the same ffmpeg, and lets one encode per core run side by side.
//! Metadata that varies between runs (creation times, encoder version strings) is dropped.

use std::ffi::OsString;
use std::path::Path;

use crate::media::ffmpeg::file_url;

/// Image format a converted image is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageTarget {
    /// For photos (JPEG, HEIF, AVIF sources): compact, and they were lossy already.
    Jpeg,
    /// For everything else (GIF, TIFF, PNG, BMP, WEBP): lossless.
    Png,
}

impl ImageTarget {
    pub fn extension(self) -> &'static str {
        match self {
            ImageTarget::Jpeg => "jpg",
            ImageTarget::Png => "png",
        }
    }
}

/// How a clip is cut to the model's maximum duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Trim {
    /// Keep this many frames, when the frame rate is known: exact, unlike a time limit, which
    /// keeps the frame that *starts* just before it and so ends just after it.
    pub frames: Option<u64>,
    /// Stop every stream (audio too) at this time.
    pub seconds: f64,
}

impl Trim {
    /// The cut to at most `max_seconds` at `fps` frames per second (or by time alone).
    pub fn to(max_seconds: u32, fps: Option<f64>) -> Trim {
        let max = f64::from(max_seconds);
        match fps.filter(|f| f.is_finite() && *f > 0.0) {
            Some(fps) => {
                // The epsilon keeps 10 s at exactly 30 fps at 300 frames despite rounding.
                let frames = (max * fps + 1e-6).floor().max(1.0);
                Trim {
                    frames: Some(frames as u64),
                    seconds: frames / fps,
                }
            }
            None => Trim {
                frames: None,
                seconds: max,
            },
        }
    }
}

/// The size a `width`×`height` picture is scaled to so that it has at most `max_pixels`
/// pixels (if given) and no side above `max_side`, keeping its aspect ratio, never enlarging;
/// with `even`, both sides are rounded down to even numbers (4:2:0 video needs them).
///
/// The same arithmetic as [`scale_filter`], which ffmpeg evaluates on the decoded frames.
pub fn fitted_size(
    width: u32,
    height: u32,
    max_pixels: Option<u64>,
    max_side: u32,
    even: bool,
) -> (u32, u32) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let mut factor = 1f64
        .min(f64::from(max_side) / w)
        .min(f64::from(max_side) / h);
    if let Some(max_pixels) = max_pixels {
        factor = factor.min((max_pixels as f64 / (w * h)).sqrt());
    }
    let side = |v: f64| -> u32 {
        let scaled = if even {
            ((v * factor) / 2.0).trunc() * 2.0
        } else {
            (v * factor).trunc()
        };
        scaled.max(if even { 2.0 } else { 1.0 }) as u32
    };
    (side(w), side(h))
}

/// ffmpeg's `scale` filter computing [`fitted_size`] from the input's own size.
pub fn scale_filter(max_pixels: Option<u64>, max_side: u32, even: bool) -> String {
    let mut factor = format!("min(1,min({max_side}/iw,{max_side}/ih))");
    if let Some(max_pixels) = max_pixels {
        factor = format!("min({factor},sqrt({max_pixels}/(iw*ih)))");
    }
    let side = |v: &str| {
        if even {
            format!("max(2,trunc({v}*{factor}/2)*2)")
        } else {
            format!("max(1,trunc({v}*{factor}))")
        }
    };
    format!("scale=w='{}':h='{}'", side("iw"), side("ih"))
}

/// Options that keep output identical from run to run.
const REPRODUCIBLE: &[&str] = &[
    "-map_metadata",
    "-1",
    "-map_chapters",
    "-1",
    "-fflags",
    "+bitexact",
    "-flags:v",
    "+bitexact",
];

/// A part of the picture in fractions of its width and height (as displayed).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropBox {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl CropBox {
    /// ffmpeg's `crop` filter for this box, on even pixel bounds (4:2:0 needs them).
    pub fn filter(&self) -> String {
        let even = |v: f64, of: &str| format!("trunc({of}*{v:.6}/2)*2");
        format!(
            "crop=w='{}':h='{}':x='{}':y='{}'",
            even(self.w, "iw"),
            even(self.h, "ih"),
            even(self.x, "iw"),
            even(self.y, "ih")
        )
    }
}

/// What a clip's fix changes in its picture and timeline, besides format and size.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ClipEdit {
    /// Keep only `start..end` seconds (one shot of a clip with cuts).
    pub shot: Option<(f64, f64)>,
    /// Keep only this part of the picture (dark bars cropped away).
    pub crop: Option<CropBox>,
}

/// Re-encodes a clip to H.264 in MP4 (yuv420p, index first), within `max_pixels` and 4096 px,
/// audio (if any) to AAC, optionally trimmed.
pub fn video_args(max_pixels: u64, max_side: u32, trim: Option<Trim>) -> Vec<String> {
    edited_video_args(max_pixels, max_side, trim, &ClipEdit::default())
}

/// [`video_args`] with `edit` applied first: the shot cut out (video and audio), then the crop.
pub fn edited_video_args(
    max_pixels: u64,
    max_side: u32,
    trim: Option<Trim>,
    edit: &ClipEdit,
) -> Vec<String> {
    let mut filters = Vec::new();
    let mut audio = Vec::new();
    if let Some((start, end)) = edit.shot {
        filters.push(format!(
            "trim=start={start:.6}:end={end:.6},setpts=PTS-STARTPTS"
        ));
        audio.push(format!(
            "atrim=start={start:.6}:end={end:.6},asetpts=PTS-STARTPTS"
        ));
    }
    if let Some(crop) = &edit.crop {
        filters.push(crop.filter());
    }
    filters.push(scale_filter(Some(max_pixels), max_side, true));
    let video_filter = filters.join(",");
    let mut args: Vec<String> = [
        "-map",
        "0:v:0",
        "-map",
        "0:a:0?",
        "-vf",
        &video_filter,
        "-filter_threads",
        "1",
        "-c:v",
        "libx264",
        "-preset",
        "medium",
        "-crf",
        "18",
        "-pix_fmt",
        "yuv420p",
        "-threads",
        "1",
        "-c:a",
        "aac",
        "-b:a",
        "128k",
        "-flags:a",
        "+bitexact",
    ]
    .map(String::from)
    .to_vec();
    if !audio.is_empty() {
        args.extend(["-af".to_string(), audio.join(",")]);
    }
    if let Some(trim) = trim {
        if let Some(frames) = trim.frames {
            args.extend(["-frames:v".to_string(), frames.to_string()]);
        }
        args.extend(["-t".to_string(), format!("{:.6}", trim.seconds)]);
    }
    args.extend(REPRODUCIBLE.iter().map(|s| s.to_string()));
    args.extend(["-movflags", "+faststart", "-f", "mp4"].map(String::from));
    args
}

/// Writes the first frame of an image (or animation) as `target`, within `max_side` px.
pub fn image_args(target: ImageTarget, max_side: u32) -> Vec<String> {
    cropped_image_args(target, max_side, None)
}

/// [`image_args`] keeping only `crop` of the picture.
pub fn cropped_image_args(
    target: ImageTarget,
    max_side: u32,
    crop: Option<CropBox>,
) -> Vec<String> {
    let mut filters: Vec<String> = crop.iter().map(CropBox::filter).collect();
    filters.push(scale_filter(None, max_side, false));
    let filter = filters.join(",");
    let mut args: Vec<String> = [
        "-map",
        "0:v:0",
        "-frames:v",
        "1",
        "-vf",
        &filter,
        "-filter_threads",
        "1",
    ]
    .map(String::from)
    .to_vec();
    let codec: &[&str] = match target {
        // Alpha is dropped: inference refuses PNGs with alpha, and training frames are opaque.
        ImageTarget::Png => &["-c:v", "png", "-pix_fmt", "rgb24"],
        ImageTarget::Jpeg => &["-c:v", "mjpeg", "-q:v", "2", "-pix_fmt", "yuvj420p"],
    };
    args.extend(codec.iter().map(|s| s.to_string()));
    args.extend(REPRODUCIBLE.iter().map(|s| s.to_string()));
    args.extend(["-f", "image2", "-update", "1"].map(String::from));
    args
}

/// Writes the last frame of a clip as `target`: every frame is decoded and each replaces the
/// one before in the output, so the file ends up holding the last one decoded.
pub fn last_frame_args(target: ImageTarget, max_side: u32) -> Vec<String> {
    let mut args = image_args(target, max_side);
    // Drop `-frames:v 1`: the last frame, not the first, is wanted.
    if let Some(at) = args.iter().position(|a| a == "-frames:v") {
        args.drain(at..at + 2);
    }
    args
}

/// The whole command line: quiet, single-threaded decoding of `input`, `middle`, `output`.
pub fn command(input: &Path, middle: &[String], output: &Path) -> Vec<OsString> {
    let mut args: Vec<OsString> = [
        "-nostdin",
        "-hide_banner",
        "-v",
        "error",
        "-y",
        "-threads",
        "1",
        "-i",
    ]
    .map(OsString::from)
    .to_vec();
    args.push(file_url(input));
    args.extend(middle.iter().map(OsString::from));
    args.push(file_url(output));
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fitted_sizes_keep_aspect_never_enlarge_and_respect_both_limits() {
        assert_eq!(fitted_size(1920, 1080, Some(36864), 4096, true), (256, 144));
        assert_eq!(fitted_size(100, 80, Some(36864), 4096, true), (100, 80));
        assert_eq!(fitted_size(101, 81, Some(36864), 4096, true), (100, 80));
        // At a side limit, rounding may land one pixel short of it, never beyond.
        let (w, h) = fitted_size(8000, 30, Some(262_144), 4096, true);
        assert!((4094..=4096).contains(&w) && h == 14, "{w}x{h}");
        let (w, h) = fitted_size(6000, 4000, None, 4096, false);
        assert!(
            (4095..=4096).contains(&w) && (2730..=2731).contains(&h),
            "{w}x{h}"
        );
        assert_eq!(fitted_size(4096, 4096, None, 4096, false), (4096, 4096));
        for (w, h) in [
            (1280, 720),
            (720, 1280),
            (3840, 2160),
            (641, 479),
            (1, 5000),
        ] {
            for max_pixels in [16_384, 36_864, 102_400, 262_144] {
                let (fw, fh) = fitted_size(w, h, Some(max_pixels), 4096, true);
                assert!(
                    u64::from(fw) * u64::from(fh) <= max_pixels.max(4),
                    "{w}x{h}"
                );
                assert!(fw % 2 == 0 && fh % 2 == 0 && fw <= w.max(2) && fh <= h.max(2));
            }
        }
    }

    #[test]
    fn trims_are_exact_in_frames_when_the_rate_is_known() {
        let t = Trim::to(10, Some(30.0));
        assert_eq!(t.frames, Some(300));
        assert!((t.seconds - 10.0).abs() < 1e-9);
        let ntsc = Trim::to(5, Some(30000.0 / 1001.0));
        assert_eq!(ntsc.frames, Some(149));
        assert!(ntsc.seconds <= 5.0);
        assert_eq!(Trim::to(5, None).frames, None);
    }

    #[test]
    fn commands_name_files_as_urls_and_choose_codecs() {
        let video = video_args(36864, 4096, Some(Trim::to(5, Some(24.0))));
        let joined = video.join(" ");
        assert!(joined.contains("-c:v libx264") && joined.contains("-pix_fmt yuv420p"));
        assert!(joined.contains("-frames:v 120 -t 5.000000"), "{joined}");
        assert!(joined.contains("sqrt(36864/(iw*ih))"), "{joined}");
        let image = image_args(ImageTarget::Png, 4096).join(" ");
        assert!(image.contains("-frames:v 1") && image.contains("-c:v png"));
        let full = command(Path::new("in.gif"), &[], Path::new("out.png"));
        assert!(full.contains(&OsString::from("file:in.gif")));
        assert_eq!(full.last(), Some(&OsString::from("file:out.png")));
    }
}
