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
    summary: "A prompt's effect sentence differs from the one the other prompts share (for a \
              validation set checked with its training set: from the training set's).",
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

use crate::check::Context;
use crate::dataset::Sample;
use crate::rules::{Finding, Findings, Location};

/// Shortest effect sentence worth inferring, in characters.
const MIN_EFFECT_CHARS: usize = 12;
/// Prompts needed before a shared effect sentence can be inferred.
const MIN_PROMPTS_TO_INFER: usize = 3;

/// Prompt rules: emptiness, length, trigger word and the shared effect sentence. Returns the
/// effect sentence the prompts were held to (given in the options, else found in the prompts),
/// so that a validation set can be held to its training set's.
pub fn check(cx: &Context, findings: &mut Findings) -> Option<String> {
    let limit = cx.options.model.max_prompt_chars;
    let mut prompts: Vec<(&Sample, &str)> = Vec::new();
    for sample in &cx.dataset.samples {
        let Some(text) = sample.prompt.text() else {
            continue;
        };
        let at = cx.dataset.prompt_location(sample);
        let trimmed = text.trim();
        if trimmed.is_empty() {
            findings.push(Finding::new(&EMPTY, at, "the prompt is empty"));
            continue;
        }
        let chars = trimmed.chars().count();
        if chars > limit {
            findings.push(Finding::new(
                &TOO_LONG,
                at,
                format!(
                    "the prompt has {chars} characters; {} truncates after {limit}",
                    cx.options.model.name
                ),
            ));
        }
        prompts.push((sample, trimmed));
    }
    let given = cx.options.effect.as_deref().map(|e| Reference {
        text: e,
        whose: "the training set's prompts",
    });
    match cx.options.trigger.as_deref().map(str::trim) {
        Some(trigger) if !trigger.is_empty() => {
            check_trigger(cx, trigger, &prompts, given, findings)
        }
        _ => check_inferred_effect(cx, &prompts, given, findings),
    }
}

/// The effect sentence prompts are compared with, and whose it is (for messages).
#[derive(Clone, Copy)]
struct Reference<'a> {
    text: &'a str,
    whose: &'static str,
}

const OTHER_PROMPTS: &str = "the other prompts";

fn check_trigger(
    cx: &Context,
    trigger: &str,
    prompts: &[(&Sample, &str)],
    given: Option<Reference>,
    findings: &mut Findings,
) -> Option<String> {
    if is_common_word(trigger) {
        findings.push(Finding::new(
            &COMMON_TRIGGER,
            Location::dataset(),
            format!("the trigger `{trigger}` is an everyday word"),
        ));
    }
    let mut effects: Vec<(&Sample, &str)> = Vec::new();
    for &(sample, text) in prompts {
        match text.find(trigger) {
            None => findings.push(Finding::new(
                &MISSING_TRIGGER,
                cx.dataset.prompt_location(sample),
                format!("the prompt lacks the trigger `{trigger}`"),
            )),
            Some(at) => effects.push((sample, &text[sentence_start(text, at)..])),
        }
    }
    // The given effect sentence, else the one most prompts use, is the reference.
    let reference = match given {
        Some(given) => given,
        None => {
            let mut counts: Vec<(&str, usize)> = Vec::new();
            for &(_, e) in &effects {
                match counts.iter_mut().find(|(x, _)| *x == e) {
                    Some(c) => c.1 += 1,
                    None => counts.push((e, 1)),
                }
            }
            match counts.iter().max_by_key(|(_, n)| *n) {
                Some(&(text, n)) if n >= 2 => Reference {
                    text,
                    whose: OTHER_PROMPTS,
                },
                _ => return None,
            }
        }
    };
    for &(sample, effect) in &effects {
        if effect != reference.text {
            findings.push(differs(cx, sample, effect, reference));
        }
    }
    Some(reference.text.to_string())
}

fn differs(cx: &Context, sample: &Sample, effect: &str, reference: Reference) -> Finding {
    let at_char = effect
        .chars()
        .zip(reference.text.chars())
        .take_while(|(a, b)| a == b)
        .count();
    Finding::new(
        &EFFECT_DIFFERS,
        cx.dataset.prompt_location(sample),
        format!(
            "the effect sentence differs from {} from character {} of it: «{}»",
            reference.whose,
            at_char + 1,
            excerpt(effect, at_char)
        ),
    )
    .hint(format!(
        "{} end with: «{}»",
        reference.whose,
        shorten(reference.text, 160)
    ))
}

/// Without a trigger: every prompt must end with the given effect sentence, else with the
/// longest suffix shared by a majority of the prompts.
fn check_inferred_effect(
    cx: &Context,
    prompts: &[(&Sample, &str)],
    given: Option<Reference>,
    findings: &mut Findings,
) -> Option<String> {
    let inferred;
    let reference = match given {
        Some(given) => given,
        None => {
            if prompts.len() < MIN_PROMPTS_TO_INFER {
                return None;
            }
            let texts: Vec<&str> = prompts.iter().map(|&(_, t)| t).collect();
            let Some(effect) = majority_suffix(&texts) else {
                findings.push(Finding::new(
                    &NO_TRIGGER_FOUND,
                    Location::dataset(),
                    "no trigger word is configured and the prompts share no common ending",
                ));
                return None;
            };
            inferred = effect;
            Reference {
                text: &inferred,
                whose: OTHER_PROMPTS,
            }
        }
    };
    for &(sample, text) in prompts {
        if !text.ends_with(reference.text) {
            let tail_start = text
                .char_indices()
                .rev()
                .nth(reference.text.chars().count().saturating_sub(1))
                .map_or(0, |(i, _)| i);
            findings.push(differs(cx, sample, &text[tail_start..], reference));
        }
    }
    Some(reference.text.to_string())
}

/// The longest text that at least half of `texts` (and at least two) end with, cut back to
/// begin at a sentence (or at least a word) boundary.
pub fn majority_suffix(texts: &[&str]) -> Option<String> {
    let mut reversed: Vec<Vec<char>> = texts.iter().map(|t| t.chars().rev().collect()).collect();
    reversed.sort_unstable();
    let k = texts.len().div_ceil(2).max(2);
    if reversed.len() < k {
        return None;
    }
    // In sorted order, the strings sharing a suffix are contiguous, and the longest common
    // prefix of a run equals that of its first and last element.
    let (best_len, best_at) = (0..=reversed.len() - k)
        .map(|i| {
            let (a, b) = (&reversed[i], &reversed[i + k - 1]);
            (a.iter().zip(b).take_while(|(x, y)| x == y).count(), i)
        })
        .max_by_key(|&(len, i)| (len, std::cmp::Reverse(i)))?;
    let suffix: String = reversed[best_at][..best_len].iter().rev().collect();
    let snapped = snap_to_boundary(&suffix);
    (snapped.chars().count() >= MIN_EFFECT_CHARS && snapped.contains(' ')).then_some(snapped)
}

fn snap_to_boundary(suffix: &str) -> String {
    // A sentence start inside the suffix: after ". " (or a CJK full stop).
    let sentence = suffix
        .match_indices(['.', '。', '!', '?'])
        .map(|(i, m)| i + m.len())
        .find(|&i| i < suffix.len());
    if let Some(i) = sentence {
        let rest = suffix[i..].trim_start();
        if rest.chars().count() >= MIN_EFFECT_CHARS {
            return rest.to_string();
        }
    }
    match suffix.find(' ') {
        // The suffix may begin mid-word: drop the partial word.
        Some(i) if !suffix.starts_with(' ') => suffix[i..].trim_start().to_string(),
        _ => suffix.trim_start().to_string(),
    }
}

/// Byte offset where the sentence holding byte `at` starts.
fn sentence_start(text: &str, at: usize) -> usize {
    text[..at]
        .rfind(['.', '。', '!', '?', '\n'])
        .map(|i| {
            let after = i + text[i..].chars().next().map_or(1, char::len_utf8);
            after + (text[after..].len() - text[after..].trim_start().len())
        })
        .unwrap_or(0)
}

fn excerpt(text: &str, from_char: usize) -> String {
    let start = from_char.saturating_sub(10);
    let s: String = text.chars().skip(start).take(60).collect();
    format!("{}{s}…", if start > 0 { "…" } else { "" })
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let s: String = text.chars().take(max).collect();
        format!("{s}…")
    }
}

/// Everyday English words that make poor triggers (the spec's examples and common words of
/// effect captions).
const COMMON_WORDS: &[&str] = &[
    "a",
    "about",
    "action",
    "air",
    "all",
    "amazing",
    "an",
    "and",
    "animal",
    "art",
    "baby",
    "back",
    "ball",
    "beautiful",
    "best",
    "big",
    "bird",
    "black",
    "blue",
    "boat",
    "body",
    "book",
    "boom",
    "bright",
    "bubble",
    "bubbles",
    "burn",
    "burst",
    "camera",
    "car",
    "cartoon",
    "cat",
    "child",
    "city",
    "cloud",
    "clouds",
    "color",
    "colorful",
    "cool",
    "cute",
    "dance",
    "dancing",
    "dark",
    "day",
    "dog",
    "dream",
    "dust",
    "earth",
    "effect",
    "energy",
    "epic",
    "explode",
    "explosion",
    "eye",
    "face",
    "fall",
    "fast",
    "fire",
    "fireworks",
    "flame",
    "flower",
    "flowers",
    "fly",
    "flying",
    "fog",
    "fold",
    "food",
    "forest",
    "free",
    "fun",
    "funny",
    "game",
    "ghost",
    "girl",
    "glitch",
    "glow",
    "gold",
    "golden",
    "good",
    "great",
    "green",
    "hair",
    "hand",
    "happy",
    "heart",
    "hero",
    "ice",
    "jump",
    "kiss",
    "laugh",
    "leaf",
    "leaves",
    "light",
    "lightning",
    "love",
    "magic",
    "man",
    "melt",
    "money",
    "moon",
    "motion",
    "move",
    "music",
    "nature",
    "neon",
    "new",
    "night",
    "ocean",
    "paper",
    "party",
    "people",
    "person",
    "pink",
    "power",
    "pretty",
    "rain",
    "red",
    "rock",
    "rose",
    "run",
    "running",
    "sand",
    "sea",
    "shadow",
    "shine",
    "sky",
    "slow",
    "smile",
    "smoke",
    "snow",
    "space",
    "sparkle",
    "spin",
    "splash",
    "star",
    "stars",
    "storm",
    "style",
    "sun",
    "super",
    "sweet",
    "the",
    "transform",
    "transformation",
    "tree",
    "video",
    "walk",
    "walking",
    "water",
    "wave",
    "white",
    "wind",
    "woman",
    "world",
    "yellow",
    "zoom",
];

/// True when `word` is an everyday word (case-insensitive).
pub fn is_common_word(word: &str) -> bool {
    let w = word.to_ascii_lowercase();
    COMMON_WORDS.binary_search(&w.as_str()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_words_are_sorted_for_binary_search() {
        assert!(COMMON_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_common_word("Fire") && is_common_word("dance"));
        assert!(!is_common_word("q7zx3k") && !is_common_word("s86b5p"));
    }

    #[test]
    fn majority_suffix_finds_the_effect_sentence() {
        let effect = "Then the q7zx3k bubble burst effect begins, bubbles pop slowly.";
        let texts: Vec<String> = [
            "A cat on a sill. Warm light.",
            "A dog. Snow.",
            "A boy. Beach.",
        ]
        .iter()
        .map(|s| format!("The video begins showing {s} {effect}"))
        .chain(std::iter::once(
            "A girl. Then the q7zx3k bubble effect begins.".into(),
        ))
        .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        assert_eq!(majority_suffix(&refs).as_deref(), Some(effect));
    }

    #[test]
    fn no_majority_no_effect() {
        let refs = [
            "one thing here.",
            "another one there!",
            "a third sentence entirely",
        ];
        assert_eq!(majority_suffix(&refs), None);
    }

    #[test]
    fn sentence_start_skips_the_full_stop_and_spaces() {
        let t = "A cat. Then the x9 effect.";
        assert_eq!(
            &t[sentence_start(t, t.find("x9").unwrap())..],
            "Then the x9 effect."
        );
        assert_eq!(sentence_start("x9 first", 0), 0);
    }
}
