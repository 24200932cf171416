//! How a plan's samples divide into training and validation: a given validation set, or the
//! automatic split of [`crate::split`] (spec §4.2, §4.3) with the user's `split`.

use std::str::FromStr;

use rust_decimal::Decimal;
use serde::Serialize;

/// Where the validation samples come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationSource {
    /// A validation set is given: the split is disabled and every training sample trains.
    Given,
    /// No validation set: the platform moves some training samples to validation.
    AutoSplit,
}

/// How the training samples are divided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SampleCounts {
    /// Samples in the training set(s) as supplied.
    pub supplied: usize,
    /// Samples the model trains on.
    pub training: usize,
    /// Validation samples: those of the validation set, or those split off.
    pub validation: usize,
    pub validation_source: ValidationSource,
}

impl SampleCounts {
    /// Training samples moved to validation by the automatic split (0 with a validation set).
    pub fn split_off(&self) -> usize {
        match self.validation_source {
            ValidationSource::Given => 0,
            ValidationSource::AutoSplit => self.validation,
        }
    }
}

/// Divides `supplied` training samples: with a validation set of `validation_given` samples
/// nothing is split off; otherwise
/// `val = min(total − floor(total × split), max_split_val_dataset_sample)`, in exact decimal
/// arithmetic so that `100 × 0.9` is exactly 90 (in f64 it is not).
///
/// An invalid `split` (outside (0, 1), reported by rule H006) is clamped so that the counts stay
/// within `0..=supplied`.
pub fn divide(
    supplied: usize,
    validation_given: Option<usize>,
    split: f64,
    max_split_val_dataset_sample: u32,
) -> SampleCounts {
    if let Some(validation) = validation_given {
        return SampleCounts {
            supplied,
            training: supplied,
            validation,
            validation_source: ValidationSource::Given,
        };
    }
    let (training, validation) = crate::split::auto_split(
        supplied as u64,
        split_decimal(split),
        u64::from(max_split_val_dataset_sample),
    );
    // Both are at most `supplied`, so they fit in usize.
    SampleCounts {
        supplied,
        training: usize::try_from(training).unwrap_or(supplied),
        validation: usize::try_from(validation).unwrap_or(0),
        validation_source: ValidationSource::AutoSplit,
    }
}

/// `split` as the exact decimal [`crate::split::auto_split`] works with. Out-of-range values
/// (rule H006) are clamped into `0..=1`, where the formula splits off everything at 0 and
/// nothing at 1 (and NaN counts as 1); a split too small to write as a decimal counts as 0.
pub fn split_decimal(split: f64) -> Decimal {
    if split.is_nan() || split >= 1.0 {
        Decimal::ONE
    } else if split <= 0.0 {
        Decimal::ZERO
    } else {
        exact_decimal(split).unwrap_or(Decimal::ZERO)
    }
}

/// The decimal the user wrote: Rust prints an `f64` as the shortest decimal that reads back to
/// the same value, which is the literal of the config file or the flag.
fn exact_decimal(value: f64) -> Option<Decimal> {
    if !value.is_finite() {
        return None;
    }
    Decimal::from_str(&value.to_string()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        // §4.2: 100 samples, split 0.9, cap 5 → 10 → capped to 5.
        let c = divide(100, None, 0.9, 5);
        assert_eq!((c.training, c.validation), (95, 5));
        // §4.3: 15 samples, split 0.9 → floor(13.5) = 13 → 2.
        let c = divide(15, None, 0.9, 5);
        assert_eq!((c.training, c.validation), (13, 2));
        assert_eq!(c.split_off(), 2);
    }

    #[test]
    fn exact_decimal_avoids_the_f64_floor_trap() {
        // In f64, 100 × (1 − 0.9) = 9.999…; exact arithmetic gives 10.
        let one_minus_split = std::hint::black_box(1.0 - 0.9_f64);
        assert!(100.0 * one_minus_split < 10.0);
        assert_eq!(divide(100, None, 0.9, 50).validation, 10);
        assert_eq!(divide(10, None, 0.7, 50).validation, 3);
    }

    #[test]
    fn never_below_one_for_a_valid_split() {
        for total in 1..300 {
            for split in [0.01, 0.5, 0.9, 0.99, 0.999_999] {
                let c = divide(total, None, split, 5);
                assert!(c.validation >= 1, "{total} × {split}");
                assert_eq!(c.training + c.validation, total);
            }
        }
    }

    #[test]
    fn a_validation_set_disables_the_split() {
        let c = divide(100, Some(3), 0.5, 50);
        assert_eq!((c.training, c.validation), (100, 3));
        assert_eq!(c.split_off(), 0);
    }

    #[test]
    fn invalid_splits_are_clamped() {
        assert_eq!(divide(20, None, 1.0, 5).validation, 0);
        assert_eq!(divide(20, None, 1e300, 5).validation, 0);
        assert_eq!(divide(20, None, 0.0, 5).validation, 5);
        assert_eq!(divide(20, None, -1e300, 50).validation, 20);
        assert_eq!(divide(20, None, f64::NAN, 5).validation, 0);
        assert_eq!(divide(0, None, 0.9, 5).validation, 0);
    }
}
