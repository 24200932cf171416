//! Streams one archive in the byte layout of [`layout`]: each member's local header and data in
//! archive order, then the central directory and the end records.
//!
//! The writer never seeks: every header is complete when it is written, because the CRC-32 of
//! each member is computed before its turn comes (see [`super::pipeline`]). It counts what it
//! writes and refuses to finish an archive whose members did not get exactly their planned
//! number of bytes.

use std::fs::File;
use std::io::{self, Read, Write};

use super::layout::{self, PlannedMember};

/// Member data is copied in slices of this size, so that cancellation and progress are noticed
/// often enough even when one member is large.
pub const COPY_SLICE: u64 = 8 << 20;

/// Size of the buffer used when data cannot be copied by the kernel (zip sources, tests).
pub const BUFFER_LEN: usize = 1 << 20;

/// Where a member's bytes come from, as the writer sees them.
pub enum MemberData<'a> {
    /// Bytes already in memory (data.jsonl, encoded).
    Bytes(&'a [u8]),
    /// A file positioned at the member's first byte. Copied file to file, which lets the
    /// standard library use `copy_file_range` when the output is a file too.
    File(&'a File),
    /// Anything else (a zip member inflated on the fly).
    Reader(&'a mut dyn Read),
}

/// Called with the archive's size so far after every write; an error it returns (for
/// instance on cancellation) stops the writer.
pub type Listener<'l> = Box<dyn FnMut(u64) -> io::Result<()> + 'l>;

/// Writes an archive to `W`, one member at a time.
pub struct ArchiveWriter<'l, W: Write> {
    out: W,
    /// Bytes written so far: the offset of whatever comes next.
    position: u64,
    central: Vec<u8>,
    entries: u64,
    buffer: Vec<u8>,
    listener: Listener<'l>,
}

impl<'l, W: Write> ArchiveWriter<'l, W> {
    pub fn new(out: W) -> Self {
        Self::with_listener(out, Box::new(|_| Ok(())))
    }

    /// A writer that reports its position to `listener` after every write.
    pub fn with_listener(out: W, listener: Listener<'l>) -> Self {
        ArchiveWriter {
            out,
            position: 0,
            central: Vec::new(),
            entries: 0,
            buffer: Vec::new(),
            listener,
        }
    }

    /// Offset of the next byte to be written.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Writes `member`'s local header and its `compressed_size` bytes of data.
    pub fn add(&mut self, member: &PlannedMember, crc32: u32, data: MemberData) -> io::Result<()> {
        let offset = self.position;
        self.write_raw(&layout::local_header(member, crc32, offset))?;
        let expected = member.compressed_size;
        let data_start = self.position;
        // The closure borrows only these two fields, leaving `out` and `buffer` to the copy.
        let position = &mut self.position;
        let listener = &mut self.listener;
        let mut on_slice = |n: u64| {
            *position += n;
            listener(*position)
        };
        match data {
            MemberData::Bytes(bytes) => {
                self.out.write_all(bytes)?;
                on_slice(bytes.len() as u64)?;
            }
            MemberData::File(file) => copy_file(file, &mut self.out, expected, &mut on_slice)?,
            MemberData::Reader(reader) => {
                if self.buffer.is_empty() {
                    self.buffer = vec![0; BUFFER_LEN];
                }
                copy_buffered(
                    reader,
                    &mut self.out,
                    expected,
                    &mut self.buffer,
                    &mut on_slice,
                )?
            }
        }
        let copied = self.position - data_start;
        if copied != expected {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!(
                    "`{}` has {copied} bytes where {expected} were planned (did it change while packing?)",
                    member.name
                ),
            ));
        }
        self.central
            .extend_from_slice(&layout::central_header(member, crc32, offset));
        self.entries += 1;
        Ok(())
    }

    /// Writes the central directory and the end records, flushes, and returns the output and
    /// the archive's size.
    pub fn finish(mut self) -> io::Result<(W, u64)> {
        let central_offset = self.position;
        let central = std::mem::take(&mut self.central);
        self.write_raw(&central)?;
        let end = layout::end_records(self.entries, central_offset, central.len() as u64);
        self.write_raw(&end)?;
        self.out.flush()?;
        Ok((self.out, self.position))
    }

    fn write_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.out.write_all(bytes)?;
        self.position += bytes.len() as u64;
        (self.listener)(self.position)
    }
}

/// Copies up to `len` bytes of `file` from its current position, slice by slice. `io::copy`
/// between two files is done by the kernel (`copy_file_range`, else `sendfile`) without the
/// data passing through this process.
fn copy_file<W: Write>(
    mut file: &File,
    out: &mut W,
    len: u64,
    on_slice: &mut dyn FnMut(u64) -> io::Result<()>,
) -> io::Result<()> {
    let mut copied = 0;
    while copied < len {
        let slice = (len - copied).min(COPY_SLICE);
        let n = io::copy(&mut Read::by_ref(&mut file).take(slice), out)?;
        if n == 0 {
            break;
        }
        copied += n;
        on_slice(n)?;
    }
    Ok(())
}

/// Copies up to `len` bytes of `reader` through `buffer`.
fn copy_buffered<W: Write>(
    reader: &mut dyn Read,
    out: &mut W,
    len: u64,
    buffer: &mut [u8],
    on_slice: &mut dyn FnMut(u64) -> io::Result<()>,
) -> io::Result<()> {
    let mut copied = 0;
    while copied < len {
        let want = (len - copied).min(buffer.len() as u64) as usize;
        let n = match reader.read(&mut buffer[..want]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        out.write_all(&buffer[..n])?;
        copied += n as u64;
        on_slice(n as u64)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pack::layout::{Method, archive_size, text_member};
    use std::io::Cursor;

    const FILL: u8 = 0x5a;

    /// Writes `members` with data from `io::repeat(FILL)` into `out`; the CRC-32 is right for
    /// members under 1 MiB (the ones a test reads back).
    fn write_synthetic<W: Write>(out: W, members: &[PlannedMember]) -> io::Result<(W, u64)> {
        let mut writer = ArchiveWriter::new(out);
        for m in members {
            let crc = match m.compressed_size {
                n if n < 1 << 20 => crc32fast::hash(&vec![FILL; n as usize]),
                _ => 0,
            };
            let mut data = io::repeat(FILL).take(m.compressed_size);
            writer.add(m, crc, MemberData::Reader(&mut data))?;
        }
        writer.finish()
    }

    /// An archive kept in memory except for long runs of one byte value, so that archives of
    /// several GiB can be written and read back by the zip crate.
    #[derive(Default)]
    struct SparseImage {
        /// (offset, content), in order.
        segments: Vec<(u64, Segment)>,
        len: u64,
        position: u64,
    }

    enum Segment {
        Bytes(Vec<u8>),
        Run(u8, u64),
    }

    impl Segment {
        fn len(&self) -> u64 {
            match self {
                Segment::Bytes(b) => b.len() as u64,
                Segment::Run(_, n) => *n,
            }
        }
    }

    impl Write for SparseImage {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            // All bytes equal, by one memcmp (the test runs unoptimised).
            let run = buf.len() >= 4096 && buf[1..] == buf[..buf.len() - 1];
            match (self.segments.last_mut(), run) {
                (Some((_, Segment::Run(v, n))), true) if *v == buf[0] => *n += buf.len() as u64,
                (Some((_, Segment::Bytes(bytes))), false) => bytes.extend_from_slice(buf),
                (_, true) => self
                    .segments
                    .push((self.len, Segment::Run(buf[0], buf.len() as u64))),
                (_, false) => self.segments.push((self.len, Segment::Bytes(buf.to_vec()))),
            }
            self.len += buf.len() as u64;
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Read for SparseImage {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let i = self
                .segments
                .partition_point(|(start, _)| *start <= self.position);
            let Some((start, segment)) = i.checked_sub(1).map(|i| &self.segments[i]) else {
                return Ok(0);
            };
            let within = self.position - start;
            let n = (segment.len() - within).min(buf.len() as u64) as usize;
            match segment {
                Segment::Bytes(b) => buf[..n].copy_from_slice(&b[within as usize..][..n]),
                Segment::Run(v, _) => buf[..n].fill(*v),
            }
            self.position += n as u64;
            Ok(n)
        }
    }

    impl io::Seek for SparseImage {
        fn seek(&mut self, to: io::SeekFrom) -> io::Result<u64> {
            self.position = match to {
                io::SeekFrom::Start(n) => n,
                io::SeekFrom::End(d) => self.len.saturating_add_signed(d),
                io::SeekFrom::Current(d) => self.position.saturating_add_signed(d),
            };
            Ok(self.position)
        }
    }

    #[test]
    fn small_archive_reads_back_with_the_zip_crate() {
        let text = "{\"prompt\":\"a\"}\n".repeat(40);
        let (manifest, encoded) = text_member("data.jsonl", text.as_bytes());
        assert_eq!(manifest.method, Method::Deflated);
        let clip = vec![7u8; 3000];
        let clip_member = PlannedMember::stored("video/clip.mp4", clip.len() as u64);
        let mut writer = ArchiveWriter::new(Cursor::new(Vec::new()));
        writer
            .add(
                &manifest,
                crc32fast::hash(text.as_bytes()),
                MemberData::Bytes(&encoded),
            )
            .unwrap();
        let mut reader = &clip[..];
        writer
            .add(
                &clip_member,
                crc32fast::hash(&clip),
                MemberData::Reader(&mut reader),
            )
            .unwrap();
        let (cursor, size) = writer.finish().unwrap();
        let bytes = cursor.into_inner();
        assert_eq!(size, bytes.len() as u64);
        assert_eq!(size, archive_size(&[manifest, clip_member]));

        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
        let mut out = String::new();
        archive
            .by_name("data.jsonl")
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, text);
        let member = archive.by_name("video/clip.mp4").unwrap();
        assert_eq!(member.unix_mode(), Some(0o100644));
        assert_eq!(member.crc32(), crc32fast::hash(&clip));
        let modified = member.last_modified().unwrap();
        assert_eq!(
            (modified.year(), modified.month(), modified.day()),
            (1980, 1, 1)
        );
    }

    #[test]
    fn written_size_equals_the_layout_across_zip64_thresholds() {
        // Members of exactly the sizes where 32-bit fields run out, and enough data before the
        // last member that its offset needs Zip64 too. The data goes to a sink: nothing is stored.
        let limit = layout::U32_LIMIT;
        let cases: Vec<Vec<PlannedMember>> = vec![
            vec![PlannedMember::stored("a", limit - 1)],
            vec![PlannedMember::stored("a", limit)],
            vec![PlannedMember::stored("a", limit + 1)],
            vec![
                PlannedMember::stored("a", limit - 40),
                PlannedMember::stored("b", 10),
                PlannedMember::stored("c", 10),
            ],
        ];
        for members in cases {
            let (_, written) = write_synthetic(io::sink(), &members).unwrap();
            assert_eq!(written, archive_size(&members), "{members:?}");
        }
    }

    #[test]
    fn zip64_archives_read_back_with_the_zip_crate() {
        // A member over 4 GiB, and one after it whose offset needs Zip64 as well.
        let members = [
            PlannedMember::stored("first.txt", 5),
            PlannedMember::stored("big.mp4", layout::U32_LIMIT + 10),
            PlannedMember::stored("last.txt", 7),
        ];
        let (image, size) = write_synthetic(SparseImage::default(), &members).unwrap();
        assert_eq!(size, archive_size(&members));
        let mut archive = zip::ZipArchive::new(image).unwrap();
        assert_eq!(archive.len(), 3);
        assert_eq!(
            archive.by_index_raw(1).unwrap().size(),
            layout::U32_LIMIT + 10
        );
        let mut last = Vec::new();
        archive
            .by_name("last.txt")
            .unwrap()
            .read_to_end(&mut last)
            .unwrap();
        assert_eq!(last, vec![FILL; 7]);
    }

    #[test]
    fn archives_of_more_than_65535_members_read_back() {
        let members: Vec<PlannedMember> = (0..70_000)
            .map(|i| PlannedMember::stored(format!("f{i:05}"), 1))
            .collect();
        let (cursor, size) = write_synthetic(Cursor::new(Vec::new()), &members).unwrap();
        assert_eq!(size, archive_size(&members));
        let mut archive = zip::ZipArchive::new(cursor).unwrap();
        assert_eq!(archive.len(), 70_000);
        let mut content = Vec::new();
        archive
            .by_name("f69999")
            .unwrap()
            .read_to_end(&mut content)
            .unwrap();
        assert_eq!(content, [FILL]);
    }

    /// Accepts `room` bytes, then fails like a full disk.
    struct FullDisk {
        room: usize,
    }

    impl Write for FullDisk {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            if self.room == 0 {
                return Err(io::Error::new(io::ErrorKind::StorageFull, "disk full"));
            }
            let n = buf.len().min(self.room);
            self.room -= n;
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_failing_output_stops_the_writer_with_its_error() {
        let members = [
            PlannedMember::stored("a.mp4", 5000),
            PlannedMember::stored("b.mp4", 5000),
        ];
        let Err(err) = write_synthetic(FullDisk { room: 7000 }, &members) else {
            panic!("the write succeeded on a full disk");
        };
        assert_eq!(err.kind(), io::ErrorKind::StorageFull);
    }

    #[test]
    fn a_member_with_missing_bytes_is_an_error() {
        let member = PlannedMember::stored("clip.mp4", 100);
        let mut short = &[1u8; 60][..];
        let mut writer = ArchiveWriter::new(io::sink());
        let err = writer
            .add(&member, 0, MemberData::Reader(&mut short))
            .unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        assert!(err.to_string().contains("clip.mp4"), "{err}");
    }

    #[test]
    fn files_are_copied_slice_by_slice() {
        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("in.bin");
        let data: Vec<u8> = (0..(COPY_SLICE as usize * 2 + 123))
            .map(|i| (i % 251) as u8)
            .collect();
        std::fs::write(&source, &data).unwrap();
        let member = PlannedMember::stored("in.bin", data.len() as u64);
        let out = File::create(dir.path().join("out.zip")).unwrap();
        let mut positions = Vec::new();
        let mut writer = ArchiveWriter::with_listener(
            out,
            Box::new(|p| {
                positions.push(p);
                Ok(())
            }),
        );
        let input = File::open(&source).unwrap();
        writer
            .add(&member, crc32fast::hash(&data), MemberData::File(&input))
            .unwrap();
        let (_, size) = writer.finish().unwrap();
        let header = layout::local_header_len(&member);
        let slices: Vec<u64> = positions.windows(2).map(|w| w[1] - w[0]).collect();
        assert_eq!(positions[0], header);
        assert_eq!(positions.last(), Some(&size));
        // Header, three slices, central directory, end record.
        assert_eq!(slices[..3], [COPY_SLICE, COPY_SLICE, 123]);
        assert_eq!(slices.len(), 5);
        let mut archive =
            zip::ZipArchive::new(File::open(dir.path().join("out.zip")).unwrap()).unwrap();
        let mut back = Vec::new();
        archive.by_index(0).unwrap().read_to_end(&mut back).unwrap();
        assert!(back == data);
    }
}
