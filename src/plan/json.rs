//! The machine-readable plan (`wanft plan --format json`), schema version [`SCHEMA_VERSION`].
//!
//! The version changes whenever a key is removed, renamed or changes meaning; new keys may be
//! added within a version. Amounts of money are objects
//! `{"amount": "49.152", "currency": "CNY", "display": "¥49.152"}` whose `amount` is a decimal
//! string (exact); `null` means unknown.
//!
//! ```text
//! schema_version  1
//! tool            {name, version}
//! inputs          {model, region, currency, hyper_parameters (as given), validation_set (bool),
//!                  price_override (decimal string | null), prices_as_of}
//! datasets        [{path, role: "training" | "validation", samples, errors, warnings,
//!                   findings: [finding as below; errors and warnings]}]
//!                 (the sets read from disk; empty for --clip-seconds plans)
//! hyper_parameters  every key with the value the plan uses (defaults applied, n_epochs planned)
//! counts          {supplied, training, validation, validation_source: "given" | "auto_split"}
//! steps           {per_epoch, min_n_epochs (null without samples), n_epochs,
//!                  n_epochs_source: "given" | "recommended" | "default", total, recommended}
//! checkpoints     {every_epochs, every_steps, count, save_total_limit, kept, unlisted,
//!                  points: [{epoch, step, checkpoint, kept}]}   (the last 100 points at most)
//! clips           [{path, duration_s (null: unknown), billable_s (null: unknown), capped}]
//! tokens          {billable_seconds, all_clips, without_split_validation (null: no split),
//!                  unknown_durations}
//! fee             {unit_price (money | null), price_source ("price_list" | "override" | null),
//!                  all_clips (money | null: the upper bound), without_split_validation
//!                  (money | null: the lower bound), lower_bound_only (bool: durations unknown)}
//! table           [{target_steps, n_epochs, total_steps, tokens, fee (money | null)}]
//! findings        [{rule, name, severity, file, line, column, message, hint}]  (as in `check`)
//! suppressed      [{rule, count, reason, …}]  (hidden by the rule configuration, as in `check`)
//! gates           [{gate: "max-cost" | "max-steps", limit, actual,
//!                   status: "passed" | "exceeded" | "undetermined", reason?}]
//! summary         {errors, warnings, infos (the plan's own findings), dataset_errors,
//!                  dataset_warnings, gates_failed, ok (no error of either kind, no failed gate)}
//! ```

use serde::Serialize;

use super::dataset::DatasetSummary;
use super::{Checkpoints, EvaluationPoint, Money, RECOMMENDED_STEPS, SampleCounts};
use super::{ClipBilling, GateResult, Plan, PriceSource, StepTarget, Steps};
use crate::hyper::{HyperParams, ResolvedHyperParams};
use crate::models::{PRICES_AS_OF, Region};
use crate::report::json::{JsonFinding, Suppressed, Tool};
use crate::rules::Severity;

/// Version of the document below; see the module documentation.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole JSON document of a plan and its gates.
#[derive(Serialize)]
pub struct PlanDocument<'a> {
    schema_version: u32,
    tool: Tool,
    inputs: Inputs<'a>,
    datasets: Vec<DatasetJson<'a>>,
    hyper_parameters: &'a ResolvedHyperParams,
    counts: &'a SampleCounts,
    steps: StepsJson<'a>,
    checkpoints: CheckpointsJson<'a>,
    clips: &'a [ClipBilling],
    tokens: Tokens,
    fee: Fee,
    table: &'a [StepTarget],
    findings: Vec<JsonFinding<'a>>,
    suppressed: Vec<Suppressed<'a>>,
    gates: &'a [GateResult],
    summary: Summary,
}

#[derive(Debug, Serialize)]
struct Inputs<'a> {
    model: &'static str,
    region: Region,
    currency: &'static str,
    hyper_parameters: &'a HyperParams,
    validation_set: bool,
    price_override: Option<String>,
    prices_as_of: &'static str,
}

#[derive(Serialize)]
struct DatasetJson<'a> {
    #[serde(flatten)]
    summary: &'a DatasetSummary,
    findings: Vec<JsonFinding<'a>>,
}

#[derive(Debug, Serialize)]
struct StepsJson<'a> {
    #[serde(flatten)]
    steps: &'a Steps,
    recommended: u64,
}

#[derive(Debug, Serialize)]
struct CheckpointsJson<'a> {
    #[serde(flatten)]
    checkpoints: &'a Checkpoints,
    unlisted: u64,
    points: Vec<EvaluationPoint>,
}

#[derive(Debug, Serialize)]
struct Tokens {
    billable_seconds: u64,
    all_clips: u128,
    without_split_validation: Option<u128>,
    unknown_durations: usize,
}

#[derive(Debug, Serialize)]
struct Fee {
    unit_price: Option<Money>,
    price_source: Option<PriceSource>,
    all_clips: Option<Money>,
    without_split_validation: Option<Money>,
    lower_bound_only: bool,
}

#[derive(Debug, Serialize)]
struct Summary {
    errors: usize,
    warnings: usize,
    infos: usize,
    dataset_errors: usize,
    dataset_warnings: usize,
    gates_failed: usize,
    /// No error finding (plan or datasets) and no failed gate: `wanft plan` exits 0.
    ok: bool,
}

impl<'a> PlanDocument<'a> {
    /// The document of `plan`, evaluated against `gates`, made from `datasets`.
    pub fn new(plan: &'a Plan, gates: &'a [GateResult], datasets: &'a [DatasetSummary]) -> Self {
        let findings = &plan.findings;
        let readiness = super::Readiness::of(plan, gates, datasets);
        let split = plan.without_split_validation.as_ref();
        PlanDocument {
            schema_version: SCHEMA_VERSION,
            tool: Tool::current(),
            inputs: Inputs {
                model: plan.model.name,
                region: plan.region,
                currency: plan.region.currency(),
                hyper_parameters: &plan.given,
                validation_set: plan.samples.validation_source == super::ValidationSource::Given,
                price_override: plan
                    .price
                    .filter(|p| p.source == PriceSource::Override)
                    .map(|p| p.per_1k_tokens.amount.to_string()),
                prices_as_of: PRICES_AS_OF,
            },
            datasets: datasets
                .iter()
                .map(|summary| DatasetJson {
                    summary,
                    findings: summary.findings.iter().map(JsonFinding::from).collect(),
                })
                .collect(),
            hyper_parameters: &plan.hyper,
            counts: &plan.samples,
            steps: StepsJson {
                steps: &plan.steps,
                recommended: RECOMMENDED_STEPS,
            },
            checkpoints: CheckpointsJson {
                checkpoints: &plan.checkpoints,
                unlisted: plan.checkpoints.unlisted(),
                points: plan.checkpoints.listed(),
            },
            clips: &plan.clips,
            tokens: Tokens {
                billable_seconds: plan.all_clips.billable_seconds,
                all_clips: plan.all_clips.tokens,
                without_split_validation: split.map(|e| e.tokens),
                unknown_durations: plan.unknown_durations,
            },
            fee: Fee {
                unit_price: plan.price.map(|p| p.per_1k_tokens),
                price_source: plan.price.map(|p| p.source),
                all_clips: plan.all_clips.fee,
                without_split_validation: split.and_then(|e| e.fee),
                lower_bound_only: plan.unknown_durations > 0,
            },
            table: &plan.table,
            findings: findings.iter().map(JsonFinding::from).collect(),
            suppressed: crate::report::json::suppressed(findings),
            gates,
            summary: Summary {
                errors: findings.count(Severity::Error),
                warnings: findings.count(Severity::Warning),
                infos: findings.count(Severity::Info),
                dataset_errors: readiness.dataset_errors,
                dataset_warnings: datasets.iter().map(|d| d.warnings).sum(),
                gates_failed: readiness.gates_failed,
                ok: readiness.ok(),
            },
        }
    }
}
