//! Helpers shared by the integration tests: real media fixtures made with ffmpeg, and ffprobe's
//! view of them to check the probes against.
//!
//! Each test crate uses only part of this module.
#![allow(dead_code)]

pub mod ffprobe;
pub mod fixtures;
