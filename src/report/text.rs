//! Human-readable report: findings grouped by file, then one summary line.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{escape_controls, human_bytes, human_seconds, plural};
use crate::check::{CheckReport, Summary};
use crate::dataset::SourceKind;
use crate::rules::{Finding, Findings, Severity};

/// How much to print.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TextOptions {
    /// Also print hints of info findings.
    pub verbose: bool,
    /// Only errors and warnings, and the summary.
    pub quiet: bool,
}

fn severity_style(s: Severity) -> Style {
    let color = match s {
        Severity::Error => AnsiColor::Red,
        Severity::Warning => AnsiColor::Yellow,
        Severity::Info => AnsiColor::Cyan,
    };
    Style::new().bold().fg_color(Some(color.into()))
}

const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

/// Writes the findings of `report` grouped by file, then the summary line.
pub fn write_report(
    out: &mut dyn Write,
    report: &CheckReport,
    opts: TextOptions,
) -> io::Result<()> {
    write_findings(out, &report.findings, opts)?;
    write_summary(out, &report.summary)
}

/// Findings grouped by file in report order; dataset-wide findings first.
///
/// ```text
/// data.jsonl
///   3:17 error[J009] invalid JSON: expected `,` or `}`
///        hint: Fix the JSON syntax at the given column (quotes, commas, escaped newlines).
/// ```
pub fn write_findings(
    out: &mut dyn Write,
    findings: &Findings,
    opts: TextOptions,
) -> io::Result<()> {
    let shown: Vec<&Finding> = findings
        .iter()
        .filter(|f| !(opts.quiet && f.severity == Severity::Info))
        .collect();
    for group in shown.chunk_by(|a, b| a.location.file == b.location.file) {
        let file = group[0].location.file.as_deref().unwrap_or("(dataset)");
        writeln!(out, "{BOLD}{}{BOLD:#}", escape_controls(file))?;
        let width = group.iter().map(|f| place(f).len()).max().unwrap_or(0);
        for f in group {
            write_finding(out, f, width, opts)?;
        }
    }
    for (rule, n) in findings.suppressed() {
        writeln!(
            out,
            "{DIM}… and {n} more {} ({}) finding(s) not listed{DIM:#}",
            rule.code, rule.name
        )?;
    }
    if opts.verbose {
        for s in findings.hidden() {
            writeln!(
                out,
                "{DIM}suppressed {}[{}] {}: {} ({}){DIM:#}",
                s.finding.severity,
                s.finding.rule.code,
                escape_controls(&s.finding.location.to_string()),
                escape_controls(&s.finding.message),
                escape_controls(&s.reason)
            )?;
        }
    }
    if !shown.is_empty() || (opts.verbose && !findings.hidden().is_empty()) {
        writeln!(out)?;
    }
    Ok(())
}

/// `line:column`, `line`, or nothing.
fn place(f: &Finding) -> String {
    match (f.location.line, f.location.column) {
        (Some(l), Some(c)) => format!("{l}:{c} "),
        (Some(l), None) => format!("{l} "),
        _ => String::new(),
    }
}

fn write_finding(
    out: &mut dyn Write,
    f: &Finding,
    width: usize,
    opts: TextOptions,
) -> io::Result<()> {
    let style = severity_style(f.severity);
    writeln!(
        out,
        "  {DIM}{:>width$}{DIM:#}{style}{}[{}]{style:#} {}",
        place(f),
        f.severity.as_str(),
        f.rule.code,
        escape_controls(&f.message)
    )?;
    if f.severity != Severity::Info || opts.verbose {
        writeln!(
            out,
            "  {:width$}  {DIM}hint:{DIM:#} {}",
            "",
            escape_controls(f.effective_hint())
        )?;
    }
    Ok(())
}

/// The one summary line.
pub fn write_summary(out: &mut dyn Write, s: &Summary) -> io::Result<()> {
    let status = if s.errors > 0 {
        severity_style(Severity::Error)
    } else if s.warnings > 0 {
        severity_style(Severity::Warning)
    } else {
        Style::new().bold().fg_color(Some(AnsiColor::Green.into()))
    };
    let zip = match s.source {
        SourceKind::Zip => format!("zip {}", human_bytes(s.zip_size)),
        SourceKind::Folder => format!("packed zip {}", human_bytes(s.zip_size)),
    };
    writeln!(
        out,
        "{status}{}{status:#} ({} {}, {}): {}, {}, {} · {} of video · {zip}",
        plural(s.samples, "sample", "samples"),
        s.mode,
        if s.mode_inferred {
            "inferred"
        } else {
            "forced"
        },
        s.model,
        plural(s.errors, "error", "errors"),
        plural(s.warnings, "warning", "warnings"),
        plural(s.infos, "info", "infos"),
        human_seconds(s.total_duration_s),
    )?;
    if s.suppressed > 0 {
        writeln!(
            out,
            "{DIM}{} hidden by the rule configuration ([rules] of wanft.toml, flags or the \
             baseline); -v lists them{DIM:#}",
            plural(s.suppressed, "finding", "findings")
        )?;
    }
    Ok(())
}
