//! Steps, epochs, evaluation points and kept checkpoints (spec §4.1, §6.14).

use serde::Serialize;

use super::RECOMMENDED_STEPS;

/// Where the planned `n_epochs` comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochsSource {
    /// Set by the user (flag or `wanft.toml`).
    Given,
    /// Not set: the planner chose the minimum that reaches the recommended step count.
    Recommended,
    /// Not set and no step count exists (no training sample): the tool default.
    Default,
}

/// The step arithmetic of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Steps {
    /// `ceil(training samples / batch_size)`; 0 without samples (or with batch_size 0).
    pub per_epoch: u64,
    /// `ceil(800 / per_epoch)`: the fewest epochs reaching the recommended steps.
    pub min_n_epochs: Option<u64>,
    /// The epochs the plan is made for.
    pub n_epochs: u32,
    pub n_epochs_source: EpochsSource,
    /// `n_epochs × per_epoch`.
    pub total: u64,
}

impl Steps {
    /// Steps for `training` samples in batches of `batch_size`, over `n_epochs` when given,
    /// otherwise over the minimum that reaches [`RECOMMENDED_STEPS`].
    pub fn new(training: usize, batch_size: u32, n_epochs: Option<u32>, default: u32) -> Steps {
        let per_epoch = match u64::from(batch_size) {
            0 => 0,
            batch => (training as u64).div_ceil(batch),
        };
        let min_n_epochs = epochs_for(RECOMMENDED_STEPS, per_epoch);
        let (n_epochs, n_epochs_source) = match (n_epochs, min_n_epochs) {
            (Some(n), _) => (n, EpochsSource::Given),
            (None, Some(min)) => (
                u32::try_from(min).unwrap_or(u32::MAX),
                EpochsSource::Recommended,
            ),
            (None, None) => (default, EpochsSource::Default),
        };
        Steps {
            per_epoch,
            min_n_epochs,
            n_epochs,
            n_epochs_source,
            total: u64::from(n_epochs).saturating_mul(per_epoch),
        }
    }
}

/// The fewest epochs whose steps reach `target`: `ceil(target / per_epoch)`.
pub fn epochs_for(target: u64, per_epoch: u64) -> Option<u64> {
    (per_epoch > 0).then(|| target.div_ceil(per_epoch))
}

/// One evaluation point: the platform renders validation previews and saves a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvaluationPoint {
    pub epoch: u64,
    pub step: u64,
    /// The checkpoint's name in the API (`checkpoint-<step>`).
    pub checkpoint: String,
    /// Whether the checkpoint survives `save_total_limit`.
    pub kept: bool,
}

/// Evaluation points and checkpoints, by the emulator's convention (spec §6.14): a checkpoint
/// every `eval_epochs × steps_per_epoch` steps plus the final step; the last
/// `save_total_limit` are kept.
///
/// The count can be huge for absurd inputs, so the points are generated on demand and only the
/// last [`Checkpoints::LISTED`] are ever materialised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Checkpoints {
    pub every_epochs: u32,
    pub every_steps: u64,
    /// Evaluation points, the final step included.
    pub count: u64,
    pub save_total_limit: u32,
    /// Checkpoints kept: `min(count, save_total_limit)`.
    pub kept: u64,
    #[serde(skip)]
    steps_per_epoch: u64,
    #[serde(skip)]
    n_epochs: u64,
}

impl Checkpoints {
    /// At most this many points are listed in reports (the most recent ones).
    pub const LISTED: u64 = 100;

    pub fn new(steps: &Steps, eval_epochs: u32, save_total_limit: u32) -> Checkpoints {
        let n_epochs = u64::from(steps.n_epochs);
        let count = match (steps.total, u64::from(eval_epochs)) {
            (0, _) => 0,
            (_, 0) => 1,
            (_, every) => n_epochs / every + u64::from(n_epochs % every != 0),
        };
        Checkpoints {
            every_epochs: eval_epochs,
            every_steps: u64::from(eval_epochs).saturating_mul(steps.per_epoch),
            count,
            save_total_limit,
            kept: count.min(u64::from(save_total_limit)),
            steps_per_epoch: steps.per_epoch,
            n_epochs,
        }
    }

    /// The epoch of evaluation point `index` (0-based): every `every_epochs` epochs, the last
    /// one at the final epoch.
    fn epoch_at(&self, index: u64) -> u64 {
        if index + 1 >= self.count {
            self.n_epochs
        } else {
            (index + 1) * u64::from(self.every_epochs)
        }
    }

    /// The step of evaluation point `index` (0-based).
    fn step_at(&self, index: u64) -> u64 {
        self.epoch_at(index).saturating_mul(self.steps_per_epoch)
    }

    /// The step of every evaluation point, oldest first; the last is the final step. Generated
    /// on demand, like the points themselves: take only what you need.
    pub fn steps(&self) -> impl Iterator<Item = u64> + '_ {
        (0..self.count).map(|index| self.step_at(index))
    }

    /// The last [`Self::LISTED`] evaluation points (all of them in any sensible plan), oldest
    /// first.
    pub fn listed(&self) -> Vec<EvaluationPoint> {
        let first = self.count.saturating_sub(Self::LISTED);
        (first..self.count)
            .map(|index| {
                let epoch = self.epoch_at(index);
                let step = self.step_at(index);
                EvaluationPoint {
                    epoch,
                    step,
                    checkpoint: format!("checkpoint-{step}"),
                    kept: self.count - index <= self.kept,
                }
            })
            .collect()
    }

    /// Evaluation points left out of [`Self::listed`] (the earliest ones).
    pub fn unlisted(&self) -> u64 {
        self.count.saturating_sub(Self::LISTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_800_step_example() {
        // §4.1: 5 samples, batch_size 2 → 3 steps per epoch → at least 267 epochs.
        let steps = Steps::new(5, 2, None, 400);
        assert_eq!(steps.per_epoch, 3);
        assert_eq!(steps.min_n_epochs, Some(267));
        assert_eq!(steps.n_epochs, 267);
        assert_eq!(steps.n_epochs_source, EpochsSource::Recommended);
        assert_eq!(steps.total, 801);
    }

    #[test]
    fn given_epochs_win_and_no_samples_fall_back_to_the_default() {
        let steps = Steps::new(95, 2, Some(400), 400);
        assert_eq!((steps.per_epoch, steps.total), (48, 19_200));
        assert_eq!(steps.n_epochs_source, EpochsSource::Given);
        let empty = Steps::new(0, 2, None, 400);
        assert_eq!((empty.per_epoch, empty.min_n_epochs), (0, None));
        assert_eq!((empty.n_epochs, empty.total), (400, 0));
        assert_eq!(empty.n_epochs_source, EpochsSource::Default);
    }

    #[test]
    fn checkpoints_every_eval_epochs_plus_the_final_step() {
        let steps = Steps::new(5, 2, Some(267), 400);
        let cp = Checkpoints::new(&steps, 50, 3);
        assert_eq!((cp.every_steps, cp.count, cp.kept), (150, 6, 3));
        let listed = cp.listed();
        let epochs: Vec<u64> = listed.iter().map(|p| p.epoch).collect();
        assert_eq!(epochs, [50, 100, 150, 200, 250, 267]);
        let kept: Vec<&str> = listed
            .iter()
            .filter(|p| p.kept)
            .map(|p| p.checkpoint.as_str())
            .collect();
        assert_eq!(kept, ["checkpoint-600", "checkpoint-750", "checkpoint-801"]);
    }

    #[test]
    fn steps_list_every_evaluation_point_and_match_the_listing() {
        // 7 steps per epoch, every 4 epochs, 10 epochs: steps 28, 56, then the final 70.
        let steps = Steps::new(13, 2, Some(10), 400);
        let cp = Checkpoints::new(&steps, 4, 20);
        assert_eq!(cp.steps().collect::<Vec<_>>(), [28, 56, 70]);
        let listed: Vec<u64> = cp.listed().iter().map(|p| p.step).collect();
        assert_eq!(listed, cp.steps().collect::<Vec<_>>());
        let exact = Checkpoints::new(&Steps::new(6, 2, Some(10), 400), 5, 20);
        assert_eq!(exact.steps().collect::<Vec<_>>(), [15, 30]);
    }

    #[test]
    fn final_step_is_not_doubled_when_it_is_an_evaluation_point() {
        let steps = Steps::new(10, 1, Some(400), 400);
        let cp = Checkpoints::new(&steps, 50, 20);
        assert_eq!((cp.count, cp.kept), (8, 8));
        let last = cp.listed().pop().unwrap();
        assert_eq!((last.epoch, last.step), (400, 4000));
    }

    #[test]
    fn absurd_counts_are_not_materialised() {
        let steps = Steps::new(10, 1, Some(u32::MAX), 400);
        let cp = Checkpoints::new(&steps, 1, u32::MAX);
        assert_eq!(cp.count, u64::from(u32::MAX));
        let listed = cp.listed();
        assert_eq!(listed.len() as u64, Checkpoints::LISTED);
        assert_eq!(cp.unlisted(), cp.count - Checkpoints::LISTED);
        assert_eq!(listed.last().unwrap().epoch, u64::from(u32::MAX));
        assert!(listed.iter().all(|p| p.kept));
    }

    #[test]
    fn eval_epochs_zero_leaves_only_the_final_checkpoint() {
        let steps = Steps::new(10, 1, Some(30), 400);
        let cp = Checkpoints::new(&steps, 0, 20);
        assert_eq!(cp.count, 1);
        assert_eq!(cp.listed()[0].step, 300);
    }
}
