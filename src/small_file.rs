//! Reading the small files wanft keeps or is pointed at — the upload ledger, pack manifests,
//! `wanft.toml`, the credentials file, the emulator's state, run state — whole, and safely.
//!
//! Any of them can be replaced by something that is not a file: a FIFO (whose `open` blocks
//! until a writer comes, forever), `/dev/zero` (endless), a device, or a file far larger than
//! any real one. So the file is opened without blocking, refused unless it is a regular file,
//! and read up to a limit that is checked both before reading (its size) and while reading (a
//! file that grows). Every caller names its own limit.
//!
//! ```no_run
//! # fn demo() -> Result<(), wanft::small_file::ReadError> {
//! let bytes = wanft::small_file::read(std::path::Path::new("uploads.json"), 16 << 20)?;
//! # Ok(()) }
//! ```

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::path::Path;

/// Why a small file could not be read. The text is a reason, without the path: callers say
/// which file it was ("cannot read {path}: {error}").
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("it does not exist")]
    NotFound,
    #[error("it is {kind}, not a regular file")]
    NotRegular { kind: &'static str },
    #[error("it is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("it is not valid UTF-8")]
    NotUtf8,
    #[error("{0}")]
    Io(io::Error),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::NotFound)
    }
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => ReadError::NotFound,
            _ => ReadError::Io(e),
        }
    }
}

impl From<ReadError> for io::Error {
    fn from(e: ReadError) -> Self {
        match e {
            ReadError::NotFound => io::Error::new(io::ErrorKind::NotFound, e.to_string()),
            ReadError::Io(e) => e,
            ReadError::NotUtf8 => io::Error::new(io::ErrorKind::InvalidData, e.to_string()),
            other => io::Error::other(other.to_string()),
        }
    }
}

/// Opens `path` for reading if it is a regular file (symbolic links followed), without ever
/// blocking on a FIFO.
pub fn open_regular(path: &Path) -> Result<File, ReadError> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // Opening a FIFO for reading blocks until a writer appears; non-blocking, it returns at
        // once and the type check below refuses it. The flag means nothing for regular files.
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    let file_type = file.metadata()?.file_type();
    if !file_type.is_file() {
        return Err(ReadError::NotRegular {
            kind: describe(&file_type),
        });
    }
    Ok(file)
}

/// The whole content of the regular file at `path`, refusing more than `limit` bytes.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_regular(path)?;
    let declared = file.metadata()?.len();
    if declared > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let mut bytes = Vec::with_capacity(declared as usize);
    // One byte more than the limit shows a file that grew while being read.
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_to_string(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read(path, limit)?).map_err(|_| ReadError::NotUtf8)
}

/// [`read`], with a missing file as `None`.
pub fn read_if_exists(path: &Path, limit: u64) -> Result<Option<Vec<u8>>, ReadError> {
    match read(path, limit) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(ReadError::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

fn describe(file_type: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    if file_type.is_dir() {
        "a folder"
    } else {
        "a special file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_whole_within_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.json");
        std::fs::write(&path, b"{}\n").unwrap();
        assert_eq!(read(&path, 3).unwrap(), b"{}\n");
        assert!(matches!(
            read(&path, 2),
            Err(ReadError::TooLarge { limit: 2 })
        ));
        assert_eq!(read_to_string(&path, 10).unwrap(), "{}\n");
        assert!(
            read(&dir.path().join("none"), 10)
                .unwrap_err()
                .is_not_found()
        );
        assert_eq!(read_if_exists(&dir.path().join("none"), 10).unwrap(), None);
        let folder = read(dir.path(), 10).unwrap_err();
        assert!(folder.to_string().contains("folder"), "{folder}");
        std::fs::write(&path, b"\xff").unwrap();
        assert!(matches!(read_to_string(&path, 10), Err(ReadError::NotUtf8)));
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let err = read(&fifo, 1 << 20).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it is a FIFO (named pipe), not a regular file"
        );
        // Through a symbolic link, too.
        let link = dir.path().join("zero");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = read(&link, 1 << 20).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it is a character device, not a regular file"
        );
    }
}
