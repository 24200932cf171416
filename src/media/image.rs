//! Image header reader: format by magic bytes, size from the header, and truncation where the
//! format shows it.
//!
//! The `imagesize` crate reads sizes from an in-memory copy of the first bytes for the formats that
//! keep them there (PNG, GIF, HEIF/AVIF). The others are read by hand: a JPEG's frame header can
//! sit after many kilobytes of metadata that are skipped rather than read (and `imagesize` seeks
//! backwards to find it), a TIFF directory is often at the end of the file, BMP stores top-down
//! images with a negative height, and a lossy WEBP keeps scaling bits next to its width and height.

use std::io::{Read, Seek};

use super::forward::ForwardReader;
use super::{ImageFormat, ImageInfo, MediaError, SNIFF_LEN, Sniffed, array_at, sniff};

/// How many of the first bytes `imagesize` sees for formats whose header may be longer than the
/// sniffed bytes (HEIF `meta` boxes).
const LONG_HEADER_LEN: usize = 64 << 10;

/// How far from the end an end marker is looked for: encoders and transfers sometimes pad files.
const TAIL_LEN: u64 = 8 << 10;

/// Reads an image header of a file of `len` bytes.
///
/// The reader must be positioned at the start of the file. It is only read and seeked forward
/// (see [`super::probe`]); of a large image only the header and the last few kilobytes are read.
pub fn probe<R: Read + Seek>(reader: &mut R, len: u64) -> Result<ImageInfo, MediaError> {
    probe_from(&mut ForwardReader::new(reader, len))
}

/// The eight bytes every PNG starts with.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1A\n";

/// True for a PNG with an alpha channel (IHDR colour type 4, grey + alpha, or 6, RGBA), which
/// the synthesis endpoints refuse as input (spec §6.18). `bytes` is the file's start.
pub fn png_has_alpha(bytes: &[u8]) -> bool {
    const COLOUR_TYPE_OFFSET: usize = 8 + 8 + 9;
    bytes.starts_with(PNG_SIGNATURE) && matches!(bytes.get(COLOUR_TYPE_OFFSET), Some(4 | 6))
}

pub(super) fn probe_from<R: Read + Seek>(
    source: &mut ForwardReader<'_, R>,
) -> Result<ImageInfo, MediaError> {
    if source.len() == 0 {
        return Err(MediaError::Empty);
    }
    let head = source.peek(SNIFF_LEN)?.to_vec();
    let sniffed = sniff(&head);
    let Sniffed::Image(format) = sniffed else {
        return Err(MediaError::Unrecognized {
            expected: "image",
            found: sniffed.describe().map(String::from),
        });
    };
    let len = source.len();
    let (width, height, truncated) = match format {
        ImageFormat::Jpeg => {
            let (width, height) = jpeg_size(source)?;
            let truncated = (!tail_contains(source, JPEG_END)?)
                .then(|| "no end-of-image marker (FF D9) near the end of the file".to_string());
            (width, height, truncated)
        }
        ImageFormat::Png => {
            let (width, height) = imagesize_from_head(source, format, SNIFF_LEN)?;
            let truncated = (!tail_contains(source, PNG_END)?)
                .then(|| "no IEND chunk at the end of the file".to_string());
            (width, height, truncated)
        }
        ImageFormat::Bmp => bmp(&head, len)?,
        ImageFormat::Webp => webp(&head, len)?,
        ImageFormat::Gif => {
            let (width, height) = imagesize_from_head(source, format, SNIFF_LEN)?;
            (width, height, None)
        }
        // Not accepted by the platform: the size is a courtesy for the message.
        ImageFormat::Tiff => {
            let (width, height) = tiff_size(source, &head)
                .map_err(|_| MediaError::UnsupportedFormat(format.name().into()))?;
            (width, height, None)
        }
        ImageFormat::Heif | ImageFormat::Avif => {
            let (width, height) = imagesize_from_head(source, format, LONG_HEADER_LEN)
                .map_err(|_| MediaError::UnsupportedFormat(format.name().into()))?;
            (width, height, None)
        }
    };
    if width == 0 || height == 0 {
        return Err(MediaError::Malformed(format!(
            "the {} header gives a size of {width}x{height}",
            format.name()
        )));
    }
    Ok(ImageInfo {
        format,
        width,
        height,
        truncated,
    })
}

/// The `IEND` chunk: zero length, type, CRC.
const PNG_END: &[u8] = b"\0\0\0\0IEND\xAE\x42\x60\x82";

/// The JPEG end-of-image marker. Scan data escapes 0xFF bytes, so after the frame header this
/// pair only occurs as the real end.
const JPEG_END: &[u8] = b"\xFF\xD9";

/// Runs `imagesize` on an in-memory copy of up to `window` first bytes.
fn imagesize_from_head<R: Read + Seek>(
    source: &mut ForwardReader<'_, R>,
    format: ImageFormat,
    window: usize,
) -> Result<(u32, u32), MediaError> {
    let head = source.peek(window)?;
    let size = imagesize::blob_size(head).map_err(|e| {
        if head.len() < window {
            MediaError::Truncated(format!("the {} header is incomplete ({e})", format.name()))
        } else {
            MediaError::Malformed(format!("unreadable {} header ({e})", format.name()))
        }
    })?;
    Ok((dimension(size.width)?, dimension(size.height)?))
}

fn dimension(value: usize) -> Result<u32, MediaError> {
    dimension_u64(value as u64)
}

fn dimension_u64(value: u64) -> Result<u32, MediaError> {
    u32::try_from(value)
        .map_err(|_| MediaError::Malformed(format!("the header gives a size of {value} pixels")))
}

/// Whether `end_marker` occurs in the last [`TAIL_LEN`] bytes after the current position. Only
/// that tail is read: the bytes in between are skipped.
fn tail_contains<R: Read + Seek>(
    source: &mut ForwardReader<'_, R>,
    end_marker: &[u8],
) -> Result<bool, MediaError> {
    let start = source.position().max(source.len().saturating_sub(TAIL_LEN));
    source.skip_to(start)?;
    let tail = source.read_vec(source.remaining())?;
    Ok(tail.windows(end_marker.len()).any(|w| w == end_marker))
}

/// Walks the JPEG marker segments forward to the first frame header (SOFn) and returns its size.
/// Segment bodies (EXIF, ICC profiles, thumbnails) are skipped, not read.
fn jpeg_size<R: Read + Seek>(source: &mut ForwardReader<'_, R>) -> Result<(u32, u32), MediaError> {
    source.skip_to(2)?; // the SOI marker
    loop {
        let at = source.position();
        let mut byte = source.read_u8()?;
        if byte != 0xFF {
            return Err(MediaError::Malformed(format!(
                "expected a JPEG marker at byte {at}, found 0x{byte:02X}"
            )));
        }
        // Any number of 0xFF fill bytes may precede a marker.
        while byte == 0xFF {
            byte = source.read_u8()?;
        }
        let marker = byte;
        match marker {
            // Markers without a length: TEM and the restart markers.
            0x01 | 0xD0..=0xD7 => continue,
            0xD9 => {
                return Err(MediaError::Malformed(
                    "the JPEG ends before its frame header".into(),
                ));
            }
            0xDA => {
                return Err(MediaError::Malformed(
                    "JPEG scan data starts before any frame header".into(),
                ));
            }
            _ => {}
        }
        let segment_len = u16::from_be_bytes(source.read_array()?);
        if segment_len < 2 {
            return Err(MediaError::Malformed(format!(
                "the JPEG segment at byte {at} declares {segment_len} bytes"
            )));
        }
        if is_start_of_frame(marker) {
            let [_precision, h1, h0, w1, w0] = source.read_array()?;
            return Ok((
                u32::from(u16::from_be_bytes([w1, w0])),
                u32::from(u16::from_be_bytes([h1, h0])),
            ));
        }
        let next = source.position() + u64::from(segment_len) - 2;
        if next > source.len() {
            return Err(MediaError::Truncated(format!(
                "the JPEG segment at byte {at} runs past the end of the file"
            )));
        }
        source.skip_to(next)?;
    }
}

/// SOF0–SOF15, except DHT (C4), JPG (C8) and DAC (CC), which share the range.
fn is_start_of_frame(marker: u8) -> bool {
    matches!(marker, 0xC0..=0xCF) && !matches!(marker, 0xC4 | 0xC8 | 0xCC)
}

/// Directory entries read at most: they are sorted by tag, and the size tags (256, 257) are the
/// lowest baseline tags, so they come first.
const TIFF_ENTRIES_READ: u64 = 64;

/// TIFF and BigTIFF: width and height from the first image file directory, which is reached by
/// seeking forward (writers put it right after the header or at the very end).
fn tiff_size<R: Read + Seek>(
    source: &mut ForwardReader<'_, R>,
    head: &[u8],
) -> Result<(u32, u32), MediaError> {
    let little_endian = head.starts_with(b"II");
    // Unsigned integers of 2, 4 or 8 bytes in the file's byte order.
    let uint = |bytes: &[u8]| {
        let fold = |acc: u64, &b: &u8| (acc << 8) | u64::from(b);
        if little_endian {
            bytes.iter().rev().fold(0, fold)
        } else {
            bytes.iter().fold(0, fold)
        }
    };
    let short = || MediaError::Truncated("the file ends inside the TIFF header".into());
    let big = uint(head.get(2..4).ok_or_else(short)?) == 43;
    // Entry: tag (2), type (2), count (4; BigTIFF 8), value (4; BigTIFF 8, left-justified).
    let (directory, count_len, entry_len, value_at) = if big {
        (uint(head.get(8..16).ok_or_else(short)?), 8, 20, 12)
    } else {
        (uint(head.get(4..8).ok_or_else(short)?), 2, 12, 8)
    };
    source.skip_to(directory)?;
    let count = uint(&source.read_vec(count_len)?);
    let entries = count
        .min(TIFF_ENTRIES_READ)
        .min(source.remaining() / entry_len);
    let table = source.read_vec(entries * entry_len)?;
    let (mut width, mut height) = (None, None);
    for entry in table.chunks_exact(entry_len as usize) {
        let value_field = &entry[value_at..];
        let value_len = match uint(&entry[2..4]) {
            3 => 2,  // SHORT
            4 => 4,  // LONG
            16 => 8, // LONG8 (BigTIFF)
            _ => continue,
        };
        let Some(value) = value_field.get(..value_len).map(uint) else {
            continue;
        };
        match uint(&entry[..2]) {
            256 => width = Some(value),
            257 => height = Some(value),
            _ => {}
        }
    }
    match (width, height) {
        (Some(width), Some(height)) => Ok((dimension_u64(width)?, dimension_u64(height)?)),
        _ => Err(MediaError::Malformed(
            "the TIFF directory does not give the image size".into(),
        )),
    }
}

/// BMP: size from the DIB header; truncated when the file header's size or the pixel data it
/// implies go past the end.
fn bmp(head: &[u8], len: u64) -> Result<(u32, u32, Option<String>), MediaError> {
    let short = || MediaError::Truncated("the file ends inside the BMP header".into());
    let u32_at = |offset| {
        array_at(head, offset)
            .map(u32::from_le_bytes)
            .ok_or_else(short)
    };
    let u16_at = |offset| {
        array_at(head, offset)
            .map(u16::from_le_bytes)
            .ok_or_else(short)
    };
    let file_size = u32_at(2)?;
    let pixel_offset = u32_at(10)?;
    let (width, height, bits_per_pixel, compression) = match u32_at(14)? {
        // OS/2 BITMAPCOREHEADER: unsigned 16-bit sizes.
        12 => (
            i32::from(u16_at(18)?),
            i32::from(u16_at(20)?),
            u16_at(24)?,
            0,
        ),
        _ => (
            u32_at(18)? as i32,
            u32_at(22)? as i32,
            u16_at(28)?,
            u32_at(30)?,
        ),
    };
    if width <= 0 {
        return Err(MediaError::Malformed(format!(
            "the BMP header gives a width of {width}"
        )));
    }
    // A negative height means rows are stored top-down.
    let (width, height) = (width.unsigned_abs(), height.unsigned_abs());
    let truncated = if u64::from(file_size) > len {
        Some(format!(
            "the BMP header declares {file_size} bytes, the file has {len}"
        ))
    } else if compression == 0 {
        // Uncompressed rows are padded to 4 bytes.
        let row = (u64::from(width) * u64::from(bits_per_pixel)).div_ceil(32) * 4;
        let pixels_end =
            u64::from(pixel_offset).saturating_add(row.saturating_mul(u64::from(height)));
        (pixels_end > len).then(|| format!("pixel data ends at byte {pixels_end}, file has {len}"))
    } else {
        None
    };
    Ok((width, height, truncated))
}

/// WEBP: size from the first chunk (lossy, lossless or extended); truncated when the RIFF size
/// goes past the end.
fn webp(head: &[u8], len: u64) -> Result<(u32, u32, Option<String>), MediaError> {
    let short = || MediaError::Truncated("the file ends inside the WEBP header".into());
    let riff_size = array_at(head, 4)
        .map(u32::from_le_bytes)
        .ok_or_else(short)?;
    let chunk: [u8; 4] = array_at(head, 12).ok_or_else(short)?;
    let le16 = |offset| {
        array_at(head, offset)
            .map(u16::from_le_bytes)
            .ok_or_else(short)
    };
    let le24 = |offset| {
        array_at::<3>(head, offset)
            .map(|[a, b, c]| u32::from_le_bytes([a, b, c, 0]))
            .ok_or_else(short)
    };
    let (width, height) = match &chunk {
        // Lossy: 14-bit sizes after the frame tag and start code; the top 2 bits are scaling.
        b"VP8 " => (u32::from(le16(26)? & 0x3FFF), u32::from(le16(28)? & 0x3FFF)),
        // Lossless: after the 0x2F signature, 14 bits of width - 1, then 14 of height - 1.
        b"VP8L" => {
            let bits = array_at(head, 21)
                .map(u32::from_le_bytes)
                .ok_or_else(short)?;
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        // Extended: 24-bit canvas width - 1 and height - 1.
        b"VP8X" => (le24(24)? + 1, le24(27)? + 1),
        other => {
            return Err(MediaError::Malformed(format!(
                "unknown first WEBP chunk '{}'",
                other.escape_ascii()
            )));
        }
    };
    let declared_end = u64::from(riff_size) + 8;
    let truncated = (declared_end > len)
        .then(|| format!("the RIFF header declares {declared_end} bytes, the file has {len}"));
    Ok((width, height, truncated))
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn probe_bytes(bytes: &[u8]) -> Result<ImageInfo, MediaError> {
        probe(&mut Cursor::new(bytes), bytes.len() as u64)
    }

    fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0xFF, marker];
        bytes.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        bytes.extend_from_slice(body);
        bytes
    }

    /// SOI, an APP1 of `metadata_len` bytes, fill bytes, SOF0 for 640x480, scan data, EOI.
    fn jpeg(metadata_len: usize) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8];
        bytes.extend(segment(0xE1, &vec![0x11; metadata_len]));
        bytes.extend([0xFF, 0xFF]);
        bytes.extend(segment(0xC0, &[8, 0x01, 0xE0, 0x02, 0x80, 3]));
        bytes.extend(segment(0xDA, &[0; 10]));
        bytes.extend(vec![0x55; 20_000]);
        bytes.extend([0xFF, 0xD9]);
        bytes
    }

    #[test]
    fn jpeg_size_after_metadata_and_fill_bytes() {
        let info = probe_bytes(&jpeg(60_000)).unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (ImageFormat::Jpeg, 640, 480)
        );
        assert_eq!(info.truncated, None);
    }

    #[test]
    fn jpeg_without_end_marker_is_truncated_but_trailing_padding_is_fine() {
        let mut file = jpeg(100);
        file.truncate(file.len() - 2);
        assert!(probe_bytes(&file).unwrap().truncated.is_some());
        let mut padded = jpeg(100);
        padded.extend(vec![0; 2000]);
        assert_eq!(probe_bytes(&padded).unwrap().truncated, None);
    }

    #[test]
    fn an_end_marker_in_a_thumbnail_does_not_hide_truncation() {
        // The EXIF thumbnail ends with FF D9 before the frame header; the image itself is cut.
        let mut app1 = vec![0xFF, 0xD8];
        app1.extend(vec![0x22; 50]);
        app1.extend([0xFF, 0xD9]);
        let mut file = vec![0xFF, 0xD8];
        file.extend(segment(0xE1, &app1));
        file.extend(segment(0xC0, &[8, 0, 10, 0, 20, 3]));
        file.extend(segment(0xDA, &[0; 10]));
        file.extend(vec![0x55; 100]);
        let info = probe_bytes(&file).unwrap();
        assert_eq!((info.width, info.height), (20, 10));
        assert!(info.truncated.is_some());
    }

    #[test]
    fn jpeg_header_errors() {
        let cut = &jpeg(100)[..50];
        assert!(matches!(probe_bytes(cut), Err(MediaError::Truncated(_))));
        let no_frame = [&[0xFF, 0xD8][..], &segment(0xDA, &[0; 4])].concat();
        assert!(matches!(
            probe_bytes(&no_frame),
            Err(MediaError::Malformed(_))
        ));
        let garbage = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x12];
        assert!(matches!(
            probe_bytes(&garbage),
            Err(MediaError::Truncated(_))
        ));
        let bad_len = [0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0, 0];
        assert!(matches!(
            probe_bytes(&bad_len),
            Err(MediaError::Malformed(_))
        ));
    }

    #[test]
    fn large_jpeg_reads_only_header_and_tail() {
        struct Counting<'a>(Cursor<&'a [u8]>, u64);
        impl Read for Counting<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.read(buf)?;
                self.1 += n as u64;
                Ok(n)
            }
        }
        impl Seek for Counting<'_> {
            fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
                self.0.seek(pos)
            }
        }
        let mut file = jpeg(100);
        let end = file.split_off(file.len() - 2);
        file.extend(vec![0x55; 300_000]);
        file.extend(end);
        let mut reader = Counting(Cursor::new(&file), 0);
        let info = probe(&mut reader, file.len() as u64).unwrap();
        assert_eq!(info.truncated, None);
        assert!(
            reader.1 < 20_000,
            "read {} of {} bytes",
            reader.1,
            file.len()
        );
    }

    fn bmp_header(file_size: u32, width: i32, height: i32, bits: u16) -> Vec<u8> {
        let mut bytes = b"BM".to_vec();
        bytes.extend_from_slice(&file_size.to_le_bytes());
        bytes.extend_from_slice(&[0; 4]);
        bytes.extend_from_slice(&54u32.to_le_bytes());
        bytes.extend_from_slice(&40u32.to_le_bytes());
        bytes.extend_from_slice(&width.to_le_bytes());
        bytes.extend_from_slice(&height.to_le_bytes());
        bytes.extend_from_slice(&1u16.to_le_bytes());
        bytes.extend_from_slice(&bits.to_le_bytes());
        bytes.extend_from_slice(&[0; 24]);
        bytes
    }

    #[test]
    fn bmp_sizes_and_truncation() {
        // 3x2 at 24 bits: rows of 9 bytes padded to 12.
        let mut file = bmp_header(54 + 24, 3, -2, 24);
        file.extend(vec![0; 24]);
        let info = probe_bytes(&file).unwrap();
        assert_eq!(
            (info.width, info.height, info.truncated.as_deref()),
            (3, 2, None)
        );
        let cut = &file[..file.len() - 1];
        assert!(
            probe_bytes(cut)
                .unwrap()
                .truncated
                .unwrap()
                .contains("declares")
        );
        // A header size of 0 (allowed) still shows missing pixel data.
        let mut zero_size = bmp_header(0, 3, 2, 24);
        zero_size.extend(vec![0; 20]);
        assert!(
            probe_bytes(&zero_size)
                .unwrap()
                .truncated
                .unwrap()
                .contains("pixel data")
        );
    }

    #[test]
    fn webp_chunks() {
        let riff = |chunk: &[u8; 4], payload: &[u8]| {
            let mut bytes = b"RIFF".to_vec();
            bytes.extend_from_slice(&((payload.len() + 12) as u32).to_le_bytes());
            bytes.extend_from_slice(b"WEBP");
            bytes.extend_from_slice(chunk);
            bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            bytes.extend_from_slice(payload);
            bytes
        };
        // Lossy 400x300 with scaling bits set on the width.
        let mut lossy = vec![0, 0, 0, 0x9D, 0x01, 0x2A];
        lossy.extend_from_slice(&(400u16 | 0xC000).to_le_bytes());
        lossy.extend_from_slice(&300u16.to_le_bytes());
        lossy.extend(vec![0; 20]);
        let info = probe_bytes(&riff(b"VP8 ", &lossy)).unwrap();
        assert_eq!((info.width, info.height), (400, 300));
        let lossless_bits: u32 = (99) | (49 << 14);
        let mut lossless = vec![0x2F];
        lossless.extend_from_slice(&lossless_bits.to_le_bytes());
        lossless.extend(vec![0; 20]);
        let info = probe_bytes(&riff(b"VP8L", &lossless)).unwrap();
        assert_eq!((info.width, info.height), (100, 50));
        let mut extended = vec![0; 4];
        extended.extend_from_slice(&[0x1F, 0x03, 0x00, 0x57, 0x02, 0x00]);
        extended.extend(vec![0; 20]);
        let file = riff(b"VP8X", &extended);
        let info = probe_bytes(&file).unwrap();
        assert_eq!((info.width, info.height, info.truncated), (800, 600, None));
        assert!(
            probe_bytes(&file[..file.len() - 1])
                .unwrap()
                .truncated
                .is_some()
        );
    }

    #[test]
    fn png_without_iend_is_truncated() {
        let mut file = b"\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR".to_vec();
        file.extend_from_slice(&300u32.to_be_bytes());
        file.extend_from_slice(&200u32.to_be_bytes());
        file.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        file.extend(vec![0; 50_000]);
        assert!(probe_bytes(&file).unwrap().truncated.is_some());
        file.extend_from_slice(PNG_END);
        let info = probe_bytes(&file).unwrap();
        assert_eq!((info.width, info.height, info.truncated), (300, 200, None));
    }

    /// A TIFF with its directory after `padding` bytes of pixel data.
    fn tiff(big_endian: bool, bigtiff: bool, padding: usize) -> Vec<u8> {
        let int = |value: u64, len: usize| -> Vec<u8> {
            let bytes = value.to_be_bytes()[8 - len..].to_vec();
            if big_endian {
                bytes
            } else {
                bytes.into_iter().rev().collect()
            }
        };
        let (header_len, count_len, count_field, value_len) =
            if bigtiff { (16, 8, 8, 8) } else { (8, 2, 4, 4) };
        let mut file = if big_endian {
            b"MM".to_vec()
        } else {
            b"II".to_vec()
        };
        file.extend(int(if bigtiff { 43 } else { 42 }, 2));
        if bigtiff {
            file.extend(int(8, 2));
            file.extend(int(0, 2));
        }
        file.extend(int((header_len + padding) as u64, value_len));
        file.extend(vec![0x77; padding]);
        file.extend(int(3, count_len));
        // (tag, type, value): a SHORT width, a LONG height, an unrelated tag.
        for (tag, kind, value) in [(256, 3, 1234), (257, 4, 70_000), (259, 3, 1)] {
            file.extend(int(tag, 2));
            file.extend(int(kind, 2));
            file.extend(int(1, count_field));
            let value_bytes = int(value, if kind == 3 { 2 } else { 4 });
            let mut field = value_bytes.clone();
            field.resize(value_len, 0);
            file.extend(field);
        }
        file.extend(int(0, value_len));
        file
    }

    #[test]
    fn tiff_directories_in_both_byte_orders_after_the_pixel_data() {
        for (big_endian, bigtiff) in [(false, false), (true, false), (false, true), (true, true)] {
            let file = tiff(big_endian, bigtiff, 100_000);
            let info = probe_bytes(&file).unwrap();
            assert_eq!(
                (info.format, info.width, info.height),
                (ImageFormat::Tiff, 1234, 70_000),
                "big endian {big_endian}, BigTIFF {bigtiff}"
            );
        }
        let file = tiff(false, false, 100);
        assert_eq!(
            probe_bytes(&file[..120]),
            Err(MediaError::UnsupportedFormat("TIFF".into()))
        );
    }

    #[test]
    fn heif_size_from_its_image_spatial_extents() {
        let boxed = |kind: &[u8; 4], body: &[u8]| {
            let mut bytes = ((body.len() + 8) as u32).to_be_bytes().to_vec();
            bytes.extend_from_slice(kind);
            bytes.extend_from_slice(body);
            bytes
        };
        let mut ispe = vec![0; 4];
        ispe.extend_from_slice(&4032u32.to_be_bytes());
        ispe.extend_from_slice(&3024u32.to_be_bytes());
        let iprp = boxed(b"iprp", &boxed(b"ipco", &boxed(b"ispe", &ispe)));
        let meta = boxed(b"meta", &[&[0, 0, 0, 0][..], &iprp].concat());
        let file = [boxed(b"ftyp", b"heic\0\0\0\0mif1heic"), meta].concat();
        let info = probe_bytes(&file).unwrap();
        assert_eq!(
            (info.format, info.width, info.height),
            (ImageFormat::Heif, 4032, 3024)
        );
        assert_eq!(
            probe_bytes(&file[..40]),
            Err(MediaError::UnsupportedFormat("HEIF".into()))
        );
    }

    #[test]
    fn zero_sizes_and_non_images_are_errors() {
        let mut zero = b"GIF89a".to_vec();
        zero.extend_from_slice(&[0, 0, 10, 0, 0, 0, 0]);
        assert!(matches!(probe_bytes(&zero), Err(MediaError::Malformed(_))));
        assert_eq!(
            probe_bytes(b"%PDF-1.4 hello"),
            Err(MediaError::Unrecognized {
                expected: "image",
                found: Some("a PDF document".into())
            })
        );
        assert_eq!(probe_bytes(b""), Err(MediaError::Empty));
    }
}
