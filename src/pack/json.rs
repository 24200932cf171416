//! `wanft pack --format json`: the outcome as one JSON document, schema version 1.
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "tool": {"name": "wanft", "version": "0.1.0"},
//!   "status": "packed",
//!   "datasets": [{
//!     "role": "training", "source": "train", "status": "packed",
//!     "findings": [{"rule": "M017", "severity": "info", "file": null, …}],
//!     "resolved_findings": 2,
//!     "fixes": [{"source": "clip03.mkv", "member": "clip03.mkv", "renamed": "clip03.mp4",
//!                "reasons": ["Matroska files are not accepted"],
//!                "before": {"bytes": 4500000, "format": "Matroska", "codec": null, …},
//!                "after": {"bytes": 1200000, "format": "MP4", "codec": "H.264", …},
//!                "cached": false}],
//!     "refusal": null,
//!     "archive": {"path": "train.zip", "manifest": "train.zip.manifest.json",
//!                 "size": 12345678, "sha256": "3f4a…", "members": [{"name": "data.jsonl", …}]}
//!   }]
//! }
//! ```
//! `status` is `packed`, `refused` (see `refusal`: error count, how many `--fix` would mend,
//! and `over_budget` with the size, the limit, the largest members and the estimate of what
//! `--fix` would save) or, for a dataset that passed while another was refused, `skipped`.
//! `findings` are those of `wanft check` that still concern the zip; `resolved_findings`
//! counts those the packing itself makes moot (unreferenced files, debris…). Members follow
//! [`super::manifest::MemberRecord`]. Fields are only added within a schema version.

use serde::Serialize;

use super::budget::OverBudget;
use super::manifest::{FixRecord, MemberRecord};
use super::{Packed, Prepared};
use crate::dataset::Role;
use crate::report::json::{JsonFinding, Tool};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Packed,
    Refused,
    Skipped,
}

#[derive(Serialize)]
pub struct PackDocument<'a> {
    schema_version: u32,
    tool: Tool,
    /// `packed` when every dataset was, else `refused`.
    status: Status,
    datasets: Vec<DatasetDocument<'a>>,
}

impl<'a> PackDocument<'a> {
    pub fn new(datasets: Vec<DatasetDocument<'a>>) -> Self {
        let all_packed = datasets.iter().all(|d| d.status == Status::Packed);
        PackDocument {
            schema_version: SCHEMA_VERSION,
            tool: Tool::current(),
            status: if all_packed {
                Status::Packed
            } else {
                Status::Refused
            },
            datasets,
        }
    }
}

#[derive(Serialize)]
pub struct DatasetDocument<'a> {
    role: Role,
    source: String,
    status: Status,
    findings: Vec<JsonFinding<'a>>,
    resolved_findings: usize,
    fixes: Vec<FixDocument>,
    refusal: Option<RefusalDocument<'a>>,
    archive: Option<ArchiveDocument<'a>>,
}

/// A fix as the manifest records it, and whether the copy came from the cache.
#[derive(Serialize)]
struct FixDocument {
    #[serde(flatten)]
    record: FixRecord,
    cached: bool,
}

#[derive(Serialize)]
struct RefusalDocument<'a> {
    errors: usize,
    fixable_errors: usize,
    over_budget: Option<&'a OverBudget>,
}

#[derive(Serialize)]
struct ArchiveDocument<'a> {
    path: String,
    manifest: String,
    size: u64,
    sha256: &'a str,
    members: &'a [MemberRecord],
}

impl<'a> DatasetDocument<'a> {
    /// The document of one dataset; `packed` when its zip was written.
    pub fn new(prepared: &'a Prepared, packed: Option<&'a Packed>) -> Self {
        let status = match (packed, &prepared.refusal) {
            (Some(_), _) => Status::Packed,
            (None, Some(_)) => Status::Refused,
            (None, None) => Status::Skipped,
        };
        let refusal = prepared.refusal.as_ref().map(|r| RefusalDocument {
            errors: r.errors,
            fixable_errors: r.fixable,
            over_budget: r.over_budget.as_ref(),
        });
        DatasetDocument {
            role: prepared.role(),
            source: prepared.source.display().to_string(),
            status,
            findings: prepared
                .triage
                .shown
                .iter()
                .map(JsonFinding::from)
                .collect(),
            resolved_findings: prepared.triage.resolved,
            fixes: prepared
                .fixed
                .iter()
                .map(|f| FixDocument {
                    record: FixRecord::from(f),
                    cached: f.cached,
                })
                .collect(),
            refusal,
            archive: packed.map(|p| ArchiveDocument {
                path: p.path.display().to_string(),
                manifest: p.manifest_path.display().to_string(),
                size: p.manifest.archive.size,
                sha256: &p.manifest.archive.sha256,
                members: &p.manifest.members,
            }),
        }
    }
}
