//! A zip's directory, read the way a careful extractor reads it, and the tricks it refuses.
//!
//! The central directory is streamed record by record after its size and member count have
//! been held to budgets, so memory never grows with what a hostile archive declares. Then every
//! member's local header is read and compared with its directory entry, and the byte ranges of
//! all members are checked against each other and against the directory:
//!
//! - members that share bytes (the "overlapping" zip bomb, where every entry points at one
//!   deflate stream) or run into the directory;
//! - a local header that names another file than the directory does (extractors disagree on
//!   which name wins);
//! - names holding NUL or control characters (`clip01.mp4\0.txt` is truncated to `clip01.mp4`
//!   by some extractors), or longer than any file system takes;
//! - more members, more inflated bytes, or a higher compression ratio than a dataset has.
//!
//! Any of these is a [`Problem`], and an archive with problems is not read further. What can only
//! be seen in the data (a CRC-32 or a size that does not match) is checked while it is read
//! ([`super::source`]).

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

/// Members a dataset zip may hold (a dataset of 10,000 samples has at most 30,000 files).
pub const MAX_MEMBERS: u64 = 100_000;
/// Size of the central directory read: 100,000 members with names of 250 bytes fit.
pub const MAX_DIRECTORY_BYTES: u64 = 32 << 20;
/// Longest member name, in bytes (file systems take 255 per component, 4,096 per path).
pub const MAX_NAME_BYTES: usize = 1024;
/// Bytes all members may inflate to together: four times the 1 GB upload limit.
pub const MAX_INFLATED_BYTES: u64 = 4 << 30;
/// Largest inflated-to-stored ratio of one member: deflate reaches about 1,000 on zeros,
/// media and text stay far below 100.
pub const MAX_RATIO: u64 = 100;
/// Members inflating to less than this are never held to [`MAX_RATIO`]: inflating them costs
/// little, and a data.jsonl (at most 20 MB) of repetitive lines may well compress that much.
/// Many small bombs add up to [`MAX_INFLATED_BYTES`] instead.
pub const RATIO_FLOOR: u64 = 32 << 20;

const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIGNATURE: u32 = 0x0606_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const EOCD_LEN: usize = 22;
const CENTRAL_LEN: usize = 46;
const LOCAL_LEN: u64 = 30;
/// How far from the end the end-of-directory record can be: its length and a maximal comment.
const EOCD_SEARCH: u64 = EOCD_LEN as u64 + 0xFFFF;

/// Compression methods wanft decodes.
pub const STORED: u16 = 0;
pub const DEFLATED: u16 = 8;

/// One member, as its directory entry and local header describe it.
#[derive(Debug, Clone)]
pub struct Member {
    /// The name's bytes as stored (UTF-8 or not).
    pub name: Vec<u8>,
    pub method: u16,
    pub flags: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub uncompressed_size: u64,
    /// Offset of the local header in the file.
    pub header_offset: u64,
    /// Offset of the data in the file (after the local header).
    pub data_start: u64,
    version_made_by: u16,
    external_attributes: u32,
}

impl Member {
    /// A folder entry (`photos/`): implied by the files in it.
    pub fn is_dir(&self) -> bool {
        matches!(self.name.last(), Some(b'/' | b'\\'))
    }

    /// A symbolic link, as Unix zip tools store them (file mode in the external attributes).
    pub fn is_symlink(&self) -> bool {
        const UNIX: u16 = 3;
        const S_IFMT: u32 = 0o170_000;
        const S_IFLNK: u32 = 0o120_000;
        self.version_made_by >> 8 == UNIX && (self.external_attributes >> 16) & S_IFMT == S_IFLNK
    }

    /// The name for messages: lossy UTF-8 with control characters escaped.
    pub fn shown_name(&self) -> String {
        escape_name(&String::from_utf8_lossy(&self.name))
    }

    fn data_end(&self) -> u64 {
        self.data_start.saturating_add(self.compressed_size)
    }
}

/// `name` with control characters written as escapes (`\0`, `\n`, `\u{7f}`).
pub fn escape_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// A trick or a break that extractors refuse; each becomes a `Z` finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// More members than [`MAX_MEMBERS`], or a directory over [`MAX_DIRECTORY_BYTES`].
    TooManyMembers { members: u64, directory_bytes: u64 },
    /// Members share bytes of the archive (`other` is `None`: the central directory).
    Overlap {
        member: String,
        other: Option<String>,
    },
    /// The local header names another file than the central directory.
    NameMismatch { member: String, local: String },
    /// The name holds NUL or other control characters.
    ControlCharacters { member: String },
    /// The name is longer than [`MAX_NAME_BYTES`].
    NameTooLong { member: String, bytes: usize },
    /// The declared sizes add up to more than [`MAX_INFLATED_BYTES`].
    InflatedTooLarge { bytes: u64 },
    /// One member inflates more than [`MAX_RATIO`] times.
    Ratio {
        member: String,
        compressed: u64,
        uncompressed: u64,
    },
    /// The local header is missing or disagrees with the directory, or the data lies outside
    /// the archive.
    BrokenHeader { member: String, reason: String },
}

impl Problem {
    /// The member a problem is about, if it is about one.
    pub fn member(&self) -> Option<&str> {
        match self {
            Problem::TooManyMembers { .. } | Problem::InflatedTooLarge { .. } => None,
            Problem::Overlap { member, .. }
            | Problem::NameMismatch { member, .. }
            | Problem::ControlCharacters { member }
            | Problem::NameTooLong { member, .. }
            | Problem::Ratio { member, .. }
            | Problem::BrokenHeader { member, .. } => Some(member),
        }
    }
}

/// The members of a zip, in directory order, and what is wrong with it.
#[derive(Debug, Default)]
pub struct Directory {
    pub members: Vec<Member>,
    pub problems: Vec<Problem>,
}

/// Problems of one kind listed one by one; a hostile archive can have a million.
const LISTED_PER_KIND: usize = 20;

/// Reads the directory of the zip `file` (`len` bytes long). `Err` when it is not a zip at all
/// (no end record, a directory that does not parse); tricks and budgets are [`Problem`]s.
pub fn read(file: &File, len: u64) -> Result<Directory, String> {
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let end = find_end(&mut reader, len)?;
    let mut directory = Directory::default();
    if end.entries > MAX_MEMBERS || end.directory_size > MAX_DIRECTORY_BYTES {
        directory.problems.push(Problem::TooManyMembers {
            members: end.entries,
            directory_bytes: end.directory_size,
        });
        return Ok(directory);
    }
    directory.members = read_central(&mut reader, &end)?;
    let problems = &mut directory.problems;
    check_names(&directory.members, problems);
    check_sizes(&directory.members, problems);
    check_local_headers(
        &mut reader,
        &mut directory.members,
        end.directory_start,
        problems,
    )?;
    check_ranges(&directory.members, end.directory_start, problems);
    Ok(directory)
}

/// Where the central directory is, from the end record (zip64 when present).
struct End {
    entries: u64,
    directory_size: u64,
    /// Offset in the file, with any data prepended to the archive accounted for.
    directory_start: u64,
    /// Added to every offset the archive records (bytes prepended to it, as in a
    /// self-extracting archive).
    shift: u64,
}

fn find_end(reader: &mut BufReader<&File>, len: u64) -> Result<End, String> {
    let search = len.min(EOCD_SEARCH);
    let tail_start = len - search;
    reader.seek(SeekFrom::Start(tail_start)).map_err(io_text)?;
    let mut tail = vec![0u8; search as usize];
    reader.read_exact(&mut tail).map_err(io_text)?;
    // The last record whose comment reaches exactly to the end of the file, else the last one.
    let candidates: Vec<usize> = (0..tail.len().saturating_sub(EOCD_LEN - 1))
        .rev()
        .filter(|&i| le32(&tail[i..]) == EOCD_SIGNATURE)
        .collect();
    let at = candidates
        .iter()
        .copied()
        .find(|&i| i + EOCD_LEN + usize::from(le16(&tail[i + 20..])) == tail.len())
        .or_else(|| candidates.first().copied())
        .ok_or("no end-of-central-directory record (not a zip, or truncated)")?;
    let record = &tail[at..at + EOCD_LEN];
    let eocd_pos = tail_start + at as u64;
    let (disk, directory_disk) = (le16(&record[4..]), le16(&record[6..]));
    let mut entries = u64::from(le16(&record[10..]));
    let mut directory_size = u64::from(le32(&record[12..]));
    let mut directory_offset = u64::from(le32(&record[16..]));
    let mut directory_end = eocd_pos;
    if disk != 0 || directory_disk != 0 {
        return Err("the zip spans several disks, which wanft does not read".into());
    }
    // A zip64 locator sits right before the end record.
    if eocd_pos >= 20 {
        let mut locator = [0u8; 20];
        reader
            .seek(SeekFrom::Start(eocd_pos - 20))
            .map_err(io_text)?;
        reader.read_exact(&mut locator).map_err(io_text)?;
        if le32(&locator) == ZIP64_LOCATOR_SIGNATURE {
            let recorded = le64(&locator[8..]);
            // The zip64 record is right before the locator; its recorded offset tells the shift.
            let mut record = [0u8; 56];
            let zip64_pos = eocd_pos
                .checked_sub(20 + 56)
                .ok_or("the zip64 end record is missing")?;
            reader.seek(SeekFrom::Start(zip64_pos)).map_err(io_text)?;
            reader.read_exact(&mut record).map_err(io_text)?;
            if le32(&record) != ZIP64_EOCD_SIGNATURE {
                // Records with an extensible data sector sit further back: follow the offset.
                reader.seek(SeekFrom::Start(recorded)).map_err(io_text)?;
                reader.read_exact(&mut record).map_err(io_text)?;
                if le32(&record) != ZIP64_EOCD_SIGNATURE {
                    return Err("the zip64 end record is missing".into());
                }
                directory_end = recorded;
            } else {
                directory_end = zip64_pos;
            }
            entries = le64(&record[32..]);
            directory_size = le64(&record[40..]);
            directory_offset = le64(&record[48..]);
        }
    }
    let recorded_end = directory_offset
        .checked_add(directory_size)
        .ok_or("the central directory's offset and size overflow")?;
    let shift = directory_end
        .checked_sub(recorded_end)
        .ok_or("the central directory lies outside the file")?;
    Ok(End {
        entries,
        directory_size,
        directory_start: directory_offset + shift,
        shift,
    })
}

fn read_central(reader: &mut BufReader<&File>, end: &End) -> Result<Vec<Member>, String> {
    reader
        .seek(SeekFrom::Start(end.directory_start))
        .map_err(io_text)?;
    let mut left = end.directory_size;
    let mut members = Vec::with_capacity(end.entries as usize);
    let mut fixed = [0u8; CENTRAL_LEN];
    for i in 0..end.entries {
        let damaged = |what: &str| format!("central directory entry #{} is damaged: {what}", i + 1);
        let take = |left: &mut u64, n: u64| -> Result<(), String> {
            *left = left
                .checked_sub(n)
                .ok_or_else(|| damaged("it runs past the directory"))?;
            Ok(())
        };
        take(&mut left, CENTRAL_LEN as u64)?;
        reader.read_exact(&mut fixed).map_err(io_text)?;
        if le32(&fixed) != CENTRAL_SIGNATURE {
            return Err(damaged("no entry signature"));
        }
        let name_len = usize::from(le16(&fixed[28..]));
        let extra_len = usize::from(le16(&fixed[30..]));
        let comment_len = u64::from(le16(&fixed[32..]));
        take(&mut left, (name_len + extra_len) as u64 + comment_len)?;
        let mut name = vec![0u8; name_len];
        reader.read_exact(&mut name).map_err(io_text)?;
        let mut extra = vec![0u8; extra_len];
        reader.read_exact(&mut extra).map_err(io_text)?;
        reader.seek_relative(comment_len as i64).map_err(io_text)?;
        let mut member = Member {
            name,
            version_made_by: le16(&fixed[4..]),
            flags: le16(&fixed[8..]),
            method: le16(&fixed[10..]),
            crc32: le32(&fixed[16..]),
            compressed_size: u64::from(le32(&fixed[20..])),
            uncompressed_size: u64::from(le32(&fixed[24..])),
            external_attributes: le32(&fixed[38..]),
            header_offset: u64::from(le32(&fixed[42..])),
            data_start: 0,
        };
        apply_zip64(&mut member, &extra);
        member.header_offset = member.header_offset.saturating_add(end.shift);
        members.push(member);
    }
    Ok(members)
}

/// Replaces the saturated 32-bit fields by the zip64 extra field's values, in its order.
fn apply_zip64(member: &mut Member, extra: &[u8]) {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let (id, size) = (le16(&extra[at..]), usize::from(le16(&extra[at + 2..])));
        let body = &extra[(at + 4).min(extra.len())..(at + 4 + size).min(extra.len())];
        if id == 0x0001 {
            let mut fields = body.chunks_exact(8).map(le64);
            if member.uncompressed_size == 0xFFFF_FFFF {
                member.uncompressed_size = fields.next().unwrap_or(u64::MAX);
            }
            if member.compressed_size == 0xFFFF_FFFF {
                member.compressed_size = fields.next().unwrap_or(u64::MAX);
            }
            if member.header_offset == 0xFFFF_FFFF {
                member.header_offset = fields.next().unwrap_or(u64::MAX);
            }
            return;
        }
        at += 4 + size;
    }
}

fn check_names(members: &[Member], problems: &mut Vec<Problem>) {
    let mut controls = 0;
    let mut long = 0;
    for m in members {
        let name = String::from_utf8_lossy(&m.name);
        if name.chars().any(char::is_control) {
            controls += 1;
            if controls <= LISTED_PER_KIND {
                problems.push(Problem::ControlCharacters {
                    member: m.shown_name(),
                });
            }
        }
        if m.name.len() > MAX_NAME_BYTES {
            long += 1;
            if long <= LISTED_PER_KIND {
                let mut shown: String = m.shown_name().chars().take(80).collect();
                shown.push('…');
                problems.push(Problem::NameTooLong {
                    member: shown,
                    bytes: m.name.len(),
                });
            }
        }
    }
}

fn check_sizes(members: &[Member], problems: &mut Vec<Problem>) {
    let mut total = 0u64;
    let mut ratios = 0;
    for m in members {
        total = total.saturating_add(m.uncompressed_size);
        let bomb = m.uncompressed_size > RATIO_FLOOR
            && m.uncompressed_size / MAX_RATIO > m.compressed_size;
        if bomb && !m.is_dir() {
            ratios += 1;
            if ratios <= LISTED_PER_KIND {
                problems.push(Problem::Ratio {
                    member: m.shown_name(),
                    compressed: m.compressed_size,
                    uncompressed: m.uncompressed_size,
                });
            }
        }
    }
    if total > MAX_INFLATED_BYTES {
        problems.push(Problem::InflatedTooLarge { bytes: total });
    }
}

/// Reads every local header (in file order, so reads stay sequential), sets each member's
/// data offset, and compares the header with the directory entry.
fn check_local_headers(
    reader: &mut BufReader<&File>,
    members: &mut [Member],
    directory_start: u64,
    problems: &mut Vec<Problem>,
) -> Result<(), String> {
    let mut order: Vec<usize> = (0..members.len()).collect();
    order.sort_by_key(|&i| members[i].header_offset);
    let mut broken = 0;
    let mut fixed = [0u8; LOCAL_LEN as usize];
    for i in order {
        let m = &mut members[i];
        let reason = if m.header_offset.saturating_add(LOCAL_LEN) > directory_start {
            Some("its local header would lie inside the central directory or past it".to_string())
        } else {
            reader
                .seek(SeekFrom::Start(m.header_offset))
                .map_err(io_text)?;
            reader.read_exact(&mut fixed).map_err(io_text)?;
            let name_len = u64::from(le16(&fixed[26..]));
            let extra_len = u64::from(le16(&fixed[28..]));
            m.data_start = m.header_offset + LOCAL_LEN + name_len + extra_len;
            if le32(&fixed) != LOCAL_SIGNATURE {
                Some("no local header where the directory points".to_string())
            } else if m.data_start > directory_start {
                Some("its local header runs into the central directory".to_string())
            } else {
                let mut local = vec![0u8; name_len as usize];
                reader.read_exact(&mut local).map_err(io_text)?;
                let method = le16(&fixed[8..]);
                if local != m.name {
                    problems.push(Problem::NameMismatch {
                        member: m.shown_name(),
                        local: escape_name(&String::from_utf8_lossy(&local)),
                    });
                    None
                } else if method != m.method {
                    Some(format!(
                        "its local header says compression method {method}, the directory {}",
                        m.method
                    ))
                } else if m.method == STORED && m.compressed_size != m.uncompressed_size {
                    Some(format!(
                        "it is stored (not compressed) but declares {} bytes stored and {} \
                         inflated",
                        m.compressed_size, m.uncompressed_size
                    ))
                } else {
                    None
                }
            }
        };
        if let Some(reason) = reason {
            broken += 1;
            if broken <= LISTED_PER_KIND {
                problems.push(Problem::BrokenHeader {
                    member: m.shown_name(),
                    reason,
                });
            }
        }
    }
    Ok(())
}

/// Members must not share bytes with each other or with the central directory.
fn check_ranges(members: &[Member], directory_start: u64, problems: &mut Vec<Problem>) {
    let mut order: Vec<&Member> = members.iter().filter(|m| m.data_start > 0).collect();
    order.sort_by_key(|m| (m.header_offset, m.data_end()));
    let mut overlaps = 0;
    let mut report = |problem: Problem| {
        overlaps += 1;
        if overlaps <= LISTED_PER_KIND {
            problems.push(problem);
        }
    };
    // The member whose range reaches furthest so far: a later one starting before its end
    // shares its bytes.
    let mut furthest: Option<&Member> = None;
    for m in order {
        if let Some(previous) = furthest
            && m.header_offset < previous.data_end()
        {
            report(Problem::Overlap {
                member: m.shown_name(),
                other: Some(previous.shown_name()),
            });
        }
        if m.data_end() > directory_start {
            report(Problem::Overlap {
                member: m.shown_name(),
                other: None,
            });
        }
        if furthest.is_none_or(|f| m.data_end() > f.data_end()) {
            furthest = Some(m);
        }
    }
}

fn io_text(e: io::Error) -> String {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => "the archive ends too early (truncated)".into(),
        _ => e.to_string(),
    }
}

fn le16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn le64(b: &[u8]) -> u64 {
    u64::from_le_bytes(b[..8].try_into().expect("8 bytes"))
}
