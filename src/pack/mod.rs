//! `pack`: the upload zip, built from a checked dataset, deterministic and never half-written.
//!
//! ```text
//! check::run ─► triage ─► fix (--fix) ─► members + exact size ─► budget (≤ 1 GB)
//!    ─► staged temp file ─► write + verify as it lands ─► zip crate re-open ─► check::run
//!    ─► fsync + rename ─► OUT.zip.manifest.json
//! ```
//!
//! The zip holds data.jsonl (normalised, deflated when smaller), then every referenced file once,
//! sorted by name, stored; nothing else. Timestamps, permissions and every other header field are
//! fixed ([`layout`]), so the same dataset gives the same bytes on any machine, from a folder or
//! from a zip, whatever the files' dates. The archive is written beside its target under a
//! temporary name ([`staging`]) and only renamed into place once it is complete, read back and
//! verified, and on disk: an interrupted pack leaves no `OUT.zip`.

pub mod budget;
pub mod cached;
pub mod digest;
pub mod fix;
pub mod json;
pub mod layout;
pub mod manifest;
pub mod pipeline;
pub mod staging;
pub mod triage;
pub mod writer;

use std::collections::HashMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use crate::check::{self, CheckError, CheckOptions, CheckReport};
use crate::dataset::{Field, MANIFEST, ModeChoice, Role, member_name};
use crate::lock::{FileLock, Mode as LockMode};
use crate::progress::Silent;
use crate::rules::{Finding, Severity};
use budget::OverBudget;
use fix::{FixError, FixSettings, Fixed, Limits};
use layout::PlannedMember;
use manifest::{ArchiveRecord, CreatedBy, FixRecord, MemberRecord, PackManifest, ToolRecord};
use pipeline::{Content, Control, Member, WriteError, Written};
use staging::Staged;
use triage::Triage;

/// How to pack.
pub struct PackOptions<'a> {
    /// The checks run first (and again on the written zip); their `progress` reports every
    /// phase of the pack.
    pub check: CheckOptions<'a>,
    /// `--fix`: re-encode what the platform refuses; `None` packs the files as they are.
    pub fix: Option<&'a FixSettings>,
    /// Set (by a signal handler) to stop as soon as possible, leaving nothing behind.
    pub cancel: &'a AtomicBool,
}

impl PackOptions<'_> {
    fn control(&self) -> Control<'_> {
        Control {
            cancel: self.cancel,
            progress: self.check.progress,
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            max_pixels: self.check.effective_max_pixels(),
            max_seconds: self.check.model.max_clip_seconds,
        }
    }
}

/// Why a pack could not run (as opposed to a dataset it refuses, see [`Refusal`]).
#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error(transparent)]
    Check(#[from] CheckError),
    #[error(transparent)]
    Fix(FixError),
    #[error(transparent)]
    Write(WriteError),
    #[error("`{}` already exists; pass --force to replace it", path.display())]
    OutputExists { path: PathBuf },
    #[error("`{}` is a folder; give the path of the zip to write", path.display())]
    OutputIsFolder { path: PathBuf },
    #[error("`{}` is an input of this pack; write the zip elsewhere", path.display())]
    OutputIsInput { path: PathBuf },
    #[error(
        "`{}` is inside the dataset folder `{}`; write the zip elsewhere", path.display(), dataset.display()
    )]
    OutputInsideDataset { path: PathBuf, dataset: PathBuf },
    #[error("cannot {action} `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("the written zip does not read back as planned: {0}")]
    Unreadable(String),
    #[error(
        "the written zip fails its own check ({}); nothing was kept",
        describe(errors)
    )]
    Unverified { errors: Vec<Finding> },
    #[error("the dataset was refused; there is nothing to write")]
    Refused,
    #[error("interrupted; nothing was written")]
    Cancelled,
}

impl From<FixError> for PackError {
    fn from(e: FixError) -> Self {
        match e {
            FixError::Cancelled => PackError::Cancelled,
            e => PackError::Fix(e),
        }
    }
}

impl From<WriteError> for PackError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Cancelled => PackError::Cancelled,
            e => PackError::Write(e),
        }
    }
}

fn describe(errors: &[Finding]) -> String {
    let shown: Vec<String> = errors
        .iter()
        .take(3)
        .map(|f| match &f.location.file {
            Some(file) => format!("{} {file}: {}", f.rule.code, f.message),
            None => format!("{}: {}", f.rule.code, f.message),
        })
        .collect();
    shown.join("; ")
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> PackError + use<> {
    let path = path.to_path_buf();
    move |source| PackError::Io {
        action,
        path,
        source,
    }
}

/// Refuses an output that exists (unless `force`), is a folder, is one of `inputs`, or lies
/// inside an input folder. Cheap: run it before anything else.
pub fn check_output(out: &Path, inputs: &[&Path], force: bool) -> Result<(), PackError> {
    if out.is_dir() {
        return Err(PackError::OutputIsFolder { path: out.into() });
    }
    let resolved = resolve_output(out)?;
    for input in inputs {
        let Ok(input_resolved) = input.canonicalize() else {
            continue; // a missing input is reported when it is checked
        };
        if resolved == input_resolved {
            return Err(PackError::OutputIsInput { path: out.into() });
        }
        if input_resolved.is_dir() && resolved.starts_with(&input_resolved) {
            return Err(PackError::OutputInsideDataset {
                path: out.into(),
                dataset: input.to_path_buf(),
            });
        }
    }
    if !force {
        for path in [out.to_path_buf(), manifest::path_for(out)] {
            if fs::symlink_metadata(&path).is_ok() {
                return Err(PackError::OutputExists { path });
            }
        }
    }
    Ok(())
}

/// The absolute path `out` will have (its folder must exist).
fn resolve_output(out: &Path) -> Result<PathBuf, PackError> {
    if let Ok(existing) = out.canonicalize() {
        return Ok(existing);
    }
    let name = out
        .file_name()
        .ok_or_else(|| PackError::OutputIsFolder { path: out.into() })?;
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let parent = parent
        .canonicalize()
        .map_err(io_error("use the folder of", out))?;
    Ok(parent.join(name))
}

/// Why a dataset is not packed: errors, a size over the limit, or both.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// Errors that would make the platform reject the zip (they are in the triage's `shown`).
    pub errors: usize,
    /// How many of them `--fix` would mend, when it was not given.
    pub fixable: usize,
    /// Set when the zip would be larger than the upload limit.
    pub over_budget: Option<OverBudget>,
}

/// A dataset checked, triaged, fixed, and laid out: ready to write, or refused.
pub struct Prepared {
    /// The dataset as given.
    pub source: PathBuf,
    pub report: CheckReport,
    pub triage: Triage,
    pub fixed: Vec<Fixed>,
    pub refusal: Option<Refusal>,
    /// The members in archive order, and the archive's exact size.
    pub members: Vec<Member>,
    pub size: u64,
    limits: Limits,
    fixing: bool,
}

/// Checks the dataset at `path`, applies `--fix` if asked, and lays out the zip, refusing it
/// when it has errors or would be over the upload limit. Nothing is written but fixed copies
/// in the cache.
pub fn prepare(path: &Path, options: &PackOptions) -> Result<Prepared, PackError> {
    let control = options.control();
    let report = check::run(path, &options.check)?;
    if control.cancelled() {
        return Err(PackError::Cancelled);
    }
    let limits = options.limits();
    let derive_frames = options.fix.is_some_and(|f| f.derive_frames);
    let jobs = fix::plan(&report, limits, derive_frames);
    let triage = triage::triage(&report, &jobs, options.fix.is_some());
    let mut prepared = Prepared {
        source: path.to_path_buf(),
        report,
        triage,
        fixed: Vec::new(),
        refusal: None,
        members: Vec::new(),
        size: 0,
        limits,
        fixing: options.fix.is_some(),
    };
    let errors = prepared.triage.blocking;
    // Fixes take time: not for a dataset refused anyway.
    let fixing = options.fix.filter(|_| errors == 0);
    if let Some(settings) = fixing {
        prepared.fixed = fix::run(
            &jobs,
            &prepared.report.dataset.source,
            settings,
            limits,
            control,
        )?;
    }
    prepared.members = archive_members(&mut prepared.report, &prepared.fixed);
    prepared.size = layout::archive_size(&planned(&prepared.members));
    let unfixed = fixing.is_none().then_some(jobs.as_slice());
    let over_budget = budget::over_budget(&prepared.members, prepared.size, unfixed, limits);
    if over_budget.is_none()
        && let Some(warning) = budget::near_limit(prepared.size)
    {
        // The source's own size findings were set aside: this one is about the zip written.
        prepared.triage.shown.push(warning);
        prepared.triage.shown.finish();
    }
    if errors > 0 || over_budget.is_some() {
        prepared.refusal = Some(Refusal {
            errors,
            fixable: prepared.triage.fixable,
            over_budget,
        });
    }
    Ok(prepared)
}

fn planned(members: &[Member]) -> Vec<PlannedMember> {
    members.iter().map(|m| m.planned.clone()).collect()
}

/// data.jsonl (with the paths of renamed fixes) and the media, in archive order.
fn archive_members(report: &mut CheckReport, fixed: &[Fixed]) -> Vec<Member> {
    let by_member: HashMap<&str, &Fixed> = fixed.iter().map(|f| (f.member.as_str(), f)).collect();
    for sample in &mut report.dataset.samples {
        for field in [
            &mut sample.first_frame,
            &mut sample.last_frame,
            &mut sample.video,
        ] {
            if let Field::Text(path) = field
                && let Some(f) = by_member.get(member_name(path).as_str())
            {
                *path = f.renamed.clone();
            }
        }
    }
    let raw = report.dataset.normalized_manifest();
    let (planned, encoded) = layout::text_member(MANIFEST, &raw);
    let manifest = Member {
        planned,
        content: Content::Encoded { encoded, raw },
    };
    let mut media: Vec<Member> = report
        .pack_plan
        .media
        .iter()
        .map(
            |(planned, entry)| match by_member.get(planned.name.as_str()) {
                Some(f) => Member {
                    planned: PlannedMember::stored(f.renamed.clone(), f.after.bytes),
                    content: Content::File(f.file.clone()),
                },
                None => Member {
                    planned: planned.clone(),
                    content: Content::Entry(entry.clone()),
                },
            },
        )
        .collect();
    media.sort_by(|a, b| a.planned.name.cmp(&b.planned.name));
    std::iter::once(manifest).chain(media).collect()
}

/// A zip written and its manifest.
#[derive(Debug, Clone)]
pub struct Packed {
    pub path: PathBuf,
    pub manifest_path: PathBuf,
    pub manifest: PackManifest,
}

impl Prepared {
    pub fn is_ready(&self) -> bool {
        self.refusal.is_none()
    }

    /// The limits `--fix` brings media within.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// The role the dataset was checked as.
    pub fn role(&self) -> Role {
        self.report.dataset.mode.role
    }

    /// Writes the zip to `out` (and `out.manifest.json`), replacing what is there. See
    /// [`Prepared::write_with`].
    pub fn write(&self, out: &Path, options: &PackOptions) -> Result<Packed, PackError> {
        self.write_with(out, options, true)
    }

    /// Writes the zip to `out` and its manifest beside it, as one unit: both are staged,
    /// verified and synced first, then renamed into place under the output's lock, so that a
    /// reader holding the lock (`upload`) never sees one without the other, and concurrent
    /// packs to one output take turns. Without `overwrite`, an existing zip or manifest is
    /// refused (checked under the lock). On any failure, including cancellation, nothing is
    /// left at `out` or beside it.
    pub fn write_with(
        &self,
        out: &Path,
        options: &PackOptions,
        overwrite: bool,
    ) -> Result<Packed, PackError> {
        if !self.is_ready() {
            return Err(PackError::Refused);
        }
        let control = options.control();
        let staged =
            Staged::create(out).map_err(io_error("create a temporary file beside", out))?;
        let reread = fs::File::open(staged.path()).map_err(io_error("read back", out))?;
        let written = pipeline::write_archive(
            &self.members,
            &self.report.dataset.source,
            staged.file(),
            &reread,
            control,
        )?;
        reopen(staged.path(), &self.members, &written)?;
        self.check_written(staged.path(), options)?;
        if control.cancelled() {
            return Err(PackError::Cancelled);
        }
        let manifest_path = manifest::path_for(out);
        let manifest = self.manifest(out, &written, options);
        // Staged (and synced) before anything is renamed: a full disk fails here, with
        // nothing in place.
        let staged_manifest = Staged::create(&manifest_path)
            .and_then(|staged| {
                staged.file().write_all(&manifest.to_json())?;
                staged.file().sync_all()?;
                Ok(staged)
            })
            .map_err(io_error("write", &manifest_path))?;

        let lock_path = crate::lock::path_for(out);
        let mut waited = false;
        let _lock = FileLock::acquire(&lock_path, LockMode::Exclusive, || {
            waited = true;
            control
                .progress
                .begin("waiting for another wanft process using the output", 0);
        })
        .map_err(io_error("lock", &lock_path))?;
        if waited {
            control.progress.end();
        }
        if !overwrite {
            for path in [out, manifest_path.as_path()] {
                if fs::symlink_metadata(path).is_ok() {
                    return Err(PackError::OutputExists { path: path.into() });
                }
            }
        }
        // A manifest describing a zip that is about to be replaced must not outlive it.
        match fs::remove_file(&manifest_path) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => {
                return Err(io_error("replace", &manifest_path)(e));
            }
            _ => {}
        }
        staged.commit().map_err(io_error("write", out))?;
        if let Err(e) = staged_manifest.commit() {
            // A zip without its manifest is not what a pack leaves behind.
            let _ = fs::remove_file(out);
            return Err(io_error("write", &manifest_path)(e));
        }
        Ok(Packed {
            path: out.to_path_buf(),
            manifest_path,
            manifest,
        })
    }

    /// Runs the checks on the written zip: it must have no error at all.
    fn check_written(&self, path: &Path, options: &PackOptions) -> Result<(), PackError> {
        let given = &options.check;
        let again = CheckOptions {
            model: given.model,
            mode: Some(ModeChoice::Exact(self.report.dataset.mode)),
            trigger: given.trigger.clone(),
            effect: given.effect.clone(),
            max_pixels: given.max_pixels,
            split: given.split,
            max_split_val: given.max_split_val,
            validation_given: given.validation_given,
            deep: false,
            analysis: Default::default(),
            // The same rule configuration as the source: what the user chose to ignore there
            // is not an error of the written zip either.
            rules: given.rules.clone(),
            dataset_label: given.dataset_label.clone(),
            progress: &Silent,
        };
        let report = check::run(path, &again)?;
        let errors: Vec<Finding> = report
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .cloned()
            .collect();
        if errors.is_empty() && !report.has_errors() {
            Ok(())
        } else {
            Err(PackError::Unverified { errors })
        }
    }

    fn manifest(&self, out: &Path, written: &Written, options: &PackOptions) -> PackManifest {
        let mode = self.report.dataset.mode;
        PackManifest {
            schema: manifest::SCHEMA.into(),
            schema_version: manifest::SCHEMA_VERSION,
            tool: ToolRecord::current(),
            created_by: CreatedBy {
                command: "pack".into(),
                source: self.source.display().to_string(),
                source_kind: match self.report.dataset.source.kind() {
                    crate::dataset::SourceKind::Folder => "folder",
                    crate::dataset::SourceKind::Zip => "zip",
                }
                .into(),
                model: options.check.model.name.into(),
                task: mode.task.id().into(),
                role: match mode.role {
                    Role::Training => "training",
                    Role::Validation => "validation",
                }
                .into(),
                trigger: options.check.trigger.clone(),
                max_pixels: self.limits.max_pixels,
                max_seconds: self.limits.max_seconds,
                fix: self.fixing,
            },
            archive: ArchiveRecord {
                file: out
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                size: written.size,
                sha256: hex::encode(written.sha256),
            },
            members: self
                .members
                .iter()
                .zip(&written.digests)
                .map(|(m, d)| MemberRecord::new(m, d))
                .collect(),
            fixes: self.fixed.iter().map(FixRecord::from).collect(),
        }
    }
}

/// Re-opens the written zip with the `zip` crate, an independent reader, and compares its
/// directory with the plan.
fn reopen(path: &Path, members: &[Member], written: &Written) -> Result<(), PackError> {
    let unreadable = |what: String| PackError::Unreadable(what);
    let file = fs::File::open(path).map_err(io_error("read back", path))?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| unreadable(e.to_string()))?;
    if archive.len() != members.len() {
        return Err(unreadable(format!(
            "{} members instead of {}",
            archive.len(),
            members.len()
        )));
    }
    for (i, (member, digest)) in members.iter().zip(&written.digests).enumerate() {
        let entry = archive
            .by_index_raw(i)
            .map_err(|e| unreadable(format!("member #{i}: {e}")))?;
        let planned = &member.planned;
        let method = match planned.method {
            layout::Method::Stored => zip::CompressionMethod::Stored,
            layout::Method::Deflated => zip::CompressionMethod::Deflated,
        };
        if entry.name_raw() != planned.name.as_bytes()
            || entry.size() != planned.uncompressed_size
            || entry.compressed_size() != planned.compressed_size
            || entry.crc32() != digest.crc32
            || entry.compression() != method
        {
            return Err(unreadable(format!(
                "member #{i} reads as `{}` ({} bytes, CRC-32 {:08x}) instead of `{}` ({} bytes, \
                 CRC-32 {:08x})",
                String::from_utf8_lossy(entry.name_raw()),
                entry.size(),
                entry.crc32(),
                planned.name,
                planned.uncompressed_size,
                digest.crc32
            )));
        }
    }
    Ok(())
}
