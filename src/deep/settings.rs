//! The thresholds of the decode-level rules: `[deep]` in wanft.toml, every key optional.
//!
//! Measures are taken on frames scaled down to fit 160×160 pixels (display aspect kept), in
//! luma levels 0–255 unless said otherwise. The defaults are tuned so that clean footage passes
//! and each rule's fixture in `tests/check_rules.rs` triggers it.

use serde::{Deserialize, Deserializer, Serialize};

/// `[deep]`: thresholds of the `D` rules (`wanft check --deep`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// D001/D002: a first or last-frame image less similar than this to its frame (SSIM, 0–1)
    /// is reported.
    #[serde(deserialize_with = "fraction")]
    pub frame_similarity: f64,
    /// D001/D002: a matching image whose colours differ from the frame's by more than this
    /// (mean absolute difference of R, G and B, 0–255) was re-graded.
    #[serde(deserialize_with = "level")]
    pub frame_colour_difference: f64,
    /// D003: a frame that differs from the one before by more than this (mean absolute luma
    /// difference, 0–255)…
    #[serde(deserialize_with = "level")]
    pub cut_difference: f64,
    /// …and by this many times more than the frames around it starts a new shot.
    #[serde(deserialize_with = "positive")]
    pub cut_ratio: f64,
    /// D004: a clip whose picture never moves further than this from its first frame (mean
    /// absolute change of 8×8-pixel block means, 0–255) is static.
    #[serde(deserialize_with = "level")]
    pub static_motion: f64,
    /// D005: a pixel at or below this luma is black…
    #[serde(deserialize_with = "level")]
    pub black_luma: f64,
    /// …and a frame with at least this share of black pixels is a black frame.
    #[serde(deserialize_with = "fraction")]
    pub black_share: f64,
    /// D006: rows or columns at the edge that stay at or below this luma in every frame are a
    /// bar…
    #[serde(deserialize_with = "level")]
    pub bar_luma: f64,
    /// …when they cover at least this share of the picture's height (or width).
    #[serde(deserialize_with = "fraction")]
    pub bar_min_share: f64,
    /// D007: pixels that vary by no more than this over the whole clip, while most of the
    /// picture moves, are part of a static overlay…
    #[serde(deserialize_with = "level")]
    pub overlay_range: f64,
    /// …when they form a region covering between `overlay_min_share` and `overlay_max_share`
    /// of the picture.
    #[serde(deserialize_with = "fraction")]
    pub overlay_min_share: f64,
    #[serde(deserialize_with = "fraction")]
    pub overlay_max_share: f64,
    /// D008–D010: two pictures are the same when their 128-bit difference hashes differ in at
    /// most this many bits.
    pub duplicate_bits: u32,
    /// D008: a clip is a duplicate of another when at least this share of its sampled frames
    /// appear in the other.
    #[serde(deserialize_with = "fraction")]
    pub duplicate_share: f64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            frame_similarity: 0.75,
            frame_colour_difference: 12.0,
            cut_difference: 25.0,
            cut_ratio: 4.0,
            static_motion: 2.0,
            black_luma: 24.0,
            black_share: 0.98,
            bar_luma: 24.0,
            bar_min_share: 0.03,
            overlay_range: 10.0,
            overlay_min_share: 0.002,
            overlay_max_share: 0.12,
            duplicate_bits: 12,
            duplicate_share: 0.8,
        }
    }
}

impl Settings {
    /// The `[deep]` keys that set rule `code`'s thresholds (none for other rules).
    pub fn keys_of(code: &str) -> &'static [&'static str] {
        match code {
            "D001" | "D002" => &["frame_similarity", "frame_colour_difference"],
            "D003" => &["cut_difference", "cut_ratio"],
            "D004" => &["static_motion"],
            "D005" => &["black_luma", "black_share"],
            "D006" => &["bar_luma", "bar_min_share"],
            "D007" => &["overlay_range", "overlay_min_share", "overlay_max_share"],
            "D008" => &["duplicate_bits", "duplicate_share"],
            "D009" | "D010" => &["duplicate_bits"],
            _ => &[],
        }
    }

    /// Rule `code`'s thresholds as `key = value` lines of wanft.toml, with these settings'
    /// values.
    pub fn lines_of(&self, code: &str) -> Vec<String> {
        let all = toml::to_string(self).unwrap_or_default();
        Self::keys_of(code)
            .iter()
            .filter_map(|key| {
                all.lines()
                    .find(|line| line.split_once(" = ").is_some_and(|(k, _)| k == *key))
                    .map(str::to_string)
            })
            .collect()
    }
}

fn bounded<'de, D: Deserializer<'de>>(
    d: D,
    low: f64,
    high: f64,
    what: &str,
) -> Result<f64, D::Error> {
    let value = f64::deserialize(d)?;
    if value.is_finite() && (low..=high).contains(&value) {
        Ok(value)
    } else {
        Err(serde::de::Error::custom(format!(
            "{value} is not {what} ({low} to {high})"
        )))
    }
}

fn fraction<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    bounded(d, 0.0, 1.0, "a share")
}

fn level<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    bounded(d, 0.0, 255.0, "a level")
}

fn positive<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    bounded(d, 1.0, 1000.0, "a ratio")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_optional_checked_and_known() {
        let s: Settings = toml::from_str("cut_ratio = 6.0\nduplicate_bits = 8").unwrap();
        assert_eq!(s.cut_ratio, 6.0);
        assert_eq!(s.duplicate_bits, 8);
        assert_eq!(s.black_luma, Settings::default().black_luma);
        let bad = toml::from_str::<Settings>("frame_similarity = 1.5").unwrap_err();
        assert!(bad.to_string().contains("not a share"), "{bad}");
        assert!(toml::from_str::<Settings>("cut_treshold = 3.0").is_err());
    }

    #[test]
    fn every_key_belongs_to_a_rule_and_shows_its_value() {
        let defaults = Settings::default();
        let all = toml::to_string(&defaults).unwrap();
        let codes: Vec<String> = (1..=10).map(|n| format!("D{n:03}")).collect();
        for line in all.lines() {
            assert!(
                codes
                    .iter()
                    .any(|c| defaults.lines_of(c).contains(&line.to_string())),
                "`{line}` belongs to no rule"
            );
        }
        assert_eq!(defaults.lines_of("D004"), ["static_motion = 2.0"]);
        assert!(defaults.lines_of("M001").is_empty());
    }
}
