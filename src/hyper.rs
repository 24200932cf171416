//! The `hyper_parameters` object of a fine-tuning job (spec §4).
//!
//! [`HyperParams`] holds what the user (or an API echo) actually set: every key is optional, and
//! it serialises to exactly the JSON object the create-job call takes. [`HyperParams::resolve`]
//! fills the gaps with the model's defaults to give the [`ResolvedHyperParams`] the platform
//! would train with.
//!
//! Deserialisation is strict (an unknown key is an error) because a misspelt key in `wanft.toml`
//! would otherwise be silently dropped; API responses, whose unknown keys must be ignored
//! (spec §1.3), go through [`lenient`].

use serde::{Deserialize, Deserializer, Serialize};

use crate::models::{ModelProfile, TaskType};

/// The hyper-parameters of one job, as given. `None` means "not set": the platform (and the
/// planner) apply the model's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HyperParams {
    /// Samples per training step; described as fixed per model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_size: Option<u32>,
    /// Passes over the training set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n_epochs: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_rate: Option<f64>,
    /// Epochs between two evaluation points (each one saves a checkpoint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_epochs: Option<u32>,
    /// Cap on width × height of the training videos; also a factor of the token count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_pixels: Option<u32>,
    /// Share of the samples kept for training by the automatic split (exclusive 0..1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<f64>,
    /// Upper bound on the samples the automatic split moves to validation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_split_val_dataset_sample: Option<u32>,
    /// Checkpoints kept (the last N).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub save_total_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_rank: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lora_alpha: Option<u32>,
    /// `wan2.7-i2v` only: which task the job trains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<TaskType>,
}

/// Every hyper-parameter with a value: what a job trains with once defaults are applied.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ResolvedHyperParams {
    pub batch_size: u32,
    pub n_epochs: u32,
    pub learning_rate: f64,
    pub eval_epochs: u32,
    pub max_pixels: u32,
    pub split: f64,
    pub max_split_val_dataset_sample: u32,
    pub save_total_limit: u32,
    pub lora_rank: u32,
    pub lora_alpha: u32,
    /// `None` for models that take no `task_type`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<TaskType>,
}

impl ResolvedHyperParams {
    /// The task the job trains: `task_type` where the model takes one, else the model's own.
    pub fn task(&self, model: &ModelProfile) -> TaskType {
        self.task_type.unwrap_or_else(|| model.default_task())
    }
}

impl HyperParams {
    /// The keys of the object, in spec §4 order.
    pub const KEYS: &'static [&'static str] = &[
        "batch_size",
        "n_epochs",
        "learning_rate",
        "eval_epochs",
        "max_pixels",
        "split",
        "max_split_val_dataset_sample",
        "save_total_limit",
        "lora_rank",
        "lora_alpha",
        "task_type",
    ];

    /// Tool default of `n_epochs` (newer platform revisions suggest 50).
    pub const DEFAULT_N_EPOCHS: u32 = 400;
    pub const DEFAULT_LEARNING_RATE: f64 = 2e-5;
    /// Tool default of `eval_epochs` (newer platform revisions suggest 20).
    pub const DEFAULT_EVAL_EPOCHS: u32 = 50;
    pub const DEFAULT_SPLIT: f64 = 0.9;
    pub const DEFAULT_MAX_SPLIT_VAL_DATASET_SAMPLE: u32 = 5;
    pub const DEFAULT_SAVE_TOTAL_LIMIT: u32 = 20;
    pub const DEFAULT_LORA_RANK: u32 = 32;
    pub const DEFAULT_LORA_ALPHA: u32 = 32;

    /// `self` with every key that `over` sets replaced by `over`'s value (flags over the file).
    pub fn overridden_by(&self, over: &HyperParams) -> HyperParams {
        HyperParams {
            batch_size: over.batch_size.or(self.batch_size),
            n_epochs: over.n_epochs.or(self.n_epochs),
            learning_rate: over.learning_rate.or(self.learning_rate),
            eval_epochs: over.eval_epochs.or(self.eval_epochs),
            max_pixels: over.max_pixels.or(self.max_pixels),
            split: over.split.or(self.split),
            max_split_val_dataset_sample: over
                .max_split_val_dataset_sample
                .or(self.max_split_val_dataset_sample),
            save_total_limit: over.save_total_limit.or(self.save_total_limit),
            lora_rank: over.lora_rank.or(self.lora_rank),
            lora_alpha: over.lora_alpha.or(self.lora_alpha),
            task_type: over.task_type.or(self.task_type),
        }
    }

    /// The values the platform trains `model` with: unset keys take the model's or the tool's
    /// default. `task_type` stays unset for models that do not take it; a value given for such
    /// a model is kept so that the rules can report it.
    pub fn resolve(&self, model: &ModelProfile) -> ResolvedHyperParams {
        let max_pixels_default = u32::try_from(model.max_pixels_default).unwrap_or(u32::MAX);
        ResolvedHyperParams {
            batch_size: self.batch_size.unwrap_or(model.default_batch_size),
            n_epochs: self.n_epochs.unwrap_or(Self::DEFAULT_N_EPOCHS),
            learning_rate: self.learning_rate.unwrap_or(Self::DEFAULT_LEARNING_RATE),
            eval_epochs: self.eval_epochs.unwrap_or(Self::DEFAULT_EVAL_EPOCHS),
            max_pixels: self.max_pixels.unwrap_or(max_pixels_default),
            split: self.split.unwrap_or(Self::DEFAULT_SPLIT),
            max_split_val_dataset_sample: self
                .max_split_val_dataset_sample
                .unwrap_or(Self::DEFAULT_MAX_SPLIT_VAL_DATASET_SAMPLE),
            save_total_limit: self
                .save_total_limit
                .unwrap_or(Self::DEFAULT_SAVE_TOTAL_LIMIT),
            lora_rank: self.lora_rank.unwrap_or(Self::DEFAULT_LORA_RANK),
            lora_alpha: self.lora_alpha.unwrap_or(Self::DEFAULT_LORA_ALPHA),
            task_type: match self.task_type {
                Some(t) => Some(t),
                None if model.supports_task_type() => Some(model.default_task()),
                None => None,
            },
        }
    }

    /// The object to send when creating a job: the five keys the documentation labels
    /// "required" are always present (spec §4: the client sends all five), the optional ones
    /// only when set.
    pub fn for_request(&self, model: &ModelProfile) -> HyperParams {
        let resolved = self.resolve(model);
        HyperParams {
            batch_size: Some(resolved.batch_size),
            n_epochs: Some(resolved.n_epochs),
            learning_rate: Some(resolved.learning_rate),
            eval_epochs: Some(resolved.eval_epochs),
            max_pixels: Some(resolved.max_pixels),
            ..self.clone()
        }
    }
}

impl From<ResolvedHyperParams> for HyperParams {
    fn from(r: ResolvedHyperParams) -> Self {
        HyperParams {
            batch_size: Some(r.batch_size),
            n_epochs: Some(r.n_epochs),
            learning_rate: Some(r.learning_rate),
            eval_epochs: Some(r.eval_epochs),
            max_pixels: Some(r.max_pixels),
            split: Some(r.split),
            max_split_val_dataset_sample: Some(r.max_split_val_dataset_sample),
            save_total_limit: Some(r.save_total_limit),
            lora_rank: Some(r.lora_rank),
            lora_alpha: Some(r.lora_alpha),
            task_type: r.task_type,
        }
    }
}

/// Deserialises a `hyper_parameters` object from an API response, ignoring keys this crate does
/// not know (spec §1.3: unknown keys MUST be ignored). For `#[serde(deserialize_with = …)]`.
pub fn lenient<'de, D: Deserializer<'de>>(deserializer: D) -> Result<HyperParams, D::Error> {
    let mut object = serde_json::Map::deserialize(deserializer)?;
    object.retain(|key, _| HyperParams::KEYS.contains(&key.as_str()));
    HyperParams::deserialize(serde_json::Value::Object(object)).map_err(serde::de::Error::custom)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models;

    fn model(name: &str) -> &'static ModelProfile {
        models::find(name).expect("model in the table")
    }

    #[test]
    fn resolve_takes_model_and_tool_defaults() {
        let r = HyperParams::default().resolve(model("wan2.2-i2v-flash"));
        assert_eq!(r.batch_size, 4);
        assert_eq!(r.max_pixels, 262_144);
        assert_eq!(r.n_epochs, 400);
        assert_eq!(r.eval_epochs, 50);
        assert_eq!(r.task_type, None);
        let r = HyperParams::default().resolve(model("wan2.7-i2v"));
        assert_eq!((r.batch_size, r.max_pixels), (1, 102_400));
        assert_eq!(r.task_type, Some(TaskType::I2v));
    }

    #[test]
    fn flags_override_the_file_key_by_key() {
        let file = HyperParams {
            n_epochs: Some(300),
            eval_epochs: Some(30),
            ..HyperParams::default()
        };
        let flags = HyperParams {
            n_epochs: Some(500),
            lora_rank: Some(64),
            ..HyperParams::default()
        };
        let merged = file.overridden_by(&flags);
        assert_eq!(merged.n_epochs, Some(500));
        assert_eq!(merged.eval_epochs, Some(30));
        assert_eq!(merged.lora_rank, Some(64));
        assert_eq!(merged.split, None);
    }

    #[test]
    fn request_object_always_carries_the_five_required_keys() {
        let given = HyperParams {
            lora_rank: Some(16),
            ..HyperParams::default()
        };
        let json = serde_json::to_value(given.for_request(model("wan2.5-i2v-preview"))).unwrap();
        let keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "batch_size",
                "eval_epochs",
                "learning_rate",
                "lora_rank",
                "max_pixels",
                "n_epochs"
            ]
        );
        assert_eq!(json["learning_rate"], serde_json::json!(2e-5));
    }

    #[test]
    fn strict_by_default_lenient_for_api_echoes() {
        let echo = r#"{"n_epochs":400,"batch_size":2,"learning_rate":2.0E-5,"split":0.9,
                       "eval_epochs":50,"max_output_cnt":20}"#;
        assert!(serde_json::from_str::<HyperParams>(echo).is_err());

        #[derive(Deserialize)]
        struct Job {
            #[serde(deserialize_with = "lenient")]
            hyper_parameters: HyperParams,
        }
        let job: Job = serde_json::from_str(&format!(r#"{{"hyper_parameters":{echo}}}"#)).unwrap();
        assert_eq!(job.hyper_parameters.learning_rate, Some(2e-5));
        assert_eq!(job.hyper_parameters.n_epochs, Some(400));
        assert_eq!(job.hyper_parameters.max_pixels, None);
    }

    #[test]
    fn keys_match_the_serialised_fields() {
        let all = HyperParams::from(HyperParams::default().resolve(model("wan2.7-i2v")));
        let json = serde_json::to_value(all).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = HyperParams::KEYS.to_vec();
        keys.sort_unstable();
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }
}
