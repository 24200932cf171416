//! JUnit XML (`--format junit`), the test-report format every CI service displays (GitLab,
//! Jenkins, Azure DevOps, CircleCI, GitHub through actions).
//!
//! One `<testsuite>` per dataset; in it one `<testcase>` per sample and rule that found
//! something (a sample is a line of data.jsonl, and a finding on a file belongs to every sample
//! that uses the file), one passing `<testcase>` per sample with no finding, and one per file and
//! rule for what belongs to no sample (unreferenced files, dataset-wide findings). Errors are
//! `<failure>`s; warnings too with `--strict`; other findings are recorded in `<system-out>` of
//! a passing test case, so that the report fails exactly when the exit status does.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

use crate::check::CheckReport;
use crate::dataset::{MANIFEST, Origin};
use crate::rules::{Finding, Severity};

/// One dataset's report and the path it was read from.
pub struct Suite<'a> {
    pub report: &'a CheckReport,
    pub input: &'a Path,
}

/// A test case before rendering.
struct Case<'a> {
    classname: String,
    name: String,
    file: Option<String>,
    line: Option<usize>,
    findings: Vec<&'a Finding>,
}

impl Case<'_> {
    fn fails(&self, strict: bool) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::Error || (strict && f.severity == Severity::Warning))
    }
}

/// Writes one JUnit XML document for all `suites`.
pub fn write_report(out: &mut dyn Write, suites: &[Suite], strict: bool) -> io::Result<()> {
    let rendered: Vec<(String, Vec<Case>)> = suites
        .iter()
        .map(|s| (super::relative_to_root(s.input), cases(s)))
        .collect();
    let tests: usize = rendered.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = rendered
        .iter()
        .flat_map(|(_, c)| c)
        .filter(|c| c.fails(strict))
        .count();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"wanft check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" \
         skipped=\"0\" time=\"0\">"
    );
    for (suite, (name, cases)) in suites.iter().zip(&rendered) {
        write_suite(&mut xml, suite, name, cases, strict);
    }
    xml.push_str("</testsuites>\n");
    out.write_all(xml.as_bytes())
}

fn write_suite(xml: &mut String, suite: &Suite, name: &str, cases: &[Case], strict: bool) {
    let s = &suite.report.summary;
    let failures = cases.iter().filter(|c| c.fails(strict)).count();
    let _ = writeln!(
        xml,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" \
         time=\"0\">",
        escape(name),
        cases.len()
    );
    xml.push_str("    <properties>\n");
    let properties = [
        ("model", s.model.to_string()),
        ("mode", s.mode.to_string()),
        ("samples", s.samples.to_string()),
        ("errors", s.errors.to_string()),
        ("warnings", s.warnings.to_string()),
        ("infos", s.infos.to_string()),
        ("suppressed", s.suppressed.to_string()),
    ];
    for (key, value) in properties {
        let _ = writeln!(
            xml,
            "      <property name=\"{key}\" value=\"{}\"/>",
            escape(&value)
        );
    }
    xml.push_str("    </properties>\n");
    for case in cases {
        write_case(xml, case, strict);
    }
    xml.push_str("  </testsuite>\n");
}

fn write_case(xml: &mut String, case: &Case, strict: bool) {
    let mut attrs = format!(
        "classname=\"{}\" name=\"{}\"",
        escape(&case.classname),
        escape(&case.name)
    );
    if let Some(file) = &case.file {
        let _ = write!(attrs, " file=\"{}\"", escape(file));
    }
    if let Some(line) = case.line {
        let _ = write!(attrs, " line=\"{line}\"");
    }
    if case.findings.is_empty() {
        let _ = writeln!(xml, "    <testcase {attrs} time=\"0\"/>");
        return;
    }
    let _ = writeln!(xml, "    <testcase {attrs} time=\"0\">");
    let body: String = case.findings.iter().map(|f| describe(f)).collect();
    if case.fails(strict) {
        let first = case.findings[0];
        let _ = writeln!(
            xml,
            "      <failure type=\"{}\" message=\"{}\">{}</failure>",
            worst(&case.findings),
            escape(&first.message),
            escape(&body)
        );
    } else {
        let _ = writeln!(xml, "      <system-out>{}</system-out>", escape(&body));
    }
    xml.push_str("    </testcase>\n");
}

/// `severity[CODE] file:line: message` and the hint, one finding.
fn describe(f: &Finding) -> String {
    format!(
        "{}[{}] {}: {}\nhint: {}\n",
        f.severity,
        f.rule.code,
        f.location,
        f.message,
        f.effective_hint()
    )
}

fn worst(findings: &[&Finding]) -> Severity {
    findings
        .iter()
        .map(|f| f.severity)
        .min()
        .unwrap_or(Severity::Info)
}

/// The test cases of one dataset, in sample order, then the rest by file and rule.
fn cases<'a>(suite: &Suite<'a>) -> Vec<Case<'a>> {
    let report = suite.report;
    let dataset = super::relative_to_root(suite.input);
    // Which samples each dataset entry serves.
    let mut users: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for r in report.references.iter() {
        if let Some(entry) = &r.entry {
            users.entry(entry.as_str()).or_default().push(r.sample);
        }
    }
    let line_of: BTreeMap<usize, usize> = report
        .dataset
        .samples
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s.origin {
            Origin::Line(line) => Some((line, i)),
            Origin::Stem { .. } => None,
        })
        .collect();
    let mut per_sample: Vec<BTreeMap<&'static str, Vec<&'a Finding>>> =
        vec![BTreeMap::new(); report.dataset.samples.len()];
    let mut elsewhere: BTreeMap<(Option<&'a str>, &'static str), Vec<&'a Finding>> =
        BTreeMap::new();
    for f in report.findings.iter() {
        let file = f.location.file.as_deref();
        let samples: Vec<usize> = match (file, f.location.line) {
            (Some(MANIFEST), Some(line)) => line_of.get(&line).copied().into_iter().collect(),
            (Some(entry), _) => users.get(entry).cloned().unwrap_or_default(),
            (None, _) => Vec::new(),
        };
        if samples.is_empty() {
            elsewhere.entry((file, f.rule.code)).or_default().push(f);
        }
        for i in samples {
            per_sample[i].entry(f.rule.code).or_default().push(f);
        }
    }
    // Sample cases point at data.jsonl: in the folder, or the zip that holds it.
    let manifest_file = match suite.input.is_dir() {
        true if dataset == "." => MANIFEST.to_owned(),
        true => format!("{dataset}/{MANIFEST}"),
        false => dataset.clone(),
    };
    let mut cases = Vec::new();
    for (i, (sample, by_rule)) in report.dataset.samples.iter().zip(per_sample).enumerate() {
        let (classname, line) = match &sample.origin {
            Origin::Line(line) => (format!("{dataset}:{MANIFEST}:{line}"), Some(*line)),
            Origin::Stem { stem, .. } => (format!("{dataset}:{stem}"), None),
        };
        let file = Some(manifest_file.clone());
        if by_rule.is_empty() {
            cases.push(Case {
                classname,
                name: format!("sample {}: every rule passes", i + 1),
                file,
                line,
                findings: Vec::new(),
            });
            continue;
        }
        for findings in by_rule.into_values() {
            let rule = findings[0].rule;
            cases.push(Case {
                classname: classname.clone(),
                name: format!("{} {}", rule.code, rule.name),
                file: file.clone(),
                line,
                findings,
            });
        }
    }
    for ((file, _), findings) in elsewhere {
        let rule = findings[0].rule;
        cases.push(Case {
            classname: match file {
                Some(file) => format!("{dataset}:{file}"),
                None => dataset.clone(),
            },
            name: format!("{} {}", rule.code, rule.name),
            file: Some(super::ci_path(suite.input, findings[0])),
            line: findings[0].location.line,
            findings,
        });
    }
    cases
}

/// Escapes text for XML attributes and content. Characters XML 1.0 cannot carry at all (most
/// C0 controls) are written as `\u{…}` so that hostile file names cannot break the document.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_markup_and_controls() {
        assert_eq!(escape("a<b>&\"c'"), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1}y\nz"), "x\\u{1}y\nz");
    }
}
