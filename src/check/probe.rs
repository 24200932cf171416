//! Probing every referenced media file, in parallel, from headers only.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::Context;
use crate::dataset::{Damage, Dataset, PathField};
use crate::deep::{self, ClipJob, DeepReport, ImageJob, Input, Request, Role};
use crate::media::ffmpeg::{self, Ffmpeg};
use crate::media::{self, Expect, MediaError, MediaInfo};
use crate::progress::Progress;
use crate::rules::paths::References;
use crate::rules::{self, Finding, Findings, Location};

/// The probe of one file.
#[derive(Debug, Clone)]
pub struct Probed {
    /// What the (first) field referencing it expects.
    pub expect: Expect,
    pub size: u64,
    pub result: Result<MediaInfo, MediaError>,
}

/// Probes each distinct file the samples reference (that exists), in parallel.
pub fn probe_all(
    dataset: &Dataset,
    references: &References,
    progress: &dyn Progress,
) -> BTreeMap<String, Probed> {
    let mut wanted: BTreeMap<&str, Expect> = BTreeMap::new();
    for r in references.iter() {
        if let Some(e) = &r.entry {
            let expect = if r.field.wants_video() {
                Expect::Video
            } else {
                Expect::Image
            };
            wanted.entry(e.as_str()).or_insert(expect);
        }
    }
    let wanted: Vec<(&str, Expect)> = wanted.into_iter().collect();
    progress.begin("probing media", wanted.len() as u64);
    let probed: Vec<(String, Probed)> = wanted
        .par_iter()
        .map(|&(name, expect)| {
            let p = probe_one(dataset, name, expect);
            progress.advance(1);
            (name.to_string(), p)
        })
        .collect();
    progress.end();
    probed.into_iter().collect()
}

fn probe_one(dataset: &Dataset, name: &str, expect: Expect) -> Probed {
    let size = dataset.source.get(name).map_or(0, |e| e.size);
    let result = match dataset.source.get(name) {
        None => Err(MediaError::Io("the file disappeared".into())),
        Some(entry) => dataset
            .source
            .open_entry(entry)
            .map_err(|e| MediaError::Io(e.to_string()))
            .and_then(|mut r| media::probe(&mut r, entry.size, expect)),
    };
    Probed {
        expect,
        size,
        result,
    }
}

/// `--deep`: decodes every file whose headers were readable with ffmpeg, once each, in
/// parallel ([`crate::deep`]), and reports what ffmpeg complains about, how the decoded
/// frames' timing compares with the headers, and the `D` rules. Every zip member is read whole
/// once, so its CRC-32 is checked (damage is reported as `Z003`). Stored members are then
/// decoded in place, straight from the archive; a deflated one is inflated into a temporary
/// file for the duration of its decode (ffmpeg needs to seek), so at most one member per
/// worker is ever staged, and no more than its declared size, which the archive's budgets
/// bound.
pub fn deep_check(cx: &Context, ffmpeg: &Ffmpeg, findings: &mut Findings) -> DeepReport {
    let mut clips: BTreeMap<&str, ClipJob> = BTreeMap::new();
    for i in 0..cx.dataset.samples.len() {
        let Some(clip) = cx.references.entry_for(i, PathField::Video) else {
            continue;
        };
        let Some(Ok(MediaInfo::Video(info))) = cx.media_of(clip) else {
            continue;
        };
        let job = clips.entry(clip).or_insert_with(|| ClipJob {
            name: clip,
            info,
            images: Vec::new(),
        });
        for (field, role) in [
            (PathField::FirstFrame, Role::First),
            (PathField::LastFrame, Role::Last),
        ] {
            let Some(image) = cx.references.entry_for(i, field) else {
                continue;
            };
            if matches!(cx.media_of(image), Some(Ok(MediaInfo::Image(_))))
                && !job.images.contains(&(image, role))
            {
                job.images.push((image, role));
            }
        }
    }
    let mut images = Vec::new();
    for (name, probed) in cx.media {
        match &probed.result {
            // A clip no sample uses as its video (named in an image field, say) is still
            // decoded for its errors.
            Ok(MediaInfo::Video(info)) => {
                clips.entry(name.as_str()).or_insert_with(|| ClipJob {
                    name,
                    info,
                    images: Vec::new(),
                });
            }
            Ok(MediaInfo::Image(info)) => {
                let (role, order) = image_use(cx, name);
                images.push(ImageJob {
                    name,
                    info,
                    role,
                    order,
                })
            }
            Err(_) => {}
        }
    }
    // Damaged members are reported once, as such (Z003), not as decode errors.
    let damaged = std::sync::Mutex::new(std::collections::BTreeSet::new());
    let open = |name: &str| {
        ffmpeg_input(cx.dataset, name).inspect_err(|e| {
            if Damage::of(e).is_some() {
                damaged
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(name.to_string());
            }
        })
    };
    let analysis = &cx.options.analysis;
    let request = Request {
        clips: clips.into_values().collect(),
        images,
        settings: &analysis.settings,
        thumbnails: analysis.thumbnails,
        training: analysis.training.as_deref(),
        open: &open,
        progress: cx.options.progress,
    };
    let report = deep::run(ffmpeg, &request);
    let damaged = damaged.into_inner().unwrap_or_else(|p| p.into_inner());
    let mut videos: BTreeMap<&str, &crate::media::VideoInfo> = BTreeMap::new();
    for (name, decode) in &report.files {
        let video = match cx.media_of(name) {
            Some(Ok(MediaInfo::Video(video))) => {
                videos.insert(name.as_str(), video);
                Some(video)
            }
            _ => None,
        };
        if let Some(first) = decode.errors.first().filter(|_| !damaged.contains(name)) {
            findings.push(Finding::new(
                &rules::media::DECODE_ERROR,
                Location::file(name.as_str()),
                format!(
                    "ffmpeg reports {} decode error(s), first: {}",
                    decode.errors.len(),
                    clean_ffmpeg_line(first)
                ),
            ));
        }
        if let (Some(video), Some(frames)) = (video, &decode.timing) {
            findings.extend(rules::media::deep_timing(name, video, frames));
        }
    }
    rules::deep::check(&report, &videos, &analysis.settings, findings);
    report
}

/// The frame an image stands for in the first sample that uses it, and that sample's index.
fn image_use(cx: &Context, name: &str) -> (Option<Role>, usize) {
    let first = cx
        .references
        .iter()
        .find(|r| r.entry.as_deref() == Some(name));
    let role = first.and_then(|r| match r.field {
        PathField::FirstFrame => Some(Role::First),
        PathField::LastFrame => Some(Role::Last),
        PathField::Video => None,
    });
    (role, first.map_or(usize::MAX, |r| r.sample))
}

/// An entry as ffmpeg reads it: the file itself, or a temporary copy of a zip member.
fn ffmpeg_input(dataset: &Dataset, name: &str) -> std::io::Result<Input> {
    let entry = dataset
        .source
        .get(name)
        .ok_or_else(|| std::io::Error::other("the file disappeared"))?;
    if let Some(path) = entry.disk_path() {
        return Ok(Input::file(path));
    }
    let source = &dataset.source;
    if let Some((start, len)) = source.stored_range(entry) {
        // Read once for the CRC-32, then decoded in place.
        std::io::copy(&mut source.open_entry(entry)?, &mut std::io::sink())?;
        match ffmpeg::range_url(source.path(), start, len) {
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {} // staged below
            url => return url.map(Input::url),
        }
    }
    let suffix = format!(".{}", crate::rules::paths::extension(name));
    let mut temp = tempfile::Builder::new()
        .prefix("wanft-deep-")
        .suffix(&suffix)
        .tempfile()?;
    std::io::copy(&mut dataset.source.open_entry(entry)?, temp.as_file_mut())?;
    Ok(Input::temporary(temp.into_temp_path()))
}

/// ffmpeg prefixes lines with decoder addresses (`[h264 @ 0x55d0…]`) that change every run.
fn clean_ffmpeg_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = rest.find(" @ 0x") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + 5..];
        let hex_len = tail.chars().take_while(char::is_ascii_hexdigit).count();
        rest = &tail[hex_len..];
    }
    out.push_str(rest);
    out
}
