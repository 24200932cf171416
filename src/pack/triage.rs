//! Which findings about the source still matter for the zip `pack` writes.
//!
//! Some cannot survive packing: data.jsonl is written at the root (J002), paths are normalised
//! (P008), only referenced files are written, each once (P012, P013, P015, P018, and P009/P010
//! when they concern a file left out), and the zip's size is checked exactly by pack itself
//! (S005, S006). With `--fix`, the media rules a re-encode mends no longer apply to the files
//! being fixed. Everything else is shown as `check` shows it, and its errors block the pack.

use std::collections::HashSet;

use super::fix::Job;
use crate::check::CheckReport;
use crate::dataset::member_name;
use crate::rules::{self, Finding, Findings, Rule, Severity};

/// Rules whose findings the packed zip cannot have, whatever the files.
const RESOLVED_BY_PACKING: &[&Rule] = &[
    &rules::manifest::NESTED,
    &rules::paths::DOT_SLASH,
    &rules::paths::UNREFERENCED,
    &rules::paths::OS_DEBRIS,
    &rules::paths::HOSTILE_MEMBER,
    &rules::paths::DUPLICATE_MEMBER,
    &rules::size::ZIP_TOO_LARGE,
    &rules::size::ZIP_NEAR_LIMIT,
];

/// Rules about one file, moot when pack leaves that file out.
const ABOUT_A_FILE: &[&Rule] = &[&rules::paths::UNSAFE_NAME, &rules::paths::SYMLINK_OUTSIDE];

/// Media rules that a re-encode of the file mends.
pub const RESOLVED_BY_FIXING: &[&Rule] = &[
    &rules::media::IMAGE_FORMAT,
    &rules::media::EXTENSION_CONTENT_MISMATCH,
    &rules::media::VIDEO_FORMAT,
    &rules::media::TOO_LARGE,
    &rules::media::TOO_LONG,
    &rules::media::CODEC,
    &rules::media::ROTATED,
];

/// A decode-level finding that the fix planned for its file mends: a cut clip cut to one
/// shot, bars cropped, a frame image taken from its clip.
fn mended_visually(f: &Finding, jobs: &[Job]) -> bool {
    let Some(job) = f
        .location
        .file
        .as_deref()
        .and_then(|file| jobs.iter().find(|j| j.entry == file))
    else {
        return false;
    };
    let rule = f.rule;
    (rule == &rules::deep::SCENE_CUT && job.edit.shot.is_some())
        || (rule == &rules::deep::LETTERBOX && job.edit.crop.is_some())
        || ((rule == &rules::deep::FIRST_FRAME_MISMATCH
            || rule == &rules::deep::LAST_FRAME_MISMATCH)
            && job.derive.is_some())
}

/// The source's findings, sorted out.
#[derive(Debug, Clone)]
pub struct Triage {
    /// Findings that still concern the zip, in report order.
    pub shown: Findings,
    /// Findings the packing itself (or `--fix`) makes moot.
    pub resolved: usize,
    /// Errors among `shown` (and among findings cut from it), which stop the pack.
    pub blocking: usize,
    /// Blocking errors `--fix` would mend, when it was not given.
    pub fixable: usize,
}

/// Sorts `report`'s findings; `jobs` are the fixes `--fix` would make, `fixing` whether it runs.
pub fn triage(report: &CheckReport, jobs: &[Job], fixing: bool) -> Triage {
    let dataset = &report.dataset;
    // Every file a sample names, found or not: a finding about any other file is moot.
    let named: HashSet<String> = report
        .references
        .iter()
        .map(|r| dataset.resolve_name(&member_name(&r.written)))
        .chain(dataset.layout.manifest_name().map(String::from))
        .collect();
    let fixed: HashSet<&str> = jobs.iter().map(|j| j.entry.as_str()).collect();
    let is = |f: &Finding, list: &[&Rule]| list.iter().any(|r| r.code == f.rule.code);
    let on_fixed_file = |f: &Finding| {
        f.location
            .file
            .as_deref()
            .is_some_and(|file| fixed.contains(file))
    };
    let about_left_out_file = |f: &Finding| {
        is(f, ABOUT_A_FILE)
            && f.location.line.is_none()
            && f.location
                .file
                .as_deref()
                .is_some_and(|file| !named.contains(file))
    };

    let mut shown = Findings::new();
    let mut resolved = 0;
    let mut fixable = 0;
    for f in report.findings.iter() {
        let mended_by_fix =
            (is(f, RESOLVED_BY_FIXING) && on_fixed_file(f)) || mended_visually(f, jobs);
        if is(f, RESOLVED_BY_PACKING) || about_left_out_file(f) || (fixing && mended_by_fix) {
            resolved += 1;
            continue;
        }
        if mended_by_fix && f.severity == Severity::Error {
            fixable += 1;
        }
        shown.push(f.clone());
    }
    shown.finish();
    // Findings beyond the per-rule cap were counted, not kept: their errors block too.
    let cut_errors: usize = report
        .findings
        .suppressed()
        .filter(|(rule, _)| rule.severity == Severity::Error && !RESOLVED_BY_PACKING.contains(rule))
        .map(|(_, n)| n)
        .sum();
    Triage {
        blocking: shown.count(Severity::Error) + cut_errors,
        shown,
        resolved,
        fixable,
    }
}
