//! Human-readable report: findings grouped by file, then one summary line.

use std::io::{self, Write};

use anstyle::{AnsiColor, Style};

use super::{human_bytes, human_seconds, plural};
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
pub fn write_findings(
    out: &mut dyn Write,
    findings: &Findings,
    opts: TextOptions,
) -> io::Result<()> {
    let mut current: Option<Option<&str>> = None;
    for f in findings.iter() {
        if opts.quiet && f.severity == Severity::Info {
            continue;
        }
        let file = f.location.file.as_deref();
        if current != Some(file) {
            if current.is_some() {
                writeln!(out)?;
            }
            writeln!(out, "{BOLD}{}{BOLD:#}", file.unwrap_or("(dataset)"))?;
            current = Some(file);
        }
        write_finding(out, f, opts)?;
    }
    let cut: Vec<_> = findings.suppressed().collect();
    if !cut.is_empty() {
        writeln!(out)?;
        for (rule, n) in cut {
            writeln!(
                out,
                "{DIM}… and {n} more {} {} finding(s) not listed{DIM:#}",
                rule.code, rule.name
            )?;
        }
    }
    if current.is_some() {
        writeln!(out)?;
    }
    Ok(())
}

fn write_finding(out: &mut dyn Write, f: &Finding, opts: TextOptions) -> io::Result<()> {
    let place = match (f.location.line, f.location.column) {
        (Some(l), Some(c)) => format!("{l}:{c}"),
        (Some(l), None) => format!("{l}"),
        _ => String::new(),
    };
    let style = severity_style(f.severity);
    writeln!(
        out,
        "  {place:>7} {style}{:<7}{style:#} {} {DIM}{}{DIM:#}  {}",
        f.severity.as_str(),
        f.rule.code,
        f.rule.name,
        f.message
    )?;
    if f.severity != Severity::Info || opts.verbose {
        writeln!(out, "  {:>7} {DIM}hint:{DIM:#} {}", "", f.effective_hint())?;
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
    )
}
