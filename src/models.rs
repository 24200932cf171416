//! Model profiles: every platform fact that differs by model, as one table of data (spec §3).
//!
//! A new model is one more row in [`MODELS`]; nothing else in the crate lists model names.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// A DashScope region that offers fine-tuning (spec §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
pub enum Region {
    /// China (Beijing): `dashscope.aliyuncs.com`, billed in CNY.
    #[serde(rename = "cn-beijing")]
    CnBeijing,
    /// Singapore (international): `dashscope-intl.aliyuncs.com`, billed in USD.
    #[serde(rename = "ap-southeast-1")]
    ApSoutheast1,
}

impl Region {
    pub const ALL: [Region; 2] = [Region::CnBeijing, Region::ApSoutheast1];

    /// The identifier users type (`cn-beijing`, `ap-southeast-1`).
    pub fn id(self) -> &'static str {
        match self {
            Region::CnBeijing => "cn-beijing",
            Region::ApSoutheast1 => "ap-southeast-1",
        }
    }

    /// The public host of the region's API.
    pub fn base_url(self) -> &'static str {
        match self {
            Region::CnBeijing => "https://dashscope.aliyuncs.com",
            Region::ApSoutheast1 => "https://dashscope-intl.aliyuncs.com",
        }
    }

    /// ISO currency code of the region's bills.
    pub fn currency(self) -> &'static str {
        match self {
            Region::CnBeijing => "CNY",
            Region::ApSoutheast1 => "USD",
        }
    }

    /// Symbol printed before amounts (`¥49.152`, `$9.36`).
    pub fn currency_symbol(self) -> &'static str {
        match self {
            Region::CnBeijing => "¥",
            Region::ApSoutheast1 => "$",
        }
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Region {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "cn-beijing" | "beijing" | "cn" => Ok(Region::CnBeijing),
            "ap-southeast-1" | "singapore" | "intl" => Ok(Region::ApSoutheast1),
            _ => Err(format!(
                "unknown region `{s}`; expected `cn-beijing` or `ap-southeast-1`"
            )),
        }
    }
}

/// What a dataset line describes: a first-frame clip or a first+last-frame clip.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskType {
    /// Image-to-video from a first frame.
    I2v,
    /// Key-frame-to-video from a first and a last frame.
    Kf2v,
}

impl TaskType {
    pub fn id(self) -> &'static str {
        match self {
            TaskType::I2v => "i2v",
            TaskType::Kf2v => "kf2v",
        }
    }
}

impl fmt::Display for TaskType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for TaskType {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "i2v" => Ok(TaskType::I2v),
            "kf2v" => Ok(TaskType::Kf2v),
            _ => Err(format!("unknown task type `{s}`; expected `i2v` or `kf2v`")),
        }
    }
}

/// Which task types a model trains.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelTasks {
    /// Exactly one task type; `task_type` must not be sent.
    Fixed(TaskType),
    /// Both, chosen with the `task_type` hyper-parameter (default `i2v`).
    Selectable,
}

/// How a generation call hands the frames to a deployment of the model (spec §6.18, §6.19,
/// §8.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GenerationProtocol {
    /// `input.img_url` on `video-generation/video-synthesis` (first frame);
    /// `input.first_frame_url` + `last_frame_url` on `image2video/video-synthesis` (key frames).
    FrameUrls,
    /// `input.media[]` of `{type, url}` items (`first_frame`, `last_frame`) on
    /// `video-generation/video-synthesis`, for first-frame and key-frame deployments alike.
    Media,
}

/// Price of 1,000 training tokens in one region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Price {
    /// The model is not offered for fine-tuning in the region.
    NotOffered,
    /// Offered, but the platform does not publish the price (the user must supply one).
    Unknown,
    /// Decimal amount in the region's currency, as written in the price list.
    Per1kTokens(&'static str),
}

/// Date the built-in prices were read from the platform's price list (spec §3), as a literal
/// for `concat!` (`wanft --version` prints it).
#[macro_export]
macro_rules! prices_as_of {
    () => {
        "2025-12-22"
    };
}

/// Jobs that may be running or succeeded at once per account (spec §8.2): creating one more
/// fails with 429 `Throttling` until jobs are deleted.
pub const JOB_QUOTA: usize = 20;

/// Date the built-in prices were read from the platform's price list (spec §3).
pub const PRICES_AS_OF: &str = prices_as_of!();

/// Everything the tools need to know about one fine-tunable base model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModelProfile {
    pub name: &'static str,
    pub tasks: ModelTasks,
    /// Price per region, in [`Region::ALL`] order; `NotOffered` means the region lacks the model.
    pub prices: [Price; 2],
    pub default_batch_size: u32,
    pub max_pixels_default: u64,
    /// Inclusive range accepted for the `max_pixels` hyper-parameter.
    pub max_pixels_range: (u64, u64),
    /// Longest useful clip, in seconds; also the per-clip billing cap (spec §5.1).
    pub max_clip_seconds: u32,
    /// True when the cap is our assumption rather than a documented figure.
    pub cap_assumed: bool,
    /// Prompts longer than this are truncated at inference (spec §2.8).
    pub max_prompt_chars: usize,
    /// Resolutions a LoRA deployment of this model accepts (empty: undocumented).
    pub lora_resolutions: &'static [&'static str],
    /// `parameters.duration` values (seconds) a LoRA deployment accepts (spec §3, §6.18).
    pub lora_durations: &'static [u32],
    /// The duration generated when a call sends none.
    pub default_lora_duration: u32,
    /// Largest input image of a generation call, in bytes (spec §6.18).
    pub max_input_image_bytes: u64,
    /// Video submissions per second and tasks in flight at once for the base model (spec §7.3);
    /// LoRA deployments' limits are undocumented and assumed to be the same.
    pub video_submits_per_second: u32,
    pub concurrent_video_tasks: u32,
    /// The request shape its deployments take.
    pub generation_protocol: GenerationProtocol,
}

impl ModelProfile {
    /// The price in `region`.
    pub fn price(&self, region: Region) -> Price {
        match region {
            Region::CnBeijing => self.prices[0],
            Region::ApSoutheast1 => self.prices[1],
        }
    }

    /// Whether the model can be fine-tuned in `region`.
    pub fn offered_in(&self, region: Region) -> bool {
        self.price(region) != Price::NotOffered
    }

    /// Regions where the model can be fine-tuned.
    pub fn regions(&self) -> impl Iterator<Item = Region> + '_ {
        Region::ALL.into_iter().filter(|r| self.offered_in(*r))
    }

    /// True when the model accepts `task_type`.
    pub fn supports_task_type(&self) -> bool {
        self.tasks == ModelTasks::Selectable
    }

    /// The task a dataset is checked against when none is chosen explicitly.
    pub fn default_task(&self) -> TaskType {
        match self.tasks {
            ModelTasks::Fixed(t) => t,
            ModelTasks::Selectable => TaskType::I2v,
        }
    }

    /// Whether the model trains `task`.
    pub fn trains(&self, task: TaskType) -> bool {
        match self.tasks {
            ModelTasks::Fixed(t) => t == task,
            ModelTasks::Selectable => true,
        }
    }
}

const MIB: u64 = 1024 * 1024;

/// wan2.6-i2v's durations: any whole number of seconds from 2 to 15 (older revisions: 5/10/15).
const TWO_TO_FIFTEEN_SECONDS: &[u32] = &[2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// The default model of every command.
pub const DEFAULT_MODEL: &str = "wan2.5-i2v-preview";

/// Every model of spec §3.
pub static MODELS: &[ModelProfile] = &[
    ModelProfile {
        name: "wan2.6-i2v",
        tasks: ModelTasks::Fixed(TaskType::I2v),
        prices: [Price::NotOffered, Price::Per1kTokens("0.08")],
        default_batch_size: 2,
        max_pixels_default: 36864,
        max_pixels_range: (16384, 36864),
        max_clip_seconds: 10,
        cap_assumed: true,
        max_prompt_chars: 1500,
        lora_resolutions: &["720P", "1080P"],
        lora_durations: TWO_TO_FIFTEEN_SECONDS,
        // The default is undocumented; 5 s is accepted by every revision.
        default_lora_duration: 5,
        max_input_image_bytes: 20 * MIB,
        video_submits_per_second: 5,
        concurrent_video_tasks: 5,
        generation_protocol: GenerationProtocol::FrameUrls,
    },
    ModelProfile {
        name: "wan2.5-i2v-preview",
        tasks: ModelTasks::Fixed(TaskType::I2v),
        prices: [Price::Per1kTokens("0.32"), Price::Per1kTokens("0.05")],
        default_batch_size: 2,
        max_pixels_default: 36864,
        max_pixels_range: (16384, 36864),
        max_clip_seconds: 10,
        cap_assumed: false,
        max_prompt_chars: 1500,
        lora_resolutions: &["480P", "720P"],
        lora_durations: &[5, 10],
        default_lora_duration: 5,
        max_input_image_bytes: 20 * MIB,
        video_submits_per_second: 5,
        concurrent_video_tasks: 5,
        generation_protocol: GenerationProtocol::FrameUrls,
    },
    ModelProfile {
        name: "wan2.2-i2v-flash",
        tasks: ModelTasks::Fixed(TaskType::I2v),
        prices: [Price::Per1kTokens("0.06"), Price::Per1kTokens("0.03")],
        default_batch_size: 4,
        max_pixels_default: 262144,
        max_pixels_range: (65536, 262144),
        max_clip_seconds: 5,
        cap_assumed: false,
        max_prompt_chars: 800,
        lora_resolutions: &["480P", "720P"],
        lora_durations: &[5],
        default_lora_duration: 5,
        max_input_image_bytes: 10 * MIB,
        // Documented for Beijing; Singapore does not list them.
        video_submits_per_second: 2,
        concurrent_video_tasks: 2,
        generation_protocol: GenerationProtocol::FrameUrls,
    },
    ModelProfile {
        name: "wan2.2-kf2v-flash",
        tasks: ModelTasks::Fixed(TaskType::Kf2v),
        prices: [Price::Per1kTokens("0.06"), Price::Per1kTokens("0.03")],
        default_batch_size: 4,
        max_pixels_default: 262144,
        max_pixels_range: (65536, 262144),
        max_clip_seconds: 5,
        cap_assumed: false,
        max_prompt_chars: 800,
        lora_resolutions: &["480P", "720P"],
        lora_durations: &[5],
        default_lora_duration: 5,
        max_input_image_bytes: 10 * MIB,
        // Documented for Beijing; Singapore does not list them.
        video_submits_per_second: 2,
        concurrent_video_tasks: 2,
        generation_protocol: GenerationProtocol::FrameUrls,
    },
    ModelProfile {
        name: "wan2.7-i2v",
        tasks: ModelTasks::Selectable,
        prices: [Price::Per1kTokens("2"), Price::Unknown],
        default_batch_size: 1,
        max_pixels_default: 102400,
        max_pixels_range: (36864, 123904),
        max_clip_seconds: 10,
        cap_assumed: false,
        max_prompt_chars: 1500,
        lora_resolutions: &[],
        // Durations and image size are undocumented for wan2.7-i2v: the strictest documented
        // values (fixed 5 s, 10 MiB), which every model accepts.
        lora_durations: &[5],
        default_lora_duration: 5,
        max_input_image_bytes: 10 * MIB,
        video_submits_per_second: 5,
        concurrent_video_tasks: 5,
        generation_protocol: GenerationProtocol::Media,
    },
];

/// Limits of the video synthesis endpoints that hold for every model (spec §6.18, §6.19). The
/// client checks requests against them before sending; the emulator refuses what breaks them.
pub mod synthesis {
    use std::ops::RangeInclusive;

    /// Width and height of an input image, each, in pixels.
    pub const IMAGE_SIDE_PIXELS: RangeInclusive<u32> = 240..=8000;
    pub const MAX_NEGATIVE_PROMPT_CHARS: usize = 500;
    pub const MAX_SEED: u32 = 2_147_483_647;
    /// Sent explicitly on every call (the platform's default differs between revisions).
    pub const DEFAULT_RESOLUTION: &str = "720P";
    /// The first+last-frame endpoint has fixed limits of its own, whatever the model.
    pub const KF2V_MAX_IMAGE_BYTES: u64 = 10 * super::MIB;
    pub const KF2V_DURATION: u32 = 5;
    pub const KF2V_MAX_PROMPT_CHARS: usize = 800;
    pub const KF2V_RESOLUTIONS: [&str; 2] = ["480P", "720P"];
}

/// Looks a model up by its exact name.
pub fn find(name: &str) -> Option<&'static ModelProfile> {
    MODELS.iter().find(|m| m.name == name)
}

/// Looks a model up, with an error listing the known names.
pub fn lookup(name: &str) -> Result<&'static ModelProfile, String> {
    find(name).ok_or_else(|| {
        let known: Vec<&str> = MODELS.iter().map(|m| m.name).collect();
        format!("unknown model `{name}`; known models: {}", known.join(", "))
    })
}

/// The lowest `max_pixels` any model accepts: below it a clip is small for every model.
pub fn lowest_max_pixels() -> u64 {
    MODELS
        .iter()
        .map(|m| m.max_pixels_range.0)
        .min()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_has_a_consistent_row() {
        for m in MODELS {
            let (lo, hi) = m.max_pixels_range;
            assert!(
                lo <= m.max_pixels_default && m.max_pixels_default <= hi,
                "{}",
                m.name
            );
            assert!(m.regions().count() >= 1, "{} is offered nowhere", m.name);
            assert!(
                m.lora_durations.contains(&m.default_lora_duration),
                "{}",
                m.name
            );
            assert!(m.video_submits_per_second >= 1 && m.concurrent_video_tasks >= 1);
            assert!(m.max_input_image_bytes >= MIB, "{}", m.name);
            assert_eq!(find(m.name), Some(m));
        }
    }

    #[test]
    fn region_facts() {
        assert_eq!("cn-beijing".parse::<Region>(), Ok(Region::CnBeijing));
        assert_eq!(Region::ApSoutheast1.currency(), "USD");
        assert!(!find("wan2.6-i2v").unwrap().offered_in(Region::CnBeijing));
        assert_eq!(
            find("wan2.7-i2v").unwrap().price(Region::ApSoutheast1),
            Price::Unknown
        );
        assert!(lookup("wan9").unwrap_err().contains("wan2.5-i2v-preview"));
    }
}
