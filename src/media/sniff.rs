//! Recognising a file's real format from its first bytes (never from its extension).

use super::{Container, ImageFormat, array_at};

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Image(ImageFormat),
    Video(Container),
    /// Something recognisable that is not media, e.g. "a ZIP archive", "HTML text".
    Other(&'static str),
    Unknown,
}

impl Sniffed {
    /// A phrase naming what was found, for messages ("a PNG image"); `None` when unknown.
    pub fn describe(&self) -> Option<&'static str> {
        Some(match self {
            Sniffed::Image(format) => match format {
                ImageFormat::Jpeg => "a JPEG image",
                ImageFormat::Png => "a PNG image",
                ImageFormat::Bmp => "a BMP image",
                ImageFormat::Webp => "a WEBP image",
                ImageFormat::Gif => "a GIF image",
                ImageFormat::Tiff => "a TIFF image",
                ImageFormat::Heif => "a HEIF image",
                ImageFormat::Avif => "an AVIF image",
            },
            Sniffed::Video(container) => match container {
                Container::Mp4 => "an MP4 video",
                Container::QuickTime => "a MOV (QuickTime) video",
                Container::Matroska => "a Matroska video",
                Container::WebM => "a WebM video",
                Container::Avi => "an AVI video",
                Container::MpegTs => "an MPEG-TS video",
                Container::Flv => "an FLV video",
                Container::Asf => "an ASF (Windows Media) video",
                Container::MpegPs => "an MPEG program stream video",
            },
            Sniffed::Other(what) => what,
            Sniffed::Unknown => return None,
        })
    }
}

/// Identifies a format from the first [`super::SNIFF_LEN`] bytes (fewer is fine: formats whose
/// signature lies further in are then not recognised).
pub fn sniff(head: &[u8]) -> Sniffed {
    if let Some(found) = sniff_iso_bmff(head) {
        return found;
    }
    if let Some(found) = sniff_riff(head) {
        return found;
    }
    if let Some(&(_, found)) = MAGICS.iter().find(|(magic, _)| head.starts_with(magic)) {
        return found;
    }
    if head.starts_with(b"BM") && plausible_bmp(head) {
        return Sniffed::Image(ImageFormat::Bmp);
    }
    if head.starts_with(EBML_MAGIC) {
        // The document type is a short string early in the EBML header.
        let webm = head.windows(4).any(|w| w == b"webm");
        return Sniffed::Video(if webm {
            Container::WebM
        } else {
            Container::Matroska
        });
    }
    if transport_stream(head) {
        return Sniffed::Video(Container::MpegTs);
    }
    if is_html(head) {
        return Sniffed::Other("HTML text");
    }
    if is_text(head) {
        return Sniffed::Other("text");
    }
    Sniffed::Unknown
}

const EBML_MAGIC: &[u8] = b"\x1A\x45\xDF\xA3";

/// Signatures at offset 0.
const MAGICS: &[(&[u8], Sniffed)] = &[
    (b"\xFF\xD8\xFF", Sniffed::Image(ImageFormat::Jpeg)),
    (b"\x89PNG\r\n\x1A\n", Sniffed::Image(ImageFormat::Png)),
    (b"GIF87a", Sniffed::Image(ImageFormat::Gif)),
    (b"GIF89a", Sniffed::Image(ImageFormat::Gif)),
    (b"II*\0", Sniffed::Image(ImageFormat::Tiff)),
    (b"MM\0*", Sniffed::Image(ImageFormat::Tiff)),
    (b"II+\0", Sniffed::Image(ImageFormat::Tiff)),
    (b"MM\0+", Sniffed::Image(ImageFormat::Tiff)),
    (b"FLV\x01", Sniffed::Video(Container::Flv)),
    // The ASF header object's GUID.
    (
        b"\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\x00\xAA\x00\x62\xCE\x6C",
        Sniffed::Video(Container::Asf),
    ),
    // An MPEG-PS pack header.
    (b"\0\0\x01\xBA", Sniffed::Video(Container::MpegPs)),
    (b"PK\x03\x04", Sniffed::Other("a ZIP archive")),
    (b"PK\x05\x06", Sniffed::Other("a ZIP archive")),
    (b"%PDF-", Sniffed::Other("a PDF document")),
    (b"\x1F\x8B", Sniffed::Other("a gzip archive")),
    (b"7z\xBC\xAF\x27\x1C", Sniffed::Other("a 7-Zip archive")),
    (b"Rar!\x1A\x07", Sniffed::Other("a RAR archive")),
    (b"ID3", Sniffed::Other("an MP3 audio file")),
];

/// ISO base media files: `ftyp` first, or a classic QuickTime file starting with another box.
fn sniff_iso_bmff(head: &[u8]) -> Option<Sniffed> {
    let size = u32::from_be_bytes(array_at(head, 0)?);
    let kind: [u8; 4] = array_at(head, 4)?;
    // 0 = "to the end of the file", 1 = a 64-bit size follows; otherwise at least the header.
    if (2..8).contains(&size) {
        return None;
    }
    match &kind {
        b"ftyp" => {
            let major: [u8; 4] = array_at(head, 8)?;
            // Compatible brands follow the major brand and the minor version.
            let brands_end = (size as usize).clamp(16, head.len().max(16));
            let compatible = head.get(16..brands_end).unwrap_or_default();
            Some(classify_brands(&major, compatible))
        }
        b"moov" | b"mdat" | b"wide" | b"free" | b"skip" | b"pnot" => {
            Some(Sniffed::Video(Container::QuickTime))
        }
        _ => None,
    }
}

/// Tells HEIF/AVIF still images, QuickTime and MP4 apart by the `ftyp` brands. Any other brand is
/// still an ISO base media file, so it is reported as MP4 and probed as one.
fn classify_brands(major: &[u8; 4], compatible: &[u8]) -> Sniffed {
    const AVIF: &[&[u8; 4]] = &[b"avif", b"avis"];
    const HEIF: &[&[u8; 4]] = &[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"heif",
    ];
    const GENERIC_IMAGE: &[&[u8; 4]] = &[b"mif1", b"msf1", b"miaf"];
    let has_compatible = |set: &[&[u8; 4]]| {
        compatible
            .chunks_exact(4)
            .any(|brand| set.iter().any(|b| &b[..] == brand))
    };
    if AVIF.contains(&major) || (GENERIC_IMAGE.contains(&major) && has_compatible(AVIF)) {
        Sniffed::Image(ImageFormat::Avif)
    } else if HEIF.contains(&major) || GENERIC_IMAGE.contains(&major) {
        Sniffed::Image(ImageFormat::Heif)
    } else if major == b"qt  " {
        Sniffed::Video(Container::QuickTime)
    } else {
        Sniffed::Video(Container::Mp4)
    }
}

fn sniff_riff(head: &[u8]) -> Option<Sniffed> {
    if !head.starts_with(b"RIFF") {
        return None;
    }
    match &array_at::<4>(head, 8)? {
        b"WEBP" => Some(Sniffed::Image(ImageFormat::Webp)),
        b"AVI " => Some(Sniffed::Video(Container::Avi)),
        b"WAVE" => Some(Sniffed::Other("a WAV audio file")),
        _ => None,
    }
}

/// "BM" alone is too weak (text can start with it): also require a known DIB header size.
fn plausible_bmp(head: &[u8]) -> bool {
    match array_at(head, 14) {
        Some(dib) => matches!(
            u32::from_le_bytes(dib),
            12 | 16 | 40 | 52 | 56 | 64 | 108 | 124
        ),
        None => false,
    }
}

/// MPEG transport streams: 188-byte packets starting with the sync byte 0x47, or 192-byte
/// packets (M2TS) with a 4-byte timestamp before it.
fn transport_stream(head: &[u8]) -> bool {
    let sync_at = |offset: usize| head.get(offset) == Some(&0x47);
    (sync_at(0) && sync_at(188)) || (sync_at(4) && sync_at(196))
}

fn is_html(head: &[u8]) -> bool {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace());
    let Some(text) = start.map(|s| &text[s..]) else {
        return false;
    };
    [&b"<!doctype html"[..], b"<html"].iter().any(|tag| {
        text.get(..tag.len())
            .is_some_and(|t| t.eq_ignore_ascii_case(tag))
    })
}

/// UTF-8 without control characters other than whitespace. The head may cut a multi-byte
/// character in two, so an incomplete sequence at the very end is allowed.
fn is_text(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    let valid = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(e) if e.error_len().is_none() => {
            // Only the last few bytes are incomplete: `valid_up_to` is a char boundary.
            match std::str::from_utf8(&head[..e.valid_up_to()]) {
                Ok(text) => text,
                Err(_) => return false,
            }
        }
        Err(_) => return false,
    };
    valid
        .chars()
        .all(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t' | '\x0C'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
        let size = 16 + 4 * compatible.len();
        let mut bytes = (size as u32).to_be_bytes().to_vec();
        bytes.extend_from_slice(b"ftyp");
        bytes.extend_from_slice(major);
        bytes.extend_from_slice(&[0, 0, 2, 0]);
        for brand in compatible {
            bytes.extend_from_slice(*brand);
        }
        bytes
    }

    #[test]
    fn ftyp_brands() {
        let mp4 = Sniffed::Video(Container::Mp4);
        for major in [
            b"isom", b"iso2", b"iso6", b"mp41", b"mp42", b"avc1", b"M4V ", b"dash",
        ] {
            assert_eq!(sniff(&ftyp(major, &[b"isom"])), mp4, "{major:?}");
        }
        assert_eq!(
            sniff(&ftyp(b"qt  ", &[b"qt  "])),
            Sniffed::Video(Container::QuickTime)
        );
        let heif = Sniffed::Image(ImageFormat::Heif);
        assert_eq!(sniff(&ftyp(b"heic", &[b"mif1", b"heic"])), heif);
        assert_eq!(sniff(&ftyp(b"mif1", &[b"heic"])), heif);
        let avif = Sniffed::Image(ImageFormat::Avif);
        assert_eq!(sniff(&ftyp(b"avif", &[b"mif1"])), avif);
        assert_eq!(sniff(&ftyp(b"mif1", &[b"miaf", b"avif"])), avif);
    }

    #[test]
    fn classic_quicktime_starts_with_another_box() {
        for kind in [b"moov", b"mdat", b"wide", b"free", b"skip"] {
            let mut head = 8u32.to_be_bytes().to_vec();
            head.extend_from_slice(kind);
            assert_eq!(sniff(&head), Sniffed::Video(Container::QuickTime));
        }
        // A box size below its own header is not a box.
        assert_ne!(
            sniff(b"\0\0\0\x04moov"),
            Sniffed::Video(Container::QuickTime)
        );
    }

    #[test]
    fn riff_family() {
        assert_eq!(
            sniff(b"RIFF\x10\0\0\0WEBPVP8 "),
            Sniffed::Image(ImageFormat::Webp)
        );
        assert_eq!(
            sniff(b"RIFF\x10\0\0\0AVI LIST"),
            Sniffed::Video(Container::Avi)
        );
        assert_eq!(
            sniff(b"RIFF\x10\0\0\0WAVEfmt "),
            Sniffed::Other("a WAV audio file")
        );
    }

    #[test]
    fn image_magics() {
        assert_eq!(
            sniff(b"\xFF\xD8\xFF\xE0"),
            Sniffed::Image(ImageFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR"),
            Sniffed::Image(ImageFormat::Png)
        );
        assert_eq!(sniff(b"GIF89a\x01\0"), Sniffed::Image(ImageFormat::Gif));
        assert_eq!(sniff(b"II*\0\x08\0\0\0"), Sniffed::Image(ImageFormat::Tiff));
        assert_eq!(sniff(b"MM\0*\0\0\0\x08"), Sniffed::Image(ImageFormat::Tiff));
        let mut bmp = b"BM\0\0\0\0\0\0\0\0\x36\0\0\0".to_vec();
        bmp.extend_from_slice(&40u32.to_le_bytes());
        assert_eq!(sniff(&bmp), Sniffed::Image(ImageFormat::Bmp));
        assert_eq!(
            sniff(b"BMW owners club: a text file"),
            Sniffed::Other("text")
        );
    }

    #[test]
    fn matroska_and_webm_by_doc_type() {
        let mut mkv = EBML_MAGIC.to_vec();
        mkv.extend_from_slice(b"\x93\x42\x82\x88matroska");
        assert_eq!(sniff(&mkv), Sniffed::Video(Container::Matroska));
        let mut webm = EBML_MAGIC.to_vec();
        webm.extend_from_slice(b"\x93\x42\x82\x84webm");
        assert_eq!(sniff(&webm), Sniffed::Video(Container::WebM));
    }

    #[test]
    fn transport_streams_need_two_sync_bytes() {
        let mut ts = vec![0u8; 200];
        ts[0] = 0x47;
        assert_eq!(sniff(&ts), Sniffed::Unknown);
        ts[188] = 0x47;
        assert_eq!(sniff(&ts), Sniffed::Video(Container::MpegTs));
        let mut m2ts = vec![0u8; 200];
        m2ts[4] = 0x47;
        m2ts[196] = 0x47;
        assert_eq!(sniff(&m2ts), Sniffed::Video(Container::MpegTs));
    }

    #[test]
    fn non_media() {
        assert_eq!(sniff(b"PK\x03\x04\x14\0"), Sniffed::Other("a ZIP archive"));
        assert_eq!(sniff(b"%PDF-1.7\n"), Sniffed::Other("a PDF document"));
        assert_eq!(sniff(b"FLV\x01\x05"), Sniffed::Video(Container::Flv));
        assert_eq!(
            sniff(b"\x30\x26\xB2\x75\x8E\x66\xCF\x11\xA6\xD9\x00\xAA\x00\x62\xCE\x6C\x10"),
            Sniffed::Video(Container::Asf)
        );
        assert_eq!(
            sniff(b"\0\0\x01\xBA\x44\0\x04"),
            Sniffed::Video(Container::MpegPs)
        );
        assert_eq!(
            sniff(b"\n  <!DOCTYPE html><html>"),
            Sniffed::Other("HTML text")
        );
        assert_eq!(
            sniff("{\"prompt\": \"un chat \u{e9}\"}\n".as_bytes()),
            Sniffed::Other("text")
        );
        // A multi-byte character cut by the end of the head is still text.
        assert_eq!(sniff(&"caf\u{e9}".as_bytes()[..4]), Sniffed::Other("text"));
        assert_eq!(sniff(b"\0\x01\x02\x03binary"), Sniffed::Unknown);
        assert_eq!(sniff(b""), Sniffed::Unknown);
    }

    #[test]
    fn describe_names_what_was_found() {
        assert_eq!(
            Sniffed::Image(ImageFormat::Png).describe(),
            Some("a PNG image")
        );
        assert_eq!(
            Sniffed::Other("a ZIP archive").describe(),
            Some("a ZIP archive")
        );
        assert_eq!(Sniffed::Unknown.describe(), None);
    }
}
