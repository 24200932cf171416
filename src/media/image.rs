//! Image header reader.

use std::io::{Read, Seek};

use super::{ImageInfo, MediaError};

/// Reads an image header of a file of `len` bytes.
pub fn probe<R: Read + Seek>(_reader: &mut R, _len: u64) -> Result<ImageInfo, MediaError> {
    Err(MediaError::Malformed(
        "image probing is not implemented yet".into(),
    ))
}
