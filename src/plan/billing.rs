//! Training tokens and fees (spec §5.1), in integers and exact decimals only.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::models::{ModelProfile, Price, Region};

/// Seconds billed for a clip of `duration_s`: the nearest whole second, halves up (6.5 → 7, so a
/// clip under 0.5 s bills 0), at most `cap`. `None` for a duration that is not a finite,
/// non-negative number.
pub fn billable_seconds(duration_s: f64, cap: u32) -> Option<u32> {
    if !(duration_s.is_finite() && duration_s >= 0.0) {
        return None;
    }
    // `round` goes half away from zero, which is half up for non-negative values.
    let rounded = duration_s.round();
    Some(if rounded >= f64::from(cap) {
        cap
    } else {
        // Below `cap`, so it fits in u32.
        rounded as u32
    })
}

/// `ceil(Σs × max_pixels × n_epochs / 1024)`: exact for `max_pixels` multiples of 1024, rounded
/// up otherwise. Cannot overflow: the product of a u64 and two u32 fits in a u128.
pub fn tokens(billable_seconds: u64, max_pixels: u32, n_epochs: u32) -> u128 {
    let product = u128::from(billable_seconds) * u128::from(max_pixels) * u128::from(n_epochs);
    product.div_ceil(1024)
}

/// `tokens / 1000 × price_per_1k`, exact; `None` only when the figure exceeds what a decimal
/// holds (about 7.9 × 10²⁸), which takes hyper-parameters far outside every accepted range.
pub fn fee(tokens: u128, price_per_1k: Decimal) -> Option<Decimal> {
    let tokens = Decimal::try_from_i128_with_scale(i128::try_from(tokens).ok()?, 0).ok()?;
    tokens
        .checked_mul(price_per_1k)?
        .checked_div(Decimal::ONE_THOUSAND)
        .map(|d| d.normalize())
}

/// An amount in a region's currency. Prints like the platform: `¥49.152`, `$9.36`, `¥1,440`
/// (exact, without trailing zeros, thousands grouped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    pub amount: Decimal,
    pub region: Region,
}

impl Money {
    pub fn new(amount: Decimal, region: Region) -> Money {
        Money {
            amount: amount.normalize(),
            region,
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.amount.normalize().to_string();
        let (sign, unsigned) = match text.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", text.as_str()),
        };
        let (integer, fraction) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        write!(
            f,
            "{sign}{}{}",
            self.region.currency_symbol(),
            group_thousands(integer)
        )?;
        if let Some(fraction) = fraction {
            write!(f, ".{fraction}")?;
        }
        Ok(())
    }
}

/// JSON form: `{"amount": "49.152", "currency": "CNY", "display": "¥49.152"}`; the amount is a
/// string so that no reader turns it into a binary float.
impl Serialize for Money {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Money", 3)?;
        s.serialize_field("amount", &self.amount.normalize().to_string())?;
        s.serialize_field("currency", self.region.currency())?;
        s.serialize_field("display", &self.to_string())?;
        s.end()
    }
}

/// `1234567` → `1,234,567`. Expects ASCII digits.
pub fn group_thousands(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Where the unit price comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// The built-in price list ([`crate::models::PRICES_AS_OF`]).
    PriceList,
    /// `--price` or `[plan] price` in `wanft.toml`.
    Override,
}

/// The price of 1,000 training tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UnitPrice {
    pub per_1k_tokens: Money,
    pub source: PriceSource,
}

/// The price of `model` in `region`: the override when given, else the price list's; `None`
/// when neither is known (unpublished, or the model is not offered there).
pub fn unit_price(
    model: &ModelProfile,
    region: Region,
    price_override: Option<Decimal>,
) -> Option<UnitPrice> {
    let (amount, source) = match (price_override, model.price(region)) {
        (Some(amount), _) => (amount, PriceSource::Override),
        (None, Price::Per1kTokens(listed)) => {
            (Decimal::from_str(listed).ok()?, PriceSource::PriceList)
        }
        (None, Price::Unknown | Price::NotOffered) => return None,
    };
    Some(UnitPrice {
        per_1k_tokens: Money::new(amount, region),
        source,
    })
}

/// Tokens and fee for a set of clips.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// Clips counted.
    pub clips: usize,
    pub billable_seconds: u64,
    pub tokens: u128,
    /// `None` when no price is known (or the figure overflows).
    pub fee: Option<Money>,
}

impl Estimate {
    /// The estimate for clips billing `seconds`, trained `n_epochs` times at `max_pixels`.
    pub fn new(
        seconds: impl IntoIterator<Item = u32>,
        max_pixels: u32,
        n_epochs: u32,
        price: Option<&UnitPrice>,
    ) -> Estimate {
        let (clips, billable_seconds) = seconds.into_iter().fold((0usize, 0u64), |(n, sum), s| {
            (n + 1, sum.saturating_add(u64::from(s)))
        });
        let tokens = tokens(billable_seconds, max_pixels, n_epochs);
        let fee = price.and_then(|p| {
            fee(tokens, p.per_1k_tokens.amount)
                .map(|amount| Money::new(amount, p.per_1k_tokens.region))
        });
        Estimate {
            clips,
            billable_seconds,
            tokens,
            fee,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models;

    fn dec(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn rounding_half_up_with_cap() {
        assert_eq!(billable_seconds(3.4, 5), Some(3));
        assert_eq!(billable_seconds(6.5, 10), Some(7));
        assert_eq!(billable_seconds(6.5, 5), Some(5));
        assert_eq!(billable_seconds(11.5, 10), Some(10));
        assert_eq!(billable_seconds(0.49, 10), Some(0));
        assert_eq!(billable_seconds(0.5, 10), Some(1));
        assert_eq!(billable_seconds(1e300, 10), Some(10));
        assert_eq!(billable_seconds(-1.0, 10), None);
        assert_eq!(billable_seconds(f64::NAN, 10), None);
    }

    #[test]
    fn tokens_round_up_only_when_not_a_multiple() {
        assert_eq!(tokens(8, 262_144, 400), 819_200);
        assert_eq!(tokens(1, 1025, 1), 2);
        assert_eq!(tokens(1, 1024, 1), 1);
        assert_eq!(tokens(0, 36_864, 400), 0);
        let max = tokens(u64::MAX, u32::MAX, u32::MAX);
        assert!(max > u128::from(u64::MAX));
    }

    #[test]
    fn money_prints_like_the_platform() {
        let cny = |s| Money::new(dec(s), Region::CnBeijing).to_string();
        let usd = |s| Money::new(dec(s), Region::ApSoutheast1).to_string();
        assert_eq!(cny("49.152"), "¥49.152");
        assert_eq!(usd("9.360"), "$9.36");
        assert_eq!(cny("1440.000"), "¥1,440");
        assert_eq!(cny("576"), "¥576");
        assert_eq!(cny("1234567.5"), "¥1,234,567.5");
        assert_eq!(cny("0"), "¥0");
        assert_eq!(group_thousands("100000"), "100,000");
        assert_eq!(group_thousands("12"), "12");
    }

    #[test]
    fn fee_is_exact() {
        assert_eq!(fee(819_200, dec("0.06")), Some(dec("49.152")));
        assert_eq!(fee(187_200, dec("0.05")), Some(dec("9.36")));
        assert_eq!(fee(1, dec("0.03")), Some(dec("0.00003")));
        assert_eq!(fee(u128::MAX, dec("2")), None);
    }

    #[test]
    fn prices_come_from_the_table_or_the_override() {
        let wan27 = models::find("wan2.7-i2v").unwrap();
        let listed = unit_price(wan27, Region::CnBeijing, None).unwrap();
        assert_eq!(listed.per_1k_tokens.amount, dec("2"));
        assert_eq!(listed.source, PriceSource::PriceList);
        assert_eq!(unit_price(wan27, Region::ApSoutheast1, None), None);
        let given = unit_price(wan27, Region::ApSoutheast1, Some(dec("0.3"))).unwrap();
        assert_eq!(given.source, PriceSource::Override);
        assert_eq!(given.per_1k_tokens.to_string(), "$0.3");
    }

    #[test]
    fn every_listed_price_parses() {
        for model in models::MODELS {
            for region in model.regions() {
                if let Price::Per1kTokens(listed) = model.price(region) {
                    assert!(Decimal::from_str(listed).is_ok(), "{} {region}", model.name);
                }
            }
        }
    }
}
