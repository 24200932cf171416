//! Consent before anything that costs money: creating a job (billed per token), deploying a
//! model, generating a video (billed per second of video).
//!
//! Every such command first states what it is about to start and what it will cost (the plan's
//! steps, tokens and fee, or their bounds, or why the fee is unknown). Then: with `--yes` it
//! proceeds; a `--max-cost` the fee exceeds stops it whatever else is given; on a terminal it
//! asks; without a terminal it proceeds only with `--yes` or a `--max-cost` the fee provably
//! holds (a fee that is unknown, or only a lower bound, holds no limit).

use rust_decimal::Decimal;

use crate::hyper::HyperParams;
use crate::plan::billing::group_thousands;
use crate::plan::{EpochsSource, Money, Plan, RECOMMENDED_STEPS};

/// What an action will cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cost {
    /// Nothing is billed for the action itself; `why` says so with the spec's words.
    Free { why: String },
    /// Billed: `upper` is the highest fee it can reach, when that is known.
    Billed {
        upper: Option<Money>,
        /// Why no upper bound is known.
        unknown: Option<String>,
    },
}

/// An action about to spend money, stated for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spending {
    /// What is about to start, e.g. "create the fine-tuning job".
    pub action: String,
    /// The figures, one line each (`Steps …`, `Tokens …`, `Fee …`).
    pub details: Vec<String>,
    pub cost: Cost,
}

/// What the user said, and whether they can be asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Consent {
    /// `--yes`: proceed without asking.
    pub yes: bool,
    /// `--max-cost`: the highest acceptable fee, in the region's currency.
    pub max_cost: Option<Decimal>,
    /// Whether a person can be asked (stdin and stderr are terminals).
    pub terminal: bool,
}

/// What to do about a [`Spending`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Proceed,
    /// Ask the person at the terminal.
    Ask,
    /// Do not spend; the reason says what would allow it.
    Refuse(String),
}

impl Consent {
    pub fn decide(&self, spending: &Spending) -> Decision {
        let upper = match &spending.cost {
            Cost::Free { .. } => Some(None),
            Cost::Billed { upper, .. } => upper.map(Some),
        };
        if let (Some(max), Some(Some(fee))) = (self.max_cost, upper)
            && fee.amount > max
        {
            return Decision::Refuse(format!(
                "the fee can reach {fee}, over --max-cost {}",
                Money::new(max, fee.region)
            ));
        }
        if self.yes {
            return Decision::Proceed;
        }
        if self.terminal {
            return Decision::Ask;
        }
        match (self.max_cost, upper, &spending.cost) {
            (Some(_), Some(_), _) => Decision::Proceed,
            (Some(_), None, Cost::Billed { unknown, .. }) => Decision::Refuse(format!(
                "--max-cost cannot hold: {}; pass --yes to {} anyway",
                unknown.as_deref().unwrap_or("the fee is unknown"),
                spending.action
            )),
            _ => Decision::Refuse(format!(
                "no terminal to ask for confirmation: pass --yes to {}{}",
                spending.action,
                match spending.cost {
                    Cost::Billed { upper: Some(_), .. } => " (or --max-cost AMOUNT)",
                    _ => "",
                }
            )),
        }
    }
}

/// How `n_epochs` was chosen, for the statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EpochsOrigin {
    Flag,
    ProjectFile,
    /// The plan's recommendation: the fewest epochs reaching 800 steps.
    Plan,
}

/// The statement before creating a job planned as `plan`.
pub fn job(plan: &Plan, origin: EpochsOrigin) -> Spending {
    let steps = &plan.steps;
    let origin = match origin {
        EpochsOrigin::Flag => "--n-epochs".to_owned(),
        EpochsOrigin::ProjectFile => "n_epochs of wanft.toml".to_owned(),
        EpochsOrigin::Plan => {
            format!("the plan's fewest epochs reaching {RECOMMENDED_STEPS} steps")
        }
    };
    let mut details = vec![format!(
        "Steps   {} steps/epoch × {} epochs = {} steps ({origin}; eval_epochs {}, max_pixels {})",
        steps.per_epoch,
        steps.n_epochs,
        group_thousands(&steps.total.to_string()),
        plan.hyper.eval_epochs,
        plan.hyper.max_pixels
    )];
    let all = &plan.all_clips;
    let lower = plan.without_split_validation.as_ref();
    let tokens = match lower {
        Some(l) => format!(
            "{} (at least {} if split-off validation clips are not billed: undocumented)",
            group_thousands(&all.tokens.to_string()),
            group_thousands(&l.tokens.to_string())
        ),
        None => group_thousands(&all.tokens.to_string()),
    };
    details.push(format!("Tokens  {tokens}"));
    let unknown = if plan.price.is_none() {
        Some(format!(
            "no published price for {} in {}: pass --price",
            plan.model.name, plan.region
        ))
    } else if plan.unknown_durations > 0 {
        Some(format!(
            "{} clip(s) of unknown duration: the fee is a lower bound",
            plan.unknown_durations
        ))
    } else if all.fee.is_none() {
        Some("the fee is too large to compute".to_owned())
    } else {
        None
    };
    let fee_line = match (all.fee, lower.and_then(|l| l.fee)) {
        (Some(upper), Some(low)) if upper != low => {
            format!("Fee     {upper} (upper bound, every training clip billed; {low} lower bound)")
        }
        (Some(fee), _) => format!("Fee     {fee}"),
        (None, _) => "Fee     unknown".to_owned(),
    };
    details.push(match &unknown {
        Some(why) => format!("{fee_line} ({why})"),
        None => fee_line,
    });
    if steps.n_epochs_source == EpochsSource::Given
        && steps
            .min_n_epochs
            .is_some_and(|m| u64::from(steps.n_epochs) < m)
    {
        details.push(format!(
            "Note    {} steps is below the recommended {RECOMMENDED_STEPS}",
            steps.total
        ));
    }
    Spending {
        action: "create the fine-tuning job".into(),
        details,
        cost: Cost::Billed {
            upper: if unknown.is_some() { None } else { all.fee },
            unknown,
        },
    }
}

/// The statement before creating a job that cannot be planned (wanft does not know the dataset
/// behind the file ids, `why`): `n_epochs` is given, the fee is unknown.
pub fn job_unplanned(hyper: &HyperParams, why: &str) -> Spending {
    let n_epochs = hyper
        .n_epochs
        .map_or_else(|| "-".to_owned(), |n| n.to_string());
    Spending {
        action: "create the fine-tuning job".into(),
        details: vec![
            format!("Epochs  {n_epochs} (given)"),
            format!("Fee     unknown: {why}"),
        ],
        cost: Cost::Billed {
            upper: None,
            unknown: Some(format!("the fee cannot be planned ({why})")),
        },
    }
}

/// The statement before deploying `model_name`: the spec's words on what a deployment bills.
pub fn deployment(model_name: &str) -> Spending {
    Spending {
        action: format!("deploy {model_name}"),
        details: vec![
            "Billing deploying a Wan LoRA model is free (spec §5.3: `charge_type: post_paid` \
             refers to pay-per-use calls; the \"billing stops\" note on deletion is generic and \
             does not imply a deployment fee)"
                .into(),
            "Calls   each video generated with it is billed per second of video, at the base \
             model's price for the resolution"
                .into(),
        ],
        cost: Cost::Free {
            why: "deploying a Wan LoRA model is free (spec §5.3)".into(),
        },
    }
}

/// The statement before generating `count` videos of `seconds` each (`None`: the model's
/// default length) at `resolution`.
pub fn generation(count: usize, seconds: Option<u32>, resolution: &str) -> Spending {
    let length = seconds.map_or_else(|| "the model's default length".into(), |s| format!("{s} s"));
    let videos = if count == 1 {
        "1 video".to_owned()
    } else {
        format!("{count} videos")
    };
    Spending {
        action: format!("generate {videos}"),
        details: vec![format!(
            "Billing per second of generated video ({videos} of {length} at {resolution}), at the \
             base model's price for the resolution; failed tasks are not billed (assumed, spec \
             §5.3)"
        )],
        cost: Cost::Billed {
            upper: None,
            unknown: Some(
                "the per-second price is not in wanft's price table (spec §5.3): see the console"
                    .into(),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::Region;

    fn billed(amount: Option<i64>) -> Spending {
        Spending {
            action: "create the fine-tuning job".into(),
            details: vec![],
            cost: Cost::Billed {
                upper: amount.map(|a| Money::new(Decimal::from(a), Region::CnBeijing)),
                unknown: amount.is_none().then(|| "no price".into()),
            },
        }
    }

    fn consent(yes: bool, max: Option<i64>, terminal: bool) -> Consent {
        Consent {
            yes,
            max_cost: max.map(Decimal::from),
            terminal,
        }
    }

    #[test]
    fn terminals_are_asked_and_pipes_need_yes_or_a_holding_limit() {
        let fee = billed(Some(10));
        assert_eq!(consent(false, None, true).decide(&fee), Decision::Ask);
        assert_eq!(consent(true, None, false).decide(&fee), Decision::Proceed);
        assert_eq!(
            consent(false, Some(10), false).decide(&fee),
            Decision::Proceed
        );
        assert_eq!(consent(false, Some(10), true).decide(&fee), Decision::Ask);
        let refused = consent(false, None, false).decide(&fee);
        assert!(
            matches!(&refused, Decision::Refuse(why) if why.contains("--yes") && why.contains("--max-cost")),
            "{refused:?}"
        );
    }

    #[test]
    fn an_exceeded_limit_refuses_even_with_yes() {
        let fee = billed(Some(11));
        for c in [
            consent(true, Some(10), true),
            consent(false, Some(10), false),
        ] {
            assert!(matches!(c.decide(&fee), Decision::Refuse(why) if why.contains("¥11")));
        }
    }

    #[test]
    fn an_unknown_fee_holds_no_limit() {
        let fee = billed(None);
        let refused = consent(false, Some(1000), false).decide(&fee);
        assert!(
            matches!(&refused, Decision::Refuse(why) if why.contains("no price")),
            "{refused:?}"
        );
        assert_eq!(
            consent(true, Some(1), false).decide(&fee),
            Decision::Proceed
        );
        let free = deployment("m");
        assert_eq!(
            consent(false, Some(0), false).decide(&free),
            Decision::Proceed
        );
        assert!(matches!(
            consent(false, None, false).decide(&free),
            Decision::Refuse(_)
        ));
        assert!(matches!(
            consent(false, None, false).decide(&generation(1, None, "720P")),
            Decision::Refuse(_)
        ));
    }
}
