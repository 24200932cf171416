//! A forward-only reader over the file being probed.
//!
//! Probes run on plain files and on members of a zip archive that are inflated on the fly, where a
//! backward seek means inflating again from the start. Every probe therefore reads through
//! [`ForwardReader`], which never moves back, reads each byte of the file at most once, and keeps a
//! small read-ahead so that a run of small header reads costs one read of the underlying reader.

use std::io::{self, Read, Seek, SeekFrom};

use super::MediaError;

/// How much is read from the underlying reader at once for small reads. Headers are a few dozen
/// bytes each; one read-ahead usually covers several of them, and wasting it on the start of an
/// `mdat` box costs little.
const READ_AHEAD: usize = 4096;

/// A forward-only view of `len` bytes starting at the underlying reader's current position.
///
/// Offsets are relative to that starting position, which is the start of the file.
pub(crate) struct ForwardReader<'r, R> {
    inner: &'r mut R,
    len: u64,
    /// Bytes read from `inner` and not consumed yet: `buffer[consumed..]` starts at offset `pos`.
    buffer: Vec<u8>,
    consumed: usize,
    pos: u64,
}

impl<'r, R: Read + Seek> ForwardReader<'r, R> {
    /// Wraps `inner`, positioned at the start of a file of `len` bytes.
    pub(crate) fn new(inner: &'r mut R, len: u64) -> Self {
        ForwardReader {
            inner,
            len,
            buffer: Vec::new(),
            consumed: 0,
            pos: 0,
        }
    }

    /// The length of the file, as given by the caller.
    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    /// The offset of the next byte to be read.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// Bytes between the current position and the end of the file.
    pub(crate) fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    /// Returns up to `n` bytes from the current position without consuming them; fewer only at the
    /// end of the file. Callers keep `n` small: it is buffered in memory.
    pub(crate) fn peek(&mut self, n: usize) -> Result<&[u8], MediaError> {
        let wanted = n.min(clamp_to_usize(self.remaining()));
        self.fill(wanted)?;
        let available = self.buffered().len().min(wanted);
        Ok(&self.buffered()[..available])
    }

    /// Reads exactly `out.len()` bytes; reading past the end of the file is a truncation.
    pub(crate) fn read_exact(&mut self, out: &mut [u8]) -> Result<(), MediaError> {
        if out.len() as u64 > self.remaining() {
            return Err(ends_inside_header());
        }
        let from_buffer = out.len().min(self.buffered().len());
        out[..from_buffer].copy_from_slice(&self.buffered()[..from_buffer]);
        self.consume(from_buffer);
        let rest = &mut out[from_buffer..];
        if rest.is_empty() {
            return Ok(());
        }
        if rest.len() >= READ_AHEAD {
            // Large reads (a whole `moov`) go straight into the caller's buffer.
            self.inner.read_exact(rest)?;
            self.pos += rest.len() as u64;
        } else {
            self.fill(rest.len())?;
            if self.buffered().len() < rest.len() {
                return Err(ends_inside_header());
            }
            rest.copy_from_slice(&self.buffered()[..rest.len()]);
            self.consume(rest.len());
        }
        Ok(())
    }

    /// Reads a fixed number of bytes.
    pub(crate) fn read_array<const N: usize>(&mut self) -> Result<[u8; N], MediaError> {
        let mut bytes = [0; N];
        self.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    /// Reads one byte.
    pub(crate) fn read_u8(&mut self) -> Result<u8, MediaError> {
        Ok(self.read_array::<1>()?[0])
    }

    /// Reads `n` bytes into a new vector. The length is checked against the bytes left in the file
    /// before anything is allocated; callers also cap `n` by what they are willing to hold.
    pub(crate) fn read_vec(&mut self, n: u64) -> Result<Vec<u8>, MediaError> {
        if n > self.remaining() {
            return Err(ends_inside_header());
        }
        let mut bytes = vec![0; clamp_to_usize(n)];
        self.read_exact(&mut bytes)?;
        Ok(bytes)
    }

    /// Moves forward to `offset` without reading the bytes in between (a seek of the underlying
    /// reader, unless they are already buffered). Moving backward is refused.
    pub(crate) fn skip_to(&mut self, offset: u64) -> Result<(), MediaError> {
        if offset < self.pos {
            return Err(MediaError::Io(format!(
                "internal error: probe tried to seek back from byte {} to byte {offset}",
                self.pos
            )));
        }
        if offset > self.len {
            return Err(MediaError::Truncated(format!(
                "a header points to byte {offset}, past the end of the file ({} bytes)",
                self.len
            )));
        }
        let distance = offset - self.pos;
        let buffered = self.buffered().len() as u64;
        if distance <= buffered {
            // `distance` fits in usize: it is at most the buffer length.
            self.consume(distance as usize);
        } else {
            let beyond_buffer = i64::try_from(distance - buffered).map_err(|_| {
                MediaError::Malformed(format!("offset {offset} is beyond any seekable position"))
            })?;
            self.inner.seek(SeekFrom::Current(beyond_buffer))?;
            self.buffer.clear();
            self.consumed = 0;
            self.pos = offset;
        }
        Ok(())
    }

    fn buffered(&self) -> &[u8] {
        &self.buffer[self.consumed..]
    }

    fn consume(&mut self, n: usize) {
        self.consumed += n;
        self.pos += n as u64;
    }

    /// Reads from `inner` until at least `wanted` bytes are buffered or the reader is exhausted,
    /// asking for a whole read-ahead (never past the end of the file) when it has to read at all.
    fn fill(&mut self, wanted: usize) -> io::Result<()> {
        if self.buffered().len() >= wanted {
            return Ok(());
        }
        self.buffer.drain(..self.consumed);
        self.consumed = 0;
        let unread_in_file = clamp_to_usize(self.remaining()).saturating_sub(self.buffer.len());
        let target =
            self.buffer.len() + (wanted.max(READ_AHEAD) - self.buffer.len()).min(unread_in_file);
        while self.buffer.len() < wanted {
            let filled = self.buffer.len();
            self.buffer.resize(target, 0);
            match self.inner.read(&mut self.buffer[filled..]) {
                Ok(0) => {
                    self.buffer.truncate(filled);
                    break;
                }
                Ok(n) => self.buffer.truncate(filled + n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => self.buffer.truncate(filled),
                Err(e) => {
                    self.buffer.truncate(filled);
                    return Err(e);
                }
            }
        }
        Ok(())
    }
}

fn ends_inside_header() -> MediaError {
    MediaError::from(io::Error::from(io::ErrorKind::UnexpectedEof))
}

/// Lengths beyond the address space only occur in declared sizes, which are checked against the
/// file length first; saturating keeps the arithmetic panic-free anyway.
fn clamp_to_usize(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    /// A reader that records every seek, to prove the reader never goes back.
    struct SeekLog {
        inner: Cursor<Vec<u8>>,
        seeks: Vec<SeekFrom>,
        bytes_read: usize,
    }

    impl Read for SeekLog {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.bytes_read += n;
            Ok(n)
        }
    }

    impl Seek for SeekLog {
        fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
            self.seeks.push(pos);
            self.inner.seek(pos)
        }
    }

    fn log(len: usize) -> SeekLog {
        SeekLog {
            inner: Cursor::new((0..len).map(|i| i as u8).collect()),
            seeks: Vec::new(),
            bytes_read: 0,
        }
    }

    #[test]
    fn peek_does_not_consume() {
        let mut file = log(100);
        let mut reader = ForwardReader::new(&mut file, 100);
        assert_eq!(reader.peek(4).unwrap(), &[0, 1, 2, 3]);
        assert_eq!(reader.read_array::<2>().unwrap(), [0, 1]);
        assert_eq!(reader.position(), 2);
    }

    #[test]
    fn peek_stops_at_the_declared_length() {
        let mut file = log(100);
        let mut reader = ForwardReader::new(&mut file, 10);
        assert_eq!(reader.peek(64).unwrap().len(), 10);
    }

    #[test]
    fn skips_within_the_buffer_without_seeking_and_beyond_it_with_relative_seeks() {
        let len = 3 * READ_AHEAD;
        let mut file = log(len);
        let mut reader = ForwardReader::new(&mut file, len as u64);
        reader.read_array::<8>().unwrap();
        reader.skip_to(100).unwrap();
        assert_eq!(reader.read_u8().unwrap(), 100);
        reader.skip_to(2 * READ_AHEAD as u64).unwrap();
        assert_eq!(reader.read_u8().unwrap(), (2 * READ_AHEAD) as u8);
        drop(reader);
        assert_eq!(file.seeks, [SeekFrom::Current(READ_AHEAD as i64)]);
        assert!(file.bytes_read < len);
    }

    #[test]
    fn refuses_to_go_back() {
        let mut file = log(100);
        let mut reader = ForwardReader::new(&mut file, 100);
        reader.skip_to(50).unwrap();
        assert!(matches!(reader.skip_to(49), Err(MediaError::Io(_))));
    }

    #[test]
    fn reading_or_skipping_past_the_end_is_a_truncation() {
        let mut file = log(10);
        let mut reader = ForwardReader::new(&mut file, 10);
        assert!(matches!(reader.read_vec(11), Err(MediaError::Truncated(_))));
        assert!(matches!(reader.skip_to(11), Err(MediaError::Truncated(_))));
        assert_eq!(reader.read_vec(10).unwrap().len(), 10);
        assert!(matches!(reader.read_u8(), Err(MediaError::Truncated(_))));
    }

    #[test]
    fn a_reader_shorter_than_the_declared_length_is_a_truncation() {
        let mut file = log(10);
        let mut reader = ForwardReader::new(&mut file, 10_000);
        assert!(matches!(reader.read_vec(20), Err(MediaError::Truncated(_))));
        let mut file = log(10);
        let mut reader = ForwardReader::new(&mut file, 10_000);
        assert!(matches!(
            reader.read_vec(5000),
            Err(MediaError::Truncated(_))
        ));
    }

    #[test]
    fn large_reads_bypass_the_buffer_and_keep_positions_right() {
        let len = 4 * READ_AHEAD;
        let mut file = log(len);
        let mut reader = ForwardReader::new(&mut file, len as u64);
        reader.read_array::<3>().unwrap();
        let big = reader.read_vec(2 * READ_AHEAD as u64).unwrap();
        assert_eq!(big[0], 3);
        assert_eq!(big[big.len() - 1], (2 * READ_AHEAD + 2) as u8);
        assert_eq!(reader.position(), 2 * READ_AHEAD as u64 + 3);
        assert_eq!(reader.read_u8().unwrap(), (2 * READ_AHEAD + 3) as u8);
    }
}
