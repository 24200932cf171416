//! The rule-configuration flags shared by `check`, `plan`, `pack` and `upload`: they layer on
//! `[rules]` of wanft.toml as Ruff's flags layer on its configuration.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use wanft::config::Config;
use wanft::rules::baseline::Baseline;
use wanft::rules::selection::{Origin, PathPattern};
use wanft::rules::{RuleSelection, Selector, Severity};

#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "Rule selection")]
pub struct RuleArgs {
    /// Run only these rules: codes, code prefixes or names, comma-separated; ALL for every
    /// rule [default: `select` of [rules] in wanft.toml, else ALL].
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub select: Option<Vec<Selector>>,
    /// Also run these rules, added to --select (or `select` of wanft.toml).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub extend_select: Vec<Selector>,
    /// Do not run these rules (added to `ignore` of wanft.toml).
    #[arg(long, value_delimiter = ',', value_name = "RULES")]
    pub ignore: Vec<Selector>,
    /// Do not apply RULES where the path matches PATTERN, a glob over the dataset's path and
    /// the file inside it: `PATTERN:RULES`, e.g. `legacy/**:M007,M008`. Repeatable.
    #[arg(long, value_name = "PATTERN:RULES", value_parser = parse_path_ignore)]
    pub per_path_ignore: Vec<(PathPattern, Vec<Selector>)>,
    /// Report the findings of RULES at another severity: `RULES=LEVEL`, e.g. `M007=error`,
    /// `P=info`. Repeatable.
    #[arg(long, value_name = "RULES=LEVEL", value_parser = parse_severity)]
    pub severity: Vec<(Selector, Severity)>,
    /// Accept the findings recorded in FILE (written by `wanft check --write-baseline`): only
    /// new findings count [default: `baseline` of [rules] in wanft.toml].
    #[arg(long, value_name = "FILE", conflicts_with = "no_baseline")]
    pub baseline: Option<PathBuf>,
    /// Report every finding, even those the baseline of wanft.toml accepts.
    #[arg(long)]
    pub no_baseline: bool,
}

fn parse_path_ignore(text: &str) -> Result<(PathPattern, Vec<Selector>), String> {
    let (pattern, rules) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("`{text}` is not PATTERN:RULES (e.g. legacy/**:M007)"))?;
    let selectors = rules
        .split(',')
        .map(Selector::parse)
        .collect::<Result<Vec<_>, _>>()?;
    Ok((PathPattern::parse(pattern)?, selectors))
}

fn parse_severity(text: &str) -> Result<(Selector, Severity), String> {
    let (rules, level) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not RULES=LEVEL (e.g. M007=error)"))?;
    Ok((Selector::parse(rules)?, level.parse()?))
}

impl RuleArgs {
    /// The rule configuration of `config` with these flags on top; `None` when nothing is
    /// configured (every rule at its own severity). The baseline is read here.
    pub fn selection(&self, config: &Config) -> Result<Option<Arc<RuleSelection>>> {
        let mut selection = self.selection_without_baseline(config);
        let baseline = match (&self.baseline, self.no_baseline) {
            (_, true) => None,
            (Some(path), false) => Some(path.clone()),
            (None, false) => config.rules.baseline.clone(),
        };
        if let Some(path) = baseline {
            selection.set_baseline(load_baseline(&path)?, path);
        }
        Ok((!selection.is_default()).then(|| Arc::new(selection)))
    }

    /// Select, ignore, per-path ignores and severities, without any baseline.
    pub fn selection_without_baseline(&self, config: &Config) -> RuleSelection {
        let mut selection = if config.path.as_os_str().is_empty() {
            RuleSelection::default()
        } else {
            config.rules.to_selection(&config.path)
        };
        if let Some(select) = &self.select {
            selection.set_select(select.clone(), Origin::Flag("--select"));
        }
        selection.extend_select(self.extend_select.clone(), Origin::Flag("--extend-select"));
        selection.add_ignore(self.ignore.clone(), Origin::Flag("--ignore"));
        for (pattern, selectors) in &self.per_path_ignore {
            selection.add_path_ignore(
                pattern,
                selectors.clone(),
                Origin::Flag("--per-path-ignore"),
            );
        }
        for (selector, severity) in &self.severity {
            selection.set_severity(selector.clone(), *severity, Origin::Flag("--severity"));
        }
        selection
    }
}

/// The folder a project's paths are relative to: wanft.toml's, else the current one.
pub fn project_dir(config: &Config, cwd: &Path) -> PathBuf {
    match config.path.as_os_str().is_empty() {
        true => cwd.to_owned(),
        false => config.dir().to_owned(),
    }
}

fn load_baseline(path: &Path) -> Result<Baseline> {
    if !path.exists() {
        bail!(
            "the baseline {} does not exist; write it with `wanft check --write-baseline {}`",
            path.display(),
            path.display()
        );
    }
    Baseline::load(path).context("cannot use the baseline")
}
