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

// ---------------------------------------------------------------------------------------------
// Header bytes. Every field that could vary between runs or machines is fixed here.

/// DOS date of every member: 1980-01-01, the earliest date a zip can hold.
pub const DOS_DATE: u16 = (1 << 5) | 1;
/// DOS time of every member: 00:00:00.
pub const DOS_TIME: u16 = 0;
/// "Version made by": Unix (3) in the high byte, so that readers honour the permissions below;
/// zip specification 4.5, the first with Zip64.
pub const VERSION_MADE_BY: u16 = (3 << 8) | 45;
/// Unix mode of every member: a regular file, `rw-r--r--`.
pub const UNIX_MODE: u32 = 0o100644;

const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const END_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_END_SIGNATURE: u32 = 0x0606_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_EXTRA_ID: u16 = 0x0001;
/// General purpose flag bit 11: the name is UTF-8.
const FLAG_UTF8: u16 = 1 << 11;

/// Whether any header of the member at `local_offset` uses Zip64 fields.
fn member_uses_zip64(m: &PlannedMember, local_offset: u64) -> bool {
    local_needs_zip64(m) || local_offset >= U32_LIMIT
}

/// "Version needed to extract": 1.0 for stored data, 2.0 for deflate, 4.5 with Zip64 fields.
pub fn version_needed(m: &PlannedMember, local_offset: u64) -> u16 {
    if member_uses_zip64(m, local_offset) {
        45
    } else {
        match m.method {
            Method::Stored => 10,
            Method::Deflated => 20,
        }
    }
}

fn flags(m: &PlannedMember) -> u16 {
    if m.name.is_ascii() { 0 } else { FLAG_UTF8 }
}

/// A 32-bit field, or the Zip64 marker when the value lives in the extra field.
fn u32_or_marker(value: u64) -> u32 {
    u32::try_from(value)
        .ok()
        .filter(|&v| u64::from(v) < U32_LIMIT)
        .unwrap_or(u32::MAX)
}

/// A 16-bit length field. Names and extra fields are far below the limit (member names come
/// from data.jsonl paths, which are bounded by its size); saturating keeps the function total.
fn u16_len(len: usize) -> u16 {
    u16::try_from(len).unwrap_or(u16::MAX)
}

/// The fields a local and a central header share, from "version needed" to the name length.
/// `size_field` maps each size to what its 32-bit field holds.
fn common_fields(
    out: &mut Vec<u8>,
    m: &PlannedMember,
    crc32: u32,
    local_offset: u64,
    size_field: impl Fn(u64) -> u32,
) {
    out.extend_from_slice(&version_needed(m, local_offset).to_le_bytes());
    out.extend_from_slice(&flags(m).to_le_bytes());
    out.extend_from_slice(&m.method.code().to_le_bytes());
    out.extend_from_slice(&DOS_TIME.to_le_bytes());
    out.extend_from_slice(&DOS_DATE.to_le_bytes());
    out.extend_from_slice(&crc32.to_le_bytes());
    out.extend_from_slice(&size_field(m.compressed_size).to_le_bytes());
    out.extend_from_slice(&size_field(m.uncompressed_size).to_le_bytes());
    out.extend_from_slice(&u16_len(m.name.len()).to_le_bytes());
}

/// The local file header of `m` (placed at `local_offset`), exactly [`local_header_len`] bytes.
pub fn local_header(m: &PlannedMember, crc32: u32, local_offset: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(local_header_len(m) as usize);
    out.extend_from_slice(&LOCAL_SIGNATURE.to_le_bytes());
    // A local Zip64 field holds both sizes, so both 32-bit fields then say "see Zip64".
    let zip64_sizes = local_needs_zip64(m);
    common_fields(&mut out, m, crc32, local_offset, |v| {
        if zip64_sizes {
            u32::MAX
        } else {
            u32_or_marker(v)
        }
    });
    let extra_len = if local_needs_zip64(m) { 20u16 } else { 0 };
    out.extend_from_slice(&extra_len.to_le_bytes());
    out.extend_from_slice(m.name.as_bytes());
    if local_needs_zip64(m) {
        out.extend_from_slice(&ZIP64_EXTRA_ID.to_le_bytes());
        out.extend_from_slice(&16u16.to_le_bytes());
        out.extend_from_slice(&m.uncompressed_size.to_le_bytes());
        out.extend_from_slice(&m.compressed_size.to_le_bytes());
    }
    out
}

/// The central directory header of `m`, exactly [`central_header_len`] bytes.
pub fn central_header(m: &PlannedMember, crc32: u32, local_offset: u64) -> Vec<u8> {
    let zip64 = central_zip64_fields(m, local_offset);
    let mut out = Vec::with_capacity(central_header_len(m, local_offset) as usize);
    out.extend_from_slice(&CENTRAL_SIGNATURE.to_le_bytes());
    out.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
    // Here only the fields that overflow move to the Zip64 field.
    common_fields(&mut out, m, crc32, local_offset, u32_or_marker);
    let extra_len = if zip64.is_empty() {
        0
    } else {
        4 + 8 * zip64.len()
    };
    out.extend_from_slice(&u16_len(extra_len).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out.extend_from_slice(&0u16.to_le_bytes()); // disk number start
    out.extend_from_slice(&0u16.to_le_bytes()); // internal attributes
    out.extend_from_slice(&(UNIX_MODE << 16).to_le_bytes());
    out.extend_from_slice(&u32_or_marker(local_offset).to_le_bytes());
    out.extend_from_slice(m.name.as_bytes());
    if !zip64.is_empty() {
        out.extend_from_slice(&ZIP64_EXTRA_ID.to_le_bytes());
        out.extend_from_slice(&u16_len(8 * zip64.len()).to_le_bytes());
        for value in zip64 {
            out.extend_from_slice(&value.to_le_bytes());
        }
    }
    out
}

/// The records after the central directory: the Zip64 end record and locator when
/// [`needs_zip64_end`], then the classic end record without a comment.
pub fn end_records(entries: u64, central_offset: u64, central_size: u64) -> Vec<u8> {
    let mut out =
        Vec::with_capacity((ZIP64_END_RECORD_LEN + ZIP64_LOCATOR_LEN + END_RECORD_LEN) as usize);
    if needs_zip64_end(entries, central_offset, central_size) {
        let zip64_end_offset = central_offset.saturating_add(central_size);
        out.extend_from_slice(&ZIP64_END_SIGNATURE.to_le_bytes());
        // Size of the record after this field.
        out.extend_from_slice(&(ZIP64_END_RECORD_LEN - 12).to_le_bytes());
        out.extend_from_slice(&VERSION_MADE_BY.to_le_bytes());
        out.extend_from_slice(&45u16.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // this disk
        out.extend_from_slice(&0u32.to_le_bytes()); // disk of the central directory
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&central_size.to_le_bytes());
        out.extend_from_slice(&central_offset.to_le_bytes());
        out.extend_from_slice(&ZIP64_LOCATOR_SIGNATURE.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // disk of the Zip64 end record
        out.extend_from_slice(&zip64_end_offset.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes()); // number of disks
    }
    let entry_count = u16::try_from(entries)
        .ok()
        .filter(|&n| u64::from(n) < U16_LIMIT)
        .unwrap_or(u16::MAX);
    out.extend_from_slice(&END_SIGNATURE.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // this disk
    out.extend_from_slice(&0u16.to_le_bytes()); // disk of the central directory
    out.extend_from_slice(&entry_count.to_le_bytes());
    out.extend_from_slice(&entry_count.to_le_bytes());
    out.extend_from_slice(&u32_or_marker(central_size).to_le_bytes());
    out.extend_from_slice(&u32_or_marker(central_offset).to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment length
    out
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
    fn encoded_headers_have_the_lengths_the_sizes_predict() {
        let limit = U32_LIMIT;
        let members = [
            PlannedMember::stored("a.mp4", 10),
            PlannedMember::stored("dir/big.mp4", limit),
            PlannedMember::stored("huge.mp4", 5 << 30),
            PlannedMember {
                name: "data.jsonl".into(),
                method: Method::Deflated,
                compressed_size: 10,
                uncompressed_size: limit + 7,
            },
        ];
        for m in &members {
            for offset in [0, limit - 1, limit, 6 << 30] {
                assert_eq!(local_header(m, 0, offset).len() as u64, local_header_len(m));
                assert_eq!(
                    central_header(m, 0, offset).len() as u64,
                    central_header_len(m, offset),
                    "{m:?} at {offset}"
                );
            }
        }
        for (entries, offset, size) in [(1, 0, 46), (U16_LIMIT, 0, 46), (3, limit, 46)] {
            let zip64 = needs_zip64_end(entries, offset, size);
            let expected = END_RECORD_LEN
                + if zip64 {
                    ZIP64_END_RECORD_LEN + ZIP64_LOCATOR_LEN
                } else {
                    0
                };
            assert_eq!(end_records(entries, offset, size).len() as u64, expected);
        }
    }

    #[test]
    fn headers_fix_every_field_that_could_vary() {
        let m = PlannedMember::stored("a.mp4", 10);
        let local = local_header(&m, 0xdead_beef, 0);
        assert_eq!(&local[..4], b"PK\x03\x04");
        assert_eq!(u16::from_le_bytes([local[10], local[11]]), DOS_TIME);
        assert_eq!(u16::from_le_bytes([local[12], local[13]]), 0x21); // 1980-01-01
        assert_eq!(&local[14..18], &0xdead_beefu32.to_le_bytes());
        let central = central_header(&m, 0xdead_beef, 0);
        assert_eq!(u16::from_le_bytes([central[4], central[5]]) >> 8, 3); // made by Unix
        assert_eq!(
            u32::from_le_bytes([central[38], central[39], central[40], central[41]]) >> 16,
            0o100644
        );
        // The same member at the same place always encodes to the same bytes.
        assert_eq!(central, central_header(&m, 0xdead_beef, 0));
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
