//! Where a dataset's bytes come from: a folder on disk or a `.zip` read in place.
//!
//! Both are flattened into the same list of [`Entry`]s named exactly as the members of the upload
//! zip would be (`/`-separated, relative to the root), so every later stage, and every finding,
//! is identical for a folder and for its zip.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use flate2::read::DeflateDecoder;

use super::zip_index::{self, Problem};

/// Whether a dataset was given as a folder or as a zip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    Folder,
    Zip,
}

/// What a name in the source is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file (or, in a folder, a symlink to a file inside the folder).
    File,
    /// A symbolic link that leaves the dataset folder, or whose target does not exist.
    LinkOutside { target: String },
    /// A zip member stored as a symlink, or a FIFO/socket/device in a folder.
    Special,
}

/// One file (or folder) of the dataset.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Path relative to the dataset root, `/`-separated; non-UTF-8 bytes replaced by U+FFFD.
    pub name: String,
    /// False when the on-disk or in-zip name was not valid UTF-8.
    pub name_is_utf8: bool,
    /// Size of the content in bytes (uncompressed size for zip members, as declared).
    pub size: u64,
    pub kind: EntryKind,
    location: Location,
}

#[derive(Debug, Clone)]
enum Location {
    Disk(PathBuf),
    Zip {
        data_start: u64,
        compressed_size: u64,
        method: ZipMethod,
        crc32: u32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ZipMethod {
    Stored,
    Deflated,
    /// Any other method, by name: reported, never decoded.
    Other(String),
}

impl Entry {
    pub fn is_file(&self) -> bool {
        self.kind == EntryKind::File
    }

    /// The file on disk holding this entry (folder sources only).
    pub fn disk_path(&self) -> Option<&Path> {
        match &self.location {
            Location::Disk(p) => Some(p),
            _ => None,
        }
    }

    /// For zip members: compression method name when it is neither stored nor deflated.
    fn unsupported_method(&self) -> Option<&str> {
        match &self.location {
            Location::Zip {
                method: ZipMethod::Other(m),
                ..
            } => Some(m),
            _ => None,
        }
    }
}

/// Why a source could not be opened at all (the command exits with status 2).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("`{path}` does not exist")]
    NotFound { path: PathBuf },
    #[error("cannot read `{path}`")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("`{path}` is not a readable zip archive: {reason}")]
    BadZip { path: PathBuf, reason: String },
    #[error("`{path}` is neither a folder nor a .zip file")]
    NotADataset { path: PathBuf },
}

/// A dataset folder or zip, indexed.
#[derive(Debug)]
pub struct Source {
    path: PathBuf,
    kind: SourceKind,
    entries: Vec<Entry>,
    by_name: HashMap<String, usize>,
    /// Size of the zip file itself (zip sources).
    archive_len: Option<u64>,
    /// Zip sources: whether some member's name repeats an earlier member's.
    duplicate_members: bool,
    /// Zip sources: the tricks and breaks its directory shows. An archive with any is not
    /// indexed: no member of it is ever read.
    problems: Vec<Problem>,
    /// Members whose data turned out damaged while being read.
    damage: Arc<DamageLog>,
}

/// `Read + Seek` for the readers [`Source::open`] returns.
pub trait ReadSeek: Read + Seek + Send {}
impl<T: Read + Seek + Send> ReadSeek for T {}

/// A zip member whose data does not match its directory entry: a CRC-32 that differs, or data
/// that ends before, or goes on after, its declared size.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the data of `{member}` is damaged: {detail}")]
pub struct Damage {
    pub member: String,
    pub detail: String,
}

impl Damage {
    /// The damage an I/O error reports, if it is one.
    pub fn of(error: &io::Error) -> Option<&Damage> {
        error.get_ref()?.downcast_ref::<Damage>()
    }
}

/// Damage found while reading, in the order found, once per member.
#[derive(Debug, Default)]
struct DamageLog(Mutex<Vec<Damage>>);

impl DamageLog {
    fn record(&self, damage: &Damage) {
        let mut log = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if !log.iter().any(|d| d.member == damage.member) {
            log.push(damage.clone());
        }
    }
}

impl Source {
    /// Opens a folder or a zip file and indexes every name in it. Reads only directory metadata
    /// (or the zip's directory and local headers), never file contents.
    pub fn open(path: &Path) -> Result<Source, SourceError> {
        let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
            io::ErrorKind::NotFound => SourceError::NotFound { path: path.into() },
            _ => SourceError::Io {
                path: path.into(),
                source: e,
            },
        })?;
        if meta.is_dir() {
            Self::open_folder(path)
        } else if meta.is_file() {
            Self::open_zip(path, meta.len())
        } else {
            Err(SourceError::NotADataset { path: path.into() })
        }
    }

    fn open_folder(root: &Path) -> Result<Source, SourceError> {
        let io_err = |e: io::Error| SourceError::Io {
            path: root.into(),
            source: e,
        };
        let canonical_root = root.canonicalize().map_err(io_err)?;
        let mut entries = Vec::new();
        let walker = walkdir::WalkDir::new(root)
            .follow_links(false)
            .min_depth(1)
            .sort_by_file_name();
        for item in walker {
            let item = item.map_err(|e| {
                let path = e.path().unwrap_or(root).to_path_buf();
                SourceError::Io {
                    path,
                    source: e.into(),
                }
            })?;
            let rel = item.path().strip_prefix(root).unwrap_or(item.path());
            let (name, name_is_utf8) = slash_name(rel);
            let file_type = item.file_type();
            let disk = item.path().to_path_buf();
            // Folders are implied by the names of the files in them, as in a zip.
            let (kind, size) = if file_type.is_dir() {
                continue;
            } else if file_type.is_file() {
                let len = item.metadata().map(|m| m.len()).unwrap_or(0);
                (EntryKind::File, len)
            } else if file_type.is_symlink() {
                match classify_link(&disk, &canonical_root) {
                    Some(link) => link,
                    None => continue,
                }
            } else {
                (EntryKind::Special, 0)
            };
            entries.push(Entry {
                name,
                name_is_utf8,
                size,
                kind,
                location: Location::Disk(disk),
            });
        }
        Ok(Self::indexed(
            root,
            SourceKind::Folder,
            entries,
            None,
            Vec::new(),
        ))
    }

    fn open_zip(path: &Path, len: u64) -> Result<Source, SourceError> {
        let file = File::open(path).map_err(|e| SourceError::Io {
            path: path.into(),
            source: e,
        })?;
        let directory = zip_index::read(&file, len).map_err(|reason| SourceError::BadZip {
            path: path.into(),
            reason,
        })?;
        if !directory.problems.is_empty() {
            return Ok(Self::indexed(
                path,
                SourceKind::Zip,
                Vec::new(),
                Some(len),
                directory.problems,
            ));
        }
        let mut entries = Vec::with_capacity(directory.members.len());
        for member in directory.members {
            if member.is_dir() {
                continue; // folders are implied by the names of the files in them
            }
            let kind = if member.is_symlink() {
                EntryKind::Special
            } else {
                EntryKind::File
            };
            let method = match member.method {
                zip_index::STORED => ZipMethod::Stored,
                zip_index::DEFLATED => ZipMethod::Deflated,
                other => ZipMethod::Other(method_name(other)),
            };
            let name_is_utf8 = std::str::from_utf8(&member.name).is_ok();
            let name = match String::from_utf8(member.name) {
                Ok(name) => name,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            };
            entries.push(Entry {
                name,
                name_is_utf8,
                size: member.uncompressed_size,
                kind,
                location: Location::Zip {
                    data_start: member.data_start,
                    compressed_size: member.compressed_size,
                    method,
                    crc32: member.crc32,
                },
            });
        }
        Ok(Self::indexed(
            path,
            SourceKind::Zip,
            entries,
            Some(len),
            Vec::new(),
        ))
    }

    fn indexed(
        path: &Path,
        kind: SourceKind,
        mut entries: Vec<Entry>,
        archive_len: Option<u64>,
        problems: Vec<Problem>,
    ) -> Source {
        entries.sort_by(|a, b| a.name.cmp(&b.name));
        let by_name: HashMap<String, usize> = entries
            .iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), i))
            .collect();
        Source {
            path: path.to_path_buf(),
            kind,
            duplicate_members: kind == SourceKind::Zip && by_name.len() < entries.len(),
            entries,
            by_name,
            archive_len,
            problems,
            damage: Arc::default(),
        }
    }

    /// The folder or zip as given by the user.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn kind(&self) -> SourceKind {
        self.kind
    }

    /// Every entry, sorted by name.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entry with exactly this name.
    pub fn get(&self, name: &str) -> Option<&Entry> {
        self.by_name.get(name).map(|&i| &self.entries[i])
    }

    /// True when some entry's name starts with `prefix` (e.g. `video/`: a folder exists).
    pub fn has_prefix(&self, prefix: &str) -> bool {
        let i = self.entries.partition_point(|e| e.name.as_str() < prefix);
        self.entries
            .get(i)
            .is_some_and(|e| e.name.starts_with(prefix))
    }

    /// Size of the zip itself, for zip sources.
    pub fn archive_len(&self) -> Option<u64> {
        self.archive_len
    }

    /// True when the zip's central directory names some member twice.
    pub fn has_duplicate_members(&self) -> bool {
        self.duplicate_members
    }

    /// What is wrong with the zip's structure; when anything is, it has no entries.
    pub fn archive_problems(&self) -> &[Problem] {
        &self.problems
    }

    /// The members found damaged by the reads so far, once each.
    pub fn damage(&self) -> Vec<Damage> {
        self.damage
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Opens an entry's content for reading. Zip members are read in place: stored members
    /// through a window on the archive, deflated ones through a decompressor that can seek
    /// forward cheaply (and backward by restarting).
    pub fn open_entry(&self, entry: &Entry) -> io::Result<Box<dyn ReadSeek>> {
        if let Some(m) = entry.unsupported_method() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                format!("the member is compressed with {m}, which wanft cannot read"),
            ));
        }
        match &entry.location {
            Location::Disk(p) => Ok(Box::new(File::open(p)?)),
            Location::Zip {
                data_start,
                compressed_size,
                method,
                crc32,
            } => {
                let data: Box<dyn ReadSeek> = if *method == ZipMethod::Stored {
                    let file = File::open(&self.path)?;
                    Box::new(Window::new(file, *data_start, *compressed_size)?)
                } else {
                    Box::new(Inflater::open(
                        &self.path,
                        *data_start,
                        *compressed_size,
                        entry.size,
                    )?)
                };
                Ok(Box::new(Checked {
                    data,
                    len: entry.size,
                    pos: 0,
                    crc: Some(crc32fast::Hasher::new()),
                    expected_crc: *crc32,
                    end_checked: false,
                    member: entry.name.clone(),
                    log: self.damage.clone(),
                }))
            }
        }
    }

    /// For a stored zip member: its data's offset and length in the archive file, so that a
    /// tool can read it in place.
    pub fn stored_range(&self, entry: &Entry) -> Option<(u64, u64)> {
        match &entry.location {
            Location::Zip {
                data_start,
                compressed_size,
                method: ZipMethod::Stored,
                ..
            } => Some((*data_start, *compressed_size)),
            _ => None,
        }
    }

    /// Reads a whole entry, refusing more than `limit` bytes (the limit guards against huge
    /// declared sizes; the caller reports what it got).
    pub fn read_entry(&self, entry: &Entry, limit: u64) -> io::Result<Vec<u8>> {
        let mut buf = Vec::with_capacity(entry.size.min(limit).min(1 << 20) as usize);
        self.open_entry(entry)?.take(limit).read_to_end(&mut buf)?;
        Ok(buf)
    }
}

/// A name relative to the root with `/` separators, and whether it was valid UTF-8.
fn slash_name(rel: &Path) -> (String, bool) {
    let mut utf8 = true;
    let parts: Vec<String> = rel
        .components()
        .map(|c| {
            let s = c.as_os_str();
            match s.to_str() {
                Some(s) => s.to_owned(),
                None => {
                    utf8 = false;
                    s.to_string_lossy().into_owned()
                }
            }
        })
        .collect();
    (parts.join("/"), utf8)
}

/// Follows a symlink found in a folder: inside the folder it behaves like its target; outside
/// (or broken) it is flagged. Links to folders inside the dataset are not followed (None), so
/// that a link cycle cannot make the walk endless.
fn classify_link(link: &Path, canonical_root: &Path) -> Option<(EntryKind, u64)> {
    Some(match link.canonicalize() {
        Ok(target) if target.starts_with(canonical_root) => match std::fs::metadata(&target) {
            Ok(m) if m.is_file() => (EntryKind::File, m.len()),
            Ok(m) if m.is_dir() => return None,
            _ => (EntryKind::Special, 0),
        },
        Ok(target) => (
            EntryKind::LinkOutside {
                target: target.display().to_string(),
            },
            0,
        ),
        Err(_) => {
            let target = std::fs::read_link(link)
                .map(|t| format!("{} (missing)", t.display()))
                .unwrap_or_else(|_| "an unreadable target".into());
            (EntryKind::LinkOutside { target }, 0)
        }
    })
}

/// A byte range of a file, read as if it were a file of its own.
struct Window {
    file: BufReader<File>,
    len: u64,
    pos: u64,
}

impl Window {
    fn new(file: File, start: u64, len: u64) -> io::Result<Window> {
        let mut file = BufReader::with_capacity(16 * 1024, file);
        file.seek(SeekFrom::Start(start))?;
        Ok(Window { file, len, pos: 0 })
    }
}

impl Read for Window {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.len.saturating_sub(self.pos);
        let want = (buf.len() as u64).min(left) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read(&mut buf[..want])?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Window {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = resolve_seek(to, self.pos, self.len)?;
        let delta = target as i64 - self.pos as i64;
        self.file.seek_relative(delta)?;
        self.pos = target;
        Ok(target)
    }
}

/// A deflated zip member: forward seeks decompress and discard; a backward seek restarts the
/// decompressor from the beginning of the member (probes only ever seek back to offset 0).
struct Inflater {
    decoder: DeflateDecoder<Window>,
    archive: PathBuf,
    data_start: u64,
    compressed_size: u64,
    /// Declared uncompressed size (may be a lie; reads simply end where the data ends).
    len: u64,
    pos: u64,
}

impl Inflater {
    fn open(archive: &Path, data_start: u64, compressed_size: u64, len: u64) -> io::Result<Self> {
        let window = Window::new(File::open(archive)?, data_start, compressed_size)?;
        Ok(Inflater {
            decoder: DeflateDecoder::new(window),
            archive: archive.to_path_buf(),
            data_start,
            compressed_size,
            len,
            pos: 0,
        })
    }

    fn restart(&mut self) -> io::Result<()> {
        *self = Inflater::open(
            &self.archive,
            self.data_start,
            self.compressed_size,
            self.len,
        )?;
        Ok(())
    }
}

impl Read for Inflater {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.decoder.read(buf)?;
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Inflater {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = resolve_seek(to, self.pos, self.len)?;
        if target < self.pos {
            self.restart()?;
        }
        let skip = target - self.pos;
        let skipped = io::copy(&mut self.by_ref().take(skip), &mut io::sink())?;
        if skipped < skip {
            // Past the real end of the data: behave like a file, where seeking past the end is
            // allowed and the next read returns 0.
            self.pos = target;
        }
        Ok(self.pos)
    }
}

/// A zip member's data held to its directory entry: reads end at the declared size, data that
/// ends before it or goes on after it is an error, and a member read from its first byte to
/// its last has its CRC-32 compared. Each failure is an `InvalidData` error carrying a
/// [`Damage`], also recorded in the source's log.
struct Checked {
    data: Box<dyn ReadSeek>,
    /// Declared (uncompressed) size.
    len: u64,
    pos: u64,
    /// Running CRC-32, while every byte from the first has been read in order.
    crc: Option<crc32fast::Hasher>,
    expected_crc: u32,
    /// Whether the data was checked for bytes beyond the declared size.
    end_checked: bool,
    member: String,
    log: Arc<DamageLog>,
}

impl Checked {
    fn damaged(&self, detail: String) -> io::Error {
        let damage = Damage {
            member: self.member.clone(),
            detail,
        };
        self.log.record(&damage);
        io::Error::new(io::ErrorKind::InvalidData, damage)
    }
}

impl Read for Checked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos >= self.len {
            if self.pos == self.len && !self.end_checked {
                self.end_checked = true;
                let mut probe = [0u8; 1];
                if self.data.read(&mut probe)? > 0 {
                    let detail = format!("it holds more than its declared {} bytes", self.len);
                    return Err(self.damaged(detail));
                }
            }
            return Ok(0);
        }
        let want = (buf.len() as u64).min(self.len - self.pos) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.data.read(&mut buf[..want])?;
        if n == 0 {
            let detail = format!(
                "it ends after {} of its declared {} bytes",
                self.pos, self.len
            );
            return Err(self.damaged(detail));
        }
        self.pos += n as u64;
        if let Some(crc) = &mut self.crc {
            crc.update(&buf[..n]);
        }
        if self.pos == self.len
            && let Some(crc) = self.crc.take()
        {
            let actual = crc.finalize();
            if actual != self.expected_crc {
                let detail = format!(
                    "its CRC-32 is {actual:08x}, the directory says {:08x}",
                    self.expected_crc
                );
                return Err(self.damaged(detail));
            }
        }
        Ok(n)
    }
}

impl Seek for Checked {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = resolve_seek(to, self.pos, self.len)?;
        if target > self.len {
            // Past the end, as in a file: reads there find nothing; the data is not touched.
            self.pos = target;
            self.crc = None;
        } else if target != self.pos {
            self.pos = self.data.seek(SeekFrom::Start(target))?;
            // Bytes skipped are not seen: only a read from the start can be checked.
            self.crc = (self.pos == 0).then(crc32fast::Hasher::new);
            self.end_checked = false;
        }
        Ok(self.pos)
    }
}

/// The name of a compression method wanft does not decode.
fn method_name(method: u16) -> String {
    match method {
        1 => "Shrink".into(),
        6 => "Implode".into(),
        9 => "Deflate64".into(),
        12 => "Bzip2".into(),
        14 => "LZMA".into(),
        93 => "Zstd".into(),
        95 => "XZ".into(),
        98 => "PPMd".into(),
        99 => "AES encryption".into(),
        other => format!("method {other}"),
    }
}

fn resolve_seek(to: SeekFrom, pos: u64, len: u64) -> io::Result<u64> {
    let target = match to {
        SeekFrom::Start(n) => Some(n),
        SeekFrom::Current(d) => pos.checked_add_signed(d),
        SeekFrom::End(d) => len.checked_add_signed(d),
    };
    target.ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "seek before start"))
}
