//! A dataset: its [`Source`], its layout, and its samples, whichever way they were written.
//!
//! Two layouts are read: the platform's own (a `data.jsonl` at the root, spec §2.1), and a
//! *folders* layout without `data.jsonl` (`videos/`, `first_frames/`, `last_frames/`, captions
//! in `<stem>.txt`) from which wanft derives the lines.

mod folders;
pub mod manifest;
pub mod source;
pub mod zip_index;

use std::fmt;
use std::path::Path;
use std::str::FromStr;

use serde::Serialize;

use crate::models::TaskType;
use crate::rules::{Finding, Findings, Location, manifest as rule};
pub use source::{Damage, Entry, EntryKind, ReadSeek, Source, SourceError, SourceKind};

/// The manifest's name, at the dataset root.
pub const MANIFEST: &str = "data.jsonl";

/// Largest data.jsonl the platform takes (spec §2.2, §2.5).
pub const MANIFEST_LIMIT: u64 = 20_971_520;
/// Above this, a warning: whether "20 MB" means 10^6 or 2^20 bytes is not stated.
pub const MANIFEST_WARN: u64 = 20_000_000;
/// How much of an oversized data.jsonl is still read to report its lines.
const MANIFEST_READ_CAP: u64 = 24 << 20;

/// Training data or a validation set (which holds images only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Training,
    Validation,
}

/// The task and role a dataset is checked as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Mode {
    pub task: TaskType,
    pub role: Role,
}

impl Mode {
    pub const I2V: Mode = Mode {
        task: TaskType::I2v,
        role: Role::Training,
    };

    /// Whether lines of this mode need `last_frame_path`.
    pub fn needs_last_frame(self) -> bool {
        self.task == TaskType::Kf2v
    }

    /// Whether lines of this mode need `video_path`.
    pub fn needs_video(self) -> bool {
        self.role == Role::Training
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.role {
            Role::Training => write!(f, "{} training", self.task),
            Role::Validation => write!(f, "{} validation", self.task),
        }
    }
}

/// What `--mode` may force: a full mode, or only the role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    Exact(Mode),
    /// A validation set; the task is inferred from the lines.
    Validation,
}

impl FromStr for ModeChoice {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mode = |task, role| ModeChoice::Exact(Mode { task, role });
        match s {
            "i2v" => Ok(mode(TaskType::I2v, Role::Training)),
            "kf2v" => Ok(mode(TaskType::Kf2v, Role::Training)),
            "validation" => Ok(ModeChoice::Validation),
            "i2v-validation" => Ok(mode(TaskType::I2v, Role::Validation)),
            "kf2v-validation" => Ok(mode(TaskType::Kf2v, Role::Validation)),
            _ => Err(format!(
                "unknown mode `{s}`; expected i2v, kf2v, validation, i2v-validation or kf2v-validation"
            )),
        }
    }
}

/// A field of a sample as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Field {
    #[default]
    Absent,
    /// Present but not a string (already reported).
    Invalid,
    Text(String),
}

impl Field {
    pub fn text(&self) -> Option<&str> {
        match self {
            Field::Text(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_absent(&self) -> bool {
        *self == Field::Absent
    }
}

/// Where a sample was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Line number (1-based) in data.jsonl.
    Line(usize),
    /// Folders layout: the files sharing this stem; `anchor` is the file findings point at.
    Stem { stem: String, anchor: String },
}

/// Which field of a sample a path comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathField {
    FirstFrame,
    LastFrame,
    Video,
}

impl PathField {
    pub fn key(self) -> &'static str {
        match self {
            PathField::FirstFrame => "first_frame_path",
            PathField::LastFrame => "last_frame_path",
            PathField::Video => "video_path",
        }
    }

    pub fn wants_video(self) -> bool {
        self == PathField::Video
    }
}

/// One line of the dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    pub origin: Origin,
    pub prompt: Field,
    pub first_frame: Field,
    pub last_frame: Field,
    pub video: Field,
    /// Keys outside the format, in order of appearance.
    pub extra_keys: Vec<String>,
    /// Folders layout: the caption file the prompt came from.
    pub prompt_file: Option<String>,
}

impl Sample {
    pub fn new(origin: Origin) -> Sample {
        Sample {
            origin,
            prompt: Field::Absent,
            first_frame: Field::Absent,
            last_frame: Field::Absent,
            video: Field::Absent,
            extra_keys: Vec::new(),
            prompt_file: None,
        }
    }

    pub fn field(&self, which: PathField) -> &Field {
        match which {
            PathField::FirstFrame => &self.first_frame,
            PathField::LastFrame => &self.last_frame,
            PathField::Video => &self.video,
        }
    }

    /// The path fields present as strings.
    pub fn paths(&self) -> impl Iterator<Item = (PathField, &str)> {
        [
            PathField::FirstFrame,
            PathField::LastFrame,
            PathField::Video,
        ]
        .into_iter()
        .filter_map(|f| self.field(f).text().map(|p| (f, p)))
    }

    /// The mode this line's fields suggest.
    pub fn implied_mode(&self) -> Mode {
        Mode {
            task: if self.last_frame.is_absent() {
                TaskType::I2v
            } else {
                TaskType::Kf2v
            },
            role: if self.video.is_absent() {
                Role::Validation
            } else {
                Role::Training
            },
        }
    }
}

/// How the dataset's samples were written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// A data.jsonl; `base` is the folder prefix it sits in ("" at the root, "mydata/" when
    /// wrapped) and paths in it are resolved against.
    Manifest { name: String, base: String },
    /// videos/, first_frames/, last_frames/ and captions, paired by stem.
    Folders,
    /// Nothing usable (already reported as J001).
    Empty,
}

impl Layout {
    /// Prefix that paths in the samples are resolved against.
    pub fn base(&self) -> &str {
        match self {
            Layout::Manifest { base, .. } => base,
            _ => "",
        }
    }

    /// The manifest's own name in the source, if there is one.
    pub fn manifest_name(&self) -> Option<&str> {
        match self {
            Layout::Manifest { name, .. } => Some(name),
            _ => None,
        }
    }
}

/// A loaded dataset.
#[derive(Debug)]
pub struct Dataset {
    pub source: Source,
    pub layout: Layout,
    pub samples: Vec<Sample>,
    pub mode: Mode,
    /// False when `--mode` decided the mode.
    pub mode_inferred: bool,
}

impl Dataset {
    /// Opens `path`, discovers its layout and reads its samples, reporting `J` findings.
    pub fn load(
        path: &Path,
        choice: Option<ModeChoice>,
        default_task: TaskType,
        findings: &mut Findings,
    ) -> Result<Dataset, SourceError> {
        let source = Source::open(path)?;
        let layout = discover(&source, findings);
        let samples = match &layout {
            Layout::Manifest { name, .. } => read_manifest(&source, name, findings),
            Layout::Folders => folders::samples(&source, findings),
            Layout::Empty => Vec::new(),
        };
        let (mode, mode_inferred) = match choice {
            Some(ModeChoice::Exact(m)) => (m, false),
            Some(ModeChoice::Validation) => {
                let task = infer_mode(&samples, default_task, &layout, findings).task;
                (
                    Mode {
                        task,
                        role: Role::Validation,
                    },
                    false,
                )
            }
            None => (infer_mode(&samples, default_task, &layout, findings), true),
        };
        Ok(Dataset {
            source,
            layout,
            samples,
            mode,
            mode_inferred,
        })
    }

    /// Dataset-relative name of a path written in a sample.
    pub fn resolve_name(&self, written: &str) -> String {
        format!("{}{}", self.layout.base(), written)
    }

    /// Where findings about a sample point.
    pub fn location_of(&self, sample: &Sample) -> Location {
        match (&sample.origin, &self.layout) {
            (Origin::Line(n), Layout::Manifest { name, .. }) => Location::line(name.clone(), *n),
            (Origin::Line(n), _) => Location::line(MANIFEST, *n),
            (Origin::Stem { anchor, .. }, _) => Location::file(anchor.clone()),
        }
    }

    /// Where findings about a sample's prompt point.
    pub fn prompt_location(&self, sample: &Sample) -> Location {
        match &sample.prompt_file {
            Some(f) => Location::file(f.clone()),
            None => self.location_of(sample),
        }
    }
}

/// Finds data.jsonl (at the root, or wrapped in one folder), else the folders layout.
fn discover(source: &Source, findings: &mut Findings) -> Layout {
    if !source.archive_problems().is_empty() {
        return Layout::Empty; // a zip refused as a whole: its problems are the findings
    }
    if source.get(MANIFEST).is_some_and(Entry::is_file) {
        return Layout::Manifest {
            name: MANIFEST.into(),
            base: String::new(),
        };
    }
    let nested: Vec<&Entry> = source
        .entries()
        .iter()
        .filter(|e| e.is_file() && e.name.ends_with("/data.jsonl") && !is_debris_path(&e.name))
        .collect();
    if let Some(first) = nested
        .iter()
        .min_by_key(|e| (e.name.matches('/').count(), &e.name))
    {
        let base = first.name[..first.name.len() - MANIFEST.len()].to_string();
        let folder = base.trim_end_matches('/');
        let depth = first.name.matches('/').count();
        // One wrapping folder around one data.jsonl is accepted (spec §8.8); deeper nesting or
        // several candidates are not.
        let finding = if depth == 1 && nested.len() == 1 {
            Finding::new(
                &rule::NESTED,
                Location::file(first.name.clone()),
                format!(
                    "data.jsonl is inside the wrapping folder `{folder}`; its paths are read \
                     from there"
                ),
            )
        } else if nested.len() > 1 {
            Finding::new(
                &rule::NESTED_DEEP,
                Location::file(first.name.clone()),
                format!(
                    "{} data.jsonl files in folders and none at the root; wanft reads `{}`",
                    nested.len(),
                    first.name
                ),
            )
        } else {
            Finding::new(
                &rule::NESTED_DEEP,
                Location::file(first.name.clone()),
                format!("data.jsonl is {depth} folders down, in `{folder}`"),
            )
        };
        findings.push(finding.hint(format!(
            "re-create the zip from inside the folder: cd {folder} && zip -r ../dataset.zip . \
             (or run `wanft pack`, which writes it flat)"
        )));
        return Layout::Manifest {
            name: first.name.clone(),
            base,
        };
    }
    if folders::present(source) {
        if source.kind() == SourceKind::Zip {
            // wanft reads the folders layout so that `pack` can write data.jsonl for it; the
            // platform reads data.jsonl only, so such a zip cannot be uploaded as it is.
            findings.push(
                Finding::new(
                    &rule::MISSING,
                    Location::file(MANIFEST),
                    "the zip has no data.jsonl at its root; the platform does not read the \
                     folders layout",
                )
                .hint(
                    "build the upload with `wanft pack`, which writes data.jsonl for this layout",
                ),
            );
        }
        return Layout::Folders;
    }
    findings.push(Finding::new(
        &rule::MISSING,
        Location::file(MANIFEST),
        "no data.jsonl at the dataset root, and no videos/ or first_frames/ folder",
    ));
    Layout::Empty
}

fn read_manifest(source: &Source, name: &str, findings: &mut Findings) -> Vec<Sample> {
    let Some(entry) = source.get(name) else {
        return Vec::new();
    };
    if entry.size > MANIFEST_LIMIT {
        findings.push(Finding::new(
            &rule::TOO_LARGE,
            Location::file(name),
            format!(
                "data.jsonl is {} bytes; the limit is {MANIFEST_LIMIT} bytes{}",
                entry.size,
                if entry.size > MANIFEST_READ_CAP {
                    format!(" (only its first {MANIFEST_READ_CAP} bytes are checked)")
                } else {
                    String::new()
                }
            ),
        ));
    } else if entry.size > MANIFEST_WARN {
        findings.push(Finding::new(
            &rule::NEAR_LIMIT,
            Location::file(name),
            format!("data.jsonl is {} bytes", entry.size),
        ));
    }
    let bytes = match source.read_entry(entry, MANIFEST_READ_CAP) {
        Ok(b) => b,
        // Damaged data is reported once, as such (Z003).
        Err(e) if source::Damage::of(&e).is_some() => return Vec::new(),
        Err(e) => {
            findings.push(Finding::new(
                &crate::rules::media::UNREADABLE,
                Location::file(name),
                format!("data.jsonl cannot be read: {e}"),
            ));
            return Vec::new();
        }
    };
    let samples = manifest::parse(&bytes, name, findings);
    if samples.is_empty() && !findings.has(rule::JSON_ARRAY.code) {
        findings.push(Finding::new(
            &rule::EMPTY_MANIFEST,
            Location::file(name),
            "data.jsonl holds no sample lines",
        ));
    }
    samples
}

/// The mode most lines imply; lines that disagree are reported as J017.
fn infer_mode(
    samples: &[Sample],
    default_task: TaskType,
    layout: &Layout,
    findings: &mut Findings,
) -> Mode {
    if samples.is_empty() {
        return Mode {
            task: default_task,
            role: Role::Training,
        };
    }
    let mut counts: Vec<(Mode, usize, usize)> = Vec::new(); // mode, count, first index
    for (i, s) in samples.iter().enumerate() {
        let m = s.implied_mode();
        match counts.iter_mut().find(|(mm, _, _)| *mm == m) {
            Some(c) => c.1 += 1,
            None => counts.push((m, 1, i)),
        }
    }
    // Most lines win; ties go to the mode seen first.
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.2.cmp(&b.2)));
    let mode = counts[0].0;
    if counts.len() > 1 {
        let odd: Vec<String> = samples
            .iter()
            .filter(|s| s.implied_mode() != mode)
            .take(5)
            .map(|s| match &s.origin {
                Origin::Line(n) => format!("line {n}"),
                Origin::Stem { stem, .. } => stem.clone(),
            })
            .collect();
        let total_odd = samples.len() - counts[0].1;
        let location = match layout {
            Layout::Manifest { name, .. } => Location::file(name.clone()),
            _ => Location::dataset(),
        };
        findings.push(Finding::new(
            &rule::MIXED_MODES,
            location,
            format!(
                "{} line(s) look like {mode} data, {total_odd} do not ({}{})",
                counts[0].1,
                odd.join(", "),
                if total_odd > odd.len() { ", …" } else { "" }
            ),
        ));
    }
    mode
}

/// OS debris: macOS resource forks and Finder/Explorer metadata.
pub fn is_debris_path(name: &str) -> bool {
    name.split('/').any(|part| {
        part == "__MACOSX"
            || part == ".DS_Store"
            || part == "Thumbs.db"
            || part == "desktop.ini"
            || part == ".Spotlight-V100"
            || part == ".Trashes"
            || (part.starts_with("._") && part.len() > 2)
    })
}

/// The member name `pack` gives a path written in a sample: any leading `./` dropped.
pub fn member_name(written: &str) -> String {
    let mut s = written;
    while let Some(rest) = s.strip_prefix("./") {
        s = rest;
    }
    s.to_string()
}

impl Dataset {
    /// data.jsonl as `pack` writes it: one object per sample with the format's fields only, in a
    /// fixed order, paths normalised with [`member_name`], `\n` line endings.
    pub fn normalized_manifest(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for s in &self.samples {
            let mut fields: Vec<(&str, String)> = Vec::with_capacity(4);
            if let Some(p) = s.prompt.text() {
                fields.push(("prompt", p.to_string()));
            }
            for (field, path) in s.paths() {
                fields.push((field.key(), member_name(path)));
            }
            out.push(b'{');
            for (i, (k, v)) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Serialising a &str into a Vec cannot fail.
                let _ = serde_json::to_writer(&mut out, k);
                out.push(b':');
                let _ = serde_json::to_writer(&mut out, v);
            }
            out.extend_from_slice(b"}\n");
        }
        out
    }
}
