//! Media probing from headers only: ISO-BMFF (MP4/MOV) boxes and image headers, in pure Rust.
//!
//! Nothing here decodes pixels. ffmpeg is used only by the opt-in deep check and the fixers
//! ([`ffmpeg`]).
//!
//! Probes read a handful of small pieces of each file and never seek backwards, so they are cheap
//! on plain files and on zip members inflated on the fly alike. They never panic and never
//! allocate by a length read from the file without checking it against the file's size first.

pub mod exif;
pub mod ffmpeg;
mod forward;
pub mod image;
pub mod mp4;
mod sniff;

use std::io::{Read, Seek};

use serde::Serialize;

use forward::ForwardReader;
pub use sniff::{Sniffed, sniff};

/// Bytes [`sniff`] wants to see to tell every format apart (MPEG-TS needs two sync bytes 188
/// bytes apart, M2TS 192).
pub const SNIFF_LEN: usize = 256;

/// What a file is supposed to be, by where the manifest uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Video,
    Image,
}

impl Expect {
    fn noun(self) -> &'static str {
        match self {
            Expect::Video => "video",
            Expect::Image => "image",
        }
    }
}

/// Probes a file of `len` bytes whose first byte is the reader's current position, by its content
/// (never its name).
///
/// The file is probed as what it really is: an image where a video is expected (or the reverse)
/// gives that image's [`MediaInfo`], so that rules can say "this is a PNG". `expect` only shapes
/// the error for files that are neither.
///
/// Reader contract: the reader is only ever read forward and seeked forward with
/// `SeekFrom::Current(n)`, `n > 0`; the bytes sniffed at the start are buffered, never re-read.
/// A forward-only stream (a zip member being inflated) is therefore fine.
pub fn probe<R: Read + Seek>(
    reader: &mut R,
    len: u64,
    expect: Expect,
) -> Result<MediaInfo, MediaError> {
    if len == 0 {
        return Err(MediaError::Empty);
    }
    let mut source = ForwardReader::new(reader, len);
    let sniffed = sniff(source.peek(SNIFF_LEN)?);
    match sniffed {
        Sniffed::Video(Container::Mp4 | Container::QuickTime) => {
            mp4::probe_from(&mut source).map(MediaInfo::Video)
        }
        Sniffed::Video(other) => Err(MediaError::UnsupportedFormat(other.name().into())),
        Sniffed::Image(_) => image::probe_from(&mut source).map(MediaInfo::Image),
        Sniffed::Other(_) | Sniffed::Unknown => Err(MediaError::Unrecognized {
            expected: expect.noun(),
            found: sniffed.describe().map(String::from),
        }),
    }
}

/// `N` bytes of `data` at `offset`, or `None` when `data` is too short.
pub(crate) fn array_at<const N: usize>(data: &[u8], offset: usize) -> Option<[u8; N]> {
    data.get(offset..offset.checked_add(N)?)?.try_into().ok()
}

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// ISO base media (`ftyp` with an mp4/isom family brand).
    #[default]
    Mp4,
    /// QuickTime (`ftyp` brand `qt  `, or classic files starting with `moov`/`mdat`/`wide`).
    QuickTime,
    Matroska,
    WebM,
    Avi,
    MpegTs,
    Flv,
    /// Advanced Systems Format (`.wmv`, `.asf`).
    Asf,
    /// MPEG program stream (`.mpg`, `.vob`).
    MpegPs,
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
            Container::Asf => "ASF",
            Container::MpegPs => "MPEG-PS",
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
            Container::Asf => &["wmv", "asf"],
            Container::MpegPs => &["mpg", "mpeg", "vob"],
        }
    }
}

/// What the headers of a video file say.
///
/// Timing is the presented one (spec §8.12): the video track's edit list applied, as ffprobe
/// reports the video stream and as ffmpeg decodes it.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct VideoInfo {
    pub container: Container,
    /// Sample-entry four-character code of the first video track (`avc1`, `hvc1`, `av01`…).
    pub codec_fourcc: Option<String>,
    /// Coded size from the sample entry: what a decoder hands the trainer. Pixel-count rules
    /// (`max_pixels`, 4096 px) use it.
    pub coded_width: u32,
    pub coded_height: u32,
    /// Size after the track's rotation matrix is applied (pixels as coded, turned).
    pub width: u32,
    pub height: u32,
    /// Size as displayed: the sample aspect ratio (`pasp`) applied to the width, then the
    /// rotation. Aspect rules use it.
    pub display_width: u32,
    pub display_height: u32,
    /// `pasp` horizontal:vertical pixel spacing, when the pixels are not square.
    pub pixel_aspect: Option<[u32; 2]>,
    /// Clockwise rotation in degrees from the track matrix (0, 90, 180, 270).
    pub rotation: u16,
    /// Presented seconds: the edit list applied (what the platform bills; spec §8.12).
    pub duration_s: Option<f64>,
    /// Presented frames: those the edit list shows, as ffmpeg decodes them.
    pub frame_count: Option<u64>,
    /// Frames per second of the samples (their count over their total duration).
    pub fps: Option<f64>,
    /// Samples stored in the track, hidden ones included.
    pub sample_count: Option<u64>,
    /// Seconds of the stored samples, before the edit list.
    pub media_duration_s: Option<f64>,
    /// The container's duration (`mvhd`, else the longest track): it includes audio and other
    /// tracks, and can differ from the video stream's.
    pub container_duration_s: Option<f64>,
    /// Seconds shown without a picture before the first frame (a leading empty edit).
    pub leading_gap_s: Option<f64>,
    /// Samples of the track last different lengths (beyond the last one).
    pub variable_frame_rate: bool,
    /// Timing that makes no sense (zero timescales, a sample longer than the track, tables
    /// that disagree…), one description each.
    pub timing_problems: Vec<String>,
    /// Why the decoder configuration (`avcC`/`hvcC`) cannot be read, when it cannot.
    pub codec_config_problem: Option<String>,
    /// Set when the file is cut short: the reason, e.g. "sample data ends at byte N, file has M".
    pub truncated: Option<String>,
    /// The sample entry is `encv` (encrypted, e.g. DRM); `codec_fourcc` is then the original
    /// format named by its `sinf/frma` box, when present.
    pub encrypted: bool,
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
    /// Size as stored.
    pub width: u32,
    pub height: u32,
    /// EXIF orientation (1–8: JPEG `APP1`, PNG `eXIf`, WebP `EXIF`), when the image has one.
    pub exif_orientation: Option<u8>,
    /// Set when the file is visibly cut short (missing end marker, size field larger than file).
    pub truncated: Option<String>,
}

impl ImageInfo {
    /// The sizes the image may be shown at: as stored, and turned when its EXIF orientation
    /// turns it by 90° (whether the platform applies EXIF is undocumented, spec §8.12).
    pub fn readings(&self) -> Vec<(u32, u32)> {
        let mut readings = vec![(self.width, self.height)];
        if self.exif_orientation.is_some_and(exif::swaps_sides) {
            readings.push((self.height, self.width));
        }
        readings
    }
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
// One per media file, held once: the size difference costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum MediaInfo {
    Video(VideoInfo),
    Image(ImageInfo),
}

impl MediaInfo {
    /// Displayed width and height: for a clip, its pixel aspect and rotation applied; for an
    /// image, as stored (see [`ImageInfo::readings`] for its EXIF reading).
    pub fn dimensions(&self) -> (u32, u32) {
        match self {
            MediaInfo::Video(v) => (v.display_width, v.display_height),
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
