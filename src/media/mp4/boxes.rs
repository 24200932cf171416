//! ISO base media boxes: header decoding, iteration over the children of a box held in memory,
//! and a bounds-checked reader for a box's fields.

use crate::media::{MediaError, array_at};

/// A box type.
pub(super) type FourCc = [u8; 4];

/// A box type for messages; bytes that are not printable ASCII are escaped.
pub(super) fn fourcc_name(kind: &FourCc) -> String {
    kind.escape_ascii().to_string()
}

/// A decoded box header, not yet checked against its parent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct BoxHeader {
    pub kind: FourCc,
    /// Total size including the header; `None` when the box runs to the end of its parent (or of
    /// the file), which the size field 0 means.
    pub size: Option<u64>,
    /// 8, or 16 with a 64-bit `largesize`.
    pub len: u64,
}

impl BoxHeader {
    /// Decodes a header from its first 8 bytes; `largesize` supplies the next 8 when the 32-bit
    /// size field is 1.
    pub fn decode(
        start: [u8; 8],
        largesize: impl FnOnce() -> Result<[u8; 8], MediaError>,
    ) -> Result<BoxHeader, MediaError> {
        let [s0, s1, s2, s3, k0, k1, k2, k3] = start;
        let kind = [k0, k1, k2, k3];
        let (size, len) = match u32::from_be_bytes([s0, s1, s2, s3]) {
            0 => (None, 8),
            1 => (Some(u64::from_be_bytes(largesize()?)), 16),
            size => (Some(u64::from(size)), 8),
        };
        if let Some(size) = size.filter(|&size| size < len) {
            return Err(MediaError::Malformed(format!(
                "the '{}' box declares {size} bytes, less than its own {len}-byte header",
                fourcc_name(&kind)
            )));
        }
        Ok(BoxHeader { kind, size, len })
    }
}

/// The child boxes of `body`, the body of a `parent` box held in memory, as `(type, body)` pairs.
///
/// A child that does not fit in its parent is an error, after which the iteration ends. Up to 7
/// trailing zero bytes are allowed: QuickTime ends some atom lists with a 32-bit zero.
pub(super) fn children<'a>(parent: &FourCc, body: &'a [u8]) -> Children<'a> {
    Children {
        parent: *parent,
        rest: body,
    }
}

pub(super) struct Children<'a> {
    parent: FourCc,
    rest: &'a [u8],
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<(FourCc, &'a [u8]), MediaError>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = std::mem::take(&mut self.rest);
        if rest.is_empty() || (rest.len() < 8 && rest.iter().all(|&b| b == 0)) {
            return None;
        }
        let result = self.split_first_child(rest);
        if let Ok((_, _, after)) = result {
            self.rest = after;
        }
        Some(result.map(|(kind, body, _)| (kind, body)))
    }
}

impl<'a> Children<'a> {
    /// Splits `rest` into the first child's type and body, and what follows it.
    fn split_first_child(
        &self,
        rest: &'a [u8],
    ) -> Result<(FourCc, &'a [u8], &'a [u8]), MediaError> {
        let too_short = || {
            MediaError::Malformed(format!(
                "the '{}' box ends with {} stray bytes",
                fourcc_name(&self.parent),
                rest.len()
            ))
        };
        let start = array_at::<8>(rest, 0).ok_or_else(too_short)?;
        let header = BoxHeader::decode(start, || array_at(rest, 8).ok_or_else(too_short))?;
        let available = rest.len() as u64;
        let size = header.size.unwrap_or(available);
        if size > available {
            return Err(MediaError::Malformed(format!(
                "a '{}' box of {size} bytes does not fit in its '{}' box ({available} bytes left)",
                fourcc_name(&header.kind),
                fourcc_name(&self.parent),
            )));
        }
        // Both fit in usize: they are at most `rest.len()`.
        let (child, after) = rest.split_at(size as usize);
        Ok((header.kind, &child[header.len as usize..], after))
    }
}

/// The first child of type `kind`, if any.
pub(super) fn find_child<'a>(
    parent: &FourCc,
    body: &'a [u8],
    kind: &FourCc,
) -> Result<Option<&'a [u8]>, MediaError> {
    for child in children(parent, body) {
        let (child_kind, child_body) = child?;
        if &child_kind == kind {
            return Ok(Some(child_body));
        }
    }
    Ok(None)
}

/// Reads the fields of one box body in order; running out of bytes is a malformed box.
pub(super) struct Fields<'a> {
    kind: FourCc,
    data: &'a [u8],
    pos: usize,
}

impl<'a> Fields<'a> {
    pub fn new(kind: &FourCc, data: &'a [u8]) -> Self {
        Fields {
            kind: *kind,
            data,
            pos: 0,
        }
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], MediaError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= self.data.len())
            .ok_or_else(|| {
                MediaError::Malformed(format!(
                    "the '{}' box is too short ({} bytes)",
                    fourcc_name(&self.kind),
                    self.data.len()
                ))
            })?;
        let bytes = &self.data[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    pub fn array<const N: usize>(&mut self) -> Result<[u8; N], MediaError> {
        let mut array = [0; N];
        array.copy_from_slice(self.bytes(N)?);
        Ok(array)
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let rest = &self.data[self.pos..];
        self.pos = self.data.len();
        rest
    }

    pub fn skip(&mut self, n: usize) -> Result<(), MediaError> {
        self.bytes(n).map(drop)
    }

    pub fn u8(&mut self) -> Result<u8, MediaError> {
        Ok(self.array::<1>()?[0])
    }

    pub fn u16(&mut self) -> Result<u16, MediaError> {
        self.array().map(u16::from_be_bytes)
    }

    pub fn u32(&mut self) -> Result<u32, MediaError> {
        self.array().map(u32::from_be_bytes)
    }

    pub fn i32(&mut self) -> Result<i32, MediaError> {
        self.array().map(i32::from_be_bytes)
    }

    pub fn u64(&mut self) -> Result<u64, MediaError> {
        self.array().map(u64::from_be_bytes)
    }

    /// The version byte and 24 bits of flags that start a full box.
    pub fn version_and_flags(&mut self) -> Result<(u8, u32), MediaError> {
        let [version, f0, f1, f2] = self.array()?;
        Ok((version, u32::from_be_bytes([0, f0, f1, f2])))
    }

    /// The version of a full box, which must be 0 or 1: the versions that choose between 32- and
    /// 64-bit times.
    pub fn full_box_version(&mut self) -> Result<u8, MediaError> {
        let (version, _) = self.version_and_flags()?;
        if version > 1 {
            return Err(MediaError::Malformed(format!(
                "the '{}' box has unknown version {version}",
                fourcc_name(&self.kind)
            )));
        }
        Ok(version)
    }

    /// A 32-bit time (version 0) or a 64-bit one (version 1).
    pub fn time(&mut self, version: u8) -> Result<u64, MediaError> {
        if version == 1 {
            self.u64()
        } else {
            self.u32().map(u64::from)
        }
    }

    /// `count` entries of `entry_len` bytes each, checked against the bytes actually present so
    /// that a declared count never drives an allocation or a loop by itself.
    pub fn table(&mut self, count: u32, entry_len: usize) -> Result<&'a [u8], MediaError> {
        let wanted = (count as usize).checked_mul(entry_len);
        let left = self.data.len() - self.pos;
        match wanted {
            Some(wanted) if wanted <= left => self.bytes(wanted),
            _ => Err(MediaError::Malformed(format!(
                "the '{}' box declares {count} entries of {entry_len} bytes but holds {left} bytes",
                fourcc_name(&self.kind)
            ))),
        }
    }
}

/// Test helper: a box of `kind` around `body`, with a 32-bit size.
#[cfg(test)]
pub(crate) fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut bytes = ((body.len() + 8) as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(kind);
    bytes.extend_from_slice(body);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(body: &[u8]) -> Result<Vec<FourCc>, MediaError> {
        children(b"test", body).map(|c| c.map(|(k, _)| k)).collect()
    }

    #[test]
    fn decodes_32_bit_64_bit_and_to_end_sizes() {
        let no_large = || panic!("largesize read for a 32-bit size");
        let small = BoxHeader::decode(*b"\0\0\0\x10free", no_large).unwrap();
        assert_eq!((small.size, small.len), (Some(16), 8));
        let to_end = BoxHeader::decode(*b"\0\0\0\0mdat", no_large).unwrap();
        assert_eq!((to_end.size, to_end.len), (None, 8));
        let large = BoxHeader::decode(*b"\0\0\0\x01mdat", || {
            Ok(1u64.rotate_right(1).to_be_bytes())
        })
        .unwrap();
        assert_eq!((large.size, large.len), (Some(1 << 63), 16));
    }

    #[test]
    fn a_size_smaller_than_the_header_is_malformed() {
        assert!(BoxHeader::decode(*b"\0\0\0\x07free", || unreachable!()).is_err());
        let tiny_large = BoxHeader::decode(*b"\0\0\0\x01mdat", || Ok(15u64.to_be_bytes()));
        assert!(matches!(tiny_large, Err(MediaError::Malformed(_))));
    }

    #[test]
    fn iterates_children_in_order() {
        let mut body = boxed(b"tkhd", &[1, 2, 3]);
        body.extend(boxed(b"mdia", &[]));
        assert_eq!(kinds(&body).unwrap(), [*b"tkhd", *b"mdia"]);
        let (_, first_body) = children(b"test", &body).next().unwrap().unwrap();
        assert_eq!(first_body, [1, 2, 3]);
    }

    #[test]
    fn a_child_larger_than_its_parent_is_malformed() {
        let mut body = boxed(b"tkhd", &[0; 8]);
        body.truncate(12);
        assert!(matches!(kinds(&body), Err(MediaError::Malformed(_))));
        // A 64-bit size of u64::MAX inside a parent: an error, not an overflow.
        let mut huge = b"\0\0\0\x01mdat".to_vec();
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(matches!(kinds(&huge), Err(MediaError::Malformed(_))));
    }

    #[test]
    fn size_zero_runs_to_the_end_of_the_parent() {
        let mut body = boxed(b"free", &[]);
        body.extend_from_slice(b"\0\0\0\0udta12345");
        let all: Vec<_> = children(b"test", &body).collect::<Result<_, _>>().unwrap();
        assert_eq!(all[1], (*b"udta", &b"12345"[..]));
    }

    #[test]
    fn trailing_zero_terminator_is_allowed_but_other_stray_bytes_are_not() {
        let mut body = boxed(b"free", &[]);
        body.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(kinds(&body).unwrap(), [*b"free"]);
        body.extend_from_slice(&[1]);
        assert!(kinds(&body).is_err());
    }

    #[test]
    fn iteration_stops_after_an_error() {
        let body = b"\0\0\0\x04bad!\0\0\0\x08free";
        let mut iter = children(b"test", body);
        assert!(iter.next().unwrap().is_err());
        assert!(iter.next().is_none());
    }

    #[test]
    fn tables_are_checked_against_the_bytes_present() {
        let data = [0u8; 20];
        let mut fields = Fields::new(b"stco", &data);
        assert!(fields.table(u32::MAX, 8).is_err());
        assert_eq!(fields.table(5, 4).unwrap().len(), 20);
        assert!(fields.u8().is_err());
    }

    #[test]
    fn full_box_versions_above_one_are_refused() {
        assert_eq!(
            Fields::new(b"mvhd", &[1, 0, 0, 0])
                .full_box_version()
                .unwrap(),
            1
        );
        assert!(
            Fields::new(b"mvhd", &[2, 0, 0, 0])
                .full_box_version()
                .is_err()
        );
    }
}
