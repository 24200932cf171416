//! Files that appear complete or not at all: written under a temporary name beside their
//! target, synced to disk, then renamed into place.
//!
//! The temporary name, `.<target name>.wanft-tmp-<pid>-<random>`, is hidden, never ends in
//! `.zip` or `.json`, and says who made it, so nobody mistakes it for a result. A process that
//! is killed cannot remove its temporary file; the next run for the same target removes those
//! whose process is gone.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// What every temporary file name contains.
pub const TEMP_MARKER: &str = ".wanft-tmp-";

/// Where the owner of a temporary file cannot be looked up (no `/proc`), a file this old is
/// taken as abandoned.
const ABANDONED_AFTER: Duration = Duration::from_secs(24 * 60 * 60);

/// A file being written for `target`, removed on drop unless committed.
#[derive(Debug)]
pub struct Staged {
    temp: PathBuf,
    target: PathBuf,
    file: File,
    committed: bool,
}

impl Staged {
    /// Creates an empty temporary file (readable and writable) beside `target`, after removing
    /// the ones earlier runs for `target` left behind.
    pub fn create(target: &Path) -> io::Result<Staged> {
        remove_abandoned(target)?;
        let dir = parent_dir(target);
        let prefix = temp_prefix(target)?;
        loop {
            let mut name = prefix.clone();
            name.push(format!(
                "{}-{:08x}",
                std::process::id(),
                rand::random::<u32>()
            ));
            let temp = dir.join(name);
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&temp)
            {
                Ok(file) => {
                    return Ok(Staged {
                        temp,
                        target: target.to_path_buf(),
                        file,
                        committed: false,
                    });
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Writes `bytes` to a staged file for `target` and commits it.
    pub fn write_atomically(target: &Path, bytes: &[u8]) -> io::Result<()> {
        let mut staged = Staged::create(target)?;
        staged.file.write_all(bytes)?;
        staged.commit()
    }

    pub fn file(&self) -> &File {
        &self.file
    }

    /// The temporary file's path.
    pub fn path(&self) -> &Path {
        &self.temp
    }

    /// Syncs the data to disk, renames the file to its target (replacing it), and syncs the
    /// folder so that the rename itself survives a crash.
    pub fn commit(mut self) -> io::Result<()> {
        self.file.sync_all()?;
        fs::rename(&self.temp, &self.target)?;
        self.committed = true;
        sync_dir(parent_dir(&self.target))
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.temp);
        }
    }
}

/// The folder a path is in (`.` for a bare file name).
fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// `.<file name>.wanft-tmp-`
fn temp_prefix(target: &Path) -> io::Result<OsString> {
    let name = target.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` does not name a file", target.display()),
        )
    })?;
    let mut prefix = OsString::from(".");
    prefix.push(name);
    prefix.push(TEMP_MARKER);
    Ok(prefix)
}

/// Removes the temporary files for `target` whose writing process no longer exists, and
/// returns how many were removed.
pub fn remove_abandoned(target: &Path) -> io::Result<usize> {
    let prefix = temp_prefix(target)?;
    let prefix = prefix.to_string_lossy();
    let entries = match fs::read_dir(parent_dir(target)) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let Some(owner) = name.strip_prefix(prefix.as_ref()) else {
            continue;
        };
        if is_abandoned(owner, &entry.path()) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    Ok(removed)
}

/// `owner` is the `<pid>-<random>` part of a temporary file name.
fn is_abandoned(owner: &str, path: &Path) -> bool {
    let Some(pid) = owner.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
        return false; // not one of ours after all
    };
    if pid == std::process::id() {
        return false;
    }
    match process_exists(pid) {
        Some(exists) => !exists,
        None => fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > ABANDONED_AFTER),
    }
}

/// Whether process `pid` exists, where the system can tell (Linux's `/proc`).
fn process_exists(pid: u32) -> Option<bool> {
    let proc = Path::new("/proc");
    if !proc.join("self").exists() {
        return None;
    }
    Some(proc.join(pid.to_string()).exists())
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(()) // folders cannot be opened as files there; the rename is as durable as it gets
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn committed_files_replace_the_target_and_leave_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.zip");
        fs::write(&target, "old").unwrap();
        let mut staged = Staged::create(&target).unwrap();
        let temp_name = staged
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(temp_name.starts_with(".out.zip.wanft-tmp-"), "{temp_name}");
        assert!(!temp_name.ends_with(".zip"));
        staged.file.write_all(b"new").unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"old", "untouched until commit");
        staged.commit().unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"new");
        assert_eq!(names_in(dir.path()), ["out.zip"]);
    }

    #[test]
    fn dropped_files_vanish() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.zip");
        let mut staged = Staged::create(&target).unwrap();
        staged.file.write_all(b"partial").unwrap();
        drop(staged);
        assert!(names_in(dir.path()).is_empty());
    }

    #[test]
    fn abandoned_files_of_dead_processes_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.zip");
        // A process that has exited: its pid is free (until reused, which /proc would show).
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let abandoned = format!(".out.zip{TEMP_MARKER}{dead}-0000abcd");
        let ours = format!(".out.zip{TEMP_MARKER}{}-0000abcd", std::process::id());
        let other_target = format!(".other.zip{TEMP_MARKER}{dead}-0000abcd");
        for name in [&abandoned, &ours, &other_target, &"unrelated".to_string()] {
            fs::write(dir.path().join(name), "x").unwrap();
        }
        assert_eq!(remove_abandoned(&target).unwrap(), 1);
        let left = names_in(dir.path());
        assert!(!left.contains(&abandoned), "{left:?}");
        assert!(
            left.contains(&ours) && left.contains(&other_target),
            "{left:?}"
        );
    }
}
