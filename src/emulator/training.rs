//! How an accepted job trains: the automatic split, steps, checkpoints and tokens, computed by
//! the planner's own pieces ([`crate::plan`]) so that the emulator bills what `wanft plan`
//! predicts, plus the two things only a running job has: tokens consumed so far and the
//! checkpoints kept so far.

use serde::{Deserialize, Serialize};

use crate::hyper::ResolvedHyperParams;
use crate::plan::{Checkpoints, ClipBilling, Estimate, Steps, split};

/// How a job's training unfolds, fixed when its data processing succeeds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrainingPlan {
    pub train_samples: usize,
    pub validation_samples: usize,
    pub steps_per_epoch: u64,
    pub total_steps: u64,
    /// Every step at which a checkpoint is saved, ascending; the last is `total_steps`.
    pub checkpoint_steps: Vec<u64>,
    /// Seconds billed for every training clip together (spec §5.1).
    pub billable_seconds: u64,
    /// Tokens billed for the whole run (the `usage` of a finished job).
    pub tokens: u64,
}

impl TrainingPlan {
    /// Plans a job over `supplied` training samples whose clips bill `clips`; `validation` is
    /// the number of validation samples when validation files were given (which disables the
    /// automatic split). A clip of unknown duration bills 0 s, as `wanft plan` counts it.
    pub fn new(
        hyper: &ResolvedHyperParams,
        supplied: usize,
        validation: Option<usize>,
        clips: &[ClipBilling],
    ) -> Result<Self, String> {
        let samples = split::divide(
            supplied,
            validation,
            hyper.split,
            hyper.max_split_val_dataset_sample,
        );
        if samples.training == 0 {
            return Err("no training samples are left after the validation split".into());
        }
        let steps = Steps::new(
            samples.training,
            hyper.batch_size,
            Some(hyper.n_epochs),
            hyper.n_epochs,
        );
        let checkpoints = Checkpoints::new(&steps, hyper.eval_epochs, hyper.save_total_limit);
        let estimate = Estimate::new(
            clips.iter().map(|clip| clip.billable_s.unwrap_or(0)),
            hyper.max_pixels,
            hyper.n_epochs,
            None,
        );
        Ok(TrainingPlan {
            train_samples: samples.training,
            validation_samples: samples.validation,
            steps_per_epoch: steps.per_epoch,
            total_steps: steps.total,
            // The create-time rule `10 × eval_epochs ≥ n_epochs` bounds this to ten or so.
            checkpoint_steps: checkpoints.steps().collect(),
            billable_seconds: estimate.billable_seconds,
            tokens: u64::try_from(estimate.tokens).unwrap_or(u64::MAX),
        })
    }
}

/// Tokens consumed once `steps_done` of `total_steps` have run (cancellation bills these).
pub fn consumed_tokens(tokens: u64, steps_done: u64, total_steps: u64) -> u64 {
    if total_steps == 0 {
        return 0;
    }
    let done = u128::from(steps_done.min(total_steps));
    // At most `tokens`, so it fits.
    (u128::from(tokens) * done / u128::from(total_steps)) as u64
}

/// The checkpoints kept once `reached` have been saved: the last `limit` (save_total_limit).
pub fn kept_checkpoints(reached: &[u64], limit: u32) -> &[u64] {
    let limit = usize::try_from(limit).unwrap_or(usize::MAX);
    &reached[reached.len().saturating_sub(limit)..]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hyper::HyperParams;
    use crate::models::find;
    use crate::plan::{Clip, bill};

    fn hyper(given: HyperParams) -> ResolvedHyperParams {
        given.resolve(find("wan2.5-i2v-preview").expect("known model"))
    }

    /// Clips of these durations as wan2.5-i2v-preview bills them (10 s cap).
    fn billed(durations: &[Option<f64>]) -> Vec<ClipBilling> {
        durations
            .iter()
            .enumerate()
            .map(|(i, &duration_s)| {
                let clip = Clip {
                    path: format!("clip{i}.mp4"),
                    duration_s,
                };
                bill(&clip, 10)
            })
            .collect()
    }

    #[test]
    fn plan_counts_steps_after_the_split() {
        let hyper = hyper(HyperParams {
            n_epochs: Some(10),
            eval_epochs: Some(4),
            ..HyperParams::default()
        });
        // 15 samples: 2 auto-split for validation, 13 train at batch 2 → 7 steps per epoch.
        let plan = TrainingPlan::new(&hyper, 15, None, &billed(&[Some(4.6); 15])).expect("plan");
        assert_eq!((plan.train_samples, plan.validation_samples), (13, 2));
        assert_eq!((plan.steps_per_epoch, plan.total_steps), (7, 70));
        assert_eq!(plan.checkpoint_steps, vec![28, 56, 70]);
        // Every clip bills 5 s; 36864 / 1024 = 36 tokens per second and epoch.
        assert_eq!(plan.billable_seconds, 75);
        assert_eq!(plan.tokens, 75 * 36 * 10);
        // Validation files disable the split.
        let plan = TrainingPlan::new(&hyper, 15, Some(3), &[]).expect("plan");
        assert_eq!((plan.train_samples, plan.steps_per_epoch), (15, 8));
        assert_eq!(plan.tokens, 0);
    }

    #[test]
    fn billing_matches_the_worked_examples_and_skips_unknown_durations() {
        // Spec §5.2 example B: 3.4 s + 11.5 s at 36864 and 400 epochs: 13 s, 187,200 tokens.
        let hyper = hyper(HyperParams::default());
        let plan =
            TrainingPlan::new(&hyper, 20, None, &billed(&[Some(3.4), Some(11.5), None])).unwrap();
        assert_eq!((plan.billable_seconds, plan.tokens), (13, 187_200));
    }

    #[test]
    fn consumed_tokens_are_proportional_to_steps() {
        assert_eq!(consumed_tokens(1000, 25, 100), 250);
        assert_eq!(consumed_tokens(1000, 200, 100), 1000);
        assert_eq!(consumed_tokens(1000, 1, 0), 0);
    }

    #[test]
    fn the_last_checkpoints_are_kept() {
        assert_eq!(kept_checkpoints(&[30, 60, 90, 100], 2), &[90, 100]);
        assert_eq!(kept_checkpoints(&[30], 20), &[30]);
        assert_eq!(kept_checkpoints(&[], 3), &[] as &[u64]);
    }
}
