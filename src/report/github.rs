//! GitHub Actions workflow commands (`--format github`): each finding becomes an annotation on
//! the file and line it concerns, shown inline in pull requests.

use std::io::{self, Write};
use std::path::Path;

use crate::check::CheckReport;
use crate::rules::{Finding, Severity};

/// Writes one `::error file=…,line=…::message` line per finding, then a summary notice.
pub fn write_report(out: &mut dyn Write, report: &CheckReport, input: &Path) -> io::Result<()> {
    for f in report.findings.iter() {
        writeln!(out, "{}", annotation(f, input))?;
    }
    let s = &report.summary;
    writeln!(
        out,
        "::notice title=wanft check::{}",
        escape_data(&format!(
            "{} samples: {} errors, {} warnings, {} infos",
            s.samples, s.errors, s.warnings, s.infos
        ))
    )
}

fn annotation(f: &Finding, input: &Path) -> String {
    let command = match f.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    // Annotations point at files of the repository, by their path from its root.
    let file = super::ci_path(input, f);
    let mut props = vec![format!("file={}", escape_property(&file))];
    if let Some(line) = f.location.line {
        props.push(format!("line={line}"));
    }
    if let Some(col) = f.location.column {
        props.push(format!("col={col}"));
    }
    props.push(format!(
        "title={}",
        escape_property(&format!("{} {}", f.rule.code, f.rule.name))
    ));
    let message = format!("{} (hint: {})", f.message, f.effective_hint());
    format!("::{command} {}::{}", props.join(","), escape_data(&message))
}

/// Escaping of the message part of a workflow command. Control characters are first written
/// visibly (`\n`), so that nothing a file name holds can end the command, start another, or
/// add a line to the annotation; then `%` as the runner wants it.
fn escape_data(s: &str) -> String {
    super::escape_controls(s).replace('%', "%25")
}

/// Escaping of a property value, which also ends at `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_per_the_workflow_command_rules() {
        assert_eq!(escape_data("50% done"), "50%25 done");
        // A newline (or any control character) is shown, never acted on.
        assert_eq!(
            escape_data("a\n::error::x\r\u{1b}"),
            "a\\n::error::x\\r\\u{1b}"
        );
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }
}
