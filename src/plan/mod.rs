//! Planning a fine-tuning job before upload: samples, steps, epochs, checkpoints, tokens and
//! the fee, plus the `H` findings on the hyper-parameters (spec §3–§5).
//!
//! Everything here is pure and deterministic: [`estimate`] turns a [`PlanInput`] (model, region,
//! hyper-parameters, clip durations) into a [`Plan`]; [`Gates`] turns a plan into a budget
//! verdict; [`json`] is the versioned machine-readable form.
//!
//! Arithmetic follows the spec to the letter: the split in exact decimal (§4.3), tokens in
//! integers (§5.1), fees in exact decimal. Where the platform is silent (are auto-split
//! validation clips billed?) the plan shows both figures and labels the bound.

pub mod billing;
pub mod dataset;
pub mod gates;
pub mod json;
pub mod schedule;
pub mod split;

use rust_decimal::Decimal;
use serde::Serialize;

use crate::hyper::{HyperParams, ResolvedHyperParams};
use crate::models::{ModelProfile, Region};
use crate::rules::{self, Findings};

/// A training clip and its duration, as `check` reports it.
pub use crate::check::Clip;

pub use billing::{Estimate, Money, PriceSource, UnitPrice};
pub use gates::{GateResult, GateStatus, Gates, Readiness};
pub use schedule::{Checkpoints, EpochsSource, EvaluationPoint, Steps};
pub use split::{SampleCounts, ValidationSource};

/// Training steps the platform recommends at least (spec §4.1).
pub const RECOMMENDED_STEPS: u64 = 800;

/// Total step counts of the "what would it cost" table.
pub const STEP_TARGETS: [u64; 3] = [800, 1000, 2000];

/// Everything a plan depends on.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub model: &'static ModelProfile,
    pub region: Region,
    /// The hyper-parameters as given; unset keys take their defaults, except `n_epochs`, which
    /// the planner recommends.
    pub hyper: HyperParams,
    /// Every clip of the training set(s).
    pub training: Vec<Clip>,
    /// Samples of the validation set, when one is given (this disables the automatic split).
    pub validation_count: Option<usize>,
    /// Price per 1,000 tokens in the region's currency, replacing the price list's.
    pub price_override: Option<Decimal>,
}

/// A clip and what it bills.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClipBilling {
    pub path: String,
    pub duration_s: Option<f64>,
    /// `None` when the duration is unknown (counted as 0 s).
    pub billable_s: Option<u32>,
    /// True when the model's cap shortened the billed time.
    pub capped: bool,
}

/// Tokens and fee if the run were stretched (or shortened) to a given number of steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StepTarget {
    pub target_steps: u64,
    /// The fewest epochs reaching the target.
    pub n_epochs: u32,
    pub total_steps: u64,
    pub tokens: u128,
    pub fee: Option<Money>,
}

/// The result of [`estimate`].
#[derive(Debug, Clone)]
pub struct Plan {
    pub model: &'static ModelProfile,
    pub region: Region,
    /// The hyper-parameters as given.
    pub given: HyperParams,
    /// The values the plan is made for: defaults applied and `n_epochs` as planned.
    pub hyper: ResolvedHyperParams,
    pub samples: SampleCounts,
    pub steps: Steps,
    pub checkpoints: Checkpoints,
    /// Every training clip, in input order.
    pub clips: Vec<ClipBilling>,
    pub price: Option<UnitPrice>,
    /// Every training clip billed: the upper bound (unless durations are unknown).
    pub all_clips: Estimate,
    /// The automatically split-off validation clips not billed, assuming the longest were
    /// split off: the lower bound. `None` when nothing is split off.
    pub without_split_validation: Option<Estimate>,
    /// Clips of unknown duration; when non-zero every fee is a lower bound.
    pub unknown_durations: usize,
    /// Tokens and fees at [`STEP_TARGETS`] (empty without training samples).
    pub table: Vec<StepTarget>,
    /// The `H` findings, in report order.
    pub findings: Findings,
}

impl Plan {
    /// The hyper-parameters to send for the job this plan describes: as given, with `n_epochs`
    /// always explicit (the planned value: never the platform's silent default) and
    /// `eval_epochs` as planned when the planner had to raise it.
    pub fn job_hyper_parameters(&self) -> HyperParams {
        HyperParams {
            n_epochs: Some(self.hyper.n_epochs),
            eval_epochs: self.given.eval_epochs.or(Some(self.hyper.eval_epochs)),
            ..self.given.clone()
        }
    }

    /// True when every figure is exact: all durations known and a price available.
    pub fn fee_is_complete(&self) -> bool {
        self.unknown_durations == 0 && self.all_clips.fee.is_some()
    }
}

/// Plans the job described by `input`.
pub fn estimate(input: &PlanInput) -> Plan {
    let model = input.model;
    let defaults = input.hyper.resolve(model);
    let samples = split::divide(
        input.training.len(),
        input.validation_count,
        defaults.split,
        defaults.max_split_val_dataset_sample,
    );
    let steps = Steps::new(
        samples.training,
        defaults.batch_size,
        input.hyper.n_epochs,
        HyperParams::DEFAULT_N_EPOCHS,
    );
    let planned = HyperParams {
        n_epochs: Some(steps.n_epochs),
        eval_epochs: input
            .hyper
            .eval_epochs
            .or_else(|| recommended_eval_epochs(&steps)),
        ..input.hyper.clone()
    };
    let hyper = planned.resolve(model);
    let checkpoints = Checkpoints::new(&steps, hyper.eval_epochs, hyper.save_total_limit);

    let clips: Vec<ClipBilling> = input
        .training
        .iter()
        .map(|clip| bill(clip, model.max_clip_seconds))
        .collect();
    let seconds: Vec<u32> = clips.iter().map(|c| c.billable_s.unwrap_or(0)).collect();
    let price = billing::unit_price(model, input.region, input.price_override);
    let estimate_for = |seconds: &[u32], n_epochs: u32| {
        Estimate::new(
            seconds.iter().copied(),
            hyper.max_pixels,
            n_epochs,
            price.as_ref(),
        )
    };
    let all_clips = estimate_for(&seconds, hyper.n_epochs);
    let without_split_validation = (samples.split_off() > 0).then(|| {
        // Which clips the platform splits off is undocumented; leaving out the longest gives
        // a true lower bound.
        let mut longest_first = seconds.clone();
        longest_first.sort_unstable_by(|a, b| b.cmp(a));
        let kept = longest_first.get(samples.split_off()..).unwrap_or(&[]);
        estimate_for(kept, hyper.n_epochs)
    });
    let table = STEP_TARGETS
        .iter()
        .filter_map(|&target| {
            let n_epochs = u32::try_from(schedule::epochs_for(target, steps.per_epoch)?).ok()?;
            let estimate = estimate_for(&seconds, n_epochs);
            Some(StepTarget {
                target_steps: target,
                n_epochs,
                total_steps: u64::from(n_epochs) * steps.per_epoch,
                tokens: estimate.tokens,
                fee: estimate.fee,
            })
        })
        .collect();

    let mut findings: Findings = rules::hyper::check(
        model,
        input.region,
        &planned,
        input.validation_count.is_some(),
    )
    .into_iter()
    .collect();
    if steps.per_epoch > 0 {
        findings.extend(rules::hyper::check_steps(
            steps.total,
            steps.min_n_epochs,
            hyper.eval_epochs,
        ));
    }
    findings.extend(rules::hyper::check_price(
        model,
        input.region,
        input.price_override.is_some(),
    ));
    let unknown: Vec<&str> = clips
        .iter()
        .filter(|c| c.billable_s.is_none())
        .map(|c| c.path.as_str())
        .collect();
    let unknown_durations = unknown.len();
    findings.extend(rules::hyper::durations_unknown(&unknown));
    findings.finish();

    Plan {
        model,
        region: input.region,
        given: input.hyper.clone(),
        hyper,
        samples,
        steps,
        checkpoints,
        clips,
        price,
        all_clips,
        without_split_validation,
        unknown_durations,
        table,
        findings,
    }
}

/// What `clip` bills under a cap of `cap` seconds (the model's `max_clip_seconds`).
pub fn bill(clip: &Clip, cap: u32) -> ClipBilling {
    let billable_s = clip
        .duration_s
        .and_then(|d| billing::billable_seconds(d, cap));
    ClipBilling {
        path: clip.path.clone(),
        duration_s: clip.duration_s,
        billable_s,
        capped: billable_s.is_some() && clip.duration_s.is_some_and(|d| d.round() > f64::from(cap)),
    }
}

/// When the planner chose `n_epochs` and the user left `eval_epochs` unset, the default may
/// break the rule `10 × eval_epochs ≥ n_epochs` (short epochs need many of them); the plan then
/// uses the smallest value that keeps it, rather than report an error of its own making.
fn recommended_eval_epochs(steps: &Steps) -> Option<u32> {
    let needed = steps.n_epochs.div_ceil(10);
    (steps.n_epochs_source == EpochsSource::Recommended
        && needed > HyperParams::DEFAULT_EVAL_EPOCHS)
        .then_some(needed)
}

#[cfg(test)]
mod tests;
