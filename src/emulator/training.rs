//! Hyper-parameters and training arithmetic of a job: defaults and create-time checks (spec §4,
//! §4.4), the automatic validation split (§4.2, §4.3), steps and checkpoints (§4.1, §6.14) and
//! training tokens (§5.1).
//!
//! Everything here is pure: the job state machine calls it with numbers and gets numbers back.

use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::models::{ModelProfile, TaskType};

/// Tool defaults of spec §4 for the keys that do not depend on the model.
pub const DEFAULT_N_EPOCHS: u32 = 400;
pub const DEFAULT_LEARNING_RATE: f64 = 2e-5;
pub const DEFAULT_EVAL_EPOCHS: u32 = 50;
pub const DEFAULT_SPLIT: f64 = 0.9;
pub const DEFAULT_MAX_SPLIT_VAL_SAMPLES: u32 = 5;
pub const DEFAULT_SAVE_TOTAL_LIMIT: u32 = 20;
pub const DEFAULT_LORA_RANK: u32 = 32;
pub const DEFAULT_LORA_ALPHA: u32 = 32;

/// The effective hyper-parameters of a job, echoed in its record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HyperParameters {
    pub n_epochs: u32,
    pub batch_size: u32,
    pub learning_rate: f64,
    pub eval_epochs: u32,
    pub max_pixels: u64,
    pub split: f64,
    pub max_split_val_dataset_sample: u32,
    pub save_total_limit: u32,
    pub lora_rank: u32,
    pub lora_alpha: u32,
    /// Only for models that train both tasks (`wan2.7-i2v`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_type: Option<TaskType>,
}

impl HyperParameters {
    /// The defaults the platform applies for `model`.
    pub fn defaults(model: &ModelProfile) -> Self {
        HyperParameters {
            n_epochs: DEFAULT_N_EPOCHS,
            batch_size: model.default_batch_size,
            learning_rate: DEFAULT_LEARNING_RATE,
            eval_epochs: DEFAULT_EVAL_EPOCHS,
            max_pixels: model.max_pixels_default,
            split: DEFAULT_SPLIT,
            max_split_val_dataset_sample: DEFAULT_MAX_SPLIT_VAL_SAMPLES,
            save_total_limit: DEFAULT_SAVE_TOTAL_LIMIT,
            lora_rank: DEFAULT_LORA_RANK,
            lora_alpha: DEFAULT_LORA_ALPHA,
            task_type: model.supports_task_type().then(|| model.default_task()),
        }
    }

    /// Reads a create request's `hyper_parameters` (absent or `null`: all defaults), fills the
    /// missing keys with the model's defaults and applies the checks of spec §4.4.
    ///
    /// The error is the message of a 400 `InvalidParameter`. Unknown keys are ignored.
    pub fn from_request(model: &ModelProfile, given: Option<&Value>) -> Result<Self, String> {
        let empty = Map::new();
        let given = match given {
            None | Some(Value::Null) => &empty,
            Some(Value::Object(object)) => object,
            Some(_) => return Err("hyper_parameters must be a JSON object".into()),
        };
        let defaults = Self::defaults(model);
        let hyper = HyperParameters {
            n_epochs: positive_int(given, "n_epochs", defaults.n_epochs)?,
            batch_size: positive_int(given, "batch_size", defaults.batch_size)?,
            learning_rate: positive_number(given, "learning_rate", defaults.learning_rate)?,
            eval_epochs: positive_int(given, "eval_epochs", defaults.eval_epochs)?,
            max_pixels: match int(given, "max_pixels")? {
                None => defaults.max_pixels,
                Some(v) => u64::try_from(v).map_err(|_| max_pixels_message(model, v))?,
            },
            split: number(given, "split")?.unwrap_or(defaults.split),
            max_split_val_dataset_sample: positive_int(
                given,
                "max_split_val_dataset_sample",
                defaults.max_split_val_dataset_sample,
            )?,
            save_total_limit: positive_int(given, "save_total_limit", defaults.save_total_limit)?,
            lora_rank: power_of_two(given, "lora_rank", defaults.lora_rank)?,
            lora_alpha: power_of_two(given, "lora_alpha", defaults.lora_alpha)?,
            task_type: task_type(model, given)?,
        };
        let (lo, hi) = model.max_pixels_range;
        if !(lo..=hi).contains(&hyper.max_pixels) {
            return Err(max_pixels_message(model, hyper.max_pixels));
        }
        if u64::from(hyper.eval_epochs) * 10 < u64::from(hyper.n_epochs) {
            return Err(format!(
                "The hyper parameter eval_epochs: {} is invalid, 10 * eval_epochs must not be less than n_epochs: {}",
                hyper.eval_epochs, hyper.n_epochs
            ));
        }
        if !(hyper.split > 0.0 && hyper.split < 1.0) {
            return Err(format!(
                "The hyper parameter split: {} is invalid, it must be greater than 0 and less than 1",
                hyper.split
            ));
        }
        Ok(hyper)
    }

    /// The task the job trains.
    pub fn task(&self, model: &ModelProfile) -> TaskType {
        self.task_type.unwrap_or_else(|| model.default_task())
    }
}

fn max_pixels_message(model: &ModelProfile, value: impl std::fmt::Display) -> String {
    let (lo, hi) = model.max_pixels_range;
    format!(
        "The model {} does not support max_pixels: {value}, it must be between {lo} and {hi}",
        model.name
    )
}

/// An integer-valued key (`400` or `400.0`, as clients may send either).
fn int(given: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    let Some(value) = given.get(key) else {
        return Ok(None);
    };
    let as_int = value.as_i64().or_else(|| {
        value
            .as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| f as i64)
    });
    as_int.map(Some).ok_or_else(|| {
        format!("The hyper parameter {key}: {value} is invalid, it must be an integer")
    })
}

fn number(given: &Map<String, Value>, key: &str) -> Result<Option<f64>, String> {
    match given.get(key) {
        None => Ok(None),
        Some(value) => value.as_f64().map(Some).ok_or_else(|| {
            format!("The hyper parameter {key}: {value} is invalid, it must be a number")
        }),
    }
}

fn positive_int(given: &Map<String, Value>, key: &str, default: u32) -> Result<u32, String> {
    match int(given, key)? {
        None => Ok(default),
        Some(v) => u32::try_from(v).ok().filter(|v| *v > 0).ok_or_else(|| {
            format!("The hyper parameter {key}: {v} is invalid, it must be a positive integer")
        }),
    }
}

fn positive_number(given: &Map<String, Value>, key: &str, default: f64) -> Result<f64, String> {
    match number(given, key)? {
        None => Ok(default),
        Some(v) if v > 0.0 && v.is_finite() => Ok(v),
        Some(v) => Err(format!(
            "The hyper parameter {key}: {v} is invalid, it must be a positive number"
        )),
    }
}

fn power_of_two(given: &Map<String, Value>, key: &str, default: u32) -> Result<u32, String> {
    match int(given, key)? {
        None => Ok(default),
        Some(v) => u32::try_from(v)
            .ok()
            .filter(|v| v.is_power_of_two())
            .ok_or_else(|| {
                format!("The hyper parameter {key}: {v} is invalid, it must be a power of two")
            }),
    }
}

fn task_type(model: &ModelProfile, given: &Map<String, Value>) -> Result<Option<TaskType>, String> {
    match given.get("task_type") {
        None if model.supports_task_type() => Ok(Some(model.default_task())),
        None => Ok(None),
        Some(_) if !model.supports_task_type() => Err(format!(
            "The model {} does not support hyper parameter task_type",
            model.name
        )),
        Some(value) => value
            .as_str()
            .and_then(|s| TaskType::from_str(s).ok())
            .map(Some)
            .ok_or_else(|| {
                format!("The hyper parameter task_type: {value} is invalid, it must be i2v or kf2v")
            }),
    }
}

/// Number of validation samples taken from `total` training samples when no validation zip is
/// given: `min(total − floor(total × split), cap)` in exact decimal (spec §4.3).
pub fn auto_split_validation_count(total: usize, split: f64, cap: u32) -> usize {
    // `Display` of an f64 is its shortest round-trip form (0.9 → "0.9"), which is the decimal
    // the user wrote; f64 arithmetic would give 100 × (1 − 0.9) = 9.999… instead of 10.
    let split = Decimal::from_str(&split.to_string()).unwrap_or(Decimal::ONE);
    let kept = (Decimal::from(total as u64) * split)
        .floor()
        .to_u64()
        .unwrap_or(total as u64);
    let validation = (total as u64).saturating_sub(kept);
    validation.min(u64::from(cap)) as usize
}

/// Seconds billed for one clip: rounded half up, capped by the model (spec §5.1).
pub fn billable_seconds(duration: f64, cap: u32) -> u64 {
    let rounded = Decimal::from_str(&duration.to_string())
        .map(|d| d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero))
        .ok()
        .and_then(|d| d.to_u64())
        .unwrap_or(u64::MAX);
    rounded.min(u64::from(cap))
}

/// Training tokens: `Σ billable_s × max_pixels × n_epochs / 1024`, rounded up (spec §5.1).
pub fn training_tokens(clip_seconds: &[f64], cap: u32, max_pixels: u64, n_epochs: u32) -> u64 {
    let seconds: u128 = clip_seconds
        .iter()
        .map(|d| u128::from(billable_seconds(*d, cap)))
        .sum();
    let product = seconds * u128::from(max_pixels) * u128::from(n_epochs);
    u64::try_from(product.div_ceil(1024)).unwrap_or(u64::MAX)
}

/// Tokens consumed once `steps_done` of `total_steps` have run (cancellation bills these).
pub fn consumed_tokens(tokens: u64, steps_done: u64, total_steps: u64) -> u64 {
    if total_steps == 0 {
        return 0;
    }
    let done = u128::from(steps_done.min(total_steps));
    (u128::from(tokens) * done / u128::from(total_steps)) as u64
}

/// How a job's training unfolds, fixed when its data processing succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingPlan {
    pub train_samples: usize,
    pub validation_samples: usize,
    pub steps_per_epoch: u64,
    pub total_steps: u64,
    /// Every step at which a checkpoint is saved, ascending; the last is `total_steps`.
    pub checkpoint_steps: Vec<u64>,
    /// Tokens billed for the whole run (the `usage` of a finished job).
    pub tokens: u64,
}

impl TrainingPlan {
    /// Plans a job over `training_samples` samples; `validation_samples` is `Some` when
    /// validation zips were given (which disables the automatic split).
    pub fn new(
        hyper: &HyperParameters,
        model: &ModelProfile,
        training_samples: usize,
        validation_samples: Option<usize>,
        clip_seconds: &[f64],
    ) -> Result<Self, String> {
        let validation = validation_samples.unwrap_or_else(|| {
            auto_split_validation_count(
                training_samples,
                hyper.split,
                hyper.max_split_val_dataset_sample,
            )
        });
        let train_samples = if validation_samples.is_some() {
            training_samples
        } else {
            training_samples - validation
        };
        if train_samples == 0 {
            return Err("no training samples are left after the validation split".into());
        }
        let steps_per_epoch = (train_samples as u64).div_ceil(u64::from(hyper.batch_size));
        let total_steps = steps_per_epoch.saturating_mul(u64::from(hyper.n_epochs));
        let eval_interval = steps_per_epoch.saturating_mul(u64::from(hyper.eval_epochs));
        Ok(TrainingPlan {
            train_samples,
            validation_samples: validation,
            steps_per_epoch,
            total_steps,
            checkpoint_steps: checkpoint_steps(total_steps, eval_interval),
            tokens: training_tokens(
                clip_seconds,
                model.max_clip_seconds,
                hyper.max_pixels,
                hyper.n_epochs,
            ),
        })
    }
}

/// Checkpoints every `interval` steps plus the final step (spec §6.14, emulator convention).
///
/// The create-time rule `10 × eval_epochs ≥ n_epochs` bounds this to about eleven entries.
pub fn checkpoint_steps(total_steps: u64, interval: u64) -> Vec<u64> {
    let interval = interval.max(1);
    let mut steps: Vec<u64> = (1..)
        .map(|k| k * interval)
        .take_while(|s| *s < total_steps)
        .collect();
    steps.push(total_steps);
    steps
}

/// The checkpoints kept once `reached` have been saved: the last `limit` (save_total_limit).
pub fn kept_checkpoints(reached: &[u64], limit: u32) -> &[u64] {
    let limit = limit as usize;
    &reached[reached.len().saturating_sub(limit)..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::find;
    use serde_json::json;

    fn wan25() -> &'static ModelProfile {
        find("wan2.5-i2v-preview").expect("known model")
    }

    #[test]
    fn split_uses_exact_decimal_rounding() {
        assert_eq!(auto_split_validation_count(100, 0.9, 5), 5);
        assert_eq!(auto_split_validation_count(100, 0.9, 50), 10);
        assert_eq!(auto_split_validation_count(15, 0.9, 5), 2);
        assert_eq!(auto_split_validation_count(1, 0.9, 5), 1);
    }

    #[test]
    fn billing_matches_the_worked_examples() {
        assert_eq!(billable_seconds(6.5, 10), 7);
        assert_eq!(billable_seconds(0.4, 10), 0);
        assert_eq!(billable_seconds(11.5, 10), 10);
        // Spec §5.2 examples A, B, C, D.
        assert_eq!(training_tokens(&[3.4, 6.5], 5, 262_144, 400), 819_200);
        assert_eq!(training_tokens(&[3.4, 11.5], 10, 36_864, 400), 187_200);
        assert_eq!(training_tokens(&[10.0], 10, 36_864, 800), 288_000);
        assert_eq!(training_tokens(&[3.4, 11.5], 10, 36_864, 800), 374_400);
        // Not a multiple of 1024: rounded up.
        assert_eq!(training_tokens(&[1.0], 10, 1025, 1), 2);
    }

    #[test]
    fn checkpoints_every_interval_plus_final_and_retention() {
        assert_eq!(checkpoint_steps(100, 30), vec![30, 60, 90, 100]);
        assert_eq!(checkpoint_steps(90, 30), vec![30, 60, 90]);
        assert_eq!(checkpoint_steps(10, 50), vec![10]);
        assert_eq!(kept_checkpoints(&[30, 60, 90, 100], 2), &[90, 100]);
        assert_eq!(kept_checkpoints(&[30], 20), &[30]);
    }

    #[test]
    fn plan_counts_steps_after_the_split() {
        let hyper = HyperParameters {
            n_epochs: 10,
            eval_epochs: 4,
            ..HyperParameters::defaults(wan25())
        };
        // 15 samples: 2 auto-split for validation, 13 train at batch 2 → 7 steps per epoch.
        let plan = TrainingPlan::new(&hyper, wan25(), 15, None, &[5.0; 15]).expect("plan");
        assert_eq!((plan.train_samples, plan.validation_samples), (13, 2));
        assert_eq!((plan.steps_per_epoch, plan.total_steps), (7, 70));
        assert_eq!(plan.checkpoint_steps, vec![28, 56, 70]);
        assert_eq!(plan.tokens, 75 * 36 * 10);
        // A validation zip disables the split.
        let plan = TrainingPlan::new(&hyper, wan25(), 15, Some(3), &[]).expect("plan");
        assert_eq!((plan.train_samples, plan.steps_per_epoch), (15, 8));
    }

    #[test]
    fn consumed_tokens_are_proportional_to_steps() {
        assert_eq!(consumed_tokens(1000, 25, 100), 250);
        assert_eq!(consumed_tokens(1000, 200, 100), 1000);
        assert_eq!(consumed_tokens(1000, 1, 0), 0);
    }

    #[test]
    fn missing_keys_take_model_defaults() {
        let hyper = HyperParameters::from_request(wan25(), None).expect("defaults");
        assert_eq!(hyper, HyperParameters::defaults(wan25()));
        assert_eq!(hyper.batch_size, 2);
        assert_eq!(hyper.task_type, None);
        let given = json!({"n_epochs": 100.0, "learning_rate": 1e-4, "unknown": true});
        let hyper = HyperParameters::from_request(wan25(), Some(&given)).expect("valid");
        assert_eq!((hyper.n_epochs, hyper.learning_rate), (100, 1e-4));
        let wan27 = find("wan2.7-i2v").expect("known model");
        let hyper = HyperParameters::from_request(wan27, None).expect("defaults");
        assert_eq!(hyper.task_type, Some(TaskType::I2v));
    }

    #[test]
    fn create_time_checks_reject_with_platform_messages() {
        let cases = [
            (
                json!({"max_pixels": 40000}),
                "does not support max_pixels: 40000",
            ),
            (
                json!({"eval_epochs": 39}),
                "10 * eval_epochs must not be less than n_epochs: 400",
            ),
            (json!({"split": 1.0}), "split: 1 is invalid"),
            (json!({"split": 0}), "split: 0 is invalid"),
            (
                json!({"max_split_val_dataset_sample": 0}),
                "max_split_val_dataset_sample: 0",
            ),
            (
                json!({"lora_rank": 24}),
                "lora_rank: 24 is invalid, it must be a power of two",
            ),
            (json!({"lora_alpha": 0}), "lora_alpha: 0 is invalid"),
            (json!({"n_epochs": 0}), "n_epochs: 0 is invalid"),
            (json!({"batch_size": -2}), "batch_size: -2 is invalid"),
            (json!({"learning_rate": 0}), "learning_rate: 0 is invalid"),
            (
                json!({"save_total_limit": 0}),
                "save_total_limit: 0 is invalid",
            ),
            (
                json!({"n_epochs": 1.5}),
                "n_epochs: 1.5 is invalid, it must be an integer",
            ),
            (
                json!({"task_type": "kf2v"}),
                "does not support hyper parameter task_type",
            ),
            (json!([1]), "must be a JSON object"),
        ];
        for (given, expected) in cases {
            let err = HyperParameters::from_request(wan25(), Some(&given)).expect_err("rejected");
            assert!(err.contains(expected), "{given}: {err}");
        }
        let wan27 = find("wan2.7-i2v").expect("known model");
        let err = HyperParameters::from_request(wan27, Some(&json!({"task_type": "t2v"})))
            .expect_err("rejected");
        assert!(err.contains("must be i2v or kf2v"), "{err}");
    }
}
