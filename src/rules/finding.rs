//! The unit of every report: a [`Finding`] produced by a [`Rule`] at a [`Location`].

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::selection::{RuleSelection, Suppression, Verdict};

/// How bad a finding is (design: error = rejected or wasted training, warning = degraded or
/// costs money for nothing, info = worth knowing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
    Info,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl std::str::FromStr for Severity {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "error" => Ok(Severity::Error),
            "warning" => Ok(Severity::Warning),
            "info" => Ok(Severity::Info),
            other => Err(format!(
                "`{other}` is not a severity: use error, warning or info"
            )),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check with a stable code. Codes never change meaning once released; retired codes are not
/// reused.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// Stable identifier, e.g. `J009`.
    pub code: &'static str,
    /// Kebab-case name, e.g. `invalid-json`.
    pub name: &'static str,
    pub severity: Severity,
    /// One line: what the rule checks.
    pub summary: &'static str,
    /// Why the platform (or the user's wallet) cares.
    pub why: &'static str,
    /// The default fix hint.
    pub fix: &'static str,
}

/// Where a finding points. All paths are dataset-relative and `/`-separated, exactly as they
/// would appear inside the upload zip, so a folder and its zip report identical locations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Location {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl Location {
    /// The dataset as a whole.
    pub fn dataset() -> Self {
        Self::default()
    }

    pub fn file(path: impl Into<String>) -> Self {
        Location {
            file: Some(path.into()),
            ..Self::default()
        }
    }

    pub fn line(path: impl Into<String>, line: usize) -> Self {
        Location {
            file: Some(path.into()),
            line: Some(line),
            column: None,
        }
    }

    pub fn with_column(mut self, column: usize) -> Self {
        self.column = Some(column);
        self
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.file {
            None => f.write_str("<dataset>")?,
            Some(p) => f.write_str(p)?,
        }
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        Ok(())
    }
}

/// One problem (or note) about the input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: &'static Rule,
    pub severity: Severity,
    pub location: Location,
    pub message: String,
    /// Specific advice; falls back to the rule's generic fix.
    pub hint: Option<String>,
}

impl Finding {
    pub fn new(rule: &'static Rule, location: Location, message: impl Into<String>) -> Self {
        Finding {
            rule,
            severity: rule.severity,
            location,
            message: message.into(),
            hint: None,
        }
    }

    /// Replaces the generic fix with advice for this occurrence.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// The hint to show: the specific one, else the rule's fix.
    pub fn effective_hint(&self) -> &str {
        self.hint.as_deref().unwrap_or(self.rule.fix)
    }

    /// Total order used by every report: by file (dataset-wide findings first), line, column,
    /// severity, rule code, then message.
    pub fn report_order(a: &Finding, b: &Finding) -> Ordering {
        (&a.location, a.severity, a.rule.code, &a.message).cmp(&(
            &b.location,
            b.severity,
            b.rule.code,
            &b.message,
        ))
    }
}

/// Findings of one rule kept in full; beyond this only a count is kept, so that a data.jsonl of
/// a million bad lines costs a bounded amount of memory and a readable report.
pub const MAX_PER_RULE: usize = 1000;

/// The rule configuration findings are judged by, and the dataset they belong to.
#[derive(Debug)]
struct Scope {
    selection: Arc<RuleSelection>,
    /// The dataset's path relative to the project, for per-path ignores and baselines.
    dataset: Option<String>,
}

/// A sorted, de-duplicated list of findings with counts per severity.
///
/// A list made with [`Findings::scoped`] applies a rule configuration as findings arrive: a
/// finding of an ignored rule is kept aside as a [`Suppression`] with its reason, the others
/// take their configured severity; [`Findings::finish`] then sets aside what the baseline
/// accepts.
#[derive(Debug, Clone, Default)]
pub struct Findings {
    items: Vec<Finding>,
    per_rule: BTreeMap<&'static str, usize>,
    /// Findings not kept because of [`MAX_PER_RULE`], by rule: the rule, the severity they
    /// carry and how many.
    suppressed: BTreeMap<&'static str, (&'static Rule, Severity, usize)>,
    /// Findings hidden by the rule configuration, at most [`MAX_PER_RULE`] per rule.
    hidden: Vec<Suppression>,
    hidden_per_rule: BTreeMap<&'static str, usize>,
    scope: Option<Arc<Scope>>,
}

impl PartialEq for Findings {
    fn eq(&self, other: &Self) -> bool {
        self.items == other.items
            && self.suppressed == other.suppressed
            && self.hidden == other.hidden
            && self.hidden_per_rule == other.hidden_per_rule
    }
}

impl Eq for Findings {}

impl Findings {
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty list that judges every finding by `selection`; `dataset` is the dataset's path
    /// relative to the project (for per-path ignores and the baseline).
    pub fn scoped(selection: Arc<RuleSelection>, dataset: Option<String>) -> Self {
        Findings {
            scope: Some(Arc::new(Scope { selection, dataset })),
            ..Self::default()
        }
    }

    /// These findings judged again under `selection` (for the dataset at `dataset`), as if they
    /// had been gathered under it: to compare rule configurations on one check without running
    /// it again. Findings already hidden are judged again too; those cut at [`MAX_PER_RULE`]
    /// are not available any more and stay out.
    pub fn rejudged(&self, selection: Arc<RuleSelection>, dataset: Option<String>) -> Findings {
        let mut again = Findings::scoped(selection, dataset);
        let hidden = self.hidden.iter().map(|s| {
            let mut f = s.finding.clone();
            f.severity = f.rule.severity;
            f
        });
        let kept = self.items.iter().map(|f| Finding {
            severity: f.rule.severity,
            ..f.clone()
        });
        again.extend(kept.chain(hidden));
        again.finish();
        again
    }

    pub fn push(&mut self, mut f: Finding) {
        if let Some(scope) = &self.scope {
            match scope.selection.judge(&f, scope.dataset.as_deref()) {
                Verdict::Keep(severity) => f.severity = severity,
                Verdict::Hide(reason) => return self.hide(f, reason),
            }
        }
        let n = self.per_rule.entry(f.rule.code).or_default();
        *n += 1;
        if *n > MAX_PER_RULE {
            self.suppressed
                .entry(f.rule.code)
                .or_insert((f.rule, f.severity, 0))
                .2 += 1;
        } else {
            self.items.push(f);
        }
    }

    fn hide(&mut self, finding: Finding, reason: String) {
        let n = self.hidden_per_rule.entry(finding.rule.code).or_default();
        *n += 1;
        if *n <= MAX_PER_RULE {
            self.hidden.push(Suppression { finding, reason });
        }
    }

    /// Rules whose findings were cut at [`MAX_PER_RULE`], with how many were left out.
    pub fn suppressed(&self) -> impl Iterator<Item = (&'static Rule, usize)> + '_ {
        self.suppressed.values().map(|(r, _, n)| (*r, *n))
    }

    /// Findings the rule configuration (select, ignore, per-path ignores, baseline) hid, in
    /// report order, with the reason; at most [`MAX_PER_RULE`] per rule.
    pub fn hidden(&self) -> &[Suppression] {
        &self.hidden
    }

    /// How many findings the rule configuration hid, including those not kept.
    pub fn hidden_count(&self) -> usize {
        self.hidden_per_rule.values().sum()
    }

    pub fn extend(&mut self, it: impl IntoIterator<Item = Finding>) {
        for f in it {
            self.push(f);
        }
    }

    /// Sorts into report order, drops exact duplicates and sets aside what the baseline
    /// accepts.
    pub fn finish(&mut self) {
        self.items.sort_by(Finding::report_order);
        self.items.dedup();
        if let Some(scope) = self.scope.clone()
            && let Some((baseline, path)) = scope.selection.baseline()
        {
            let mut left = baseline.clone();
            let dataset = scope.dataset.as_deref();
            let items = std::mem::take(&mut self.items);
            for f in items {
                if left.take(&f, dataset) {
                    let reason = format!("accepted in the baseline {}", path.display());
                    self.hide(f, reason);
                } else {
                    self.items.push(f);
                }
            }
        }
        self.hidden
            .sort_by(|a, b| Finding::report_order(&a.finding, &b.finding));
        self.hidden.dedup();
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Finding> {
        self.items.iter()
    }

    /// Findings kept (see [`Findings::suppressed`] for the rest).
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// All findings of a severity, including those not kept (but not those hidden).
    pub fn count(&self, severity: Severity) -> usize {
        let kept = self.items.iter().filter(|f| f.severity == severity).count();
        let cut: usize = self
            .suppressed
            .values()
            .filter(|(_, s, _)| *s == severity)
            .map(|(_, _, n)| n)
            .sum();
        kept + cut
    }

    pub fn has_errors(&self) -> bool {
        self.count(Severity::Error) > 0
    }

    /// True when any finding has this rule code.
    pub fn has(&self, code: &str) -> bool {
        self.items.iter().any(|f| f.rule.code == code)
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.items
    }
}

impl<'a> IntoIterator for &'a Findings {
    type Item = &'a Finding;
    type IntoIter = std::slice::Iter<'a, Finding>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl FromIterator<Finding> for Findings {
    fn from_iter<T: IntoIterator<Item = Finding>>(iter: T) -> Self {
        let mut f = Findings::new();
        f.extend(iter);
        f
    }
}
