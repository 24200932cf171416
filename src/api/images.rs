//! Input images of a generation call (spec §6.18, §6.19): a URL passed through, or a local file
//! checked the way the platform checks it and sent inline as a `data:` URL.

use std::io::Cursor;
use std::path::Path;

use base64::Engine;

use super::error::ApiError;
use crate::media::{self, Expect, ImageFormat, MediaInfo};

/// Each side of an input image, in pixels.
pub use crate::models::synthesis::IMAGE_SIDE_PIXELS as SIDE_RANGE;

/// The value to send for `arg`: an `http(s)://`, `oss://` or `data:` URL unchanged, else the
/// local image at that path as a `data:` URL, once it passes the platform's rules.
pub fn image_url(arg: &str, max_bytes: u64) -> Result<String, ApiError> {
    let trimmed = arg.trim();
    let is_url = ["http://", "https://", "oss://", "data:"]
        .iter()
        .any(|scheme| trimmed.starts_with(scheme));
    if is_url {
        return Ok(trimmed.to_owned());
    }
    let path = Path::new(arg);
    let invalid = |why: String| ApiError::Invalid(format!("{}: {why}", path.display()));
    // A huge file is refused before it is loaded; a FIFO or device, before it is opened.
    let bytes = crate::small_file::read(path, max_bytes).map_err(|e| match e {
        crate::small_file::ReadError::TooLarge { .. } => {
            let size = std::fs::metadata(path).map_or(0, |m| m.len());
            invalid(format!("{size} bytes; the limit is {max_bytes} bytes"))
        }
        crate::small_file::ReadError::NotRegular { .. } => invalid("not a file".into()),
        e => ApiError::local(format!("cannot read {}", path.display()), e.into()),
    })?;
    data_url(&bytes, &path.display().to_string(), max_bytes)
}

/// The image `bytes` (named `name` in messages) as a `data:` URL, once it passes the platform's
/// rules.
pub fn data_url(bytes: &[u8], name: &str, max_bytes: u64) -> Result<String, ApiError> {
    let invalid = |why: String| ApiError::Invalid(format!("{name}: {why}"));
    if bytes.len() as u64 > max_bytes {
        return Err(invalid(format!(
            "{} bytes; the limit is {max_bytes} bytes",
            bytes.len()
        )));
    }
    let format = check_image(bytes).map_err(invalid)?;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    Ok(format!("data:{};base64,{encoded}", mime(format)))
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
