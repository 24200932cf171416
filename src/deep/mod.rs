//! Decode-level analysis (`check --deep`): what the pictures show, not what the headers say.
//!
//! Every file is decoded once, by one ffmpeg, at a small size (fitting
//! [`ANALYSIS_SIDE`]² pixels, display aspect kept) as packed RGB through a pipe; every measure
//! is taken from that one pass as the frames arrive ([`clip::ClipAnalyzer`]), files in parallel
//! (one per core), so memory holds a few frames per worker whatever the clips' lengths. A clip
//! is decoded together with the first and last-frame images its samples pair with it, so that
//! each image is compared with every frame as it goes by.
//!
//! What comes out ([`DeepReport`]) is facts: decode errors and frame timing per file, cuts,
//! motion, black frames, bars and overlays per clip, how each supplied frame image compares
//! with its frame, and which clips and pictures repeat across the set (or leak from the
//! training set into a validation set). [`crate::rules::deep`] turns them into findings; the
//! HTML report shows them.

pub mod clip;
pub mod compare;
pub mod hash;
pub mod raster;
mod settings;
pub mod thumbnail;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::io;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;

use crate::media::ffmpeg::{Decoded, Ffmpeg, FrameRequest, FrameTiming, file_url};
use crate::media::{ImageInfo, VideoInfo};
use crate::progress::Progress;
use clip::{BlackRun, ClipAnalyzer, Cut, Fade, Overlay, Target};
use compare::{Cause, Comparison};
use hash::PictureHash;
use raster::Raster;
pub use settings::Settings;

/// The longest side of the pictures the analysis looks at.
pub const ANALYSIS_SIDE: u32 = 160;

/// Frame hashes of a clip kept in the leakage index, at most.
const MAX_INDEXED_FRAMES: usize = 600;

/// Hashes of a clip compared with other clips when looking for duplicates.
const DUPLICATE_QUERIES: usize = 16;

/// The size a `width` × `height` picture is analysed at: within [`ANALYSIS_SIDE`] on both
/// sides, shape kept, never enlarged, at least 8 pixels a side.
pub fn analysis_size(width: u32, height: u32) -> (u32, u32) {
    let (w, h) = (width.max(1) as f64, height.max(1) as f64);
    let scale = (f64::from(ANALYSIS_SIDE) / w.max(h)).min(1.0);
    let fit = |v: f64| ((v * scale).round() as u32).max(8);
    (fit(w), fit(h))
}

/// What ffmpeg reads a file from; a temporary copy (a zip member) lives as long as this.
pub struct Input {
    pub url: OsString,
    _temporary: Option<tempfile::TempPath>,
}

impl Input {
    /// A file on disk.
    pub fn file(path: &Path) -> Input {
        Input {
            url: file_url(path),
            _temporary: None,
        }
    }

    /// An ffmpeg URL that needs nothing kept alive (a byte range of an archive, say).
    pub fn url(url: OsString) -> Input {
        Input {
            url,
            _temporary: None,
        }
    }

    /// A temporary copy, deleted when the input is dropped.
    pub fn temporary(path: tempfile::TempPath) -> Input {
        Input {
            url: file_url(&path),
            _temporary: Some(path),
        }
    }
}

/// What `check --deep` is asked for besides decoding.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The `D` rules' thresholds (`[deep]` in wanft.toml).
    pub settings: Settings,
    /// Keep small pictures of every file for the HTML report.
    pub thumbnails: bool,
    /// The training set's frames, when checking its validation set (leakage, D010).
    pub training: Option<Arc<FrameIndex>>,
}

/// Which frame an image stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    First,
    Last,
}

impl Role {
    pub fn noun(self) -> &'static str {
        match self {
            Role::First => "first frame",
            Role::Last => "last frame",
        }
    }
}

/// A clip to decode, with the images its samples pair with it.
pub struct ClipJob<'a> {
    pub name: &'a str,
    pub info: &'a VideoInfo,
    pub images: Vec<(&'a str, Role)>,
}

/// An image to decode.
pub struct ImageJob<'a> {
    pub name: &'a str,
    pub info: &'a ImageInfo,
    /// The role samples give it (first frames of a validation set, say), if any.
    pub role: Option<Role>,
    /// Where the first sample that uses it comes in the set: of two images showing the same
    /// picture, the later one is reported.
    pub order: usize,
}

/// Everything one deep pass is asked for.
pub struct Request<'a> {
    pub clips: Vec<ClipJob<'a>>,
    pub images: Vec<ImageJob<'a>>,
    pub settings: &'a Settings,
    /// Keep small JPEG pictures for the HTML report.
    pub thumbnails: bool,
    /// The training set's frames: images found there are leaks (checking a validation set).
    pub training: Option<&'a FrameIndex>,
    /// Opens a dataset entry for ffmpeg.
    pub open: &'a (dyn Fn(&str) -> io::Result<Input> + Sync),
    pub progress: &'a dyn Progress,
}

/// What decoding one file found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FileDecode {
    /// ffmpeg's error lines (empty: it decoded cleanly).
    pub errors: Vec<String>,
    /// Timing of the decoded frames (clips).
    pub timing: Option<FrameTiming>,
}

/// Small JPEG pictures of a clip: frame 0, frames across it, the last frame.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sheet {
    pub first: Vec<u8>,
    /// (time in seconds, picture).
    pub strip: Vec<(f64, Vec<u8>)>,
    pub last: Vec<u8>,
}

/// The measures of one clip.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipReport {
    pub frames: u64,
    pub seconds_per_frame: f64,
    /// Size the frames were analysed at.
    pub analysed: (usize, usize),
    pub cuts: Vec<Cut>,
    /// Motion score (0–255): how far the picture ever moves from its first frame.
    pub motion: f64,
    pub mean_change: f64,
    pub black_runs: Vec<BlackRun>,
    pub fades: Vec<Fade>,
    pub bars: clip::Bars,
    pub overlays: Vec<Overlay>,
    pub sheet: Option<Sheet>,
    first_hash: Option<PictureHash>,
    last_hash: Option<PictureHash>,
    signature: Vec<PictureHash>,
}

impl ClipReport {
    /// The shots between cuts (start and end frame, end exclusive), in order.
    pub fn shots(&self) -> Vec<(u64, u64)> {
        let mut bounds: Vec<u64> = self.cuts.iter().map(|c| c.frame).collect();
        bounds.insert(0, 0);
        bounds.push(self.frames);
        bounds.windows(2).map(|w| (w[0], w[1])).collect()
    }
}

/// One decoded image.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageReport {
    /// Size it was analysed at (as displayed).
    pub analysed: (usize, usize),
    pub thumbnail: Option<Vec<u8>>,
    hash: Option<PictureHash>,
}

/// How a supplied frame image compares with its clip's frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameCheck {
    pub image: String,
    pub clip: String,
    pub role: Role,
    pub comparison: Comparison,
    /// The image was compared as EXIF orientation turns it.
    pub exif_applied: bool,
}

/// A clip whose frames are (nearly) all frames of another.
#[derive(Debug, Clone, PartialEq)]
pub struct Duplicate {
    pub clip: String,
    pub of: String,
    /// Share of its sampled frames found in the other (0–1).
    pub share: f64,
}

/// Two images that show the same picture.
#[derive(Debug, Clone, PartialEq)]
pub struct SamePicture {
    pub image: String,
    pub of: String,
    /// Hash bits that differ (0–128).
    pub distance: u32,
}

/// A validation image found among the training set's frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Leak {
    pub image: String,
    /// The training clip (or image) it matches.
    pub source: String,
    /// Frame and time within that clip, for a clip.
    pub frame: Option<FrameAt>,
    pub distance: u32,
}

/// A frame number and its time in seconds.
pub type FrameAt = (u64, f64);

/// Hashes of a training set's frames and images, to find them in a validation set.
#[derive(Debug, Clone, Default)]
pub struct FrameIndex {
    names: Vec<String>,
    /// (hash, name index, frame and time for clips).
    entries: Vec<(PictureHash, usize, Option<FrameAt>)>,
}

impl FrameIndex {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The closest indexed picture within `bits`.
    fn find(&self, hash: PictureHash, bits: u32) -> Option<(&str, Option<FrameAt>, u32)> {
        self.entries
            .iter()
            .map(|(h, name, at)| (h.distance(hash), *name, *at))
            .filter(|(d, ..)| *d <= bits)
            .min_by_key(|(d, name, at)| (*d, *name, at.map(|a| a.0)))
            .map(|(d, name, at)| (self.names[name].as_str(), at, d))
    }
}

/// Everything a deep pass found.
#[derive(Debug, Clone, Default)]
pub struct DeepReport {
    pub files: BTreeMap<String, FileDecode>,
    pub clips: BTreeMap<String, ClipReport>,
    pub images: BTreeMap<String, ImageReport>,
    pub frame_checks: Vec<FrameCheck>,
    pub duplicates: Vec<Duplicate>,
    pub same_pictures: Vec<SamePicture>,
    pub leaks: Vec<Leak>,
    /// This set's frames, for a later check of its validation set.
    pub index: Arc<FrameIndex>,
}

/// What one unit of work (a clip and its images, or a lone image) produced.
#[derive(Default)]
struct UnitOutcome {
    files: Vec<(String, FileDecode)>,
    clip: Option<(String, ClipReport, Vec<Option<PictureHash>>)>,
    images: Vec<(String, ImageReport)>,
    checks: Vec<FrameCheck>,
}

/// Decodes every file of `request` and takes every measure.
pub fn run(ffmpeg: &Ffmpeg, request: &Request) -> DeepReport {
    // Each image is decoded once: with the first clip that pairs with it, else on its own.
    let mut owned: BTreeSet<&str> = BTreeSet::new();
    let mut clip_owns: Vec<Vec<&str>> = Vec::new();
    for job in &request.clips {
        let mine = job
            .images
            .iter()
            .map(|(name, _)| *name)
            .filter(|name| owned.insert(name))
            .collect();
        clip_owns.push(mine);
    }
    let lone: Vec<&ImageJob> = request
        .images
        .iter()
        .filter(|i| !owned.contains(i.name))
        .collect();
    let images: BTreeMap<&str, &ImageJob> = request.images.iter().map(|i| (i.name, i)).collect();
    let total = (request.clips.len() + request.images.len()) as u64;
    request.progress.begin("decoding", total);
    let clip_units = request
        .clips
        .par_iter()
        .zip(clip_owns.par_iter())
        .map(|(job, owns)| {
            let outcome = clip_unit(ffmpeg, request, job, owns, &images);
            request.progress.advance(1 + owns.len() as u64);
            outcome
        });
    let image_units = lone.par_iter().map(|job| {
        let mut outcome = UnitOutcome::default();
        let (decode, picture) = decode_image(ffmpeg, request, job);
        if let Some(picture) = &picture {
            outcome.images.push((
                job.name.to_string(),
                image_report(picture, request.thumbnails),
            ));
        }
        outcome.files.push((job.name.to_string(), decode));
        request.progress.advance(1);
        outcome
    });
    let outcomes: Vec<UnitOutcome> = clip_units.chain(image_units).collect();
    request.progress.end();

    let mut report = DeepReport::default();
    let mut frame_hashes: BTreeMap<String, Vec<Option<PictureHash>>> = BTreeMap::new();
    for outcome in outcomes {
        report.files.extend(outcome.files);
        report.images.extend(outcome.images);
        report.frame_checks.extend(outcome.checks);
        if let Some((name, clip, hashes)) = outcome.clip {
            report.clips.insert(name.clone(), clip);
            frame_hashes.insert(name, hashes);
        }
    }
    report
        .frame_checks
        .sort_by(|a, b| (&a.clip, a.role, &a.image).cmp(&(&b.clip, b.role, &b.image)));
    report.duplicates = duplicates(&report.clips, request.settings);
    other_clips(&mut report, request.settings);
    report.same_pictures = same_pictures(request, &report);
    if let Some(training) = request.training {
        report.leaks = leaks(request, &report, training);
    }
    report.index = Arc::new(index(&report, &frame_hashes));
    report
}

/// Decodes a clip, and the images it owns (first), comparing its frames with every image
/// paired with it.
fn clip_unit(
    ffmpeg: &Ffmpeg,
    request: &Request,
    job: &ClipJob,
    owns: &[&str],
    images: &BTreeMap<&str, &ImageJob>,
) -> UnitOutcome {
    let mut outcome = UnitOutcome::default();
    let info = job.info;
    let (w, h) = analysis_size(info.display_width, info.display_height);
    // The paired images, decoded (those another clip owns are decoded again, unreported).
    let mut pictures: Vec<(&str, Role, Raster, Option<Raster>)> = Vec::new();
    for &(name, role) in &job.images {
        let Some(image) = images.get(name) else {
            continue;
        };
        let (decode, picture) = decode_image(ffmpeg, request, image);
        if owns.contains(&name) {
            if let Some(p) = &picture {
                outcome
                    .images
                    .push((name.to_string(), image_report(p, request.thumbnails)));
            }
            outcome.files.push((name.to_string(), decode));
        }
        if let Some(picture) = picture {
            pictures.push((name, role, picture.shown, picture.stored));
        }
    }
    let targets = pictures
        .iter()
        .map(|(_, _, shown, _)| Target::new(&shown.resized(w as usize, h as usize)))
        .collect();
    let settings = request.settings;
    let mut analyzer = ClipAnalyzer::new(
        settings,
        w as usize,
        h as usize,
        info.frame_count,
        request.thumbnails,
        targets,
    );
    let frame_request = FrameRequest {
        width: w,
        height: h,
        autorotate: true,
        timing: true,
    };
    let decoded = (request.open)(job.name).and_then(|input| {
        ffmpeg.decode_frames(&input.url, &frame_request, &mut |rgb| analyzer.push(rgb))
    });
    let decoded = decoded.unwrap_or_else(|e| Decoded {
        errors: vec![format!("ffmpeg could not be run on it: {e}")],
        frames: None,
    });
    let spf = seconds_per_frame(&decoded, info);
    let measures = analyzer.finish(spf);
    outcome.files.push((
        job.name.to_string(),
        FileDecode {
            errors: decoded.errors,
            timing: decoded.frames,
        },
    ));
    if measures.frames == 0 {
        return outcome;
    }
    for (i, (image, role, shown, stored)) in pictures.iter().enumerate() {
        let (frame, frame_index) = match role {
            Role::First => (measures.first.as_ref(), 0),
            Role::Last => (measures.last.as_ref(), measures.frames - 1),
        };
        let Some(frame) = frame else { continue };
        let best = measures.targets[i]
            .best()
            .map(|(index, raster)| (index, index as f64 * spf, raster));
        let mut comparison = compare::compare(shown, frame, best, frame_index, settings);
        let mut exif_applied = stored.is_some();
        // The platform may show the image as stored: keep that reading if it matches better.
        if let (Some(stored), Some(_)) = (stored, &comparison.cause) {
            let plain = compare::compare(stored, frame, best, frame_index, settings);
            if plain.cause.is_none() || plain.similarity > comparison.similarity {
                comparison = plain;
                exif_applied = false;
            }
        }
        outcome.checks.push(FrameCheck {
            image: image.to_string(),
            clip: job.name.to_string(),
            role: *role,
            comparison,
            exif_applied,
        });
    }
    let sheet = request.thumbnails.then(|| Sheet {
        first: measures
            .first
            .as_ref()
            .map(thumbnail::jpeg)
            .unwrap_or_default(),
        strip: measures
            .kept
            .iter()
            .map(|(index, r)| (*index as f64 * spf, thumbnail::jpeg(r)))
            .collect(),
        last: measures
            .last
            .as_ref()
            .map(thumbnail::jpeg)
            .unwrap_or_default(),
    });
    let report = ClipReport {
        frames: measures.frames,
        seconds_per_frame: spf,
        analysed: (measures.width, measures.height),
        cuts: measures.cuts,
        motion: measures.motion,
        mean_change: measures.mean_change,
        black_runs: measures.black_runs,
        fades: measures.fades,
        bars: measures.bars,
        overlays: measures.overlays,
        sheet,
        first_hash: measures.first_hash,
        last_hash: measures.last_hash,
        signature: measures.signature,
    };
    outcome.clip = Some((job.name.to_string(), report, measures.frame_hashes));
    outcome
}

/// Seconds between frames: from the decoded timing, else the headers, else 1/24.
fn seconds_per_frame(decoded: &Decoded, info: &VideoInfo) -> f64 {
    match &decoded.frames {
        Some(t) if t.count > 0 && t.span_s > 0.0 => t.span_s / t.count as f64,
        _ => info
            .fps
            .filter(|f| *f > 0.0)
            .map_or(1.0 / 24.0, |f| 1.0 / f),
    }
}

/// A decoded image: as shown (EXIF orientation applied) and, when that turned it, as stored.
struct Picture {
    shown: Raster,
    stored: Option<Raster>,
}

fn decode_image(
    ffmpeg: &Ffmpeg,
    request: &Request,
    job: &ImageJob,
) -> (FileDecode, Option<Picture>) {
    let (w, h) = analysis_size(job.info.width, job.info.height);
    let frame_request = FrameRequest {
        width: w,
        height: h,
        autorotate: false,
        timing: false,
    };
    let mut first: Option<Vec<u8>> = None;
    let decoded = (request.open)(job.name).and_then(|input| {
        ffmpeg.decode_frames(&input.url, &frame_request, &mut |rgb| {
            first.get_or_insert_with(|| rgb.to_vec());
        })
    });
    let decoded = decoded.unwrap_or_else(|e| Decoded {
        errors: vec![format!("ffmpeg could not be run on it: {e}")],
        frames: None,
    });
    let picture = first.map(|rgb| {
        let stored = Raster::new(w as usize, h as usize, rgb);
        match job.info.exif_orientation.filter(|&o| o > 1) {
            Some(o) => Picture {
                shown: stored.oriented(o),
                stored: Some(stored),
            },
            None => Picture {
                shown: stored,
                stored: None,
            },
        }
    });
    (
        FileDecode {
            errors: decoded.errors,
            timing: None,
        },
        picture,
    )
}

fn image_report(picture: &Picture, thumbnails: bool) -> ImageReport {
    let shown = &picture.shown;
    ImageReport {
        analysed: (shown.width, shown.height),
        thumbnail: thumbnails.then(|| thumbnail::jpeg(shown)),
        hash: PictureHash::of(&shown.gray()),
    }
}

/// Clips whose sampled frames (nearly) all appear in another clip. Each clip is reported once,
/// against the first clip (by name) it repeats.
fn duplicates(clips: &BTreeMap<String, ClipReport>, settings: &Settings) -> Vec<Duplicate> {
    let list: Vec<(&String, &ClipReport)> = clips.iter().collect();
    let queries: Vec<Vec<PictureHash>> = list
        .iter()
        .map(|(_, c)| spread(&c.signature, DUPLICATE_QUERIES))
        .collect();
    let mut reported: BTreeSet<usize> = BTreeSet::new();
    let mut out = Vec::new();
    let mut report = |dup: usize, of: usize, share: f64, reported: &mut BTreeSet<usize>| {
        out.push(Duplicate {
            clip: list[dup].0.clone(),
            of: list[of].0.clone(),
            share,
        });
        reported.insert(dup);
    };
    for i in 0..list.len() {
        for j in 0..i {
            if reported.contains(&i) {
                break;
            }
            if let Some(share) = contained(&queries[i], &list[j].1.signature, settings) {
                report(i, j, share, &mut reported);
            } else if !reported.contains(&j)
                && let Some(share) = contained(&queries[j], &list[i].1.signature, settings)
            {
                // The earlier clip is the part: it is the one that adds nothing.
                report(j, i, share, &mut reported);
            }
        }
    }
    out.sort_by(|a, b| a.clip.cmp(&b.clip));
    out
}

/// `n` hashes spread evenly over `all`.
fn spread(all: &[PictureHash], n: usize) -> Vec<PictureHash> {
    if all.len() <= n {
        return all.to_vec();
    }
    (0..n).map(|k| all[k * all.len() / n]).collect()
}

/// The share of `queries` found (within the duplicate distance) among `other`, when it reaches
/// the duplicate share; gives up as soon as it no longer can.
fn contained(queries: &[PictureHash], other: &[PictureHash], settings: &Settings) -> Option<f64> {
    if queries.len() < 2 || other.is_empty() {
        return None;
    }
    let needed = (settings.duplicate_share * queries.len() as f64).ceil() as usize;
    let mut found = 0;
    for (k, q) in queries.iter().enumerate() {
        if other
            .iter()
            .any(|h| h.distance(*q) <= settings.duplicate_bits)
        {
            found += 1;
        }
        if found + (queries.len() - k - 1) < needed {
            return None;
        }
    }
    (found >= needed.max(1)).then(|| found as f64 / queries.len() as f64)
}

/// First-frame (or last-frame) images of different samples that show the same picture, when
/// their clips are not already duplicates.
fn same_pictures(request: &Request, report: &DeepReport) -> Vec<SamePicture> {
    // Each image's role and clips.
    let mut roles: BTreeMap<&str, (Role, BTreeSet<&str>)> = BTreeMap::new();
    for job in &request.clips {
        for (image, role) in &job.images {
            roles
                .entry(image)
                .or_insert((*role, BTreeSet::new()))
                .1
                .insert(job.name);
        }
    }
    for job in &request.images {
        if let Some(role) = job.role {
            roles.entry(job.name).or_insert((role, BTreeSet::new()));
        }
    }
    let duplicate_clips: BTreeSet<(&str, &str)> = report
        .duplicates
        .iter()
        .flat_map(|d| {
            [
                (d.clip.as_str(), d.of.as_str()),
                (d.of.as_str(), d.clip.as_str()),
            ]
        })
        .collect();
    // (image, clip): the image was found to be a frame of that clip, not of its own.
    let framed_from: BTreeSet<(&str, &str)> = report
        .frame_checks
        .iter()
        .filter_map(|c| match &c.comparison.cause {
            Some(Cause::OtherClip { clip }) => Some((c.image.as_str(), clip.as_str())),
            _ => None,
        })
        .collect();
    let order: BTreeMap<&str, usize> = request.images.iter().map(|i| (i.name, i.order)).collect();
    let mut hashed: Vec<(&str, Role, &BTreeSet<&str>, PictureHash)> = roles
        .iter()
        .filter_map(|(name, (role, clips))| {
            let hash = report.images.get(*name)?.hash?;
            Some((*name, *role, clips, hash))
        })
        .collect();
    hashed.sort_by_key(|(name, ..)| (order.get(name).copied().unwrap_or(usize::MAX), *name));
    let mut out = Vec::new();
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for (i, (name, role, clips, hash)) in hashed.iter().enumerate() {
        for (other, other_role, other_clips, other_hash) in &hashed[..i] {
            if role != other_role || reported.contains(other) {
                continue;
            }
            let distance = hash.distance(*other_hash);
            if distance > request.settings.duplicate_bits {
                continue;
            }
            // The same clip, clips already reported as duplicates, or an image already
            // reported as a frame of the other's clip (D001): said once, there.
            let explained = clips.iter().any(|a| {
                other_clips
                    .iter()
                    .any(|b| a == b || duplicate_clips.contains(&(*a, *b)))
            }) || other_clips
                .iter()
                .any(|c| framed_from.contains(&(*name, *c)))
                || clips.iter().any(|c| framed_from.contains(&(*other, *c)));
            if !explained {
                out.push(SamePicture {
                    image: name.to_string(),
                    of: other.to_string(),
                    distance,
                });
                reported.insert(name);
                break;
            }
        }
    }
    out
}

/// A frame image that matched nothing in its own clip may be a frame of another clip.
fn other_clips(report: &mut DeepReport, settings: &Settings) {
    for check in &mut report.frame_checks {
        if check.comparison.cause != Some(Cause::Unknown) {
            continue;
        }
        let Some(hash) = report.images.get(&check.image).and_then(|i| i.hash) else {
            continue;
        };
        let found = report
            .clips
            .iter()
            .filter(|(name, _)| **name != check.clip)
            .find(|(_, c)| {
                let frame = match check.role {
                    Role::First => c.first_hash,
                    Role::Last => c.last_hash,
                };
                frame
                    .iter()
                    .chain(&c.signature)
                    .any(|h| h.distance(hash) <= settings.duplicate_bits)
            });
        if let Some((name, _)) = found {
            check.comparison.cause = Some(Cause::OtherClip { clip: name.clone() });
        }
    }
}

/// This set's images found among the training set's frames.
fn leaks(request: &Request, report: &DeepReport, training: &FrameIndex) -> Vec<Leak> {
    report
        .images
        .iter()
        .filter_map(|(name, image)| {
            let (source, frame, distance) =
                training.find(image.hash?, request.settings.duplicate_bits)?;
            Some(Leak {
                image: name.clone(),
                source: source.to_string(),
                frame,
                distance,
            })
        })
        .collect()
}

/// The index of this set's pictures: every clip's frames (spread, at most
/// [`MAX_INDEXED_FRAMES`] each) and every image.
fn index(
    report: &DeepReport,
    frame_hashes: &BTreeMap<String, Vec<Option<PictureHash>>>,
) -> FrameIndex {
    let mut index = FrameIndex::default();
    for (name, hashes) in frame_hashes {
        let spf = report.clips.get(name).map_or(0.0, |c| c.seconds_per_frame);
        let id = index.names.len();
        index.names.push(name.clone());
        let step = hashes.len().div_ceil(MAX_INDEXED_FRAMES).max(1);
        for (frame, hash) in hashes.iter().enumerate().step_by(step) {
            if let Some(hash) = hash {
                index
                    .entries
                    .push((*hash, id, Some((frame as u64, frame as f64 * spf))));
            }
        }
    }
    for (name, image) in &report.images {
        if let Some(hash) = image.hash {
            let id = index.names.len();
            index.names.push(name.clone());
            index.entries.push((hash, id, None));
        }
    }
    index
}
