//! ISO base media (MP4/MOV) header reader.

use std::io::{Read, Seek};

use super::{MediaError, VideoInfo};

/// Reads the box structure of an MP4/MOV file of `len` bytes and describes its first video track.
pub fn probe<R: Read + Seek>(_reader: &mut R, _len: u64) -> Result<VideoInfo, MediaError> {
    Err(MediaError::Malformed(
        "mp4 probing is not implemented yet".into(),
    ))
}
