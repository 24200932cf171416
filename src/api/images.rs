//! Input images of a generation call (spec §6.18, §6.19, §8.7): a URL passed through, or a
//! local file checked the way the platform checks it, then sent as a temporary upload
//! (`oss://`, the official clients' way) or inline as a `data:` URL (the fallback: a third
//! larger, and counted against the 10/20 MB limits).

use std::io::Cursor;
use std::path::Path;

use base64::Engine;

use super::client::Client;
use super::error::ApiError;
use super::temporary;
use crate::media::{self, Expect, ImageFormat, MediaInfo};

/// Each side of an input image, in pixels.
pub use crate::models::synthesis::IMAGE_SIDE_PIXELS as SIDE_RANGE;

/// What `--image` named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// An `http(s)://`, `oss://` or `data:` URL, sent as it is.
    Url(String),
    /// A local image that passed the platform's rules.
    Local(LocalImage),
}

/// A local image, read and checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalImage {
    /// Its file name, for the upload.
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub format: ImageFormat,
}

impl LocalImage {
    /// The image `bytes` (named `file_name`), once it passes the platform's rules (format,
    /// alpha, sides, at most `max_bytes`): for images read from a dataset rather than a path.
    pub fn from_bytes(
        file_name: &str,
        bytes: Vec<u8>,
        max_bytes: u64,
    ) -> Result<LocalImage, ApiError> {
        let invalid = |why: String| ApiError::Invalid(format!("{file_name}: {why}"));
        if bytes.len() as u64 > max_bytes {
            return Err(invalid(format!(
                "{} bytes; the limit is {max_bytes} bytes",
                bytes.len()
            )));
        }
        let format = check_image(&bytes).map_err(invalid)?;
        Ok(LocalImage {
            file_name: file_name.to_owned(),
            bytes,
            format,
        })
    }

    pub fn mime(&self) -> &'static str {
        mime(self.format)
    }

    /// The image inline, as `data:<mime>;base64,…`.
    pub fn data_url(&self) -> String {
        let encoded = base64::engine::general_purpose::STANDARD.encode(&self.bytes);
        format!("data:{};base64,{encoded}", self.mime())
    }
}

/// Reads `arg`: a URL as it is, else the local image at that path once it passes the
/// platform's rules (format, alpha, sides, at most `max_bytes`).
pub fn read_image(arg: &str, max_bytes: u64) -> Result<ImageSource, ApiError> {
    let trimmed = arg.trim();
    let is_url = ["http://", "https://", "oss://", "data:"]
        .iter()
        .any(|scheme| trimmed.starts_with(scheme));
    if is_url {
        return Ok(ImageSource::Url(trimmed.to_owned()));
    }
    let path = Path::new(arg);
    let invalid = |why: String| ApiError::Invalid(format!("{}: {why}", path.display()));
    let metadata = std::fs::metadata(path)
        .map_err(|e| ApiError::local(format!("cannot read {}", path.display()), e))?;
    if !metadata.is_file() {
        return Err(invalid("not a file".into()));
    }
    // Checked before reading, so a huge file is never loaded.
    if metadata.len() > max_bytes {
        return Err(invalid(format!(
            "{} bytes; the limit is {max_bytes} bytes",
            metadata.len()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ApiError::local(format!("cannot read {}", path.display()), e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(invalid(format!(
            "{} bytes; the limit is {max_bytes} bytes",
            bytes.len()
        )));
    }
    let format = check_image(&bytes).map_err(invalid)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(ImageSource::Local(LocalImage {
        file_name,
        bytes,
        format,
    }))
}

/// The value to send for `arg`: a URL unchanged, else the checked local image as a `data:` URL.
pub fn image_url(arg: &str, max_bytes: u64) -> Result<String, ApiError> {
    Ok(match read_image(arg, max_bytes)? {
        ImageSource::Url(url) => url,
        ImageSource::Local(image) => image.data_url(),
    })
}

/// How local images reach the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalImages {
    /// A temporary upload (`oss://`), falling back to inline when the platform offers none.
    Upload,
    /// Inline as a `data:` URL.
    Inline,
}

/// A frame ready to send, and what the user should know about how it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreparedImage {
    pub url: String,
    pub note: Option<String>,
}

/// The value to send for `arg` in a call to the deployment `model`: a URL unchanged; a local
/// image uploaded temporarily (`oss://`) or, with [`LocalImages::Inline`] or when the platform
/// refuses the upload policy, inline.
pub async fn prepare_image(
    client: &Client,
    model: &str,
    arg: &str,
    max_bytes: u64,
    how: LocalImages,
) -> Result<PreparedImage, ApiError> {
    match read_image(arg, max_bytes)? {
        ImageSource::Url(url) => Ok(PreparedImage { url, note: None }),
        ImageSource::Local(image) => prepare_local(client, model, &image, how).await,
    }
}

/// A checked local image as it is sent to the deployment `model` (see [`prepare_image`]).
pub async fn prepare_local(
    client: &Client,
    model: &str,
    image: &LocalImage,
    how: LocalImages,
) -> Result<PreparedImage, ApiError> {
    if how == LocalImages::Inline {
        return Ok(PreparedImage {
            url: image.data_url(),
            note: None,
        });
    }
    match temporary::upload(client, model, image).await {
        Ok(url) => Ok(PreparedImage { url, note: None }),
        // No upload policy offered (refused or unknown here): inline still works.
        Err(temporary::UploadError::Policy(e))
            if e.http()
                .is_some_and(|f| matches!(f.status, 400 | 403 | 404)) =>
        {
            Ok(PreparedImage {
                url: image.data_url(),
                note: Some(format!(
                    "no temporary upload for {} ({e}); it is sent inline as a data: URL",
                    image.file_name
                )),
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// The image's format, if the platform takes it: JPEG, PNG without alpha, BMP or WEBP, each
/// side within [`SIDE_RANGE`].
fn check_image(bytes: &[u8]) -> Result<ImageFormat, String> {
    let info = match media::probe(&mut Cursor::new(bytes), bytes.len() as u64, Expect::Image) {
        Ok(MediaInfo::Image(info)) => info,
        Ok(MediaInfo::Video(_)) => return Err("a video, not an image".into()),
        Err(e) => return Err(e.to_string()),
    };
    if !info.format.accepted() {
        return Err(format!(
            "a {} image; the platform takes JPEG, PNG, BMP and WEBP",
            info.format.name()
        ));
    }
    if info.format == ImageFormat::Png && crate::media::image::png_has_alpha(bytes) {
        return Err("a PNG with an alpha channel, which the platform refuses".into());
    }
    for side in [info.width, info.height] {
        if !SIDE_RANGE.contains(&side) {
            return Err(format!(
                "{}×{} pixels; each side must be {} to {} pixels",
                info.width,
                info.height,
                SIDE_RANGE.start(),
                SIDE_RANGE.end()
            ));
        }
    }
    Ok(info.format)
}

/// PNG colour types 4 (grey + alpha) and 6 (RGBA), from the IHDR chunk.
fn mime(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "image/png",
        ImageFormat::Bmp => "image/bmp",
        ImageFormat::Webp => "image/webp",
        _ => "image/jpeg",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32, colour_type: u8) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR".to_vec();
        png.extend_from_slice(&width.to_be_bytes());
        png.extend_from_slice(&height.to_be_bytes());
        png.extend_from_slice(&[8, colour_type, 0, 0, 0]);
        png.extend_from_slice(&[0; 4]); // CRC (not checked)
        png.extend_from_slice(b"\0\0\0\0IEND\xae\x42\x60\x82");
        png
    }

    #[test]
    fn urls_pass_through_and_files_are_checked() {
        assert_eq!(
            image_url(" https://x/y.png ", 10).unwrap(),
            "https://x/y.png"
        );
        assert_eq!(image_url("oss://b/k", 10).unwrap(), "oss://b/k");
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.png");
        std::fs::write(&good, png(320, 240, 2)).unwrap();
        let url = image_url(good.to_str().unwrap(), 1 << 20).unwrap();
        assert!(
            url.starts_with("data:image/png;base64,iVBORw0KGgo"),
            "{url}"
        );

        let cases = [
            (png(320, 240, 6), "alpha"),
            (png(100, 240, 2), "100×240"),
            (b"GIF89a\x40\x01\xf0\x00".to_vec(), "GIF"),
            (b"hello".to_vec(), "image"),
        ];
        for (bytes, why) in cases {
            let path = dir.path().join("bad.png");
            std::fs::write(&path, &bytes).unwrap();
            let err = image_url(path.to_str().unwrap(), 1 << 20)
                .unwrap_err()
                .to_string();
            assert!(err.contains(why), "{why}: {err}");
        }
        let err = image_url(good.to_str().unwrap(), 10)
            .unwrap_err()
            .to_string();
        assert!(err.contains("the limit is 10 bytes"), "{err}");
        assert!(image_url(dir.path().join("missing.png").to_str().unwrap(), 10).is_err());
    }
}
