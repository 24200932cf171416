//! What ffprobe says about a file: the reference the probes are checked against.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

/// The first video stream as ffprobe reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoStream {
    /// Coded size (ffprobe does not apply the rotation).
    pub width: u32,
    pub height: u32,
    pub codec_tag: String,
    pub frames: Option<u64>,
    pub duration_s: Option<f64>,
    pub avg_fps: Option<f64>,
    /// Clockwise display rotation in degrees, 0..360 (ffprobe reports it counter-clockwise).
    pub rotation: u16,
}

/// Runs ffprobe on the first video stream of `path`.
pub fn video_stream(path: &Path) -> VideoStream {
    let json = run(
        path,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height,codec_tag_string,nb_frames,duration,avg_frame_rate:\
             stream_side_data=rotation",
        ],
    );
    let stream = &json["streams"][0];
    let rotation_ccw = stream["side_data_list"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|side| side["rotation"].as_i64())
        .unwrap_or(0);
    VideoStream {
        width: number(&stream["width"]).expect("ffprobe width") as u32,
        height: number(&stream["height"]).expect("ffprobe height") as u32,
        codec_tag: stream["codec_tag_string"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        frames: number(&stream["nb_frames"]).map(|n| n as u64),
        duration_s: number(&stream["duration"]),
        avg_fps: stream["avg_frame_rate"].as_str().and_then(ratio),
        rotation: (-rotation_ccw).rem_euclid(360) as u16,
    }
}

/// The number of frames of the first video stream, by decoding it (for files whose headers do
/// not say, such as fragmented MP4).
pub fn decoded_frames(path: &Path) -> u64 {
    let json = run(
        path,
        &[
            "-count_frames",
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=nb_read_frames",
        ],
    );
    number(&json["streams"][0]["nb_read_frames"]).expect("ffprobe frame count") as u64
}

/// The width and height of the first video stream (for images, the picture).
pub fn dimensions(path: &Path) -> (u32, u32) {
    let json = run(
        path,
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=width,height",
        ],
    );
    let stream = &json["streams"][0];
    (
        number(&stream["width"]).expect("ffprobe width") as u32,
        number(&stream["height"]).expect("ffprobe height") as u32,
    )
}

fn run(path: &Path, args: &[&str]) -> Value {
    let output = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(path)
        .output()
        .expect("ffprobe is required by the media tests: install ffmpeg (apt-get install ffmpeg)");
    assert!(
        output.status.success(),
        "ffprobe failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("ffprobe prints JSON")
}

/// ffprobe prints some numbers as strings ("24", "1.000000").
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// "30000/1001" → 29.97; "0/0" → None.
fn ratio(text: &str) -> Option<f64> {
    let (numerator, denominator) = text.split_once('/')?;
    let (numerator, denominator): (f64, f64) = (numerator.parse().ok()?, denominator.parse().ok()?);
    (denominator != 0.0 && numerator != 0.0).then(|| numerator / denominator)
}
