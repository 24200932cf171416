//! The `hyper_parameters` of a create-job request (spec §4, §4.4).
//!
//! The object is read leniently, as the platform reads it: unknown keys are ignored, a missing
//! key takes the model's default, and `400.0` counts as the integer 400. The values are then
//! judged by the same rules as `wanft plan` ([`rules::hyper::check`]): an error finding refuses
//! the job with 400 `InvalidParameter`, worded `The hyper parameter <finding message>`.

use std::str::FromStr;

use serde_json::{Map, Value};

use crate::hyper::{HyperParams, ResolvedHyperParams};
use crate::models::{ModelProfile, Region, TaskType};
use crate::rules::{self, Severity};

/// The hyper-parameters a job trains with, or the message of the 400 `InvalidParameter`
/// refusing it. `validation_given` tells whether the job has validation files.
pub fn from_request(
    model: &ModelProfile,
    given: Option<&Value>,
    validation_given: bool,
) -> Result<ResolvedHyperParams, String> {
    let given = match given {
        None | Some(Value::Null) => HyperParams::default(),
        Some(Value::Object(object)) => read(object).map_err(|problem| refusal(&problem))?,
        Some(_) => return Err("The parameter hyper_parameters must be a JSON object".into()),
    };
    // One emulator plays every region: the job is judged where its model is offered.
    let region = model.regions().next().unwrap_or(Region::ApSoutheast1);
    let refused = rules::hyper::check(model, region, &given, validation_given)
        .into_iter()
        .find(|finding| finding.severity == Severity::Error);
    match refused {
        Some(finding) => Err(refusal(&finding.message)),
        None => Ok(given.resolve(model)),
    }
}

/// The platform's wording of a refused key, from a problem phrased `<key>: <value> is …` (as
/// the `H` rules phrase their errors).
fn refusal(problem: &str) -> String {
    format!("The hyper parameter {problem}")
}

/// The keys of `object` with the types [`HyperParams`] holds; a problem is phrased like a rule
/// message (`<key>: <value> is invalid, …`).
fn read(object: &Map<String, Value>) -> Result<HyperParams, String> {
    Ok(HyperParams {
        batch_size: whole(object, "batch_size")?,
        n_epochs: whole(object, "n_epochs")?,
        learning_rate: number(object, "learning_rate")?,
        eval_epochs: whole(object, "eval_epochs")?,
        max_pixels: whole(object, "max_pixels")?,
        split: number(object, "split")?,
        max_split_val_dataset_sample: whole(object, "max_split_val_dataset_sample")?,
        save_total_limit: whole(object, "save_total_limit")?,
        lora_rank: whole(object, "lora_rank")?,
        lora_alpha: whole(object, "lora_alpha")?,
        task_type: task_type(object)?,
    })
}

/// A non-negative whole number (`400` or `400.0`, as clients may send either). Zero passes:
/// the rules say which keys must be positive.
fn whole(object: &Map<String, Value>, key: &str) -> Result<Option<u32>, String> {
    let Some(value) = object.get(key) else {
        return Ok(None);
    };
    let integer = value
        .as_i64()
        .map(i128::from)
        .or_else(|| value.as_u64().map(i128::from))
        .or_else(|| {
            // Beyond 2^53 a float no longer holds an exact integer; such values are out of
            // range anyway.
            value
                .as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
                .map(|f| f as i128)
        });
    match integer {
        None => Err(format!("{key}: {value} is invalid, it must be an integer")),
        Some(n) if n < 0 => Err(format!(
            "{key}: {value} is invalid, it must be a positive integer"
        )),
        Some(n) => u32::try_from(n)
            .map(Some)
            .map_err(|_| format!("{key}: {value} is invalid, it must be at most {}", u32::MAX)),
    }
}

fn number(object: &Map<String, Value>, key: &str) -> Result<Option<f64>, String> {
    match object.get(key) {
        None => Ok(None),
        Some(value) => value
            .as_f64()
            .map(Some)
            .ok_or_else(|| format!("{key}: {value} is invalid, it must be a number")),
    }
}

fn task_type(object: &Map<String, Value>) -> Result<Option<TaskType>, String> {
    match object.get("task_type") {
        None => Ok(None),
        Some(value) => value
            .as_str()
            .and_then(|s| TaskType::from_str(s).ok())
            .map(Some)
            .ok_or_else(|| format!("task_type: {value} is invalid, it must be i2v or kf2v")),
    }
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
    fn missing_keys_take_model_defaults() {
        let hyper = from_request(wan25(), None, false).expect("defaults");
        assert_eq!(hyper, HyperParams::default().resolve(wan25()));
        assert_eq!((hyper.batch_size, hyper.max_pixels), (2, 36_864));
        assert_eq!(hyper.task_type, None);
        let given =
            json!({"n_epochs": 100.0, "eval_epochs": 10, "learning_rate": 1e-4, "unknown": true});
        let hyper = from_request(wan25(), Some(&given), false).expect("valid");
        assert_eq!(
            (hyper.n_epochs, hyper.eval_epochs, hyper.learning_rate),
            (100, 10, 1e-4)
        );
        let wan27 = find("wan2.7-i2v").expect("known model");
        let hyper = from_request(wan27, Some(&json!({"task_type": "kf2v"})), false)
            .expect("wan2.7 takes task_type");
        assert_eq!(
            (hyper.task_type, hyper.batch_size),
            (Some(TaskType::Kf2v), 1)
        );
    }

    #[test]
    fn advice_does_not_refuse_a_job() {
        // batch_size other than the model's (H011) and split keys beside a validation set
        // (H013) are advice in `wanft plan`; the platform accepts them.
        let given = json!({"batch_size": 4, "split": 0.8});
        let hyper = from_request(wan25(), Some(&given), true).expect("accepted");
        assert_eq!(hyper.batch_size, 4);
    }

    #[test]
    fn create_time_checks_refuse_in_the_platform_style() {
        let cases = [
            (
                json!({"max_pixels": 40000}),
                "The hyper parameter max_pixels: 40000 is not supported by wan2.5-i2v-preview, \
                 it must be between 16384 and 36864",
            ),
            (
                json!({"eval_epochs": 39}),
                "The hyper parameter eval_epochs: 39 is invalid, 10 * eval_epochs must not be \
                 less than n_epochs: 400",
            ),
            (json!({"split": 1.0}), "split: 1 is invalid"),
            (json!({"split": 0}), "split: 0 is invalid"),
            (
                json!({"max_split_val_dataset_sample": 0}),
                "max_split_val_dataset_sample: 0 is invalid",
            ),
            (
                json!({"lora_rank": 24}),
                "The hyper parameter lora_rank: 24 is invalid, it must be a power of two",
            ),
            (json!({"lora_alpha": 0}), "lora_alpha: 0 is invalid"),
            (json!({"n_epochs": 0}), "n_epochs: 0 is invalid"),
            (json!({"eval_epochs": 0}), "eval_epochs: 0 is invalid"),
            (
                json!({"batch_size": -2}),
                "The hyper parameter batch_size: -2 is invalid, it must be a positive integer",
            ),
            (json!({"n_epochs": 5_000_000_000_u64}), "it must be at most"),
            (json!({"learning_rate": 0}), "learning_rate: 0 is invalid"),
            (json!({"learning_rate": "fast"}), "it must be a number"),
            (
                json!({"save_total_limit": 0}),
                "save_total_limit: 0 is invalid",
            ),
            (
                json!({"n_epochs": 1.5}),
                "The hyper parameter n_epochs: 1.5 is invalid, it must be an integer",
            ),
            (
                json!({"task_type": "kf2v"}),
                "task_type: kf2v is not supported by wan2.5-i2v-preview",
            ),
            (json!({"task_type": "t2v"}), "must be i2v or kf2v"),
            (json!([1]), "must be a JSON object"),
        ];
        for (given, expected) in cases {
            let err = from_request(wan25(), Some(&given), false).expect_err("refused");
            assert!(err.contains(expected), "{given}: {err}");
        }
    }
}
