//! The SHA-256 of a zip: read from `wanft pack`'s manifest when it still describes the zip
//! (hashing 1 GB costs seconds), else computed.
//!
//! `wanft pack` writes `OUT.zip.manifest.json` beside `OUT.zip`, after the zip, holding the zip's
//! SHA-256 and size. The manifest is trusted only while the zip has the recorded size and has not
//! been modified after the manifest was written.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;
use sha2::{Digest, Sha256};

use super::transfer::Meter;

/// Appended to the zip's file name to name its manifest.
pub const MANIFEST_SUFFIX: &str = ".manifest.json";
/// Largest manifest read.
const MAX_MANIFEST_BYTES: u64 = 16 << 20;
/// Read size while hashing.
const HASH_CHUNK: usize = 1 << 20;

/// `OUT.zip.manifest.json` for `OUT.zip`.
pub fn manifest_path(zip: &Path) -> PathBuf {
    let mut name = zip.as_os_str().to_owned();
    name.push(MANIFEST_SUFFIX);
    PathBuf::from(name)
}

/// The zip's SHA-256 (lowercase hex) from its pack manifest, if there is one that still
/// describes the zip.
///
/// Read leniently, as the manifest's schema belongs to `wanft pack`: the zip's digest and size
/// are taken from `sha256` and `size` (or `bytes`) at the top level or inside a `zip` object.
pub fn from_pack_manifest(zip: &Path) -> Option<String> {
    let manifest = manifest_path(zip);
    let manifest_meta = std::fs::metadata(&manifest).ok()?;
    let zip_meta = std::fs::metadata(zip).ok()?;
    if manifest_meta.len() > MAX_MANIFEST_BYTES {
        return None;
    }
    // Written after the zip: a zip modified later is no longer the one described.
    if zip_meta.modified().ok()? > manifest_meta.modified().ok()? {
        return None;
    }
    let document: Value = serde_json::from_slice(&std::fs::read(&manifest).ok()?).ok()?;
    let described = [document.get("zip"), Some(&document)]
        .into_iter()
        .flatten()
        .find(|v| v.get("sha256").is_some())?;
    let sha256 = described.get("sha256")?.as_str()?.to_ascii_lowercase();
    let size = described
        .get("size")
        .or_else(|| described.get("bytes"))?
        .as_u64()?;
    let well_formed = sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit());
    (well_formed && size == zip_meta.len()).then_some(sha256)
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

    const EMPTY_SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn zip_with_manifest(manifest: &Value) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("out.zip");
        std::fs::write(&zip, b"PK0123").unwrap();
        std::fs::write(manifest_path(&zip), manifest.to_string()).unwrap();
        (dir, zip)
    }

    #[test]
    fn a_matching_manifest_gives_the_digest() {
        let sha = "AB".repeat(32);
        for manifest in [
            serde_json::json!({ "sha256": sha, "size": 6 }),
            serde_json::json!({ "zip": { "sha256": sha, "bytes": 6 }, "members": [] }),
        ] {
            let (_dir, zip) = zip_with_manifest(&manifest);
            assert_eq!(
                from_pack_manifest(&zip),
                Some("ab".repeat(32)),
                "{manifest}"
            );
        }
    }

    #[test]
    fn a_stale_or_odd_manifest_is_ignored() {
        let sha = "ab".repeat(32);
        for manifest in [
            serde_json::json!({ "sha256": sha, "size": 7 }),
            serde_json::json!({ "sha256": "abc", "size": 6 }),
            serde_json::json!({ "size": 6 }),
            serde_json::json!([1, 2]),
        ] {
            let (_dir, zip) = zip_with_manifest(&manifest);
            assert_eq!(from_pack_manifest(&zip), None, "{manifest}");
        }
        // Rewritten after the manifest: stale.
        let (_dir, zip) = zip_with_manifest(&serde_json::json!({ "sha256": sha, "size": 6 }));
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&zip)
            .unwrap()
            .set_modified(later)
            .unwrap();
        assert_eq!(from_pack_manifest(&zip), None);
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
