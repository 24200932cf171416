//! The write itself: three activities run at once over the same members.
//!
//! ```text
//! digest workers (rayon) ──► digest slots ──► writer (this thread) ──► archive file
//!   read each member ahead,      CRC-32 and      headers + data copied        │
//!   CRC-32 + SHA-256             SHA-256, in     by the kernel, in order      ▼
//!                                order                               verifier (follows behind)
//!                                                                    re-reads every byte: zip
//!                                                                    SHA-256, headers, member CRCs
//! ```
//!
//! A member's local header needs its CRC-32 before its data, so members are digested first,
//! in parallel and in archive order, at most [`LOOKAHEAD`] bytes ahead of the writer (so the
//! bytes are still in the page cache when the writer copies them). The writer copies data file
//! to file, which the kernel does without the bytes entering this process. The verifier reads
//! the archive back as it grows and compares every header with the expected bytes and every
//! member's CRC-32 and length with its digest; the same pass yields the archive's SHA-256.
//!
//! A fourth thread syncs the archive to disk behind the writer, every [`FLUSH_EVERY`] bytes, so
//! that the disk writes while the rest of the archive is copied and the final sync before the
//! rename has little left to wait for.
//!
//! Memory is bounded whatever the dataset: one buffer of [`BUFFER_LEN`] per digest worker, one
//! for the verifier and one for the writer's non-file sources, plus a few bytes per member.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};

use sha2::{Digest as _, Sha256};

use super::digest::{Digest, digest_reader};
use super::layout::{self, Method, PlannedMember};
use super::writer::{ArchiveWriter, BUFFER_LEN, MemberData};
use crate::dataset::{ReadSeek, Source};
use crate::progress::Progress;

/// How far (in member bytes) digesting may run ahead of the writer.
pub const LOOKAHEAD: u64 = 256 << 20;

/// How much newly written data makes the flusher sync the archive again.
pub const FLUSH_EVERY: u64 = 64 << 20;

/// Where a member's content comes from.
#[derive(Debug, Clone)]
pub enum Content {
    /// data.jsonl: `encoded` is written, `raw` is what it decodes to.
    Encoded { encoded: Vec<u8>, raw: Vec<u8> },
    /// An entry of the dataset's source, by name.
    Entry(String),
    /// A file outside the dataset (a fixed copy in the cache).
    File(PathBuf),
}

/// One member to write: how it is laid out and where its bytes come from.
#[derive(Debug, Clone)]
pub struct Member {
    pub planned: PlannedMember,
    pub content: Content,
}

/// What the caller lends the write: a cancellation flag and a progress sink.
#[derive(Clone, Copy)]
pub struct Control<'a> {
    /// Set (by a signal handler, typically) to stop as soon as possible.
    pub cancel: &'a AtomicBool,
    pub progress: &'a dyn Progress,
}

impl Control<'_> {
    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// An error when cancellation was requested.
    fn check(&self) -> io::Result<()> {
        if self.cancelled() {
            Err(io::Error::new(io::ErrorKind::Interrupted, "cancelled"))
        } else {
            Ok(())
        }
    }
}

/// The archive as written and read back.
#[derive(Debug, Clone)]
pub struct Written {
    pub size: u64,
    pub sha256: [u8; 32],
    /// Per member, in archive order.
    pub digests: Vec<Digest>,
}

/// Why the write failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("interrupted")]
    Cancelled,
    #[error("cannot read `{member}`")]
    Read {
        member: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot write `{member}` into the archive")]
    Member {
        member: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the archive")]
    Write(#[source] io::Error),
    #[error("the archive read back differs from what was written: {0}")]
    Verify(String),
    #[error("cannot sync the archive to disk")]
    Sync(#[source] io::Error),
}

/// Writes `members` in order into `out` (an empty file), verifying every byte as it lands
/// through `reread`, a second handle on the same file (so that reading never moves the
/// writer's position, on any platform).
pub fn write_archive(
    members: &[Member],
    source: &Source,
    out: &File,
    reread: &File,
    control: Control,
) -> Result<Written, WriteError> {
    let planned: Vec<PlannedMember> = members.iter().map(|m| m.planned.clone()).collect();
    let expected_size = layout::archive_size(&planned);
    let slots = DigestSlots::new(&planned);
    let watermark = Watermark::default();
    control.progress.begin_bytes("packing", expected_size);
    let (written, verified, flushed) = std::thread::scope(|scope| {
        scope.spawn(|| digest_all(members, source, &slots, control));
        let flusher = scope.spawn(|| flush_behind(out, &watermark));
        let verifier = scope.spawn(|| {
            let verified = verify_behind(&planned, reread, &slots, &watermark, control);
            if verified.is_err() {
                // Stop the writer and the digests: the archive is already known to be bad.
                watermark.abort();
                slots.abort();
            }
            verified
        });
        let written = {
            // Should the writer panic, the threads waiting on it must still end.
            let _guard = OnUnwind(|| {
                slots.abort();
                watermark.abort();
            });
            write_in_order(members, source, out, &slots, &watermark, control)
        };
        match &written {
            Ok(size) => watermark.finish(*size),
            Err(_) => {
                slots.abort();
                watermark.abort();
            }
        }
        let verified = verifier
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        let flushed = flusher
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (written, verified, flushed)
    });
    control.progress.end();
    // Whoever failed first stopped the other, which then reports a mere cancellation.
    let (size, sha256) = match (written, verified) {
        _ if control.cancelled() => return Err(WriteError::Cancelled),
        (Ok(size), Ok(sha256)) => (size, sha256),
        (Err(error), Err(WriteError::Cancelled)) | (Err(error), Ok(_)) => return Err(error),
        (_, Err(error)) => return Err(error),
    };
    flushed.map_err(WriteError::Sync)?;
    if size != expected_size {
        return Err(WriteError::Verify(format!(
            "{size} bytes were written where the layout predicts {expected_size}"
        )));
    }
    Ok(Written {
        size,
        sha256,
        digests: slots.into_digests(),
    })
}

/// The writer: each member's header and data once its digest is ready, then the directory.
fn write_in_order(
    members: &[Member],
    source: &Source,
    out: &File,
    slots: &DigestSlots,
    watermark: &Watermark,
    control: Control,
) -> Result<u64, WriteError> {
    let listener = Box::new(|position| {
        watermark.advance(position)?;
        control.check()
    });
    let mut writer = ArchiveWriter::with_listener(out, listener);
    for (i, member) in members.iter().enumerate() {
        let name = &member.planned.name;
        let read_error = |source| WriteError::Read {
            member: name.clone(),
            source,
        };
        let digest = slots
            .take(i)
            .ok_or(WriteError::Cancelled)?
            .map_err(read_error)?;
        let mut opened = open(&member.content, source).map_err(read_error)?;
        let data = match &mut opened {
            Opened::Memory { encoded, .. } => MemberData::Bytes(encoded),
            Opened::File(file) => MemberData::File(file),
            Opened::Reader(reader) => MemberData::Reader(reader),
        };
        writer
            .add(&member.planned, digest.crc32, data)
            .map_err(|source| WriteError::Member {
                member: name.clone(),
                source,
            })?;
    }
    let (_, size) = writer.finish().map_err(WriteError::Write)?;
    Ok(size)
}

/// A member's content, opened for reading.
enum Opened<'a> {
    Memory { encoded: &'a [u8], raw: &'a [u8] },
    File(File),
    Reader(Box<dyn ReadSeek>),
}

fn open<'a>(content: &'a Content, source: &Source) -> io::Result<Opened<'a>> {
    match content {
        Content::Encoded { encoded, raw } => Ok(Opened::Memory { encoded, raw }),
        Content::File(path) => Ok(Opened::File(File::open(path)?)),
        Content::Entry(name) => {
            let entry = source.get(name).ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, "the file is gone from the dataset")
            })?;
            match entry.disk_path() {
                Some(path) => Ok(Opened::File(File::open(path)?)),
                None => Ok(Opened::Reader(source.open_entry(entry)?)),
            }
        }
    }
}

/// Digests every member on the rayon pool, in archive order.
fn digest_all(members: &[Member], source: &Source, slots: &DigestSlots, control: Control) {
    let next = AtomicUsize::new(0);
    let workers = rayon::current_num_threads().clamp(1, members.len().max(1));
    rayon::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|_| {
                let _guard = OnUnwind(|| slots.abort());
                let mut buffer = vec![0u8; BUFFER_LEN];
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= members.len() || !slots.wait_for_room(i) {
                        return;
                    }
                    let result = digest_member(&members[i], source, slots, &mut buffer, control);
                    slots.put(i, result);
                }
            });
        }
    });
}

fn digest_member(
    member: &Member,
    source: &Source,
    slots: &DigestSlots,
    buffer: &mut [u8],
    control: Control,
) -> io::Result<Digest> {
    let len = member.planned.uncompressed_size;
    let mut reader: Box<dyn Read> = match open(&member.content, source)? {
        Opened::Memory { raw, .. } => return Ok(Digest::of(raw)),
        Opened::File(file) => Box::new(file),
        Opened::Reader(reader) => Box::new(reader),
    };
    digest_reader(reader.as_mut(), len, buffer, &mut |_| {
        if slots.is_aborted() {
            return Err(io::Error::other("stopped"));
        }
        control.check()
    })
}

/// Digests by member index, filled by the workers and taken in order by the writer.
struct DigestSlots {
    state: Mutex<SlotState>,
    changed: Condvar,
    /// Mirrors `SlotState::aborted` for the workers' cheap checks between chunks.
    aborted: AtomicBool,
    /// Offset of each member's data if the archive held data only: for the look-ahead window.
    data_offsets: Vec<u64>,
}

struct SlotState {
    results: Vec<Option<io::Result<Digest>>>,
    /// The member the writer is at.
    writing: usize,
    aborted: bool,
}

impl DigestSlots {
    fn new(members: &[PlannedMember]) -> DigestSlots {
        let data_offsets = members
            .iter()
            .scan(0u64, |offset, m| {
                let start = *offset;
                *offset = offset.saturating_add(m.uncompressed_size);
                Some(start)
            })
            .collect();
        DigestSlots {
            state: Mutex::new(SlotState {
                results: (0..members.len()).map(|_| None).collect(),
                writing: 0,
                aborted: false,
            }),
            changed: Condvar::new(),
            aborted: AtomicBool::new(false),
            data_offsets,
        }
    }

    fn lock(&self) -> MutexGuard<'_, SlotState> {
        // A worker that panicked while holding the lock leaves nothing half-updated here.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, SlotState>) -> MutexGuard<'a, SlotState> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// Blocks until member `i` is within the look-ahead window; false when aborted.
    fn wait_for_room(&self, i: usize) -> bool {
        let mut state = self.lock();
        loop {
            if state.aborted {
                return false;
            }
            let ahead = self.data_offsets[i] - self.data_offsets[state.writing];
            // The member right after the writer's is always allowed, however large its
            // predecessor: otherwise one member larger than the window would stall everything.
            if i <= state.writing + 1 || ahead <= LOOKAHEAD {
                return true;
            }
            state = self.wait(state);
        }
    }

    fn put(&self, i: usize, result: io::Result<Digest>) {
        self.lock().results[i] = Some(result);
        self.changed.notify_all();
    }

    /// The writer takes member `i`'s digest (or the error digesting it), waiting for it;
    /// `None` when aborted.
    fn take(&self, i: usize) -> Option<io::Result<Digest>> {
        let mut state = self.lock();
        state.writing = i;
        self.changed.notify_all();
        loop {
            if state.aborted {
                return None;
            }
            match &mut state.results[i] {
                Some(Ok(digest)) => return Some(Ok(*digest)),
                Some(Err(e)) => {
                    return Some(Err(std::mem::replace(
                        e,
                        io::Error::other("already reported"),
                    )));
                }
                None => state = self.wait(state),
            }
        }
    }

    /// Member `i`'s digest if it is ready (the verifier only asks once the writer used it).
    fn ready(&self, i: usize) -> Option<Digest> {
        match self.lock().results.get(i) {
            Some(Some(Ok(digest))) => Some(*digest),
            _ => None,
        }
    }

    fn abort(&self) {
        self.lock().aborted = true;
        self.aborted.store(true, Ordering::Relaxed);
        self.changed.notify_all();
    }

    fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Relaxed)
    }

    fn into_digests(self) -> Vec<Digest> {
        let state = self.state.into_inner().unwrap_or_else(|e| e.into_inner());
        state
            .results
            .into_iter()
            .filter_map(|r| r.and_then(Result::ok))
            .collect()
    }
}

/// Runs its closure if dropped while the thread panics: a panicking thread must release
/// those waiting on it rather than leave them waiting forever.
struct OnUnwind<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnUnwind<F> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            (self.0)();
        }
    }
}

/// Syncs the archive every [`FLUSH_EVERY`] new bytes until the writer is done. An error must
/// not be dropped: a failed sync is reported once per open file, so the final sync could
/// succeed after data was lost.
fn flush_behind(out: &File, watermark: &Watermark) -> io::Result<()> {
    let mut flushed = 0;
    // Stops quietly when the archive is finished (the commit syncs the rest) or abandoned.
    while let Ok(Some(written)) = watermark.wait_beyond(flushed + FLUSH_EVERY) {
        out.sync_data()?;
        flushed = written;
    }
    Ok(())
}

/// How much of the archive the writer has written, for the verifier to follow.
#[derive(Default)]
struct Watermark {
    state: Mutex<WatermarkState>,
    changed: Condvar,
}

#[derive(Default)]
struct WatermarkState {
    written: u64,
    finished: bool,
    aborted: bool,
}

impl Watermark {
    fn lock(&self) -> MutexGuard<'_, WatermarkState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Records the writer's progress; an error once the verifier has given up.
    fn advance(&self, written: u64) -> io::Result<()> {
        let mut state = self.lock();
        if state.aborted {
            return Err(io::Error::other("stopped by the verifier"));
        }
        state.written = written;
        drop(state);
        self.changed.notify_all();
        Ok(())
    }

    fn finish(&self, size: u64) {
        let mut state = self.lock();
        state.written = size;
        state.finished = true;
        drop(state);
        self.changed.notify_all();
    }

    fn abort(&self) {
        self.lock().aborted = true;
        self.changed.notify_all();
    }

    /// Waits until bytes beyond `position` exist and returns where they end; `None` when the
    /// archive is finished and ends at or before `position`.
    fn wait_beyond(&self, position: u64) -> Result<Option<u64>, WriteError> {
        let mut state = self.lock();
        loop {
            if state.aborted {
                return Err(WriteError::Cancelled);
            }
            if state.written > position {
                return Ok(Some(state.written));
            }
            if state.finished {
                return Ok(None);
            }
            state = self.changed.wait(state).unwrap_or_else(|e| e.into_inner());
        }
    }
}

/// The verifier: reads the archive as it is written and checks it against the layout.
/// Returns the archive's SHA-256.
fn verify_behind(
    members: &[PlannedMember],
    out: &File,
    slots: &DigestSlots,
    watermark: &Watermark,
    control: Control,
) -> Result<[u8; 32], WriteError> {
    let mut reader = Follower {
        file: out,
        position: 0,
        watermark,
        sha: Sha256::new(),
        progress: control.progress,
    };
    let mut buffer = vec![0u8; BUFFER_LEN];
    let mut central = Vec::new();
    for (i, member) in members.iter().enumerate() {
        let offset = reader.position;
        let header = reader.read_exact(layout::local_header_len(member))?;
        // The writer takes a digest before writing the header: it is ready now.
        let digest = slots
            .ready(i)
            .ok_or_else(|| WriteError::Verify(format!("no digest for `{}`", member.name)))?;
        if header != layout::local_header(member, digest.crc32, offset) {
            return Err(WriteError::Verify(format!(
                "the local header of `{}` is not the one planned",
                member.name
            )));
        }
        let mut check = ContentCheck::new(member.method);
        reader.stream(member.compressed_size, &mut buffer, &mut |chunk| {
            check.update(chunk)
        })?;
        let (crc32, size) = check
            .finish()
            .map_err(|e| WriteError::Verify(format!("`{}` does not inflate: {e}", member.name)))?;
        if crc32 != digest.crc32 || size != digest.size {
            return Err(WriteError::Verify(format!(
                "`{}` reads back as {size} bytes with CRC-32 {crc32:08x}; {} bytes with CRC-32 \
                 {:08x} were written (did the file change while packing?)",
                member.name, digest.size, digest.crc32
            )));
        }
        central.extend_from_slice(&layout::central_header(member, digest.crc32, offset));
    }
    let central_offset = reader.position;
    if reader.read_exact(central.len() as u64)? != central {
        return Err(WriteError::Verify(
            "the central directory is not the one planned".into(),
        ));
    }
    let end = layout::end_records(members.len() as u64, central_offset, central.len() as u64);
    if reader.read_exact(end.len() as u64)? != end {
        return Err(WriteError::Verify(
            "the end records are not the ones planned".into(),
        ));
    }
    if watermark.wait_beyond(reader.position)?.is_some() {
        return Err(WriteError::Verify(
            "bytes follow the end of the archive".into(),
        ));
    }
    Ok(reader.sha.finalize().into())
}

/// Reads the archive file behind the writer, hashing everything it reads.
struct Follower<'a> {
    file: &'a File,
    position: u64,
    watermark: &'a Watermark,
    sha: Sha256,
    progress: &'a dyn Progress,
}

impl Follower<'_> {
    /// Reads some bytes at the current position into `buf` (at least one), waiting for the
    /// writer when needed.
    fn read_some(&mut self, buf: &mut [u8]) -> Result<usize, WriteError> {
        let short = || WriteError::Verify("the archive ends early".into());
        let end = self
            .watermark
            .wait_beyond(self.position)?
            .ok_or_else(short)?;
        let want = (end - self.position).min(buf.len() as u64) as usize;
        let n = read_at(self.file, &mut buf[..want], self.position).map_err(WriteError::Write)?;
        if n == 0 {
            return Err(short());
        }
        self.sha.update(&buf[..n]);
        self.position += n as u64;
        self.progress.advance(n as u64);
        Ok(n)
    }

    /// The next `len` bytes (`len` comes from the layout: a header's size).
    fn read_exact(&mut self, len: u64) -> Result<Vec<u8>, WriteError> {
        let mut bytes = vec![0u8; len as usize];
        let mut filled = 0;
        while filled < bytes.len() {
            filled += self.read_some(&mut bytes[filled..])?;
        }
        Ok(bytes)
    }

    /// Passes the next `len` bytes to `sink`, chunk by chunk.
    fn stream(
        &mut self,
        len: u64,
        buffer: &mut [u8],
        sink: &mut dyn FnMut(&[u8]),
    ) -> Result<(), WriteError> {
        let mut left = len;
        while left > 0 {
            let want = left.min(buffer.len() as u64) as usize;
            let n = self.read_some(&mut buffer[..want])?;
            sink(&buffer[..n]);
            left -= n as u64;
        }
        Ok(())
    }
}

#[cfg(unix)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    loop {
        match file.read_at(buf, offset) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(windows)]
fn read_at(file: &File, buf: &mut [u8], offset: u64) -> io::Result<usize> {
    use std::os::windows::fs::FileExt;
    file.seek_read(buf, offset)
}

/// CRC-32 and length of a member's uncompressed content, from its stored bytes.
enum ContentCheck {
    Stored(CrcCounter),
    Deflated(Box<flate2::write::DeflateDecoder<CrcCounter>>),
}

impl ContentCheck {
    fn new(method: Method) -> ContentCheck {
        match method {
            Method::Stored => ContentCheck::Stored(CrcCounter::default()),
            Method::Deflated => ContentCheck::Deflated(Box::new(
                flate2::write::DeflateDecoder::new(CrcCounter::default()),
            )),
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        match self {
            ContentCheck::Stored(counter) => counter.add(chunk),
            // Inflate errors are kept by the decoder and surface again in `finish`.
            ContentCheck::Deflated(decoder) => {
                let _ = decoder.write_all(chunk);
            }
        }
    }

    fn finish(self) -> io::Result<(u32, u64)> {
        let counter = match self {
            ContentCheck::Stored(counter) => counter,
            ContentCheck::Deflated(decoder) => decoder.finish()?,
        };
        Ok((counter.crc.finalize(), counter.len))
    }
}

#[derive(Default)]
struct CrcCounter {
    crc: crc32fast::Hasher,
    len: u64,
}

impl CrcCounter {
    fn add(&mut self, bytes: &[u8]) {
        self.crc.update(bytes);
        self.len += bytes.len() as u64;
    }
}

impl Write for CrcCounter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.add(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::layout::text_member;
    use crate::progress::Silent;
    use std::fs;

    struct Setup {
        dir: tempfile::TempDir,
        source: Source,
    }

    impl Setup {
        fn new() -> Setup {
            let dir = tempfile::tempdir().unwrap();
            fs::create_dir(dir.path().join("data")).unwrap();
            let source = Source::open(&dir.path().join("data")).unwrap();
            Setup { dir, source }
        }

        /// A member whose content is a file of `bytes`, planned at `planned` bytes.
        fn file_member(&self, name: &str, bytes: &[u8], planned: u64) -> Member {
            let path = self.dir.path().join(name);
            fs::write(&path, bytes).unwrap();
            Member {
                planned: PlannedMember::stored(name, planned),
                content: Content::File(path),
            }
        }

        fn write(
            &self,
            members: &[Member],
            cancel: bool,
        ) -> (Result<Written, WriteError>, Vec<u8>) {
            let path = self.dir.path().join("out.zip");
            let out = File::create(&path).unwrap();
            let reread = File::open(&path).unwrap();
            let cancel = AtomicBool::new(cancel);
            let control = Control {
                cancel: &cancel,
                progress: &Silent,
            };
            let result = write_archive(members, &self.source, &out, &reread, control);
            (result, fs::read(&path).unwrap())
        }
    }

    #[test]
    fn members_are_digested_written_and_verified() {
        let setup = Setup::new();
        let text = b"{\"prompt\":\"x\"}\n".repeat(20);
        let (planned, encoded) = text_member("data.jsonl", &text);
        let clip: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
        let members = vec![
            Member {
                planned,
                content: Content::Encoded {
                    encoded,
                    raw: text.clone(),
                },
            },
            setup.file_member("clip.mp4", &clip, clip.len() as u64),
        ];
        let (result, bytes) = setup.write(&members, false);
        let written = result.unwrap();
        assert_eq!(written.size, bytes.len() as u64);
        assert_eq!(written.sha256, <[u8; 32]>::from(Sha256::digest(&bytes)));
        assert_eq!(written.digests, [Digest::of(&text), Digest::of(&clip)]);
        let archive = zip::ZipArchive::new(io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
    }

    #[test]
    fn a_member_that_changed_since_it_was_planned_fails_the_write() {
        let setup = Setup::new();
        let members = vec![setup.file_member("clip.mp4", &[1; 50], 100)];
        match setup.write(&members, false).0 {
            Err(WriteError::Read { member, source }) => {
                assert_eq!(member, "clip.mp4");
                assert_eq!(source.kind(), io::ErrorKind::UnexpectedEof);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_cancelled_write_stops() {
        let setup = Setup::new();
        let members = vec![setup.file_member("clip.mp4", &[1; 5000], 5000)];
        assert!(matches!(
            setup.write(&members, true).0,
            Err(WriteError::Cancelled)
        ));
    }
}
