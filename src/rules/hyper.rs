//! `H` rules: hyper-parameters and model/region choices (spec §3, §4), checked by `plan`.
//!
//! [`check`] looks at the hyper-parameters alone (the same checks the create-job call makes,
//! spec §4.4, plus advice); the planner adds the rules that need the dataset: the step count,
//! clips of unknown duration, checkpoints and the price.

use super::{Finding, Location, Rule, Severity::*};
use crate::hyper::HyperParams;
use crate::models::{ModelProfile, Price, Region};

pub const TOO_FEW_STEPS: Rule = Rule {
    code: "H001",
    name: "n-epochs-below-800-steps",
    severity: Warning,
    summary: "n_epochs × steps per epoch is below the recommended 800 training steps.",
    why: "The platform recommends at least 800 steps (steps per epoch = ceil(training samples / \
          batch_size)); a shorter run rarely learns the effect and its tokens are wasted.",
    fix: "Raise n_epochs to at least ceil(800 / steps per epoch); `wanft plan` prints the \
          minimum.",
};

pub const NOT_POSITIVE: Rule = Rule {
    code: "H002",
    name: "hyper-parameter-not-positive",
    severity: Error,
    summary: "batch_size, n_epochs, eval_epochs or learning_rate is zero.",
    why: "The create-job call refuses non-positive values with 400 InvalidParameter.",
    fix: "Use a positive value, or leave the key out to get the default.",
};

pub const MAX_PIXELS_OUT_OF_RANGE: Rule = Rule {
    code: "H003",
    name: "max-pixels-out-of-range",
    severity: Error,
    summary: "max_pixels is outside the model's accepted range.",
    why: "Each model accepts its own inclusive max_pixels range (e.g. 16384–36864 for \
          wan2.5-i2v-preview); the create-job call refuses other values.",
    fix: "Pick a value inside the model's range, or leave the key out to get its default.",
};

pub const LORA_NOT_POWER_OF_TWO: Rule = Rule {
    code: "H004",
    name: "lora-not-power-of-two",
    severity: Error,
    summary: "lora_rank or lora_alpha is not a power of two.",
    why: "The create-job call refuses a lora_rank or lora_alpha that is not a power of two.",
    fix: "Use 16, 32 or 64 (the default is 32).",
};

pub const EVAL_EPOCHS_TOO_LARGE: Rule = Rule {
    code: "H005",
    name: "eval-epochs-below-tenth",
    severity: Error,
    summary: "10 × eval_epochs is less than n_epochs.",
    why: "The platform requires eval_epochs ≥ n_epochs / 10, which bounds the number of \
          evaluation points (and their preview videos) to about ten.",
    fix: "Raise eval_epochs to at least ceil(n_epochs / 10).",
};

pub const SPLIT_OUT_OF_RANGE: Rule = Rule {
    code: "H006",
    name: "split-out-of-range",
    severity: Error,
    summary: "split is not strictly between 0 and 1.",
    why: "split is the share of samples kept for training by the automatic validation split; \
          the create-job call refuses values outside (0, 1).",
    fix: "Use a value such as 0.9 (the default), or supply a validation set.",
};

pub const MAX_SPLIT_VAL_INVALID: Rule = Rule {
    code: "H007",
    name: "max-split-val-samples-invalid",
    severity: Error,
    summary: "max_split_val_dataset_sample is zero.",
    why: "The create-job call requires max_split_val_dataset_sample ≥ 1.",
    fix: "Use a positive value (the default is 5), or leave the key out.",
};

pub const SAVE_TOTAL_LIMIT_INVALID: Rule = Rule {
    code: "H008",
    name: "save-total-limit-invalid",
    severity: Error,
    summary: "save_total_limit is zero.",
    why: "save_total_limit is the number of checkpoints kept; the create-job call requires at \
          least 1.",
    fix: "Use a positive value (the default is 20), or leave the key out.",
};

pub const MODEL_NOT_IN_REGION: Rule = Rule {
    code: "H009",
    name: "model-not-offered-in-region",
    severity: Error,
    summary: "The model cannot be fine-tuned in the chosen region.",
    why: "Models, keys and jobs are bound to a region; e.g. wan2.6-i2v is fine-tuned only in \
          Singapore.",
    fix: "Choose the other region (and its API key), or a model offered in this one.",
};

pub const TASK_TYPE_UNSUPPORTED: Rule = Rule {
    code: "H010",
    name: "task-type-not-supported",
    severity: Error,
    summary: "task_type is set for a model that does not take it.",
    why: "Only wan2.7-i2v chooses its task with task_type; other models refuse the key.",
    fix: "Remove task_type, or choose wan2.7-i2v.",
};

pub const BATCH_SIZE_NOT_FIXED: Rule = Rule {
    code: "H011",
    name: "batch-size-not-model-default",
    severity: Warning,
    summary: "batch_size differs from the model's fixed value.",
    why: "batch_size is described as fixed per model; another value may be refused or \
          ignored, and it changes the step count the plan is based on.",
    fix: "Leave batch_size out, or set it to the model's value.",
};

pub const PRICE_UNKNOWN: Rule = Rule {
    code: "H012",
    name: "price-unknown",
    severity: Warning,
    summary: "No price is known for this model in this region, so the fee cannot be computed.",
    why: "Some prices are not published (wan2.7-i2v in Singapore); a plan without a fee \
          cannot protect the budget.",
    fix: "Pass --price AMOUNT (per 1,000 tokens) or set price in the [plan] section of \
          wanft.toml.",
};

pub const SPLIT_IGNORED: Rule = Rule {
    code: "H013",
    name: "split-settings-ignored",
    severity: Info,
    summary: "split or max_split_val_dataset_sample is set although a validation set is given.",
    why: "Supplying a validation set disables the automatic split entirely; these keys have no \
          effect.",
    fix: "Remove the keys, or drop the validation set to use the automatic split.",
};

pub const NO_INTERMEDIATE_CHECKPOINT: Rule = Rule {
    code: "H014",
    name: "no-intermediate-checkpoint",
    severity: Warning,
    summary: "eval_epochs is not below n_epochs: only the final checkpoint will exist.",
    why: "Checkpoints (and their preview videos) are made every eval_epochs epochs; without an \
          intermediate one there is nothing to compare or to fall back to if the final model \
          overfits.",
    fix: "Set eval_epochs to about n_epochs / 10 (but not below it).",
};

pub const DURATION_UNKNOWN: Rule = Rule {
    code: "H015",
    name: "clip-duration-unknown",
    severity: Warning,
    summary: "Training clips whose duration could not be read; the fee is a lower bound.",
    why: "Tokens are billed per second of every training clip; a clip of unknown length is \
          counted as 0 s.",
    fix: "Fix or re-encode the clip (`wanft check` says what is wrong with it).",
};

pub const LEARNING_RATE_NOT_DEFAULT: Rule = Rule {
    code: "H016",
    name: "learning-rate-not-default",
    severity: Info,
    summary: "learning_rate differs from the default 2e-5.",
    why: "The platform advises keeping the default: too high degrades the model, too low \
          changes little. Tune n_epochs first.",
    fix: "Leave learning_rate out unless an experiment showed a better value.",
};

pub const RULES: &[&Rule] = &[
    &TOO_FEW_STEPS,
    &NOT_POSITIVE,
    &MAX_PIXELS_OUT_OF_RANGE,
    &LORA_NOT_POWER_OF_TWO,
    &EVAL_EPOCHS_TOO_LARGE,
    &SPLIT_OUT_OF_RANGE,
    &MAX_SPLIT_VAL_INVALID,
    &SAVE_TOTAL_LIMIT_INVALID,
    &MODEL_NOT_IN_REGION,
    &TASK_TYPE_UNSUPPORTED,
    &BATCH_SIZE_NOT_FIXED,
    &PRICE_UNKNOWN,
    &SPLIT_IGNORED,
    &NO_INTERMEDIATE_CHECKPOINT,
    &DURATION_UNKNOWN,
    &LEARNING_RATE_NOT_DEFAULT,
];

/// Checks the hyper-parameters of a job for `model` in `region`, as given (unset keys take
/// their defaults, and only keys the user set draw advice). `validation_given` tells whether a
/// validation set disables the automatic split.
///
/// These are the checks of the create-job call (spec §4.4) plus advice; they need no dataset.
/// Except for the region (H009), every error reads `<key>: <value> is …`, the platform's own
/// phrasing without its subject, so that the emulator answers a refused job with the same
/// finding (`The hyper parameter <message>`).
pub fn check(
    model: &ModelProfile,
    region: Region,
    given: &HyperParams,
    validation_given: bool,
) -> Vec<Finding> {
    let hyper = given.resolve(model);
    let mut findings = Vec::new();
    let mut report = |rule: &'static Rule, message: String| {
        findings.push(Finding::new(rule, Location::dataset(), message));
    };

    if !model.offered_in(region) {
        let offered: Vec<&str> = model.regions().map(Region::id).collect();
        report(
            &MODEL_NOT_IN_REGION,
            format!(
                "{} is not fine-tuned in {region}; it is offered in {}",
                model.name,
                offered.join(", ")
            ),
        );
    }

    for (key, value) in [
        ("batch_size", hyper.batch_size),
        ("n_epochs", hyper.n_epochs),
        ("eval_epochs", hyper.eval_epochs),
    ] {
        if value == 0 {
            report(
                &NOT_POSITIVE,
                format!("{key}: 0 is invalid, it must be a positive integer"),
            );
        }
    }
    // Written so that NaN fails too.
    if !(hyper.learning_rate.is_finite() && hyper.learning_rate > 0.0) {
        report(
            &NOT_POSITIVE,
            format!(
                "learning_rate: {} is invalid, it must be a positive number",
                hyper.learning_rate
            ),
        );
    } else if given.learning_rate.is_some()
        && hyper.learning_rate != HyperParams::DEFAULT_LEARNING_RATE
    {
        report(
            &LEARNING_RATE_NOT_DEFAULT,
            format!(
                "learning_rate is {:e}; the default is 2e-5",
                hyper.learning_rate
            ),
        );
    }

    let (low, high) = model.max_pixels_range;
    if !(low..=high).contains(&u64::from(hyper.max_pixels)) {
        report(
            &MAX_PIXELS_OUT_OF_RANGE,
            format!(
                "max_pixels: {} is not supported by {}, it must be between {low} and {high}",
                hyper.max_pixels, model.name
            ),
        );
    }

    for (key, value) in [
        ("lora_rank", hyper.lora_rank),
        ("lora_alpha", hyper.lora_alpha),
    ] {
        // Spec §4: `v > 0 && v & (v - 1) == 0`, which is what `is_power_of_two` tests.
        if !value.is_power_of_two() {
            report(
                &LORA_NOT_POWER_OF_TWO,
                format!("{key}: {value} is invalid, it must be a power of two"),
            );
        }
    }

    if hyper.eval_epochs > 0 && u64::from(hyper.eval_epochs) * 10 < u64::from(hyper.n_epochs) {
        report(
            &EVAL_EPOCHS_TOO_LARGE,
            format!(
                "eval_epochs: {} is invalid, 10 * eval_epochs must not be less than n_epochs: {} \
                 (use at least {})",
                hyper.eval_epochs,
                hyper.n_epochs,
                hyper.n_epochs.div_ceil(10)
            ),
        );
    }
    if hyper.eval_epochs > 0 && hyper.n_epochs > 0 && hyper.eval_epochs >= hyper.n_epochs {
        report(
            &NO_INTERMEDIATE_CHECKPOINT,
            format!(
                "eval_epochs {} is not below n_epochs {}: the only checkpoint is the final one",
                hyper.eval_epochs, hyper.n_epochs
            ),
        );
    }

    // `!(0 < s < 1)` also catches NaN.
    if !(hyper.split > 0.0 && hyper.split < 1.0) {
        report(
            &SPLIT_OUT_OF_RANGE,
            format!(
                "split: {} is invalid, it must be greater than 0 and less than 1",
                hyper.split
            ),
        );
    }
    if hyper.max_split_val_dataset_sample == 0 {
        report(
            &MAX_SPLIT_VAL_INVALID,
            "max_split_val_dataset_sample: 0 is invalid, it must be a positive integer".to_owned(),
        );
    }
    if validation_given {
        let ignored: Vec<&str> = [
            ("split", given.split.is_some()),
            (
                "max_split_val_dataset_sample",
                given.max_split_val_dataset_sample.is_some(),
            ),
        ]
        .into_iter()
        .filter_map(|(key, set)| set.then_some(key))
        .collect();
        if !ignored.is_empty() {
            report(
                &SPLIT_IGNORED,
                format!(
                    "{} has no effect: a validation set is given, so no automatic split is made",
                    ignored.join(" and ")
                ),
            );
        }
    }

    if hyper.save_total_limit == 0 {
        report(
            &SAVE_TOTAL_LIMIT_INVALID,
            "save_total_limit: 0 is invalid, it must be a positive integer".to_owned(),
        );
    }

    if let Some(task) = given.task_type
        && !model.supports_task_type()
    {
        report(
            &TASK_TYPE_UNSUPPORTED,
            format!(
                "task_type: {task} is not supported by {}, which trains {} only",
                model.name,
                model.default_task()
            ),
        );
    }

    if hyper.batch_size != 0 && hyper.batch_size != model.default_batch_size {
        report(
            &BATCH_SIZE_NOT_FIXED,
            format!(
                "batch_size {} differs from {}'s fixed value {}",
                hyper.batch_size, model.name, model.default_batch_size
            ),
        );
    }

    findings
}

/// H001: the run is shorter than the recommended 800 steps. The hint names the epochs that
/// reach them, and the `eval_epochs` that would then be needed.
pub fn check_steps(
    total_steps: u64,
    min_n_epochs: Option<u64>,
    eval_epochs: u32,
) -> Option<Finding> {
    if total_steps >= crate::plan::RECOMMENDED_STEPS {
        return None;
    }
    let finding = Finding::new(
        &TOO_FEW_STEPS,
        Location::dataset(),
        format!(
            "{total_steps} training steps, below the recommended {}",
            crate::plan::RECOMMENDED_STEPS
        ),
    );
    Some(match min_n_epochs {
        Some(n) if u64::from(eval_epochs) * 10 < n => finding.hint(format!(
            "set n_epochs to at least {n}, and eval_epochs to at least {}",
            n.div_ceil(10)
        )),
        Some(n) => finding.hint(format!("set n_epochs to at least {n}")),
        None => finding,
    })
}

/// H012: the model's price in the region is unpublished and none was supplied.
pub fn check_price(model: &ModelProfile, region: Region, override_given: bool) -> Option<Finding> {
    (model.price(region) == Price::Unknown && !override_given).then(|| {
        Finding::new(
            &PRICE_UNKNOWN,
            Location::dataset(),
            format!(
                "the price of {} in {region} is not published; the fee is unknown",
                model.name
            ),
        )
    })
}

/// H015: some training clips have no known duration. One finding for all of them: `check`
/// already reports each unreadable file, the plan only needs to say that its fee is a floor.
pub fn durations_unknown(paths: &[&str]) -> Option<Finding> {
    const NAMED: usize = 3;
    let (named, rest) = paths.split_at(paths.len().min(NAMED));
    let first = *named.first()?;
    let mut list = named.join(", ");
    if !rest.is_empty() {
        list.push_str(&format!(" and {} more", rest.len()));
    }
    let (count, location) = match paths.len() {
        1 => ("1 clip".to_owned(), Location::file(first)),
        n => (format!("{n} clips"), Location::dataset()),
    };
    Some(Finding::new(
        &DURATION_UNKNOWN,
        location,
        format!("{count} of unknown duration ({list}) counted as 0 s: the fee is a lower bound"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models;

    fn codes(findings: &[Finding]) -> Vec<&'static str> {
        let mut codes: Vec<_> = findings.iter().map(|f| f.rule.code).collect();
        codes.sort_unstable();
        codes
    }

    fn check_model(name: &str, region: Region, given: HyperParams) -> Vec<&'static str> {
        let model = models::find(name).expect("model in the table");
        codes(&check(model, region, &given, false))
    }

    #[test]
    fn defaults_are_clean_for_every_model_where_it_is_offered() {
        for model in models::MODELS {
            for region in model.regions() {
                assert!(
                    check(model, region, &HyperParams::default(), false).is_empty(),
                    "{} in {region}",
                    model.name
                );
            }
        }
    }

    #[test]
    fn create_job_refusals_are_errors() {
        let bad = HyperParams {
            n_epochs: Some(0),
            batch_size: Some(0),
            learning_rate: Some(0.0),
            max_pixels: Some(36_865),
            lora_rank: Some(48),
            lora_alpha: Some(0),
            split: Some(1.0),
            max_split_val_dataset_sample: Some(0),
            save_total_limit: Some(0),
            task_type: Some(models::TaskType::Kf2v),
            ..HyperParams::default()
        };
        let found = check_model("wan2.5-i2v-preview", Region::CnBeijing, bad);
        for code in ["H002", "H003", "H004", "H006", "H007", "H008", "H010"] {
            assert!(found.contains(&code), "{code} missing from {found:?}");
        }
        assert_eq!(found.iter().filter(|c| **c == "H002").count(), 3);
        assert_eq!(found.iter().filter(|c| **c == "H004").count(), 2);
    }

    #[test]
    fn create_job_refusals_name_the_key_and_its_value() {
        let model = models::find("wan2.5-i2v-preview").unwrap();
        let bad = HyperParams {
            n_epochs: Some(400),
            eval_epochs: Some(0),
            batch_size: Some(0),
            learning_rate: Some(-1.0),
            max_pixels: Some(65_536),
            lora_rank: Some(48),
            split: Some(0.0),
            max_split_val_dataset_sample: Some(0),
            save_total_limit: Some(0),
            task_type: Some(models::TaskType::Kf2v),
            ..HyperParams::default()
        };
        let errors: Vec<String> = check(model, Region::CnBeijing, &bad, false)
            .into_iter()
            .filter(|f| f.severity == Error)
            .map(|f| f.message)
            .collect();
        assert_eq!(errors.len(), 9, "{errors:#?}");
        for message in &errors {
            let (key, rest) = message.split_once(": ").expect("`key: value …`");
            assert!(HyperParams::KEYS.contains(&key), "{message}");
            assert!(
                rest.contains(" is invalid, ") || rest.contains(" is not supported by "),
                "{message}"
            );
        }
        assert!(
            errors.contains(
                &"max_pixels: 65536 is not supported by wan2.5-i2v-preview, it must be between \
                  16384 and 36864"
                    .to_owned()
            ),
            "{errors:#?}"
        );
        let eval = check_model(
            "wan2.5-i2v-preview",
            Region::CnBeijing,
            HyperParams {
                eval_epochs: Some(39),
                ..HyperParams::default()
            },
        );
        assert_eq!(eval, ["H005"]);
    }

    #[test]
    fn eval_epochs_must_reach_a_tenth_of_n_epochs() {
        let at = |n, e| {
            check_model(
                "wan2.5-i2v-preview",
                Region::CnBeijing,
                HyperParams {
                    n_epochs: Some(n),
                    eval_epochs: Some(e),
                    ..HyperParams::default()
                },
            )
        };
        assert!(at(500, 50).is_empty());
        assert_eq!(at(501, 50), ["H005"]);
        assert_eq!(at(40, 50), ["H014"]);
        assert_eq!(at(50, 50), ["H014"]);
    }

    #[test]
    fn region_task_type_and_batch_size() {
        assert_eq!(
            check_model("wan2.6-i2v", Region::CnBeijing, HyperParams::default()),
            ["H009"]
        );
        let kf2v = HyperParams {
            task_type: Some(models::TaskType::Kf2v),
            ..HyperParams::default()
        };
        assert!(check_model("wan2.7-i2v", Region::CnBeijing, kf2v).is_empty());
        let batch = HyperParams {
            batch_size: Some(8),
            ..HyperParams::default()
        };
        assert_eq!(
            check_model("wan2.2-i2v-flash", Region::ApSoutheast1, batch),
            ["H011"]
        );
    }

    #[test]
    fn split_keys_are_reported_as_ignored_with_a_validation_set() {
        let model = models::find("wan2.5-i2v-preview").unwrap();
        let given = HyperParams {
            split: Some(0.8),
            ..HyperParams::default()
        };
        assert_eq!(
            codes(&check(model, Region::CnBeijing, &given, true)),
            ["H013"]
        );
        assert!(check(model, Region::CnBeijing, &given, false).is_empty());
        let nan = HyperParams {
            split: Some(f64::NAN),
            learning_rate: Some(f64::NAN),
            ..HyperParams::default()
        };
        assert_eq!(
            codes(&check(model, Region::CnBeijing, &nan, false)),
            ["H002", "H006"]
        );
    }

    #[test]
    fn learning_rate_advice_only_when_set_and_different() {
        let given = |lr| HyperParams {
            learning_rate: Some(lr),
            ..HyperParams::default()
        };
        assert!(check_model("wan2.5-i2v-preview", Region::CnBeijing, given(2e-5)).is_empty());
        assert_eq!(
            check_model("wan2.5-i2v-preview", Region::CnBeijing, given(1e-4)),
            ["H016"]
        );
    }

    #[test]
    fn price_and_steps() {
        let wan27 = models::find("wan2.7-i2v").unwrap();
        assert!(check_price(wan27, Region::ApSoutheast1, false).is_some());
        assert!(check_price(wan27, Region::ApSoutheast1, true).is_none());
        assert!(check_price(wan27, Region::CnBeijing, false).is_none());
        assert!(durations_unknown(&[]).is_none());
        let one = durations_unknown(&["a.mp4"]).unwrap();
        assert_eq!(one.location.file.as_deref(), Some("a.mp4"));
        let many = durations_unknown(&["a", "b", "c", "d", "e"]).unwrap();
        assert_eq!(many.location, Location::dataset());
        assert!(
            many.message
                .starts_with("5 clips of unknown duration (a, b, c and 2 more)")
        );
        assert!(check_steps(800, Some(267), 50).is_none());
        let short = check_steps(799, Some(267), 50).unwrap();
        assert_eq!(short.effective_hint(), "set n_epochs to at least 267");
        let tiny = check_steps(400, Some(800), 50).unwrap();
        assert_eq!(
            tiny.effective_hint(),
            "set n_epochs to at least 800, and eval_epochs to at least 80"
        );
    }
}
