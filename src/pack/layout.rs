//! The exact byte layout of the zips wanft writes, so that their size is known before a single
//! byte is written (and `check` can predict it).
//!
//! Every member is written as: local file header (30 bytes + name, plus a 20-byte Zip64 extra
//! field when either size reaches 4 GiB), then the data, with no data descriptor. The central
//! directory repeats each header (46 bytes + name, plus a Zip64 extra field holding whichever of
//! the three 32-bit fields overflow), followed, when the archive needs it, by the Zip64 end of
//! central directory record and locator, and finally the classic end record without a comment.
//! No timestamps or permissions vary between runs: the writer and this module must agree, and
//! the pack tests compare the predicted and the written size.

use std::io::Write;

/// How a member's data is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Stored,
    Deflated,
}

impl Method {
    /// The zip compression method number.
    pub fn code(self) -> u16 {
        match self {
            Method::Stored => 0,
            Method::Deflated => 8,
        }
    }
}

/// One member as it will be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMember {
    pub name: String,
    pub method: Method,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
}

impl PlannedMember {
    /// A member stored as is (media are already compressed).
    pub fn stored(name: impl Into<String>, size: u64) -> Self {
        PlannedMember {
            name: name.into(),
            method: Method::Stored,
            compressed_size: size,
            uncompressed_size: size,
        }
    }
}

pub const LOCAL_HEADER_LEN: u64 = 30;
pub const CENTRAL_HEADER_LEN: u64 = 46;
pub const END_RECORD_LEN: u64 = 22;
pub const ZIP64_END_RECORD_LEN: u64 = 56;
pub const ZIP64_LOCATOR_LEN: u64 = 20;
/// Largest value a 32-bit field holds before Zip64 takes over.
pub const U32_LIMIT: u64 = 0xFFFF_FFFF;
/// Largest entry count the classic end record holds.
pub const U16_LIMIT: u64 = 0xFFFF;

/// Whether a member's local header carries the Zip64 sizes.
pub fn local_needs_zip64(m: &PlannedMember) -> bool {
    m.uncompressed_size >= U32_LIMIT || m.compressed_size >= U32_LIMIT
}

/// Bytes of a member's local header.
pub fn local_header_len(m: &PlannedMember) -> u64 {
    LOCAL_HEADER_LEN + m.name.len() as u64 + if local_needs_zip64(m) { 20 } else { 0 }
}

/// The 64-bit fields a central header carries in its Zip64 extra field, in the order the format
/// prescribes (uncompressed size, compressed size, local header offset).
pub fn central_zip64_fields(m: &PlannedMember, local_offset: u64) -> Vec<u64> {
    [m.uncompressed_size, m.compressed_size, local_offset]
        .into_iter()
        .filter(|&v| v >= U32_LIMIT)
        .collect()
}

/// Bytes of a member's central directory header.
pub fn central_header_len(m: &PlannedMember, local_offset: u64) -> u64 {
    let fields = central_zip64_fields(m, local_offset).len() as u64;
    let extra = if fields > 0 { 4 + 8 * fields } else { 0 };
    CENTRAL_HEADER_LEN + m.name.len() as u64 + extra
}

/// Whether the archive needs the Zip64 end records.
pub fn needs_zip64_end(entries: u64, central_offset: u64, central_size: u64) -> bool {
    entries >= U16_LIMIT || central_offset >= U32_LIMIT || central_size >= U32_LIMIT
}

/// Exact size in bytes of the archive holding `members` in this order.
pub fn archive_size(members: &[PlannedMember]) -> u64 {
    let mut offset = 0u64;
    let mut central = 0u64;
    for m in members {
        central = central.saturating_add(central_header_len(m, offset));
        offset = offset
            .saturating_add(local_header_len(m))
            .saturating_add(m.compressed_size);
    }
    let mut end = END_RECORD_LEN;
    if needs_zip64_end(members.len() as u64, offset, central) {
        end += ZIP64_END_RECORD_LEN + ZIP64_LOCATOR_LEN;
    }
    offset.saturating_add(central).saturating_add(end)
}

/// Encodes a text member (data.jsonl): raw deflate at a fixed level, or stored when deflate
/// would not make it smaller. The same bytes in give the same bytes out on every machine.
pub fn encode_text(bytes: &[u8]) -> (Method, Vec<u8>) {
    let mut enc = flate2::write::DeflateEncoder::new(
        Vec::with_capacity(bytes.len() / 2),
        flate2::Compression::new(6),
    );
    // Writing into a Vec cannot fail.
    let deflated = enc
        .write_all(bytes)
        .and_then(|_| enc.finish())
        .unwrap_or_default();
    if !deflated.is_empty() && deflated.len() < bytes.len() {
        (Method::Deflated, deflated)
    } else {
        (Method::Stored, bytes.to_vec())
    }
}

/// The planned member for a text file, with its encoded bytes.
pub fn text_member(name: &str, bytes: &[u8]) -> (PlannedMember, Vec<u8>) {
    let (method, data) = encode_text(bytes);
    let member = PlannedMember {
        name: name.to_string(),
        method,
        compressed_size: data.len() as u64,
        uncompressed_size: bytes.len() as u64,
    };
    (member, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Read};

    #[test]
    fn empty_archive_is_one_end_record() {
        assert_eq!(archive_size(&[]), 22);
    }

    #[test]
    fn size_of_small_archive_matches_the_zip_crate() {
        // The zip crate writes the same classic structure when asked for stored members
        // without extra fields; its output size must equal ours.
        let names = ["a.mp4", "dir/b.jpg"];
        let sizes = [1000usize, 37];
        let mut buf = Cursor::new(Vec::new());
        {
            let mut w = zip::ZipWriter::new(&mut buf);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Stored);
            for (n, s) in names.iter().zip(sizes) {
                w.start_file(*n, opts).unwrap();
                w.write_all(&vec![7u8; s]).unwrap();
            }
            w.finish().unwrap();
        }
        let planned: Vec<_> = names
            .iter()
            .zip(sizes)
            .map(|(n, s)| PlannedMember::stored(*n, s as u64))
            .collect();
        assert_eq!(archive_size(&planned), buf.get_ref().len() as u64);
    }

    #[test]
    fn zip64_fields_appear_only_when_needed() {
        let big = PlannedMember::stored("big.mp4", 5 << 30);
        assert!(local_needs_zip64(&big));
        assert_eq!(local_header_len(&big), 30 + 7 + 20);
        assert_eq!(central_header_len(&big, 0), 46 + 7 + 4 + 16);
        assert_eq!(central_header_len(&big, 1 << 33), 46 + 7 + 4 + 24);
        let small = PlannedMember::stored("s.mp4", 10);
        assert_eq!(central_header_len(&small, 0), 46 + 5);
        let many: Vec<_> = (0..70_000)
            .map(|i| PlannedMember::stored(format!("{i}"), 0))
            .collect();
        let classic: u64 = many
            .iter()
            .map(|m| local_header_len(m) + central_header_len(m, 0))
            .sum();
        assert_eq!(archive_size(&many), classic + 22 + 56 + 20);
    }

    #[test]
    fn text_is_deflated_when_it_helps_and_round_trips() {
        let text = "{\"prompt\":\"same words again\"}\n".repeat(50);
        let (m, data) = text_member("data.jsonl", text.as_bytes());
        assert_eq!(m.method, Method::Deflated);
        assert!(m.compressed_size < m.uncompressed_size);
        let mut out = String::new();
        flate2::read::DeflateDecoder::new(&data[..])
            .read_to_string(&mut out)
            .unwrap();
        assert_eq!(out, text);
        let (tiny, _) = text_member("x", b"{}");
        assert_eq!(tiny.method, Method::Stored);
    }
}
