//! `wanft check`: validate a dataset folder or zip.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, bail};

use super::progress::Bar;
use super::{GlobalArgs, Outcome};
use wanft::check::{self, CheckOptions};
use wanft::config::{self, Config};
use wanft::dataset::{Mode, ModeChoice, Role};
use wanft::models::{self, ModelProfile};
use wanft::report::{self, text::TextOptions};

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
    /// Output format (json: the versioned schema of `wanft::report::json`; json and sarif report
    /// one dataset at a time).
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    /// SARIF 2.1.0, for code-scanning services.
    Sarif,
    /// GitHub Actions annotations.
    Github,
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
    if targets.len() > 1 && matches!(args.format, Format::Json | Format::Sarif) {
        bail!(
            "{} names {} datasets; --format json and sarif report one dataset at a time: pass \
             its path",
            config::FILE_NAME,
            targets.len()
        );
    }

    let hyper = config.hyper_parameters.resolve(model);
    let bar = Bar::new(!global.quiet && args.format == Format::Text);
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
            progress: &bar,
            ..CheckOptions::for_job(model, &hyper)
        };
        if let Some(pixels) = args.max_pixels {
            options.max_pixels = Some(u64::from(pixels));
        }
        let report = check::run(path, &options)
            .with_context(|| format!("cannot check `{}`", path.display()))?;
        if !validation && training_effect.is_none() {
            training_effect = report.effect_sentence.clone();
        }

        let mut out = anstream::stdout().lock();
        match args.format {
            Format::Json => report::json::write_report(&mut out, &report, path)?,
            Format::Sarif => report::sarif::write_report(&mut out, &report, path)?,
            Format::Github => report::github::write_report(&mut out, &report, path)?,
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
        let s = &report.summary;
        if s.errors > 0 || (args.strict && s.warnings > 0) {
            outcome = Outcome::Failed;
        }
    }
    Ok(outcome)
}
