//! Real media made with ffmpeg at test time, cached under the target directory.
//!
//! A fixture's file name is its parameters in words plus a hash of them and of
//! [`GENERATOR_REVISION`], so a change to either makes a new file. Files are written under a
//! temporary name and renamed into place: tests running in parallel may build the same fixture
//! twice, but none ever sees a partial file. Clips are tiny by default (64x48, one second,
//! `ultrafast`) so that building them is quick.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use wanft::media::ffmpeg::Ffmpeg;

use super::ffprobe;

/// Bump when the ffmpeg arguments below change, to rebuild cached fixtures.
const GENERATOR_REVISION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    H264,
    Hevc,
    Mpeg4,
    Vp9,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoContainer {
    Mp4,
    Mov,
    Mkv,
}

impl VideoContainer {
    pub fn extension(self) -> &'static str {
        match self {
            VideoContainer::Mp4 => "mp4",
            VideoContainer::Mov => "mov",
            VideoContainer::Mkv => "mkv",
        }
    }

    fn muxer(self) -> &'static str {
        match self {
            VideoContainer::Mp4 => "mp4",
            VideoContainer::Mov => "mov",
            VideoContainer::Mkv => "matroska",
        }
    }
}

/// A clip of ffmpeg's `testsrc2` pattern.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct VideoSpec {
    pub width: u32,
    pub height: u32,
    pub seconds: f64,
    pub fps: u32,
    pub codec: Codec,
    pub container: VideoContainer,
    /// Clockwise display rotation written to the track matrix (90, 180 or 270).
    pub rotation: Option<u16>,
    /// Index (`moov`) before the media data instead of after it.
    pub faststart: bool,
    /// Fragmented MP4/MOV: an empty `moov`, then `moof`+`mdat` pairs, one per key frame.
    pub fragmented: bool,
    /// A single audio track and no video.
    pub audio_only: bool,
    /// Also an audio track, stored before the video track.
    pub audio: bool,
    /// Video bitrate in kbit/s, to make clips of a chosen size; `None` for the encoder default.
    pub bitrate_kbps: Option<u32>,
}

impl Default for VideoSpec {
    fn default() -> Self {
        VideoSpec {
            width: 64,
            height: 48,
            seconds: 1.0,
            fps: 24,
            codec: Codec::H264,
            container: VideoContainer::Mp4,
            rotation: None,
            faststart: false,
            fragmented: false,
            audio_only: false,
            audio: false,
            bitrate_kbps: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageKind {
    Jpeg,
    Png,
    Bmp,
    Webp,
    Gif,
    Tiff,
}

impl ImageKind {
    pub const ALL: [ImageKind; 6] = [
        ImageKind::Jpeg,
        ImageKind::Png,
        ImageKind::Bmp,
        ImageKind::Webp,
        ImageKind::Gif,
        ImageKind::Tiff,
    ];

    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Bmp => "bmp",
            ImageKind::Webp => "webp",
            ImageKind::Gif => "gif",
            ImageKind::Tiff => "tiff",
        }
    }

    fn encoder_args(self) -> &'static [&'static str] {
        match self {
            ImageKind::Jpeg => &["-c:v", "mjpeg", "-pix_fmt", "yuvj420p"],
            ImageKind::Png => &["-c:v", "png"],
            ImageKind::Bmp => &["-c:v", "bmp"],
            ImageKind::Webp => &["-c:v", "libwebp"],
            ImageKind::Gif => &["-c:v", "gif"],
            ImageKind::Tiff => &["-c:v", "tiff"],
        }
    }
}

/// A still frame of `testsrc2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSpec {
    pub width: u32,
    pub height: u32,
    pub format: ImageKind,
}

/// The path of a clip matching `spec`, built on first use.
pub fn video(spec: VideoSpec) -> PathBuf {
    let name = format!(
        "{:?}-{}x{}-{}s-{}fps-{}kbps-rot{}-{}{}{}",
        spec.codec,
        spec.width,
        spec.height,
        spec.seconds,
        spec.fps,
        spec.bitrate_kbps.unwrap_or(0),
        spec.rotation.unwrap_or(0),
        match (spec.container, spec.fragmented, spec.faststart) {
            (VideoContainer::Mkv, _, _) => "mkv",
            (_, true, _) => "fragmented",
            (_, false, true) => "moov-first",
            (_, false, false) => "moov-last",
        },
        if spec.audio { "-audio" } else { "" },
        if spec.audio_only { "-audio-only" } else { "" },
    );
    cached(&name, &spec, spec.container.extension(), |out| {
        build_video(&spec, out)
    })
}

/// The path of an image matching `spec`, built on first use.
pub fn image(spec: ImageSpec) -> PathBuf {
    let name = format!("{}x{}", spec.width, spec.height);
    cached(&name, &spec, spec.format.extension(), |out| {
        // RGB: in 4:2:0, testsrc2 rounds odd sizes down to even ones.
        let source = format!("testsrc2=size={}x{},format=rgb24", spec.width, spec.height);
        let mut args = args_of(&["-f", "lavfi", "-i", &source, "-frames:v", "1"]);
        args.extend(args_of(spec.format.encoder_args()));
        args.extend(args_of(&["-f", "image2", "-update", "1"]));
        args.push(out.into());
        run_ffmpeg(&args);
    })
}

/// A file made by ffmpeg with `args` (inputs, codecs, options; the output path is appended),
/// for what [`VideoSpec`] does not describe: lossless cuts, B-frames, fragment flags. Built on
/// first use and cached like the others.
pub fn made_with(name: &str, extension: &str, args: &[&str]) -> PathBuf {
    cached(name, &args, extension, |out| {
        let mut full = args_of(args);
        full.push(out.into());
        run_ffmpeg(&full);
    })
}

/// The fixture directory, inside the target directory Cargo gives integration tests.
pub fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("test-fixtures")
}

fn cached(
    name: &str,
    spec: &impl std::fmt::Debug,
    extension: &str,
    build: impl FnOnce(&Path),
) -> PathBuf {
    let digest = Sha256::digest(format!("{GENERATOR_REVISION} {spec:?}"));
    let dir = fixture_dir();
    let path = dir.join(format!("{name}-{}.{extension}", hex::encode(&digest[..6])));
    if path.exists() {
        return path;
    }
    fs::create_dir_all(&dir).expect("create the fixture directory");
    let partial = tempfile::Builder::new()
        .prefix(".partial-")
        .suffix(&format!(".{extension}"))
        .tempfile_in(&dir)
        .expect("create a temporary fixture file");
    build(partial.path());
    partial.persist(&path).expect("move the fixture into place");
    path
}

fn build_video(spec: &VideoSpec, out: &Path) {
    let mut args = Vec::new();
    let duration = spec.seconds.to_string();
    if !spec.audio_only {
        let video = format!(
            "testsrc2=size={}x{}:rate={}:duration={duration}",
            spec.width, spec.height, spec.fps
        );
        args.extend(args_of(&["-f", "lavfi", "-i", &video]));
    }
    if spec.audio || spec.audio_only {
        let audio = format!("sine=frequency=440:sample_rate=48000:duration={duration}");
        args.extend(args_of(&["-f", "lavfi", "-i", &audio]));
    }
    if spec.audio_only {
        args.extend(args_of(&["-map", "0:a"]));
    } else if spec.audio {
        // Audio first, so that finding "the first video track" is actually exercised.
        args.extend(args_of(&["-map", "1:a", "-map", "0:v"]));
    }
    if !spec.audio_only {
        args.extend(args_of(codec_args(spec.codec)));
        if let Some(kbps) = spec.bitrate_kbps {
            args.extend(args_of(&["-b:v", &format!("{kbps}k")]));
        }
    }
    if spec.audio || spec.audio_only {
        args.extend(args_of(&["-c:a", "aac", "-b:a", "64k"]));
    }
    args.extend(container_args(spec));
    match spec.rotation {
        None => {
            args.push(out.into());
            run_ffmpeg(&args);
        }
        Some(rotation) => {
            let unrotated = out.with_extension(format!("unrotated.{}", spec.container.extension()));
            args.push(unrotated.clone().into());
            run_ffmpeg(&args);
            rotate(spec, &unrotated, out, rotation);
            let _ = fs::remove_file(&unrotated);
        }
    }
}

fn codec_args(codec: Codec) -> &'static [&'static str] {
    match codec {
        Codec::H264 => &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
        Codec::Hevc => &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error",
            "-pix_fmt",
            "yuv420p",
            "-tag:v",
            "hvc1",
        ],
        Codec::Mpeg4 => &["-c:v", "mpeg4"],
        Codec::Vp9 => &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
        ],
    }
}

fn container_args(spec: &VideoSpec) -> Vec<OsString> {
    let mut args = Vec::new();
    if spec.container != VideoContainer::Mkv {
        let mut flags = String::new();
        if spec.faststart {
            flags.push_str("+faststart");
        }
        if spec.fragmented {
            flags.push_str("+frag_keyframe+empty_moov");
        }
        if !flags.is_empty() {
            args.extend(args_of(&["-movflags", &flags]));
        }
    }
    args.extend(args_of(&["-f", spec.container.muxer()]));
    args
}

/// Remuxes `input` with a display rotation of `rotation` degrees clockwise.
///
/// How to ask ffmpeg for one has changed across versions (the `rotate` tag, with a sign that
/// flipped, then `-display_rotation`), so each way is tried and ffprobe decides which worked.
fn rotate(spec: &VideoSpec, input: &Path, out: &Path, rotation: u16) {
    let counter_clockwise = ((360 - u32::from(rotation)) % 360).to_string();
    let clockwise = rotation.to_string();
    let attempts: [(&[&str], &[&str]); 3] = [
        (&["-display_rotation", &counter_clockwise], &[]),
        (
            &[],
            &["-metadata:s:v:0", &format!("rotate={counter_clockwise}")],
        ),
        (&[], &["-metadata:s:v:0", &format!("rotate={clockwise}")]),
    ];
    for (input_options, output_options) in attempts {
        let mut args = args_of(input_options);
        args.extend(args_of(&["-i"]));
        args.push(input.into());
        args.extend(args_of(&["-map", "0", "-c", "copy"]));
        args.extend(args_of(output_options));
        args.extend(container_args(spec));
        args.push(out.into());
        if try_ffmpeg(&args).is_ok() && ffprobe::video_stream(out).rotation == rotation {
            return;
        }
    }
    panic!(
        "this ffmpeg cannot write a rotation of {rotation} degrees into {}",
        out.display()
    );
}

fn ffmpeg() -> Ffmpeg {
    Ffmpeg::find().expect(
        "ffmpeg is required to build test fixtures: install it (apt-get install ffmpeg) or set \
         WANFT_FFMPEG to its path",
    )
}

fn run_ffmpeg(args: &[OsString]) {
    if let Err(message) = try_ffmpeg(args) {
        panic!("{message}");
    }
}

fn try_ffmpeg(args: &[OsString]) -> Result<(), String> {
    let mut full = args_of(&["-nostdin", "-hide_banner", "-v", "error", "-y"]);
    full.extend_from_slice(args);
    let output = ffmpeg().run(&full).map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "ffmpeg {full:?} failed ({}):\n{}",
            output.status, output.stderr
        ))
    }
}

fn args_of(args: &[&str]) -> Vec<OsString> {
    args.iter().map(OsString::from).collect()
}
