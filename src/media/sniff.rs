//! Recognising a file's real format from its first bytes (never from its extension).

use super::{Container, ImageFormat};

/// What the first bytes of a file say it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sniffed {
    Image(ImageFormat),
    Video(Container),
    /// Something recognisable that is not media, e.g. "a ZIP archive", "HTML text".
    Other(&'static str),
    Unknown,
}

/// Identifies a format from the first [`super::SNIFF_LEN`] bytes (fewer is fine).
pub fn sniff(head: &[u8]) -> Sniffed {
    // Placeholder until the media module lands: only the most common magics.
    if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Sniffed::Image(ImageFormat::Jpeg)
    } else if head.starts_with(b"\x89PNG\r\n\x1a\n") {
        Sniffed::Image(ImageFormat::Png)
    } else if head.len() >= 8 && &head[4..8] == b"ftyp" {
        Sniffed::Video(Container::Mp4)
    } else {
        Sniffed::Unknown
    }
}
