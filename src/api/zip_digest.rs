//! The SHA-256 of a zip: read from `wanft pack`'s manifest when it still describes the zip
//! (hashing 1 GB costs seconds), else computed.
//!
//! `wanft pack` writes `OUT.zip.manifest.json` beside `OUT.zip`, after the zip, holding the zip's
//! SHA-256 and size. The manifest is trusted only while the zip has the recorded size and has not
//! been modified after the manifest was written.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use super::transfer::Meter;
use crate::pack::manifest::PackManifest;

/// Read size while hashing.
const HASH_CHUNK: usize = 1 << 20;

/// The zip's SHA-256 (lowercase hex) as its pack manifest claims it, if there is one that still
/// describes the zip; `Err` (a reason) when a manifest is there but cannot be read.
pub fn from_pack_manifest(zip: &Path) -> Result<Option<String>, String> {
    PackManifest::describing(zip).map(|m| m.map(|m| m.archive.sha256.to_ascii_lowercase()))
}

/// SHA-256 of the file at `path` (lowercase hex), counting bytes on `meter`.
pub(crate) fn sha256_file(path: &Path, meter: &Arc<Meter>) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; HASH_CHUNK];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        meter.advance(n as u64);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::manifest::path_for;
    use serde_json::{Value, json};
    use std::path::PathBuf;

    const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn manifest(file: &str, size: u64, sha256: &str) -> Value {
        json!({
            "schema": "wanft.pack-manifest", "schema_version": 1,
            "tool": {"name": "wanft", "version": "0.1.0"},
            "created_by": {"command": "pack", "source": "train", "source_kind": "folder",
                           "model": "wan2.5-i2v-preview", "task": "i2v", "role": "training",
                           "trigger": null, "max_pixels": 36864, "max_seconds": 10, "fix": false},
            "archive": {"file": file, "size": size, "sha256": sha256},
            "members": [], "fixes": []
        })
    }

    fn zip_with_manifest(manifest: &Value) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("out.zip");
        std::fs::write(&zip, b"PK0123").unwrap();
        std::fs::write(path_for(&zip), manifest.to_string()).unwrap();
        (dir, zip)
    }

    #[test]
    fn a_matching_manifest_gives_the_digest() {
        let (_dir, zip) = zip_with_manifest(&manifest("out.zip", 6, &"AB".repeat(32)));
        assert_eq!(from_pack_manifest(&zip), Ok(Some("ab".repeat(32))));
    }

    #[test]
    fn a_stale_or_odd_manifest_is_ignored() {
        let sha = "ab".repeat(32);
        for m in [
            manifest("out.zip", 7, &sha),
            manifest("other.zip", 6, &sha),
            manifest("out.zip", 6, "abc"),
            json!({ "archive": { "file": "out.zip", "size": 6, "sha256": sha } }),
            json!([1, 2]),
        ] {
            let (_dir, zip) = zip_with_manifest(&m);
            let claim = from_pack_manifest(&zip);
            assert!(!matches!(claim, Ok(Some(_))), "{m}: {claim:?}");
        }
        // What is not a manifest at all says so.
        let (_dir, zip) = zip_with_manifest(&json!([1, 2]));
        let reason = from_pack_manifest(&zip).unwrap_err();
        assert!(reason.contains("not a pack manifest"), "{reason}");
        // Rewritten after the manifest: stale.
        let (_dir, zip) = zip_with_manifest(&manifest("out.zip", 6, &sha));
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&zip)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(from_pack_manifest(&zip), Ok(None));
    }

    #[test]
    fn hashing_counts_every_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("empty");
        std::fs::write(&path, b"").unwrap();
        let meter = Meter::new();
        assert_eq!(sha256_file(&path, &meter).unwrap(), EMPTY_SHA);
        std::fs::write(&path, vec![7u8; HASH_CHUNK + 3]).unwrap();
        sha256_file(&path, &meter).unwrap();
        assert_eq!(meter.moved(), HASH_CHUNK as u64 + 3);
    }
}
