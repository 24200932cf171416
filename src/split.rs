//! The automatic validation split (spec §4.2, with the rounding convention of §4.3).

use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;

/// Default `split` hyper-parameter.
pub const DEFAULT_SPLIT: Decimal = Decimal::from_parts(9, 0, 0, false, 1);
/// Default `max_split_val_dataset_sample`.
pub const DEFAULT_MAX_VAL: u64 = 5;

/// Training and validation counts after the platform splits `total` samples itself:
/// `val = min(total − floor(total × split), max_val)`, in exact decimal arithmetic.
pub fn auto_split(total: u64, split: Decimal, max_val: u64) -> (u64, u64) {
    let kept = (Decimal::from(total) * split)
        .floor()
        .to_u64()
        .unwrap_or(0)
        .min(total);
    let val = (total - kept).min(max_val);
    (total - val, val)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        assert_eq!(auto_split(100, DEFAULT_SPLIT, 5), (95, 5));
        assert_eq!(auto_split(15, DEFAULT_SPLIT, 5), (13, 2));
        assert_eq!(auto_split(1, DEFAULT_SPLIT, 5), (0, 1));
        assert_eq!(auto_split(0, DEFAULT_SPLIT, 5), (0, 0));
    }
}
