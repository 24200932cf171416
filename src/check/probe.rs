//! Probing every referenced media file, in parallel, from headers only.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::Context;
use crate::dataset::{Damage, Dataset};
use crate::media::ffmpeg::{Decoded, Ffmpeg};
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

/// `--deep`: decodes every file whose headers were readable with ffmpeg, in parallel, and
/// reports what it complains about. Every zip member is read whole once, so its CRC-32 is
/// checked (damage is reported as `Z003`). Stored members are then decoded in place, straight
/// from the archive; a deflated one is inflated into a temporary file for the duration of its
/// decode (ffmpeg needs to seek), so at most one member per worker is ever staged, and no more
/// than its declared size, which the archive's budgets bound.
pub fn deep_check(cx: &Context, ffmpeg: &Ffmpeg, findings: &mut Findings) {
    let readable: Vec<&str> = cx
        .media
        .iter()
        .filter(|(_, p)| p.result.is_ok())
        .map(|(name, _)| name.as_str())
        .collect();
    cx.options.progress.begin("decoding", readable.len() as u64);
    let found: Vec<Vec<Finding>> = readable
        .par_iter()
        .map(|name| {
            let video = match cx.media.get(*name).map(|p| &p.result) {
                Some(Ok(MediaInfo::Video(video))) => Some(video),
                _ => None,
            };
            let outcome = decode(cx.dataset, ffmpeg, name, video.is_some());
            cx.options.progress.advance(1);
            let decoded = match outcome {
                Ok(decoded) => decoded,
                // Reported as damaged data (Z003), once.
                Err(e) if Damage::of(&e).is_some() => return Vec::new(),
                Err(e) => Decoded {
                    errors: vec![format!("ffmpeg could not be run on it: {e}")],
                    frames: None,
                },
            };
            let mut found = Vec::new();
            if let Some(errors) = Some(&decoded.errors).filter(|e| !e.is_empty()) {
                let first = clean_ffmpeg_line(&errors[0]);
                found.push(Finding::new(
                    &rules::media::DECODE_ERROR,
                    Location::file(*name),
                    format!(
                        "ffmpeg reports {} decode error(s), first: {first}",
                        errors.len()
                    ),
                ));
            }
            if let (Some(video), Some(frames)) = (video, &decoded.frames) {
                found.extend(rules::media::deep_timing(name, video, frames));
            }
            found
        })
        .collect();
    cx.options.progress.end();
    findings.extend(found.into_iter().flatten());
}

fn decode(
    dataset: &Dataset,
    ffmpeg: &Ffmpeg,
    name: &str,
    frames: bool,
) -> std::io::Result<Decoded> {
    let entry = dataset
        .source
        .get(name)
        .ok_or_else(|| std::io::Error::other("the file disappeared"))?;
    if let Some(path) = entry.disk_path() {
        return ffmpeg.decode(path, frames);
    }
    let source = &dataset.source;
    if let Some((start, len)) = source.stored_range(entry) {
        // Read once for the CRC-32, then decoded in place.
        std::io::copy(&mut source.open_entry(entry)?, &mut std::io::sink())?;
        match ffmpeg.decode_range(source.path(), start, len, frames) {
            Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {} // staged below
            outcome => return outcome,
        }
    }
    let suffix = format!(".{}", crate::rules::paths::extension(name));
    let mut temp = tempfile::Builder::new()
        .prefix("wanft-deep-")
        .suffix(&suffix)
        .tempfile()?;
    std::io::copy(&mut dataset.source.open_entry(entry)?, temp.as_file_mut())?;
    ffmpeg.decode(temp.path(), frames)
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
