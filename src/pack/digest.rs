//! Checksums of member content: the CRC-32 the zip headers need and the SHA-256 the manifest
//! records, computed in one pass over the bytes.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

/// CRC-32 and SHA-256 of a member's uncompressed content, and its length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Digest {
    pub crc32: u32,
    pub sha256: [u8; 32],
    pub size: u64,
}

impl Digest {
    /// The digest of bytes in memory.
    pub fn of(bytes: &[u8]) -> Digest {
        let mut hasher = Hasher::new();
        hasher.update(bytes);
        hasher.finish()
    }

    /// SHA-256 in lower-case hex.
    pub fn sha256_hex(&self) -> String {
        hex::encode(self.sha256)
    }
}

/// Both checksums, fed incrementally.
pub struct Hasher {
    crc: crc32fast::Hasher,
    sha: Sha256,
    size: u64,
}

impl Default for Hasher {
    fn default() -> Self {
        Hasher::new()
    }
}

impl Hasher {
    pub fn new() -> Hasher {
        Hasher {
            crc: crc32fast::Hasher::new(),
            sha: Sha256::new(),
            size: 0,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        self.crc.update(bytes);
        self.sha.update(bytes);
        self.size += bytes.len() as u64;
    }

    pub fn finish(self) -> Digest {
        Digest {
            crc32: self.crc.finalize(),
            sha256: self.sha.finalize().into(),
            size: self.size,
        }
    }
}

/// Digests exactly `len` bytes of `reader` through `buffer`, calling `on_chunk` with the
/// number of bytes after each read (an error from it stops the digest). Content shorter or
/// longer than `len` is an error: the file changed since it was measured.
pub fn digest_reader(
    reader: &mut dyn Read,
    len: u64,
    buffer: &mut [u8],
    on_chunk: &mut dyn FnMut(u64) -> io::Result<()>,
) -> io::Result<Digest> {
    let mut hasher = Hasher::new();
    while hasher.size < len {
        let want = (len - hasher.size).min(buffer.len() as u64) as usize;
        let n = match reader.read(&mut buffer[..want]) {
            Ok(0) => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!(
                        "the file ends after {} bytes; it had {len} when it was checked",
                        hasher.size
                    ),
                ));
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buffer[..n]);
        on_chunk(n as u64)?;
    }
    let mut probe = [0u8; 1];
    if read_retrying(reader, &mut probe)? > 0 {
        return Err(io::Error::other(format!(
            "the file has grown beyond the {len} bytes it had when it was checked"
        )));
    }
    Ok(hasher.finish())
}

fn read_retrying(reader: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_op(_: u64) -> io::Result<()> {
        Ok(())
    }

    #[test]
    fn matches_one_shot_checksums() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
        let mut buffer = [0u8; 4096];
        let digest = digest_reader(&mut &data[..], data.len() as u64, &mut buffer, &mut no_op)
            .expect("digest");
        assert_eq!(digest.crc32, crc32fast::hash(&data));
        assert_eq!(digest.sha256, <[u8; 32]>::from(Sha256::digest(&data)));
        assert_eq!(digest.size, data.len() as u64);
        assert_eq!(digest, Digest::of(&data));
        assert_eq!(
            Digest::of(b"").sha256_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn content_of_another_length_is_an_error() {
        let mut buffer = [0u8; 16];
        let short = digest_reader(&mut &[1u8; 10][..], 11, &mut buffer, &mut no_op).unwrap_err();
        assert_eq!(short.kind(), io::ErrorKind::UnexpectedEof);
        let long = digest_reader(&mut &[1u8; 12][..], 11, &mut buffer, &mut no_op).unwrap_err();
        assert!(long.to_string().contains("grown"), "{long}");
    }
}
