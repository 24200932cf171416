//! Rule configuration, Ruff style: which rules run (`select`, `ignore`), where they do not
//! apply (`per_path_ignores`), how severe they are (`severity`), and a baseline of findings
//! accepted for now.
//!
//! A selector is `ALL`, a code or code prefix (`M`, `M00`, `M007`, case-insensitive) or a rule
//! name (`clip-too-long`). When a rule matches both a `select` and an `ignore` selector, the
//! more specific one decides (a code beats a family, a family beats `ALL`); on a tie, `ignore`
//! wins. Every finding a setting hides is kept as a [`Suppression`] that says which setting and
//! where it was written, so a report can show what was hidden and why.

use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use globset::{Glob, GlobMatcher};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};

use super::baseline::Baseline;
use super::{Finding, Rule, Severity};

/// One selector: `ALL`, a code prefix or a rule name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Selector {
    /// As written, for messages.
    text: String,
    kind: SelectorKind,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum SelectorKind {
    All,
    /// Upper-case code prefix, `M` … `M007`.
    Prefix(String),
    /// Exactly one rule, by name.
    Name(&'static str),
}

impl Selector {
    /// Parses a selector; one that matches no rule is an error (a typo would otherwise select
    /// or ignore nothing, silently).
    pub fn parse(text: &str) -> Result<Selector, String> {
        let trimmed = text.trim();
        let kind = if trimmed.eq_ignore_ascii_case("ALL") {
            SelectorKind::All
        } else if let Some(rule) = super::all().into_iter().find(|r| r.name == trimmed) {
            SelectorKind::Name(rule.name)
        } else {
            let prefix = trimmed.to_ascii_uppercase();
            if prefix.is_empty() || !super::all().iter().any(|r| r.code.starts_with(&prefix)) {
                return Err(format!(
                    "`{trimmed}` matches no rule: use ALL, a code or code prefix (J, M007) or a \
                     rule name (see `wanft rules`)"
                ));
            }
            SelectorKind::Prefix(prefix)
        };
        Ok(Selector {
            text: trimmed.to_owned(),
            kind,
        })
    }

    pub fn matches(&self, rule: &Rule) -> bool {
        match &self.kind {
            SelectorKind::All => true,
            SelectorKind::Prefix(p) => rule.code.starts_with(p.as_str()),
            SelectorKind::Name(n) => rule.name == *n,
        }
    }

    /// How narrowly the selector points: `ALL` 0, a prefix its length, a name as a full code.
    fn specificity(&self) -> usize {
        match &self.kind {
            SelectorKind::All => 0,
            SelectorKind::Prefix(p) => p.len(),
            SelectorKind::Name(_) => 4,
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Selector {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Selector::parse(s)
    }
}

impl<'de> Deserialize<'de> for Selector {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Selector::parse(&text).map_err(D::Error::custom)
    }
}

/// A glob over `/`-separated paths (`legacy/**`, `*.mov`), checked when it is read.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PathPattern(String);

impl PathPattern {
    pub fn parse(text: &str) -> Result<PathPattern, String> {
        Glob::new(text).map_err(|e| format!("bad path pattern `{text}`: {e}"))?;
        Ok(PathPattern(text.to_owned()))
    }

    fn matcher(&self) -> GlobMatcher {
        Glob::new(&self.0)
            .expect("checked when parsed")
            .compile_matcher()
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PathPattern {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        PathPattern::parse(&text).map_err(D::Error::custom)
    }
}

/// Where a setting was written, so that a suppression can name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A key of `[rules]` in this project file.
    Config(PathBuf),
    /// A command-line flag.
    Flag(&'static str),
}

impl Origin {
    fn describe(&self, key: &str) -> String {
        match self {
            Origin::Config(path) => format!("`{key}` in [rules] of {}", path.display()),
            Origin::Flag(flag) => format!("{flag} on the command line"),
        }
    }
}

/// Rules hidden under matching paths.
#[derive(Debug, Clone)]
struct PathIgnore {
    pattern: String,
    glob: GlobMatcher,
    selectors: Vec<Selector>,
    origin: Origin,
}

/// The compiled rule configuration of a project and its flags.
#[derive(Debug, Clone, Default)]
pub struct RuleSelection {
    /// Empty: every rule.
    select: Vec<(Selector, Origin)>,
    ignore: Vec<(Selector, Origin)>,
    per_path: Vec<PathIgnore>,
    severity: Vec<(Selector, Severity, Origin)>,
    baseline: Option<(Baseline, PathBuf)>,
}

/// A finding that a setting hid, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    pub finding: Finding,
    pub reason: String,
}

/// What the configuration says about one finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Report it, at this severity.
    Keep(Severity),
    /// Hide it, for this reason.
    Hide(String),
}

impl RuleSelection {
    /// True when nothing is configured: every rule runs at its own severity.
    pub fn is_default(&self) -> bool {
        self.select.is_empty()
            && self.ignore.is_empty()
            && self.per_path.is_empty()
            && self.severity.is_empty()
            && self.baseline.is_none()
    }

    /// Replaces the selection (`select = […]`, `--select`).
    pub fn set_select(&mut self, selectors: Vec<Selector>, origin: Origin) {
        self.select = selectors.into_iter().map(|s| (s, origin.clone())).collect();
    }

    /// Adds to the selection (`extend_select`, `--extend-select`). Without an explicit
    /// selection every rule already runs, so this only matters after [`Self::set_select`].
    pub fn extend_select(&mut self, selectors: Vec<Selector>, origin: Origin) {
        if self.select.is_empty() {
            return;
        }
        self.select
            .extend(selectors.into_iter().map(|s| (s, origin.clone())));
    }

    pub fn add_ignore(&mut self, selectors: Vec<Selector>, origin: Origin) {
        self.ignore
            .extend(selectors.into_iter().map(|s| (s, origin.clone())));
    }

    /// Hides the rules of `selectors` in files matching `pattern` (a glob over the dataset's
    /// path and the file's path inside it, `/`-separated).
    pub fn add_path_ignore(
        &mut self,
        pattern: &PathPattern,
        selectors: Vec<Selector>,
        origin: Origin,
    ) {
        self.per_path.push(PathIgnore {
            pattern: pattern.to_string(),
            glob: pattern.matcher(),
            selectors,
            origin,
        });
    }

    pub fn set_severity(&mut self, selector: Selector, severity: Severity, origin: Origin) {
        self.severity.push((selector, severity, origin));
    }

    /// Findings recorded in `baseline` (read from `path`) are accepted: only new ones count.
    pub fn set_baseline(&mut self, baseline: Baseline, path: PathBuf) {
        self.baseline = Some((baseline, path));
    }

    /// The baseline in use, if any.
    pub fn baseline(&self) -> Option<&(Baseline, PathBuf)> {
        self.baseline.as_ref()
    }

    /// The same selection without its baseline (what `--write-baseline` records against).
    pub fn without_baseline(&self) -> RuleSelection {
        RuleSelection {
            baseline: None,
            ..self.clone()
        }
    }

    /// Whether `rule` runs at all (select and ignore, no path scope).
    pub fn enabled(&self, rule: &Rule) -> Result<(), String> {
        let best = |list: &[(Selector, Origin)]| {
            list.iter()
                .filter(|(s, _)| s.matches(rule))
                .max_by_key(|(s, _)| s.specificity())
                .cloned()
        };
        let selected = if self.select.is_empty() {
            Some((
                Selector {
                    text: "ALL".into(),
                    kind: SelectorKind::All,
                },
                Origin::Flag("(default)"),
            ))
        } else {
            best(&self.select)
        };
        let Some((selected, _)) = selected else {
            let (_, origin) = &self.select[0];
            return Err(format!("not selected by {}", origin.describe("select")));
        };
        match best(&self.ignore) {
            Some((ignored, origin)) if ignored.specificity() >= selected.specificity() => Err(
                format!("ignored by `{ignored}` ({})", origin.describe("ignore")),
            ),
            _ => Ok(()),
        }
    }

    /// The verdict on `finding` of the dataset at `dataset` (its path relative to the project,
    /// `/`-separated; `None` when unknown). Baselines are applied by
    /// [`crate::rules::Findings::finish`], which sees every finding at once.
    pub fn judge(&self, finding: &Finding, dataset: Option<&str>) -> Verdict {
        let rule = finding.rule;
        if let Err(reason) = self.enabled(rule) {
            return Verdict::Hide(reason);
        }
        for p in &self.per_path {
            if p.selectors.iter().any(|s| s.matches(rule))
                && candidates(dataset, finding.location.file.as_deref())
                    .iter()
                    .any(|c| p.glob.is_match(c))
            {
                return Verdict::Hide(format!(
                    "ignored under `{}` ({})",
                    p.pattern,
                    p.origin.describe("per_path_ignores")
                ));
            }
        }
        let severity = self
            .severity
            .iter()
            .filter(|(s, _, _)| s.matches(rule))
            .max_by_key(|(s, _, _)| s.specificity())
            .map_or(finding.severity, |(_, sev, _)| *sev);
        Verdict::Keep(severity)
    }
}

/// `path` relative to `base` as `/`-separated text, after resolving `.` and `..` lexically
/// (neither needs to exist); absolute when `path` lies outside `base`. This is how datasets are
/// named for per-path ignores and baselines (relative to the project folder) and how reports
/// name files for CI services (relative to the repository root).
pub fn relative_label(path: &Path, base: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let path = normalize(&cwd.join(path));
    let base = normalize(&cwd.join(base));
    match path.strip_prefix(&base) {
        Ok(inside) => inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => path.display().to_string(),
    }
}

/// Removes `.` and resolves `..` lexically (symlinks are not followed: a CI service does not
/// follow them either).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The paths a per-path pattern is matched against: the file inside the dataset and the same
/// prefixed with the dataset's path; for a dataset-wide finding, the dataset's path alone and
/// with a trailing `/` (so that `sets/train/**` covers the whole set, and `**` any set).
fn candidates(dataset: Option<&str>, file: Option<&str>) -> Vec<String> {
    let dataset = dataset
        .map(|d| d.trim_end_matches('/'))
        .filter(|d| !d.is_empty() && *d != ".");
    match (dataset, file) {
        (Some(d), Some(f)) => vec![f.to_owned(), format!("{d}/{f}")],
        (None, Some(f)) => vec![f.to_owned()],
        (Some(d), None) => vec![d.to_owned(), format!("{d}/")],
        (None, None) => vec![String::new()],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::{Location, find};

    fn sel(list: &[&str]) -> Vec<Selector> {
        list.iter().map(|s| Selector::parse(s).unwrap()).collect()
    }

    fn finding(code: &str, file: Option<&str>) -> Finding {
        let rule = find(code).unwrap();
        let location = file.map_or_else(Location::dataset, Location::file);
        Finding::new(rule, location, "x")
    }

    #[test]
    fn selectors_parse_codes_prefixes_names_and_refuse_typos() {
        assert!(Selector::parse("ALL").is_ok());
        assert!(
            Selector::parse("m007")
                .unwrap()
                .matches(find("M007").unwrap())
        );
        assert!(Selector::parse("M").unwrap().matches(find("M007").unwrap()));
        let by_name = Selector::parse(find("M007").unwrap().name).unwrap();
        assert!(by_name.matches(find("M007").unwrap()));
        assert!(!by_name.matches(find("J009").unwrap()));
        assert!(
            Selector::parse("X1")
                .unwrap_err()
                .contains("matches no rule")
        );
        assert!(Selector::parse("").is_err());
    }

    #[test]
    fn the_more_specific_selector_wins_and_ignore_wins_ties() {
        let origin = Origin::Flag("--test");
        let mut s = RuleSelection::default();
        s.set_select(sel(&["M"]), origin.clone());
        s.add_ignore(sel(&["M007"]), origin.clone());
        assert!(s.enabled(find("M007").unwrap()).is_err());
        assert!(s.enabled(find("M001").unwrap()).is_ok());
        assert!(s.enabled(find("J009").unwrap()).is_err());

        let mut s = RuleSelection::default();
        s.set_select(sel(&["M007"]), origin.clone());
        s.add_ignore(sel(&["M"]), origin.clone());
        assert!(s.enabled(find("M007").unwrap()).is_ok());
        assert!(s.enabled(find("M001").unwrap()).is_err());

        let mut s = RuleSelection::default();
        s.add_ignore(sel(&["ALL"]), origin);
        assert!(s.enabled(find("M007").unwrap()).is_err());
    }

    #[test]
    fn per_path_ignores_match_inside_and_with_the_dataset_prefix() {
        let origin = Origin::Config("wanft.toml".into());
        let mut s = RuleSelection::default();
        let legacy = PathPattern::parse("legacy/**").unwrap();
        s.add_path_ignore(&legacy, sel(&["M007"]), origin.clone());
        s.add_path_ignore(&PathPattern::parse("val-set").unwrap(), sel(&["S"]), origin);
        assert!(PathPattern::parse("a/[b").is_err());
        let hidden = s.judge(&finding("M007", Some("legacy/a.mp4")), Some("train"));
        assert!(matches!(&hidden, Verdict::Hide(r) if r.contains("legacy/**")));
        let prefixed = s.judge(&finding("M007", Some("a.mp4")), Some("legacy"));
        assert!(matches!(prefixed, Verdict::Hide(_)));
        let other_rule = s.judge(&finding("M001", Some("legacy/a.mp4")), Some("train"));
        assert_eq!(other_rule, Verdict::Keep(Severity::Error));
        let wide = s.judge(&finding("S001", None), Some("val-set"));
        assert!(matches!(wide, Verdict::Hide(_)));
        let mut all = RuleSelection::default();
        let whole_set = PathPattern::parse("sets/a/**").unwrap();
        all.add_path_ignore(&whole_set, sel(&["S001"]), Origin::Flag("--x"));
        let wide = all.judge(&finding("S001", None), Some("sets/a"));
        assert!(
            matches!(wide, Verdict::Hide(_)),
            "sets/a/** covers the set itself"
        );
        let mut anywhere = RuleSelection::default();
        let every = PathPattern::parse("**").unwrap();
        anywhere.add_path_ignore(&every, sel(&["S001"]), Origin::Flag("--x"));
        assert!(matches!(
            anywhere.judge(&finding("S001", None), Some(".")),
            Verdict::Hide(_)
        ));
    }

    /// Every registered rule, of every family, can be ignored, selected alone, re-graded and
    /// scoped to a path (the fixture tests of tests/check_rules.rs show it on real findings).
    #[test]
    fn every_rule_is_configurable() {
        let flag = Origin::Flag("--test");
        for rule in crate::rules::all() {
            let code = rule.code;
            let f = finding(code, Some("sets/a/x.mp4"));
            let mut ignore = RuleSelection::default();
            ignore.add_ignore(sel(&[code]), flag.clone());
            assert!(matches!(ignore.judge(&f, None), Verdict::Hide(r) if r.contains(code)));
            let mut by_name = RuleSelection::default();
            by_name.add_ignore(sel(&[rule.name]), flag.clone());
            assert!(
                matches!(by_name.judge(&f, None), Verdict::Hide(_)),
                "{code}"
            );
            let mut select = RuleSelection::default();
            select.set_select(sel(&[code]), flag.clone());
            assert!(matches!(select.judge(&f, None), Verdict::Keep(_)), "{code}");
            let other = crate::rules::all()
                .into_iter()
                .find(|r| r.code != code)
                .unwrap();
            let g = finding(other.code, None);
            assert!(matches!(select.judge(&g, None), Verdict::Hide(_)), "{code}");
            for level in [Severity::Error, Severity::Warning, Severity::Info] {
                let mut regrade = RuleSelection::default();
                regrade.set_severity(Selector::parse(code).unwrap(), level, flag.clone());
                assert_eq!(regrade.judge(&f, None), Verdict::Keep(level), "{code}");
            }
            let mut scoped = RuleSelection::default();
            let pattern = PathPattern::parse("sets/a/**").unwrap();
            scoped.add_path_ignore(&pattern, sel(&[code]), flag.clone());
            assert!(matches!(scoped.judge(&f, None), Verdict::Hide(_)), "{code}");
            let elsewhere = finding(code, Some("sets/b/x.mp4"));
            assert!(
                matches!(scoped.judge(&elsewhere, None), Verdict::Keep(_)),
                "{code}"
            );
        }
    }

    #[test]
    fn labels_are_slash_separated_and_relative() {
        let base = Path::new("/work/project");
        assert_eq!(
            relative_label(Path::new("/work/project/sets/./a"), base),
            "sets/a"
        );
        assert_eq!(relative_label(Path::new("/work/project/x/../b"), base), "b");
        assert_eq!(
            relative_label(Path::new("/elsewhere/c"), base),
            "/elsewhere/c"
        );
        assert_eq!(relative_label(base, base), "");
    }

    #[test]
    fn severity_overrides_take_the_most_specific() {
        let origin = Origin::Flag("--severity");
        let mut s = RuleSelection::default();
        s.set_severity(
            Selector::parse("M").unwrap(),
            Severity::Info,
            origin.clone(),
        );
        s.set_severity(Selector::parse("M007").unwrap(), Severity::Error, origin);
        let m007 = finding("M007", Some("a.mp4"));
        assert_eq!(s.judge(&m007, None), Verdict::Keep(Severity::Error));
        let m001 = finding("M001", Some("a.mp4"));
        assert_eq!(s.judge(&m001, None), Verdict::Keep(Severity::Info));
        let j009 = finding("J009", Some("data.jsonl"));
        assert_eq!(s.judge(&j009, None), Verdict::Keep(j009.severity));
    }
}
