//! Reading `data.jsonl`: bytes in, samples and `J` findings out, with line and column numbers.
//!
//! The reader is strict where the platform is (one object per line, UTF-8) and conservative where
//! it is silent (duplicate keys, BOM, CRLF); it never stops at the first problem, so one run
//! reports every bad line.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{Field, Origin, Sample};
use crate::rules::{Finding, Findings, Location, manifest as rule};

/// Fields of the format (spec §2.3).
pub const KNOWN_FIELDS: [&str; 4] = [
    "prompt",
    "first_frame_path",
    "last_frame_path",
    "video_path",
];

/// Parses `data.jsonl` (`file` is its dataset-relative name, used in findings).
pub fn parse(bytes: &[u8], file: &str, findings: &mut Findings) -> Vec<Sample> {
    let mut bytes = bytes;
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        findings.push(Finding::new(
            &rule::BOM,
            Location::line(file, 1),
            "data.jsonl starts with a UTF-8 byte-order mark (EF BB BF)",
        ));
        bytes = rest;
    }
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        findings.push(Finding::new(
            &rule::JSON_ARRAY,
            Location::line(file, 1),
            "data.jsonl is a JSON array; the format wants one JSON object per line",
        ));
        return Vec::new();
    }

    let mut samples = Vec::new();
    let mut crlf_lines = Vec::new();
    let mut lines = bytes.split(|&b| b == b'\n').peekable();
    let mut number = 0;
    while let Some(mut line) = lines.next() {
        number += 1;
        if lines.peek().is_none() && line.is_empty() {
            break; // the newline that ends the last line
        }
        if let Some(stripped) = line.strip_suffix(b"\r") {
            crlf_lines.push(number);
            line = stripped;
        }
        if let Some(sample) = parse_line(line, file, number, findings) {
            samples.push(sample);
        }
    }
    if let Some(&first) = crlf_lines.first() {
        findings.push(Finding::new(
            &rule::CRLF,
            Location::line(file, first),
            format!(
                "{} line(s) end with CRLF (Windows line endings)",
                crlf_lines.len()
            ),
        ));
    }
    samples
}

fn parse_line(line: &[u8], file: &str, number: usize, findings: &mut Findings) -> Option<Sample> {
    let at = |column: usize| Location::line(file, number).with_column(column);
    let text = match std::str::from_utf8(line) {
        Ok(t) => t,
        Err(e) => {
            let valid = &line[..e.valid_up_to()];
            let column = String::from_utf8_lossy(valid).chars().count() + 1;
            let bad: Vec<String> = line[e.valid_up_to()..]
                .iter()
                .take(e.error_len().unwrap_or(1))
                .map(|b| format!("{b:02X}"))
                .collect();
            findings.push(Finding::new(
                &rule::NOT_UTF8,
                at(column),
                format!("invalid UTF-8 byte(s) {}", bad.join(" ")),
            ));
            return None;
        }
    };
    if text.trim().is_empty() {
        findings.push(Finding::new(
            &rule::BLANK_LINE,
            Location::line(file, number),
            "blank line",
        ));
        return None;
    }
    let object = match serde_json::from_str::<JsonLine>(text) {
        Ok(JsonLine::Object(entries)) => entries,
        Ok(JsonLine::Other(kind)) => {
            findings.push(Finding::new(
                &rule::NOT_OBJECT,
                at(first_non_space_column(text)),
                format!("the line is a JSON {kind}, not an object"),
            ));
            return None;
        }
        Err(e) => {
            let column = char_column(text, e.column());
            findings.push(Finding::new(
                &rule::INVALID_JSON,
                at(column),
                format!("invalid JSON: {}", strip_position(&e)),
            ));
            return None;
        }
    };
    Some(sample_from_object(object, file, number, findings))
}

fn sample_from_object(
    entries: Vec<(String, Value)>,
    file: &str,
    number: usize,
    findings: &mut Findings,
) -> Sample {
    let mut sample = Sample::new(Origin::Line(number));
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in &entries {
        if seen.contains(&key.as_str()) {
            findings.push(Finding::new(
                &rule::DUPLICATE_KEY,
                Location::line(file, number),
                format!("key `{key}` appears more than once"),
            ));
            continue;
        }
        seen.push(key);
        let slot = match key.as_str() {
            "prompt" => &mut sample.prompt,
            "first_frame_path" => &mut sample.first_frame,
            "last_frame_path" => &mut sample.last_frame,
            "video_path" => &mut sample.video,
            _ => {
                sample.extra_keys.push(key.clone());
                continue;
            }
        };
        *slot = match value {
            Value::String(s) => Field::Text(s.clone()),
            other => {
                findings.push(Finding::new(
                    &rule::WRONG_TYPE,
                    Location::line(file, number),
                    format!(
                        "`{key}` is {}, expected a string",
                        json_kind_with_article(other)
                    ),
                ));
                Field::Invalid
            }
        };
    }
    sample
}

/// One line of data.jsonl as parsed: an object with its entries in order (duplicates kept), or
/// the kind of any other JSON value.
enum JsonLine {
    Object(Vec<(String, Value)>),
    Other(&'static str),
}

impl<'de> serde::Deserialize<'de> for JsonLine {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LineVisitor)
    }
}

struct LineVisitor;

impl<'de> Visitor<'de> for LineVisitor {
    type Value = JsonLine;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<JsonLine, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, Value>()? {
            entries.push((k, v));
        }
        Ok(JsonLine::Object(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<JsonLine, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(JsonLine::Other("array"))
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("string"))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("boolean"))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("number"))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("number"))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("number"))
    }

    fn visit_unit<E: de::Error>(self) -> Result<JsonLine, E> {
        Ok(JsonLine::Other("null"))
    }
}

fn json_kind_with_article(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// serde_json counts columns in bytes; editors count characters.
fn char_column(text: &str, byte_column: usize) -> usize {
    let mut end = byte_column.saturating_sub(1).min(text.len());
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].chars().count() + 1
}

fn first_non_space_column(text: &str) -> usize {
    text.chars().take_while(|c| c.is_whitespace()).count() + 1
}

/// serde_json appends " at line L column C" to messages; the finding carries those already.
fn strip_position(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(input: &[u8]) -> (Vec<Sample>, Findings) {
        let mut f = Findings::new();
        let s = parse(input, "data.jsonl", &mut f);
        f.finish();
        (s, f)
    }

    fn only(f: &Findings) -> (&str, Option<usize>, Option<usize>) {
        assert_eq!(f.len(), 1, "{f:?}");
        let x = f.iter().next().unwrap();
        (x.rule.code, x.location.line, x.location.column)
    }

    #[test]
    fn reads_objects_in_order() {
        let (s, f) = run(
            b"{\"prompt\":\"a\",\"first_frame_path\":\"a.jpg\",\"video_path\":\"a.mp4\"}\n{\"prompt\":\"b\",\"first_frame_path\":\"b.jpg\"}",
        );
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].video, Field::Text("a.mp4".into()));
        assert_eq!(s[1].video, Field::Absent);
        assert_eq!(s[1].origin, Origin::Line(2));
    }

    #[test]
    fn syntax_error_has_line_and_character_column() {
        let (_, f) = run("{\"prompt\":\"ok\"}\n{\"prompt\":\"café\" \"x\":1}\n".as_bytes());
        assert_eq!(only(&f), ("J009", Some(2), Some(18)));
    }

    #[test]
    fn bom_crlf_blank_and_non_object() {
        let (s, f) = run(b"\xEF\xBB\xBF{\"prompt\":\"a\"}\r\n\r\n[1,2]\r\n");
        let codes: Vec<_> = f.iter().map(|x| x.rule.code).collect();
        assert_eq!(codes, ["J006", "J007", "J016", "J010"]);
        assert_eq!(s.len(), 1);
    }

    #[test]
    fn invalid_utf8_points_at_the_byte() {
        let (_, f) = run(b"{\"prompt\":\"ab\xFF\"}\n");
        assert_eq!(only(&f), ("J005", Some(1), Some(14)));
    }

    #[test]
    fn duplicate_keys_wrong_types_and_extras() {
        let (s, f) = run(br#"{"prompt":"a","prompt":"b","video_path":3,"caption":"x"}"#);
        let codes: Vec<_> = f.iter().map(|x| x.rule.code).collect();
        assert_eq!(codes, ["J011", "J013"]);
        assert_eq!(s[0].prompt, Field::Text("a".into()));
        assert_eq!(s[0].video, Field::Invalid);
        assert_eq!(s[0].extra_keys, ["caption"]);
    }

    #[test]
    fn json_array_file() {
        let (s, f) = run(b"  [{\"prompt\":\"a\"}]");
        assert_eq!(only(&f).0, "J008");
        assert!(s.is_empty());
    }
}
