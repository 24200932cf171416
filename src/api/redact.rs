//! Finding a secret in text however it was encoded on the way: as it is, with JSON escapes
//! (`\u0073k-…`, `\/`), percent-encoded (`sk%2D…`), in layers of those (`%5Cu0073…`), in
//! base64 (an `Authorization: Basic …` or `Bearer …` echoed back, at any alignment), or in hex.
//! Every match is replaced, in the original text, by the span it came from.
//!
//! The work is linear in the text: each decoding layer is one pass, the search is a substring
//! search, and base64 runs are decoded at their four alignments.

use std::borrow::Cow;
use std::ops::Range;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};

/// Layers of escaping undone (JSON inside a URL inside JSON is three).
const LAYERS: usize = 3;
/// Shortest base64 run worth decoding: a key of 8 characters takes 12.
const MIN_BASE64_RUN: usize = 12;

/// `text` with every occurrence of `secret`, however encoded, replaced by `mask`.
pub fn redact<'a>(text: &'a str, secret: &str, mask: &str) -> Cow<'a, str> {
    if secret.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut spans: Vec<Range<usize>> = Vec::new();
    // The text and its decodings, each char with the span of the original it came from.
    let mut layer: Vec<(char, usize, usize)> = text
        .char_indices()
        .map(|(i, c)| (c, i, i + c.len_utf8()))
        .collect();
    for _ in 0..=LAYERS {
        find_in_layer(&layer, secret, &mut spans);
        match decode_layer(&layer) {
            Some(next) => layer = next,
            None => break,
        }
    }
    find_base64(text, secret, &mut spans);
    find_hex(text, secret, &mut spans);
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end)));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.end <= at {
            continue; // inside a span already masked
        }
        out.push_str(&text[at..span.start.max(at)]);
        out.push_str(mask);
        at = span.end;
    }
    out.push_str(&text[at..]);
    Cow::Owned(out)
}

fn find_in_layer(layer: &[(char, usize, usize)], secret: &str, spans: &mut Vec<Range<usize>>) {
    let mut joined = String::with_capacity(layer.len());
    // Byte offset in `joined` → index in `layer`.
    let mut index_of = Vec::with_capacity(layer.len() + 1);
    for (i, (c, _, _)) in layer.iter().enumerate() {
        for _ in 0..c.len_utf8() {
            index_of.push(i);
        }
        joined.push(*c);
    }
    for (at, found) in joined.match_indices(secret) {
        let first = index_of[at];
        let last = index_of[at + found.len() - 1];
        spans.push(layer[first].1..layer[last].2);
    }
}

/// One layer of JSON escapes and percent-encoding undone; `None` when there was none.
fn decode_layer(layer: &[(char, usize, usize)]) -> Option<Vec<(char, usize, usize)>> {
    let chars: Vec<char> = layer.iter().map(|(c, _, _)| *c).collect();
    let hex = |from: usize, len: usize| -> Option<u32> {
        let digits: String = chars.get(from..from + len)?.iter().collect();
        if digits.chars().all(|c| c.is_ascii_hexdigit()) {
            u32::from_str_radix(&digits, 16).ok()
        } else {
            None
        }
    };
    let mut out = Vec::with_capacity(layer.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        let decoded = match chars[i] {
            '\\' => match chars.get(i + 1) {
                Some('u') => hex(i + 2, 4).and_then(char::from_u32).map(|c| (c, 6)),
                Some('x') => hex(i + 2, 2).and_then(char::from_u32).map(|c| (c, 4)),
                Some(&c @ ('/' | '\\' | '"' | '\'')) => Some((c, 2)),
                _ => None,
            },
            '%' => hex(i + 1, 2).and_then(char::from_u32).map(|c| (c, 3)),
            _ => None,
        };
        match decoded {
            Some((c, len)) => {
                out.push((c, layer[i].1, layer[i + len - 1].2));
                changed = true;
                i += len;
            }
            None => {
                out.push(layer[i]);
                i += 1;
            }
        }
    }
    changed.then_some(out)
}

fn base64_engines() -> [GeneralPurpose; 2] {
    let lenient = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    [
        GeneralPurpose::new(&base64::alphabet::STANDARD, lenient),
        GeneralPurpose::new(&base64::alphabet::URL_SAFE, lenient),
    ]
}

/// Runs of base64 characters whose decoding (at any of the four alignments, in either
/// alphabet) holds the secret, whole.
fn find_base64(text: &str, secret: &str, spans: &mut Vec<Range<usize>>) {
    let is_base64 = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_');
    let bytes = text.as_bytes();
    let engines = base64_engines();
    let mut i = 0;
    while i < bytes.len() {
        if !is_base64(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && is_base64(bytes[i]) {
            i += 1;
        }
        let run = &text[start..i];
        if run.len() < MIN_BASE64_RUN {
            continue;
        }
        let holds_secret = (0..4).any(|skip| {
            let aligned = &run[skip..];
            // A last group of one character cannot be decoded; two or three can.
            let whole = match aligned.len() % 4 {
                1 => &aligned[..aligned.len() - 1],
                _ => aligned,
            };
            engines.iter().any(|engine| {
                engine
                    .decode(whole)
                    .is_ok_and(|plain| String::from_utf8_lossy(&plain).contains(secret))
            })
        });
        if holds_secret {
            // Padding belongs to the run.
            let mut end = i;
            while end < bytes.len() && bytes[end] == b'=' {
                end += 1;
            }
            spans.push(start..end);
        }
    }
}

/// The secret's bytes written in hex, either case.
fn find_hex(text: &str, secret: &str, spans: &mut Vec<Range<usize>>) {
    let lower = text.to_ascii_lowercase();
    let wanted = hex::encode(secret.as_bytes());
    for (at, found) in lower.match_indices(&wanted) {
        spans.push(at..at + found.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose;

    const KEY: &str = "sk-ab12cd34ef56-SECRET";

    fn shown(text: &str) -> String {
        redact(text, KEY, "<redacted>").into_owned()
    }

    fn json_escaped(s: &str) -> String {
        s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect()
    }

    fn percent_encoded(s: &str) -> String {
        s.bytes().map(|b| format!("%{b:02X}")).collect()
    }

    #[test]
    fn every_encoding_is_masked_in_place() {
        let b64 = general_purpose::STANDARD;
        let url64 = general_purpose::URL_SAFE_NO_PAD;
        let cases = [
            format!("plain {KEY} end"),
            format!(r#"{{"echo":"{}"}}"#, json_escaped(KEY)),
            r#"{"echo":"\u0073k-ab12cd34ef56-SECRET"}"#.to_string(),
            format!("?key={}&x=1", percent_encoded(KEY)),
            "?key=sk%2Dab12cd34ef56-SECRET".to_string(),
            "mixed s\\u006b-ab12%63d34ef56-SECRET".to_string(),
            // JSON escapes, percent-encoded: two layers.
            format!("?q={}", percent_encoded(&json_escaped(KEY))),
            format!(
                "Authorization: Bearer {}",
                b64.encode(format!("Bearer {KEY}"))
            ),
            format!("Authorization: Basic {}", b64.encode(format!("user:{KEY}"))),
            format!("token={}", url64.encode(format!("xx{KEY}yy"))),
            format!("prefixed: AAAA{}", b64.encode(format!("...{KEY}"))),
            format!("hex {}", hex::encode(KEY).to_uppercase()),
        ];
        for case in cases {
            let out = shown(&case);
            assert!(out.contains("<redacted>"), "{case} → {out}");
            assert!(!out.contains(KEY), "{case} → {out}");
            assert!(
                !out.to_lowercase().contains("ab12cd34ef56"),
                "{case} → {out}"
            );
        }
        // The rest of the text is kept as it was.
        assert_eq!(
            shown(r#"a "\u0073k-ab12cd34ef56-SECRET" b"#),
            r#"a "<redacted>" b"#
        );
        assert!(matches!(
            redact("nothing \\u0041 here %41", KEY, "x"),
            Cow::Borrowed(_)
        ));
    }

    proptest::proptest! {
        /// Whatever surrounds it, an encoded key never survives.
        #[test]
        fn the_key_never_survives(before in ".{0,20}", after in ".{0,20}", how in 0..5usize) {
            let encoded = match how {
                0 => KEY.to_string(),
                1 => json_escaped(KEY),
                2 => percent_encoded(KEY),
                3 => general_purpose::STANDARD.encode(format!("Bearer {KEY}")),
                _ => hex::encode(KEY),
            };
            let text = format!("{before} {encoded} {after}");
            let out = shown(&text);
            proptest::prop_assert!(!out.contains(KEY), "{} → {}", text, out);
            proptest::prop_assert!(!out.contains(&encoded), "{} → {}", text, out);
        }
    }
}
