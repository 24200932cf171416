//! A zip writer that writes what it is told, lies included: overlapping members, local names
//! that differ from the directory's, wrong CRC-32s and sizes, any bytes in names. Hostile zips
//! are made with it at test time; nothing of the kind is checked in.

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;

/// One member as it will be written.
#[derive(Debug, Clone)]
pub struct RawMember {
    /// The name in the central directory.
    pub name: Vec<u8>,
    /// The name in the local header (`None`: the same).
    pub local_name: Option<Vec<u8>>,
    /// The bytes after the local header, as stored (already compressed when deflated).
    pub stored: Vec<u8>,
    pub method: u16,
    pub crc32: u32,
    pub uncompressed_size: u64,
    /// Points the directory entry at another member's local header instead of writing one.
    pub same_data_as: Option<usize>,
    /// Added to the local-header offset the directory records (0: the truth).
    pub offset_shift: u32,
}

impl RawMember {
    pub fn stored(name: impl AsRef<[u8]>, content: &[u8]) -> RawMember {
        RawMember {
            name: name.as_ref().to_vec(),
            local_name: None,
            stored: content.to_vec(),
            method: 0,
            crc32: crc32fast::hash(content),
            uncompressed_size: content.len() as u64,
            same_data_as: None,
            offset_shift: 0,
        }
    }

    pub fn deflated(name: impl AsRef<[u8]>, content: &[u8]) -> RawMember {
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(content).unwrap();
        RawMember {
            stored: encoder.finish().unwrap(),
            method: 8,
            ..RawMember::stored(name, content)
        }
    }

    /// A deflated member of `size` zero bytes, compressed in chunks so that memory stays small.
    pub fn deflated_zeros(name: impl AsRef<[u8]>, size: u64) -> RawMember {
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::best());
        let chunk = vec![0u8; 1 << 20];
        let mut hasher = crc32fast::Hasher::new();
        let mut left = size;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            encoder.write_all(&chunk[..n]).unwrap();
            hasher.update(&chunk[..n]);
            left -= n as u64;
        }
        RawMember {
            name: name.as_ref().to_vec(),
            local_name: None,
            stored: encoder.finish().unwrap(),
            method: 8,
            crc32: hasher.finalize(),
            uncompressed_size: size,
            same_data_as: None,
            offset_shift: 0,
        }
    }
}

/// The archive bytes.
pub fn build(members: &[RawMember]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::with_capacity(members.len());
    for m in members {
        if let Some(other) = m.same_data_as {
            offsets.push(offsets[other]);
            continue;
        }
        offsets.push(out.len() as u32);
        let local_name = m.local_name.as_ref().unwrap_or(&m.name);
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&m.method.to_le_bytes());
        out.extend_from_slice(&[0, 0, 0x21, 0]); // time, date: 1980-01-01
        out.extend_from_slice(&m.crc32.to_le_bytes());
        out.extend_from_slice(&(m.stored.len() as u32).to_le_bytes());
        out.extend_from_slice(&(m.uncompressed_size as u32).to_le_bytes());
        out.extend_from_slice(&(local_name.len() as u16).to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(local_name);
        out.extend_from_slice(&m.stored);
    }
    let directory_start = out.len() as u32;
    for (m, offset) in members.iter().zip(&offsets) {
        let stored_len = match m.same_data_as {
            Some(other) => members[other].stored.len(),
            None => m.stored.len(),
        };
        central_entry(&mut out, m, stored_len as u32, offset + m.offset_shift);
    }
    let directory_size = out.len() as u32 - directory_start;
    let end = end_record(
        members.len() as u64,
        directory_start,
        directory_size,
        out.len() as u64,
    );
    out.extend_from_slice(&end);
    out
}

fn central_entry(out: &mut Vec<u8>, m: &RawMember, stored_len: u32, offset: u32) {
    out.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    out.extend_from_slice(&0x031eu16.to_le_bytes()); // made by: Unix, 3.0
    out.extend_from_slice(&20u16.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&m.method.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0x21, 0]);
    out.extend_from_slice(&m.crc32.to_le_bytes());
    out.extend_from_slice(&stored_len.to_le_bytes());
    out.extend_from_slice(&(m.uncompressed_size as u32).to_le_bytes());
    out.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
    out.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
    out.extend_from_slice(&(0o100644u32 << 16).to_le_bytes());
    out.extend_from_slice(&offset.to_le_bytes());
    out.extend_from_slice(&m.name);
}

/// The end records for a directory of `entries` entries, to be written at offset `at`.
fn end_record(entries: u64, directory_start: u32, directory_size: u32, at: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(100);
    let count = u16::try_from(entries).unwrap_or(0xFFFF);
    if count == 0xFFFF {
        // zip64 end record and locator.
        let zip64_at = at;
        out.extend_from_slice(&0x0606_4b50u32.to_le_bytes());
        out.extend_from_slice(&44u64.to_le_bytes());
        out.extend_from_slice(&0x002du16.to_le_bytes());
        out.extend_from_slice(&0x002du16.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // disks
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&entries.to_le_bytes());
        out.extend_from_slice(&u64::from(directory_size).to_le_bytes());
        out.extend_from_slice(&u64::from(directory_start).to_le_bytes());
        out.extend_from_slice(&0x0706_4b50u32.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&zip64_at.to_le_bytes());
        out.extend_from_slice(&1u32.to_le_bytes());
    }
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&directory_size.to_le_bytes());
    out.extend_from_slice(&directory_start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// Writes a zip of `count` tiny stored members (`m0000000`…) to `out` without holding it in
/// memory: the shape of an archive built to exhaust whatever indexes it.
pub fn write_many_members(out: &std::path::Path, count: u32) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(out).unwrap());
    let mut offset = 0u32;
    let name = |i: u32| format!("m{i:07}");
    for i in 0..count {
        let m = RawMember::stored(name(i), b"");
        let mut header = Vec::with_capacity(64);
        header.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        header.extend_from_slice(&20u16.to_le_bytes());
        header.extend_from_slice(&[0; 4]);
        header.extend_from_slice(&[0, 0, 0x21, 0]);
        header.extend_from_slice(&m.crc32.to_le_bytes());
        header.extend_from_slice(&[0; 8]);
        header.extend_from_slice(&(m.name.len() as u16).to_le_bytes());
        header.extend_from_slice(&0u16.to_le_bytes());
        header.extend_from_slice(&m.name);
        file.write_all(&header).unwrap();
        offset += header.len() as u32;
    }
    let directory_start = offset;
    let mut local_offset = 0u32;
    let mut directory = Vec::with_capacity(64);
    let mut directory_size = 0u32;
    for i in 0..count {
        let m = RawMember::stored(name(i), b"");
        directory.clear();
        central_entry(&mut directory, &m, 0, local_offset);
        local_offset += 30 + m.name.len() as u32;
        directory_size += directory.len() as u32;
        file.write_all(&directory).unwrap();
    }
    let at = u64::from(directory_start) + u64::from(directory_size);
    let end = end_record(u64::from(count), directory_start, directory_size, at);
    file.write_all(&end).unwrap();
    file.flush().unwrap();
}

/// The members of a dataset folder (sorted; data.jsonl deflated, the rest stored).
pub fn members_of(dir: &std::path::Path) -> Vec<RawMember> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(dir.join(&name)).unwrap();
            if name.ends_with(".jsonl") {
                RawMember::deflated(name, &bytes)
            } else {
                RawMember::stored(name, &bytes)
            }
        })
        .collect()
}

/// One hostile archive: the rule that must refuse it, and its bytes.
pub struct Hostile {
    pub code: &'static str,
    pub label: &'static str,
    pub bytes: Vec<u8>,
}

/// A hostile variant of the dataset folder `dir` (a flat folder with data.jsonl) per trick
/// extractors refuse, each built at test time.
pub fn hostile_corpus(dir: &std::path::Path) -> Vec<Hostile> {
    let base = members_of(dir);
    let index = |name: &str| {
        base.iter()
            .position(|m| m.name == name.as_bytes())
            .unwrap_or_else(|| panic!("{name} in the example"))
    };
    let clip = index("clip01.mp4");
    let manifest = index("data.jsonl");
    let variant = |edit: &dyn Fn(&mut Vec<RawMember>)| {
        let mut members = base.clone();
        edit(&mut members);
        build(&members)
    };
    vec![
        Hostile {
            code: "Z001",
            label: "every clip points at one deflated bomb",
            bytes: variant(&|members| {
                members.push(RawMember::deflated_zeros("bomb.bin", 8 << 20));
                let bomb = members.len() - 1;
                for m in members.iter_mut() {
                    if m.name.ends_with(b".mp4") {
                        m.same_data_as = Some(bomb);
                        m.method = 8;
                        m.uncompressed_size = 8 << 20;
                    }
                }
                // The bomb must come first for the others to point back at it.
                let bomb = members.pop().unwrap();
                members.insert(0, bomb);
                for m in members.iter_mut() {
                    if m.same_data_as.is_some() {
                        m.same_data_as = Some(0);
                    }
                }
            }),
        },
        Hostile {
            code: "Z002",
            label: "a local header names another clip",
            bytes: variant(&|members| members[clip].local_name = Some(b"clip99.mp4".to_vec())),
        },
        Hostile {
            code: "Z003",
            label: "data.jsonl with a wrong CRC-32",
            bytes: variant(&|members| members[manifest].crc32 ^= 0x0bad_f00d),
        },
        Hostile {
            code: "Z004",
            label: "a NUL in a member name",
            bytes: variant(&|members| members[clip].name = b"clip01.mp4\0.txt".to_vec()),
        },
        Hostile {
            code: "Z007",
            label: "a member inflating 1000 times",
            bytes: variant(&|members| members.push(RawMember::deflated_zeros("z.bin", 48 << 20))),
        },
        Hostile {
            code: "Z006",
            label: "members declaring 6 GiB together",
            bytes: variant(&|members| {
                for i in 0..200 {
                    let mut m = RawMember::deflated(format!("pad{i:03}.bin"), b"x");
                    m.uncompressed_size = 30 << 20;
                    members.push(m);
                }
            }),
        },
        Hostile {
            code: "Z008",
            label: "a directory entry pointing past its local header",
            bytes: variant(&|members| members[clip].offset_shift = 3),
        },
        Hostile {
            code: "Z009",
            label: "a 2,000-byte member name",
            bytes: variant(&|members| members[clip].name = vec![b'a'; 2000]),
        },
    ]
}
