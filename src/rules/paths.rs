//! `P` rules: paths written in data.jsonl and the names of files in the dataset.

use super::{Rule, Severity::*};

pub const NOT_FOUND: Rule = Rule {
    code: "P001",
    name: "file-not-found",
    severity: Error,
    summary: "A path in data.jsonl names no file in the dataset.",
    why: "The platform cannot load the sample; data processing fails the job.",
    fix: "Correct the path (relative to the dataset root, `/`-separated) or add the file.",
};

pub const CASE_MISMATCH: Rule = Rule {
    code: "P002",
    name: "path-case-mismatch",
    severity: Error,
    summary: "A path matches a file only when letter case is ignored.",
    why: "Paths are matched byte for byte on the platform (Linux), even if your machine's \
          file system ignores case.",
    fix: "Write the path exactly as the file is named.",
};

pub const EXTENSION_MISMATCH: Rule = Rule {
    code: "P003",
    name: "path-extension-mismatch",
    severity: Error,
    summary: "A path matches a file only up to its extension (.jpg vs .jpeg, .mp4 vs .mov).",
    why: "The platform looks for the exact name; a different extension is a missing file.",
    fix: "Use the file's real extension in data.jsonl (or rename the file).",
};

pub const ABSOLUTE: Rule = Rule {
    code: "P004",
    name: "absolute-path",
    severity: Error,
    summary: "A path is absolute (/home/…, C:\\…).",
    why: "Paths are resolved inside the zip; an absolute path never exists there.",
    fix: "Write the path relative to the dataset root.",
};

pub const PARENT_DIR: Rule = Rule {
    code: "P005",
    name: "parent-dir-path",
    severity: Error,
    summary: "A path contains a `..` component.",
    why: "Nothing outside the zip is uploaded, and archive tools treat `..` as hostile.",
    fix: "Move the file into the dataset and write a path below the root.",
};

pub const BACKSLASH: Rule = Rule {
    code: "P006",
    name: "backslash-path",
    severity: Error,
    summary: "A path uses `\\` as a separator.",
    why: "Zip member names use `/`; `video\\clip01.mp4` is one odd file name on Linux.",
    fix: "Use `/` between folders.",
};

pub const URL: Rule = Rule {
    code: "P007",
    name: "url-path",
    severity: Error,
    summary: "A path is a URL (http://, https://, oss://, file://).",
    why: "Training data must be inside the uploaded zip; URLs are not fetched.",
    fix: "Download the file into the dataset and reference it by relative path.",
};

pub const DOT_SLASH: Rule = Rule {
    code: "P008",
    name: "dot-slash-path",
    severity: Warning,
    summary: "A path starts with `./`.",
    why: "Undocumented whether the platform normalises `./`; an exact member-name match fails.",
    fix: "Drop the leading `./`.",
};

pub const UNSAFE_NAME: Rule = Rule {
    code: "P009",
    name: "unsafe-file-name",
    severity: Error,
    summary: "A file or path name uses characters other than ASCII letters, digits, `_`, `-`, \
              `.` and `/` (spaces, CJK, brackets…).",
    why: "The platform only promises to handle these characters (tool default: Beijing's wording \
          only recommends it); others break on some upload paths.",
    fix: "Rename the file with letters, digits, `_` and `-` only, and update data.jsonl.",
};

pub const SYMLINK_OUTSIDE: Rule = Rule {
    code: "P010",
    name: "symlink-outside",
    severity: Error,
    summary: "A symbolic link points outside the dataset folder (or is broken).",
    why: "Packing would copy a file from elsewhere on disk into the upload; that is rarely \
          intended and is refused for safety.",
    fix: "Copy the target file into the dataset, or remove the link.",
};

pub const REFERENCED_TWICE: Rule = Rule {
    code: "P011",
    name: "referenced-twice",
    severity: Warning,
    summary: "One media file is referenced by several lines.",
    why: "Repeated clips are trained on more often than the rest and bias the LoRA; often a \
          copy-paste slip.",
    fix: "Give each line its own files, unless the repetition is intended.",
};

pub const UNREFERENCED: Rule = Rule {
    code: "P012",
    name: "unreferenced-file",
    severity: Warning,
    summary: "A file in the dataset is not referenced by any line.",
    why: "It is uploaded for nothing (size, time), and often means a line is missing.",
    fix: "Reference it from data.jsonl or remove it; `wanft pack` leaves it out.",
};

pub const OS_DEBRIS: Rule = Rule {
    code: "P013",
    name: "os-debris",
    severity: Warning,
    summary: "The dataset contains operating-system debris (__MACOSX/, .DS_Store, Thumbs.db, \
              ._* files).",
    why: "Debris is uploaded for nothing and its `._clip.mp4` twins look like media to careless \
          tools.",
    fix: "Delete it (zip -d data.zip '__MACOSX/*' '*.DS_Store'), or let `wanft pack` build the zip.",
};

pub const SUBFOLDER_IN_I2V: Rule = Rule {
    code: "P014",
    name: "subfolder-in-i2v",
    severity: Info,
    summary: "An i2v dataset uses subfolders.",
    why: "The documented i2v layout is flat; subfolders are accepted by our tools but not shown \
          in the platform's examples.",
    fix: "Nothing is required; a flat layout matches the documentation exactly.",
};

pub const HOSTILE_MEMBER: Rule = Rule {
    code: "P015",
    name: "hostile-member-name",
    severity: Error,
    summary: "A zip member name is absolute, contains `..`, or uses `\\`.",
    why: "Such names escape the extraction folder (zip slip); the platform or its unzip may \
          reject the archive.",
    fix: "Rebuild the zip from the dataset folder (`wanft pack`).",
};

pub const WRONG_KIND: Rule = Rule {
    code: "P016",
    name: "wrong-media-kind",
    severity: Error,
    summary: "An image field names a video, or video_path names an image.",
    why: "The platform decodes first/last frames as images and video_path as a video.",
    fix: "Swap the paths into the right fields.",
};

pub const EMPTY_PATH: Rule = Rule {
    code: "P017",
    name: "empty-path",
    severity: Error,
    summary: "A path field is an empty string.",
    why: "An empty path names no file.",
    fix: "Write the file's path relative to the dataset root.",
};

pub const DUPLICATE_MEMBER: Rule = Rule {
    code: "P018",
    name: "duplicate-member",
    severity: Error,
    summary: "A zip holds two members with the same name.",
    why: "Which copy the platform extracts is undefined, so what trains is not what was checked.",
    fix: "Rebuild the zip so that each name appears once (`wanft pack`).",
};

pub const RULES: &[&Rule] = &[
    &NOT_FOUND,
    &CASE_MISMATCH,
    &EXTENSION_MISMATCH,
    &ABSOLUTE,
    &PARENT_DIR,
    &BACKSLASH,
    &URL,
    &DOT_SLASH,
    &UNSAFE_NAME,
    &SYMLINK_OUTSIDE,
    &REFERENCED_TWICE,
    &UNREFERENCED,
    &OS_DEBRIS,
    &SUBFOLDER_IN_I2V,
    &HOSTILE_MEMBER,
    &WRONG_KIND,
    &EMPTY_PATH,
    &DUPLICATE_MEMBER,
];

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::dataset::{Dataset, EntryKind, PathField, SourceKind, is_debris_path, member_name};
use crate::models::TaskType;
use crate::rules::{Finding, Findings, Location};

/// One path written in a sample, and the dataset entry it names (when it names one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Index into `Dataset::samples`.
    pub sample: usize,
    pub field: PathField,
    /// The path as written in data.jsonl (or derived, in the folders layout).
    pub written: String,
    /// Name of the regular file it resolves to, if any.
    pub entry: Option<String>,
}

/// Every path of every sample, resolved.
#[derive(Debug, Clone, Default)]
pub struct References {
    items: Vec<Reference>,
}

impl References {
    pub fn iter(&self) -> std::slice::Iter<'_, Reference> {
        self.items.iter()
    }

    /// The entry a sample's field resolves to.
    pub fn entry_for(&self, sample: usize, field: PathField) -> Option<&str> {
        // Items are in sample order: find the sample's few references by bisection.
        let start = self.items.partition_point(|r| r.sample < sample);
        self.items[start..]
            .iter()
            .take_while(|r| r.sample == sample)
            .find(|r| r.field == field)
            .and_then(|r| r.entry.as_deref())
    }
}

/// Resolves every path in the samples against the source and reports the `P` rules.
pub fn check(dataset: &Dataset, findings: &mut Findings) -> References {
    let index = FuzzyIndex::new(dataset);
    let mut items = Vec::new();
    let mut misses = Vec::new();
    for (i, sample) in dataset.samples.iter().enumerate() {
        let location = dataset.location_of(sample);
        for (field, written) in sample.paths() {
            let entry = resolve(
                dataset,
                &index,
                field,
                written,
                &location,
                findings,
                &mut misses,
            );
            items.push(Reference {
                sample: i,
                field,
                written: written.to_string(),
                entry,
            });
        }
    }
    let references = References { items };
    // "Did you mean" only offers files that no line uses already.
    let used: HashSet<&str> = references
        .iter()
        .filter_map(|r| r.entry.as_deref())
        .collect();
    for (finding, name) in misses {
        let finding = match index.similar(&name, &used) {
            Some(found) => {
                let shown = found.strip_prefix(dataset.layout.base()).unwrap_or(found);
                finding.hint(format!("did you mean {shown}?"))
            }
            None => finding,
        };
        findings.push(finding);
    }
    check_reuse(dataset, &references, findings);
    check_entries(dataset, &references, findings);
    check_subfolders(dataset, &references, findings);
    references
}

fn resolve(
    dataset: &Dataset,
    index: &FuzzyIndex,
    field: PathField,
    written: &str,
    location: &Location,
    findings: &mut Findings,
    misses: &mut Vec<(Finding, String)>,
) -> Option<String> {
    let report = |findings: &mut Findings, rule: &'static Rule, msg: String| {
        findings.push(Finding::new(rule, location.clone(), msg));
    };
    let key = field.key();
    if written.trim().is_empty() {
        report(findings, &EMPTY_PATH, format!("`{key}` is empty"));
        return None;
    }
    if is_url(written) {
        report(findings, &URL, format!("`{key}` is a URL: {written}"));
        return None;
    }
    if written.contains('\\') {
        let fixed = written.replace('\\', "/");
        let mut f = Finding::new(
            &BACKSLASH,
            location.clone(),
            format!("`{key}` uses backslashes: {written}"),
        );
        if dataset.source.get(&dataset.resolve_name(&fixed)).is_some() {
            f = f.hint(format!("write it as {fixed}"));
        }
        findings.push(f);
        return None;
    }
    if is_absolute(written) {
        report(
            findings,
            &ABSOLUTE,
            format!("`{key}` is absolute: {written}"),
        );
        return None;
    }
    if written.split('/').any(|c| c == "..") {
        report(
            findings,
            &PARENT_DIR,
            format!("`{key}` leaves the dataset: {written}"),
        );
        return None;
    }
    let normalized = member_name(written);
    if normalized != written {
        findings.push(
            Finding::new(
                &DOT_SLASH,
                location.clone(),
                format!("`{key}` starts with ./: {written}"),
            )
            .hint(format!("write it as {normalized}")),
        );
    }
    if let Some(bad) = unsafe_chars(&normalized) {
        report(
            findings,
            &UNSAFE_NAME,
            format!("`{key}` contains {bad}: {written}"),
        );
    }
    check_kind_by_extension(field, &normalized, location, findings);

    let name = dataset.resolve_name(&normalized);
    match dataset.source.get(&name).map(|e| &e.kind) {
        Some(EntryKind::File) => return Some(name),
        Some(EntryKind::LinkOutside { .. }) => return None, // reported once, on the entry
        Some(EntryKind::Special) => {
            report(
                findings,
                &NOT_FOUND,
                format!("`{key}` names a link or special file, not a regular file: {written}"),
            );
            return None;
        }
        None => {}
    }
    let folder = format!("{name}/");
    if dataset.source.has_prefix(&folder) {
        report(
            findings,
            &NOT_FOUND,
            format!("`{key}` names a folder: {written}"),
        );
        return None;
    }
    let base = dataset.layout.base();
    let show = |n: &str| n.strip_prefix(base).unwrap_or(n).to_string();
    if let Some(found) = index.same_but_case(&name) {
        findings.push(
            Finding::new(
                &CASE_MISMATCH,
                location.clone(),
                format!(
                    "`{key}` {written} matches {} only if case is ignored",
                    show(found)
                ),
            )
            .hint(format!("did you mean {}?", show(found))),
        );
    } else if let Some(found) = index.same_but_extension(&name) {
        findings.push(
            Finding::new(
                &EXTENSION_MISMATCH,
                location.clone(),
                format!("`{key}` {written} does not exist, but {} does", show(found)),
            )
            .hint(format!("did you mean {}?", show(found))),
        );
    } else {
        let mut f = Finding::new(
            &NOT_FOUND,
            location.clone(),
            format!("`{key}` names a missing file: {written}"),
        );
        match index.same_file_name(&name) {
            Some(found) => {
                f = f.hint(format!(
                    "a file of that name is at {}; paths are relative to the dataset root",
                    show(found)
                ));
                findings.push(f);
            }
            // Near names are looked for once every reference is resolved.
            None => misses.push((f, name)),
        }
    }
    None
}

/// An image field naming a .mp4, or video_path naming a .jpg.
fn check_kind_by_extension(
    field: PathField,
    path: &str,
    location: &Location,
    findings: &mut Findings,
) {
    let ext = extension(path);
    let is_video_ext = VIDEO_EXTENSIONS.contains(&ext.as_str());
    let is_image_ext = IMAGE_EXTENSIONS.contains(&ext.as_str());
    let wrong = if field.wants_video() {
        is_image_ext
    } else {
        is_video_ext
    };
    if wrong {
        findings.push(Finding::new(
            &WRONG_KIND,
            location.clone(),
            format!(
                "`{}` names {}: {path}",
                field.key(),
                if field.wants_video() {
                    "an image"
                } else {
                    "a video"
                }
            ),
        ));
    }
}

/// Extensions recognised as video and image, lower case (accepted or not).
pub const VIDEO_EXTENSIONS: &[&str] = &[
    "mp4", "mov", "m4v", "mkv", "webm", "avi", "wmv", "flv", "ts", "mts", "m2ts", "3gp", "mpg",
    "mpeg",
];
pub const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "png", "bmp", "webp", "gif", "tif", "tiff", "heic", "heif", "avif", "jfif",
];

/// Lower-case extension of a path ("" when there is none).
pub fn extension(path: &str) -> String {
    let file = path.rsplit('/').next().unwrap_or(path);
    match file.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() => ext.to_ascii_lowercase(),
        _ => String::new(),
    }
}

fn is_url(p: &str) -> bool {
    let lower = p.to_ascii_lowercase();
    [
        "http://", "https://", "oss://", "file://", "ftp://", "s3://", "data:",
    ]
    .iter()
    .any(|s| lower.starts_with(s))
}

fn is_absolute(p: &str) -> bool {
    let b = p.as_bytes();
    p.starts_with('/') || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// Describes the first characters outside `[A-Za-z0-9_./-]`, or None when all are safe.
pub fn unsafe_chars(name: &str) -> Option<String> {
    // Five are shown: looking for more would cost `len × distinct` on a hostile name.
    let mut bad: Vec<char> = Vec::new();
    for c in name.chars() {
        let ok = c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/');
        if !ok && !bad.contains(&c) {
            bad.push(c);
            if bad.len() == 5 {
                break;
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    let shown: Vec<String> = bad
        .iter()
        .take(5)
        .map(|c| match c {
            ' ' => "a space".to_string(),
            '\u{FFFD}' => "bytes that are not UTF-8".to_string(),
            c if c.is_control() => format!("control character U+{:04X}", *c as u32),
            c => format!("`{c}`"),
        })
        .collect();
    Some(shown.join(", "))
}

/// File names longer than this (in characters) get no "did you mean", and are never offered as
/// one: no real clip is called that, and comparing such names is where the work goes.
pub const MAX_SUGGESTED_NAME: usize = 128;
/// Misses that get a "did you mean", so that a manifest of a million wrong paths stays linear.
const SUGGESTIONS: usize = 200;
/// Edit-distance cells computed for all suggestions of one check together: a bound on the
/// work whatever the dataset holds (a few milliseconds).
const SUGGESTION_WORK: u64 = 4_000_000;
/// The edits a suggestion may be away (`clip3.mp4` for `clip03.mp4`).
const MAX_EDITS: usize = 2;

/// Lookups for "did you mean": case-folded names, extension-less names and bare file names,
/// and files grouped by folder, extension and name length, all indexed once.
struct FuzzyIndex<'a> {
    suggestions: std::cell::Cell<usize>,
    work: std::cell::Cell<u64>,
    by_folded: HashMap<String, &'a str>,
    by_stem: HashMap<String, &'a str>,
    by_file_name: HashMap<&'a str, &'a str>,
    /// (folder, lower-case extension, file name length in characters) → full names, in name
    /// order.
    by_place: HashMap<(&'a str, String, usize), Vec<&'a str>>,
}

impl<'a> FuzzyIndex<'a> {
    fn new(dataset: &'a Dataset) -> Self {
        let mut index = FuzzyIndex {
            suggestions: std::cell::Cell::new(0),
            work: std::cell::Cell::new(0),
            by_folded: HashMap::new(),
            by_stem: HashMap::new(),
            by_file_name: HashMap::new(),
            by_place: HashMap::new(),
        };
        for e in dataset.source.entries().iter().filter(|e| e.is_file()) {
            let name = e.name.as_str();
            index.by_folded.entry(name.to_lowercase()).or_insert(name);
            index.by_stem.entry(stem_folded(name)).or_insert(name);
            let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
            index.by_file_name.entry(file).or_insert(name);
            let length = file.chars().count();
            if length <= MAX_SUGGESTED_NAME {
                index
                    .by_place
                    .entry((dir, extension(file), length))
                    .or_default()
                    .push(name);
            }
        }
        index
    }

    fn same_but_case(&self, name: &str) -> Option<&'a str> {
        self.by_folded.get(&name.to_lowercase()).copied()
    }

    fn same_but_extension(&self, name: &str) -> Option<&'a str> {
        self.by_stem.get(&stem_folded(name)).copied()
    }

    /// A file in the same folder with the same extension whose name is one or two edits away
    /// (`clip3.mp4` for `clip03.mp4`), not already `used`. Only names of similar length are
    /// compared, each comparison costs at most a band of the edit-distance table, and the whole
    /// search stops at [`SUGGESTIONS`] misses or [`SUGGESTION_WORK`] cells.
    fn similar(&self, name: &str, used: &HashSet<&str>) -> Option<&'a str> {
        if self.suggestions.get() >= SUGGESTIONS || self.work.get() >= SUGGESTION_WORK {
            return None;
        }
        self.suggestions.set(self.suggestions.get() + 1);
        let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
        let wanted: Vec<char> = file.chars().take(MAX_SUGGESTED_NAME + 1).collect();
        if wanted.len() > MAX_SUGGESTED_NAME {
            return None;
        }
        let ext = extension(file);
        let lengths = wanted.len().saturating_sub(MAX_EDITS)..=wanted.len() + MAX_EDITS;
        let mut best: Option<(usize, &'a str)> = None;
        let mut candidate_chars = Vec::with_capacity(MAX_SUGGESTED_NAME);
        let mut rows: [Vec<usize>; 3] = Default::default();
        for length in lengths {
            let Some(names) = self.by_place.get(&(dir, ext.clone(), length)) else {
                continue;
            };
            for &candidate in names {
                if used.contains(candidate) {
                    continue;
                }
                if self.work.get() >= SUGGESTION_WORK {
                    return best.map(|(_, c)| c);
                }
                let cfile = candidate.rsplit('/').next().unwrap_or(candidate);
                candidate_chars.clear();
                candidate_chars.extend(cfile.chars());
                let (distance, cells) =
                    edits_within(&wanted, &candidate_chars, MAX_EDITS, &mut rows);
                self.work.set(self.work.get() + cells);
                if let Some(d) = distance
                    && best.is_none_or(|b| (d, candidate) < b)
                {
                    best = Some((d, candidate));
                }
            }
        }
        best.map(|(_, candidate)| candidate)
    }

    fn same_file_name(&self, name: &str) -> Option<&'a str> {
        let file = name.rsplit('/').next().unwrap_or(name);
        self.by_file_name.get(file).copied()
    }
}

/// The optimal-string-alignment distance between `a` and `b` (insertions, deletions,
/// substitutions, adjacent transpositions) if it is at most `max`, and the table cells
/// computed. Only the band of cells within `max` of the diagonal can hold such a distance, so
/// the cost is about `(2 max + 1) × len`, not `len²`; `rows` is scratch space reused between
/// calls.
fn edits_within(
    a: &[char],
    b: &[char],
    max: usize,
    rows: &mut [Vec<usize>; 3],
) -> (Option<usize>, u64) {
    let (n, m) = (a.len(), b.len());
    if n.abs_diff(m) > max {
        return (None, 0);
    }
    let over = max + 1;
    for row in rows.iter_mut() {
        if row.len() < m + 2 {
            row.resize(m + 2, over);
        }
    }
    let [before, previous, current] = rows;
    // Row 0, as far as row 1 reads it. Cells outside the band are never read: each row resets
    // the cells just outside its band, which the next row reads.
    for (j, cell) in previous.iter_mut().enumerate().take((max + 2).min(m + 1)) {
        *cell = j.min(over);
    }
    let mut cells = 0u64;
    for i in 1..=n {
        current[0] = i.min(over);
        let low = i.saturating_sub(max).max(1);
        let high = (i + max).min(m);
        current[low - 1] = if low == 1 { current[0] } else { over };
        current[high + 1] = over;
        let mut row_min = current[0];
        for j in low..=high {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut d = (previous[j - 1] + cost)
                .min(previous[j] + 1)
                .min(current[j - 1] + 1);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d = d.min(before[j - 2] + 1);
            }
            current[j] = d.min(over);
            row_min = row_min.min(current[j]);
        }
        cells += (high + 1 - low) as u64;
        if row_min > max {
            return (None, cells);
        }
        std::mem::swap(before, previous);
        std::mem::swap(previous, current);
    }
    let d = previous[m];
    ((d <= max).then_some(d), cells)
}

fn stem_folded(name: &str) -> String {
    let (dir, file) = name.rsplit_once('/').unwrap_or(("", name));
    let stem = match file.rsplit_once('.') {
        Some((s, _)) if !s.is_empty() => s,
        _ => file,
    };
    format!("{dir}/{stem}").to_lowercase()
}

/// P011: one file behind several fields or lines.
fn check_reuse(dataset: &Dataset, references: &References, findings: &mut Findings) {
    let mut first_use: BTreeMap<&str, usize> = BTreeMap::new();
    for r in references.iter() {
        let Some(entry) = r.entry.as_deref() else {
            continue;
        };
        match first_use.get(entry) {
            None => {
                first_use.insert(entry, r.sample);
            }
            Some(&first) => {
                let here = dataset.location_of(&dataset.samples[r.sample]);
                let there = dataset.location_of(&dataset.samples[first]);
                let (what, msg_where) = if first == r.sample {
                    ("twice in this sample".to_string(), String::new())
                } else {
                    (String::from("already"), format!(" by {there}"))
                };
                findings.push(Finding::new(
                    &REFERENCED_TWICE,
                    here,
                    format!("{} is referenced {what}{msg_where}", r.written),
                ));
            }
        }
    }
}

/// Rules about the files themselves: links, debris, hostile names, duplicates, leftovers.
fn check_entries(dataset: &Dataset, references: &References, findings: &mut Findings) {
    let source = &dataset.source;
    if source.has_duplicate_members() {
        findings.push(Finding::new(
            &DUPLICATE_MEMBER,
            Location::dataset(),
            "the zip's central directory names at least one member twice",
        ));
    }
    let referenced: std::collections::HashSet<&str> = references
        .iter()
        .filter_map(|r| r.entry.as_deref())
        .collect();
    let captions: std::collections::HashSet<&str> = dataset
        .samples
        .iter()
        .filter_map(|s| s.prompt_file.as_deref())
        .collect();
    let manifest = dataset.layout.manifest_name();
    let mut debris_roots: HashSet<&str> = HashSet::new();
    for e in source.entries() {
        let name = e.name.as_str();
        if let EntryKind::LinkOutside { target } = &e.kind {
            findings.push(Finding::new(
                &SYMLINK_OUTSIDE,
                Location::file(name),
                format!("symbolic link to {target}, outside the dataset"),
            ));
            continue;
        }
        if source.kind() == SourceKind::Zip && hostile_member(name) {
            findings.push(Finding::new(
                &HOSTILE_MEMBER,
                Location::file(name),
                format!("member name `{name}` escapes the archive root"),
            ));
            continue;
        }
        if is_debris_path(name) {
            let root = debris_root(name);
            if debris_roots.insert(root) {
                findings.push(Finding::new(
                    &OS_DEBRIS,
                    Location::file(root),
                    format!("`{root}` is operating-system debris"),
                ));
            }
            continue;
        }
        if !e.is_file()
            || referenced.contains(name)
            || captions.contains(name)
            || Some(name) == manifest
        {
            continue;
        }
        if !e.name_is_utf8 {
            findings.push(Finding::new(
                &UNSAFE_NAME,
                Location::file(name),
                "the file name is not valid UTF-8",
            ));
        }
        findings.push(Finding::new(
            &UNREFERENCED,
            Location::file(name),
            "not referenced by any sample",
        ));
    }
}

/// The shortest prefix of a debris path that is debris (`__MACOSX/` for everything under it).
fn debris_root(name: &str) -> &str {
    let mut end = 0;
    for part in name.split('/') {
        end += part.len();
        if is_debris_path(part) {
            return if end < name.len() {
                &name[..=end]
            } else {
                name
            };
        }
        end += 1;
    }
    name
}

fn hostile_member(name: &str) -> bool {
    is_absolute(name) || name.contains('\\') || name.split('/').any(|c| c == "..")
}

/// P014: subfolders in a first-frame dataset.
fn check_subfolders(dataset: &Dataset, references: &References, findings: &mut Findings) {
    if dataset.mode.task != TaskType::I2v {
        return;
    }
    let nested = references
        .iter()
        .filter(|r| member_name(&r.written).contains('/'))
        .count();
    if nested > 0 {
        findings.push(Finding::new(
            &SUBFOLDER_IN_I2V,
            Location::dataset(),
            format!("{nested} path(s) of this i2v dataset are in subfolders"),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        s.chars().collect()
    }

    fn edits(a: &str, b: &str) -> Option<usize> {
        edits_within(&chars(a), &chars(b), MAX_EDITS, &mut Default::default()).0
    }

    #[test]
    fn edit_distances_within_two() {
        assert_eq!(edits("clip03.mp4", "clip03.mp4"), Some(0));
        assert_eq!(edits("clip3.mp4", "clip03.mp4"), Some(1));
        assert_eq!(edits("clpi03.mp4", "clip03.mp4"), Some(1), "transposition");
        assert_eq!(edits("cl1p3.mp4", "clip03.mp4"), Some(2));
        assert_eq!(edits("xxip3.mp4", "clip03.mp4"), None);
        assert_eq!(edits("a.mp4", "abcd.mp4"), None, "lengths too far apart");
        assert_eq!(edits("", "ab"), Some(2));
        assert_eq!(edits("ab", ""), Some(2));
        assert_eq!(edits("ab", "ba"), Some(1));
        // Agrees with the full table (strsim's OSA) wherever that is within two.
        // Scratch rows reused across calls, as the search does, leave no trace.
        let words = [
            "clip01", "clip10", "cilp01", "clip1", "clip011", "lcip10", "c", "",
        ];
        let rows = &mut Default::default();
        for a in words {
            for b in words {
                let full = strsim::osa_distance(a, b);
                let banded = edits_within(&chars(a), &chars(b), MAX_EDITS, rows).0;
                assert_eq!(banded, (full <= 2).then_some(full), "{a} {b}");
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn the_band_agrees_with_the_full_table(
            pairs in proptest::collection::vec(("[abc]{0,12}", "[abc]{0,12}"), 1..8)
        ) {
            let rows = &mut Default::default();
            for (a, b) in &pairs {
                let full = strsim::osa_distance(a, b);
                let banded = edits_within(&chars(a), &chars(b), MAX_EDITS, rows).0;
                proptest::prop_assert_eq!(banded, (full <= 2).then_some(full), "{} {}", a, b);
            }
        }
    }

    #[test]
    fn comparing_long_names_costs_a_band_not_a_square() {
        let a = chars(&"a".repeat(MAX_SUGGESTED_NAME));
        let mut b = a.clone();
        b[60] = 'b';
        let rows = &mut Default::default();
        let (distance, cells) = edits_within(&a, &b, MAX_EDITS, rows);
        assert_eq!(distance, Some(1));
        assert!(cells <= 5 * a.len() as u64, "{cells} cells");
        // A mismatch everywhere is given up within the first rows.
        let c = chars(&"c".repeat(MAX_SUGGESTED_NAME));
        let (distance, cells) = edits_within(&a, &c, MAX_EDITS, rows);
        assert_eq!(distance, None);
        assert!(cells <= 5 * 3, "{cells} cells");
    }
}
