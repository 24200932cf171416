//! `T` rules: prompt text, trigger word and the shared effect sentence (spec §2.7).

use super::{Rule, Severity::*};

pub const EMPTY: Rule = Rule {
    code: "T001",
    name: "empty-prompt",
    severity: Error,
    summary: "A prompt is empty or whitespace only.",
    why: "Captions are what the LoRA associates with the motion; an empty one trains nothing \
          useful and is rejected.",
    fix: "Write the caption: subject, background, trigger word, motion.",
};

pub const TOO_LONG: Rule = Rule {
    code: "T002",
    name: "prompt-too-long",
    severity: Warning,
    summary: "A prompt is longer than the model's inference limit (800 characters for wan2.2, \
              1500 for the others).",
    why: "Inference truncates longer prompts, so training on them teaches words the model will \
          never see at generation time.",
    fix: "Shorten the caption; keep the effect sentence intact.",
};

pub const MISSING_TRIGGER: Rule = Rule {
    code: "T003",
    name: "missing-trigger",
    severity: Warning,
    summary: "A prompt does not contain the configured trigger word.",
    why: "The trigger word is the anchor the LoRA binds the effect to; samples without it dilute \
          the binding.",
    fix: "Add the trigger word in the effect sentence of every prompt.",
};

pub const EFFECT_DIFFERS: Rule = Rule {
    code: "T004",
    name: "effect-sentence-differs",
    severity: Warning,
    summary: "A prompt's effect sentence (the text shared by the other prompts) differs.",
    why: "The effect sentence must be character-identical across all samples of one effect; \
          only subject and background vary.",
    fix: "Copy the effect sentence exactly from the other prompts.",
};

pub const COMMON_TRIGGER: Rule = Rule {
    code: "T005",
    name: "common-word-trigger",
    severity: Warning,
    summary: "The trigger word is an everyday word.",
    why: "A trigger must be a rare, meaningless token (s86b5p, sksstyle); an everyday word \
          already means something to the model and fights the LoRA.",
    fix: "Choose a rare token such as q7zx3k.",
};

pub const NO_TRIGGER_FOUND: Rule = Rule {
    code: "T006",
    name: "no-shared-effect",
    severity: Info,
    summary: "No trigger word is configured and the prompts share no common effect sentence.",
    why: "Without a shared, identical effect sentence the LoRA has no anchor to learn.",
    fix: "Configure the trigger (--trigger or wanft.toml) and end every prompt with the same \
          effect sentence.",
};

pub const RULES: &[&Rule] = &[
    &EMPTY,
    &TOO_LONG,
    &MISSING_TRIGGER,
    &EFFECT_DIFFERS,
    &COMMON_TRIGGER,
    &NO_TRIGGER_FOUND,
];
