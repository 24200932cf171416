//! SARIF 2.1.0 (`--format sarif`), the static-analysis exchange format that code-scanning
//! services (GitHub code scanning, GitLab, Azure DevOps) ingest.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{Value, json};

use crate::check::CheckReport;
use crate::rules::{self, Severity};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// Writes one SARIF log with one run: every rule of the registry, and one result per finding.
pub fn write_report(out: &mut dyn Write, report: &CheckReport, input: &Path) -> io::Result<()> {
    write_reports(out, &[(report, input)])
}

/// One SARIF log with one run for several datasets: their results together, each pointing at
/// its file (relative to the repository root, as code scanning expects).
pub fn write_reports(out: &mut dyn Write, reports: &[(&CheckReport, &Path)]) -> io::Result<()> {
    let all = rules::all();
    let descriptors: Vec<Value> = all
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": {"text": r.summary},
                "fullDescription": {"text": r.why},
                "help": {"text": r.fix},
                "defaultConfiguration": {"level": level(r.severity)},
            })
        })
        .collect();
    let kept = reports
        .iter()
        .flat_map(|(report, input)| report.findings.iter().map(move |f| (f, *input, None)));
    // Findings the rule configuration hid are results too, marked suppressed with the reason:
    // code-scanning services show them as dismissed rather than losing them.
    let hidden = reports.iter().flat_map(|(report, input)| {
        report
            .findings
            .hidden()
            .iter()
            .map(move |s| (&s.finding, *input, Some(s.reason.as_str())))
    });
    let results: Vec<Value> = kept
        .chain(hidden)
        .map(|(f, input, suppressed)| {
            let uri = super::ci_path(input, f);
            let mut region = serde_json::Map::new();
            if let Some(line) = f.location.line {
                region.insert("startLine".into(), line.into());
            }
            if let Some(col) = f.location.column {
                region.insert("startColumn".into(), col.into());
            }
            let mut physical = json!({"artifactLocation": {"uri": uri}});
            if !region.is_empty() {
                physical["region"] = Value::Object(region);
            }
            let mut result = json!({
                "ruleId": f.rule.code,
                "ruleIndex": all.iter().position(|r| r.code == f.rule.code),
                "level": level(f.severity),
                "message": {"text": format!("{} (hint: {})", f.message, f.effective_hint())},
                "locations": [{"physicalLocation": physical}],
            });
            if let Some(reason) = suppressed {
                result["suppressions"] = json!([{"kind": "external", "justification": reason}]);
            }
            result
        })
        .collect();
    let log = json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "wanft",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/wanft/wanft",
                "rules": descriptors,
            }},
            "results": results,
        }],
    });
    serde_json::to_writer_pretty(&mut *out, &log)?;
    writeln!(out)
}
