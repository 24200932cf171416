//! Machine-readable report (`--format json`), schema version 1.
//!
//! ```json
//! {
//!   "schema_version": 1,
//!   "tool": {"name": "wanft", "version": "0.1.0"},
//!   "input": {"path": "examples/i2v", "source": "folder", "model": "wan2.5-i2v-preview",
//!             "mode": {"task": "i2v", "role": "training"}, "mode_inferred": true},
//!   "findings": [{"rule": "M007", "name": "clip-too-long", "severity": "warning",
//!                 "file": "clip03.mp4", "line": null, "column": null,
//!                 "message": "…", "hint": "…"}],
//!   "suppressed": [{"rule": "J012", "count": 9000, "reason": "more than 1000 findings …"},
//!                  {"rule": "M007", "count": 1, "reason": "ignored by `M007` (…)",
//!                   "severity": "warning", "file": "clip03.mp4", "line": null, "message": "…"}],
//!   "summary": {"samples": 12, "errors": 0, "warnings": 1, "infos": 2, "videos": 12,
//!               "images": 12, "total_duration_s": 46.2, "zip_size": 2113536, …},
//!   "media": [{"path": "clip01.mp4", "kind": "video", "width": 320, …} | {"path": …, "error": "…"}]
//! }
//! ```
//! Several datasets (the training and validation sets of wanft.toml) make one document
//! `{"schema_version", "tool", "datasets": [<the document above, per dataset>], "summary":
//! {"datasets", "errors", "warnings", "infos"}}`.
//!
//! Fields are only ever added within a schema version; a removal or change of meaning bumps it.

use std::io::{self, Write};
use std::path::Path;

use serde::Serialize;

use crate::check::{CheckReport, Summary};
use crate::dataset::{Mode, SourceKind};
use crate::media::MediaInfo;
use crate::rules::{Finding, Findings, MAX_PER_RULE, Severity};

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema_version: u32,
    tool: Tool,
    input: Input<'a>,
    findings: Vec<JsonFinding<'a>>,
    suppressed: Vec<Suppressed<'a>>,
    summary: &'a Summary,
    media: Vec<JsonMedia<'a>>,
}

#[derive(Serialize)]
pub struct Tool {
    pub name: &'static str,
    pub version: &'static str,
}

impl Tool {
    pub fn current() -> Tool {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Serialize)]
struct Input<'a> {
    path: String,
    source: SourceKind,
    model: &'a str,
    mode: Mode,
    mode_inferred: bool,
}

/// A finding as JSON.
#[derive(Serialize)]
pub struct JsonFinding<'a> {
    pub rule: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub file: Option<&'a str>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: &'a str,
    pub hint: &'a str,
}

impl<'a> From<&'a Finding> for JsonFinding<'a> {
    fn from(f: &'a Finding) -> Self {
        JsonFinding {
            rule: f.rule.code,
            name: f.rule.name,
            severity: f.severity,
            file: f.location.file.as_deref(),
            line: f.location.line,
            column: f.location.column,
            message: &f.message,
            hint: f.effective_hint(),
        }
    }
}

/// Findings not listed in `findings`: cut at the per-rule limit (one entry per rule, with the
/// count), or hidden by the rule configuration (one entry per finding, with where it was and
/// why).
#[derive(Serialize)]
pub struct Suppressed<'a> {
    rule: &'static str,
    count: usize,
    reason: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<Severity>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
}

/// The `suppressed` list of a JSON document: findings cut at the per-rule limit, then those the
/// rule configuration hid.
pub fn suppressed(findings: &Findings) -> Vec<Suppressed<'_>> {
    let cut = findings.suppressed().map(|(r, count)| Suppressed {
        rule: r.code,
        count,
        reason: format!(
            "more than {MAX_PER_RULE} findings of this rule: only the first are listed"
        ),
        severity: None,
        file: None,
        line: None,
        message: None,
    });
    let hidden = findings.hidden().iter().map(|s| Suppressed {
        rule: s.finding.rule.code,
        count: 1,
        reason: s.reason.clone(),
        severity: Some(s.finding.severity),
        file: s.finding.location.file.as_deref(),
        line: s.finding.location.line,
        message: Some(&s.finding.message),
    });
    cut.chain(hidden).collect()
}

#[derive(Serialize)]
struct JsonMedia<'a> {
    path: &'a str,
    size: u64,
    #[serde(flatten)]
    info: Option<&'a MediaInfo>,
    error: Option<String>,
}

/// Writes the whole report as one JSON document (and a newline).
pub fn write_report(
    out: &mut dyn Write,
    report: &CheckReport,
    input_path: &Path,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &document(report, input_path))?;
    writeln!(out)
}

/// Several datasets in one document: `{"schema_version", "tool", "datasets": [<the document
/// of each dataset>], "summary": {"datasets", "errors", "warnings", "infos"}}`; one dataset is
/// written as [`write_report`] writes it.
pub fn write_reports(out: &mut dyn Write, reports: &[(&CheckReport, &Path)]) -> io::Result<()> {
    if let [(report, input)] = reports {
        return write_report(out, report, input);
    }
    #[derive(Serialize)]
    struct Totals {
        datasets: usize,
        errors: usize,
        warnings: usize,
        infos: usize,
    }
    #[derive(Serialize)]
    struct Several<'a> {
        schema_version: u32,
        tool: Tool,
        datasets: Vec<Document<'a>>,
        summary: Totals,
    }
    let total = |count: fn(&CheckReport) -> usize| reports.iter().map(|(r, _)| count(r)).sum();
    let several = Several {
        schema_version: SCHEMA_VERSION,
        tool: Tool::current(),
        datasets: reports.iter().map(|(r, p)| document(r, p)).collect(),
        summary: Totals {
            datasets: reports.len(),
            errors: total(|r| r.summary.errors),
            warnings: total(|r| r.summary.warnings),
            infos: total(|r| r.summary.infos),
        },
    };
    serde_json::to_writer_pretty(&mut *out, &several)?;
    writeln!(out)
}

fn document<'a>(report: &'a CheckReport, input_path: &Path) -> Document<'a> {
    Document {
        schema_version: SCHEMA_VERSION,
        tool: Tool::current(),
        input: Input {
            path: input_path.display().to_string(),
            source: report.summary.source,
            model: report.summary.model,
            mode: report.summary.mode,
            mode_inferred: report.summary.mode_inferred,
        },
        findings: report.findings.iter().map(JsonFinding::from).collect(),
        suppressed: suppressed(&report.findings),
        summary: &report.summary,
        media: report
            .media
            .iter()
            .map(|(path, p)| JsonMedia {
                path,
                size: p.size,
                info: p.result.as_ref().ok(),
                error: p.result.as_ref().err().map(ToString::to_string),
            })
            .collect(),
    }
}
