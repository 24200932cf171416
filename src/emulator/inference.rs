//! Inference facts per base model (spec §6.18, §6.19, §7.3) that the model table does not carry.
//!
//! These belong in `crate::models` as soon as the table grows an inference section; until then
//! they live here, in one place, keyed by model name.

use crate::models::ModelProfile;

/// Limits of one base model's video-synthesis calls, which its LoRA deployments inherit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InferenceLimits {
    /// Largest input image (decoded `data:` URL), in bytes.
    pub max_image_bytes: usize,
    /// Accepted `parameters.duration` values, in seconds.
    pub durations: &'static [u32],
    pub default_duration: u32,
    /// Submissions per second (spec §7.3; enforced with `--enforce-rate-limits`).
    pub submits_per_second: u32,
    /// Tasks in flight at once (spec §7.3; enforced with `--enforce-rate-limits`).
    pub concurrent_tasks: usize,
}

const MB: usize = 1024 * 1024;
const TWO_TO_FIFTEEN: [u32; 14] = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// Inference limits of `model`.
pub fn limits(model: &ModelProfile) -> InferenceLimits {
    match model.name {
        "wan2.2-i2v-flash" | "wan2.2-kf2v-flash" => InferenceLimits {
            max_image_bytes: 10 * MB,
            durations: &[5],
            default_duration: 5,
            submits_per_second: 2,
            concurrent_tasks: 2,
        },
        "wan2.5-i2v-preview" => InferenceLimits {
            max_image_bytes: 20 * MB,
            durations: &[5, 10],
            default_duration: 5,
            submits_per_second: 5,
            concurrent_tasks: 5,
        },
        // wan2.6-i2v as documented; wan2.7-i2v is undocumented and assumed to match it.
        _ => InferenceLimits {
            max_image_bytes: 20 * MB,
            durations: &TWO_TO_FIFTEEN,
            default_duration: 5,
            submits_per_second: 5,
            concurrent_tasks: 5,
        },
    }
}

/// The first+last-frame endpoint's own rules (spec §6.19), whatever the model.
pub const KEY_FRAME_MAX_IMAGE_BYTES: usize = 10 * MB;
pub const KEY_FRAME_DURATION: u32 = 5;
pub const KEY_FRAME_MAX_PROMPT_CHARS: usize = 800;
pub const KEY_FRAME_RESOLUTIONS: [&str; 2] = ["480P", "720P"];

/// `negative_prompt` limit of both endpoints.
pub const MAX_NEGATIVE_PROMPT_CHARS: usize = 500;

/// Input images: each side within this range, in pixels.
pub const IMAGE_SIDE_RANGE: std::ops::RangeInclusive<usize> = 240..=8000;

/// Highest accepted `parameters.seed`.
pub const MAX_SEED: i64 = 2_147_483_647;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::MODELS;

    #[test]
    fn every_model_has_consistent_limits() {
        for model in MODELS {
            let l = limits(model);
            assert!(l.durations.contains(&l.default_duration), "{}", model.name);
            assert!(l.concurrent_tasks >= 1 && l.submits_per_second >= 1);
        }
        let flash = crate::models::find("wan2.2-i2v-flash").expect("known model");
        assert_eq!(limits(flash).max_image_bytes, 10 * MB);
    }
}
