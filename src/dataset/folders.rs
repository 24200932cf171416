//! The folders layout: no data.jsonl; samples are paired by file stem.
//!
//! ```text
//! videos/clip01.mp4          the clip (training sets only)
//! first_frames/clip01.jpg    its first frame
//! last_frames/clip01.png     its last frame (kf2v only)
//! prompts/clip01.txt         its caption (or videos/clip01.txt beside the clip)
//! ```

use std::collections::BTreeMap;

use super::{Field, Origin, Sample, Source};
use crate::rules::{Finding, Findings, Location, manifest as rule};

pub const VIDEOS: &str = "videos/";
pub const FIRST_FRAMES: &str = "first_frames/";
pub const LAST_FRAMES: &str = "last_frames/";
pub const PROMPTS: &str = "prompts/";

/// Captions larger than this are not prompts (and are not read in full).
const CAPTION_CAP: u64 = 1 << 20;

/// True when the source looks like the folders layout.
pub fn present(source: &Source) -> bool {
    source
        .entries()
        .iter()
        .any(|e| e.name.starts_with(VIDEOS) || e.name.starts_with(FIRST_FRAMES))
}

/// Files directly inside `dir`, by stem (the first, by name, wins when stems repeat).
fn by_stem<'a>(source: &'a Source, dir: &str, captions: bool) -> BTreeMap<&'a str, &'a str> {
    let mut map = BTreeMap::new();
    for e in source.entries() {
        let Some(rest) = e.name.strip_prefix(dir) else {
            continue;
        };
        if !e.is_file() || rest.contains('/') || super::is_debris_path(&e.name) {
            continue;
        }
        let (stem, ext) = rest.rsplit_once('.').unwrap_or((rest, ""));
        if ext.eq_ignore_ascii_case("txt") != captions || stem.is_empty() {
            continue;
        }
        map.entry(stem).or_insert(e.name.as_str());
    }
    map
}

/// Builds one sample per clip (or, for a validation set, per first frame).
pub fn samples(source: &Source, findings: &mut Findings) -> Vec<Sample> {
    let videos = by_stem(source, VIDEOS, false);
    let firsts = by_stem(source, FIRST_FRAMES, false);
    let lasts = by_stem(source, LAST_FRAMES, false);
    let has_lasts = source
        .entries()
        .iter()
        .any(|e| e.name.starts_with(LAST_FRAMES));
    let mut captions = by_stem(source, VIDEOS, true);
    captions.extend(by_stem(source, FIRST_FRAMES, true));
    captions.extend(by_stem(source, PROMPTS, true)); // prompts/ wins over captions elsewhere

    let training = !videos.is_empty();
    let anchors = if training { &videos } else { &firsts };
    let mut samples = Vec::with_capacity(anchors.len());
    for (&stem, &anchor) in anchors {
        let mut sample = Sample::new(Origin::Stem {
            stem: stem.to_string(),
            anchor: anchor.to_string(),
        });
        let mut missing = Vec::new();
        if training {
            sample.video = Field::Text(anchor.to_string());
        }
        match firsts.get(stem) {
            Some(f) => sample.first_frame = Field::Text(f.to_string()),
            None => missing.push(format!("a first frame ({FIRST_FRAMES}{stem}.jpg)")),
        }
        if has_lasts {
            match lasts.get(stem) {
                Some(f) => sample.last_frame = Field::Text(f.to_string()),
                None => missing.push(format!("a last frame ({LAST_FRAMES}{stem}.jpg)")),
            }
        }
        match captions.get(stem) {
            Some(c) => {
                sample.prompt_file = Some(c.to_string());
                sample.prompt = read_caption(source, c, findings);
            }
            None => missing.push(format!("a caption ({PROMPTS}{stem}.txt)")),
        }
        if !missing.is_empty() {
            findings.push(Finding::new(
                &rule::UNMATCHED_STEM,
                Location::file(anchor),
                format!("`{stem}` has no {}", missing.join(", no ")),
            ));
        }
        samples.push(sample);
    }
    samples
}

/// A caption file's text, trimmed; encoding problems are reported against the file.
fn read_caption(source: &Source, name: &str, findings: &mut Findings) -> Field {
    let Some(entry) = source.get(name) else {
        return Field::Invalid;
    };
    let bytes = match source.read_entry(entry, CAPTION_CAP) {
        Ok(b) => b,
        // Damaged data is reported once, as such (Z003).
        Err(e) if super::Damage::of(&e).is_some() => return Field::Invalid,
        Err(e) => {
            findings.push(Finding::new(
                &crate::rules::media::UNREADABLE,
                Location::file(name),
                format!("the caption cannot be read: {e}"),
            ));
            return Field::Invalid;
        }
    };
    let bytes = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => {
            findings.push(Finding::new(
                &rule::BOM,
                Location::line(name, 1),
                "the caption starts with a UTF-8 byte-order mark",
            ));
            rest
        }
        None => &bytes[..],
    };
    match std::str::from_utf8(bytes) {
        Ok(text) => Field::Text(text.trim().to_string()),
        Err(e) => {
            let prefix = &bytes[..e.valid_up_to()];
            let line = prefix.iter().filter(|&&b| b == b'\n').count() + 1;
            findings.push(Finding::new(
                &rule::NOT_UTF8,
                Location::line(name, line),
                "the caption is not valid UTF-8",
            ));
            Field::Invalid
        }
    }
}
