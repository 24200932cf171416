//! Media probing from headers only: ISO-BMFF (MP4/MOV) boxes and image headers, in pure Rust.
//!
//! Nothing here decodes pixels. ffmpeg is used only by the opt-in deep check and the fixers
//! ([`ffmpeg`]).

pub mod ffmpeg;
pub mod image;
pub mod mp4;
mod sniff;

use serde::Serialize;

pub use sniff::{Sniffed, sniff};

/// Bytes [`sniff`] wants to see to tell every format apart.
pub const SNIFF_LEN: usize = 64;

/// Image formats the platform accepts, and the ones we can recognise but it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageFormat {
    Jpeg,
    Png,
    Bmp,
    Webp,
    Gif,
    Tiff,
    Heif,
    Avif,
}

impl ImageFormat {
    /// True for the formats of spec §2.5 (BMP, JPEG, PNG, WEBP).
    pub fn accepted(self) -> bool {
        matches!(
            self,
            ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::Bmp | ImageFormat::Webp
        )
    }

    pub fn name(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "JPEG",
            ImageFormat::Png => "PNG",
            ImageFormat::Bmp => "BMP",
            ImageFormat::Webp => "WEBP",
            ImageFormat::Gif => "GIF",
            ImageFormat::Tiff => "TIFF",
            ImageFormat::Heif => "HEIF",
            ImageFormat::Avif => "AVIF",
        }
    }

    /// File extensions that name this format.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            ImageFormat::Jpeg => &["jpg", "jpeg"],
            ImageFormat::Png => &["png"],
            ImageFormat::Bmp => &["bmp"],
            ImageFormat::Webp => &["webp"],
            ImageFormat::Gif => &["gif"],
            ImageFormat::Tiff => &["tif", "tiff"],
            ImageFormat::Heif => &["heic", "heif"],
            ImageFormat::Avif => &["avif"],
        }
    }
}

/// Video containers: the two the platform accepts, and others we recognise to name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// ISO base media (`ftyp` with an mp4/isom family brand).
    Mp4,
    /// QuickTime (`ftyp` brand `qt  `, or classic files starting with `moov`/`mdat`/`wide`).
    QuickTime,
    Matroska,
    WebM,
    Avi,
    MpegTs,
    Flv,
}

impl Container {
    /// True for MP4 and MOV (spec §2.5).
    pub fn accepted(self) -> bool {
        matches!(self, Container::Mp4 | Container::QuickTime)
    }

    pub fn name(self) -> &'static str {
        match self {
            Container::Mp4 => "MP4",
            Container::QuickTime => "MOV",
            Container::Matroska => "Matroska",
            Container::WebM => "WebM",
            Container::Avi => "AVI",
            Container::MpegTs => "MPEG-TS",
            Container::Flv => "FLV",
        }
    }

    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Container::Mp4 => &["mp4", "m4v"],
            Container::QuickTime => &["mov", "qt"],
            Container::Matroska => &["mkv"],
            Container::WebM => &["webm"],
            Container::Avi => &["avi"],
            Container::MpegTs => &["ts", "mts", "m2ts"],
            Container::Flv => &["flv"],
        }
    }
}

/// What the headers of a video file say.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoInfo {
    pub container: Container,
    /// Sample-entry four-character code of the first video track (`avc1`, `hvc1`, `av01`…).
    pub codec_fourcc: Option<String>,
    /// Coded size from the sample entry.
    pub coded_width: u32,
    pub coded_height: u32,
    /// Size as displayed, after the track's rotation matrix is applied.
    pub width: u32,
    pub height: u32,
    /// Clockwise rotation in degrees from the track matrix (0, 90, 180, 270).
    pub rotation: u16,
    /// Seconds, from the video track's media header (falls back to the movie header).
    pub duration_s: Option<f64>,
    pub frame_count: Option<u64>,
    pub fps: Option<f64>,
    /// Set when the file is cut short: the reason, e.g. "sample data ends at byte N, file has M".
    pub truncated: Option<String>,
}

impl VideoInfo {
    /// True when the codec is H.264/AVC (`avc1` or `avc3`).
    pub fn is_h264(&self) -> bool {
        matches!(self.codec_fourcc.as_deref(), Some("avc1" | "avc3"))
    }

    /// A readable codec name for messages.
    pub fn codec_name(&self) -> &str {
        match self.codec_fourcc.as_deref() {
            Some("avc1" | "avc3") => "H.264",
            Some("hvc1" | "hev1") => "H.265/HEVC",
            Some("av01") => "AV1",
            Some("vp08") => "VP8",
            Some("vp09") => "VP9",
            Some("mp4v") => "MPEG-4 Part 2",
            Some("apcn" | "apch" | "apcs" | "apco" | "ap4h" | "ap4x") => "Apple ProRes",
            Some("jpeg" | "mjpa" | "mjpb") => "Motion JPEG",
            Some(other) => other,
            None => "unknown",
        }
    }
}

/// What the header of an image file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageInfo {
    pub format: ImageFormat,
    pub width: u32,
    pub height: u32,
    /// Set when the file is visibly cut short (missing end marker, size field larger than file).
    pub truncated: Option<String>,
}

/// Why a file could not be probed. Never a panic: every malformed input maps to one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MediaError {
    #[error("the file is empty (0 bytes)")]
    Empty,
    #[error("not a recognised {expected} file{}", describe_sniffed(.found))]
    Unrecognized {
        expected: &'static str,
        found: Option<String>,
    },
    #[error("{0} files are not accepted by the platform")]
    UnsupportedFormat(String),
    #[error("the file is truncated: {0}")]
    Truncated(String),
    #[error("malformed header: {0}")]
    Malformed(String),
    #[error("the file holds no video track")]
    NoVideoTrack,
    #[error("read failed: {0}")]
    Io(String),
}

fn describe_sniffed(found: &Option<String>) -> String {
    match found {
        Some(f) => format!(" (its bytes look like {f})"),
        None => String::new(),
    }
}

impl From<std::io::Error> for MediaError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            MediaError::Truncated("the file ends inside a header".into())
        } else {
            MediaError::Io(e.to_string())
        }
    }
}

/// The result of probing one media file.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum MediaInfo {
    Video(VideoInfo),
    Image(ImageInfo),
}

impl MediaInfo {
    /// Displayed width and height.
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            MediaInfo::Video(v) => (v.width, v.height),
            MediaInfo::Image(i) => (i.width, i.height),
        }
    }

    pub fn truncated(&self) -> Option<&str> {
        match self {
            MediaInfo::Video(v) => v.truncated.as_deref(),
            MediaInfo::Image(i) => i.truncated.as_deref(),
        }
    }
}

/// What a dataset field expects a file to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Video,
    Image,
}

/// Sniffs and probes a file. Placeholder dispatch until the media module lands.
pub fn probe<R: std::io::Read + std::io::Seek>(
    reader: &mut R,
    len: u64,
    expect: Expect,
) -> Result<MediaInfo, MediaError> {
    if len == 0 {
        return Err(MediaError::Empty);
    }
    match expect {
        Expect::Video => mp4::probe(reader, len).map(MediaInfo::Video),
        Expect::Image => image::probe(reader, len).map(MediaInfo::Image),
    }
}
