//! Advisory locks between wanft processes, so that two packs of one output, or two uploads
//! sharing a ledger, take turns instead of interleaving.
//!
//! A lock is held on a small lock file, never on the protected file itself: that one is
//! replaced by renames, and a lock on a replaced inode protects nothing. Lock files live in the
//! cache folder (`<cache>/locks/<name>-<hash of the path>.wanft-lock`), so that output folders
//! hold nothing but outputs; without a cache folder, beside the target (`.<name>.wanft-lock`).
//! They are empty and left in place (removing one while another process waits on it would hand
//! out two locks). Locks are `flock`-style (fs4): released when the process ends, however it
//! ends, so a crash never leaves a stale lock.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fs4::{FileExt, TryLockError};
use sha2::{Digest, Sha256};

/// What a lock file's name ends with.
pub const LOCK_SUFFIX: &str = ".wanft-lock";

/// Readers share; a writer excludes everyone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Shared,
    Exclusive,
}

/// A held lock; released on drop.
#[derive(Debug)]
pub struct FileLock {
    /// `None` when the folder could not hold a lock file (read-only): nobody can change what is
    /// in it, so there is nothing to exclude.
    _file: Option<File>,
}

/// The lock file protecting `target` (see the module's documentation).
pub fn path_for(target: &Path) -> PathBuf {
    path_in(crate::cache::dir().as_deref(), target)
}

/// The lock file protecting `target` beside it (`.<name>.wanft-lock`): for what lives in the
/// cache folder itself.
pub fn beside(target: &Path) -> PathBuf {
    path_in(None, target)
}

/// The lock file protecting `target` under the cache folder `cache` (beside `target` without
/// one).
pub fn path_in(cache: Option<&Path>, target: &Path) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let Some(cache) = cache else {
        return dir.join(format!(".{name}{LOCK_SUFFIX}"));
    };
    // Every process must name the same target the same way: its folder resolved.
    let folder = dir
        .canonicalize()
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf());
    let digest = Sha256::digest(folder.join(&name).as_os_str().as_encoded_bytes());
    let shown: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    cache.join("locks").join(format!(
        "{shown}-{}{LOCK_SUFFIX}",
        &hex::encode(digest)[..16]
    ))
}

fn open(lock_path: &Path) -> io::Result<Option<File>> {
    if let Some(dir) = lock_path.parent() {
        let _ = std::fs::create_dir_all(dir); // a failure shows when the file is opened
    }
    match OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock_path)
    {
        Ok(file) => Ok(Some(file)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::PermissionDenied | io::ErrorKind::ReadOnlyFilesystem
            ) =>
        {
            // A reader in a read-only folder: open what is there, or go without.
            match File::open(lock_path) {
                Ok(file) => Ok(Some(file)),
                Err(_) => Ok(None),
            }
        }
        Err(e) => Err(e),
    }
}

fn try_lock(file: &File, mode: Mode) -> Result<(), TryLockError> {
    match mode {
        Mode::Shared => FileExt::try_lock_shared(file),
        Mode::Exclusive => FileExt::try_lock(file),
    }
}

impl FileLock {
    /// Takes the lock at `lock_path` if it is free; `None` when another process holds it.
    pub fn try_acquire(lock_path: &Path, mode: Mode) -> io::Result<Option<FileLock>> {
        let Some(file) = open(lock_path)? else {
            return Ok(Some(FileLock { _file: None }));
        };
        match try_lock(&file, mode) {
            Ok(()) => Ok(Some(FileLock { _file: Some(file) })),
            Err(TryLockError::WouldBlock) => Ok(None),
            Err(TryLockError::Error(e)) => Err(e),
        }
    }

    /// Takes the lock at `lock_path`, waiting for it; `waiting` is called once if it must wait.
    pub fn acquire(lock_path: &Path, mode: Mode, waiting: impl FnOnce()) -> io::Result<FileLock> {
        if let Some(lock) = Self::try_acquire(lock_path, mode)? {
            return Ok(lock);
        }
        waiting();
        let Some(file) = open(lock_path)? else {
            return Ok(FileLock { _file: None });
        };
        match mode {
            Mode::Shared => FileExt::lock_shared(&file)?,
            Mode::Exclusive => FileExt::lock(&file)?,
        }
        Ok(FileLock { _file: Some(file) })
    }

    /// [`FileLock::acquire`] for async code: polls instead of blocking a runtime thread.
    pub async fn acquire_async(
        lock_path: &Path,
        mode: Mode,
        waiting: impl FnOnce(),
    ) -> io::Result<FileLock> {
        const POLL: Duration = Duration::from_millis(50);
        let mut waiting = Some(waiting);
        loop {
            if let Some(lock) = Self::try_acquire(lock_path, mode)? {
                return Ok(lock);
            }
            if let Some(waiting) = waiting.take() {
                waiting();
            }
            tokio::time::sleep(POLL).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_target_has_one_lock_file_however_it_is_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("out")).unwrap();
        let cache = Some(dir.path());
        let direct = path_in(cache, &dir.path().join("out/train.zip"));
        let roundabout = path_in(cache, &dir.path().join("out/../out/./train.zip"));
        assert_eq!(direct, roundabout);
        assert!(direct.starts_with(dir.path().join("locks")));
        assert_ne!(direct, path_in(cache, &dir.path().join("out/val.zip")));
        let name = direct.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("train.zip-") && name.ends_with(LOCK_SUFFIX),
            "{name}"
        );
    }

    #[test]
    fn writers_exclude_everyone_and_readers_share() {
        let dir = tempfile::tempdir().unwrap();
        let path = beside(&dir.path().join("out.zip"));
        assert_eq!(path, dir.path().join(".out.zip.wanft-lock"));
        let writer = FileLock::try_acquire(&path, Mode::Exclusive).unwrap();
        assert!(writer.is_some());
        assert!(
            FileLock::try_acquire(&path, Mode::Exclusive)
                .unwrap()
                .is_none()
        );
        assert!(
            FileLock::try_acquire(&path, Mode::Shared)
                .unwrap()
                .is_none()
        );
        drop(writer);
        let reader = FileLock::try_acquire(&path, Mode::Shared).unwrap();
        assert!(reader.is_some());
        assert!(
            FileLock::try_acquire(&path, Mode::Shared)
                .unwrap()
                .is_some()
        );
        assert!(
            FileLock::try_acquire(&path, Mode::Exclusive)
                .unwrap()
                .is_none()
        );
        drop(reader);
        let mut waited = false;
        let again = FileLock::acquire(&path, Mode::Exclusive, || waited = true).unwrap();
        assert!(!waited);
        drop(again);
    }
}
