//! Generating videos with a deployed LoRA model, and polling the tasks (spec §6.18–§6.20).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::client::{Call, Client};
use super::create::{self, Creation, Found};
use super::error::ApiError;
use super::status::status_enum;
use crate::models::{self, GenerationProtocol, ModelProfile, TaskType, synthesis};

pub use crate::models::synthesis::{DEFAULT_RESOLUTION, MAX_NEGATIVE_PROMPT_CHARS, MAX_SEED};

/// Where a synthesis call goes and how it hands over the frames: the request shape is a fact
/// of the base model ([`GenerationProtocol`], spec §8.9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Endpoint {
    /// `video-generation/video-synthesis` with `input.img_url` (first frame).
    I2v,
    /// `image2video/video-synthesis` with `first_frame_url` and an optional `last_frame_url`.
    Kf2v,
    /// `video-generation/video-synthesis` with `input.media[]` (wan2.7), for a first-frame or
    /// a key-frame deployment.
    Media(TaskType),
}

impl Endpoint {
    /// The endpoint for a call: the task asked for, else key frames when a last frame is given
    /// or the base model only does key frames, else first frame; shaped as the base model's
    /// protocol wants it.
    pub fn choose(asked: Option<TaskType>, last_frame: bool, base: Option<&ModelProfile>) -> Self {
        let task = asked.unwrap_or(if last_frame {
            TaskType::Kf2v
        } else {
            base.map_or(TaskType::I2v, |m| m.default_task())
        });
        let protocol = base.map_or(GenerationProtocol::FrameUrls, |m| m.generation_protocol);
        match (protocol, task) {
            (GenerationProtocol::Media, task) => Endpoint::Media(task),
            (GenerationProtocol::FrameUrls, TaskType::I2v) => Endpoint::I2v,
            (GenerationProtocol::FrameUrls, TaskType::Kf2v) => Endpoint::Kf2v,
        }
    }

    /// The task the call performs.
    pub fn task(self) -> TaskType {
        match self {
            Endpoint::I2v => TaskType::I2v,
            Endpoint::Kf2v => TaskType::Kf2v,
            Endpoint::Media(task) => task,
        }
    }

    /// The path of the endpoint, below the host.
    pub fn path(self) -> [&'static str; 6] {
        let family = match self {
            Endpoint::I2v | Endpoint::Media(_) => "video-generation",
            Endpoint::Kf2v => "image2video",
        };
        ["api", "v1", "services", "aigc", family, "video-synthesis"]
    }
}

/// What the platform accepts on an endpoint for a base model (spec §3, §6.18, §6.19).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InferenceRules {
    pub max_image_bytes: u64,
    /// Accepted `duration` values (seconds); empty when undocumented.
    pub durations: &'static [u32],
    /// Accepted resolutions; empty when undocumented.
    pub resolutions: &'static [&'static str],
    /// Longer prompts are truncated by the platform.
    pub max_prompt_chars: usize,
}

impl InferenceRules {
    /// The rules of `endpoint` for deployments of `base` (unknown base: only the endpoint's).
    pub fn of(endpoint: Endpoint, base: Option<&ModelProfile>) -> Self {
        match endpoint {
            Endpoint::Kf2v => InferenceRules {
                max_image_bytes: synthesis::KF2V_MAX_IMAGE_BYTES,
                durations: &[synthesis::KF2V_DURATION],
                resolutions: &synthesis::KF2V_RESOLUTIONS,
                max_prompt_chars: synthesis::KF2V_MAX_PROMPT_CHARS,
            },
            Endpoint::I2v | Endpoint::Media(_) => match base {
                Some(m) => InferenceRules {
                    max_image_bytes: m.max_input_image_bytes,
                    durations: m.lora_durations,
                    resolutions: m.lora_resolutions,
                    max_prompt_chars: m.max_prompt_chars,
                },
                // Unknown base model: the endpoint's own limits only.
                None => InferenceRules {
                    max_image_bytes: models::MODELS
                        .iter()
                        .map(|m| m.max_input_image_bytes)
                        .max()
                        .unwrap_or(0),
                    durations: &[],
                    resolutions: &[],
                    max_prompt_chars: models::MODELS
                        .iter()
                        .map(|m| m.max_prompt_chars)
                        .max()
                        .unwrap_or(0),
                },
            },
        }
    }
}

/// Synthesis runs asynchronously only (spec §6.18).
const ASYNC_HEADER: (&str, &str) = ("X-DashScope-Async", "enable");
/// Without it the platform does not resolve `oss://` inputs (spec §8.7).
pub const OSS_RESOLVE_HEADER: (&str, &str) = ("X-DashScope-OssResourceResolve", "enable");

/// A generation request.
#[derive(Debug, Clone)]
pub struct Synthesis {
    /// `deployed_model` of a `RUNNING` deployment.
    pub model: String,
    pub endpoint: Endpoint,
    /// URL or `data:` URL ([`super::images::image_url`]).
    pub first_frame: String,
    pub last_frame: Option<String>,
    /// Used only by deployments with `use_input_prompt = true`.
    pub prompt: Option<String>,
    pub negative_prompt: Option<String>,
    pub resolution: String,
    pub duration: Option<u32>,
    pub seed: Option<u32>,
}

impl Synthesis {
    /// True when a frame is a temporary upload (`oss://`), which needs [`OSS_RESOLVE_HEADER`].
    pub fn uses_oss(&self) -> bool {
        std::iter::once(&self.first_frame)
            .chain(&self.last_frame)
            .any(|url| url.starts_with("oss://"))
    }

    /// Refuses what the platform would refuse, against `rules`.
    pub fn check(&self, rules: &InferenceRules) -> Result<(), ApiError> {
        if self.endpoint.task() == TaskType::I2v && self.last_frame.is_some() {
            return Err(ApiError::Invalid(
                "a last frame needs the key-frame endpoint (kf2v)".into(),
            ));
        }
        if let Some(negative) = &self.negative_prompt
            && negative.chars().count() > MAX_NEGATIVE_PROMPT_CHARS
        {
            return Err(ApiError::Invalid(format!(
                "the negative prompt is longer than {MAX_NEGATIVE_PROMPT_CHARS} characters"
            )));
        }
        if !rules.resolutions.is_empty() && !rules.resolutions.contains(&self.resolution.as_str()) {
            return Err(ApiError::Invalid(format!(
                "resolution {} is not offered here; use {}",
                self.resolution,
                rules.resolutions.join(" or ")
            )));
        }
        if let Some(duration) = self.duration
            && !rules.durations.is_empty()
            && !rules.durations.contains(&duration)
        {
            let allowed: Vec<String> = rules.durations.iter().map(u32::to_string).collect();
            return Err(ApiError::Invalid(format!(
                "duration {duration} s is not offered here; use {}",
                allowed.join(", ")
            )));
        }
        if self.seed.is_some_and(|s| s > MAX_SEED) {
            return Err(ApiError::Invalid(format!(
                "the seed must be at most {MAX_SEED}"
            )));
        }
        Ok(())
    }

    /// The request body: `prompt_extend` off (LoRA models), no watermark, the resolution always
    /// explicit.
    pub fn body(&self) -> Value {
        let mut input = Map::new();
        match self.endpoint {
            Endpoint::I2v => {
                input.insert("img_url".into(), json!(self.first_frame));
            }
            Endpoint::Kf2v => {
                input.insert("first_frame_url".into(), json!(self.first_frame));
                if let Some(last) = &self.last_frame {
                    input.insert("last_frame_url".into(), json!(last));
                }
            }
            Endpoint::Media(_) => {
                let mut media = vec![json!({ "type": "first_frame", "url": self.first_frame })];
                if let Some(last) = &self.last_frame {
                    media.push(json!({ "type": "last_frame", "url": last }));
                }
                input.insert("media".into(), json!(media));
            }
        }
        if let Some(prompt) = &self.prompt {
            input.insert("prompt".into(), json!(prompt));
        }
        if let Some(negative) = &self.negative_prompt {
            input.insert("negative_prompt".into(), json!(negative));
        }
        let mut parameters = json!({
            "resolution": self.resolution,
            "prompt_extend": false,
            "watermark": false,
        });
        if let Some(duration) = self.duration {
            parameters["duration"] = json!(duration);
        }
        if let Some(seed) = self.seed {
            parameters["seed"] = json!(seed);
        }
        json!({ "model": self.model, "input": input, "parameters": parameters })
    }
}

status_enum! {
    /// State of a generation task (spec §6.20).
    TaskStatus {
        Pending = "PENDING",
        Running = "RUNNING",
        Succeeded = "SUCCEEDED",
        Failed = "FAILED",
        Canceled = "CANCELED",
        /// The id is unknown, or older than 24 hours.
        Unknown = "UNKNOWN",
    }
}

impl TaskStatus {
    /// True once the task will not change (an unfamiliar status is waited on).
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Canceled | TaskStatus::Unknown
        )
    }
}

/// Billed output of a finished task.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TaskUsage {
    /// Seconds of video (first-frame endpoint).
    pub duration: Option<f64>,
    /// Seconds of video (key-frame endpoint).
    pub video_duration: Option<f64>,
    pub video_count: Option<u64>,
    /// Resolution class: 480, 720 or 1080.
    #[serde(rename = "SR")]
    pub sr: Option<u64>,
}

impl TaskUsage {
    /// Billed seconds, whichever key carries them.
    pub fn seconds(&self) -> Option<f64> {
        self.duration.or(self.video_duration)
    }
}

/// A generation task (spec §6.20). Timestamps stay as the API wrote them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Task {
    pub task_id: String,
    pub task_status: TaskStatus,
    pub submit_time: Option<String>,
    pub scheduled_time: Option<String>,
    pub end_time: Option<String>,
    pub orig_prompt: Option<String>,
    pub actual_prompt: Option<String>,
    /// The MP4, valid 24 hours.
    pub video_url: Option<String>,
    /// Why a task failed.
    pub code: Option<String>,
    pub message: Option<String>,
    /// From the answer's top level.
    pub usage: Option<TaskUsage>,
}

#[derive(Debug, Deserialize)]
struct TaskAnswer {
    output: Task,
    #[serde(default)]
    usage: Option<TaskUsage>,
}

/// Submits `synthesis` (asynchronously, as the platform requires), at most once: a task cannot
/// be looked up, so after a lost answer it is not sent again (generation is billed).
pub async fn submit(client: &Client, synthesis: &Synthesis) -> Result<Task, ApiError> {
    let operation = client.operation(&Method::POST, &synthesis.endpoint.path());
    create::create_once(client, &Submission { synthesis }, &operation).await
}

struct Submission<'a> {
    synthesis: &'a Synthesis,
}

impl Creation for Submission<'_> {
    type Created = Task;
    type Survey = ();

    async fn survey(&self, _client: &Client) -> Result<(), ApiError> {
        Ok(())
    }

    async fn send(&self, client: &Client) -> Result<Task, ApiError> {
        let body = self.synthesis.body();
        let path = self.synthesis.endpoint.path();
        let call =
            Call::new(&Method::POST, &path)
                .body(&body)
                .headers(if self.synthesis.uses_oss() {
                    &[ASYNC_HEADER, OSS_RESOLVE_HEADER]
                } else {
                    &[ASYNC_HEADER]
                });
        client.post_output_once(call).await
    }

    async fn find(&self, _client: &Client, _survey: &()) -> Result<Found<Task>, ApiError> {
        Ok(Found::Unknowable)
    }

    fn id_of(task: &Task) -> String {
        task.task_id.clone()
    }
}

/// `GET /api/v1/tasks/{task_id}`.
pub async fn get_task(client: &Client, task_id: &str) -> Result<Task, ApiError> {
    let path = ["api", "v1", "tasks", task_id];
    let answer: TaskAnswer = client.repeatable(Call::new(&Method::GET, &path)).await?;
    Ok(Task {
        usage: answer.usage.or(answer.output.usage.clone()),
        ..answer.output
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models;

    fn synthesis(endpoint: Endpoint) -> Synthesis {
        Synthesis {
            model: "m".into(),
            endpoint,
            first_frame: "https://x/a.png".into(),
            last_frame: None,
            prompt: Some("p".into()),
            negative_prompt: None,
            resolution: DEFAULT_RESOLUTION.into(),
            duration: None,
            seed: Some(7),
        }
    }

    #[test]
    fn endpoints_follow_the_frames_and_the_base_model() {
        let kf2v = models::find("wan2.2-kf2v-flash");
        let i2v = models::find("wan2.5-i2v-preview");
        assert_eq!(Endpoint::choose(None, false, i2v), Endpoint::I2v);
        assert_eq!(Endpoint::choose(None, true, i2v), Endpoint::Kf2v);
        assert_eq!(Endpoint::choose(None, false, kf2v), Endpoint::Kf2v);
        assert_eq!(
            Endpoint::choose(Some(TaskType::I2v), false, kf2v),
            Endpoint::I2v
        );
        // wan2.7 deployments take media[] on the first-frame path, key frames included.
        let wan27 = models::find("wan2.7-i2v");
        assert_eq!(
            Endpoint::choose(None, false, wan27),
            Endpoint::Media(TaskType::I2v)
        );
        let kf = Endpoint::choose(Some(TaskType::Kf2v), true, wan27);
        assert_eq!(kf, Endpoint::Media(TaskType::Kf2v));
        assert_eq!(kf.path()[4], "video-generation");
    }

    #[test]
    fn bodies_match_the_endpoint() {
        let body = synthesis(Endpoint::I2v).body();
        assert_eq!(body["input"]["img_url"], "https://x/a.png");
        assert_eq!(body["parameters"]["prompt_extend"], false);
        assert_eq!(body["parameters"]["resolution"], "720P");
        assert_eq!(body["parameters"]["seed"], 7);
        let mut kf = synthesis(Endpoint::Kf2v);
        kf.last_frame = Some("https://x/b.png".into());
        let body = kf.body();
        assert!(body["input"].get("img_url").is_none());
        assert_eq!(body["input"]["last_frame_url"], "https://x/b.png");
        let mut media = synthesis(Endpoint::Media(TaskType::Kf2v));
        media.last_frame = Some("oss://d/b.png".into());
        let body = media.body();
        assert_eq!(
            body["input"]["media"],
            json!([
                { "type": "first_frame", "url": "https://x/a.png" },
                { "type": "last_frame", "url": "oss://d/b.png" },
            ])
        );
        assert!(body["input"].get("img_url").is_none());
        assert!(body["input"].get("first_frame_url").is_none());
    }

    #[test]
    fn local_checks_use_the_model_rules() {
        let wan25 = InferenceRules::of(Endpoint::I2v, models::find("wan2.5-i2v-preview"));
        let mut s = synthesis(Endpoint::I2v);
        s.duration = Some(10);
        assert!(s.check(&wan25).is_ok());
        s.duration = Some(7);
        assert!(
            s.check(&wan25)
                .unwrap_err()
                .to_string()
                .contains("use 5, 10")
        );
        s.duration = None;
        s.resolution = "1080P".into();
        assert!(s.check(&wan25).is_err());
        let flash = InferenceRules::of(Endpoint::I2v, models::find("wan2.2-i2v-flash"));
        assert_eq!(flash.max_image_bytes, 10 * 1024 * 1024);
        s.resolution = "720P".into();
        s.negative_prompt = Some("n".repeat(501));
        assert!(s.check(&wan25).is_err());
        s.negative_prompt = None;
        s.last_frame = Some("x".into());
        assert!(s.check(&wan25).is_err());
    }

    #[test]
    fn task_answers_merge_the_top_level_usage() {
        let answer: TaskAnswer = serde_json::from_str(
            r#"{"request_id":"r","output":{"task_id":"t","task_status":"SUCCEEDED",
                "video_url":"https://v"},"usage":{"video_duration":5,"video_count":1,"SR":720}}"#,
        )
        .unwrap();
        assert_eq!(answer.output.task_status, TaskStatus::Succeeded);
        assert_eq!(answer.usage.unwrap().seconds(), Some(5.0));
        assert!(TaskStatus::Unknown.is_terminal() && !TaskStatus::Running.is_terminal());
        assert!(!TaskStatus::parse("QUEUED").is_terminal());
    }
}
