//! `wanft check`: validate a dataset folder or zip.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use super::progress::Bar;
use super::rule_args::{RuleArgs, project_dir};
use super::{GlobalArgs, Outcome};
use wanft::check::{self, CheckOptions};
use wanft::config::{self, Config};
use wanft::dataset::{Mode, ModeChoice, Role};
use wanft::models::{self, ModelProfile};
use wanft::report::{self, text::TextOptions};
use wanft::rules::Severity;
use wanft::rules::baseline::Baseline;
use wanft::rules::selection::relative_label;

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Dataset folder or .zip to check [default: the training and validation sets of
    /// wanft.toml].
    pub path: Option<PathBuf>,
    /// Model the dataset is for [default: `model` of wanft.toml, else wan2.5-i2v-preview].
    #[arg(long, value_parser = parse_model)]
    pub model: Option<&'static ModelProfile>,
    /// Force the mode instead of inferring it: i2v, kf2v, validation, i2v-validation,
    /// kf2v-validation.
    #[arg(long)]
    pub mode: Option<ModeChoice>,
    /// Trigger word every prompt must contain (otherwise the shared effect sentence is inferred)
    /// [default: `[dataset] trigger` of wanft.toml].
    #[arg(long)]
    pub trigger: Option<String>,
    /// max_pixels the job will use [default: wanft.toml, else the model's].
    #[arg(long)]
    pub max_pixels: Option<u32>,
    /// A separate validation set will be supplied, so no samples are split off for validation
    /// (implied when wanft.toml names one).
    #[arg(long)]
    pub with_validation_set: bool,
    /// Also decode every stream with ffmpeg and report decode errors.
    #[arg(long)]
    pub deep: bool,
    /// Exit with status 1 on warnings too.
    #[arg(long)]
    pub strict: bool,
    /// Output format (json: the versioned schema of `wanft::report::json`; several datasets make
    /// one document in every format).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Print how many findings each rule has instead of the findings (text or json).
    #[arg(long)]
    pub statistics: bool,
    /// Record the current findings as accepted in FILE and exit 0: later checks with
    /// `--baseline FILE` (or `baseline` under [rules] of wanft.toml) fail on new findings only
    /// [default FILE: `baseline` of wanft.toml, else wanft-baseline.json beside it].
    #[arg(long, value_name = "FILE", num_args = 0..=1, conflicts_with_all = ["baseline", "no_baseline"])]
    pub write_baseline: Option<Option<PathBuf>>,
    #[command(flatten)]
    pub rules: RuleArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// GitHub Actions annotations.
    Github,
    /// JUnit XML: a test suite per dataset, a test case per sample and rule.
    Junit,
    /// GitLab Code Quality report (JSON).
    Gitlab,
}

fn parse_model(name: &str) -> Result<&'static ModelProfile, String> {
    models::lookup(name)
}

pub fn run(args: &CheckArgs, global: &GlobalArgs) -> Result<Outcome> {
    let cwd = std::env::current_dir().context("cannot determine the current folder")?;
    let config = Config::discover(global.config.as_deref(), &cwd)?.unwrap_or_default();
    let model = args
        .model
        .or(config.model)
        .map_or_else(|| models::lookup(models::DEFAULT_MODEL), Ok)
        .map_err(anyhow::Error::msg)?;

    // An explicit path is checked as given; configured sets carry the configured mode.
    let targets: Vec<(&Path, Option<ModeChoice>)> = match &args.path {
        Some(path) => vec![(path.as_path(), args.mode)],
        None => {
            let configured = config.dataset.mode.map(|task| {
                ModeChoice::Exact(Mode {
                    task,
                    role: Role::Training,
                })
            });
            let validation_mode = match config.dataset.mode {
                Some(task) => ModeChoice::Exact(Mode {
                    task,
                    role: Role::Validation,
                }),
                None => ModeChoice::Validation,
            };
            let training = config
                .dataset
                .training
                .iter()
                .map(|p| (p.as_path(), args.mode.or(configured)));
            let validation = config
                .dataset
                .validation
                .iter()
                .map(|p| (p.as_path(), Some(validation_mode)));
            training.chain(validation).collect()
        }
    };
    if targets.is_empty() {
        bail!(
            "nothing to check: give a dataset folder or .zip, or set `[dataset] training` in {}",
            config::FILE_NAME
        );
    }
    if args.statistics && !matches!(args.format, Format::Text | Format::Json) {
        bail!("--statistics prints text or json: drop --format or use --format json");
    }
    let project_dir = project_dir(&config, &cwd);
    let selection = match &args.write_baseline {
        // A new baseline records what the configured rules find, whatever an old one accepted.
        Some(_) => {
            let s = args.rules.selection_without_baseline(&config);
            (!s.is_default()).then(|| Arc::new(s))
        }
        None => args.rules.selection(&config)?,
    };

    let hyper = config.hyper_parameters.resolve(model);
    let bar = Bar::new(!global.quiet && args.format == Format::Text && !args.statistics);
    // Formats that make one document of every dataset are written after the last one.
    let deferred = args.statistics
        || args.write_baseline.is_some()
        || matches!(
            args.format,
            Format::Json | Format::Sarif | Format::Junit | Format::Gitlab
        );
    let mut reports = Vec::new();
    let mut outcome = Outcome::Clean;
    // Validation sets are held to the effect sentence of the (first) training set.
    let mut training_effect: Option<String> = None;
    for (i, (path, mode)) in targets.iter().enumerate() {
        let validation = matches!(
            mode,
            Some(ModeChoice::Validation)
                | Some(ModeChoice::Exact(Mode {
                    role: Role::Validation,
                    ..
                }))
        );
        let mut options = CheckOptions {
            mode: *mode,
            trigger: args.trigger.clone().or(config.dataset.trigger.clone()),
            effect: if validation {
                training_effect.clone()
            } else {
                None
            },
            validation_given: args.with_validation_set || !config.dataset.validation.is_empty(),
            deep: args.deep,
            analysis: wanft::deep::Options {
                settings: config.deep.clone(),
                ..Default::default()
            },
            progress: &bar,
            ..CheckOptions::for_job(model, &hyper)
        };
        if let Some(pixels) = args.max_pixels {
            options.max_pixels = Some(u64::from(pixels));
        }
        options.rules = selection.clone();
        options.dataset_label = Some(relative_label(path, &project_dir));
        let report = check::run(path, &options)
            .with_context(|| format!("cannot check `{}`", path.display()))?;
        if !validation && training_effect.is_none() {
            training_effect = report.effect_sentence.clone();
        }
        let s = &report.summary;
        if s.errors > 0 || (args.strict && s.warnings > 0) {
            outcome = Outcome::Failed;
        }
        if deferred {
            reports.push((report, path.to_path_buf(), options.dataset_label.clone()));
            continue;
        }

        let mut out = anstream::stdout().lock();
        match args.format {
            Format::Github => report::github::write_report(&mut out, &report, path)?,
            Format::Json | Format::Sarif | Format::Junit | Format::Gitlab => {
                unreachable!("rendered once for all datasets")
            }
            Format::Text => {
                if targets.len() > 1 {
                    if i > 0 {
                        writeln!(out)?;
                    }
                    writeln!(out, "== {}", path.display())?;
                }
                let opts = TextOptions {
                    verbose: global.verbose > 0,
                    quiet: global.quiet,
                };
                report::text::write_report(&mut out, &report, opts)?;
            }
        }
        out.flush()?;
    }
    if let Some(file) = &args.write_baseline {
        let path = file
            .clone()
            .or_else(|| config.rules.baseline.clone())
            .unwrap_or_else(|| project_dir.join(DEFAULT_BASELINE));
        return write_baseline(&path, &reports);
    }
    let mut out = anstream::stdout().lock();
    let all: Vec<(&check::CheckReport, &Path)> =
        reports.iter().map(|(r, p, _)| (r, p.as_path())).collect();
    if args.statistics {
        write_statistics(&mut out, &all, args.format)?;
    } else if args.format == Format::Junit {
        let suites: Vec<report::junit::Suite> = all
            .iter()
            .map(|(report, input)| report::junit::Suite { report, input })
            .collect();
        report::junit::write_report(&mut out, &suites, args.strict)?;
    } else if args.format == Format::Gitlab {
        report::gitlab::write_report(&mut out, &all)?;
    } else if args.format == Format::Json {
        report::json::write_reports(&mut out, &all)?;
    } else if args.format == Format::Sarif {
        report::sarif::write_reports(&mut out, &all)?;
    }
    out.flush()?;
    Ok(outcome)
}

/// Where `--write-baseline` writes without a FILE and without `baseline` in wanft.toml.
const DEFAULT_BASELINE: &str = "wanft-baseline.json";

fn write_baseline(
    path: &Path,
    reports: &[(check::CheckReport, PathBuf, Option<String>)],
) -> Result<Outcome> {
    let mut baseline = Baseline::default();
    for (report, _, label) in reports {
        for f in report.findings.iter() {
            baseline.add(f, label.as_deref());
        }
    }
    baseline.write(path)?;
    let mut err = anstream::stderr().lock();
    writeln!(
        err,
        "Wrote {}: {} accepted. Checks with `--baseline {}` (or `baseline = \"…\"` under \
         [rules] of wanft.toml) now fail on new findings only.",
        path.display(),
        report::plural(baseline.len(), "finding", "findings"),
        path.display()
    )?;
    Ok(Outcome::Clean)
}

/// Findings per rule and severity, most frequent first (Ruff's `--statistics`).
fn write_statistics(
    out: &mut dyn Write,
    reports: &[(&check::CheckReport, &Path)],
    format: Format,
) -> Result<()> {
    let mut counts: BTreeMap<(&'static str, Severity), (&'static str, usize)> = BTreeMap::new();
    for (report, _) in reports {
        for f in report.findings.iter() {
            counts
                .entry((f.rule.code, f.severity))
                .or_insert((f.rule.name, 0))
                .1 += 1;
        }
        for (rule, n) in report.findings.suppressed() {
            // Findings past the per-rule cap all carry the severity of the ones kept.
            let severity = report
                .findings
                .iter()
                .find(|f| f.rule.code == rule.code)
                .map_or(rule.severity, |f| f.severity);
            counts
                .entry((rule.code, severity))
                .or_insert((rule.name, 0))
                .1 += n;
        }
    }
    let mut rows: Vec<_> = counts.into_iter().collect();
    rows.sort_by(|a, b| b.1.1.cmp(&a.1.1).then(a.0.cmp(&b.0)));
    if format == Format::Json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|((code, severity), (name, count))| {
                serde_json::json!({"code": code, "name": name, "severity": severity, "count": count})
            })
            .collect();
        serde_json::to_writer_pretty(&mut *out, &rows)?;
        writeln!(out)?;
        return Ok(());
    }
    let width = rows
        .iter()
        .map(|(_, (_, n))| n.to_string().len())
        .max()
        .unwrap_or(1);
    for ((code, severity), (name, count)) in &rows {
        writeln!(out, "{count:>width$}  {code}  {severity:<7}  {name}")?;
    }
    Ok(())
}
