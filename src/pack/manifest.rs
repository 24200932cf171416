//! `OUT.zip.manifest.json`: what a pack wrote, kept beside the zip (never inside it) so that a
//! later upload can prove what it sends.
//!
//! ```json
//! {
//!   "schema": "wanft.pack-manifest",
//!   "schema_version": 1,
//!   "tool": {"name": "wanft", "version": "0.1.0"},
//!   "created_by": {"command": "pack", "source": "train", "source_kind": "folder",
//!                  "model": "wan2.5-i2v-preview", "task": "i2v", "role": "training",
//!                  "trigger": null, "max_pixels": 36864, "max_seconds": 10, "fix": false},
//!   "archive": {"file": "train.zip", "size": 12345678, "sha256": "3f4a…"},
//!   "members": [{"name": "data.jsonl", "method": "deflated", "size": 4100,
//!                "stored_size": 1190, "crc32": "8a1b2c3d", "sha256": "…"}, …],
//!   "fixes": [{"source": "clip03.mkv", "member": "clip03.mkv", "renamed": "clip03.mp4",
//!              "reasons": ["Matroska files are not accepted"], "before": {…}, "after": {…}}]
//! }
//! ```
//! Members are listed in archive order; `size` is the content's length and `sha256` its hash
//! (what `sha256sum` prints for the extracted file). The document holds no timestamps and no
//! absolute paths of its own, so the same pack gives the same manifest. Fields are only added
//! within a schema version.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::digest::Digest;
use super::fix::{Fixed, MediaFacts};
use super::layout::Method;
use super::pipeline::Member;

pub const SCHEMA: &str = "wanft.pack-manifest";
pub const SCHEMA_VERSION: u32 = 1;

/// What is appended to the zip's file name to name its manifest.
pub const SUFFIX: &str = ".manifest.json";

/// `OUT.zip` → `OUT.zip.manifest.json`.
pub fn path_for(zip: &Path) -> PathBuf {
    let mut name = zip.as_os_str().to_os_string();
    name.push(SUFFIX);
    PathBuf::from(name)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackManifest {
    pub schema: String,
    pub schema_version: u32,
    pub tool: ToolRecord,
    pub created_by: CreatedBy,
    pub archive: ArchiveRecord,
    pub members: Vec<MemberRecord>,
    pub fixes: Vec<FixRecord>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolRecord {
    pub name: String,
    pub version: String,
}

impl ToolRecord {
    pub fn current() -> ToolRecord {
        ToolRecord {
            name: env!("CARGO_PKG_NAME").into(),
            version: env!("CARGO_PKG_VERSION").into(),
        }
    }
}

/// The inputs and options the archive was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CreatedBy {
    pub command: String,
    /// The dataset as given on the command line (or in wanft.toml).
    pub source: String,
    /// `folder` or `zip`.
    pub source_kind: String,
    pub model: String,
    /// `i2v` or `kf2v`.
    pub task: String,
    /// `training` or `validation`.
    pub role: String,
    pub trigger: Option<String>,
    pub max_pixels: u64,
    /// The model's maximum clip duration (what `--fix` trims to).
    pub max_seconds: u32,
    pub fix: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchiveRecord {
    /// The zip's file name (without its folder).
    pub file: String,
    pub size: u64,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberRecord {
    pub name: String,
    /// `stored` or `deflated`.
    pub method: String,
    /// Length of the content.
    pub size: u64,
    /// Bytes the member takes in the zip.
    pub stored_size: u64,
    /// CRC-32 as 8 hex digits.
    pub crc32: String,
    pub sha256: String,
}

impl MemberRecord {
    pub fn new(member: &Member, digest: &Digest) -> MemberRecord {
        let planned = &member.planned;
        MemberRecord {
            name: planned.name.clone(),
            method: match planned.method {
                Method::Stored => "stored",
                Method::Deflated => "deflated",
            }
            .into(),
            size: planned.uncompressed_size,
            stored_size: planned.compressed_size,
            crc32: format!("{:08x}", digest.crc32),
            sha256: digest.sha256_hex(),
        }
    }
}

/// A file `--fix` changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FixRecord {
    /// The original, as named in the dataset.
    pub source: String,
    /// Its member name before the fix.
    pub member: String,
    /// The fixed copy's member name.
    pub renamed: String,
    pub reasons: Vec<String>,
    pub before: MediaFacts,
    pub after: MediaFacts,
}

impl From<&Fixed> for FixRecord {
    fn from(f: &Fixed) -> Self {
        FixRecord {
            source: f.source.clone(),
            member: f.member.clone(),
            renamed: f.renamed.clone(),
            reasons: f.reasons.clone(),
            before: f.before.clone(),
            after: f.after.clone(),
        }
    }
}

/// Largest manifest [`PackManifest::describing`] reads (a million members fit).
const MAX_MANIFEST_BYTES: u64 = 256 << 20;

impl PackManifest {
    /// The manifest beside `zip`, if there is one that still describes it: same file name and
    /// size, and the zip not modified after the manifest was written (pack writes the manifest
    /// last). Read under the output's lock, so that a pack is never caught between its two
    /// renames. What it says about the zip's SHA-256 is a claim, to be verified before it is
    /// trusted. `Err` (a reason) when a manifest is there but cannot be read.
    pub fn describing(zip: &Path) -> Result<Option<PackManifest>, String> {
        let manifest_file = path_for(zip);
        let _lock = crate::lock::FileLock::acquire(
            &crate::lock::path_for(zip),
            crate::lock::Mode::Shared,
            || {},
        )
        .map_err(|e| format!("cannot lock it: {e}"))?;
        let bytes = match crate::small_file::read(&manifest_file, MAX_MANIFEST_BYTES) {
            Ok(bytes) => bytes,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let (Ok(manifest_meta), Ok(zip_meta)) =
            (std::fs::metadata(&manifest_file), std::fs::metadata(zip))
        else {
            return Ok(None);
        };
        let (Ok(manifest_time), Ok(zip_time)) = (manifest_meta.modified(), zip_meta.modified())
        else {
            return Ok(None);
        };
        if zip_time > manifest_time {
            return Ok(None);
        }
        let manifest: PackManifest = serde_json::from_slice(&bytes)
            .map_err(|e| format!("it is not a pack manifest: {e}"))?;
        let archive = &manifest.archive;
        let same_file = zip.file_name().is_some_and(|n| *n == *archive.file);
        let well_formed =
            archive.sha256.len() == 64 && archive.sha256.bytes().all(|b| b.is_ascii_hexdigit());
        Ok((manifest.schema == SCHEMA
            && manifest.schema_version == SCHEMA_VERSION
            && same_file
            && well_formed
            && archive.size == zip_meta.len())
        .then_some(manifest))
    }

    /// The manifest as written: pretty JSON and a final newline.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising plain data into a Vec cannot fail.
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifests_sit_beside_their_zip() {
        assert_eq!(
            path_for(Path::new("out/train.zip")),
            Path::new("out/train.zip.manifest.json")
        );
    }

    #[test]
    fn member_records_carry_hex_checksums() {
        let member = Member {
            planned: crate::pack::layout::PlannedMember::stored("a.mp4", 3),
            content: super::super::pipeline::Content::Entry("a.mp4".into()),
        };
        let record = MemberRecord::new(&member, &Digest::of(b"abc"));
        assert_eq!(record.crc32, "352441c2");
        assert_eq!(
            record.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(record.method, "stored");
    }
}
