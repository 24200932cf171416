//! Budget gates: `--max-cost` and `--max-steps` turn a plan into a pass/fail check for CI.

use rust_decimal::Decimal;
use serde::Serialize;

use super::Plan;
use super::billing::Money;
use super::dataset::DatasetSummary;
use crate::rules::Severity;

/// The limits to enforce; `None` disables a gate.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Gates {
    /// Highest acceptable fee, in the region's currency.
    pub max_cost: Option<Decimal>,
    /// Highest acceptable number of training steps.
    pub max_steps: Option<u64>,
}

/// The verdict of one gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    /// Within the limit (equal to it counts as within).
    Passed,
    Exceeded,
    /// The plan cannot tell (unknown price, clips of unknown duration): counted as a failure,
    /// because a budget gate must not pass by default.
    Undetermined,
}

/// One evaluated gate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GateResult {
    /// `max-cost` or `max-steps`, as the flag is named.
    pub gate: &'static str,
    /// The limit, as printed.
    pub limit: String,
    /// The planned figure, as printed (`unknown` when there is none).
    pub actual: String,
    pub status: GateStatus,
    /// Why the gate is undetermined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl GateResult {
    pub fn failed(&self) -> bool {
        self.status != GateStatus::Passed
    }
}

impl Gates {
    /// Evaluates every enabled gate against `plan`. The cost gate compares the upper-bound fee
    /// (every training clip billed).
    pub fn evaluate(&self, plan: &Plan) -> Vec<GateResult> {
        let mut results = Vec::new();
        if let Some(max) = self.max_cost {
            results.push(cost_gate(plan, Money::new(max, plan.region)));
        }
        if let Some(max) = self.max_steps {
            let actual = plan.steps.total;
            results.push(GateResult {
                gate: "max-steps",
                limit: max.to_string(),
                actual: actual.to_string(),
                status: if actual <= max {
                    GateStatus::Passed
                } else {
                    GateStatus::Exceeded
                },
                reason: None,
            });
        }
        results
    }
}

fn cost_gate(plan: &Plan, limit: Money) -> GateResult {
    let fee = plan.all_clips.fee;
    let (status, reason) = match fee {
        None => (
            GateStatus::Undetermined,
            Some(if plan.price.is_none() {
                "no price is known; pass --price".to_owned()
            } else {
                "the fee is too large to compute".to_owned()
            }),
        ),
        Some(fee) if fee.amount > limit.amount => (GateStatus::Exceeded, None),
        Some(_) if plan.unknown_durations > 0 => (
            GateStatus::Undetermined,
            Some(format!(
                "the fee is a lower bound: {} clip(s) of unknown duration",
                plan.unknown_durations
            )),
        ),
        Some(_) => (GateStatus::Passed, None),
    };
    GateResult {
        gate: "max-cost",
        limit: limit.to_string(),
        actual: fee.map_or_else(|| "unknown".to_owned(), |f| f.to_string()),
        status,
        reason,
    }
}

/// Whether a plan may go ahead: gates and errors combine. The platform rejects a dataset with
/// errors (its job fails in data processing), so a plan of one is not ready whatever its fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Readiness {
    /// Error findings on the hyper-parameters (the `H` rules).
    pub plan_errors: usize,
    /// Error findings in the datasets (what `wanft check` reports).
    pub dataset_errors: usize,
    /// Warnings of both kinds.
    pub warnings: usize,
    pub gates_failed: usize,
}

impl Readiness {
    pub fn of(plan: &Plan, gates: &[GateResult], datasets: &[DatasetSummary]) -> Readiness {
        Readiness {
            plan_errors: plan.findings.count(Severity::Error),
            dataset_errors: datasets.iter().map(|d| d.errors).sum(),
            warnings: plan.findings.count(Severity::Warning)
                + datasets.iter().map(|d| d.warnings).sum::<usize>(),
            gates_failed: gates.iter().filter(|g| g.failed()).count(),
        }
    }

    /// Every error, of the plan and of the datasets.
    pub fn errors(&self) -> usize {
        self.plan_errors + self.dataset_errors
    }

    /// No error anywhere and no failed gate: `wanft plan` exits 0.
    pub fn ok(&self) -> bool {
        self.errors() == 0 && self.gates_failed == 0
    }
}
