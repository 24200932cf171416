//! The worked examples of spec §4 and §5, and properties of the estimate.

use std::str::FromStr;

use proptest::prelude::*;
use rust_decimal::Decimal;

use super::*;
use crate::models;

fn model(name: &str) -> &'static ModelProfile {
    models::find(name).expect("model in the table")
}

fn clips(seconds: &[f64]) -> Vec<Clip> {
    seconds
        .iter()
        .enumerate()
        .map(|(i, &s)| Clip {
            path: format!("clip{i:02}.mp4"),
            duration_s: Some(s),
        })
        .collect()
}

/// A plan with a validation set, so that every clip trains and is billed (as in §5.2).
fn plan(name: &str, region: Region, seconds: &[f64], max_pixels: u32, n_epochs: u32) -> Plan {
    estimate(&PlanInput {
        model: model(name),
        region,
        hyper: HyperParams {
            max_pixels: Some(max_pixels),
            n_epochs: Some(n_epochs),
            ..HyperParams::default()
        },
        training: clips(seconds),
        validation_count: Some(1),
        price_override: None,
    })
}

fn fee_text(plan: &Plan) -> String {
    plan.all_clips.fee.expect("a fee").to_string()
}

#[test]
fn example_a_beijing_wan22_flash() {
    let p = plan(
        "wan2.2-i2v-flash",
        Region::CnBeijing,
        &[3.4, 6.5],
        262_144,
        400,
    );
    assert_eq!(p.all_clips.billable_seconds, 8);
    assert_eq!(p.all_clips.tokens, 819_200);
    assert_eq!(fee_text(&p), "¥49.152");
}

#[test]
fn example_b_singapore_wan25() {
    let p = plan(
        "wan2.5-i2v-preview",
        Region::ApSoutheast1,
        &[3.4, 11.5],
        36_864,
        400,
    );
    assert_eq!(p.all_clips.billable_seconds, 13);
    assert_eq!(p.all_clips.tokens, 187_200);
    assert_eq!(fee_text(&p), "$9.36");
    assert!(p.clips[1].capped && !p.clips[0].capped);
}

#[test]
fn examples_c_and_d_beijing_wan27() {
    let c = plan("wan2.7-i2v", Region::CnBeijing, &[10.0], 36_864, 800);
    assert_eq!(
        (c.all_clips.tokens, fee_text(&c)),
        (288_000, "¥576".to_owned())
    );
    let d = plan("wan2.7-i2v", Region::CnBeijing, &[3.4, 11.5], 36_864, 800);
    assert_eq!(d.all_clips.billable_seconds, 13);
    assert_eq!(
        (d.all_clips.tokens, fee_text(&d)),
        (374_400, "¥748.8".to_owned())
    );
}

#[test]
fn example_e_usage_sanity() {
    let p = plan(
        "wan2.5-i2v-preview",
        Region::CnBeijing,
        &[10.0; 3],
        36_864,
        400,
    );
    assert_eq!(p.all_clips.billable_seconds, 30);
    assert_eq!(p.all_clips.tokens, 432_000);
}

#[test]
fn wan27_table_of_spec_5_2() {
    let expected = [
        (
            36_864,
            [(288_000, "¥576"), (360_000, "¥720"), (720_000, "¥1,440")],
        ),
        (
            65_536,
            [
                (512_000, "¥1,024"),
                (640_000, "¥1,280"),
                (1_280_000, "¥2,560"),
            ],
        ),
        (
            102_400,
            [
                (800_000, "¥1,600"),
                (1_000_000, "¥2,000"),
                (2_000_000, "¥4,000"),
            ],
        ),
    ];
    for (max_pixels, row) in expected {
        for (n_epochs, (tokens, fee)) in [800, 1000, 2000].into_iter().zip(row) {
            let p = plan(
                "wan2.7-i2v",
                Region::CnBeijing,
                &[10.0],
                max_pixels,
                n_epochs,
            );
            assert_eq!(p.all_clips.tokens, tokens, "{max_pixels} × {n_epochs}");
            assert_eq!(fee_text(&p), fee, "{max_pixels} × {n_epochs}");
        }
    }
}

#[test]
fn step_table_follows_the_step_targets() {
    // One clip, batch 1, validation set given: one step per epoch, so the table's epochs are
    // the targets themselves and reproduce the wan2.7 row at 36864.
    let p = plan("wan2.7-i2v", Region::CnBeijing, &[10.0], 36_864, 800);
    let rows: Vec<(u64, u32, u128, String)> = p
        .table
        .iter()
        .map(|r| {
            (
                r.target_steps,
                r.n_epochs,
                r.tokens,
                r.fee.unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (800, 800, 288_000, "¥576".to_owned()),
            (1000, 1000, 360_000, "¥720".to_owned()),
            (2000, 2000, 720_000, "¥1,440".to_owned()),
        ]
    );
}

#[test]
fn recommends_the_minimum_epochs_for_800_steps() {
    // §4.1 with the split of §4.3: 7 clips, split 0.9 → 1 validation, 6 train, batch 2 → 3
    // steps per epoch → 267 epochs.
    let p = estimate(&PlanInput {
        model: model("wan2.5-i2v-preview"),
        region: Region::CnBeijing,
        hyper: HyperParams::default(),
        training: clips(&[5.0; 7]),
        validation_count: None,
        price_override: None,
    });
    assert_eq!((p.samples.training, p.samples.validation), (6, 1));
    assert_eq!(p.steps.per_epoch, 3);
    assert_eq!(p.steps.n_epochs, 267);
    assert_eq!(p.steps.n_epochs_source, EpochsSource::Recommended);
    assert_eq!(p.hyper.n_epochs, 267);
    assert!(!p.findings.has("H001"));
    // Eval every 50 epochs (150 steps) plus the final step 801.
    let steps: Vec<u64> = p.checkpoints.listed().iter().map(|c| c.step).collect();
    assert_eq!(steps, [150, 300, 450, 600, 750, 801]);
}

#[test]
fn recommended_epochs_bring_a_valid_eval_epochs() {
    // 2 clips, batch 4 → 1 step per epoch → 800 epochs; eval 50 would break 10 × eval ≥ n.
    let p = estimate(&PlanInput {
        model: model("wan2.2-i2v-flash"),
        region: Region::CnBeijing,
        hyper: HyperParams::default(),
        training: clips(&[5.0; 2]),
        validation_count: Some(1),
        price_override: None,
    });
    assert_eq!((p.hyper.n_epochs, p.hyper.eval_epochs), (800, 80));
    assert!(p.findings.is_empty(), "{:?}", p.findings);
    // A given eval_epochs is never changed.
    let p = estimate(&PlanInput {
        model: model("wan2.2-i2v-flash"),
        region: Region::CnBeijing,
        hyper: HyperParams {
            eval_epochs: Some(50),
            ..HyperParams::default()
        },
        training: clips(&[5.0; 2]),
        validation_count: Some(1),
        price_override: None,
    });
    assert_eq!(p.hyper.eval_epochs, 50);
    assert!(p.findings.has("H005"));
}

#[test]
fn too_few_steps_warns_with_the_minimum() {
    let p = plan(
        "wan2.5-i2v-preview",
        Region::CnBeijing,
        &[5.0; 5],
        36_864,
        100,
    );
    let finding = p.findings.iter().find(|f| f.rule.code == "H001").unwrap();
    assert!(finding.effective_hint().contains("267"), "{finding:?}");
}

#[test]
fn auto_split_gives_both_bounds() {
    // 20 clips, split 0.9 → 2 split off. The lower bound drops the two longest (10 s each).
    let mut seconds = vec![4.0; 18];
    seconds.extend([10.0, 10.0]);
    let p = estimate(&PlanInput {
        model: model("wan2.5-i2v-preview"),
        region: Region::CnBeijing,
        hyper: HyperParams {
            n_epochs: Some(400),
            ..HyperParams::default()
        },
        training: clips(&seconds),
        validation_count: None,
        price_override: None,
    });
    assert_eq!(p.samples.split_off(), 2);
    assert_eq!(p.all_clips.billable_seconds, 18 * 4 + 20);
    let lower = p.without_split_validation.unwrap();
    assert_eq!((lower.clips, lower.billable_seconds), (18, 18 * 4));
    assert!(lower.fee.unwrap().amount < p.all_clips.fee.unwrap().amount);
}

#[test]
fn unknown_duration_makes_a_lower_bound() {
    let mut training = clips(&[5.0, 5.0]);
    training.push(Clip {
        path: "broken.mp4".to_owned(),
        duration_s: None,
    });
    let p = estimate(&PlanInput {
        model: model("wan2.5-i2v-preview"),
        region: Region::CnBeijing,
        hyper: HyperParams::default(),
        training,
        validation_count: Some(1),
        price_override: None,
    });
    assert_eq!(p.unknown_durations, 1);
    assert_eq!(p.all_clips.billable_seconds, 10);
    assert!(!p.fee_is_complete());
    let finding = p.findings.iter().find(|f| f.rule.code == "H015").unwrap();
    assert_eq!(finding.location.file.as_deref(), Some("broken.mp4"));
}

#[test]
fn unknown_price_unless_overridden() {
    let input = PlanInput {
        model: model("wan2.7-i2v"),
        region: Region::ApSoutheast1,
        hyper: HyperParams::default(),
        training: clips(&[10.0]),
        validation_count: Some(1),
        price_override: None,
    };
    let p = estimate(&input);
    assert!(p.price.is_none() && p.all_clips.fee.is_none());
    assert!(p.findings.has("H012"));
    let p = estimate(&PlanInput {
        price_override: Some(Decimal::from_str("0.25").unwrap()),
        ..input
    });
    assert!(!p.findings.has("H012"));
    // 10 s × 100 px-units × 800 epochs (the minimum for 800 one-step epochs) = 800,000 tokens.
    assert_eq!(p.all_clips.tokens, 800_000);
    assert_eq!(fee_text(&p), "$200");
}

#[test]
fn gates_flip_exactly_at_the_threshold() {
    let p = plan(
        "wan2.2-i2v-flash",
        Region::CnBeijing,
        &[3.4, 6.5],
        262_144,
        400,
    );
    let gate = |max_cost: &str, max_steps: u64| {
        Gates {
            max_cost: Some(Decimal::from_str(max_cost).unwrap()),
            max_steps: Some(max_steps),
        }
        .evaluate(&p)
        .iter()
        .map(|g| g.status)
        .collect::<Vec<_>>()
    };
    // 2 clips, batch 4 → 1 step per epoch → 400 steps; fee ¥49.152.
    assert_eq!(p.steps.total, 400);
    assert_eq!(
        gate("49.152", 400),
        [GateStatus::Passed, GateStatus::Passed]
    );
    assert_eq!(
        gate("49.151", 399),
        [GateStatus::Exceeded, GateStatus::Exceeded]
    );
}

#[test]
fn gates_fail_closed_when_the_fee_is_unknown() {
    let p = estimate(&PlanInput {
        model: model("wan2.7-i2v"),
        region: Region::ApSoutheast1,
        hyper: HyperParams::default(),
        training: clips(&[10.0]),
        validation_count: Some(1),
        price_override: None,
    });
    let results = Gates {
        max_cost: Some(Decimal::ONE_HUNDRED),
        max_steps: None,
    }
    .evaluate(&p);
    assert_eq!(results[0].status, GateStatus::Undetermined);
    assert!(results[0].failed());
}

#[test]
fn json_document_has_the_documented_keys() {
    let p = plan(
        "wan2.2-i2v-flash",
        Region::CnBeijing,
        &[3.4, 6.5],
        262_144,
        400,
    );
    let gates = Gates {
        max_cost: Some(Decimal::ONE_HUNDRED),
        max_steps: None,
    }
    .evaluate(&p);
    let doc = serde_json::to_value(json::PlanDocument::new(&p, &gates, &[])).unwrap();
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "schema_version",
        "inputs",
        "counts",
        "steps",
        "checkpoints",
        "clips",
        "tokens",
        "fee",
        "table",
        "findings",
        "gates",
        "summary",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    assert_eq!(doc["schema_version"], json::SCHEMA_VERSION);
    assert_eq!(doc["fee"]["all_clips"]["amount"], "49.152");
    assert_eq!(doc["fee"]["all_clips"]["display"], "¥49.152");
    assert_eq!(doc["tokens"]["all_clips"], 819_200);
    assert_eq!(doc["steps"]["per_epoch"], 1);
    assert_eq!(doc["gates"][0]["status"], "passed");
    assert_eq!(doc["clips"][1]["billable_s"], 5);
}

/// Parses a printed amount (`¥1,234.567`) into integer micro-units, independently of
/// `rust_decimal`.
fn printed_micro_units(printed: &str) -> u128 {
    let digits: String = printed
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let (integer, fraction) = digits.split_once('.').unwrap_or((&digits, ""));
    assert!(fraction.len() <= 6, "{printed} has more than 6 decimals");
    let padded = format!("{fraction:0<6}");
    integer.parse::<u128>().unwrap() * 1_000_000 + padded.parse::<u128>().unwrap()
}

proptest! {
    #[test]
    fn tokens_never_decrease_when_inputs_grow(
        seconds in prop::collection::vec(0.0f64..15.0, 0..20),
        extra in 0.0f64..15.0,
        n_epochs in 1u32..3000,
        more_epochs in 0u32..1000,
        max_pixels in 16_384u32..300_000,
        more_pixels in 0u32..100_000,
    ) {
        let base = plan("wan2.5-i2v-preview", Region::CnBeijing, &seconds, max_pixels, n_epochs);
        let mut more_clips = seconds.clone();
        more_clips.push(extra);
        let grown = [
            plan("wan2.5-i2v-preview", Region::CnBeijing, &more_clips, max_pixels, n_epochs),
            plan("wan2.5-i2v-preview", Region::CnBeijing, &seconds, max_pixels, n_epochs + more_epochs),
            plan("wan2.5-i2v-preview", Region::CnBeijing, &seconds, max_pixels + more_pixels, n_epochs),
        ];
        for g in &grown {
            prop_assert!(g.all_clips.tokens >= base.all_clips.tokens);
            prop_assert!(g.all_clips.fee.unwrap().amount >= base.all_clips.fee.unwrap().amount);
        }
    }

    #[test]
    fn printed_fee_is_exact(
        seconds in prop::collection::vec(0.0f64..12.0, 1..30),
        n_epochs in 1u32..5000,
        max_pixels in 36_864u32..123_904,
        price_milli in 1u64..100_000,
    ) {
        let price = Decimal::new(i64::try_from(price_milli).unwrap(), 3);
        let p = estimate(&PlanInput {
            model: model("wan2.7-i2v"),
            region: Region::CnBeijing,
            hyper: HyperParams {
                n_epochs: Some(n_epochs),
                max_pixels: Some(max_pixels),
                ..HyperParams::default()
            },
            training: clips(&seconds),
            validation_count: Some(1),
            price_override: Some(price),
        });
        // Independent integer computation: fee = tokens × price_milli / 1000 / 1000 units,
        // i.e. tokens × price_milli micro-units.
        let sum: u128 = seconds.iter().map(|&s| {
            let whole = (s + 0.5).floor() as u128;
            whole.min(10)
        }).sum();
        let product = sum * u128::from(max_pixels) * u128::from(n_epochs);
        let tokens = product / 1024 + u128::from(!product.is_multiple_of(1024));
        prop_assert_eq!(p.all_clips.tokens, tokens);
        let printed = p.all_clips.fee.unwrap().to_string();
        prop_assert_eq!(printed_micro_units(&printed), tokens * u128::from(price_milli));
    }
}
