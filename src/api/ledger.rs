//! The upload ledger: which zip (by SHA-256) was uploaded to which region and host, under which
//! file id, so that the same zip is not uploaded twice.
//!
//! It lives in the user's cache folder (`<cache dir>/wanft/uploads.json`, or
//! `$WANFT_CACHE_DIR/uploads.json`) and is only ever replaced whole, through a temporary file
//! renamed into place, so a crash never leaves half a ledger. Each change re-reads the file and
//! merges into it under the ledger's lock, so concurrent wanft processes never lose each
//! other's entries. Uploads of zips of one size take turns ([`Ledger::upload_turn`]), so that
//! the second of two uploads of one zip finds the first one's entry instead of uploading again.
//! A ledger that cannot be read is reported and treated as empty: it is a cache, and the worst
//! outcome of losing it is one more upload.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::lock::{self, FileLock, Mode as LockMode};
use crate::models::Region;
use crate::small_file;

/// Environment variable replacing `<cache dir>/wanft`.
pub use crate::cache::CACHE_ENV;
/// File name of the ledger inside the cache folder.
pub const FILE_NAME: &str = "uploads.json";
/// Format version written in the file.
const VERSION: u32 = 1;
/// Largest ledger read; far above any real one, it bounds memory on a damaged file.
const MAX_LEDGER_BYTES: u64 = 16 << 20;

/// wanft's cache folder (see [`crate::cache::dir`]).
pub use crate::cache::dir as cache_dir;

/// Which local file an entry was hashed from, so that an unchanged file need not be hashed
/// again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceStamp {
    /// Absolute path.
    pub path: PathBuf,
    pub bytes: u64,
    /// Modification time, nanoseconds since the Unix epoch.
    pub modified_ns: u64,
}

impl SourceStamp {
    /// The stamp of the file at `path` as it is now.
    pub fn of(path: &Path) -> io::Result<SourceStamp> {
        let metadata = std::fs::metadata(path)?;
        let modified_ns = metadata
            .modified()?
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
            .unwrap_or(0);
        Ok(SourceStamp {
            path: std::path::absolute(path)?,
            bytes: metadata.len(),
            modified_ns,
        })
    }
}

/// One upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// SHA-256 of the zip, lowercase hex.
    pub sha256: String,
    pub bytes: u64,
    pub region: Region,
    /// Host the file was uploaded to, without a trailing slash.
    pub base_url: String,
    pub file_id: String,
    pub file_name: String,
    /// RFC 3339, UTC.
    pub uploaded_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceStamp>,
}

impl LedgerEntry {
    fn same_place(&self, region: Region, base_url: &str) -> bool {
        self.region == region && self.base_url == base_url
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LedgerFile {
    #[serde(default)]
    version: u32,
    #[serde(default)]
    uploads: Vec<LedgerEntry>,
}

/// The ledger file and its entries.
#[derive(Debug)]
pub struct Ledger {
    path: PathBuf,
    entries: Vec<LedgerEntry>,
}

impl Ledger {
    /// The ledger at its usual place, if there is a cache folder.
    pub fn default_path() -> Option<PathBuf> {
        cache_dir().map(|dir| dir.join(FILE_NAME))
    }

    /// Opens the ledger at `path` (absent: empty). A damaged ledger opens empty, with a warning
    /// saying so.
    pub fn open(path: &Path) -> (Ledger, Option<String>) {
        let (entries, warning) = match read_entries(path) {
            Ok(entries) => (entries, None),
            Err(why) => (
                Vec::new(),
                Some(format!(
                    "ignoring the upload ledger {}: {why}",
                    path.display()
                )),
            ),
        };
        let ledger = Ledger {
            path: path.to_owned(),
            entries,
        };
        (ledger, warning)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn entries(&self) -> &[LedgerEntry] {
        &self.entries
    }

    /// The upload of the zip with this hash to this region and host.
    pub fn find(&self, sha256: &str, region: Region, base_url: &str) -> Option<&LedgerEntry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.sha256 == sha256 && e.same_place(region, base_url))
    }

    /// The hash of a file already hashed in exactly this state.
    pub fn known_hash(&self, stamp: &SourceStamp) -> Option<&str> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.source.as_ref() == Some(stamp))
            .map(|e| e.sha256.as_str())
    }

    /// Whether a file of this size was uploaded to this region and host: only then can hashing
    /// before the upload find a match.
    pub fn has_size(&self, bytes: u64, region: Region, base_url: &str) -> bool {
        self.entries
            .iter()
            .any(|e| e.bytes == bytes && e.same_place(region, base_url))
    }

    /// Records `entry`, replacing any entry for the same zip and place, and saves.
    pub fn record(&mut self, entry: LedgerEntry) -> io::Result<()> {
        self.update(|entries| {
            entries.retain(|e| {
                !(e.sha256 == entry.sha256 && e.same_place(entry.region, &entry.base_url))
            });
            entries.push(entry);
        })
    }

    /// Forgets every entry of `file_id` in this region and host; saves when any was removed.
    /// Returns how many were.
    pub fn forget(&mut self, file_id: &str, region: Region, base_url: &str) -> io::Result<usize> {
        let matches = |e: &LedgerEntry| e.file_id == file_id && e.same_place(region, base_url);
        let count = self.entries.iter().filter(|e| matches(e)).count();
        if count > 0 {
            self.update(|entries| entries.retain(|e| !matches(e)))?;
        }
        Ok(count)
    }

    /// Re-reads the entries on disk (another process may have added some).
    pub fn reload(&mut self) {
        if let Ok(entries) = read_entries(&self.path) {
            self.entries = entries;
        }
    }

    /// Waits for the turn to upload a zip of `bytes` bytes: uploads of zips of one size (so of
    /// one zip) by several processes take turns, each after the previous one's entry is
    /// recorded. `waiting` is called if another process has the turn. Hold the returned lock
    /// until the upload is recorded, and [`Ledger::reload`] once it is held.
    pub async fn upload_turn(&self, bytes: u64, waiting: impl FnOnce()) -> io::Result<FileLock> {
        // A few lock files for all sizes: rare collisions only make unrelated uploads wait.
        const TURNS: u64 = 64;
        let turn = self.folder().join(format!("upload-{:02}", bytes % TURNS));
        std::fs::create_dir_all(self.folder())?;
        FileLock::acquire_async(&lock::beside(&turn), LockMode::Exclusive, waiting).await
    }

    fn folder(&self) -> &Path {
        self.path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    }

    /// Applies `change` to the entries on disk, re-read under the ledger's lock so that
    /// another process's new entries survive, and writes them atomically.
    fn update(&mut self, change: impl FnOnce(&mut Vec<LedgerEntry>)) -> io::Result<()> {
        std::fs::create_dir_all(self.folder())?;
        let _lock = FileLock::acquire(&lock::beside(&self.path), LockMode::Exclusive, || {})?;
        let mut entries = read_entries(&self.path).unwrap_or_default();
        change(&mut entries);
        write_atomically(
            &self.path,
            &LedgerFile {
                version: VERSION,
                uploads: entries.clone(),
            },
        )?;
        self.entries = entries;
        Ok(())
    }
}

fn read_entries(path: &Path) -> Result<Vec<LedgerEntry>, String> {
    let Some(bytes) =
        small_file::read_if_exists(path, MAX_LEDGER_BYTES).map_err(|e| e.to_string())?
    else {
        return Ok(Vec::new());
    };
    let file: LedgerFile = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
    if file.version > VERSION {
        return Err(format!(
            "it was written by a newer wanft (format {})",
            file.version
        ));
    }
    Ok(file.uploads)
}

fn write_atomically(path: &Path, file: &LedgerFile) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut temp = tempfile::Builder::new()
        .prefix(".uploads-")
        .suffix(".json")
        .tempfile_in(dir)?;
    serde_json::to_writer_pretty(&mut temp, file)?;
    temp.write_all(b"\n")?;
    temp.as_file().sync_all()?;
    temp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sha: &str, id: &str, region: Region) -> LedgerEntry {
        LedgerEntry {
            sha256: sha.into(),
            bytes: 10,
            region,
            base_url: "http://h".into(),
            file_id: id.into(),
            file_name: "t.zip".into(),
            uploaded_at: "2025-01-01T00:00:00Z".into(),
            source: None,
        }
    }

    #[test]
    fn records_replace_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join(FILE_NAME);
        let (mut ledger, warning) = Ledger::open(&path);
        assert!(warning.is_none() && ledger.entries().is_empty());
        ledger.record(entry("aa", "f1", Region::CnBeijing)).unwrap();
        ledger.record(entry("aa", "f2", Region::CnBeijing)).unwrap();
        ledger
            .record(entry("aa", "f3", Region::ApSoutheast1))
            .unwrap();

        let (reopened, _) = Ledger::open(&path);
        assert_eq!(reopened.entries().len(), 2);
        let found = reopened.find("aa", Region::CnBeijing, "http://h").unwrap();
        assert_eq!(found.file_id, "f2");
        assert!(
            reopened
                .find("aa", Region::CnBeijing, "http://other")
                .is_none()
        );
        assert!(reopened.has_size(10, Region::ApSoutheast1, "http://h"));
        assert!(!reopened.has_size(11, Region::ApSoutheast1, "http://h"));
    }

    #[test]
    fn another_process_entries_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        let (mut first, _) = Ledger::open(&path);
        let (mut second, _) = Ledger::open(&path);
        first.record(entry("aa", "f1", Region::CnBeijing)).unwrap();
        second.record(entry("bb", "f2", Region::CnBeijing)).unwrap();
        assert_eq!(Ledger::open(&path).0.entries().len(), 2);
        assert_eq!(
            second.forget("f1", Region::CnBeijing, "http://h").unwrap(),
            1
        );
        assert_eq!(Ledger::open(&path).0.entries().len(), 1);
    }

    #[test]
    fn damaged_ledgers_open_empty_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, b"{not json").unwrap();
        let (ledger, warning) = Ledger::open(&path);
        assert!(ledger.entries().is_empty());
        assert!(warning.unwrap().contains("ignoring the upload ledger"));
        std::fs::write(&path, br#"{"version":99,"uploads":[]}"#).unwrap();
        assert!(Ledger::open(&path).1.unwrap().contains("newer wanft"));
    }

    #[test]
    fn stamps_find_known_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let zip = dir.path().join("t.zip");
        std::fs::write(&zip, b"0123456789").unwrap();
        let stamp = SourceStamp::of(&zip).unwrap();
        assert_eq!(stamp.bytes, 10);
        let path = dir.path().join(FILE_NAME);
        let (mut ledger, _) = Ledger::open(&path);
        ledger
            .record(LedgerEntry {
                source: Some(stamp.clone()),
                ..entry("cc", "f1", Region::CnBeijing)
            })
            .unwrap();
        assert_eq!(ledger.known_hash(&stamp), Some("cc"));
        let changed = SourceStamp { bytes: 11, ..stamp };
        assert_eq!(ledger.known_hash(&changed), None);
    }
}
