//! Image header reader: format by magic bytes, size from the header, and truncation where the
//! format shows it.
//!
//! The `imagesize` crate reads sizes from an in-memory copy of the first bytes for the formats that
//! keep them there (PNG, GIF, HEIF/AVIF). The others are read by hand: a JPEG's frame header can
//! sit after many kilobytes of metadata that are skipped rather than read (and `imagesize` seeks
//! backwards to find it), a TIFF directory is often at the end of the file, BMP stores top-down
//! images with a negative height, and a lossy WEBP keeps scaling bits next to its width and height.

use std::io::{Read, Seek};

use super::exif::{self, EXIF_READ_CAP};
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
    let mut exif_orientation = None;
    let (width, height, truncated) = match format {
        ImageFormat::Jpeg => {
            let header = jpeg_header(source)?;
            exif_orientation = header.orientation;
            let truncated = (!tail_contains(source, JPEG_END)?)
                .then(|| "no end-of-image marker (FF D9) near the end of the file".to_string());
            (header.width, header.height, truncated)
        }
        ImageFormat::Png => {
            let header = png_header(source)?;
            exif_orientation = header.orientation;
            let truncated = (!tail_contains(source, PNG_END)?)
                .then(|| "no IEND chunk at the end of the file".to_string());
            (header.width, header.height, truncated)
        }
        ImageFormat::Bmp => bmp(&head, len)?,
        ImageFormat::Webp => {
            let (header, truncated) = webp(source, &head)?;
            exif_orientation = header.orientation;
            (header.width, header.height, truncated)
        }
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
        exif_orientation,
        truncated,
    })
}

/// What an image header says that the probe reports.
#[derive(Debug, Default)]
struct Header {
    width: u32,
    height: u32,
    orientation: Option<u8>,
}

/// Chunks (PNG, WebP) walked at most while looking for EXIF before the image data.
const MAX_CHUNKS: usize = 1024;

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

/// Walks the JPEG marker segments forward to the first frame header (SOFn), checks it and
/// returns its size, with the EXIF orientation of an `APP1` segment met on the way. Other segment
/// bodies (ICC profiles, thumbnails) are skipped, not read.
fn jpeg_header<R: Read + Seek>(source: &mut ForwardReader<'_, R>) -> Result<Header, MediaError> {
    source.skip_to(2)?; // the SOI marker
    let mut orientation = None;
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
        let body_len = u64::from(segment_len) - 2;
        let next = source.position() + body_len;
        if next > source.len() {
            return Err(MediaError::Truncated(format!(
                "the JPEG segment at byte {at} runs past the end of the file"
            )));
        }
        if is_start_of_frame(marker) {
            let body = source.read_vec(body_len)?;
            let (width, height) = jpeg_frame(marker, &body, at)?;
            return Ok(Header {
                width,
                height,
                orientation,
            });
        }
        if marker == 0xE1 && orientation.is_none() {
            let body = source.read_vec(body_len.min(EXIF_READ_CAP as u64))?;
            orientation = exif::orientation_of_app1(&body);
        }
        source.skip_to(next)?;
    }
}

/// Checks every field of a frame header (ITU T.81 §B.2.2) and returns the image's size.
fn jpeg_frame(marker: u8, body: &[u8], at: u64) -> Result<(u32, u32), MediaError> {
    let bad =
        |what: String| MediaError::Malformed(format!("the JPEG frame header at byte {at} {what}"));
    let [precision, h1, h0, w1, w0, components] =
        array_at(body, 0).ok_or_else(|| bad(format!("is {} bytes long", body.len())))?;
    // Lossless frames (SOF3, 7, 11, 15) take 2 to 16 bits; DCT frames 8 or 12, baseline 8 only.
    let lossless = marker & 0x03 == 0x03;
    let precision_ok = match marker {
        0xC0 => precision == 8,
        _ if lossless => (2..=16).contains(&precision),
        _ => matches!(precision, 8 | 12),
    };
    if !precision_ok {
        return Err(bad(format!("gives a sample precision of {precision} bits")));
    }
    if !(1..=4).contains(&components) {
        return Err(bad(format!("declares {components} colour components")));
    }
    let expected_len = 6 + 3 * usize::from(components);
    if body.len() != expected_len {
        return Err(bad(format!(
            "is {} bytes long; {components} components take {expected_len}",
            body.len()
        )));
    }
    for (i, component) in body[6..].chunks_exact(3).enumerate() {
        let (horizontal, vertical, table) = (component[1] >> 4, component[1] & 0x0F, component[2]);
        if !(1..=4).contains(&horizontal) || !(1..=4).contains(&vertical) {
            return Err(bad(format!(
                "gives component {} a sampling factor of {horizontal}x{vertical}",
                i + 1
            )));
        }
        if table > 3 {
            return Err(bad(format!(
                "gives component {} quantisation table {table} (0 to 3 exist)",
                i + 1
            )));
        }
    }
    Ok((
        u32::from(u16::from_be_bytes([w1, w0])),
        u32::from(u16::from_be_bytes([h1, h0])),
    ))
}

/// PNG: checks every field of `IHDR` (PNG §11.2.2) and walks the chunks before the image data
/// for `eXIf`.
fn png_header<R: Read + Seek>(source: &mut ForwardReader<'_, R>) -> Result<Header, MediaError> {
    source.skip_to(PNG_SIGNATURE.len() as u64)?;
    let [l0, l1, l2, l3, t0, t1, t2, t3] = source.read_array()?;
    let ihdr_len = u32::from_be_bytes([l0, l1, l2, l3]);
    if [t0, t1, t2, t3] != *b"IHDR" || ihdr_len != 13 {
        return Err(MediaError::Malformed(
            "the PNG does not start with a 13-byte IHDR chunk".into(),
        ));
    }
    let ihdr: [u8; 13] = source.read_array()?;
    source.read_array::<4>()?; // CRC
    let width = u32::from_be_bytes([ihdr[0], ihdr[1], ihdr[2], ihdr[3]]);
    let height = u32::from_be_bytes([ihdr[4], ihdr[5], ihdr[6], ihdr[7]]);
    let [depth, colour, compression, filter, interlace] =
        [ihdr[8], ihdr[9], ihdr[10], ihdr[11], ihdr[12]];
    let bad = |what: String| MediaError::Malformed(format!("the PNG header (IHDR) {what}"));
    if width > i32::MAX as u32 || height > i32::MAX as u32 {
        return Err(bad(format!("gives a size of {width}x{height}")));
    }
    let depths: &[u8] = match colour {
        0 => &[1, 2, 4, 8, 16],
        3 => &[1, 2, 4, 8],
        2 | 4 | 6 => &[8, 16],
        _ => {
            return Err(bad(format!(
                "gives colour type {colour} (0, 2, 3, 4, 6 exist)"
            )));
        }
    };
    if !depths.contains(&depth) {
        return Err(bad(format!(
            "gives a bit depth of {depth} for colour type {colour} (allowed: {depths:?})"
        )));
    }
    if compression != 0 {
        return Err(bad(format!(
            "gives compression method {compression} (only 0 exists)"
        )));
    }
    if filter != 0 {
        return Err(bad(format!("gives filter method {filter} (only 0 exists)")));
    }
    if interlace > 1 {
        return Err(bad(format!(
            "gives interlace method {interlace} (0 or 1 exist)"
        )));
    }
    let mut orientation = None;
    for _ in 0..MAX_CHUNKS {
        if source.remaining() < 12 {
            break;
        }
        let [l0, l1, l2, l3, t0, t1, t2, t3] = source.read_array()?;
        let len = u64::from(u32::from_be_bytes([l0, l1, l2, l3]));
        let end = source.position().saturating_add(len).saturating_add(4);
        match &[t0, t1, t2, t3] {
            b"IDAT" | b"IEND" => break,
            b"eXIf" => {
                let take = len.min(EXIF_READ_CAP as u64).min(source.remaining());
                orientation = exif::orientation(&source.read_vec(take)?);
            }
            _ => {}
        }
        // A chunk running past the end is found by the end-marker check that follows.
        if end > source.len() {
            break;
        }
        source.skip_to(end)?;
    }
    Ok(Header {
        width,
        height,
        orientation,
    })
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
    let planes = u16_at(if u32_at(14)? == 12 { 22 } else { 26 })?;
    if planes != 1 {
        return Err(MediaError::Malformed(format!(
            "the BMP header gives {planes} colour planes (only 1 exists)"
        )));
    }
    if !matches!(bits_per_pixel, 1 | 4 | 8 | 16 | 24 | 32) {
        return Err(MediaError::Malformed(format!(
            "the BMP header gives {bits_per_pixel} bits per pixel"
        )));
    }
    // Uncompressed, run-length (8 and 4 bits) and bit fields: what decoders read.
    let compression_ok = match compression {
        0 | 3 => true,
        1 => bits_per_pixel == 8,
        2 => bits_per_pixel == 4,
        _ => false,
    };
    if !compression_ok {
        return Err(MediaError::Malformed(format!(
            "the BMP header gives compression {compression} with {bits_per_pixel} bits per pixel"
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

/// WEBP: size from the first chunk (lossy, lossless or extended), with its signature checked;
/// the EXIF orientation of an extended file; truncated when the RIFF size goes past the end.
fn webp<R: Read + Seek>(
    source: &mut ForwardReader<'_, R>,
    head: &[u8],
) -> Result<(Header, Option<String>), MediaError> {
    let len = source.len();
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
    let byte = |offset: usize| head.get(offset).copied().ok_or_else(short);
    let bad = |what: &str| MediaError::Malformed(format!("the WEBP {what}"));
    let mut orientation = None;
    let (width, height) = match &chunk {
        // Lossy: a key frame's tag, the start code, then 14-bit sizes whose top 2 bits are
        // scaling.
        b"VP8 " => {
            let tag = byte(20)?;
            if tag & 0x01 != 0 {
                return Err(bad("image is not a key frame"));
            }
            if (tag >> 1) & 0x07 > 3 {
                return Err(bad("image has an unknown VP8 version"));
            }
            if array_at::<3>(head, 23).ok_or_else(short)? != [0x9D, 0x01, 0x2A] {
                return Err(bad("image lacks the VP8 start code"));
            }
            (u32::from(le16(26)? & 0x3FFF), u32::from(le16(28)? & 0x3FFF))
        }
        // Lossless: after the 0x2F signature, 14 bits of width - 1, 14 of height - 1, one alpha
        // bit and a 3-bit version that must be 0.
        b"VP8L" => {
            if byte(20)? != 0x2F {
                return Err(bad("image lacks the lossless signature (0x2F)"));
            }
            let bits = array_at(head, 21)
                .map(u32::from_le_bytes)
                .ok_or_else(short)?;
            if bits >> 29 != 0 {
                return Err(bad("image has an unknown lossless version"));
            }
            ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        }
        // Extended: flags, then 24-bit canvas width - 1 and height - 1.
        b"VP8X" => {
            const EXIF_FLAG: u8 = 0x08;
            if byte(20)? & EXIF_FLAG != 0 {
                orientation = webp_exif(source)?;
            }
            (le24(24)? + 1, le24(27)? + 1)
        }
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
    Ok((
        Header {
            width,
            height,
            orientation,
        },
        truncated,
    ))
}

/// The orientation in the `EXIF` chunk of an extended WEBP, which comes after the image data:
/// the chunks before it are skipped, not read.
fn webp_exif<R: Read + Seek>(source: &mut ForwardReader<'_, R>) -> Result<Option<u8>, MediaError> {
    source.skip_to(12)?;
    for _ in 0..MAX_CHUNKS {
        if source.remaining() < 8 {
            break;
        }
        let [t0, t1, t2, t3, s0, s1, s2, s3] = source.read_array()?;
        let size = u64::from(u32::from_le_bytes([s0, s1, s2, s3]));
        // Chunks are padded to an even size.
        let end = source.position().saturating_add(size + (size & 1));
        if &[t0, t1, t2, t3] == b"EXIF" {
            let take = size.min(EXIF_READ_CAP as u64).min(source.remaining());
            let body = source.read_vec(take)?;
            // Some writers keep the JPEG-style "Exif\0\0" prefix.
            return Ok(exif::orientation_of_app1(&body).or_else(|| exif::orientation(&body)));
        }
        if end > source.len() {
            break;
        }
        source.skip_to(end)?;
    }
    Ok(None)
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

    /// A frame header body: precision, size, and one component per sampling byte (table 0).
    fn sof(precision: u8, height: u16, width: u16, sampling: &[u8]) -> Vec<u8> {
        let mut body = vec![precision];
        body.extend_from_slice(&height.to_be_bytes());
        body.extend_from_slice(&width.to_be_bytes());
        body.push(sampling.len() as u8);
        for (id, &factors) in sampling.iter().enumerate() {
            body.extend_from_slice(&[id as u8 + 1, factors, 0]);
        }
        body
    }

    /// SOI, an APP1 of `metadata_len` bytes, fill bytes, SOF0 for 640x480, scan data, EOI.
    fn jpeg(metadata_len: usize) -> Vec<u8> {
        let mut bytes = vec![0xFF, 0xD8];
        bytes.extend(segment(0xE1, &vec![0x11; metadata_len]));
        bytes.extend([0xFF, 0xFF]);
        bytes.extend(segment(0xC0, &sof(8, 480, 640, &[0x22, 0x11, 0x11])));
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
        file.extend(segment(0xC0, &sof(8, 10, 20, &[0x11])));
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

    /// A JPEG whose frame header (marker `sof_marker`) has `body`.
    fn jpeg_with_frame(sof_marker: u8, body: &[u8]) -> Vec<u8> {
        let mut file = vec![0xFF, 0xD8];
        file.extend(segment(sof_marker, body));
        file.extend(segment(0xDA, &[0; 10]));
        file.extend([0x55, 0x55, 0xFF, 0xD9]);
        file
    }

    fn malformed(bytes: &[u8], words: &str) {
        match probe_bytes(bytes) {
            Err(MediaError::Malformed(message)) => {
                assert!(message.contains(words), "{message:?} lacks {words:?}")
            }
            other => panic!("expected a malformed header ({words}), got {other:?}"),
        }
    }

    #[test]
    fn every_jpeg_frame_header_field_is_checked() {
        let good = jpeg_with_frame(0xC0, &sof(8, 48, 64, &[0x22, 0x11, 0x11]));
        assert_eq!(probe_bytes(&good).unwrap().width, 64);
        // 12-bit extended and progressive, 16-bit lossless, 4 components: all valid.
        for (marker, precision, components) in [(0xC1, 12, 3), (0xC2, 8, 4), (0xC3, 16, 1)] {
            let body = sof(precision, 48, 64, &vec![0x11; components]);
            assert!(
                probe_bytes(&jpeg_with_frame(marker, &body)).is_ok(),
                "{marker:X}"
            );
        }
        malformed(
            &jpeg_with_frame(0xC0, &sof(8, 48, 64, &[])),
            "0 colour components",
        );
        malformed(
            &jpeg_with_frame(0xC0, &sof(8, 48, 64, &[0x11; 5])),
            "5 colour components",
        );
        malformed(
            &jpeg_with_frame(0xC0, &sof(12, 48, 64, &[0x11])),
            "precision of 12",
        );
        malformed(
            &jpeg_with_frame(0xC2, &sof(9, 48, 64, &[0x11])),
            "precision of 9",
        );
        malformed(
            &jpeg_with_frame(0xC0, &sof(8, 48, 64, &[0x01])),
            "sampling factor of 0x1",
        );
        malformed(
            &jpeg_with_frame(0xC0, &sof(8, 48, 64, &[0x51])),
            "sampling factor of 5x1",
        );
        let mut table = sof(8, 48, 64, &[0x11]);
        table[8] = 4;
        malformed(&jpeg_with_frame(0xC0, &table), "quantisation table 4");
        let mut short = sof(8, 48, 64, &[0x11, 0x11]);
        short.truncate(10);
        malformed(&jpeg_with_frame(0xC0, &short), "take 12");
        malformed(&jpeg_with_frame(0xC0, &sof(8, 48, 0, &[0x11])), "0x48");
    }

    /// A PNG with the given IHDR fields, an IDAT and IEND.
    fn png(width: u32, height: u32, fields: [u8; 5]) -> Vec<u8> {
        let mut file = PNG_SIGNATURE.to_vec();
        file.extend_from_slice(b"\0\0\0\x0DIHDR");
        file.extend_from_slice(&width.to_be_bytes());
        file.extend_from_slice(&height.to_be_bytes());
        file.extend_from_slice(&fields);
        file.extend_from_slice(&[0; 4]);
        file.extend_from_slice(b"\0\0\0\x02IDAT\x78\x9C\0\0\0\0");
        file.extend_from_slice(PNG_END);
        file
    }

    #[test]
    fn every_png_header_field_is_checked() {
        for (depth, colour) in [(1, 0), (16, 0), (8, 2), (16, 2), (4, 3), (8, 4), (16, 6)] {
            let info = probe_bytes(&png(30, 20, [depth, colour, 0, 0, 1])).unwrap();
            assert_eq!((info.width, info.height), (30, 20));
        }
        malformed(&png(30, 20, [3, 0, 0, 0, 0]), "bit depth of 3");
        malformed(
            &png(30, 20, [4, 2, 0, 0, 0]),
            "bit depth of 4 for colour type 2",
        );
        malformed(
            &png(30, 20, [16, 3, 0, 0, 0]),
            "bit depth of 16 for colour type 3",
        );
        malformed(&png(30, 20, [8, 5, 0, 0, 0]), "colour type 5");
        malformed(&png(30, 20, [8, 2, 1, 0, 0]), "compression method 1");
        malformed(&png(30, 20, [8, 2, 0, 1, 0]), "filter method 1");
        malformed(&png(30, 20, [8, 2, 0, 0, 2]), "interlace method 2");
        malformed(&png(0, 20, [8, 2, 0, 0, 0]), "0x20");
        malformed(&png(1 << 31, 20, [8, 2, 0, 0, 0]), "size of 2147483648x20");
        let mut not_first = png(30, 20, [8, 2, 0, 0, 0]);
        not_first[12..16].copy_from_slice(b"gAMA");
        malformed(&not_first, "IHDR");
    }

    #[test]
    fn bmp_header_fields_are_checked() {
        let with = |planes: u16, bits: u16, compression: u32| {
            let mut file = bmp_header(54 + 24, 3, 2, bits);
            file[26..28].copy_from_slice(&planes.to_le_bytes());
            file[30..34].copy_from_slice(&compression.to_le_bytes());
            file.extend(vec![0; 24]);
            file
        };
        assert!(probe_bytes(&with(1, 24, 0)).is_ok());
        assert!(probe_bytes(&with(1, 8, 1)).is_ok());
        malformed(&with(2, 24, 0), "2 colour planes");
        malformed(&with(1, 7, 0), "7 bits per pixel");
        malformed(&with(1, 24, 1), "compression 1 with 24 bits");
        malformed(&with(1, 24, 4), "compression 4");
    }

    #[test]
    fn webp_signatures_are_checked() {
        let riff = |chunk: &[u8; 4], payload: &[u8]| {
            let mut bytes = b"RIFF".to_vec();
            bytes.extend_from_slice(&((payload.len() + 12) as u32).to_le_bytes());
            bytes.extend_from_slice(b"WEBP");
            bytes.extend_from_slice(chunk);
            bytes.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            bytes.extend_from_slice(payload);
            bytes
        };
        let lossy = |tag: u8, start_code: [u8; 3]| {
            let mut payload = vec![tag, 0, 0];
            payload.extend_from_slice(&start_code);
            payload.extend_from_slice(&400u16.to_le_bytes());
            payload.extend_from_slice(&300u16.to_le_bytes());
            payload.extend(vec![0; 20]);
            riff(b"VP8 ", &payload)
        };
        assert!(probe_bytes(&lossy(0, [0x9D, 0x01, 0x2A])).is_ok());
        malformed(&lossy(1, [0x9D, 0x01, 0x2A]), "not a key frame");
        malformed(&lossy(0x0E, [0x9D, 0x01, 0x2A]), "VP8 version");
        malformed(&lossy(0, [0x9D, 0x01, 0x2B]), "start code");
        let lossless = |signature: u8, bits: u32| {
            let mut payload = vec![signature];
            payload.extend_from_slice(&bits.to_le_bytes());
            payload.extend(vec![0; 20]);
            riff(b"VP8L", &payload)
        };
        assert!(probe_bytes(&lossless(0x2F, 99 | (49 << 14))).is_ok());
        malformed(&lossless(0x2E, 99), "signature");
        malformed(&lossless(0x2F, 99 | (1 << 29)), "lossless version");
    }

    fn exif_block(orientation: u16) -> Vec<u8> {
        let mut tiff = b"MM\0*\0\0\0\x08\0\x01".to_vec();
        tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
        tiff.extend_from_slice(&orientation.to_be_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        tiff
    }

    #[test]
    fn exif_orientation_of_jpeg_png_and_webp() {
        let mut app1 = b"Exif\0\0".to_vec();
        app1.extend(exif_block(6));
        let mut jpeg_file = vec![0xFF, 0xD8];
        jpeg_file.extend(segment(0xE1, &app1));
        jpeg_file.extend(jpeg(100)[2..].to_vec());
        let info = probe_bytes(&jpeg_file).unwrap();
        assert_eq!(info.exif_orientation, Some(6));
        assert_eq!(info.readings(), [(640, 480), (480, 640)]);
        assert_eq!(probe_bytes(&jpeg(100)).unwrap().exif_orientation, None);

        let plain = png(30, 20, [8, 2, 0, 0, 0]);
        let exif = exif_block(8);
        let mut chunk = (exif.len() as u32).to_be_bytes().to_vec();
        chunk.extend_from_slice(b"eXIf");
        chunk.extend_from_slice(&exif);
        chunk.extend_from_slice(&[0; 4]);
        let ihdr_end = 8 + 8 + 13 + 4;
        let with_exif = [&plain[..ihdr_end], &chunk, &plain[ihdr_end..]].concat();
        assert_eq!(probe_bytes(&with_exif).unwrap().exif_orientation, Some(8));
        // After the image data it does not count.
        let idat_end = plain.len() - PNG_END.len();
        let late = [&plain[..idat_end], &chunk, &plain[idat_end..]].concat();
        assert_eq!(probe_bytes(&late).unwrap().exif_orientation, None);

        // Extended WEBP: VP8X with the EXIF flag, an image chunk, then EXIF.
        let mut body = b"WEBPVP8X".to_vec();
        body.extend_from_slice(&10u32.to_le_bytes());
        body.extend_from_slice(&[0x08, 0, 0, 0, 29, 0, 0, 19, 0, 0]);
        body.extend_from_slice(b"VP8L");
        body.extend_from_slice(&5001u32.to_le_bytes());
        body.extend(vec![0; 5002]);
        body.extend_from_slice(b"EXIF");
        body.extend_from_slice(&(exif.len() as u32).to_le_bytes());
        body.extend_from_slice(&exif);
        let mut webp_file = b"RIFF".to_vec();
        webp_file.extend_from_slice(&(body.len() as u32).to_le_bytes());
        webp_file.extend(body);
        let info = probe_bytes(&webp_file).unwrap();
        assert_eq!(
            (info.width, info.height, info.exif_orientation),
            (30, 20, Some(8))
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
