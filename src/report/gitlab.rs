//! GitLab Code Quality (`--format gitlab`): a JSON array of issues that GitLab shows in merge
//! requests (`artifacts: reports: codequality`).
//!
//! Each finding is one issue: `description`, `check_name` (the rule code), `fingerprint` (stable
//! across runs, unique in the report), `severity` (error → critical, warning → minor, info →
//! info) and `location` (the file relative to the repository root, and its line; 1 when the
//! finding has none, as GitLab requires one).

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::Path;

use md5::{Digest, Md5};
use serde::Serialize;

use crate::check::CheckReport;
use crate::rules::Severity;

#[derive(Serialize)]
struct Issue {
    description: String,
    check_name: &'static str,
    fingerprint: String,
    severity: &'static str,
    location: Location,
}

#[derive(Serialize)]
struct Location {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: usize,
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Error => "critical",
        Severity::Warning => "minor",
        Severity::Info => "info",
    }
}

/// Writes one Code Quality report for all `reports` (each with the path it was read from).
pub fn write_report(out: &mut dyn Write, reports: &[(&CheckReport, &Path)]) -> io::Result<()> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut issues = Vec::new();
    for (report, input) in reports {
        for f in report.findings.iter() {
            let path = super::ci_path(input, f);
            let line = f.location.line.unwrap_or(1);
            // The same finding twice (two lines sharing a defect) still needs two fingerprints.
            let key = format!("{path}\0{line}\0{}\0{}", f.rule.code, f.message);
            let n = seen.entry(key.clone()).or_default();
            *n += 1;
            let fingerprint = hex::encode(Md5::digest(format!("{key}\0{n}").as_bytes()));
            issues.push(Issue {
                description: format!("{} {}: {}", f.rule.code, f.rule.name, f.message),
                check_name: f.rule.code,
                fingerprint,
                severity: severity(f.severity),
                location: Location {
                    path,
                    lines: Lines { begin: line },
                },
            });
        }
    }
    serde_json::to_writer_pretty(&mut *out, &issues)?;
    writeln!(out)
}
