//! Why a job failed, read from its log: the platform's job record says only `FAILED`; the
//! reason is in the error lines of the log (spec §6.8). When a line names a dataset rule of
//! `wanft check` (the emulator writes `data process failed: P001 data.jsonl:3: …`), the rule is
//! named too, so the user can run `wanft explain CODE`.

use crate::rules::{self, Rule};

/// Error lines kept, the last ones of the log.
pub const MAX_LINES: usize = 8;

/// The reason of a failure, as far as the log tells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FailureReason {
    /// The last error lines of the log, without their timestamp and level.
    pub lines: Vec<String>,
    /// Dataset rules those lines name, in order of first mention.
    pub rules: Vec<&'static Rule>,
}

impl FailureReason {
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// The failure reason in `logs`: the last [`MAX_LINES`] lines logged at level `ERROR` (or, when
/// there is none, the last lines that say something failed).
pub fn failure_reason(logs: &[String]) -> FailureReason {
    let errors: Vec<&str> = logs.iter().filter_map(|l| error_text(l)).collect();
    let chosen: Vec<&str> = if errors.is_empty() {
        logs.iter()
            .map(|l| message_of(l))
            .filter(|t| t.to_ascii_lowercase().contains("fail"))
            .collect()
    } else {
        errors
    };
    let start = chosen.len().saturating_sub(MAX_LINES);
    let lines: Vec<String> = chosen[start..].iter().map(|t| t.to_string()).collect();
    let mut found: Vec<&'static Rule> = Vec::new();
    for rule in lines.iter().flat_map(|l| rule_codes(l)) {
        if !found.iter().any(|r| r.code == rule.code) {
            found.push(rule);
        }
    }
    FailureReason {
        lines,
        rules: found,
    }
}

/// The text of a `<time> - ERROR - <text>` line.
fn error_text(line: &str) -> Option<&str> {
    line.split_once(" - ERROR - ").map(|(_, text)| text.trim())
}

/// The text of a `<time> - LEVEL - <text>` line, or the bare line.
fn message_of(line: &str) -> &str {
    line.splitn(3, " - ").nth(2).unwrap_or(line).trim()
}

/// Rule codes (`P001`, `S001`) named in `text` that are rules of wanft.
fn rule_codes(text: &str) -> impl Iterator<Item = &'static Rule> + '_ {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| {
            word.len() == 4
                && word.as_bytes()[0].is_ascii_uppercase()
                && word[1..].bytes().all(|b| b.is_ascii_digit())
        })
        .filter_map(rules::find)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_error_lines_and_their_rules_are_kept() {
        let mut logs = vec![
            "2025-11-11 11:23:37,315 - INFO - start to process data".to_owned(),
            "2025-11-11 11:24:07,315 - ERROR - data process failed: S001 <dataset>: 4 training \
             sample(s)"
                .to_owned(),
            "2025-11-11 11:24:07,315 - ERROR - data process failed: P001 data.jsonl:3: missing"
                .to_owned(),
            "2025-11-11 11:24:07,315 - INFO - finetune-job failed".to_owned(),
        ];
        let reason = failure_reason(&logs);
        assert_eq!(
            reason.lines,
            [
                "data process failed: S001 <dataset>: 4 training sample(s)",
                "data process failed: P001 data.jsonl:3: missing"
            ]
        );
        let codes: Vec<&str> = reason.rules.iter().map(|r| r.code).collect();
        assert_eq!(codes, ["S001", "P001"]);

        for i in 0..20 {
            logs.push(format!("t - ERROR - problem {i} (X999 is no rule)"));
        }
        let reason = failure_reason(&logs);
        assert_eq!(reason.lines.len(), MAX_LINES);
        assert_eq!(reason.lines.last().unwrap(), "problem 19 (X999 is no rule)");
        assert!(reason.rules.is_empty());
    }

    #[test]
    fn without_error_lines_the_failing_lines_speak() {
        let logs = vec![
            "t - INFO - start".to_owned(),
            "t - INFO - finetune-job failed".to_owned(),
        ];
        assert_eq!(failure_reason(&logs).lines, ["finetune-job failed"]);
        assert!(failure_reason(&["t - INFO - fine".to_owned()]).is_empty());
    }
}
