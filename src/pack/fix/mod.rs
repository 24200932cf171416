//! `--fix`: re-encodes, with ffmpeg, the media the platform refuses or would shrink anyway.
//!
//! Clips are re-encoded to H.264 MP4 when they are in another container or codec, above
//! `max_pixels` (downscaled, aspect kept, even sides, never enlarged), wider or taller than
//! 4096 px, or longer than the model's maximum (trimmed). Images the platform does not take
//! (GIF, TIFF, HEIF, AVIF) are converted, and images above 4096 px downscaled: photos (JPEG,
//! HEIF, AVIF) to JPEG, everything else to lossless PNG; animations keep their first frame.
//!
//! With `check --deep` data (which `pack --fix` gathers), a clip with cuts is cut to its
//! longest shot and dark bars are cropped away; images paired with a cropped clip are cropped
//! the same way; with `--derive-frames`, first and last-frame images that are not their clip's
//! frames (or no longer are, once the clip is cut) are taken from the clip itself
//! ([`visual`]).
//!
//! Originals are never written to. Fixed copies go to a cache folder under a key made of the
//! source's content (SHA-256), the fix's parameters and the ffmpeg version, so a second pack
//! reuses them and an edited source gets a new copy. A folder and its zip share the same
//! fixed copies, since the key does not depend on where the bytes come from.

pub mod encode;
mod visual;

use std::collections::{BTreeSet, HashMap};
use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use super::digest::digest_reader;
use super::pipeline::Control;
use super::staging::Staged;
use super::writer::BUFFER_LEN;
use crate::check::{CheckReport, Probed};
use crate::dataset::Source;
use crate::media::ffmpeg::Ffmpeg;
use crate::media::{self, Container, Expect, ImageFormat, MediaError, MediaInfo};
use crate::rules::media::MAX_SIDE;
use crate::rules::paths::extension;
pub use encode::{ClipEdit, CropBox, ImageTarget, Trim, fitted_size};

/// Environment variable naming wanft's cache folder (fixed copies go to its `fixed/`).
pub use crate::cache::CACHE_ENV;

/// Bump when the encodes change, so that cached copies made the old way are not reused.
const FIX_REVISION: u32 = 2;

/// Clip extensions the platform takes.
const VIDEO_EXTENSIONS: [&str; 2] = ["mp4", "mov"];

/// The folder fixed copies go to: `$WANFT_CACHE_DIR/fixed`, else the user's cache folder
/// (`~/.cache/wanft/fixed` on Linux).
pub fn default_cache_dir() -> Option<PathBuf> {
    crate::cache::dir().map(|root| root.join("fixed"))
}

/// The limits fixed media are brought within.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Limits {
    /// Clips are downscaled to at most this many pixels.
    pub max_pixels: u64,
    /// Clips are trimmed to at most this many seconds.
    pub max_seconds: u32,
}

/// What a file is turned into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase", tag = "kind", content = "format")]
pub enum Target {
    /// H.264 MP4.
    Video,
    Image(ImageTarget),
}

impl Target {
    fn extension(self) -> &'static str {
        match self {
            Target::Video => "mp4",
            Target::Image(image) => image.extension(),
        }
    }
}

/// A file's format, size, resolution and duration, as far as its headers tell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaFacts {
    pub bytes: u64,
    /// Container or image format: `MP4`, `Matroska`, `GIF`…
    pub format: String,
    /// Video codec (`H.264`), for clips whose headers could be read.
    pub codec: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_s: Option<f64>,
}

impl MediaFacts {
    fn of(bytes: u64, probe: &Result<MediaInfo, MediaError>) -> MediaFacts {
        let mut facts = MediaFacts {
            bytes,
            format: "unknown".into(),
            codec: None,
            width: None,
            height: None,
            duration_s: None,
        };
        match probe {
            Ok(MediaInfo::Video(v)) => {
                facts.format = v.container.name().into();
                facts.codec = Some(v.codec_name().into());
                (facts.width, facts.height) = (Some(v.width), Some(v.height));
                facts.duration_s = v.duration_s;
            }
            Ok(MediaInfo::Image(i)) => {
                facts.format = i.format.name().into();
                (facts.width, facts.height) = (Some(i.width), Some(i.height));
            }
            Err(MediaError::UnsupportedFormat(format)) => facts.format = format.clone(),
            Err(_) => {}
        }
        facts
    }
}

/// One file to fix: which, why, and into what.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The dataset entry holding the original.
    pub entry: String,
    /// The member name it had in the archive.
    pub member: String,
    /// The member name of the fixed copy (the extension may change).
    pub renamed: String,
    pub target: Target,
    /// Why it is fixed, one phrase per problem.
    pub reasons: Vec<String>,
    pub before: MediaFacts,
    /// For clips over the maximum duration whose headers could be read.
    pub trim: Option<Trim>,
    /// Shot and crop (clips), crop (images).
    pub edit: ClipEdit,
    /// For an image taken from a clip instead of its own content.
    pub derive: Option<Derive>,
}

/// A first or last-frame image taken from its clip (`--derive-frames`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derive {
    /// The clip's dataset entry (its fixed copy is used when the clip is fixed too).
    pub clip: String,
    /// The last frame rather than frame 0.
    pub last: bool,
}

/// A fix done (or found in the cache).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fixed {
    /// The dataset entry holding the original.
    pub source: String,
    /// The original member name.
    pub member: String,
    /// The fixed copy's member name.
    pub renamed: String,
    pub reasons: Vec<String>,
    pub before: MediaFacts,
    pub after: MediaFacts,
    /// True when the copy came from the cache.
    pub cached: bool,
    /// The fixed copy.
    pub file: PathBuf,
}

/// Why fixing failed.
#[derive(Debug, thiserror::Error)]
pub enum FixError {
    #[error(
        "--fix needs ffmpeg to re-encode {count} file(s), and it is not installed (apt-get install ffmpeg, or set WANFT_FFMPEG)"
    )]
    NoFfmpeg { count: usize },
    #[error(
        "--fix has no cache folder to write to: set {CACHE_ENV} (fixed copies go to its fixed/ folder)"
    )]
    NoCacheDir,
    #[error("cannot use the cache folder `{}`", path.display())]
    Cache {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot read `{entry}`")]
    Read {
        entry: String,
        #[source]
        source: io::Error,
    },
    #[error("ffmpeg does not run")]
    FfmpegUnusable(#[source] io::Error),
    #[error("ffmpeg could not fix `{entry}`: {message}")]
    Ffmpeg { entry: String, message: String },
    #[error("interrupted")]
    Cancelled,
}

/// The files of `report` that need a fix within `limits`, in member order; with `check
/// --deep` data, also the shot, crop and (`derive_frames`) frame-image fixes.
pub fn plan(report: &CheckReport, limits: Limits, derive_frames: bool) -> Vec<Job> {
    let mut taken: BTreeSet<String> = report
        .pack_plan
        .media
        .iter()
        .map(|(m, _)| m.name.clone())
        .collect();
    let mut jobs = Vec::new();
    for (member, entry) in &report.pack_plan.media {
        let Some(probed) = report.media.get(entry) else {
            continue;
        };
        let Some((target, reasons, trim)) = diagnose(&member.name, probed, limits) else {
            continue;
        };
        let renamed = free_name(&member.name, target.extension(), &mut taken);
        jobs.push(Job {
            entry: entry.clone(),
            member: member.name.clone(),
            renamed,
            target,
            reasons,
            before: MediaFacts::of(probed.size, &probed.result),
            trim,
            edit: ClipEdit::default(),
            derive: None,
        });
    }
    visual::plan(report, limits, derive_frames, &mut jobs, &mut taken);
    jobs.sort_by(|a, b| a.member.cmp(&b.member));
    jobs
}

/// What is wrong with a file that a fix can mend, if anything.
fn diagnose(
    name: &str,
    probed: &Probed,
    limits: Limits,
) -> Option<(Target, Vec<String>, Option<Trim>)> {
    let ext = extension(name);
    let mut reasons = Vec::new();
    let over_side = |w: u32, h: u32| w > MAX_SIDE || h > MAX_SIDE;
    match (probed.expect, &probed.result) {
        (Expect::Video, Err(MediaError::UnsupportedFormat(format))) => {
            reasons.push(format!("{format} files are not accepted"));
            Some((Target::Video, reasons, None))
        }
        (Expect::Video, Ok(MediaInfo::Video(v))) => {
            if !VIDEO_EXTENSIONS.contains(&ext.as_str()) {
                reasons.push(format!("the extension .{ext} is not accepted"));
            }
            if !v.is_h264() {
                reasons.push(format!("encoded with {}, not H.264", v.codec_name()));
            }
            let pixels = u64::from(v.width) * u64::from(v.height);
            if pixels > limits.max_pixels {
                reasons.push(format!(
                    "{}×{} is above max_pixels {}",
                    v.width, v.height, limits.max_pixels
                ));
            } else if over_side(v.width, v.height) {
                reasons.push(format!("{}×{} is over {MAX_SIDE} px", v.width, v.height));
            }
            let trim = match v.duration_s {
                Some(d) if d > f64::from(limits.max_seconds) => {
                    reasons.push(format!("{d:.2} s is longer than {} s", limits.max_seconds));
                    Some(Trim::to(limits.max_seconds, v.fps))
                }
                _ => None,
            };
            (!reasons.is_empty()).then_some((Target::Video, reasons, trim))
        }
        (Expect::Image, Ok(MediaInfo::Image(image))) => {
            if !image.format.accepted() {
                reasons.push(format!("{} images are not accepted", image.format.name()));
            } else if !is_accepted_image_extension(&ext) {
                reasons.push(format!("the extension .{ext} is not accepted"));
            }
            if over_side(image.width, image.height) {
                reasons.push(format!(
                    "{}×{} is over {MAX_SIDE} px",
                    image.width, image.height
                ));
            }
            let target = match image.format {
                ImageFormat::Jpeg | ImageFormat::Heif | ImageFormat::Avif => ImageTarget::Jpeg,
                _ => ImageTarget::Png,
            };
            (!reasons.is_empty()).then_some((Target::Image(target), reasons, None))
        }
        _ => None,
    }
}

fn is_accepted_image_extension(ext: &str) -> bool {
    [
        ImageFormat::Jpeg,
        ImageFormat::Png,
        ImageFormat::Bmp,
        ImageFormat::Webp,
    ]
    .iter()
    .any(|f| f.extensions().contains(&ext))
}

/// `name` with extension `ext`, made unique among `taken` (`clip-fixed.mp4`, then
/// `clip-fixed2.mp4`…) unless it keeps its own name.
fn free_name(name: &str, ext: &str, taken: &mut BTreeSet<String>) -> String {
    let stem = match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() && !stem.ends_with('/') => stem,
        _ => name,
    };
    let wanted = format!("{stem}.{ext}");
    if wanted == name {
        return wanted;
    }
    let candidates = std::iter::once(wanted).chain((1..).map(|i| match i {
        1 => format!("{stem}-fixed.{ext}"),
        i => format!("{stem}-fixed{i}.{ext}"),
    }));
    for candidate in candidates {
        if !taken.contains(&candidate) {
            taken.remove(name);
            taken.insert(candidate.clone());
            return candidate;
        }
    }
    unreachable!("an unbounded sequence of names always has a free one")
}

/// Where fixes are made, and with what.
pub struct FixSettings {
    /// `None` when ffmpeg is not installed (an error only if something needs fixing).
    pub ffmpeg: Option<Ffmpeg>,
    /// `None` when there is no cache folder (likewise).
    pub cache_dir: Option<PathBuf>,
    /// `--derive-frames`: take mismatched first/last-frame images from their clips.
    pub derive_frames: bool,
}

impl FixSettings {
    /// ffmpeg from `PATH` or `WANFT_FFMPEG`, and [`default_cache_dir`].
    pub fn from_env() -> FixSettings {
        FixSettings {
            ffmpeg: Ffmpeg::find(),
            cache_dir: default_cache_dir(),
            derive_frames: false,
        }
    }
}

/// Runs `jobs` in parallel (one ffmpeg per core), reusing cached copies.
pub fn run(
    jobs: &[Job],
    source: &Source,
    settings: &FixSettings,
    limits: Limits,
    control: Control,
) -> Result<Vec<Fixed>, FixError> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    let ffmpeg = settings
        .ffmpeg
        .as_ref()
        .ok_or(FixError::NoFfmpeg { count: jobs.len() })?;
    let cache = settings.cache_dir.as_deref().ok_or(FixError::NoCacheDir)?;
    let cache_error = |source| FixError::Cache {
        path: cache.to_path_buf(),
        source,
    };
    fs::create_dir_all(cache).map_err(cache_error)?;
    let ffmpeg_version = ffmpeg.version().map_err(FixError::FfmpegUnusable)?;
    let fixer = Fixer {
        ffmpeg,
        ffmpeg_version,
        cache,
        source,
        limits,
        control,
    };
    control.progress.begin("fixing", jobs.len() as u64);
    // Frames are taken from the clips once those are fixed.
    let (derived, direct): (Vec<&Job>, Vec<&Job>) = jobs.iter().partition(|j| j.derive.is_some());
    let no_clips = HashMap::new();
    let mut fixed: Vec<Fixed> = direct
        .par_iter()
        .map(|job| {
            let result = fixer.fix(job, &no_clips);
            control.progress.advance(1);
            result
        })
        .collect::<Result<_, _>>()?;
    let clips: HashMap<&str, &Fixed> = fixed.iter().map(|f| (f.source.as_str(), f)).collect();
    let more: Vec<Fixed> = derived
        .par_iter()
        .map(|job| {
            let result = fixer.fix(job, &clips);
            control.progress.advance(1);
            result
        })
        .collect::<Result<_, _>>()?;
    control.progress.end();
    if control.cancelled() {
        return Err(FixError::Cancelled);
    }
    fixed.extend(more);
    fixed.sort_by(|a, b| a.member.cmp(&b.member));
    Ok(fixed)
}

struct Fixer<'a> {
    ffmpeg: &'a Ffmpeg,
    ffmpeg_version: String,
    cache: &'a Path,
    source: &'a Source,
    limits: Limits,
    control: Control<'a>,
}

impl Fixer<'_> {
    /// Fixes one file; `clips` are the fixed clips, by entry, that derived frames come from.
    fn fix(&self, job: &Job, clips: &HashMap<&str, &Fixed>) -> Result<Fixed, FixError> {
        // A derived frame's content is its clip's: the clip is what is read and keyed.
        let source_entry = job.derive.as_ref().map_or(&job.entry, |d| &d.clip);
        let read_error = |source| FixError::Read {
            entry: source_entry.clone(),
            source,
        };
        let entry = self.source.get(source_entry).ok_or_else(|| {
            read_error(io::Error::new(io::ErrorKind::NotFound, "the file is gone"))
        })?;
        let content = {
            let mut reader = self.source.open_entry(entry).map_err(read_error)?;
            let mut buffer = vec![0u8; BUFFER_LEN];
            digest_reader(&mut reader, entry.size, &mut buffer, &mut |_| {
                self.check_cancel()
            })
            .map_err(|e| self.cancelled_or(read_error(e)))?
        };
        let fixed_clip = job
            .derive
            .as_ref()
            .and_then(|d| clips.get(d.clip.as_str()))
            .map(|f| f.file.as_path());
        // A frame taken from a fixed clip depends on that fix too (whose file is its key).
        let from = fixed_clip.and_then(|p| p.file_name()).map_or_else(
            || "the original".to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let key = self.key(job, &content.sha256, &from);
        let file = self.cache.join(format!("{key}.{}", job.target.extension()));
        // A cached copy that does not read back as what it should be is made again.
        if let Ok(after) = probe_file(&file, job.target) {
            return Ok(self.record(job, file, after, true));
        }
        // ffmpeg needs a file it can seek in: zip members are copied out for the encode.
        let extracted;
        let input = match fixed_clip.or(entry.disk_path()) {
            Some(path) => path,
            None => {
                let copy = self
                    .cache
                    .join(format!("{key}.source.{}", extension(source_entry)));
                extracted = self.extract(entry, &copy).map_err(read_error)?;
                extracted.path()
            }
        };
        let after = self.encode(job, input, &file)?;
        Ok(self.record(job, file, after, false))
    }

    fn record(&self, job: &Job, file: PathBuf, after: MediaFacts, cached: bool) -> Fixed {
        Fixed {
            source: job.entry.clone(),
            member: job.member.clone(),
            renamed: job.renamed.clone(),
            reasons: job.reasons.clone(),
            before: job.before.clone(),
            after,
            cached,
            file,
        }
    }

    /// The cache key: everything the fixed copy depends on, hashed.
    fn key(&self, job: &Job, content_sha256: &[u8; 32], from: &str) -> String {
        let material = format!(
            "wanft fix r{FIX_REVISION}\nffmpeg {}\ncontent {}\ntarget {:?}\nmax_pixels {}\n\
             max_seconds {}\nmax_side {MAX_SIDE}\nedit {:?}\nderive {:?} from {from}\n",
            self.ffmpeg_version,
            hex::encode(content_sha256),
            job.target,
            self.limits.max_pixels,
            self.limits.max_seconds,
            job.edit,
            job.derive.as_ref().map(|d| d.last),
        );
        hex::encode(&Sha256::digest(material.as_bytes())[..16])
    }

    /// A temporary copy of a zip member (removed when dropped; never committed).
    fn extract(&self, entry: &crate::dataset::Entry, copy: &Path) -> io::Result<Staged> {
        let staged = Staged::create(copy)?;
        io::copy(&mut self.source.open_entry(entry)?, &mut staged.file())?;
        Ok(staged)
    }

    /// Encodes `input` into `file`, staged like the zip itself, so a cached copy is always
    /// whole and an interrupted encode leaves nothing the next run does not clear.
    fn encode(&self, job: &Job, input: &Path, file: &Path) -> Result<MediaFacts, FixError> {
        let cache_error = |source| FixError::Cache {
            path: self.cache.to_path_buf(),
            source,
        };
        let partial = Staged::create(file).map_err(cache_error)?;
        let mut after = self.run_ffmpeg(job, input, partial.path(), job.trim)?;
        // A clip whose frame rate was unknown (another container) was cut by time, which can
        // keep one frame too many: cut it again by frames now that the rate is known.
        if job.target == Target::Video
            && job.trim.is_none_or(|t| t.frames.is_none())
            && after
                .duration_s
                .is_some_and(|d| d > f64::from(self.limits.max_seconds))
        {
            let fps = probe_fps(partial.path());
            after = self.run_ffmpeg(
                job,
                input,
                partial.path(),
                Some(Trim::to(self.limits.max_seconds, fps)),
            )?;
        }
        partial.commit().map_err(cache_error)?;
        Ok(after)
    }

    fn run_ffmpeg(
        &self,
        job: &Job,
        input: &Path,
        output: &Path,
        trim: Option<Trim>,
    ) -> Result<MediaFacts, FixError> {
        let middle = match (job.target, &job.derive) {
            (Target::Video, _) => {
                encode::edited_video_args(self.limits.max_pixels, MAX_SIDE, trim, &job.edit)
            }
            (Target::Image(image), Some(d)) if d.last => encode::last_frame_args(image, MAX_SIDE),
            (Target::Image(image), _) => encode::cropped_image_args(image, MAX_SIDE, job.edit.crop),
        };
        let failed = |message: String| FixError::Ffmpeg {
            entry: job.entry.clone(),
            message,
        };
        let output_run = self
            .ffmpeg
            .run_cancellable(encode::command(input, &middle, output), self.control.cancel)
            .map_err(|e| self.cancelled_or(failed(e.to_string())))?;
        if !output_run.status.success() {
            let first = output_run.stderr.lines().find(|l| !l.trim().is_empty());
            return Err(failed(format!(
                "{} ({})",
                first.unwrap_or("no message").trim(),
                output_run.status
            )));
        }
        probe_file(output, job.target)
            .map_err(|e| failed(format!("its output cannot be read back: {e}")))
    }

    fn check_cancel(&self) -> io::Result<()> {
        if self.control.cancelled() {
            Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"))
        } else {
            Ok(())
        }
    }

    fn cancelled_or(&self, error: FixError) -> FixError {
        if self.control.cancelled() {
            FixError::Cancelled
        } else {
            error
        }
    }
}

/// Probes a fixed copy and checks it is what `target` promises.
fn probe_file(path: &Path, target: Target) -> Result<MediaFacts, MediaError> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    let expect = match target {
        Target::Video => Expect::Video,
        Target::Image(_) => Expect::Image,
    };
    let info = media::probe(&mut file, len, expect)?;
    let right_kind = match (&info, target) {
        (MediaInfo::Video(v), Target::Video) => v.container == Container::Mp4 && v.is_h264(),
        (MediaInfo::Image(i), Target::Image(ImageTarget::Png)) => i.format == ImageFormat::Png,
        (MediaInfo::Image(i), Target::Image(ImageTarget::Jpeg)) => i.format == ImageFormat::Jpeg,
        _ => false,
    };
    if !right_kind {
        return Err(MediaError::Malformed(format!(
            "expected {target:?}, found {:?}",
            MediaFacts::of(len, &Ok(info)).format
        )));
    }
    Ok(MediaFacts::of(len, &Ok(info)))
}

fn probe_fps(path: &Path) -> Option<f64> {
    let mut file = File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    match media::probe(&mut file, len, Expect::Video) {
        Ok(MediaInfo::Video(v)) => v.fps,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::media::{ImageInfo, VideoInfo};

    const LIMITS: Limits = Limits {
        max_pixels: 36864,
        max_seconds: 10,
    };

    fn video(width: u32, height: u32, seconds: f64, fourcc: &str) -> Probed {
        Probed {
            expect: Expect::Video,
            size: 1_000_000,
            result: Ok(MediaInfo::Video(VideoInfo {
                container: Container::Mp4,
                codec_fourcc: Some(fourcc.into()),
                coded_width: width,
                coded_height: height,
                width,
                height,
                rotation: 0,
                duration_s: Some(seconds),
                frame_count: None,
                fps: Some(24.0),
                ..VideoInfo::default()
            })),
        }
    }

    fn image(format: ImageFormat, width: u32, height: u32) -> Probed {
        Probed {
            expect: Expect::Image,
            size: 50_000,
            result: Ok(MediaInfo::Image(ImageInfo {
                format,
                width,
                height,
                exif_orientation: None,
                truncated: None,
            })),
        }
    }

    #[test]
    fn clips_within_limits_are_left_alone() {
        assert!(diagnose("a.mp4", &video(192, 192, 5.0, "avc1"), LIMITS).is_none());
        assert!(diagnose("a.mov", &video(160, 120, 10.0, "avc1"), LIMITS).is_none());
    }

    #[test]
    fn every_problem_of_a_clip_is_named_and_fixed_in_one_encode() {
        let (target, reasons, trim) =
            diagnose("a.mov", &video(1920, 1080, 12.5, "hvc1"), LIMITS).unwrap();
        assert_eq!(target, Target::Video);
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].contains("H.265"));
        assert!(reasons[1].contains("max_pixels 36864"));
        assert!(reasons[2].contains("12.50 s"));
        assert_eq!(trim.and_then(|t| t.frames), Some(240));
        let other = Probed {
            expect: Expect::Video,
            size: 10,
            result: Err(MediaError::UnsupportedFormat("Matroska".into())),
        };
        let (_, reasons, trim) = diagnose("a.mkv", &other, LIMITS).unwrap();
        assert_eq!(reasons, ["Matroska files are not accepted"]);
        assert_eq!(trim, None);
    }

    #[test]
    fn images_are_converted_by_kind() {
        let (target, ..) = diagnose("a.gif", &image(ImageFormat::Gif, 64, 48), LIMITS).unwrap();
        assert_eq!(target, Target::Image(ImageTarget::Png));
        let (target, ..) = diagnose("a.heic", &image(ImageFormat::Heif, 64, 48), LIMITS).unwrap();
        assert_eq!(target, Target::Image(ImageTarget::Jpeg));
        let (target, reasons, _) =
            diagnose("a.jpg", &image(ImageFormat::Jpeg, 5000, 3000), LIMITS).unwrap();
        assert_eq!(target, Target::Image(ImageTarget::Jpeg));
        assert_eq!(reasons, ["5000×3000 is over 4096 px"]);
        assert!(diagnose("a.jpeg", &image(ImageFormat::Jpeg, 4096, 4096), LIMITS).is_none());
        // Images are never held to max_pixels, which is about clips.
        assert!(diagnose("a.png", &image(ImageFormat::Png, 1920, 1080), LIMITS).is_none());
    }

    #[test]
    fn renamed_members_never_collide() {
        let mut taken: BTreeSet<String> = ["v/a.mkv", "v/a.mp4", "v/b.mkv", "x.mp4"]
            .map(String::from)
            .into();
        assert_eq!(free_name("v/a.mkv", "mp4", &mut taken), "v/a-fixed.mp4");
        assert_eq!(free_name("v/b.mkv", "mp4", &mut taken), "v/b.mp4");
        assert_eq!(free_name("x.mp4", "mp4", &mut taken), "x.mp4");
        taken.insert("y-fixed.png".into());
        taken.insert("y.png".into());
        assert_eq!(free_name("y.gif", "png", &mut taken), "y-fixed2.png");
        assert_eq!(free_name("noext", "png", &mut taken), "noext.png");
    }
}
